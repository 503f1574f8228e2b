//! Monthly cost estimates of a rendered fleet, offline: reads the
//! CloudFormation artifacts berth wrote (the same ones `out/` holds) and
//! prices every billable resource from the [`price::PriceTable`]. Fixed
//! charges are quantity × unit price over the table's month (730 hours);
//! usage-based charges (data processed, requests, storage that grows) are
//! listed with their unit price and left out of the totals. Shared district
//! costs are allocated to heritages by their share of reserved CPU and
//! memory. It must not read files or print; the CLI does.

pub mod change;
pub mod hours_on;
pub mod price;
pub mod render;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use serde::Serialize;
use serde_json::Value;

use crate::schema::CostAssumptions;
use price::PriceTable;

/// The estimate of a whole fleet.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// The price table's date.
    pub prices_date: String,
    pub currency: String,
    pub hours_per_month: f64,
    pub districts: Vec<DistrictCost>,
    /// Fixed monthly total of every district and heritage.
    pub total: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DistrictCost {
    pub name: String,
    pub region: String,
    /// Shared costs: hosts, NAT gateways, load balancers.
    pub lines: Vec<Line>,
    /// Fixed monthly total of `lines`.
    pub shared: f64,
    pub heritages: Vec<HeritageCost>,
    /// `shared` plus every heritage's own total.
    pub total: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeritageCost {
    pub name: String,
    pub lines: Vec<Line>,
    /// Fixed monthly total of the heritage's own resources.
    pub own: f64,
    /// Its share of the district's reserved CPU and memory on EC2 hosts
    /// (the mean of the two fractions), 0 when nothing is reserved.
    pub share: f64,
    /// `share` × the district's shared cost.
    pub allocated: f64,
    /// `own + allocated`.
    pub total: f64,
}

/// One itemised charge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// The resource's logical id in its stack.
    pub resource: String,
    /// What is priced, e.g. `t3.xlarge host`, `NAT gateway hour`.
    pub item: String,
    pub price_key: String,
    pub variant: String,
    /// Units a month; for usage-based lines the district's assumption, or 0.
    pub quantity: f64,
    pub unit: String,
    /// The unit price; `None` when the table has no row for it.
    pub unit_usd: Option<f64>,
    pub kind: LineKind,
    /// `quantity × unit_usd` (0 for usage-based lines without an assumption
    /// and for unpriced lines).
    pub monthly: f64,
    /// What the quantity assumes beyond the artifacts, e.g. the hours on of
    /// an off-hours schedule; empty for most lines.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineKind {
    /// A monthly charge counted in the totals.
    Fixed,
    /// Billed per unit used; listed with its unit price, counted only with
    /// an assumption from the district file.
    Usage,
    /// Billable, but the table has no price for it in this region.
    Unpriced,
}

/// What berth knows of a district beyond its artifacts.
#[derive(Debug, Clone, Default)]
pub struct DistrictPricing {
    pub region: String,
    pub usage: CostAssumptions,
}

/// The pricing of every district of a resolved fleet, by name.
#[must_use]
pub fn districts_of(fleet: &crate::model::Fleet) -> BTreeMap<String, DistrictPricing> {
    fleet
        .districts
        .iter()
        .map(|d| {
            let pricing = DistrictPricing {
                region: d.region.clone(),
                usage: d.cost,
            };
            (d.name.clone(), pricing)
        })
        .collect()
}

/// Estimates every district of `files` (artifact path → text, as
/// [`crate::compiler::render`] returns or `out/` holds).
#[must_use]
pub fn estimate(
    files: &BTreeMap<String, String>,
    districts_in: &BTreeMap<String, DistrictPricing>,
    table: &PriceTable,
) -> Estimate {
    estimate_with(files, districts_in, table, None, None)
}

/// [`estimate`] of both sides of a change, `before` and `after`: a heritage
/// whose templates are the same on both sides is priced once.
#[must_use]
pub fn estimate_both(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    districts_in: &BTreeMap<String, DistrictPricing>,
    table: &PriceTable,
) -> (Estimate, Estimate) {
    let mut owns = HashMap::new();
    let first = estimate_with(before, districts_in, table, None, Some(&mut owns));
    let second = estimate_with(after, districts_in, table, Some((before, &owns)), None);
    (first, second)
}

