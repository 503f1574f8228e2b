//! Compares two versions of one CloudFormation template, resource by
//! resource, the way CloudFormation will apply the change.
//!
//! A resource is replaced when its type changes or when a create-only
//! property (from the [`Table`]) gets another value. A replaced resource gets
//! a new physical id, so every property that refers to it (`Ref`,
//! `Fn::GetAtt`, `Fn::Sub`) changes too, even though its text does not: that
//! updates the resources holding the reference, or replaces them when the
//! reference sits in one of their create-only properties. The same goes for
//! a parameter whose definition changes. Removed resources are orphaned
//! instead of deleted when their `DeletionPolicy` keeps them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::resource::{
    Action, Failure, Impact, PropertyChange, REGENERATES, REVISIONED, Replacement, ResourceChange,
    UPDATED_ATTRIBUTES, is_stateful, name_property,
};
use super::table::{SchemaPath, Table};
use super::value::{self, Leaf, Path, Segment};

/// The resource changes between two texts of one template, or why they
/// cannot be worked out. A missing side is an empty template.
#[must_use]
pub fn compare(
    before: Option<&str>,
    after: Option<&str>,
    table: &Table,
) -> (Vec<ResourceChange>, Option<String>) {
    let parse = |text: Option<&str>, side: &str| -> Result<Value, String> {
        let Some(text) = text else {
            return Ok(Value::Object(Map::new()));
        };
        match serde_json::from_str::<Value>(text) {
            Ok(value) if value.is_object() => Ok(value),
            Ok(_) => Err(format!("the {side} version is not a JSON object")),
            Err(e) => Err(format!("the {side} version is not valid JSON: {e}")),
        }
    };
    match (parse(before, "old"), parse(after, "new")) {
        (Ok(b), Ok(a)) => (resources(&b, &a, table), None),
        (Err(e), _) | (_, Err(e)) => (Vec::new(), Some(e)),
    }
}

/// A changed value while it is being worked out: path, before, after, and
/// the name it follows when only a reference changes.
type DraftLeaf = (Path, Option<Value>, Option<Value>, Option<String>);

/// A resource change while it is being worked out.
struct Draft<'a> {
    id: &'a str,
    before: Option<&'a Value>,
    after: Option<&'a Value>,
    leaves: Vec<DraftLeaf>,
    /// Create-only paths whose value changes.
    replace: Vec<SchemaPath>,
    conditional: Vec<SchemaPath>,
    type_changed: bool,
}

fn section<'a>(template: &'a Value, name: &str) -> &'a Map<String, Value> {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    template
        .get(name)
        .and_then(Value::as_object)
        .unwrap_or(&EMPTY)
}

fn resource_type(resource: &Value) -> &str {
    resource.get("Type").and_then(Value::as_str).unwrap_or("")
}

fn properties(resource: &Value) -> &Value {
    static NULL: Value = Value::Null;
    resource.get("Properties").unwrap_or(&NULL)
}

/// The resource without its `Type`: properties and attributes.
fn body(resource: &Value) -> Value {
    let mut body = resource.as_object().cloned().unwrap_or_default();
    body.shift_remove("Type");
    Value::Object(body)
}

/// A path under `Properties`, without that first step.
fn property_path(path: &[Segment]) -> Option<&[Segment]> {
    match path.split_first() {
        Some((Segment::Key(k), rest)) if k == "Properties" => Some(rest),
        _ => None,
    }
}

fn resources(before: &Value, after: &Value, table: &Table) -> Vec<ResourceChange> {
    let (rb, ra) = (section(before, "Resources"), section(after, "Resources"));
    let ids: BTreeSet<&String> = rb.keys().chain(ra.keys()).collect();
    let mut drafts: BTreeMap<&str, Draft<'_>> = BTreeMap::new();
    for id in ids {
        let mut draft = Draft {
            id,
            before: rb.get(id),
            after: ra.get(id),
            leaves: Vec::new(),
            replace: Vec::new(),
            conditional: Vec::new(),
            type_changed: false,
        };
        if let (Some(b), Some(a)) = (draft.before, draft.after) {
            compare_resource(&mut draft, b, a, table);
        }
        drafts.insert(id, draft);
    }
    propagate(&mut drafts, before, after, table);
    let mut changes: Vec<ResourceChange> =
        drafts.values().filter_map(|d| finish(d, table)).collect();
    priority_in_use(&mut changes, rb, ra);
    changes.sort_by(|a, b| (a.action.rank(), &a.logical_id).cmp(&(b.action.rank(), &b.logical_id)));
    changes
}

