//! The input format: the types an instance file and a district file are read into.
//!
//! These types are the single source of the JSON Schemas in `schema/` (generated
//! with schemars, checked for freshness by a test) and of serde's reading of a
//! validated file. They hold what the user wrote, before defaults; `model`
//! resolves them. Doc comments here are the schema's descriptions.

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, schema_for};
use serde::{Deserialize, Serialize};

/// Names of heritages, services and endpoints (Barcelona's rule).
pub const NAME_PATTERN: &str = "^[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]$";

/// One application instance: Barcelona's `barcelona.yml`, extended by berth.
/// Top-level keys whose value carries a YAML anchor (`web_base: &web_base`)
/// are templates for merge keys and are allowed besides these.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "berth instance file")]
pub struct InstanceFile {
    /// Each environment becomes one heritage: an application stack named by its `name`.
    pub environments: IndexMap<String, Environment>,
    /// Stateful resources every environment gets its own copy of, in its data
    /// stack; an environment's own `resources` replace these.
    pub resources: Option<Resources>,
    /// Barcelona's review apps (`bcn review deploy`): one short-lived heritage per
    /// branch or pull request, deployed with `berth review deploy`.
    pub review: Option<Review>,
    /// Settings of the `bcnd` CI deployer: which branch deploys to which environment.
    /// berth does not read them; `bcnd` does.
    pub bcnd: Option<Bcnd>,
}

/// A review app definition, as `bcn review` reads it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// The review group the apps belong to (created with `bcn review group create`).
    #[schemars(regex(pattern = "^[a-z0-9_-]+$"))]
    pub group: String,
    /// The container image without tag; each review app gives its own tag.
    #[schemars(length(min = 1))]
    pub image_name: Option<String>,
    /// Environment variables of every container, in any of the three forms.
    pub environment: Option<EnvironmentVars>,
    /// The review app's services; one of them must be a `web` service.
    #[serde(default)]
    pub services: Vec<Service>,
}

/// The `bcnd` block: read by the `bcnd` CI deployer (degica/bcnd), not by berth.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bcnd {
    /// The branch whose pushes deploy to `mainline_environment` (bcnd's default `master`).
    #[schemars(length(min = 1))]
    pub mainline_branch: Option<String>,
    /// The environment mainline deploys go to (bcnd's default `staging`).
    #[schemars(length(min = 1))]
    pub mainline_environment: Option<String>,
    /// The branch whose pushes deploy to `stable_environment` (bcnd's default `production`).
    #[schemars(length(min = 1))]
    pub stable_branch: Option<String>,
    /// The environment stable deploys go to (bcnd's default `production`).
    #[schemars(length(min = 1))]
    pub stable_environment: Option<String>,
}

/// One environment of an instance, deployed as one heritage.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The heritage name: names the stacks, task families and log group. Unique in the fleet.
    #[schemars(regex(pattern = NAME_PATTERN), length(max = 32))]
    pub name: String,
    /// The container image without tag, e.g. `123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/mastodon`,
    /// or `{repository: <name>}`: one of the heritage's own `resources.repositories`.
    pub image_name: ImageName,
    /// The image tag; defaults to `latest` (with a note: a moving tag makes deploys unreviewable).
    #[schemars(length(min = 1, max = 128))]
    pub image_tag: Option<String>,
    /// A command run once as a one-off task before each deploy, e.g. `rake db:migrate`.
    pub before_deploy: Option<Command>,
    /// Environment variables of every container: a map of plain values, or a list of
    /// `{name, value | value_from | ssm_path}`.
    pub environment: Option<EnvironmentVars>,
    /// Tasks run on a schedule by `EventBridge`.
    #[serde(default)]
    pub scheduled_tasks: Vec<ScheduledTask>,
    /// Off-hours: at `off` the heritage's listener rules answer 503 with a
    /// maintenance page, its services scale to 0 and its database stops; at
    /// `on` all of it is undone, database first. `EventBridge` Scheduler runs it.
    pub schedule: Option<OffHours>,
    /// The long-running services of the heritage (none when absent).
    #[serde(default)]
    pub services: Vec<Service>,
    /// This environment's stateful resources, replacing the file's top-level `resources`.
    pub resources: Option<Resources>,
    /// Barcelona's deploy backend: `2` (the default since 2016) deploys with
    /// CloudFormation and ALB listeners, which is what berth deploys; `1` is accepted with a note.
    #[schemars(range(min = 1, max = 2))]
    pub version: Option<u8>,
    /// Settings of one-off commands (`bcn run`): `vars` are added to their environment.
    pub run_env: Option<RunEnv>,
    /// Dropped by Barcelona in 2017 (deploy notifications moved to the district); ignored, with a warning.
    pub slack_url: Option<String>,
    /// Dropped by Barcelona in 2016 (replaced by `environment`); ignored, with a warning.
    pub env_vars: Option<IndexMap<String, PlainValue>>,
}

/// The environment of one-off commands.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunEnv {
    /// Variables added to a one-off command's environment, over the heritage's.
    #[serde(default)]
    pub vars: IndexMap<String, PlainValue>,
}

/// Stateful resources of a heritage, kept in its data stack with deletion
/// policies that keep the data.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// A PostgreSQL or MySQL database on RDS.
    pub database: Option<Database>,
    /// A Redis cache on ElastiCache.
    pub cache: Option<Cache>,
    /// S3 buckets by name, e.g. `media`.
    #[serde(default)]
    pub buckets: IndexMap<String, Bucket>,
    /// ECR image repositories by name, e.g. `mastodon`.
    #[serde(default)]
    pub repositories: IndexMap<String, Repository>,
    /// Secrets berth has Secrets Manager generate once, by the variable every
    /// container reads them from, e.g. `SECRET_KEY_BASE: {length: 128, characters: hex}`.
    /// They are never rotated or replaced by a later build.
    #[serde(default)]
    pub secrets: IndexMap<String, GeneratedSecret>,
    /// Other names for the variables berth injects for these resources, by
    /// the injected name: `DB_HOST: DATABASE_HOST` renames one, `DB_PORT: false`
    /// leaves it out.
    #[serde(default)]
    pub env: IndexMap<String, InjectedName>,
}

