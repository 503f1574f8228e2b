//! Route 53 alias records for the names in a district's zone.
//!
//! A record lives with its target: the district stack (CloudFormation) and
//! configuration (Terraform) own the load balancers and the endpoints'
//! distributions, so the records of listener hosts and endpoint aliases are
//! there — even a host only one heritage's rule names. The district
//! template is rendered from the whole district, every heritage's listeners
//! included, so it sees every such host; and an app stack holding the
//! record would have to import the load balancer's DNS name and zone id,
//! and two heritages sharing a host on one load balancer would each try to
//! create the same record. A bucket's distribution is in the heritage's
//! data stack, so its aliases' records are there, next to it.
//!
//! Each name gets an `A` record, and an `AAAA` record when its target
//! answers on IPv6 ([`crate::model::dns::Target::ipv6`]). Alias queries to
//! AWS resources are not billed by Route 53.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{logical_id, terraform_name};
use crate::model::District;
use crate::model::dns::{Name, Target};

/// The hosted zone id of every `CloudFront` distribution: "`HostedZoneId`,
/// `CloudFront` distribution: specify `Z2FDTNDATAQYW2`" (`AliasTarget` in the
/// pinned botocore model of Route 53; the Route 53 API reference says the same,
/// <https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html>).
pub const CLOUDFRONT_ZONE_ID: &str = "Z2FDTNDATAQYW2";

/// One name's alias records.
#[derive(Debug, Clone, Serialize)]
pub struct RecordPlan {
    /// As Route 53 is given it: lower case, no trailing dot.
    pub name: String,
    /// Logical id prefix, e.g. `RecordPawprintExample` (`…A`, `…AAAA`).
    pub id: String,
    /// Terraform name prefix, e.g. `pawprint_example` (`…_a`, `…_aaaa`).
    pub tf: String,
    /// `A`, and `AAAA` for a target that answers on IPv6.
    pub types: Vec<&'static str>,
    pub zone_id: String,
    /// The target's logical id (a load balancer's or a distribution's).
    pub target_id: String,
    /// The target's Terraform address, e.g. `aws_lb.social`.
    pub target_tf: String,
    /// A `CloudFront` distribution: zone `Z2FDTNDATAQYW2`, `DomainName`, and
    /// `EvaluateTargetHealth: false` (Route 53 refuses `true` for one); a
    /// load balancer: its `CanonicalHostedZoneID` and `DNSName`, and
    /// `EvaluateTargetHealth: true` (Route 53 takes its health from its target
    /// groups; a name with one record is answered either way).
    pub distribution: bool,
    /// What it points at, in words.
    pub target: String,
}

/// The logical id part the district template gives a load balancer of a
/// pool: its name through Tera's `title` (upper case after punctuation,
/// lower case elsewhere) without `-` and `_`.
#[must_use]
pub fn endpoint_id(name: &str) -> String {
    let mut id = String::from("Endpoint");
    let mut capitalize = true;
    for c in name.chars() {
        if c.is_ascii_punctuation() {
            capitalize = true;
        } else if capitalize {
            id.push(c.to_ascii_uppercase());
            capitalize = false;
        } else {
            id.push(c.to_ascii_lowercase());
        }
    }
    id
}

/// The id part of a name: a leading `*.` reads `Wildcard`.
fn name_part(name: &str) -> String {
    match name.strip_prefix("*.") {
        Some(rest) => format!("wildcard.{rest}"),
        None => name.to_owned(),
    }
}

