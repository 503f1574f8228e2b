//! Model: the typed, resolved fleet that every later stage works from.
//!
//! Defaults are applied here (each one documented in the README), images get
//! their tag, commands become argument lists, secret references become full
//! parameter names, and listener rules get their priorities. Rules that need
//! resolved values (assigned priority collisions) are checked here too.

pub mod capacity;
pub mod command;
pub mod dns;
pub mod pool;
pub mod priority;
pub mod rules;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::check::off_hours::TimeOfDay;
use crate::check::rules::pointer;
use crate::check::{Checked, CheckedFleet};
use crate::diagnostic::{Diagnostic, Sources, Span};
use crate::limits;
use crate::schema::{
    self, Capacity, ConditionType, DatabaseEngine, EnvironmentVars, ImageName, InstanceFile,
    LaunchType, NatKind, PlainValue, PortProtocol, SecretCharacters, ServiceType, Target,
};
use priority::Specificity;

/// Default port of a web container (Barcelona's).
pub const DEFAULT_PORT: u16 = 3000;
/// Default memory of a service's container in MiB (Barcelona's `service.rb`).
pub const DEFAULT_MEMORY: u32 = 512;
/// Default health check settings.
pub const DEFAULT_HEALTH_CHECK_INTERVAL: u32 = 10;
pub const DEFAULT_HEALTH_CHECK_TIMEOUT: u32 = 5;
pub const DEFAULT_HEALTHY_THRESHOLD: u32 = 2;
pub const DEFAULT_UNHEALTHY_THRESHOLD: u32 = 3;
pub const DEFAULT_MATCHER: &str = "200-399";
/// Default target of service autoscaling, percent CPU.
pub const DEFAULT_CPU_TARGET: u32 = 60;
/// Default engine versions and backup retention of data stores.
pub const DEFAULT_POSTGRES_VERSION: &str = "17.7";
pub const DEFAULT_MYSQL_VERSION: &str = "8.4.7";
pub const DEFAULT_REDIS_VERSION: &str = "7.1";
pub const DEFAULT_BACKUP_RETENTION_DAYS: u32 = 7;
/// Default TLS policy of an endpoint's HTTPS listener.
pub const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// The whole fleet.
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    pub districts: Vec<District>,
}

/// One district with its heritages.
#[derive(Debug, Clone, Serialize)]
pub struct District {
    pub name: String,
    /// The district file, relative to the fleet root.
    pub source: String,
    pub region: String,
    pub network: Network,
    pub cluster: Cluster,
    pub endpoints: Vec<Endpoint>,
    /// The Application Load Balancers of the endpoints, in order: each
    /// endpoint's first, then the rest of its pool.
    pub load_balancers: Vec<pool::LoadBalancer>,
    /// The account the district's stacks must be deployed in, when it says.
    pub account_id: Option<String>,
    /// Which kinds of artifacts are built for the district and its heritages.
    pub targets: Targets,
    /// The adjustable AWS quotas of the district's account.
    pub quotas: Quotas,
    /// Usage assumptions of cost estimates (`cost:`), none by default.
    pub cost: crate::schema::CostAssumptions,
    pub heritages: Vec<Heritage>,
    /// Some service of the district runs on Fargate Spot: the cluster's
    /// capacity providers include `FARGATE_SPOT`.
    pub fargate_spot: bool,
    /// Some service on the district's hosts has `capacity: spot`: the district
    /// has a second, all-spot group of hosts and its capacity provider.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ec2_spot: bool,
    /// The Route 53 hosted zones records are added to (`dns:`), if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<dns::Zone>,
    /// Every listener host and `CloudFront` alias with its target, by name
    /// (templates get the records made of them from `plan::dns`).
    #[serde(skip)]
    pub names: Vec<dns::Name>,
    /// How full its cluster is, when berth knows the instance type's size.
    #[serde(skip)]
    pub cluster_use: Option<capacity::ClusterUse>,
}

/// Adjustable AWS quotas: the district's, or AWS's defaults.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Quotas {
    pub rules_per_load_balancer: u64,
    pub certificates_per_load_balancer: u64,
    pub load_balancers_per_region: u64,
    pub services_per_cluster: u64,
    pub target_groups_per_region: u64,
}

impl Quotas {
    /// The district's quota where it raised one, else AWS's default.
    fn resolve(raised: Option<&schema::Quotas>) -> Self {
        let quota = |get: fn(&schema::Quotas) -> Option<u32>, limit: &limits::Limit| {
            raised.and_then(get).map_or(limit.value, u64::from)
        };
        Self {
            rules_per_load_balancer: quota(|q| q.rules_per_load_balancer, &limits::RULES_PER_ALB),
            certificates_per_load_balancer: quota(
                |q| q.certificates_per_load_balancer,
                &limits::CERTIFICATES_PER_ALB,
            ),
            load_balancers_per_region: quota(
                |q| q.load_balancers_per_region,
                &limits::ALBS_PER_REGION,
            ),
            services_per_cluster: quota(|q| q.services_per_cluster, &limits::SERVICES_PER_CLUSTER),
            target_groups_per_region: quota(
                |q| q.target_groups_per_region,
                &limits::TARGET_GROUPS_PER_REGION,
            ),
        }
    }
}

