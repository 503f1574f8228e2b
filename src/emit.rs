//! Emit: write the rendered artifacts to `out/` atomically, with a manifest.
//!
//! The new tree is written and fsynced beside `out/`, then exchanged with it
//! in one rename (`renameat2(RENAME_EXCHANGE)` on Linux), so `out/` is the
//! old or the new tree at every instant and a failed or killed build leaves
//! the previous `out/` as it was. Artifacts of removed instances disappear
//! because the whole tree is replaced. Builds of one `out/` take turns
//! through an advisory [`Lock`]. `check` compares instead of writing. This
//! module prints nothing and never waits: the CLI reports and retries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::plan::Artifact;
use crate::render::Rendered;

pub mod stat;

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
    pub sha256: &'a str,
    /// What the artifact was rendered from, hashed (see [`crate::render`]).
    pub inputs: &'a str,
    pub sources: &'a [String],
}

/// Hex sha256 of a text.
#[must_use]
pub fn sha256(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Bytes as lowercase hex.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Artifacts a build keeps in `out/` as they are, without their text, by
/// path (see `render::Previous::read_verifying`).
pub type Kept = BTreeMap<String, KeptFile>;

/// What a build verified of a file it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFile {
    /// The sha256 of the bytes `out/` holds.
    pub sha256: String,
    /// The file's stamp when those bytes were verified, when it can vouch
    /// for them (see [`stat::Stamp::is`]).
    pub stamp: Option<stat::Stamp>,
}

/// The sha256 (hex) of a file's bytes, read in blocks.
///
/// # Errors
///
/// The file cannot be read.
pub fn sha256_of_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hash = Sha256::new();
    let mut block = vec![0; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut file, &mut block)?;
        if n == 0 {
            return Ok(hex(&hash.finalize()));
        }
        hash.update(&block[..n]);
    }
}

/// Every file of `out/` as it should be, keyed by path: artifacts plus
/// manifest; every artifact must have its text.
#[must_use]
pub fn files(artifacts: &[Artifact], rendered: Vec<Rendered>) -> BTreeMap<String, String> {
    let (files, kept) = files_keeping(artifacts, rendered);
    debug_assert!(kept.is_empty(), "artifacts without text: {kept:?}");
    files
}

