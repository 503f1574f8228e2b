//! Plan: which artifacts to write, where, and the values each template needs.
//!
//! Every name — stack, family, logical id, log group — is derived here from
//! district, heritage and service names only, so renaming nothing changes
//! nothing. Templates receive a [`HeritagePlan`] or a district and do no
//! naming of their own. This stage decides, it renders nothing.

use rayon::prelude::*;
use serde::Serialize;

use crate::model::{District, Fleet, Heritage, Listener, Secret, Service, Variable};
use crate::schema::LaunchType;

/// Days the app stack's log group keeps container logs.
pub const LOG_RETENTION_DAYS: u32 = 30;

/// One file to render into `out/`.
#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    /// Path under `out/`, with `/` separators.
    pub path: String,
    /// What it is, e.g. `cloudformation-stack` (see the README).
    pub kind: &'static str,
    /// The template that renders it.
    pub template: &'static str,
    /// The CloudFormation stack it belongs to, if any.
    pub stack: Option<String>,
    /// The input files it was made from, relative to the fleet root.
    pub sources: Vec<String>,
    /// A value the template sees besides its unit's context, e.g. `task`.
    #[serde(skip)]
    pub extra: Option<(&'static str, serde_json::Value)>,
}

/// Artifacts rendered from one context (a district's or a heritage's), which
/// is converted for the template engine once for all of them.
#[derive(Debug, Clone)]
pub struct Unit {
    pub context: serde_json::Value,
    pub artifacts: Vec<Artifact>,
}

/// Everything an app-stack template needs about one heritage.
#[derive(Debug, Clone, Serialize)]
pub struct HeritagePlan<'a> {
    pub district: DistrictRef<'a>,
    pub name: &'a str,
    pub stack: String,
    pub image: &'a str,
    pub log_group: String,
    pub log_retention_days: u32,
    pub environment: &'a [Variable],
    pub secrets: Vec<SecretPlan<'a>>,
    /// What the execution role may read: SSM parameter ARNs (in `Fn::Sub`
    /// syntax) and Secrets Manager ARNs.
    pub ssm_parameters: Vec<String>,
    pub secret_arns: Vec<String>,
    pub services: Vec<ServicePlan<'a>>,
    /// Every service's listener rules, in service order.
    pub rules: Vec<ListenerPlan<'a>>,
    pub scheduled_tasks: Vec<TaskPlan>,
    pub before_deploy: Option<TaskPlan>,
    /// Scheduled tasks and `before_deploy`: every task definition that is not a service's.
    pub task_definitions: Vec<TaskPlan>,
    pub tags: Vec<Tag>,
}

/// The district values an app stack imports.
#[derive(Debug, Clone, Serialize)]
pub struct DistrictRef<'a> {
    pub name: &'a str,
    pub region: &'a str,
    /// Prefix of the district stack's export names: `<district>-`.
    pub export_prefix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretPlan<'a> {
    pub name: &'a str,
    pub value_from: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServicePlan<'a> {
    pub name: &'a str,
    /// Logical id prefix, e.g. `Web` or `SidekiqPush`.
    pub id: String,
    pub family: String,
    pub service_name: String,
    pub web: bool,
    pub fargate: bool,
    pub cpu: u32,
    pub memory: u32,
    pub command: Option<&'a [String]>,
    pub port: Option<u16>,
    pub desired_count: u32,
    pub listeners: Vec<ListenerPlan<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListenerPlan<'a> {
    /// Logical id prefix of its target group and rule, e.g. `WebMstdn`.
    pub id: String,
    pub endpoint: &'a str,
    /// Export name of the endpoint's HTTPS listener ARN.
    pub listener_export: String,
    /// Placeholders in `alb-rules.json`, for `envsubst`.
    pub listener_arn_placeholder: String,
    pub target_group_arn_placeholder: String,
    #[serde(flatten)]
    pub listener: &'a Listener,
}

/// A one-off or scheduled task: its own task definition.
#[derive(Debug, Clone, Serialize)]
pub struct TaskPlan {
    pub name: String,
    pub id: String,
    pub family: String,
    pub schedule: Option<String>,
    pub command: Vec<String>,
    pub cpu: u32,
    pub memory: u32,
}

/// A resource tag.
#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    pub key: &'static str,
    pub value: String,
}