/// What an injected variable is called: another name, or `false` for none.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum InjectedName {
    /// The variable's name in the containers.
    Name(String),
    /// `false`: the variable is left out (`true` is an error).
    Off(bool),
}

impl InjectedName {
    /// The name, or `None` when the variable is left out.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Name(name) => Some(name),
            Self::Off(_) => None,
        }
    }
}

/// A secret value Secrets Manager generates when the data stack is created.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeneratedSecret {
    /// Characters, 16-4096 (default 64). Changing it later makes CloudFormation generate a new value.
    #[schemars(range(min = 16, max = 4096))]
    pub length: Option<u32>,
    /// `alphanumeric` (the default), `hex` (0-9 and a-f) or `printable`
    /// (letters, digits and punctuation, without quotes, backquotes and backslashes).
    pub characters: Option<SecretCharacters>,
    /// Terraform only: `false` lets a plan destroy or replace it (the
    /// Terraform configuration writes `lifecycle.prevent_destroy = false`);
    /// default true, which fails such a plan. CloudFormation keeps its
    /// `DeletionPolicy` either way.
    pub prevent_destroy: Option<bool>,
}

/// The characters a generated secret is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecretCharacters {
    Alphanumeric,
    Hex,
    Printable,
}

/// An RDS database instance. Its master password is generated and kept by
/// RDS in Secrets Manager; no password is ever written in a file.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// `postgres` or `mysql`.
    pub engine: DatabaseEngine,
    /// The engine version (default `17.7` for PostgreSQL, `8.4.7` for MySQL).
    #[schemars(regex(pattern = "^[0-9]+(\\.[0-9]+)*$"))]
    pub version: Option<String>,
    /// The instance class, e.g. `db.t4g.micro`.
    #[schemars(regex(pattern = "^db\\.[a-z0-9]+\\.[a-z0-9]+$"))]
    pub instance_class: String,
    /// Storage in GiB (default 20).
    #[schemars(range(min = 20, max = 65536))]
    pub storage: Option<u32>,
    /// The database the application uses (`DB_NAME`); changing it replaces the database.
    #[schemars(regex(pattern = "^[A-Za-z][A-Za-z0-9_]*$"), length(max = 63))]
    pub name: String,
    /// The master user name (`DB_USER`); changing it replaces the database.
    #[schemars(regex(pattern = "^[A-Za-z][A-Za-z0-9_]*$"), length(max = 16))]
    pub user: String,
    /// Days of automated backups, 1-35 (default 7).
    #[schemars(range(min = 1, max = 35))]
    pub backup_retention_days: Option<u32>,
    /// A standby in a second availability zone (default false).
    pub multi_az: Option<bool>,
    /// Refuse deletion of the database (default true).
    pub deletion_protection: Option<bool>,
    /// Terraform only: `false` lets a plan destroy or replace it (the
    /// Terraform configuration writes `lifecycle.prevent_destroy = false`);
    /// default true, which fails such a plan. CloudFormation keeps its
    /// `DeletionPolicy` either way.
    pub prevent_destroy: Option<bool>,
}

/// The engine of a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseEngine {
    Postgres,
    Mysql,
}

/// A Redis replication group on ElastiCache, encrypted in transit and at rest.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// The node type, e.g. `cache.t4g.micro`.
    #[schemars(regex(pattern = "^cache\\.[a-z0-9]+\\.[a-z0-9]+$"))]
    pub node_type: String,
    /// The Redis version (default `7.1`).
    #[schemars(regex(pattern = "^[0-9]+(\\.[0-9]+)*$"))]
    pub version: Option<String>,
    /// Nodes, 1-6 (default 1); more than one enables automatic failover.
    #[schemars(range(min = 1, max = 6))]
    pub nodes: Option<u32>,
    /// Terraform only: `false` lets a plan destroy or replace it (the
    /// Terraform configuration writes `lifecycle.prevent_destroy = false`);
    /// default true, which fails such a plan. CloudFormation keeps its
    /// `DeletionPolicy` either way.
    pub prevent_destroy: Option<bool>,
}

/// An S3 bucket: private, versioned and encrypted unless said otherwise.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// A fixed bucket name; by default CloudFormation picks a unique one. Changing it replaces the bucket.
    #[schemars(regex(pattern = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub name: Option<String>,
    /// Key prefixes anyone may read, e.g. `[media/]`; everything else stays private.
    #[serde(default)]
    pub public_read: Vec<String>,
    /// Keep old versions of objects (default true).
    pub versioning: Option<bool>,
    /// Terraform only: `false` lets a plan destroy or replace it (the
    /// Terraform configuration writes `lifecycle.prevent_destroy = false`);
    /// default true, which fails such a plan. CloudFormation keeps its
    /// `DeletionPolicy` either way.
    pub prevent_destroy: Option<bool>,
    /// Write S3 server access logs of the bucket to another bucket you own (off by default).
    pub access_logs: Option<BucketAccessLogs>,
    /// Serve the `public_read` prefixes through a `CloudFront` distribution
    /// instead of from S3: the bucket stays private and only the distribution
    /// may read those prefixes (origin access control).
    pub cdn: Option<BucketCdn>,
}

