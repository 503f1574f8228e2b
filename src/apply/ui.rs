//! Ui: everything apply needs from the person and the clock.

use std::time::Duration;

/// The answer to a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// Nobody can answer: standard input is not a terminal.
    NoTerminal,
}

/// What became of one stack, for reports that list them
/// (`apply --format json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackOutcome {
    /// A change set was executed: the stack was created or updated.
    Changed,
    /// The stack is what `out/` says: nothing to do.
    UpToDate,
    /// A dry run: the stack would go through a change set.
    WouldChange,
    /// Deleted (`destroy`).
    Deleted,
    /// A dry run of `destroy`: the stack would be deleted.
    WouldDelete,
    /// `destroy` found no such stack.
    Missing,
}

impl StackOutcome {
    /// The outcome's name in reports: `changed`, `up-to-date`, ….
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Changed => "changed",
            Self::UpToDate => "up-to-date",
            Self::WouldChange => "would-change",
            Self::Deleted => "deleted",
            Self::WouldDelete => "would-delete",
            Self::Missing => "missing",
        }
    }
}

/// The person at the other end, and time. The CLI implements it on a
/// terminal or a pipe; tests implement it with a script.
pub trait Ui {
    /// One line of the report (for a dry run: a `#` comment or a command).
    fn say(&mut self, line: &str);
    /// A progress update while waiting: `status` is the transient line a
    /// terminal may redraw in place; `events` are new lines to keep.
    fn progress(&mut self, status: &str, events: &[String]);
    /// Asks a yes/no question.
    fn confirm(&mut self, question: &str) -> Answer;
    /// Waits between two polls.
    fn sleep(&mut self, duration: Duration);
    /// Time since apply started, for progress lines.
    fn elapsed(&self) -> Duration;
    /// Whether the person pressed Ctrl-C.
    fn interrupted(&self) -> bool;
    /// What became of a stack, once it is settled; the lines of `say`
    /// already tell it to people.
    fn stack(&mut self, _name: &str, _outcome: StackOutcome) {}
    /// A change set is about to be executed on `stack` (never in a dry
    /// run): from here on, the run has changed what is deployed, whether
    /// the stack then succeeds or rolls back.
    fn executing(&mut self, _stack: &str) {}
    /// What became of a wave of `apply --waves`, once it is settled (and,
    /// after a failure, of every wave not started); the lines of `say`
    /// already tell it to people.
    fn wave(&mut self, _report: &crate::apply::WaveReport) {}
}