/// The heritage's templates, in the order they are priced.
const HERITAGE_TEMPLATES: [&str; 2] = ["data.cfn.json", "app.cfn.json"];

/// What a heritage's own templates cost, before the district's shared
/// costs are allocated to it.
#[derive(Clone)]
struct Own {
    lines: Vec<Line>,
    /// CPU units and MiB its services reserve on the district's hosts.
    reserved: (f64, f64),
    /// Whether it has an off-hours schedule.
    off_hours: bool,
}

/// Heritages' [`Own`] costs by `district/heritage/`.
type Owns = HashMap<String, Own>;

/// [`estimate`], taking a heritage's cost from `earlier` (the files it was
/// priced from, and the prices) when its templates are the same there, and
/// recording every heritage's cost in `memo`.
fn estimate_with(
    files: &BTreeMap<String, String>,
    districts_in: &BTreeMap<String, DistrictPricing>,
    table: &PriceTable,
    earlier: Option<(&BTreeMap<String, String>, &Owns)>,
    mut memo: Option<&mut Owns>,
) -> Estimate {
    let hours = table.hours_per_month;
    let mut districts = Vec::new();
    for (name, pricing) in districts_in {
        let region = &pricing.region;
        let pricer = Pricer {
            table,
            region,
            hours,
            usage: pricing.usage,
        };
        let lines = match files.get(&format!("{name}/district.cfn.json")) {
            Some(text) => serde_json::from_str::<Value>(text)
                .map(|t| pricer.district_lines(&t))
                .unwrap_or_default(),
            // A Terraform-only district (`targets: [terraform]`): berth
            // prices CloudFormation stacks, so it says what it leaves out
            // rather than estimating $0. A district with neither (a base
            // without `out/`) has nothing to price.
            None if !files.contains_key(&format!("{name}/district.tf.json")) => Vec::new(),
            None => vec![Line {
                resource: format!("{name}/district.tf.json"),
                item: "Terraform-only district (berth prices CloudFormation stacks only)".into(),
                price_key: "terraform".into(),
                variant: String::new(),
                quantity: 0.0,
                unit: String::new(),
                unit_usd: None,
                kind: LineKind::Unpriced,
                monthly: 0.0,
                note: String::new(),
            }],
        };
        let mut lines = lines;
        let shared = fixed_total(&lines);
        let prefix = format!("{name}/");
        let mut heritages: Vec<HeritageCost> = Vec::new();
        let mut reserved: Vec<(f64, f64)> = Vec::new();
        let heritage_names: std::collections::BTreeSet<&str> = files
            .keys()
            .filter_map(|p| p.strip_prefix(&prefix))
            .filter_map(|rest| rest.split_once('/'))
            .filter(|(_, file)| *file == "app.cfn.json" || *file == "data.cfn.json")
            .map(|(heritage, _)| heritage)
            .collect();
        let mut off_hours_somewhere = false;
        let names: Vec<&str> = heritage_names.into_iter().collect();
        let owns: Vec<Own> = names
            .par_iter()
            .map(|heritage| {
                let prefix = format!("{name}/{heritage}/");
                let texts = HERITAGE_TEMPLATES.map(|file| files.get(&format!("{prefix}{file}")));
                if let Some((before, owns)) = earlier
                    && let Some(own) = owns.get(&prefix)
                    && HERITAGE_TEMPLATES
                        .iter()
                        .zip(&texts)
                        .all(|(file, text)| before.get(&format!("{prefix}{file}")) == *text)
                {
                    return own.clone();
                }
                pricer.own(&texts)
            })
            .collect();
        for (heritage, own) in names.into_iter().zip(owns) {
            if let Some(memo) = memo.as_deref_mut() {
                memo.insert(format!("{name}/{heritage}/"), own.clone());
            }
            off_hours_somewhere |= own.off_hours;
            let total = fixed_total(&own.lines);
            reserved.push(own.reserved);
            heritages.push(HeritageCost {
                name: heritage.to_owned(),
                lines: own.lines,
                own: total,
                share: 0.0,
                allocated: 0.0,
                total,
            });
        }
        if off_hours_somewhere {
            // Unless the district's own schedule switches them off too.
            for line in lines
                .iter_mut()
                .filter(|l| l.price_key == "ec2.instance" && l.note.is_empty())
            {
                HOSTS_RUN_THROUGH_OFF_HOURS.clone_into(&mut line.note);
            }
        }
        let cpu_sum: f64 = reserved.iter().map(|r| r.0).sum();
        let mem_sum: f64 = reserved.iter().map(|r| r.1).sum();
        for (heritage, (cpu, mem)) in heritages.iter_mut().zip(&reserved) {
            let fraction = |part: f64, sum: f64| if sum > 0.0 { part / sum } else { 0.0 };
            heritage.share = f64::midpoint(fraction(*cpu, cpu_sum), fraction(*mem, mem_sum));
            heritage.allocated = cents(heritage.share * shared);
            heritage.total = cents(heritage.own + heritage.allocated);
        }
        let total = cents(shared + heritages.iter().map(|h| h.own).sum::<f64>());
        districts.push(DistrictCost {
            name: name.clone(),
            region: region.clone(),
            lines,
            shared,
            heritages,
            total,
        });
    }
    let total = cents(districts.iter().map(|d| d.total).sum());
    Estimate {
        prices_date: table.date.clone(),
        currency: table.currency.clone(),
        hours_per_month: hours,
        districts,
        total,
    }
}

