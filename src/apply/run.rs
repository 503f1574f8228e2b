//! `berth run`: one command in a one-off ECS task, from the task definition
//! a heritage's service runs now, in that service's cluster and network.
//!
//! It reads `out/` (which service is the web one, `run_env.vars`, from the
//! app template's `berth` metadata; the district's region and stack) and
//! the deployed stacks and service (`describe-stacks`, `describe-services`,
//! `describe-task-definition`), never the YAML. It waits for the task to
//! stop while streaming its `CloudWatch` log lines, and answers with the
//! container's exit code. Like the rest of apply it only talks to the AWS
//! CLI and the person through [`crate::apply::Runner`] and [`crate::apply::Ui`].

use serde::Deserialize;

use crate::apply::aws::{Ctx, Tasks, args, clock};
use crate::apply::{ApplyError, Artifacts, HeritageArtifacts, Runner, Settings, Ui, stack, task};

/// What to run, resolved from the command line.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    pub heritage: String,
    /// The service whose task definition runs; `None`: the web service.
    pub service: Option<String>,
    /// `--env K=V`, on top of `run_env.vars` (a name given here wins).
    pub env: Vec<(String, String)>,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub command: Vec<String>,
    /// Start the task and return with its ARN and log stream.
    pub detach: bool,
}

/// How a run ended, when berth itself did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// The container stopped with this exit code.
    Exited(i64),
    /// `--detach`: the task was started and keeps running.
    Detached,
    /// `--dry-run`: the calls were printed.
    DryRun,
}

/// The `started-by` of every task `berth run` starts (ECS keeps 36 characters).
const STARTED_BY: &str = "berth-run";
/// Pages of log events read per poll (each up to 10,000 events or 1 MB).
const LOG_PAGES: u32 = 10;

