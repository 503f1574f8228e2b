//! Compares two versions of one Terraform module — the `*.tf.json` files of
//! one directory of `out/` — resource address by resource address, the way
//! `terraform plan` will: with the same [`ResourceChange`] model as the
//! CloudFormation stacks, so the printers and `--fail-on` treat both alike.
//!
//! A resource is replaced when an argument the provider marks `ForceNew`
//! (from [`ForceNew`], `force_new.json`) gets another value. A replaced
//! resource gets new attributes (`id`, `arn`), so every `${…}` that reads it
//! changes too, and so does every `local.`, `var.` default or `data.` source
//! whose definition changes: that updates the resources reading them, or
//! replaces them when the reference sits in a `ForceNew` argument. An
//! `ephemeral.` value is not part of a plan and is only read by write-only
//! arguments, which Terraform does not compare: following it changes nothing.
//!
//! Terraform's own refusals are failures, as CloudFormation's are:
//! `lifecycle.prevent_destroy` on a resource the plan would destroy (Terraform
//! stops the plan: "Instance cannot be destroyed"), and AWS's
//! `deletion_protection` on one it deletes.
//! <https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle#prevent_destroy>
//! — the setting guards only while the block is in the configuration:
//! removing the block destroys the resource.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::resource::{
    Action, Failure, PropertyChange, Replacement, ResourceChange, UPDATED_ATTRIBUTES,
};
use super::value::{self, Leaf, Path, Segment};

/// The committed `ForceNew` table.
pub const FORCE_NEW_JSON: &str = include_str!("force_new.json");

/// Resource types whose replacement or deletion loses data: the Terraform
/// names of [`super::resource::STATEFUL`] (the mapping of `tests/parity.rs`),
/// and the secret's version, which holds its value.
pub const STATEFUL: &[&str] = &[
    "aws_db_instance",
    "aws_dynamodb_table",
    "aws_ecr_repository",
    "aws_efs_file_system",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_elasticache_serverless_cache",
    "aws_rds_cluster",
    "aws_s3_bucket",
    "aws_secretsmanager_secret",
    "aws_secretsmanager_secret_version",
];

/// Types that change by new revision, never in place (as
/// [`super::resource::REVISIONED`]): a task definition is registered anew.
pub const REVISIONED: &[&str] = &["aws_ecs_task_definition"];

/// Arguments whose change makes the provider write a stateful resource's
/// value anew: a new `secret_string_wo_version` stores the write-only value
/// of this run, here a new random password.
pub const REGENERATES: &[(&str, &str)] = &[(
    "aws_secretsmanager_secret_version",
    "secret_string_wo_version",
)];

/// Meta-arguments: their changes never replace anything.
const META: &[&str] = &["lifecycle", "depends_on", "provider", "count", "for_each"];

/// The `ForceNew` arguments by resource type.
#[derive(Debug, Default)]
pub struct ForceNew {
    types: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct Document {
    types: BTreeMap<String, Row>,
}

#[derive(Deserialize)]
struct Row {
    force_new: Vec<String>,
    #[allow(dead_code, reason = "documentation for the reader of the file")]
    source: String,
}

static BUILTIN: LazyLock<ForceNew> =
    LazyLock::new(|| ForceNew::parse(FORCE_NEW_JSON).expect("the committed table parses"));

impl ForceNew {
    /// The table built into berth.
    #[must_use]
    pub fn builtin() -> &'static Self {
        &BUILTIN
    }

    /// Reads a table in the format of `force_new.json`.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        let document: Document = serde_json::from_str(text)?;
        Ok(Self {
            types: document
                .types
                .into_iter()
                .map(|(t, row)| (t, row.force_new))
                .collect(),
        })
    }

    /// The `ForceNew` arguments of a type, if the table knows it.
    #[must_use]
    pub fn get(&self, resource_type: &str) -> Option<&[String]> {
        self.types.get(resource_type).map(Vec::as_slice)
    }
}

/// Whether resources of a Terraform type hold data.
#[must_use]
pub fn is_stateful(resource_type: &str) -> bool {
    STATEFUL.contains(&resource_type)
}

