//! Exports in use: CloudFormation refuses to update or remove a stack output's
//! `Export` while another stack imports it with `Fn::ImportValue` ("You
//! can't modify or remove an output value that is referenced by another
//! stack", <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html>).
//! berth sees the whole fleet, so it names the importing stacks.
//!
//! An export changes when its output is removed, when the text of its
//! `Value` changes, or when the value reads a resource the same change
//! replaces (a new VPC has a new id). The importers are the stacks of the
//! baseline: they are what is deployed when the exporting stack updates
//! (`berth apply` deploys the district before its heritages).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::resource::{Action, Failure, Impact, PropertyChange, Replacement, ResourceChange};
use super::value::{self, Segment};
use super::{Files, StackChange, Target, is_template};

/// The type shown for an output in a stack's changes.
pub const OUTPUT: &str = "Output";

/// Exports by name: the output's logical name and its value.
fn exports(template: &Value) -> BTreeMap<String, (String, Value)> {
    let mut found = BTreeMap::new();
    let Some(outputs) = template.get("Outputs").and_then(Value::as_object) else {
        return found;
    };
    for (name, output) in outputs {
        if let Some(export) = output
            .get("Export")
            .and_then(|e| e.get("Name"))
            .and_then(Value::as_str)
        {
            let value = output.get("Value").cloned().unwrap_or(Value::Null);
            found.insert(export.to_owned(), (name.clone(), value));
        }
    }
    found
}

/// Every literal `Fn::ImportValue` name in a value.
fn imports(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("Fn::ImportValue", Value::String(name)) => {
                        out.insert(name.clone());
                    }
                    _ => imports(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| imports(v, out)),
        _ => {}
    }
}

/// Whether a value is a `Fn::GetAtt` of a port (`Endpoint.Port`): a
/// replacement keeps the port, so the export's value stays the same and
/// CloudFormation has nothing to refuse.
fn reads_a_port(value: &Value) -> bool {
    value
        .get("Fn::GetAtt")
        .and_then(|a| a.get(1))
        .and_then(Value::as_str)
        .is_some_and(|attribute| attribute.ends_with("Port"))
}

/// An export that changes: where, its name and output, and how.
struct Candidate {
    stack: usize,
    export: String,
    output: String,
    before: Option<Value>,
    after: Option<Value>,
    /// The replaced resource it reads, when only that changes it.
    via: Option<String>,
}

fn parse(text: Option<&String>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

/// Adds to each changed stack the exports it alters or removes that another
/// stack of the baseline imports, as changes that will fail.
/// `names` gives stack names by path.
pub fn flag(
    stacks: &mut [StackChange],
    before: &Files,
    after: &Files,
    names: &BTreeMap<String, String>,
) {
    // Candidates first: the importers are only looked for when an export changes.
    let mut candidates: Vec<Candidate> = Vec::new();
    for (index, stack) in stacks.iter().enumerate() {
        if stack.target != Target::CloudFormation || stack.status == super::FileStatus::Added {
            continue;
        }
        let (Some(b), a) = (
            parse(before.get(&stack.path)),
            parse(after.get(&stack.path)),
        ) else {
            continue;
        };
        let (eb, ea) = (exports(&b), a.as_ref().map(exports).unwrap_or_default());
        let replaced: BTreeSet<&str> = stack
            .resources
            .iter()
            .filter(|r| matches!(r.action, Action::Replace | Action::Revision))
            .map(|r| r.logical_id.as_str())
            .collect();
        for (export, (output, old)) in eb {
            match ea.get(&export) {
                None => candidates.push(Candidate {
                    stack: index,
                    export,
                    output,
                    before: Some(old),
                    after: None,
                    via: None,
                }),
                Some((_, new)) if !value::same(&old, new) => {
                    candidates.push(Candidate {
                        stack: index,
                        export,
                        output,
                        before: Some(old),
                        after: Some(new.clone()),
                        via: None,
                    });
                }
                Some((_, new)) if !reads_a_port(new) => {
                    let mut refs = Vec::new();
                    value::references(new, &mut Vec::new(), &mut refs);
                    let via = refs
                        .iter()
                        .flat_map(|(_, n)| n)
                        .find(|n| replaced.contains(n.as_str()));
                    if let Some(via) = via {
                        candidates.push(Candidate {
                            stack: index,
                            export,
                            output,
                            before: None,
                            after: None,
                            via: Some(via.clone()),
                        });
                    }
                }
                Some(_) => {}
            }
        }
    }
    if candidates.is_empty() {
        return;
    }
    let mut importers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in before.iter().filter(|(p, _)| is_template(p)) {
        let Ok(template) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let mut found = BTreeSet::new();
        imports(
            template.get("Resources").unwrap_or(&Value::Null),
            &mut found,
        );
        imports(template.get("Outputs").unwrap_or(&Value::Null), &mut found);
        let stack = names.get(path).cloned().unwrap_or_else(|| path.clone());
        for name in found {
            importers.entry(name).or_default().insert(stack.clone());
        }
    }
    for Candidate {
        stack: index,
        export,
        output,
        before: old,
        after: new,
        via,
    } in candidates
    {
        let Some(users) = importers.get(&export) else {
            continue;
        };
        let stack = &mut stacks[index];
        let users: Vec<String> = users
            .iter()
            .filter(|u| **u != stack.name())
            .cloned()
            .collect();
        if users.is_empty() {
            continue;
        }
        let removed = new.is_none() && via.is_none();
        stack.resources.push(ResourceChange {
            logical_id: output,
            resource_type: OUTPUT.to_owned(),
            before_type: None,
            action: if removed {
                Action::Remove
            } else {
                Action::Update
            },
            impact: Impact::WillFail,
            stateful: false,
            deletion_policy: None,
            update_replace_policy: None,
            replace_paths: Vec::new(),
            properties: vec![PropertyChange {
                path: value::display(&[Segment::Key("Value".to_owned())]),
                before: if via.is_some() { None } else { old },
                after: new,
                replacement: Replacement::Never,
                via,
            }],
            unknown_type: false,
            fails: Some(Failure::ExportInUse {
                export,
                importers: users,
            }),
            regenerates: false,
        });
    }
    for stack in stacks.iter_mut() {
        stack.resources.sort_by(|a, b| {
            (a.action.rank(), &a.logical_id).cmp(&(b.action.rank(), &b.logical_id))
        });
    }
}
