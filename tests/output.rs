//! What `build`, `validate` and `diff` print for tools (`build --format
//! json`) and how `-q` and `-v` change it.

use serde_json::Value;

use crate::support::Fleet;
use crate::validate::{APP, TUTORIAL};

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn build_json_says_what_it_wrote_and_what_changed() {
    let fleet = Fleet::new().file("instances/mstdn/app.yml", APP);
    let first = fleet.run(&["build", "--format", "json"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let doc = json(&first.stdout);
    assert_eq!(doc["command"], "build");
    assert_eq!(doc["status"], "written");
    assert_eq!(doc["exit_code"], 0);
    let files = doc["files"].as_u64().unwrap();
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(fleet.path().join("out/manifest.json")).unwrap(),
    )
    .unwrap();
    // The manifest lists every file but itself.
    assert_eq!(
        files,
        manifest["artifacts"].as_array().unwrap().len() as u64 + 1
    );
    // A first build adds every file.
    assert_eq!(strings(&doc["drift"]["missing"]).len() as u64, files);
    assert_eq!(
        doc["counts"],
        serde_json::json!({"errors": 0, "warnings": 0, "notes": 0})
    );
    let steps: Vec<&str> = doc["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["analyze", "render", "compare", "write"]);

    // A second build of changed sources names the files it changes.
    std::fs::write(
        fleet.path().join("instances/mstdn/app.yml"),
        APP.replace("image_tag: v1", "image_tag: v2"),
    )
    .unwrap();
    let check = fleet.run(&["build", "--check", "--format", "json"]);
    assert_eq!(check.code, 2, "{}", check.stderr);
    let doc = json(&check.stdout);
    assert_eq!(
        (&doc["command"], &doc["status"], &doc["exit_code"]),
        (&"build --check".into(), &"stale".into(), &2.into())
    );
    let changed = strings(&doc["drift"]["changed"]);
    assert!(
        changed.contains(&"mstdn/app/app.params.json"),
        "{changed:?}"
    );
    assert!(doc["drift"]["missing"].as_array().unwrap().is_empty());
    let second = fleet.run(&["build", "--format", "json"]);
    assert_eq!(
        json(&second.stdout)["drift"]["changed"],
        doc["drift"]["changed"]
    );
    let again = fleet.run(&["build", "--check", "--format", "json"]);
    assert_eq!(
        (again.code, json(&again.stdout)["status"].as_str()),
        (0, Some("up-to-date"))
    );
}

#[test]
fn build_json_holds_the_diagnostics_and_the_error() {
    let fleet = Fleet::new().file(
        "instances/mstdn/app.yml",
        &APP.replace("cpu: 256", "cpu: \"256\""),
    );
    let output = fleet.run(&["build", "--format", "json"]);
    assert_eq!(output.code, 1);
    assert_eq!(output.stderr, "", "nothing for people in JSON mode");
    let doc = json(&output.stdout);
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["counts"]["errors"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(
        (&d["code"], &d["file"], &d["line"]),
        (
            &"wrong-type".into(),
            &"instances/mstdn/app.yml".into(),
            &9.into()
        )
    );
    assert!(!fleet.path().join("out").exists());

    // A refusal that is not a diagnostic is the document's `error`.
    let fleet = Fleet::new().file("instances/mstdn/app.yml", APP);
    let output = fleet.run(&["build", "--format", "json", "--out", "instances"]);
    assert_eq!(output.code, 1);
    let doc = json(&output.stdout);
    assert_eq!(doc["status"], "failed");
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("refusing to write into `"),
        "{doc}"
    );
    assert!(fleet.path().join("instances/mstdn/app.yml").exists());
}

#[test]
fn quiet_prints_only_what_is_wrong() {
    let fleet = Fleet::new().file("instances/mstdn/app.yml", TUTORIAL);
    let loud = fleet.run(&["build"]);
    assert!(
        loud.stderr.contains("note[latest-tag]") && loud.stderr.contains("wrote "),
        "{}",
        loud.stderr
    );
    std::fs::remove_dir_all(fleet.path().join("out")).unwrap();
    let quiet = fleet.run(&["build", "-q"]);
    assert_eq!(quiet.code, 0);
    assert!(
        quiet.stderr.contains("warning[double-slash-path]"),
        "{}",
        quiet.stderr
    );
    assert!(
        !quiet.stderr.contains("note[") && !quiet.stderr.contains("wrote "),
        "{}",
        quiet.stderr
    );
    let validate = fleet.run(&["validate", "--quiet"]);
    assert_eq!(validate.code, 0);
    assert!(validate.stderr.contains("warning[double-slash-path]"));
    assert!(
        !validate.stderr.contains("validated ") && !validate.stderr.contains("district mstdn:"),
        "{}",
        validate.stderr
    );
    // An error is printed whatever the verbosity.
    std::fs::write(
        fleet.path().join("instances/mstdn/app.yml"),
        TUTORIAL.replace("cpu: 128", "cpu: lots"),
    )
    .unwrap();
    let failed = fleet.run(&["validate", "-q"]);
    assert_eq!(failed.code, 1);
    assert!(
        failed.stderr.contains("error[wrong-type]")
            && failed.stderr.contains("validation failed: 1 error"),
        "{}",
        failed.stderr
    );
}

#[test]
fn verbose_lists_every_file_and_the_time_of_each_step() {
    let fleet = Fleet::new().file("instances/mstdn/app.yml", APP);
    let first = fleet.run(&["build", "-v"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("  added: manifest.json\n"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("\ntook: analyze "),
        "{}",
        first.stderr
    );
    std::fs::write(
        fleet.path().join("instances/mstdn/app.yml"),
        APP.replace("image_tag: v1", "image_tag: v2"),
    )
    .unwrap();
    let second = fleet.run(&["build", "--verbose"]);
    assert!(
        second
            .stderr
            .contains("  changed: mstdn/app/app.params.json\n"),
        "{}",
        second.stderr
    );
    assert!(!second.stderr.contains("  added: "), "{}", second.stderr);
    let validate = fleet.run(&["validate", "-v"]);
    assert!(
        validate.stderr.contains("\ntook: load, check and model "),
        "{}",
        validate.stderr
    );
    let diff = fleet.run(&["diff", "-v"]);
    assert!(diff.stderr.contains("took: "), "{}", diff.stderr);
    let conflict = fleet.run(&["build", "-q", "-v"]);
    assert_eq!(conflict.code, 64, "{}", conflict.stderr);
}

#[test]
fn quiet_diff_prints_nothing_and_exits_with_its_code() {
    let fleet = Fleet::new().file("instances/mstdn/app.yml", APP);
    assert_eq!(fleet.run(&["build"]).code, 0);
    std::fs::write(
        fleet.path().join("instances/mstdn/app.yml"),
        APP.replace("image_tag: v1", "image_tag: v2"),
    )
    .unwrap();
    let loud = fleet.run(&["diff"]);
    assert_eq!(loud.code, 2);
    assert!(!loud.stdout.is_empty());
    let quiet = fleet.run(&["diff", "-q"]);
    assert_eq!(
        (quiet.code, quiet.stdout.as_str()),
        (2, ""),
        "{}",
        quiet.stderr
    );
}
