//! Printers of a [`Diff`], one per format: [`text`] for a terminal,
//! [`markdown`] for a pull-request comment, [`json`] for tools. They share
//! the wording of resource changes defined here; none of them decides
//! anything about the change.

pub mod json;
pub mod markdown;
pub mod text;

use serde_json::Value;

use super::{
    Action, AtRisk, Diff, Failure, FileStatus, Impact, PropertyChange, Replacement, StackChange,
    Target,
};

/// Most heritage names a grouped summary line lists.
const GROUP_NAMES: usize = 10;

/// The reviewer's summary as lines: a note, or one line per group of
/// identical changes (`3 heritages (a, b, c): image v1 → v2 (…)`).
fn summary_lines(summary: &super::summary::Summary) -> Vec<String> {
    summary
        .groups()
        .iter()
        .map(|g| g.line(GROUP_NAMES))
        .collect()
}

/// Longest value shown in full in text and Markdown; JSON has every value.
const VALUE_WIDTH: usize = 120;

/// A value as compact JSON, cut at [`VALUE_WIDTH`] characters.
fn show(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(absent)".to_owned();
    };
    let text = value.to_string();
    if text.chars().count() <= VALUE_WIDTH {
        return text;
    }
    let cut: String = text.chars().take(VALUE_WIDTH - 1).collect();
    cut + "…"
}

