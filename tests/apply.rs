//! `berth apply` and `berth destroy` against a fake `aws` (tests/support/fake-aws.py)
//! that records every call and replays scripted answers: each test snapshots
//! berth's output, its exit code and the exact AWS CLI calls, in order.
//! The same flows against moto's server are in `e2e`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Output, copy_tree, repo, run_with};

/// A fake `aws` in its own directory: its rules and its call log.
pub struct FakeAws {
    dir: tempfile::TempDir,
    rules: Vec<Value>,
}

impl FakeAws {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("aws");
        std::fs::copy(repo().join("tests/support/fake-aws.py"), &script).unwrap();
        Self {
            dir,
            rules: Vec::new(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("aws")
    }

    /// Answers calls matching `when` with `stdout` (JSON), `times` times (0: always).
    pub fn on(mut self, when: &[&str], stdout: Value, times: u32) -> Self {
        let mut rule = json!({"when": when});
        rule["stdout"] = stdout;
        if times > 0 {
            rule["times"] = json!(times);
        }
        self.rules.push(rule);
        self
    }

    /// Fails calls matching `when` with the CLI's error text.
    pub fn fail(mut self, when: &[&str], stderr: &str, times: u32) -> Self {
        let mut rule = json!({"when": when, "stderr": format!("\n{stderr}\n"), "exit": 254});
        if times > 0 {
            rule["times"] = json!(times);
        }
        self.rules.push(rule);
        self
    }

    /// Answers slowly (for Ctrl-C).
    pub fn slow(mut self, when: &[&str], stdout: Value, seconds: f32) -> Self {
        let mut rule = json!({"when": when, "sleep": seconds});
        rule["stdout"] = stdout;
        self.rules.push(rule);
        self
    }

    /// Answers the first call matching `when` with `stdout`, after writing
    /// `text` to `path` (to edit `out/` while berth waits).
    pub fn editing(mut self, when: &[&str], stdout: Value, path: &Path, text: &str) -> Self {
        let mut rule = json!({"when": when, "times": 1});
        rule["stdout"] = stdout;
        rule["write"] = json!({"path": path, "text": text});
        self.rules.push(rule);
        self
    }

    /// Every file a call handed the CLI, as the CLI read it at call time.
    pub fn files(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("files.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Writes the rules; call before berth runs.
    pub fn ready(self) -> Self {
        std::fs::write(
            self.dir.path().join("rules.json"),
            serde_json::to_string_pretty(&self.rules).unwrap(),
        )
        .unwrap();
        self
    }

    /// Every call so far, as shell lines.
    pub fn calls(&self) -> String {
        let Ok(log) = std::fs::read_to_string(self.dir.path().join("calls.log")) else {
            return String::new();
        };
        let mut text = String::new();
        // A call being written while a test polls has no newline yet: skip it.
        for line in log.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            let args: Vec<String> = serde_json::from_str(line.trim_end()).unwrap();
            let quoted: Vec<String> = args
                .iter()
                .map(|a| shlex::try_quote(a).unwrap().into_owned())
                .collect();
            text.push_str(&format!("aws {}\n", quoted.join(" ")));
        }
        text
    }
}

// ---- answers -------------------------------------------------------------

pub fn identity() -> Value {
    json!({"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/deployer"})
}

pub fn stack(name: &str, status: &str, outputs: &[(&str, &str)]) -> Value {
    let outputs: Vec<Value> = outputs
        .iter()
        .map(|(k, v)| json!({"OutputKey": k, "OutputValue": v}))
        .collect();
    json!({"Stacks": [{"StackName": name, "StackStatus": status, "Outputs": outputs}]})
}

pub fn missing(name: &str) -> String {
    format!(
        "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id {name} does not exist"
    )
}

pub fn created(name: &str) -> Value {
    json!({
        "Id": format!("arn:aws:cloudformation:eu-west-1:123456789012:changeSet/berth/{name}"),
        "StackId": format!("arn:aws:cloudformation:eu-west-1:123456789012:stack/{name}/1")
    })
}

pub fn change_set(status: &str, changes: &[(&str, &str, &str, Option<&str>)]) -> Value {
    let changes: Vec<Value> = changes
        .iter()
        .map(|(action, id, kind, replacement)| {
            let mut change =
                json!({"Action": action, "LogicalResourceId": id, "ResourceType": kind});
            if let Some(r) = replacement {
                change["Replacement"] = json!(r);
            }
            json!({"Type": "Resource", "ResourceChange": change})
        })
        .collect();
    json!({"Status": status, "ExecutionStatus": "AVAILABLE", "Changes": changes})
}

pub fn no_changes() -> Value {
    json!({
        "Status": "FAILED",
        "StatusReason": "The submitted information didn't contain changes. Submit different information to create a change set.",
        "Changes": []
    })
}

/// Stack events, newest first: (id, logical id, type, status, reason).
pub fn events(list: &[(&str, &str, &str, &str, &str)]) -> Value {
    let events: Vec<Value> = list
        .iter()
        .map(|(id, logical, kind, status, reason)| {
            let mut e = json!({"EventId": id, "StackName": "s", "LogicalResourceId": logical, "ResourceType": kind, "ResourceStatus": status});
            if !reason.is_empty() {
                e["ResourceStatusReason"] = json!(reason);
            }
            e
        })
        .collect();
    json!({"StackEvents": events})
}

const DISTRICT: &str = "tutorial-district";
const DATA: &str = "tutorial-bcn-users-data";
const APP: &str = "tutorial-bcn-users-app";
const TASK: &str = "arn:aws:ecs:eu-west-1:123456789012:task/tutorial/0f1e2d3c";

pub fn district_outputs() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ClusterName", "tutorial"),
        ("PrivateSubnets", "subnet-1,subnet-2"),
        ("ContainerSecurityGroupId", "sg-1"),
        ("CapacityProviderName", "tutorial-cp"),
    ]
}

/// The data stack's outputs: the roles and log group `before_deploy` runs with.
pub fn data_outputs() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ExecutionRoleArn", "arn:aws:iam::123456789012:role/exec"),
        ("TaskRoleArn", "arn:aws:iam::123456789012:role/task"),
        ("LogGroupName", "/berth/tutorial/bcn-users"),
    ]
}

/// The data stack exists and has nothing to change.
fn data_up_to_date(aws: FakeAws) -> FakeAws {
    aws.on(
        &["describe-stacks", DATA],
        stack(DATA, "UPDATE_COMPLETE", &data_outputs()),
        0,
    )
    .on(&["create-change-set", DATA], created(DATA), 1)
    .on(&["describe-change-set", DATA], no_changes(), 1)
    .on(&["delete-change-set", DATA], json!({}), 1)
}

/// The data stack does not exist yet and is created.
fn data_created(aws: FakeAws) -> FakeAws {
    aws.fail(&["describe-stacks", DATA], &missing(DATA), 1)
        .on(&["create-change-set", DATA], created(DATA), 1)
        .on(
            &["describe-change-set", DATA],
            change_set(
                "CREATE_COMPLETE",
                &[("Add", "ExecutionRole", "AWS::IAM::Role", None)],
            ),
            1,
        )
        .on(&["execute-change-set", DATA], json!({}), 1)
        .on(
            &["describe-stacks", DATA],
            stack(DATA, "CREATE_COMPLETE", &data_outputs()),
            0,
        )
        .on(
            &["describe-stack-events", DATA],
            events(&[(
                "d1",
                DATA,
                "AWS::CloudFormation::Stack",
                "CREATE_COMPLETE",
                "",
            )]),
            0,
        )
}

pub fn app_outputs() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ExecutionRoleArn", "arn:aws:iam::123456789012:role/exec"),
        ("TaskRoleArn", "arn:aws:iam::123456789012:role/task"),
        ("LogGroupName", "/berth/tutorial/bcn-users"),
    ]
}

pub fn task(status: &str, exit: Option<i64>) -> Value {
    let mut container = json!({"name": "before-deploy", "lastStatus": status});
    if let Some(code) = exit {
        container["exitCode"] = json!(code);
    }
    json!({"tasks": [{"taskArn": TASK, "lastStatus": status, "containers": [container]}], "failures": []})
}

// ---- running -------------------------------------------------------------

/// The tutorial fleet (district `tutorial`, heritage `bcn-users`) with a current out/.
pub fn fleet() -> tempfile::TempDir {
    copy_tree(&repo().join("tests/fixtures/tutorial"))
}

pub fn berth(root: &Path, aws: &FakeAws, args: &[&str]) -> Output {
    let aws_path = aws.path();
    let mut all = vec!["apply", "--aws", aws_path.to_str().unwrap()];
    if args.first() == Some(&"destroy") {
        all[0] = "destroy";
        all.extend(&args[1..]);
    } else {
        all.extend(args);
    }
    // A fleet outside a git repository stays outside, wherever TMPDIR is.
    run_with(
        root,
        &all,
        &[("BERTH_POLL_MS", "0"), ("GIT_CEILING_DIRECTORIES", "/")],
    )
}

/// Output, exit code and the AWS calls, with times and change set names masked.
pub fn transcript(output: &Output, aws: &FakeAws) -> String {
    format!("{}--- aws calls\n{}", output.transcript(), aws.calls())
}

macro_rules! snapshot {
    ($text:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(r"berth-\d{8}T\d{6}Z", "berth-[time]");
        settings.add_filter(r"\[\d+:\d\d\]", "[m:ss]");
        settings.add_filter(r"\(\d+:\d\d\)", "(m:ss)");
        settings.add_filter(r", \d+:\d\d", ", m:ss");
        // apply hands the CLI its private copy of the verified artifacts.
        settings.add_filter(
            r"/[^\s/]+(?:/[^\s/]+)*?/berth-apply-[^/\s]+/",
            "[private copy]/",
        );
        settings.bind(|| insta::assert_snapshot!($text));
    }};
}

// ---- the flows -----------------------------------------------------------

