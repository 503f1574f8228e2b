//! Barcelona's keys that berth reads but deploys differently, or that
//! Barcelona itself dropped: each gets a located note or warning saying what
//! berth does instead, so an existing `barcelona.yml` compiles unchanged and
//! nobody is surprised by what it deploys.
//!
//! The meanings are Barcelona's own (degica/barcelona `app/models`,
//! `app/controllers/heritages_controller.rb`; degica/barcelona-cli
//! `api/types.go`), cited per rule. Nothing here is an error unless the file
//! contradicts itself.

use crate::diagnostic::Diagnostic;
use crate::schema::{InstanceFile, Service};

use super::Checked;
use super::rules::pointer;

/// The notes and warnings of one instance file.
#[must_use]
pub fn check(file: &Checked<InstanceFile>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let spec = &file.spec;
    if let Some(review) = &spec.review {
        out.push(
            // Barcelona makes review apps on request, one per branch
            // (degica/barcelona `app/models/review_app.rb`), not with the
            // heritages: so does berth.
            Diagnostic::note(
                "review-per-branch",
                format!("review apps of group `{}` are made per branch, not by `berth build`", review.group),
            )
            .at(file.at("/review"), "made by `berth review`")
            .help("deploy one with `berth review deploy <heritage> <name> --tag <tag>` (see the README's `berth review`)"),
        );
        for (i, service) in review.services.iter().enumerate() {
            let base = ["review", "services", &i.to_string()];
            check_service(file, &base, service, &mut out);
        }
    }
    if let Some(bcnd) = &spec.bcnd {
        // bcnd's defaults (degica/bcnd lib/bcnd/ci.rb): staging and production.
        let named = [
            ("mainline_environment", bcnd.mainline_environment.as_deref()),
            ("stable_environment", bcnd.stable_environment.as_deref()),
        ];
        for (key, environment) in named {
            if let Some(environment) = environment
                && !spec.environments.contains_key(environment)
            {
                out.push(
                    Diagnostic::warning(
                        "bcnd-environment",
                        format!("`bcnd.{key}` names `{environment}`, which is not an environment of this file"),
                    )
                    .at(file.at(&pointer(&["bcnd", key])), "no such environment")
                    .help(format!(
                        "bcnd deploys with `bcn deploy -e {environment}`; name one of: {}",
                        listed(spec.environments.keys())
                    )),
                );
            }
        }
    }
    for (env_key, env) in &spec.environments {
        let at = |rest: &[&str]| {
            file.at(&pointer(
                &[&["environments", env_key.as_str()][..], rest].concat(),
            ))
        };
        if env.version == Some(1) {
            out.push(
                Diagnostic::note("barcelona-version", format!("`{}` asks for Barcelona's version 1 backend; berth deploys what version 2 deploys", env.name))
                    .at(at(&["version"]), "deployed as version 2")
                    .help("version 2 (Barcelona's default since 2016) deploys CloudFormation stacks with load balancer listeners; remove `version: 1`"),
            );
        }
        if env.slack_url.is_some() {
            // Dropped in degica/barcelona 32b385c (2017): notifications belong to the district.
            out.push(
                Diagnostic::warning("dropped-key", "`slack_url` was dropped by Barcelona in 2017 and is ignored")
                    .at(at(&["slack_url"]), "ignored")
                    .help("deploy notifications moved to the district (`bcn notification`); berth's `apply` prints its progress instead: remove `slack_url`"),
            );
        }
        if env.env_vars.is_some() {
            // Dropped in degica/barcelona 62edb59 (2016); bcn never read the key.
            out.push(
                Diagnostic::warning("dropped-key", "`env_vars` was dropped by Barcelona in 2016 and is ignored")
                    .at(at(&["env_vars"]), "not deployed")
                    .help("move these variables to `environment` (plain values as `NAME: value`, secrets with `ssm_path` or `value_from`)"),
            );
        }
        for (i, task) in env.scheduled_tasks.iter().enumerate() {
            if task.external_task_def.is_some() {
                out.push(
                    Diagnostic::warning(
                        "external-task-def",
                        "a scheduled task with `external_task_def` is not scheduled by berth",
                    )
                    .at(at(&["scheduled_tasks", &i.to_string(), "external_task_def"]), "this task is left out")
                    .help("berth cannot know another task definition's container and roles offline; schedule it where that task definition is defined, or drop `external_task_def` to run the command in this heritage's image"),
                );
            }
        }
        for (i, service) in env.services.iter().enumerate() {
            let base = ["environments", env_key.as_str(), "services", &i.to_string()];
            check_service(file, &base, service, &mut out);
        }
    }
    out
}

fn check_service(
    file: &Checked<InstanceFile>,
    base: &[&str],
    service: &Service,
    out: &mut Vec<Diagnostic>,
) {
    let at = |rest: &[&str]| file.at(&pointer(&[base, rest].concat()));
    if !service.hosts.is_empty() {
        out.push(
            Diagnostic::warning("reverse-proxy-hosts", format!("`hosts` of `{}` configured Barcelona's reverse proxy, which berth does not run", service.name))
                .at(at(&["hosts"]), "not deployed")
                .help("route host names with a listener instead: `listeners: [{endpoint: <endpoint>, hosts: [<host name>]}]`; the endpoint's ACM certificate replaces `ssl_cert_path` and `ssl_key_path`"),
        );
    }
    if service.reverse_proxy_image.is_some() {
        out.push(
            Diagnostic::warning("reverse-proxy-image", "berth runs no reverse proxy, so `reverse_proxy_image` is ignored")
                .at(at(&["reverse_proxy_image"]), "ignored")
                .help("the endpoint's load balancer terminates TLS and routes to the container: remove `reverse_proxy_image`"),
        );
    }
    if service.desired_count == Some(0) && !service.listeners.is_empty() {
        out.push(
            Diagnostic::warning("no-tasks", format!("`{}` has listeners but `desired_count: 0` runs no tasks", service.name))
                .at(at(&["desired_count"]), "no task serves its listeners")
                .help("Barcelona ignored `desired_count` in the file, berth applies it: remove it, or set at least 1"),
        );
    }
    for (l, listener) in service.listeners.iter().enumerate() {
        let l = l.to_string();
        let pairs = [
            (
                "healthy_threshold",
                listener.healthy_threshold.is_some(),
                "healthy_threshold_count",
                listener.healthy_threshold_count.is_some(),
            ),
            (
                "unhealthy_threshold",
                listener.unhealthy_threshold.is_some(),
                "unhealthy_threshold_count",
                listener.unhealthy_threshold_count.is_some(),
            ),
        ];
        for (name, given, alias, alias_given) in pairs {
            if given && alias_given {
                out.push(
                    Diagnostic::error(
                        "duplicate-key",
                        format!("`{name}` and `{alias}` are the same setting"),
                    )
                    .at(at(&["listeners", &l, alias]), "set again here")
                    .also(at(&["listeners", &l, name]), "first set here")
                    .help(format!(
                        "keep one of them: `{alias}` is `bcn`'s name of `{name}`"
                    )),
                );
            }
        }
    }
}

fn listed<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