/// [`files`], with the artifacts kept in `out/` without their text apart.
#[must_use]
pub fn files_keeping(
    artifacts: &[Artifact],
    rendered: Vec<Rendered>,
) -> (BTreeMap<String, String>, Kept) {
    let mut entries: Vec<ManifestEntry<'_>> = artifacts
        .iter()
        .zip(&rendered)
        .map(|(a, r)| ManifestEntry {
            path: &a.path,
            kind: a.kind,
            stack: a.stack.as_deref(),
            sha256: &r.sha256,
            inputs: &r.inputs,
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
    let mut files = BTreeMap::new();
    let mut kept = Kept::new();
    for (a, r) in artifacts.iter().zip(rendered) {
        match r.text {
            Some(text) => {
                files.insert(a.path.clone(), text);
            }
            None => {
                kept.insert(
                    a.path.clone(),
                    KeptFile {
                        sha256: r.sha256,
                        stamp: r.stamp,
                    },
                );
            }
        }
    }
    files.insert(MANIFEST.to_owned(), manifest_text);
    (files, kept)
}

/// A problem writing `out/`.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    // The cause is part of the message, not a `source`, so that a printed
    // error chain shows it once.
    #[error("cannot write `{}`: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{}", not_a_folder(path, *link))]
    NotAFolder { path: PathBuf, link: bool },
    #[error(
        "cannot replace `{}`: berth could not delete the old tree, since `{}` is read-only ({cause})\n  help: make it writable (`chmod -R u+w {}`) and build again; nothing was changed",
        out.display(), path.display(), out.display()
    )]
    ReadOnly {
        out: PathBuf,
        path: PathBuf,
        cause: std::io::Error,
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

fn not_a_folder(path: &Path, link: bool) -> String {
    let shown = path.display();
    if link {
        format!(
            "cannot replace `{shown}`: it is a symbolic link, and berth swaps a folder in by renaming, which would replace the link, not what it points to\n  help: build into the folder itself with `--out DIR`; nothing was changed"
        )
    } else {
        format!(
            "cannot replace `{shown}`: it is a file, not a folder\n  help: move or delete it, or build elsewhere with `--out DIR`; nothing was changed"
        )
    }
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
    move |cause| EmitError::Io {
        path: path.to_path_buf(),
        cause,
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
/// has one. Empty folders and review apps' folder ([`REVIEW_DIR`]) do not count.
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
        let review = relative.starts_with(&format!("{REVIEW_DIR}/"));
        if !review && !known.as_ref().is_some_and(|k| k.contains(&relative)) {
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

/// A step of [`write`], after which a test may stop the process (the CLI's
/// `BERTH_TEST_ABORT_AT` hook) to show that `out/` is always whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The new tree is written and synced beside `out/`; nothing is swapped.
    Staged,
    /// The fallback swap moved the old tree aside and has not yet moved the
    /// new one in (only where there is no atomic exchange).
    MovedAside,
    /// The new tree is `out/`; the old one is beside it, not yet deleted.
    Swapped,
    /// The old tree is deleted.
    Cleaned,
}

impl Step {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Staged => "staged",
            Self::MovedAside => "moved-aside",
            Self::Swapped => "swapped",
            Self::Cleaned => "cleaned",
        }
    }
}

/// The parent folder of `out` and `out`'s own name.
fn split(out: &Path) -> (PathBuf, String) {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let name = out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    (parent, name)
}

/// How a build swaps its new tree in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Swap {
    /// `renameat2(RENAME_EXCHANGE)`: `out/` is the old or the new tree at
    /// every instant.
    Exchange,
    /// Two renames (out → `.out.old-*`, staging → out), where the system or
    /// file system has no exchange; a build stopped between them leaves no
    /// `out/`, and the next build moves `.out.old-*` back first.
    Renames,
}

/// Replaces `out` with exactly `files`, holding `lock`. On any error `out`
/// is left as it was. Returns warnings (an old tree or stale staging
/// folder that could not be deleted).
///
/// The new tree is written to `.<out>.new-<pid>` beside `out`, every file
/// and folder fsynced, then exchanged with `out` in one rename
/// (`renameat2(RENAME_EXCHANGE)` on Linux; two renames elsewhere, see
/// [`Swap::Renames`]), and the parent folder fsynced. Before that it refuses
/// an `out` that is not a folder or whose folders it could not delete.
pub fn write(
    out: &Path,
    files: &BTreeMap<String, String>,
    lock: &Lock,
    hook: &mut dyn FnMut(Step),
) -> Result<Vec<String>, EmitError> {
    write_keeping(out, files, &Kept::new(), lock, hook)
}

/// [`write`], also keeping the files of `kept` that `out` holds: each is
/// linked into the new tree when its bytes still hash to the sha256 `kept`
/// names (it was verified before the lock was taken), and it is an error
/// otherwise, so a tree is never made of files nobody checked.
pub fn write_keeping(
    out: &Path,
    files: &BTreeMap<String, String>,
    kept: &Kept,
    lock: &Lock,
    hook: &mut dyn FnMut(Step),
) -> Result<Vec<String>, EmitError> {
    let swap = if cfg!(any(target_os = "linux", target_os = "android")) {
        Swap::Exchange
    } else {
        Swap::Renames
    };
    write_with(out, files, kept, lock, hook, swap)
}

