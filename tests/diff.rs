//! `berth diff`: golden before/after fleets in `tests/fixtures/diff/<case>/`
//! (each side with its built `out/`), compared in a temporary git repository
//! both ways — the rendered fleet against `out/` on disk, and against `out/`
//! at the previous commit with `--base` — with the full text, Markdown and
//! JSON output snapshotted; exit codes, `--fail-on` and every error.

use std::path::Path;
use std::process::Command;

use crate::support::{Output, copy_tree, repo, run_in, run_with};

pub(crate) const CASES: &[&str] = &[
    "command",
    "target-port",
    "remove-instance",
    "host-rule",
    "database-name",
    "database-user",
    "instance-class",
    "database-engine",
    "database-multi-az",
    "launch-type",
    "cluster-spot",
    "nat-none",
    "remove-database",
    "secret-length",
    "terraform-database-user",
    "allow-destroy",
    "export-in-use",
    "priority-churn",
    "public-bucket",
    "launch-template",
    "image-rollout",
    "nat-per-az",
    "fargate-service",
    "dns-rename",
];

pub(crate) fn fixture(case: &str, side: &str) -> std::path::PathBuf {
    repo().join("tests/fixtures/diff").join(case).join(side)
}

pub(crate) fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=berth tests",
            "-c",
            "user.email=tests@berth.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(status.status.success(), "git {args:?}: {status:?}");
}

/// Replaces `<dir>/<name>` with a copy of `from`.
fn replace_dir(dir: &Path, name: &str, from: &Path) {
    let target = dir.join(name);
    if target.exists() {
        std::fs::remove_dir_all(&target).unwrap();
    }
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let to = target.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A git repository whose one commit holds the "before" fleet and its
/// `out/`, with the "after" instances in the working tree.
pub(crate) fn repository(before: &Path, after: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    replace_dir(dir.path(), "instances", &before.join("instances"));
    replace_dir(dir.path(), "out", &before.join("out"));
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "before"]);
    replace_dir(dir.path(), "instances", &after.join("instances"));
    dir
}

pub(crate) fn diff(dir: &Path, args: &[&str]) -> Output {
    run_in(dir, &[&["diff"], args].concat())
}

/// The output of `--base REV` with its baseline named like `out/` on disk.
fn as_on_disk(output: &Output, revision: &str) -> String {
    output
        .stdout
        .replace(&format!("out/ at {revision}"), "out/")
        .replace(&format!("`out/` at `{revision}`"), "`out/`")
}

#[test]
fn diff_fixtures_out_is_current() {
    for case in CASES {
        for side in ["before", "after"] {
            let root = fixture(case, side);
            let output = run_in(
                &repo(),
                &["--root", root.to_str().unwrap(), "build", "--check"],
            );
            assert_eq!(output.code, 0, "{case}/{side}: {}", output.stderr);
        }
    }
}

#[test]
fn golden_cases() {
    for case in CASES {
        let dir = repository(&fixture(case, "before"), &fixture(case, "after"));
        let mut outputs = Vec::new();
        for format in ["text", "markdown", "json"] {
            let output = diff(dir.path(), &["--format", format]);
            assert_eq!(output.code, 2, "{case} {format}: {}", output.stderr);
            assert_eq!(output.stderr, "", "{case} {format}");
            insta::assert_snapshot!(format!("{case}-{format}"), output.stdout);
            outputs.push(output);
        }
        // The pull-request view: the same change between two commits.
        replace_dir(dir.path(), "out", &fixture(case, "after").join("out"));
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-q", "-m", "after"]);
        for (format, on_disk) in ["text", "markdown", "json"].iter().zip(&outputs) {
            let output = diff(dir.path(), &["--base", "HEAD~1", "--format", format]);
            assert_eq!(output.code, 2, "{case} {format}: {}", output.stderr);
            assert_eq!(
                as_on_disk(&output, "HEAD~1"),
                on_disk.stdout,
                "{case} {format}"
            );
        }
        let current = diff(dir.path(), &[]);
        assert_eq!(
            (current.code, current.stdout.as_str()),
            (0, "No changes: the artifacts are the same as out/.\n"),
            "{case}"
        );
    }
}

