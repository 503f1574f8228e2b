//! Plan: which artifacts to write, where, and the values each template needs.
//!
//! Every name — stack, family, logical id, log group — is derived here from
//! district, heritage and service names only, so renaming nothing changes
//! nothing. Templates receive a [`HeritagePlan`] or a district and do no
//! naming of their own. This stage decides, it renders nothing.

pub mod dns;
mod nlb;
pub mod off_hours;
pub mod root;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::model::{
    Autoscaling, Bucket, Cache, Database, District, Fleet, Heritage, Listener, Secret, Service,
    Variable,
};
use crate::schema::{DatabaseEngine, SecretCharacters};
use crate::schema::{LaunchType, ServiceType};

/// Days the app stack's log group keeps container logs.
pub const LOG_RETENTION_DAYS: u32 = 30;

/// The `hashicorp/aws` provider versions the Terraform configurations are written for.
pub const TERRAFORM_AWS_PROVIDER: &str = "~> 6.25";

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
    /// A task definition's own part of its unit's context (`task`).
    #[serde(skip)]
    pub task: Option<Task>,
}

/// Which of its heritage's tasks a task definition renders: an index into
/// [`HeritagePlan::services`], `scheduled_tasks` or the `before_deploy`
/// task, so the plan is not copied per artifact.
#[derive(Debug, Clone, Copy)]
pub enum Task {
    Service(usize),
    Scheduled(usize),
    BeforeDeploy,
}

/// What a task-definition template sees as `task`.
#[derive(Debug, Serialize)]
pub enum TaskContext<'p, 'a> {
    #[serde(rename = "service")]
    Service(&'p ServicePlan<'a>),
    #[serde(rename = "oneoff")]
    OneOff(&'p TaskPlan),
}

/// Artifacts rendered from one context (a district's or a heritage's), which
/// is converted for the template engine once for all of them. The context
/// is the plan itself, not a copy of it as JSON: it is serialised straight
/// into the inputs hash, and into a template context only when something
/// has to be rendered.
#[derive(Debug)]
pub struct Unit<'a> {
    pub context: UnitContext<'a>,
    pub artifacts: Vec<Artifact>,
}

/// What a unit's templates see.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum UnitContext<'a> {
    District(Box<DistrictContext<'a>>),
    Heritage { heritage: Box<HeritagePlan<'a>> },
}

/// What the district's templates see.
#[derive(Debug, Serialize)]
pub struct DistrictContext<'a> {
    pub district: &'a District,
    pub terraform: DistrictTerraform,
    pub root: Option<root::RootPlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_hours: Option<off_hours::HostHoursPlan>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<dns::RecordPlan>,
}

impl Unit<'_> {
    /// The `task` a task-definition artifact of this unit sees, if it has one.
    #[must_use]
    pub fn task(&self, artifact: &Artifact) -> Option<TaskContext<'_, '_>> {
        let UnitContext::Heritage { heritage } = &self.context else {
            return None;
        };
        Some(match artifact.task? {
            Task::Service(i) => TaskContext::Service(&heritage.services[i]),
            Task::Scheduled(i) => TaskContext::OneOff(&heritage.scheduled_tasks[i]),
            Task::BeforeDeploy => TaskContext::OneOff(heritage.before_deploy.as_ref()?),
        })
    }
}

/// Everything an app-stack template needs about one heritage.
#[derive(Debug, Clone, Serialize)]
pub struct HeritagePlan<'a> {
    pub district: DistrictRef<'a>,
    pub name: &'a str,
    pub stack: String,
    pub image: &'a str,
    /// The image of a declared repository: its URI exported by the data
    /// stack, with the tag (`Image` is then `ImageTag`, the tag alone).
    pub image_repository: Option<ImageRepository>,
    pub log_group: String,
    pub log_retention_days: u32,
    /// The data stack: log group, roles and stateful resources.
    pub data: DataPlan<'a>,
    /// Plain variables: the file's, then the data stack's connection values
    /// (a variable the file sets itself wins).
    pub environment: Vec<EnvPlan>,
    /// Variables ECS reads from SSM or Secrets Manager at start.
    pub secrets: Vec<EnvPlan>,
    /// What the execution role may read: SSM parameter ARNs and Secrets
    /// Manager ARNs, in `Fn::Sub` syntax.
    pub ssm_parameters: Vec<String>,
    pub secret_arns: Vec<String>,
    /// Every secret the execution role may read from Secrets Manager, as
    /// CloudFormation values: `secret_arns`, the database's secret and the
    /// generated secrets.
    pub read_secrets: Vec<serde_json::Value>,
    pub services: Vec<ServicePlan<'a>>,
    /// Every service's listener rules, in service order.
    pub rules: Vec<ListenerPlan<'a>>,
    /// The instance's own certificates, each added to the HTTPS listener of
    /// the load balancer its rules are on.
    pub certificates: Vec<CertificatePlan>,
    pub scheduled_tasks: Vec<TaskPlan>,
    /// The schedules of `schedule` (off-hours).
    pub off_hours: Option<off_hours::OffHoursPlan>,
    pub before_deploy: Option<TaskPlan>,
    /// Scheduled tasks and `before_deploy`: every task definition that is not a service's.
    pub task_definitions: Vec<TaskPlan>,
    pub tags: Vec<Tag>,
    pub terraform: HeritageTerraform,
    /// What `berth run` reads from the app template's `berth` metadata:
    /// the service it runs by default (the first web service) and
    /// `run_env.vars`, which no task definition carries.
    pub web_service: Option<&'a str>,
    pub run_env: &'a [Variable],
}

/// What only the Terraform configuration of a heritage needs.
#[derive(Debug, Clone, Serialize)]
pub struct HeritageTerraform {
    pub aws_provider: &'static str,
    /// The HTTPS listener variables of the endpoints the heritage routes from, by endpoint.
    pub listener_variables: Vec<EndpointVariable>,
    /// What the execution role may read, as Terraform templates.
    pub ssm_parameters: Vec<String>,
    pub secret_arns: Vec<String>,
    /// `read_secrets` of the heritage, as Terraform templates.
    pub read_secrets: Vec<String>,
    /// The heritage's tags as a map, Terraform's shape.
    pub tags: BTreeMap<&'static str, String>,
}

/// A Terraform variable holding an endpoint's listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointVariable {
    pub endpoint: String,
    pub variable: String,
    /// `HTTPS` or `HTTP`: which of the endpoint's listeners.
    pub protocol: &'static str,
}

/// What the Terraform configuration of a district needs besides the district.
#[derive(Debug, Clone, Serialize)]
pub struct DistrictTerraform {
    pub aws_provider: &'static str,
    /// The ECS capacity provider's name (it cannot start with `ecs`, `aws` or `fargate`).
    pub capacity_provider: String,
    /// How an instance refresh replaces container hosts.
    pub refresh: Refresh,
    pub endpoints: Vec<EndpointTerraform>,
}

