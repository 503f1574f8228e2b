//! The stat cache of `out/` (`.out.stat` beside it): the sha256 berth last
//! found each artifact of `out/` to hold, with the file's device, inode,
//! size and modification and change times, so that `build --check` believes
//! an unchanged file without reading it.
//!
//! As git's index does, a file is believed when all five are those
//! recorded. Writing a file moves both its times to the file system's
//! clock, and nothing a user runs sets a change time back (`touch -d` moves
//! the modification time only, and changes the change time), so a file that
//! holds other bytes has other times — unless it was written within the
//! same clock tick as its times were read. A file is therefore recorded
//! only when both its times are older than a clock reading taken before it
//! was read: the times of a later write are that reading's or later.
//!
//! The cache only saves reading: a missing, unreadable or malformed cache
//! believes nothing, and one that cannot be written is not written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The cache's first line: its format and version.
const HEADER: &str = "berth stat 1";

/// What identifies a file's bytes without reading them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    /// Modification and change times, in nanoseconds since the epoch.
    mtime: i128,
    ctime: i128,
}

impl Stamp {
    /// The stamp of a regular file (not of a link: its target can change
    /// while the link stays as it is).
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        let ns = |secs: i64, nanos: i64| i128::from(secs) * 1_000_000_000 + i128::from(nanos);
        meta.is_file().then(|| Self {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: ns(meta.mtime(), meta.mtime_nsec()),
            ctime: ns(meta.ctime(), meta.ctime_nsec()),
        })
    }

    /// Without inode numbers and change times nothing can be believed.
    #[cfg(not(unix))]
    fn of(_: &std::fs::Metadata) -> Option<Self> {
        None
    }

    /// Whether the file at `path` still has this stamp, and so the bytes it
    /// was found to hold when the stamp was taken (a stamp older than the
    /// clock reading before that, as [`Stats::held`] hands out).
    #[must_use]
    pub fn is(self, path: &Path) -> bool {
        std::fs::symlink_metadata(path)
            .ok()
            .and_then(|meta| Self::of(&meta))
            == Some(self)
    }
}

/// The stat cache of one `out/`: what was recorded, and what this run
/// found.
#[derive(Debug, Default)]
pub struct Stats {
    /// The cache file; empty for a cache that is neither read nor written.
    path: PathBuf,
    recorded: HashMap<String, (Stamp, String)>,
    /// The file system's clock when this run began (a probe file's change
    /// time) and its device: a file of that device older than it can be
    /// recorded.
    clock: Option<(u64, i128)>,
    /// Every artifact found to hold its sha256 in this run, by path.
    found: Mutex<Vec<(String, Stamp, String)>>,
    /// How many were believed without reading.
    unread: AtomicUsize,
}

impl Stats {
    /// The cache file of `out`: `.NAME.stat` beside it.
    #[must_use]
    pub fn path(out: &Path) -> PathBuf {
        let (parent, name) = super::split(out);
        parent.join(format!(".{name}.stat"))
    }

