//! The text level of a diff: one artifact's unified hunks.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// Lines of context around each change, as in `diff -u`.
pub const CONTEXT: usize = 3;

/// Whether an artifact is new, gone or different.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Added,
    Removed,
    Changed,
}

/// One artifact that differs, with its hunks when it exists on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactChange {
    /// Path under `out/`.
    pub path: String,
    pub status: FileStatus,
    /// Lines of the artifact on the side where it exists (added or removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<usize>,
    /// Unified hunks (changed artifacts only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hunks: Vec<Hunk>,
}

/// A unified-diff hunk: its `@@ -a,b +c,d @@` header and lines.
#[derive(Debug, Clone, Serialize)]
pub struct Hunk {
    pub header: String,
    pub lines: Vec<Line>,
}

/// One line of a hunk; serialized as in a unified diff, its sign first
/// (`" "`, `"-"` or `"+"`).
#[derive(Debug, Clone)]
pub struct Line {
    pub kind: LineKind,
    /// The line without its newline.
    pub text: String,
}

impl Serialize for Line {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{}{}", self.kind.sign(), self.text))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Context,
    Delete,
    Insert,
}

impl LineKind {
    /// The unified-diff prefix: ` `, `-` or `+`.
    #[must_use]
    pub fn sign(self) -> char {
        match self {
            Self::Context => ' ',
            Self::Delete => '-',
            Self::Insert => '+',
        }
    }
}

impl ArtifactChange {
    /// Compares one artifact's two sides; at least one exists and they differ.
    #[must_use]
    pub fn new(path: &str, before: Option<&str>, after: Option<&str>) -> Self {
        let (status, lines, hunks) = match (before, after) {
            (None, Some(text)) => (FileStatus::Added, Some(text.lines().count()), Vec::new()),
            (Some(text), None) => (FileStatus::Removed, Some(text.lines().count()), Vec::new()),
            (before, after) => (
                FileStatus::Changed,
                None,
                hunks(before.unwrap_or_default(), after.unwrap_or_default()),
            ),
        };
        Self {
            path: path.to_owned(),
            status,
            lines,
            hunks,
        }
    }

    /// The hunks as a unified diff with `a/` and `b/` headers.
    #[must_use]
    pub fn unified(&self) -> String {
        let mut text = format!("--- a/out/{0}\n+++ b/out/{0}\n", self.path);
        for hunk in &self.hunks {
            text.push_str(&hunk.header);
            text.push('\n');
            for line in &hunk.lines {
                text.push(line.kind.sign());
                text.push_str(&line.text);
                text.push('\n');
            }
        }
        text
    }
}

fn hunks(before: &str, after: &str) -> Vec<Hunk> {
    let diff = TextDiff::from_lines(before, after);
    diff.grouped_ops(CONTEXT)
        .iter()
        .filter(|ops| !ops.is_empty())
        .map(|ops| Hunk {
            header: similar::udiff::UnifiedHunkHeader::new(ops).to_string(),
            lines: ops
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|change| Line {
                    kind: match change.tag() {
                        ChangeTag::Equal => LineKind::Context,
                        ChangeTag::Delete => LineKind::Delete,
                        ChangeTag::Insert => LineKind::Insert,
                    },
                    text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_have_three_lines_of_context() {
        let before: String = (1..=20).map(|i| i.to_string() + "\n").collect();
        let after = before.replace("10\n", "ten\n");
        let change = ArtifactChange::new("a.json", Some(&before), Some(&after));
        assert_eq!(change.status, FileStatus::Changed);
        assert_eq!(
            change.unified(),
            "--- a/out/a.json\n+++ b/out/a.json\n@@ -7,7 +7,7 @@\n 7\n 8\n 9\n-10\n+ten\n 11\n 12\n 13\n"
        );
    }

    #[test]
    fn added_and_removed_artifacts_have_no_hunks() {
        let added = ArtifactChange::new("a.json", None, Some("{\n}\n"));
        assert_eq!((added.status, added.lines), (FileStatus::Added, Some(2)));
        assert!(added.hunks.is_empty());
        let removed = ArtifactChange::new("a.json", Some("{}\n"), None);
        assert_eq!(
            (removed.status, removed.lines),
            (FileStatus::Removed, Some(1))
        );
    }
}
