//! `berth review`: review apps from an instance's `review:` section. The
//! golden review app of `tests/fixtures/barcelona/` (`rails-app`'s section,
//! named `pr-42`, tag `abc123`) is committed under
//! `tests/fixtures/review/barcelona-pr-42/`, where `scripts/cfn-lint` lints it.

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