    /// Reads the cache of `out` and the file system's clock.
    #[must_use]
    pub fn read(out: &Path) -> Self {
        let path = Self::path(out);
        let recorded = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| parse(&text))
            .unwrap_or_default();
        let clock = path.parent().and_then(probe);
        Self {
            path,
            recorded,
            clock,
            ..Self::default()
        }
    }

    /// Whether the regular file `file` (the artifact `relative` of `out/`)
    /// holds the bytes whose sha256 is `sha256` — believed when its stamp is
    /// the one recorded with that sha256, read and hashed otherwise — with
    /// its stamp when that can vouch for those bytes later in this run (see
    /// [`Stamp::is`]): `None` when the file does not hold them, `Some(None)`
    /// when it does but its stamp is too recent to vouch.
    pub fn held(&self, relative: &str, file: &Path, sha256: &str) -> Option<Option<Stamp>> {
        let meta = std::fs::symlink_metadata(file).ok()?;
        let stamp = Stamp::of(&meta);
        if let Some(stamp) = stamp
            && self
                .recorded
                .get(relative)
                .is_some_and(|(known, sha)| *known == stamp && sha == sha256)
        {
            self.unread.fetch_add(1, Ordering::Relaxed);
            self.found(relative, stamp, sha256);
            return Some(Some(stamp));
        }
        if !super::sha256_of_file(file).is_ok_and(|sha| sha == sha256) {
            return None;
        }
        if let Some(stamp) = stamp
            && self.older_than_clock(stamp)
        {
            self.found(relative, stamp, sha256);
            return Some(Some(stamp));
        }
        Some(None)
    }

    fn found(&self, relative: &str, stamp: Stamp, sha256: &str) {
        if let Ok(mut found) = self.found.lock() {
            found.push((relative.to_owned(), stamp, sha256.to_owned()));
        }
    }

    /// Whether a write after the clock reading would give the file other
    /// times.
    fn older_than_clock(&self, stamp: Stamp) -> bool {
        self.clock
            .is_some_and(|(dev, now)| stamp.dev == dev && stamp.mtime < now && stamp.ctime < now)
    }

    /// How many artifacts were believed without reading them.
    #[must_use]
    pub fn unread(&self) -> usize {
        self.unread.load(Ordering::Relaxed)
    }

    /// Writes what this run found as the cache, in one rename, when it
    /// differs from what was read; a cache that cannot be written is left
    /// as it was (it only saves reading).
    pub fn save(self) {
        if self.path.as_os_str().is_empty() {
            return;
        }
        let mut found = self.found.into_inner().unwrap_or_default();
        let same = found.len() == self.recorded.len()
            && found.iter().all(|(path, stamp, sha)| {
                self.recorded
                    .get(path)
                    .is_some_and(|(known, known_sha)| known == stamp && known_sha == sha)
            });
        if same {
            return;
        }
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut text = format!("{HEADER}\n");
        for (path, s, sha) in &found {
            text.push_str(&format!(
                "{} {} {} {} {} {sha} {path}\n",
                s.dev, s.ino, s.size, s.mtime, s.ctime
            ));
        }
        let Some(parent) = self.path.parent() else {
            return;
        };
        if let Ok(mut file) = tempfile::NamedTempFile::new_in(parent)
            && std::io::Write::write_all(&mut file, text.as_bytes()).is_ok()
        {
            let _ = file.persist(&self.path);
        }
    }

    /// A cache with `clock` as the clock reading (for tests).
    #[cfg(test)]
    fn with_clock(clock: Option<(u64, i128)>) -> Self {
        Self {
            clock,
            ..Self::default()
        }
    }
}

/// The entries of a cache's text; `None` when any line is malformed.
fn parse(text: &str) -> Option<HashMap<String, (Stamp, String)>> {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return None;
    }
    lines
        .map(|line| {
            let mut fields = line.splitn(7, ' ');
            let mut number = || fields.next()?.parse::<i128>().ok();
            let (dev, ino, size, mtime, ctime) =
                (number()?, number()?, number()?, number()?, number()?);
            let stamp = Stamp {
                dev: u64::try_from(dev).ok()?,
                ino: u64::try_from(ino).ok()?,
                size: u64::try_from(size).ok()?,
                mtime,
                ctime,
            };
            let sha = fields.next()?;
            let path = fields.next()?;
            (sha.len() == 64).then(|| (path.to_owned(), (stamp, sha.to_owned())))
        })
        .collect()
}

