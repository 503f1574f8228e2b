//! CloudFormation and Terraform describe the same infrastructure. For every
//! district and heritage of the example and golden fleets, both formats are
//! reduced to the same list of facts — names, images, commands, cpu and
//! memory, ports, health checks, rule priorities and conditions, schedules,
//! autoscaling, log retention, the network, Route 53 alias records, and which resources keep their
//! data — and the two lists must be equal, so a change to one template that
//! is not made to the other fails here.
//!
//! References are compared by what they point at, not by how they are
//! written: `{"Fn::ImportValue": "mstdn-ClusterName"}` and
//! `"${var.cluster_name}"` both become `{district.cluster_name}`, a task
//! definition reference becomes `{task_definition.<family>}`, and so on.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use berth::plan::{logical_id, terraform_name};

type Facts = BTreeMap<String, Value>;

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn object(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// `true` when a CloudFormation resource keeps its data when deleted or replaced.
fn cfn_keeps(resource: &Value) -> bool {
    matches!(
        resource["DeletionPolicy"].as_str(),
        Some("Retain" | "Snapshot" | "RetainExceptOnCreate")
    )
}

/// `true` when a Terraform resource is kept from a careless destroy:
/// `lifecycle.prevent_destroy` is set. `false` counts too: the instance
/// file's `prevent_destroy: false` is Terraform-only by design (it lets a
/// plan destroy what CloudFormation still keeps with its `DeletionPolicy`),
/// so the two formats agree on everything but that choice, which
/// `tests/terraform.rs` checks is made only where a file makes it. A
/// resource with no `prevent_destroy` at all is a template that forgot it.
fn tf_keeps(body: &Value) -> bool {
    body["lifecycle"]["prevent_destroy"].is_boolean()
}

// ------------------------------------------------------------- CloudFormation

/// A CloudFormation template (or two, merged) with the tokens its resources stand for.
struct Cfn {
    resources: Map<String, Value>,
    parameters: Map<String, Value>,
    /// Logical id → token, e.g. `WebTaskDefinition` → `task_definition.app-web`.
    tokens: BTreeMap<String, String>,
    /// `<district>-` and, for a heritage, `<district>-<heritage>-`.
    district_prefix: String,
    data_prefix: Option<String>,
}

impl Cfn {
    fn new(files: &[Value], district: &str, heritage: Option<&str>) -> Self {
        let mut resources = Map::new();
        let mut parameters = Map::new();
        for file in files {
            resources.extend(object(&file["Resources"]));
            parameters.extend(object(&file["Parameters"]));
        }
        let mut cfn = Self {
            resources,
            parameters,
            tokens: BTreeMap::new(),
            district_prefix: format!("{district}-"),
            data_prefix: heritage.map(|h| format!("{district}-{h}-")),
        };
        cfn.tokens = cfn.name_resources();
        cfn
    }

    /// Tokens of the resources, by what they are.
    fn name_resources(&self) -> BTreeMap<String, String> {
        let mut tokens = BTreeMap::new();
        for (id, resource) in &self.resources {
            let p = &resource["Properties"];
            let token = match resource["Type"].as_str().unwrap() {
                "AWS::ECS::TaskDefinition" => {
                    format!("task_definition.{}", p["Family"].as_str().unwrap())
                }
                "AWS::ECS::Service" => format!("service.{}", p["ServiceName"].as_str().unwrap()),
                "AWS::IAM::Role" => match id.as_str() {
                    "ExecutionRole" => "role.execution".into(),
                    "TaskRole" => "role.task".into(),
                    "EventsRole" => "role.events".into(),
                    "OffHoursRole" => "role.off_hours".into(),
                    "HostHoursRole" => "role.host_hours".into(),
                    _ => "role.hosts".into(),
                },
                "AWS::RDS::DBInstance" => "db".into(),
                "AWS::ElastiCache::ReplicationGroup" => "cache".into(),
                "AWS::S3::Bucket" => format!("bucket.{}", id.trim_start_matches("Bucket")),
                // A bucket's (`BucketMediaDistribution`) or an endpoint's
                // (`EndpointSocialDistribution`), named as Terraform names them.
                "AWS::CloudFront::Distribution" => format!(
                    "distribution.{}",
                    id.trim_start_matches("Bucket")
                        .trim_start_matches("Endpoint")
                        .trim_end_matches("Distribution")
                ),
                "AWS::CloudFront::OriginAccessControl" => format!(
                    "origin_access.{}",
                    id.trim_start_matches("Bucket")
                        .trim_end_matches("OriginAccess")
                ),
                "AWS::ECR::Repository" => {
                    format!("repository.{}", id.trim_start_matches("Repository"))
                }
                "AWS::SecretsManager::Secret" => {
                    format!("secret.{}", id.strip_prefix("Secret").unwrap())
                }
                "AWS::ApplicationAutoScaling::ScalableTarget" => format!("scalable_target.{id}"),
                "AWS::ElasticLoadBalancingV2::LoadBalancer" => lb_token(&p["Tags"], &p["Name"]),
                "AWS::EC2::Subnet" => format!("subnet.{}", tag(&p["Tags"], "Name")),
                "AWS::EC2::RouteTable" => format!("route_table.{}", tag(&p["Tags"], "Name")),
                "AWS::EC2::NetworkAcl" => format!("acl.{}", tag(&p["Tags"], "Name")),
                "AWS::EC2::NatGateway" => format!("nat.{}", tag(&p["Tags"], "Name")),
                "AWS::EC2::EIP" => format!("eip.{}", tag(&p["Tags"], "Name")),
                "AWS::EC2::SecurityGroup" => format!("sg.{}", tag(&p["Tags"], "Name")),
                "AWS::EC2::VPC" => "vpc".into(),
                "AWS::EC2::InternetGateway" => "igw".into(),
                "AWS::ECS::Cluster" => "cluster".into(),
                "AWS::IAM::InstanceProfile" => "profile.hosts".into(),
                "AWS::EC2::LaunchTemplate" => "launch_template".into(),
                "AWS::AutoScaling::AutoScalingGroup" if id.starts_with("Spot") => "asg.spot".into(),
                "AWS::AutoScaling::AutoScalingGroup" => "asg".into(),
                "AWS::ECS::CapacityProvider" if id.starts_with("Spot") => {
                    "capacity_provider.spot".into()
                }
                "AWS::ECS::CapacityProvider" => "capacity_provider".into(),
                _ => id.clone(),
            };
            tokens.insert(id.clone(), token);
        }
        // Target groups and listeners by what routes to them.
        for (id, resource) in &self.resources {
            let p = &resource["Properties"];
            match resource["Type"].as_str().unwrap() {
                "AWS::ElasticLoadBalancingV2::ListenerRule" => {
                    let key = format!(
                        "{}#{}",
                        text(&self.value(&p["ListenerArn"], &tokens)),
                        p["Priority"]
                    );
                    let group = p["Actions"][0]["TargetGroupArn"]["Ref"].as_str().unwrap();
                    name_by_first_rule(&mut tokens, group.to_owned(), &key);
                    tokens.insert(id.clone(), format!("rule.{key}"));
                }
                "AWS::ElasticLoadBalancingV2::Listener" => {
                    let lb = text(&self.value(&p["LoadBalancerArn"], &tokens));
                    let listener = format!("listener.{lb}.{}", p["Port"]);
                    // A network load balancer's listener forwards to its target group.
                    if let Some(group) = p["DefaultActions"][0]["TargetGroupArn"]["Ref"].as_str() {
                        tokens.insert(group.to_owned(), format!("target_group.{listener}"));
                    }
                    tokens.insert(id.clone(), listener);
                }
                _ => {}
            }
        }
        tokens
    }

    /// A property with every intrinsic function replaced by what it stands for.
    fn value(&self, value: &Value, tokens: &BTreeMap<String, String>) -> Value {
        let Some(map) = value.as_object() else {
            return match value {
                Value::Array(items) => items.iter().map(|v| self.value(v, tokens)).collect(),
                other => other.clone(),
            };
        };
        let single = (map.len() == 1).then(|| map.iter().next().unwrap());
        match single {
            Some((k, v)) if k == "Ref" => {
                let name = v.as_str().unwrap();
                if name == "AWS::Region" {
                    return json!("{region}");
                }
                if name == "AWS::AccountId" {
                    return json!("{account}");
                }
                match self.parameters.get(name) {
                    Some(parameter) if parameter.get("Default").is_some() => {
                        parameter["Default"].clone()
                    }
                    Some(_) => json!(format!("{{parameter.{name}}}")),
                    None => json!(format!(
                        "{{{}}}",
                        tokens.get(name).map_or(name, String::as_str)
                    )),
                }
            }
            Some((k, v)) if k == "Fn::GetAtt" => {
                let id = v[0].as_str().unwrap();
                let attribute = v[1].as_str().unwrap();
                let suffix = match attribute {
                    "Endpoint.Address" | "PrimaryEndPoint.Address" => ".host",
                    "Endpoint.Port" | "PrimaryEndPoint.Port" => ".port",
                    "MasterUserSecret.SecretArn" => ".secret",
                    "Arn" if id.starts_with("Bucket") => ".arn",
                    "RegionalDomainName" => ".regional_domain",
                    "DNSName" => ".dns_name",
                    "DomainName" => ".domain_name",
                    "CanonicalHostedZoneID" => ".zone_id",
                    _ => "",
                };
                json!(format!(
                    "{{{}{suffix}}}",
                    tokens.get(id).map_or(id, String::as_str)
                ))
            }
            Some((k, v)) if k == "Fn::ImportValue" => {
                json!(format!("{{{}}}", self.import(v.as_str().unwrap())))
            }
            Some((k, v)) if k == "Fn::Split" => self.value(&v[1], tokens),
            Some((k, v)) if k == "Fn::Join" => {
                let separator = v[0].as_str().unwrap();
                let parts: Vec<String> = v[1]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| text(&self.value(p, tokens)))
                    .collect();
                json!(parts.join(separator))
            }
            Some((k, v)) if k == "Fn::Sub" => {
                let (template, variables) = match v {
                    Value::Array(items) => (items[0].as_str().unwrap(), object(&items[1])),
                    other => (other.as_str().unwrap(), Map::new()),
                };
                let mut out = template
                    .replace("${AWS::Partition}", "{partition}")
                    .replace("${AWS::Region}", "{region}")
                    .replace("${AWS::AccountId}", "{account}");
                for (name, value) in &variables {
                    out = out.replace(&format!("${{{name}}}"), &text(&self.value(value, tokens)));
                }
                for (id, token) in tokens {
                    out = out
                        .replace(&format!("${{{id}.Arn}}"), &format!("{{{token}.arn}}"))
                        .replace(&format!("${{{id}}}"), &format!("{{{token}}}"));
                }
                json!(out)
            }
            Some((k, v)) if k == "Fn::Base64" => self.value(v, tokens),
            _ => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(v, tokens)))
                    .collect(),
            ),
        }
    }

    /// The token of an exported value another stack imports.
    fn import(&self, export: &str) -> String {
        // The data stack's keys; anything else is the district's (a heritage
        // may be named like an endpoint: `bcn-barcelona-HttpsListener`).
        let data = self
            .data_prefix
            .as_deref()
            .and_then(|p| export.strip_prefix(p))
            .and_then(|key| {
                Some(match key {
                    "ExecutionRoleArn" => "role.execution".into(),
                    "TaskRoleArn" => "role.task".into(),
                    "LogGroupName" => "log_group".into(),
                    "DbHost" => "db.host".into(),
                    "DbPort" => "db.port".into(),
                    "DbSecretArn" => "db.secret".into(),
                    "RedisHost" => "cache.host".into(),
                    "RedisPort" => "cache.port".into(),
                    bucket if bucket.starts_with("Bucket") => format!("bucket.{}", &bucket[6..]),
                    repository if repository.starts_with("Repository") => {
                        match repository[10..].strip_suffix("Uri") {
                            Some(name) => format!("repository.{name}.uri"),
                            None => format!("data.{repository}"),
                        }
                    }
                    secret if secret.starts_with("Secret") => format!("secret.{}", &secret[6..]),
                    _ => return None,
                })
            });
        if let Some(token) = data {
            return token;
        }
        let key = export.strip_prefix(&self.district_prefix).unwrap();
        let output = match key {
            "VpcId" => "vpc_id".to_owned(),
            "PrivateSubnets" => "private_subnet_ids".to_owned(),
            "PublicSubnets" => "public_subnet_ids".to_owned(),
            "ClusterName" => "cluster_name".to_owned(),
            "CapacityProvider" => "capacity_provider".to_owned(),
            "SpotCapacityProvider" => "spot_capacity_provider".to_owned(),
            "ContainerSecurityGroup" => "container_security_group_id".to_owned(),
            "LoadBalancerSecurityGroup" => "load_balancer_security_group_id".to_owned(),
            "DataSecurityGroup" => "data_security_group_id".to_owned(),
            endpoint => {
                let (name, what) = endpoint.rsplit_once('-').unwrap();
                let what = match what {
                    "HttpsListener" => "https_listener_arn",
                    "HttpListener" => "http_listener_arn",
                    "LoadBalancer" => "load_balancer_arn",
                    "DnsName" => "dns_name",
                    other => panic!("unknown district export `{other}`"),
                };
                format!("{what}_{}", terraform_name(name))
            }
        };
        format!("district.{output}")
    }

    /// Resources of one type, with their properties resolved.
    fn of_type(&self, kind: &str) -> Vec<(&str, &Value, Value)> {
        self.resources
            .iter()
            .filter(|(_, r)| r["Type"] == kind)
            .map(|(id, r)| (id.as_str(), r, self.value(&r["Properties"], &self.tokens)))
            .collect()
    }
}

