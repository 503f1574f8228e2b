//! AWS CDK's template differ (`@aws-cdk/cloudformation-diff`, what `cdk diff`
//! uses, pinned in `tools/cdk-diff`) as an oracle for `berth diff`: over every
//! golden diff case, each CloudFormation resource gets the same verdict from
//! both, or the resource is in `tests/data/cdk-diff-disagreements.json`,
//! grouped by the reason, each with the documentation that says who is right.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

use crate::diff::{CASES, diff, fixture, repository};
use crate::support::repo;

/// (case, template path, logical id) → verdict.
type Verdicts = BTreeMap<(String, String, String), String>;

/// What CDK's differ says, in its own words (`ResourceImpact`).
fn cdk(case: &str) -> Verdicts {
    let output = Command::new(repo().join("scripts/cdk-diff"))
        .arg(fixture(case, "before").join("out"))
        .arg(fixture(case, "after").join("out"))
        .output()
        .expect("scripts/cdk-diff runs");
    assert!(
        output.status.success(),
        "scripts/cdk-diff failed (it needs node and npm): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut verdicts = Verdicts::new();
    for (path, resources) in json.as_object().unwrap() {
        for (id, impact) in resources.as_object().unwrap() {
            let impact = impact.as_str().unwrap();
            if impact != "NO_CHANGE" {
                verdicts.insert((case.into(), path.clone(), id.clone()), impact.into());
            }
        }
    }
    verdicts
}

/// What berth says, in CDK's words: a task definition's new revision is a
/// replacement to CloudFormation, and an update a conditional property may
/// turn into one is CDK's `MAY_REPLACE`.
fn berth(case: &str) -> Verdicts {
    let dir = repository(&fixture(case, "before"), &fixture(case, "after"));
    let output = diff(dir.path(), &["--format", "json"]);
    assert!(matches!(output.code, 0 | 2), "{case}: {}", output.stderr);
    let json: Value = serde_json::from_str(&output.stdout).unwrap();
    let mut verdicts = Verdicts::new();
    for stack in json["stacks"].as_array().unwrap() {
        if stack["target"] != "cloudformation" {
            continue;
        }
        let path = stack["path"].as_str().unwrap();
        // CDK's differ reports outputs apart from resources.
        for resource in stack["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] != "Output")
        {
            let conditional = resource["properties"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["replacement"] == "conditional");
            let verdict = match resource["action"].as_str().unwrap() {
                "add" => "WILL_CREATE",
                "remove" => "WILL_DESTROY",
                "orphan" => "WILL_ORPHAN",
                "replace" | "revision" => "WILL_REPLACE",
                "update" if conditional => "MAY_REPLACE",
                "update" => "WILL_UPDATE",
                other => panic!("{case}: unknown action `{other}`"),
            };
            let id = resource["logical_id"].as_str().unwrap();
            verdicts.insert((case.into(), path.into(), id.into()), verdict.into());
        }
    }
    verdicts
}

#[test]
fn berth_and_cdk_diff_agree_on_every_resource_or_say_why_not() {
    let known: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/data/cdk-diff-disagreements.json")).unwrap(),
    )
    .unwrap();
    let mut expected: BTreeMap<(String, String, String), (String, String)> = BTreeMap::new();
    for group in known["groups"].as_array().unwrap() {
        for k in ["reason", "source"] {
            assert!(
                group[k].as_str().is_some_and(|s| !s.is_empty()),
                "{group}: a reason and its source"
            );
        }
        for row in group["rows"].as_array().unwrap() {
            let key = |k: &str| row[k].as_str().unwrap().to_owned();
            expected.insert(
                (key("case"), key("path"), key("logical_id")),
                (key("berth"), key("cdk")),
            );
        }
    }
    let mut found = Vec::new();
    let mut used = 0;
    let mut compared = 0;
    for case in CASES {
        let (ours, theirs) = (berth(case), cdk(case));
        let keys: std::collections::BTreeSet<_> =
            ours.keys().chain(theirs.keys()).cloned().collect();
        for key in keys {
            compared += 1;
            let none = || "NO_CHANGE".to_owned();
            let b = ours.get(&key).cloned().unwrap_or_else(none);
            let c = theirs.get(&key).cloned().unwrap_or_else(none);
            match expected.get(&key) {
                Some((eb, ec)) if *eb == b && *ec == c => used += 1,
                Some((eb, ec)) => found.push(format!(
                    "{key:?}: berth {b}, cdk {c}; the list says berth {eb}, cdk {ec}"
                )),
                None if b != c => found.push(format!("{key:?}: berth {b}, cdk {c}")),
                None => {}
            }
        }
    }
    assert!(compared > 20, "compared only {compared} resources");
    assert!(
        found.is_empty(),
        "verdicts differ from CDK's and the list:\n{}",
        found.join("\n")
    );
    assert_eq!(used, expected.len(), "rows of the list no longer needed");
}
