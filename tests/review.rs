//! `berth review`: review apps from an instance's `review:` section. The
//! golden review app of `tests/fixtures/barcelona/` (`rails-app`'s section,
//! named `pr-42`, tag `abc123`) is committed under
//! `tests/fixtures/review/barcelona-pr-42/`, where `scripts/cfn-lint` lints it.
//! `deploy`, `delete` and `list` run against the fake `aws` of `apply`: each
//! test snapshots the output and the exact AWS CLI calls.

use crate::support::{copy_tree, read_tree, repo, run_in};

fn barcelona() -> std::path::PathBuf {
    repo().join("tests/fixtures/barcelona")
}

fn golden() -> std::path::PathBuf {
    repo().join("tests/fixtures/review/barcelona-pr-42")
}

fn render(out: &std::path::Path, name: &str) -> crate::support::Output {
    let root = barcelona();
    run_in(
        &repo(),
        &[
            "--root",
            root.to_str().unwrap(),
            "review",
            "render",
            "rails-app",
            name,
            "--tag",
            "abc123",
            "--write",
            "--out",
            out.to_str().unwrap(),
        ],
    )
}

#[test]
fn render_writes_the_golden_review_app_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for _ in 0..2 {
        let output = render(&out, "pr-42");
        assert_eq!(output.code, 0, "{}", output.stderr);
        let written = read_tree(&out.join("review/pr-42"));
        let expected = read_tree(&golden());
        assert_eq!(
            written.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>()
        );
        for (path, bytes) in &expected {
            assert!(
                written[path] == *bytes,
                "{path} differs from the golden file"
            );
        }
    }
}

#[test]
fn the_review_app_has_its_host_endpoint_tag_and_stacks() {
    let app: serde_json::Value = serde_json::from_slice(
        &std::fs::read(golden().join("bcn/review-pr-42/app.cfn.json")).unwrap(),
    )
    .unwrap();
    let text = app.to_string();
    assert!(text.contains("\"pr-42.review.example.com\""), "host");
    assert!(
        text.contains("\"bcn-previews-HttpsListener\""),
        "the group's endpoint"
    );
    assert!(
        text.contains("quay.io/k2nr/bcn-reviewapp-example:abc123"),
        "image and tag"
    );
    let manifest = std::fs::read_to_string(golden().join("manifest.json")).unwrap();
    assert!(manifest.contains("\"bcn-review-pr-42-app\""));
    assert!(manifest.contains("\"bcn-review-pr-42-data\""));
    // No stateful resources: the data stack holds roles and the log group only.
    let data = std::fs::read_to_string(golden().join("bcn/review-pr-42/data.cfn.json")).unwrap();
    for kind in ["AWS::RDS::", "AWS::ElastiCache::", "AWS::S3::Bucket\""] {
        assert!(!data.contains(kind), "{kind} in the review data stack");
    }
}

#[test]
fn render_without_write_prints_paths_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let root = barcelona();
    let output = run_in(
        &repo(),
        &[
            "--root",
            root.to_str().unwrap(),
            "review",
            "render",
            "rails-app",
            "pr-42",
            "--tag",
            "abc123",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert_eq!(output.stdout.lines().count(), 4, "{}", output.stdout);
    assert!(
        output
            .stdout
            .contains("review/pr-42/bcn/review-pr-42/app.cfn.json")
    );
    assert!(!out.exists());
}

#[test]
fn bad_review_names_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["Bad_Name", "x-", "a", "fix/login", &"x".repeat(26)] {
        let output = render(&dir.path().join("out"), name);
        assert_eq!(output.code, 1, "{name}: {}", output.stdout);
        assert!(
            output
                .stderr
                .contains(&format!("error: review name `{name}` is invalid")),
            "{name}: {}",
            output.stderr
        );
        assert!(
            output.stderr.contains("2 to 25 characters"),
            "{}",
            output.stderr
        );
    }
    assert!(!dir.path().join("out").exists());
}

