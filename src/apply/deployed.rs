//! Deployed: what CloudFormation holds for the stacks of `out/`, in the
//! shape of `out/` itself, so `berth diff --deployed` compares the two with
//! the diff engine as it compares two builds.
//!
//! Reading calls only: `sts get-caller-identity` (a district's
//! `account_id` is checked as apply checks it), then per stack
//! `describe-stacks` (its parameters and tags) and `get-template
//! --template-stage Original` (the template as submitted). A stack that
//! does not exist is left out: the diff shows it as added.
//!
//! [`drift`] asks CloudFormation's drift detection about the resources
//! themselves (`detect-stack-drift`, polled with a bound, then
//! `describe-stack-resource-drifts`): what was changed outside
//! CloudFormation, which a template comparison cannot see.

use std::collections::BTreeMap;

use crate::apply::aws::{Ctx, Template, args};
use crate::apply::deploy::whoami;
use serde::Deserialize;

use crate::apply::{ApplyError, Artifacts, Runner, Settings, StackArtifact, Ui, stack};
use crate::diff::{DriftDifference, ResourceDrift};

/// The deployed counterpart of every stack file of `out/` (templates and
/// `app.params.json`), keyed by path under `out/`, with `out/`'s manifest so
/// stacks keep their names. Templates are written as berth writes JSON, so
/// the text hunks show only what differs.
pub fn deployed(
    artifacts: &Artifacts,
    settings: &Settings,
    runner: &mut dyn Runner,
    ui: &mut dyn Ui,
) -> Result<BTreeMap<String, String>, ApplyError> {
    let mut ctx = Ctx {
        runner,
        ui,
        settings,
        follow: "nothing was changed".to_owned(),
        region: artifacts.districts.first().and_then(|d| d.region.clone()),
        bucket: None,
        bucket_exported: false,
        copy: None,
    };
    let accounts: Vec<(&str, &str)> = artifacts
        .districts
        .iter()
        .filter_map(|d| Some((d.name.as_str(), d.account_id.as_deref()?)))
        .collect();
    whoami(&mut ctx, &accounts)?;
    let mut files = BTreeMap::new();
    if let Some(manifest) = artifacts.files.get(crate::emit::MANIFEST) {
        files.insert(crate::emit::MANIFEST.to_owned(), manifest.clone());
    }
    for district in &artifacts.districts {
        ctx.region.clone_from(&district.region);
        for artifact in district.stacks() {
            read_stack(&mut ctx, artifact, &mut files)?;
        }
    }
    Ok(files)
}

/// The stack's template path under `out/`, as the diff keys files.
fn out_path(artifact: &StackArtifact) -> &str {
    artifact
        .template_path
        .strip_prefix("out/")
        .unwrap_or(&artifact.template_path)
}

/// Adds what is deployed of one stack to `files`: nothing when it does not
/// exist.
fn read_stack(
    ctx: &mut Ctx<'_>,
    artifact: &StackArtifact,
    files: &mut BTreeMap<String, String>,
) -> Result<(), ApplyError> {
    let Some(deployed) = stack::describe(ctx, &artifact.name)? else {
        return Ok(());
    };
    let command = args([
        "cloudformation",
        "get-template",
        "--stack-name",
        &artifact.name,
        "--template-stage",
        "Original",
    ]);
    let template: Template = ctx.call(&command)?;
    let path = out_path(artifact);
    let text = match template.template_body {
        // A template deployed as YAML comes back as a string: compared as
        // text, its resources are unreadable to the diff, which says so.
        Some(serde_json::Value::String(text)) => text,
        Some(body) => crate::render::canonical(body),
        None => String::new(),
    };
    files.insert(path.to_owned(), text);
    // The parameters file beside an app stack: what the stack was given.
    let params = path.rsplit_once('/').map_or_else(
        || "app.params.json".to_owned(),
        |(dir, _)| format!("{dir}/app.params.json"),
    );
    if path.ends_with("/app.cfn.json") {
        let parameters: serde_json::Map<String, serde_json::Value> = deployed
            .parameters
            .iter()
            .map(|p| (p.parameter_key.clone(), p.parameter_value.clone().into()))
            .collect();
        let tags: serde_json::Map<String, serde_json::Value> = deployed
            .tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone().into()))
            .collect();
        let document = serde_json::json!({"Parameters": parameters, "Tags": tags});
        files.insert(params, crate::render::canonical(document));
    }
    Ok(())
}

