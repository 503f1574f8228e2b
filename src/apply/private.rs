//! The private copy: the artifact bytes apply verified, in a directory only
//! its user can read, so that the AWS CLI (which reads `file://` and
//! `--body` paths itself, at call time) deploys exactly what was checked,
//! whatever happens to `out/` meanwhile. Removed when dropped.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The verified artifacts, copied under a fresh `berth-apply-*` directory.
#[derive(Debug)]
pub struct PrivateCopy {
    dir: tempfile::TempDir,
    paths: BTreeMap<String, PathBuf>,
}

impl PrivateCopy {
    /// Writes each `(path, text)` (a path like `out/d/h/app.cfn.json`) under a
    /// new directory in `scratch`: the directory mode 0700, files 0600 (on
    /// Unix), each file created anew so nothing else can have it open.
    pub fn new<'a>(
        scratch: &Path,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> std::io::Result<Self> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("berth-apply-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = builder.tempdir_in(scratch)?;
        let mut paths = BTreeMap::new();
        for (path, text) in files {
            // Paths come from the manifest: keep only plain components, so
            // nothing lands outside the private directory.
            let relative: PathBuf = Path::new(path)
                .components()
                .filter(|c| matches!(c, std::path::Component::Normal(_)))
                .collect();
            let target = dir.path().join(&relative);
            if let Some(parent) = target.parent() {
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::DirBuilderExt as _;
                    builder.mode(0o700);
                }
                builder.create(parent)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            let mut file = options.open(&target)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            paths.insert(path.to_owned(), target);
        }
        Ok(Self { dir, paths })
    }

    /// The private copy of `path` (as given to [`PrivateCopy::new`]).
    #[must_use]
    pub fn path(&self, path: &str) -> Option<&Path> {
        self.paths.get(path).map(PathBuf::as_path)
    }

    /// The directory holding the copies.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_private_and_removed_when_dropped() {
        let scratch = tempfile::tempdir().unwrap();
        let copy = PrivateCopy::new(scratch.path(), [("out/d/h/app.cfn.json", "{}\n")]).unwrap();
        let path = copy.path("out/d/h/app.cfn.json").unwrap().to_path_buf();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(copy.dir()), 0o700);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
        let dir = copy.dir().to_path_buf();
        drop(copy);
        assert!(!dir.exists());
    }

    #[test]
    fn manifest_paths_cannot_leave_the_copy() {
        let scratch = tempfile::tempdir().unwrap();
        let copy = PrivateCopy::new(scratch.path(), [("../../x.json", "1")]).unwrap();
        assert!(copy.path("../../x.json").unwrap().starts_with(copy.dir()));
    }
}
