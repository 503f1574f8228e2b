//! `before_deploy`: register the one-off task definition from `out/` with its
//! role placeholders filled, run it once on the district's cluster, wait for
//! it to stop and read its exit code. Anything but 0 stops the deploy before
//! the app stack and points at the task's log stream.

use std::collections::BTreeMap;

use crate::apply::ApplyError;
use crate::apply::aws::{Ctx, RegisteredTaskDefinition, Task, TaskFailure, Tasks, args, clock};
use crate::apply::stack::output_query;

/// Where a value the task needs comes from.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Known(String),
    /// An output of a stack that does not exist yet (dry runs only).
    Later {
        stack: String,
        key: String,
    },
}

impl Value {
    pub fn from_outputs(outputs: &BTreeMap<String, String>, stack: &str, key: &str) -> Self {
        match outputs.get(key) {
            Some(v) if !v.is_empty() => Value::Known(v.clone()),
            _ => Value::Later {
                stack: stack.to_owned(),
                key: key.to_owned(),
            },
        }
    }
}

/// Everything `before_deploy` of one heritage needs.
#[derive(Debug)]
pub(crate) struct Job<'a> {
    pub heritage: &'a str,
    pub path: &'a str,
    pub text: &'a str,
    pub cluster: Value,
    pub subnets: Value,
    pub security_group: Value,
    /// The `${NAME}` placeholders of the task definition with their values:
    /// the data stack's outputs, named in capitals (`ExecutionRoleArn` fills
    /// `${EXECUTION_ROLE_ARN}`, `DbHost` fills `${DB_HOST}`).
    pub values: Vec<(String, Value)>,
}

/// The `${NAME}` placeholders in a task definition, in order, once each.
pub(crate) fn placeholders(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_owned());
        }
        rest = &after[end..];
    }
    names
}