#[test]
fn no_change_is_one_line_and_exit_0() {
    let before = fixture("command", "before");
    let dir = repository(&before, &before);
    for (args, expected) in [
        (
            &["--format", "text"][..],
            "No changes: the artifacts are the same as out/.\n",
        ),
        (
            &["--format", "markdown"],
            "<!-- berth diff -->\nNo changes: the artifacts are the same as `out/`.\n",
        ),
        (
            &["--base", "HEAD"],
            "No changes: the artifacts are the same as out/ at HEAD.\n",
        ),
    ] {
        let output = diff(dir.path(), args);
        assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
        assert_eq!(output.stdout, expected);
        assert_eq!(output.stderr, "");
    }
    let json = diff(dir.path(), &["--format", "json"]);
    assert_eq!(json.code, 0);
    assert_eq!(json.stdout.lines().count(), 1, "{}", json.stdout);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["changes"], false);
    assert_eq!(value["stacks"], serde_json::json!([]));
}

#[test]
fn fail_on_exits_3_only_for_that_kind_of_change() {
    for (case, kind, code) in [
        ("command", "replace", 2),
        ("target-port", "replace", 3),
        ("target-port", "data-loss", 2),
        ("remove-instance", "replace", 3),
        ("remove-instance", "data-loss", 3),
        ("remove-database", "data-loss", 3),
        ("host-rule", "replace", 2),
        ("database-name", "data-loss", 3),
        ("database-user", "data-loss", 3),
        ("instance-class", "data-loss", 2),
        ("instance-class", "replace", 2),
        ("database-engine", "data-loss", 3),
        ("database-multi-az", "data-loss", 2),
        ("database-multi-az", "replace", 2),
        ("launch-type", "replace", 3),
        ("launch-type", "data-loss", 3),
        ("cluster-spot", "replace", 2),
        ("database-name", "will-fail", 3),
        ("database-engine", "will-fail", 3),
        ("launch-type", "will-fail", 3),
        ("instance-class", "will-fail", 2),
        ("remove-instance", "will-fail", 3),
        // The data stack drops the database's exports while the app stack
        // still imports them (apply deploys the data stack first).
        ("remove-database", "will-fail", 3),
        ("target-port", "will-fail", 2),
        ("terraform-database-user", "data-loss", 3),
        ("terraform-database-user", "will-fail", 3),
        ("terraform-database-user", "replace", 3),
        // `prevent_destroy: false` lets the Terraform plan replace the
        // database (data at risk, no longer a failure); CloudFormation's
        // replacement still fails on the fixed identifier.
        ("allow-destroy", "data-loss", 3),
        ("allow-destroy", "will-fail", 3),
        ("export-in-use", "will-fail", 3),
        ("priority-churn", "will-fail", 3),
        ("priority-churn", "replace", 3),
        ("public-bucket", "security", 3),
        ("public-bucket", "data-loss", 2),
        ("database-user", "security", 2),
        ("remove-instance", "security", 2),
        ("host-rule", "security", 2),
    ] {
        let dir = repository(&fixture(case, "before"), &fixture(case, "after"));
        let output = diff(dir.path(), &["--fail-on", kind]);
        assert_eq!(
            output.code, code,
            "{case} --fail-on {kind}: {}",
            output.stderr
        );
    }
}

