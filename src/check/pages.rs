//! Maintenance pages: the files that `schedule.page` names.
//!
//! A heritage switched off answers with a fixed `503` whose body is its
//! maintenance page. `schedule.page` names a file, relative to the folder of
//! the instance file that names it, that must lie inside `instances/`: that
//! folder is what `berth diff --base` and `berth apply --rev` read from a
//! revision. ALB takes at most 1024 characters in a fixed response's body
//! (Elastic Load Balancing API reference, `FixedResponseActionConfig`).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::CheckedFleet;
use super::rules::pointer;
use crate::diagnostic::{Diagnostic, FileId, Sources};
use crate::plan::off_hours::MESSAGE_BODY_LIMIT;

/// A maintenance page, read.
#[derive(Debug, Clone)]
pub struct Page {
    /// The file, as shown (relative to the fleet root).
    pub path: String,
    pub text: String,
}

/// The pages of a fleet, by instance file and environment key.
pub type Pages = BTreeMap<(FileId, String), Page>;

/// Reads the page of every `schedule` that names one.
#[must_use]
pub fn read(root: &Path, fleet: &CheckedFleet, sources: &Sources) -> (Pages, Vec<Diagnostic>) {
    let mut pages = Pages::new();
    let mut out = Vec::new();
    for district in &fleet.districts {
        for instance in &district.instances {
            for (env_key, env) in &instance.spec.environments {
                let Some(name) = env.schedule.as_ref().and_then(|s| s.page.as_deref()) else {
                    continue;
                };
                let span = instance.at(&pointer(&["environments", env_key, "schedule", "page"]));
                let shown_file = sources.path(instance.file);
                let folder = Path::new(shown_file).parent().unwrap_or(Path::new(""));
                let Some(relative) = inside_instances(folder, name) else {
                    out.push(
                        Diagnostic::error(
                            "page-outside-instances",
                            format!("the maintenance page `{name}` is not inside `instances/`"),
                        )
                        .at(span, "outside the fleet's instance files")
                        .help("put the page beside the instance file (e.g. `maintenance.html`) or elsewhere under `instances/`: berth reads a revision's `instances/` for `diff --base` and `apply --rev`"),
                    );
                    continue;
                };
                let shown = relative.to_string_lossy().replace('\\', "/");
                let text = match std::fs::read(root.join(&relative)).map(String::from_utf8) {
                    Ok(Ok(text)) => text,
                    Ok(Err(_)) => {
                        out.push(
                            Diagnostic::error(
                                "page-unreadable",
                                format!("the maintenance page `{shown}` is not UTF-8 text"),
                            )
                            .at(span, "not text")
                            .help("save the page as UTF-8 HTML"),
                        );
                        continue;
                    }
                    Err(error) => {
                        out.push(
                            Diagnostic::error(
                                "page-unreadable",
                                format!("cannot read the maintenance page `{shown}`: {error}"),
                            )
                            .at(span, "named here")
                            .help(format!(
                                "the path is relative to `{}`, the instance file's folder",
                                folder.to_string_lossy().replace('\\', "/")
                            )),
                        );
                        continue;
                    }
                };
                let length = text.chars().count();
                if length > MESSAGE_BODY_LIMIT {
                    out.push(
                        Diagnostic::error(
                            "page-too-long",
                            format!("the maintenance page `{shown}` has {length} characters; a load balancer's fixed response holds at most {MESSAGE_BODY_LIMIT}"),
                        )
                        .at(span, "too long for a fixed response")
                        .help("shorten the page: inline only small styles, and link images and scripts from elsewhere (the heritage is off, so not from it)"),
                    );
                    continue;
                }
                if let Some(c) = text
                    .chars()
                    .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
                {
                    out.push(
                        Diagnostic::error(
                            "page-unreadable",
                            format!("the maintenance page `{shown}` holds the control character U+{:04X}", u32::from(c)),
                        )
                        .at(span, "not a text page")
                        .help("save the page as plain UTF-8 HTML"),
                    );
                    continue;
                }
                pages.insert((instance.file, env_key.clone()), Page { path: shown, text });
            }
        }
    }
    (pages, out)
}

/// `name`, relative to `folder` (both relative to the fleet root), as a path
/// relative to the root; `None` when it is absolute or leaves `instances/`.
fn inside_instances(folder: &Path, name: &str) -> Option<PathBuf> {
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    for c in folder.join(name).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (parts.len() >= 2 && parts[0] == "instances").then(|| parts.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_stay_inside_instances() {
        let folder = Path::new("instances/night");
        let ok = |name| inside_instances(folder, name).map(|p| p.to_string_lossy().into_owned());
        assert_eq!(
            ok("maintenance.html").as_deref(),
            Some("instances/night/maintenance.html")
        );
        assert_eq!(
            ok("../pages/off.html").as_deref(),
            Some("instances/pages/off.html")
        );
        assert_eq!(
            ok("./a/../b.html").as_deref(),
            Some("instances/night/b.html")
        );
        assert_eq!(ok("../../README.md"), None);
        assert_eq!(ok("../../../etc/passwd"), None);
        assert_eq!(ok("/etc/passwd"), None);
        assert_eq!(ok(".."), None);
    }
}
