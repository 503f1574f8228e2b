//! DNS names: every listener host and `CloudFront` alias of a district, with
//! what it must point at.
//!
//! A listener host points at the load balancer its rule is on, unless the
//! endpoint's distribution has it as an alias: then the distribution stands
//! in front of the load balancer and the name points at the distribution
//! (which forwards the viewer's `Host`, so the rule still matches). A
//! bucket's alias points at the bucket's distribution. One name can point
//! at one target only, so a name claimed for two targets is an error here,
//! with both places, whether or not the district names a zone.
//!
//! With zones (`dns:`), the names in one become alias records (see
//! `plan::dns`); the rest are listed by `berth explain`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::check::dns::{in_zone, normalize};
use crate::diagnostic::{Diagnostic, Span};

/// A district's Route 53 hosted zone.
#[derive(Debug, Clone, Serialize)]
pub struct Zone {
    /// Lower case, without the trailing dot.
    pub name: String,
    pub zone_id: String,
}

/// What a name points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A load balancer of an endpoint's pool, by its pool name.
    LoadBalancer { load_balancer: String },
    /// The distribution in front of an endpoint's load balancer, by the load balancer's pool name.
    EndpointDistribution { load_balancer: String },
    /// The distribution of a heritage's bucket.
    BucketDistribution { heritage: String, bucket: String },
}

impl Target {
    /// Whether the target answers on IPv6: a distribution does
    /// (`IPV6Enabled: true` in both formats); berth's load balancers are
    /// `IpAddressType: ipv4`, so they get no `AAAA` record.
    #[must_use]
    pub fn ipv6(&self) -> bool {
        self.distribution()
    }

    /// Whether the target is a `CloudFront` distribution.
    #[must_use]
    pub fn distribution(&self) -> bool {
        !matches!(self, Self::LoadBalancer { .. })
    }

    /// The target in words, for diagnostics and `explain`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::LoadBalancer { load_balancer } => format!("load balancer `{load_balancer}`"),
            Self::EndpointDistribution { load_balancer } => {
                format!("the CloudFront distribution of endpoint `{load_balancer}`")
            }
            Self::BucketDistribution { heritage, bucket } => {
                format!("the CloudFront distribution of bucket `{bucket}` of `{heritage}`")
            }
        }
    }
}

/// One DNS name of a district.
#[derive(Debug, Clone, Serialize)]
pub struct Name {
    /// Lower case, without a trailing dot; a wildcard starts with `*.`.
    pub name: String,
    pub target: Target,
    /// The heritages whose listeners or buckets name it (none for an
    /// endpoint alias no listener uses).
    pub heritages: BTreeSet<String>,
    /// The district's zone that holds it (its apex or a name under it), the
    /// longest when several do.
    pub zone: Option<Zone>,
    /// Whether a record can have this name: a host pattern with `*` or `?`
    /// anywhere but a leading `*.` label matches names no single record has.
    pub recordable: bool,
    /// Where it was first named, and by whom (see [`Claim`]), for diagnostics.
    #[serde(skip)]
    pub span: Span,
    #[serde(skip)]
    pub by: String,
}

impl Name {
    /// Whether berth writes records for it.
    #[must_use]
    pub fn recorded(&self) -> bool {
        self.zone.is_some() && self.recordable
    }
}

/// Names two districts claim where only one can have them: records of one
/// name in one zone (the second stack's create would fail on the first's
/// record), or one alias on two distributions (`CloudFront` takes an alias
/// on one distribution only, in every account).
#[must_use]
pub fn across_districts(districts: &[super::District]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<(&str, &str), (&str, &Name)> = BTreeMap::new();
    for district in districts {
        for name in &district.names {
            let mut keys = Vec::new();
            if let (Some(zone), true) = (&name.zone, name.recordable) {
                keys.push((name.name.as_str(), zone.zone_id.as_str()));
            }
            if name.target.distribution() {
                keys.push((name.name.as_str(), "cloudfront"));
            }
            for key in keys {
                match seen.get(&key) {
                    Some((other, first)) if *other != district.name => {
                        let what = if key.1 == "cloudfront" {
                            "a CloudFront alias in both; CloudFront gives an alias to one distribution".to_owned()
                        } else {
                            format!(
                                "a record in zone `{}` from both; the second stack could not create it",
                                key.1
                            )
                        };
                        out.push(
                            Diagnostic::error(
                                "dns-name-conflict",
                                format!(
                                    "`{}` is named in district `{}` and in district `{other}`: {what}",
                                    name.name, district.name
                                ),
                            )
                            .at(name.span.clone(), format!("for {}{}", name.target.describe(), name.by))
                            .also(first.span.clone(), format!("for {}{} in `{other}`", first.target.describe(), first.by))
                            .help("name it in one district only"),
                        );
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(key, (&district.name, name));
                    }
                }
            }
        }
    }
    out
}