fn write_with(
    out: &Path,
    files: &BTreeMap<String, String>,
    kept_files: &Kept,
    _lock: &Lock,
    hook: &mut dyn FnMut(Step),
    swap: Swap,
) -> Result<Vec<String>, EmitError> {
    let (parent, name) = split(out);
    let mut warnings = Vec::new();
    recover_and_clean(&parent, &name, out, &mut warnings)?;
    let exists = preflight(out)?;
    let pid = std::process::id();
    let staging = parent.join(format!(".{name}.new-{pid}"));
    let kept = exists.then_some(out);
    if let Err(e) = stage(&staging, files, kept_files, kept) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    hook(Step::Staged);
    let old_tree = if exists {
        let mut how = swap;
        if how == Swap::Exchange {
            match exchange(&staging, out) {
                Ok(()) => {}
                // The file system has no exchange (EINVAL): rename twice.
                Err(e) if exchange_unsupported(&e) => how = Swap::Renames,
                Err(cause) => {
                    let _ = std::fs::remove_dir_all(&staging);
                    return Err(EmitError::Io {
                        path: out.to_path_buf(),
                        cause,
                    });
                }
            }
        }
        if how == Swap::Exchange {
            staging.clone()
        } else {
            let previous = parent.join(format!(".{name}.old-{pid}"));
            if let Err(cause) = std::fs::rename(out, &previous) {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(EmitError::Io {
                    path: out.to_path_buf(),
                    cause,
                });
            }
            hook(Step::MovedAside);
            if let Err(cause) = std::fs::rename(&staging, out) {
                // Put the previous tree back before reporting.
                let _ = std::fs::rename(&previous, out);
                let _ = std::fs::remove_dir_all(&staging);
                return Err(EmitError::Io {
                    path: out.to_path_buf(),
                    cause,
                });
            }
            previous
        }
    } else {
        std::fs::rename(&staging, out).map_err(|cause| {
            let _ = std::fs::remove_dir_all(&staging);
            EmitError::Io {
                path: out.to_path_buf(),
                cause,
            }
        })?;
        PathBuf::new()
    };
    // The renames are durable once the parent folder is synced.
    sync_dir(&parent).map_err(io(&parent))?;
    hook(Step::Swapped);
    if exists && let Err(e) = std::fs::remove_dir_all(&old_tree) {
        warnings.push(format!(
            "`{}` is written, but the previous tree, moved to `{}`, could not be deleted: {e}; the next build deletes it, or delete it by hand",
            out.display(),
            old_tree.display()
        ));
    }
    hook(Step::Cleaned);
    Ok(warnings)
}

