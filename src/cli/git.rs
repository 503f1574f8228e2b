//! The fleet as it is at a git revision, read with the `git` command without
//! touching the working tree: `ls-tree` lists the blobs and `cat-file
//! --batch` reads them (one process for all of them). `diff --base` reads
//! only the blobs whose id differs from the rendered text's, so an unchanged
//! fleet costs a hash per file; `apply --rev` writes a revision's folders
//! into a private [`Snapshot`] to deploy from. Nothing here writes to the
//! repository or its working tree.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use sha1::Digest;

use berth::diff::Files;

fn git(root: &Path) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(root);
    command
}

/// Runs git and returns its standard output, or its first error line.
fn output(command: &mut Command) -> Result<std::result::Result<Vec<u8>, String>> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .context("cannot run `git`; reading a git revision needs git on PATH")?;
    if output.status.success() {
        return Ok(Ok(output.stdout));
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("git failed")
        .trim()
        .trim_start_matches("fatal: ")
        .to_owned();
    Ok(Err(first))
}

/// The git object id of a text, in the repository's hash (SHA-1, or SHA-256
/// when the id is 64 hex digits long).
fn blob_id(text: &str, sha256: bool) -> String {
    let header = format!("blob {}\0", text.len());
    let hex = |bytes: &[u8]| {
        bytes.iter().fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    if sha256 {
        let mut hasher = sha2::Sha256::new();
        hasher.update(header.as_bytes());
        hasher.update(text.as_bytes());
        hex(&hasher.finalize())
    } else {
        let mut hasher = sha1::Sha1::new();
        hasher.update(header.as_bytes());
        hasher.update(text.as_bytes());
        hex(&hasher.finalize())
    }
}

/// Why a revision names no commit.
#[derive(Debug)]
pub enum NoCommit {
    /// The fleet root is not in a git repository (git's message).
    NotARepository(String),
    /// git knows no commit by that name.
    Unknown,
}

/// The commit a revision names (its full id), or why there is none; an
/// error only when git cannot be run.
pub fn resolve(root: &Path, revision: &str) -> Result<std::result::Result<String, NoCommit>> {
    let verified = output(
        git(root)
            .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
            .arg(format!("{revision}^{{commit}}")),
    )?;
    if let Ok(stdout) = verified {
        return Ok(Ok(String::from_utf8_lossy(&stdout).trim().to_owned()));
    }
    if let Err(message) = output(git(root).args(["rev-parse", "--git-dir"]))? {
        return Ok(Err(NoCommit::NotARepository(message)));
    }
    Ok(Err(NoCommit::Unknown))
}

/// The commit a revision names, or an error that says why there is none
/// (in the words of `diff --base`).
pub fn commit_of(root: &Path, revision: &str) -> Result<String> {
    match resolve(root, revision)? {
        Ok(commit) => Ok(commit),
        Err(NoCommit::NotARepository(message)) => bail!(
            "`--base` compares with a git revision, but `{}` is not in a git repository ({message})",
            root.display()
        ),
        Err(NoCommit::Unknown) => {
            bail!("unknown revision `{revision}`: git knows no commit by that name")
        }
    }
}

/// The regular files under `<root>/<dir>` at a commit with their blob ids,
/// or `None` when the commit has no such folder.
fn listing(root: &Path, commit: &str, dir: &str) -> Result<Option<Vec<(String, String)>>> {
    let listed = output(
        git(root)
            .args(["ls-tree", "-r", "-z", "--full-tree", "--end-of-options"])
            .arg(format!("{commit}:./{dir}")),
    )?;
    // The commit exists (checked above): a failing listing is a missing path.
    let Ok(listing) = listed else {
        return Ok(None);
    };
    let mut entries: Vec<(String, String)> = Vec::new();
    for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        let Some((meta, path)) = record.split_once('\t') else {
            continue;
        };
        let mut fields = meta.split(' ');
        let (Some(mode), Some(kind), Some(id)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        // Regular files only: no symbolic links or submodules.
        if kind == "blob" && mode.starts_with("100") {
            entries.push((path.to_owned(), id.to_owned()));
        }
    }
    Ok(Some(entries))
}

/// Every file under `<root>/<dir>` at a commit, by path relative to `dir`,
/// or `None` when the commit has no such folder.
pub fn tree_at(root: &Path, commit: &str, dir: &str) -> Result<Option<Files>> {
    let Some(entries) = listing(root, commit, dir)? else {
        return Ok(None);
    };
    let blobs = read_blobs(root, entries.iter().map(|(_, id)| id.as_str()))?;
    let mut files = Files::new();
    for ((path, _), blob) in entries.into_iter().zip(blobs) {
        let text = String::from_utf8(blob)
            .map_err(|_| anyhow::anyhow!("`{dir}/{path}` at `{commit}` is not UTF-8 text"))?;
        files.insert(path, text);
    }
    Ok(Some(files))
}

/// The files of `<root>/out` at `revision`, or `None` when the revision has
/// no `out/` (the first change that commits it). Files whose blob is the
/// text in `rendered` are taken from there instead of being read.
pub fn out_at(root: &Path, revision: &str, rendered: &Files) -> Result<Option<Files>> {
    let commit = commit_of(root, revision)?;
    let Some(entries) = listing(root, &commit, "out")? else {
        return Ok(None);
    };
    let same: Vec<bool> = entries
        .par_iter()
        .map(|(path, id)| {
            rendered
                .get(path)
                .is_some_and(|text| blob_id(text, id.len() == 64) == *id)
        })
        .collect();
    let wanted: Vec<&(String, String)> = entries
        .iter()
        .zip(&same)
        .filter(|(_, same)| !**same)
        .map(|(e, _)| e)
        .collect();
    let blobs = read_blobs(root, wanted.iter().map(|(_, id)| id.as_str()))?;
    let mut files = Files::new();
    for ((path, _), same) in entries.iter().zip(&same) {
        if *same {
            files.insert(path.clone(), rendered[path].clone());
        }
    }
    for ((path, _), blob) in wanted.into_iter().zip(blobs) {
        let text = String::from_utf8(blob)
            .map_err(|_| anyhow::anyhow!("`out/{path}` at `{revision}` is not UTF-8 text"))?;
        files.insert(path.clone(), text);
    }
    Ok(Some(files))
}

/// Whether `<root>/<dir>` at a commit holds exactly `files` (by path
/// relative to `dir`), compared by blob id, without reading a blob.
pub fn holds(root: &Path, commit: &str, dir: &str, files: &Files) -> Result<bool> {
    let Some(entries) = listing(root, commit, dir)? else {
        return Ok(false);
    };
    Ok(entries.len() == files.len()
        && entries.iter().all(|(path, id)| {
            files
                .get(path)
                .is_some_and(|text| blob_id(text, id.len() == 64) == *id)
        }))
}

/// The newest commit reachable from `commit` that changed `<root>/<dir>`,
/// or `None` when none did.
pub fn last_change(root: &Path, commit: &str, dir: &str) -> Result<Option<String>> {
    let found = output(
        git(root)
            .args(["rev-list", "-n", "1", "--end-of-options"])
            .arg(commit)
            .args(["--", dir]),
    )?;
    Ok(found
        .ok()
        .map(|stdout| String::from_utf8_lossy(&stdout).trim().to_owned())
        .filter(|id| !id.is_empty()))
}

/// The first parent of a commit, or `None` for a root commit.
pub fn parent(root: &Path, commit: &str) -> Result<Option<String>> {
    match resolve(root, &format!("{commit}^"))? {
        Ok(parent) => Ok(Some(parent)),
        Err(_) => Ok(None),
    }
}

/// Whether a commit has the folder `<root>/<dir>`.
pub fn has_dir(root: &Path, commit: &str, dir: &str) -> Result<bool> {
    Ok(listing(root, commit, dir)?.is_some())
}

/// Folders of the fleet as they are at a commit, written into a new
/// directory only its user can enter (mode 0700), removed when dropped: a
/// fleet root to read as any other.
#[derive(Debug)]
pub struct Snapshot {
    dir: tempfile::TempDir,
}

impl Snapshot {
    /// Writes `<root>/<dir>` at `commit` for each of `dirs` (a folder the
    /// commit does not have is left out) under a new `berth-rev-*`
    /// directory in `scratch`.
    pub fn new(root: &Path, commit: &str, dirs: &[&str], scratch: &Path) -> Result<Self> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("berth-rev-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = builder.tempdir_in(scratch).with_context(|| {
            format!(
                "cannot make a temporary directory in `{}` for the revision",
                scratch.display()
            )
        })?;
        for name in dirs {
            let Some(files) = tree_at(root, commit, name)? else {
                continue;
            };
            for (path, text) in &files {
                // Paths come from git: keep only plain components.
                let relative: std::path::PathBuf = Path::new(path)
                    .components()
                    .filter(|c| matches!(c, std::path::Component::Normal(_)))
                    .collect();
                let target = dir.path().join(name).join(relative);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&target, text)
                    .with_context(|| format!("cannot write `{}`", target.display()))?;
            }
        }
        Ok(Self { dir })
    }

    /// The fleet root the folders were written into.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// The contents of blobs, in order, from one `git cat-file --batch`.
