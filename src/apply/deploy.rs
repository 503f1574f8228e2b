//! The deploy: which stacks and tasks, in which order (one heritage after
//! another, or in waves that wait for their services), and destroy.

use std::collections::BTreeMap;

use crate::apply::artifacts::DistrictArtifacts;
use crate::apply::aws::{Ctx, Identity, args};
use crate::apply::risk::{self, After};
use crate::apply::stack::{self, Plan, STATEFUL};
use crate::apply::task::{self, Job, Value};
use crate::apply::{
    ApplyError, Artifacts, HeritageArtifacts, PrivateCopy, Runner, Selection, Settings,
    StackOutcome, Ui, WaveOutcome, WaveReport, service, wave,
};

fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = items.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// The districts and heritages to apply, in `out/` order.
fn select<'a>(
    artifacts: &'a Artifacts,
    selection: &Selection,
) -> Result<Vec<(&'a DistrictArtifacts, Vec<&'a HeritageArtifacts>)>, ApplyError> {
    if let Some(district) = &selection.district
        && !artifacts.districts.iter().any(|d| &d.name == district)
    {
        return Err(ApplyError::Selection(format!(
            "no district `{district}` in out/; it has {}",
            names(artifacts.districts.iter().map(|d| d.name.as_str()))
        )));
    }
    let all = || artifacts.districts.iter().flat_map(|d| &d.heritages);
    for heritage in &selection.heritages {
        let found = all().find(|h| &h.name == heritage);
        match (found, &selection.district) {
            (None, _) => {
                return Err(ApplyError::Selection(format!(
                    "no heritage `{heritage}` in out/; it has {}",
                    names(all().map(|h| h.name.as_str()))
                )));
            }
            (Some(h), Some(d)) if &h.district != d => {
                return Err(ApplyError::Selection(format!(
                    "heritage `{heritage}` is in district `{}`, not `{d}`",
                    h.district
                )));
            }
            _ => {}
        }
    }
    let mut chosen = Vec::new();
    for district in &artifacts.districts {
        if selection
            .district
            .as_ref()
            .is_some_and(|d| d != &district.name)
        {
            continue;
        }
        let heritages: Vec<&HeritageArtifacts> = district
            .heritages
            .iter()
            .filter(|h| selection.heritages.is_empty() || selection.heritages.contains(&h.name))
            .collect();
        if !selection.heritages.is_empty() && heritages.is_empty() {
            continue;
        }
        chosen.push((district, heritages));
    }
    Ok(chosen)
}

/// Says who the caller is; refuses credentials of another account than one
/// of `accounts` (district and its account, as the districts name them).
pub(crate) fn whoami(ctx: &mut Ctx<'_>, accounts: &[(&str, &str)]) -> Result<(), ApplyError> {
    let command = args(["sts", "get-caller-identity"]);
    if ctx.settings.dry_run {
        ctx.print(&command);
    }
    let identity: Identity = ctx.call(&command)?;
    let line = format!(
        "{}AWS account {} as {}",
        if ctx.settings.dry_run { "# " } else { "" },
        identity.account,
        identity.arn
    );
    ctx.ui.say(&line);
    match accounts.iter().find(|(_, want)| *want != identity.account) {
        Some((district, want)) => Err(ApplyError::Account {
            district: (*district).to_owned(),
            want: (*want).to_owned(),
            got: identity.account,
        }),
        None => Ok(()),
    }
}

/// Stacks changed and up to date, told to the user interface as they settle.
#[derive(Default)]
struct Tally {
    changed: usize,
    unchanged: usize,
}

impl Tally {
    fn record(&mut self, ctx: &mut Ctx<'_>, stack: &str, changed: bool) {
        let outcome = match (changed, ctx.settings.dry_run) {
            (false, _) => StackOutcome::UpToDate,
            (true, true) => StackOutcome::WouldChange,
            (true, false) => StackOutcome::Changed,
        };
        if changed {
            self.changed += 1;
        } else {
            self.unchanged += 1;
        }
        ctx.ui.stack(stack, outcome);
    }
}