/// Healthy-capacity bounds of an instance refresh, in percent of the desired
/// hosts: one host at a time, the same as the district stack's rolling update
/// (which keeps all hosts in service when `max_size` leaves room for one
/// more, and all but one otherwise).
#[derive(Debug, Clone, Serialize)]
pub struct Refresh {
    pub min_healthy_percentage: u32,
    pub max_healthy_percentage: u32,
}

impl Refresh {
    fn new(size: u32, max_size: u32) -> Self {
        let size = size.max(1);
        if max_size > size {
            Self {
                min_healthy_percentage: 100,
                max_healthy_percentage: (100 + 100_u32.div_ceil(size)).min(200),
            }
        } else {
            Self {
                min_healthy_percentage: (size - 1) * 100 / size,
                max_healthy_percentage: 100,
            }
        }
    }
}

/// One endpoint's Terraform names.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointTerraform {
    pub name: String,
    /// Resource name prefix, e.g. `public_web`.
    pub tf: String,
    /// The load balancer's name: at most 32 characters, no trailing hyphen.
    pub load_balancer_name: String,
    /// Output names: the HTTPS and HTTP listener ARNs (heritage variables of
    /// the same names), the load balancer ARN and its DNS name.
    pub https_listener_output: String,
    pub http_listener_output: String,
    pub load_balancer_output: String,
    pub dns_name_output: String,
}

/// The district values an app stack imports.
#[derive(Debug, Clone, Serialize)]
pub struct DistrictRef<'a> {
    pub name: &'a str,
    pub region: &'a str,
    /// The account its stacks must be deployed in, when the district names one.
    pub account_id: Option<&'a str>,
    /// Prefix of the district stack's export names: `<district>-`.
    pub export_prefix: String,
}

/// One environment variable or secret of the containers: a literal value, or
/// a value exported by the data stack.
#[derive(Debug, Clone, Serialize)]
pub struct EnvPlan {
    pub name: String,
    /// The literal value (for secrets: the parameter name or ARN).
    pub value: Option<String>,
    /// The export holding the value, for `Fn::ImportValue`.
    pub import: Option<String>,
    /// Appended to the imported value (`:password::` picks a secret's key).
    pub suffix: String,
    /// The `${…}` placeholder standalone task definitions carry instead.
    pub placeholder: Option<String>,
    /// The same value in a Terraform configuration: a template reading the
    /// data resource's attribute, suffix included.
    pub terraform: Option<String>,
    /// A value joined of literal text and imported values, in order
    /// (`rediss://`, the cache's host, `:`, its port): CloudFormation joins
    /// them; `placeholder` and `terraform` hold the whole value.
    pub parts: Vec<EnvPlan>,
}

impl EnvPlan {
    fn literal(name: &str, value: &str) -> Self {
        Self {
            name: name.to_owned(),
            value: Some(value.to_owned()),
            import: None,
            suffix: String::new(),
            placeholder: None,
            terraform: None,
            parts: Vec::new(),
        }
    }

    /// A value joined of `parts` (literals and imports).
    fn joined(name: &str, parts: Vec<Self>) -> Self {
        let placeholder = parts
            .iter()
            .map(|p| {
                if p.import.is_some() {
                    p.placeholder.clone().unwrap_or_default()
                } else {
                    p.value.clone().unwrap_or_default()
                }
            })
            .collect();
        let terraform = parts
            .iter()
            .map(|p| {
                if p.import.is_some() {
                    p.terraform.clone().unwrap_or_default()
                } else {
                    terraform_literal(p.value.as_deref().unwrap_or_default())
                }
            })
            .collect();
        Self {
            name: name.to_owned(),
            value: None,
            import: None,
            suffix: String::new(),
            placeholder: Some(placeholder),
            terraform: Some(terraform),
            parts,
        }
    }
}

/// The heritage's data stack.
#[derive(Debug, Clone, Serialize)]
pub struct DataPlan<'a> {
    pub stack: String,
    /// Prefix of its export names: `<district>-<heritage>-`.
    pub export_prefix: String,
    pub database: Option<DatabasePlan<'a>>,
    pub cache: Option<CachePlan<'a>>,
    pub buckets: Vec<BucketPlan<'a>>,
    pub repositories: Vec<RepositoryPlan>,
    /// Secrets Secrets Manager generates once.
    pub secrets: Vec<SecretPlan>,
    /// Every output of the data stack, by key (exported as prefix + key).
    pub outputs: Vec<String>,
    /// Alias records of its buckets' distributions (see [`dns`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<dns::RecordPlan>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabasePlan<'a> {
    /// The DB instance identifier: ≤ 63 characters, starting with a letter.
    pub identifier: String,
    /// The snapshot taken when the database is deleted (Terraform needs a name).
    pub final_snapshot: String,
    pub engine: &'static str,
    #[serde(flatten)]
    pub database: &'a Database,
}

#[derive(Debug, Clone, Serialize)]
pub struct CachePlan<'a> {
    /// The replication group id: ≤ 40 characters, starting with a letter.
    pub id: String,
    /// The snapshot taken when the cache is deleted (Terraform needs a name).
    pub final_snapshot: String,
    #[serde(flatten)]
    pub cache: &'a Cache,
}

#[derive(Debug, Clone, Serialize)]
pub struct BucketPlan<'a> {
    /// Logical id, e.g. `BucketMedia`; also the output key of its name.
    pub id: String,
    /// Terraform resource name, e.g. `media`.
    pub tf: String,
    /// Without a fixed name, Terraform names the bucket with this prefix and
    /// a unique suffix (CloudFormation derives one from the stack).
    pub name_prefix: String,
    /// The variable its name is given to the containers in.
    pub variable: String,
    /// Whether anyone may read its `public_read` prefixes straight from S3
    /// (without a CDN); with one, only the distribution may.
    pub world_readable: bool,
    /// The `CloudFront` distribution in front of its public prefixes.
    pub distribution: Option<DistributionPlan>,
    #[serde(flatten)]
    pub bucket: &'a Bucket,
}

