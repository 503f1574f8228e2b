//! The root module of a district: `heritages.tf.json`, beside
//! `district.tf.json` in `out/<district>/`, with one `module` block per
//! heritage (`source = "./<heritage>"`) and one output per heritage holding
//! that module's outputs, so the district folder alone is a configuration
//! `terraform plan` runs in.
//!
//! Each module argument is the expression of the district output of the same
//! name (the contract `district.tf.json` keeps with the heritages), written
//! against the district's own resources, since a module cannot read its own
//! outputs. Which variables and outputs a heritage module declares is decided
//! here from the same plan its templates read; this file renders nothing.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::{DistrictTerraform, HeritagePlan};
use crate::model::District;

/// The root module of one district.
#[derive(Debug, Clone, Serialize)]
pub struct RootPlan {
    pub modules: Vec<ModuleCall>,
}

/// One heritage's `module` block and the output that passes its outputs on.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleCall {
    pub heritage: String,
    /// The module's name: the heritage's, `-` written `_` (a leading digit
    /// gets a `_` in front), so `module.bcn_users`. Heritage names are
    /// letters, digits and `-`, so two heritages never share one.
    pub name: String,
    /// The heritage's folder, relative to the district's.
    pub source: String,
    /// Every variable of the heritage module without a default, with its value.
    pub arguments: BTreeMap<String, Value>,
    /// The root output holding the module's outputs: `heritage_<name>`
    /// (no district output starts with `heritage_`).
    pub output: String,
    /// Every output the heritage module declares.
    pub outputs: Vec<String>,
}

/// The module name of a heritage: `bcn-users` → `bcn_users`, `1st` → `_1st`.
#[must_use]
pub fn module_name(heritage: &str) -> String {
    let name = heritage.replace('-', "_");
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

/// The district's values a heritage module may need, by variable name: the
/// expressions of the district outputs of the same names in `district.tf.json`.
fn district_values(district: &District, terraform: &DistrictTerraform) -> BTreeMap<String, Value> {
    let subnets = |kind: &str| {
        Value::Array(
            (1..=district.network.availability_zones)
                .map(|i| json!(format!("${{aws_subnet.{kind}_{i}.id}}")))
                .collect(),
        )
    };
    let mut values: BTreeMap<String, Value> = [
        ("cluster_name", json!("${aws_ecs_cluster.this.name}")),
        // The capacity provider once it is attached to the cluster: a service
        // that names it earlier is refused by ECS.
        (
            "capacity_provider",
            // With FARGATE and FARGATE_SPOT beside it, the EC2 one by its name.
            if district.fargate_spot || district.ec2_spot {
                json!(
                    "${one([for p in aws_ecs_cluster_capacity_providers.this.capacity_providers : p if p == aws_ecs_capacity_provider.this.name])}"
                )
            } else {
                json!("${one(aws_ecs_cluster_capacity_providers.this.capacity_providers)}")
            },
        ),
        (
            "spot_capacity_provider",
            json!(
                "${one([for p in aws_ecs_cluster_capacity_providers.this.capacity_providers : p if p == aws_ecs_capacity_provider.spot.name])}"
            ),
        ),
        (
            "fargate_spot_capacity_provider",
            json!(
                "${one([for p in aws_ecs_cluster_capacity_providers.this.capacity_providers : p if p == \"FARGATE_SPOT\"])}"
            ),
        ),
        ("vpc_id", json!("${aws_vpc.this.id}")),
        ("private_subnet_ids", subnets("private")),
        ("public_subnet_ids", subnets("public")),
        (
            "container_security_group_id",
            json!("${aws_security_group.containers.id}"),
        ),
        (
            "data_security_group_id",
            json!("${aws_security_group.data.id}"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for e in &terraform.endpoints {
        values.insert(
            e.https_listener_output.clone(),
            json!(format!("${{aws_lb_listener.{}_https.arn}}", e.tf)),
        );
        values.insert(
            e.http_listener_output.clone(),
            json!(format!("${{aws_lb_listener.{}_http.arn}}", e.tf)),
        );
    }
    values
}

/// The variables without a default that `main.tf.json` declares for a heritage.
fn required_variables(plan: &HeritagePlan<'_>) -> Vec<String> {
    let mut names: Vec<String> = [
        "cluster_name",
        "capacity_provider",
        "vpc_id",
        "private_subnet_ids",
        "container_security_group_id",
        "data_security_group_id",
    ]
    .map(String::from)
    .to_vec();
    names.extend(
        plan.terraform
            .listener_variables
            .iter()
            .map(|v| v.variable.clone()),
    );
    if plan
        .services
        .iter()
        .any(|s| s.fargate_capacity_provider.is_some())
    {
        names.push("fargate_spot_capacity_provider".to_owned());
    }
    if plan
        .services
        .iter()
        .any(|s| s.hosts_provider == super::SPOT_HOSTS_PROVIDER)
    {
        names.push(super::SPOT_HOSTS_PROVIDER.to_owned());
    }
    if plan
        .services
        .iter()
        .any(|s| s.nlb.as_ref().is_some_and(|n| n.public))
    {
        names.push("public_subnet_ids".to_owned());
    }
    names
}

/// The outputs `main.tf.json` and `data.tf.json` declare for a heritage.
fn outputs(plan: &HeritagePlan<'_>) -> Vec<String> {
    let data = &plan.data;
    let mut names: Vec<String> = [
        "image",
        "execution_role_arn",
        "task_role_arn",
        "log_group_name",
    ]
    .map(String::from)
    .to_vec();
    if plan.before_deploy.is_some() {
        names.push("before_deploy_task_definition_arn".to_owned());
    }
    if data.database.is_some() {
        names.extend(["db_host", "db_port", "db_secret_arn"].map(String::from));
    }
    if data.cache.is_some() {
        names.extend(["redis_host", "redis_port"].map(String::from));
    }
    names.extend(data.buckets.iter().map(|b| format!("bucket_{}", b.tf)));
    names.extend(
        data.buckets
            .iter()
            .filter(|b| b.distribution.is_some())
            .map(|b| format!("bucket_{}_distribution_domain", b.tf)),
    );
    names.extend(
        data.repositories
            .iter()
            .map(|r| format!("repository_{}_url", r.tf)),
    );
    names.extend(data.secrets.iter().map(|s| format!("secret_{}_arn", s.tf)));
    names.extend(
        plan.services
            .iter()
            .filter_map(|s| s.nlb.as_ref().map(|n| n.tf_output.clone())),
    );
    names.sort();
    names
}

/// The root module of a district, from its heritages' plans in heritage order.
#[must_use]
pub fn root_plan(
    district: &District,
    terraform: &DistrictTerraform,
    heritages: &[HeritagePlan<'_>],
) -> RootPlan {
    let values = district_values(district, terraform);
    RootPlan {
        modules: heritages
            .iter()
            .map(|plan| {
                let name = module_name(plan.name);
                ModuleCall {
                    heritage: plan.name.to_owned(),
                    source: format!("./{}", plan.name),
                    arguments: required_variables(plan)
                        .into_iter()
                        .map(|v| {
                            let value = values.get(&v).cloned().unwrap_or(Value::Null);
                            (v, value)
                        })
                        .collect(),
                    output: format!("heritage_{}", name.trim_start_matches('_')),
                    outputs: outputs(plan),
                    name,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert_eq!(module_name("bcn-users"), "bcn_users");
        assert_eq!(module_name("app"), "app");
        assert_eq!(module_name("1st-app"), "_1st_app");
        assert_eq!(module_name("Cat-Lovers"), "Cat_Lovers");
    }
}
