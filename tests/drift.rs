//! `berth diff --deployed` against a fake `aws`: `out/` compared with the
//! templates and parameters CloudFormation holds, in `berth diff`'s model,
//! printers and exit codes.

use std::path::Path;

use serde_json::{Value, json};

use crate::apply::{FakeAws, identity, missing};
use crate::support::{Output, copy_tree, repo, run_with};

const DISTRICT: &str = "blog-district";
const DATA: &str = "blog-lokka-data";
const APP: &str = "blog-lokka-app";

/// The Lokka golden fleet, with its current `out/`.
fn fleet() -> tempfile::TempDir {
    copy_tree(&repo().join("tests/fixtures/lokka"))
}

fn out(fleet: &Path, path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fleet.join("out").join(path)).unwrap()).unwrap()
}

/// A deployed stack: `describe-stacks` with the parameters and tags of `params`.
fn described(name: &str, params: Option<&Value>) -> Value {
    let pairs = |key: &str, k: &str, v: &str| -> Vec<Value> {
        params
            .and_then(|p| p[key].as_object())
            .map(|o| o.iter().map(|(a, b)| json!({k: a, v: b})).collect())
            .unwrap_or_default()
    };
    json!({"Stacks": [{
        "StackName": name,
        "StackStatus": "UPDATE_COMPLETE",
        "Parameters": pairs("Parameters", "ParameterKey", "ParameterValue"),
        "Tags": pairs("Tags", "Key", "Value"),
    }]})
}

/// The fake `aws` answering with the given deployed templates (and the app
/// stack's parameters); a stack without a template is not deployed.
fn deployed(stacks: &[(&str, Option<Value>)], params: &Value) -> FakeAws {
    rules(stacks, params).ready()
}

/// The rules of [`deployed`], to add more to.
fn rules(stacks: &[(&str, Option<Value>)], params: &Value) -> FakeAws {
    let mut aws = FakeAws::new().on(&["sts", "get-caller-identity"], identity(), 0);
    for (name, template) in stacks {
        aws = match template {
            Some(template) => aws
                .on(
                    &["describe-stacks", name],
                    described(name, (*name == APP).then_some(params)),
                    0,
                )
                .on(
                    &["get-template", name],
                    json!({"TemplateBody": template, "StagesAvailable": ["Original", "Processed"]}),
                    0,
                ),
            None => aws.fail(&["describe-stacks", name], &missing(name), 0),
        };
    }
    aws
}

fn diff(fleet: &Path, aws: &FakeAws, args: &[&str]) -> Output {
    let path = aws.path();
    let all = [
        &["diff", "--deployed", "--aws", path.to_str().unwrap()],
        args,
    ]
    .concat();
    run_with(fleet, &all, &[("BERTH_POLL_MS", "0")])
}

fn as_deployed(fleet: &Path) -> Vec<(&'static str, Option<Value>)> {
    vec![
        (DISTRICT, Some(out(fleet, "blog/district.cfn.json"))),
        (DATA, Some(out(fleet, "blog/lokka/data.cfn.json"))),
        (APP, Some(out(fleet, "blog/lokka/app.cfn.json"))),
    ]
}

#[test]
fn what_is_deployed_as_built_has_no_changes() {
    let fleet = fleet();
    let params = out(fleet.path(), "blog/lokka/app.params.json");
    let aws = deployed(&as_deployed(fleet.path()), &params);
    let output = diff(fleet.path(), &aws, &[]);
    assert_eq!(output.code, 0, "{}{}", output.stdout, output.stderr);
    assert!(output.stdout.contains("No changes"), "{}", output.stdout);
    let calls = aws.calls();
    for stack in [DISTRICT, DATA, APP] {
        assert!(
            calls.contains(&format!(
                "cloudformation get-template --stack-name {stack} --template-stage Original"
            )),
            "{calls}"
        );
    }
    // Reading calls only.
    assert!(
        !calls.contains("create-change-set") && !calls.contains("execute"),
        "{calls}"
    );
}

