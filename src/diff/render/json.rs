//! The JSON printer, for tools: one document whose shape the README
//! documents (`version` 1). Values are complete, never cut.

use serde::Serialize;

use super::{Diff, fail_reason, risk_reason};
use crate::diff::security::SecurityChange;
use crate::diff::summary::Entry;
use crate::diff::{
    Action, ArtifactChange, AtRisk, Counts, Impact, PropertyChange, Replacement, StackChange,
};

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    /// What the rendered artifacts were compared with.
    baseline: &'a str,
    changes: bool,
    /// The most destructive impact, `null` without resource changes.
    worst: Option<Impact>,
    summary: Summary,
    /// The change in the reviewer's terms, per heritage (`heritage` null for
    /// a district's own settings), from the models of both sides.
    summary_by_heritage: &'a [Entry],
    /// Why `summary_by_heritage` is empty, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    summary_note: Option<&'a str>,
    /// The monthly cost change in USD, when anything priced changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<&'a crate::cost::change::CostChange>,
    /// Changes CloudFormation refuses, listed before the data at risk.
    will_fail: Vec<Risk<'a>>,
    data_at_risk: Vec<Risk<'a>>,
    /// Changes that widen access, after the data at risk.
    security: &'a [SecurityChange],
    stacks: &'a [StackChange],
    artifacts: &'a [ArtifactChange],
    /// Resources changed outside CloudFormation (`--deployed --resources`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    drift: &'a [crate::diff::ResourceDrift],
}

#[derive(Serialize)]
struct Summary {
    resources: Counts,
    artifacts: ArtifactCounts,
    will_fail: usize,
    data_at_risk: usize,
    security: usize,
}

#[derive(Serialize)]
struct ArtifactCounts {
    added: usize,
    removed: usize,
    changed: usize,
}

#[derive(Serialize)]
struct Risk<'a> {
    stack: &'a str,
    path: &'a str,
    logical_id: &'a str,
    #[serde(rename = "type")]
    resource_type: &'a str,
    action: Action,
    /// The same as the text format's explanation.
    reason: String,
    /// The property changes that force a replacement (or may, for an update).
    causes: Vec<&'a PropertyChange>,
}

/// Renders a diff as a JSON document: pretty-printed, or on one line when
/// nothing changes.
#[must_use]
pub fn render(diff: &Diff, baseline: &str) -> String {
    let (added, removed, changed) = diff.artifact_counts();
    let fails: Vec<Risk<'_>> = diff
        .will_fail()
        .map(|fail| Risk {
            reason: fail_reason(&fail),
            ..risk(fail)
        })
        .collect();
    let risks: Vec<Risk<'_>> = diff.at_risk().map(risk).collect();
    let document = Document {
        version: 1,
        baseline,
        changes: !diff.is_empty(),
        worst: diff.worst(),
        summary: Summary {
            resources: diff.counts(),
            artifacts: ArtifactCounts {
                added,
                removed,
                changed,
            },
            will_fail: fails.len(),
            data_at_risk: risks.len(),
            security: diff.security.len(),
        },
        summary_by_heritage: &diff.summary.entries,
        summary_note: diff.summary.note.as_deref(),
        cost: diff.cost.as_ref(),
        will_fail: fails,
        data_at_risk: risks,
        security: &diff.security,
        stacks: &diff.stacks,
        artifacts: &diff.artifacts,
        drift: &diff.drift,
    };
    let mut text = if diff.is_empty() {
        serde_json::to_string(&document)
    } else {
        serde_json::to_string_pretty(&document)
    }
    .expect("the diff serializes");
    text.push('\n');
    text
}

/// The JSON form of a resource that will fail or whose data is at risk.
fn risk(risk: AtRisk<'_>) -> Risk<'_> {
    Risk {
        stack: risk.stack.name(),
        path: &risk.stack.path,
        logical_id: &risk.resource.logical_id,
        resource_type: &risk.resource.resource_type,
        action: risk.resource.action,
        reason: risk_reason(&risk),
        causes: risk
            .resource
            .properties
            .iter()
            .filter(|p| match risk.resource.action {
                Action::Update => p.replacement == Replacement::Conditional,
                _ => p.replacement == Replacement::Always,
            })
            .collect(),
    }
}