/// An endpoint's load balancer by its name (an endpoint may be a pool of
/// several), a service's network load balancer by its service.
fn lb_token(tags: &Value, name: &Value) -> String {
    match tag(tags, "berth:endpoint") {
        endpoint if !endpoint.is_empty() => format!("lb.{endpoint}.{}", text(name)),
        _ => format!("nlb.{}", tag(tags, "berth:service")),
    }
}

fn tag(tags: &Value, key: &str) -> String {
    let found = match tags {
        Value::Array(list) => list
            .iter()
            .find(|t| t["Key"] == key)
            .map(|t| t["Value"].clone()),
        Value::Object(map) => map.get(key).cloned(),
        _ => None,
    };
    text(&found.unwrap_or(Value::Null))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

// ------------------------------------------------------------------ Terraform

/// The `*.tf.json` files of one module, merged, with the tokens of its resources.
struct Tf {
    resources: BTreeMap<(String, String), Value>,
    ephemeral: BTreeMap<(String, String), Value>,
    variables: Map<String, Value>,
    locals: Map<String, Value>,
    tokens: BTreeMap<String, String>,
}

impl Tf {
    fn new(files: &[Value]) -> Self {
        let mut tf = Self {
            resources: BTreeMap::new(),
            ephemeral: BTreeMap::new(),
            variables: Map::new(),
            locals: Map::new(),
            tokens: BTreeMap::new(),
        };
        for file in files {
            for (kind, blocks) in object(&file["resource"]) {
                for (name, body) in object(&blocks) {
                    tf.resources.insert((kind.clone(), name), body);
                }
            }
            for (kind, blocks) in object(&file["ephemeral"]) {
                for (name, body) in object(&blocks) {
                    tf.ephemeral.insert((kind.clone(), name), body);
                }
            }
            tf.variables.extend(object(&file["variable"]));
            tf.locals.extend(object(&file["locals"]));
        }
        tf.tokens = tf.name_resources();
        tf
    }

    fn name_resources(&self) -> BTreeMap<String, String> {
        let mut tokens = BTreeMap::new();
        for ((kind, name), body) in &self.resources {
            let token = match kind.as_str() {
                "aws_ecs_task_definition" => {
                    format!("task_definition.{}", body["family"].as_str().unwrap())
                }
                "aws_ecs_service" => format!("service.{}", body["name"].as_str().unwrap()),
                "aws_iam_role" => format!(
                    "role.{}",
                    if name == "container_hosts" {
                        "hosts"
                    } else {
                        name
                    }
                ),
                "aws_db_instance" => "db".into(),
                "aws_elasticache_replication_group" => "cache".into(),
                "aws_s3_bucket" => format!("bucket.{}", logical_id(name)),
                "aws_cloudfront_distribution" => format!("distribution.{}", logical_id(name)),
                "aws_cloudfront_origin_access_control" => {
                    format!("origin_access.{}", logical_id(name))
                }
                "aws_ecr_repository" => format!("repository.{}", logical_id(name)),
                // The version holds the value; both stand for the secret.
                "aws_secretsmanager_secret" | "aws_secretsmanager_secret_version" => {
                    format!("secret.{}", logical_id(name))
                }
                "aws_cloudwatch_log_group" => "log_group".into(),
                "aws_lb" => lb_token(&body["tags"], &body["name"]),
                "aws_subnet" => format!("subnet.{}", tag(&body["tags"], "Name")),
                "aws_route_table" => format!("route_table.{}", tag(&body["tags"], "Name")),
                "aws_network_acl" => format!("acl.{}", tag(&body["tags"], "Name")),
                "aws_nat_gateway" => format!("nat.{}", tag(&body["tags"], "Name")),
                "aws_eip" => format!("eip.{}", tag(&body["tags"], "Name")),
                "aws_security_group" => format!("sg.{}", tag(&body["tags"], "Name")),
                "aws_vpc" => "vpc".into(),
                "aws_internet_gateway" => "igw".into(),
                "aws_ecs_cluster" => "cluster".into(),
                "aws_iam_instance_profile" => "profile.hosts".into(),
                "aws_launch_template" => "launch_template".into(),
                "aws_autoscaling_group" if name == "spot_hosts" => "asg.spot".into(),
                "aws_autoscaling_group" => "asg".into(),
                "aws_ecs_capacity_provider" if name == "spot" => "capacity_provider.spot".into(),
                "aws_ecs_capacity_provider" => "capacity_provider".into(),
                _ => format!("{kind}.{name}"),
            };
            tokens.insert(format!("{kind}.{name}"), token);
        }
        for ((kind, name), body) in &self.resources {
            match kind.as_str() {
                "aws_lb_listener_rule" => {
                    let key = format!(
                        "{}#{}",
                        text(&self.value(&body["listener_arn"])),
                        body["priority"]
                    );
                    let group =
                        Self::address(body["action"][0]["target_group_arn"].as_str().unwrap());
                    name_by_first_rule(&mut tokens, group, &key);
                    tokens.insert(format!("{kind}.{name}"), format!("rule.{key}"));
                }
                "aws_lb_listener" => {
                    let lb = text(&self.value_with(&body["load_balancer_arn"], &tokens));
                    let listener = format!("listener.{lb}.{}", body["port"]);
                    if let Some(group) = body["default_action"][0]["target_group_arn"].as_str() {
                        tokens.insert(Self::address(group), format!("target_group.{listener}"));
                    }
                    tokens.insert(format!("{kind}.{name}"), listener);
                }
                _ => {}
            }
        }
        tokens
    }

    /// `${aws_x.y.arn}` → `aws_x.y`.
    fn address(reference: &str) -> String {
        let inner = reference.trim_start_matches("${").trim_end_matches('}');
        inner.split('.').take(2).collect::<Vec<_>>().join(".")
    }

    fn value(&self, value: &Value) -> Value {
        self.value_with(value, &self.tokens)
    }

    /// A value with every template replaced by what it stands for; a string
    /// that is one expression of a local or variable becomes that value.
    fn value_with(&self, value: &Value, tokens: &BTreeMap<String, String>) -> Value {
        match value {
            Value::String(s) => {
                let whole = s
                    .strip_prefix("${")
                    .and_then(|e| e.strip_suffix('}'))
                    .filter(|e| !e.contains("${"));
                if let Some(resolved) = whole.and_then(|e| self.resolve(e, tokens)) {
                    return resolved;
                }
                json!(self.template(s, tokens))
            }
            Value::Array(items) => items.iter().map(|v| self.value_with(v, tokens)).collect(),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value_with(v, tokens)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Whole-value expressions: locals, `jsonencode(...)` and the image default.
    fn resolve(&self, expression: &str, tokens: &BTreeMap<String, String>) -> Option<Value> {
        if let Some(inner) = expression
            .strip_prefix("jsonencode(")
            .and_then(|e| e.strip_suffix(')'))
        {
            let inner = inner.trim_start_matches('[').trim_end_matches(']');
            let local = self.locals.get(inner.strip_prefix("local.")?)?;
            let resolved = self.value_with(local, tokens);
            return Some(if expression.contains('[') {
                json!([resolved])
            } else {
                resolved
            });
        }
        if let Some(name) = expression.strip_prefix("local.") {
            return Some(self.value_with(self.locals.get(name)?, tokens));
        }
        if let Some(name) = expression.strip_prefix("var.") {
            let default = &self.variables.get(name)?["default"];
            return default.as_str().map(|d| json!(unescape(d)));
        }
        None
    }

    /// A template string: literals unescaped, each `${…}` replaced by `{token}`.
    fn template(&self, s: &str, tokens: &BTreeMap<String, String>) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(at) = rest.find(['$', '%']) {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            if tail.starts_with("$${") || tail.starts_with("%%{") {
                out.push_str(&tail[1..3]);
                rest = &tail[3..];
            } else if let Some(body) = tail.strip_prefix("${") {
                let end = body.find('}').unwrap();
                // The image tag is a variable with a default, like the app
                // stack's `ImageTag` parameter: compared as its value.
                let tag = (&body[..end] == "var.image_tag")
                    .then(|| self.variables["image_tag"]["default"].as_str())
                    .flatten();
                match tag {
                    Some(tag) => out.push_str(&unescape(tag)),
                    None => out.push_str(&format!("{{{}}}", self.token(&body[..end], tokens))),
                }
                rest = &body[end + 1..];
            } else {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        out
    }

    fn token(&self, expression: &str, tokens: &BTreeMap<String, String>) -> String {
        let expression = expression
            .strip_prefix("tostring(")
            .and_then(|e| e.strip_suffix(')'))
            .unwrap_or(expression);
        match expression {
            "data.aws_partition.current.partition" => return "partition".into(),
            "data.aws_region.current.region" => return "region".into(),
            "data.aws_caller_identity.current.account_id" => return "account".into(),
            _ => {}
        }
        if let Some(name) = expression.strip_prefix("var.") {
            return format!("district.{name}");
        }
        let parts: Vec<&str> = expression.splitn(3, '.').collect();
        let address = parts[..2.min(parts.len())].join(".");
        let attribute = parts.get(2).copied().unwrap_or("");
        let suffix = match (parts[0], attribute) {
            (
                "aws_db_instance" | "aws_elasticache_replication_group",
                "address" | "primary_endpoint_address",
            ) => ".host",
            ("aws_db_instance" | "aws_elasticache_replication_group", "port") => ".port",
            ("aws_db_instance", a) if a.starts_with("master_user_secret") => ".secret",
            ("aws_s3_bucket" | "aws_cloudfront_distribution", "arn") => ".arn",
            ("aws_s3_bucket", "bucket_regional_domain_name") => ".regional_domain",
            ("aws_lb", "dns_name") => ".dns_name",
            ("aws_lb", "zone_id") => ".zone_id",
            ("aws_cloudfront_distribution", "domain_name") => ".domain_name",
            ("aws_ecr_repository", "repository_url") => ".uri",
            _ => "",
        };
        let token = tokens.get(&address).cloned().unwrap_or(address);
        // A log group's name is compared as the name itself.
        let log_group = self
            .resources
            .get(&("aws_cloudwatch_log_group".into(), "this".into()));
        if let Some(body) = log_group.filter(|_| token == "log_group") {
            return format!("literal:{}", body["name"].as_str().unwrap());
        }
        format!("{token}{suffix}")
    }

    fn of_type(&self, kind: &str) -> Vec<(&str, &Value, Value)> {
        self.resources
            .iter()
            .filter(|((k, _), _)| k == kind)
            .map(|((_, name), body)| (name.as_str(), body, self.value(body)))
            .collect()
    }
}

/// Route 53 alias records, by name and type: the zone and what the alias points at.
fn cfn_records(cfn: &Cfn, facts: &mut Facts) {
    for (_, _, p) in cfn.of_type("AWS::Route53::RecordSet") {
        let a = &p["AliasTarget"];
        facts.insert(
            format!("record {} {}", text(&p["Name"]), text(&p["Type"])),
            json!({
                "zone": p["HostedZoneId"],
                "alias": [a["DNSName"], a["HostedZoneId"], a["EvaluateTargetHealth"]],
            }),
        );
    }
}

fn tf_records(tf: &Tf, facts: &mut Facts) {
    for (_, _, r) in tf.of_type("aws_route53_record") {
        let a = &r["alias"][0];
        facts.insert(
            format!("record {} {}", text(&r["name"]), text(&r["type"])),
            json!({
                "zone": r["zone_id"],
                "alias": [a["name"], a["zone_id"], a["evaluate_target_health"]],
            }),
        );
    }
}

fn unescape(s: &str) -> String {
    s.replace("$${", "${").replace("%%{", "%{")
}

/// `{literal:x}` (a Terraform reference to a log group's name) → `x`.
fn literal(value: Value) -> Value {
    match value {
        Value::String(s) if s.starts_with("{literal:") => json!(s[9..s.len() - 1].to_owned()),
        other => other,
    }
}

// --------------------------------------------------------------------- facts

fn pairs(list: &Value, key: &str, value: &str) -> Value {
    let mut pairs: Vec<(String, Value)> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| (text(&item[key]), literal(item[value].clone())))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    json!(pairs)
}

fn sorted(value: &Value) -> Value {
    let mut items: Vec<Value> = value.as_array().cloned().unwrap_or_default();
    items.sort_by_key(ToString::to_string);
    Value::Array(items)
}

/// One container, from CloudFormation's or the ECS API's spelling.
fn container(c: &Value, cfn: bool) -> Value {
    let k = |cfn_key: &str, api_key: &str| c[if cfn { cfn_key } else { api_key }].clone();
    let ports: Vec<Value> = k("PortMappings", "portMappings")
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            if cfn {
                json!([p["ContainerPort"], p["HostPort"], p["Protocol"]])
            } else {
                json!([p["containerPort"], p["hostPort"], p["protocol"]])
            }
        })
        .collect();
    let log = k("LogConfiguration", "logConfiguration");
    let options = &log[if cfn { "Options" } else { "options" }];
    json!({
        "name": k("Name", "name"),
        "image": k("Image", "image"),
        "essential": k("Essential", "essential"),
        "read_only_root": k("ReadonlyRootFilesystem", "readonlyRootFilesystem"),
        "cpu": k("Cpu", "cpu"),
        "memory": k("Memory", "memory"),
        "command": k("Command", "command"),
        "ports": ports,
        "environment": pairs(&k("Environment", "environment"), if cfn { "Name" } else { "name" }, if cfn { "Value" } else { "value" }),
        "secrets": pairs(&k("Secrets", "secrets"), if cfn { "Name" } else { "name" }, if cfn { "ValueFrom" } else { "valueFrom" }),
        "log_driver": log[if cfn { "LogDriver" } else { "logDriver" }],
        "log_group": literal(options["awslogs-group"].clone()),
        "log_region": options["awslogs-region"],
        "log_prefix": options["awslogs-stream-prefix"],
    })
}

fn statements(policy: &Value) -> Value {
    let list: Vec<Value> = policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let resources = match &s["Resource"] {
                Value::Array(items) => sorted(&Value::Array(items.clone())),
                Value::Null => Value::Null,
                one => json!([one]),
            };
            json!({"effect": s["Effect"], "action": s["Action"], "principal": s["Principal"], "resource": resources,
                "condition": distribution_arns(&s["Condition"])})
        })
        .collect();
    sorted(&Value::Array(list))
}

