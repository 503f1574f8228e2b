//! Apply: hand the reviewed artifacts of `out/` to AWS through the AWS CLI.
//!
//! This stage reads `out/` and its manifest, never the YAML (the freshness
//! check in [`artifacts`] runs the compiler only to compare). It drives the
//! `aws` executable through an injected [`Runner`] and talks to the person
//! through an injected [`Ui`], so every command sequence is testable without
//! AWS. It must not print, exit, read the environment or sleep by itself:
//! all of that goes through the two traits.
//!
//! [`run`] (`berth run`) starts one-off tasks from what is deployed, with
//! the same CLI runner, polling bounds and Ctrl-C handling.
//!
//! [`deployed`] reads what CloudFormation holds for the stacks of `out/`,
//! for `berth diff --deployed`.
//!
//! A dry run creates no change set; `risk` prints berth's own list of the
//! data at risk instead, from the diff engine run on the deployed template.
//!
//! Order: district stack → each selected heritage's data stack →
//! `before_deploy` → app stack, each stack through a change set. With
//! [`Waves`] the heritages go in waves, and each wave waits for the ECS
//! services it changed ([`service`]) before the next.

pub mod artifacts;
mod aws;
mod deploy;
mod deployed;
mod error;
mod private;
mod risk;
mod run;
mod runner;
mod service;
mod stack;
mod task;
mod ui;
mod wave;

pub use artifacts::{ArtifactError, Artifacts, HeritageArtifacts, StackArtifact};
pub use deploy::{apply, destroy};
pub use deployed::{deployed, drift};
pub use error::ApplyError;
pub use private::PrivateCopy;
pub use run::{RunOutcome, RunRequest, run};
pub use runner::{Finished, ProcessRunner, Runner};
pub use ui::{Answer, StackOutcome, Ui};
pub use wave::{WaveOutcome, WaveReport, Waves};

use std::time::Duration;

/// How apply runs, resolved from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Print the commands instead of running those that change anything.
    pub dry_run: bool,
    /// Do not ask before executing a change set or deleting a stack.
    pub yes: bool,
    /// Go on when a stateful resource would be replaced or removed.
    pub allow_data_loss: bool,
    /// Passed to every `aws` call (`--profile`, `--region`).
    pub profile: Option<String>,
    pub region: Option<String>,
    /// The name of the change sets this run creates (`berth-<time>`).
    pub change_set_name: String,
    pub timing: Timing,
    /// Where apply makes its private copy of the verified artifacts (the
    /// CLI passes the system's temporary directory).
    pub scratch: std::path::PathBuf,
    /// What `out/` is when it is not the fleet's own (`apply --rev`: `out/`
    /// as committed at a revision): a line apply says first, after a dry
    /// run's header, so the `out/…` paths it prints are not mistaken for
    /// the working tree's.
    pub origin: Option<String>,
    /// Roll the heritages of each district out in these waves, waiting for
    /// their services between two; `None`: one heritage after another.
    pub waves: Option<Waves>,
}

/// How long to wait between polls and how often to try.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Between two polls of a change set, a stack or a task.
    pub poll: Duration,
    /// Polls before giving up on a change set being created.
    pub change_set_polls: u32,
    /// Polls before giving up on a stack reaching a final status.
    pub stack_polls: u32,
    /// Polls before giving up on the `before_deploy` task stopping.
    pub task_polls: u32,
    /// Polls before giving up on a wave's services being stable, and again
    /// on their targets being healthy.
    pub service_polls: u32,
    /// The first wait after a throttled call; doubled on each retry.
    pub backoff: Duration,
    /// Tries of one call while AWS throttles it.
    pub attempts: u32,
}

impl Timing {
    /// Production timing with polls every `poll`: change sets up to 10
    /// minutes, stacks up to 2 hours, `before_deploy` up to 1 hour, a
    /// wave's services up to 30 minutes (at the default 5 seconds).
    #[must_use]
    pub fn every(poll: Duration) -> Self {
        Self {
            poll,
            change_set_polls: 120,
            stack_polls: 1440,
            task_polls: 720,
            service_polls: 360,
            backoff: poll.min(Duration::from_secs(1)),
            attempts: 5,
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Self::every(Duration::from_secs(5))
    }
}

/// Which part of the fleet to apply.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only this district (and its heritages).
    pub district: Option<String>,
    /// Only these heritages (and their districts); empty: all.
    pub heritages: Vec<String>,
}