/// Runs a whole stack: prepare, then execute. Returns its outputs and
/// whether it changed.
fn deploy_stack(
    ctx: &mut Ctx<'_>,
    artifact: &crate::apply::StackArtifact,
) -> Result<(BTreeMap<String, String>, bool), ApplyError> {
    match stack::prepare(ctx, artifact)? {
        Plan::UpToDate(outputs) => Ok((outputs, false)),
        Plan::Ready(prepared) => Ok((stack::execute(ctx, &prepared)?, true)),
    }
}

/// Deploys one heritage: its data stack, `before_deploy` and its app
/// stack. Returns whether its app stack changed.
fn deploy_heritage(
    ctx: &mut Ctx<'_>,
    tally: &mut Tally,
    heritage: &HeritageArtifacts,
    district_outputs: &BTreeMap<String, String>,
    district_stack: &str,
) -> Result<bool, ApplyError> {
    let mut roles: Option<(BTreeMap<String, String>, String)> = None;
    if let Some(data) = &heritage.data {
        let (outputs, did) = deploy_stack(ctx, data)?;
        tally.record(ctx, &data.name, did);
        roles = Some((outputs, data.name.clone()));
    }
    let Some(app) = &heritage.app else {
        return Ok(false);
    };
    let prepared = match stack::prepare(ctx, app)? {
        Plan::UpToDate(_) => {
            tally.record(ctx, &app.name, false);
            return Ok(false);
        }
        Plan::Ready(prepared) => prepared,
    };
    if let Some((path, text)) = &heritage.before_deploy {
        // berth writes a data stack beside every app stack; it holds
        // the roles and values the one-off task runs with.
        let Some((outputs, from)) = roles.clone() else {
            return Err(ApplyError::BeforeDeploy(format!(
                "`out/` has no data stack for `{}`, whose roles `before_deploy` runs with: run `berth build`",
                heritage.name
            )));
        };
        let job = Job {
            heritage: &heritage.name,
            path,
            text,
            cluster: Value::from_outputs(district_outputs, district_stack, "ClusterName"),
            subnets: Value::from_outputs(district_outputs, district_stack, "PrivateSubnets"),
            security_group: Value::from_outputs(
                district_outputs,
                district_stack,
                "ContainerSecurityGroupId",
            ),
            values: task::placeholders(text)
                .into_iter()
                .map(|name| {
                    let value = Value::from_outputs(&outputs, &from, &task::output_key(&name));
                    (name, value)
                })
                .collect(),
        };
        if let Err(error) = task::run(ctx, &job) {
            if let (Some(id), false) = (
                &prepared.change_set,
                matches!(error, ApplyError::Interrupted { .. }),
            ) {
                stack::delete_change_set(ctx, id)?;
            }
            return Err(error);
        }
    }
    stack::execute(ctx, &prepared)?;
    tally.record(ctx, &app.name, true);
    Ok(true)
}

/// A district's waves as they run: each wave's report, told to the user
/// interface once it is settled.
struct WaveRun {
    district: String,
    reports: Vec<WaveReport>,
}

impl WaveRun {
    fn new(district: &str, waves: &[Vec<&HeritageArtifacts>]) -> Self {
        let reports = waves
            .iter()
            .enumerate()
            .map(|(i, wave)| WaveReport {
                district: district.to_owned(),
                number: i + 1,
                heritages: wave.iter().map(|h| h.name.clone()).collect(),
                outcome: WaveOutcome::NotStarted,
            })
            .collect();
        Self {
            district: district.to_owned(),
            reports,
        }
    }

