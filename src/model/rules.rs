//! Fleet-wide rules about listener rules, checked on resolved values.
//!
//! Instances share load balancers, so their rules meet on one listener:
//! priorities must be unique, no two rules may match the same requests, an
//! endpoint shared by several heritages must tell them apart by host, and a
//! rule must not be shadowed by a broader one evaluated before it.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::{Diagnostic, Span};
use crate::limits;
use crate::schema::ConditionType;

use super::{District, Heritage, Listener, Service};

/// Where a listener rule was written.
pub struct Site<'a> {
    pub heritage: &'a Heritage,
    pub service: &'a Service,
    pub listener: &'a Listener,
    pub span: Span,
}

impl Site<'_> {
    fn name(&self) -> String {
        format!("`{}`/`{}`", self.heritage.name, self.service.name)
    }

    fn values(&self, field: ConditionType) -> BTreeSet<&str> {
        self.listener
            .conditions
            .iter()
            .filter(|c| c.field == field)
            .flat_map(|c| c.values.iter().map(String::as_str))
            .collect()
    }

    fn hosts(&self) -> BTreeSet<&str> {
        self.values(ConditionType::HostHeader)
    }

    fn paths(&self) -> BTreeSet<&str> {
        self.values(ConditionType::PathPattern)
    }

    /// Matches every path (on its hosts).
    fn catch_all(&self) -> bool {
        self.paths().iter().all(|p| *p == "/*")
    }

    /// Whether every request this rule matches, `other` matches too.
    fn covered_by(&self, other: &Site<'_>) -> bool {
        let hosts = self.hosts();
        let other_hosts = other.hosts();
        other.catch_all()
            && (other_hosts.is_empty() || (!hosts.is_empty() && hosts.is_subset(&other_hosts)))
    }
}

