//! Off-hours and the cheap layout of the one-person fleet
//! (`tests/fixtures/one-person`): what it saves against the same fleet with
//! NAT and always on.

use serde_json::Value;

use crate::support::{Fleet, repo};

/// The one-person fleet's files, with `edit` applied to each text.
fn one_person(edit: impl Fn(&str) -> String) -> Fleet {
    let dir = repo().join("tests/fixtures/one-person/instances/home");
    let mut fleet = Fleet::new();
    std::fs::remove_dir_all(fleet.path().join("instances/mstdn")).unwrap();
    for name in ["district.yml", "mastodon.yml"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        fleet = fleet.file(&format!("instances/home/{name}"), &edit(&text));
    }
    fleet
}

fn estimate(fleet: &Fleet) -> Value {
    let output = fleet.run(&["cost", "--format", "json"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    serde_json::from_str(&output.stdout).unwrap()
}

fn lines(estimate: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for d in estimate["districts"].as_array().unwrap() {
        for l in d["lines"].as_array().unwrap() {
            out.push(l["price_key"].as_str().unwrap().to_owned());
        }
        for h in d["heritages"].as_array().into_iter().flatten() {
            for l in h["lines"].as_array().into_iter().flatten() {
                out.push(l["price_key"].as_str().unwrap().to_owned());
            }
        }
    }
    out
}

/// No NAT, the host and the instance off at night: the estimate is lower
/// than the same instance behind a NAT gateway, always on.
#[test]
fn the_one_person_fleet_costs_less_than_with_nat_and_always_on() {
    let cheap = estimate(&one_person(str::to_owned));
    let usual = estimate(&one_person(|text| {
        let mut kept = Vec::new();
        let mut skipping = false;
        for line in text.lines() {
            let indent = line.len() - line.trim_start().len();
            if skipping && indent > 2 {
                continue;
            }
            skipping = false;
            if line.trim_start().starts_with("schedule:") {
                skipping = true;
                continue;
            }
            if line.trim_start().starts_with("nat: none") {
                continue;
            }
            kept.push(line);
        }
        kept.join("\n") + "\n"
    }));
    assert!(lines(&usual).iter().any(|k| k == "nat.hour"), "{usual}");
    assert!(!lines(&cheap).iter().any(|k| k == "nat.hour"), "{cheap}");
    let (cheap, usual) = (
        cheap["total"].as_f64().unwrap(),
        usual["total"].as_f64().unwrap(),
    );
    assert!(
        cheap < usual,
        "one-person ${cheap}/mo, with NAT and always on ${usual}/mo"
    );
}
