//! Load: find the fleet's files under `instances/` and read each into a [`Node`] tree.
//!
//! `instances/<district>/district.yml` describes a district; every other
//! `*.yml`/`*.yaml` file in the district's folder is one instance. Files are
//! read in a sorted order and parsed in parallel; symbolic links are
//! followed, and what cannot be a fleet file is a diagnostic, not skipped. This stage knows YAML, not
//! berth's format: it must not interpret keys beyond finding template holders.

pub mod yaml;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use walkdir::WalkDir;

pub use self::yaml::Node;
use crate::diagnostic::{Diagnostic, FileId, Sources, Span};

/// The district file's name inside a district folder.
pub const DISTRICT_FILE: &str = "district.yml";

/// One parsed file.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    pub file: FileId,
    /// The file name without extension (an instance's name).
    pub stem: String,
    pub root: Node,
}

/// One district folder.
#[derive(Debug, Clone)]
pub struct LoadedDistrict {
    pub name: String,
    pub district: Option<LoadedFile>,
    pub instances: Vec<LoadedFile>,
}

/// Everything read from `instances/`.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: Sources,
    pub districts: Vec<LoadedDistrict>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A problem that stops loading before any file can be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "no `instances/` folder in `{0}` or any folder above it\n  help: run berth in a fleet repository, pass `--root DIR`, or start one here with `berth init`"
    )]
    NoInstances(PathBuf),
}

/// A file or folder that could not be read: the path, and why, once.
fn unreadable(shown: &str, error: &dyn std::error::Error) -> Diagnostic {
    Diagnostic::error("unreadable", format!("cannot read `{shown}`: {error}")).help(
        "check that the path exists and can be read; a symbolic link must lead to an existing file or folder",
    )
}

struct FoundFile {
    district: String,
    path: PathBuf,
    shown: String,
    stem: String,
    is_district: bool,
}

