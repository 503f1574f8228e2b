//! Fleet-wide rules: what only shows when every file is read together.
//!
//! Heritage names are unique across the fleet, listeners name endpoints of
//! their district, and explicit rule priorities are unique per listener. Errors
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