#[test]
fn create_deploys_district_data_before_deploy_then_app() {
    let fleet = fleet();
    let aws = data_created(FakeAws::new())
        .on(
            &["ecs", "register-task-definition"],
            json!({"taskDefinition": {"taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/bcn-users-before-deploy:1"}}),
            1,
        )
        .on(&["ecs", "run-task"], task("PROVISIONING", None), 1)
        .on(&["ecs", "describe-tasks"], task("STOPPED", Some(0)), 1)
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .fail(&["describe-stacks", DISTRICT], &missing(DISTRICT), 1)
        .on(&["create-change-set", DISTRICT], created(DISTRICT), 1)
        .on(
            &["describe-change-set", DISTRICT],
            change_set("CREATE_IN_PROGRESS", &[]),
            1,
        )
        .on(
            &["describe-change-set", DISTRICT],
            change_set(
                "CREATE_COMPLETE",
                &[
                    ("Add", "Vpc", "AWS::EC2::VPC", None),
                    ("Add", "Cluster", "AWS::ECS::Cluster", None),
                ],
            ),
            1,
        )
        .on(&["execute-change-set", DISTRICT], json!({}), 1)
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "CREATE_IN_PROGRESS", &[]),
            1,
        )
        .on(
            &["describe-stack-events", DISTRICT],
            events(&[
                ("e2", "Vpc", "AWS::EC2::VPC", "CREATE_IN_PROGRESS", ""),
                (
                    "e1",
                    DISTRICT,
                    "AWS::CloudFormation::Stack",
                    "CREATE_IN_PROGRESS",
                    "User Initiated",
                ),
            ]),
            1,
        )
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "CREATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(
            &["describe-stack-events", DISTRICT],
            events(&[
                (
                    "e4",
                    DISTRICT,
                    "AWS::CloudFormation::Stack",
                    "CREATE_COMPLETE",
                    "",
                ),
                ("e3", "Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE", ""),
                ("e2", "Vpc", "AWS::EC2::VPC", "CREATE_IN_PROGRESS", ""),
            ]),
            0,
        )
        .fail(&["describe-stacks", APP], &missing(APP), 1)
        .on(&["create-change-set", APP], created(APP), 1)
        .on(
            &["describe-change-set", APP],
            change_set(
                "CREATE_COMPLETE",
                &[("Add", "WebService", "AWS::ECS::Service", None)],
            ),
            1,
        )
        .on(&["execute-change-set", APP], json!({}), 1)
        .on(
            &["describe-stacks", APP],
            stack(APP, "CREATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(
            &["describe-stack-events", APP],
            events(&[(
                "a1",
                APP,
                "AWS::CloudFormation::Stack",
                "CREATE_COMPLETE",
                "",
            )]),
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

/// An existing fleet: the district has nothing to change, the app stack
/// changes, so `before_deploy` runs (with the app stack's roles) first.
fn update_rules(aws: FakeAws) -> FakeAws {
    data_up_to_date(aws)
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(&["create-change-set", DISTRICT], created(DISTRICT), 1)
        .on(&["describe-change-set", DISTRICT], no_changes(), 1)
        .on(&["delete-change-set", DISTRICT], json!({}), 1)
        .on(&["create-change-set", APP], created(APP), 1)
}

fn app_update_rules(aws: FakeAws) -> FakeAws {
    aws.on(
        &["describe-change-set", APP],
        change_set(
            "CREATE_COMPLETE",
            &[
                ("Modify", "WebService", "AWS::ECS::Service", Some("False")),
                ("Modify", "WebTaskDefinition", "AWS::ECS::TaskDefinition", Some("True")),
            ],
        ),
        1,
    )
    .on(
        &["ecs", "register-task-definition"],
        json!({"taskDefinition": {"taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/bcn-users-before-deploy:7"}}),
        1,
    )
    .on(&["ecs", "run-task"], task("PROVISIONING", None), 1)
    .on(&["ecs", "describe-tasks"], task("RUNNING", None), 1)
}

#[test]
fn update_runs_before_deploy_then_the_app_stack() {
    let fleet = fleet();
    let aws = app_update_rules(update_rules(FakeAws::new()))
        .on(&["ecs", "describe-tasks"], task("STOPPED", Some(0)), 1)
        .on(
            &["describe-stack-events", APP],
            events(&[(
                "a1",
                APP,
                "AWS::CloudFormation::Stack",
                "UPDATE_COMPLETE",
                "",
            )]),
            1,
        )
        .on(&["execute-change-set", APP], json!({}), 1)
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            1,
        )
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_IN_PROGRESS", &app_outputs()),
            1,
        )
        .on(
            &["describe-stack-events", APP],
            events(&[
                (
                    "a2",
                    "WebService",
                    "AWS::ECS::Service",
                    "UPDATE_IN_PROGRESS",
                    "",
                ),
                (
                    "a1",
                    APP,
                    "AWS::CloudFormation::Stack",
                    "UPDATE_COMPLETE",
                    "",
                ),
            ]),
            1,
        )
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(
            &["describe-stack-events", APP],
            events(&[
                (
                    "a4",
                    APP,
                    "AWS::CloudFormation::Stack",
                    "UPDATE_COMPLETE",
                    "",
                ),
                (
                    "a3",
                    "WebService",
                    "AWS::ECS::Service",
                    "UPDATE_COMPLETE",
                    "",
                ),
                (
                    "a2",
                    "WebService",
                    "AWS::ECS::Service",
                    "UPDATE_IN_PROGRESS",
                    "",
                ),
            ]),
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn a_fleet_without_changes_is_up_to_date() {
    let fleet = fleet();
    let aws = update_rules(FakeAws::new())
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(&["describe-change-set", APP], no_changes(), 1)
        .on(&["delete-change-set", APP], json!({}), 1)
        .ready();
    let output = berth(fleet.path(), &aws, &[]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn rollback_complete_is_deleted_and_created_again() {
    let fleet = fleet();
    let aws = update_rules(FakeAws::new())
        .on(
            &["describe-stacks", APP],
            stack(APP, "ROLLBACK_COMPLETE", &[]),
            1,
        )
        .on(&["delete-stack", APP], json!({}), 1)
        .on(
            &["describe-stacks", APP],
            stack(APP, "DELETE_IN_PROGRESS", &[]),
            1,
        )
        .on(
            &["describe-stack-events", APP],
            events(&[(
                "r2",
                APP,
                "AWS::CloudFormation::Stack",
                "DELETE_IN_PROGRESS",
                "User Initiated",
            )]),
            1,
        )
        .fail(&["describe-stacks", APP], &missing(APP), 1)
        .on(
            &["describe-change-set", APP],
            change_set(
                "CREATE_COMPLETE",
                &[("Add", "WebService", "AWS::ECS::Service", None)],
            ),
            1,
        )
        // The data stack exists, so the migration runs before the app stack is created again.
        .on(
            &["ecs", "register-task-definition"],
            json!({"taskDefinition": {"taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/bcn-users-before-deploy:1"}}),
            1,
        )
        .on(&["ecs", "run-task"], task("PROVISIONING", None), 1)
        .on(&["ecs", "describe-tasks"], task("STOPPED", Some(0)), 1)
        .on(&["execute-change-set", APP], json!({}), 1)
        .on(
            &["describe-stacks", APP],
            stack(APP, "CREATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(
            &["describe-stack-events", APP],
            events(&[(
                "c1",
                APP,
                "AWS::CloudFormation::Stack",
                "CREATE_COMPLETE",
                "",
            )]),
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn rollback_complete_is_not_deleted_without_an_answer() {
    let fleet = fleet();
    let aws = update_rules(FakeAws::new())
        .on(
            &["describe-stacks", APP],
            stack(APP, "ROLLBACK_COMPLETE", &[]),
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &[]);
    assert_eq!(output.code, 5, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn a_stack_mid_update_is_an_error_naming_its_status() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_IN_PROGRESS", &[]),
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 6);
    snapshot!(transcript(&output, &aws));
}

#[test]
fn a_failed_update_prints_the_failed_resources() {
    let fleet = fleet();
    let aws = app_rolls_back(FakeAws::new()).ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 6, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

/// An update whose app stack fails and rolls back (`UPDATE_ROLLBACK_COMPLETE`).
fn app_rolls_back(aws: FakeAws) -> FakeAws {
    app_update_rules(update_rules(aws))
        .on(&["ecs", "describe-tasks"], task("STOPPED", Some(0)), 1)
        .on(&["describe-stack-events", APP], events(&[("a1", APP, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", "")]), 1)
        .on(&["execute-change-set", APP], json!({}), 1)
        .on(&["describe-stacks", APP], stack(APP, "UPDATE_COMPLETE", &app_outputs()), 1)
        .on(&["describe-stacks", APP], stack(APP, "UPDATE_ROLLBACK_COMPLETE", &app_outputs()), 0)
        .on(
            &["describe-stack-events", APP],
            events(&[
                ("a5", APP, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", ""),
                ("a4", APP, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: [WebService]."),
                ("a3", "WebService", "AWS::ECS::Service", "UPDATE_FAILED", "Resource handler returned message: \"Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'.\""),
                ("a2", "WebService", "AWS::ECS::Service", "UPDATE_IN_PROGRESS", ""),
            ]),
            0,
        )
}

#[test]
fn before_deploy_exiting_1_stops_before_the_app_stack() {
    let fleet = fleet();
    let aws = app_update_rules(update_rules(FakeAws::new()))
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(&["ecs", "describe-tasks"], task("STOPPED", Some(1)), 1)
        .on(&["delete-change-set", APP], json!({}), 1)
        .ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 7, "{}", transcript(&output, &aws));
    assert!(!aws.calls().contains("execute-change-set"));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn replacing_a_database_is_refused_without_allow_data_loss() {
    let fleet = fleet();
    let aws = update_rules(FakeAws::new())
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(
            &["describe-change-set", APP],
            change_set(
                "CREATE_COMPLETE",
                &[
                    ("Modify", "Database", "AWS::RDS::DBInstance", Some("True")),
                    ("Modify", "WebService", "AWS::ECS::Service", Some("False")),
                ],
            ),
            1,
        )
        .on(&["delete-change-set", APP], json!({}), 1)
        .ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 4, "{}", transcript(&output, &aws));
    assert!(!aws.calls().contains("execute-change-set"));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn dry_run_prints_the_commands_and_changes_nothing() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .on(
            &["describe-stacks", DATA],
            stack(DATA, "UPDATE_COMPLETE", &data_outputs()),
            0,
        )
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(
            &["get-template", DISTRICT],
            template(deployed(fleet.path(), "tutorial/district.cfn.json")),
            0,
        )
        .on(
            &["get-template", DATA],
            template(deployed(fleet.path(), "tutorial/bcn-users/data.cfn.json")),
            0,
        )
        .on(
            &["get-template", APP],
            template(deployed(fleet.path(), "tutorial/bcn-users/app.cfn.json")),
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &["--dry-run", "--region", "eu-west-1"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    for call in aws.calls().lines() {
        assert!(
            call.starts_with("aws sts get-caller-identity")
                || call.starts_with("aws cloudformation describe-stacks")
                || call.starts_with("aws cloudformation get-template"),
            "a dry run ran {call}"
        );
    }
    snapshot!(transcript(&output, &aws));
}

#[test]
fn dry_run_of_a_new_fleet_reads_outputs_in_the_shell() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .fail(&["describe-stacks"], &missing("any"), 0)
        .ready();
    let output = berth(fleet.path(), &aws, &["--dry-run"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

// ---- refusals and failures -------------------------------------------------

#[test]
fn stale_out_is_refused() {
    let fleet = fleet();
    let instance = fleet.path().join("instances/tutorial/bcn-users.yml");
    let text = std::fs::read_to_string(&instance)
        .unwrap()
        .replace("rake db:migrate", "rake db:migrate:status");
    std::fs::write(&instance, text).unwrap();
    let aws = FakeAws::new().ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 3);
    assert_eq!(aws.calls(), "", "nothing reaches AWS");
    snapshot!(transcript(&output, &aws));
}

#[test]
fn an_edited_artifact_is_refused() {
    let fleet = fleet();
    let template = fleet.path().join("out/tutorial/bcn-users/app.cfn.json");
    let text = std::fs::read_to_string(&template).unwrap().replacen(
        "\"DesiredCount\": 1",
        "\"DesiredCount\": 9",
        1,
    );
    std::fs::write(&template, text).unwrap();
    let aws = FakeAws::new().ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 3);
    assert_eq!(aws.calls(), "", "nothing reaches AWS");
    snapshot!(output.transcript());
}

#[test]
fn a_missing_cli_is_a_clear_error() {
    let fleet = fleet();
    let output = run_with(
        fleet.path(),
        &["apply", "--aws", "/nonexistent/aws"],
        &[("BERTH_POLL_MS", "0")],
    );
    assert_eq!(output.code, 8);
    snapshot!(output.transcript());
    let empty = tempfile::tempdir().unwrap();
    let output = run_with(
        fleet.path(),
        &["apply", "--dry-run"],
        &[("PATH", empty.path().to_str().unwrap())],
    );
    assert_eq!(output.code, 8);
    assert!(
        output
            .stderr
            .contains("the AWS CLI `aws` was not found: it is not on PATH"),
        "{}",
        output.stderr
    );
}

#[test]
fn missing_credentials_are_a_clear_error() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .fail(&["sts"], "Unable to locate credentials. You can configure credentials by running \"aws configure\".", 0)
        .ready();
    let output = berth(fleet.path(), &aws, &["--profile", "prod"]);
    assert_eq!(output.code, 9);
    snapshot!(transcript(&output, &aws));
}

#[test]
fn throttled_calls_are_retried_with_backoff() {
    let fleet = fleet();
    let throttled = "An error occurred (Throttling) when calling the DescribeStacks operation (reached max retries: 4): Rate exceeded";
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .fail(&["describe-stacks", DISTRICT], throttled, 2)
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_IN_PROGRESS", &[]),
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &[]);
    assert_eq!(
        output.code,
        6,
        "retried, then went on: {}",
        transcript(&output, &aws)
    );
    assert_eq!(aws.calls().matches("describe-stacks").count(), 3);

    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .fail(&["describe-stacks", DISTRICT], throttled, 0)
        .ready();
    let output = berth(fleet.path(), &aws, &[]);
    assert_eq!(output.code, 10);
    assert_eq!(aws.calls().matches("describe-stacks").count(), 5, "bounded");
    snapshot!(transcript(&output, &aws));
}

#[test]
fn a_network_error_is_a_clear_error() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .fail(
            &["sts"],
            "Could not connect to the endpoint URL: \"https://sts.eu-west-1.amazonaws.com/\"",
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &[]);
    assert_eq!(output.code, 11);
    snapshot!(output.transcript());
}

#[test]
fn an_unknown_heritage_is_a_usage_error() {
    let fleet = fleet();
    let aws = FakeAws::new().ready();
    let output = berth(fleet.path(), &aws, &["--heritage", "nope"]);
    assert_eq!(output.code, 64);
    snapshot!(output.transcript());
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_waiting_says_how_to_follow_the_stack() {
    let fleet = fleet();
    let aws = update_rules(FakeAws::new())
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            1,
        )
        .on(
            &["describe-change-set", APP],
            change_set(
                "CREATE_COMPLETE",
                &[("Modify", "WebService", "AWS::ECS::Service", Some("False"))],
            ),
            1,
        )
        .on(
            &["ecs", "register-task-definition"],
            json!({"taskDefinition": {"taskDefinitionArn": "arn:td:1"}}),
            1,
        )
        .on(&["ecs", "run-task"], task("PROVISIONING", None), 1)
        .on(&["ecs", "describe-tasks"], task("STOPPED", Some(0)), 1)
        .on(
            &["describe-stack-events", APP],
            events(&[(
                "a1",
                APP,
                "AWS::CloudFormation::Stack",
                "UPDATE_COMPLETE",
                "",
            )]),
            1,
        )
        .on(&["execute-change-set", APP], json!({}), 1)
        .slow(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_IN_PROGRESS", &[]),
            0.2,
        )
        .on(&["describe-stack-events", APP], events(&[]), 0)
        .ready();
    let aws_path = aws.path();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["apply", "--yes", "--aws", aws_path.to_str().unwrap()])
        .current_dir(fleet.path())
        .env("NO_COLOR", "1")
        .env("BERTH_POLL_MS", "50")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Every fake `aws` call starts a Python process: on a loaded machine the
    // deploy takes seconds to get here, so wait up to a minute.
    let mut waited = 0;
    while !aws.calls().contains("execute-change-set") {
        assert!(waited < 2400, "berth never executed the change set");
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

// ---- destroy ---------------------------------------------------------------

#[test]
fn destroy_deletes_the_app_stack_and_says_what_remains() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &[]),
            1,
        )
        .on(&["delete-stack", APP], json!({}), 1)
        .on(
            &["describe-stacks", APP],
            stack(APP, "DELETE_IN_PROGRESS", &[]),
            1,
        )
        .on(
            &["describe-stack-events", APP],
            events(&[(
                "d1",
                APP,
                "AWS::CloudFormation::Stack",
                "DELETE_IN_PROGRESS",
                "User Initiated",
            )]),
            0,
        )
        .fail(&["describe-stacks", APP], &missing(APP), 0)
        .fail(
            &["describe-stacks", "tutorial-bcn-users-data"],
            &missing("tutorial-bcn-users-data"),
            0,
        )
        .ready();
    let output = berth(
        fleet.path(),
        &aws,
        &["destroy", "--heritage", "bcn-users", "--yes"],
    );
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn destroy_asks_first() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &[]),
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &["destroy", "--heritage", "bcn-users"]);
    assert_eq!(output.code, 5);
    assert!(!aws.calls().contains("delete-stack"));
    snapshot!(transcript(&output, &aws));
}

// ---- the library, with a data stack ----------------------------------------

/// The person, scripted: says nothing back, never waits, no terminal.
#[derive(Default)]
struct Script {
    lines: Vec<String>,
}

impl berth::apply::Ui for Script {
    fn say(&mut self, line: &str) {
        self.lines.push(line.to_owned());
    }
    fn progress(&mut self, _status: &str, events: &[String]) {
        self.lines.extend(events.iter().cloned());
    }
    fn confirm(&mut self, _question: &str) -> berth::apply::Answer {
        berth::apply::Answer::NoTerminal
    }
    fn sleep(&mut self, _duration: std::time::Duration) {}
    fn elapsed(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
    fn interrupted(&self) -> bool {
        false
    }
}

/// An `out/` with a data stack (what `berth build` will write once the data
/// stack lands): district `d`, heritage `h`, a Fargate `before_deploy`.
fn out_with_data_stack() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let files = [
        (
            "d/district.cfn.json",
            "cloudformation-stack",
            Some("d-district"),
            json!({"Resources": {"Cluster": {"Type": "AWS::ECS::Cluster"}}}),
        ),
        (
            "d/h/data.cfn.json",
            "cloudformation-stack",
            Some("d-h-data"),
            json!({"Resources": {
                "Database": {"Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot"},
                "Media": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
                "LogGroup": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete"},
                "ExecutionRole": {"Type": "AWS::IAM::Role"},
                "TaskRole": {"Type": "AWS::IAM::Role"}
            }}),
        ),
        (
            "d/h/app.cfn.json",
            "cloudformation-stack",
            Some("d-h-app"),
            json!({"Resources": {"WebService": {"Type": "AWS::ECS::Service"}}}),
        ),
        (
            "d/h/app.params.json",
            "cloudformation-parameters",
            Some("d-h-app"),
            json!({"Parameters": {"Image": "repo/h:1"}, "Tags": {"berth:heritage": "h"}}),
        ),
        (
            "d/h/task-definitions/before-deploy.json",
            "ecs-task-definition",
            None,
            json!({
                "family": "h-before-deploy",
                "networkMode": "awsvpc",
                "requiresCompatibilities": ["FARGATE"],
                "executionRoleArn": "${EXECUTION_ROLE_ARN}",
                "taskRoleArn": "${TASK_ROLE_ARN}",
                "containerDefinitions": [{
                    "name": "before-deploy",
                    "image": "repo/h:1",
                    "command": ["rake", "db:migrate"],
                    "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/berth/d/h", "awslogs-stream-prefix": "before-deploy"}}
                }]
            }),
        ),
    ];
    write_out(root.path(), files);
    root
}

/// Writes `files` under `root/out` with their manifest.
fn write_out(
    root: &Path,
    files: impl IntoIterator<Item = (&'static str, &'static str, Option<&'static str>, Value)>,
) {
    let mut artifacts = Vec::new();
    for (path, kind, stack, value) in files {
        let text = format!("{}\n", serde_json::to_string_pretty(&value).unwrap());
        let file = root.join("out").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &text).unwrap();
        let mut entry = json!({"path": path, "kind": kind, "sha256": berth::emit::sha256(&text), "sources": ["instances/d/h.yml"]});
        if let Some(stack) = stack {
            entry["stack"] = json!(stack);
        }
        artifacts.push(entry);
    }
    let manifest = json!({"version": 1, "artifacts": artifacts});
    std::fs::write(root.join("out/manifest.json"), manifest.to_string()).unwrap();
}

fn library_run(
    root: &Path,
    aws: &FakeAws,
    allow_data_loss: bool,
) -> (Result<(), berth::apply::ApplyError>, Vec<String>) {
    library_run_with(root, aws, |settings| {
        settings.allow_data_loss = allow_data_loss;
    })
}

fn library_run_with(
    root: &Path,
    aws: &FakeAws,
    adjust: impl FnOnce(&mut berth::apply::Settings),
) -> (Result<(), berth::apply::ApplyError>, Vec<String>) {
    let artifacts = berth::apply::Artifacts::read(root).unwrap();
    let mut settings = berth::apply::Settings {
        dry_run: false,
        yes: true,
        allow_data_loss: false,
        profile: None,
        region: None,
        change_set_name: "berth-test".to_owned(),
        timing: berth::apply::Timing::every(std::time::Duration::ZERO),
        scratch: std::env::temp_dir(),
        origin: None,
        waves: None,
    };
    adjust(&mut settings);
    let mut runner = berth::apply::ProcessRunner {
        program: aws.path(),
        dir: root.to_path_buf(),
    };
    let mut ui = Script::default();
    let result = berth::apply::apply(
        &artifacts,
        &berth::apply::Selection::default(),
        &settings,
        &mut runner,
        &mut ui,
    );
    (result, ui.lines)
}

#[test]
fn data_stack_comes_before_before_deploy_and_the_app() {
    let root = out_with_data_stack();
    let roles = [
        ("ExecutionRoleArn", "arn:aws:iam::1:role/data-exec"),
        ("TaskRoleArn", "arn:aws:iam::1:role/data-task"),
    ];
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", "d-district"],
            stack("d-district", "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(
            &["create-change-set", "d-district"],
            created("d-district"),
            1,
        )
        .on(&["describe-change-set", "d-district"], no_changes(), 1)
        .on(&["delete-change-set", "d-district"], json!({}), 1)
        .fail(&["describe-stacks", "d-h-data"], &missing("d-h-data"), 1)
        .on(&["create-change-set", "d-h-data"], created("d-h-data"), 1)
        .on(
            &["describe-change-set", "d-h-data"],
            change_set(
                "CREATE_COMPLETE",
                &[("Add", "Database", "AWS::RDS::DBInstance", None)],
            ),
            1,
        )
        .on(&["execute-change-set", "d-h-data"], json!({}), 1)
        .on(
            &["describe-stacks", "d-h-data"],
            stack("d-h-data", "CREATE_COMPLETE", &roles),
            0,
        )
        .on(
            &["describe-stack-events", "d-h-data"],
            events(&[(
                "x1",
                "Database",
                "AWS::RDS::DBInstance",
                "CREATE_COMPLETE",
                "",
            )]),
            0,
        )
        .fail(&["describe-stacks", "d-h-app"], &missing("d-h-app"), 1)
        .on(&["create-change-set", "d-h-app"], created("d-h-app"), 1)
        .on(
            &["describe-change-set", "d-h-app"],
            change_set(
                "CREATE_COMPLETE",
                &[("Add", "WebService", "AWS::ECS::Service", None)],
            ),
            1,
        )
        .on(
            &["ecs", "register-task-definition"],
            json!({"taskDefinition": {"taskDefinitionArn": "arn:td:h-before-deploy:1"}}),
            1,
        )
        .on(&["ecs", "run-task"], task("PENDING", None), 1)
        .on(&["ecs", "describe-tasks"], task("STOPPED", Some(0)), 1)
        .on(&["execute-change-set", "d-h-app"], json!({}), 1)
        .on(
            &["describe-stacks", "d-h-app"],
            stack("d-h-app", "CREATE_COMPLETE", &[]),
            0,
        )
        .on(&["describe-stack-events", "d-h-app"], events(&[]), 0)
        .ready();
    let (result, lines) = library_run(root.path(), &aws, false);
    result.unwrap();
    let calls = aws.calls();
    let order: Vec<usize> = ["execute-change-set --change-set-name arn:aws:cloudformation:eu-west-1:123456789012:changeSet/berth/d-h-data", "run-task", "execute-change-set --change-set-name arn:aws:cloudformation:eu-west-1:123456789012:changeSet/berth/d-h-app"]
        .iter()
        .map(|needle| calls.find(needle).unwrap_or_else(|| panic!("no {needle} in\n{calls}")))
        .collect();
    assert!(
        order.is_sorted(),
        "data stack, then before_deploy, then the app:\n{calls}"
    );
    snapshot!(format!("{}\n--- aws calls\n{calls}", lines.join("\n")));
}

#[test]
fn replacing_the_data_stack_database_is_refused() {
    let root = out_with_data_stack();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", "d-district"],
            stack("d-district", "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(
            &["create-change-set", "d-district"],
            created("d-district"),
            1,
        )
        .on(&["describe-change-set", "d-district"], no_changes(), 1)
        .on(&["delete-change-set", "d-district"], json!({}), 1)
        .on(
            &["describe-stacks", "d-h-data"],
            stack("d-h-data", "UPDATE_COMPLETE", &[]),
            0,
        )
        .on(&["create-change-set", "d-h-data"], created("d-h-data"), 1)
        .on(
            &["describe-change-set", "d-h-data"],
            change_set(
                "CREATE_COMPLETE",
                &[
                    ("Modify", "Database", "AWS::RDS::DBInstance", Some("True")),
                    ("Remove", "Media", "AWS::S3::Bucket", None),
                ],
            ),
            1,
        )
        .on(&["delete-change-set", "d-h-data"], json!({}), 1)
        .ready();
    let (result, lines) = library_run(root.path(), &aws, false);
    let error = result.unwrap_err();
    assert!(
        matches!(error, berth::apply::ApplyError::DataLoss { .. }),
        "{error}"
    );
    assert!(!aws.calls().contains("execute-change-set"));
    snapshot!(format!(
        "{}\nerror: {error}\n--- aws calls\n{}",
        lines.join("\n"),
        aws.calls()
    ));
}

#[test]
fn destroy_with_allow_data_loss_lists_what_the_policies_keep() {
    let root = out_with_data_stack();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .fail(&["describe-stacks", "d-h-app"], &missing("d-h-app"), 0)
        .on(
            &["describe-stacks", "d-h-data"],
            stack("d-h-data", "UPDATE_COMPLETE", &[]),
            1,
        )
        .on(&["delete-stack", "d-h-data"], json!({}), 1)
        .fail(&["describe-stacks", "d-h-data"], &missing("d-h-data"), 0)
        .ready();
    let output = berth(
        root.path(),
        &aws,
        &["destroy", "--heritage", "h", "--allow-data-loss", "--yes"],
    );
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn a_relative_aws_path_is_taken_from_where_berth_runs() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .fail(
            &["sts"],
            "Could not connect to the endpoint URL: \"https://sts.eu-west-1.amazonaws.com/\"",
            0,
        )
        .ready();
    let root = fleet.path().to_str().unwrap();
    let output = run_with(
        aws.dir.path(),
        &["--root", root, "apply", "--aws", "./aws"],
        &[("BERTH_POLL_MS", "0")],
    );
    assert_eq!(output.code, 11, "the fake ran: {}", output.stderr);
}

#[test]
fn destroy_dry_run_prints_the_deletion() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &[]),
            0,
        )
        .on(
            &["get-template", APP],
            template(deployed(fleet.path(), "tutorial/bcn-users/app.cfn.json")),
            0,
        )
        .fail(
            &["describe-stacks", "tutorial-bcn-users-data"],
            &missing("tutorial-bcn-users-data"),
            0,
        )
        .ready();
    let output = berth(
        fleet.path(),
        &aws,
        &["destroy", "--heritage", "bcn-users", "--dry-run"],
    );
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    assert!(!aws.calls().contains("delete-stack"));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn an_unknown_district_is_a_usage_error() {
    let fleet = fleet();
    let aws = FakeAws::new().ready();
    let output = berth(fleet.path(), &aws, &["--district", "mstdn"]);
    assert_eq!(output.code, 64);
    assert_eq!(
        output.stderr,
        "error: no district `mstdn` in out/; it has `tutorial`\n"
    );
    let output = berth(fleet.path(), &aws, &["destroy", "--heritage", "gone"]);
    assert_eq!(output.code, 64);
    assert!(
        output.stderr.contains("pass --district D") || output.stderr.contains("--district D"),
        "{}",
        output.stderr
    );
}

#[test]
fn before_deploy_stopping_without_an_exit_code_stops_the_deploy() {
    let fleet = fleet();
    let stopped = json!({"tasks": [{
        "taskArn": TASK,
        "lastStatus": "STOPPED",
        "stopCode": "TaskFailedToStart",
        "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
        "containers": [{"name": "before-deploy", "lastStatus": "STOPPED"}]
    }], "failures": []});
    let aws = app_update_rules(update_rules(FakeAws::new()))
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(&["ecs", "describe-tasks"], stopped, 1)
        .on(&["delete-change-set", APP], json!({}), 1)
        .ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 7, "{}", transcript(&output, &aws));
    assert!(!aws.calls().contains("execute-change-set"));
    snapshot!(output.stderr);
}

// ---- region --------------------------------------------------------------

/// The network fleet's district `zones` is in us-east-1.
fn network_fleet() -> tempfile::TempDir {
    copy_tree(&repo().join("tests/fixtures/network"))
}

#[test]
fn every_call_for_a_district_names_its_region() {
    let fleet = network_fleet();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .fail(&["describe-stacks"], &missing("zones"), 0)
        .ready();
    // `--region` equal to the district's is accepted.
    let output = berth(
        fleet.path(),
        &aws,
        &[
            "--dry-run",
            "--district",
            "zones",
            "--heritage",
            "api",
            "--region",
            "us-east-1",
        ],
    );
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    let calls = aws.calls();
    for call in calls.lines() {
        assert!(call.ends_with(" --region us-east-1"), "{call}");
        assert_eq!(call.matches("--region").count(), 1, "{call}");
    }
    for line in output.stdout.lines().filter(|l| l.starts_with("aws ")) {
        assert!(line.contains(" --region us-east-1"), "{line}");
    }
    snapshot!(transcript(&output, &aws));
}

#[test]
fn a_region_other_than_the_districts_is_refused() {
    let fleet = network_fleet();
    let aws = FakeAws::new().ready();
    let output = berth(
        fleet.path(),
        &aws,
        &["--district", "zones", "--region", "eu-west-1", "--yes"],
    );
    assert_eq!(output.code, 64, "{}", transcript(&output, &aws));
    assert_eq!(aws.calls(), "", "nothing runs");
    let destroy = berth(
        fleet.path(),
        &aws,
        &[
            "destroy",
            "--heritage",
            "api",
            "--region",
            "eu-west-1",
            "--yes",
        ],
    );
    assert_eq!(destroy.code, 64, "{}", transcript(&destroy, &aws));
    snapshot!(format!(
        "{}{}",
        transcript(&output, &aws),
        destroy.transcript()
    ));
}

// ---- templates above the inline limit -------------------------------------

/// An app template of 60,000 bytes: above the 51,200 `--template-body` takes.
fn out_with_large_app(district_bytes: usize) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    write_out(
        root.path(),
        [
            (
                "d/district.cfn.json",
                "cloudformation-stack",
                Some("d-district"),
                json!({
                    "Metadata": {"berth": {"District": "d", "Region": "us-east-1"}, "Padding": "x".repeat(district_bytes)},
                    "Resources": {"ArtifactsBucket": {"Type": "AWS::S3::Bucket"}}
                }),
            ),
            (
                "d/h/app.cfn.json",
                "cloudformation-stack",
                Some("d-h-app"),
                json!({
                    "Metadata": {"Padding": "x".repeat(60_000)},
                    "Resources": {"WebService": {"Type": "AWS::ECS::Service"}}
                }),
            ),
        ],
    );
    root
}

fn bucket_outputs() -> Vec<(&'static str, &'static str)> {
    let mut outputs = district_outputs();
    outputs.push(("ArtifactsBucket", "d-district-artifactsbucket-1a2b3c"));
    outputs
}

#[test]
fn a_large_template_is_uploaded_and_passed_by_url() {
    let root = out_with_large_app(0);
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", "d-district"],
            stack("d-district", "UPDATE_COMPLETE", &bucket_outputs()),
            0,
        )
        .on(
            &["create-change-set", "d-district"],
            created("d-district"),
            1,
        )
        .on(&["describe-change-set", "d-district"], no_changes(), 1)
        .on(&["delete-change-set", "d-district"], json!({}), 1)
        .fail(&["describe-stacks", "d-h-app"], &missing("d-h-app"), 1)
        .on(&["s3api", "put-object"], json!({"ETag": "\"e\""}), 1)
        .on(&["create-change-set", "d-h-app"], created("d-h-app"), 1)
        .on(
            &["describe-change-set", "d-h-app"],
            change_set(
                "CREATE_COMPLETE",
                &[("Add", "WebService", "AWS::ECS::Service", None)],
            ),
            1,
        )
        .on(&["execute-change-set", "d-h-app"], json!({}), 1)
        .on(
            &["describe-stacks", "d-h-app"],
            stack("d-h-app", "CREATE_COMPLETE", &[]),
            0,
        )
        .on(&["describe-stack-events", "d-h-app"], events(&[]), 0)
        .ready();
    let (result, lines) = library_run(root.path(), &aws, false);
    result.unwrap();
    let calls = aws.calls();
    assert!(
        calls
            .lines()
            .any(|l| l.contains("--template-body file:///")
                && l.contains("/out/d/district.cfn.json")),
        "the district stack stays inline:\n{calls}"
    );
    let upload = calls.find("s3api put-object").expect("an upload");
    let create = calls
        .find("create-change-set --stack-name d-h-app")
        .unwrap();
    assert!(upload < create, "uploaded before the change set:\n{calls}");
    snapshot!(format!("{}\n--- aws calls\n{calls}", lines.join("\n")));
}

#[test]
fn dry_run_of_a_new_district_uploads_to_the_bucket_it_creates() {
    let root = out_with_large_app(0);
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .fail(&["describe-stacks"], &missing("d"), 0)
        .ready();
    let (result, lines) = library_run_with(root.path(), &aws, |s| {
        s.dry_run = true;
    });
    result.unwrap();
    snapshot!(format!(
        "{}\n--- aws calls\n{}",
        lines.join("\n"),
        aws.calls()
    ));
}

#[test]
fn a_district_template_above_the_inline_limit_is_refused() {
    let root = out_with_large_app(52_000);
    let aws = FakeAws::new().ready();
    let (result, _) = library_run(root.path(), &aws, false);
    let error = result.unwrap_err();
    assert_eq!(aws.calls(), "", "nothing runs");
    snapshot!(error.to_string());
}

/// Every district stack berth writes for the example and golden fleets
/// passes inline: it creates the bucket larger templates go through.
#[test]
fn district_templates_stay_under_the_inline_limit() {
    for root in crate::support::fleet_outs() {
        for entry in walkdir::WalkDir::new(root) {
            let path = entry.unwrap().into_path();
            if path.file_name().is_some_and(|n| n == "district.cfn.json") {
                let bytes = std::fs::metadata(&path).unwrap().len();
                assert!(bytes <= 51_200, "{}: {bytes} bytes", path.display());
            }
        }
    }
}

#[test]
fn credentials_of_another_account_than_the_districts_are_refused() {
    // District `zones` names account 123456789012.
    let fleet = network_fleet();
    let other = json!({"UserId": "AIDA", "Account": "210987654321", "Arn": "arn:aws:iam::210987654321:user/deployer"});
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], other.clone(), 0)
        .ready();
    let output = berth(fleet.path(), &aws, &["--district", "zones", "--yes"]);
    assert_eq!(output.code, 9, "{}", transcript(&output, &aws));
    assert_eq!(
        aws.calls().lines().count(),
        1,
        "only the identity is asked: {}",
        aws.calls()
    );
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], other, 0)
        .ready();
    let destroy = berth(
        fleet.path(),
        &aws,
        &["destroy", "--heritage", "api", "--yes"],
    );
    assert_eq!(destroy.code, 9, "{}", transcript(&destroy, &aws));
    assert_eq!(
        aws.calls().lines().count(),
        1,
        "only the identity is asked: {}",
        aws.calls()
    );
    snapshot!(format!("{}{}", output.transcript(), destroy.transcript()));
}