/// The resources of every deployed stack of `out/` that drift detection
/// finds modified or deleted, in `out/` order. `deployed` is what
/// [`deployed`] found: stacks it has no template of do not exist and are
/// skipped. Each detection is polled at most `change_set_polls` times.
pub fn drift(
    artifacts: &Artifacts,
    deployed: &BTreeMap<String, String>,
    settings: &Settings,
    runner: &mut dyn Runner,
    ui: &mut dyn Ui,
) -> Result<Vec<ResourceDrift>, ApplyError> {
    let mut ctx = Ctx {
        runner,
        ui,
        settings,
        follow: "drift detection changes nothing; run it again".to_owned(),
        region: None,
        bucket: None,
        bucket_exported: false,
        copy: None,
    };
    let mut found = Vec::new();
    for district in &artifacts.districts {
        ctx.region.clone_from(&district.region);
        for artifact in district.stacks() {
            if deployed.contains_key(out_path(artifact)) {
                found.extend(detect(&mut ctx, &artifact.name)?);
            }
        }
    }
    Ok(found)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Detection {
    stack_drift_detection_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DetectionStatus {
    detection_status: String,
    #[serde(default)]
    detection_status_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Drifts {
    #[serde(default)]
    stack_resource_drifts: Vec<Drift>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Drift {
    logical_resource_id: String,
    resource_type: String,
    stack_resource_drift_status: String,
    #[serde(default)]
    property_differences: Vec<PropertyDifference>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PropertyDifference {
    property_path: String,
    #[serde(default)]
    expected_value: Option<String>,
    #[serde(default)]
    actual_value: Option<String>,
    difference_type: String,
}

/// Runs drift detection on one stack and lists its drifted resources.
fn detect(ctx: &mut Ctx<'_>, name: &str) -> Result<Vec<ResourceDrift>, ApplyError> {
    let started: Detection = ctx.call(&args([
        "cloudformation",
        "detect-stack-drift",
        "--stack-name",
        name,
    ]))?;
    let id = started.stack_drift_detection_id;
    let polls = ctx.settings.timing.change_set_polls;
    let mut done = false;
    for _ in 0..polls {
        let status: DetectionStatus = ctx.call(&args([
            "cloudformation",
            "describe-stack-drift-detection-status",
            "--stack-drift-detection-id",
            &id,
        ]))?;
        match status.detection_status.as_str() {
            "DETECTION_IN_PROGRESS" => ctx.pause()?,
            "DETECTION_COMPLETE" => {
                done = true;
                break;
            }
            _ => {
                // DETECTION_FAILED: some resources could not be checked; the
                // ones that could are listed below, and the reason is said.
                ctx.ui.say(&format!(
                    "warning: drift detection of `{name}` did not check every resource: {}",
                    status.detection_status_reason.unwrap_or_default()
                ));
                done = true;
                break;
            }
        }
    }
    if !done {
        return Err(ApplyError::Timeout {
            what: format!("drift detection of `{name}`"),
            polls,
            follow: format!(
                "see it with `aws cloudformation describe-stack-drift-detection-status --stack-drift-detection-id {id}`"
            ),
        });
    }
    let drifts: Drifts = ctx.call(&args([
        "cloudformation",
        "describe-stack-resource-drifts",
        "--stack-name",
        name,
        "--stack-resource-drift-status-filters",
        "MODIFIED",
        "DELETED",
    ]))?;
    let mut found: Vec<ResourceDrift> = drifts
        .stack_resource_drifts
        .into_iter()
        .map(|d| ResourceDrift {
            stack: name.to_owned(),
            logical_id: d.logical_resource_id,
            resource_type: d.resource_type,
            status: d.stack_resource_drift_status,
            differences: d
                .property_differences
                .into_iter()
                .map(|p| DriftDifference {
                    path: p.property_path,
                    expected: p.expected_value,
                    actual: p.actual_value,
                    kind: p.difference_type,
                })
                .collect(),
        })
        .collect();
    found.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    Ok(found)
}