    /// Deploys each wave's heritages, then waits for the services of the
    /// app stacks it changed; stops at the first failure with a summary.
    fn go(
        &mut self,
        ctx: &mut Ctx<'_>,
        tally: &mut Tally,
        waves: &[Vec<&HeritageArtifacts>],
        district_outputs: &BTreeMap<String, String>,
        district_stack: &str,
        later: &[String],
    ) -> Result<(), ApplyError> {
        let count = waves.len();
        let dry_run = ctx.settings.dry_run;
        let hash = if dry_run { "# " } else { "" };
        if dry_run {
            let spec = ctx
                .settings
                .waves
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            ctx.ui.say(&format!(
                "# waves of `{}` (--waves {spec}): {count} wave(s), each waiting for the services it changes before the next",
                self.district
            ));
        }
        let cluster = Value::from_outputs(district_outputs, district_stack, "ClusterName");
        for (i, wave) in waves.iter().enumerate() {
            let all = self.reports[i].heritages.clone();
            ctx.ui.say(&format!(
                "{hash}wave {} of {count}: {}",
                i + 1,
                names(all.iter().map(String::as_str))
            ));
            let mut deployed = Vec::new();
            let mut changed = Vec::new();
            for heritage in wave {
                match deploy_heritage(ctx, tally, heritage, district_outputs, district_stack) {
                    Ok(true) => changed.push(*heritage),
                    Ok(false) => {}
                    Err(error) => {
                        self.stopped(ctx, i, Some(&heritage.name), deployed, &error, later);
                        return Err(error);
                    }
                }
                deployed.push(heritage.name.clone());
            }
            for heritage in changed {
                let Some(app) = &heritage.app else { continue };
                let waited = service::names(ctx, app)
                    .and_then(|services| service::wait(ctx, &heritage.name, &cluster, &services));
                if let Err(error) = waited {
                    let others = all
                        .iter()
                        .filter(|h| **h != heritage.name)
                        .cloned()
                        .collect();
                    self.stopped(ctx, i, Some(&heritage.name), others, &error, later);
                    return Err(error);
                }
            }
            self.reports[i].outcome = if dry_run {
                WaveOutcome::WouldDeploy
            } else {
                WaveOutcome::Done
            };
            ctx.ui.wave(&self.reports[i]);
            if !dry_run {
                ctx.ui.say(&format!("wave {} of {count} done", i + 1));
            }
        }
        if !dry_run {
            ctx.ui.say(&format!(
                "waves of `{}`: {count} of {count} done",
                self.district
            ));
        }
        Ok(())
    }

    /// Wave `index` stopped at `heritage` (`None`: before it began) with
    /// `error`: tells what became of it and of every later wave, then the
    /// summary.
    fn stopped(
        &mut self,
        ctx: &mut Ctx<'_>,
        index: usize,
        heritage: Option<&str>,
        deployed: Vec<String>,
        error: &ApplyError,
        later: &[String],
    ) {
        let reason = error.to_string();
        let reason = reason.lines().next().unwrap_or_default().to_owned();
        let Some(report) = self.reports.get_mut(index) else {
            return;
        };
        report.outcome = WaveOutcome::Failed {
            heritage: heritage.map(str::to_owned),
            reason,
            deployed,
        };
        for report in &self.reports[index..] {
            ctx.ui.wave(report);
        }
        let hash = if ctx.settings.dry_run { "# " } else { "" };
        for line in wave::summary(&self.district, &self.reports, later) {
            ctx.ui.say(&format!("{hash}{line}"));
        }
    }
}