fn read_blobs<'a>(root: &Path, ids: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>> {
    let request: String = ids.fold(String::new(), |mut s, id| {
        s.push_str(id);
        s.push('\n');
        s
    });
    if request.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = git(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run `git cat-file`")?;
    let mut stdin = child.stdin.take().expect("piped");
    let count = request.lines().count();
    // Write from another thread: git answers while it reads, and both pipes
    // have limited room.
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut reader = BufReader::new(child.stdout.take().expect("piped"));
    let mut blobs = Vec::with_capacity(count);
    let mut header = String::new();
    for _ in 0..count {
        header.clear();
        reader.read_line(&mut header)?;
        let mut fields = header.split_whitespace();
        let (Some(id), Some(kind), Some(size)) = (fields.next(), fields.next(), fields.next())
        else {
            bail!("unexpected answer from `git cat-file`: {}", header.trim());
        };
        if kind != "blob" {
            bail!("git object {id} is a {kind}, not a file");
        }
        let size: usize = size.parse().context("git cat-file size")?;
        let mut blob = vec![0; size + 1];
        reader.read_exact(&mut blob)?;
        blob.pop(); // the newline after each object
        blobs.push(blob);
    }
    writer
        .join()
        .expect("the writer thread does not panic")
        .context("cannot write to `git cat-file`")?;
    let status = child.wait()?;
    if !status.success() {
        bail!("`git cat-file` failed");
    }
    Ok(blobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id("hello\n", false),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(
            blob_id("", false),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
    }
}