/// The note of a district's host lines when a heritage there has off-hours
/// and the district no `cluster.schedule`.
const HOSTS_RUN_THROUGH_OFF_HOURS: &str = "hosts keep running through a heritage's off-hours: its schedule stops tasks and its database, not the cluster (`cluster.schedule` stops them too)";

/// Rounds to cents, so totals add up as printed.
fn cents(usd: f64) -> f64 {
    // `+ 0.0` turns the -0.0 of an empty sum into 0.0.
    (usd * 100.0).round() / 100.0 + 0.0
}

fn fixed_total(lines: &[Line]) -> f64 {
    cents(lines.iter().map(|l| l.monthly).sum())
}

/// CPU units and MiB reserved by the services of a template that run on
/// the cluster's EC2 hosts (not Fargate): desired count × the task's size.
fn reserved_on_hosts(template: &Value) -> (f64, f64) {
    let resources = resources(template);
    let mut cpu = 0.0;
    let mut mem = 0.0;
    for service in resources
        .values()
        .filter(|r| r["Type"] == "AWS::ECS::Service")
    {
        let props = &service["Properties"];
        if props["LaunchType"] == "FARGATE" {
            continue;
        }
        let count = number(&props["DesiredCount"]).unwrap_or(1.0);
        if let Some(task) = task_of(resources, props) {
            let (c, m) = task_size(task);
            cpu += count * c;
            mem += count * m;
        }
    }
    (cpu, mem)
}

/// A template's `Resources`, borrowed (an empty map when it has none).
fn resources(template: &Value) -> &serde_json::Map<String, Value> {
    static NONE: std::sync::LazyLock<serde_json::Map<String, Value>> =
        std::sync::LazyLock::new(serde_json::Map::new);
    template["Resources"].as_object().unwrap_or(&NONE)
}

fn task_of<'a>(
    resources: &'a serde_json::Map<String, Value>,
    service_props: &Value,
) -> Option<&'a Value> {
    let id = service_props["TaskDefinition"]["Ref"].as_str()?;
    resources.get(id).map(|r| &r["Properties"])
}

