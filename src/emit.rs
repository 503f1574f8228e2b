//! Emit: write the rendered artifacts to `out/` atomically, with a manifest.
//!
//! The new tree is written beside `out/` and swapped in with renames, so a
//! failed or interrupted build leaves the previous `out/` as it was.
//! Artifacts of removed instances disappear because the whole tree is
//! replaced. `check` compares instead of writing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::plan::Artifact;

/// The manifest's file name inside `out/`.
pub const MANIFEST: &str = "manifest.json";

/// `out/manifest.json`: every artifact with its checksum and sources.
#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    pub version: u32,
    pub artifacts: Vec<ManifestEntry<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ManifestEntry<'a> {
    pub path: &'a str,
    pub kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<&'a str>,
    pub sha256: String,
    pub sources: &'a [String],
}

/// Hex sha256 of a text.
#[must_use]
pub fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Every file of `out/` as it should be, keyed by path: artifacts plus manifest.
#[must_use]
pub fn files(artifacts: &[Artifact], texts: &[String]) -> BTreeMap<String, String> {
    let mut entries: Vec<ManifestEntry<'_>> = artifacts
        .iter()
        .zip(texts)
        .map(|(a, text)| ManifestEntry {
            path: &a.path,
            kind: a.kind,
            stack: a.stack.as_deref(),
            sha256: sha256(text),
            sources: &a.sources,
        })
        .collect();
    entries.sort_by(|a, b| a.path.cmp(b.path));
    let manifest = Manifest {
        version: 1,
        artifacts: entries,
    };
    let mut manifest_text = serde_json::to_string_pretty(&manifest).expect("manifest serializes");
    manifest_text.push('\n');
    let mut files: BTreeMap<String, String> = artifacts
        .iter()
        .map(|a| a.path.clone())
        .zip(texts.iter().cloned())
        .collect();
    files.insert(MANIFEST.to_owned(), manifest_text);
    files
}

/// A problem writing `out/`.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("cannot write `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `out/` holds files berth did not write (none, when it has no manifest).
    #[error("{}", unknown_message(out, *manifest, files))]
    Unknown {
        out: PathBuf,
        /// Whether `out/` has a berth manifest (listing what berth wrote).
        manifest: bool,
        files: Vec<String>,
    },
}

/// At most this many unknown files are listed; the rest are counted.
const LISTED: usize = 20;

