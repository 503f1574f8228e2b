//! A temporary fleet on disk and a runner for the real `berth` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A district file that defines endpoint `mstdn`.
pub const DISTRICT: &str = "\
region: ap-northeast-1
network:
  cidr: 10.1.0.0/16
  egress_ports: [587]
cluster:
  instance_type: t3.small
  size: 2
endpoints:
  mstdn:
    certificate_arn: arn:aws:acm:ap-northeast-1:111111111111:certificate/0b7a5f2e-3c1d-4e8f-9a6b-2d4c8e1f7a90
";

/// The repository root (where `instances/` of the example fleet lives).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fleet in a temporary directory.
pub struct Fleet {
    dir: tempfile::TempDir,
}

impl Fleet {
    /// An empty fleet with district `mstdn`.
    pub fn new() -> Self {
        let fleet = Self {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        fleet.file("instances/mstdn/district.yml", DISTRICT)
    }

    /// Writes a file (text) relative to the fleet root.
    pub fn file(self, path: &str, text: &str) -> Self {
        self.bytes(path, text.as_bytes())
    }

    /// Writes a file (bytes) relative to the fleet root.
    pub fn bytes(self, path: &str, bytes: &[u8]) -> Self {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs berth with `--root` set to this fleet.
    pub fn run(&self, args: &[&str]) -> Output {
        run_in(
            self.path(),
            &[&["--root", self.path().to_str().unwrap()], args].concat(),
        )
    }
}

/// What a run of berth printed.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Exit code, stdout and stderr in one text, for snapshots.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the berth binary in `dir` with `args`, never coloured.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    run_with(dir, args, &[])
}

/// Runs the berth binary in `dir` with `args` and extra environment variables.
pub fn run_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("berth runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Copies a directory tree (a fleet) into a new temporary directory.
/// `text` without the line that starts with `key` and the lines indented
/// deeper after it.
pub fn without_block(text: &str, key: &str) -> String {
    let depth = key.len() - key.trim_start().len();
    let mut kept = Vec::new();
    let mut skipping = false;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if skipping && indent > depth {
            continue;
        }
        skipping = line.starts_with(key);
        if !skipping {
            kept.push(line);
        }
    }
    kept.join("\n") + "\n"
}

pub fn copy_tree(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        // The stat cache a check of the committed fixture left (git-ignored).
        if entry.file_name() == ".out.stat" {
            continue;
        }
        let target = dir.path().join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    dir
}

/// Every file under `dir`, by relative path, with its bytes.
pub fn read_tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let path = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (path, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Every `out/` the tests keep: the example fleet's, then each golden
/// fleet's under `tests/fixtures/` — also those a level or two deeper, such
/// as the before/after fleets of `tests/fixtures/diff/<case>/<side>/`.
pub fn fleet_outs() -> Vec<PathBuf> {
    let mut outs: Vec<PathBuf> = walkdir::WalkDir::new(repo().join("tests/fixtures"))
        .max_depth(4)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_dir() && e.file_name() == "out")
        .filter(|e| e.path().join("manifest.json").is_file())
        .map(walkdir::DirEntry::into_path)
        .collect();
    outs.sort();
    outs.insert(0, repo().join("out"));
    outs
}