/// Deploys the selected part of the fleet: district stack → each
/// heritage's data stack → `before_deploy` → app stack; with
/// `settings.waves`, the heritages of each district in waves.
pub fn apply(
    artifacts: &Artifacts,
    selection: &Selection,
    settings: &Settings,
    runner: &mut dyn Runner,
    ui: &mut dyn Ui,
) -> Result<(), ApplyError> {
    let chosen = select(artifacts, selection)?;
    for (district, _) in &chosen {
        check_region(settings, &district.name, district.region.as_deref())?;
        if let Some(stack) = &district.stack {
            stack::fits_inline(stack)?;
        }
    }
    // The AWS CLI reads template files itself, at call time: hand it a
    // private copy of the bytes checked against the manifest, never `out/`.
    let copy = if settings.dry_run {
        None
    } else {
        Some(
            PrivateCopy::new(&settings.scratch, artifacts.templates()).map_err(|e| {
                ApplyError::PrivateCopy {
                    dir: settings.scratch.display().to_string(),
                    reason: e.to_string(),
                }
            })?,
        )
    };
    let mut ctx = Ctx {
        runner,
        ui,
        settings,
        follow: "nothing was left running; run berth apply again".to_owned(),
        region: None,
        bucket: None,
        bucket_exported: false,
        copy: copy.as_ref(),
    };
    if settings.dry_run {
        ctx.ui.say("# berth apply --dry-run: the AWS CLI commands apply would run, in order; nothing was changed");
    }
    if let Some(origin) = &settings.origin {
        let hash = if settings.dry_run { "# " } else { "" };
        ctx.ui.say(&format!("{hash}{origin}"));
    }
    // The caller's identity is the same in every region: ask the first
    // district's.
    ctx.region = chosen.first().and_then(|(d, _)| d.region.clone());
    let accounts: Vec<(&str, &str)> = chosen
        .iter()
        .filter_map(|(d, _)| Some((d.name.as_str(), d.account_id.as_deref()?)))
        .collect();
    whoami(&mut ctx, &accounts)?;
    let mut tally = Tally::default();
    let districts: Vec<String> = chosen.iter().map(|(d, _)| d.name.clone()).collect();
    for (index, (district, heritages)) in chosen.into_iter().enumerate() {
        let district_stack = district
            .stack
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        ctx.region.clone_from(&district.region);
        ctx.bucket = None;
        ctx.bucket_exported = false;
        let waves = settings.waves.as_ref().map(|w| w.cut(&heritages));
        let later = &districts[index + 1..];
        let mut district_outputs = BTreeMap::new();
        if let Some(artifact) = &district.stack {
            let (outputs, did) = match deploy_stack(&mut ctx, artifact) {
                Ok(deployed) => deployed,
                Err(error) => {
                    if let Some(waves) = &waves {
                        let mut run = WaveRun::new(&district.name, waves);
                        run.stopped(&mut ctx, 0, None, Vec::new(), &error, later);
                    }
                    return Err(error);
                }
            };
            district_outputs = outputs;
            tally.record(&mut ctx, &artifact.name, did);
            ctx.bucket = Some(Value::from_outputs(
                &district_outputs,
                &district_stack,
                stack::BUCKET_OUTPUT,
            ));
        }
        let Some(waves) = waves else {
            for heritage in heritages {
                deploy_heritage(
                    &mut ctx,
                    &mut tally,
                    heritage,
                    &district_outputs,
                    &district_stack,
                )?;
            }
            continue;
        };
        let mut run = WaveRun::new(&district.name, &waves);
        run.go(
            &mut ctx,
            &mut tally,
            &waves,
            &district_outputs,
            &district_stack,
            later,
        )?;
    }
    let Tally { changed, unchanged } = tally;
    let summary = if settings.dry_run {
        format!("# dry run: {changed} stack(s) would go through a change set; nothing was changed")
    } else {
        format!("applied: {changed} stack(s) changed, {unchanged} up to date")
    };
    ctx.ui.say(&summary);
    Ok(())
}