/// One side of a module: its resources by address with the file that holds
/// them, and its named values (`local.x`, `var.x`, `data.t.n`).
#[derive(Default)]
struct Module {
    resources: BTreeMap<String, (String, Value)>,
    names: BTreeMap<String, Value>,
}

impl Module {
    fn read(files: &[(&str, &str)], side: &str, errors: &mut BTreeMap<String, String>) -> Self {
        let mut module = Self::default();
        for (path, text) in files {
            let document = match serde_json::from_str::<Value>(text) {
                Ok(value) if value.is_object() => value,
                Ok(_) => {
                    errors.insert(
                        (*path).to_owned(),
                        format!("the {side} version is not a JSON object"),
                    );
                    continue;
                }
                Err(e) => {
                    errors.insert(
                        (*path).to_owned(),
                        format!("the {side} version is not valid JSON: {e}"),
                    );
                    continue;
                }
            };
            for (kind, by_name) in section(&document, "resource") {
                for (name, body) in object(by_name) {
                    module
                        .resources
                        .insert(format!("{kind}.{name}"), ((*path).to_owned(), body.clone()));
                }
            }
            for (kind, by_name) in section(&document, "data") {
                for (name, body) in object(by_name) {
                    module
                        .names
                        .insert(format!("data.{kind}.{name}"), body.clone());
                }
            }
            for (name, value) in section(&document, "locals") {
                module.names.insert(format!("local.{name}"), value.clone());
            }
            for (name, definition) in section(&document, "variable") {
                let default = definition.get("default").cloned().unwrap_or(Value::Null);
                module.names.insert(format!("var.{name}"), default);
            }
        }
        module
    }
}

fn section<'a>(document: &'a Value, name: &str) -> &'a Map<String, Value> {
    object(document.get(name).unwrap_or(&Value::Null))
}

fn object(value: &Value) -> &Map<String, Value> {
    static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);
    value.as_object().unwrap_or(&EMPTY)
}

/// `aws_db_instance.this` → `aws_db_instance`.
fn type_of(address: &str) -> &str {
    address.split('.').next().unwrap_or(address)
}

/// The names a Terraform expression string reads: `aws_x.name` (an address),
/// `local.x`, `var.x`, `data.t.n`; `ephemeral.`, `path.`, `each.` and
/// functions are left out. Only text inside `${…}` is an expression.
fn names_in_text(text: &str, names: &mut BTreeSet<String>) {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let end = rest.find('}').unwrap_or(rest.len());
        let inner = &rest[..end];
        rest = &rest[end.min(rest.len())..];
        for word in
            inner.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        {
            let parts: Vec<&str> = word.split('.').collect();
            let name = match parts.as_slice() {
                ["local" | "var", n, ..] => format!("{}.{n}", parts[0]),
                ["data", t, n, ..] => format!("data.{t}.{n}"),
                [t, n, ..] if t.contains('_') && !n.is_empty() => {
                    // The attribute too, for attributes an update changes.
                    if let Some(attribute) = parts.get(2) {
                        names.insert(format!("{t}.{n}.{attribute}"));
                    }
                    format!("{t}.{n}")
                }
                _ => continue,
            };
            names.insert(name);
        }
    }
}

fn names_in(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => names_in_text(s, names),
        Value::Array(items) => items.iter().for_each(|v| names_in(v, names)),
        Value::Object(map) => map.values().for_each(|v| names_in(v, names)),
        _ => {}
    }
}