/// Golden cases whose CloudFormation and Terraform verdicts differ, because
/// the two tools do different things, with why.
const KNOWN_DIFFERENCES: &[(&str, &str, &str, &str)] = &[
    (
        "priority-churn",
        "will-fail",
        "destroy",
        "CloudFormation creates the renamed service's rule before it deletes the old one, which still holds the priority; Terraform creates and destroys unrelated addresses in parallel, so it may or may not collide, and berth does not call a race",
    ),
    (
        "remove-database",
        "will-fail",
        "data-loss",
        "CloudFormation refuses to remove the data stack's exports while the app stack imports them; a Terraform heritage is one module, planned as a whole",
    ),
    (
        "export-in-use",
        "will-fail",
        "replace",
        "CloudFormation refuses to change an export another stack imports; Terraform hands the district's values to each heritage as variables, which take the new value at the heritage's next apply",
    ),
    (
        "launch-type",
        "will-fail",
        "replace",
        "CloudFormation creates the new service before deleting the old one, so the fixed ServiceName is taken; Terraform destroys first (create_before_destroy is not set), which frees the name",
    ),
    (
        "allow-destroy",
        "will-fail",
        "data-loss",
        "`prevent_destroy: false` is Terraform's lifecycle.prevent_destroy and lets the plan replace the renamed database; CloudFormation, which the key does not change, still cannot replace a database with a fixed DBInstanceIdentifier",
    ),
    (
        "secret-length",
        "data-loss",
        "none",
        "CloudFormation generates the secret anew when GenerateSecretString changes; Terraform writes the write-only secret_string_wo only when secret_string_wo_version changes, which berth keeps at 1",
    ),
];