/// A `CloudFront` distribution in front of a bucket's public prefixes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketCdn {
    /// The host names the distribution answers to, e.g. `[files.example.com]`;
    /// the first is given to the containers as `S3_ALIAS_HOST`.
    #[schemars(length(min = 1, max = 100))]
    pub aliases: Vec<String>,
    /// An ACM certificate in `us-east-1` (`CloudFront` reads no other region)
    /// that covers every alias.
    #[schemars(regex(
        pattern = "^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$"
    ))]
    pub certificate_arn: String,
}

/// Where S3 writes a bucket's server access logs.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketAccessLogs {
    /// An existing bucket in the same region and account whose policy lets the S3
    /// logging service (`logging.s3.amazonaws.com`) write to it, e.g. `mstdn-s3-logs`.
    #[schemars(regex(pattern = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub bucket: String,
    /// The key prefix of the logs, without a leading or trailing `/`; berth adds the
    /// trailing `/` (default: `<district>/<heritage>/<bucket>`).
    #[schemars(regex(pattern = "^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$"))]
    pub prefix: Option<String>,
}

/// An ECR repository for the instance's images.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Repository {
    /// Days after which untagged images are deleted (default 14).
    #[schemars(range(min = 1, max = 3650))]
    pub untagged_expire_days: Option<u32>,
    /// Let a pushed tag be moved to another image (default `false`: tags are
    /// immutable, so a reviewed `image_tag` always names the same image).
    pub mutable_tags: Option<bool>,
    /// Terraform only: `false` lets a plan destroy or replace it (the
    /// Terraform configuration writes `lifecycle.prevent_destroy = false`);
    /// default true, which fails such a plan. CloudFormation keeps its
    /// `DeletionPolicy` either way.
    pub prevent_destroy: Option<bool>,
}

/// Where a heritage's image comes from.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ImageName {
    /// An image name without tag.
    Name(#[schemars(length(min = 1))] String),
    /// A repository the heritage declares under `resources.repositories`.
    Repository(RepositoryImage),
}

/// An image from one of the heritage's declared ECR repositories.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryImage {
    /// The repository's name under `resources.repositories`, e.g. `mastodon`.
    #[schemars(length(min = 1))]
    pub repository: String,
}

/// A command: a string (split like a shell would, or run by `sh -c` when it
/// uses shell syntax) or a list of arguments kept as is.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Command {
    /// A command line, e.g. `bundle exec rails s -p 3000`.
    Line(#[schemars(length(min = 1))] String),
    /// An argument list, e.g. `["bundle", "exec", "rails", "s"]`.
    Args(#[schemars(length(min = 1))] Vec<String>),
}

/// Environment variables: a map (`NAME: value`, or `bcn`'s `NAME: {value | value_from | ssm_path}`)
/// or a list of `{name, value | value_from | ssm_path}`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvironmentVars {
    /// `NAME: value` pairs, or `NAME: {value | value_from | ssm_path}` as `bcn` writes them.
    Map(IndexMap<String, MapValue>),
    /// Entries with a plain value or a reference to a secret.
    List(Vec<EnvironmentEntry>),
}

/// One variable however it was written, with where its parts are (JSON
/// pointer segments below `environment`).
#[derive(Debug, Clone)]
pub struct VariableRef<'a> {
    pub name: &'a str,
    pub value: Option<&'a PlainValue>,
    pub value_from: Option<&'a str>,
    pub ssm_path: Option<&'a str>,
    pub name_at: Vec<String>,
    pub value_at: Vec<String>,
}

impl EnvironmentVars {
    /// Every variable, in the order written.
    #[must_use]
    pub fn variables(&self) -> Vec<VariableRef<'_>> {
        match self {
            Self::Map(map) => map
                .iter()
                .map(|(name, value)| match value {
                    MapValue::Plain(plain) => VariableRef {
                        name,
                        value: Some(plain),
                        value_from: None,
                        ssm_path: None,
                        name_at: vec![name.clone()],
                        value_at: vec![name.clone()],
                    },
                    MapValue::Entry(source) => VariableRef {
                        name,
                        value: source.value.as_ref(),
                        value_from: source.value_from.as_deref(),
                        ssm_path: source.ssm_path.as_deref(),
                        name_at: vec![name.clone()],
                        value_at: vec![name.clone(), "value".to_owned()],
                    },
                })
                .collect(),
            Self::List(list) => list
                .iter()
                .enumerate()
                .map(|(i, entry)| VariableRef {
                    name: &entry.name,
                    value: entry.value.as_ref(),
                    value_from: entry.value_from.as_deref(),
                    ssm_path: entry.ssm_path.as_deref(),
                    name_at: vec![i.to_string(), "name".to_owned()],
                    value_at: vec![i.to_string(), "value".to_owned()],
                })
                .collect(),
        }
    }
}

/// One value of the map form: plain, or `bcn`'s `{value | value_from | ssm_path}`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum MapValue {
    /// A plain value.
    Plain(PlainValue),
    /// Exactly one of `value`, `value_from`, `ssm_path`.
    Entry(EnvironmentSource),
}

/// Where a variable of `bcn`'s map form comes from: exactly one of the three.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSource {
    /// A plain value, written into the task definition.
    pub value: Option<PlainValue>,
    /// An SSM parameter name or ARN, or a Secrets Manager secret ARN, read by ECS at start.
    #[schemars(length(min = 1))]
    pub value_from: Option<String>,
    /// A path under the district's Barcelona parameter prefix `/barcelona/<district>/`.
    #[schemars(regex(pattern = "^[A-Za-z0-9_.\\-/]+$"))]
    pub ssm_path: Option<String>,
}

/// A plain environment value; numbers and booleans are written as text.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PlainValue {
    Text(String),
    Number(serde_json::Number),
    Bool(bool),
}

