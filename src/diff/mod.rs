//! Diff: what a change does to the artifacts of `out/`, as data.
//!
//! Two sets of files are compared — `out/` as it was (on disk or at a git
//! revision) and as it will be (rendered in memory) — at two levels: text
//! hunks per artifact ([`ArtifactChange`]) and, for every CloudFormation
//! stack, the logical resources that are added, removed, updated, replaced or
//! orphaned ([`ResourceChange`]) with the property paths that changed. Which
//! changes replace a resource comes from the CloudFormation resource schemas
//! ([`table`]). Only artifacts whose text differs are looked at, so the work
//! grows with the change, not with the fleet.
//!
//! This module decides and describes; [`render`] prints. It reads nothing
//! from disk and runs nothing: the caller hands it both sets of files.

pub mod artifact;
pub mod exports;
pub mod render;
pub mod resource;
pub mod security;
pub mod summary;
pub mod table;
pub mod template;
pub mod terraform;
pub mod value;

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::Serialize;

pub use artifact::{ArtifactChange, FileStatus, Hunk, Line, LineKind};
pub use resource::{Action, Failure, Impact, PropertyChange, Replacement, ResourceChange};

use crate::emit::MANIFEST;

/// The files of an `out/` tree, keyed by path relative to `out/`.
pub type Files = BTreeMap<String, String>;

/// Everything that differs between two `out/` trees.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    /// Changed CloudFormation stacks with their resource changes, by path.
    pub stacks: Vec<StackChange>,
    /// Every artifact that was added, removed or changed, by path.
    pub artifacts: Vec<ArtifactChange>,
    /// Changes that widen access, by path.
    pub security: Vec<security::SecurityChange>,
    /// The change in the reviewer's terms, from the models of both sides:
    /// set by the caller, who has them ([`summary::summarize`]).
    #[serde(skip)]
    pub summary: summary::Summary,
    /// Resources CloudFormation's drift detection found changed or deleted
    /// outside CloudFormation (`diff --deployed --resources`): set by the
    /// caller, who asked AWS.
    pub drift: Vec<ResourceDrift>,
    /// The monthly cost change, from estimates of both sides: set by the
    /// caller, who has the regions ([`crate::cost::change::change`]).
    #[serde(skip)]
    pub cost: Option<crate::cost::change::CostChange>,
}

/// A resource whose live configuration differs from its stack's template:
/// what `describe-stack-resource-drifts` reports. An apply does not undo
/// it unless the template's value for it changes.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceDrift {
    pub stack: String,
    pub logical_id: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    /// `MODIFIED` or `DELETED`.
    pub status: String,
    pub differences: Vec<DriftDifference>,
}

/// One property of a drifted resource: the template's value and the live one.
#[derive(Debug, Clone, Serialize)]
pub struct DriftDifference {
    /// A JSON pointer into the resource's properties, e.g. `/BackupRetentionPeriod`.
    pub path: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// `ADD`, `REMOVE` or `NOT_EQUAL`.
    pub kind: String,
}

impl ResourceDrift {
    /// `Database AWS::RDS::DBInstance in blog-lokka-data: MODIFIED`, then one
    /// line per property.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "{} {} in {}: {}",
            self.logical_id,
            self.resource_type,
            self.stack,
            self.status.to_lowercase()
        )];
        for d in &self.differences {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
            lines.push(format!(
                "{}: template {}, live {}",
                d.path.trim_start_matches('/').replace('/', "."),
                show(&d.expected),
                show(&d.actual)
            ));
        }
        lines
    }
}

/// What deploys an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    CloudFormation,
    Terraform,
}

/// One CloudFormation template (`*.cfn.json`) whose text changed, or one
/// Terraform configuration file (`*.tf.json`) whose resources change.
#[derive(Debug, Clone, Serialize)]
pub struct StackChange {
    /// Path under `out/`.
    pub path: String,
    pub target: Target,
    /// The stack's name, from the manifest.
    pub stack: Option<String>,
    pub status: FileStatus,
    /// Resource changes: removed, orphaned, added, replaced, updated, revisions.
    pub resources: Vec<ResourceChange>,
    /// Why resource changes could not be worked out (a side is not a template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// A stateful resource that a change replaces or deletes, with its stack.
#[derive(Debug, Clone, Copy)]
pub struct AtRisk<'a> {
    pub stack: &'a StackChange,
    pub resource: &'a ResourceChange,
}