/// The worst impact per target (`cloudformation`, `terraform`) of a diff's JSON.
fn worst_by_target(json: &str) -> std::collections::BTreeMap<String, String> {
    const ORDER: &[&str] = &[
        "none",
        "add",
        "revision",
        "update",
        "orphan",
        "replace",
        "destroy",
        "data-loss",
        "will-fail",
    ];
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut worst = std::collections::BTreeMap::new();
    for target in ["cloudformation", "terraform"] {
        let impacts = value["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["target"] == target)
            .flat_map(|s| s["resources"].as_array().unwrap())
            .map(|r| r["impact"].as_str().unwrap().to_owned());
        let rank = |i: &str| ORDER.iter().position(|o| *o == i).unwrap();
        let top = impacts
            .max_by_key(|i| rank(i))
            .unwrap_or_else(|| "none".to_owned());
        worst.insert(target.to_owned(), top);
    }
    worst
}

/// The same change gives the same verdict whether the district deploys it
/// with CloudFormation or with Terraform, except where the tools differ.
#[test]
fn both_targets_give_the_same_verdict() {
    for case in CASES {
        let dir = repository(&fixture(case, "before"), &fixture(case, "after"));
        let has = |ext: &str| {
            walkdir::WalkDir::new(fixture(case, "after").join("out"))
                .into_iter()
                .any(|e| e.unwrap().path().to_string_lossy().ends_with(ext))
        };
        if !(has(".cfn.json") && has(".tf.json")) {
            continue;
        }
        let output = diff(dir.path(), &["--format", "json"]);
        let worst = worst_by_target(&output.stdout);
        let (cfn, tf) = (&worst["cloudformation"], &worst["terraform"]);
        match KNOWN_DIFFERENCES.iter().find(|(c, ..)| c == case) {
            Some((_, want_cfn, want_tf, _)) => assert_eq!(
                (cfn.as_str(), tf.as_str()),
                (*want_cfn, *want_tf),
                "{case}: the known difference changed"
            ),
            None => assert_eq!(cfn, tf, "{case}: CloudFormation and Terraform disagree"),
        }
    }
}

/// An update that changes an attribute others read is followed: a launch
/// template's new version updates the Auto Scaling group that reads
/// `LatestVersionNumber` (`latest_version` in Terraform).
#[test]
fn an_updated_attribute_updates_its_readers() {
    let dir = repository(
        &fixture("launch-template", "before"),
        &fixture("launch-template", "after"),
    );
    let value: serde_json::Value =
        serde_json::from_str(&diff(dir.path(), &["--format", "json"]).stdout).unwrap();
    let updated: Vec<&str> = value["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["resources"].as_array().unwrap())
        .filter(|r| r["action"] == "update")
        .map(|r| r["logical_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        updated,
        [
            "AutoScalingGroup",
            "ContainerLaunchTemplate",
            "aws_autoscaling_group.container_hosts",
            "aws_launch_template.container_hosts"
        ]
    );
}

#[test]
fn color_only_when_asked_or_on_a_terminal() {
    let dir = repository(&fixture("command", "before"), &fixture("command", "after"));
    let plain = diff(dir.path(), &[]);
    assert!(!plain.stdout.contains('\u{1b}'));
    let colored = diff(dir.path(), &["--color", "always"]);
    assert!(colored.stdout.contains("\u{1b}[31m-"));
    assert!(colored.stdout.contains("\u{1b}[32m+"));
    let markdown = diff(dir.path(), &["--color", "always", "--format", "markdown"]);
    assert!(!markdown.stdout.contains('\u{1b}'));
}

#[test]
fn errors() {
    let before = fixture("command", "before");
    let dir = repository(&before, &before);
    let unknown = diff(dir.path(), &["--base", "no-such-branch"]);
    assert_eq!(
        (unknown.code, unknown.stderr.as_str()),
        (
            1,
            "error: unknown revision `no-such-branch`: git knows no commit by that name\n"
        )
    );
    git(dir.path(), &["rm", "-q", "-r", "out"]);
    git(dir.path(), &["commit", "-q", "-m", "no out"]);
    let no_out = diff(dir.path(), &[]);
    assert_eq!(no_out.code, 1);
    assert_eq!(
        no_out.stderr,
        "error: there is no `out` to compare with: run `berth build` first, or compare with a git revision: `berth diff --base REV`\n"
    );
    let not_a_repository = copy_tree(&before);
    let output = run_with(
        not_a_repository.path(),
        &["diff", "--base", "main"],
        &[("GIT_CEILING_DIRECTORIES", "/")],
    );
    assert_eq!(output.code, 1);
    assert!(
        output.stderr.starts_with(
            "error: `--base` compares with a git revision, but `.` is not in a git repository"
        ),
        "{}",
        output.stderr
    );
}

/// The first pull request that commits `out/`: its base has none, so
/// everything is added, and the summary says why.
#[test]
fn a_base_without_out_is_an_empty_baseline() {
    let fleet = fixture("command", "before");
    let dir = tempfile::tempdir().unwrap();
    replace_dir(dir.path(), "instances", &fleet.join("instances"));
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "instances only"]);
    for format in ["text", "markdown", "json"] {
        let output = diff(dir.path(), &["--base", "HEAD", "--format", format]);
        assert_eq!(output.code, 2, "{format}: {}", output.stderr);
        assert_eq!(output.stderr, "", "{format}");
        insta::assert_snapshot!(format!("first-out-{format}"), output.stdout);
    }
    let fails = diff(dir.path(), &["--base", "HEAD", "--fail-on", "replace"]);
    assert_eq!(fails.code, 2, "additions replace nothing: {}", fails.stderr);
}

/// The summary compares the sources at the base with the working tree's;
/// where the base has none, it says so, and the diff itself is unchanged.
#[test]
fn the_summary_says_when_there_are_no_base_sources() {
    let (before, after) = (fixture("command", "before"), fixture("command", "after"));
    // A base commit with `out/` but no `instances/`.
    let dir = tempfile::tempdir().unwrap();
    replace_dir(dir.path(), "out", &before.join("out"));
    std::fs::write(dir.path().join("README"), "fleet\n").unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "out only"]);
    replace_dir(dir.path(), "instances", &after.join("instances"));
    let output = diff(dir.path(), &[]);
    assert_eq!(output.code, 2, "{}", output.stderr);
    assert!(
        output
            .stdout
            .starts_with("Summary: not available: the base (HEAD) has no instances/.\n\n"),
        "{}",
        output.stdout
    );
    let json = diff(dir.path(), &["--format", "json", "--base", "HEAD"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["summary_by_heritage"], serde_json::json!([]));
    assert_eq!(
        value["summary_note"],
        "not available: the base (HEAD) has no instances/"
    );
    // Outside a git repository there is no HEAD to read the sources from.
    let loose = copy_tree(&before);
    replace_dir(loose.path(), "instances", &after.join("instances"));
    let output = run_with(
        loose.path(),
        &["diff", "--format", "markdown"],
        &[("GIT_CEILING_DIRECTORIES", "/")],
    );
    assert_eq!(output.code, 2, "{}", output.stderr);
    assert!(
        output.stdout.contains(
            "**Summary:** not available: there are no sources at HEAD to compare with (not a git repository, or no commit yet).\n"
        ),
        "{}",
        output.stdout
    );
    // The resource view is the same with or without the summary.
    assert!(
        output.stdout.contains("| `mstdn-bcn-users-app` |"),
        "{}",
        output.stdout
    );
}