/// CloudFormation spells a distribution's ARN out
/// (`arn:{partition}:cloudfront::{account}:distribution/{id}`), Terraform
/// reads its `arn`: both become `{distribution.X.arn}`.
fn distribution_arns(value: &Value) -> Value {
    match value {
        Value::String(s) => {
            let prefix = "arn:{partition}:cloudfront::{account}:distribution/{";
            match s.strip_prefix(prefix).and_then(|r| r.strip_suffix('}')) {
                Some(token) => json!(format!("{{{token}.arn}}")),
                None => value.clone(),
            }
        }
        Value::Array(items) => items.iter().map(distribution_arns).collect(),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), distribution_arns(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Security groups and their rules, inline or separate, as one list.
/// The `EventBridge` Scheduler schedules of a stack (off-hours of a heritage
/// or of a district's hosts), by name under `label`.
fn cfn_schedules(cfn: &Cfn, label: &str, facts: &mut Facts) {
    for (_, _, p) in cfn.of_type("AWS::Scheduler::Schedule") {
        let t = &p["Target"];
        facts.insert(
            format!("{label} {}", text(&p["Name"])),
            json!({
                "schedule": p["ScheduleExpression"], "timezone": p["ScheduleExpressionTimezone"],
                "window": p["FlexibleTimeWindow"]["Mode"], "state": p["State"], "description": p["Description"],
                "target": t["Arn"], "role": t["RoleArn"],
                "input": serde_json::from_str::<Value>(t["Input"].as_str().unwrap()).unwrap(),
            }),
        );
    }
}

/// [`cfn_schedules`] of a Terraform configuration.
fn tf_schedules(tf: &Tf, label: &str, facts: &mut Facts) {
    for (_, _, b) in tf.of_type("aws_scheduler_schedule") {
        let t = &b["target"];
        facts.insert(
            format!("{label} {}", text(&b["name"])),
            json!({
                "schedule": b["schedule_expression"], "timezone": b["schedule_expression_timezone"],
                "window": b["flexible_time_window"]["mode"], "state": b["state"], "description": b["description"],
                "target": t["arn"], "role": t["role_arn"],
                "input": serde_json::from_str::<Value>(t["input"].as_str().unwrap()).unwrap(),
            }),
        );
    }
}

fn cfn_security_groups(cfn: &Cfn, facts: &mut Facts) {
    let mut rules = Vec::new();
    for (_, _, p) in cfn.of_type("AWS::EC2::SecurityGroup") {
        let group = format!("{{{}}}", tag(&p["Tags"], "Name"));
        facts.insert(
            format!("security_group {group}"),
            json!([p["GroupDescription"], p["VpcId"]]),
        );
        for (direction, list) in [
            ("in", &p["SecurityGroupIngress"]),
            ("out", &p["SecurityGroupEgress"]),
        ] {
            for r in list.as_array().into_iter().flatten() {
                let source = [&r["CidrIp"], &r["SourceSecurityGroupId"]]
                    .into_iter()
                    .find(|v| !v.is_null())
                    .cloned();
                rules.push(json!([
                    group,
                    direction,
                    r["IpProtocol"],
                    r["FromPort"],
                    r["ToPort"],
                    source,
                    r["Description"]
                ]));
            }
        }
    }
    for (_, _, p) in cfn.of_type("AWS::EC2::SecurityGroupIngress") {
        let group = text(&p["GroupId"]).replace("{sg.", "{");
        let source = [&p["CidrIp"], &p["SourceSecurityGroupId"]]
            .into_iter()
            .find(|v| !v.is_null())
            .cloned();
        rules.push(json!([
            group,
            "in",
            p["IpProtocol"],
            p["FromPort"],
            p["ToPort"],
            source,
            p["Description"]
        ]));
    }
    facts.insert(
        "security_group_rules".into(),
        sorted(&json!(rules))
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r[5] = json!(text(&r[5]).replace("{sg.", "{"));
                r
            })
            .collect(),
    );
}

fn tf_security_groups(tf: &Tf, facts: &mut Facts) {
    let mut rules = Vec::new();
    for (_, _, b) in tf.of_type("aws_security_group") {
        facts.insert(
            format!("security_group {{{}}}", tag(&b["tags"], "Name")),
            json!([b["description"], b["vpc_id"]]),
        );
    }
    for (kind, direction) in [
        ("aws_vpc_security_group_ingress_rule", "in"),
        ("aws_vpc_security_group_egress_rule", "out"),
    ] {
        for (_, _, b) in tf.of_type(kind) {
            let source = [&b["cidr_ipv4"], &b["referenced_security_group_id"]]
                .into_iter()
                .find(|v| !v.is_null())
                .cloned();
            rules.push(json!([
                text(&b["security_group_id"]).replace("{sg.", "{"),
                direction,
                b["ip_protocol"],
                b["from_port"],
                b["to_port"],
                source,
                b["description"]
            ]));
        }
    }
    facts.insert(
        "security_group_rules".into(),
        sorted(&json!(rules))
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r[5] = json!(text(&r[5]).replace("{sg.", "{"));
                r
            })
            .collect(),
    );
}

