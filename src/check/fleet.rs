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