/// One environment variable: exactly one of `value`, `value_from`, `ssm_path`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentEntry {
    /// The variable name.
    #[schemars(regex(pattern = "^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub name: String,
    /// A plain value, written into the task definition.
    pub value: Option<PlainValue>,
    /// An SSM parameter name or ARN, or a Secrets Manager secret ARN, read by ECS at start.
    #[schemars(length(min = 1))]
    pub value_from: Option<String>,
    /// A path under the district's Barcelona parameter prefix `/barcelona/<district>/`.
    #[schemars(regex(pattern = "^[A-Za-z0-9_.\\-/]+$"))]
    pub ssm_path: Option<String>,
}

/// A task run on a schedule.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduledTask {
    /// An `EventBridge` schedule expression: `cron(min hour day-of-month month day-of-week year)` or `rate(n unit)`.
    #[schemars(regex(pattern = "^(cron|rate)\\(.*\\)$"))]
    pub schedule: String,
    /// The command the task runs.
    pub command: Command,
    /// A task definition (family, or `family:revision`) to run instead of the heritage's own;
    /// the command overrides its container named like the family, as Barcelona does.
    #[schemars(regex(pattern = "^[A-Za-z0-9_-]{1,255}(:[0-9]+)?$"))]
    pub external_task_def: Option<String>,
}

/// When a heritage is switched off and on again (`EventBridge` Scheduler cron
/// expressions, read in `timezone`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OffHours {
    /// When to switch off: `cron(minute hour day-of-month month day-of-week year)`
    /// with one minute and one hour, e.g. `cron(0 1 * * ? *)`.
    #[schemars(regex(pattern = "^cron\\(.*\\)$"))]
    pub off: String,
    /// When to switch on again, in the same form, e.g. `cron(0 7 * * ? *)`.
    #[schemars(regex(pattern = "^cron\\(.*\\)$"))]
    pub on: String,
    /// The IANA time zone both are read in, e.g. `Asia/Tokyo` (default `UTC`).
    #[schemars(length(min = 1))]
    pub timezone: Option<String>,
    /// The maintenance page shown while off: a file, relative to this file's
    /// folder and inside `instances/`, of at most 1024 characters (default:
    /// berth's own short page).
    #[schemars(length(min = 1))]
    pub page: Option<String>,
}

/// A long-running ECS service.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The service name, unique in its heritage.
    #[schemars(regex(pattern = NAME_PATTERN), length(max = 32))]
    pub name: String,
    /// `web` services receive traffic from load balancer listeners; `default` ones do not.
    pub service_type: Option<ServiceType>,
    /// Redirect HTTP to HTTPS (berth's default); `false` serves the service's listeners over HTTP too, as Barcelona did.
    pub force_ssl: Option<bool>,
    /// CPU units reserved for the container (1024 = one vCPU); no reservation when absent, as in Barcelona.
    #[schemars(range(min = 1, max = 16384))]
    pub cpu: Option<u32>,
    /// Memory in MiB (default 512, Barcelona's); the container is stopped when it uses more.
    #[schemars(range(min = 6, max = 122_880))]
    pub memory: Option<u32>,
    /// The command the container runs; the image's default command when absent.
    pub command: Option<Command>,
    /// Variables of this service's container only, in the heritage's three forms;
    /// a name set here wins over the heritage's and over an injected plain value.
    pub environment: Option<EnvironmentVars>,
    /// The port the web container listens on (default 3000).
    #[schemars(range(min = 1, max = 65535))]
    pub web_container_port: Option<u16>,
    /// Run the container with a read-only root file system (default `false`). An app
    /// that writes under its image's paths (Rails' `tmp/`, caches) fails with it.
    pub read_only_root_filesystem: Option<bool>,
    /// How many tasks run (default 1).
    #[schemars(range(max = 1000))]
    pub desired_count: Option<u32>,
    /// `EC2` (default) runs on the district's cluster hosts; `FARGATE` on AWS-managed capacity.
    pub launch_type: Option<LaunchType>,
    /// `on-demand` (default) or `spot`: a Fargate service on Fargate Spot, whose tasks
    /// AWS may stop with two minutes' notice when it needs the capacity back.
    pub capacity: Option<Capacity>,
    /// Load balancer listeners routing traffic to a `web` service.
    #[serde(default)]
    pub listeners: Vec<Listener>,
    /// Scale the running count with CPU load between `min` and `max`.
    pub autoscaling: Option<Autoscaling>,
    /// Whether the network load balancer of `port_mappings` is internet-facing (default false: internal, as in Barcelona).
    pub public: Option<bool>,
    /// Ports served through a network load balancer of the service's own, one listener per mapping.
    #[serde(default)]
    pub port_mappings: Vec<PortMapping>,
    /// The health check of the `port_mappings` load balancer's targets.
    pub health_check: Option<PortHealthCheck>,
    /// Barcelona's reverse-proxy host names; berth routes hosts with listener rules instead (warning).
    #[serde(default)]
    pub hosts: Vec<ProxyHost>,
    /// Barcelona's reverse-proxy image; berth runs no reverse proxy (warning).
    #[schemars(length(min = 1))]
    pub reverse_proxy_image: Option<String>,
}

/// One port of a service on its network load balancer.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortMapping {
    /// The load balancer's port; defaults to 80 for `http` and 443 for `https`.
    #[schemars(range(min = 1, max = 65535))]
    pub lb_port: Option<u16>,
    /// The host port Barcelona fixed for Classic ELBs; berth's targets use dynamic host ports, so it is ignored (note).
    #[schemars(range(min = 1024, max = 65535))]
    pub host_port: Option<u16>,
    /// The container's port.
    #[schemars(range(min = 1, max = 65535))]
    pub container_port: u16,
    /// `tcp` (default), `udp`, `http` or `https`; `http` and `https` are TCP at the load
    /// balancer with the proxy protocol on, as Barcelona's reverse proxy expected.
    pub protocol: Option<PortProtocol>,
    /// Send the proxy protocol v2 header to the container (default false; always on for `http` and `https`).
    pub enable_proxy_protocol: Option<bool>,
}

