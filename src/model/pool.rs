//! Endpoints as pools of Application Load Balancers.
//!
//! One ALB holds at most 100 target groups (not adjustable), 100 rules and 25
//! extra certificates by default, so a large fleet outgrows one. An endpoint
//! with `load_balancers: N` is N ALBs. Each heritage routed through it is
//! placed on one of them by rendezvous (highest random weight) hashing of
//! district, endpoint and heritage name: the placement depends on the
//! heritage and N only, so adding or removing heritages never moves another
//! one, and raising N moves only the heritages a new load balancer wins
//! (about one in N) — never one between the load balancers it had before.
//!
//! The first load balancer of an endpoint keeps the endpoint's own names
//! (logical ids, exports, outputs); the k-th is named like an endpoint called
//! `<endpoint>-lb<k>` would be, and a real endpoint of that name is an error.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::diagnostic::{Diagnostic, Span};

use super::District;

/// One Application Load Balancer of an endpoint's pool.
#[derive(Debug, Clone, Serialize)]
pub struct LoadBalancer {
    /// Its pool name: the endpoint's for the first, `<endpoint>-lb<k>` for
    /// the k-th. Logical ids, exports and outputs are derived from it as from
    /// an endpoint's name.
    pub name: String,
    pub endpoint: String,
    /// 1-based place in the pool, and the pool's size.
    pub index: u32,
    pub count: u32,
    pub public: bool,
    pub ssl_policy: String,
    pub certificate_arn: String,
    /// The load balancer's `Name`: `<district>-<pool name>`, at most 32
    /// characters, no trailing hyphen.
    pub aws_name: String,
    /// The endpoint's access logs, if it writes them.
    pub access_logs: Option<super::AccessLogs>,
    /// The endpoint's AWS WAF web ACL, if it has one.
    pub web_acl_arn: Option<String>,
    /// The endpoint's `CloudFront` distribution, if it has one (an endpoint
    /// with a distribution is one load balancer).
    pub cdn: Option<super::EndpointCdn>,
}

/// The pool name of the `index`-th (1-based) load balancer of `endpoint`.
#[must_use]
pub fn pool_name(endpoint: &str, index: u32) -> String {
    if index <= 1 {
        endpoint.to_owned()
    } else {
        format!("{endpoint}-lb{index}")
    }
}

/// Which of `count` load balancers of `endpoint` a heritage is placed on (1-based).
#[must_use]
pub fn place_index(district: &str, endpoint: &str, heritage: &str, count: u32) -> u32 {
    (1..=count.max(1))
        .max_by_key(|index| {
            let digest = Sha256::digest(format!("{district}/{endpoint}/{heritage}/{index}"));
            u64::from_be_bytes(digest[..8].try_into().expect("eight bytes"))
        })
        .unwrap_or(1)
}

/// The load balancers of a district's endpoints, in order.
#[must_use]
pub fn load_balancers(district: &District) -> Vec<LoadBalancer> {
    let mut out = Vec::new();
    for endpoint in &district.endpoints {
        for index in 1..=endpoint.load_balancers.max(1) {
            let name = pool_name(&endpoint.name, index);
            let aws_name = format!("{}-{name}", district.name)
                .chars()
                .take(32)
                .collect::<String>()
                .trim_end_matches('-')
                .to_owned();
            out.push(LoadBalancer {
                name,
                endpoint: endpoint.name.clone(),
                index,
                count: endpoint.load_balancers.max(1),
                public: endpoint.public,
                ssl_policy: endpoint.ssl_policy.clone(),
                certificate_arn: endpoint.certificate_arn.clone(),
                aws_name,
                access_logs: endpoint.access_logs.clone(),
                web_acl_arn: endpoint.web_acl_arn.clone(),
                cdn: endpoint.cdn.clone(),
            });
        }
    }
    out
}

/// Places every listener of the district's heritages on a load balancer of its endpoint's pool.
pub fn place(district: &mut District) {
    let counts: BTreeMap<String, u32> = district
        .endpoints
        .iter()
        .map(|e| (e.name.clone(), e.load_balancers.max(1)))
        .collect();
    for heritage in &mut district.heritages {
        for service in &mut heritage.services {
            for listener in &mut service.listeners {
                let count = counts.get(&listener.endpoint).copied().unwrap_or(1);
                let index = place_index(&district.name, &listener.endpoint, &heritage.name, count);
                listener.load_balancer = pool_name(&listener.endpoint, index);
            }
        }
    }
}

