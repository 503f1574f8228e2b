//! Cluster capacity: whether the tasks of a district's EC2 services fit on
//! its container hosts.
//!
//! A task cannot span hosts, so the tasks are placed first-fit, largest
//! first, on `size` hosts (at their minimum counts: `desired_count`, or
//! autoscaling's `min`), and again on `max_size` hosts with every task
//! doubled, as a deploy with `MaximumPercent: 200` briefly runs old and new
//! tasks side by side. A task reserves its container's `memory` (the hard
//! limit berth writes) and its `cpu` units (none when absent).
//!
//! What a host offers comes from [`instance_size`]: the vCPUs and memory AWS
//! lists for the instance type, less what the ECS agent does not register
//! (see [`usable_memory`]). `validate` prints the cluster's use. Fargate services and one-off tasks take no host
//! capacity and are not counted.

use crate::diagnostic::{Diagnostic, Span};
use crate::limits::thousands;
use crate::schema::LaunchType;

use super::District;

/// vCPUs and MiB of memory of an EC2 instance type, for the general purpose,
/// compute and memory optimized families berth knows: the families' sizes
/// follow one ratio of memory to vCPUs from `large` up
/// (<https://aws.amazon.com/ec2/instance-types/>; burstable `t` sizes as
/// listed there).
#[must_use]
pub fn instance_size(instance_type: &str) -> Option<(u32, u64)> {
    let (family, size) = instance_type.split_once('.')?;
    let burstable = matches!(family, "t3" | "t3a" | "t4g");
    if burstable {
        return match size {
            "nano" => Some((2, 512)),
            "micro" => Some((2, 1024)),
            "small" => Some((2, 2048)),
            "medium" => Some((2, 4096)),
            "large" => Some((2, 8192)),
            "xlarge" => Some((4, 16384)),
            "2xlarge" => Some((8, 32768)),
            _ => None,
        };
    }
    // MiB per vCPU: c (compute) 2 GiB, m (general purpose) 4 GiB, r (memory) 8 GiB.
    let generation = family.get(1..2)?.parse::<u32>().ok()?;
    let per_vcpu = match family.chars().next()? {
        'c' => 2048,
        'm' => 4096,
        'r' => 8192,
        _ => return None,
    };
    // Only the plain, AMD (`a`), Graviton (`g`) and Intel (`i`) variants:
    // others (`d`, `n`, `z`, `flex`) change the ratio or the sizes.
    if generation < 5 || !matches!(&family[2..], "" | "a" | "g" | "i") {
        return None;
    }
    let vcpus = match size {
        "large" => 2,
        "xlarge" => 4,
        "2xlarge" => 8,
        "4xlarge" => 16,
        "8xlarge" => 32,
        "12xlarge" => 48,
        "16xlarge" => 64,
        _ => return None,
    };
    Some((vcpus, u64::from(vcpus) * per_vcpu))
}

/// MiB the ECS agent registers of `installed` MiB: what the kernel leaves,
/// estimated from the ECS documentation's example (an `m4.large` with 8 GiB
/// registers 7,985 MiB, 2.5 % less;
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html>).
#[must_use]
pub fn usable_memory(installed: u64) -> u64 {
    installed * 7985 / 8192
}

/// One task to place: MiB and CPU units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Task {
    memory: u64,
    cpu: u64,
}

/// Places `tasks` first-fit, largest first, on `hosts` hosts of
/// `(memory, cpu)`; returns whether all fit.
fn fits(tasks: &[Task], hosts: u32, host: Task) -> bool {
    let mut sorted = tasks.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut free = vec![host; hosts as usize];
    'tasks: for task in sorted {
        for slot in &mut free {
            if slot.memory >= task.memory && slot.cpu >= task.cpu {
                slot.memory -= task.memory;
                slot.cpu -= task.cpu;
                continue 'tasks;
            }
        }
        return false;
    }
    true
}