/// Every string of `value` that reads a name, keyed by its path.
fn references(value: &Value, path: &mut Path, out: &mut Vec<(Path, BTreeSet<String>)>) {
    match value {
        Value::String(s) => {
            let mut names = BTreeSet::new();
            names_in_text(s, &mut names);
            if !names.is_empty() {
                out.push((path.clone(), names));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Segment::Index(i));
                references(v, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                path.push(Segment::Key(k.clone()));
                references(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A changed value while it is being worked out, with the name it follows.
type DraftLeaf = (Path, Option<Value>, Option<Value>, Option<String>);

struct Draft<'a> {
    address: &'a str,
    file: &'a str,
    before: Option<&'a Value>,
    after: Option<&'a Value>,
    leaves: Vec<DraftLeaf>,
    /// `ForceNew` arguments whose value changes.
    replace: Vec<String>,
}

/// The top-level argument of a path, unless it is a meta-argument.
fn argument(path: &[Segment]) -> Option<&str> {
    match path.first() {
        Some(Segment::Key(k)) if !META.contains(&k.as_str()) => Some(k),
        _ => None,
    }
}

/// The resource changes of one module, per file: every file of both sides
/// gets an entry (empty when nothing in it changes), with why its changes
/// cannot be worked out when a side is not a configuration.
#[must_use]
pub fn compare_module(
    before: &[(&str, &str)],
    after: &[(&str, &str)],
    table: &ForceNew,
) -> BTreeMap<String, (Vec<ResourceChange>, Option<String>)> {
    let mut errors = BTreeMap::new();
    let mb = Module::read(before, "old", &mut errors);
    let ma = Module::read(after, "new", &mut errors);
    let mut drafts: BTreeMap<&str, Draft<'_>> = BTreeMap::new();
    let addresses: BTreeSet<&String> = mb.resources.keys().chain(ma.resources.keys()).collect();
    for address in addresses {
        let b = mb.resources.get(address);
        let a = ma.resources.get(address);
        let file = a.or(b).map_or("", |(f, _)| f.as_str());
        let mut draft = Draft {
            address,
            file,
            before: b.map(|(_, v)| v),
            after: a.map(|(_, v)| v),
            leaves: Vec::new(),
            replace: Vec::new(),
        };
        if let (Some(b), Some(a)) = (draft.before, draft.after) {
            let mut leaves: Vec<Leaf> = Vec::new();
            value::changes(b, a, &mut Vec::new(), &mut leaves);
            let force_new = table.get(type_of(address)).unwrap_or_default();
            for (path, ..) in &leaves {
                if let Some(arg) = argument(path)
                    && force_new.iter().any(|f| f == arg)
                    && !draft.replace.iter().any(|r| r == arg)
                {
                    draft.replace.push(arg.to_owned());
                }
            }
            draft
                .leaves
                .extend(leaves.into_iter().map(|(p, b, a)| (p, b, a, None)));
        }
        drafts.insert(address, draft);
    }
    propagate(&mut drafts, &mb, &ma, table);
    let mut by_file: BTreeMap<String, (Vec<ResourceChange>, Option<String>)> = before
        .iter()
        .chain(after)
        .map(|(p, _)| ((*p).to_owned(), (Vec::new(), errors.get(*p).cloned())))
        .collect();
    for draft in drafts.values() {
        if let Some(change) = finish(draft, table)
            && let Some((changes, _)) = by_file.get_mut(draft.file)
        {
            changes.push(change);
        }
    }
    for (changes, _) in by_file.values_mut() {
        changes.sort_by(|a, b| {
            (a.action.rank(), &a.logical_id).cmp(&(b.action.rank(), &b.logical_id))
        });
    }
    by_file
}

/// Named values whose definition differs, including those that read a
/// changed name in turn.
fn changed_values(
    before: &Module,
    after: &Module,
    replaced: &BTreeSet<String>,
    updated: &BTreeSet<String>,
) -> BTreeSet<String> {
    let keys: BTreeSet<&String> = before.names.keys().chain(after.names.keys()).collect();
    let mut changed: BTreeSet<String> = keys
        .iter()
        .filter(|k| match (before.names.get(**k), after.names.get(**k)) {
            (Some(b), Some(a)) => !value::same(b, a),
            _ => true,
        })
        .map(|k| (*k).clone())
        .collect();
    changed.extend(replaced.iter().cloned());
    changed.extend(updated.iter().cloned());
    loop {
        let grew: Vec<String> = after
            .names
            .iter()
            .filter(|(k, _)| !changed.contains(*k))
            .filter(|(_, v)| {
                let mut names = BTreeSet::new();
                names_in(v, &mut names);
                names.iter().any(|n| changed.contains(n))
            })
            .map(|(k, _)| k.clone())
            .collect();
        if grew.is_empty() {
            return changed;
        }
        changed.extend(grew);
    }
}

/// Follows replaced resources and changed values into what reads them until
/// nothing more is replaced.
fn propagate(
    drafts: &mut BTreeMap<&str, Draft<'_>>,
    before: &Module,
    after: &Module,
    table: &ForceNew,
) {
    loop {
        let replaced: BTreeSet<String> = drafts
            .values()
            .filter(|d| d.before.is_some() && d.after.is_some() && !d.replace.is_empty())
            .map(|d| d.address.to_owned())
            .collect();
        let changed = changed_values(before, after, &replaced, &updated_attributes(drafts));
        if changed.is_empty() {
            return;
        }
        let mut grew = false;
        for draft in drafts.values_mut() {
            let (Some(_), Some(resource)) = (draft.before, draft.after) else {
                continue;
            };
            if !draft.replace.is_empty() {
                continue;
            }
            let mut refs = Vec::new();
            references(resource, &mut Vec::new(), &mut refs);
            let force_new = table.get(type_of(draft.address)).unwrap_or_default();
            for (path, names) in refs {
                let Some(name) = names.iter().find(|n| changed.contains(*n)) else {
                    continue;
                };
                if draft
                    .leaves
                    .iter()
                    .any(|(p, ..)| p.iter().zip(&path).all(|(x, y)| x == y))
                {
                    continue;
                }
                if let Some(arg) = argument(&path)
                    && force_new.iter().any(|f| f == arg)
                    && !draft.replace.iter().any(|r| r == arg)
                {
                    draft.replace.push(arg.to_owned());
                    grew = true;
                }
                draft.leaves.push((path, None, None, Some(name.clone())));
            }
        }
        let replaced_now: BTreeSet<String> = drafts
            .values()
            .filter(|d| d.before.is_some() && d.after.is_some() && !d.replace.is_empty())
            .map(|d| d.address.to_owned())
            .collect();
        if !grew
            && changed_values(before, after, &replaced_now, &updated_attributes(drafts)) == changed
        {
            return;
        }
    }
}

/// `address.attribute` of the attributes an update in place changes.
fn updated_attributes(drafts: &BTreeMap<&str, Draft<'_>>) -> BTreeSet<String> {
    drafts
        .values()
        .filter(|d| {
            d.before.is_some() && d.after.is_some() && d.replace.is_empty() && !d.leaves.is_empty()
        })
        .flat_map(|d| {
            UPDATED_ATTRIBUTES
                .iter()
                .filter(|(kind, _)| *kind == type_of(d.address))
                .map(|(_, attribute)| format!("{}.{attribute}", d.address))
        })
        .collect()
}

fn is_true(value: Option<&Value>) -> bool {
    value.is_some_and(|v| value::same(v, &Value::Bool(true)))
}

fn finish(draft: &Draft<'_>, table: &ForceNew) -> Option<ResourceChange> {
    let resource_type = type_of(draft.address).to_owned();
    let action = match (draft.before, draft.after) {
        (None, Some(_)) => Action::Add,
        (Some(_), None) => Action::Remove,
        (Some(_), Some(_)) if !draft.replace.is_empty() => {
            if REVISIONED.contains(&resource_type.as_str()) {
                Action::Revision
            } else {
                Action::Replace
            }
        }
        (Some(_), Some(_)) if !draft.leaves.is_empty() => Action::Update,
        _ => return None,
    };
    let stateful = is_stateful(&resource_type);
    let unknown_type =
        draft.before.is_some() && draft.after.is_some() && table.get(&resource_type).is_none();
    let mut leaves: Vec<_> = draft.leaves.iter().collect();
    leaves.sort_by(|a, b| a.0.cmp(&b.0));
    let properties: Vec<PropertyChange> = leaves
        .into_iter()
        .map(|(path, before, after, via)| {
            let arg = argument(path);
            let replacement = match arg {
                Some(arg) if draft.replace.iter().any(|r| r == arg) => Replacement::Always,
                Some(_) if unknown_type => Replacement::Conditional,
                _ => Replacement::Never,
            };
            PropertyChange {
                path: value::display(path),
                before: before.clone(),
                after: after.clone(),
                replacement,
                via: via.clone(),
            }
        })
        .collect();
    let regenerates = action.regenerates(&resource_type, &properties, REGENERATES);
    let fails = failure(draft, action);
    let impact = action.impact_of(stateful, fails.is_some(), regenerates, &properties);
    let mut replace_paths = draft.replace.clone();
    replace_paths.sort();
    Some(ResourceChange {
        logical_id: draft.address.to_owned(),
        before_type: None,
        action,
        impact,
        stateful,
        deletion_policy: None,
        update_replace_policy: None,
        replace_paths,
        properties,
        unknown_type,
        fails,
        regenerates,
        resource_type,
    })
}

/// Why Terraform (or AWS under it) refuses a change: destroying a resource
/// whose configuration keeps `prevent_destroy`, or deleting one with
/// `deletion_protection`.
fn failure(draft: &Draft<'_>, action: Action) -> Option<Failure> {
    let lifecycle = |v: Option<&Value>| v.and_then(|v| v.get("lifecycle")).cloned();
    match action {
        Action::Replace | Action::Revision => {
            if is_true(
                lifecycle(draft.after)
                    .as_ref()
                    .and_then(|l| l.get("prevent_destroy")),
            ) {
                return Some(Failure::PreventDestroy);
            }
            is_true(draft.before.and_then(|b| b.get("deletion_protection")))
                .then_some(Failure::DeletionProtection)
        }
        Action::Remove => is_true(draft.before.and_then(|b| b.get("deletion_protection")))
            .then_some(Failure::DeletionProtection),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diff::Impact;

    fn module(resources: &Value) -> String {
        json!({"resource": resources}).to_string()
    }

    fn changes(before: &str, after: &str) -> Vec<ResourceChange> {
        let result = compare_module(
            &[("d/h/data.tf.json", before)],
            &[("d/h/data.tf.json", after)],
            ForceNew::builtin(),
        );
        result["d/h/data.tf.json"].0.clone()
    }

    fn database(user: &str, class: &str) -> Value {
        json!({"aws_db_instance": {"this": {
            "identifier": "d-h", "username": user, "instance_class": class,
            "engine": "postgres", "deletion_protection": true,
            "lifecycle": {"prevent_destroy": true}
        }}})
    }

    #[test]
    fn a_force_new_argument_replaces_and_prevent_destroy_refuses_it() {
        let found = changes(
            &module(&database("mastodon", "db.t4g.micro")),
            &module(&database("admin", "db.t4g.micro")),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].action, Action::Replace);
        assert_eq!(found[0].replace_paths, ["username"]);
        assert_eq!(found[0].fails, Some(Failure::PreventDestroy));
        assert_eq!(found[0].impact, Impact::WillFail);
        let found = changes(
            &module(&database("mastodon", "db.t4g.micro")),
            &module(&database("mastodon", "db.t4g.small")),
        );
        assert_eq!(
            (found[0].action, found[0].impact),
            (Action::Update, Impact::Update)
        );
    }

    #[test]
    fn removing_the_block_destroys_it_unless_aws_protects_it() {
        let mut unprotected = database("mastodon", "db.t4g.micro");
        unprotected["aws_db_instance"]["this"]["deletion_protection"] = json!(false);
        let found = changes(&module(&unprotected), &module(&json!({})));
        assert_eq!(
            (found[0].action, found[0].impact),
            (Action::Remove, Impact::DataLoss)
        );
        assert_eq!(
            found[0].fails, None,
            "prevent_destroy leaves with the block"
        );
        let found = changes(
            &module(&database("mastodon", "db.t4g.micro")),
            &module(&json!({})),
        );
        assert_eq!(found[0].fails, Some(Failure::DeletionProtection));
    }

    #[test]
    fn prevent_destroy_false_lets_the_plan_replace_it_and_shows_as_an_update() {
        let mut lifted = database("mastodon", "db.t4g.micro");
        lifted["aws_db_instance"]["this"]["lifecycle"]["prevent_destroy"] = json!(false);
        // Lifting it alone changes no argument Terraform sends to AWS, but
        // the lifecycle path shows the guard going.
        let found = changes(
            &module(&database("mastodon", "db.t4g.micro")),
            &module(&lifted),
        );
        assert_eq!(
            (found[0].action, found[0].impact, found[0].fails.clone()),
            (Action::Update, Impact::Update, None)
        );
        assert_eq!(found[0].properties[0].path, "lifecycle.prevent_destroy");
        assert!(found[0].replace_paths.is_empty());
        // With it lifted, a replacement is planned: the data is at risk and
        // only AWS's deletion protection of the old instance can stop it.
        let mut renamed = lifted.clone();
        renamed["aws_db_instance"]["this"]["username"] = json!("admin");
        let found = changes(
            &module(&database("mastodon", "db.t4g.micro")),
            &module(&renamed),
        );
        assert_eq!(found[0].fails, Some(Failure::DeletionProtection));
        let mut unprotected = database("mastodon", "db.t4g.micro");
        unprotected["aws_db_instance"]["this"]["deletion_protection"] = json!(false);
        renamed["aws_db_instance"]["this"]["deletion_protection"] = json!(false);
        let found = changes(&module(&unprotected), &module(&renamed));
        assert_eq!(
            (found[0].action, found[0].impact, found[0].fails.clone()),
            (Action::Replace, Impact::DataLoss, None)
        );
    }

    #[test]
    fn references_follow_locals_and_replacements_but_not_ephemeral_values() {
        let side = |command: &str, port: u16, length: u16| {
            json!({
                "locals": {"container_web": {"command": [command]}},
                "ephemeral": {"aws_secretsmanager_random_password": {"s": {"password_length": length}}},
                "resource": {
                    "aws_ecs_task_definition": {"web": {"family": "h-web", "container_definitions": "${jsonencode([local.container_web])}"}},
                    "aws_lb_target_group": {"web": {"port": port, "protocol": "HTTP"}},
                    "aws_ecs_service": {"web": {"name": "h-web", "task_definition": "${aws_ecs_task_definition.web.arn}",
                        "load_balancer": [{"target_group_arn": "${aws_lb_target_group.web.arn}"}]}},
                    "aws_secretsmanager_secret_version": {"s": {"secret_id": "x",
                        "secret_string_wo": "${ephemeral.aws_secretsmanager_random_password.s.random_password}",
                        "secret_string_wo_version": 1}}
                }
            })
            .to_string()
        };
        let summary = |found: &[ResourceChange]| -> Vec<String> {
            found
                .iter()
                .map(|c| {
                    let paths: Vec<String> = c
                        .properties
                        .iter()
                        .map(|p| {
                            format!(
                                "{}{}",
                                p.path,
                                p.via
                                    .as_ref()
                                    .map(|v| format!(" via {v}"))
                                    .unwrap_or_default()
                            )
                        })
                        .collect();
                    format!("{} {:?} {}", c.logical_id, c.action, paths.join(", "))
                })
                .collect()
        };
        assert_eq!(
            summary(&changes(&side("puma", 80, 64), &side("rails", 80, 64))),
            [
                "aws_ecs_service.web Update task_definition via aws_ecs_task_definition.web",
                "aws_ecs_task_definition.web Revision container_definitions via local.container_web",
            ]
        );
        assert_eq!(
            summary(&changes(&side("puma", 80, 64), &side("puma", 81, 64))),
            [
                "aws_lb_target_group.web Replace port",
                "aws_ecs_service.web Update load_balancer[0].target_group_arn via aws_lb_target_group.web",
            ]
        );
        assert!(changes(&side("puma", 80, 64), &side("puma", 80, 128)).is_empty());
    }

    #[test]
    fn names_in_expressions() {
        let mut names = BTreeSet::new();
        names_in_text(
            "${jsonencode([local.a, var.b])}-${aws_iam_role.x.arn}:${data.aws_region.current.region}${ephemeral.t.n.v}",
            &mut names,
        );
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            [
                "aws_iam_role.x",
                "aws_iam_role.x.arn",
                "data.aws_region.current",
                "local.a",
                "var.b"
            ]
        );
    }

    #[test]
    fn the_table_knows_every_stateful_type_berth_writes() {
        for t in [
            "aws_db_instance",
            "aws_elasticache_replication_group",
            "aws_s3_bucket",
            "aws_ecr_repository",
            "aws_secretsmanager_secret",
            "aws_secretsmanager_secret_version",
        ] {
            assert!(ForceNew::builtin().get(t).is_some(), "{t}");
        }
    }
}