#[test]
fn an_instance_without_review_or_a_missing_group_is_a_clear_error() {
    let root = barcelona();
    let output = run_in(
        &repo(),
        &[
            "--root",
            root.to_str().unwrap(),
            "review",
            "render",
            "hello",
            "pr-42",
            "--tag",
            "t",
        ],
    );
    assert_eq!(output.code, 1);
    assert!(
        output
            .stderr
            .contains("`instances/bcn/hello.yml` has no `review:` section"),
        "{}",
        output.stderr
    );
    // `cli/bcn-test.yml` names group `test1`, which its district does not have.
    let output = run_in(
        &repo(),
        &[
            "--root",
            root.to_str().unwrap(),
            "review",
            "render",
            "bcn-test2",
            "pr-42",
            "--tag",
            "t",
        ],
    );
    assert_eq!(output.code, 1);
    assert!(
        output
            .stderr
            .contains("review group `test1` is not in `cli`'s district file"),
        "{}",
        output.stderr
    );
}

#[test]
fn a_review_app_that_collides_with_the_fleet_is_located() {
    // On `test-endpoint`, `rails-app`'s rule matches every host: the review
    // app would be shadowed, and the fleet's rule says so.
    let fleet = copy_tree(&barcelona());
    let district = fleet.path().join("instances/bcn/district.yml");
    let text = std::fs::read_to_string(&district)
        .unwrap()
        .replace("    endpoint: previews\n", "    endpoint: test-endpoint\n");
    std::fs::write(&district, text).unwrap();
    let output = run_in(
        fleet.path(),
        &["review", "render", "rails-app", "pr-42", "--tag", "t"],
    );
    assert_eq!(output.code, 1);
    assert!(
        output
            .stderr
            .contains("error[shared-endpoint-without-host]")
            && output
                .stderr
                .contains("--> instances/bcn/rails-app.yml:16:13")
            && output.stderr.contains("review-pr-42"),
        "{}",
        output.stderr
    );
}

#[test]
fn build_keeps_review_apps_and_check_ignores_them() {
    let fleet = copy_tree(&barcelona());
    let out = fleet.path().join("out");
    let output = render(&out, "pr-42");
    assert_eq!(output.code, 0, "{}", output.stderr);
    let check = run_in(fleet.path(), &["build", "--check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    let build = run_in(fleet.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    assert_eq!(
        read_tree(&out.join("review/pr-42")),
        read_tree(&golden()),
        "a build keeps `out/review/` as it was"
    );
}

// ---- deploy and delete, against the fake `aws` of `tests/apply.rs` --------

use crate::apply::{FakeAws, district_outputs, events, identity, missing, stack};
use serde_json::json;

const DISTRICT: &str = "bcn-district";
const DATA: &str = "bcn-review-pr-42-data";
const APP: &str = "bcn-review-pr-42-app";

fn review(root: &std::path::Path, aws: &FakeAws, args: &[&str]) -> crate::support::Output {
    let aws_path = aws.path();
    let mut all = vec!["review"];
    all.extend(args);
    all.extend(["--aws", aws_path.to_str().unwrap()]);
    crate::support::run_with(
        root,
        &all,
        &[("BERTH_POLL_MS", "0"), ("GIT_CEILING_DIRECTORIES", "/")],
    )
}

fn transcript(output: &crate::support::Output, aws: &FakeAws) -> String {
    format!("{}--- aws calls\n{}", output.transcript(), aws.calls())
}

/// A snapshot with the change set's time and the private copy's folder masked.
macro_rules! snapshot {
    ($text:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(r"berth-\d{8}T\d{6}Z", "berth-[time]");
        settings.add_filter(r"\[\d+:\d\d\]", "[m:ss]");
        settings.add_filter(
            r"/[^\s/]+(?:/[^\s/]+)*?/berth-apply-[^/\s]+/",
            "[private copy]/",
        );
        settings.bind(|| insta::assert_snapshot!($text));
    }};
}

