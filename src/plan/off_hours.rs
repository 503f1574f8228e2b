//! Off-hours: the `EventBridge` Scheduler schedules that switch a heritage off
//! and on again, and the role they run as.
//!
//! Every schedule calls one AWS API action through Scheduler's universal
//! target (`arn:aws:scheduler:::aws-sdk:<service>:<action>`) with a fixed JSON
//! input; no Lambda is involved. At `off` the listener rules answer 503 with
//! the maintenance page and the services go to 0 tasks, and the database stops
//! [`OFF_DATABASE_DELAY`] minutes later; at `on` the database starts, the
//! services get their tasks back [`ON_SERVICES_DELAY`] minutes later and the
//! rules forward again after [`ON_RULES_DELAY`]. Inputs are written here, once
//! for CloudFormation (`Fn::Sub` of the rule and target group ARNs) and once
//! for Terraform (the same text with Terraform references); the templates only
//! place them.

use serde::Serialize;

use super::{ListenerPlan, ServicePlan, shorten, terraform_literal};
use crate::check::off_hours::{OFF_DATABASE_DELAY, ON_RULES_DELAY, ON_SERVICES_DELAY};
use crate::model::OffHours;

/// ALB's limit on a fixed response's `MessageBody`, in characters
/// (Elastic Load Balancing API reference, `FixedResponseActionConfig`).
pub const MESSAGE_BODY_LIMIT: usize = 1024;

/// The off-hours of one heritage.
#[derive(Debug, Clone, Serialize)]
pub struct OffHoursPlan {
    pub timezone: String,
    /// Every schedule, off steps first, each in the order it runs.
    pub schedules: Vec<SchedulePlan>,
    /// What the role may do: the services' names, the listener rules' logical
    /// ids and Terraform names, the database identifier.
    pub services: Vec<String>,
    pub rules: Vec<RuleRef>,
    pub database: Option<String>,
    /// The maintenance page: the body of the fixed 503 response.
    pub page: String,
    /// The role's trust and permissions, as CloudFormation values and as
    /// Terraform locals (strings are templates).
    pub trust_cfn: serde_json::Value,
    pub policy_cfn: serde_json::Value,
    pub trust_tf: serde_json::Value,
    pub policy_tf: serde_json::Value,
}

/// A listener rule the schedules switch.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRef {
    pub id: String,
    pub tf: String,
}

/// One schedule: one API call at one time.
#[derive(Debug, Clone, Serialize)]
pub struct SchedulePlan {
    /// Logical id, e.g. `OffHoursWebServiceOff`.
    pub id: String,
    /// Terraform name, e.g. `web_service_off`.
    pub tf: String,
    /// The schedule's name: at most 64 characters.
    pub name: String,
    pub description: String,
    pub expression: String,
    /// The universal target, e.g. `arn:aws:scheduler:::aws-sdk:ecs:updateService`.
    pub target: String,
    /// The input as CloudFormation's `Input`: a JSON string, or an `Fn::Sub` of one.
    pub input: serde_json::Value,
    /// The input as a Terraform template string.
    pub tf_input: String,
}

/// The page shown while the heritage is off.
#[must_use]
pub fn default_page(heritage: &str, hours: &OffHours) -> String {
    format!(
        concat!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">",
            "<title>{name} is off for now</title>",
            "<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:20vh auto;padding:0 1rem;color:#333}}</style>",
            "</head><body><h1>{name} is off for now</h1>",
            "<p>This site is switched off during its quiet hours. It is back at {hour:02}:{minute:02} ({zone}).</p>",
            "</body></html>"
        ),
        name = heritage,
        hour = hours.on.hour,
        minute = hours.on.minute,
        zone = hours.timezone,
    )
}

struct Step<'a> {
    id: String,
    tf: String,
    slug: String,
    description: String,
    expression: String,
    action: &'a str,
    input: serde_json::Value,
    /// `${Name}` in the input, with its CloudFormation value and Terraform reference.
    refs: Vec<(&'static str, serde_json::Value, String)>,
    /// The maintenance page, where the input holds [`PAGE`] in its place.
    page: Option<&'a str>,
}

/// Where a step's input holds the maintenance page until it is written in:
/// a page cannot hold control characters (`check::pages`), so this never
/// occurs in one.
const PAGE: &str = "\u{1}page\u{1}";

