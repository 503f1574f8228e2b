//! End to end: `berth apply` deploys the example fleet into moto's server
//! (and `berth run` runs a one-off command in it)
//! with the real AWS CLI, checked with `describe-*` calls. `scripts/moto-e2e`
//! starts the server (pinned moto, with the fixes in `scripts/moto-server.py`),
//! sets `AWS_ENDPOINT_URL` and dummy credentials, runs this test and stops the
//! server; `scripts/test` runs it. Run alone, the test fails: it never skips.
//!
//! What moto cannot show, and where it is shown instead (tests/apply.rs,
//! against the fake `aws`):
//! - moto's change sets never report `Replacement`, so the refusal to replace
//!   a database is `replacing_a_database_is_refused_without_allow_data_loss`;
//! - moto has no ElastiCache in CloudFormation (it skips the resource, so the
//!   data stack's `Fn::GetAtt Cache…` fails): the instances are deployed here
//!   without their `cache:` section, and the cache is checked by cfn-lint, the
//!   Terraform checks and the golden artifacts instead;
//! - moto's tasks run no container and always stop with exit code 0, so a
//!   failing migration is `before_deploy_exiting_1_stops_before_the_app_stack`;
//! - moto's stack events name only the stack, and a failed creation raises an
//!   error instead of rolling back, so failed resources and `ROLLBACK_COMPLETE`
//!   are `a_failed_update_prints_the_failed_resources` and
//!   `rollback_complete_is_deleted_and_created_again`;
//! - moto's CloudFormation model of `AWS::S3::Bucket` creates the district's
//!   artifacts bucket but ignores its versioning, lifecycle and public access
//!   settings; those are checked by cfn-lint and the golden artifacts (the
//!   upload and moto reading the template back from its own S3 through
//!   `--template-url` are checked here, with no patch to moto);
//! - throttling, network errors and missing credentials cannot be provoked.
//!
//! Two steps exist only because of moto: the district's certificate is one
//! moto issued (moto checks that it exists), and a container instance is
//! registered in the cluster by hand, as the ECS agent on a district host
//! would do (moto's Auto Scaling hosts run no agent, and `run-task` needs
//! one). The district is therefore applied first on its own, as a fleet with
//! no instances yet, so that the instance can join before any `before_deploy`.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{Output, copy_tree, repo, run_with, without_block};

const CERTIFICATE: &str =
    "arn:aws:acm:ap-northeast-1:111111111111:certificate/0b7a5f2e-3c1d-4e8f-9a6b-2d4c8e1f7a90";

fn cli() -> String {
    repo().join(".venv/bin/aws").to_string_lossy().into_owned()
}