/// Writes every file under `staging`, then fsyncs files and folders, so
/// the tree is on disk before it becomes visible as `out/`.
/// Writes `files` into `staging`. A file whose bytes are those of the same
/// path in `kept` (the current `out/`) is hard-linked from there instead of
/// written: an unchanged artifact costs a read, not a write (and its fsync
/// finds nothing to flush). When the swap replaces `out/`, the old tree's
/// name for it goes and the linked one stays.
fn stage(
    staging: &Path,
    files: &BTreeMap<String, String>,
    kept_files: &Kept,
    kept: Option<&Path>,
) -> Result<(), EmitError> {
    let mut dirs: std::collections::BTreeSet<PathBuf> = files
        .keys()
        .chain(kept_files.keys())
        .filter_map(|p| Path::new(p).parent())
        .map(|d| staging.join(d))
        .collect();
    dirs.insert(staging.to_path_buf());
    for dir in &dirs {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    // Sequential: parallel writes measured slower on this file system.
    for (path, text) in files {
        let target = staging.join(path);
        if let Some(old) = kept.map(|k| k.join(path))
            && unchanged(&old, text)
            && std::fs::hard_link(&old, &target).is_ok()
        {
            // Durable even when another program wrote it (a git checkout):
            // an fsync of clean data returns at once.
            std::fs::File::open(&target)
                .and_then(|f| f.sync_all())
                .map_err(io(&target))?;
            continue;
        }
        let mut file = std::fs::File::create(&target).map_err(io(&target))?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io(&target))?;
        file.sync_all().map_err(io(&target))?;
    }
    for (path, file) in kept_files {
        let old = kept.map(|k| k.join(path)).unwrap_or_default();
        let target = staging.join(path);
        // Its stamp unchanged since it was verified, the file holds the
        // same bytes (see `stat`); otherwise it is hashed again.
        let still = file.stamp.is_some_and(|stamp| stamp.is(&old))
            || sha256_of_file(&old).is_ok_and(|now| now == file.sha256);
        if !still {
            return Err(EmitError::Io {
                path: old,
                cause: std::io::Error::other(
                    "changed while berth was building: run `berth build` again",
                ),
            });
        }
        if std::fs::hard_link(&old, &target).is_err() {
            std::fs::copy(&old, &target).map_err(io(&target))?;
        }
        std::fs::File::open(&target)
            .and_then(|f| f.sync_all())
            .map_err(io(&target))?;
    }
    if let Some(kept) = kept {
        carry_reviews(kept, staging, &mut dirs)?;
    }
    // Every folder on the way, deepest first, so each entry is durable.
    let mut all: std::collections::BTreeSet<PathBuf> = std::collections::BTreeSet::new();
    for dir in &dirs {
        for ancestor in dir.ancestors() {
            if !ancestor.starts_with(staging) {
                break;
            }
            all.insert(ancestor.to_path_buf());
        }
    }
    for dir in all.iter().rev() {
        sync_dir(dir).map_err(io(dir))?;
    }
    Ok(())
}

/// The folder of `out/` that holds review apps' artifacts
/// (`berth review render --write`), one folder per review app with its own
/// manifest. A build keeps it as it is, and a check does not count it: review
/// apps are per branch, not part of the built tree.
pub const REVIEW_DIR: &str = "review";

/// Hard-links (or copies) every file of `kept/review/` into the new tree.
fn carry_reviews(
    kept: &Path,
    staging: &Path,
    dirs: &mut std::collections::BTreeSet<PathBuf>,
) -> Result<(), EmitError> {
    let reviews = kept.join(REVIEW_DIR);
    if !reviews.is_dir() {
        return Ok(());
    }
    for entry in walkdir::WalkDir::new(&reviews).sort_by_file_name() {
        let entry = entry.map_err(|e| io(&reviews)(e.into()))?;
        let relative = entry.path().strip_prefix(kept).unwrap_or(entry.path());
        let target = staging.join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).map_err(io(&target))?;
            dirs.insert(target);
        } else if entry.file_type().is_file() && std::fs::hard_link(entry.path(), &target).is_err()
        {
            std::fs::copy(entry.path(), &target).map_err(io(&target))?;
        }
    }
    Ok(())
}

/// Whether the regular file at `path` holds exactly `text` (a different
/// size is known without reading it).
fn unchanged(path: &Path, text: &str) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == text.len() as u64 => {
            std::fs::read(path).is_ok_and(|bytes| bytes == text.as_bytes())
        }
        _ => false,
    }
}

/// fsyncs a folder (its entries); a no-op where folders cannot be opened.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Whether an exchange failed because the kernel or file system has none
/// (`renameat2(2)`: EINVAL "`RENAME_EXCHANGE` … not supported by the
/// filesystem"; ENOSYS before Linux 3.15).
fn exchange_unsupported(error: &std::io::Error) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let code = error.raw_os_error();
        code == Some(rustix::io::Errno::INVAL.raw_os_error())
            || code == Some(rustix::io::Errno::NOSYS.raw_os_error())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        error.kind() == std::io::ErrorKind::Unsupported
    }
}