/// The schedules of a heritage with `schedule`, in the district's cluster.
#[must_use]
pub fn off_hours_plan(
    district: &str,
    heritage: &str,
    hours: &OffHours,
    services: &[ServicePlan<'_>],
    rules: &[ListenerPlan<'_>],
    database: Option<&str>,
) -> OffHoursPlan {
    let page = hours
        .page
        .clone()
        .unwrap_or_else(|| default_page(heritage, hours));
    let mut off = Vec::new();
    let mut on_rules = Vec::new();
    let mut rule_refs = Vec::new();
    for l in rules {
        for r in &l.routes {
            rule_refs.push(RuleRef {
                id: r.id.clone(),
                tf: r.tf.clone(),
            });
            let rule = || {
                (
                    "RuleArn",
                    serde_json::json!({ "Ref": r.id }),
                    format!("${{aws_lb_listener_rule.{}.arn}}", r.tf),
                )
            };
            let slug = r.tf.trim_start_matches('_').replace('_', "-");
            off.push(Step {
                id: format!("OffHours{}Off", r.id),
                tf: format!("{}_off", r.tf.trim_start_matches('_')),
                slug: format!("{slug}-off"),
                description: format!("berth: {} answers 503 while {heritage} is off", r.id),
                expression: hours.off.cron(0),
                action: "elasticloadbalancingv2:modifyRule",
                input: serde_json::json!({
                    "RuleArn": "${RuleArn}",
                    "Actions": [{"Type": "fixed-response", "FixedResponseConfig": {
                        "StatusCode": "503", "ContentType": "text/html", "MessageBody": PAGE,
                    }}],
                }),
                refs: vec![rule()],
                page: Some(&page),
            });
            on_rules.push(Step {
                id: format!("OffHours{}On", r.id),
                tf: format!("{}_on", r.tf.trim_start_matches('_')),
                slug: format!("{slug}-on"),
                description: format!("berth: {} forwards again when {heritage} is on", r.id),
                expression: hours.on.cron(ON_RULES_DELAY),
                action: "elasticloadbalancingv2:modifyRule",
                input: serde_json::json!({
                    "RuleArn": "${RuleArn}",
                    "Actions": [{"Type": "forward", "TargetGroupArn": "${TargetGroupArn}"}],
                }),
                page: None,
                refs: vec![
                    rule(),
                    (
                        "TargetGroupArn",
                        serde_json::json!({ "Ref": format!("{}TargetGroup", l.id) }),
                        format!("${{aws_lb_target_group.{}.arn}}", l.tf),
                    ),
                ],
            });
        }
    }
    let mut on_services = Vec::new();
    for s in services {
        let tf = s.tf.trim_start_matches('_');
        for (count, when, expression, on) in [
            (0, "off", hours.off.cron(0), false),
            (
                s.desired_count,
                "on",
                hours.on.cron(ON_SERVICES_DELAY),
                true,
            ),
        ] {
            let step = Step {
                id: format!("OffHours{}Service{}", s.id, if on { "On" } else { "Off" }),
                tf: format!("{tf}_service_{when}"),
                slug: format!("{}-{when}", s.name),
                description: format!(
                    "berth: {} of {heritage} runs {count} task{}",
                    s.name,
                    if count == 1 { "" } else { "s" }
                ),
                expression,
                action: "ecs:updateService",
                // ECS speaks JSON with camelCase members (botocore's `ecs` model).
                input: serde_json::json!({"cluster": district, "service": s.service_name, "desiredCount": count}),
                refs: Vec::new(),
                page: None,
            };
            if on {
                on_services.push(step);
            } else {
                off.push(step);
            }
        }
    }
    let mut on = Vec::new();
    if let Some(identifier) = database {
        off.push(Step {
            id: "OffHoursDatabaseOff".to_owned(),
            tf: "database_off".to_owned(),
            slug: "database-off".to_owned(),
            description: format!("berth: the database of {heritage} stops"),
            expression: hours.off.cron(OFF_DATABASE_DELAY),
            action: "rds:stopDBInstance",
            input: serde_json::json!({"DBInstanceIdentifier": identifier}),
            refs: Vec::new(),
            page: None,
        });
        on.push(Step {
            id: "OffHoursDatabaseOn".to_owned(),
            tf: "database_on".to_owned(),
            slug: "database-on".to_owned(),
            description: format!("berth: the database of {heritage} starts"),
            expression: hours.on.cron(0),
            action: "rds:startDBInstance",
            input: serde_json::json!({"DBInstanceIdentifier": identifier}),
            refs: Vec::new(),
            page: None,
        });
    }
    on.extend(on_services);
    on.extend(on_rules);
    let schedules = off
        .into_iter()
        .chain(on)
        .map(|step| schedule(district, heritage, step))
        .collect();
    let (policy_cfn, policy_tf) = policies(district, services, &rule_refs, database);
    let (trust_cfn, trust_tf) = trust();
    OffHoursPlan {
        trust_cfn,
        trust_tf,
        policy_cfn,
        policy_tf,
        timezone: hours.timezone.clone(),
        schedules,
        services: services.iter().map(|s| s.service_name.clone()).collect(),
        rules: rule_refs,
        database: database.map(str::to_owned),
        page,
    }
}

/// Who may take a schedule role: `EventBridge` Scheduler, for schedules of
/// the stack's own account only; for CloudFormation and for Terraform.
fn trust() -> (serde_json::Value, serde_json::Value) {
    let trust = |account: serde_json::Value| {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }],
        })
    };
    (
        trust(serde_json::json!({"Ref": "AWS::AccountId"})),
        trust(serde_json::json!(
            "${data.aws_caller_identity.current.account_id}"
        )),
    )
}