/// Reads every district and instance file under `root/instances`.
///
/// Symbolic links to district folders and to files are followed, as Git
/// checks them out; a link that leads nowhere or back into a folder it sits
/// in is an error naming it. What cannot be one of the fleet's files is an
/// error too, never skipped in silence: two district files, one instance
/// written twice (`app.yml` and `app.yaml`), a folder named like a YAML file,
/// a YAML file directly in `instances/`.
pub fn load(root: &Path) -> Result<Loaded, LoadError> {
    let instances = root.join("instances");
    if !instances.is_dir() {
        return Err(LoadError::NoInstances(root.to_path_buf()));
    }
    let mut loaded = Loaded::default();
    let mut found: Vec<FoundFile> = Vec::new();
    // Each file found by (district, stem, is_district): its index in `found`.
    let mut seen: std::collections::HashMap<(String, String, bool), usize> =
        std::collections::HashMap::new();
    let mut district_names = Vec::new();
    let walk = WalkDir::new(&instances)
        .min_depth(1)
        .max_depth(2)
        .follow_links(true)
        .sort_by_file_name();
    let show = |path: &Path| {
        let relative = path.strip_prefix(root).unwrap_or(path);
        relative.to_string_lossy().replace('\\', "/")
    };
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let shown = error.path().map_or_else(|| show(&instances), &show);
                let diagnostic = match (error.loop_ancestor(), error.io_error()) {
                    (Some(ancestor), _) => Diagnostic::error(
                        "symlink-loop",
                        format!(
                            "`{shown}` is a symbolic link back to `{}`, a folder it is in",
                            show(ancestor)
                        ),
                    )
                    .help("remove the link, or point it at a district folder"),
                    (None, Some(io)) => unreadable(&shown, io),
                    (None, None) => unreadable(&shown, &error),
                };
                loaded.diagnostics.push(diagnostic);
                continue;
            }
        };
        let path = entry.path();
        let shown = show(path);
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        );
        if entry.file_type().is_dir() {
            if entry.depth() == 1 {
                district_names.push(name);
            } else if is_yaml {
                loaded.diagnostics.push(
                    Diagnostic::error(
                        "not-a-file",
                        format!("`{shown}` is a folder, not an instance file"),
                    )
                    .help(
                        "berth reads `*.yml` files in a district folder; rename or move the folder",
                    ),
                );
            }
            continue;
        }
        if !is_yaml {
            continue;
        }
        if entry.depth() == 1 {
            loaded.diagnostics.push(
                Diagnostic::error(
                    "outside-district",
                    format!("`{shown}` is not in a district folder"),
                )
                .help(format!(
                    "move it to `instances/<district>/{name}`, beside that district's `{DISTRICT_FILE}`"
                )),
            );
            continue;
        }
        let district = path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_district = name == DISTRICT_FILE || name == "district.yaml";
        let key = (district.clone(), stem.clone(), is_district);
        if let Some(first) = seen.get(&key).map(|&i| &found[i]) {
            let what = if is_district {
                format!("district `{district}` has two district files")
            } else {
                format!("instance `{stem}` is written twice in district `{district}`")
            };
            loaded.diagnostics.push(
                Diagnostic::error("duplicate-file", format!("{what}: `{}` and `{shown}`", first.shown))
                    .help("keep one of them; berth reads both `.yml` and `.yaml` and would not know which one counts"),
            );
            continue;
        }
        seen.insert(key, found.len());
        found.push(FoundFile {
            district,
            path: path.to_path_buf(),
            shown,
            stem,
            is_district,
        });
    }

    let mut texts = Vec::with_capacity(found.len());
    let mut read = Vec::with_capacity(found.len());
    for f in found {
        let bytes = match std::fs::read(&f.path) {
            Ok(bytes) => bytes,
            Err(error) => {
                loaded.diagnostics.push(unreadable(&f.shown, &error));
                continue;
            }
        };
        read.push(f);
        let f = read.last().expect("just pushed");
        let (text, bad_utf8) = match String::from_utf8(bytes) {
            Ok(text) => (text, None),
            Err(e) => {
                let range = yaml::utf8_error_range(&e.utf8_error());
                (
                    String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    Some(range),
                )
            }
        };
        let file = loaded.sources.add(f.shown.clone(), text);
        if let Some(range) = bad_utf8.clone() {
            // Lossy decoding replaced the bad bytes; point at the replacement character.
            let start = range.start;
            let end = loaded.sources.text(file)[start..]
                .chars()
                .next()
                .map_or(start, |c| start + c.len_utf8());
            loaded.diagnostics.push(
                Diagnostic::error("not-utf8", "the file is not valid UTF-8")
                    .at(Span::new(file, start..end), "this byte is not UTF-8")
                    .help("save the file as UTF-8"),
            );
        }
        texts.push((file, bad_utf8.is_some()));
    }

    let sources = &loaded.sources;
    let parsed: Vec<_> = texts
        .par_iter()
        .map(|&(file, bad)| {
            if bad {
                return Err(Vec::new());
            }
            yaml::parse(file, sources.text(file))
        })
        .collect();

    for name in district_names {
        if !read.iter().any(|f| f.is_district && f.district == name) {
            loaded.diagnostics.push(
                Diagnostic::error(
                    "missing-district-file",
                    format!("district `{name}` has no `{DISTRICT_FILE}`"),
                )
                .help(format!(
                    "create `instances/{name}/{DISTRICT_FILE}` with the district's region, network, cluster and endpoints"
                )),
            );
        }
        loaded.districts.push(LoadedDistrict {
            name,
            district: None,
            instances: Vec::new(),
        });
    }
    for ((f, (file, _)), result) in read.iter().zip(&texts).zip(parsed) {
        let root = match result {
            Ok(root) => root,
            Err(diagnostics) => {
                loaded.diagnostics.extend(diagnostics);
                continue;
            }
        };
        let Some(district) = loaded.districts.iter_mut().find(|d| d.name == f.district) else {
            continue;
        };
        let loaded_file = LoadedFile {
            file: *file,
            stem: f.stem.clone(),
            root,
        };
        if f.is_district {
            district.district = Some(loaded_file);
        } else {
            district.instances.push(loaded_file);
        }
    }
    Ok(loaded)
}