/// Puts back a tree a [`Swap::Renames`] build left aside when stopped
/// between its renames, then deletes the staging folders and old trees of
/// earlier builds (`.<out>.new*`, `.<out>.old*`); one that cannot be
/// deleted is a warning, since each build stages under its own name.
fn recover_and_clean(
    parent: &Path,
    name: &str,
    out: &Path,
    warnings: &mut Vec<String>,
) -> Result<(), EmitError> {
    let entries = match std::fs::read_dir(parent) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(parent)(e)),
    };
    let (new, old) = (format!(".{name}.new"), format!(".{name}.old"));
    let mut stale: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with(&new) || n.starts_with(&old)
        })
        .map(|e| e.path())
        .collect();
    stale.sort();
    if std::fs::symlink_metadata(out).is_err()
        && let Some(index) = stale.iter().position(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&old))
                && p.join(MANIFEST).is_file()
        })
    {
        let previous = stale.remove(index);
        std::fs::rename(&previous, out).map_err(io(out))?;
        warnings.push(format!(
            "put back `{}` from `{}`, where a build stopped mid-swap had left it",
            out.display(),
            previous.display()
        ));
    }
    for path in stale {
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if let Err(e) = removed {
            warnings.push(format!(
                "cannot delete `{}`, left by an earlier build: {e}; delete it by hand",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Whether `out` exists; refuses one berth could not replace: not a folder
/// (a file or a symbolic link), or a folder of its tree that berth could
/// not delete entries from, so that nothing is swapped that cannot be
/// cleaned up.
fn preflight(out: &Path) -> Result<bool, EmitError> {
    let metadata = match std::fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io(out)(e)),
    };
    if !metadata.is_dir() {
        return Err(EmitError::NotAFolder {
            path: out.to_path_buf(),
            link: metadata.file_type().is_symlink(),
        });
    }
    for entry in walkdir::WalkDir::new(out) {
        let entry = entry.map_err(|e| io(out)(e.into()))?;
        if entry.file_type().is_dir() {
            writable(entry.path()).map_err(|cause| EmitError::ReadOnly {
                out: out.to_path_buf(),
                path: entry.path().to_path_buf(),
                cause,
            })?;
        }
    }
    Ok(true)
}

/// Whether entries of `dir` can be deleted (`access(W_OK)`, which also
/// sees read-only mounts and immutable folders).
fn writable(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).map_err(std::io::Error::from)
    }
    #[cfg(not(unix))]
    {
        if std::fs::metadata(dir)?.permissions().readonly() {
            return Err(std::io::ErrorKind::PermissionDenied.into());
        }
        Ok(())
    }
}

/// The advisory lock a build holds on `out/` while it writes it: the file
/// `.<out>.lock` beside `out/` (never inside, since `out/` is swapped),
/// holding the holder's pid. Released when dropped.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

/// What [`Lock::try_acquire`] found.
#[derive(Debug)]
pub enum Acquired {
    Held(Lock),
    /// Another process holds the lock; `holder` is what it wrote (`pid N`).
    Busy {
        path: PathBuf,
        holder: Option<String>,
    },
}

impl Lock {
    /// The lock file of `out`.
    #[must_use]
    pub fn path(out: &Path) -> PathBuf {
        let (parent, name) = split(out);
        let file = format!(".{name}.lock");
        if parent == Path::new(".") {
            PathBuf::from(file)
        } else {
            parent.join(file)
        }
    }

    /// Takes the lock if no one holds it, and writes this process's pid in it.
    pub fn try_acquire(out: &Path) -> Result<Acquired, EmitError> {
        let path = Self::path(out);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {
                use std::io::{Seek as _, Write as _};
                file.set_len(0).map_err(io(&path))?;
                file.seek(std::io::SeekFrom::Start(0)).map_err(io(&path))?;
                writeln!(file, "pid {}", std::process::id()).map_err(io(&path))?;
                Ok(Acquired::Held(Self { _file: file }))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty());
                Ok(Acquired::Busy { path, holder })
            }
            Err(std::fs::TryLockError::Error(e)) => Err(io(&path)(e)),
        }
    }
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
    check_keeping(out, files, &Kept::new())
}

