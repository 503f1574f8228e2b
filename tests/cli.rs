//! Commands, flags and exit codes of the real binary.

use crate::support::{Fleet, repo, run_in};
use crate::validate::TUTORIAL;

#[test]
fn example_fleet_validates_cleanly() {
    let output = run_in(&repo(), &["validate"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert_eq!(
        output.stderr,
        "district mstdn: 16 tasks use 12,288 of 31,940 MiB (38 %) and 4,992 of 8,192 CPU units (60 %) \
         on 2 × t3.xlarge (15,970 MiB and 4,096 CPU units each)\n\
         validated 1 district, 2 heritages: 0 errors, 0 warnings\n"
    );
}

#[test]
fn a_fleet_that_cannot_be_placed_is_an_error_with_figures() {
    let district = crate::support::DISTRICT.replace("size: 2", "size: 1");
    let fleet = crate::support::Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .file(
            "instances/mstdn/app.yml",
            &crate::validate::APP.replace("memory: 512", "memory: 1500\n        desired_count: 2"),
        );
    insta::assert_snapshot!(fleet.run(&["validate"]).transcript());
}

#[test]
fn explain_shows_the_resolved_tutorial() {
    let fleet = Fleet::new().file("instances/mstdn/bcn-users.yml", TUTORIAL);
    let output = fleet.run(&["explain", "bcn-users"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    insta::assert_snapshot!(output.stdout);
}

#[test]
fn explain_as_json() {
    let fleet = Fleet::new().file("instances/mstdn/bcn-users.yml", TUTORIAL);
    let output = fleet.run(&["explain", "bcn-users", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&output.stdout).expect("json");
    assert_eq!(value["services"][0]["command"][7], "0.0.0.0");
    assert_eq!(value["services"][2]["cpu"], 128);
    assert_eq!(
        value["scheduled_tasks"][0]["schedule"],
        "cron(15 20 ? * * *)"
    );
}

#[test]
fn explain_unknown_heritage() {
    let fleet = Fleet::new().file("instances/mstdn/bcn-users.yml", TUTORIAL);
    let output = fleet.run(&["explain", "bcn-user"]);
    assert_eq!(output.code, 1);
    assert_eq!(
        output.stderr,
        "error: no heritage named `bcn-user`; the fleet has `bcn-users`\n"
    );
}

#[test]
fn no_instances_folder() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_in(dir.path(), &["validate"]);
    assert_eq!(output.code, 1);
    assert!(
        output
            .stderr
            .starts_with("error: no `instances/` folder in `.`"),
        "{}",
        output.stderr
    );
}

#[test]
fn schema_prints_each_schema() {
    for kind in ["instance", "district"] {
        let output = run_in(&repo(), &["schema", kind]);
        assert_eq!(output.code, 0);
        let committed =
            std::fs::read_to_string(repo().join(format!("schema/{kind}.schema.json"))).unwrap();
        assert_eq!(output.stdout, committed);
    }
}

#[test]
fn color_always_colours_diagnostics() {
    let fleet = Fleet::new().file("instances/mstdn/bcn-users.yml", TUTORIAL);
    let plain = fleet.run(&["validate"]);
    let colored = fleet.run(&["validate", "--color", "always"]);
    assert!(!plain.stderr.contains('\u{1b}'));
    assert!(colored.stderr.contains('\u{1b}'));
}

/// 64 (`EX_USAGE`), so that a usage error is never read as `berth diff`'s
/// "there are changes" (2).
#[test]
fn usage_errors_exit_64() {
    let output = run_in(&repo(), &["validate", "--format", "xml"]);
    assert_eq!(output.code, 64);
    let output = run_in(&repo(), &["frobnicate"]);
    assert_eq!(output.code, 64);
    let output = run_in(&repo(), &["--version"]);
    assert_eq!(output.code, 0);
}