/// The protocol of a port mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortProtocol {
    Tcp,
    Udp,
    Http,
    Https,
}

/// The target health check of a `port_mappings` load balancer.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortHealthCheck {
    /// `tcp`, the only protocol Barcelona accepts.
    pub protocol: Option<HealthCheckProtocol>,
    /// The container port to check (default: the first mapping's).
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
}

/// The protocol of a `port_mappings` health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthCheckProtocol {
    Tcp,
}

/// A host of Barcelona's reverse proxy (with its certificate in S3).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyHost {
    /// The host name.
    pub hostname: String,
    /// `s3://` URL of the certificate.
    pub ssl_cert_path: Option<String>,
    /// `s3://` URL of the private key.
    pub ssl_key_path: Option<String>,
}

/// Target-tracking autoscaling of a service on its average CPU.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    /// The fewest tasks.
    #[schemars(range(min = 1, max = 1000))]
    pub min: u32,
    /// The most tasks.
    #[schemars(range(min = 1, max = 1000))]
    pub max: u32,
    /// The average CPU utilization to keep, in percent (default 60).
    #[schemars(range(min = 10, max = 90))]
    pub cpu_target: Option<u32>,
}

/// The kind of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    Web,
    Default,
}

/// Where a service's tasks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LaunchType {
    Ec2,
    Fargate,
}

/// What kind of capacity a service's tasks run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Capacity {
    OnDemand,
    Spot,
}

/// A listener rule on one of the district's endpoints, with its target group.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// The endpoint (load balancer) of the district, by name.
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub endpoint: String,
    /// The path the load balancer requests to check health (default `/`).
    #[schemars(regex(pattern = "^/"), length(max = 1024))]
    pub health_check_path: Option<String>,
    /// Seconds between health checks (default 10).
    #[schemars(range(min = 5, max = 300))]
    pub health_check_interval: Option<u32>,
    /// Seconds without a response that fail a check (default 5); less than the interval.
    #[schemars(range(min = 2, max = 120))]
    pub health_check_timeout: Option<u32>,
    /// HTTP codes that count as healthy, e.g. `200`, `200,301` or `200-399` (default `200-399`).
    #[schemars(regex(pattern = "^[0-9]{3}(-[0-9]{3})?(,[0-9]{3}(-[0-9]{3})?)*$"))]
    pub health_check_matcher: Option<String>,
    /// Consecutive successes before a target is healthy (default 2).
    #[schemars(range(min = 2, max = 10))]
    pub healthy_threshold: Option<u32>,
    /// Consecutive failures before a target is unhealthy (default 3).
    #[schemars(range(min = 2, max = 10))]
    pub unhealthy_threshold: Option<u32>,
    /// `bcn`'s name of `healthy_threshold`.
    #[schemars(range(min = 2, max = 10))]
    pub healthy_threshold_count: Option<u32>,
    /// `bcn`'s name of `unhealthy_threshold`.
    #[schemars(range(min = 2, max = 10))]
    pub unhealthy_threshold_count: Option<u32>,
    /// Conditions of the listener rule.
    #[serde(default)]
    pub rule_conditions: Vec<RuleCondition>,
    /// Host names the rule matches (a `host-header` condition).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// The rule's priority on the endpoint's listener, 1-50000 (lower is evaluated first);
    /// assigned from the rule's names when absent.
    #[schemars(range(min = 1, max = 50000))]
    pub rule_priority: Option<u32>,
    /// An ACM certificate of the instance's own domain, in the endpoint's region:
    /// added to the HTTPS listener of its load balancer (SNI), besides the endpoint's.
    #[schemars(regex(
        pattern = "^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$"
    ))]
    pub certificate_arn: Option<String>,
}

/// One condition of a listener rule.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleCondition {
    /// `path-pattern` or `host-header`.
    #[serde(rename = "type")]
    pub kind: ConditionType,
    /// The pattern: a path starting with `/`, or a host name; `*` and `?` are wildcards.
    #[schemars(length(min = 1, max = 128))]
    pub value: String,
}

/// The kind of a rule condition.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ConditionType {
    PathPattern,
    HostHeader,
}

/// A district: one VPC and one ECS cluster in one region.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "berth district file")]
pub struct DistrictFile {
    /// The AWS region, e.g. `ap-northeast-1`.
    #[schemars(regex(pattern = "^[a-z]{2}(-gov)?-[a-z]+-[0-9]$"))]
    pub region: String,
    /// The VPC.
    pub network: Network,
    /// The ECS cluster's container hosts.
    pub cluster: Cluster,
    /// Named load balancers, each with an HTTPS listener.
    #[serde(default)]
    pub endpoints: IndexMap<String, Endpoint>,
    /// Which artifacts to build for the district and its heritages: `cloudformation`, `terraform`, or both (the default).
    #[schemars(length(min = 1), extend("uniqueItems" = true))]
    pub targets: Option<Vec<Target>>,
    /// AWS quotas the district's account has had raised above their defaults.
    pub quotas: Option<Quotas>,
    /// The AWS account the district belongs to (12 digits): `berth apply` refuses
    /// credentials of another account, and every stack fails to deploy elsewhere.
    #[schemars(regex(pattern = "^[0-9]{12}$"))]
    pub account_id: Option<String>,
    /// Review groups, by the name an instance's `review.group` gives: Barcelona
    /// keeps them in its database (`bcn review group create`, an endpoint and a
    /// `base_domain`); berth has no database, so the district names them.
    #[serde(default)]
    pub review_groups: IndexMap<String, ReviewGroup>,
    /// Usage assumptions of `berth cost` and the diff's cost change: the
    /// monthly usage of usage-based charges (default: none, so they are
    /// listed with their unit price and not counted).
    pub cost: Option<CostAssumptions>,
    /// A public Route 53 hosted zone berth adds alias records to, or a list
    /// of them: every listener host and `CloudFront` alias in one gets a
    /// record there (in the longest zone that holds it). berth does not
    /// create the zones.
    pub dns: Option<DnsZones>,
}