fn compare_resource(draft: &mut Draft<'_>, before: &Value, after: &Value, table: &Table) {
    let (tb, ta) = (resource_type(before), resource_type(after));
    if tb != ta {
        draft.type_changed = true;
    }
    let mut leaves: Vec<Leaf> = Vec::new();
    value::changes(&body(before), &body(after), &mut Vec::new(), &mut leaves);
    draft
        .leaves
        .extend(leaves.into_iter().map(|(p, b, a)| (p, b, a, None)));
    if let Some(entry) = table.get(ta).filter(|_| tb == ta) {
        let (pb, pa) = (properties(before), properties(after));
        let differs = |path: &SchemaPath| {
            !value::same_selection(&value::select(pb, path), &value::select(pa, path))
        };
        draft.replace = entry
            .create_only
            .iter()
            .filter(|p| differs(p))
            .cloned()
            .collect();
        draft.conditional = entry
            .conditional
            .iter()
            .filter(|p| differs(p))
            .cloned()
            .collect();
    }
}

fn is_replaced(draft: &Draft<'_>) -> bool {
    draft.type_changed || !draft.replace.is_empty()
}

/// Names whose value changes without their text changing: parameters whose
/// definition differs and resources that get a new physical id.
fn changed_names(
    drafts: &BTreeMap<&str, Draft<'_>>,
    before: &Value,
    after: &Value,
) -> BTreeSet<String> {
    let (pb, pa) = (section(before, "Parameters"), section(after, "Parameters"));
    let mut names: BTreeSet<String> = pa
        .iter()
        .filter(|(name, definition)| {
            pb.get(*name)
                .is_some_and(|old| !value::same(old, definition))
        })
        .map(|(name, _)| name.clone())
        .collect();
    names.extend(
        drafts
            .values()
            .filter(|d| d.before.is_some() && d.after.is_some() && is_replaced(d))
            .map(|d| d.id.to_owned()),
    );
    // An update changes some attributes (`Fn::GetAtt [Id, Attribute]`).
    for draft in drafts.values() {
        let Some(after) = draft.after else { continue };
        if draft.before.is_none() || is_replaced(draft) || draft.leaves.is_empty() {
            continue;
        }
        for (kind, attribute) in UPDATED_ATTRIBUTES {
            if resource_type(after) == *kind {
                names.insert(format!("{}.{attribute}", draft.id));
            }
        }
    }
    names
}

/// Follows references to replaced resources and changed parameters until
/// nothing more is replaced.
fn propagate(drafts: &mut BTreeMap<&str, Draft<'_>>, before: &Value, after: &Value, table: &Table) {
    loop {
        let changed = changed_names(drafts, before, after);
        if changed.is_empty() {
            return;
        }
        let mut grew = false;
        for draft in drafts.values_mut() {
            let (Some(_), Some(resource)) = (draft.before, draft.after) else {
                continue;
            };
            if is_replaced(draft) {
                continue;
            }
            let mut refs = Vec::new();
            value::references(&body(resource), &mut Vec::new(), &mut refs);
            let entry = table.get(resource_type(resource));
            for (path, names) in refs {
                let Some(name) = names.iter().find(|n| changed.contains(*n)) else {
                    continue;
                };
                if draft.leaves.iter().any(|(p, ..)| prefix_related(p, &path)) {
                    continue;
                }
                if let (Some(entry), Some(rest)) = (entry, property_path(&path)) {
                    for schema in &entry.create_only {
                        if value::overlaps(rest, schema) && !draft.replace.contains(schema) {
                            draft.replace.push(schema.clone());
                            grew = true;
                        }
                    }
                }
                draft.leaves.push((path, None, None, Some(name.clone())));
            }
        }
        if !grew && changed_names(drafts, before, after) == changed {
            return;
        }
    }
}