/// Runs the real AWS CLI against moto; `Err` holds its error text.
fn aws(args: &[&str]) -> Result<Value, String> {
    let output = Command::new(cli())
        .args(args)
        .args(["--output", "json"])
        .output()
        .expect("the AWS CLI runs");
    if output.status.success() {
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(serde_json::from_str(if text.trim().is_empty() { "{}" } else { &text }).unwrap())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn ok(args: &[&str]) -> Value {
    aws(args).unwrap_or_else(|e| panic!("aws {}: {e}", args.join(" ")))
}

fn berth(root: &Path, args: &[&str]) -> Output {
    let output = run_with(root, args, &[("BERTH_POLL_MS", "20")]);
    eprintln!("$ berth {}\n{}", args.join(" "), output.transcript());
    output
}

fn apply(root: &Path) -> Output {
    let cli = cli();
    let build = berth(root, &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    berth(root, &["apply", "--yes", "--aws", &cli])
}

fn status(stack: &str) -> String {
    ok(&["cloudformation", "describe-stacks", "--stack-name", stack])["Stacks"][0]["StackStatus"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn output(stack: &str, key: &str) -> String {
    let stacks = ok(&["cloudformation", "describe-stacks", "--stack-name", stack]);
    stacks["Stacks"][0]["Outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["OutputKey"] == key)
        .unwrap_or_else(|| panic!("{stack} has no output {key}"))["OutputValue"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn desired_count(service: &str) -> u64 {
    let found = ok(&[
        "ecs",
        "describe-services",
        "--cluster",
        "mstdn",
        "--services",
        service,
    ]);
    found["services"][0]["desiredCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("no service {service}: {found}"))
}

/// Starts an instance of the district's AMI in the first of its `subnets`
/// (a district stack output) and registers it in the cluster, as a host's
/// ECS agent would.
fn join_host(district: &str, subnets: &str, instance_type: &str) {
    let stack = format!("{district}-district");
    let subnet = output(&stack, subnets)
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    let image = ok(&["cloudformation", "describe-stacks", "--stack-name", &stack])["Stacks"][0]
        ["Parameters"][0]["ParameterValue"]
        .as_str()
        .unwrap()
        .to_owned();
    let host = ok(&[
        "ec2",
        "run-instances",
        "--image-id",
        &image,
        "--instance-type",
        instance_type,
        "--subnet-id",
        &subnet,
    ])["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let identity = format!("{{\"instanceId\": \"{host}\"}}");
    ok(&[
        "ecs",
        "register-container-instance",
        "--cluster",
        district,
        "--instance-identity-document",
        &identity,
    ]);
}

#[test]
#[ignore = "needs moto's server: run scripts/moto-e2e (scripts/test does)"]
fn example_fleet_deploys_on_moto() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL is not set: run this test through scripts/moto-e2e");
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "only a local moto: {endpoint}"
    );

    // The example fleet, with a certificate that exists in moto.
    let fleet = copy_tree(&repo().join("instances"));
    let root = tempfile::tempdir().unwrap();
    let certificate = ok(&[
        "acm",
        "request-certificate",
        "--domain-name",
        "example.social",
    ])["CertificateArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let instances = root.path().join("instances/mstdn");
    std::fs::create_dir_all(&instances).unwrap();
    let district = std::fs::read_to_string(fleet.path().join("mstdn/district.yml")).unwrap();
    assert!(district.contains(CERTIFICATE));
    std::fs::write(
        instances.join("district.yml"),
        district.replace(CERTIFICATE, &certificate),
    )
    .unwrap();

    // 1. The district alone: VPC, cluster, load balancer.
    let first = apply(root.path());
    assert_eq!(first.code, 0);
    assert_eq!(status("mstdn-district"), "CREATE_COMPLETE");
    assert_eq!(output("mstdn-district", "ClusterName"), "mstdn");

    // A district host joins the cluster (what its ECS agent does).
    join_host("mstdn", "PrivateSubnets", "t3.small");

    // 2. The whole example fleet, without caches (see above).
    for file in ["bcn-users.yml", "cat-lovers.yml"] {
        let text = std::fs::read_to_string(fleet.path().join("mstdn").join(file)).unwrap();
        let without = without_cache(&text);
        assert_ne!(without, text, "{file} has a cache");
        std::fs::write(instances.join(file), without).unwrap();
    }
    let second = apply(root.path());
    assert_eq!(second.code, 0);
    assert!(
        second.stdout.contains("`mstdn-district` is up to date"),
        "{}",
        second.stdout
    );
    for stack in [
        "mstdn-district",
        "mstdn-bcn-users-data",
        "mstdn-cat-lovers-data",
        "mstdn-bcn-users-app",
        "mstdn-cat-lovers-app",
    ] {
        assert!(status(stack).ends_with("_COMPLETE"), "{stack}");
    }
    assert_eq!(status("mstdn-bcn-users-app"), "CREATE_COMPLETE");
    assert_eq!(status("mstdn-cat-lovers-app"), "CREATE_COMPLETE");
    // The data stack brings the roles: the migration runs before the first deploy.
    for heritage in ["bcn-users", "cat-lovers"] {
        assert!(
            second
                .stdout
                .contains(&format!("before_deploy of `{heritage}` exited 0")),
            "{}",
            second.stdout
        );
    }
    // cat-lovers' app template is above the 51,200 bytes CloudFormation takes
    // inline: it went through the district's artifacts bucket, by its sha256.
    let template = std::fs::read(root.path().join("out/mstdn/cat-lovers/app.cfn.json")).unwrap();
    assert!(template.len() > 51_200, "{} bytes", template.len());
    let bucket = output("mstdn-district", "ArtifactsBucket");
    let objects = ok(&["s3api", "list-objects-v2", "--bucket", &bucket]);
    let keys: Vec<&str> = objects["Contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["Key"].as_str().unwrap())
        .collect();
    let sha256 = berth::emit::sha256(std::str::from_utf8(&template).unwrap());
    assert_eq!(
        keys,
        [format!("templates/mstdn-cat-lovers-app/{sha256}.json")],
        "only the large template is uploaded"
    );
    assert!(!output("mstdn-cat-lovers-data", "DbHost").is_empty());
    assert!(output("mstdn-cat-lovers-data", "DbSecretArn").starts_with("arn:aws:secretsmanager:"));
    for (service, count) in [
        ("bcn-users-web", 1),
        ("bcn-users-streaming", 1),
        ("bcn-users-worker", 1),
        ("cat-lovers-streaming", 2),
        ("cat-lovers-sidekiq-default", 2),
        ("cat-lovers-sidekiq-push", 2),
        ("cat-lovers-sidekiq-pull", 3),
        ("cat-lovers-sidekiq-mailers", 1),
        ("cat-lovers-sidekiq-scheduler", 1),
    ] {
        assert_eq!(desired_count(service), count, "{service}");
    }
    for family in [
        "bcn-users-web",
        "bcn-users-worker",
        "cat-lovers-sidekiq-pull",
        "cat-lovers-bin-tootctl-media-remove-days-7",
        "cat-lovers-before-deploy",
    ] {
        let found = ok(&["ecs", "list-task-definitions", "--family-prefix", family]);
        assert!(
            !found["taskDefinitionArns"].as_array().unwrap().is_empty(),
            "task definition {family}"
        );
    }
    let groups = ok(&["elbv2", "describe-target-groups"]);
    let mut paths: Vec<&str> = groups["TargetGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["HealthCheckPath"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/api/v1/streaming/health",
            "/api/v1/streaming/health",
            "/health",
            "/health"
        ]
    );
    let listener = output("mstdn-district", "EndpointMstdnHttpsListenerArn");
    let rules = ok(&["elbv2", "describe-rules", "--listener-arn", &listener]);
    let mut hosts: Vec<String> = rules["Rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["IsDefault"] != true)
        .map(|r| r["Conditions"].to_string())
        .collect();
    hosts.sort();
    assert_eq!(hosts.len(), 4, "{rules}");
    assert_eq!(
        hosts
            .iter()
            .filter(|c| c.contains("bcn-users.example.social"))
            .count(),
        2
    );
    assert_eq!(
        hosts
            .iter()
            .filter(|c| c.contains("cats.example.social"))
            .count(),
        2
    );
    assert_eq!(
        hosts
            .iter()
            .filter(|c| c.contains("/api/v1/streaming/*"))
            .count(),
        2
    );

    // 3. Again: nothing to do.
    let third = apply(root.path());
    assert_eq!(third.code, 0);
    assert!(
        third
            .stdout
            .contains("applied: 0 stack(s) changed, 5 up to date"),
        "{}",
        third.stdout
    );

    // 4. One more pull worker for cat-lovers: the migration runs, then the app stack changes.
    let file = instances.join("cat-lovers.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches("desired_count: 3").count(), 1);
    std::fs::write(&file, text.replace("desired_count: 3", "desired_count: 4")).unwrap();
    // A dry run first: it reads every deployed template back (moto keeps
    // the text it was given; the CLI prints a JSON body as an object) and
    // finds no data at risk in a service change.
    let build = berth(root.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let dry_cli = cli();
    // out/ against what moto holds: the one service whose count changed.
    let drift = berth(root.path(), &["diff", "--deployed", "--aws", &dry_cli]);
    assert_eq!(drift.code, 2, "{}", drift.stderr);
    assert!(
        drift.stdout.contains("Stack mstdn-cat-lovers-app"),
        "{}",
        drift.stdout
    );
    assert!(
        !drift.stdout.contains("Stack mstdn-bcn-users-app"),
        "{}",
        drift.stdout
    );
    let dry = berth(root.path(), &["apply", "--dry-run", "--aws", &dry_cli]);
    assert_eq!(dry.code, 0);
    for stack in [
        "mstdn-district",
        "mstdn-bcn-users-data",
        "mstdn-bcn-users-app",
        "mstdn-cat-lovers-data",
        "mstdn-cat-lovers-app",
    ] {
        assert!(
            dry.stdout.lines().any(|l| l.starts_with(&format!(
                "aws cloudformation get-template --stack-name {stack} --template-stage Original"
            ))),
            "{}",
            dry.stdout
        );
        assert!(
            dry.stdout.lines().any(|l| l.starts_with(&format!(
                "# no data at risk in `{stack}`: berth's diff of its deployed template and out/"
            ))),
            "{}",
            dry.stdout
        );
    }
    assert!(!dry.stdout.contains("# warning"), "{}", dry.stdout);
    let fourth = apply(root.path());
    assert_eq!(fourth.code, 0);
    let after = berth(root.path(), &["diff", "--deployed", "--aws", &dry_cli]);
    assert_eq!(after.code, 0, "{}{}", after.stdout, after.stderr);
    assert!(
        fourth
            .stdout
            .contains("[~] SidekiqPullService AWS::ECS::Service"),
        "{}",
        fourth.stdout
    );
    assert!(
        fourth
            .stdout
            .contains("before_deploy of `cat-lovers` exited 0"),
        "{}",
        fourth.stdout
    );
    assert!(
        fourth
            .stdout
            .contains("applied: 1 stack(s) changed, 4 up to date"),
        "{}",
        fourth.stdout
    );
    assert_eq!(status("mstdn-cat-lovers-app"), "UPDATE_COMPLETE");
    assert_eq!(desired_count("cat-lovers-sidekiq-pull"), 4);
    let tasks = ok(&[
        "ecs",
        "list-tasks",
        "--cluster",
        "mstdn",
        "--started-by",
        "berth-apply",
    ]);
    assert!(
        !tasks["taskArns"].as_array().unwrap().is_empty(),
        "the migration ran"
    );

    // 4b. A one-off command in a task of the deployed web service: `berth
    // run` finds the cluster, service and task definition, and exits with
    // the container's code (moto's: 0; the log stream never exists).
    let run_cli = cli();
    let run = berth(
        root.path(),
        &[
            "run",
            "bcn-users",
            "--env",
            "RAILS_LOG_LEVEL=debug",
            "--aws",
            &run_cli,
            "--",
            "bin/tootctl",
            "accounts",
            "create",
            "admin",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.contains("exited 0"), "{}", run.stdout);
    let started = ok(&[
        "ecs",
        "list-tasks",
        "--cluster",
        "mstdn",
        "--started-by",
        "berth-run",
    ]);
    assert_eq!(
        started["taskArns"].as_array().unwrap().len(),
        1,
        "one task, started by berth run"
    );

    // 4c. A review app of bcn-users on the district's endpoint: deployed
    // beside the fleet (never touching the district stack), listed, deleted.
    let district_file = instances.join("district.yml");
    let instance_file = instances.join("bcn-users.yml");
    let (district_text, instance_text) = (
        std::fs::read_to_string(&district_file).unwrap(),
        std::fs::read_to_string(&instance_file).unwrap(),
    );
    std::fs::write(
        &district_file,
        format!("{district_text}review_groups:\n  pr:\n    endpoint: mstdn\n    domain: review.example.social\n"),
    )
    .unwrap();
    std::fs::write(
        &instance_file,
        format!("{instance_text}review:\n  group: pr\n  services:\n    - name: web\n      service_type: web\n      cpu: 256\n      memory: 512\n      command: bundle exec puma -C config/puma.rb\n"),
    )
    .unwrap();
    let review_cli = cli();
    let district_status = status("mstdn-district");
    let review = berth(
        root.path(),
        &[
            "review",
            "deploy",
            "bcn-users",
            "pr-7",
            "--tag",
            "v4.3.2",
            "--yes",
            "--aws",
            &review_cli,
        ],
    );
    assert_eq!(review.code, 0, "{}", review.transcript());
    assert_eq!(status("mstdn-review-pr-7-app"), "CREATE_COMPLETE");
    assert_eq!(
        status("mstdn-district"),
        district_status,
        "the district stack is left as it was"
    );
    let listed = berth(root.path(), &["review", "list", "--aws", &review_cli]);
    assert_eq!(listed.code, 0, "{}", listed.transcript());
    assert!(listed.stdout.contains("pr-7"), "{}", listed.stdout);
    let deleted = berth(
        root.path(),
        &["review", "delete", "pr-7", "--yes", "--aws", &review_cli],
    );
    assert_eq!(deleted.code, 0, "{}", deleted.transcript());
    assert!(
        aws(&[
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            "mstdn-review-pr-7-app"
        ])
        .is_err()
    );
    std::fs::write(&district_file, district_text).unwrap();
    std::fs::write(&instance_file, instance_text).unwrap();

    // 5. Destroy cat-lovers: its app stack goes, the rest stays.
    let cli = cli();
    let fifth = berth(
        root.path(),
        &[
            "destroy",
            "--heritage",
            "cat-lovers",
            "--yes",
            "--aws",
            &cli,
        ],
    );
    assert_eq!(fifth.code, 0);
    let gone = aws(&[
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        "mstdn-cat-lovers-app",
    ])
    .unwrap_err();
    assert!(gone.contains("does not exist"), "{gone}");
    assert_eq!(status("mstdn-bcn-users-app"), "CREATE_COMPLETE");
    assert!(
        fifth
            .stdout
            .contains("`mstdn-district`, the district stack"),
        "{}",
        fifth.stdout
    );
}

/// An instance file without its `cache:` resource (moto cannot create one).
fn without_cache(text: &str) -> String {
    without_block(text, "  cache:")
}

/// The one-person fleet (`tests/fixtures/one-person`) on moto: a district
/// without NAT whose one host is on spot and switched off at night, and a
/// Mastodon with off-hours and its own maintenance page. moto's
/// CloudFormation creates every resource of the three stacks but the
/// `AWS::Scheduler::Schedule`s, which it skips ("not supported by moto's
/// CloudFormation implementation"): the schedules' roles exist, and no
/// schedule does. So the test stops there with CloudFormation and goes on
/// through Scheduler's API: every schedule of `out/`, with the ARNs and names
/// its `Fn::Sub` names taken from the deployed stacks, is created with
/// `scheduler create-schedule` and read back with the exact target, role,
/// time zone and input. moto never fires a schedule, so what the calls do
/// at night is checked against the botocore model instead
/// (`scripts/check-scheduler-targets.py`).
#[test]
#[ignore = "needs moto's server: run scripts/moto-e2e (scripts/test does)"]
fn one_person_fleet_deploys_on_moto() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL is not set: run this test through scripts/moto-e2e");
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "only a local moto: {endpoint}"
    );
    let fixture = repo().join("tests/fixtures/one-person/instances/home");
    let root = tempfile::tempdir().unwrap();
    let instances = root.path().join("instances/home");
    std::fs::create_dir_all(&instances).unwrap();
    let certificate = ok(&[
        "acm",
        "request-certificate",
        "--domain-name",
        "solo.example",
    ])["CertificateArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let district = std::fs::read_to_string(fixture.join("district.yml")).unwrap();
    let written = district
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate_arn: "))
        .unwrap()
        .to_owned();
    std::fs::write(
        instances.join("district.yml"),
        district.replace(&written, &certificate),
    )
    .unwrap();

    // 1. The district alone, then a host joins the cluster in a public subnet.
    let first = apply(root.path());
    assert_eq!(first.code, 0);
    assert_eq!(status("home-district"), "CREATE_COMPLETE");
    join_host("home", "PublicSubnets", "t3.medium");

    // 2. The instance, without its cache (see the module's notes), with its page.
    let mastodon = std::fs::read_to_string(fixture.join("mastodon.yml")).unwrap();
    std::fs::write(instances.join("mastodon.yml"), without_cache(&mastodon)).unwrap();
    std::fs::copy(
        fixture.join("maintenance.html"),
        instances.join("maintenance.html"),
    )
    .unwrap();
    let second = apply(root.path());
    assert_eq!(second.code, 0);
    for stack in [
        "home-district",
        "home-solo-social-data",
        "home-solo-social-app",
    ] {
        assert_eq!(status(stack), "CREATE_COMPLETE", "{stack}");
    }

    // 3. What CloudFormation made of the schedules: their roles, no schedule.
    let resources = |stack: &str| -> Vec<Value> {
        ok(&[
            "cloudformation",
            "describe-stack-resources",
            "--stack-name",
            stack,
        ])["StackResources"]
            .as_array()
            .unwrap()
            .clone()
    };
    let physical = |stack: &str, id: &str| -> String {
        resources(stack)
            .iter()
            .find(|r| r["LogicalResourceId"] == id)
            .unwrap_or_else(|| panic!("{stack} has no {id}"))["PhysicalResourceId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let role_arn = |stack: &str, id: &str| -> String {
        let name = physical(stack, id);
        let name = name.rsplit('/').next().unwrap().to_owned();
        ok(&["iam", "get-role", "--role-name", &name])["Role"]["Arn"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let host_role = role_arn("home-district", "HostHoursRole");
    let app_role = role_arn("home-solo-social-app", "OffHoursRole");
    let listed = ok(&["scheduler", "list-schedules"]);
    assert_eq!(
        listed["Schedules"],
        serde_json::json!([]),
        "moto's CloudFormation made schedules: {listed}"
    );

    // 4. Every schedule of out/ through Scheduler's API, read back exactly.
    let mut made = 0;
    for (stack, path, role) in [
        ("home-district", "out/home/district.cfn.json", &host_role),
        (
            "home-solo-social-app",
            "out/home/solo-social/app.cfn.json",
            &app_role,
        ),
    ] {
        let template: Value =
            serde_json::from_str(&std::fs::read_to_string(root.path().join(path)).unwrap())
                .unwrap();
        for (id, r) in template["Resources"].as_object().unwrap() {
            if r["Type"] != "AWS::Scheduler::Schedule" {
                continue;
            }
            let p = &r["Properties"];
            let input = match &p["Target"]["Input"] {
                Value::String(text) => text.clone(),
                sub => {
                    let mut text = sub["Fn::Sub"][0].as_str().unwrap().to_owned();
                    for (name, value) in sub["Fn::Sub"][1].as_object().unwrap() {
                        let logical = value["Ref"].as_str().unwrap();
                        text = text.replace(&format!("${{{name}}}"), &physical(stack, logical));
                    }
                    text.replace("${!", "${")
                }
            };
            let target = serde_json::json!({
                "Arn": p["Target"]["Arn"], "RoleArn": role, "Input": input,
            })
            .to_string();
            let name = p["Name"].as_str().unwrap();
            ok(&[
                "scheduler",
                "create-schedule",
                "--name",
                name,
                "--schedule-expression",
                p["ScheduleExpression"].as_str().unwrap(),
                "--schedule-expression-timezone",
                p["ScheduleExpressionTimezone"].as_str().unwrap(),
                "--flexible-time-window",
                "Mode=OFF",
                "--state",
                "ENABLED",
                "--target",
                &target,
            ]);
            let got = ok(&["scheduler", "get-schedule", "--name", name]);
            assert_eq!(got["Target"]["Arn"], p["Target"]["Arn"], "{id}");
            assert_eq!(
                got["Target"]["RoleArn"].as_str(),
                Some(role.as_str()),
                "{id}"
            );
            assert_eq!(
                got["Target"]["Input"].as_str(),
                Some(input.as_str()),
                "{id}"
            );
            assert_eq!(
                got["ScheduleExpressionTimezone"], p["ScheduleExpressionTimezone"],
                "{id}"
            );
            made += 1;
        }
    }
    // Two for the host, and for the heritage: two rules and three services
    // off and on, the database off and on.
    assert_eq!(made, 2 + 12, "schedules made");
    let page = std::fs::read_to_string(instances.join("maintenance.html")).unwrap();
    let off = ok(&[
        "scheduler",
        "get-schedule",
        "--name",
        "home-solo-social-web-social-off",
    ]);
    let input: Value = serde_json::from_str(off["Target"]["Input"].as_str().unwrap()).unwrap();
    assert_eq!(
        input["Actions"][0]["FixedResponseConfig"]["MessageBody"].as_str(),
        Some(page.as_str())
    );
}