fn record(name: &Name) -> RecordPlan {
    let (target_id, target_tf) = match &name.target {
        Target::LoadBalancer { load_balancer } => (
            format!("{}LoadBalancer", endpoint_id(load_balancer)),
            format!("aws_lb.{}", terraform_name(load_balancer)),
        ),
        Target::EndpointDistribution { load_balancer } => (
            format!("{}Distribution", endpoint_id(load_balancer)),
            format!(
                "aws_cloudfront_distribution.{}",
                terraform_name(load_balancer)
            ),
        ),
        Target::BucketDistribution { bucket, .. } => (
            format!("Bucket{}Distribution", logical_id(bucket)),
            format!("aws_cloudfront_distribution.{}", terraform_name(bucket)),
        ),
    };
    RecordPlan {
        id: format!("Record{}", logical_id(&name_part(&name.name))),
        tf: terraform_name(&name_part(&name.name)),
        types: if name.target.ipv6() {
            vec!["A", "AAAA"]
        } else {
            vec!["A"]
        },
        zone_id: name
            .zone
            .as_ref()
            .map(|z| z.zone_id.clone())
            .unwrap_or_default(),
        target_id,
        target_tf,
        distribution: name.target.distribution(),
        target: name.target.describe(),
        name: name.name.clone(),
    }
}

/// Records whose ids coincide (`a-b.example` and `a.b.example` are both
/// `RecordABExample`, `a_b_example`) each get a hash of their name after the id.
fn unique(mut records: Vec<RecordPlan>) -> Vec<RecordPlan> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in &records {
        *seen.entry(r.id.clone()).or_default() += 1;
        *seen.entry(r.tf.clone()).or_default() += 1;
    }
    for r in &mut records {
        if seen[&r.id] > 1 || seen[&r.tf] > 1 {
            let hash = &crate::emit::sha256(&r.name)[..8];
            r.id = format!("{}{}", r.id, hash.to_ascii_uppercase());
            r.tf = format!("{}_{hash}", r.tf);
        }
    }
    records
}

/// The records a district owns: the names in its zones that point at one of
/// its load balancers or its endpoints' distributions.
#[must_use]
pub fn district_records(district: &District) -> Vec<RecordPlan> {
    unique(
        district
            .names
            .iter()
            .filter(|n| n.recorded())
            .filter(|n| !matches!(n.target, Target::BucketDistribution { .. }))
            .map(record)
            .collect(),
    )
}

/// The records a heritage's data stack owns: its buckets' aliases in a zone.
#[must_use]
pub fn heritage_records(district: &District, heritage: &str) -> Vec<RecordPlan> {
    unique(
        district
            .names
            .iter()
            .filter(|n| n.recorded())
            .filter(|n| matches!(&n.target, Target::BucketDistribution { heritage: h, .. } if h == heritage))
            .map(record)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_ids_are_the_templates() {
        assert_eq!(endpoint_id("social"), "EndpointSocial");
        assert_eq!(endpoint_id("api-internal"), "EndpointApiInternal");
        assert_eq!(endpoint_id("web-lb2"), "EndpointWebLb2");
        assert_eq!(endpoint_id("MyWeb"), "EndpointMyweb");
    }

    #[test]
    fn wildcards_and_look_alike_names_get_their_own_ids() {
        assert_eq!(name_part("*.example.com"), "wildcard.example.com");
        let plan = |name: &str| RecordPlan {
            name: name.to_owned(),
            id: format!("Record{}", logical_id(&name_part(name))),
            tf: terraform_name(&name_part(name)),
            types: vec!["A"],
            zone_id: "Z1".to_owned(),
            target_id: String::new(),
            target_tf: String::new(),
            distribution: false,
            target: String::new(),
        };
        let records = unique(vec![
            plan("a-b.example"),
            plan("a.b.example"),
            plan("c.example"),
        ]);
        assert_ne!(records[0].id, records[1].id);
        assert!(records[0].id.starts_with("RecordABExample"));
        assert_eq!(records[2].id, "RecordCExample");
        assert_eq!(records[2].tf, "c_example");
    }
}

/// What `berth explain` says about a heritage's names (its listeners' hosts
/// and its buckets' aliases).
#[derive(Debug, Clone, Serialize)]
pub struct HeritageNames {
    /// The district's zones, if it names any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    /// Names berth writes alias records for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<Recorded>,
    /// Names berth writes no record for: point each at its target yourself.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub point_yourself: Vec<Unrecorded>,
}

/// A name with records.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub name: String,
    pub types: Vec<&'static str>,
    pub target: String,
    /// The zone the records are in.
    pub zone: String,
    /// The stack, or Terraform file, that holds the records.
    pub owner: String,
}