/// One hosted zone, or several.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum DnsZones {
    One(Dns),
    Many(#[schemars(length(min = 1, max = 100))] Vec<Dns>),
}

impl DnsZones {
    /// Each zone with the JSON pointer of its entry in the district file.
    #[must_use]
    pub fn zones(&self) -> Vec<(String, &Dns)> {
        match self {
            Self::One(zone) => vec![("/dns".to_owned(), zone)],
            Self::Many(zones) => zones
                .iter()
                .enumerate()
                .map(|(i, zone)| (format!("/dns/{i}"), zone))
                .collect(),
        }
    }
}

/// A Route 53 hosted zone that exists already (the registrar points at it).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// The zone's domain name, e.g. `example.com` (a trailing dot is the same name).
    #[schemars(length(min = 1, max = 1024))]
    pub zone: String,
    /// The hosted zone's id, e.g. `Z0123456789ABCDEFGHIJ` (`aws route53 list-hosted-zones-by-name`).
    #[schemars(length(min = 1, max = 32))]
    pub zone_id: String,
}

/// How much a district uses of what AWS bills by use, a month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostAssumptions {
    /// GB processed by each NAT gateway a month.
    #[schemars(range(min = 0))]
    pub nat_gb_per_month: Option<f64>,
    /// Average load balancer capacity units (LCU) of each load balancer.
    #[schemars(range(min = 0))]
    pub load_balancer_lcus: Option<f64>,
    /// GB of logs each log group ingests a month.
    #[schemars(range(min = 0))]
    pub log_gb_per_month: Option<f64>,
    /// GB each S3 bucket stores.
    #[schemars(range(min = 0))]
    pub bucket_gb: Option<f64>,
}

/// A review group: where its review apps are reachable (Barcelona's
/// `ReviewGroup`, degica/barcelona `app/models/review_group.rb`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewGroup {
    /// The district endpoint whose listener gets each review app's rule.
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub endpoint: String,
    /// The base domain: review app `<name>` answers on `<name>.<domain>`
    /// (Barcelona's `base_domain`; point a wildcard record at the endpoint).
    #[schemars(regex(pattern = "^[a-z0-9]+([-.][a-z0-9]+)*\\.[a-z]{2,}$"))]
    pub domain: String,
}

/// Adjustable AWS quotas, where the account's are higher than AWS's defaults.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    /// Rules per Application Load Balancer, default rules not counted (AWS's default 100).
    #[schemars(range(min = 1, max = 10000))]
    pub rules_per_load_balancer: Option<u32>,
    /// Certificates per Application Load Balancer, default certificates not counted (AWS's default 25).
    #[schemars(range(min = 1, max = 10000))]
    pub certificates_per_load_balancer: Option<u32>,
    /// Application Load Balancers per region (AWS's default 50).
    #[schemars(range(min = 1, max = 10000))]
    pub load_balancers_per_region: Option<u32>,
    /// Target groups per region, of Application and Network Load Balancers (AWS's default 3,000).
    #[schemars(range(min = 1, max = 100_000))]
    pub target_groups_per_region: Option<u32>,
    /// Services per ECS cluster (AWS's default 5,000).
    #[schemars(range(min = 1, max = 100_000))]
    pub services_per_cluster: Option<u32>,
}

/// A kind of infrastructure-as-code artifact berth writes: `cloudformation` or `terraform`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Cloudformation,
    Terraform,
}

/// The district's VPC.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The VPC's IPv4 range, `/16` to `/24`, e.g. `10.1.0.0/16`.
    #[schemars(regex(pattern = "^([0-9]{1,3}\\.){3}[0-9]{1,3}/(1[6-9]|2[0-4])$"))]
    pub cidr: String,
    /// How many availability zones get a public and a private subnet (default 2).
    #[schemars(range(min = 2, max = 4))]
    pub availability_zones: Option<u8>,
    /// Outbound internet for the container hosts: through one managed NAT `gateway`
    /// (default) or one `per_az` from private subnets, or `none`: the hosts run in the
    /// public subnets with a public IPv4 address each, and no NAT is created.
    pub nat: Option<NatKind>,
    /// Extra TCP ports the private subnets may reach outside, e.g. `587` for SMTP.
    #[serde(default)]
    pub egress_ports: Vec<u16>,
    /// Write VPC flow logs (all traffic) to an S3 bucket you own (off by default).
    pub flow_logs: Option<FlowLogs>,
}

/// Where EC2 delivers the VPC's flow logs.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowLogs {
    /// An existing bucket whose policy lets the log delivery service
    /// (`delivery.logs.amazonaws.com`) write to it, e.g. `mstdn-flow-logs`.
    #[schemars(regex(pattern = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub bucket: String,
    /// A folder in the bucket, without a leading or trailing `/` (default: none; AWS
    /// writes under `AWSLogs/<account>/vpcflowlogs/` in it).
    #[schemars(regex(pattern = "^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$"))]
    pub prefix: Option<String>,
}