/// Whether one path lies inside the other.
fn prefix_related(a: &[Segment], b: &[Segment]) -> bool {
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// `["Foo", "*", "Bar"]` → `Foo[*].Bar`.
fn display_schema(path: &SchemaPath) -> String {
    let mut text = String::new();
    for step in path {
        if step == "*" {
            text.push_str("[*]");
        } else {
            if !text.is_empty() {
                text.push('.');
            }
            text.push_str(step);
        }
    }
    text
}

fn policy(resource: &Value, attribute: &str) -> Option<String> {
    resource.get(attribute).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The `DeletionPolicy` CloudFormation applies: the template's, else
/// `Snapshot` for RDS clusters and stand-alone RDS instances, else `Delete`.
fn deletion_policy(resource: &Value) -> String {
    policy(resource, "DeletionPolicy").unwrap_or_else(|| {
        let rds_default = match resource_type(resource) {
            "AWS::RDS::DBCluster" => true,
            "AWS::RDS::DBInstance" => properties(resource).get("DBClusterIdentifier").is_none(),
            _ => false,
        };
        if rds_default { "Snapshot" } else { "Delete" }.to_owned()
    })
}

fn finish(draft: &Draft<'_>, table: &Table) -> Option<ResourceChange> {
    let (action, resource) = match (draft.before, draft.after) {
        (None, Some(a)) => (Action::Add, a),
        (Some(b), None) => {
            // `Snapshot` deletes the live resource after a final snapshot:
            // a removal, not an orphan.
            let kept = matches!(
                deletion_policy(b).as_str(),
                "Retain" | "RetainExceptOnCreate"
            );
            (if kept { Action::Orphan } else { Action::Remove }, b)
        }
        (Some(_), Some(a)) if is_replaced(draft) => {
            let revision = !draft.type_changed && REVISIONED.contains(&resource_type(a));
            (
                if revision {
                    Action::Revision
                } else {
                    Action::Replace
                },
                a,
            )
        }
        (Some(_), Some(a)) if !draft.leaves.is_empty() => (Action::Update, a),
        _ => return None,
    };
    let resource_type = resource_type(resource).to_owned();
    let before_type = draft
        .before
        .map(|b| self::resource_type(b).to_owned())
        .filter(|t| draft.type_changed && *t != resource_type);
    let stateful = is_stateful(&resource_type) || before_type.as_deref().is_some_and(is_stateful);
    let unknown_type =
        draft.after.is_some() && draft.before.is_some() && table.get(&resource_type).is_none();
    let mut replace_paths: Vec<String> = draft.replace.iter().map(display_schema).collect();
    let mut properties = Vec::new();
    if draft.type_changed {
        replace_paths.insert(0, "Type".to_owned());
        properties.push(PropertyChange {
            path: "Type".to_owned(),
            before: before_type.clone().map(Value::String),
            after: Some(Value::String(resource_type.clone())),
            replacement: Replacement::Always,
            via: None,
        });
    }
    let mut leaves: Vec<_> = draft.leaves.iter().collect();
    leaves.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, before, after, via) in leaves {
        let rest = property_path(path);
        let replacement = match rest {
            Some(rest) if draft.replace.iter().any(|s| value::overlaps(rest, s)) => {
                Replacement::Always
            }
            Some(rest) if draft.conditional.iter().any(|s| value::overlaps(rest, s)) => {
                Replacement::Conditional
            }
            Some(_) if unknown_type => Replacement::Conditional,
            _ => Replacement::Never,
        };
        let shown = match rest {
            Some([]) => "Properties".to_owned(),
            Some(rest) => value::display(rest),
            None => value::display(path),
        };
        properties.push(PropertyChange {
            path: shown,
            before: before.clone(),
            after: after.clone(),
            replacement,
            via: via.clone(),
        });
    }
    let removal = matches!(action, Action::Remove | Action::Orphan);
    // A change that may replace a stateful resource risks its data: berth
    // does not know that the condition does not hold (where it does, an
    // override in the table makes the property a plain update).
    let regenerates = action.regenerates(&resource_type, &properties, REGENERATES);
    let fails = failure(draft, action);
    let impact = action.impact_of(stateful, fails.is_some(), regenerates, &properties);
    Some(ResourceChange {
        logical_id: draft.id.to_owned(),
        before_type,
        action,
        impact,
        stateful,
        deletion_policy: removal.then(|| deletion_policy(resource)),
        update_replace_policy: (action == Action::Replace && stateful).then(|| {
            policy(resource, "UpdateReplacePolicy").unwrap_or_else(|| "Delete".to_owned())
        }),
        replace_paths,
        properties,
        unknown_type,
        fails,
        regenerates,
        resource_type,
    })
}

const LISTENER_RULE: &str = "AWS::ElasticLoadBalancingV2::ListenerRule";

/// Marks added listener rules that take the priority of a removed rule on
/// the same listener: CloudFormation creates resources before it deletes
/// the removed ones (in its cleanup phase,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-resource-configuration-complete.html>),
/// so the new rule's creation fails with `PriorityInUse`.
fn priority_in_use(
    changes: &mut [ResourceChange],
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) {
    let key = |resource: &Value| {
        let p = properties(resource);
        Some((p.get("ListenerArn")?.clone(), p.get("Priority")?.clone()))
    };
    let removed: Vec<(String, (Value, Value))> = changes
        .iter()
        .filter(|c| c.action == Action::Remove && c.resource_type == LISTENER_RULE)
        .filter_map(|c| Some((c.logical_id.clone(), key(before.get(&c.logical_id)?)?)))
        .collect();
    for change in changes
        .iter_mut()
        .filter(|c| c.action == Action::Add && c.resource_type == LISTENER_RULE)
    {
        let Some((listener, priority)) = after.get(&change.logical_id).and_then(key) else {
            continue;
        };
        let held = removed
            .iter()
            .find(|(_, (l, p))| value::same(l, &listener) && value::same(p, &priority));
        if let Some((held_by, _)) = held {
            change.fails = Some(Failure::PriorityInUse {
                priority: match &priority {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
                held_by: held_by.clone(),
            });
            change.impact = Impact::WillFail;
        }
    }
}

/// Why CloudFormation refuses a change: a replacement that keeps a custom
/// name, or the deletion of a resource with `DeletionProtection`.
fn failure(draft: &Draft<'_>, action: Action) -> Option<Failure> {
    match (action, draft.before, draft.after) {
        (Action::Replace, Some(before), Some(after)) => {
            let property = name_property(resource_type(after))?;
            let name = properties(after).get(property)?;
            let old = properties(before).get(property)?;
            value::same(old, name).then(|| Failure::CustomName {
                property: property.to_owned(),
                name: match name {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            })
        }
        (Action::Remove, Some(before), None) => {
            let protected = properties(before)
                .get("DeletionProtection")
                .is_some_and(|v| value::same(v, &Value::Bool(true)));
            protected.then_some(Failure::DeletionProtection)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn changes(before: &Value, after: &Value) -> Vec<ResourceChange> {
        let (changes, unreadable) = compare(
            Some(&before.to_string()),
            Some(&after.to_string()),
            Table::builtin(),
        );
        assert_eq!(unreadable, None);
        changes
    }

    fn template(resources: &Value) -> Value {
        json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
    }

    /// One line per resource: marker, id, impact, replace paths, then its
    /// property changes.
    fn summary(changes: &[ResourceChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| {
                let properties: Vec<String> = c
                    .properties
                    .iter()
                    .map(|p| match &p.via {
                        Some(via) => format!("{} via {via} ({:?})", p.path, p.replacement),
                        None => format!(
                            "{}: {} -> {} ({:?})",
                            p.path,
                            p.before.as_ref().map_or("-".to_owned(), Value::to_string),
                            p.after.as_ref().map_or("-".to_owned(), Value::to_string),
                            p.replacement
                        ),
                    })
                    .collect();
                format!(
                    "{} {} {:?} {:?} [{}]",
                    c.action.marker(),
                    c.logical_id,
                    c.impact,
                    c.replace_paths,
                    properties.join("; ")
                )
            })
            .collect()
    }

    fn database(name: &str, class: &str, policy: Option<&str>) -> Value {
        let mut resource = json!({
            "Type": "AWS::RDS::DBInstance",
            "Properties": {
                "DBInstanceClass": class,
                "DBName": name,
                "Engine": "postgres",
                "MasterUsername": "mastodon",
                "AllocatedStorage": "20"
            }
        });
        if let Some(policy) = policy {
            resource["DeletionPolicy"] = json!(policy);
            resource["UpdateReplacePolicy"] = json!(policy);
        }
        resource
    }

    #[test]
    fn changing_the_database_name_replaces_it_and_risks_its_data() {
        let before =
            template(&json!({"Database": database("mastodon", "db.t4g.micro", Some("Snapshot"))}));
        let after = template(
            &json!({"Database": database("mastodon_production", "db.t4g.micro", Some("Snapshot"))}),
        );
        let found = changes(&before, &after);
        assert_eq!(
            summary(&found),
            [
                "[±] Database DataLoss [\"DBName\"] [DBName: \"mastodon\" -> \"mastodon_production\" (Always)]"
            ]
        );
        assert!(found[0].stateful);
        assert_eq!(found[0].update_replace_policy.as_deref(), Some("Snapshot"));
    }

    #[test]
    fn changing_the_master_user_replaces_the_database() {
        let before = template(&json!({"Database": database("mastodon", "db.t4g.micro", None)}));
        let mut changed = database("mastodon", "db.t4g.micro", None);
        changed["Properties"]["MasterUsername"] = json!("admin");
        let found = changes(&before, &template(&json!({"Database": changed})));
        assert_eq!(found[0].action, Action::Replace);
        assert_eq!(found[0].impact, Impact::DataLoss);
        assert_eq!(found[0].replace_paths, ["MasterUsername"]);
    }

    #[test]
    fn changing_the_instance_class_updates_the_database_in_place() {
        let before =
            template(&json!({"Database": database("mastodon", "db.t4g.micro", Some("Snapshot"))}));
        let after =
            template(&json!({"Database": database("mastodon", "db.t4g.small", Some("Snapshot"))}));
        assert_eq!(
            summary(&changes(&before, &after)),
            [
                "[~] Database Update [] [DBInstanceClass: \"db.t4g.micro\" -> \"db.t4g.small\" (Never)]"
            ]
        );
    }

    #[test]
    fn changing_the_engine_replaces_the_database() {
        let before = template(&json!({"Database": database("mastodon", "db.t4g.micro", None)}));
        let mut changed = database("mastodon", "db.t4g.micro", None);
        changed["Properties"]["Engine"] = json!("mysql");
        let found = changes(&before, &template(&json!({"Database": changed})));
        assert_eq!(
            summary(&found),
            ["[±] Database DataLoss [\"Engine\"] [Engine: \"postgres\" -> \"mysql\" (Always)]"]
        );
    }

    #[test]
    fn multi_az_and_backups_update_the_database_in_place() {
        let before = template(&json!({"Database": database("mastodon", "db.t4g.micro", None)}));
        let mut changed = database("mastodon", "db.t4g.micro", None);
        changed["Properties"]["MultiAZ"] = json!(true);
        changed["Properties"]["BackupRetentionPeriod"] = json!(14);
        let found = changes(&before, &template(&json!({"Database": changed})));
        assert_eq!(
            summary(&found),
            [
                "[~] Database Update [] [BackupRetentionPeriod: - -> 14 (Never); MultiAZ: - -> true (Never)]"
            ]
        );
    }

    #[test]
    fn a_conditional_replacement_of_a_stateful_resource_risks_its_data() {
        let before = template(&json!({"Database": database("mastodon", "db.t4g.micro", None)}));
        let mut changed = database("mastodon", "db.t4g.micro", None);
        changed["Properties"]["PreferredMaintenanceWindow"] = json!("sun:03:00-sun:04:00");
        let found = changes(&before, &template(&json!({"Database": changed})));
        assert_eq!(
            summary(&found),
            [
                "[~] Database DataLoss [] [PreferredMaintenanceWindow: - -> \"sun:03:00-sun:04:00\" (Conditional)]"
            ]
        );
        // The same kind of change of a stateless resource is only an update.
        let service = |launch: &str| {
            template(
                &json!({"Group": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {
                    "MinSize": "1", "MaxSize": "2", "LaunchConfigurationName": launch
                }}}),
            )
        };
        let found = changes(&service("a"), &service("b"));
        assert_eq!(found[0].impact, Impact::Update);
        assert_eq!(found[0].properties[0].replacement, Replacement::Conditional);
    }

    #[test]
    fn removing_a_database_deletes_it_even_with_a_final_snapshot() {
        let before = template(&json!({
            "Database": database("mastodon", "db.t4g.micro", Some("Snapshot")),
            "Default": database("other", "db.t4g.micro", None),
            "Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
            "Media": {"Type": "AWS::S3::Bucket"},
            "Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete"}
        }));
        let found = changes(&before, &template(&json!({})));
        assert_eq!(
            summary(&found),
            [
                "[-] Database DataLoss [] []",
                "[-] Default DataLoss [] []",
                "[-] Logs Destroy [] []",
                "[-] Media DataLoss [] []",
                "[o] Bucket Orphan [] []",
            ]
        );
        let policies: Vec<_> = found
            .iter()
            .map(|c| c.deletion_policy.as_deref().unwrap())
            .collect();
        assert_eq!(
            policies,
            ["Snapshot", "Snapshot", "Delete", "Delete", "Retain"],
            "RDS instances default to Snapshot"
        );
    }

    #[test]
    fn replacing_a_custom_named_resource_or_deleting_a_protected_one_fails() {
        let named = |name: &str, identifier: &str| {
            let mut db = database(name, "db.t4g.micro", Some("Snapshot"));
            db["Properties"]["DBInstanceIdentifier"] = json!(identifier);
            db["Properties"]["DeletionProtection"] = json!(true);
            template(&json!({"Database": db}))
        };
        let found = changes(&named("a", "app"), &named("b", "app"));
        assert_eq!(found[0].impact, Impact::WillFail);
        assert_eq!(
            found[0].fails,
            Some(Failure::CustomName {
                property: "DBInstanceIdentifier".to_owned(),
                name: "app".to_owned()
            })
        );
        // A new name lets CloudFormation replace it.
        let found = changes(&named("a", "app"), &named("b", "app2"));
        assert_eq!(
            (found[0].impact, found[0].fails.clone()),
            (Impact::DataLoss, None)
        );
        let found = changes(&named("a", "app"), &template(&json!({})));
        assert_eq!(found[0].action, Action::Remove);
        assert_eq!(found[0].fails, Some(Failure::DeletionProtection));
        assert_eq!(found[0].impact, Impact::WillFail);
    }

    #[test]
    fn a_type_change_is_a_replacement() {
        let before = template(&json!({"Thing": {"Type": "AWS::SQS::Queue", "Properties": {}}}));
        let after = template(&json!({"Thing": {"Type": "AWS::SNS::Topic", "Properties": {}}}));
        let found = changes(&before, &after);
        assert_eq!(
            summary(&found),
            [
                "[±] Thing Replace [\"Type\"] [Type: \"AWS::SQS::Queue\" -> \"AWS::SNS::Topic\" (Always)]"
            ]
        );
        assert_eq!(found[0].before_type.as_deref(), Some("AWS::SQS::Queue"));
    }

    #[test]
    fn numbers_and_booleans_spelled_as_strings_are_no_change() {
        let before = template(
            &json!({"Group": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": 3000, "HealthCheckEnabled": true}}}),
        );
        let after = template(
            &json!({"Group": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": "3000", "HealthCheckEnabled": "true"}}}),
        );
        assert!(changes(&before, &after).is_empty());
    }

    #[test]
    fn nested_create_only_properties_replace() {
        let repository = |key: &str| {
            json!({"Repository": {"Type": "AWS::ECR::Repository", "Properties": {
                "RepositoryName": "app",
                "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": key},
                "ImageTagMutability": "MUTABLE"
            }}})
        };
        let found = changes(&template(&repository("a")), &template(&repository("b")));
        assert_eq!(
            summary(&found),
            [
                "[±] Repository WillFail [\"EncryptionConfiguration\", \"EncryptionConfiguration.KmsKey\"] [EncryptionConfiguration.KmsKey: \"a\" -> \"b\" (Always)]"
            ]
        );
    }

    fn app(command: &str, port: u16) -> Value {
        template(&json!({
            "WebTaskDefinition": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
                "Family": "app-web",
                "ContainerDefinitions": [{"Name": "web", "Command": ["bundle", "exec", command], "PortMappings": [{"ContainerPort": port}]}]
            }},
            "WebTargetGroup": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": port, "Protocol": "HTTP"}},
            "WebRule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
                "ListenerArn": {"Fn::ImportValue": "d-HttpsListener"},
                "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": "WebTargetGroup"}}],
                "Priority": 10
            }},
            "WebService": {"Type": "AWS::ECS::Service", "DependsOn": ["WebRule"], "Properties": {
                "ServiceName": "app-web",
                "TaskDefinition": {"Ref": "WebTaskDefinition"},
                "LoadBalancers": [{"ContainerName": "web", "ContainerPort": port, "TargetGroupArn": {"Ref": "WebTargetGroup"}}]
            }}
        }))
    }

    #[test]
    fn a_new_command_is_a_new_revision_and_a_service_update() {
        let found = changes(&app("puma", 3000), &app("rails", 3000));
        assert_eq!(
            summary(&found),
            [
                "[~] WebService Update [] [TaskDefinition via WebTaskDefinition (Never)]",
                "[~] WebTaskDefinition Revision [\"ContainerDefinitions\"] [ContainerDefinitions[0].Command[2]: \"puma\" -> \"rails\" (Always)]",
            ]
        );
    }

    #[test]
    fn a_new_port_replaces_the_target_group_and_updates_its_users() {
        let found = changes(&app("puma", 3000), &app("puma", 4000));
        assert_eq!(
            summary(&found),
            [
                "[±] WebTargetGroup Replace [\"Port\"] [Port: 3000 -> 4000 (Always)]",
                "[~] WebRule Update [] [Actions[0].TargetGroupArn via WebTargetGroup (Never)]",
                "[~] WebService Update [] [LoadBalancers[0].ContainerPort: 3000 -> 4000 (Never); LoadBalancers[0].TargetGroupArn via WebTargetGroup (Never); TaskDefinition via WebTaskDefinition (Never)]",
                "[~] WebTaskDefinition Revision [\"ContainerDefinitions\"] [ContainerDefinitions[0].PortMappings[0].ContainerPort: 3000 -> 4000 (Always)]",
            ]
        );
    }

    #[test]
    fn a_reference_in_a_create_only_property_replaces_in_turn() {
        let stack = |port: u16| {
            template(&json!({
                "Balancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Name": "lb"}},
                "Group": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": port}},
                "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
                    "LoadBalancerArn": {"Ref": "Balancer"},
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Group"}}]
                }},
                "Rule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
                    "ListenerArn": {"Ref": "Listener"}, "Priority": 1
                }}
            }))
        };
        // The target group is replaced; the listener only updates its action.
        let found = changes(&stack(80), &stack(81));
        let ids: Vec<_> = found
            .iter()
            .map(|c| (c.logical_id.as_str(), c.action))
            .collect();
        assert_eq!(
            ids,
            [("Group", Action::Replace), ("Listener", Action::Update)]
        );
        // A replaced load balancer replaces the listener (its LoadBalancerArn
        // is create-only), which replaces the rule (ListenerArn).
        let mut renamed = stack(80);
        renamed["Resources"]["Balancer"]["Properties"]["Name"] = json!("lb2");
        let found = changes(&stack(80), &renamed);
        assert_eq!(
            summary(&found),
            [
                "[±] Balancer Replace [\"Name\"] [Name: \"lb\" -> \"lb2\" (Always)]",
                "[±] Listener Replace [\"LoadBalancerArn\"] [LoadBalancerArn via Balancer (Always)]",
                "[±] Rule Replace [\"ListenerArn\"] [ListenerArn via Listener (Always)]",
            ]
        );
    }

    #[test]
    fn a_changed_parameter_changes_what_refers_to_it() {
        let stack = |image: &str| {
            let mut t = app("puma", 3000);
            t["Parameters"] = json!({"Image": {"Type": "String", "Default": image}});
            t["Resources"]["WebTaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Image"] =
                json!({"Ref": "Image"});
            t
        };
        let found = changes(&stack("app:1"), &stack("app:2"));
        assert_eq!(
            summary(&found),
            [
                "[~] WebService Update [] [TaskDefinition via WebTaskDefinition (Never)]",
                "[~] WebTaskDefinition Revision [\"ContainerDefinitions\"] [ContainerDefinitions[0].Image via Image (Always)]",
            ]
        );
    }

    #[test]
    fn added_resources_and_whole_stacks() {
        let (found, _) = compare(None, Some(&app("puma", 3000).to_string()), Table::builtin());
        assert!(found.iter().all(|c| c.action == Action::Add));
        assert_eq!(found.len(), 4);
        let (found, _) = compare(Some(&app("puma", 3000).to_string()), None, Table::builtin());
        assert!(found.iter().all(|c| c.action == Action::Remove));
    }

    #[test]
    fn unknown_types_may_be_replaced() {
        let thing =
            |v: u8| template(&json!({"Thing": {"Type": "Custom::Thing", "Properties": {"V": v}}}));
        let found = changes(&thing(1), &thing(2));
        assert!(found[0].unknown_type);
        assert_eq!(found[0].action, Action::Update);
        assert_eq!(found[0].properties[0].replacement, Replacement::Conditional);
    }

    #[test]
    fn text_that_is_not_a_template_is_reported() {
        let (found, unreadable) = compare(Some("{"), Some("{}"), Table::builtin());
        assert!(found.is_empty());
        assert!(
            unreadable
                .unwrap()
                .starts_with("the old version is not valid JSON")
        );
    }
}