/// What a reference-only change follows: `WebTaskDefinition (new revision)`.
fn follows(stack: &StackChange, name: &str) -> String {
    // `Id.Attribute` follows the attribute of a resource that changes.
    let action = stack
        .resources
        .iter()
        .find(|r| r.logical_id == name)
        .or_else(|| {
            stack.resources.iter().find(|r| {
                name.strip_prefix(r.logical_id.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
            })
        })
        .map(|r| r.action);
    match action {
        Some(action) => format!("follows {name} ({})", action.describe()),
        None if stack.target == Target::CloudFormation => {
            format!("follows parameter {name} (changed)")
        }
        // A Terraform module's value, or a resource of another of its files:
        // only replaced resources are followed.
        None if ["local.", "var.", "data."]
            .iter()
            .any(|p| name.starts_with(p)) =>
        {
            format!("follows {name} (changed)")
        }
        None => format!("follows {name} (replaced)"),
    }
}

/// One property change: `Port: 3000 → 4000 (requires replacement)`.
fn property_line(stack: &StackChange, action: Action, change: &PropertyChange) -> String {
    let mut line = match &change.via {
        Some(via) => format!("{}: {}", change.path, follows(stack, via)),
        None => format!(
            "{}: {} → {}",
            change.path,
            show(change.before.as_ref()),
            show(change.after.as_ref())
        ),
    };
    // A revision always comes from a create-only change: that is not news.
    if action != Action::Revision {
        match change.replacement {
            Replacement::Always => line.push_str(" (requires replacement)"),
            Replacement::Conditional => line.push_str(" (may require replacement)"),
            Replacement::Never => {}
        }
    }
    line
}

/// The lines of one stack's resource changes: a line per resource, then its
/// property changes indented below it.
fn resource_lines(stack: &StackChange) -> Vec<(Action, bool, String)> {
    let mut lines = Vec::new();
    for r in &stack.resources {
        let mut head = format!(
            "{} {} {}",
            r.action.marker(),
            resource_name(stack, r),
            r.action.describe()
        );
        if let Some(before) = &r.before_type {
            head.push_str(&format!(" (was {before})"));
        }
        match r.deletion_policy.as_deref() {
            Some("Snapshot") => head.push_str(
                " (DeletionPolicy Snapshot: the live resource is deleted; a final snapshot is kept)",
            ),
            Some(policy) if r.action == Action::Orphan => {
                head.push_str(&format!(
                    " (DeletionPolicy {policy}: kept in AWS, outside the stack)"
                ));
            }
            // Deleting is what removal means; say so where data goes with it.
            Some(policy) if r.stateful => head.push_str(&format!(" (DeletionPolicy {policy})")),
            Some(_) | None => {}
        }
        if r.unknown_type {
            head.push_str(" (type unknown to berth: any change may replace it)");
        }
        match &r.fails {
            Some(Failure::CustomName { property, name }) => {
                head.push_str(&format!(" (will fail: custom name {property} {name:?})"));
            }
            Some(Failure::DeletionProtection) => match stack.target {
                Target::CloudFormation => head.push_str(" (will fail: DeletionProtection is true)"),
                Target::Terraform => head.push_str(" (will fail: deletion_protection is true)"),
            },
            Some(Failure::PreventDestroy) => {
                head.push_str(" (will fail: lifecycle.prevent_destroy is true)");
            }
            Some(Failure::PriorityInUse { priority, held_by }) => {
                head.push_str(&format!(
                    " (will fail: priority {priority} is still held by {held_by})"
                ));
            }
            Some(Failure::ExportInUse { export, importers }) => {
                head.push_str(&format!(
                    " (will fail: export {export} is imported by {})",
                    importers.join(", ")
                ));
            }
            None => {}
        }
        lines.push((r.action, r.impact >= Impact::DataLoss, head));
        for p in &r.properties {
            lines.push((
                r.action,
                false,
                format!("    {}", property_line(stack, r.action, p)),
            ));
        }
    }
    lines
}

/// Why a stateful resource is at risk: `replaced: DBName "a" → "b"`.
fn risk_reason(risk: &AtRisk<'_>) -> String {
    let r = risk.resource;
    if r.action == Action::Replace {
        let causes: Vec<String> = r
            .properties
            .iter()
            .filter(|p| p.replacement == Replacement::Always)
            .map(|p| property_line(risk.stack, Action::Revision, p))
            .collect();
        let mut reason = format!("replaced because {}", causes.join("; "));
        if let Some(policy) = &r.update_replace_policy {
            reason.push_str(&format!(
                " (the old one: UpdateReplacePolicy {policy}; the new one starts empty)"
            ));
        } else if risk.stack.target == Target::Terraform && r.stateful {
            reason.push_str(" (Terraform destroys the old one first; the new one starts empty)");
        }
        reason
    } else if r.regenerates {
        let causes: Vec<String> = r
            .properties
            .iter()
            .map(|p| property_line(risk.stack, Action::Revision, p))
            .collect();
        format!(
            "generated anew because {} (CloudFormation generates a new value; the old one is lost)",
            causes.join("; ")
        )
    } else if r.action == Action::Update {
        let causes: Vec<String> = r
            .properties
            .iter()
            .filter(|p| p.replacement == Replacement::Conditional)
            .map(|p| property_line(risk.stack, Action::Revision, p))
            .collect();
        let why = match risk.stack.target {
            Target::CloudFormation => {
                "its resource schema makes this property create-only under some conditions, and berth does not know they do not hold"
            }
            Target::Terraform => {
                "berth's ForceNew table does not know this type, so any change may replace it"
            }
        };
        format!("may be replaced because {} ({why})", causes.join("; "))
    } else if risk.stack.target == Target::Terraform {
        if risk.stack.status == FileStatus::Removed {
            "destroyed with its configuration file".to_owned()
        } else {
            "destroyed: removed from the configuration".to_owned()
        }
    } else {
        let how = if risk.stack.status == FileStatus::Removed {
            "destroyed with its stack"
        } else {
            "destroyed: removed from the template"
        };
        match r.deletion_policy.as_deref().unwrap_or("Delete") {
            "Snapshot" => format!(
                "{how} (DeletionPolicy Snapshot: the live resource is deleted, only a final snapshot is kept)"
            ),
            policy => format!("{how} (DeletionPolicy {policy})"),
        }
    }
}

/// Why CloudFormation refuses a change, then what the change is.
fn fail_reason(risk: &AtRisk<'_>) -> String {
    if let Some(Failure::ExportInUse { export, importers }) = &risk.resource.fails {
        let what = if risk.resource.action == Action::Remove {
            "the output is removed".to_owned()
        } else {
            let changes: Vec<String> = risk
                .resource
                .properties
                .iter()
                .map(|p| property_line(risk.stack, Action::Revision, p))
                .collect();
            format!("its value changes: {}", changes.join("; "))
        };
        return format!(
            "CloudFormation cannot update or remove an export that another stack imports: {export} is imported by {}; make them stop importing it first, or keep the value ({what})",
            importers.join(", ")
        );
    }
    let what = risk_reason(risk);
    match &risk.resource.fails {
        Some(Failure::CustomName { property, name }) => format!(
            "CloudFormation cannot replace a resource with a custom name, and its {property} stays {name:?}: give it a new name or none ({what})"
        ),
        Some(Failure::DeletionProtection) if risk.stack.target == Target::Terraform => format!(
            "AWS refuses Terraform's delete: deletion_protection is true; turn it off first to delete it ({what})"
        ),
        Some(Failure::DeletionProtection) => format!(
            "CloudFormation's delete fails: DeletionProtection is true; turn it off first to delete it ({what})"
        ),
        Some(Failure::PreventDestroy) => format!(
            "Terraform refuses a plan that destroys it: lifecycle.prevent_destroy is true; keep the old value, or if it must go set `prevent_destroy: false` on it in the instance file ({what})"
        ),
        Some(Failure::PriorityInUse { priority, held_by }) => format!(
            "CloudFormation creates this rule before it deletes {held_by}, which holds priority {priority} on the same listener, so the creation fails with PriorityInUse: give the renamed service's listener another `rule_priority` for this deploy (it can take the old one back in a later change)"
        ),
        Some(Failure::ExportInUse { .. }) | None => what,
    }
}

/// Why a resource's data is at risk, or why its change will fail, in the
/// words of every format: `replaced because Engine: "postgres" → "mysql"
/// (…)`. `berth apply --dry-run` prints it too.
#[must_use]
pub fn risk_cause(risk: &AtRisk<'_>) -> String {
    if risk.resource.impact == Impact::WillFail {
        fail_reason(risk)
    } else {
        risk_reason(risk)
    }
}

/// One line of the data at risk (or of what will fail):
/// `[±] Database AWS::RDS::DBInstance in stack: …`.
fn risk_line(risk: &AtRisk<'_>) -> String {
    format!(
        "{} {} in {}: {}",
        risk.resource.action.marker(),
        resource_name(risk.stack, risk.resource),
        risk.stack.name(),
        risk_cause(risk)
    )
}

/// `Database AWS::RDS::DBInstance`; a Terraform address already names its
/// type: `aws_db_instance.this`.
fn resource_name(stack: &StackChange, r: &super::ResourceChange) -> String {
    match stack.target {
        Target::CloudFormation => format!("{} {}", r.logical_id, r.resource_type),
        Target::Terraform => r.logical_id.clone(),
    }
}

/// One line of the security section:
/// `[public] BucketMediaPolicy AWS::S3::BucketPolicy in stack: …`.
fn security_line(change: &super::security::SecurityChange) -> String {
    use super::security::SecurityKind;
    let label = match change.kind {
        SecurityKind::Public => "[public]",
        SecurityKind::Statement => "[iam]",
        SecurityKind::Ingress => "[ingress]",
    };
    let name = match change.target {
        Target::CloudFormation => format!("{} {}", change.resource, change.resource_type),
        Target::Terraform => change.resource.clone(),
    };
    format!("{label} {name} in {}: {}", change.stack, change.description)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Resource counts for people, zeros left out: `3 updated (1 new revision), 1 replaced`.
fn counts_text(counts: &super::Counts) -> String {
    let mut parts = Vec::new();
    for (n, word) in [
        (counts.added, "added"),
        (counts.updated, "updated"),
        (counts.replaced, "replaced"),
        (counts.removed, "removed"),
        (counts.orphaned, "orphaned"),
    ] {
        if n == 0 {
            continue;
        }
        if word == "updated" && counts.revisions > 0 {
            parts.push(format!(
                "{n} updated ({})",
                plural(counts.revisions, "new revision")
            ));
        } else {
            parts.push(format!("{n} {word}"));
        }
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The one-line summary of a diff with changes: data at risk, resources,
/// artifacts.
fn summary(diff: &Diff) -> String {
    let (added, removed, changed) = diff.artifact_counts();
    let artifacts: Vec<String> = [(changed, "changed"), (added, "added"), (removed, "removed")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| format!("{n} {word}"))
        .collect();
    let mut line = String::new();
    let fail = diff.will_fail().count();
    if fail > 0 {
        line.push_str(&format!("{} will fail; ", plural(fail, "change")));
    }
    let risk = diff.at_risk().count();
    if risk > 0 {
        line.push_str(&format!("{} at risk; ", plural(risk, "stateful resource")));
    }
    let widened = diff.security.len();
    if widened > 0 {
        line.push_str(&format!("{} widen access; ", plural(widened, "change")));
    }
    line.push_str(&format!("resources: {}", counts_text(&diff.counts())));
    let of = |target| diff.stacks.iter().filter(|s| s.target == target).count();
    let places: Vec<String> = [
        (of(Target::CloudFormation), "stack"),
        (of(Target::Terraform), "Terraform file"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, word)| plural(*n, word))
    .collect();
    if !places.is_empty() {
        line.push_str(&format!(" in {}", places.join(" and ")));
    }
    if artifacts.is_empty() {
        line.push_str("; artifacts: none");
    } else {
        line.push_str(&format!("; artifacts: {}", artifacts.join(", ")));
    }
    if !diff.drift.is_empty() {
        line.push_str(&format!(
            "; drift: {}",
            plural(diff.drift.len(), "resource")
        ));
    }
    line
}

/// The line printed when nothing changes.
fn no_changes(baseline: &str) -> String {
    format!("No changes: the artifacts are the same as {baseline}.")
}

/// The database cases on hand-written data stacks, in every format: they pin
/// the wording whatever the templates render (the golden fleets in
/// `tests/diff.rs` cover the rendered data stacks).
#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::diff::{Files, diff};
    use crate::render::canonical;

    fn data_stack(name: &str, user: &str, class: &str) -> String {
        canonical(json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {
                "Database": {
                    "Type": "AWS::RDS::DBInstance",
                    "DeletionPolicy": "Snapshot",
                    "UpdateReplacePolicy": "Snapshot",
                    "Properties": {
                        "AllocatedStorage": "20",
                        "DBInstanceClass": class,
                        "DBName": name,
                        "DBSubnetGroupName": {"Ref": "SubnetGroup"},
                        "Engine": "postgres",
                        "MasterUsername": user,
                        "StorageEncrypted": true
                    }
                },
                "SubnetGroup": {
                    "Type": "AWS::RDS::DBSubnetGroup",
                    "Properties": {
                        "DBSubnetGroupDescription": "bcn-users",
                        "SubnetIds": {"Fn::Split": [",", {"Fn::ImportValue": "mstdn-PrivateSubnets"}]}
                    }
                }
            }
        }))
    }

    fn files(stack: Option<String>) -> Files {
        let manifest = json!({"version": 1, "artifacts": [{
            "path": "mstdn/bcn-users/data.cfn.json", "kind": "cloudformation-stack",
            "stack": "mstdn-bcn-users-data", "sha256": "", "sources": []
        }]});
        let mut files = Files::new();
        files.insert("manifest.json".to_owned(), manifest.to_string());
        if let Some(stack) = stack {
            files.insert("mstdn/bcn-users/data.cfn.json".to_owned(), stack);
        }
        files
    }

    fn all_formats(before: Option<String>, after: Option<String>) -> String {
        let diff = diff(&files(before), &files(after));
        format!(
            "{}\n=== markdown\n{}\n=== json\n{}",
            super::text::render(&diff, "out/", false),
            super::markdown::render(&diff, "`out/`"),
            super::json::render(&diff, "out/")
        )
    }

    #[test]
    fn database_name_change_is_data_at_risk() {
        let before = data_stack("mastodon", "mastodon", "db.t4g.micro");
        let after = data_stack("mastodon_production", "mastodon", "db.t4g.micro");
        insta::assert_snapshot!(all_formats(Some(before), Some(after)));
    }

    #[test]
    fn master_user_change_is_data_at_risk() {
        let before = data_stack("mastodon", "mastodon", "db.t4g.micro");
        let after = data_stack("mastodon", "admin", "db.t4g.micro");
        let diff = diff(&files(Some(before)), &files(Some(after)));
        assert_eq!(diff.worst(), Some(crate::diff::Impact::DataLoss));
        assert_eq!(diff.at_risk().count(), 1);
    }

    #[test]
    fn instance_class_change_is_an_update() {
        let before = data_stack("mastodon", "mastodon", "db.t4g.micro");
        let after = data_stack("mastodon", "mastodon", "db.t4g.small");
        insta::assert_snapshot!(all_formats(Some(before), Some(after)));
    }

    #[test]
    fn removed_data_stack_deletes_the_database() {
        let before = data_stack("mastodon", "mastodon", "db.t4g.micro");
        insta::assert_snapshot!(all_formats(Some(before), None));
    }
}