/// The kind of NAT of a district.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NatKind {
    Gateway,
    PerAz,
    None,
}

/// The container hosts of the district's cluster.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// The EC2 instance type, e.g. `t3.small`.
    #[schemars(regex(pattern = "^[a-z][a-z0-9-]*\\.[a-z0-9]+$"))]
    pub instance_type: String,
    /// How many hosts run normally.
    #[schemars(range(min = 1, max = 100))]
    pub size: u32,
    /// The most hosts managed scaling may start (default `size`).
    #[schemars(range(min = 1, max = 100))]
    pub max_size: Option<u32>,
    /// Percent of hosts above the on-demand base run as spot instances (default 0).
    #[schemars(range(min = 0, max = 100))]
    pub spot_share: Option<u8>,
    /// How many hosts always run on demand before `spot_share` applies
    /// (default 1); `0` with `spot_share: 100` puts every host on spot.
    #[schemars(range(min = 0, max = 100))]
    pub on_demand_base: Option<u32>,
    /// How many of the network's availability zones the hosts run in, from the
    /// first (default: all of them); the load balancers keep every zone's subnet.
    #[schemars(range(min = 1, max = 4))]
    pub availability_zones: Option<u8>,
    /// When the hosts go to none and come back (off by default): every
    /// heritage on them must be off from before the hosts' `off` until after
    /// their `on`, on the same days, in the same time zone.
    pub schedule: Option<HostHours>,
}

/// When a district's container hosts are switched off and on again
/// (`EventBridge` Scheduler cron expressions, read in `timezone`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostHours {
    /// When the hosts may go: `cron(minute hour day-of-month month day-of-week year)`
    /// with one minute and one hour, e.g. `cron(15 1 * * ? *)`.
    #[schemars(regex(pattern = "^cron\\(.*\\)$"))]
    pub off: String,
    /// When the hosts come back, in the same form, e.g. `cron(55 6 * * ? *)`.
    #[schemars(regex(pattern = "^cron\\(.*\\)$"))]
    pub on: String,
    /// The IANA time zone both are read in, e.g. `Asia/Tokyo` (default `UTC`).
    #[schemars(length(min = 1))]
    pub timezone: Option<String>,
}

/// A load balancer of the district.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// The ACM certificate of the HTTPS listener.
    #[schemars(regex(
        pattern = "^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$"
    ))]
    pub certificate_arn: String,
    /// Internet-facing (default) or internal.
    pub public: Option<bool>,
    /// The TLS policy of the HTTPS listener (default `ELBSecurityPolicy-TLS13-1-2-2021-06`).
    #[schemars(regex(pattern = "^ELBSecurityPolicy-[A-Za-z0-9-]+$"))]
    pub ssl_policy: Option<String>,
    /// How many Application Load Balancers the endpoint is (default 1). Each
    /// heritage routed through it is placed on one of them by a hash of its
    /// name, so adding or removing heritages never moves another; raising the
    /// count moves about one heritage in (count) to the new load balancers.
    #[schemars(range(min = 1, max = 50))]
    pub load_balancers: Option<u32>,
    /// Write the load balancers' access logs to an S3 bucket you own (off by default).
    pub access_logs: Option<AccessLogs>,
    /// A regional AWS WAF web ACL of the district's region for every load balancer of the endpoint (off by default), e.g. `arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>`.
    #[schemars(regex(
        pattern = "^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/[A-Za-z0-9_-]{1,128}/[A-Za-z0-9-]{1,128}$"
    ))]
    pub web_acl_arn: Option<String>,
    /// A `CloudFront` distribution in front of the endpoint (off by default):
    /// `cached_paths` are cached, everything else passes through uncached with
    /// every method, header, cookie and query string.
    pub cdn: Option<EndpointCdn>,
}

/// A `CloudFront` distribution in front of an endpoint's load balancer.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointCdn {
    /// The host names the distribution answers to; the load balancer's
    /// certificate must cover them too (`CloudFront` forwards the viewer's
    /// `Host` and checks the origin's certificate against it).
    #[schemars(length(min = 1, max = 100))]
    pub aliases: Vec<String>,
    /// An ACM certificate in `us-east-1` (`CloudFront` reads no other region)
    /// that covers every alias.
    #[schemars(regex(
        pattern = "^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$"
    ))]
    pub certificate_arn: String,
    /// Path patterns cached at the edge, in order, e.g. `[/assets/*, /packs/*]` (default none).
    #[serde(default)]
    #[schemars(length(max = 24))]
    pub cached_paths: Vec<String>,
}

/// Where Elastic Load Balancing writes an endpoint's access logs.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessLogs {
    /// An existing bucket in the district's region whose policy lets Elastic Load
    /// Balancing write to it, e.g. `mstdn-alb-logs`.
    #[schemars(regex(pattern = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub bucket: String,
    /// The key prefix of the logs, without a leading or trailing `/` (default: the district's name).
    #[schemars(regex(pattern = "^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$"))]
    pub prefix: Option<String>,
}

/// Which input file a schema is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    Instance,
    District,
}

/// The JSON Schema (2020-12) of an input file as berth validates it: after
/// keys without a value have been taken out of an instance file, and with
/// YAML 1.1 booleans read (with a note) where this schema says boolean.
#[must_use]
pub fn validation_schema(kind: SchemaKind) -> serde_json::Value {
    let schema: Schema = match kind {
        SchemaKind::Instance => schema_for!(InstanceFile),
        SchemaKind::District => schema_for!(DistrictFile),
    };
    let mut value = schema.to_value();
    strip_null(&mut value);
    value
}