#[test]
fn a_hand_edit_and_a_parameter_changed_in_the_console_are_changes() {
    let fleet = fleet();
    let mut stacks = as_deployed(fleet.path());
    // Someone raised the backup retention in the console and deployed another image.
    let data = stacks[1].1.as_mut().unwrap();
    let database = data["Resources"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .find(|r| r["Type"] == "AWS::RDS::DBInstance")
        .unwrap();
    database["Properties"]["BackupRetentionPeriod"] = json!(30);
    let mut params = out(fleet.path(), "blog/lokka/app.params.json");
    let image = params["Parameters"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .next()
        .unwrap();
    *image = json!("registry.example/lokka:hotfix");
    let aws = deployed(&stacks, &params);
    let output = diff(fleet.path(), &aws, &[]);
    assert_eq!(output.code, 2, "{}{}", output.stdout, output.stderr);
    assert!(
        output.stdout.contains("the deployed stacks"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("BackupRetentionPeriod"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("registry.example/lokka:hotfix"),
        "{}",
        output.stdout
    );
    insta::assert_snapshot!(output.stdout);
    let json = diff(fleet.path(), &aws, &["--format", "json"]);
    assert_eq!(json.code, 2);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    let stacks: Vec<&str> = doc["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["stack"].as_str())
        .collect();
    assert_eq!(stacks, [DATA], "{doc}");
}

#[test]
fn a_stack_not_deployed_is_added_and_an_engine_change_fails_the_gate() {
    let fleet = fleet();
    let mut stacks = as_deployed(fleet.path());
    stacks[2].1 = None;
    let data = stacks[1].1.as_mut().unwrap();
    let database = data["Resources"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .find(|r| r["Type"] == "AWS::RDS::DBInstance")
        .unwrap();
    let engine = database["Properties"]["Engine"]
        .as_str()
        .unwrap()
        .to_owned();
    database["Properties"]["Engine"] = json!(if engine == "mysql" {
        "postgres"
    } else {
        "mysql"
    });
    let params = out(fleet.path(), "blog/lokka/app.params.json");
    let aws = deployed(&stacks, &params);
    let output = diff(fleet.path(), &aws, &["--fail-on", "data-loss"]);
    assert_eq!(output.code, 3, "{}{}", output.stdout, output.stderr);
    assert!(
        output.stdout.contains(&format!("Stack {APP}")),
        "{}",
        output.stdout
    );
    assert!(
        !aws.calls()
            .contains(&format!("get-template --stack-name {APP}"))
    );
}

#[test]
fn credentials_missing_exit_as_apply_does() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .fail(&["sts", "get-caller-identity"], "Unable to locate credentials. You can configure credentials by running \"aws configure\".", 0)
        .ready();
    let output = diff(fleet.path(), &aws, &[]);
    assert_eq!(output.code, 9, "{}", output.stderr);
    assert_eq!(output.stdout, "");
    let both = run_with(fleet.path(), &["diff", "--deployed", "--base", "HEAD"], &[]);
    assert_eq!(both.code, 64, "{}", both.stderr);
}

#[test]
fn resources_lists_what_drift_detection_finds_changed_outside_cloudformation() {
    let fleet = fleet();
    let params = out(fleet.path(), "blog/lokka/app.params.json");
    let mut aws = rules(&as_deployed(fleet.path()), &params);
    for stack in [DISTRICT, DATA, APP] {
        aws = aws.on(
            &["detect-stack-drift", stack],
            json!({"StackDriftDetectionId": format!("id-{stack}")}),
            0,
        );
    }
    let drifted = json!({"StackResourceDrifts": [{
        "StackId": "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/blog-lokka-data/1",
        "LogicalResourceId": "Database",
        "PhysicalResourceId": "blog-lokka",
        "ResourceType": "AWS::RDS::DBInstance",
        "StackResourceDriftStatus": "MODIFIED",
        "PropertyDifferences": [
            {"PropertyPath": "/BackupRetentionPeriod", "ExpectedValue": "7", "ActualValue": "1", "DifferenceType": "NOT_EQUAL"}
        ]
    }]});
    let aws = aws
        .on(
            &["describe-stack-drift-detection-status", "id-blog-lokka-data"],
            json!({"StackDriftDetectionId": "id-blog-lokka-data", "DetectionStatus": "DETECTION_IN_PROGRESS"}),
            1,
        )
        .on(
            &["describe-stack-drift-detection-status"],
            json!({"DetectionStatus": "DETECTION_COMPLETE", "StackDriftStatus": "IN_SYNC"}),
            0,
        )
        .on(&["describe-stack-resource-drifts", DATA], drifted, 0)
        .on(&["describe-stack-resource-drifts"], json!({"StackResourceDrifts": []}), 0)
        .ready();
    let output = diff(fleet.path(), &aws, &["--resources"]);
    assert_eq!(output.code, 2, "{}{}", output.stdout, output.stderr);
    insta::assert_snapshot!(output.stdout);
    let calls = aws.calls();
    assert!(
        calls.contains(
            "cloudformation describe-stack-resource-drifts --stack-name blog-lokka-data --stack-resource-drift-status-filters MODIFIED DELETED"
        ),
        "{calls}"
    );
    // Polled until complete: twice for the data stack.
    assert_eq!(
        calls
            .matches("--stack-drift-detection-id id-blog-lokka-data")
            .count(),
        2,
        "{calls}"
    );
    let json = diff(fleet.path(), &aws, &["--resources", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["drift"][0]["logical_id"], "Database", "{doc}");
    assert_eq!(doc["drift"][0]["differences"][0]["actual"], "1", "{doc}");
    // Without --deployed there is nothing to detect drift on.
    let alone = run_with(fleet.path(), &["diff", "--resources"], &[]);
    assert_eq!(alone.code, 64, "{}", alone.stderr);
}