/// The off-hours of a district's container hosts (`cluster.schedule`).
///
/// At `off` the Auto Scaling group's minimum goes to 0 and at `on` back to
/// `cluster.size`. Nothing terminates a host directly: the hosts are
/// protected from scale-in, and ECS managed scaling (the capacity provider's
/// `TargetCapacity: 100`) lifts the protection and scales in only hosts that
/// run no task, which is every host once the heritages' services are at 0.
/// Raising `MinSize` above the group's size sets its desired capacity to the
/// new minimum (EC2 Auto Scaling API reference, `UpdateAutoScalingGroup`), so
/// the hosts come back before the services do. Auto Scaling speaks the query
/// protocol, with `PascalCase` members (botocore's `autoscaling` model).
#[derive(Debug, Clone, Serialize)]
pub struct HostHoursPlan {
    pub timezone: String,
    /// `off` first, then `on`.
    pub schedules: Vec<SchedulePlan>,
    pub trust_cfn: serde_json::Value,
    pub policy_cfn: serde_json::Value,
    pub trust_tf: serde_json::Value,
    pub policy_tf: serde_json::Value,
}

/// The two schedules of a district with `cluster.schedule`.
#[must_use]
pub fn host_hours_plan(district: &str, size: u32, hours: &OffHours) -> HostHoursPlan {
    let schedules = [("off", 0, hours.off.cron(0)), ("on", size, hours.on.cron(0))]
        .into_iter()
        .map(|(when, minimum, expression)| {
            let step = Step {
                id: format!("HostHours{}", if minimum == 0 { "Off" } else { "On" }),
                tf: format!("hosts_{when}"),
                slug: when.to_owned(),
                description: if minimum == 0 {
                    format!("berth: the container hosts of {district} stop once they run no task")
                } else {
                    format!("berth: {district} runs {minimum} or more container hosts again")
                },
                expression,
                action: "autoscaling:updateAutoScalingGroup",
                input: serde_json::json!({"AutoScalingGroupName": "${AutoScalingGroup}", "MinSize": minimum}),
                refs: vec![(
                    "AutoScalingGroup",
                    serde_json::json!({"Ref": "AutoScalingGroup"}),
                    "${aws_autoscaling_group.container_hosts.name}".to_owned(),
                )],
                page: None,
            };
            // Named `<district>-hosts-<when>`.
            schedule(district, "hosts", step)
        })
        .collect();
    let action = "autoscaling:UpdateAutoScalingGroup";
    let policy = |resource: serde_json::Value| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": action, "Resource": resource}
        ]})
    };
    let (trust_cfn, trust_tf) = trust();
    HostHoursPlan {
        timezone: hours.timezone.clone(),
        schedules,
        trust_cfn,
        trust_tf,
        // The group's ARN has its id in it; its name is enough to scope it
        // (service authorization reference, Amazon EC2 Auto Scaling).
        policy_cfn: policy(serde_json::json!({"Fn::Sub":
            "arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/${AutoScalingGroup}"})),
        policy_tf: policy(serde_json::json!(
            "arn:${data.aws_partition.current.partition}:autoscaling:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:autoScalingGroup:*:autoScalingGroupName/${aws_autoscaling_group.container_hosts.name}"
        )),
    }
}