/// Deletes a heritage's app stack, and its data stack with
/// `allow_data_loss`; says what remains.
pub fn destroy(
    artifacts: &Artifacts,
    heritage: &str,
    district: Option<&str>,
    settings: &Settings,
    runner: &mut dyn Runner,
    ui: &mut dyn Ui,
) -> Result<(), ApplyError> {
    let found = artifacts.heritage(heritage);
    let district = match (found, district) {
        (Some(h), Some(d)) if h.district != d => {
            return Err(ApplyError::Selection(format!(
                "heritage `{heritage}` is in district `{}`, not `{d}`",
                h.district
            )));
        }
        (Some(h), _) => h.district.clone(),
        (None, Some(d)) => d.to_owned(),
        (None, None) => {
            return Err(ApplyError::Selection(format!(
                "no heritage `{heritage}` in out/; to destroy the stacks of an instance removed from the sources, name its district: --district D"
            )));
        }
    };
    let found_district = artifacts.districts.iter().find(|d| d.name == district);
    let region = found_district.and_then(|d| d.region.clone());
    let account = found_district.and_then(|d| d.account_id.as_deref());
    check_region(settings, &district, region.as_deref())?;
    let app = found
        .and_then(|h| h.app.as_ref().map(|s| s.name.clone()))
        .unwrap_or_else(|| crate::plan::app_stack(&district, heritage));
    let data_artifact = found.and_then(|h| h.data.as_ref());
    let data =
        data_artifact.map_or_else(|| format!("{district}-{heritage}-data"), |s| s.name.clone());
    let mut ctx = Ctx {
        runner,
        ui,
        settings,
        follow: "nothing was left running".to_owned(),
        region: region.clone(),
        bucket: None,
        bucket_exported: false,
        copy: None,
    };
    let hash = if settings.dry_run { "# " } else { "" };
    if settings.dry_run {
        ctx.ui.say("# berth destroy --dry-run: the AWS CLI commands destroy would run; nothing was changed");
    }
    let accounts: Vec<(&str, &str)> = account
        .map(|a| (district.as_str(), a))
        .into_iter()
        .collect();
    whoami(&mut ctx, &accounts)?;
    let mut targets = vec![app.clone()];
    if settings.allow_data_loss {
        targets.push(data.clone());
    }
    let mut data_exists = false;
    for name in &targets {
        if stack::describe(&mut ctx, name)?.is_none() {
            ctx.ui
                .say(&format!("{hash}`{name}` does not exist: nothing to delete"));
            ctx.ui.stack(name, StackOutcome::Missing);
            continue;
        }
        if settings.dry_run {
            risk::report(&mut ctx, name, &After::Deleted)?;
        }
        stack::confirm(
            &mut ctx,
            &format!("delete the stack `{name}`?"),
            &format!("`{name}` was left as it is"),
        )?;
        stack::delete(&mut ctx, name)?;
        if settings.dry_run {
            ctx.ui.stack(name, StackOutcome::WouldDelete);
        } else {
            ctx.ui.say(&format!("`{name}` is deleted"));
            ctx.ui.stack(name, StackOutcome::Deleted);
        }
    }
    if !settings.allow_data_loss {
        data_exists = stack::describe(&mut ctx, &data)?.is_some();
    }
    ctx.ui.say(&format!("{hash}what remains:"));
    ctx.ui.say(&format!(
        "{hash}  `{district}-district`, the district stack, shared by every heritage of `{district}`"
    ));
    if data_exists {
        ctx.ui.say(&format!(
            "{hash}  `{data}`, the data stack of `{heritage}` (its databases, caches, buckets, repositories): delete it with --allow-data-loss"
        ));
    }
    if settings.allow_data_loss {
        let kept = data_artifact
            .map(|s| retained(&s.template))
            .unwrap_or_default();
        for line in kept {
            ctx.ui.say(&format!("{hash}  {line}"));
        }
    }
    ctx.ui.say(&format!(
        "{hash}  the revisions of task definition family `{heritage}-before-deploy` that apply registered for `before_deploy` (deregister them with `aws ecs deregister-task-definition`)"
    ));
    Ok(())
}

/// Refuses a `--region` other than the district's own.
fn check_region(
    settings: &Settings,
    district: &str,
    region: Option<&str>,
) -> Result<(), ApplyError> {
    match (&settings.region, region) {
        (Some(flag), Some(region)) if flag != region => Err(ApplyError::Region {
            flag: flag.clone(),
            district: district.to_owned(),
            region: region.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// What a deleted data stack leaves behind: its resources with a `Retain`
/// or `Snapshot` deletion policy.
fn retained(template: &serde_json::Value) -> Vec<String> {
    let Some(resources) = template.get("Resources").and_then(|r| r.as_object()) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter_map(|(id, r)| {
            let kind = r.get("Type")?.as_str()?;
            let policy = r.get("DeletionPolicy")?.as_str()?;
            let what = match policy {
                "Retain" | "RetainExceptOnCreate" => "kept as it is",
                "Snapshot" => "a final snapshot is kept",
                _ => return None,
            };
            let stateful = if STATEFUL.contains(&kind) {
                ", with its data"
            } else {
                ""
            };
            Some(format!(
                "`{id}` ({kind}{stateful}): {what} (DeletionPolicy {policy})"
            ))
        })
        .collect()
}
