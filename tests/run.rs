//! `berth run` against a fake `aws`: the exact calls, the streamed log lines,
//! exit codes, `--detach`, `--dry-run` and the errors a user can cause.

use std::path::Path;

use serde_json::{Value, json};

use crate::apply::{FakeAws, fleet, stack};
use crate::support::{Output, run_with};

const DISTRICT: &str = "tutorial-district";
const CLUSTER: &str = "tutorial-cluster";
const TASK: &str = "arn:aws:ecs:eu-west-1:123456789012:task/tutorial-cluster/0123abcd";
const DEFINITION: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/bcn-users-web:7";

fn run(root: &Path, aws: &FakeAws, args: &[&str]) -> Output {
    let aws_path = aws.path();
    let mut all = vec!["run", "--aws", aws_path.to_str().unwrap()];
    all.extend(args);
    run_with(root, &all, &[("BERTH_POLL_MS", "0")])
}

fn transcript(output: &Output, aws: &FakeAws) -> String {
    format!("{}--- aws calls\n{}", output.transcript(), aws.calls())
}

macro_rules! snapshot {
    ($text:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(r"\[\d+:\d\d\]", "[m:ss]");
        settings.bind(|| insta::assert_snapshot!($text));
    }};
}

fn service() -> Value {
    json!({"services": [{
        "serviceName": "bcn-users-web",
        "status": "ACTIVE",
        "taskDefinition": DEFINITION,
        "capacityProviderStrategy": [{"capacityProvider": "tutorial-capacity", "weight": 1, "base": 0}]
    }], "failures": []})
}

fn definition() -> Value {
    json!({"taskDefinition": {
        "taskDefinitionArn": DEFINITION,
        "networkMode": "bridge",
        "containerDefinitions": [{
            "name": "web",
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/berth/tutorial/bcn-users",
                "awslogs-region": "eu-west-1",
                "awslogs-stream-prefix": "web"
            }}
        }]
    }})
}

fn task(status: &str, exit: Option<i64>) -> Value {
    let mut container = json!({"name": "web", "lastStatus": status});
    if let Some(code) = exit {
        container["exitCode"] = json!(code);
    }
    json!({"tasks": [{"taskArn": TASK, "lastStatus": status, "containers": [container]}], "failures": []})
}

fn lines(messages: &[&str], token: &str) -> Value {
    let events: Vec<Value> = messages
        .iter()
        .map(|m| json!({"timestamp": 1, "message": m, "ingestionTime": 2}))
        .collect();
    json!({"events": events, "nextForwardToken": token, "nextBackwardToken": "b/0"})
}

/// The deployed district and web service, up to `run-task`.
fn deployed() -> FakeAws {
    FakeAws::new()
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_COMPLETE", &[("ClusterName", CLUSTER)]),
            0,
        )
        .on(&["ecs", "describe-services", "bcn-users-web"], service(), 0)
        .on(
            &["ecs", "describe-task-definition", DEFINITION],
            definition(),
            0,
        )
}

/// A task that runs, writes three lines over two polls and stops with `exit`.
fn running(exit: Option<i64>) -> FakeAws {
    deployed()
        .on(&["ecs", "run-task"], task("PROVISIONING", None), 1)
        .on(&["ecs", "describe-tasks"], task("PENDING", None), 1)
        .fail(
            &["logs", "get-log-events"],
            "An error occurred (ResourceNotFoundException) when calling the GetLogEvents operation: The specified log stream does not exist.",
            1,
        )
        .on(&["ecs", "describe-tasks"], task("RUNNING", None), 1)
        .on(
            &["logs", "get-log-events"],
            lines(&["created account admin\n", "password: 1234"], "f/1"),
            1,
        )
        .on(&["logs", "get-log-events", "f/1"], lines(&[], "f/1"), 1)
        .on(&["ecs", "describe-tasks"], task("STOPPED", exit), 1)
        .on(
            &["logs", "get-log-events", "f/1"],
            lines(&["done"], "f/2"),
            1,
        )
        .on(&["logs", "get-log-events", "f/2"], lines(&[], "f/2"), 1)
}