/// Least privilege: `ecs:UpdateService` on the heritage's services,
/// `elasticloadbalancing:ModifyRule` on its rules, and starting and stopping
/// its one database; nothing else, on nothing else.
fn policies(
    cluster: &str,
    services: &[ServicePlan<'_>],
    rules: &[RuleRef],
    database: Option<&str>,
) -> (serde_json::Value, serde_json::Value) {
    const CFN_PREFIX: &str = "arn:${AWS::Partition}";
    const TF_PREFIX: &str = "arn:${data.aws_partition.current.partition}";
    const CFN_SCOPE: &str = "${AWS::Region}:${AWS::AccountId}";
    const TF_SCOPE: &str =
        "${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}";
    let mut cfn = Vec::new();
    let mut tf = Vec::new();
    if !services.is_empty() {
        let arn = |prefix: &str, scope: &str, s: &ServicePlan<'_>| {
            format!("{prefix}:ecs:{scope}:service/{cluster}/{}", s.service_name)
        };
        cfn.push(serde_json::json!({"Effect": "Allow", "Action": "ecs:UpdateService", "Resource":
            services.iter().map(|s| serde_json::json!({"Fn::Sub": arn(CFN_PREFIX, CFN_SCOPE, s)})).collect::<Vec<_>>()}));
        tf.push(
            serde_json::json!({"Effect": "Allow", "Action": "ecs:UpdateService", "Resource":
            services.iter().map(|s| arn(TF_PREFIX, TF_SCOPE, s)).collect::<Vec<_>>()}),
        );
    }
    if !rules.is_empty() {
        cfn.push(serde_json::json!({"Effect": "Allow", "Action": "elasticloadbalancing:ModifyRule", "Resource":
            rules.iter().map(|r| serde_json::json!({"Ref": r.id})).collect::<Vec<_>>()}));
        tf.push(serde_json::json!({"Effect": "Allow", "Action": "elasticloadbalancing:ModifyRule", "Resource":
            rules.iter().map(|r| format!("${{aws_lb_listener_rule.{}.arn}}", r.tf)).collect::<Vec<_>>()}));
    }
    if let Some(id) = database {
        let actions = ["rds:StartDBInstance", "rds:StopDBInstance"];
        cfn.push(
            serde_json::json!({"Effect": "Allow", "Action": actions, "Resource":
            {"Fn::Sub": format!("{CFN_PREFIX}:rds:{CFN_SCOPE}:db:{id}")}}),
        );
        tf.push(
            serde_json::json!({"Effect": "Allow", "Action": actions, "Resource":
            format!("{TF_PREFIX}:rds:{TF_SCOPE}:db:{id}")}),
        );
    }
    (
        serde_json::json!({"Version": "2012-10-17", "Statement": cfn}),
        serde_json::json!({"Version": "2012-10-17", "Statement": tf}),
    )
}

fn schedule(district: &str, heritage: &str, step: Step<'_>) -> SchedulePlan {
    let text = step.input.to_string();
    let mut input = if step.refs.is_empty() {
        serde_json::Value::String(text.clone())
    } else {
        let vars: serde_json::Map<String, serde_json::Value> = step
            .refs
            .iter()
            .map(|(name, value, _)| ((*name).to_owned(), value.clone()))
            .collect();
        serde_json::json!({ "Fn::Sub": [text, vars] })
    };
    let mut tf_input = terraform_literal(&text);
    for (name, _, reference) in &step.refs {
        tf_input = tf_input.replace(&format!("$${{{name}}}"), reference);
    }
    // The page goes in last, so that nothing in it is read as a reference:
    // escaped for `Fn::Sub` (`${!`, "a literal `${`") and for Terraform.
    let placeholder = serde_json::Value::from(PAGE).to_string();
    if let Some(page) = step.page {
        let page = serde_json::Value::from(page).to_string();
        tf_input = tf_input.replace(&placeholder, &terraform_literal(&page));
        input = match input {
            serde_json::Value::String(text) => text.replace(&placeholder, &page).into(),
            mut sub => {
                if let Some(text) = sub["Fn::Sub"][0].as_str() {
                    sub["Fn::Sub"][0] = text
                        .replace(&placeholder, &page.replace("${", "${!"))
                        .into();
                }
                sub
            }
        };
    }
    SchedulePlan {
        name: shorten(&format!("{district}-{heritage}-{}", step.slug), 64),
        id: step.id,
        tf: step.tf,
        description: step.description,
        expression: step.expression,
        target: format!("arn:aws:scheduler:::aws-sdk:{}", step.action),
        input,
        tf_input,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::off_hours::time_of_day;

    fn hours() -> OffHours {
        OffHours {
            off: time_of_day("cron(0 1 * * ? *)").unwrap(),
            on: time_of_day("cron(55 6 * * ? *)").unwrap(),
            timezone: "Asia/Tokyo".to_owned(),
            page: None,
            page_source: None,
        }
    }

    #[test]
    fn the_page_fits_a_fixed_response() {
        let page = default_page(&"h".repeat(32), &hours());
        assert!(page.len() <= MESSAGE_BODY_LIMIT, "{} bytes", page.len());
        assert!(page.contains("06:55 (Asia/Tokyo)"));
        assert!(!page.contains("${"), "Fn::Sub would read it");
    }

    #[test]
    fn on_steps_are_staggered_across_the_hour() {
        let plan = off_hours_plan("d", "h", &hours(), &[], &[], Some("d-h"));
        let times: Vec<(&str, &str)> = plan
            .schedules
            .iter()
            .map(|s| (s.id.as_str(), s.expression.as_str()))
            .collect();
        assert_eq!(
            times,
            [
                ("OffHoursDatabaseOff", "cron(10 1 * * ? *)"),
                ("OffHoursDatabaseOn", "cron(55 6 * * ? *)"),
            ]
        );
        assert_eq!(hours().on.cron(ON_RULES_DELAY), "cron(10 7 * * ? *)");
    }
}