/// A CloudFormation logical id part from a name: `sidekiq-push` → `SidekiqPush`.
#[must_use]
pub fn logical_id(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The app stack's name.
#[must_use]
pub fn app_stack(district: &str, heritage: &str) -> String {
    format!("{district}-{heritage}-app")
}

/// The district stack's name.
#[must_use]
pub fn district_stack(district: &str) -> String {
    format!("{district}-district")
}

/// CPU and memory of one-off and scheduled tasks: the largest service's.
fn task_size(heritage: &Heritage) -> (u32, u32) {
    let cpu = heritage.services.iter().map(|s| s.cpu).max().unwrap_or(256);
    let memory = heritage
        .services
        .iter()
        .map(|s| s.memory)
        .max()
        .unwrap_or(512);
    (cpu, memory)
}

/// The SSM parameter ARNs and Secrets Manager ARNs the secrets read, in
/// `Fn::Sub` syntax with the partition as `${AWS::Partition}`.
fn secret_resources(secrets: &[Secret]) -> (Vec<String>, Vec<String>) {
    let mut ssm = Vec::new();
    let mut managed = Vec::new();
    for secret in secrets {
        let from = &secret.value_from;
        match from
            .strip_prefix("arn:")
            .and_then(|rest| rest.split_once(':'))
        {
            Some((_partition, rest)) => {
                let arn = format!("arn:${{AWS::Partition}}:{rest}");
                if rest.starts_with("secretsmanager:") {
                    managed.push(arn);
                } else {
                    ssm.push(arn);
                }
            }
            None => ssm.push(format!(
                "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{}",
                from.trim_start_matches('/')
            )),
        }
    }
    (ssm, managed)
}

/// `web-mstdn` → `WEB_MSTDN`, for placeholder variable names.
fn shout(name: &str) -> String {
    name.to_ascii_uppercase()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
}

fn service_plan<'a>(
    district: &str,
    heritage: &'a Heritage,
    service: &'a Service,
) -> ServicePlan<'a> {
    let id = logical_id(&service.name);
    let mut listeners: Vec<ListenerPlan<'a>> = Vec::new();
    for listener in &service.listeners {
        let base = format!("{id}{}", logical_id(&listener.endpoint));
        let count = listeners
            .iter()
            .filter(|l| l.endpoint == listener.endpoint)
            .count();
        let id = if count == 0 {
            base
        } else {
            format!("{base}{}", count + 1)
        };
        listeners.push(ListenerPlan {
            listener_export: format!("{district}-{}-HttpsListener", listener.endpoint),
            listener_arn_placeholder: format!("${{LISTENER_ARN_{}}}", shout(&listener.endpoint)),
            target_group_arn_placeholder: format!("${{TARGET_GROUP_ARN_{}}}", shout(&id)),
            id,
            endpoint: &listener.endpoint,
            listener,
        });
    }
    ServicePlan {
        name: &service.name,
        id,
        family: format!("{}-{}", heritage.name, service.name),
        service_name: format!("{}-{}", heritage.name, service.name),
        web: service.port.is_some(),
        fargate: service.launch_type == LaunchType::Fargate,
        cpu: service.cpu,
        memory: service.memory,
        command: service.command.as_deref(),
        port: service.port,
        desired_count: service.desired_count,
        listeners,
    }
}

