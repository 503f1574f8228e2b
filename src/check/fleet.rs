//! Fleet-wide rules: what only shows when every file is read together.
//!
//! Heritage names are unique across the fleet, listeners name endpoints of
//! their district, explicit rule priorities are unique per listener, and
//! `prevent_destroy` is set only where the district writes Terraform. Errors
//! name every file involved.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Span};

use super::CheckedFleet;
use super::rules::pointer;
use super::schema::suggest;

/// Runs the fleet-wide rules.
#[must_use]
pub fn check_fleet(fleet: &CheckedFleet) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    check_image_repositories(fleet, &mut out);
    check_prevent_destroy(fleet, &mut out);
    for district in &fleet.districts {
        check_host_schedule(district, &mut out);
    }
    let mut heritages: BTreeMap<&str, Span> = BTreeMap::new();
    for district in &fleet.districts {
        // (endpoint, priority) → where it was set
        let mut priorities: BTreeMap<(&str, u32), Span> = BTreeMap::new();
        for instance in &district.instances {
            for (env_key, env) in &instance.spec.environments {
                let base = ["environments", env_key.as_str()];
                let name_span = instance.at(&pointer(&[&base[..], &["name"]].concat()));
                if let Some(first) = heritages.get(env.name.as_str()) {
                    out.push(
                        Diagnostic::error("duplicate-name", format!("heritage name `{}` is used twice in the fleet", env.name))
                            .at(name_span.clone(), "used again here")
                            .also(first.clone(), "first used here")
                            .help("heritage names name stacks and must be unique across the fleet: rename one"),
                    );
                } else {
                    heritages.insert(&env.name, name_span);
                }
                for (s, service) in env.services.iter().enumerate() {
                    check_fargate_network(district, instance, &base, s, service, &mut out);
                    for (l, listener) in service.listeners.iter().enumerate() {
                        let at = |key: &str| {
                            instance.at(&pointer(
                                &[
                                    &base[..],
                                    &["services", &s.to_string(), "listeners", &l.to_string(), key],
                                ]
                                .concat(),
                            ))
                        };
                        if let Some(d) = &district.district
                            && !d.spec.endpoints.contains_key(&listener.endpoint)
                        {
                            let known = d.spec.endpoints.keys().map(String::as_str);
                            let mut diagnostic = Diagnostic::error(
                                "unknown-endpoint",
                                format!(
                                    "endpoint `{}` is not defined in district `{}`",
                                    listener.endpoint, district.name
                                ),
                            )
                            .at(at("endpoint"), "no such endpoint");
                            diagnostic = match suggest(&listener.endpoint, known) {
                                Some(s) => diagnostic.help(format!("did you mean `{s}`?")),
                                None => diagnostic.help(format!(
                                    "define it under `endpoints:` in `instances/{}/district.yml`",
                                    district.name
                                )),
                            };
                            out.push(diagnostic);
                        }
                        if let Some(priority) = listener.rule_priority {
                            let span = at("rule_priority");
                            if let Some(first) =
                                priorities.get(&(listener.endpoint.as_str(), priority))
                            {
                                out.push(
                                    Diagnostic::error(
                                        "priority-conflict",
                                        format!("rule priority {priority} is used twice on endpoint `{}`", listener.endpoint),
                                    )
                                    .at(span, "used again here")
                                    .also(first.clone(), "first used here")
                                    .help("each rule on a listener needs its own priority: change one, or remove it to let berth assign one"),
                                );
                            } else {
                                priorities.insert((listener.endpoint.as_str(), priority), span);
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// A Fargate task of a district without NAT would sit in a private subnet with
/// no route out: it could not pull its image nor reach ECS.
fn check_fargate_network(
    district: &super::CheckedDistrict,
    instance: &super::Checked<crate::schema::InstanceFile>,
    base: &[&str],
    s: usize,
    service: &crate::schema::Service,
    out: &mut Vec<Diagnostic>,
) {
    let no_nat = district
        .district
        .as_ref()
        .is_some_and(|d| d.spec.network.nat == Some(crate::schema::NatKind::None));
    if no_nat && service.launch_type == Some(crate::schema::LaunchType::Fargate) {
        let at = instance.at(&pointer(
            &[base, &["services", &s.to_string(), "launch_type"]].concat(),
        ));
        out.push(
            Diagnostic::error(
                "fargate-without-nat",
                format!(
                    "`{}` cannot run on Fargate in district `{}`: it has `nat: none`, and Fargate tasks run in its private subnets, which have no route out",
                    service.name, district.name
                ),
            )
            .at(at, "would not reach ECR or ECS")
            .help("remove `launch_type` to run it on the district's hosts, or give the district `nat: gateway`"),
        );
    }
}

/// A district whose hosts are switched off (`cluster.schedule`) must not
/// take them from a heritage that is still on: every heritage with a service
/// on the hosts (not on Fargate) is off, by its own `schedule`, from at or
/// before the hosts' `off` until at or after their `on`, on the same days and
/// in the same time zone. The times of day are compared as written: both
/// schedules are read in one time zone, so daylight saving time moves them
/// together.
fn check_host_schedule(district: &super::CheckedDistrict, out: &mut Vec<Diagnostic>) {
    use crate::check::off_hours::time_of_day;
    let Some(file) = &district.district else {
        return;
    };
    let Some(hosts) = &file.spec.cluster.schedule else {
        return;
    };
    let (Ok(hosts_off), Ok(hosts_on)) = (time_of_day(&hosts.off), time_of_day(&hosts.on)) else {
        return; // `invalid-schedule` says why
    };
    let zone = hosts.timezone.as_deref().unwrap_or("UTC");
    let minutes = |t: &crate::check::off_hours::TimeOfDay| t.hour * 60 + t.minute;
    for instance in &district.instances {
        for (env_key, env) in &instance.spec.environments {
            let base = ["environments", env_key.as_str()];
            let Some(first) = env
                .services
                .iter()
                .position(|s| s.launch_type != Some(crate::schema::LaunchType::Fargate))
            else {
                continue;
            };
            let at = |rest: &[&str]| instance.at(&pointer(&[&base[..], rest].concat()));
            let fault = |problem: String, span: Span, label: &str| {
                Diagnostic::error(
                    "host-schedule-heritage-on",
                    format!("the hosts of district `{}` go off while `{}` is on: {problem}", district.name, env.name),
                )
                .at(span, label)
                .also(file.at("/cluster/schedule"), "the hosts' schedule")
                .help("give the heritage a `schedule` that is off from at or before the hosts' `off` until at or after their `on`, on the same days in the same time zone; or run its services on Fargate; or change `cluster.schedule`")
            };
            let Some(own) = &env.schedule else {
                out.push(fault(
                    format!(
                        "`{}` runs on them and has no `schedule`",
                        env.services[first].name
                    ),
                    at(&["services", &first.to_string(), "name"]),
                    "runs on the district's hosts",
                ));
                continue;
            };
            let (Ok(off), Ok(on)) = (time_of_day(&own.off), time_of_day(&own.on)) else {
                continue;
            };
            let own_zone = own.timezone.as_deref().unwrap_or("UTC");
            let problem = if own_zone != zone {
                Some((
                    format!("its schedule is read in `{own_zone}`, the hosts' in `{zone}`"),
                    "timezone",
                ))
            } else if off.days != hosts_off.days || on.days != hosts_on.days {
                Some((
                    "its schedule fires on other days than the hosts'".to_owned(),
                    "off",
                ))
            } else if minutes(&off) > minutes(&hosts_off) {
                Some((
                    format!(
                        "it goes off at {:02}:{:02}, after the hosts",
                        off.hour, off.minute
                    ),
                    "off",
                ))
            } else if minutes(&on) < minutes(&hosts_on) {
                Some((
                    format!(
                        "it comes on at {:02}:{:02}, before the hosts",
                        on.hour, on.minute
                    ),
                    "on",
                ))
            } else {
                None
            };
            if let Some((problem, field)) = problem {
                let span = if field == "timezone" && own.timezone.is_none() {
                    at(&["schedule"])
                } else {
                    at(&["schedule", field])
                };
                out.push(fault(problem, span, "here"));
            }
        }
    }
}

/// The repository path of an image in a private ECR registry:
/// `<12 digits>.dkr.ecr.<region>.amazonaws.com/<path>` → `(region, path)`.
fn ecr_repository(image: &str) -> Option<(&str, &str)> {
    let (registry, path) = image.split_once('/')?;
    let (account, rest) = registry.split_once(".dkr.ecr.")?;
    let region = rest.strip_suffix(".amazonaws.com")?;
    (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) && !path.is_empty())
        .then_some((region, path))
}

/// An `image_name` in the ECR registry of its district's region that names
/// none of the repositories the fleet declares there is a warning: the
/// fleet's repositories are `<district>-<heritage>/<name>`, so a hand-written
/// name has likely drifted. A fleet that declares none there is left alone.
fn check_image_repositories(fleet: &CheckedFleet, out: &mut Vec<Diagnostic>) {
    // Every repository the fleet declares, by region.
    let mut declared: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for district in &fleet.districts {
        let Some(d) = &district.district else {
            continue;
        };
        for instance in &district.instances {
            for env in instance.spec.environments.values() {
                let resources = env.resources.as_ref().or(instance.spec.resources.as_ref());
                for name in resources.iter().flat_map(|r| r.repositories.keys()) {
                    declared.entry(d.spec.region.as_str()).or_default().push(
                        format!("{}-{}/{name}", district.name, env.name).to_ascii_lowercase(),
                    );
                }
            }
        }
    }
    for district in &fleet.districts {
        let Some(d) = &district.district else {
            continue;
        };
        for instance in &district.instances {
            for (env_key, env) in &instance.spec.environments {
                let crate::schema::ImageName::Name(image) = &env.image_name else {
                    continue;
                };
                let Some((region, path)) = ecr_repository(image) else {
                    continue;
                };
                let known = declared.get(region).map(Vec::as_slice).unwrap_or_default();
                // A fleet without repositories there pushes its images elsewhere.
                if region != d.spec.region || known.is_empty() || known.iter().any(|r| r == path) {
                    continue;
                }
                let help = format!(
                    "the fleet's repositories in {region}: {}; write `image_name: {{repository: <name>}}` for one of this heritage's own",
                    known
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                out.push(
                    Diagnostic::warning(
                        "unknown-ecr-repository",
                        format!("`image_name` is in the ECR registry of {region}, but `{path}` is no repository of the fleet"),
                    )
                    .at(instance.at(&pointer(&["environments", env_key, "image_name"])), "no such repository in the fleet")
                    .help(help),
                );
            }
        }
    }
}

/// Every `prevent_destroy` set in a resources section, by its JSON pointer
/// segments below that section.
fn prevent_destroy_keys(resources: &crate::schema::Resources) -> Vec<Vec<String>> {
    let mut keys = Vec::new();
    let mut key = |set: Option<bool>, path: &[&str]| {
        if set.is_some() {
            keys.push(path.iter().map(|s| (*s).to_owned()).collect());
        }
    };
    if let Some(d) = &resources.database {
        key(d.prevent_destroy, &["database"]);
    }
    if let Some(c) = &resources.cache {
        key(c.prevent_destroy, &["cache"]);
    }
    for (name, b) in &resources.buckets {
        key(b.prevent_destroy, &["buckets", name]);
    }
    for (name, r) in &resources.repositories {
        key(r.prevent_destroy, &["repositories", name]);
    }
    for (name, g) in &resources.secrets {
        key(g.prevent_destroy, &["secrets", name]);
    }
    keys
}

/// `prevent_destroy` is Terraform's: in a district whose `targets` leave
/// Terraform out it does nothing, which is a warning.
fn check_prevent_destroy(fleet: &CheckedFleet, out: &mut Vec<Diagnostic>) {
    for district in &fleet.districts {
        let Some(d) = &district.district else {
            continue;
        };
        let Some(targets) = &d.spec.targets else {
            continue;
        };
        if targets.contains(&crate::schema::Target::Terraform) {
            continue;
        }
        for instance in &district.instances {
            let mut sections: Vec<(Vec<&str>, &crate::schema::Resources)> = Vec::new();
            if let Some(r) = &instance.spec.resources {
                sections.push((vec!["resources"], r));
            }
            for (env_key, env) in &instance.spec.environments {
                if let Some(r) = &env.resources {
                    sections.push((vec!["environments", env_key, "resources"], r));
                }
            }
            for (base, resources) in sections {
                for path in prevent_destroy_keys(resources) {
                    let mut at: Vec<&str> = base.clone();
                    at.extend(path.iter().map(String::as_str));
                    at.push("prevent_destroy");
                    out.push(
                        Diagnostic::warning(
                            "prevent-destroy-without-terraform",
                            format!(
                                "`prevent_destroy` has no effect: district `{}` writes no Terraform",
                                district.name
                            ),
                        )
                        .at(instance.at(&pointer(&at)), "ignored")
                        .help("`prevent_destroy` is Terraform's `lifecycle.prevent_destroy`; CloudFormation keeps the resource with its `DeletionPolicy`, and `berth apply --allow-data-loss` allows a replacement or removal: remove `prevent_destroy`"),
                    );
                }
            }
        }
    }
}