/// [`check`], where the files of `kept` are in `out` and were found to hold
/// the bytes they should (when they were reused): they are not read again.
pub fn check_keeping(
    out: &Path,
    files: &BTreeMap<String, String>,
    kept: &Kept,
) -> Result<Drift, EmitError> {
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
                let review = relative.starts_with(&format!("{REVIEW_DIR}/"));
                if !files.contains_key(&relative) && !kept.contains_key(&relative) && !review {
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

    fn write(out: &Path, files: &BTreeMap<String, String>) -> Result<Vec<String>, EmitError> {
        let Acquired::Held(lock) = Lock::try_acquire(out).unwrap() else {
            panic!("locked")
        };
        super::write(out, files, &lock, &mut |_| {})
    }

    fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect()
    }

    /// A kept file is linked into the new tree when it still has the bytes
    /// it was verified with; one changed since is an error, and `out` stays.
    #[test]
    fn kept_files_are_linked_only_when_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(&out, &tree(&[("a/x.json", "1"), ("b/y.json", "2")])).unwrap();
        let kept: Kept = [(
            "a/x.json".to_owned(),
            KeptFile {
                sha256: sha256("1"),
                stamp: None,
            },
        )]
        .into();
        let lock = || {
            let Acquired::Held(lock) = Lock::try_acquire(&out).unwrap() else {
                panic!("locked")
            };
            lock
        };
        write_keeping(
            &out,
            &tree(&[("b/y.json", "3")]),
            &kept,
            &lock(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a/x.json")).unwrap(), "1");
        assert_eq!(std::fs::read_to_string(out.join("b/y.json")).unwrap(), "3");
        assert!(
            check_keeping(&out, &tree(&[("b/y.json", "3")]), &kept)
                .unwrap()
                .is_empty()
        );

        std::fs::write(out.join("a/x.json"), "edited").unwrap();
        let error = write_keeping(
            &out,
            &tree(&[("b/y.json", "4")]),
            &kept,
            &lock(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("changed while berth was building"),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(out.join("b/y.json")).unwrap(), "3");
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
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".out.new"))
            .collect();
        assert!(left.is_empty(), "the staging tree is cleaned up: {left:?}");
    }

    #[test]
    fn a_renames_swap_stopped_midway_is_put_back_by_the_next_build() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(&out, &tree(&[("a.json", "1"), (MANIFEST, "{}")])).unwrap();
        let Acquired::Held(lock) = Lock::try_acquire(&out).unwrap() else {
            panic!("locked")
        };
        // A panic stands for a kill: none of berth's clean-up runs after it.
        let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = write_with(
                &out,
                &tree(&[("a.json", "2"), (MANIFEST, "{}")]),
                &Kept::new(),
                &lock,
                &mut |step| assert_ne!(step, Step::MovedAside, "stopped"),
                Swap::Renames,
            );
        }));
        assert!(stopped.is_err());
        assert!(!out.exists(), "the window the fallback documents");
        drop(lock);
        let warnings = write(&out, &tree(&[("b.json", "3")])).unwrap();
        assert!(warnings[0].starts_with("put back"), "{warnings:?}");
        assert_eq!(std::fs::read_to_string(out.join("b.json")).unwrap(), "3");
        assert!(!out.join("a.json").exists());
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".out.lock", "out"], "stale staging is deleted");
    }

    #[test]
    fn a_second_lock_is_busy_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let Acquired::Held(first) = Lock::try_acquire(&out).unwrap() else {
            panic!("locked")
        };
        let Acquired::Busy { holder, .. } = Lock::try_acquire(&out).unwrap() else {
            panic!("a second lock was granted")
        };
        assert_eq!(holder, Some(format!("pid {}", std::process::id())));
        drop(first);
        assert!(matches!(
            Lock::try_acquire(&out).unwrap(),
            Acquired::Held(_)
        ));
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