#[test]
fn usage_errors_are_not_changes() {
    let dir = repository(&fixture("command", "before"), &fixture("command", "after"));
    for args in [
        &["--format", "yaml"][..],
        &["--fail-on", "everything"],
        &["--base"],
        &["--no-such-flag"],
    ] {
        let output = diff(dir.path(), args);
        assert_eq!(output.code, 64, "{args:?}: {}", output.stderr);
    }
    let help = diff(dir.path(), &["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("--fail-on <KIND>"));
}

/// Regression: `git ls-tree` limits its listing to the current directory,
/// so a fleet in a subdirectory of its repository read as an empty `out/`.
#[test]
fn base_works_for_a_fleet_in_a_subdirectory() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("infra/fleet");
    let (before, after) = (fixture("command", "before"), fixture("command", "after"));
    replace_dir(&fleet, "instances", &before.join("instances"));
    replace_dir(&fleet, "out", &before.join("out"));
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "before"]);
    replace_dir(&fleet, "instances", &after.join("instances"));
    let output = run_in(
        dir.path(),
        &["--root", "infra/fleet", "diff", "--base", "HEAD"],
    );
    assert_eq!(output.code, 2, "{}", output.stderr);
    let on_disk = run_in(dir.path(), &["--root", "infra/fleet", "diff"]);
    assert_eq!(as_on_disk(&output, "HEAD"), on_disk.stdout);
    let inside = run_in(&fleet, &["diff", "--base", "HEAD"]);
    assert_eq!(inside.stdout, output.stdout);
}

/// A change the summary has no words for is not called "the same": the
/// note says the sources changed and points at the resources.
#[test]
fn a_source_change_the_summary_cannot_name_is_not_called_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let before = fixture("command", "before");
    replace_dir(dir.path(), "instances", &before.join("instances"));
    replace_dir(dir.path(), "out", &before.join("out"));
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "before"]);
    // A health check path: it changes the target group, and the summary has
    // no words for it.
    let instance = dir.path().join("instances/mstdn/bcn-users.yml");
    let text = std::fs::read_to_string(&instance).unwrap();
    assert!(text.contains("health_check_path: /health}"));
    std::fs::write(
        &instance,
        text.replace(
            "health_check_path: /health}",
            "health_check_path: /healthz}",
        ),
    )
    .unwrap();
    let output = run_in(dir.path(), &["diff", "--base", "HEAD", "--format", "json"]);
    assert_eq!(output.code, 2, "{}", output.stderr);
    let doc: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let note = doc["summary_note"].as_str().unwrap_or_default();
    assert!(
        note.starts_with("instances/ changed since HEAD in ways this summary does not name"),
        "{doc}"
    );
}