/// Where a CloudFormation template deploys: the region and account of its `Rules`.
fn cfn_guard(files: &[Value]) -> Value {
    let guards: std::collections::BTreeSet<String> = files
        .iter()
        .map(|t| {
            let value =
                |rule: &str| t["Rules"][rule]["Assertions"][0]["Assert"]["Fn::Equals"][1].clone();
            json!({"region": value("DistrictRegion"), "account": value("DistrictAccount")})
                .to_string()
        })
        .collect();
    assert_eq!(
        guards.len(),
        1,
        "the stacks of one heritage disagree: {guards:?}"
    );
    serde_json::from_str(guards.first().unwrap()).unwrap()
}

/// Where a Terraform configuration deploys: the region and account its preconditions demand.
fn tf_guard(files: &[Value]) -> Value {
    let mut guard = json!({"region": null, "account": null});
    let text = files.iter().map(Value::to_string).collect::<String>();
    for (key, expression) in [
        ("region", "data.aws_region.current.region == \\\""),
        (
            "account",
            "data.aws_caller_identity.current.account_id == \\\"",
        ),
    ] {
        if let Some(rest) = text.split(expression).nth(1) {
            guard[key] = json!(rest.split('\\').next().unwrap());
        }
    }
    guard
}

fn cfn_heritage(dir: &Path, district: &str, heritage: &str) -> Facts {
    let files = [
        read(&dir.join("data.cfn.json")),
        read(&dir.join("app.cfn.json")),
    ];
    let cfn = Cfn::new(&files, district, Some(heritage));
    let mut facts = Facts::new();
    facts.insert("guard".into(), cfn_guard(&files));
    for (_, _, p) in cfn.of_type("AWS::ECS::TaskDefinition") {
        let containers: Vec<Value> = p["ContainerDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| container(c, true))
            .collect();
        facts.insert(
            format!("task_definition {}", text(&p["Family"])),
            json!({
                "execution_role": p["ExecutionRoleArn"], "task_role": p["TaskRoleArn"],
                "network_mode": p["NetworkMode"], "compatibilities": p["RequiresCompatibilities"],
                "cpu": p["Cpu"], "memory": p["Memory"], "containers": containers,
            }),
        );
    }
    for (_, r, p) in cfn.of_type("AWS::ECS::Service") {
        let d = &p["DeploymentConfiguration"];
        let network = &p["NetworkConfiguration"]["AwsvpcConfiguration"];
        let strategy: Vec<Value> = p["CapacityProviderStrategy"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| json!([s["CapacityProvider"], s["Weight"], s["Base"]]))
            .collect();
        let balancers: Vec<Value> = p["LoadBalancers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| json!([l["ContainerName"], l["ContainerPort"], l["TargetGroupArn"]]))
            .collect();
        let depends: Vec<Value> = match &r["DependsOn"] {
            Value::Array(ids) => ids
                .iter()
                .map(|id| json!(format!("{{{}}}", cfn.tokens[id.as_str().unwrap()])))
                .collect(),
            Value::String(id) => vec![json!(format!("{{{}}}", cfn.tokens[id]))],
            _ => vec![],
        };
        facts.insert(
            format!("service {}", text(&p["ServiceName"])),
            json!({
                "cluster": p["Cluster"], "task_definition": p["TaskDefinition"], "desired_count": p["DesiredCount"],
                "minimum_healthy_percent": d["MinimumHealthyPercent"], "maximum_percent": d["MaximumPercent"],
                "circuit_breaker": [d["DeploymentCircuitBreaker"]["Enable"], d["DeploymentCircuitBreaker"]["Rollback"]],
                "launch_type": p["LaunchType"], "capacity_provider_strategy": strategy,
                "subnets": network["Subnets"], "security_groups": network["SecurityGroups"],
                "public_ip": network["AssignPublicIp"].as_str().map(|a| a == "ENABLED"),
                "grace_period": p["HealthCheckGracePeriodSeconds"], "load_balancers": sorted(&json!(balancers)),
                "depends_on": sorted(&json!(depends)),
                "managed_tags": p["EnableECSManagedTags"], "propagate_tags": p["PropagateTags"],
            }),
        );
    }
    for (id, _, p) in cfn.of_type("AWS::ElasticLoadBalancingV2::TargetGroup") {
        let attributes = object(&json!(
            p["TargetGroupAttributes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| (text(&a["Key"]), a["Value"].clone()))
                .collect::<Map<_, _>>()
        ));
        facts.insert(
            format!("target_group {}", cfn.tokens[id]),
            json!({
                "port": p["Port"], "protocol": p["Protocol"], "target_type": p["TargetType"], "vpc": p["VpcId"],
                "health_check": [p["HealthCheckPath"], p["HealthCheckPort"], p["HealthCheckIntervalSeconds"],
                    p["HealthCheckTimeoutSeconds"], p["HealthyThresholdCount"], p["UnhealthyThresholdCount"], p["Matcher"]["HttpCode"]],
                "health_check_protocol": p["HealthCheckProtocol"],
                "deregistration_delay": attributes.get("deregistration_delay.timeout_seconds"),
                "proxy_protocol_v2": attributes.get("proxy_protocol_v2.enabled").map(text),
            }),
        );
    }
    for (id, _, p) in cfn.of_type("AWS::ElasticLoadBalancingV2::LoadBalancer") {
        let cross_zone = p["LoadBalancerAttributes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| {
                a["Key"] == "load_balancing.cross_zone.enabled" && text(&a["Value"]) == "true"
            });
        facts.insert(
            format!("load_balancer {}", cfn.tokens[id]),
            json!({"type": p["Type"], "internal": p["Scheme"] == "internal", "subnets": p["Subnets"],
                   "security_groups": p["SecurityGroups"], "cross_zone": cross_zone, "name": p["Name"]}),
        );
    }
    for (id, _, p) in cfn.of_type("AWS::ElasticLoadBalancingV2::Listener") {
        let a = &p["DefaultActions"][0];
        facts.insert(
            format!("listener {}", cfn.tokens[id]),
            json!({"protocol": p["Protocol"], "port": p["Port"], "load_balancer": p["LoadBalancerArn"],
                   "action": [a["Type"], a["TargetGroupArn"]]}),
        );
    }
    cfn_security_groups(&cfn, &mut facts);
    for (id, _, p) in cfn.of_type("AWS::ElasticLoadBalancingV2::ListenerRule") {
        let conditions: Vec<Value> = p["Conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let values = if c["Field"] == "host-header" {
                    &c["HostHeaderConfig"]["Values"]
                } else {
                    &c["PathPatternConfig"]["Values"]
                };
                json!([c["Field"], values])
            })
            .collect();
        facts.insert(
            format!("rule {}", cfn.tokens[id]),
            json!({"listener": p["ListenerArn"], "priority": p["Priority"], "conditions": conditions,
                   "action": [p["Actions"][0]["Type"], p["Actions"][0]["TargetGroupArn"]]}),
        );
    }
    for (_, _, p) in cfn.of_type("AWS::ElasticLoadBalancingV2::ListenerCertificate") {
        let certificate = &p["Certificates"][0]["CertificateArn"];
        facts.insert(
            format!("listener certificate {}", text(certificate)),
            json!({"listener": p["ListenerArn"], "count": p["Certificates"].as_array().unwrap().len()}),
        );
    }
    for (_, _, p) in cfn.of_type("AWS::Events::Rule") {
        let t = &p["Targets"][0];
        facts.insert(
            format!("schedule {}", text(&t["EcsParameters"]["TaskDefinitionArn"])),
            json!({
                "schedule": p["ScheduleExpression"], "state": p["State"], "description": p["Description"],
                "target_id": t["Id"], "cluster": t["Arn"], "role": t["RoleArn"],
                "task_count": t["EcsParameters"]["TaskCount"], "launch_type": t["EcsParameters"]["LaunchType"],
            }),
        );
    }
    cfn_schedules(&cfn, "off-hours schedule", &mut facts);
    for (_, _, p) in cfn.of_type("AWS::ApplicationAutoScaling::ScalingPolicy") {
        let target = cfn
            .resources
            .iter()
            .find(|(id, _)| p["ScalingTargetId"] == json!(format!("{{scalable_target.{id}}}")))
            .unwrap()
            .1;
        let t = cfn.value(&target["Properties"], &cfn.tokens);
        let c = &p["TargetTrackingScalingPolicyConfiguration"];
        facts.insert(
            format!("autoscaling {}", text(&p["PolicyName"])),
            json!({
                "resource": t["ResourceId"], "namespace": t["ServiceNamespace"], "dimension": t["ScalableDimension"],
                "min": t["MinCapacity"], "max": t["MaxCapacity"], "type": p["PolicyType"],
                "metric": c["PredefinedMetricSpecification"]["PredefinedMetricType"], "target": c["TargetValue"],
                "scale_in_cooldown": c["ScaleInCooldown"], "scale_out_cooldown": c["ScaleOutCooldown"],
            }),
        );
    }
    for (_, r, p) in cfn.of_type("AWS::Logs::LogGroup") {
        facts.insert("log_group".into(), json!({"name": p["LogGroupName"], "retention": p["RetentionInDays"], "keeps_data": cfn_keeps(r)}));
    }
    for (id, r, p) in cfn.of_type("AWS::IAM::Role") {
        let policies: Vec<Value> = p["Policies"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| json!([x["PolicyName"], statements(&x["PolicyDocument"])]))
            .collect();
        facts.insert(
            format!("role {}", cfn.tokens[id]),
            json!({"assume": statements(&p["AssumeRolePolicyDocument"]), "managed": sorted(&p["ManagedPolicyArns"]),
                   "policies": sorted(&json!(policies)), "keeps_data": cfn_keeps(r)}),
        );
    }
    for (_, r, p) in cfn.of_type("AWS::RDS::DBInstance") {
        facts.insert(
            "database".into(),
            json!({
                "identifier": p["DBInstanceIdentifier"], "engine": p["Engine"], "version": p["EngineVersion"],
                "class": p["DBInstanceClass"], "storage": text(&p["AllocatedStorage"]), "storage_type": p["StorageType"],
                "encrypted": p["StorageEncrypted"], "name": p["DBName"], "user": p["MasterUsername"],
                "managed_password": p["ManageMasterUserPassword"], "backups": p["BackupRetentionPeriod"],
                "multi_az": p["MultiAZ"], "deletion_protection": p["DeletionProtection"], "public": p["PubliclyAccessible"],
                "log_exports": p["EnableCloudwatchLogsExports"],
                "copy_tags": p["CopyTagsToSnapshot"], "minor_upgrades": p["AutoMinorVersionUpgrade"],
                "security_groups": p["VPCSecurityGroups"], "keeps_data": cfn_keeps(r),
            }),
        );
    }
    for (_, r, p) in cfn.of_type("AWS::ElastiCache::ReplicationGroup") {
        facts.insert(
            "cache".into(),
            json!({
                "id": p["ReplicationGroupId"], "description": p["ReplicationGroupDescription"], "engine": p["Engine"],
                "version": p["EngineVersion"], "node_type": p["CacheNodeType"], "nodes": p["NumCacheClusters"],
                "failover": p["AutomaticFailoverEnabled"], "multi_az": p["MultiAZEnabled"],
                "transit_encryption": p["TransitEncryptionEnabled"], "rest_encryption": text(&p["AtRestEncryptionEnabled"]),
                "snapshots": p["SnapshotRetentionLimit"], "security_groups": p["SecurityGroupIds"], "keeps_data": cfn_keeps(r),
            }),
        );
    }
    for (id, r, p) in cfn.of_type("AWS::S3::Bucket") {
        let block = &p["PublicAccessBlockConfiguration"];
        let versioned = p["VersioningConfiguration"]["Status"] == "Enabled";
        let lifecycle: Vec<Value> = p["LifecycleConfiguration"]["Rules"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                json!({
                    "id": r["Id"], "enabled": r["Status"] == "Enabled",
                    "abort_incomplete_days": r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"],
                    "noncurrent_days": r["NoncurrentVersionExpiration"]["NoncurrentDays"],
                })
            })
            .collect();
        let policy = cfn
            .of_type("AWS::S3::BucketPolicy")
            .into_iter()
            .find(|(_, _, bp)| text(&bp["Bucket"]) == format!("{{{}}}", cfn.tokens[id]))
            .map(|(_, _, bp)| statements(&bp["PolicyDocument"]));
        facts.insert(
            format!("bucket {}", cfn.tokens[id]),
            json!({
                "name": p["BucketName"],
                "encryption": p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
                "ownership": p["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
                "public_access_block": [block["BlockPublicAcls"], block["IgnorePublicAcls"], block["BlockPublicPolicy"], block["RestrictPublicBuckets"]],
                "versioning": versioned, "lifecycle": lifecycle, "policy": policy, "keeps_data": cfn_keeps(r),
                "access_logs": p.get("LoggingConfiguration").map(|l| json!({"bucket": l["DestinationBucketName"], "prefix": l["LogFilePrefix"]})),
            }),
        );
    }
    for (id, _, p) in cfn.of_type("AWS::CloudFront::OriginAccessControl") {
        let c = &p["OriginAccessControlConfig"];
        facts.insert(
            format!("origin access {}", cfn.tokens[id]),
            json!({
                "name": c["Name"], "description": c["Description"], "origin_type": c["OriginAccessControlOriginType"],
                "signing": [c["SigningBehavior"], c["SigningProtocol"]],
            }),
        );
    }
    for (id, _, p) in cfn.of_type("AWS::CloudFront::Distribution") {
        let c = &p["DistributionConfig"];
        let b = &c["DefaultCacheBehavior"];
        let v = &c["ViewerCertificate"];
        let origins: Vec<Value> = c["Origins"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| {
                json!({
                    "id": o["Id"], "domain": o["DomainName"], "access": o["OriginAccessControlId"],
                })
            })
            .collect();
        facts.insert(
            format!("distribution {}", cfn.tokens[id]),
            json!({
                "enabled": c["Enabled"], "comment": c["Comment"], "aliases": c["Aliases"],
                "http_version": c["HttpVersion"], "ipv6": c["IPV6Enabled"], "origins": origins,
                "default": {"origin": b["TargetOriginId"], "viewer": b["ViewerProtocolPolicy"], "allowed": b["AllowedMethods"],
                    "cached": b["CachedMethods"], "compress": b["Compress"], "cache_policy": b["CachePolicyId"]},
                "certificate": [v["AcmCertificateArn"], v["SslSupportMethod"], v["MinimumProtocolVersion"]],
            }),
        );
    }
    for (id, r, p) in cfn.of_type("AWS::ECR::Repository") {
        let lifecycle: Value = serde_json::from_str(
            p["LifecyclePolicy"]["LifecyclePolicyText"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        facts.insert(
            format!("repository {}", cfn.tokens[id]),
            json!({
                "name": p["RepositoryName"], "scan_on_push": p["ImageScanningConfiguration"]["ScanOnPush"],
                "tag_mutability": p["ImageTagMutability"],
                "encryption": p["EncryptionConfiguration"]["EncryptionType"], "lifecycle": lifecycle, "keeps_data": cfn_keeps(r),
            }),
        );
    }
    for (id, r, p) in cfn.of_type("AWS::SecretsManager::Secret") {
        let g = &p["GenerateSecretString"];
        facts.insert(
            format!("secret {}", cfn.tokens[id]),
            json!({
                "description": p["Description"], "length": g["PasswordLength"],
                "exclude_characters": g["ExcludeCharacters"], "exclude_punctuation": g["ExcludePunctuation"],
                "exclude_uppercase": g["ExcludeUppercase"], "include_space": g["IncludeSpace"],
                // Generated once: nothing that could make a later build change the value.
                "fixed_name": p.get("Name").is_some(), "keeps_data": cfn_keeps(r) && r["UpdateReplacePolicy"] == "Retain",
            }),
        );
    }
    cfn_records(&cfn, &mut facts);
    facts
}

fn tf_heritage(dir: &Path) -> Facts {
    let files = [
        read(&dir.join("main.tf.json")),
        read(&dir.join("data.tf.json")),
    ];
    let tf = Tf::new(&files);
    let mut facts = Facts::new();
    facts.insert("guard".into(), tf_guard(&files));
    for (_, _, b) in tf.of_type("aws_ecs_task_definition") {
        let containers: Vec<Value> = b["container_definitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| container(c, false))
            .collect();
        facts.insert(
            format!("task_definition {}", text(&b["family"])),
            json!({
                "execution_role": b["execution_role_arn"], "task_role": b["task_role_arn"],
                "network_mode": b["network_mode"], "compatibilities": b["requires_compatibilities"],
                "cpu": b["cpu"], "memory": b["memory"], "containers": containers,
            }),
        );
    }
    for (_, raw, b) in tf.of_type("aws_ecs_service") {
        let network = &b["network_configuration"];
        let strategy: Vec<Value> = b["capacity_provider_strategy"]
            .as_array()
            .into_iter()
            .flatten()
            // The district's output `fargate_spot_capacity_provider` is FARGATE_SPOT
            // read from the cluster's attachment (the district's facts hold the list).
            .map(|s| match s["capacity_provider"].as_str() {
                Some("{district.fargate_spot_capacity_provider}") => {
                    json!(["FARGATE_SPOT", s["weight"], s["base"]])
                }
                _ => json!([s["capacity_provider"], s["weight"], s["base"]]),
            })
            .collect();
        let balancers: Vec<Value> = b["load_balancer"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| {
                json!([
                    l["container_name"],
                    l["container_port"],
                    l["target_group_arn"]
                ])
            })
            .collect();
        let depends: Vec<Value> = raw["depends_on"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| json!(format!("{{{}}}", tf.tokens[d.as_str().unwrap()])))
            .collect();
        let scaled = raw["lifecycle"]["ignore_changes"]
            .as_array()
            .is_some_and(|i| i.contains(&json!("desired_count")));
        facts.insert(
            format!("service {}", text(&b["name"])),
            json!({
                "cluster": b["cluster"], "task_definition": b["task_definition"],
                "desired_count": if scaled { Value::Null } else { b["desired_count"].clone() },
                "minimum_healthy_percent": b["deployment_minimum_healthy_percent"], "maximum_percent": b["deployment_maximum_percent"],
                "circuit_breaker": [b["deployment_circuit_breaker"]["enable"], b["deployment_circuit_breaker"]["rollback"]],
                "launch_type": b["launch_type"], "capacity_provider_strategy": strategy,
                "subnets": network["subnets"], "security_groups": network["security_groups"], "public_ip": network["assign_public_ip"],
                "grace_period": b["health_check_grace_period_seconds"], "load_balancers": sorted(&json!(balancers)),
                "depends_on": sorted(&json!(depends)),
                "managed_tags": b["enable_ecs_managed_tags"], "propagate_tags": b["propagate_tags"],
            }),
        );
    }
    for (name, _, b) in tf.of_type("aws_lb_target_group") {
        let h = &b["health_check"];
        facts.insert(
            format!("target_group {}", tf.tokens[&format!("aws_lb_target_group.{name}")]),
            json!({
                "port": b["port"], "protocol": b["protocol"], "target_type": b["target_type"], "vpc": b["vpc_id"],
                "health_check": [h["path"], h["port"], h["interval"], h["timeout"], h["healthy_threshold"], h["unhealthy_threshold"], h["matcher"]],
                "health_check_protocol": h["protocol"],
                "deregistration_delay": b["deregistration_delay"],
                "proxy_protocol_v2": (!b["proxy_protocol_v2"].is_null()).then(|| text(&b["proxy_protocol_v2"])),
            }),
        );
    }
    for (name, _, b) in tf.of_type("aws_lb") {
        facts.insert(
            format!("load_balancer {}", tf.tokens[&format!("aws_lb.{name}")]),
            json!({"type": b["load_balancer_type"], "internal": b["internal"], "subnets": b["subnets"],
                   "security_groups": b["security_groups"], "cross_zone": b["enable_cross_zone_load_balancing"] == true,
                   "name": b["name"]}),
        );
    }
    for (name, _, b) in tf.of_type("aws_lb_listener") {
        let a = &b["default_action"][0];
        facts.insert(
            format!("listener {}", tf.tokens[&format!("aws_lb_listener.{name}")]),
            json!({"protocol": b["protocol"], "port": b["port"], "load_balancer": b["load_balancer_arn"],
                   "action": [a["type"], a["target_group_arn"]]}),
        );
    }
    tf_security_groups(&tf, &mut facts);
    for (name, _, b) in tf.of_type("aws_lb_listener_rule") {
        let conditions: Vec<Value> = b["condition"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                if c.get("host_header").is_some() {
                    json!(["host-header", c["host_header"]["values"]])
                } else {
                    json!(["path-pattern", c["path_pattern"]["values"]])
                }
            })
            .collect();
        facts.insert(
            format!("rule {}", tf.tokens[&format!("aws_lb_listener_rule.{name}")]),
            json!({"listener": b["listener_arn"], "priority": b["priority"], "conditions": conditions,
                   "action": [b["action"][0]["type"], b["action"][0]["target_group_arn"]]}),
        );
    }
    for (_, _, b) in tf.of_type("aws_lb_listener_certificate") {
        facts.insert(
            format!("listener certificate {}", text(&b["certificate_arn"])),
            json!({"listener": b["listener_arn"], "count": 1}),
        );
    }
    for (name, _, b) in tf.of_type("aws_cloudwatch_event_rule") {
        let target =
            tf.value(&tf.resources[&("aws_cloudwatch_event_target".to_owned(), name.to_owned())]);
        let e = &target["ecs_target"];
        facts.insert(
            format!("schedule {}", text(&e["task_definition_arn"])),
            json!({
                "schedule": b["schedule_expression"], "state": b["state"], "description": b["description"],
                "target_id": target["target_id"], "cluster": target["arn"], "role": target["role_arn"],
                "task_count": e["task_count"], "launch_type": e["launch_type"],
            }),
        );
    }
    tf_schedules(&tf, "off-hours schedule", &mut facts);
    for (name, _, b) in tf.of_type("aws_appautoscaling_policy") {
        let t = tf.value(&tf.resources[&("aws_appautoscaling_target".to_owned(), name.to_owned())]);
        let c = &b["target_tracking_scaling_policy_configuration"];
        facts.insert(
            format!("autoscaling {}", text(&b["name"])),
            json!({
                "resource": t["resource_id"], "namespace": t["service_namespace"], "dimension": t["scalable_dimension"],
                "min": t["min_capacity"], "max": t["max_capacity"], "type": b["policy_type"],
                "metric": c["predefined_metric_specification"]["predefined_metric_type"], "target": c["target_value"],
                "scale_in_cooldown": c["scale_in_cooldown"], "scale_out_cooldown": c["scale_out_cooldown"],
            }),
        );
    }
    for (_, raw, b) in tf.of_type("aws_cloudwatch_log_group") {
        facts.insert("log_group".into(), json!({"name": b["name"], "retention": b["retention_in_days"], "keeps_data": tf_keeps(raw)}));
    }
    let attachments = tf.of_type("aws_iam_role_policy_attachment");
    let inline = tf.of_type("aws_iam_role_policy");
    for (name, raw, b) in tf.of_type("aws_iam_role") {
        let role = format!("{{{}}}", tf.tokens[&format!("aws_iam_role.{name}")]);
        let managed: Vec<Value> = attachments
            .iter()
            .filter(|(_, _, a)| text(&a["role"]) == role)
            .map(|(_, _, a)| a["policy_arn"].clone())
            .collect();
        let policies: Vec<Value> = inline
            .iter()
            .filter(|(_, _, p)| text(&p["role"]) == role)
            .map(|(_, _, p)| json!([p["name"], statements(&p["policy"])]))
            .collect();
        facts.insert(
            format!("role {}", tf.tokens[&format!("aws_iam_role.{name}")]),
            json!({"assume": statements(&b["assume_role_policy"]), "managed": sorted(&json!(managed)),
                   "policies": sorted(&json!(policies)), "keeps_data": tf_keeps(raw)}),
        );
    }
    for (_, raw, b) in tf.of_type("aws_db_instance") {
        facts.insert(
            "database".into(),
            json!({
                "identifier": b["identifier"], "engine": b["engine"], "version": b["engine_version"],
                "class": b["instance_class"], "storage": text(&b["allocated_storage"]), "storage_type": b["storage_type"],
                "encrypted": b["storage_encrypted"], "name": b["db_name"], "user": b["username"],
                "managed_password": b["manage_master_user_password"], "backups": b["backup_retention_period"],
                "multi_az": b["multi_az"], "deletion_protection": b["deletion_protection"], "public": b["publicly_accessible"],
                "log_exports": b["enabled_cloudwatch_logs_exports"],
                "copy_tags": b["copy_tags_to_snapshot"], "minor_upgrades": b["auto_minor_version_upgrade"],
                "security_groups": b["vpc_security_group_ids"], "keeps_data": tf_keeps(raw),
            }),
        );
    }
    for (_, raw, b) in tf.of_type("aws_elasticache_replication_group") {
        facts.insert(
            "cache".into(),
            json!({
                "id": b["replication_group_id"], "description": b["description"], "engine": b["engine"],
                "version": b["engine_version"], "node_type": b["node_type"], "nodes": b["num_cache_clusters"],
                "failover": b["automatic_failover_enabled"], "multi_az": b["multi_az_enabled"],
                "transit_encryption": b["transit_encryption_enabled"], "rest_encryption": text(&b["at_rest_encryption_enabled"]),
                "snapshots": b["snapshot_retention_limit"], "security_groups": b["security_group_ids"], "keeps_data": tf_keeps(raw),
            }),
        );
    }
    let for_bucket = |kind: &str, token: &str| {
        tf.of_type(kind)
            .into_iter()
            .find(|(_, _, b)| text(&b["bucket"]) == format!("{{{token}}}"))
            .map(|(_, _, b)| b)
    };
    for (name, raw, b) in tf.of_type("aws_s3_bucket") {
        let token = &tf.tokens[&format!("aws_s3_bucket.{name}")];
        let encryption =
            for_bucket("aws_s3_bucket_server_side_encryption_configuration", token).unwrap();
        let ownership = for_bucket("aws_s3_bucket_ownership_controls", token).unwrap();
        let block = for_bucket("aws_s3_bucket_public_access_block", token).unwrap();
        let versioning = for_bucket("aws_s3_bucket_versioning", token);
        let lifecycle = for_bucket("aws_s3_bucket_lifecycle_configuration", token);
        let policy = for_bucket("aws_s3_bucket_policy", token).map(|p| statements(&p["policy"]));
        let logging = for_bucket("aws_s3_bucket_logging", token);
        facts.insert(
            format!("bucket {token}"),
            json!({
                "name": b["bucket"].as_str().map(unescape),
                "encryption": encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"],
                "ownership": ownership["rule"]["object_ownership"],
                "public_access_block": [block["block_public_acls"], block["ignore_public_acls"], block["block_public_policy"], block["restrict_public_buckets"]],
                "versioning": versioning.is_some_and(|v| v["versioning_configuration"]["status"] == "Enabled"),
                "lifecycle": lifecycle.as_ref().and_then(|l| l["rule"].as_array()).into_iter().flatten().map(|r| json!({
                    "id": r["id"], "enabled": r["status"] == "Enabled",
                    "abort_incomplete_days": r["abort_incomplete_multipart_upload"]["days_after_initiation"],
                    "noncurrent_days": r["noncurrent_version_expiration"]["noncurrent_days"],
                })).collect::<Vec<_>>(),
                "policy": policy, "keeps_data": tf_keeps(raw),
                "access_logs": logging.map(|l| json!({"bucket": l["target_bucket"], "prefix": l["target_prefix"]})),
            }),
        );
    }
    for (name, _, c) in tf.of_type("aws_cloudfront_origin_access_control") {
        let token = &tf.tokens[&format!("aws_cloudfront_origin_access_control.{name}")];
        facts.insert(
            format!("origin access {token}"),
            json!({
                "name": c["name"], "description": c["description"], "origin_type": c["origin_access_control_origin_type"],
                "signing": [c["signing_behavior"], c["signing_protocol"]],
            }),
        );
    }
    for (name, _, c) in tf.of_type("aws_cloudfront_distribution") {
        let token = &tf.tokens[&format!("aws_cloudfront_distribution.{name}")];
        let b = &c["default_cache_behavior"][0];
        let v = &c["viewer_certificate"][0];
        assert_eq!(
            c["restrictions"][0]["geo_restriction"][0]["restriction_type"], "none",
            "{name}"
        );
        let origins: Vec<Value> = c["origin"].as_array().into_iter().flatten().map(|o| json!({
            "id": o["origin_id"], "domain": o["domain_name"], "access": o["origin_access_control_id"],
        })).collect();
        facts.insert(
            format!("distribution {token}"),
            json!({
                "enabled": c["enabled"], "comment": c["comment"], "aliases": c["aliases"],
                "http_version": c["http_version"], "ipv6": c["is_ipv6_enabled"], "origins": origins,
                "default": {"origin": b["target_origin_id"], "viewer": b["viewer_protocol_policy"], "allowed": b["allowed_methods"],
                    "cached": b["cached_methods"], "compress": b["compress"], "cache_policy": b["cache_policy_id"]},
                "certificate": [v["acm_certificate_arn"], v["ssl_support_method"], v["minimum_protocol_version"]],
            }),
        );
    }
    for (name, raw, b) in tf.of_type("aws_ecr_repository") {
        let token = &tf.tokens[&format!("aws_ecr_repository.{name}")];
        let policy = tf
            .of_type("aws_ecr_lifecycle_policy")
            .into_iter()
            .find(|(n, _, _)| *n == name)
            .unwrap()
            .2;
        let lifecycle: Value = serde_json::from_str(policy["policy"].as_str().unwrap()).unwrap();
        facts.insert(
            format!("repository {token}"),
            json!({
                "name": b["name"], "scan_on_push": b["image_scanning_configuration"]["scan_on_push"],
                "tag_mutability": b["image_tag_mutability"],
                "encryption": b["encryption_configuration"][0]["encryption_type"], "lifecycle": lifecycle, "keeps_data": tf_keeps(raw),
            }),
        );
    }
    for (name, raw, b) in tf.of_type("aws_secretsmanager_secret") {
        let token = &tf.tokens[&format!("aws_secretsmanager_secret.{name}")];
        let version = &tf.resources[&("aws_secretsmanager_secret_version".into(), name.into())];
        let source =
            format!("${{ephemeral.aws_secretsmanager_random_password.{name}.random_password}}");
        assert_eq!(version["secret_string_wo"], json!(source), "{name}");
        assert_eq!(version["secret_string_wo_version"], json!(1), "{name}");
        let g = &tf.ephemeral[&("aws_secretsmanager_random_password".into(), name.into())];
        facts.insert(
            format!("secret {token}"),
            json!({
                "description": b["description"], "length": g["password_length"],
                "exclude_characters": g["exclude_characters"], "exclude_punctuation": g["exclude_punctuation"],
                "exclude_uppercase": g["exclude_uppercase"], "include_space": g["include_space"],
                "fixed_name": b.get("name").is_some(), "keeps_data": tf_keeps(raw) && tf_keeps(version),
            }),
        );
    }
    tf_records(&tf, &mut facts);
    facts
}

fn cfn_district(path: &Path, district: &str) -> Facts {
    let cfn = Cfn::new(&[read(path)], district, None);
    let mut facts = Facts::new();
    facts.insert("guard".into(), cfn_guard(&[read(path)]));
    for (_, _, p) in cfn.of_type("AWS::EC2::VPC") {
        facts.insert(
            "vpc".into(),
            json!([
                p["CidrBlock"],
                p["EnableDnsSupport"],
                p["EnableDnsHostnames"]
            ]),
        );
    }
    for (_, _, p) in cfn.of_type("AWS::EC2::FlowLog") {
        facts.insert(
            format!("flow_log {}", text(&p["ResourceId"])),
            json!({
                "resource_type": p["ResourceType"], "traffic": p["TrafficType"],
                "destination_type": p["LogDestinationType"], "destination": p["LogDestination"],
                "tags": pairs(&p["Tags"], "Key", "Value"),
            }),
        );
    }
    for (_, _, p) in cfn.of_type("AWS::CloudFront::Distribution") {
        let c = &p["DistributionConfig"];
        let behaviour = |b: &Value| {
            json!({
                "path": b["PathPattern"], "origin": b["TargetOriginId"], "viewer": b["ViewerProtocolPolicy"],
                "allowed": b["AllowedMethods"], "cached": b["CachedMethods"], "compress": b["Compress"],
                "cache_policy": b["CachePolicyId"], "origin_request_policy": b["OriginRequestPolicyId"],
            })
        };
        let o = &c["Origins"][0];
        let v = &c["ViewerCertificate"];
        let origin = &o["CustomOriginConfig"];
        facts.insert(
            format!("distribution of {}", text(&o["DomainName"])),
            json!({
                "enabled": c["Enabled"], "comment": c["Comment"], "aliases": c["Aliases"],
                "http_version": c["HttpVersion"], "ipv6": c["IPV6Enabled"],
                "origin": [o["Id"], origin["HTTPPort"], origin["HTTPSPort"], origin["OriginProtocolPolicy"], origin["OriginSSLProtocols"]],
                "default": behaviour(&c["DefaultCacheBehavior"]),
                "ordered": c["CacheBehaviors"].as_array().into_iter().flatten().map(behaviour).collect::<Vec<_>>(),
                "certificate": [v["AcmCertificateArn"], v["SslSupportMethod"], v["MinimumProtocolVersion"]],
                "tags": pairs(&p["Tags"], "Key", "Value"),
            }),
        );
    }
    for (_, _, p) in cfn.of_type("AWS::WAFv2::WebACLAssociation") {
        facts.insert(
            format!("web_acl {}", text(&p["ResourceArn"])),
            p["WebACLArn"].clone(),
        );
    }
    for (id, _, p) in cfn.of_type("AWS::EC2::Subnet") {
        let zone = &p["AvailabilityZone"]["Fn::Select"][0];
        let block = &cfn.resources[id]["Properties"]["CidrBlock"]["Fn::Select"][0];
        facts.insert(
            format!("subnet {}", cfn.tokens[id]),
            json!([
                zone,
                block,
                p["MapPublicIpOnLaunch"],
                p["Tags"].as_array().map(Vec::len)
            ]),
        );
    }
    for (_, _, p) in cfn.of_type("AWS::EC2::Route") {
        let via = [&p["GatewayId"], &p["NatGatewayId"]]
            .into_iter()
            .find(|v| !v.is_null())
            .cloned();
        facts.insert(
            format!("route {}", text(&p["RouteTableId"])),
            json!([p["DestinationCidrBlock"], via]),
        );
    }
    for (_, _, p) in cfn.of_type("AWS::EC2::SubnetRouteTableAssociation") {
        facts.insert(
            format!("route_table_of {}", text(&p["SubnetId"])),
            p["RouteTableId"].clone(),
        );
    }
    for (_, _, p) in cfn.of_type("AWS::EC2::SubnetNetworkAclAssociation") {
        facts.insert(
            format!("acl_of {}", text(&p["SubnetId"])),
            p["NetworkAclId"].clone(),
        );
    }
    for (id, _, p) in cfn.of_type("AWS::EC2::NatGateway") {
        facts.insert(
            format!("nat {}", cfn.tokens[id]),
            json!([p["SubnetId"], p["AllocationId"]]),
        );
    }
    for (_, _, p) in cfn.of_type("AWS::EC2::NetworkAclEntry") {
        facts.insert(
            format!(
                "acl_entry {} {} {}",
                text(&p["NetworkAclId"]),
                if p["Egress"] == true { "out" } else { "in" },
                p["RuleNumber"]
            ),
            json!([
                text(&p["Protocol"]),
                p["RuleAction"],
                p["CidrBlock"],
                p["PortRange"]["From"],
                p["PortRange"]["To"]
            ]),
        );
    }
    cfn_security_groups(&cfn, &mut facts);
    for (_, _, p) in cfn.of_type("AWS::ECS::Cluster") {
        facts.insert(
            "cluster".into(),
            json!([
                p["ClusterName"],
                p["ClusterSettings"][0]["Name"],
                p["ClusterSettings"][0]["Value"]
            ]),
        );
    }
    for (id, _, p) in cfn.of_type("AWS::IAM::Role") {
        if id == "HostHoursRole" {
            let policies: Vec<Value> = p["Policies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| json!([x["PolicyName"], statements(&x["PolicyDocument"])]))
                .collect();
            facts.insert(
                "host_hours_role".into(),
                json!([
                    p["Description"],
                    statements(&p["AssumeRolePolicyDocument"]),
                    policies
                ]),
            );
            continue;
        }
        facts.insert(
            "host_role".into(),
            json!([
                p["Description"],
                statements(&p["AssumeRolePolicyDocument"]),
                sorted(&p["ManagedPolicyArns"])
            ]),
        );
    }
    for (_, _, p) in cfn.of_type("AWS::EC2::LaunchTemplate") {
        let d = &p["LaunchTemplateData"];
        let m = &d["MetadataOptions"];
        let e = &d["BlockDeviceMappings"][0]["Ebs"];
        facts.insert("launch_template".into(), json!({
            "ami": cfn.parameters["EcsAmiId"]["Default"], "instance_type": d["InstanceType"], "profile": d["IamInstanceProfile"]["Arn"],
            "security_groups": d["SecurityGroupIds"], "metadata": [m["HttpEndpoint"], m["HttpTokens"], m["HttpPutResponseHopLimit"]],
            // `nat: none`: the hosts' public addresses and security group.
            "network_interfaces": d["NetworkInterfaces"].as_array().map(|list| list.iter().map(|n| json!([
                n["DeviceIndex"], text(&n["AssociatePublicIpAddress"]), text(&n["DeleteOnTermination"]), n["Groups"],
            ])).collect::<Vec<_>>()),
            "volume": [d["BlockDeviceMappings"][0]["DeviceName"], e["VolumeSize"], e["VolumeType"], text(&e["Encrypted"]), text(&e["DeleteOnTermination"])],
            "volume_tags": d["TagSpecifications"][0]["Tags"].as_array().map(Vec::len),
            "user_data": d["UserData"],
        }));
    }
    for (id, _, p) in cfn.of_type("AWS::AutoScaling::AutoScalingGroup") {
        let spot = &p["MixedInstancesPolicy"]["InstancesDistribution"];
        facts.insert(format!("auto_scaling_group {}", cfn.tokens[id]), json!({
            "min": text(&p["MinSize"]), "max": text(&p["MaxSize"]), "subnets": p["VPCZoneIdentifier"],
            "protected": p["NewInstancesProtectedFromScaleIn"],
            "spot": [spot["OnDemandBaseCapacity"], spot["OnDemandPercentageAboveBaseCapacity"], spot["SpotAllocationStrategy"]],
            "tags": p["Tags"].as_array().map(Vec::len),
        }));
    }
    cfn_schedules(&cfn, "host schedule", &mut facts);
    for (id, _, p) in cfn.of_type("AWS::ECS::CapacityProvider") {
        let a = &p["AutoScalingGroupProvider"];
        facts.insert(
            format!("capacity_provider {}", cfn.tokens[id]),
            json!([
                a["AutoScalingGroupArn"],
                a["ManagedScaling"]["Status"],
                a["ManagedScaling"]["TargetCapacity"],
                a["ManagedTerminationProtection"],
                a["ManagedDraining"]
            ]),
        );
    }
    for (_, _, p) in cfn.of_type("AWS::ECS::ClusterCapacityProviderAssociations") {
        let s = &p["DefaultCapacityProviderStrategy"][0];
        facts.insert(
            "cluster_capacity_providers".into(),
            json!([
                p["Cluster"],
                p["CapacityProviders"],
                s["CapacityProvider"],
                s["Base"],
                s["Weight"]
            ]),
        );
    }
    for (id, _, p) in cfn.of_type("AWS::ElasticLoadBalancingV2::LoadBalancer") {
        let attributes: Vec<Value> = p["LoadBalancerAttributes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| json!([a["Key"], a["Value"]]))
            .collect();
        facts.insert(format!("load_balancer {}", cfn.tokens[id]), json!({
            "name": p["Name"], "type": p["Type"], "internal": p["Scheme"] == "internal", "ip": p["IpAddressType"],
            "subnets": p["Subnets"], "security_groups": p["SecurityGroups"],
            "drop_invalid_header_fields": attributes.contains(&json!(["routing.http.drop_invalid_header_fields.enabled", "true"])),
            "deletion_protection": attributes.contains(&json!(["deletion_protection.enabled", "true"])),
            "access_logs": attributes.contains(&json!(["access_logs.s3.enabled", "true"])).then(|| {
                let value = |key: &str| attributes.iter().find(|a| a[0] == key).map(|a| a[1].clone());
                json!({"bucket": value("access_logs.s3.bucket"), "prefix": value("access_logs.s3.prefix")})
            }),
            "after_gateway": cfn.resources[id]["DependsOn"] == "InternetGatewayAttachment",
        }));
    }
    for (id, _, p) in cfn.of_type("AWS::ElasticLoadBalancingV2::Listener") {
        let a = &p["DefaultActions"][0];
        let fixed = &a["FixedResponseConfig"];
        let redirect = &a["RedirectConfig"];
        facts.insert(format!("listener {}", cfn.tokens[id]), json!({
            "protocol": p["Protocol"], "ssl_policy": p["SslPolicy"], "certificate": p["Certificates"][0]["CertificateArn"],
            "action": a["Type"], "fixed": [fixed["StatusCode"], fixed["ContentType"], fixed["MessageBody"]],
            "redirect": [redirect["Protocol"], redirect["Port"], redirect["Host"], redirect["Path"], redirect["Query"], redirect["StatusCode"]],
        }));
    }
    cfn_records(&cfn, &mut facts);
    facts
}

fn tf_district(path: &Path) -> Facts {
    let json = read(path);
    let tf = Tf::new(std::slice::from_ref(&json));
    let mut facts = Facts::new();
    facts.insert("guard".into(), tf_guard(std::slice::from_ref(&json)));
    let cidr_block = |expression: &Value| -> Value {
        let s = expression.as_str().unwrap();
        let k = s.trim_end_matches(")}").rsplit(", ").next().unwrap();
        json!(k.parse::<u64>().unwrap())
    };
    for (_, _, b) in tf.of_type("aws_vpc") {
        facts.insert(
            "vpc".into(),
            json!([
                b["cidr_block"],
                b["enable_dns_support"],
                b["enable_dns_hostnames"]
            ]),
        );
    }
    for (_, _, b) in tf.of_type("aws_flow_log") {
        facts.insert(format!("flow_log {}", text(&b["vpc_id"])), json!({
            "resource_type": b.get("vpc_id").map(|_| "VPC"), "traffic": b["traffic_type"],
            "destination_type": b["log_destination_type"], "destination": b["log_destination"],
            "tags": object(&b["tags"]).into_iter().map(|(k, v)| json!([k, literal(v)])).collect::<Vec<_>>(),
        }));
    }
    for (_, _, c) in tf.of_type("aws_cloudfront_distribution") {
        let behaviour = |b: &Value| {
            json!({
                "path": b["path_pattern"].as_str().map(unescape), "origin": b["target_origin_id"], "viewer": b["viewer_protocol_policy"],
                "allowed": b["allowed_methods"], "cached": b["cached_methods"], "compress": b["compress"],
                "cache_policy": b["cache_policy_id"], "origin_request_policy": b["origin_request_policy_id"],
            })
        };
        let o = &c["origin"][0];
        let v = &c["viewer_certificate"][0];
        let origin = &o["custom_origin_config"][0];
        assert_eq!(
            c["restrictions"][0]["geo_restriction"][0]["restriction_type"],
            "none"
        );
        facts.insert(
            format!("distribution of {}", text(&o["domain_name"])),
            json!({
                "enabled": c["enabled"], "comment": c["comment"], "aliases": c["aliases"],
                "http_version": c["http_version"], "ipv6": c["is_ipv6_enabled"],
                "origin": [o["origin_id"], origin["http_port"], origin["https_port"], origin["origin_protocol_policy"], origin["origin_ssl_protocols"]],
                "default": behaviour(&c["default_cache_behavior"][0]),
                "ordered": c["ordered_cache_behavior"].as_array().into_iter().flatten().map(behaviour).collect::<Vec<_>>(),
                "certificate": [v["acm_certificate_arn"], v["ssl_support_method"], v["minimum_protocol_version"]],
                "tags": object(&c["tags"]).into_iter().map(|(k, v)| json!([k, literal(v)])).collect::<Vec<_>>(),
            }),
        );
    }
    for (_, _, b) in tf.of_type("aws_wafv2_web_acl_association") {
        facts.insert(
            format!("web_acl {}", text(&b["resource_arn"])),
            b["web_acl_arn"].clone(),
        );
    }
    for (name, raw, b) in tf.of_type("aws_subnet") {
        let zone = raw["availability_zone"]
            .as_str()
            .unwrap()
            .trim_end_matches("]}")
            .rsplit('[')
            .next()
            .unwrap()
            .parse::<u64>()
            .unwrap();
        facts.insert(
            format!("subnet {}", tf.tokens[&format!("aws_subnet.{name}")]),
            json!([
                zone,
                cidr_block(&raw["cidr_block"]),
                b["map_public_ip_on_launch"],
                b["tags"].as_object().map(Map::len)
            ]),
        );
    }
    for (_, _, b) in tf.of_type("aws_route") {
        let via = [&b["gateway_id"], &b["nat_gateway_id"]]
            .into_iter()
            .find(|v| !v.is_null())
            .cloned();
        facts.insert(
            format!("route {}", text(&b["route_table_id"])),
            json!([b["destination_cidr_block"], via]),
        );
    }
    for (_, _, b) in tf.of_type("aws_route_table_association") {
        facts.insert(
            format!("route_table_of {}", text(&b["subnet_id"])),
            b["route_table_id"].clone(),
        );
    }
    for (_, _, b) in tf.of_type("aws_network_acl_association") {
        facts.insert(
            format!("acl_of {}", text(&b["subnet_id"])),
            b["network_acl_id"].clone(),
        );
    }
    for (name, _, b) in tf.of_type("aws_nat_gateway") {
        facts.insert(
            format!("nat {}", tf.tokens[&format!("aws_nat_gateway.{name}")]),
            json!([b["subnet_id"], b["allocation_id"]]),
        );
    }
    for (_, _, b) in tf.of_type("aws_network_acl_rule") {
        facts.insert(
            format!(
                "acl_entry {} {} {}",
                text(&b["network_acl_id"]),
                if b["egress"] == true { "out" } else { "in" },
                b["rule_number"]
            ),
            json!([
                b["protocol"],
                b["rule_action"],
                b["cidr_block"],
                b["from_port"],
                b["to_port"]
            ]),
        );
    }
    tf_security_groups(&tf, &mut facts);
    for (_, _, b) in tf.of_type("aws_ecs_cluster") {
        facts.insert(
            "cluster".into(),
            json!([b["name"], b["setting"][0]["name"], b["setting"][0]["value"]]),
        );
    }
    for (name, _, b) in tf.of_type("aws_iam_role") {
        if name == "host_hours" {
            let policies: Vec<Value> = tf
                .of_type("aws_iam_role_policy")
                .into_iter()
                .map(|(_, _, p)| json!([p["name"], statements(&p["policy"])]))
                .collect();
            facts.insert(
                "host_hours_role".into(),
                json!([
                    b["description"],
                    statements(&b["assume_role_policy"]),
                    policies
                ]),
            );
            continue;
        }
        let managed: Vec<Value> = tf
            .of_type("aws_iam_role_policy_attachment")
            .into_iter()
            .map(|(_, _, a)| a["policy_arn"].clone())
            .collect();
        facts.insert(
            "host_role".into(),
            json!([
                b["description"],
                statements(&b["assume_role_policy"]),
                sorted(&json!(managed))
            ]),
        );
    }
    for (_, _, b) in tf.of_type("aws_launch_template") {
        let m = &b["metadata_options"];
        let bd = &b["block_device_mappings"][0];
        let e = &bd["ebs"];
        let ami = &json["variable"]["ecs_ami_parameter"]["default"];
        facts.insert("launch_template".into(), json!({
            "ami": ami, "instance_type": b["instance_type"], "profile": b["iam_instance_profile"]["arn"],
            "security_groups": b["vpc_security_group_ids"], "metadata": [m["http_endpoint"], m["http_tokens"], m["http_put_response_hop_limit"]],
            "network_interfaces": b["network_interfaces"].as_array().map(|list| list.iter().map(|n| json!([
                n["device_index"], text(&n["associate_public_ip_address"]), text(&n["delete_on_termination"]), n["security_groups"],
            ])).collect::<Vec<_>>()),
            "volume": [bd["device_name"], e["volume_size"], e["volume_type"], e["encrypted"], e["delete_on_termination"]],
            "volume_tags": b["tag_specifications"][0]["tags"].as_object().map(Map::len),
            "user_data": tf.value(&json!(json["locals"]["container_host_user_data"])),
        }));
    }
    for (name, _, b) in tf.of_type("aws_autoscaling_group") {
        let spot = &b["mixed_instances_policy"]["instances_distribution"];
        facts.insert(format!("auto_scaling_group {}", tf.tokens[&format!("aws_autoscaling_group.{name}")]), json!({
            "min": text(&b["min_size"]), "max": text(&b["max_size"]), "subnets": b["vpc_zone_identifier"],
            "protected": b["protect_from_scale_in"],
            "spot": [spot["on_demand_base_capacity"], spot["on_demand_percentage_above_base_capacity"], spot["spot_allocation_strategy"]],
            // ECS adds `AmazonECSManaged` itself; Terraform declares it so as not to remove it.
            "tags": b["tag"].as_array().map(|t| t.iter().filter(|t| t["key"] != "AmazonECSManaged").count()),
        }));
    }
    tf_schedules(&tf, "host schedule", &mut facts);
    for (name, _, b) in tf.of_type("aws_ecs_capacity_provider") {
        let a = &b["auto_scaling_group_provider"];
        facts.insert(
            format!(
                "capacity_provider {}",
                tf.tokens[&format!("aws_ecs_capacity_provider.{name}")]
            ),
            json!([
                a["auto_scaling_group_arn"],
                a["managed_scaling"]["status"],
                a["managed_scaling"]["target_capacity"],
                a["managed_termination_protection"],
                a["managed_draining"]
            ]),
        );
    }
    for (_, _, b) in tf.of_type("aws_ecs_cluster_capacity_providers") {
        let s = &b["default_capacity_provider_strategy"][0];
        facts.insert(
            "cluster_capacity_providers".into(),
            json!([
                b["cluster_name"],
                b["capacity_providers"],
                s["capacity_provider"],
                s["base"],
                s["weight"]
            ]),
        );
    }
    for (name, raw, b) in tf.of_type("aws_lb") {
        facts.insert(format!("load_balancer {}", tf.tokens[&format!("aws_lb.{name}")]), json!({
            "name": b["name"], "type": b["load_balancer_type"], "internal": b["internal"], "ip": b["ip_address_type"],
            "subnets": b["subnets"], "security_groups": b["security_groups"],
            "drop_invalid_header_fields": b["drop_invalid_header_fields"],
            "deletion_protection": b["enable_deletion_protection"] == json!(true),
            "access_logs": (b["access_logs"]["enabled"] == json!(true))
                .then(|| json!({"bucket": b["access_logs"]["bucket"], "prefix": b["access_logs"]["prefix"]})),
            "after_gateway": raw["depends_on"] == json!(["aws_internet_gateway.this"]),
        }));
    }
    for (name, _, b) in tf.of_type("aws_lb_listener") {
        let a = &b["default_action"][0];
        let fixed = &a["fixed_response"];
        let redirect = &a["redirect"];
        facts.insert(format!("listener {}", tf.tokens[&format!("aws_lb_listener.{name}")]), json!({
            "protocol": b["protocol"], "ssl_policy": b["ssl_policy"], "certificate": b["certificate_arn"],
            "action": a["type"], "fixed": [fixed["status_code"], fixed["content_type"], fixed["message_body"]],
            "redirect": [redirect["protocol"], redirect["port"], redirect["host"], redirect["path"], redirect["query"], redirect["status_code"]],
        }));
    }
    tf_records(&tf, &mut facts);
    facts
}

/// Names a target group by the first (in text order) of the rules that
/// forward to it: a service with `force_ssl: false` has an HTTPS and an HTTP
/// rule to one group, and both formats must pick the same.
fn name_by_first_rule(tokens: &mut BTreeMap<String, String>, group: String, key: &str) {
    let name = format!("target_group.{key}");
    tokens
        .entry(group)
        .and_modify(|current| {
            if !current.starts_with("target_group.") || name < *current {
                current.clone_from(&name);
            }
        })
        .or_insert(name);
}

/// Every fleet whose `out/` the tests keep: the example and the golden ones.
fn fleets() -> Vec<std::path::PathBuf> {
    crate::support::fleet_outs()
}

fn assert_same(what: &str, cfn: &Facts, tf: &Facts) {
    let keys: std::collections::BTreeSet<&String> = cfn.keys().chain(tf.keys()).collect();
    let mut differences = Vec::new();
    for key in keys {
        if cfn.get(key) != tf.get(key) {
            differences.push(format!(
                "{key}\n  cloudformation: {}\n  terraform:      {}",
                cfn.get(key).map_or("(none)".into(), ToString::to_string),
                tf.get(key).map_or("(none)".into(), ToString::to_string)
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{what}: the two formats differ\n{}",
        differences.join("\n")
    );
}

#[test]
fn every_heritage_is_the_same_in_both_formats() {
    let mut compared = 0;
    for out in fleets() {
        for district in std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
        {
            let name = district.file_name().unwrap().to_string_lossy().into_owned();
            for heritage in std::fs::read_dir(&district)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.join("app.cfn.json").exists())
            {
                let heritage_name = heritage.file_name().unwrap().to_string_lossy().into_owned();
                let cfn = cfn_heritage(&heritage, &name, &heritage_name);
                let tf = tf_heritage(&heritage);
                // A heritage without services or tasks has only its data stack's facts.
                let app: Value = serde_json::from_str(
                    &std::fs::read_to_string(heritage.join("app.cfn.json")).unwrap(),
                )
                .unwrap();
                let empty = app["Resources"].as_object().unwrap().keys().eq(["Empty"]);
                assert!(
                    empty || cfn.len() > 3,
                    "{}: too few facts ({})",
                    heritage.display(),
                    cfn.len()
                );
                assert_same(&heritage.display().to_string(), &cfn, &tf);
                compared += 1;
            }
        }
    }
    assert!(compared >= 5, "compared only {compared} heritages");
}

#[test]
fn every_district_is_the_same_in_both_formats() {
    let mut compared = 0;
    for out in fleets() {
        for district in std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("district.cfn.json").exists())
        {
            let name = district.file_name().unwrap().to_string_lossy().into_owned();
            let cfn = cfn_district(&district.join("district.cfn.json"), &name);
            let tf = tf_district(&district.join("district.tf.json"));
            assert!(cfn.len() > 20, "{}: too few facts", district.display());
            assert_same(&district.display().to_string(), &cfn, &tf);
            compared += 1;
        }
    }
    assert!(compared >= 4, "compared only {compared} districts");
}