/// Resource counts of one stack or of the whole diff.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub added: usize,
    pub updated: usize,
    pub replaced: usize,
    pub removed: usize,
    pub orphaned: usize,
    /// New revisions of immutable resources (task definitions); also counted in `updated`.
    pub revisions: usize,
}

impl Counts {
    fn add(&mut self, resource: &ResourceChange) {
        // An output is not a resource; it shows where it will fail.
        if resource.resource_type == exports::OUTPUT {
            return;
        }
        self.add_action(resource.action);
    }

    fn add_action(&mut self, action: Action) {
        match action {
            Action::Add => self.added += 1,
            Action::Update => self.updated += 1,
            Action::Revision => {
                self.updated += 1;
                self.revisions += 1;
            }
            Action::Replace => self.replaced += 1,
            Action::Remove => self.removed += 1,
            Action::Orphan => self.orphaned += 1,
        }
    }

    #[must_use]
    pub fn total(&self) -> usize {
        self.added + self.updated + self.replaced + self.removed + self.orphaned
    }
}

impl StackChange {
    #[must_use]
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for r in &self.resources {
            counts.add(r);
        }
        counts
    }

    /// The stack's name, or its path when the manifest does not name it.
    #[must_use]
    pub fn name(&self) -> &str {
        self.stack.as_deref().unwrap_or(&self.path)
    }
}

impl Diff {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.artifacts.is_empty() && self.drift.is_empty()
    }

    /// The most destructive impact of any resource change.
    #[must_use]
    pub fn worst(&self) -> Option<Impact> {
        self.stacks
            .iter()
            .flat_map(|s| &s.resources)
            .map(|r| r.impact)
            .max()
    }

    /// Stateful resources replaced or deleted, in stack order.
    pub fn at_risk(&self) -> impl Iterator<Item = AtRisk<'_>> {
        self.with_impact(Impact::DataLoss)
    }

    /// Changes CloudFormation refuses, in stack order.
    pub fn will_fail(&self) -> impl Iterator<Item = AtRisk<'_>> {
        self.with_impact(Impact::WillFail)
    }

    fn with_impact(&self, impact: Impact) -> impl Iterator<Item = AtRisk<'_>> {
        self.stacks.iter().flat_map(move |stack| {
            stack
                .resources
                .iter()
                .filter(move |r| r.impact == impact)
                .map(move |resource| AtRisk { stack, resource })
        })
    }

    /// Resource counts over every stack.
    #[must_use]
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for r in self.stacks.iter().flat_map(|s| &s.resources) {
            counts.add(r);
        }
        counts
    }

    /// How many artifacts were added, removed and changed.
    #[must_use]
    pub fn artifact_counts(&self) -> (usize, usize, usize) {
        let count = |status| self.artifacts.iter().filter(|a| a.status == status).count();
        (
            count(FileStatus::Added),
            count(FileStatus::Removed),
            count(FileStatus::Changed),
        )
    }
}

/// Whether a path is a CloudFormation template.
#[must_use]
pub fn is_template(path: &str) -> bool {
    path.ends_with(".cfn.json")
}

/// Whether a path is a Terraform configuration file.
#[must_use]
pub fn is_terraform(path: &str) -> bool {
    path.ends_with(".tf.json")
}

/// The directory of a path: a Terraform module.
fn module_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The Terraform files of one module directory on one side.
fn module_files<'a>(files: &'a Files, module: &str) -> Vec<(&'a str, &'a str)> {
    files
        .iter()
        .filter(|(p, _)| is_terraform(p) && module_of(p) == module)
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect()
}