/// More ECS services than one cluster holds: every service of every
/// heritage of the district runs on its cluster.
#[must_use]
pub fn services_per_cluster(district: &District, at: &dyn Fn(&str) -> Span) -> Vec<Diagnostic> {
    let count: u64 = district
        .heritages
        .iter()
        .map(|h| h.services.len() as u64)
        .sum();
    let limit = district.quotas.services_per_cluster;
    if count <= limit {
        return Vec::new();
    }
    vec![
        Diagnostic::error(
            "cluster-limit",
            format!(
                "the cluster of district `{}` would run {} services; an ECS cluster holds {}",
                district.name,
                crate::limits::thousands(count),
                crate::limits::allowed(&crate::limits::SERVICES_PER_CLUSTER, limit)
            ),
        )
        .at(at("/cluster"), "one cluster for every heritage of the district")
        .help("move some instances to another district, or set `quotas.services_per_cluster` if the account's quota is higher"),
    ]
}

/// An error when the district's tasks cannot be placed, a warning when a
/// deploy's surge may not fit, and the cluster's use when the instance
/// type's size is known; `at` locates a key of the district file.
#[must_use]
pub fn check(
    district: &District,
    at: &dyn Fn(&str) -> Span,
) -> (Vec<Diagnostic>, Option<ClusterUse>) {
    let cluster = &district.cluster;
    let Some((vcpus, installed)) = instance_size(&cluster.instance_type) else {
        return (vec![
            Diagnostic::note(
                "capacity-unknown",
                format!(
                    "berth does not know the size of `{}`, so the cluster's capacity is not checked",
                    cluster.instance_type
                ),
            )
            .at(at("/cluster/instance_type"), "size unknown")
            .help("the general purpose, compute and memory optimized families (t3, t4g, m6i, c7g, r6g, …) are known"),
        ], None);
    };
    let host = Task {
        memory: usable_memory(installed),
        cpu: u64::from(vcpus) * 1024,
    };
    let mut tasks = Vec::new();
    // `capacity: spot` runs on the district's spot hosts, a group of its own
    // that grows from none to `max_size` hosts as its tasks need.
    let mut spot = Vec::new();
    for heritage in &district.heritages {
        for service in &heritage.services {
            if service.launch_type == LaunchType::Fargate {
                continue;
            }
            let count = service
                .autoscaling
                .as_ref()
                .map_or(service.desired_count, |a| a.min);
            let task = Task {
                memory: u64::from(service.memory),
                cpu: u64::from(service.cpu.unwrap_or(0)),
            };
            let on = if service.spot { &mut spot } else { &mut tasks };
            on.extend(std::iter::repeat_n(task, count as usize));
        }
    }
    let doubled = |tasks: &[Task]| -> Vec<Task> { tasks.iter().flat_map(|t| [*t, *t]).collect() };
    let mut out = Vec::new();
    if !fits(&doubled(&spot), cluster.max_size, host) {
        let memory: u64 = spot.iter().map(|t| t.memory).sum();
        let cpu: u64 = spot.iter().map(|t| t.cpu).sum();
        out.push(
            Diagnostic::warning(
                "spot-capacity",
                format!(
                    "the tasks with `capacity: spot` of district `{}` may not fit on its spot hosts during a deploy: old and new tasks side by side need {} MiB and {} CPU units, on at most {} × {} ({} MiB and {} CPU units each)",
                    district.name,
                    thousands(memory * 2),
                    thousands(cpu * 2),
                    cluster.max_size,
                    cluster.instance_type,
                    thousands(host.memory),
                    thousands(host.cpu)
                ),
            )
            .at(at("/cluster/max_size"), "the most spot hosts too")
            .help("raise `cluster.max_size`: the spot hosts grow up to it, from none"),
        );
    }
    if tasks.is_empty() {
        return (out, None);
    }
    let memory: u64 = tasks.iter().map(|t| t.memory).sum();
    let cpu: u64 = tasks.iter().map(|t| t.cpu).sum();
    let hosts = |n: u32| {
        format!(
            "{n} × {} ({} MiB and {} CPU units each)",
            cluster.instance_type,
            thousands(host.memory),
            thousands(host.cpu)
        )
    };
    let need = format!(
        "{} task{} need{} {} MiB and {} CPU units",
        tasks.len(),
        if tasks.len() == 1 { "" } else { "s" },
        if tasks.len() == 1 { "s" } else { "" },
        thousands(memory),
        thousands(cpu)
    );
    if !fits(&tasks, cluster.size, host) {
        return (vec![
            Diagnostic::error(
                "cluster-capacity",
                format!(
                    "the tasks of district `{}` do not fit on its hosts: {need} at their minimum counts, on {}",
                    district.name,
                    hosts(cluster.size)
                ),
            )
            .at(at("/cluster/size"), "too few or too small hosts")
            .help("raise `cluster.size` or choose a larger `cluster.instance_type`, or lower services' `memory`, `cpu` or counts"),
        ], None);
    }
    let use_ = ClusterUse {
        tasks: tasks.len(),
        memory,
        memory_total: host.memory * u64::from(cluster.size),
        cpu,
        cpu_total: host.cpu * u64::from(cluster.size),
        hosts: hosts(cluster.size),
    };
    if !fits(&doubled(&tasks), cluster.max_size, host) {
        out.push(
            Diagnostic::warning(
                "deploy-capacity",
                format!(
                    "a deploy of every service of district `{}` at once may not fit: old and new tasks side by side need {} MiB and {} CPU units, on {}",
                    district.name,
                    thousands(memory * 2),
                    thousands(cpu * 2),
                    hosts(cluster.max_size)
                ),
            )
            .at(at("/cluster/max_size"), "room for the deploy surge")
            .help("raise `cluster.max_size` so managed scaling can add hosts while a deploy runs"),
        );
    }
    (out, Some(use_))
}

