//! Services: after a wave, wait until the ECS services of the app stacks it
//! changed are stable and their load balancers' targets healthy, before the
//! next wave starts. Stable is what botocore's `services-stable` waiter
//! (`ecs/2014-11-13/waiters-2.json`) accepts — one deployment, as many
//! tasks running as desired — and a failed rollout or an unhealthy target
//! is named; unlike the waiter the wait is bounded by apply's own polls.
//! It only reads: it changes nothing.

use std::collections::BTreeMap;

use crate::apply::aws::{Ctx, Services, StackResources, TargetHealths, args, clock};
use crate::apply::stack::output_query;
use crate::apply::task::Value;
use crate::apply::{ApplyError, StackArtifact};

/// The most services one `describe-services` call takes: "You may specify
/// up to 10 services to describe in a single operation"
/// (`DescribeServicesRequest.services` in botocore 1.43's
/// `ecs/2014-11-13/service-2.json`; its `StringList` shape states no
/// maximum).
pub(crate) const DESCRIBE_LIMIT: usize = 10;

/// The ECS services of an app stack: the `ServiceName` its template gives
/// each `AWS::ECS::Service` (berth's templates name every service), in
/// logical-id order. A service whose name the template leaves to
/// CloudFormation (a template override) is found by its physical id with
/// `describe-stack-resources`; a dry run says so instead.
pub(crate) fn names(ctx: &mut Ctx<'_>, app: &StackArtifact) -> Result<Vec<String>, ApplyError> {
    let Some(resources) = app.template.get("Resources").and_then(|r| r.as_object()) else {
        return Ok(Vec::new());
    };
    let mut named = Vec::new();
    let mut unnamed = Vec::new();
    for (id, resource) in resources {
        if resource.get("Type").and_then(|t| t.as_str()) != Some("AWS::ECS::Service") {
            continue;
        }
        match resource
            .pointer("/Properties/ServiceName")
            .and_then(|n| n.as_str())
        {
            Some(name) => named.push(name.to_owned()),
            None => unnamed.push(id.clone()),
        }
    }
    if unnamed.is_empty() {
        return Ok(named);
    }
    let command = args([
        "cloudformation",
        "describe-stack-resources",
        "--stack-name",
        &app.name,
    ]);
    if ctx.settings.dry_run {
        ctx.ui.say(&format!(
            "# `{}` leaves the names of {} to CloudFormation: apply reads them with `{}`",
            app.name,
            unnamed
                .iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", "),
            ctx.shown(&command, false)
        ));
        return Ok(named);
    }
    let found: StackResources = ctx.call(&command)?;
    let physical: BTreeMap<String, String> = found
        .stack_resources
        .into_iter()
        .filter_map(|r| Some((r.logical_resource_id, r.physical_resource_id?)))
        .collect();
    named.extend(unnamed.iter().filter_map(|id| physical.get(id).cloned()));
    Ok(named)
}

fn follow(cluster: &str, services: &[String]) -> String {
    format!(
        "their stacks are deployed; follow the services with `aws ecs describe-services --cluster {cluster} --services {}`, then run berth apply again",
        services.join(" ")
    )
}

/// Waits until `services` (of `heritage`, on `cluster`) are stable, then
/// until every target of their target groups is healthy. A dry run prints
/// the `services-stable` waiter for a person to run.
pub(crate) fn wait(
    ctx: &mut Ctx<'_>,
    heritage: &str,
    cluster: &Value,
    services: &[String],
) -> Result<(), ApplyError> {
    if services.is_empty() {
        return Ok(());
    }
    if ctx.settings.dry_run {
        ctx.ui.say(&format!(
            "# wait until the services of `{heritage}` are stable (one deployment, as many tasks running as desired) and every target of their target groups is healthy (aws elbv2 describe-target-health --target-group-arn …)"
        ));
        for chunk in services.chunks(DESCRIBE_LIMIT) {
            let mut command = args(["ecs", "wait", "services-stable", "--cluster", "@CLUSTER"]);
            command.push("--services".to_owned());
            command.extend(chunk.iter().cloned());
            let cluster = match cluster {
                Value::Known(name) => shlex::try_quote(name)
                    .map_or_else(|_| name.clone(), std::borrow::Cow::into_owned),
                Value::Later { stack, key } => format!("\"{}\"", output_query(ctx, stack, key)),
            };
            let line = ctx.shown(&command, false).replace("@CLUSTER", &cluster);
            ctx.ui.say(&line);
        }
        return Ok(());
    }
    let Value::Known(cluster) = cluster else {
        return Err(ApplyError::Unstable(format!(
            "berth cannot wait for the services of `{heritage}`: the district stack has no `ClusterName` output\n  help: build with this berth and apply the district first"
        )));
    };
    ctx.follow = follow(cluster, services);
    let groups = stable(ctx, heritage, cluster, services)?;
    healthy(ctx, heritage, cluster, services, &groups)
}