/// The artifact kinds a district chose (`targets:`); both by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Targets {
    pub cloudformation: bool,
    pub terraform: bool,
}

impl Targets {
    fn resolve(chosen: Option<&[Target]>) -> Self {
        chosen.map_or(
            Self {
                cloudformation: true,
                terraform: true,
            },
            |list| Self {
                cloudformation: list.contains(&Target::Cloudformation),
                terraform: list.contains(&Target::Terraform),
            },
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Network {
    pub cidr: String,
    pub availability_zones: u8,
    pub nat: NatKind,
    pub egress_ports: Vec<u16>,
    /// Where the VPC's flow logs go, if anywhere.
    pub flow_logs: Option<FlowLogs>,
}

/// A district's VPC flow logs: an S3 bucket and an optional folder in it.
#[derive(Debug, Clone, Serialize)]
pub struct FlowLogs {
    pub bucket: String,
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub instance_type: String,
    pub size: u32,
    pub max_size: u32,
    pub spot_share: u8,
    /// How many hosts run on demand before `spot_share` applies.
    pub on_demand_base: u32,
    /// How many zones, from the first, the hosts run in.
    pub availability_zones: u8,
    /// When the hosts go to none and come back (see `plan::off_hours`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<OffHours>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub name: String,
    pub certificate_arn: String,
    pub public: bool,
    pub ssl_policy: String,
    /// How many load balancers the endpoint's pool holds.
    pub load_balancers: u32,
    /// Where the load balancers write access logs, if anywhere.
    pub access_logs: Option<AccessLogs>,
    /// The AWS WAF web ACL in front of the load balancers, if any.
    pub web_acl_arn: Option<String>,
    /// The `CloudFront` distribution in front of the endpoint, if any.
    pub cdn: Option<EndpointCdn>,
}

/// A distribution in front of an endpoint's load balancer.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointCdn {
    pub aliases: Vec<String>,
    pub certificate_arn: String,
    pub cached_paths: Vec<String>,
}

/// An endpoint's access logs: bucket and key prefix.
#[derive(Debug, Clone, Serialize)]
pub struct AccessLogs {
    pub bucket: String,
    pub prefix: String,
}

/// One environment of an instance file: one application stack.
#[derive(Debug, Clone, Serialize)]
pub struct Heritage {
    pub name: String,
    pub district: String,
    /// The instance file, relative to the fleet root.
    pub source: String,
    /// The key under `environments:`.
    pub environment_name: String,
    /// `image_name:image_tag`; for an image of a declared repository, the
    /// repository's name (`<district>-<heritage>/<name>`) with the tag.
    pub image: String,
    /// The declared repository the image comes from (`image_name: {repository: …}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_repository: Option<String>,
    pub image_tag: String,
    pub before_deploy: Option<Vec<String>>,
    pub environment: Vec<Variable>,
    pub secrets: Vec<Secret>,
    /// Variables one-off commands get on top (`run_env.vars`, for `bcn run`).
    pub run_env: Vec<Variable>,
    pub scheduled_tasks: Vec<ScheduledTask>,
    /// Off-hours: when the heritage is switched off and on (see `plan::off_hours`).
    pub schedule: Option<OffHours>,
    pub services: Vec<Service>,
    /// Stateful resources, in the heritage's data stack.
    pub resources: Resources,
}

/// A heritage's stateful resources, defaults applied.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Resources {
    pub database: Option<Database>,
    pub cache: Option<Cache>,
    pub buckets: Vec<Bucket>,
    pub repositories: Vec<Repository>,
    pub secrets: Vec<GeneratedSecret>,
    /// Injected variables under another name (`Some`) or left out (`None`),
    /// by the name berth gives them.
    pub env: BTreeMap<String, Option<String>>,
}

/// A secret Secrets Manager generates once, given to the containers as `name`.
#[derive(Debug, Clone, Serialize)]
pub struct GeneratedSecret {
    pub name: String,
    pub length: u32,
    pub characters: SecretCharacters,
    /// Whether Terraform refuses a plan that destroys or replaces it
    /// (`lifecycle.prevent_destroy`); CloudFormation does not read it.
    pub prevent_destroy: bool,
}

/// Default length of a generated secret.
pub const DEFAULT_SECRET_LENGTH: u32 = 64;

#[derive(Debug, Clone, Serialize)]
pub struct Database {
    pub engine: DatabaseEngine,
    pub version: String,
    pub port: u16,
    pub instance_class: String,
    pub storage: u32,
    pub name: String,
    pub user: String,
    pub backup_retention_days: u32,
    pub multi_az: bool,
    pub deletion_protection: bool,
    /// The engine's logs exported to `CloudWatch` Logs (`EnableCloudwatchLogsExports`).
    pub log_exports: &'static [&'static str],
    /// Whether Terraform refuses a plan that destroys or replaces it
    /// (`lifecycle.prevent_destroy`); CloudFormation does not read it.
    pub prevent_destroy: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cache {
    pub node_type: String,
    pub version: String,
    pub nodes: u32,
    /// Whether Terraform refuses a plan that destroys or replaces it
    /// (`lifecycle.prevent_destroy`); CloudFormation does not read it.
    pub prevent_destroy: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    pub name: String,
    /// A fixed bucket name, if the file sets one.
    pub bucket_name: Option<String>,
    pub public_read: Vec<String>,
    pub versioning: bool,
    /// Whether Terraform refuses a plan that destroys or replaces it
    /// (`lifecycle.prevent_destroy`); CloudFormation does not read it.
    pub prevent_destroy: bool,
    /// Where S3 writes the bucket's server access logs, if anywhere; the
    /// prefix ends with `/`.
    pub access_logs: Option<AccessLogs>,
    /// The `CloudFront` distribution serving its public prefixes, if any.
    pub cdn: Option<BucketCdn>,
}

/// A distribution in front of a bucket's public prefixes.
#[derive(Debug, Clone, Serialize)]
pub struct BucketCdn {
    pub aliases: Vec<String>,
    pub certificate_arn: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Repository {
    pub name: String,
    pub untagged_expire_days: u32,
    /// `MUTABLE` or `IMMUTABLE`, ECR's `imageTagMutability`.
    pub image_tag_mutability: &'static str,
    /// Whether Terraform refuses a plan that destroys or replaces it
    /// (`lifecycle.prevent_destroy`); CloudFormation does not read it.
    pub prevent_destroy: bool,
}

/// A plain environment variable.
#[derive(Debug, Clone, Serialize)]
pub struct Variable {
    pub name: String,
    pub value: String,
}

/// An environment variable ECS reads from SSM or Secrets Manager at start.
#[derive(Debug, Clone, Serialize)]
pub struct Secret {
    pub name: String,
    /// A parameter name (`/barcelona/mstdn/x`) or an ARN.
    pub value_from: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OffHours {
    pub off: TimeOfDay,
    pub on: TimeOfDay,
    /// An IANA time zone; `UTC` when the file names none.
    pub timezone: String,
    /// The maintenance page read from `page`, and that file (as shown);
    /// berth's own page when the file names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_source: Option<String>,
}

/// A `schedule`, read; `None` only for one that `check` refused.
fn off_hours(off: &str, on: &str, timezone: Option<&str>) -> Option<OffHours> {
    Some(OffHours {
        off: crate::check::off_hours::time_of_day(off).ok()?,
        on: crate::check::off_hours::time_of_day(on).ok()?,
        timezone: timezone.unwrap_or("UTC").to_owned(),
        page: None,
        page_source: None,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct ScheduledTask {
    /// Derived from the command, unique in the heritage.
    pub name: String,
    pub schedule: String,
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: String,
    pub service_type: ServiceType,
    /// Whether HTTP requests are redirected to HTTPS; otherwise the
    /// listeners' rules are on the HTTP listener too.
    pub force_ssl: bool,
    /// CPU units reserved; none when the file sets none.
    pub cpu: Option<u32>,
    pub memory: u32,
    pub command: Option<Vec<String>>,
    /// The container port, for web services.
    pub port: Option<u16>,
    pub desired_count: u32,
    /// The container's root file system is read-only (`read_only_root_filesystem`).
    pub read_only_root_filesystem: bool,
    pub launch_type: LaunchType,
    /// Runs on spot capacity (`capacity: spot`): Fargate Spot. Shown by
    /// `explain` only when set.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub spot: bool,
    pub listeners: Vec<Listener>,
    pub autoscaling: Option<Autoscaling>,
    /// The service's own variables, over the heritage's.
    pub environment: Vec<Variable>,
    pub secrets: Vec<Secret>,
    /// The service's own network load balancer, when it has `port_mappings`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nlb: Option<Nlb>,
}

/// A service's network load balancer: one listener per port mapping.
#[derive(Debug, Clone, Serialize)]
pub struct Nlb {
    /// Internet-facing in the public subnets, or internal in the private ones (the default).
    pub public: bool,
    /// The container port the targets are checked on (TCP): `health_check.port`,
    /// else the first mapping's container port.
    pub health_check_port: u16,
    pub mappings: Vec<PortMapping>,
}

/// One port of a service's network load balancer, defaults applied.
#[derive(Debug, Clone, Serialize)]
pub struct PortMapping {
    /// The load balancer's port: as written, or 80 for `http` and 443 for `https`.
    pub lb_port: u16,
    pub container_port: u16,
    /// The protocol as written (`tcp` when absent).
    pub protocol: PortProtocol,
    /// What the load balancer and the container speak: `http` and `https` are TCP.
    pub transport: Transport,
    /// Whether the target group sends the proxy protocol v2 header: always for
    /// `http` and `https` (as Barcelona did), else `enable_proxy_protocol`.
    pub proxy_protocol: bool,
}

/// The transport protocol of a port mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
}

impl PortMapping {
    /// Resolves one mapping. A missing `lb_port` on `tcp` or `udp` is an error
    /// found by `check`; the container port stands in for it here.
    #[must_use]
    pub fn resolve(mapping: &schema::PortMapping) -> Self {
        let protocol = mapping.protocol.unwrap_or(PortProtocol::Tcp);
        let (default_port, transport, special) = match protocol {
            PortProtocol::Tcp => (mapping.container_port, Transport::Tcp, false),
            PortProtocol::Udp => (mapping.container_port, Transport::Udp, false),
            PortProtocol::Http => (80, Transport::Tcp, true),
            PortProtocol::Https => (443, Transport::Tcp, true),
        };
        Self {
            lb_port: mapping.lb_port.unwrap_or(default_port),
            container_port: mapping.container_port,
            protocol,
            transport,
            proxy_protocol: special || mapping.enable_proxy_protocol.unwrap_or(false),
        }
    }
}

impl Nlb {
    /// The load balancer of a service, or `None` without `port_mappings`.
    #[must_use]
    pub fn resolve(service: &schema::Service) -> Option<Self> {
        let first = service.port_mappings.first()?;
        Some(Self {
            public: service.public.unwrap_or(false),
            health_check_port: service
                .health_check
                .as_ref()
                .and_then(|h| h.port)
                .unwrap_or(first.container_port),
            mappings: service
                .port_mappings
                .iter()
                .map(PortMapping::resolve)
                .collect(),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Autoscaling {
    pub min: u32,
    pub max: u32,
    pub cpu_target: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Listener {
    pub endpoint: String,
    /// The load balancer of the endpoint's pool the rule is on, by its pool
    /// name (the endpoint's for the first): see [`pool`].
    pub load_balancer: String,
    /// The instance's own certificate, added to that load balancer's HTTPS listener.
    pub certificate_arn: Option<String>,
    pub priority: u32,
    /// Whether berth assigned the priority.
    pub priority_assigned: bool,
    pub conditions: Vec<Condition>,
    pub health_check: HealthCheck,
}

/// One listener rule condition; its values are alternatives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub field: ConditionType,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthCheck {
    pub path: String,
    pub interval: u32,
    pub timeout: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    pub matcher: String,
}

impl Fleet {
    /// Every heritage with its district.
    pub fn heritages(&self) -> impl Iterator<Item = (&District, &Heritage)> {
        self.districts
            .iter()
            .flat_map(|d| d.heritages.iter().map(move |h| (d, h)))
    }
}

/// Resolves a checked fleet. Districts whose district file failed are left out.
#[must_use]
pub fn resolve(fleet: &CheckedFleet, sources: &Sources) -> (Fleet, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut districts = Vec::new();
    for checked in &fleet.districts {
        let Some(file) = &checked.district else {
            continue;
        };
        let spec = &file.spec;
        let mut district = District {
            name: checked.name.clone(),
            source: sources.path(file.file).to_owned(),
            region: spec.region.clone(),
            network: Network {
                cidr: spec.network.cidr.clone(),
                availability_zones: spec.network.availability_zones.unwrap_or(2),
                nat: spec.network.nat.unwrap_or(NatKind::Gateway),
                egress_ports: spec.network.egress_ports.clone(),
                flow_logs: spec.network.flow_logs.as_ref().map(|f| FlowLogs {
                    bucket: f.bucket.clone(),
                    prefix: f.prefix.clone(),
                }),
            },
            cluster: Cluster {
                instance_type: spec.cluster.instance_type.clone(),
                size: spec.cluster.size,
                max_size: spec.cluster.max_size.unwrap_or(spec.cluster.size),
                spot_share: spec.cluster.spot_share.unwrap_or(0),
                on_demand_base: spec.cluster.on_demand_base.unwrap_or(1),
                availability_zones: spec
                    .cluster
                    .availability_zones
                    .unwrap_or_else(|| spec.network.availability_zones.unwrap_or(2)),
                schedule: spec
                    .cluster
                    .schedule
                    .as_ref()
                    .and_then(|h| off_hours(&h.off, &h.on, h.timezone.as_deref())),
            },
            endpoints: spec
                .endpoints
                .iter()
                .map(|(name, e)| Endpoint {
                    name: name.clone(),
                    certificate_arn: e.certificate_arn.clone(),
                    public: e.public.unwrap_or(true),
                    ssl_policy: e
                        .ssl_policy
                        .clone()
                        .unwrap_or_else(|| DEFAULT_SSL_POLICY.to_owned()),
                    load_balancers: e.load_balancers.unwrap_or(1),
                    access_logs: e.access_logs.as_ref().map(|a| AccessLogs {
                        bucket: a.bucket.clone(),
                        prefix: a.prefix.clone().unwrap_or_else(|| checked.name.clone()),
                    }),
                    web_acl_arn: e.web_acl_arn.clone(),
                    cdn: e.cdn.as_ref().map(|c| EndpointCdn {
                        aliases: c.aliases.clone(),
                        certificate_arn: c.certificate_arn.clone(),
                        cached_paths: c.cached_paths.clone(),
                    }),
                })
                .collect(),
            load_balancers: Vec::new(),
            account_id: spec.account_id.clone(),
            targets: Targets::resolve(spec.targets.as_deref()),
            quotas: Quotas::resolve(spec.quotas.as_ref()),
            cost: spec.cost.unwrap_or_default(),
            heritages: Vec::new(),
            fargate_spot: false,
            ec2_spot: false,
            dns: spec
                .dns
                .iter()
                .flat_map(schema::DnsZones::zones)
                .map(|(_, z)| dns::Zone {
                    name: crate::check::dns::normalize(&z.zone),
                    zone_id: z.zone_id.clone(),
                })
                .collect(),
            names: Vec::new(),
            cluster_use: None,
        };
        let mut spans = Vec::new();
        for instance in &checked.instances {
            for (env_key, env) in &instance.spec.environments {
                let (heritage, listener_spans) = heritage(
                    &district.name,
                    sources.path(instance.file),
                    (instance, &fleet.pages),
                    env_key,
                    env,
                );
                district.heritages.push(heritage);
                spans.push(listener_spans);
            }
        }
        district.heritages.sort_by(|a, b| a.name.cmp(&b.name));
        district.fargate_spot = district
            .heritages
            .iter()
            .flat_map(|h| &h.services)
            .any(|s| s.spot && s.launch_type == LaunchType::Fargate);
        district.ec2_spot = district
            .heritages
            .iter()
            .flat_map(|h| &h.services)
            .any(|s| s.spot && s.launch_type != LaunchType::Fargate);
        district.load_balancers = pool::load_balancers(&district);
        pool::place(&mut district);
        diagnostics.extend(pool::check_names(&district, &|p| file.at(p)));
        diagnostics.extend(capacity::services_per_cluster(&district, &|p| file.at(p)));
        let (names, conflicts) = dns::names(name_claims(&district, checked, file), &district.dns);
        district.names = names;
        diagnostics.extend(conflicts);
        let sites = rule_sites(&district, &spans);
        diagnostics.extend(rules::check(&district, &sites));
        let (found, cluster_use) = capacity::check(&district, &|p| file.at(p));
        diagnostics.extend(found);
        district.cluster_use = cluster_use;
        districts.push(district);
    }
    districts.sort_by(|a, b| a.name.cmp(&b.name));
    diagnostics.extend(dns::across_districts(&districts));
    (Fleet { districts }, diagnostics)
}

/// Where each listener's priority was set (or its rule was written), by heritage and service.
/// With each, where its `certificate_arn` was written.
type ListenerSpans = (String, Vec<(String, Vec<(Span, Option<Span>)>)>);

fn heritage(
    district: &str,
    source: &str,
    (instance, pages): (&Checked<InstanceFile>, &crate::check::pages::Pages),
    env_key: &str,
    env: &schema::Environment,
) -> (Heritage, ListenerSpans) {
    let (environment, secrets) = variables(district, env.environment.as_ref());
    let tag = env.image_tag.as_deref().unwrap_or("latest");
    let mut task_names: BTreeMap<String, usize> = BTreeMap::new();
    // A task of another task definition is not scheduled (see `check::barcelona`).
    let scheduled_tasks = env
        .scheduled_tasks
        .iter()
        .filter(|t| t.external_task_def.is_none())
        .map(|t| {
            let command = command::arguments(&t.command);
            let mut name = slug(&command.join(" "));
            let seen = task_names.entry(name.clone()).or_insert(0);
            *seen += 1;
            if *seen > 1 {
                name = format!("{name}-{seen}");
            }
            ScheduledTask {
                name,
                schedule: t.schedule.clone(),
                command,
            }
        })
        .collect();
    let mut spans = Vec::new();
    let services = env
        .services
        .iter()
        .enumerate()
        .map(|(s, service)| {
            let web = service.service_type == Some(ServiceType::Web);
            let mut listener_spans = Vec::new();
            let listeners = service
                .listeners
                .iter()
                .enumerate()
                .map(|(l, listener)| {
                    let base = pointer(&[
                        "environments",
                        env_key,
                        "services",
                        &s.to_string(),
                        "listeners",
                        &l.to_string(),
                    ]);
                    let span = instance
                        .root
                        .locate_key(&base, "rule_priority")
                        .unwrap_or_else(|| instance.at(&base));
                    let certificate = instance.root.locate_key(&base, "certificate_arn");
                    listener_spans.push((span, certificate));
                    resolve_listener(district, &env.name, &service.name, l, listener)
                })
                .collect();
            spans.push((service.name.clone(), listener_spans));
            let (environment, secrets) = variables(district, service.environment.as_ref());
            Service {
                environment,
                secrets,
                name: service.name.clone(),
                service_type: service.service_type.unwrap_or(ServiceType::Default),
                force_ssl: service.force_ssl.unwrap_or(true),
                cpu: service.cpu,
                memory: service.memory.unwrap_or(DEFAULT_MEMORY),
                command: service.command.as_ref().map(command::arguments),
                port: web.then(|| service.web_container_port.unwrap_or(DEFAULT_PORT)),
                desired_count: service.desired_count.unwrap_or(1),
                read_only_root_filesystem: service.read_only_root_filesystem.unwrap_or(false),
                launch_type: service.launch_type.unwrap_or(LaunchType::Ec2),
                spot: service.capacity == Some(Capacity::Spot),
                listeners,
                autoscaling: service.autoscaling.as_ref().map(|a| Autoscaling {
                    min: a.min,
                    max: a.max,
                    cpu_target: a.cpu_target.unwrap_or(DEFAULT_CPU_TARGET),
                }),
                nlb: Nlb::resolve(service),
            }
        })
        .collect();
    let heritage = Heritage {
        name: env.name.clone(),
        district: district.to_owned(),
        source: source.to_owned(),
        environment_name: env_key.to_owned(),
        image: format!(
            "{}:{tag}",
            match &env.image_name {
                ImageName::Name(name) => name.clone(),
                ImageName::Repository(r) =>
                    format!("{district}-{}/{}", env.name, r.repository).to_ascii_lowercase(),
            }
        ),
        image_repository: match &env.image_name {
            ImageName::Name(_) => None,
            ImageName::Repository(r) => Some(r.repository.clone()),
        },
        image_tag: tag.to_owned(),
        before_deploy: env.before_deploy.as_ref().map(command::arguments),
        environment,
        secrets,
        run_env: env
            .run_env
            .iter()
            .flat_map(|r| &r.vars)
            .map(|(name, value)| Variable {
                name: name.clone(),
                value: plain_text(value),
            })
            .collect(),
        scheduled_tasks,
        schedule: env.schedule.as_ref().and_then(|h| {
            let mut hours = off_hours(&h.off, &h.on, h.timezone.as_deref())?;
            if let Some(page) = pages.get(&(instance.file, env_key.to_owned())) {
                hours.page = Some(page.text.clone());
                hours.page_source = Some(page.path.clone());
            }
            Some(hours)
        }),
        services,
        resources: env
            .resources
            .as_ref()
            .or(instance.spec.resources.as_ref())
            .map(|spec| resources(spec, &format!("{district}/{}", env.name)))
            .unwrap_or_default(),
    };
    (heritage, (env.name.clone(), spans))
}

fn resolve_listener(
    district: &str,
    heritage: &str,
    service: &str,
    index: usize,
    listener: &schema::Listener,
) -> Listener {
    let mut hosts: Vec<String> = listener.hosts.clone();
    let mut paths: Vec<String> = Vec::new();
    for c in &listener.rule_conditions {
        let (list, value) = match c.kind {
            ConditionType::HostHeader => (&mut hosts, c.value.as_str()),
            // Barcelona's default condition `*` matches what `/*` matches.
            ConditionType::PathPattern if c.value == "*" => (&mut paths, "/*"),
            ConditionType::PathPattern => (&mut paths, c.value.as_str()),
        };
        if !list.iter().any(|v| v == value) {
            list.push(value.to_owned());
        }
    }
    let specific_path = paths.iter().any(|p| p != "/*");
    let specificity = match (specific_path, hosts.is_empty()) {
        (true, _) => Specificity::Path,
        (false, false) => Specificity::Host,
        (false, true) => Specificity::CatchAll,
    };
    if paths.is_empty() && hosts.is_empty() {
        paths.push("/*".to_owned());
    }
    let mut conditions = Vec::new();
    if !hosts.is_empty() {
        conditions.push(Condition {
            field: ConditionType::HostHeader,
            values: hosts,
        });
    }
    if !paths.is_empty() {
        conditions.push(Condition {
            field: ConditionType::PathPattern,
            values: paths,
        });
    }
    let key = format!("{district}/{heritage}/{service}/{index}");
    Listener {
        endpoint: listener.endpoint.clone(),
        // Placed on its endpoint's pool once the district's heritages are known.
        load_balancer: listener.endpoint.clone(),
        certificate_arn: listener.certificate_arn.clone(),
        priority: listener
            .rule_priority
            .unwrap_or_else(|| priority::assign(&key, specificity)),
        priority_assigned: listener.rule_priority.is_none(),
        conditions,
        health_check: HealthCheck {
            path: listener
                .health_check_path
                .clone()
                .unwrap_or_else(|| "/".to_owned()),
            interval: listener
                .health_check_interval
                .unwrap_or(DEFAULT_HEALTH_CHECK_INTERVAL),
            timeout: listener
                .health_check_timeout
                .unwrap_or(DEFAULT_HEALTH_CHECK_TIMEOUT),
            healthy_threshold: listener
                .healthy_threshold
                .or(listener.healthy_threshold_count)
                .unwrap_or(DEFAULT_HEALTHY_THRESHOLD),
            unhealthy_threshold: listener
                .unhealthy_threshold
                .or(listener.unhealthy_threshold_count)
                .unwrap_or(DEFAULT_UNHEALTHY_THRESHOLD),
            matcher: listener
                .health_check_matcher
                .clone()
                .unwrap_or_else(|| DEFAULT_MATCHER.to_owned()),
        },
    }
}

/// A plain value as the text a container sees.
fn plain_text(value: &PlainValue) -> String {
    match value {
        PlainValue::Text(t) => t.clone(),
        PlainValue::Number(n) => n.to_string(),
        PlainValue::Bool(b) => b.to_string(),
    }
}

fn variables(district: &str, vars: Option<&EnvironmentVars>) -> (Vec<Variable>, Vec<Secret>) {
    let text = plain_text;
    let mut plain = Vec::new();
    let mut secrets = Vec::new();
    for var in vars.map(EnvironmentVars::variables).unwrap_or_default() {
        let name = var.name.to_owned();
        if let Some(value) = var.value {
            plain.push(Variable {
                name,
                value: text(value),
            });
        } else if let Some(from) = var.value_from {
            secrets.push(Secret {
                name,
                value_from: from.to_owned(),
            });
        } else if let Some(path) = var.ssm_path {
            secrets.push(Secret {
                name,
                value_from: ssm_parameter(district, path),
            });
        }
    }
    (plain, secrets)
}

/// The SSM parameter an `ssm_path` names, as Barcelona's `environment.rb`
/// derives it: under `/barcelona/<district>`, unless already there.
fn ssm_parameter(district: &str, path: &str) -> String {
    let prefix = format!("/barcelona/{district}");
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    if path.starts_with(&prefix) {
        path
    } else {
        format!("{prefix}{path}")
    }
}

/// The heritage's stateful resources; `base` (`<district>/<heritage>`)
/// starts the default prefix of a bucket's access logs.
fn resources(spec: &schema::Resources, base: &str) -> Resources {
    Resources {
        database: spec.database.as_ref().map(|d| {
            // The logs RDS publishes to CloudWatch Logs, per engine: "Publishing database
            // logs to Amazon CloudWatch Logs" in the RDS user guide (PostgreSQL: `postgresql`,
            // `upgrade`; MySQL: `error`, `general`, `slowquery`, `audit`, of which the general and
            // audit logs need parameter or option groups berth does not write).
            let (version, port, log_exports) = match d.engine {
                DatabaseEngine::Postgres => (
                    DEFAULT_POSTGRES_VERSION,
                    5432,
                    &["postgresql", "upgrade"][..],
                ),
                DatabaseEngine::Mysql => (DEFAULT_MYSQL_VERSION, 3306, &["error", "slowquery"][..]),
            };
            Database {
                engine: d.engine,
                version: d.version.clone().unwrap_or_else(|| version.to_owned()),
                port,
                instance_class: d.instance_class.clone(),
                storage: d.storage.unwrap_or(20),
                name: d.name.clone(),
                user: d.user.clone(),
                backup_retention_days: d
                    .backup_retention_days
                    .unwrap_or(DEFAULT_BACKUP_RETENTION_DAYS),
                multi_az: d.multi_az.unwrap_or(false),
                deletion_protection: d.deletion_protection.unwrap_or(true),
                log_exports,
                prevent_destroy: d.prevent_destroy.unwrap_or(true),
            }
        }),
        cache: spec.cache.as_ref().map(|c| Cache {
            node_type: c.node_type.clone(),
            version: c
                .version
                .clone()
                .unwrap_or_else(|| DEFAULT_REDIS_VERSION.to_owned()),
            nodes: c.nodes.unwrap_or(1),
            prevent_destroy: c.prevent_destroy.unwrap_or(true),
        }),
        buckets: spec
            .buckets
            .iter()
            .map(|(name, b)| Bucket {
                name: name.clone(),
                bucket_name: b.name.clone(),
                public_read: b.public_read.clone(),
                versioning: b.versioning.unwrap_or(true),
                prevent_destroy: b.prevent_destroy.unwrap_or(true),
                access_logs: b.access_logs.as_ref().map(|a| AccessLogs {
                    bucket: a.bucket.clone(),
                    prefix: format!(
                        "{}/",
                        a.prefix.clone().unwrap_or_else(|| format!("{base}/{name}"))
                    ),
                }),
                cdn: b.cdn.as_ref().map(|c| BucketCdn {
                    aliases: c.aliases.clone(),
                    certificate_arn: c.certificate_arn.clone(),
                }),
            })
            .collect(),
        repositories: spec
            .repositories
            .iter()
            .map(|(name, r)| Repository {
                name: name.clone(),
                untagged_expire_days: r.untagged_expire_days.unwrap_or(14),
                image_tag_mutability: if r.mutable_tags.unwrap_or(false) {
                    "MUTABLE"
                } else {
                    "IMMUTABLE"
                },
                prevent_destroy: r.prevent_destroy.unwrap_or(true),
            })
            .collect(),
        secrets: spec
            .secrets
            .iter()
            .map(|(name, s)| GeneratedSecret {
                name: name.clone(),
                length: s.length.unwrap_or(DEFAULT_SECRET_LENGTH),
                characters: s.characters.unwrap_or(SecretCharacters::Alphanumeric),
                prevent_destroy: s.prevent_destroy.unwrap_or(true),
            })
            .collect(),
        env: spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.name().map(str::to_owned)))
            .collect(),
    }
}

/// A name made of a command: `rake mastodon:daily` → `rake-mastodon-daily`.
fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "task".to_owned()
    } else {
        slug
    }
}

/// Every listener rule of a district with where it was written.
fn rule_sites<'a>(district: &'a District, spans: &[ListenerSpans]) -> Vec<rules::Site<'a>> {
    let mut sites = Vec::new();
    // Each heritage's spans, the first when a name repeats.
    let mut by_name: std::collections::HashMap<&str, &Vec<_>> = std::collections::HashMap::new();
    for (name, services) in spans {
        by_name.entry(name.as_str()).or_insert(services);
    }
    for heritage in &district.heritages {
        let Some(services) = by_name.get(heritage.name.as_str()) else {
            continue;
        };
        for service in &heritage.services {
            let Some((_, listeners)) = services.iter().find(|(s, _)| *s == service.name) else {
                continue;
            };
            for (listener, (span, certificate)) in service.listeners.iter().zip(listeners) {
                sites.push(rules::Site {
                    heritage,
                    service,
                    listener,
                    span: span.clone(),
                    certificate: certificate.clone(),
                });
            }
        }
    }
    sites
}

/// Every place a district names a host: listener hosts (`hosts` and
/// `host-header` conditions), buckets' and endpoints' `cdn.aliases`, in
/// that order. Listeners must be placed on their load balancers already.
fn name_claims(
    district: &District,
    checked: &crate::check::CheckedDistrict,
    file: &Checked<schema::DistrictFile>,
) -> Vec<dns::Claim> {
    let fronted = |load_balancer: &str, host: &str| {
        district.load_balancers.iter().any(|lb| {
            lb.name == load_balancer
                && lb.cdn.as_ref().is_some_and(|c| {
                    c.aliases.iter().any(|a| {
                        crate::check::dns::normalize(a) == crate::check::dns::normalize(host)
                    })
                })
        })
    };
    let mut claims = Vec::new();
    for instance in &checked.instances {
        for (env_key, env) in &instance.spec.environments {
            // The heritages are sorted by name: the first of that name.
            debug_assert!(district.heritages.is_sorted_by(|a, b| a.name <= b.name));
            let first = district
                .heritages
                .partition_point(|h| h.name.as_str() < env.name.as_str());
            let Some(heritage) = district.heritages.get(first).filter(|h| h.name == env.name)
            else {
                continue;
            };
            for (s, (service, resolved)) in env.services.iter().zip(&heritage.services).enumerate()
            {
                for (l, (listener, placed)) in service
                    .listeners
                    .iter()
                    .zip(&resolved.listeners)
                    .enumerate()
                {
                    let base = [
                        "environments",
                        env_key,
                        "services",
                        &s.to_string(),
                        "listeners",
                        &l.to_string(),
                    ];
                    let hosts = listener.hosts.iter().enumerate().map(|(i, h)| {
                        (
                            h,
                            pointer(&[&base[..], &["hosts", &i.to_string()]].concat()),
                        )
                    });
                    let conditions = listener
                        .rule_conditions
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| c.kind == ConditionType::HostHeader)
                        .map(|(j, c)| {
                            (
                                &c.value,
                                pointer(
                                    &[&base[..], &["rule_conditions", &j.to_string(), "value"]]
                                        .concat(),
                                ),
                            )
                        });
                    for (host, at) in hosts.chain(conditions) {
                        let lb = placed.load_balancer.clone();
                        claims.push(dns::Claim {
                            name: host.clone(),
                            target: if fronted(&lb, host) {
                                dns::Target::EndpointDistribution { load_balancer: lb }
                            } else {
                                dns::Target::LoadBalancer { load_balancer: lb }
                            },
                            heritage: Some(heritage.name.clone()),
                            span: instance.at(&at),
                            by: format!(" (a listener of `{}`/`{}`)", heritage.name, service.name),
                        });
                    }
                }
            }
            let (resources, base): (_, &[&str]) = match &env.resources {
                Some(r) => (Some(r), &["environments", env_key, "resources"]),
                None => (instance.spec.resources.as_ref(), &["resources"]),
            };
            for (bucket, spec) in resources.iter().flat_map(|r| &r.buckets) {
                for (i, alias) in spec.cdn.iter().flat_map(|c| c.aliases.iter().enumerate()) {
                    claims.push(dns::Claim {
                        name: alias.clone(),
                        target: dns::Target::BucketDistribution {
                            heritage: heritage.name.clone(),
                            bucket: bucket.clone(),
                        },
                        heritage: Some(heritage.name.clone()),
                        span: instance.at(&pointer(
                            &[base, &["buckets", bucket, "cdn", "aliases", &i.to_string()]]
                                .concat(),
                        )),
                        by: String::new(),
                    });
                }
            }
        }
    }
    for lb in &district.load_balancers {
        for (i, alias) in lb.cdn.iter().flat_map(|c| c.aliases.iter().enumerate()) {
            claims.push(dns::Claim {
                name: alias.clone(),
                target: dns::Target::EndpointDistribution {
                    load_balancer: lb.name.clone(),
                },
                heritage: None,
                span: file.at(&pointer(&[
                    "endpoints",
                    &lb.endpoint,
                    "cdn",
                    "aliases",
                    &i.to_string(),
                ])),
                by: String::new(),
            });
        }
    }
    claims
}
