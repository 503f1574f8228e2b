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
}