/// Polls `describe-services` until every service is stable; returns their
/// target groups.
fn stable(
    ctx: &mut Ctx<'_>,
    heritage: &str,
    cluster: &str,
    services: &[String],
) -> Result<Vec<String>, ApplyError> {
    let start = ctx.ui.elapsed();
    let polls = ctx.settings.timing.service_polls;
    for poll in 0..polls {
        if poll > 0 {
            ctx.pause()?;
        }
        let mut pending = Vec::new();
        let mut groups: Vec<String> = Vec::new();
        for chunk in services.chunks(DESCRIBE_LIMIT) {
            let mut command = args(["ecs", "describe-services", "--cluster", cluster]);
            command.push("--services".to_owned());
            command.extend(chunk.iter().cloned());
            let answer: Services = ctx.call(&command)?;
            if let Some(failure) = answer.failures.first() {
                return Err(ApplyError::Unstable(format!(
                    "service `{}` of `{heritage}` is not in cluster `{cluster}`: {}\n  help: aws ecs list-services --cluster {cluster}",
                    failure.arn.as_deref().unwrap_or("?"),
                    failure.reason.as_deref().unwrap_or("no reason given")
                )));
            }
            for service in answer.services {
                let name = &service.name;
                let help = format!(
                    "  help: its events: aws ecs describe-services --cluster {cluster} --services {name} --query 'services[0].events[:10]'"
                );
                if matches!(service.status.as_str(), "DRAINING" | "INACTIVE") {
                    return Err(ApplyError::Unstable(format!(
                        "service `{name}` of `{heritage}` is {}: it is being deleted or was deleted\n{help}",
                        service.status
                    )));
                }
                if let Some(failed) = service
                    .deployments
                    .iter()
                    .find(|d| d.rollout_state.as_deref() == Some("FAILED"))
                {
                    return Err(ApplyError::Unstable(format!(
                        "the deployment of service `{name}` of `{heritage}` failed: {}\n{help}",
                        failed
                            .rollout_state_reason
                            .as_deref()
                            .unwrap_or("no reason given")
                    )));
                }
                let done = service.deployments.len() == 1
                    && service.running_count == service.desired_count
                    && service.deployments[0]
                        .rollout_state
                        .as_deref()
                        .is_none_or(|s| s == "COMPLETED");
                if !done {
                    pending.push(format!(
                        "`{name}` {} of {} running, {} deployment(s)",
                        service.running_count,
                        service.desired_count,
                        service.deployments.len()
                    ));
                }
                for group in service
                    .load_balancers
                    .iter()
                    .filter_map(|l| l.target_group_arn.clone())
                {
                    if !groups.contains(&group) {
                        groups.push(group);
                    }
                }
            }
        }
        let elapsed = clock(ctx.ui.elapsed().saturating_sub(start));
        if pending.is_empty() {
            ctx.ui.progress("", &[]);
            ctx.ui.say(&format!(
                "services of `{heritage}` are stable: {} ({elapsed})",
                services
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return Ok(groups);
        }
        ctx.ui.progress(
            &format!(
                "  services of `{heritage}`: {}, {elapsed}",
                pending.join("; ")
            ),
            &[],
        );
    }
    Err(ApplyError::Timeout {
        what: format!("the services of `{heritage}` to be stable"),
        polls,
        follow: follow(cluster, services),
    })
}

/// Polls `describe-target-health` of each target group until every target
/// is healthy (draining ones are on their way out); targets still unhealthy
/// when the polls run out fail the wave.
fn healthy(
    ctx: &mut Ctx<'_>,
    heritage: &str,
    cluster: &str,
    services: &[String],
    groups: &[String],
) -> Result<(), ApplyError> {
    if groups.is_empty() {
        return Ok(());
    }
    let start = ctx.ui.elapsed();
    let polls = ctx.settings.timing.service_polls;
    let mut unhealthy = Vec::new();
    for poll in 0..polls {
        if poll > 0 {
            ctx.pause()?;
        }
        let mut pending = 0;
        let mut targets = 0;
        unhealthy.clear();
        for group in groups {
            let command = args([
                "elbv2",
                "describe-target-health",
                "--target-group-arn",
                group,
            ]);
            let answer: TargetHealths = ctx.call(&command)?;
            for description in answer.target_health_descriptions {
                let health = &description.target_health;
                match health.state.as_str() {
                    "healthy" => targets += 1,
                    "draining" => {}
                    state => {
                        pending += 1;
                        if state.starts_with("unhealthy") {
                            let target = description.target.as_ref().map_or_else(
                                || "?".to_owned(),
                                |t| match t.port {
                                    Some(port) => format!("{}:{port}", t.id),
                                    None => t.id.clone(),
                                },
                            );
                            unhealthy.push(format!(
                                "`{target}` of {group} {state} ({}: {})",
                                health.reason.as_deref().unwrap_or("no reason"),
                                health.description.as_deref().unwrap_or("no description")
                            ));
                        }
                    }
                }
            }
        }
        let elapsed = clock(ctx.ui.elapsed().saturating_sub(start));
        if pending == 0 {
            ctx.ui.progress("", &[]);
            ctx.ui.say(&format!(
                "targets of `{heritage}` are healthy: {targets} in {} target group(s) ({elapsed})",
                groups.len()
            ));
            return Ok(());
        }
        ctx.ui.progress(
            &format!("  targets of `{heritage}`: {pending} not healthy yet, {elapsed}"),
            &[],
        );
    }
    if unhealthy.is_empty() {
        return Err(ApplyError::Timeout {
            what: format!("the targets of `{heritage}` to be healthy"),
            polls,
            follow: follow(cluster, services),
        });
    }
    Err(ApplyError::Unstable(format!(
        "targets of `{heritage}` are still unhealthy after {polls} polls: {}\n  help: aws elbv2 describe-target-health --target-group-arn …; the health check path and port are in the app stack's target groups",
        unhealthy.join("; ")
    )))
}