/// A task's CPU units and MiB: the task-level size when set (Fargate), else
/// the sum of its containers' `Cpu` and `Memory` (or `MemoryReservation`).
fn task_size(task: &Value) -> (f64, f64) {
    if let (Some(cpu), Some(mem)) = (number(&task["Cpu"]), number(&task["Memory"])) {
        return (cpu, mem);
    }
    let containers = task["ContainerDefinitions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let cpu = containers.iter().filter_map(|c| number(&c["Cpu"])).sum();
    let mem = containers
        .iter()
        .filter_map(|c| number(&c["Memory"]).or_else(|| number(&c["MemoryReservation"])))
        .sum();
    (cpu, mem)
}

/// A number written as a JSON number or a string (`"20"`, as
/// CloudFormation accepts both).
fn number(value: &Value) -> Option<f64> {
    value
        .as_f64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

struct Pricer<'a> {
    table: &'a PriceTable,
    region: &'a str,
    hours: f64,
    usage: CostAssumptions,
}

impl Pricer<'_> {
    /// A fixed line of `quantity` units a month, or unpriced when the table
    /// has no row.
    fn fixed(&self, resource: &str, item: String, key: &str, variant: &str, quantity: f64) -> Line {
        match self.table.find(key, variant, self.region) {
            Some(price) => Line {
                resource: resource.to_owned(),
                item,
                price_key: key.to_owned(),
                variant: variant.to_owned(),
                quantity,
                unit: price.unit.clone(),
                unit_usd: Some(price.usd),
                kind: LineKind::Fixed,
                monthly: cents(quantity * price.usd),
                note: String::new(),
            },
            None => Line {
                resource: resource.to_owned(),
                item,
                price_key: key.to_owned(),
                variant: variant.to_owned(),
                quantity,
                unit: String::new(),
                unit_usd: None,
                kind: LineKind::Unpriced,
                monthly: 0.0,
                note: String::new(),
            },
        }
    }

    /// A usage-based line: the unit price, and the district's assumed
    /// quantity (`cost:` in the district file) when it sets one, which is
    /// then counted.
    fn usage(&self, resource: &str, item: &str, key: &str) -> Line {
        let assumed = match key {
            "nat.gb" => self.usage.nat_gb_per_month,
            "alb.lcu" => self.usage.load_balancer_lcus.map(|l| l * self.hours),
            "logs.ingest" => self.usage.log_gb_per_month,
            "s3.storage" => self.usage.bucket_gb,
            _ => None,
        };
        let mut line = self.fixed(resource, item.to_owned(), key, "", assumed.unwrap_or(0.0));
        if line.kind == LineKind::Fixed {
            line.kind = LineKind::Usage;
        }
        line
    }

    fn district_lines(&self, template: &Value) -> Vec<Line> {
        let resources = resources(template);
        let host_hours = OffHours::of(std::slice::from_ref(template));
        let hours = self.hours;
        let mut lines = Vec::new();
        for (id, resource) in resources {
            let props = &resource["Properties"];
            match resource["Type"].as_str().unwrap_or_default() {
                "AWS::AutoScaling::AutoScalingGroup" => {
                    let hosts = number(&props["MinSize"]).unwrap_or(0.0);
                    // A spot share puts the launch template in a mixed
                    // instances policy; spot hosts are priced on demand.
                    let spec = &props["MixedInstancesPolicy"]["LaunchTemplate"]["LaunchTemplateSpecification"];
                    let reference = props["LaunchTemplate"]["LaunchTemplateId"]["Ref"]
                        .as_str()
                        .or_else(|| spec["LaunchTemplateId"]["Ref"].as_str());
                    let Some(launch) = reference.and_then(|t| resources.get(t)) else {
                        continue;
                    };
                    let data = &launch["Properties"]["LaunchTemplateData"];
                    let instance_type = data["InstanceType"].as_str().unwrap_or_default();
                    if hosts < 0.5 {
                        // The spot hosts of `capacity: spot` services: none
                        // until their tasks need one (priced on demand).
                        let mut line = self.fixed(
                            id,
                            format!(
                                "{instance_type} spot hosts, as the spot services' tasks need them"
                            ),
                            "ec2.instance",
                            instance_type,
                            0.0,
                        );
                        if line.kind == LineKind::Fixed {
                            line.kind = LineKind::Usage;
                        }
                        lines.push(line);
                        continue;
                    }
                    // `cluster.schedule` lowers this group's minimum to 0 at
                    // night: its hosts, their volumes and addresses are
                    // priced for the hours on.
                    let (on, note) = self.hours_on(host_hours.0.get(&format!("hosts:{id}")));
                    let mut push = |mut line: Line| {
                        line.note.clone_from(&note);
                        lines.push(line);
                    };
                    push(self.fixed(
                        id,
                        format!("{hosts} × {instance_type} host (on demand)"),
                        "ec2.instance",
                        instance_type,
                        hosts * on,
                    ));
                    let gb: f64 = data["BlockDeviceMappings"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|d| number(&d["Ebs"]["VolumeSize"]))
                        .sum();
                    if gb > 0.0 {
                        push(self.fixed(
                            id,
                            format!("{hosts} × {gb} GB gp3 root volume"),
                            "ebs.gp3",
                            "",
                            hosts * gb * on / hours,
                        ));
                    }
                    // `nat: none`: each host has a public IPv4 address.
                    let public = data["NetworkInterfaces"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|n| n["AssociatePublicIpAddress"] == true);
                    if public {
                        push(self.fixed(
                            id,
                            format!(
                                "{hosts} public IPv4 address{} of the hosts",
                                if (hosts - 1.0).abs() < f64::EPSILON {
                                    ""
                                } else {
                                    "es"
                                }
                            ),
                            "ipv4.hour",
                            "",
                            hosts * on,
                        ));
                    }
                }
                "AWS::EC2::NatGateway" => {
                    lines.push(self.fixed(id, "NAT gateway".into(), "nat.hour", "", hours));
                    lines.push(self.usage(id, "NAT data processed", "nat.gb"));
                }
                "AWS::EC2::EIP" => {
                    lines.push(self.fixed(
                        id,
                        "public IPv4 address".into(),
                        "ipv4.hour",
                        "",
                        hours,
                    ));
                }
                "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
                    let kind = props["Type"].as_str().unwrap_or("application");
                    if kind != "application" {
                        lines.push(self.fixed(
                            id,
                            format!("{kind} load balancer"),
                            &format!("{kind}.hour"),
                            "",
                            hours,
                        ));
                        continue;
                    }
                    lines.push(self.fixed(
                        id,
                        "application load balancer".into(),
                        "alb.hour",
                        "",
                        hours,
                    ));
                    if props["Scheme"] != "internal" {
                        let zones = props["Subnets"].as_array().map_or(0.0, |s| {
                            f64::from(u32::try_from(s.len()).unwrap_or(u32::MAX))
                        });
                        lines.push(self.fixed(
                            id,
                            format!("{zones} public IPv4 addresses (one per zone)"),
                            "ipv4.hour",
                            "",
                            zones * hours,
                        ));
                    }
                    lines.push(self.usage(id, "load balancer capacity units", "alb.lcu"));
                }
                "AWS::EC2::FlowLog" => {
                    lines.push(self.usage(id, "flow log ingestion", "logs.ingest"));
                }
                _ => {}
            }
        }
        lines
    }

    /// The hours on per month of the thing an off-hours pair switches, and
    /// the note that says so; all the month's hours when there is no pair.
    fn hours_on(&self, pair: Option<&OffOn>) -> (f64, String) {
        let Some(pair) = pair else {
            return (self.hours, String::new());
        };
        match hours_on::hours_on_per_month(&pair.off, &pair.on, &pair.timezone, self.hours) {
            Ok(on) => (
                on,
                format!(
                    "off-hours: on {} of {} hours a month (off {}, on {}, {})",
                    trim_hours(on),
                    trim_hours(self.hours),
                    pair.off,
                    pair.on,
                    pair.timezone
                ),
            ),
            Err(error) => (
                self.hours,
                format!("off-hours not counted ({error}): every hour priced"),
            ),
        }
    }

    /// The cost of a heritage's templates, from their texts.
    fn own(&self, texts: &[Option<&String>]) -> Own {
        let templates: Vec<Value> = texts
            .iter()
            .flatten()
            .filter_map(|t| serde_json::from_str::<Value>(t).ok())
            .collect();
        let off_hours = OffHours::of(&templates);
        let mut lines = Vec::new();
        let mut reserved = (0.0, 0.0);
        for template in &templates {
            lines.extend(self.heritage_lines(template, &off_hours));
            let (cpu, mem) = reserved_on_hosts(template);
            reserved.0 += cpu;
            reserved.1 += mem;
        }
        Own {
            lines,
            reserved,
            off_hours: !off_hours.0.is_empty(),
        }
    }

    fn heritage_lines(&self, template: &Value, off_hours: &OffHours) -> Vec<Line> {
        let resources = resources(template);
        let hours = self.hours;
        let mut lines = Vec::new();
        for (id, resource) in resources {
            let props = &resource["Properties"];
            match resource["Type"].as_str().unwrap_or_default() {
                "AWS::RDS::DBInstance" => {
                    let class = props["DBInstanceClass"].as_str().unwrap_or_default();
                    let engine = props["Engine"].as_str().unwrap_or_default();
                    let multi_az = props["MultiAZ"] == true || props["MultiAZ"] == "true";
                    let az = if multi_az { "multi-az" } else { "single-az" };
                    let pair = props["DBInstanceIdentifier"]
                        .as_str()
                        .and_then(|name| off_hours.0.get(&format!("db:{name}")));
                    let (on, note) = self.hours_on(pair);
                    let mut line = self.fixed(
                        id,
                        format!("{engine} {class} {az}"),
                        "rds.instance",
                        &format!("{engine}/{class}/{az}"),
                        on,
                    );
                    if pair.is_some() {
                        line.note = format!(
                            "{note}; storage and backups are still charged while it is stopped"
                        );
                    }
                    lines.push(line);
                    let gb = number(&props["AllocatedStorage"]).unwrap_or(0.0);
                    let copies = if multi_az { 2.0 } else { 1.0 };
                    lines.push(self.fixed(
                        id,
                        format!(
                            "{gb} GB gp3 storage{}",
                            if multi_az { " × 2 (Multi-AZ)" } else { "" }
                        ),
                        "rds.gp3",
                        "",
                        gb * copies,
                    ));
                    lines.push(self.usage(
                        id,
                        "backup storage beyond the database size",
                        "rds.backup",
                    ));
                }
                "AWS::ElastiCache::ReplicationGroup" => {
                    let node = props["CacheNodeType"].as_str().unwrap_or_default();
                    let nodes = number(&props["NumCacheClusters"]).unwrap_or(1.0);
                    lines.push(self.fixed(
                        id,
                        format!("{nodes} × {node} node"),
                        "elasticache.node",
                        node,
                        nodes * hours,
                    ));
                }
                "AWS::SecretsManager::Secret" => {
                    lines.push(self.fixed(id, "secret".into(), "secretsmanager.secret", "", 1.0));
                }
                "AWS::S3::Bucket" => {
                    lines.push(self.usage(id, "S3 storage", "s3.storage"));
                    lines.push(self.usage(id, "S3 PUT requests", "s3.put"));
                    lines.push(self.usage(id, "S3 GET requests", "s3.get"));
                }
                "AWS::ECR::Repository" => {
                    lines.push(self.usage(id, "image storage", "ecr.storage"));
                }
                "AWS::Logs::LogGroup" => {
                    lines.push(self.usage(id, "log ingestion", "logs.ingest"));
                    lines.push(self.usage(id, "log storage", "logs.storage"));
                }
                "AWS::ECS::Service" if props["LaunchType"] == "FARGATE" => {
                    let count = number(&props["DesiredCount"]).unwrap_or(1.0);
                    let Some(task) = task_of(resources, props) else {
                        continue;
                    };
                    let (cpu, mem) = task_size(task);
                    let arch = if task["RuntimePlatform"]["CpuArchitecture"] == "ARM64" {
                        "arm"
                    } else {
                        "x86"
                    };
                    let vcpu = cpu / 1024.0;
                    let gb = mem / 1024.0;
                    let pair = props["ServiceName"]
                        .as_str()
                        .and_then(|name| off_hours.0.get(&format!("service:{name}")));
                    let (on, note) = self.hours_on(pair);
                    let mut line = self.fixed(
                        id,
                        format!("{count} × {vcpu} vCPU Fargate ({arch})"),
                        "fargate.vcpu",
                        arch,
                        count * vcpu * on,
                    );
                    line.note.clone_from(&note);
                    lines.push(line);
                    let mut line = self.fixed(
                        id,
                        format!("{count} × {gb} GB Fargate ({arch})"),
                        "fargate.gb",
                        arch,
                        count * gb * on,
                    );
                    line.note = note;
                    lines.push(line);
                }
                _ => {}
            }
        }
        lines
    }
}