// ---- what is deployed is what was verified ---------------------------------

/// The file a call handed the CLI whose argument ends with `suffix`.
fn handed(aws: &FakeAws, suffix: &str) -> Value {
    let files = aws.files();
    files
        .iter()
        .find(|f| f["arg"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no call handed `{suffix}`: {files:#?}"))
        .clone()
}

/// Asserts a handed file is berth's private copy of `expected`: the
/// verified text, owner-only, outside `out/` and gone after the run.
fn assert_private_copy(file: &Value, root: &Path, expected: &str) {
    assert_eq!(
        file["text"].as_str(),
        Some(expected),
        "the CLI got the bytes apply verified, not the edited file: {file:#}"
    );
    assert_eq!(file["mode"], "600", "{file:#}");
    assert_eq!(file["dir_mode"], "700", "{file:#}");
    let path = Path::new(file["path"].as_str().unwrap());
    assert!(path.is_absolute(), "{file:#}");
    assert!(!path.starts_with(root), "not a file of the fleet: {file:#}");
    assert!(!path.exists(), "the private copy is removed: {file:#}");
}

#[test]
fn an_artifact_edited_while_apply_waits_is_not_deployed() {
    let fleet = fleet();
    let template = fleet.path().join("out/tutorial/bcn-users/app.cfn.json");
    let verified = std::fs::read_to_string(&template).unwrap();
    let edited = verified.replacen("\"DesiredCount\": 1", "\"DesiredCount\": 9", 1);
    assert_ne!(verified, edited);
    // The fake edits out/ while berth waits for its first call, after
    // berth checked every sha256.
    let aws = update_rules(FakeAws::new().editing(
        &["sts", "get-caller-identity"],
        identity(),
        &template,
        &edited,
    ))
    .on(
        &["describe-stacks", APP],
        stack(APP, "UPDATE_COMPLETE", &app_outputs()),
        0,
    )
    .on(&["describe-change-set", APP], no_changes(), 1)
    .on(&["delete-change-set", APP], json!({}), 1)
    .ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    assert_eq!(std::fs::read_to_string(&template).unwrap(), edited);
    assert_private_copy(
        &handed(&aws, "/tutorial/bcn-users/app.cfn.json"),
        fleet.path(),
        &verified,
    );
}

#[test]
fn an_upload_sends_the_verified_bytes() {
    let root = out_with_large_app(0);
    let template = root.path().join("out/d/h/app.cfn.json");
    let verified = std::fs::read_to_string(&template).unwrap();
    let edited = verified.replace("WebService", "Miner");
    let aws = FakeAws::new()
        .editing(
            &["sts", "get-caller-identity"],
            identity(),
            &template,
            &edited,
        )
        .on(
            &["describe-stacks", "d-district"],
            stack("d-district", "UPDATE_COMPLETE", &bucket_outputs()),
            0,
        )
        .on(
            &["create-change-set", "d-district"],
            created("d-district"),
            1,
        )
        .on(&["describe-change-set", "d-district"], no_changes(), 1)
        .on(&["delete-change-set", "d-district"], json!({}), 1)
        .fail(&["describe-stacks", "d-h-app"], &missing("d-h-app"), 1)
        .on(&["s3api", "put-object"], json!({"ETag": "\"e\""}), 1)
        .on(&["create-change-set", "d-h-app"], created("d-h-app"), 1)
        .on(&["describe-change-set", "d-h-app"], no_changes(), 1)
        .on(&["delete-change-set", "d-h-app"], json!({}), 1)
        .ready();
    let (result, _) = library_run(root.path(), &aws, false);
    result.unwrap();
    assert_private_copy(&handed(&aws, "/d/h/app.cfn.json"), root.path(), &verified);
}

#[test]
fn a_task_definition_edited_while_apply_waits_is_not_registered() {
    let root = out_with_data_stack();
    let path = root
        .path()
        .join("out/d/h/task-definitions/before-deploy.json");
    let verified = std::fs::read_to_string(&path).unwrap();
    let edited = verified.replace("db:migrate", "db:drop");
    let aws = FakeAws::new()
        .editing(&["sts", "get-caller-identity"], identity(), &path, &edited)
        .on(
            &["describe-stacks", "d-district"],
            stack("d-district", "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(
            &["create-change-set", "d-district"],
            created("d-district"),
            1,
        )
        .on(&["describe-change-set", "d-district"], no_changes(), 1)
        .on(&["delete-change-set", "d-district"], json!({}), 1)
        .on(
            &["describe-stacks", "d-h-data"],
            stack("d-h-data", "UPDATE_COMPLETE", &data_outputs()),
            0,
        )
        .on(&["create-change-set", "d-h-data"], created("d-h-data"), 1)
        .on(&["describe-change-set", "d-h-data"], no_changes(), 1)
        .on(&["delete-change-set", "d-h-data"], json!({}), 1)
        .fail(&["describe-stacks", "d-h-app"], &missing("d-h-app"), 1)
        .on(&["create-change-set", "d-h-app"], created("d-h-app"), 1)
        .on(
            &["describe-change-set", "d-h-app"],
            change_set(
                "CREATE_COMPLETE",
                &[("Add", "WebService", "AWS::ECS::Service", None)],
            ),
            1,
        )
        .on(
            &["ecs", "register-task-definition"],
            json!({"taskDefinition": {"taskDefinitionArn": "arn:td:h-before-deploy:1"}}),
            1,
        )
        .on(&["ecs", "run-task"], task("PENDING", None), 1)
        .on(&["ecs", "describe-tasks"], task("STOPPED", Some(0)), 1)
        .on(&["execute-change-set", "d-h-app"], json!({}), 1)
        .on(
            &["describe-stacks", "d-h-app"],
            stack("d-h-app", "CREATE_COMPLETE", &[]),
            0,
        )
        .on(&["describe-stack-events", "d-h-app"], events(&[]), 0)
        .ready();
    let (result, _) = library_run(root.path(), &aws, false);
    result.unwrap();
    let calls = aws.calls();
    let register = calls
        .lines()
        .find(|l| l.contains("register-task-definition"))
        .expect("registered");
    assert!(register.contains("db:migrate"), "{register}");
    assert!(!register.contains("db:drop"), "{register}");
}

#[test]
fn a_stateful_modify_without_a_replacement_field_is_at_risk() {
    let fleet = fleet();
    let aws = update_rules(FakeAws::new())
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(
            &["describe-change-set", APP],
            change_set(
                "CREATE_COMPLETE",
                &[
                    ("Modify", "Database", "AWS::RDS::DBInstance", None),
                    ("Dynamic", "Media", "AWS::S3::Bucket", None),
                    ("Modify", "WebService", "AWS::ECS::Service", None),
                ],
            ),
            1,
        )
        .on(&["delete-change-set", APP], json!({}), 1)
        .ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 4, "{}", transcript(&output, &aws));
    assert!(!aws.calls().contains("execute-change-set"));
    snapshot!(transcript(&output, &aws));
}

// ---- dry run: berth's own list of the data at risk ---------------------------

/// `get-template`'s answer as the AWS CLI prints it: botocore decodes a
/// JSON `TemplateBody` into an object (a YAML one stays a string).
pub fn template(body: Value) -> Value {
    let mut answer = json!({"StagesAvailable": ["Original", "Processed"]});
    answer["TemplateBody"] = body;
    answer
}

/// The template of `out/<path>` in `root`, as deployed from it.
fn deployed(root: &Path, path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root.join("out").join(path)).unwrap()).unwrap()
}

/// The tutorial fleet deployed as `out/` has it, but for the app stack's
/// template, which `app` gives.
fn deployed_tutorial(root: &Path, app: Value) -> FakeAws {
    FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(
            &["get-template", DISTRICT],
            template(deployed(root, "tutorial/district.cfn.json")),
            0,
        )
        .on(
            &["describe-stacks", DATA],
            stack(DATA, "UPDATE_COMPLETE", &data_outputs()),
            0,
        )
        .on(
            &["get-template", DATA],
            template(deployed(root, "tutorial/bcn-users/data.cfn.json")),
            0,
        )
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(&["get-template", APP], template(app), 0)
}

/// The lines of a dry run about the data at risk.
fn risk_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| {
            [
                "# data at risk",
                "# no data at risk",
                "# will fail",
                "# warning",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .collect()
}

/// An `out/` whose data stack holds a database without a custom name, so
/// that CloudFormation can replace it.
fn out_with_database() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    write_out(
        root.path(),
        [
            (
                "d/district.cfn.json",
                "cloudformation-stack",
                Some("d-district"),
                json!({"Resources": {"Cluster": {"Type": "AWS::ECS::Cluster"}}}),
            ),
            (
                "d/h/data.cfn.json",
                "cloudformation-stack",
                Some("d-h-data"),
                json!({"Resources": {
                    "Database": {
                        "Type": "AWS::RDS::DBInstance",
                        "DeletionPolicy": "Snapshot",
                        "UpdateReplacePolicy": "Snapshot",
                        "Properties": {"Engine": "postgres", "DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "20"}
                    },
                    "LogGroup": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete"}
                }}),
            ),
        ],
    );
    root
}

#[test]
fn dry_run_names_the_database_an_engine_change_replaces() {
    let root = out_with_database();
    let mut before = deployed(root.path(), "d/h/data.cfn.json");
    before["Resources"]["Database"]["Properties"]["Engine"] = json!("mysql");
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", "d-district"],
            stack("d-district", "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(
            &["get-template", "d-district"],
            template(deployed(root.path(), "d/district.cfn.json")),
            0,
        )
        .on(
            &["describe-stacks", "d-h-data"],
            stack("d-h-data", "UPDATE_COMPLETE", &[]),
            0,
        )
        .on(&["get-template", "d-h-data"], template(before), 0)
        .ready();
    let (result, lines) = library_run_with(root.path(), &aws, |s| s.dry_run = true);
    result.unwrap();
    assert!(
        lines.iter().any(|l| l
            == "# data at risk in `d-h-data`: `Database` (AWS::RDS::DBInstance) replaced because Engine: \"mysql\" → \"postgres\" (the old one: UpdateReplacePolicy Snapshot; the new one starts empty)"),
        "{}",
        lines.join("\n")
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("# no data at risk in `d-district`")),
        "{}",
        lines.join("\n")
    );
    assert!(!aws.calls().contains("create-change-set"), "a dry run");
    snapshot!(format!(
        "{}\n--- aws calls\n{}",
        lines.join("\n"),
        aws.calls()
    ));
}

/// berth names every database (`DBInstanceIdentifier`), so CloudFormation
/// refuses to replace one: the dry run says so, as `berth diff` does.
#[test]
fn dry_run_says_a_named_database_engine_change_will_fail() {
    let fleet = copy_tree(&repo().join("tests/fixtures/mastodon"));
    let mut before = deployed(fleet.path(), "social/toots/data.cfn.json");
    before["Resources"]["Database"]["Properties"]["Engine"] = json!("mysql");
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", "social-district"],
            stack("social-district", "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(
            &["get-template", "social-district"],
            template(deployed(fleet.path(), "social/district.cfn.json")),
            0,
        )
        .on(
            &["describe-stacks", "social-toots-data"],
            stack("social-toots-data", "UPDATE_COMPLETE", &data_outputs()),
            0,
        )
        .on(&["get-template", "social-toots-data"], template(before), 0)
        .on(
            &["describe-stacks", "social-toots-app"],
            stack("social-toots-app", "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(
            &["get-template", "social-toots-app"],
            template(deployed(fleet.path(), "social/toots/app.cfn.json")),
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &["--dry-run"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    let risks = risk_lines(&output.stdout);
    assert!(
        risks.iter().any(|l| l.starts_with("# will fail in `social-toots-data`: `Database` (AWS::RDS::DBInstance): CloudFormation cannot replace a resource with a custom name")
            && l.contains("replaced because Engine: \"mysql\" → \"postgres\"")),
        "{}",
        output.stdout
    );
    snapshot!(risks.join("\n"));
}

#[test]
fn dry_run_of_a_new_stack_has_no_data_at_risk() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .fail(&["describe-stacks"], &missing("any"), 0)
        .ready();
    let output = berth(fleet.path(), &aws, &["--dry-run"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    assert_eq!(
        risk_lines(&output.stdout),
        [
            "# no data at risk in `tutorial-district`: its change set creates the stack, so it only adds",
            "# no data at risk in `tutorial-bcn-users-data`: its change set creates the stack, so it only adds",
            "# no data at risk in `tutorial-bcn-users-app`: its change set creates the stack, so it only adds",
        ],
        "{}",
        output.stdout
    );
    assert!(
        !aws.calls().contains("get-template"),
        "nothing deployed to read"
    );
}

#[test]
fn dry_run_of_a_service_change_has_no_data_at_risk() {
    let fleet = fleet();
    let mut app = deployed(fleet.path(), "tutorial/bcn-users/app.cfn.json");
    app["Resources"]["WebService"]["Properties"]["DesiredCount"] = json!(5);
    let aws = deployed_tutorial(fleet.path(), app).ready();
    let output = berth(fleet.path(), &aws, &["--dry-run"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    assert_eq!(
        risk_lines(&output.stdout),
        [
            "# no data at risk in `tutorial-district`: berth's diff of its deployed template and out/tutorial/district.cfn.json replaces or removes no stateful resource",
            "# no data at risk in `tutorial-bcn-users-data`: berth's diff of its deployed template and out/tutorial/bcn-users/data.cfn.json replaces or removes no stateful resource",
            "# no data at risk in `tutorial-bcn-users-app`: berth's diff of its deployed template and out/tutorial/bcn-users/app.cfn.json replaces or removes no stateful resource",
        ],
        "{}",
        output.stdout
    );
}

#[test]
fn dry_run_prints_the_get_template_calls_it_makes() {
    let fleet = fleet();
    let app = deployed(fleet.path(), "tutorial/bcn-users/app.cfn.json");
    let aws = deployed_tutorial(fleet.path(), app).ready();
    let output = berth(fleet.path(), &aws, &["--dry-run"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    let calls = aws.calls();
    for name in [DISTRICT, DATA, APP] {
        let call = format!(
            "aws cloudformation get-template --stack-name {name} --template-stage Original --output json --region eu-west-1"
        );
        assert!(
            output.stdout.lines().any(|l| l == call),
            "{}",
            output.stdout
        );
        assert!(calls.lines().any(|l| l == call), "{calls}");
    }
    // Each printed before what it found, after the stack's status.
    let lines: Vec<&str> = output.stdout.lines().collect();
    let at = |needle: &str| lines.iter().position(|l| l.starts_with(needle)).unwrap();
    assert!(
        at("# `tutorial-bcn-users-data` UPDATE_COMPLETE")
            < at("aws cloudformation get-template --stack-name tutorial-bcn-users-data")
    );
    assert!(
        at("aws cloudformation get-template --stack-name tutorial-bcn-users-data")
            < at("# no data at risk in `tutorial-bcn-users-data`")
    );
}

#[test]
fn dry_run_stops_when_get_template_fails() {
    let fleet = fleet();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .fail(
            &["get-template", DISTRICT],
            "An error occurred (AccessDenied) when calling the GetTemplate operation: User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: cloudformation:GetTemplate",
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &["--dry-run"]);
    assert_eq!(output.code, 1, "{}", transcript(&output, &aws));
    assert_eq!(
        output.stderr,
        "error: `aws cloudformation get-template --stack-name tutorial-district --template-stage Original --region eu-west-1` failed: User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: cloudformation:GetTemplate\n"
    );
}

#[test]
fn dry_run_of_a_stack_deployed_from_yaml_warns_and_goes_on() {
    let fleet = fleet();
    let yaml = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  WebService:\n    Type: AWS::ECS::Service\n";
    let aws = deployed_tutorial(fleet.path(), json!(yaml)).ready();
    let output = berth(fleet.path(), &aws, &["--dry-run"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    assert!(
        risk_lines(&output.stdout).contains(
            &"# warning: berth cannot list the data at risk in `tutorial-bcn-users-app`: its deployed template is not JSON (YAML, or a template deployed by other means than berth); the change set's own answer still gates the real apply"
        ),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("# dry run: 3 stack(s) would go through a change set"),
        "{}",
        output.stdout
    );
}

#[test]
fn destroy_dry_run_lists_the_data_deleting_the_data_stack_destroys() {
    let fleet = copy_tree(&repo().join("tests/fixtures/mastodon"));
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", "social-toots-app"],
            stack("social-toots-app", "UPDATE_COMPLETE", &[]),
            0,
        )
        .on(
            &["get-template", "social-toots-app"],
            template(deployed(fleet.path(), "social/toots/app.cfn.json")),
            0,
        )
        .on(
            &["describe-stacks", "social-toots-data"],
            stack("social-toots-data", "UPDATE_COMPLETE", &[]),
            0,
        )
        .on(
            &["get-template", "social-toots-data"],
            template(deployed(fleet.path(), "social/toots/data.cfn.json")),
            0,
        )
        .ready();
    let output = berth(
        fleet.path(),
        &aws,
        &[
            "destroy",
            "--heritage",
            "toots",
            "--allow-data-loss",
            "--dry-run",
        ],
    );
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    let risks = risk_lines(&output.stdout);
    assert!(
        risks.iter().any(|l| l.starts_with(
            "# data at risk in `social-toots-data`: `Cache` (AWS::ElastiCache::ReplicationGroup) destroyed with its stack"
        )),
        "{}",
        output.stdout
    );
    assert!(!aws.calls().contains("delete-stack"));
    snapshot!(transcript(&output, &aws));
}

// ---- --format json ---------------------------------------------------------

fn document(output: &Output) -> Value {
    serde_json::from_str(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {} stderr {}", output.stdout, output.stderr))
}

#[test]
fn apply_json_lists_every_stack_and_its_outcome() {
    let fleet = fleet();
    let aws = update_rules(FakeAws::new())
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(&["describe-change-set", APP], no_changes(), 1)
        .on(&["delete-change-set", APP], json!({}), 1)
        .ready();
    let output = berth(fleet.path(), &aws, &["--format", "json"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    let doc = document(&output);
    assert_eq!(
        (&doc["command"], &doc["status"], &doc["exit_code"]),
        (&json!("apply"), &json!("done"), &json!(0))
    );
    assert_eq!(
        doc["stacks"],
        json!([
            {"stack": DISTRICT, "outcome": "up-to-date"},
            {"stack": DATA, "outcome": "up-to-date"},
            {"stack": APP, "outcome": "up-to-date"},
        ])
    );
    let lines = doc["lines"].as_array().unwrap();
    assert_eq!(
        lines.last().unwrap(),
        "applied: 0 stack(s) changed, 3 up to date"
    );
}

#[test]
fn destroy_json_says_what_was_deleted_and_never_asks() {
    let fleet = fleet();
    let asked = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &[]),
            0,
        )
        .ready();
    let output = berth(
        fleet.path(),
        &asked,
        &["destroy", "--heritage", "bcn-users", "--format", "json"],
    );
    assert_eq!(output.code, 5, "{}", transcript(&output, &asked));
    let doc = document(&output);
    assert_eq!(
        (&doc["status"], &doc["exit_code"]),
        (&json!("failed"), &json!(5))
    );
    assert!(doc["error"].as_str().unwrap().contains("--yes"), "{doc}");
    assert_eq!(doc["stacks"], json!([]));
    assert!(!asked.calls().contains("delete-stack"));

    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &[]),
            1,
        )
        .on(&["delete-stack", APP], json!({}), 1)
        .fail(&["describe-stacks", APP], &missing(APP), 0)
        .fail(&["describe-stacks", DATA], &missing(DATA), 0)
        .ready();
    let output = berth(
        fleet.path(),
        &aws,
        &[
            "destroy",
            "--heritage",
            "bcn-users",
            "--yes",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    let doc = document(&output);
    assert_eq!(
        (&doc["command"], &doc["status"]),
        (&json!("destroy"), &json!("done"))
    );
    assert_eq!(doc["stacks"], json!([{"stack": APP, "outcome": "deleted"}]));
}

#[test]
fn apply_json_of_a_stale_out_is_a_document_too() {
    let fleet = fleet();
    std::fs::write(fleet.path().join("out/tutorial/district.cfn.json"), "{}\n").unwrap();
    let aws = FakeAws::new().ready();
    let output = berth(fleet.path(), &aws, &["--format", "json", "--dry-run"]);
    assert_eq!(output.code, 3, "{}", output.stderr);
    let doc = document(&output);
    assert_eq!(doc["status"], "failed");
    assert!(
        doc["error"].as_str().unwrap().contains("district.cfn.json"),
        "{doc}"
    );
    assert_eq!(aws.calls(), "");
}

// ---- --rev and the way back --------------------------------------------------

use crate::diff::git;

/// The full id of a revision of the repository in `dir`.
fn commit_id(dir: &Path, revision: &str) -> String {
    let output = std::process::Command::new("git")
        .args(["rev-parse", revision])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Sets the workers' CPU in the tutorial fleet's sources (128 at first).
fn change_source(root: &Path, cpu: u32) {
    let path = root.join("instances/tutorial/bcn-users.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("worker_base: &worker_base\n  cpu: ").unwrap();
    let line = start + "worker_base: &worker_base\n".len();
    let end = line + text[line..].find('\n').unwrap();
    let changed = format!("{}  cpu: {cpu}{}", &text[..line], &text[end..]);
    assert_ne!(text, changed);
    std::fs::write(&path, changed).unwrap();
}

/// The tutorial fleet in a git repository of two commits: `first` commits
/// the fleet and its out/, the second (HEAD) a changed source and the
/// out/ rebuilt from it. Returns the fleet and the first commit's id.
fn history() -> (tempfile::TempDir, String) {
    let fleet = fleet();
    git(fleet.path(), &["init", "-q"]);
    git(fleet.path(), &["add", "-A"]);
    git(fleet.path(), &["commit", "-q", "-m", "first"]);
    let first = commit_id(fleet.path(), "HEAD");
    change_source(fleet.path(), 512);
    let build = crate::support::run_in(fleet.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    git(
        fleet.path(),
        &["commit", "-q", "-a", "-m", "workers get more CPU"],
    );
    (fleet, first)
}

/// `text` with the commit ids of `commits` replaced by their names, for snapshots.
fn named(text: &str, commits: &[(&str, &str)]) -> String {
    commits.iter().fold(text.to_owned(), |text, (id, name)| {
        text.replace(id, name)
            .replace(id.get(..12).unwrap_or(id), name)
    })
}

#[test]
fn rev_deploys_out_as_committed_at_that_revision() {
    let (fleet, first) = history();
    let app = "out/tutorial/bcn-users/app.cfn.json";
    let at_first = {
        let output = std::process::Command::new("git")
            .args(["show", &format!("{first}:{app}")])
            .current_dir(fleet.path())
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    let at_head = std::fs::read_to_string(fleet.path().join(app)).unwrap();
    assert_ne!(at_first, at_head, "the second commit changes the app stack");
    // The working tree's sources are not what HEAD's out/ was built from:
    // a plain apply refuses, `--rev` does not read them.
    change_source(fleet.path(), 1024);
    let scratch = tempfile::tempdir().unwrap();
    let aws = update_rules(FakeAws::new())
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(&["describe-change-set", APP], no_changes(), 1)
        .on(&["delete-change-set", APP], json!({}), 1)
        .ready();
    let aws_path = aws.path();
    let output = run_with(
        fleet.path(),
        &[
            "apply",
            "--aws",
            aws_path.to_str().unwrap(),
            "--rev",
            &first[..8],
            "--yes",
        ],
        &[
            ("BERTH_POLL_MS", "0"),
            ("TMPDIR", scratch.path().to_str().unwrap()),
        ],
    );
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    assert_private_copy(
        &handed(&aws, "/tutorial/bcn-users/app.cfn.json"),
        fleet.path(),
        &at_first,
    );
    // The revision's private copy is gone too.
    assert_eq!(
        std::fs::read_dir(scratch.path()).unwrap().count(),
        0,
        "apply leaves nothing in TMPDIR"
    );
    snapshot!(named(
        &transcript(&output, &aws),
        &[(&first, "[first]"), (&first[..8], "[first]")]
    ));
    let plain = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(plain.code, 3, "{}", plain.stderr);
}

#[test]
fn rev_dry_run_says_which_out_its_paths_mean() {
    let (fleet, first) = history();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .fail(&["describe-stacks"], &missing(DISTRICT), 0)
        .ready();
    let output = berth(fleet.path(), &aws, &["--rev", &first, "--dry-run"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    let lines: Vec<&str> = output.stdout.lines().take(2).collect();
    assert_eq!(
        named(&lines.join("\n"), &[(&first, "[first]")]),
        format!(
            "# berth apply --dry-run: the AWS CLI commands apply would run, in order; nothing was changed\n\
             # out/ here is out/ as committed at `[first]` (commit [first]), not the working tree's: run this script in a checkout of that commit (git worktree add ../berth-[first] [first])"
        )
    );
    assert!(
        output
            .stdout
            .contains("--template-body file://out/tutorial/district.cfn.json"),
        "{}",
        output.stdout
    );
}

#[test]
fn a_rev_that_cannot_be_deployed_is_a_usage_error() {
    let fleet = fleet();
    let aws = FakeAws::new().ready();
    let outside = berth(fleet.path(), &aws, &["--rev", "HEAD", "--dry-run"]);
    assert_eq!(outside.code, 64, "{}", outside.stderr);
    assert!(
        outside.stderr.starts_with(
            "error: `--rev` deploys out/ as committed at a git revision, but `.` is not in a git repository"
        ),
        "{}",
        outside.stderr
    );
    std::fs::remove_dir_all(fleet.path().join("out")).unwrap();
    git(fleet.path(), &["init", "-q"]);
    git(fleet.path(), &["add", "-A"]);
    git(fleet.path(), &["commit", "-q", "-m", "instances only"]);
    let head = commit_id(fleet.path(), "HEAD");
    let no_out = berth(fleet.path(), &aws, &["--rev", "HEAD", "--dry-run"]);
    assert_eq!(no_out.code, 64, "{}", no_out.stderr);
    assert_eq!(
        named(&no_out.stderr, &[(&head, "[head]")]),
        "error: `HEAD` (commit [head]) has no out/: there is nothing to deploy at that revision\n  help: name a commit that has out/; `git log --oneline -- out/` lists the commits that changed it\n"
    );
    let unknown = berth(fleet.path(), &aws, &["--rev", "no-such-rev", "--yes"]);
    assert_eq!(unknown.code, 64, "{}", unknown.stderr);
    assert_eq!(
        unknown.stderr,
        "error: unknown revision `no-such-rev`: git knows no commit by that name\n  help: `git log --oneline -- out/` lists the commits that changed out/\n"
    );
    let json = berth(
        fleet.path(),
        &aws,
        &["--rev", "no-such-rev", "--format", "json"],
    );
    assert_eq!(json.code, 64);
    let doc = document(&json);
    assert_eq!(
        (&doc["status"], &doc["exit_code"]),
        (&json!("failed"), &json!(64))
    );
    assert_eq!(aws.calls(), "", "nothing reaches AWS");
}

#[test]
fn a_rev_whose_out_is_not_built_from_its_own_sources_is_refused() {
    let (fleet, _) = history();
    // A commit of a source change without the rebuilt out/.
    change_source(fleet.path(), 1024);
    git(fleet.path(), &["commit", "-q", "-a", "-m", "sources only"]);
    let head = commit_id(fleet.path(), "HEAD");
    let aws = FakeAws::new().ready();
    let output = berth(fleet.path(), &aws, &["--rev", "HEAD", "--dry-run"]);
    assert_eq!(output.code, 3, "{}", output.stderr);
    snapshot!(named(&output.stderr, &[(&head, "[head]")]));
    assert_eq!(aws.calls(), "");
}

#[test]
fn a_failed_deploy_says_which_revision_to_go_back_to() {
    let (fleet, first) = history();
    let aws = app_rolls_back(FakeAws::new()).ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 6, "{}", transcript(&output, &aws));
    assert_eq!(
        output.stderr.lines().last().unwrap(),
        format!(
            "to go back to what was deployed before: berth apply --rev {}",
            &first[..12]
        )
    );
    let aws = app_rolls_back(FakeAws::new()).ready();
    let json = berth(fleet.path(), &aws, &["--yes", "--format", "json"]);
    assert_eq!(json.code, 6);
    assert_eq!(
        document(&json)["rollback"],
        json!(format!("berth apply --rev {}", &first[..12]))
    );
    // out/ rebuilt from sources that are not committed: it is not HEAD's,
    // so the revision before HEAD's is not what was deployed before.
    change_source(fleet.path(), 1024);
    let build = crate::support::run_in(fleet.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let aws = app_rolls_back(FakeAws::new()).ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 6, "{}", transcript(&output, &aws));
    assert_eq!(
        output.stderr.lines().last().unwrap(),
        "berth cannot tell which revision was deployed before: out/ is not out/ as committed at HEAD (it has changes that are not committed)"
    );
}

#[test]
fn a_failed_deploy_outside_git_cannot_tell_which_revision_to_go_back_to() {
    let fleet = fleet();
    let aws = app_rolls_back(FakeAws::new()).ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 6, "{}", transcript(&output, &aws));
    assert_eq!(
        output.stderr.lines().last().unwrap(),
        "berth cannot tell which revision was deployed before: the fleet is not in a git repository"
    );
    let aws = app_rolls_back(FakeAws::new()).ready();
    let json = berth(fleet.path(), &aws, &["--yes", "--format", "json"]);
    assert_eq!(json.code, 6);
    assert_eq!(document(&json)["rollback"], Value::Null);
}

#[test]
fn a_failed_deploy_of_the_first_out_or_of_a_rev_has_no_revision_to_go_back_to() {
    let fleet = fleet();
    git(fleet.path(), &["init", "-q"]);
    git(fleet.path(), &["add", "-A"]);
    git(fleet.path(), &["commit", "-q", "-m", "first"]);
    let first = commit_id(fleet.path(), "HEAD");
    let aws = app_rolls_back(FakeAws::new()).ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 6, "{}", transcript(&output, &aws));
    assert_eq!(
        output.stderr.lines().last().unwrap(),
        format!(
            "berth cannot tell which revision was deployed before: out/ first appears in commit {}: no revision before it has an out/ to go back to",
            &first[..12]
        )
    );
    let aws = app_rolls_back(FakeAws::new()).ready();
    let output = berth(fleet.path(), &aws, &["--yes", "--rev", "HEAD"]);
    assert_eq!(output.code, 6, "{}", transcript(&output, &aws));
    assert_eq!(
        output.stderr.lines().last().unwrap(),
        "berth cannot tell which revision was deployed before: this run deployed out/ at `HEAD` with `--rev`, so berth does not know what was deployed before it"
    );
}

#[test]
fn a_deploy_that_executed_nothing_has_no_way_back_to_print() {
    // The migration fails before the app stack, and no stack changed.
    let (fleet, _) = history();
    let aws = app_update_rules(update_rules(FakeAws::new()))
        .on(
            &["describe-stacks", APP],
            stack(APP, "UPDATE_COMPLETE", &app_outputs()),
            0,
        )
        .on(&["ecs", "describe-tasks"], task("STOPPED", Some(1)), 1)
        .on(&["delete-change-set", APP], json!({}), 1)
        .ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 7, "{}", transcript(&output, &aws));
    assert!(!output.stderr.contains("go back"), "{}", output.stderr);
    assert!(!output.stderr.contains("cannot tell"), "{}", output.stderr);
}

// ---- --waves -----------------------------------------------------------------

const FIVE: [&str; 5] = ["alpha", "bravo", "charlie", "delta", "echo"];

/// The tutorial district with five small heritages (one worker service
/// each), built into out/ by `berth build`.
fn five_heritages() -> tempfile::TempDir {
    let fleet = fleet();
    let instances = fleet.path().join("instances/tutorial");
    std::fs::remove_file(instances.join("bcn-users.yml")).unwrap();
    for name in FIVE {
        std::fs::write(
            instances.join(format!("{name}.yml")),
            format!(
                "environments:\n  production:\n    name: {name}\n    image_name: 822761295011.dkr.ecr.eu-west-1.amazonaws.com/{name}\n    image_tag: '1'\n    services:\n      - name: worker\n        cpu: 128\n        memory: 256\n        command: bundle exec sidekiq\n"
            ),
        )
        .unwrap();
    }
    let build = crate::support::run_in(fleet.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.transcript());
    fleet
}

/// `describe-services` of one service: `deployments` rollout states, and
/// its target groups.
fn services(name: &str, rollouts: &[&str], running: i64, groups: &[&str]) -> Value {
    let deployments: Vec<Value> = rollouts
        .iter()
        .enumerate()
        .map(|(i, state)| {
            json!({"status": if i == 0 { "PRIMARY" } else { "ACTIVE" }, "rolloutState": state, "rolloutStateReason": format!("ECS deployment {state}.")})
        })
        .collect();
    let balancers: Vec<Value> = groups
        .iter()
        .map(|g| json!({"targetGroupArn": g, "containerName": "web", "containerPort": 3000}))
        .collect();
    json!({"services": [{"serviceName": name, "status": "ACTIVE", "desiredCount": 1, "runningCount": running, "deployments": deployments, "loadBalancers": balancers}], "failures": []})
}

fn target_health(states: &[&str]) -> Value {
    let targets: Vec<Value> = states
        .iter()
        .enumerate()
        .map(|(i, state)| {
            let mut health = json!({"State": state});
            if *state != "healthy" {
                health["Reason"] = json!("Elb.InitialHealthChecking");
                health["Description"] = json!("Initial health checks in progress");
            }
            json!({"Target": {"Id": format!("i-0{i}"), "Port": 32768 + i}, "TargetHealth": health})
        })
        .collect();
    json!({"TargetHealthDescriptions": targets})
}

/// The district and every data stack are up to date; each app stack in
/// `heritages` changes its worker service and updates.
fn waves_rules(mut aws: FakeAws, heritages: &[&str]) -> FakeAws {
    aws = aws
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(&["create-change-set", DISTRICT], created(DISTRICT), 1)
        .on(&["describe-change-set", DISTRICT], no_changes(), 1)
        .on(&["delete-change-set", DISTRICT], json!({}), 1);
    for name in heritages {
        let data = format!("tutorial-{name}-data");
        let app = format!("tutorial-{name}-app");
        aws = aws
            .on(
                &["describe-stacks", &data],
                stack(&data, "UPDATE_COMPLETE", &data_outputs()),
                0,
            )
            .on(&["create-change-set", &data], created(&data), 1)
            .on(&["describe-change-set", &data], no_changes(), 1)
            .on(&["delete-change-set", &data], json!({}), 1)
            .on(&["create-change-set", &app], created(&app), 1)
            .on(
                &["describe-change-set", &app],
                change_set(
                    "CREATE_COMPLETE",
                    &[(
                        "Modify",
                        "WorkerService",
                        "AWS::ECS::Service",
                        Some("False"),
                    )],
                ),
                1,
            )
            .on(&["execute-change-set", &app], json!({}), 1);
    }
    aws
}

/// App stack `name` updates and completes.
fn app_updates(aws: FakeAws, name: &str) -> FakeAws {
    let app = format!("tutorial-{name}-app");
    aws.on(
        &["describe-stack-events", &app],
        events(&[(
            "u1",
            &app,
            "AWS::CloudFormation::Stack",
            "UPDATE_COMPLETE",
            "",
        )]),
        1,
    )
    .on(
        &["describe-stack-events", &app],
        events(&[
            (
                "u3",
                &app,
                "AWS::CloudFormation::Stack",
                "UPDATE_COMPLETE",
                "",
            ),
            (
                "u2",
                "WorkerService",
                "AWS::ECS::Service",
                "UPDATE_COMPLETE",
                "",
            ),
            (
                "u1",
                &app,
                "AWS::CloudFormation::Stack",
                "UPDATE_COMPLETE",
                "",
            ),
        ]),
        0,
    )
    .on(
        &["describe-stacks", &app],
        stack(&app, "UPDATE_COMPLETE", &[]),
        0,
    )
}

/// App stack `name` updates, then rolls back: its worker never starts.
fn app_fails(aws: FakeAws, name: &str) -> FakeAws {
    let app = format!("tutorial-{name}-app");
    aws.on(
        &["describe-stack-events", &app],
        events(&[("f1", &app, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", "")]),
        1,
    )
    .on(
        &["describe-stack-events", &app],
        events(&[
            ("f4", &app, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", ""),
            ("f3", "WorkerService", "AWS::ECS::Service", "UPDATE_FAILED", "Resource handler returned message: \"Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'.\""),
            ("f2", "WorkerService", "AWS::ECS::Service", "UPDATE_IN_PROGRESS", ""),
            ("f1", &app, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", ""),
        ]),
        0,
    )
    .on(
        &["describe-stacks", &app],
        stack(&app, "UPDATE_COMPLETE", &[]),
        1,
    )
    .on(
        &["describe-stacks", &app],
        stack(&app, "UPDATE_ROLLBACK_COMPLETE", &[]),
        0,
    )
}

/// Five heritages in waves of 1, 2 and the rest; `charlie`, the third,
/// fails in wave 2.
fn third_fails() -> FakeAws {
    let aws = waves_rules(FakeAws::new(), &FIVE[..3]);
    let aws = app_updates(app_updates(aws, "alpha"), "bravo");
    app_fails(aws, "charlie")
        .on(
            &["ecs", "describe-services", "alpha-worker"],
            services("alpha-worker", &["COMPLETED"], 1, &[]),
            0,
        )
        .ready()
}

#[test]
fn a_wave_rollout_stops_after_the_wave_whose_heritage_failed() {
    let fleet = five_heritages();
    let aws = third_fails();
    let output = berth(fleet.path(), &aws, &["--yes", "--waves", "1,2,rest"]);
    assert_eq!(output.code, 6, "{}", transcript(&output, &aws));
    for untouched in ["delta", "echo"] {
        assert!(!aws.calls().contains(untouched), "{}", aws.calls());
    }
    snapshot!(transcript(&output, &aws));
}

#[test]
fn a_wave_rollout_in_json_lists_each_wave_and_its_outcome() {
    let fleet = five_heritages();
    let aws = third_fails();
    let output = berth(
        fleet.path(),
        &aws,
        &["--yes", "--waves", "1,2,rest", "--format", "json"],
    );
    assert_eq!(output.code, 6, "{}", transcript(&output, &aws));
    let doc = document(&output);
    assert_eq!(doc["status"], json!("failed"));
    assert_eq!(
        doc["waves"],
        json!([
            {"district": "tutorial", "wave": 1, "heritages": ["alpha"], "outcome": "done"},
            {
                "district": "tutorial", "wave": 2, "heritages": ["bravo", "charlie"], "outcome": "failed",
                "failed": "charlie", "deployed": ["bravo"],
                "reason": "`tutorial-charlie-app` failed: UPDATE_ROLLBACK_COMPLETE (the update was rolled back; the stack is as it was)"
            },
            {"district": "tutorial", "wave": 3, "heritages": ["delta", "echo"], "outcome": "not-started"},
        ])
    );
}

#[test]
fn each_wave_waits_for_its_services_to_be_stable_and_their_targets_healthy() {
    let fleet = five_heritages();
    let group = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/alpha-web/0123456789abcdef";
    let mut aws = waves_rules(FakeAws::new(), &FIVE);
    for name in FIVE {
        aws = app_updates(aws, name);
    }
    let aws = aws
        // The canary's new tasks start beside the old ones, then the old stop.
        .on(
            &["ecs", "describe-services", "alpha-worker"],
            services("alpha-worker", &["IN_PROGRESS", "COMPLETED"], 2, &[group]),
            1,
        )
        .on(
            &["ecs", "describe-services", "alpha-worker"],
            services("alpha-worker", &["IN_PROGRESS"], 0, &[group]),
            1,
        )
        .on(
            &["ecs", "describe-services", "alpha-worker"],
            services("alpha-worker", &["COMPLETED"], 1, &[group]),
            0,
        )
        .on(
            &["elbv2", "describe-target-health", group],
            target_health(&["initial", "draining"]),
            1,
        )
        .on(
            &["elbv2", "describe-target-health", group],
            target_health(&["healthy"]),
            0,
        );
    let mut aws = aws;
    for name in &FIVE[1..] {
        let service = format!("{name}-worker");
        aws = aws.on(
            &["ecs", "describe-services", &service],
            services(&service, &["COMPLETED"], 1, &[]),
            0,
        );
    }
    let aws = aws.ready();
    let output = berth(fleet.path(), &aws, &["--yes", "--waves", "1,rest"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    let calls = aws.calls();
    let first_of_wave_2 = calls.find("tutorial-bravo-data").unwrap();
    let waits = calls.matches("describe-services").count();
    assert_eq!(waits, 3 + 4, "{calls}");
    assert!(
        calls.rfind("describe-target-health").unwrap() < first_of_wave_2,
        "the canary's targets are healthy before wave 2 starts:\n{calls}"
    );
    snapshot!(transcript(&output, &aws));
}

#[test]
fn a_failed_rollout_stops_the_waves() {
    let fleet = five_heritages();
    let aws = app_updates(waves_rules(FakeAws::new(), &FIVE[..1]), "alpha")
        .on(
            &["ecs", "describe-services", "alpha-worker"],
            services("alpha-worker", &["FAILED", "COMPLETED"], 1, &[]),
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &["--yes", "--waves", "1,rest"]);
    assert_eq!(output.code, 6, "{}", transcript(&output, &aws));
    assert!(!aws.calls().contains("bravo"), "{}", aws.calls());
    snapshot!(transcript(&output, &aws));
}

#[test]
fn bad_wave_specs_are_usage_errors() {
    let fleet = fleet();
    let aws = FakeAws::new().ready();
    let mut text = String::new();
    for spec in ["0", "abc", "150%", "rest,1"] {
        let output = berth(fleet.path(), &aws, &["--dry-run", "--waves", spec]);
        assert_eq!(output.code, 64, "{}", output.transcript());
        text.push_str(&format!("$ berth apply --waves {spec}\n{}", output.stderr));
    }
    assert_eq!(aws.calls(), "");
    snapshot!(text);
}

#[test]
fn dry_run_with_waves_prints_the_plan() {
    let fleet = five_heritages();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(
            &["get-template", DISTRICT],
            template(deployed(fleet.path(), "tutorial/district.cfn.json")),
            0,
        )
        .fail(&["describe-stacks"], &missing("any"), 0)
        .ready();
    let output = berth(fleet.path(), &aws, &["--dry-run", "--waves", "1,2,rest"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn without_waves_nothing_waits_for_services() {
    let fleet = five_heritages();
    let mut aws = waves_rules(FakeAws::new(), &FIVE);
    for name in FIVE {
        aws = app_updates(aws, name);
    }
    let aws = aws.ready();
    let output = berth(fleet.path(), &aws, &["--yes"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    assert!(!aws.calls().contains("ecs"), "{}", aws.calls());
    assert!(!output.stdout.contains("wave"), "{}", output.stdout);
}

#[test]
fn a_district_stack_failing_before_the_first_wave_touches_no_heritage() {
    let fleet = five_heritages();
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_IN_PROGRESS", &[]),
            0,
        )
        .ready();
    let output = berth(fleet.path(), &aws, &["--yes", "--waves", "2"]);
    assert_eq!(output.code, 6, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn services_a_template_leaves_unnamed_are_found_and_unhealthy_targets_fail_the_wave() {
    // out_with_data_stack's `WebService` has no `ServiceName`.
    let root = out_with_data_stack();
    let service = "arn:aws:ecs:eu-west-1:123456789012:service/tutorial/d-h-app-WebService-AbC";
    let group = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/h-web/0f";
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", "d-district"],
            stack("d-district", "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .on(&["create-change-set", "d-district"], created("d-district"), 1)
        .on(&["describe-change-set", "d-district"], no_changes(), 1)
        .on(&["delete-change-set", "d-district"], json!({}), 1)
        .on(
            &["describe-stacks", "d-h-data"],
            stack("d-h-data", "UPDATE_COMPLETE", &data_outputs()),
            0,
        )
        .on(&["create-change-set", "d-h-data"], created("d-h-data"), 1)
        .on(&["describe-change-set", "d-h-data"], no_changes(), 1)
        .on(&["delete-change-set", "d-h-data"], json!({}), 1)
        .on(&["create-change-set", "d-h-app"], created("d-h-app"), 1)
        .on(
            &["describe-change-set", "d-h-app"],
            change_set(
                "CREATE_COMPLETE",
                &[("Modify", "WebService", "AWS::ECS::Service", Some("False"))],
            ),
            1,
        )
        .on(
            &["ecs", "register-task-definition"],
            json!({"taskDefinition": {"taskDefinitionArn": "arn:td:h-before-deploy:2"}}),
            1,
        )
        .on(&["ecs", "run-task"], task("PENDING", None), 1)
        .on(&["ecs", "describe-tasks"], task("STOPPED", Some(0)), 1)
        .on(&["execute-change-set", "d-h-app"], json!({}), 1)
        .on(
            &["describe-stacks", "d-h-app"],
            stack("d-h-app", "UPDATE_COMPLETE", &[]),
            0,
        )
        .on(&["describe-stack-events", "d-h-app"], events(&[]), 0)
        .on(
            &["describe-stack-resources", "d-h-app"],
            json!({"StackResources": [
                {"LogicalResourceId": "WebService", "PhysicalResourceId": service, "ResourceType": "AWS::ECS::Service"}
            ]}),
            1,
        )
        .on(
            &["ecs", "describe-services", service],
            services("d-h-app-WebService-AbC", &["COMPLETED"], 1, &[group]),
            0,
        )
        .on(
            &["elbv2", "describe-target-health", group],
            json!({"TargetHealthDescriptions": [{
                "Target": {"Id": "i-0a", "Port": 32768},
                "TargetHealth": {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch", "Description": "Health checks failed with these codes: [502]"}
            }]}),
            0,
        )
        .ready();
    let (result, lines) = library_run_with(root.path(), &aws, |settings| {
        settings.waves = Some("1".parse().unwrap());
        settings.timing.service_polls = 2;
    });
    let error = result.unwrap_err();
    assert!(
        matches!(error, berth::apply::ApplyError::Unstable(_)),
        "{error}"
    );
    assert_eq!(aws.calls().matches("describe-target-health").count(), 2);
    snapshot!(format!(
        "error: {error}\n--- lines\n{}\n--- aws calls\n{}",
        lines.join("\n"),
        aws.calls()
    ));
}
