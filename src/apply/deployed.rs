//! Deployed: what CloudFormation holds for the stacks of `out/`, in the
//! shape of `out/` itself, so `berth diff --deployed` compares the two with
//! the diff engine as it compares two builds.
//!
//! Reading calls only: `sts get-caller-identity` (a district's
//! `account_id` is checked as apply checks it), then per stack
//! `describe-stacks` (its parameters and tags) and `get-template
//! --template-stage Original` (the template as submitted). A stack that
//! does not exist is left out: the diff shows it as added.

use std::collections::BTreeMap;

use crate::apply::aws::{Ctx, Template, args};
use crate::apply::deploy::whoami;
use crate::apply::{ApplyError, Artifacts, Runner, Settings, StackArtifact, Ui, stack};

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
        let stacks = district.stack.iter().chain(
            district
                .heritages
                .iter()
                .flat_map(|h| h.data.iter().chain(&h.app)),
        );
        for artifact in stacks {
            read_stack(&mut ctx, artifact, &mut files)?;
        }
    }
    Ok(files)
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
    let path = artifact
        .template_path
        .strip_prefix("out/")
        .unwrap_or(&artifact.template_path);
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