/// `730` rather than `730.0`, `552.57` as it is.
fn trim_hours(hours: f64) -> String {
    let text = format!("{hours:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The off and on expressions that switch one thing, and their zone.
#[derive(Debug, Clone, Default)]
struct OffOn {
    off: String,
    on: String,
    timezone: String,
}

/// The off-hours pairs of a heritage's or district's templates, read from
/// their `AWS::Scheduler::Schedule` resources (see `plan::off_hours`):
/// `db:<identifier>` for a database stopped and started, `service:<name>`
/// for a service set to 0 tasks and back, `hosts:<group>` for an Auto
/// Scaling group whose minimum goes to 0 and back. The artifacts' own times are used, staggered as they run
/// (the database stops minutes after the services do).
#[derive(Debug, Clone, Default)]
struct OffHours(BTreeMap<String, OffOn>);

impl OffHours {
    fn of(templates: &[Value]) -> Self {
        let mut pairs: BTreeMap<String, OffOn> = BTreeMap::new();
        for template in templates {
            for schedule in resources(template)
                .values()
                .filter(|r| r["Type"] == "AWS::Scheduler::Schedule")
            {
                let props = &schedule["Properties"];
                let (Some(expression), Some(arn)) = (
                    props["ScheduleExpression"].as_str(),
                    props["Target"]["Arn"].as_str(),
                ) else {
                    continue;
                };
                // A string, or the text of an `Fn::Sub` (its `${...}` stay
                // inside JSON strings).
                let input_text = &props["Target"]["Input"];
                let input: Value = input_text
                    .as_str()
                    .or_else(|| input_text["Fn::Sub"][0].as_str())
                    .and_then(|i| serde_json::from_str(i).ok())
                    .unwrap_or_default();
                let (key, turns_on) = if arn.ends_with(":rds:stopDBInstance") {
                    (
                        input["DBInstanceIdentifier"]
                            .as_str()
                            .map(|n| format!("db:{n}")),
                        false,
                    )
                } else if arn.ends_with(":rds:startDBInstance") {
                    (
                        input["DBInstanceIdentifier"]
                            .as_str()
                            .map(|n| format!("db:{n}")),
                        true,
                    )
                } else if arn.ends_with(":ecs:updateService") {
                    let on = input["desiredCount"].as_u64().is_some_and(|n| n > 0);
                    (
                        input["service"].as_str().map(|n| format!("service:{n}")),
                        on,
                    )
                } else if arn.ends_with(":autoscaling:updateAutoScalingGroup") {
                    // `cluster.schedule`: the group named by `${Group}`.
                    let group = props["Target"]["Input"]["Fn::Sub"][1]
                        .as_object()
                        .and_then(|vars| vars.values().next())
                        .and_then(|v| v["Ref"].as_str());
                    let on = input["MinSize"].as_u64().is_some_and(|n| n > 0);
                    (group.map(|g| format!("hosts:{g}")), on)
                } else {
                    continue;
                };
                let Some(key) = key else { continue };
                let pair = pairs.entry(key).or_default();
                if turns_on {
                    expression.clone_into(&mut pair.on);
                } else {
                    expression.clone_into(&mut pair.off);
                }
                props["ScheduleExpressionTimezone"]
                    .as_str()
                    .unwrap_or("UTC")
                    .clone_into(&mut pair.timezone);
            }
        }
        pairs.retain(|_, p| !p.off.is_empty() && !p.on.is_empty());
        Self(pairs)
    }
}