/// The file system's clock in `dir`: the change time and device of a file
/// created there now (and deleted).
fn probe(dir: &Path) -> Option<(u64, i128)> {
    let file = tempfile::NamedTempFile::new_in(dir).ok()?;
    let stamp = Stamp::of(&file.as_file().metadata().ok()?)?;
    Some((stamp.dev, stamp.ctime))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp_of(path: &Path) -> Stamp {
        Stamp::of(&std::fs::metadata(path).unwrap()).unwrap()
    }

    /// `dir/a.json` holding `1`, with that text's sha256 and the file's stamp.
    fn one_file(dir: &Path) -> (PathBuf, String, Stamp) {
        let file = dir.join("a.json");
        std::fs::write(&file, "1").unwrap();
        let stamp = stamp_of(&file);
        (file, super::super::sha256("1"), stamp)
    }

    impl Stats {
        fn holds(&self, relative: &str, file: &Path, sha256: &str) -> bool {
            self.held(relative, file, sha256).is_some()
        }
    }

    /// A file is recorded only when both its times are older than the
    /// clock reading: one whose times are the reading's could have been
    /// written after it, within the same tick.
    #[test]
    fn only_files_older_than_the_clock_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let (file, sha, stamp) = one_file(dir.path());
        let now = stamp.mtime.max(stamp.ctime);
        for (clock, recorded) in [(now, false), (now + 1, true), (stamp.mtime, false)] {
            let stats = Stats::with_clock(Some((stamp.dev, clock)));
            assert!(stats.holds("a.json", &file, &sha));
            assert_eq!(
                stats.found.lock().unwrap().len(),
                usize::from(recorded),
                "clock {clock}, file {stamp:?}"
            );
        }
        let other_device = Stats::with_clock(Some((stamp.dev + 1, now + 1)));
        assert!(other_device.holds("a.json", &file, &sha));
        assert!(other_device.found.lock().unwrap().is_empty());
    }

    /// What a run found is read back by the next, which believes a file
    /// whose stamp and sha256 are the recorded ones, and reads one whose
    /// stamp changed, even with its size and modification time as before.
    #[test]
    fn a_saved_cache_is_believed_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let (file, sha, stamp) = one_file(&out);
        // The clock moves on, so the file can be recorded.
        let ticked = (0..2000).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(1));
            probe(dir.path()).is_some_and(|(_, now)| now > stamp.mtime.max(stamp.ctime))
        });
        assert!(ticked, "the file system's clock stands still");
        let first = Stats::read(&out);
        assert!(first.holds("a.json", &file, &sha));
        assert_eq!(first.unread(), 0);
        first.save();
        let text = std::fs::read_to_string(dir.path().join(".out.stat")).unwrap();
        assert!(text.starts_with("berth stat 1\n"), "{text}");
        assert!(
            text.trim_end().ends_with(&format!("{sha} a.json")),
            "{text}"
        );

        let second = Stats::read(&out);
        assert!(second.holds("a.json", &file, &sha));
        assert_eq!(second.unread(), 1, "believed without reading");
        assert!(!second.holds("a.json", &file, &super::super::sha256("2")));

        // Other bytes of the same size, the modification time put back.
        let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::fs::write(&file, "2").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let third = Stats::read(&out);
        assert!(!third.holds("a.json", &file, &sha), "the change time moved");
        assert_eq!(third.unread(), 0);
    }

    /// A stamp [`Stats::held`] hands out vouches for the file until it
    /// changes.
    #[test]
    fn a_stamp_vouches_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let (file, sha, stamp) = one_file(dir.path());
        let clock = Some((stamp.dev, stamp.mtime.max(stamp.ctime) + 1));
        let held = Stats::with_clock(clock).held("a.json", &file, &sha);
        let Some(Some(stamp)) = held else {
            panic!("{held:?}")
        };
        assert!(stamp.is(&file));
        assert_eq!(
            Stats::with_clock(None).held("a.json", &file, &sha),
            Some(None),
            "without a clock reading, no stamp vouches"
        );
        std::fs::write(&file, "22").unwrap();
        assert!(!stamp.is(&file));
        assert_eq!(Stats::with_clock(clock).held("a.json", &file, &sha), None);
    }

    #[test]
    fn a_malformed_cache_believes_nothing() {
        for text in [
            "",
            "berth stat 2\n",
            "berth stat 1\n1 2 3 4 5 abc a.json\n",
            "berth stat 1\nx 2 3 4 5 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa a.json\n",
        ] {
            assert!(parse(text).is_none_or(|m| m.is_empty()), "{text:?}");
        }
        let good = format!("berth stat 1\n1 2 3 4 5 {} a b.json\n", "a".repeat(64));
        let parsed = parse(&good).unwrap();
        assert_eq!(parsed["a b.json"].0.ino, 2, "a path may hold spaces");
    }
}