fn unknown_message(out: &Path, manifest: bool, files: &[String]) -> String {
    let shown = out.display();
    let mut text = if manifest {
        format!(
            "refusing to replace `{shown}`: it holds {} file{} berth did not write (not in `{shown}/{MANIFEST}`), which the build would delete\n",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "refusing to replace `{shown}`: it is not empty and holds no berth manifest (`{shown}/{MANIFEST}`), so berth did not write it; the build would delete {} file{}\n",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        )
    };
    for file in files.iter().take(LISTED) {
        text.push_str(&format!("  not written by berth: {shown}/{file}\n"));
    }
    if files.len() > LISTED {
        text.push_str(&format!("  … and {} more\n", files.len() - LISTED));
    }
    if manifest {
        text.push_str("  help: move these files out of the output directory (keep hand-written Terraform beside it), or pass `--delete-unknown-files` to delete them");
    } else {
        text.push_str("  help: build into a new or empty directory (`--out DIR`), or pass `--delete-unknown-files` to replace this one and everything in it");
    }
    text
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EmitError + '_ {
    move |source| EmitError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The paths under `out` that berth wrote: the manifest's artifacts and the
/// manifest itself; `None` when `out` has no manifest berth can read.
fn written_by_berth(out: &Path) -> Option<std::collections::BTreeSet<String>> {
    let text = std::fs::read_to_string(out.join(MANIFEST)).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    let artifacts = manifest.get("artifacts")?.as_array()?;
    let mut paths: std::collections::BTreeSet<String> = artifacts
        .iter()
        .filter_map(|a| a.get("path")?.as_str().map(str::to_owned))
        .collect();
    paths.insert(MANIFEST.to_owned());
    Some(paths)
}

/// Refuses an existing `out` that holds files berth did not write: every
/// file, when it has no manifest; those its manifest does not list, when it
/// has one. Empty folders do not count.
pub fn check_replaceable(out: &Path) -> Result<(), EmitError> {
    if !out.is_dir() {
        return Ok(());
    }
    let known = written_by_berth(out);
    let mut unknown = Vec::new();
    for entry in walkdir::WalkDir::new(out).min_depth(1).sort_by_file_name() {
        let entry = entry.map_err(|e| io(out)(e.into()))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let relative = entry.path().strip_prefix(out).unwrap_or(entry.path());
        let relative = relative.to_string_lossy().replace('\\', "/");
        if !known.as_ref().is_some_and(|k| k.contains(&relative)) {
            unknown.push(relative);
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    Err(EmitError::Unknown {
        out: out.to_path_buf(),
        manifest: known.is_some(),
        files: unknown,
    })
}

/// Replaces `out` with exactly `files`. On any error `out` is left unchanged.
pub fn write(out: &Path, files: &BTreeMap<String, String>) -> Result<(), EmitError> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{name}.new"));
    let previous = parent.join(format!(".{name}.old"));
    for leftover in [&staging, &previous] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover).map_err(io(leftover))?;
        }
    }
    let result = (|| {
        let dirs: std::collections::BTreeSet<&Path> =
            files.keys().filter_map(|p| Path::new(p).parent()).collect();
        for dir in dirs {
            let dir = staging.join(dir);
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        }
        // Sequential: parallel writes measured slower on this file system.
        for (path, text) in files {
            let target = staging.join(path);
            std::fs::write(&target, text).map_err(io(&target))?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    if out.exists() {
        std::fs::rename(out, &previous).map_err(io(out))?;
    }
    if let Err(source) = std::fs::rename(&staging, out) {
        // Put the previous tree back before reporting.
        let _ = std::fs::rename(&previous, out);
        let _ = std::fs::remove_dir_all(&staging);
        return Err(EmitError::Io {
            path: out.to_path_buf(),
            source,
        });
    }
    if previous.exists() {
        std::fs::remove_dir_all(&previous).map_err(io(&previous))?;
    }
    Ok(())
}

/// How `out/` differs from what it should be.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drift {
    pub changed: Vec<String>,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
}

impl Drift {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

/// Compares `out` with `files` without writing anything.
pub fn check(out: &Path, files: &BTreeMap<String, String>) -> Result<Drift, EmitError> {
    let mut drift = Drift::default();
    for (path, text) in files {
        match std::fs::read_to_string(out.join(path)) {
            Ok(existing) if &existing == text => {}
            Ok(_) => drift.changed.push(path.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => drift.missing.push(path.clone()),
            Err(e) => return Err(io(&out.join(path))(e)),
        }
    }
    if out.is_dir() {
        for entry in walkdir::WalkDir::new(out).sort_by_file_name() {
            let entry = entry.map_err(|e| io(out)(e.into()))?;
            if entry.file_type().is_file() {
                let relative = entry.path().strip_prefix(out).unwrap_or(entry.path());
                let relative = relative.to_string_lossy().replace('\\', "/");
                if !files.contains_key(&relative) {
                    drift.extra.push(relative);
                }
            }
        }
    }
    Ok(drift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect()
    }

    #[test]
    fn write_replaces_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(&out, &tree(&[("a/x.json", "1"), ("b/y.json", "2")])).unwrap();
        write(&out, &tree(&[("a/x.json", "3")])).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a/x.json")).unwrap(), "3");
        assert!(
            !out.join("b").exists(),
            "artifacts of removed instances are removed"
        );
        assert!(check(&out, &tree(&[("a/x.json", "3")])).unwrap().is_empty());
    }

    #[test]
    fn a_failure_mid_write_leaves_out_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(&out, &tree(&[("a/x.json", "1")])).unwrap();
        // `a/x.json/z.json` cannot be written after `a/x.json` is a file: the write fails midway.
        let error = write(&out, &tree(&[("a/x.json", "2"), ("a/x.json/z.json", "3")])).unwrap_err();
        assert!(
            matches!(&error, EmitError::Io { path, .. } if path.ends_with("x.json")),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(out.join("a/x.json")).unwrap(), "1");
        assert!(
            !dir.path().join(".out.new").exists(),
            "the staging tree is cleaned up"
        );
    }

    #[test]
    fn check_lists_drift() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(&out, &tree(&[("a.json", "1"), ("b.json", "2")])).unwrap();
        let drift = check(&out, &tree(&[("a.json", "9"), ("c.json", "3")])).unwrap();
        assert_eq!(drift.changed, ["a.json"]);
        assert_eq!(drift.missing, ["c.json"]);
        assert_eq!(drift.extra, ["b.json"]);
    }
}