/// The stack output a placeholder names: `DB_SECRET_ARN` → `DbSecretArn`.
pub(crate) fn output_key(name: &str) -> String {
    name.split('_')
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// What the task definition says about how to run it.
struct Shape {
    family: String,
    container: String,
    log_group: Option<String>,
    log_prefix: Option<String>,
    awsvpc: bool,
    fargate: bool,
}

fn shape(job: &Job<'_>) -> Result<Shape, ApplyError> {
    let invalid = |reason: &str| {
        ApplyError::BeforeDeploy(format!(
            "`{}` is not a task definition berth can run: {reason}",
            job.path
        ))
    };
    let value: serde_json::Value =
        serde_json::from_str(job.text).map_err(|e| invalid(&e.to_string()))?;
    let container = value
        .get("containerDefinitions")
        .and_then(|c| c.get(0))
        .ok_or_else(|| invalid("it has no container"))?;
    let options = container.pointer("/logConfiguration/options");
    let option = |key: &str| {
        options
            .and_then(|o| o.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let compatibilities: Vec<&str> = value
        .get("requiresCompatibilities")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    Ok(Shape {
        family: value
            .get("family")
            .and_then(|v| v.as_str())
            .ok_or_else(|| invalid("it has no family"))?
            .to_owned(),
        container: container
            .get("name")
            .and_then(|v| v.as_str())
            .ok_or_else(|| invalid("its container has no name"))?
            .to_owned(),
        log_group: option("awslogs-group"),
        log_prefix: option("awslogs-stream-prefix"),
        awsvpc: value.get("networkMode").and_then(|v| v.as_str()) == Some("awsvpc"),
        fargate: compatibilities == ["FARGATE"],
    })
}

fn network_configuration(subnets: &str, security_group: &str) -> String {
    let subnets: Vec<&str> = subnets.split(',').map(str::trim).collect();
    serde_json::json!({
        "awsvpcConfiguration": {
            "subnets": subnets,
            "securityGroups": [security_group],
            "assignPublicIp": "DISABLED"
        }
    })
    .to_string()
}

fn log_hint(shape: &Shape, task_id: &str) -> String {
    match (&shape.log_group, &shape.log_prefix) {
        (Some(group), Some(prefix)) => format!(
            "its log: aws logs get-log-events --log-group-name {group} --log-stream-name {prefix}/{}/{task_id}",
            shape.container
        ),
        _ => "the task definition has no awslogs configuration, so there is no log stream to show"
            .to_owned(),
    }
}

/// Runs `before_deploy` (or prints how, in a dry run).
pub(crate) fn run(ctx: &mut Ctx<'_>, job: &Job<'_>) -> Result<(), ApplyError> {
    let shape = shape(job)?;
    if ctx.settings.dry_run {
        dry_run(ctx, job, &shape);
        return Ok(());
    }
    let known = |v: &Value| match v {
        Value::Known(s) => Ok(s.clone()),
        Value::Later { stack, key } => Err(ApplyError::BeforeDeploy(format!(
            "cannot run `before_deploy` of `{}`: the stack `{stack}` has no output `{key}`",
            job.heritage
        ))),
    };
    let cluster = known(&job.cluster)?;
    let mut filled = job.text.to_owned();
    for (name, value) in &job.values {
        filled = filled.replace(&format!("${{{name}}}"), &known(value)?);
    }
    if let Some(start) = filled.find("${") {
        let end = filled[start..]
            .find('}')
            .map_or(filled.len(), |e| start + e + 1);
        return Err(ApplyError::BeforeDeploy(format!(
            "`{}` has a placeholder berth cannot fill: `{}`",
            job.path,
            &filled[start..end]
        )));
    }
    let compact: serde_json::Value = serde_json::from_str(&filled).map_err(|e| {
        ApplyError::BeforeDeploy(format!("`{}` is not valid JSON once filled: {e}", job.path))
    })?;
    ctx.ui.say(&format!(
        "before_deploy of `{}`: registering `{}` and running it once on `{cluster}`",
        job.heritage, shape.family
    ));
    let registered: RegisteredTaskDefinition = ctx.call(&args([
        "ecs",
        "register-task-definition",
        "--cli-input-json",
        &compact.to_string(),
    ]))?;
    let definition = registered.task_definition.task_definition_arn;
    let mut command = args([
        "ecs",
        "run-task",
        "--cluster",
        &cluster,
        "--task-definition",
        &definition,
        "--count",
        "1",
        "--started-by",
        "berth-apply",
    ]);
    if shape.fargate {
        command.extend(["--launch-type".to_owned(), "FARGATE".to_owned()]);
    }
    if shape.awsvpc {
        command.push("--network-configuration".to_owned());
        command.push(network_configuration(
            &known(&job.subnets)?,
            &known(&job.security_group)?,
        ));
    }
    let started: Tasks = ctx.call(&command)?;
    let Some(task) = started.tasks.into_iter().next() else {
        return Err(ApplyError::BeforeDeploy(format!(
            "`before_deploy` of `{}` could not be started on `{cluster}`: {}\n  help: the app stack was not changed; make room on the cluster and apply again",
            job.heritage,
            start_failures(&started.failures)
        )));
    };
    let arn = task.arn;
    let task_id = arn.rsplit('/').next().unwrap_or(&arn).to_owned();
    let logs = log_hint(&shape, &task_id);
    ctx.follow = format!(
        "the `before_deploy` task keeps running: aws ecs describe-tasks --cluster {cluster} --tasks {arn}; {logs}; the app stack was not changed"
    );
    let start = ctx.ui.elapsed();
    let mut last = String::new();
    let polls = ctx.settings.timing.task_polls;
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
            return Err(ApplyError::BeforeDeploy(format!(
                "the `before_deploy` task {task_id} of `{}` vanished before berth saw it stop\n  help: {logs}",
                job.heritage
            )));
        };
        let elapsed = clock(ctx.ui.elapsed().saturating_sub(start));
        let events = if task.last_status == last {
            Vec::new()
        } else {
            vec![format!("  [{elapsed}] task {task_id} {}", task.last_status)]
        };
        last.clone_from(&task.last_status);
        ctx.ui.progress(
            &format!("  before_deploy: {}, {elapsed}", task.last_status),
            &events,
        );
        if task.last_status != "STOPPED" {
            continue;
        }
        let exit = task
            .containers
            .iter()
            .find(|c| c.name == shape.container)
            .and_then(|c| c.exit_code);
        return match exit {
            Some(0) => {
                ctx.ui.say(&format!(
                    "before_deploy of `{}` exited 0 ({elapsed})",
                    job.heritage
                ));
                Ok(())
            }
            Some(code) => Err(ApplyError::BeforeDeploy(format!(
                "`before_deploy` of `{}` exited {code}: the app stack was not deployed\n  help: {logs}",
                job.heritage
            ))),
            None => Err(ApplyError::BeforeDeploy(format!(
                "`before_deploy` of `{}` stopped without an exit code: {}; the app stack was not deployed\n  help: {logs}",
                job.heritage,
                stop_reason(&task)
            ))),
        };
    }
    Err(ApplyError::Timeout {
        what: format!("the `before_deploy` task {task_id} to stop"),
        polls,
        follow: ctx.follow.clone(),
    })
}

/// Why ECS started no task, from `run-task`'s `failures`.
pub(crate) fn start_failures(failures: &[TaskFailure]) -> String {
    let reasons: Vec<String> = failures
        .iter()
        .map(|f| {
            format!(
                "{}{}",
                f.reason.as_deref().unwrap_or("no reason given"),
                f.detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    if reasons.is_empty() {
        "ECS started no task".to_owned()
    } else {
        reasons.join("; ")
    }
}

/// Why a task stopped without an exit code: its container's reason or the
/// task's, with the stop code.
pub(crate) fn stop_reason(task: &Task) -> String {
    let reason = task
        .containers
        .iter()
        .find_map(|c| c.reason.clone())
        .or_else(|| task.stopped_reason.clone())
        .unwrap_or_else(|| "no reason given".to_owned());
    let code = task
        .stop_code
        .as_ref()
        .map(|c| format!(" [{c}]"))
        .unwrap_or_default();
    format!("{reason}{code}")
}

fn dry_run(ctx: &mut Ctx<'_>, job: &Job<'_>, shape: &Shape) {
    ctx.ui.say(&format!(
        "# before_deploy of `{}`, when the app change set has changes: register the one-off task, run it once, wait for it to stop; anything but exit code 0 stops here",
        job.heritage
    ));
    let shell = |ctx: &mut Ctx<'_>, name: &str, value: &Value| {
        let text = match value {
            Value::Known(v) => {
                shlex::try_quote(v).map_or_else(|_| v.clone(), std::borrow::Cow::into_owned)
            }
            Value::Later { stack, key } => format!("\"{}\"", output_query(ctx, stack, key)),
        };
        ctx.ui.say(&format!("export {name}={text}"));
    };
    for (name, value) in &job.values {
        shell(ctx, name, value);
    }
    shell(ctx, "CLUSTER", &job.cluster);
    if shape.awsvpc {
        shell(ctx, "SUBNETS", &job.subnets);
        shell(ctx, "SECURITY_GROUP", &job.security_group);
    }
    let register = ctx.shown(
        &args(["ecs", "register-task-definition", "--cli-input-json", "@"]),
        true,
    );
    ctx.ui.say(&register.replace(
        " @ ",
        &format!(
            " \"$(envsubst '{}' < {})\" ",
            job.values
                .iter()
                .map(|(name, _)| format!("${{{name}}}"))
                .collect::<Vec<_>>()
                .join(" "),
            job.path
        ),
    ));
    let mut run = args([
        "ecs",
        "run-task",
        "--cluster",
        "@CLUSTER",
        "--task-definition",
        &shape.family,
        "--count",
        "1",
        "--started-by",
        "berth-apply",
    ]);
    if shape.fargate {
        run.extend(["--launch-type".to_owned(), "FARGATE".to_owned()]);
    }
    if shape.awsvpc {
        run.push("--network-configuration".to_owned());
        run.push("@NETWORK".to_owned());
    }
    run.extend(args(["--query", "tasks[0].taskArn", "--output", "text"]));
    let line = ctx
        .shown(&run, false)
        .replace("@CLUSTER", "\"$CLUSTER\"")
        .replace(
            "@NETWORK",
            "\"awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SECURITY_GROUP],assignPublicIp=DISABLED}\"",
        );
    ctx.ui.say(&format!("TASK_ARN=$({line})"));
    let wait = ctx
        .shown(
            &args([
                "ecs",
                "wait",
                "tasks-stopped",
                "--cluster",
                "@CLUSTER",
                "--tasks",
                "@TASK",
            ]),
            false,
        )
        .replace("@CLUSTER", "\"$CLUSTER\"")
        .replace("@TASK", "\"$TASK_ARN\"");
    ctx.ui.say(&wait);
    let query = format!("tasks[0].containers[?name=='{}'].exitCode", shape.container);
    let exit = ctx
        .shown(
            &args([
                "ecs",
                "describe-tasks",
                "--cluster",
                "@CLUSTER",
                "--tasks",
                "@TASK",
                "--query",
                &query,
                "--output",
                "text",
            ]),
            false,
        )
        .replace("@CLUSTER", "\"$CLUSTER\"")
        .replace("@TASK", "\"$TASK_ARN\"");
    ctx.ui.say(&format!("test \"$({exit})\" = 0"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_name_the_data_stack_outputs() {
        let text = r#"{"a": "${EXECUTION_ROLE_ARN}", "b": "${DB_SECRET_ARN}:password::", "c": "${EXECUTION_ROLE_ARN}", "d": "${lower}", "e": "$HOME"}"#;
        assert_eq!(placeholders(text), ["EXECUTION_ROLE_ARN", "DB_SECRET_ARN"]);
        assert_eq!(output_key("EXECUTION_ROLE_ARN"), "ExecutionRoleArn");
        assert_eq!(output_key("DB_SECRET_ARN"), "DbSecretArn");
        assert_eq!(output_key("BUCKET_MEDIA"), "BucketMedia");
    }
}