const COMMAND: &[&str] = &["--", "bin/tootctl", "accounts", "create", "admin"];

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["bcn-users"];
    all.extend(extra);
    all.extend(COMMAND);
    all
}

#[test]
fn runs_the_deployed_web_task_definition_streams_its_log_and_exits_0() {
    let fleet = fleet();
    let aws = running(Some(0)).ready();
    let output = run(fleet.path(), &aws, &args(&[]));
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn the_container_exit_code_is_berths() {
    let fleet = fleet();
    let aws = running(Some(3)).ready();
    let output = run(fleet.path(), &aws, &args(&[]));
    assert_eq!(output.code, 3, "{}", transcript(&output, &aws));
    assert!(
        output.stdout.contains("task 0123abcd exited 3"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("done\n"),
        "the last lines come after STOPPED: {}",
        output.stdout
    );
}

#[test]
fn a_task_without_exit_code_exits_125_with_its_reason() {
    let fleet = fleet();
    let mut stopped = task("STOPPED", None);
    stopped["tasks"][0]["stoppedReason"] = json!("Essential container in task exited");
    stopped["tasks"][0]["stopCode"] = json!("EssentialContainerExited");
    stopped["tasks"][0]["containers"][0]["reason"] =
        json!("CannotPullContainerError: pull access denied");
    let aws = deployed()
        .on(&["ecs", "run-task"], task("PROVISIONING", None), 1)
        .on(&["ecs", "describe-tasks"], stopped, 1)
        .on(&["logs", "get-log-events"], lines(&[], "f/0"), 0)
        .ready();
    let output = run(fleet.path(), &aws, &args(&[]));
    assert_eq!(output.code, 125, "{}", transcript(&output, &aws));
    snapshot!(output.stderr);
}

#[test]
fn a_task_ecs_cannot_place_exits_125() {
    let fleet = fleet();
    let aws = deployed()
        .on(
            &["ecs", "run-task"],
            json!({"tasks": [], "failures": [{"arn": "arn:ci", "reason": "RESOURCE:MEMORY"}]}),
            1,
        )
        .ready();
    let output = run(fleet.path(), &aws, &args(&["--memory", "4096"]));
    assert_eq!(output.code, 125, "{}", transcript(&output, &aws));
    snapshot!(output.stderr);
}

#[test]
fn run_env_service_env_and_sizes_go_into_the_overrides() {
    let fleet = fleet();
    // `run_env.vars` reaches out/ in the app template's `berth` metadata.
    let file = fleet.path().join("instances/tutorial/bcn-users.yml");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "    before_deploy: rake db:migrate\n",
        "    before_deploy: rake db:migrate\n    run_env:\n      vars:\n        RAILS_LOG_LEVEL: debug\n        TOOT: one\n",
    );
    std::fs::write(&file, text).unwrap();
    let built = run_with(fleet.path(), &["build"], &[]);
    assert_eq!(built.code, 0, "{}", built.transcript());
    let aws = FakeAws::new()
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_COMPLETE", &[("ClusterName", CLUSTER)]),
            0,
        )
        .on(
            &["ecs", "describe-services", "bcn-users-streaming"],
            json!({"services": [{
                "status": "ACTIVE",
                "taskDefinition": "arn:td/bcn-users-streaming:2",
                "launchType": "FARGATE",
                "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}}
            }]}),
            0,
        )
        .on(
            &["ecs", "describe-task-definition"],
            json!({"taskDefinition": {"cpu": "256", "memory": "512", "containerDefinitions": [{"name": "streaming"}]}}),
            0,
        )
        .on(&["ecs", "run-task"], task("PROVISIONING", None), 1)
        .ready();
    let output = run(
        fleet.path(),
        &aws,
        &args(&[
            "--service",
            "streaming",
            "--env",
            "TOOT=two",
            "--env",
            "EXTRA=a=b",
            "--cpu",
            "512",
            "--memory",
            "1024",
            "--detach",
        ]),
    );
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn detach_prints_the_task_and_its_log_stream() {
    let fleet = fleet();
    let aws = deployed()
        .on(&["ecs", "run-task"], task("PROVISIONING", None), 1)
        .ready();
    let output = run(fleet.path(), &aws, &args(&["--detach"]));
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    assert!(!aws.calls().contains("describe-tasks"), "{}", aws.calls());
    snapshot!(output.stdout);
}

#[test]
fn dry_run_prints_every_call_and_starts_nothing() {
    let fleet = fleet();
    let aws = deployed().ready();
    let output = run(fleet.path(), &aws, &args(&["--dry-run"]));
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    assert!(!aws.calls().contains("run-task"), "{}", aws.calls());
    snapshot!(transcript(&output, &aws));
}

#[test]
fn unknown_heritage_service_and_undeployed_service_are_errors() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_COMPLETE", &[("ClusterName", CLUSTER)]),
            0,
        )
        .on(
            &["ecs", "describe-services"],
            json!({"services": [], "failures": [{"arn": "arn:s", "reason": "MISSING"}]}),
            0,
        )
        .ready();
    let mut text = String::new();
    for extra in [
        vec!["nobody", "--", "true"],
        vec!["bcn-users", "--service", "sidekiq", "--", "true"],
        vec!["bcn-users", "--", "true"],
        vec!["bcn-users", "--region", "us-east-1", "--", "true"],
        vec!["bcn-users", "--env", "NOVALUE", "--", "true"],
        vec!["bcn-users"],
    ] {
        let output = run(fleet.path(), &aws, &extra);
        text.push_str(&format!(
            "$ berth run {}\nexit: {}\n{}\n",
            extra.join(" "),
            output.code,
            output.stderr
        ));
    }
    text.push_str(&format!("--- aws calls\n{}", aws.calls()));
    snapshot!(text);
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_waiting_says_how_to_stop_or_follow_the_task() {
    let fleet = fleet();
    let aws = deployed()
        .on(&["ecs", "run-task"], task("PROVISIONING", None), 1)
        .slow(&["ecs", "describe-tasks"], task("RUNNING", None), 0.2)
        .on(&["logs", "get-log-events"], lines(&[], "f/0"), 0)
        .ready();
    let aws_path = aws.path();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([
            "run",
            "--aws",
            aws_path.to_str().unwrap(),
            "bcn-users",
            "--",
            "sleep",
            "600",
        ])
        .current_dir(fleet.path())
        .env("NO_COLOR", "1")
        .env("BERTH_POLL_MS", "50")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut waited = 0;
    while !aws.calls().contains("describe-tasks") {
        assert!(waited < 2400, "berth never waited for the task");
        std::thread::sleep(std::time::Duration::from_millis(25));
        waited += 1;
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    snapshot!(stderr);
}

#[test]
fn a_district_with_an_account_is_only_run_in_with_its_credentials() {
    let fleet = fleet();
    let file = fleet.path().join("instances/tutorial/district.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}account_id: \"111111111111\"\n")).unwrap();
    let built = run_with(fleet.path(), &["build"], &[]);
    assert_eq!(built.code, 0, "{}", built.transcript());
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], crate::apply::identity(), 0)
        .ready();
    let output = run(fleet.path(), &aws, &args(&[]));
    assert_eq!(output.code, 9, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn a_heritage_without_a_web_service_needs_service() {
    let fleet = crate::support::copy_tree(&crate::support::repo().join("tests/fixtures/workers"));
    let aws = FakeAws::new().ready();
    let output = run(fleet.path(), &aws, &["queue", "--", "true"]);
    assert_eq!(output.code, 64, "{}", transcript(&output, &aws));
    assert_eq!(aws.calls(), "", "nothing is asked of AWS");
    snapshot!(output.stderr);
}
