//! The schemas editors check a fleet's files against: the files `berth
//! schema --write DIR` writes into a fleet repository, and which of them the
//! fleet's files name in their `# yaml-language-server: $schema=…` lines, so
//! `build --check` can tell when one is stale.
//!
//! Reads only the schema files those lines name; never writes.

use std::path::{Component, Path, PathBuf};

use crate::diagnostic::Sources;
use crate::schema::{SchemaKind, json_schema};

/// The line that tells yaml-language-server which schema a file uses.
pub const MODELINE: &str = "# yaml-language-server: $schema=";

impl SchemaKind {
    /// The file `berth schema --write` writes this schema to.
    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Instance => "instance.schema.json",
            Self::District => "district.schema.json",
        }
    }

    /// The schema's `title`, which marks a schema file as berth's.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Instance => "berth instance file",
            Self::District => "berth district file",
        }
    }
}

/// The text of a schema file as `berth schema` prints and writes it.
#[must_use]
pub fn schema_text(kind: SchemaKind) -> String {
    let text = serde_json::to_string_pretty(&json_schema(kind)).unwrap_or_default();
    format!("{text}\n")
}

/// A schema file a fleet file names that is not what this berth writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleSchema {
    /// The schema file, relative to the fleet root where it is inside it.
    pub path: String,
    /// A fleet file that names it (the first one, in file order).
    pub named_by: String,
    /// Whether the file is missing (rather than out of date).
    pub missing: bool,
}

/// Every schema file named by a `$schema=` line of a file in `sources`
/// (paths relative to `root`) that is berth's and differs from what this
/// berth writes, or is missing. A line naming a URL, or a file that is not
/// one of berth's schemas, is left alone: a missing file counts when its
/// name is one `berth schema --write` writes.
#[must_use]
pub fn stale_schemas(root: &Path, sources: &Sources) -> Vec<StaleSchema> {
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut stale = Vec::new();
    for file in sources.ids() {
        let shown = sources.path(file);
        let Some(target) = modeline(sources.text(file)) else {
            continue;
        };
        if target.contains("://") {
            continue;
        }
        let dir = Path::new(shown).parent().unwrap_or(Path::new(""));
        let relative = normalize(&dir.join(target));
        if seen.contains(&relative) {
            continue;
        }
        seen.push(relative.clone());
        let path = root.join(&relative);
        let entry = |missing| StaleSchema {
            path: relative.display().to_string(),
            named_by: shown.to_owned(),
            missing,
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            let name = relative.file_name().and_then(|n| n.to_str());
            if [SchemaKind::Instance, SchemaKind::District]
                .iter()
                .any(|k| Some(k.file_name()) == name)
            {
                stale.push(entry(true));
            }
            continue;
        };
        let title = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("title").and_then(|t| t.as_str()).map(str::to_owned));
        let Some(kind) = [SchemaKind::Instance, SchemaKind::District]
            .into_iter()
            .find(|k| title.as_deref() == Some(k.title()))
        else {
            continue;
        };
        if text != schema_text(kind) {
            stale.push(entry(false));
        }
    }
    stale
}

/// The schema a file's leading comment lines name, if any.
fn modeline(text: &str) -> Option<&str> {
    text.lines()
        .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
        .find_map(|l| l.trim().strip_prefix(MODELINE))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// `a/b/../c` → `a/c`, without touching the file system; a leading `..`
/// that leaves the fleet root is kept.
fn normalize(path: &Path) -> PathBuf {
    let mut parts: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if parts
                    .last()
                    .is_some_and(|c| matches!(c, Component::Normal(_))) =>
            {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modelines() {
        for (text, want) in [
            (
                "# yaml-language-server: $schema=../../schema/instance.schema.json\nenvironments: {}\n",
                Some("../../schema/instance.schema.json"),
            ),
            (
                "# a comment\n\n# yaml-language-server: $schema=s.json \nx: 1\n",
                Some("s.json"),
            ),
            ("x: 1\n# yaml-language-server: $schema=s.json\n", None),
            ("# yaml-language-server: $schema=\n", None),
        ] {
            assert_eq!(modeline(text), want, "{text}");
        }
    }

    #[test]
    fn normalizing() {
        for (path, want) in [
            ("instances/mstdn/../../schema/a.json", "schema/a.json"),
            ("instances/./x/../../../schema/a.json", "../schema/a.json"),
        ] {
            assert_eq!(normalize(Path::new(path)), PathBuf::from(want));
        }
    }
}
