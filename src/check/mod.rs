//! Check: the loaded files against the schemas, then berth's own rules.
//!
//! Per file: JSON Schema validation, deserialization into the types of
//! [`crate::schema`], and the rules in [`rules`]. Across files: the rules in
//! [`fleet`]. All problems are collected; nothing stops at the first one. This
//! stage reads the input as written and applies no defaults (that is `model`).

pub mod aws;
pub mod barcelona;
pub mod dns;
pub mod fleet;
pub mod off_hours;
pub mod pages;
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
use schema::{Repair, Shadow};

/// A file that passed its schema, with the tree it was read from (for locations).
#[derive(Debug, Clone)]
pub struct Checked<T> {
    pub file: FileId,
    pub stem: String,
    pub root: Node,
    pub spec: T,
    /// Where berth's rules are not heard: the parts of the file next to a
    /// value the schema refused (see [`Repair::Remove`]).
    pub shadowed: Vec<Span>,
}

impl<T> Checked<T> {
    /// The span of the value or key at a JSON pointer inside this file.
    #[must_use]
    pub fn at(&self, pointer: &str) -> Span {
        self.root.locate(pointer)
    }
}

/// Drops the findings of berth's rules that lie in shadowed parts of files.
fn heard(diagnostics: Vec<Diagnostic>, shadowed: &[&Span]) -> Vec<Diagnostic> {
    let covered = |span: &Span| {
        shadowed.iter().any(|s| {
            s.file == span.file
                && (s.range == span.range
                    || (s.range.start <= span.range.start && span.range.end <= s.range.end))
        })
    };
    diagnostics
        .into_iter()
        .filter(|d| d.span.as_ref().is_none_or(|span| !covered(span)))
        .collect()
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
    /// The maintenance pages that `schedule.page` names (see [`pages`]).
    pub pages: pages::Pages,
}

/// Checks every loaded file and the fleet as a whole.
#[must_use]
pub fn check(loaded: &Loaded, validators: &Validators) -> (CheckedFleet, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut fleet = CheckedFleet::default();
    for district in &loaded.districts {
        diagnostics.extend(rules::check_district_name(&district.name));
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
                    let mut rules = rules::check_instance(instance, loaded.sources.text(file.file));
                    rules.extend(barcelona::check(instance));
                    found.extend(heard(rules, &instance.shadowed.iter().collect::<Vec<_>>()));
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
            let shadowed: Vec<_> = d.shadowed.iter().collect();
            found.extend(heard(
                rules::check_district(d, &district.name, loaded.sources.text(d.file)),
                &shadowed,
            ));
            found.extend(heard(dns::check_district(d), &shadowed));
        }
        diagnostics.extend(found);
        fleet.districts.push(CheckedDistrict {
            name: district.name.clone(),
            district: district_file,
            instances,
        });
    }
    let shadowed: Vec<&Span> = fleet
        .districts
        .iter()
        .flat_map(|d| {
            let instances = d.instances.iter().flat_map(|i| &i.shadowed);
            d.district.iter().flat_map(|f| &f.shadowed).chain(instances)
        })
        .collect();
    diagnostics.extend(heard(fleet::check_fleet(&fleet), &shadowed));
    diagnostics.extend(heard(aws::check_fleet(&fleet), &shadowed));
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

/// A key written with no value (`before_deploy:`) means the key is absent,
/// as it does to Barcelona, which reads the file into Ruby hashes.
fn without_empty_keys(node: &mut Node) {
    match &mut node.value {
        Value::Map(entries) => {
            entries.retain(|e| !matches!(e.value.value, Value::Null));
            for entry in entries {
                without_empty_keys(&mut entry.value);
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(without_empty_keys),
        _ => {}
    }
}

/// How many times the tree is mended and validated again at most: each
/// round removes at least one value, and the tree is shallow.
const REPAIR_ROUNDS: usize = 16;

/// Validates a file against its schema and reads it into `T`.
///
/// Schema errors do not stop the check: the values they are about are left
/// out and the rest is validated again, until what is left passes, so
/// berth's own rules still see every part of the file the schema accepted
/// and one run reports every problem. Only the first round's findings are
/// reported; what later rounds find follows from the removals.
fn validate<T: DeserializeOwned>(
    validators: &Validators,
    kind: SchemaKind,
    file: &LoadedFile,
) -> (Option<Checked<T>>, Vec<Diagnostic>) {
    let mut root = match kind {
        SchemaKind::Instance => {
            let mut root = without_template_holders(&file.root);
            without_empty_keys(&mut root);
            root
        }
        SchemaKind::District => file.root.clone(),
    };
    let mut diagnostics = Vec::new();
    let mut shadowed = Vec::new();
    let mut json = root.to_json();
    validators.integers(kind, &mut json);
    for round in 0..REPAIR_ROUNDS {
        let findings = validators.validate(kind, &root, &json);
        if findings.is_empty() {
            return match serde_json::from_value::<T>(json) {
                Ok(spec) => (
                    Some(Checked {
                        file: file.file,
                        stem: file.stem.clone(),
                        root,
                        spec,
                        shadowed,
                    }),
                    diagnostics,
                ),
                // The schema is generated from the same types, so this is a bug in berth.
                Err(error) => {
                    diagnostics.push(
                        Diagnostic::error(
                            "internal",
                            format!("berth could not read a file its schema accepts: {error}"),
                        )
                        .at(file.root.span.clone(), "in this file")
                        .help("this is a bug in berth; please report it with the file"),
                    );
                    (None, diagnostics)
                }
            };
        }
        let mut removals = Vec::new();
        for finding in findings {
            match finding.repair {
                Repair::Boolean(pointer, value) => {
                    if let Some(node) = root.at_mut(&pointer) {
                        node.value = Value::Bool(value);
                    }
                }
                Repair::Remove { pointer, shadow } => {
                    let covered = match shadow {
                        Shadow::None => None,
                        Shadow::Parent => pointer.rsplit_once('/').map(|(parent, _)| parent),
                        Shadow::Itself => Some(pointer.as_str()),
                    };
                    if let Some(node) = covered.and_then(|p| root.at_mut(p)) {
                        node.spans(&mut shadowed);
                    }
                    removals.push(pointer);
                }
            }
            if round == 0 {
                diagnostics.push(finding.diagnostic);
            }
        }
        // Later list items first, so earlier indexes stay valid.
        removals.sort_by_cached_key(|p| pointer_key(p));
        let mut removed = false;
        for pointer in removals.iter().rev() {
            removed |= root.remove_at(pointer);
        }
        if !removals.is_empty() && !removed {
            break;
        }
        json = root.to_json();
        validators.integers(kind, &mut json);
    }
    if !diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.push(
            Diagnostic::error("internal", "berth could not make sense of this file")
                .at(file.root.span.clone(), "in this file")
                .help("this is a bug in berth; please report it with the file"),
        );
    }
    (None, diagnostics)
}

/// A pointer's segments, list indexes compared as numbers.
fn pointer_key(pointer: &str) -> Vec<(u8, usize, String)> {
    pointer
        .split('/')
        .map(|s| match s.parse::<usize>() {
            Ok(i) => (0, i, String::new()),
            Err(_) => (1, 0, s.to_owned()),
        })
        .collect()
}