/// Checks the rules of one district; `sites` lists every listener rule.
#[must_use]
pub fn check(district: &District, sites: &[Site<'_>]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut by_endpoint: BTreeMap<&str, Vec<&Site<'_>>> = BTreeMap::new();
    for site in sites {
        by_endpoint
            .entry(&site.listener.endpoint)
            .or_default()
            .push(site);
    }
    for (endpoint, sites) in by_endpoint {
        priorities(endpoint, &sites, &mut out);
        identical(endpoint, &sites, &mut out);
        shared_without_host(district, endpoint, &sites, &mut out);
        shadowed(endpoint, &sites, &mut out);
        load_balancer_limits(district, endpoint, &sites, &mut out);
    }
    for site in sites {
        rule_limits(site, &mut out);
    }
    out
}

/// What one load balancer holds: a target group per listener, and its rules
/// (one per listener on HTTPS, and a second on HTTP for `force_ssl: false`).
fn load_balancer_limits(
    district: &District,
    endpoint: &str,
    sites: &[&Site<'_>],
    out: &mut Vec<Diagnostic>,
) {
    let rules_of = |site: &Site<'_>| if site.service.force_ssl { 1 } else { 2 };
    let groups_limit = limits::TARGET_GROUPS_PER_ALB.value;
    let rules_limit = district.quotas.rules_per_load_balancer;
    let total_groups = sites.len() as u64;
    let total_rules: u64 = sites.iter().map(|s| rules_of(s)).sum();
    // Each error points at the listener that goes over the limit.
    let (mut groups, mut rules) = (0, 0);
    for site in sites {
        groups += 1;
        rules += rules_of(site);
        if groups == groups_limit + 1 {
            out.push(
                Diagnostic::error(
                    "load-balancer-limit",
                    format!(
                        "endpoint `{endpoint}` would hold {total_groups} target groups, one per listener; an Application Load Balancer holds {}",
                        limits::allowed(&limits::TARGET_GROUPS_PER_ALB, groups_limit)
                    ),
                )
                .at(site.span.clone(), format!("target group {groups}, of {}", site.name()))
                .help(format!("route some heritages through another endpoint of district `{}`", district.name)),
            );
        }
        if rules > rules_limit && rules - rules_of(site) <= rules_limit {
            out.push(
                Diagnostic::error(
                    "load-balancer-limit",
                    format!(
                        "endpoint `{endpoint}` would hold {total_rules} listener rules; an Application Load Balancer holds {}",
                        limits::allowed(&limits::RULES_PER_ALB, rules_limit)
                    ),
                )
                .at(site.span.clone(), format!("rule {rules}, of {}", site.name()))
                .help(format!(
                    "route some heritages through another endpoint, or set `quotas.rules_per_load_balancer` in district `{}` if its account's quota is higher",
                    district.name
                )),
            );
        }
    }
}

/// What one rule may hold: at most five condition values and five wildcards.
fn rule_limits(site: &Site<'_>, out: &mut Vec<Diagnostic>) {
    let values: Vec<&String> = site
        .listener
        .conditions
        .iter()
        .flat_map(|c| &c.values)
        .collect();
    let limit = limits::CONDITION_VALUES_PER_RULE.value;
    let count = values.len() as u64;
    if count > limit {
        out.push(
            Diagnostic::error(
                "rule-limit",
                format!(
                    "the rule of {} has {count} condition values (host names and path patterns); a rule allows {}",
                    site.name(),
                    limits::allowed(&limits::CONDITION_VALUES_PER_RULE, limit)
                ),
            )
            .at(site.span.clone(), "too many condition values")
            .help("split it into several listeners of the service, each with some of the hosts or paths"),
        );
    }
    let wildcards = values
        .iter()
        .map(|v| v.chars().filter(|c| matches!(c, '*' | '?')).count() as u64)
        .sum::<u64>();
    let limit = limits::CONDITION_WILDCARDS_PER_RULE.value;
    if wildcards > limit {
        out.push(
            Diagnostic::error(
                "rule-limit",
                format!(
                    "the rule of {} has {wildcards} wildcards (`*`, `?`) in its conditions; a rule allows {}",
                    site.name(),
                    limits::allowed(&limits::CONDITION_WILDCARDS_PER_RULE, limit)
                ),
            )
            .at(site.span.clone(), "too many wildcards")
            .help("split it into several listeners of the service, or write fewer patterns"),
        );
    }
}

fn priorities(endpoint: &str, sites: &[&Site<'_>], out: &mut Vec<Diagnostic>) {
    let mut taken: BTreeMap<u32, &Site<'_>> = BTreeMap::new();
    for site in sites {
        let priority = site.listener.priority;
        match taken.get(&priority) {
            // Two explicit priorities are reported by the fleet check already.
            Some(first) if site.listener.priority_assigned || first.listener.priority_assigned => {
                out.push(
                    Diagnostic::error(
                        "priority-conflict",
                        format!("rule priority {priority} of {} on endpoint `{endpoint}` is also taken by {}", site.name(), first.name()),
                    )
                    .at(site.span.clone(), if site.listener.priority_assigned { "assigned from names" } else { "set here" })
                    .also(first.span.clone(), "taken here")
                    .help("set `rule_priority` on one of the two listeners (below 1000 never collides with assigned ones)"),
                );
            }
            Some(_) => {}
            None => {
                taken.insert(priority, site);
            }
        }
    }
}

fn identical(endpoint: &str, sites: &[&Site<'_>], out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<(BTreeSet<&str>, BTreeSet<&str>), &Site<'_>> = BTreeMap::new();
    for site in sites {
        let key = (site.hosts(), site.paths());
        if let Some(first) = seen.get(&key) {
            out.push(
                Diagnostic::error(
                    "duplicate-rule",
                    format!("rules of {} and {} on endpoint `{endpoint}` have identical conditions", first.name(), site.name()),
                )
                .at(site.span.clone(), "matches the same requests")
                .also(first.span.clone(), "as this rule")
                .help("only the rule with the lower priority would ever receive traffic: give one a different host or path"),
            );
        } else {
            seen.insert(key, site);
        }
    }
}

fn shared_without_host(
    district: &District,
    endpoint: &str,
    sites: &[&Site<'_>],
    out: &mut Vec<Diagnostic>,
) {
    let heritages: BTreeSet<&str> = sites.iter().map(|s| s.heritage.name.as_str()).collect();
    if heritages.len() < 2 {
        return;
    }
    for site in sites.iter().filter(|s| s.hosts().is_empty()) {
        let Some(other) = sites.iter().find(|o| o.heritage.name != site.heritage.name) else {
            continue;
        };
        out.push(
            Diagnostic::error(
                "shared-endpoint-without-host",
                format!(
                    "the rule of {} has no host, but endpoint `{endpoint}` of district `{}` is shared with `{}`",
                    site.name(),
                    district.name,
                    other.heritage.name
                ),
            )
            .at(site.span.clone(), "matches requests for every host")
            .also(other.span.clone(), "another instance on the same endpoint")
            .help("give each instance on a shared endpoint its host names with `hosts: [social.example.com]`"),
        );
    }
}

fn shadowed(endpoint: &str, sites: &[&Site<'_>], out: &mut Vec<Diagnostic>) {
    // Broad rules (catch-alls) by host, so each rule is compared with the few that can cover it.
    let mut broad: BTreeMap<&str, Vec<&Site<'_>>> = BTreeMap::new();
    let mut hostless: Vec<&Site<'_>> = Vec::new();
    for site in sites.iter().filter(|s| s.catch_all()) {
        let hosts = site.hosts();
        if hosts.is_empty() {
            hostless.push(site);
        }
        for host in hosts {
            broad.entry(host).or_default().push(site);
        }
    }
    for site in sites {
        let hosts = site.hosts();
        let candidates = hosts
            .iter()
            .flat_map(|h| broad.get(h).into_iter().flatten())
            .chain(&hostless);
        let shadow = candidates
            .filter(|b| {
                !std::ptr::eq(**b, *site)
                    && b.listener.priority < site.listener.priority
                    && site.covered_by(b)
            })
            .min_by_key(|b| b.listener.priority);
        if let Some(broader) = shadow {
            out.push(
                Diagnostic::warning(
                    "shadowed-rule",
                    format!(
                        "the rule of {} (priority {}) on endpoint `{endpoint}` is evaluated after the broader rule of {} (priority {}), which takes all its traffic",
                        site.name(),
                        site.listener.priority,
                        broader.name(),
                        broader.listener.priority
                    ),
                )
                .at(site.span.clone(), "never receives a request")
                .also(broader.span.clone(), "evaluated first")
                .help("give the more specific rule the lower `rule_priority`, or remove the explicit priorities and let berth order them"),
            );
        }
    }
}
