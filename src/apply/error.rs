//! Why apply or destroy stopped. One variant per exit code the README documents.

use crate::apply::ArtifactError;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// `out/` is stale, edited or unreadable.
    #[error(transparent)]
    Artifacts(#[from] ArtifactError),
    /// apply could not write its private copy of the verified artifacts.
    #[error(
        "cannot make a private copy of the artifacts in `{dir}`: {reason}\n  help: apply hands the AWS CLI a copy of the bytes it verified; set `TMPDIR` to a writable directory"
    )]
    PrivateCopy { dir: String, reason: String },
    /// The selection names a district or heritage `out/` does not have.
    #[error("{0}")]
    Selection(String),
    /// `--region` names another region than a district's own.
    #[error(
        "`--region {flag}` is not the region of district `{district}`, `{region}`: berth deploys a district only to the region its district.yml names\n  help: drop `--region` (berth passes `--region {region}` to every call for `{district}`), or select other districts with `--district`"
    )]
    Region {
        flag: String,
        district: String,
        region: String,
    },
    /// The credentials belong to another account than a district's `account_id`.
    #[error(
        "the AWS credentials are of account {got}, but district `{district}` belongs to account {want}: berth deploys a district only with its own account's credentials\n  help: switch to that account's credentials (`--profile`, `AWS_PROFILE`), or correct `account_id` in the district's district.yml"
    )]
    Account {
        district: String,
        want: String,
        got: String,
    },
    #[error(
        "the AWS CLI `{program}` was not found: {reason}\n  help: install it (https://aws.amazon.com/cli/) or pass `--aws PATH`"
    )]
    CliMissing { program: String, reason: String },
    #[error(
        "no usable AWS credentials: {message}\n  help: run `aws configure` (or `aws sso login`), set `AWS_PROFILE`, or pass `--profile`"
    )]
    Credentials { message: String },
    #[error(
        "AWS kept throttling `{command}` ({attempts} tries with backoff): {message}\n  help: wait a minute and run berth apply again; it picks up where it stopped"
    )]
    Throttled {
        command: String,
        attempts: u32,
        message: String,
    },
    #[error(
        "cannot reach AWS while running `{command}`: {message}\n  help: check the network, a proxy or `AWS_ENDPOINT_URL`, then run berth apply again"
    )]
    Network { command: String, message: String },
    /// Any other error the AWS CLI reported, or an answer berth cannot read.
    #[error("`{command}` failed: {message}")]
    Aws { command: String, message: String },
    /// A stack is in a status apply cannot work from, or a deploy failed.
    #[error("{0}")]
    Stack(String),
    #[error(
        "refusing to apply `{stack}`: its change set would {what}\n  help: if that is intended, run again with `--allow-data-loss` (Retain and Snapshot policies still keep what they keep)"
    )]
    DataLoss { stack: String, what: String },
    #[error("{0}")]
    NotConfirmed(String),
    #[error("{0}")]
    BeforeDeploy(String),
    /// A wave's ECS service did not become stable, or its targets healthy.
    #[error("{0}")]
    Unstable(String),
    /// `berth run`'s task could not start or stopped without an exit code.
    #[error("{0}")]
    Task(String),
    #[error("gave up waiting for {what} after {polls} polls\n  help: {follow}")]
    Timeout {
        what: String,
        polls: u32,
        follow: String,
    },
    #[error("interrupted: berth stopped waiting, AWS goes on\n  help: {follow}")]
    Interrupted { follow: String },
}

impl ApplyError {
    /// Interrupted while waiting for something `follow` says how to follow.
    pub(crate) fn interrupted(follow: impl Into<String>) -> Self {
        Self::Interrupted {
            follow: follow.into(),
        }
    }
}
