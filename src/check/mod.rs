//! Check: the loaded files against the schemas, then berth's own rules.
//!
//! Per file: JSON Schema validation, deserialization into the types of
//! [`crate::schema`], and the rules in [`rules`]. Across files: the rules in
//! [`fleet`]. All problems are collected; nothing stops at the first one. This
//! stage reads the input as written and applies no defaults (that is `model`).

pub mod fleet;
pub mod rules;
pub mod schedule;
pub mod schema;

use rayon::prelude::*;
use serde::de::DeserializeOwned;

use crate::diagnostic::{Diagnostic, FileId, Span};
use crate::load::yaml::Value;
use crate::load::{Loaded, LoadedFile, Node};
use crate::schema::{DistrictFile, InstanceFile, SchemaKind};
pub use schema::Validators;

/// A file that passed its schema, with the tree it was read from (for locations).
#[derive(Debug, Clone)]
pub struct Checked<T> {
    pub file: FileId,
    pub stem: String,
    pub root: Node,
    pub spec: T,
}

impl<T> Checked<T> {
    /// The span of the value or key at a JSON pointer inside this file.
    #[must_use]
    pub fn at(&self, pointer: &str) -> Span {
        self.root.locate(pointer)
    }
}

/// A district whose files passed their schemas.
#[derive(Debug, Clone)]
pub struct CheckedDistrict {
    pub name: String,
    pub district: Option<Checked<DistrictFile>>,
    pub instances: Vec<Checked<InstanceFile>>,
}

/// The fleet as written, checked.
#[derive(Debug, Clone, Default)]
pub struct CheckedFleet {
    pub districts: Vec<CheckedDistrict>,
}

/// Checks every loaded file and the fleet as a whole.
#[must_use]
pub fn check(loaded: &Loaded, validators: &Validators) -> (CheckedFleet, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut fleet = CheckedFleet::default();
    for district in &loaded.districts {
        let (district_file, mut found) = match &district.district {
            Some(file) => {
                let (checked, found) =
                    validate::<DistrictFile>(validators, SchemaKind::District, file);
                (checked, found)
            }
            None => (None, Vec::new()),
        };
        let results: Vec<_> = district
            .instances
            .par_iter()
            .map(|file| {
                let (checked, mut found) =
                    validate::<InstanceFile>(validators, SchemaKind::Instance, file);
                if let Some(instance) = &checked {
                    found.extend(rules::check_instance(
                        instance,
                        loaded.sources.text(file.file),
                    ));
                }
                (checked, found)
            })
            .collect();
        let mut instances = Vec::new();
        for (checked, found_here) in results {
            found.extend(found_here);
            instances.extend(checked);
        }
        if let Some(d) = &district_file {
            found.extend(rules::check_district(d, &district.name));
        }
        diagnostics.extend(found);
        fleet.districts.push(CheckedDistrict {
            name: district.name.clone(),
            district: district_file,
            instances,
        });
    }
    diagnostics.extend(fleet::check_fleet(&fleet));
    (fleet, diagnostics)
}

/// Template holders: top-level keys of an instance file whose value carries an anchor.
fn without_template_holders(root: &Node) -> Node {
    let mut root = root.clone();
    if let Value::Map(entries) = &mut root.value {
        entries.retain(|e| !(e.value.anchored && e.key != "environments"));
    }
    root
}

fn validate<T: DeserializeOwned>(
    validators: &Validators,
    kind: SchemaKind,
    file: &LoadedFile,
) -> (Option<Checked<T>>, Vec<Diagnostic>) {
    let root = match kind {
        SchemaKind::Instance => without_template_holders(&file.root),
        SchemaKind::District => file.root.clone(),
    };
    let json = root.to_json();
    let diagnostics = validators.validate(kind, &root, &json);
    if !diagnostics.is_empty() {
        return (None, diagnostics);
    }
    match serde_json::from_value::<T>(json) {
        Ok(spec) => (
            Some(Checked {
                file: file.file,
                stem: file.stem.clone(),
                root,
                spec,
            }),
            Vec::new(),
        ),
        // The schema is generated from the same types, so this is a bug in berth.
        Err(error) => (
            None,
            vec![
                Diagnostic::error(
                    "internal",
                    format!("berth could not read a file its schema accepts: {error}"),
                )
                .at(file.root.span.clone(), "in this file")
                .help("this is a bug in berth; please report it with the file"),
            ],
        ),
    }
}