/// A `CloudFront` distribution reading a bucket through origin access control.
#[derive(Debug, Clone, Serialize)]
pub struct DistributionPlan {
    /// Logical id, e.g. `BucketMediaDistribution`.
    pub id: String,
    /// Logical id of its origin access control, e.g. `BucketMediaOriginAccess`.
    pub access_id: String,
    /// The origin access control's name: unique in the account, ≤ 64 characters.
    pub access_name: String,
    pub comment: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepositoryPlan {
    /// The name under `resources.repositories`.
    pub name: String,
    pub id: String,
    /// Terraform resource name, e.g. `mastodon`.
    pub tf: String,
    pub repository_name: String,
    /// The ECR lifecycle policy, as the JSON text ECR expects.
    pub lifecycle_policy: String,
    /// `IMMUTABLE` unless the file sets `mutable_tags: true`.
    pub image_tag_mutability: &'static str,
    /// Terraform's `lifecycle.prevent_destroy` (the file's `prevent_destroy`).
    pub prevent_destroy: bool,
}

/// A generated secret: how Secrets Manager makes its value, in the words of
/// CloudFormation's `GenerateSecretString` and Terraform's
/// `aws_secretsmanager_random_password` (the same switches).
#[derive(Debug, Clone, Serialize)]
pub struct SecretPlan {
    /// Logical id, e.g. `SecretSecretKeyBase`; also the output key of its ARN.
    pub id: String,
    /// Terraform resource name, e.g. `secret_key_base`.
    pub tf: String,
    /// The variable the containers read it from.
    pub variable: String,
    pub description: String,
    /// Terraform names the secret with this prefix and a unique suffix
    /// (CloudFormation derives a name from the logical id).
    pub name_prefix: String,
    pub length: u32,
    pub exclude_punctuation: bool,
    pub exclude_uppercase: bool,
    /// Characters left out besides those classes (empty for none).
    pub exclude_characters: String,
    /// Terraform's `lifecycle.prevent_destroy` on the secret and its value.
    pub prevent_destroy: bool,
}

/// Characters a hex secret leaves out once uppercase and punctuation are:
/// the lowercase letters after `f`.
const NOT_HEX: &str = "ghijklmnopqrstuvwxyz";
/// Punctuation a printable secret leaves out: quotes, the backquote and the
/// backslash, which need escaping wherever the value is written.
const NOT_PRINTABLE: &str = "\"'`\\";

#[derive(Debug, Clone, Serialize)]
pub struct ServicePlan<'a> {
    pub name: &'a str,
    /// Logical id prefix, e.g. `Web` or `SidekiqPush`.
    pub id: String,
    /// Terraform resource name, e.g. `web` or `sidekiq_push`.
    pub tf: String,
    pub family: String,
    pub service_name: String,
    pub web: bool,
    pub fargate: bool,
    /// The Fargate capacity provider of a service with a strategy instead of a
    /// launch type: `FARGATE_SPOT` for `capacity: spot`.
    pub fargate_capacity_provider: Option<&'static str>,
    /// The district's capacity provider a service on the hosts runs on, as
    /// the Terraform variable that names it: `capacity_provider`, or
    /// `spot_capacity_provider` (the spot hosts) for `capacity: spot`.
    pub hosts_provider: &'static str,
    pub cpu: Option<u32>,
    pub memory: u32,
    pub command: Option<&'a [String]>,
    pub port: Option<u16>,
    pub desired_count: u32,
    pub read_only_root_filesystem: bool,
    pub autoscaling: Option<&'a Autoscaling>,
    pub listeners: Vec<ListenerPlan<'a>>,
    /// The service's network load balancer (`port_mappings`), and the
    /// container's port mappings.
    pub nlb: Option<nlb::NlbPlan>,
    pub ports: Vec<nlb::PortMappingPlan>,
    /// Every target group the service registers with: listeners', then the NLB's.
    pub targets: Vec<nlb::TargetPlan>,
    /// What must exist before the service: the rules and listeners forwarding
    /// to its target groups (the HTTP twins of rules too), as logical ids and
    /// as Terraform addresses.
    pub depends_on: Vec<String>,
    pub tf_depends_on: Vec<String>,
    /// The container's variables: the heritage's, and `PORT` on a web container.
    pub environment: Vec<EnvPlan>,
    pub secrets: Vec<EnvPlan>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListenerPlan<'a> {
    /// Logical id prefix of its target group and rule, e.g. `WebMstdn`.
    pub id: String,
    /// Terraform name of its target group and rule, e.g. `web_mstdn`.
    pub tf: String,
    pub endpoint: &'a str,
    /// The rules forwarding to the target group: on the endpoint's HTTPS
    /// listener, and for a service with `force_ssl: false` the same rule on
    /// its HTTP listener (HTTP is served, not redirected).
    pub routes: Vec<Route>,
    /// The service's container port and whether it runs on Fargate (targets by IP).
    pub port: Option<u16>,
    pub fargate: bool,
    /// The target group's placeholder in `alb-rules.json`, for `envsubst`.
    pub target_group_arn_placeholder: String,
    #[serde(flatten)]
    pub listener: &'a Listener,
}

/// A certificate of the instance's own, on one load balancer's HTTPS listener (SNI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificatePlan {
    /// Logical id, e.g. `ListenerCertificate1`, and Terraform name, e.g. `certificate_1`.
    pub id: String,
    pub tf: String,
    pub certificate_arn: String,
    /// The HTTPS listener's export and Terraform variable.
    pub listener_export: String,
    pub listener_variable: String,
}

/// One listener rule of a [`ListenerPlan`], on one of the endpoint's listeners.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    /// Logical id of the rule, e.g. `WebMstdnRule` or `WebMstdnHttpRule`.
    pub id: String,
    /// Terraform name of the rule, e.g. `web_mstdn` or `web_mstdn_http`.
    pub tf: String,
    /// `HTTPS` or `HTTP`.
    pub protocol: &'static str,
    /// Export name of the listener's ARN.
    pub listener_export: String,
    /// The Terraform variable (and district output) holding that ARN.
    pub listener_variable: String,
    /// Its placeholder in `alb-rules.json`, for `envsubst`.
    pub listener_arn_placeholder: String,
}

/// A one-off or scheduled task: its own task definition.
#[derive(Debug, Clone, Serialize)]
pub struct TaskPlan {
    pub name: String,
    pub id: String,
    /// Terraform resource name, e.g. `schedule_rake_mastodon_daily`.
    pub tf: String,
    pub family: String,
    pub schedule: Option<String>,
    pub command: Vec<String>,
    pub cpu: u32,
    pub memory: u32,
    /// The container's variables: the heritage's.
    pub environment: Vec<EnvPlan>,
    pub secrets: Vec<EnvPlan>,
}

/// An image in one of the heritage's repositories.
#[derive(Debug, Clone, Serialize)]
pub struct ImageRepository {
    /// The data stack's export of the repository URI.
    pub import: String,
    pub tag: String,
    /// The image in standalone task definitions: `${REPOSITORY_<NAME>_URI}:<tag>`.
    pub placeholder: String,
    /// The repository's Terraform address, e.g. `aws_ecr_repository.mastodon`.
    pub terraform: String,
    /// The same image as an `Fn::Sub` of account, region and tag, for the
    /// app stack's `Image` output (an output may not just pass on an import).
    pub sub: String,
}

/// A resource tag.
#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    pub key: &'static str,
    pub value: String,
}

