//! Runner: how apply starts the AWS CLI. Tests inject a fake.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// What one run of the AWS CLI returned.
#[derive(Debug, Clone, Default)]
pub struct Finished {
    /// The exit code; `None` when it was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    #[must_use]
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs the AWS CLI with arguments (without the program name).
pub trait Runner {
    /// `Err` only when the program could not be started at all.
    fn run(&mut self, args: &[String]) -> std::io::Result<Finished>;
    /// The program, as shown in messages and dry runs.
    fn program(&self) -> String;
}

/// Starts the real `aws` (or `--aws PATH`) as a child process in `dir`, so
/// that `file://out/...` arguments resolve against the fleet root.
#[derive(Debug, Clone)]
pub struct ProcessRunner {
    pub program: PathBuf,
    pub dir: PathBuf,
}

impl Runner for ProcessRunner {
    fn run(&mut self, args: &[String]) -> std::io::Result<Finished> {
        let output = Command::new(&self.program)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()?;
        Ok(Finished {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    fn program(&self) -> String {
        self.program.display().to_string()
    }
}