/// A name without records, and where to read the name it must point at:
/// offline berth does not know the target's real DNS name.
#[derive(Debug, Clone, Serialize)]
pub struct Unrecorded {
    pub name: String,
    /// Why berth writes no record.
    pub why: String,
    pub target: String,
    /// The stack output (and its export) holding the target's DNS name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudformation: Option<String>,
    /// The Terraform output holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terraform: Option<String>,
    /// The record to make at the DNS provider.
    pub record: String,
}

/// The names of `heritage` for `berth explain`; `None` when it has none.
#[must_use]
pub fn heritage_names(district: &District, heritage: &str) -> Option<HeritageNames> {
    let names: Vec<&Name> = district
        .names
        .iter()
        .filter(|n| n.heritages.contains(heritage))
        .collect();
    if names.is_empty() {
        return None;
    }
    let d = &district.name;
    let district_file = format!("{d}/district.tf.json");
    let data_file = format!("{d}/{heritage}/data.tf.json");
    let mut out = HeritageNames {
        zones: district.dns.iter().map(|z| z.name.clone()).collect(),
        records: Vec::new(),
        point_yourself: Vec::new(),
    };
    for name in names {
        let bucket = matches!(name.target, Target::BucketDistribution { .. });
        if let (Some(zone), true) = (&name.zone, name.recordable) {
            let owner = match (district.targets.cloudformation, bucket) {
                (true, false) => super::district_stack(d),
                (true, true) => super::data_stack(d, heritage),
                (false, false) => district_file.clone(),
                (false, true) => data_file.clone(),
            };
            out.records.push(Recorded {
                name: name.name.clone(),
                types: if name.target.ipv6() {
                    vec!["A", "AAAA"]
                } else {
                    vec!["A"]
                },
                target: name.target.describe(),
                zone: zone.name.clone(),
                owner,
            });
            continue;
        }
        let zones: Vec<String> = district
            .dns
            .iter()
            .map(|z| format!("`{}`", z.name))
            .collect();
        let why = if !name.recordable {
            "a pattern: no single record has every name it matches".to_owned()
        } else if zones.is_empty() {
            format!("district `{d}` names no zone (`dns:`)")
        } else {
            format!("outside zone {}", zones.join(", "))
        };
        let (output, export, tf_output, tf_file) = match &name.target {
            Target::LoadBalancer { load_balancer } => (
                format!("{}DnsName", endpoint_id(load_balancer)),
                format!("{d}-{load_balancer}-DnsName"),
                format!(
                    "dns_name_{}",
                    terraform_name(load_balancer).trim_start_matches('_')
                ),
                &district_file,
            ),
            Target::EndpointDistribution { load_balancer } => (
                format!("{}DistributionDomain", endpoint_id(load_balancer)),
                format!("{d}-{load_balancer}-DistributionDomain"),
                format!("{}_distribution_domain", terraform_name(load_balancer)),
                &district_file,
            ),
            Target::BucketDistribution { bucket, .. } => {
                let id = format!("Bucket{}DistributionDomain", logical_id(bucket));
                (
                    id.clone(),
                    format!("{d}-{heritage}-{id}"),
                    format!("bucket_{}_distribution_domain", terraform_name(bucket)),
                    &data_file,
                )
            }
        };
        let stack = if bucket {
            super::data_stack(d, heritage)
        } else {
            super::district_stack(d)
        };
        out.point_yourself.push(Unrecorded {
            name: name.name.clone(),
            why,
            target: name.target.describe(),
            cloudformation: district
                .targets
                .cloudformation
                .then(|| format!("output `{output}` of stack `{stack}` (export `{export}`)")),
            terraform: district
                .targets
                .terraform
                .then(|| format!("output `{tf_output}` of `{tf_file}`")),
            record: "a CNAME to that name (at a zone's apex, the provider's ALIAS or ANAME, or a Route 53 alias record)".to_owned(),
        });
    }
    Some(out)
}