/// [`ServicePlan::hosts_provider`] of a service on the spot hosts.
pub const SPOT_HOSTS_PROVIDER: &str = "spot_capacity_provider";

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

/// A Terraform name from a berth name: `sidekiq-push` → `sidekiq_push`.
/// Terraform names may not start with a digit; such names get a `_` in front.
#[must_use]
pub fn terraform_name(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

/// The Terraform variable (a district output of the same name) holding the
/// ARN of an endpoint's HTTPS listener.
#[must_use]
pub fn listener_variable(endpoint: &str) -> String {
    format!(
        "https_listener_arn_{}",
        terraform_name(endpoint).trim_start_matches('_')
    )
}

/// The Terraform variable (a district output of the same name) holding the
/// ARN of an endpoint's HTTP listener.
#[must_use]
pub fn http_listener_variable(endpoint: &str) -> String {
    format!(
        "http_listener_arn_{}",
        terraform_name(endpoint).trim_start_matches('_')
    )
}

/// `name` if it fits in `max` characters, else its start and a hash of the
/// whole, so long names stay unique and stable.
#[must_use]
pub fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let hash = crate::emit::sha256(name);
    let keep = name[..max - 9].trim_end_matches('-');
    format!("{keep}-{}", &hash[..8])
}

/// An AWS identifier from a name: starts with a letter, no double or
/// trailing hyphens, at most `max` characters.
fn identifier(name: &str, max: usize) -> String {
    let mut id = name.to_ascii_lowercase();
    while id.contains("--") {
        id = id.replace("--", "-");
    }
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        id = format!("x-{id}");
    }
    shorten(&id, max)
}

/// A bucket name prefix for Terraform's `bucket_prefix` (at most 37
/// characters): `<district>-<heritage>-<bucket>-` in the characters S3 allows.
fn bucket_prefix(base: &str, bucket: &str) -> String {
    let name: String = format!("{base}-{bucket}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{}-", identifier(name.trim_matches('-'), 36))
}