/// The JSON Schema (2020-12) of an input file as written to `schema/`, for
/// editors, which read YAML 1.2: it accepts what berth accepts. In instance
/// files an optional key may be left empty (`null`, which berth reads as
/// absent) and a boolean may be written `yes`/`no`/`on`/`off`/`y`/`n` in any
/// case (which berth reads as `bcn` does, with a note).
///
/// Three more changes are for editors only, berth's own checks keep their
/// rules: an instance file's top level accepts any other key (a template
/// holder, `web_base: &web_base`, which berth tells by its anchor and a
/// JSON Schema cannot see); each description is also given as
/// `markdownDescription`, which yaml-language-server renders as Markdown
/// (it escapes the backticks of a plain `description`), with the lines of
/// a wrapped doc comment joined; and an unknown key's message lists the
/// keys allowed there.
#[must_use]
pub fn json_schema(kind: SchemaKind) -> serde_json::Value {
    let mut value = validation_schema(kind);
    if kind == SchemaKind::Instance {
        allow_yaml11(&mut value);
    }
    if kind == SchemaKind::Instance
        && let Some(object) = value.as_object_mut()
    {
        object.insert(
            "additionalProperties".into(),
            serde_json::json!({"description": TEMPLATE_HOLDER}),
        );
    }
    list_valid_keys(&mut value);
    markdown_descriptions(&mut value);
    value
}

/// What an editor shows on a top-level key berth does not define.
const TEMPLATE_HOLDER: &str = "A template holder: a top-level key whose value carries a YAML anchor \
(`web_base: &web_base`), merged elsewhere with `<<: *web_base`. berth reports any other \
key here as unknown; editors cannot see anchors and accept it.";

/// Moves `additionalProperties: false` of each object schema into an
/// `allOf` branch of its own, whose `errorMessage` (a keyword of
/// yaml-language-server and VS Code) names the valid keys: a message set
/// on the object itself would replace its other messages too (`Missing
/// property`).
fn list_valid_keys(value: &mut serde_json::Value) {
    use serde_json::{Map, Value, json};
    match value {
        Value::Object(object) => {
            object.values_mut().for_each(list_valid_keys);
            if object.get("additionalProperties") != Some(&Value::Bool(false)) {
                return;
            }
            let Some(Value::Object(properties)) = object.get("properties") else {
                return;
            };
            let keys: Vec<&String> = properties.keys().collect();
            let listed = keys
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let known: Map<String, Value> = keys
                .iter()
                .map(|k| ((*k).clone(), Value::Bool(true)))
                .collect();
            object.remove("additionalProperties");
            object.insert(
                "allOf".into(),
                json!([{
                    "properties": known,
                    "additionalProperties": false,
                    "errorMessage": format!("Not a key berth knows here. Valid keys: {listed}.")
                }]),
            );
        }
        Value::Array(items) => items.iter_mut().for_each(list_valid_keys),
        _ => {}
    }
}

/// Joins the lines of each wrapped description (keeping blank-line
/// paragraphs) and gives it as `markdownDescription` too.
fn markdown_descriptions(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(object) => {
            object.values_mut().for_each(markdown_descriptions);
            if let Some(Value::String(text)) = object.get("description") {
                let joined = text
                    .split("\n\n")
                    .map(|p| p.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
                    .collect::<Vec<_>>()
                    .join("\n\n");
                object.insert("description".into(), Value::String(joined.clone()));
                object.insert("markdownDescription".into(), Value::String(joined));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(markdown_descriptions),
        _ => {}
    }
}

/// The YAML 1.1 spellings of booleans, any case, as `bcn`'s YAML library reads them.
const YAML11_BOOLEAN: &str = "^([Yy]([Ee][Ss])?|[Nn]([Oo])?|[Oo]([Nn]|[Ff][Ff]))$";

fn allow_yaml11(value: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let Value::Object(object) = value else {
        if let Value::Array(items) = value {
            items.iter_mut().for_each(allow_yaml11);
        }
        return;
    };
    object.values_mut().for_each(allow_yaml11);
    if object.get("type").and_then(Value::as_str) == Some("boolean") {
        object.remove("type");
        object.insert(
            "anyOf".into(),
            json!([{"type": "boolean"}, {"type": "string", "pattern": YAML11_BOOLEAN}]),
        );
    }
    let required: Vec<String> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let or_null = |schema: &mut serde_json::Map<String, Value>| {
        let description = schema.remove("description");
        let inner = Value::Object(std::mem::take(schema));
        if let Some(description) = description {
            schema.insert("description".into(), description);
        }
        schema.insert("anyOf".into(), json!([inner, {"type": "null"}]));
    };
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            if let Value::Object(schema) = property
                && !required.contains(name)
            {
                or_null(schema);
            }
        }
    }
    // The values of maps (`environments`, `buckets`, `environment`): an
    // empty one is left out too.
    if let Some(Value::Object(schema)) = object.get_mut("additionalProperties") {
        or_null(schema);
    }
}

/// berth validates instance files after taking out keys without a value,
/// and district files need no `null`; schemars allows `null` for every
/// `Option`: take it out.
fn strip_null(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(object) => {
            if let Some(Value::Array(types)) = object.get_mut("type") {
                types.retain(|t| t != "null");
                if let [single] = types.as_slice() {
                    let single = single.clone();
                    object.insert("type".into(), single);
                }
            }
            if let Some(Value::Array(branches)) = object.get_mut("anyOf") {
                branches.retain(|b| b.get("type").is_none_or(|t| t != "null"));
                if let [single] = branches.as_slice() {
                    let single = single.clone();
                    object.remove("anyOf");
                    if let Value::Object(branch) = single {
                        for (k, v) in branch {
                            object.entry(k).or_insert(v);
                        }
                    }
                }
            }
            object.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}
