//! Load: find the fleet's files under `instances/` and read each into a [`Node`] tree.
//!
//! `instances/<district>/district.yml` describes a district; every other
//! `*.yml`/`*.yaml` file in the district's folder is one instance. Files are
//! read in a sorted order and parsed in parallel. This stage knows YAML, not
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
    #[error("no `instances/` folder in `{0}`: run berth in a fleet repository or pass `--root`")]
    NoInstances(PathBuf),
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

struct FoundFile {
    district: String,
    path: PathBuf,
    shown: String,
    stem: String,
    is_district: bool,
}

/// Reads every district and instance file under `root/instances`.
pub fn load(root: &Path) -> Result<Loaded, LoadError> {
    let instances = root.join("instances");
    if !instances.is_dir() {
        return Err(LoadError::NoInstances(root.to_path_buf()));
    }
    let mut loaded = Loaded::default();
    let mut found = Vec::new();
    let mut district_names = Vec::new();
    let walk = WalkDir::new(&instances)
        .min_depth(1)
        .max_depth(2)
        .sort_by_file_name();
    for entry in walk {
        let entry = entry.map_err(|e| LoadError::Io {
            path: e
                .path()
                .map_or_else(|| instances.clone(), Path::to_path_buf),
            source: e.into(),
        })?;
        let path = entry.path();
        let relative = path.strip_prefix(root).unwrap_or(path);
        let shown = relative.to_string_lossy().replace('\\', "/");
        if entry.file_type().is_dir() {
            district_names.push(entry.file_name().to_string_lossy().into_owned());
            continue;
        }
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        );
        if entry.depth() != 2 || !is_yaml {
            continue;
        }
        let district = path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file_name = entry.file_name().to_string_lossy();
        found.push(FoundFile {
            district,
            path: path.to_path_buf(),
            shown,
            stem: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            is_district: file_name == DISTRICT_FILE || file_name == "district.yaml",
        });
    }

    let mut texts = Vec::with_capacity(found.len());
    for f in &found {
        let bytes = std::fs::read(&f.path).map_err(|source| LoadError::Io {
            path: f.path.clone(),
            source,
        })?;
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
        if !found.iter().any(|f| f.is_district && f.district == name) {
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
    for ((f, (file, _)), result) in found.iter().zip(&texts).zip(parsed) {
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