/// Names a pool would give that an endpoint already has, or load balancer
/// names that coincide once cut to 32 characters; and more load balancers
/// or target groups than the region allows. `at` locates a key of the district file.
#[must_use]
pub fn check_names(district: &District, at: &dyn Fn(&str) -> Span) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut names: BTreeMap<&str, &LoadBalancer> = BTreeMap::new();
    let mut aws_names: BTreeMap<&str, &LoadBalancer> = BTreeMap::new();
    for lb in &district.load_balancers {
        let key = format!("/endpoints/{}", lb.endpoint);
        if let Some(first) = names.insert(&lb.name, lb) {
            let (pooled, endpoint) = if lb.index > 1 {
                (lb, first)
            } else {
                (first, lb)
            };
            out.push(
                Diagnostic::error(
                    "load-balancer-name",
                    format!(
                        "load balancer {} of endpoint `{}` takes the names of endpoint `{}`",
                        pooled.index, pooled.endpoint, endpoint.endpoint
                    ),
                )
                .at(at(&format!("/endpoints/{}", endpoint.endpoint)), "an endpoint of the same name")
                .also(at(&format!("/endpoints/{}/load_balancers", pooled.endpoint)), "a pool of several load balancers")
                .help(format!(
                    "the k-th load balancer of an endpoint is named like an endpoint `<endpoint>-lb<k>`: rename endpoint `{}`",
                    endpoint.endpoint
                )),
            );
        } else if let Some(first) = aws_names.insert(&lb.aws_name, lb) {
            out.push(
                Diagnostic::error(
                    "load-balancer-name",
                    format!(
                        "the load balancers `{}` and `{}` of district `{}` would both be named `{}` (a name holds at most 32 characters)",
                        first.name, lb.name, district.name, lb.aws_name
                    ),
                )
                .at(at(&key), "named alike")
                .also(at(&format!("/endpoints/{}", first.endpoint)), "as this one")
                .help("give the endpoints names that differ in their first characters"),
            );
        }
    }
    let groups: u64 = district
        .heritages
        .iter()
        .flat_map(|h| &h.services)
        .map(|s| (s.listeners.len() + s.nlb.as_ref().map_or(0, |n| n.mappings.len())) as u64)
        .sum();
    let limit = district.quotas.target_groups_per_region;
    if groups > limit {
        out.push(
            Diagnostic::error(
                "load-balancer-limit",
                format!(
                    "district `{}` would have {} target groups; a region holds {}",
                    district.name,
                    crate::limits::thousands(groups),
                    crate::limits::allowed(&crate::limits::TARGET_GROUPS_PER_REGION, limit)
                ),
            )
            .at(at("/region"), "one region for every heritage of the district")
            .help("move some instances to a district in another region or account, or set `quotas.target_groups_per_region` if the account's quota is higher"),
        );
    }
    let limit = district.quotas.load_balancers_per_region;
    let count = district.load_balancers.len() as u64;
    if count > limit {
        out.push(
            Diagnostic::error(
                "load-balancer-limit",
                format!(
                    "district `{}` would have {count} Application Load Balancers; a region holds {}",
                    district.name,
                    crate::limits::allowed(&crate::limits::ALBS_PER_REGION, limit)
                ),
            )
            .at(at("/endpoints"), "these endpoints")
            .help("use fewer endpoints or smaller pools, or set `quotas.load_balancers_per_region` if the account's quota is higher"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_depends_on_the_heritage_and_the_pool_size_only() {
        assert_eq!(place_index("d", "web", "a", 1), 1);
        let placed: Vec<u32> = (0..200)
            .map(|i| place_index("d", "web", &format!("h{i}"), 4))
            .collect();
        for index in 1..=4 {
            assert!(
                placed.contains(&index),
                "load balancer {index} gets heritages"
            );
        }
    }

    #[test]
    fn a_bigger_pool_moves_heritages_only_to_its_new_load_balancers() {
        for i in 0..500 {
            let name = format!("instance-{i:04}");
            let before = place_index("mstdn", "web", &name, 3);
            let after = place_index("mstdn", "web", &name, 4);
            assert!(after == before || after == 4, "{name}: {before} -> {after}");
        }
    }

    #[test]
    fn pool_names() {
        assert_eq!(pool_name("web", 1), "web");
        assert_eq!(pool_name("web", 3), "web-lb3");
    }
}