/// The plan of one heritage's app stack.
#[must_use]
pub fn heritage_plan<'a>(district: &'a District, heritage: &'a Heritage) -> HeritagePlan<'a> {
    let (cpu, memory) = task_size(heritage);
    let services: Vec<ServicePlan<'a>> = heritage
        .services
        .iter()
        .map(|s| service_plan(&district.name, heritage, s))
        .collect();
    let rules = services
        .iter()
        .flat_map(|s| s.listeners.iter().cloned())
        .collect();
    let (ssm_parameters, secret_arns) = secret_resources(&heritage.secrets);
    let scheduled_tasks: Vec<TaskPlan> = heritage
        .scheduled_tasks
        .iter()
        .map(|t| TaskPlan {
            id: format!("Schedule{}", logical_id(&t.name)),
            family: format!("{}-{}", heritage.name, t.name),
            name: t.name.clone(),
            schedule: Some(t.schedule.clone()),
            command: t.command.clone(),
            cpu,
            memory,
        })
        .collect();
    let before_deploy = heritage.before_deploy.as_ref().map(|command| TaskPlan {
        name: "before-deploy".to_owned(),
        id: "BeforeDeploy".to_owned(),
        family: format!("{}-before-deploy", heritage.name),
        schedule: None,
        command: command.clone(),
        cpu,
        memory,
    });
    let task_definitions = scheduled_tasks
        .iter()
        .chain(&before_deploy)
        .cloned()
        .collect();
    HeritagePlan {
        district: DistrictRef {
            name: &district.name,
            region: &district.region,
            export_prefix: format!("{}-", district.name),
        },
        name: &heritage.name,
        stack: app_stack(&district.name, &heritage.name),
        image: &heritage.image,
        log_group: format!("/berth/{}/{}", district.name, heritage.name),
        log_retention_days: LOG_RETENTION_DAYS,
        environment: &heritage.environment,
        secrets: heritage
            .secrets
            .iter()
            .map(|s| SecretPlan {
                name: &s.name,
                value_from: &s.value_from,
            })
            .collect(),
        ssm_parameters,
        secret_arns,
        services,
        rules,
        scheduled_tasks,
        before_deploy,
        task_definitions,
        tags: vec![
            Tag {
                key: "berth:district",
                value: district.name.clone(),
            },
            Tag {
                key: "berth:heritage",
                value: heritage.name.clone(),
            },
        ],
    }
}

/// Every artifact of the fleet, grouped by context, in a stable order.
#[must_use]
pub fn plan(fleet: &Fleet) -> Vec<Unit> {
    let mut units = Vec::new();
    for district in &fleet.districts {
        units.push(Unit {
            context: serde_json::json!({ "district": district }),
            artifacts: vec![Artifact {
                path: format!("{}/district.cfn.json", district.name),
                kind: "cloudformation-stack",
                template: "district.cfn.json",
                stack: Some(district_stack(&district.name)),
                sources: vec![district.source.clone()],
                extra: None,
            }],
        });
        units.par_extend(
            district
                .heritages
                .par_iter()
                .map(|h| heritage_unit(district, h)),
        );
    }
    units
}

fn heritage_unit(district: &District, heritage: &Heritage) -> Unit {
    let plan = heritage_plan(district, heritage);
    let dir = format!("{}/{}", district.name, heritage.name);
    let sources = vec![district.source.clone(), heritage.source.clone()];
    let artifact = |path: String, kind, template, stack: Option<String>, extra| Artifact {
        path,
        kind,
        template,
        stack,
        sources: sources.clone(),
        extra,
    };
    let mut artifacts = vec![
        artifact(
            format!("{dir}/app.cfn.json"),
            "cloudformation-stack",
            "app.cfn.json",
            Some(plan.stack.clone()),
            None,
        ),
        artifact(
            format!("{dir}/app.params.json"),
            "cloudformation-parameters",
            "app.params.json",
            Some(plan.stack.clone()),
            None,
        ),
        artifact(
            format!("{dir}/alb-rules.json"),
            "alb-rules",
            "alb-rules.json",
            None,
            None,
        ),
    ];
    let tasks = plan
        .services
        .iter()
        .map(|s| (s.name.to_owned(), serde_json::json!({ "service": s })))
        .chain(plan.scheduled_tasks.iter().map(|t| {
            (
                format!("schedule-{}", t.name),
                serde_json::json!({ "oneoff": t }),
            )
        }))
        .chain(
            plan.before_deploy
                .iter()
                .map(|t| (t.name.clone(), serde_json::json!({ "oneoff": t }))),
        );
    for (name, task) in tasks {
        artifacts.push(artifact(
            format!("{dir}/task-definitions/{name}.json"),
            "ecs-task-definition",
            "task-definition.json",
            None,
            Some(("task", task)),
        ));
    }
    Unit {
        context: serde_json::json!({ "heritage": plan }),
        artifacts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids() {
        assert_eq!(logical_id("web"), "Web");
        assert_eq!(logical_id("sidekiq-push"), "SidekiqPush");
        assert_eq!(logical_id("rake-mastodon-daily"), "RakeMastodonDaily");
        assert_eq!(logical_id("a1-b2"), "A1B2");
    }
}