/// How full a district's cluster is at its services' minimum counts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClusterUse {
    pub tasks: usize,
    pub memory: u64,
    pub memory_total: u64,
    pub cpu: u64,
    pub cpu_total: u64,
    /// The hosts, in words: `2 × t3.xlarge (15,970 MiB and 4,096 CPU units each)`.
    pub hosts: String,
}

impl std::fmt::Display for ClusterUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let percent = |used: u64, of: u64| used * 100 / of.max(1);
        write!(
            f,
            "{} task{} use{} {} of {} MiB ({} %) and {} of {} CPU units ({} %) on {}",
            thousands(self.tasks as u64),
            if self.tasks == 1 { "" } else { "s" },
            if self.tasks == 1 { "s" } else { "" },
            thousands(self.memory),
            thousands(self.memory_total),
            percent(self.memory, self.memory_total),
            thousands(self.cpu),
            thousands(self.cpu_total),
            percent(self.cpu, self.cpu_total),
            self.hosts
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_of_known_instance_types() {
        let table: &[(&str, Option<(u32, u64)>)] = &[
            ("t3.small", Some((2, 2048))),
            ("t4g.medium", Some((2, 4096))),
            ("m6i.large", Some((2, 8192))),
            ("m7g.2xlarge", Some((8, 32768))),
            ("c6g.xlarge", Some((4, 8192))),
            ("r6i.large", Some((2, 16384))),
            ("m5d.large", None),
            ("m4.large", None),
            ("x2idn.16xlarge", None),
            ("t3.smal", None),
        ];
        for (name, size) in table {
            assert_eq!(instance_size(name), *size, "{name}");
        }
    }

    #[test]
    fn the_documented_example_registers_what_the_docs_say() {
        assert_eq!(usable_memory(8192), 7985);
    }

    #[test]
    fn tasks_cannot_span_hosts() {
        let host = Task {
            memory: 1000,
            cpu: 2048,
        };
        let task = |memory| Task { memory, cpu: 0 };
        assert!(fits(&[task(600), task(400), task(600), task(400)], 2, host));
        // 1,800 MiB in all fits 2 × 1,000 only if no host takes two 600s.
        assert!(!fits(&[task(600), task(600), task(600)], 2, host));
        assert!(!fits(&[task(1001)], 5, host));
    }
}