/// Compares two `out/` trees. `manifest.json` is left out: it changes exactly
/// when an artifact does, and its stack names label the stacks.
#[must_use]
pub fn diff(before: &Files, after: &Files) -> Diff {
    let paths: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let changed: Vec<(&str, Option<&str>, Option<&str>)> = paths
        .into_iter()
        .filter(|p| p.as_str() != MANIFEST)
        .filter_map(|p| {
            let (b, a) = (before.get(p), after.get(p));
            (b != a).then(|| (p.as_str(), b.map(String::as_str), a.map(String::as_str)))
        })
        .collect();
    if changed.is_empty() {
        return Diff::default();
    }
    let names = stack_names(before, after);
    let table = table::Table::builtin();
    let results: Vec<(
        ArtifactChange,
        Option<StackChange>,
        Vec<security::SecurityChange>,
    )> = changed
        .par_iter()
        .map(|&(path, b, a)| {
            let artifact = ArtifactChange::new(path, b, a);
            let widened = if is_template(path) {
                let stack = names.get(path).map_or(path, String::as_str);
                security::of_template(path, stack, b, a)
            } else {
                Vec::new()
            };
            let stack = is_template(path).then(|| {
                let (resources, unreadable) = template::compare(b, a, table);
                StackChange {
                    path: path.to_owned(),
                    target: Target::CloudFormation,
                    stack: names.get(path).cloned(),
                    status: artifact.status,
                    resources,
                    unreadable,
                }
            });
            (artifact, stack, widened)
        })
        .collect();
    let mut diff = Diff::default();
    let mut stacks = Vec::new();
    for (artifact, stack, widened) in results {
        diff.artifacts.push(artifact);
        stacks.extend(stack);
        diff.security.extend(widened);
    }
    exports::flag(&mut stacks, before, after, &names);
    diff.stacks = stacks
        .into_iter()
        .filter(|s| !s.resources.is_empty() || s.unreadable.is_some())
        .collect();
    let (stacks, widened) = terraform_changes(before, after, &changed);
    diff.stacks.extend(stacks);
    diff.stacks.sort_by(|a, b| a.path.cmp(&b.path));
    diff.security.extend(widened);
    diff.security
        .sort_by(|a, b| (&a.path, &a.resource).cmp(&(&b.path, &b.resource)));
    diff
}

/// The resource changes of every Terraform module with a changed file: the
/// whole module is compared, since its files read each other's resources.
fn terraform_changes(
    before: &Files,
    after: &Files,
    changed: &[(&str, Option<&str>, Option<&str>)],
) -> (Vec<StackChange>, Vec<security::SecurityChange>) {
    let modules: BTreeSet<&str> = changed
        .iter()
        .filter(|(p, ..)| is_terraform(p))
        .map(|(p, ..)| module_of(p))
        .collect();
    let table = terraform::ForceNew::builtin();
    let per_module: Vec<(Vec<StackChange>, Vec<security::SecurityChange>)> = modules
        .par_iter()
        .map(|module| {
            let (b, a) = (module_files(before, module), module_files(after, module));
            let widened = security::of_module(&b, &a);
            let stacks = terraform::compare_module(&b, &a, table)
                .into_iter()
                .filter(|(_, (resources, unreadable))| {
                    !resources.is_empty() || unreadable.is_some()
                })
                .map(|(path, (resources, unreadable))| StackChange {
                    status: match (before.contains_key(&path), after.contains_key(&path)) {
                        (false, true) => FileStatus::Added,
                        (true, false) => FileStatus::Removed,
                        _ => FileStatus::Changed,
                    },
                    path,
                    target: Target::Terraform,
                    stack: None,
                    resources,
                    unreadable,
                })
                .collect();
            (stacks, widened)
        })
        .collect();
    let mut stacks = Vec::new();
    let mut widened = Vec::new();
    for (s, w) in per_module {
        stacks.extend(s);
        widened.extend(w);
    }
    (stacks, widened)
}

/// Stack names by artifact path, from both manifests (the newer one wins).
fn stack_names(before: &Files, after: &Files) -> BTreeMap<String, String> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        artifacts: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        path: String,
        stack: Option<String>,
    }
    let mut names = BTreeMap::new();
    for files in [before, after] {
        let Some(text) = files.get(MANIFEST) else {
            continue;
        };
        if let Ok(manifest) = serde_json::from_str::<Manifest>(text) {
            for entry in manifest.artifacts {
                if let Some(stack) = entry.stack {
                    names.insert(entry.path, stack);
                }
            }
        }
    }
    names
}