#[test]
fn deploy_dry_run_reads_the_district_stack_and_creates_nothing() {
    let fleet = copy_tree(&barcelona());
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .on(
            &["describe-stacks", DISTRICT],
            stack(DISTRICT, "UPDATE_COMPLETE", &district_outputs()),
            0,
        )
        .fail(&["describe-stacks", DATA], &missing(DATA), 0)
        .fail(&["describe-stacks", APP], &missing(APP), 0)
        .ready();
    let output = review(
        fleet.path(),
        &aws,
        &[
            "deploy",
            "rails-app",
            "pr-42",
            "--tag",
            "abc123",
            "--dry-run",
        ],
    );
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    for call in aws.calls().lines() {
        assert!(
            call.starts_with("aws sts get-caller-identity")
                || call.starts_with("aws cloudformation describe-stacks"),
            "a dry run ran {call}"
        );
    }
    assert!(!aws.calls().contains("update-stack") && !aws.calls().contains("create-change-set"));
    assert!(
        !fleet.path().join("out/review").exists(),
        "deploy renders privately, never into out/"
    );
    snapshot!(transcript(&output, &aws));
}

#[test]
fn deploy_without_the_district_stack_stops_before_any_change() {
    let fleet = copy_tree(&barcelona());
    let aws = FakeAws::new()
        .fail(&["describe-stacks", DISTRICT], &missing(DISTRICT), 0)
        .ready();
    let output = review(
        fleet.path(),
        &aws,
        &["deploy", "rails-app", "pr-42", "--tag", "abc123", "--yes"],
    );
    assert_eq!(output.code, 6, "{}", transcript(&output, &aws));
    assert!(
        output
            .stderr
            .contains("the district stack `bcn-district` is not deployed"),
        "{}",
        output.stderr
    );
    assert_eq!(aws.calls().lines().count(), 1, "{}", aws.calls());
    snapshot!(transcript(&output, &aws));
}

#[test]
fn delete_of_a_missing_review_app_deletes_nothing() {
    let fleet = copy_tree(&barcelona());
    let aws = FakeAws::new()
        .on(&["sts", "get-caller-identity"], identity(), 0)
        .fail(&["describe-stacks", APP], &missing(APP), 0)
        .fail(&["describe-stacks", DATA], &missing(DATA), 0)
        .ready();
    let output = review(fleet.path(), &aws, &["delete", "pr-42", "--yes"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    assert!(!aws.calls().contains("delete-stack"));
    snapshot!(transcript(&output, &aws));
}

#[test]
fn delete_removes_the_app_stack_then_the_data_stack() {
    let fleet = copy_tree(&barcelona());
    let mut aws = FakeAws::new().on(&["sts", "get-caller-identity"], identity(), 0);
    for name in [APP, DATA] {
        aws = aws
            .on(
                &["describe-stacks", name],
                stack(name, "CREATE_COMPLETE", &[]),
                1,
            )
            .on(&["delete-stack", name], json!({}), 1)
            .on(
                &["describe-stack-events", name],
                events(&[(
                    "d1",
                    name,
                    "AWS::CloudFormation::Stack",
                    "DELETE_IN_PROGRESS",
                    "User Initiated",
                )]),
                0,
            )
            .fail(&["describe-stacks", name], &missing(name), 0);
    }
    let aws = aws.ready();
    let output = review(fleet.path(), &aws, &["delete", "pr-42", "--yes"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    let calls = aws.calls();
    let app = calls
        .find(&format!("delete-stack --stack-name {APP}"))
        .unwrap();
    let data = calls
        .find(&format!("delete-stack --stack-name {DATA}"))
        .unwrap();
    assert!(app < data, "app first: {calls}");
    snapshot!(transcript(&output, &aws));
}

#[test]
fn list_shows_the_review_apps_of_districts_with_review_groups() {
    let fleet = copy_tree(&barcelona());
    let listed = json!({"Stacks": [
        {"StackName": DISTRICT, "StackStatus": "UPDATE_COMPLETE"},
        {"StackName": "bcn-rails-app-app", "StackStatus": "UPDATE_COMPLETE"},
        {"StackName": APP, "StackStatus": "CREATE_COMPLETE"},
        {"StackName": DATA, "StackStatus": "CREATE_COMPLETE"},
        {"StackName": "bcn-review-fix-login-data", "StackStatus": "ROLLBACK_COMPLETE"},
    ]});
    let aws = FakeAws::new()
        .on(&["cloudformation", "describe-stacks"], listed, 0)
        .ready();
    let output = review(fleet.path(), &aws, &["list"]);
    assert_eq!(output.code, 0, "{}", transcript(&output, &aws));
    snapshot!(transcript(&output, &aws));
}