#[derive(Debug, Deserialize)]
struct Services {
    #[serde(default)]
    services: Vec<DeployedService>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeployedService {
    #[serde(default)]
    status: String,
    task_definition: String,
    #[serde(default)]
    launch_type: Option<String>,
    #[serde(default)]
    capacity_provider_strategy: Vec<serde_json::Value>,
    #[serde(default)]
    network_configuration: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribedTaskDefinition {
    task_definition: DeployedTaskDefinition,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeployedTaskDefinition {
    #[serde(default)]
    container_definitions: Vec<ContainerDefinition>,
    /// Task-level sizes (Fargate); `--cpu`/`--memory` override them too.
    #[serde(default)]
    cpu: Option<String>,
    #[serde(default)]
    memory: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerDefinition {
    name: String,
    #[serde(default)]
    log_configuration: Option<LogConfiguration>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogConfiguration {
    log_driver: String,
    #[serde(default)]
    options: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEvents {
    #[serde(default)]
    events: Vec<LogEvent>,
    #[serde(default)]
    next_forward_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LogEvent {
    #[serde(default)]
    message: String,
}

/// What `out/` says about the heritage: its district's stack and region,
/// the ECS service name and the extra environment.
struct Target<'a> {
    heritage: &'a HeritageArtifacts,
    district_stack: String,
    region: Option<String>,
    service: String,
    service_name: String,
    run_env: Vec<(String, String)>,
}

fn target<'a>(artifacts: &'a Artifacts, request: &RunRequest) -> Result<Target<'a>, ApplyError> {
    let Some(heritage) = artifacts.heritage(&request.heritage) else {
        let names: Vec<String> = artifacts
            .districts
            .iter()
            .flat_map(|d| &d.heritages)
            .map(|h| format!("`{}`", h.name))
            .collect();
        return Err(ApplyError::Selection(format!(
            "`out/` has no heritage `{}`; it has {}",
            request.heritage,
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        )));
    };
    let district = artifacts
        .districts
        .iter()
        .find(|d| d.name == heritage.district);
    let app = heritage.app.as_ref().ok_or_else(|| {
        ApplyError::Selection(format!(
            "`out/` has no app stack for `{}`: run `berth build`",
            heritage.name
        ))
    })?;
    // Every ECS service of the app template, by its berth service name
    // (`ServiceName` is `<heritage>-<service>`).
    let prefix = format!("{}-", heritage.name);
    let services: Vec<(String, String)> = app
        .template
        .get("Resources")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flat_map(|resources| resources.values())
        .filter(|r| r.get("Type").and_then(serde_json::Value::as_str) == Some("AWS::ECS::Service"))
        .filter_map(|r| r.pointer("/Properties/ServiceName")?.as_str())
        .filter_map(|full| {
            let short = full.strip_prefix(&prefix)?;
            Some((short.to_owned(), full.to_owned()))
        })
        .collect();
    let metadata = app.template.pointer("/Metadata/berth");
    let listed = || {
        let names: Vec<String> = services.iter().map(|(s, _)| format!("`{s}`")).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let service = match &request.service {
        Some(service) => service.clone(),
        None => metadata
            .and_then(|m| m.get("WebService"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                ApplyError::Selection(format!(
                    "`{}` has no web service to run by default; its services: {}\n  help: name one with `--service S`",
                    heritage.name,
                    listed()
                ))
            })?,
    };
    let Some((_, service_name)) = services.iter().find(|(s, _)| *s == service) else {
        return Err(ApplyError::Selection(format!(
            "`{}` has no service `{service}`; its services: {}",
            heritage.name,
            listed()
        )));
    };
    let run_env = metadata
        .and_then(|m| m.get("RunEnv"))
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            Some((
                v.get("Name")?.as_str()?.to_owned(),
                v.get("Value")?.as_str()?.to_owned(),
            ))
        })
        .collect();
    Ok(Target {
        heritage,
        district_stack: district.and_then(|d| d.stack.as_ref()).map_or_else(
            || format!("{}-district", heritage.district),
            |s| s.name.clone(),
        ),
        region: district.and_then(|d| d.region.clone()),
        service,
        service_name: service_name.clone(),
        run_env,
    })
}

fn district_account<'a>(artifacts: &'a Artifacts, district: &str) -> Option<&'a str> {
    artifacts
        .districts
        .iter()
        .find(|d| d.name == district)?
        .account_id
        .as_deref()
}

/// `run_env.vars`, then `--env` (a name given twice keeps the last value).
fn environment(run_env: &[(String, String)], env: &[(String, String)]) -> Vec<serde_json::Value> {
    let mut merged: Vec<(String, String)> = Vec::new();
    for (name, value) in run_env.iter().chain(env) {
        merged.retain(|(n, _)| n != name);
        merged.push((name.clone(), value.clone()));
    }
    merged
        .into_iter()
        .map(|(name, value)| serde_json::json!({"name": name, "value": value}))
        .collect()
}

/// The `--overrides` of `run-task`: the command, the environment and the
/// sizes of the container (and of the task, when its definition sets them).
fn overrides(
    request: &RunRequest,
    run_env: &[(String, String)],
    container: &str,
    definition: Option<&DeployedTaskDefinition>,
) -> String {
    let mut container_override = serde_json::json!({
        "name": container,
        "command": request.command,
    });
    let environment = environment(run_env, &request.env);
    if !environment.is_empty() {
        container_override["environment"] = serde_json::Value::Array(environment);
    }
    let mut task_override = serde_json::json!({});
    if let Some(cpu) = request.cpu {
        container_override["cpu"] = cpu.into();
        if definition.is_some_and(|d| d.cpu.is_some()) {
            task_override["cpu"] = cpu.to_string().into();
        }
    }
    if let Some(memory) = request.memory {
        container_override["memory"] = memory.into();
        if definition.is_some_and(|d| d.memory.is_some()) {
            task_override["memory"] = memory.to_string().into();
        }
    }
    task_override["containerOverrides"] = serde_json::json!([container_override]);
    task_override.to_string()
}

/// Runs the request (or prints its calls, in a dry run).
pub fn run(
    artifacts: &Artifacts,
    request: &RunRequest,
    settings: &Settings,
    runner: &mut dyn Runner,
    ui: &mut dyn Ui,
) -> Result<RunOutcome, ApplyError> {
    let target = target(artifacts, request)?;
    if let (Some(flag), Some(region)) = (&settings.region, &target.region)
        && flag != region
    {
        return Err(ApplyError::Selection(format!(
            "`--region {flag}` is not the region of district `{}`, `{region}`, where `{}` runs\n  help: drop `--region`: berth passes `--region {region}` to every call",
            target.heritage.district, target.heritage.name
        )));
    }
    let mut ctx = Ctx {
        runner,
        ui,
        settings,
        follow: "nothing was started".to_owned(),
        region: target.region.clone(),
        bucket: None,
        bucket_exported: false,
        copy: None,
    };
    if settings.dry_run {
        ctx.ui.say(&format!(
            "# berth run --dry-run: the AWS CLI calls berth run would make for `{}` of `{}`; the read-only ones ran, nothing was started",
            target.service, target.heritage.name
        ));
    }
    // As apply: a district with an `account_id` is only run in with its
    // account's credentials.
    if let Some(account) = district_account(artifacts, &target.heritage.district) {
        crate::apply::deploy::whoami(&mut ctx, &[(&target.heritage.district, account)])?;
    }
    let not_deployed = |what: &str| {
        ApplyError::Stack(format!(
            "`{}` of `{}` is not deployed: {what}\n  help: deploy it with `berth apply --heritage {}` first",
            target.service, target.heritage.name, target.heritage.name
        ))
    };
    let cluster = stack::describe(&mut ctx, &target.district_stack)?
        .and_then(|s| s.outputs().get("ClusterName").cloned())
        .ok_or_else(|| {
            not_deployed(&format!(
                "the stack `{}` has no output `ClusterName`",
                target.district_stack
            ))
        })?;
    let describe_services = args([
        "ecs",
        "describe-services",
        "--cluster",
        &cluster,
        "--services",
        &target.service_name,
    ]);
    if settings.dry_run {
        ctx.print(&describe_services);
    }
    let services: Services = ctx.call(&describe_services)?;
    let service = services
        .services
        .into_iter()
        .find(|s| s.status == "ACTIVE")
        .ok_or_else(|| {
            not_deployed(&format!(
                "the cluster `{cluster}` has no active service `{}`",
                target.service_name
            ))
        })?;
    let describe_definition = args([
        "ecs",
        "describe-task-definition",
        "--task-definition",
        &service.task_definition,
    ]);
    if settings.dry_run {
        ctx.print(&describe_definition);
    }
    let described: DescribedTaskDefinition = ctx.call(&describe_definition)?;
    let definition = described.task_definition;
    let container = definition.container_definitions.first().ok_or_else(|| {
        ApplyError::Task(format!(
            "the task definition `{}` has no container to run the command in",
            service.task_definition
        ))
    })?;
    let container_name = container.name.clone();
    let log = container
        .log_configuration
        .as_ref()
        .filter(|l| l.log_driver == "awslogs")
        .and_then(|l| {
            Some((
                l.options.get("awslogs-group")?.clone(),
                l.options.get("awslogs-stream-prefix")?.clone(),
            ))
        });
    let mut run_task = args([
        "ecs",
        "run-task",
        "--cluster",
        &cluster,
        "--task-definition",
        &service.task_definition,
        "--count",
        "1",
        "--started-by",
        STARTED_BY,
    ]);
    // As the service runs: its capacity providers (berth's EC2 services)
    // or launch type (Fargate), and its awsvpc network.
    if !service.capacity_provider_strategy.is_empty() {
        run_task.push("--capacity-provider-strategy".to_owned());
        run_task
            .push(serde_json::Value::Array(service.capacity_provider_strategy.clone()).to_string());
    } else if let Some(launch_type) = &service.launch_type {
        run_task.extend(["--launch-type".to_owned(), launch_type.clone()]);
    }
    if let Some(network) = &service.network_configuration {
        run_task.push("--network-configuration".to_owned());
        run_task.push(network.to_string());
    }
    run_task.push("--overrides".to_owned());
    run_task.push(overrides(
        request,
        &target.run_env,
        &container_name,
        Some(&definition),
    ));
    if settings.dry_run {
        dry_run(
            &mut ctx,
            &run_task,
            &cluster,
            &container_name,
            log.as_ref(),
            request.detach,
        );
        return Ok(RunOutcome::DryRun);
    }
    let started: Tasks = ctx.call(&run_task)?;
    let Some(started_task) = started.tasks.into_iter().next() else {
        return Err(ApplyError::Task(format!(
            "the one-off task of `{}` could not be started on `{cluster}`: {}\n  help: make room on the cluster (or ask for less with `--cpu`/`--memory`) and run again",
            target.heritage.name,
            task::start_failures(&started.failures)
        )));
    };
    let arn = started_task.arn;
    let task_id = arn.rsplit('/').next().unwrap_or(&arn).to_owned();
    let stream = log.as_ref().map(|(group, prefix)| {
        (
            group.clone(),
            format!("{prefix}/{container_name}/{task_id}"),
        )
    });
    let region = ctx
        .region
        .clone()
        .or_else(|| settings.region.clone())
        .map(|r| format!(" --region {r}"))
        .unwrap_or_default();
    let follow_logs = stream.as_ref().map_or_else(
        || "its task definition has no awslogs configuration, so there is no log stream".to_owned(),
        |(group, name)| {
            format!(
                "follow its log: aws logs tail {group} --log-stream-names {name} --follow{region}"
            )
        },
    );
    ctx.follow = format!(
        "the task keeps running; stop it: aws ecs stop-task --cluster {cluster} --task {arn}{region}; {follow_logs}"
    );
    if request.detach {
        ctx.ui.say(&format!("task: {arn}"));
        match &stream {
            Some((group, name)) => ctx.ui.say(&format!("log stream: {group} {name}")),
            None => ctx
                .ui
                .say("log stream: none (the task definition has no awslogs configuration)"),
        }
        ctx.ui.say(&format!("help: {}", ctx.follow));
        return Ok(RunOutcome::Detached);
    }
    ctx.ui.say(&format!(
        "running `{}` of `{}` on `{cluster}`: task {task_id}",
        target.service, target.heritage.name
    ));
    let mut token: Option<String> = None;
    let start = ctx.ui.elapsed();
    let mut last = String::new();
    let polls = settings.timing.task_polls;
    for poll in 0..polls {
        if poll > 0 {
            ctx.pause()?;
        }
        let described: Tasks = ctx.call(&args([
            "ecs",
            "describe-tasks",
            "--cluster",
            &cluster,
            "--tasks",
            &arn,
        ]))?;
        let Some(task) = described.tasks.into_iter().next() else {
            return Err(ApplyError::Task(format!(
                "the task {task_id} vanished before berth saw it stop\n  help: {follow_logs}"
            )));
        };
        if task.last_status != last {
            let elapsed = clock(ctx.ui.elapsed().saturating_sub(start));
            ctx.ui.progress(
                "",
                &[format!("  [{elapsed}] task {task_id} {}", task.last_status)],
            );
            last.clone_from(&task.last_status);
        }
        if let Some(stream) = &stream {
            read_logs(&mut ctx, stream, &mut token)?;
        }
        if task.last_status != "STOPPED" {
            continue;
        }
        let exit = task
            .containers
            .iter()
            .find(|c| c.name == container_name)
            .and_then(|c| c.exit_code);
        return match exit {
            Some(code) => {
                ctx.ui.say(&format!("task {task_id} exited {code}"));
                Ok(RunOutcome::Exited(code))
            }
            None => Err(ApplyError::Task(format!(
                "the task {task_id} stopped without an exit code: {}\n  help: {follow_logs}",
                task::stop_reason(&task)
            ))),
        };
    }
    Err(ApplyError::Timeout {
        what: format!("the task {task_id} to stop"),
        polls,
        follow: ctx.follow.clone(),
    })
}

/// Prints the log lines that arrived since `token`, page by page (a
/// bounded number of pages per poll); a stream that does not exist yet
/// (the container has not started) has no lines.
fn read_logs(
    ctx: &mut Ctx<'_>,
    (group, stream): &(String, String),
    token: &mut Option<String>,
) -> Result<(), ApplyError> {
    for _ in 0..LOG_PAGES {
        let mut command = args([
            "logs",
            "get-log-events",
            "--log-group-name",
            group,
            "--log-stream-name",
            stream,
            "--start-from-head",
        ]);
        if let Some(token) = token.as_ref() {
            command.extend(["--next-token".to_owned(), token.clone()]);
        }
        let page: LogEvents = match ctx.try_call(&command)? {
            Ok(stdout) => ctx.parse(&command, &stdout)?,
            Err(failure) if failure.code.as_deref() == Some("ResourceNotFoundException") => {
                return Ok(());
            }
            Err(failure) => {
                return Err(ApplyError::Aws {
                    command: ctx.shown(&command, false),
                    message: failure.message,
                });
            }
        };
        for event in &page.events {
            ctx.ui.say(event.message.trim_end_matches('\n'));
        }
        // The end of the stream for now: the same token comes back
        // (CloudWatch Logs' GetLogEvents documentation).
        let same = page.next_forward_token.is_none() || page.next_forward_token == *token;
        if page.next_forward_token.is_some() {
            token.clone_from(&page.next_forward_token);
        }
        if same || page.events.is_empty() {
            return Ok(());
        }
    }
    Ok(())
}

fn dry_run(
    ctx: &mut Ctx<'_>,
    run_task: &[String],
    cluster: &str,
    container: &str,
    log: Option<&(String, String)>,
    detach: bool,
) {
    let mut run_task = run_task.to_vec();
    run_task.extend(args(["--query", "tasks[0].taskArn", "--output", "text"]));
    let line = ctx.shown(&run_task, false);
    ctx.ui.say(&format!("TASK_ARN=$({line})"));
    if detach {
        ctx.ui
            .say("# --detach: berth prints the task and its log stream and returns");
        return;
    }
    let cluster =
        shlex::try_quote(cluster).map_or_else(|_| cluster.to_owned(), std::borrow::Cow::into_owned);
    ctx.ui.say("# then, every poll until the task is STOPPED:");
    let describe = ctx
        .shown(
            &args(["ecs", "describe-tasks", "--cluster", "@C", "--tasks", "@T"]),
            true,
        )
        .replace("@C", &cluster)
        .replace("@T", "\"$TASK_ARN\"");
    ctx.ui.say(&describe);
    if let Some((group, prefix)) = log {
        let logs = ctx
            .shown(
                &args([
                    "logs",
                    "get-log-events",
                    "--log-group-name",
                    group,
                    "--log-stream-name",
                    "@S",
                    "--start-from-head",
                    "--next-token",
                    "@N",
                ]),
                true,
            )
            .replace("@S", &format!("\"{prefix}/{container}/${{TASK_ARN##*/}}\""))
            .replace("@N", "\"$NEXT_FORWARD_TOKEN\"");
        ctx.ui.say(&logs);
        ctx.ui.say("# (without --next-token the first time; each answer's nextForwardToken is the next one's)");
    }
    ctx.ui.say(&format!(
        "# berth exits with the exit code of container `{container}` (tasks[0].containers[?name=='{container}'].exitCode)"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_flags_win_over_run_env() {
        let run_env = vec![
            ("RAILS_LOG_LEVEL".to_owned(), "debug".to_owned()),
            ("A".to_owned(), "1".to_owned()),
        ];
        let env = vec![("RAILS_LOG_LEVEL".to_owned(), "info".to_owned())];
        let merged = environment(&run_env, &env);
        assert_eq!(
            serde_json::Value::Array(merged).to_string(),
            r#"[{"name":"A","value":"1"},{"name":"RAILS_LOG_LEVEL","value":"info"}]"#
        );
    }
}