/// One place a name is claimed.
pub struct Claim {
    pub name: String,
    pub target: Target,
    pub heritage: Option<String>,
    /// Where it was written, for diagnostics.
    pub span: Span,
    /// Who names it when the target does not say: ` (a listener of
    /// `app`/`web`)`, or empty.
    pub by: String,
}

/// Whether a record can have the name (see [`Name::recordable`]).
fn recordable(name: &str) -> bool {
    let rest = name.strip_prefix("*.").unwrap_or(name);
    !rest.contains(['*', '?'])
}

/// The district's names from its claims, sorted, and an error for each name
/// claimed for a second target.
#[must_use]
pub fn names(claims: Vec<Claim>, zones: &[Zone]) -> (Vec<Name>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut first: BTreeMap<String, (Name, Span, String)> = BTreeMap::new();
    for claim in claims {
        let key = normalize(&claim.name);
        if let Some((name, span, by)) = first.get_mut(&key) {
            if name.target == claim.target {
                name.heritages.extend(claim.heritage);
            } else {
                out.push(
                    Diagnostic::error(
                        "dns-name-conflict",
                        format!(
                            "`{key}` is named for {}{by} and for {}{}; a name points at one target",
                            name.target.describe(),
                            claim.target.describe(),
                            claim.by
                        ),
                    )
                    .at(claim.span, format!("for {}", claim.target.describe()))
                    .also(span.clone(), format!("for {}", name.target.describe()))
                    .help("keep the name in one place: a host a CloudFront distribution fronts belongs in its `cdn.aliases` and the listener's `hosts` of the same endpoint; a bucket's alias is no listener host"),
                );
            }
            continue;
        }
        let name = Name {
            span: claim.span.clone(),
            by: claim.by.clone(),
            zone: zones
                .iter()
                .filter(|z| in_zone(&key, &z.name))
                .max_by_key(|z| z.name.len())
                .cloned(),
            recordable: recordable(&key),
            name: key.clone(),
            target: claim.target,
            heritages: claim.heritage.into_iter().collect(),
        };
        first.insert(key, (name, claim.span, claim.by));
    }
    (first.into_values().map(|(n, _, _)| n).collect(), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lb(name: &str) -> Target {
        Target::LoadBalancer {
            load_balancer: name.to_owned(),
        }
    }

    fn claim(name: &str, target: Target, heritage: &str) -> Claim {
        Claim {
            name: name.to_owned(),
            target,
            heritage: Some(heritage.to_owned()),
            span: Span::new(0, 0..1),
            by: String::new(),
        }
    }

    fn zone(name: &str, id: &str) -> Zone {
        Zone {
            name: name.to_owned(),
            zone_id: id.to_owned(),
        }
    }

    #[test]
    fn one_target_shared_is_one_name_and_two_targets_are_a_conflict() {
        let bucket = Target::BucketDistribution {
            heritage: "b".into(),
            bucket: "media".into(),
        };
        let (names, errors) = names(
            vec![
                claim("App.Example.com.", lb("web"), "a"),
                claim("app.example.com", lb("web"), "b"),
                claim("app.example.com", bucket, "b"),
            ],
            &[],
        );
        assert_eq!(names.len(), 1);
        assert_eq!(names[0].name, "app.example.com");
        assert_eq!(names[0].heritages.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "dns-name-conflict");
    }

    #[test]
    fn a_name_is_in_the_longest_zone_that_holds_it_and_patterns_have_no_record() {
        let zones = [zone("example.com", "Z1"), zone("social.example.com", "Z2")];
        let (names, errors) = names(
            vec![
                claim("a.social.example.com", lb("web"), "a"),
                claim("example.com", lb("web"), "a"),
                claim("*.example.com", lb("web"), "a"),
                claim("api-?.example.com", lb("web"), "a"),
                claim("example.org", lb("web"), "a"),
            ],
            &zones,
        );
        assert!(errors.is_empty());
        let found: Vec<(&str, Option<&str>, bool)> = names
            .iter()
            .map(|n| {
                (
                    n.name.as_str(),
                    n.zone.as_ref().map(|z| z.zone_id.as_str()),
                    n.recorded(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("*.example.com", Some("Z1"), true),
                ("a.social.example.com", Some("Z2"), true),
                ("api-?.example.com", Some("Z1"), false),
                ("example.com", Some("Z1"), true),
                ("example.org", None, false),
            ]
        );
    }
}
