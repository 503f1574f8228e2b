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
    /// Where its `certificate_arn` was written.
    pub certificate: Option<Span>,
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

/// What one load balancer holds: a target group per listener, its rules
/// (one per listener on HTTPS, and a second on HTTP for `force_ssl: false`)
/// and the instances' own certificates. Each load balancer of the
/// endpoint's pool is counted on its own.
fn load_balancer_limits(
    district: &District,
    endpoint: &str,
    sites: &[&Site<'_>],
    out: &mut Vec<Diagnostic>,
) {
    let Some(pool) = district.endpoints.iter().find(|e| e.name == endpoint) else {
        return;
    };
    let mut by_load_balancer: BTreeMap<&str, Vec<&Site<'_>>> = BTreeMap::new();
    for site in sites {
        by_load_balancer
            .entry(&site.listener.load_balancer)
            .or_default()
            .push(site);
    }
    let fitting = || fitting_pool(district, pool, sites);
    for (name, sites) in by_load_balancer {
        let lb = district.load_balancers.iter().find(|lb| lb.name == name);
        let what = match lb {
            Some(lb) if lb.count > 1 => format!(
                "load balancer {} of {} of endpoint `{endpoint}` (`{name}`)",
                lb.index, lb.count
            ),
            _ => format!("endpoint `{endpoint}`"),
        };
        one_load_balancer(district, pool, &what, &sites, &fitting, out);
    }
}

/// The load one heritage puts on its load balancer: target groups, rules and its own certificates.
#[derive(Default)]
struct Load<'a> {
    groups: u64,
    rules: u64,
    certificates: BTreeSet<&'a str>,
}

impl<'a> Load<'a> {
    fn add(&mut self, site: &Site<'a>, default_certificate: &str) {
        self.groups += 1;
        self.rules += if site.service.force_ssl { 1 } else { 2 };
        if let Some(arn) = &site.listener.certificate_arn
            && arn != default_certificate
        {
            self.certificates.insert(arn);
        }
    }

    fn fits(&self, district: &District) -> bool {
        self.groups <= limits::TARGET_GROUPS_PER_ALB.value
            && self.rules <= district.quotas.rules_per_load_balancer
            && self.certificates.len() as u64 <= district.quotas.certificates_per_load_balancer
    }
}

/// The smallest pool, larger than the endpoint's, on which every load
/// balancer stays within its limits; `None` when no pool of up to 50 does.
fn fitting_pool(
    district: &District,
    endpoint: &super::Endpoint,
    sites: &[&Site<'_>],
) -> Option<u32> {
    (endpoint.load_balancers + 1..=50).find(|&count| {
        let mut loads: BTreeMap<u32, Load<'_>> = BTreeMap::new();
        for site in sites {
            let index = super::pool::place_index(
                &district.name,
                &endpoint.name,
                &site.heritage.name,
                count,
            );
            loads
                .entry(index)
                .or_default()
                .add(site, &endpoint.certificate_arn);
        }
        loads.values().all(|load| load.fits(district))
    })
}

fn one_load_balancer(
    district: &District,
    endpoint: &super::Endpoint,
    what: &str,
    sites: &[&Site<'_>],
    fitting: &dyn Fn() -> Option<u32>,
    out: &mut Vec<Diagnostic>,
) {
    let pool_help = || match fitting() {
        Some(count) => format!(
            "set `load_balancers: {count}` on endpoint `{}` in district `{}` (each heritage goes to one load balancer by a hash of its name; raising the count moves about 1 in {count} to a new one)",
            endpoint.name, district.name
        ),
        None => format!(
            "route some heritages through another endpoint of district `{}`",
            district.name
        ),
    };
    let mut total = Load::default();
    for site in sites {
        total.add(site, &endpoint.certificate_arn);
    }
    // Each error points at the listener that goes over the limit.
    let mut load = Load::default();
    let (groups_limit, rules_limit) = (
        limits::TARGET_GROUPS_PER_ALB.value,
        district.quotas.rules_per_load_balancer,
    );
    let certificates_limit = district.quotas.certificates_per_load_balancer;
    let mut owners: BTreeMap<&str, &Site<'_>> = BTreeMap::new();
    for site in sites {
        shared_certificate(endpoint, what, site, &mut owners, out);
        let (rules_before, certificates_before) = (load.rules, load.certificates.len() as u64);
        load.add(site, &endpoint.certificate_arn);
        if load.groups == groups_limit + 1 {
            out.push(
                Diagnostic::error(
                    "load-balancer-limit",
                    format!(
                        "{what} would hold {} target groups, one per listener; an Application Load Balancer holds {}",
                        total.groups,
                        limits::allowed(&limits::TARGET_GROUPS_PER_ALB, groups_limit)
                    ),
                )
                .at(site.span.clone(), format!("target group {}, of {}", load.groups, site.name()))
                .help(pool_help()),
            );
        }
        if load.rules > rules_limit && rules_before <= rules_limit {
            out.push(
                Diagnostic::error(
                    "load-balancer-limit",
                    format!(
                        "{what} would hold {} listener rules; an Application Load Balancer holds {}",
                        total.rules,
                        limits::allowed(&limits::RULES_PER_ALB, rules_limit)
                    ),
                )
                .at(site.span.clone(), format!("rule {}, of {}", load.rules, site.name()))
                .help(format!(
                    "{}; or set `quotas.rules_per_load_balancer` in district `{}` if its account's quota is higher",
                    pool_help(),
                    district.name
                )),
            );
        }
        let certificates = load.certificates.len() as u64;
        if certificates > certificates_limit && certificates_before <= certificates_limit {
            out.push(
                Diagnostic::error(
                    "load-balancer-limit",
                    format!(
                        "{what} would hold {} certificates besides its default one; an Application Load Balancer holds {}",
                        total.certificates.len(),
                        limits::allowed(&limits::CERTIFICATES_PER_ALB, certificates_limit)
                    ),
                )
                .at(
                    site.certificate.clone().unwrap_or_else(|| site.span.clone()),
                    format!("certificate {certificates}, of {}", site.name()),
                )
                .help(format!(
                    "{}; or set `quotas.certificates_per_load_balancer` in district `{}` if its account's quota is higher",
                    pool_help(),
                    district.name
                )),
            );
        }
    }
}

/// A certificate two heritages add to the same load balancer: each app
/// stack adds it, and deleting either would take it off the listener for both.
fn shared_certificate<'a>(
    endpoint: &super::Endpoint,
    what: &str,
    site: &'a Site<'a>,
    owners: &mut BTreeMap<&'a str, &'a Site<'a>>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(arn) = site.listener.certificate_arn.as_deref() else {
        return;
    };
    if arn == endpoint.certificate_arn {
        return;
    }
    match owners.get(arn) {
        Some(first) if first.heritage.name != site.heritage.name => out.push(
            Diagnostic::error(
                "shared-certificate",
                format!(
                    "{} and {} both add certificate `{arn}` to {what}; removing either would take it off the listener for both",
                    first.name(),
                    site.name()
                ),
            )
            .at(site.certificate.clone().unwrap_or_else(|| site.span.clone()), "added here")
            .also(first.certificate.clone().unwrap_or_else(|| first.span.clone()), "and here")
            .help(format!(
                "a certificate several instances share belongs to the endpoint: make it `certificate_arn` of endpoint `{}`, and drop it from the listeners",
                endpoint.name
            )),
        ),
        Some(_) => {}
        None => {
            owners.insert(arn, site);
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