/// The data stack's name.
#[must_use]
pub fn data_stack(district: &str, heritage: &str) -> String {
    format!("{district}-{heritage}-data")
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

/// CPU units and MiB of a `before_deploy` task: Barcelona's one-off size
/// (`heritage_task_definition.rb`, `oneoff.rb`).
pub const ONEOFF_SIZE: (u32, u32) = (128, 512);
/// CPU units and MiB of a scheduled task: Barcelona's schedule size
/// (`heritage_task_definition.rb`, since 2025; 128/512 before).
pub const SCHEDULE_SIZE: (u32, u32) = (512, 1512);

/// How an ARN's partition, region and account are written in one artifact format.
struct ArnSyntax {
    partition: &'static str,
    region: &'static str,
    account: &'static str,
    /// Writes text taken from an instance file so that it stays literal.
    literal: fn(&str) -> String,
}

/// `Fn::Sub` syntax, for CloudFormation.
const CLOUDFORMATION_ARNS: ArnSyntax = ArnSyntax {
    partition: "${AWS::Partition}",
    region: "${AWS::Region}",
    account: "${AWS::AccountId}",
    literal: str::to_owned,
};

/// Terraform interpolation of the configuration's `aws_partition`,
/// `aws_region` and `aws_caller_identity` data sources.
const TERRAFORM_ARNS: ArnSyntax = ArnSyntax {
    partition: "${data.aws_partition.current.partition}",
    region: "${data.aws_region.current.region}",
    account: "${data.aws_caller_identity.current.account_id}",
    literal: terraform_literal,
};

/// A string as a Terraform template that renders to exactly that string:
/// `${` and `%{` start template sequences, `$${` and `%%{` are their escapes.
#[must_use]
pub fn terraform_literal(text: &str) -> String {
    text.replace("${", "$${").replace("%{", "%%{")
}

/// The SSM parameter ARNs and Secrets Manager ARNs the secrets read, with
/// the partition (and for parameter names the region and account) written in
/// `syntax`.
fn secret_resources(secrets: &[Secret], syntax: &ArnSyntax) -> (Vec<String>, Vec<String>) {
    let mut ssm = Vec::new();
    let mut managed = Vec::new();
    for secret in secrets {
        let from = &secret.value_from;
        match from
            .strip_prefix("arn:")
            .and_then(|rest| rest.split_once(':'))
        {
            Some((_partition, rest)) => {
                let arn = format!("arn:{}:{}", syntax.partition, (syntax.literal)(rest));
                if rest.starts_with("secretsmanager:") {
                    managed.push(arn);
                } else {
                    ssm.push(arn);
                }
            }
            None => ssm.push(format!(
                "arn:{}:ssm:{}:{}:parameter/{}",
                syntax.partition,
                syntax.region,
                syntax.account,
                (syntax.literal)(from.trim_start_matches('/'))
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

/// The rules of one listener: on the HTTPS listener, and with `force_ssl:
/// false` on the HTTP listener too.
fn routes(district: &str, endpoint: &str, id: &str, tf: &str, force_ssl: bool) -> Vec<Route> {
    let https = Route {
        id: format!("{id}Rule"),
        tf: tf.to_owned(),
        protocol: "HTTPS",
        listener_export: format!("{district}-{endpoint}-HttpsListener"),
        listener_variable: listener_variable(endpoint),
        listener_arn_placeholder: format!("${{LISTENER_ARN_{}}}", shout(endpoint)),
    };
    let http = (!force_ssl).then(|| Route {
        id: format!("{id}HttpRule"),
        tf: format!("{tf}_http"),
        protocol: "HTTP",
        listener_export: format!("{district}-{endpoint}-HttpListener"),
        listener_variable: http_listener_variable(endpoint),
        listener_arn_placeholder: format!("${{HTTP_LISTENER_ARN_{}}}", shout(endpoint)),
    });
    std::iter::once(https).chain(http).collect()
}

fn service_plan<'a>(
    district: &District,
    heritage: &'a Heritage,
    service: &'a Service,
    (environment, secrets): (&[EnvPlan], &[EnvPlan]),
) -> ServicePlan<'a> {
    // The service's own variables win over the heritage's, injected ones included.
    let own = |name: &str| {
        service.environment.iter().any(|v| v.name == name)
            || service.secrets.iter().any(|v| v.name == name)
    };
    let mut environment: Vec<EnvPlan> = environment
        .iter()
        .filter(|v| !own(&v.name))
        .cloned()
        .chain(
            service
                .environment
                .iter()
                .map(|v| EnvPlan::literal(&v.name, &v.value)),
        )
        .collect();
    let secrets: Vec<EnvPlan> = secrets
        .iter()
        .filter(|v| !own(&v.name))
        .cloned()
        .chain(
            service
                .secrets
                .iter()
                .map(|s| EnvPlan::literal(&s.name, &s.value_from)),
        )
        .collect();
    let secrets = secrets.as_slice();
    // Barcelona gives web containers `PORT` (`service.rb`), so files run
    // `rails s -p $PORT`; a value the file sets itself wins.
    if let Some(port) = service.port
        && !environment.iter().chain(secrets).any(|v| v.name == "PORT")
    {
        environment.push(EnvPlan::literal("PORT", &port.to_string()));
    }
    let id = logical_id(&service.name);
    let tf = terraform_name(&service.name);
    let mut listeners: Vec<ListenerPlan<'a>> = Vec::new();
    for listener in &service.listeners {
        let base = format!("{id}{}", logical_id(&listener.endpoint));
        let tf_base = format!(
            "{tf}_{}",
            terraform_name(&listener.endpoint).trim_start_matches('_')
        );
        let count = listeners
            .iter()
            .filter(|l| l.endpoint == listener.endpoint)
            .count();
        let (id, tf) = if count == 0 {
            (base, tf_base)
        } else {
            (
                format!("{base}{}", count + 1),
                format!("{tf_base}_{}", count + 1),
            )
        };
        listeners.push(ListenerPlan {
            routes: routes(
                &district.name,
                &listener.load_balancer,
                &id,
                &tf,
                service.force_ssl,
            ),
            tf,
            port: service.port,
            fargate: service.launch_type == LaunchType::Fargate,
            target_group_arn_placeholder: format!("${{TARGET_GROUP_ARN_{}}}", shout(&id)),
            id,
            endpoint: &listener.endpoint,
            listener,
        });
    }
    let nlb = nlb::nlb_plan(district, &heritage.name, service);
    let targets = nlb::targets(service.port, &listeners, nlb.as_ref());
    let depends_on = targets.iter().flat_map(|t| t.depends_on.clone()).collect();
    let tf_depends_on = targets
        .iter()
        .flat_map(|t| t.tf_depends_on.clone())
        .collect();
    ServicePlan {
        targets,
        depends_on,
        tf_depends_on,
        name: &service.name,
        id,
        tf,
        family: format!("{}-{}", heritage.name, service.name),
        service_name: format!("{}-{}", heritage.name, service.name),
        web: service.port.is_some(),
        fargate: service.launch_type == LaunchType::Fargate,
        fargate_capacity_provider: (service.spot && service.launch_type == LaunchType::Fargate)
            .then_some("FARGATE_SPOT"),
        hosts_provider: if service.spot && service.launch_type != LaunchType::Fargate {
            SPOT_HOSTS_PROVIDER
        } else {
            "capacity_provider"
        },
        cpu: service.cpu,
        memory: service.memory,
        command: service.command.as_deref(),
        port: service.port,
        desired_count: service.desired_count,
        read_only_root_filesystem: service.read_only_root_filesystem,
        autoscaling: service.autoscaling.as_ref(),
        listeners,
        nlb,
        ports: nlb::container_ports(service),
        environment,
        secrets: secrets.to_vec(),
    }
}

fn data_plan<'a>(district: &District, heritage: &'a Heritage) -> DataPlan<'a> {
    let resources = &heritage.resources;
    let base = format!("{}-{}", district.name, heritage.name);
    let mut outputs: Vec<String> = ["ExecutionRoleArn", "TaskRoleArn", "LogGroupName"]
        .map(String::from)
        .to_vec();
    let database = resources.database.as_ref().map(|database| {
        outputs.extend(["DbHost", "DbPort", "DbSecretArn"].map(String::from));
        let identifier = identifier(&base, 63);
        DatabasePlan {
            final_snapshot: format!("{identifier}-final"),
            identifier,
            engine: match database.engine {
                DatabaseEngine::Postgres => "postgres",
                DatabaseEngine::Mysql => "mysql",
            },
            database,
        }
    });
    let cache = resources.cache.as_ref().map(|cache| {
        outputs.extend(["RedisHost", "RedisPort"].map(String::from));
        let id = identifier(&base, 40);
        CachePlan {
            final_snapshot: format!("{id}-final"),
            id,
            cache,
        }
    });
    let buckets = resources
        .buckets
        .iter()
        .map(|bucket| BucketPlan {
            id: format!("Bucket{}", logical_id(&bucket.name)),
            tf: terraform_name(&bucket.name),
            name_prefix: bucket_prefix(&base, &bucket.name),
            variable: format!("S3_BUCKET_{}", shout(&bucket.name)),
            world_readable: !bucket.public_read.is_empty() && bucket.cdn.is_none(),
            distribution: bucket.cdn.as_ref().map(|_| {
                let id = format!("Bucket{}", logical_id(&bucket.name));
                DistributionPlan {
                    id: format!("{id}Distribution"),
                    access_id: format!("{id}OriginAccess"),
                    access_name: shorten(&format!("{base}-{}", bucket.name), 64),
                    comment: shorten(
                        &format!(
                            "bucket {} of {} in {}",
                            bucket.name, heritage.name, district.name
                        ),
                        128,
                    ),
                }
            }),
            bucket,
        })
        .collect::<Vec<_>>();
    let repositories = resources
        .repositories
        .iter()
        .map(|repository| RepositoryPlan {
            name: repository.name.clone(),
            id: format!("Repository{}", logical_id(&repository.name)),
            tf: terraform_name(&repository.name),
            image_tag_mutability: repository.image_tag_mutability,
            repository_name: shorten(&format!("{base}/{}", repository.name).to_ascii_lowercase(), 256),
            prevent_destroy: repository.prevent_destroy,
            lifecycle_policy: serde_json::json!({
                "rules": [{
                    "rulePriority": 1,
                    "description": format!("expire untagged images after {} days", repository.untagged_expire_days),
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": repository.untagged_expire_days,
                    },
                    "action": {"type": "expire"},
                }]
            })
            .to_string(),
        })
        .collect::<Vec<_>>();
    let secrets = resources
        .secrets
        .iter()
        .map(|secret| {
            let (exclude_punctuation, exclude_uppercase, exclude_characters) =
                match secret.characters {
                    SecretCharacters::Alphanumeric => (true, false, ""),
                    SecretCharacters::Hex => (true, true, NOT_HEX),
                    SecretCharacters::Printable => (false, false, NOT_PRINTABLE),
                };
            SecretPlan {
                id: secret_id(&secret.name),
                tf: terraform_name(&secret.name),
                variable: secret.name.clone(),
                description: format!(
                    "{} of heritage {} in district {}: generated once by Secrets Manager",
                    secret.name, heritage.name, district.name
                ),
                name_prefix: format!("{base}/{}-", secret.name),
                length: secret.length,
                exclude_punctuation,
                exclude_uppercase,
                exclude_characters: exclude_characters.to_owned(),
                prevent_destroy: secret.prevent_destroy,
            }
        })
        .collect::<Vec<_>>();
    outputs.extend(buckets.iter().map(|b| b.id.clone()));
    outputs.extend(
        buckets
            .iter()
            .filter_map(|b| b.distribution.as_ref().map(|d| format!("{}Domain", d.id))),
    );
    outputs.extend(repositories.iter().map(|r| format!("{}Uri", r.id)));
    outputs.extend(secrets.iter().map(|s| s.id.clone()));
    DataPlan {
        stack: data_stack(&district.name, &heritage.name),
        export_prefix: format!("{base}-"),
        database,
        cache,
        buckets,
        repositories,
        secrets,
        outputs,
        records: dns::heritage_records(district, &heritage.name),
    }
}

/// The logical id of a generated secret: `SECRET_KEY_BASE` → `SecretSecretKeyBase`.
#[must_use]
pub fn secret_id(variable: &str) -> String {
    format!("Secret{}", logical_id(&variable.to_ascii_lowercase()))
}

/// The containers' variables: the file's plain values and secrets, then the
/// data stack's connection values unless the file sets the same name.
fn environment(
    region: &str,
    heritage: &Heritage,
    data: &DataPlan<'_>,
) -> (Vec<EnvPlan>, Vec<EnvPlan>) {
    let mut plain: Vec<EnvPlan> = heritage
        .environment
        .iter()
        .map(|v| EnvPlan::literal(&v.name, &v.value))
        .collect();
    let mut secrets: Vec<EnvPlan> = heritage
        .secrets
        .iter()
        .map(|s| EnvPlan::literal(&s.name, &s.value_from))
        .collect();
    // `terraform` is the expression of the same value; container variables
    // are strings, so numbers go through `tostring`.
    let imported = |name: &str, key: &str, suffix: &str, terraform: &str| EnvPlan {
        name: name.to_owned(),
        value: None,
        import: Some(format!("{}{key}", data.export_prefix)),
        suffix: suffix.to_owned(),
        placeholder: Some(format!("${{{}}}{suffix}", shout_key(key))),
        terraform: Some(format!("${{{terraform}}}{suffix}")),
        parts: Vec::new(),
    };
    let mut connection = Vec::new();
    let mut connection_secrets = Vec::new();
    if let Some(database) = &data.database {
        connection.push(imported(
            "DB_HOST",
            "DbHost",
            "",
            "aws_db_instance.this.address",
        ));
        connection.push(imported(
            "DB_PORT",
            "DbPort",
            "",
            "tostring(aws_db_instance.this.port)",
        ));
        connection.push(EnvPlan::literal("DB_NAME", &database.database.name));
        connection.push(EnvPlan::literal("DB_USER", &database.database.user));
        connection_secrets.push(imported(
            "DB_PASS",
            "DbSecretArn",
            ":password::",
            "aws_db_instance.this.master_user_secret[0].secret_arn",
        ));
    }
    if data.cache.is_some() {
        let host = || {
            imported(
                "REDIS_HOST",
                "RedisHost",
                "",
                "aws_elasticache_replication_group.this.primary_endpoint_address",
            )
        };
        let port = || {
            imported(
                "REDIS_PORT",
                "RedisPort",
                "",
                "tostring(aws_elasticache_replication_group.this.port)",
            )
        };
        connection.push(host());
        connection.push(port());
        // The cache only speaks TLS, and Mastodon's Rails side builds a
        // `redis://` URL from REDIS_HOST/REDIS_PORT
        // (lib/mastodon/redis_configuration.rb:57-67,104-111); a `rediss://`
        // URL is the only way to ask for TLS, and it wins over host and port.
        connection.push(EnvPlan::joined(
            "REDIS_URL",
            vec![
                EnvPlan::literal("", "rediss://"),
                host(),
                EnvPlan::literal("", ":"),
                port(),
            ],
        ));
    }
    for (i, bucket) in data.buckets.iter().enumerate() {
        let name = format!("aws_s3_bucket.{}.bucket", bucket.tf);
        if i == 0 {
            connection.push(imported("S3_BUCKET", &bucket.id, "", &name));
        }
        connection.push(imported(&bucket.variable, &bucket.id, "", &name));
    }
    if !data.buckets.is_empty() {
        connection.push(EnvPlan::literal("S3_REGION", region));
        // Buckets are owner-enforced (ACLs disabled), so an upload with an
        // ACL fails; Mastodon sends `public-read` unless S3_PERMISSION is
        // set, and sends none when it is empty
        // (config/initializers/paperclip.rb:57,75).
        connection.push(EnvPlan::literal("S3_PERMISSION", ""));
    }
    // Mastodon builds media URLs on S3_ALIAS_HOST when it is set
    // (config/initializers/paperclip.rb: `s3_host_alias: ENV['S3_ALIAS_HOST']
    // || ENV['S3_CLOUDFRONT_HOST']`), and its content security policy allows it.
    if let Some(cdn) = data.buckets.iter().find_map(|b| b.bucket.cdn.as_ref()) {
        connection.push(EnvPlan::literal("S3_ALIAS_HOST", &cdn.aliases[0]));
    }
    for secret in &data.secrets {
        connection_secrets.push(imported(
            &secret.variable,
            &secret.id,
            "",
            &format!("aws_secretsmanager_secret_version.{}.arn", secret.tf),
        ));
    }
    // `resources.env` renames injected variables or leaves them out.
    let rename = |list: Vec<EnvPlan>| -> Vec<EnvPlan> {
        list.into_iter()
            .filter_map(|mut v| match heritage.resources.env.get(&v.name) {
                Some(Some(name)) => {
                    v.name.clone_from(name);
                    Some(v)
                }
                Some(None) => None,
                None => Some(v),
            })
            .collect()
    };
    let connection = rename(connection);
    let connection_secrets = rename(connection_secrets);
    let taken = |list: &[EnvPlan], other: &[EnvPlan], name: &str| {
        list.iter().chain(other).any(|v| v.name == name)
    };
    for v in connection {
        if !taken(&plain, &secrets, &v.name) {
            plain.push(v);
        }
    }
    for v in connection_secrets {
        if !taken(&plain, &secrets, &v.name) {
            secrets.push(v);
        }
    }
    (plain, secrets)
}

/// `DbSecretArn` → `DB_SECRET_ARN`: placeholders are the data stack's output keys, shouted.
#[must_use]
pub fn shout_key(key: &str) -> String {
    let mut out = String::new();
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// The plan of one heritage's app stack.
#[must_use]
pub fn heritage_plan<'a>(district: &'a District, heritage: &'a Heritage) -> HeritagePlan<'a> {
    let data = data_plan(district, heritage);
    let (environment, secrets) = environment(&district.region, heritage, &data);
    let services: Vec<ServicePlan<'a>> = heritage
        .services
        .iter()
        .map(|s| service_plan(district, heritage, s, (&environment, &secrets)))
        .collect();
    let rules: Vec<ListenerPlan<'a>> = services
        .iter()
        .flat_map(|s| s.listeners.iter().cloned())
        .collect();
    // The execution role reads the heritage's secrets and every service's own.
    let mut read: Vec<Secret> = Vec::new();
    for secret in heritage
        .secrets
        .iter()
        .chain(heritage.services.iter().flat_map(|s| &s.secrets))
    {
        if !read.iter().any(|r| r.value_from == secret.value_from) {
            read.push(secret.clone());
        }
    }
    let (ssm_parameters, secret_arns) = secret_resources(&read, &CLOUDFORMATION_ARNS);
    let (tf_ssm_parameters, tf_secret_arns) = secret_resources(&read, &TERRAFORM_ARNS);
    let mut read_secrets: Vec<serde_json::Value> = secret_arns
        .iter()
        .map(|arn| serde_json::json!({ "Fn::Sub": arn }))
        .collect();
    let mut tf_read_secrets = tf_secret_arns.clone();
    if data.database.is_some() {
        read_secrets
            .push(serde_json::json!({"Fn::GetAtt": ["Database", "MasterUserSecret.SecretArn"]}));
        tf_read_secrets.push("${aws_db_instance.this.master_user_secret[0].secret_arn}".to_owned());
    }
    for secret in &data.secrets {
        read_secrets.push(serde_json::json!({ "Ref": secret.id }));
        tf_read_secrets.push(format!("${{aws_secretsmanager_secret.{}.arn}}", secret.tf));
    }
    let scheduled_tasks: Vec<TaskPlan> = heritage
        .scheduled_tasks
        .iter()
        .map(|t| TaskPlan {
            id: format!("Schedule{}", logical_id(&t.name)),
            tf: format!(
                "schedule_{}",
                terraform_name(&t.name).trim_start_matches('_')
            ),
            family: format!("{}-{}", heritage.name, t.name),
            name: t.name.clone(),
            schedule: Some(t.schedule.clone()),
            command: t.command.clone(),
            cpu: SCHEDULE_SIZE.0,
            memory: SCHEDULE_SIZE.1,
            environment: environment.clone(),
            secrets: secrets.clone(),
        })
        .collect();
    let before_deploy = heritage.before_deploy.as_ref().map(|command| TaskPlan {
        name: "before-deploy".to_owned(),
        id: "BeforeDeploy".to_owned(),
        tf: "before_deploy".to_owned(),
        family: format!("{}-before-deploy", heritage.name),
        schedule: None,
        command: command.clone(),
        cpu: ONEOFF_SIZE.0,
        memory: ONEOFF_SIZE.1,
        environment: environment.clone(),
        secrets: secrets.clone(),
    });
    let task_definitions = scheduled_tasks
        .iter()
        .chain(&before_deploy)
        .cloned()
        .collect();
    let mut listener_variables: Vec<EndpointVariable> = Vec::new();
    for rule in &rules {
        for route in &rule.routes {
            let variable = EndpointVariable {
                endpoint: rule.endpoint.to_owned(),
                variable: route.listener_variable.clone(),
                protocol: route.protocol,
            };
            if !listener_variables.contains(&variable) {
                listener_variables.push(variable);
            }
        }
    }
    let mut certificates: Vec<CertificatePlan> = Vec::new();
    for rule in &rules {
        let (Some(arn), Some(https)) = (&rule.listener.certificate_arn, rule.routes.first()) else {
            continue;
        };
        let default = district
            .endpoints
            .iter()
            .any(|e| e.name == rule.endpoint && e.certificate_arn == *arn);
        if default
            || certificates
                .iter()
                .any(|c| c.certificate_arn == *arn && c.listener_export == https.listener_export)
        {
            continue;
        }
        let n = certificates.len() + 1;
        certificates.push(CertificatePlan {
            id: format!("ListenerCertificate{n}"),
            tf: format!("certificate_{n}"),
            certificate_arn: arn.clone(),
            listener_export: https.listener_export.clone(),
            listener_variable: https.listener_variable.clone(),
        });
    }
    let off_hours = heritage.schedule.as_ref().map(|hours| {
        off_hours::off_hours_plan(
            &district.name,
            &heritage.name,
            hours,
            &services,
            &rules,
            data.database.as_ref().map(|d| d.identifier.as_str()),
        )
    });
    let tags = vec![
        Tag {
            key: "berth:district",
            value: district.name.clone(),
        },
        Tag {
            key: "berth:heritage",
            value: heritage.name.clone(),
        },
    ];
    HeritagePlan {
        district: DistrictRef {
            name: &district.name,
            region: &district.region,
            account_id: district.account_id.as_deref(),
            export_prefix: format!("{}-", district.name),
        },
        name: &heritage.name,
        stack: app_stack(&district.name, &heritage.name),
        image: &heritage.image,
        image_repository: heritage.image_repository.as_ref().and_then(|name| {
            let r = data.repositories.iter().find(|r| r.name == *name)?;
            let key = format!("{}Uri", r.id);
            Some(ImageRepository {
                import: format!("{}{key}", data.export_prefix),
                tag: heritage.image_tag.clone(),
                placeholder: format!("${{{}}}:{}", shout_key(&key), heritage.image_tag),
                terraform: format!("aws_ecr_repository.{}", r.tf),
                sub: format!(
                    "${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/{}:${{ImageTag}}",
                    r.repository_name
                ),
            })
        }),
        log_group: format!("/berth/{}/{}", district.name, heritage.name),
        log_retention_days: LOG_RETENTION_DAYS,
        data,
        environment,
        secrets,
        ssm_parameters,
        secret_arns,
        read_secrets,
        services,
        rules,
        certificates,
        scheduled_tasks,
        off_hours,
        before_deploy,
        task_definitions,
        terraform: HeritageTerraform {
            aws_provider: TERRAFORM_AWS_PROVIDER,
            listener_variables,
            ssm_parameters: tf_ssm_parameters,
            secret_arns: tf_secret_arns,
            read_secrets: tf_read_secrets,
            tags: tags.iter().map(|t| (t.key, t.value.clone())).collect(),
        },
        tags,
        web_service: heritage
            .services
            .iter()
            .find(|s| s.service_type == ServiceType::Web)
            .map(|s| s.name.as_str()),
        run_env: &heritage.run_env,
    }
}

/// The Terraform names of a district's resources and outputs.
#[must_use]
pub fn district_terraform(district: &District) -> DistrictTerraform {
    DistrictTerraform {
        aws_provider: TERRAFORM_AWS_PROVIDER,
        capacity_provider: format!("berth-{}", district.name),
        refresh: Refresh::new(district.cluster.size, district.cluster.max_size),
        endpoints: district
            .load_balancers
            .iter()
            .map(|lb| {
                let tf = terraform_name(&lb.name);
                let plain = tf.trim_start_matches('_');
                EndpointTerraform {
                    name: lb.name.clone(),
                    load_balancer_name: lb.aws_name.clone(),
                    https_listener_output: listener_variable(&lb.name),
                    http_listener_output: http_listener_variable(&lb.name),
                    load_balancer_output: format!("load_balancer_arn_{plain}"),
                    dns_name_output: format!("dns_name_{plain}"),
                    tf,
                }
            })
            .collect(),
    }
}

/// Every artifact of the fleet, grouped by context, in a stable order.
#[must_use]
pub fn plan(fleet: &Fleet) -> Vec<Unit<'_>> {
    let mut units = Vec::new();
    for district in &fleet.districts {
        let mut artifacts = Vec::new();
        if district.targets.cloudformation {
            artifacts.push(Artifact {
                path: format!("{}/district.cfn.json", district.name),
                kind: "cloudformation-stack",
                template: "district.cfn.json",
                stack: Some(district_stack(&district.name)),
                sources: vec![district.source.clone()],
                task: None,
            });
        }
        if district.targets.terraform {
            artifacts.push(Artifact {
                path: format!("{}/district.tf.json", district.name),
                kind: "terraform-configuration",
                template: "district.tf.json",
                stack: None,
                sources: vec![district.source.clone()],
                task: None,
            });
        }
        let terraform = district_terraform(district);
        let plans: Vec<HeritagePlan<'_>> = district
            .heritages
            .par_iter()
            .map(|h| heritage_plan(district, h))
            .collect();
        let root = (district.targets.terraform && !plans.is_empty())
            .then(|| root::root_plan(district, &terraform, &plans));
        if root.is_some() {
            artifacts.push(Artifact {
                path: format!("{}/heritages.tf.json", district.name),
                kind: "terraform-configuration",
                template: "heritages.tf.json",
                stack: None,
                sources: std::iter::once(&district.source)
                    .chain(district.heritages.iter().map(|h| &h.source))
                    .cloned()
                    .collect(),
                task: None,
            });
        }
        let context = UnitContext::District(Box::new(DistrictContext {
            district,
            terraform,
            root,
            host_hours: district.cluster.schedule.as_ref().map(|hours| {
                off_hours::host_hours_plan(&district.name, district.cluster.size, hours)
            }),
            records: dns::district_records(district),
        }));
        units.push(Unit { context, artifacts });
        units.par_extend(
            district
                .heritages
                .par_iter()
                .zip(plans.into_par_iter())
                .map(|(h, plan)| heritage_unit(district, h, plan)),
        );
    }
    units
}

fn heritage_unit<'a>(district: &District, heritage: &Heritage, plan: HeritagePlan<'a>) -> Unit<'a> {
    let dir = format!("{}/{}", district.name, heritage.name);
    let mut sources = vec![district.source.clone(), heritage.source.clone()];
    sources.extend(
        heritage
            .schedule
            .as_ref()
            .and_then(|h| h.page_source.clone()),
    );
    let artifact = |path: String, kind, template, stack: Option<String>, task| Artifact {
        path,
        kind,
        template,
        stack,
        sources: sources.clone(),
        task,
    };
    let mut artifacts = Vec::new();
    if district.targets.cloudformation {
        artifacts.push(artifact(
            format!("{dir}/data.cfn.json"),
            "cloudformation-stack",
            "data.cfn.json",
            Some(plan.data.stack.clone()),
            None,
        ));
        artifacts.push(artifact(
            format!("{dir}/app.cfn.json"),
            "cloudformation-stack",
            "app.cfn.json",
            Some(plan.stack.clone()),
            None,
        ));
        artifacts.push(artifact(
            format!("{dir}/app.params.json"),
            "cloudformation-parameters",
            "app.params.json",
            Some(plan.stack.clone()),
            None,
        ));
    }
    if district.targets.terraform {
        for template in ["main.tf.json", "data.tf.json"] {
            artifacts.push(artifact(
                format!("{dir}/{template}"),
                "terraform-configuration",
                template,
                None,
                None,
            ));
        }
    }
    artifacts.push(artifact(
        format!("{dir}/alb-rules.json"),
        "alb-rules",
        "alb-rules.json",
        None,
        None,
    ));
    let tasks = plan
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.to_owned(), Task::Service(i)))
        .chain(
            plan.scheduled_tasks
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("schedule-{}", t.name), Task::Scheduled(i))),
        )
        .chain(
            plan.before_deploy
                .iter()
                .map(|t| (t.name.clone(), Task::BeforeDeploy)),
        );
    for (name, task) in tasks {
        artifacts.push(artifact(
            format!("{dir}/task-definitions/{name}.json"),
            "ecs-task-definition",
            "task-definition.json",
            None,
            Some(task),
        ));
    }
    Unit {
        context: UnitContext::Heritage {
            heritage: Box::new(plan),
        },
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

    #[test]
    fn instance_refresh_replaces_one_host_at_a_time() {
        let bounds = |size, max| {
            let r = Refresh::new(size, max);
            (r.min_healthy_percentage, r.max_healthy_percentage)
        };
        assert_eq!(bounds(2, 4), (100, 150));
        assert_eq!(bounds(3, 4), (100, 134));
        assert_eq!(bounds(1, 2), (100, 200));
        assert_eq!(bounds(2, 2), (50, 100));
        assert_eq!(bounds(1, 1), (0, 100));
        assert_eq!(bounds(3, 3), (66, 100));
    }

    #[test]
    fn terraform_literals_escape_template_sequences() {
        assert_eq!(terraform_literal("plain $HOME %s"), "plain $HOME %s");
        assert_eq!(terraform_literal("${A} and %{if}"), "$${A} and %%{if}");
        assert_eq!(terraform_literal("$${A}"), "$$${A}");
    }

    #[test]
    fn bucket_prefixes_fit_s3() {
        assert_eq!(
            bucket_prefix("mstdn-bcn-users", "media"),
            "mstdn-bcn-users-media-"
        );
        assert_eq!(bucket_prefix("d-h", "Big_Files"), "d-h-big-files-");
        let long = bucket_prefix("a-very-long-district-name-and-heritage", "uploads");
        assert!(long.len() <= 37 && long.ends_with('-'), "{long}");
    }

    #[test]
    fn terraform_names() {
        assert_eq!(terraform_name("web"), "web");
        assert_eq!(terraform_name("sidekiq-push"), "sidekiq_push");
        assert_eq!(terraform_name("Public-Web"), "public_web");
        assert_eq!(terraform_name("1st-api"), "_1st_api");
        assert_eq!(listener_variable("1st-api"), "https_listener_arn_1st_api");
    }
}
