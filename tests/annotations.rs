//! `validate --format github` and `--format sarif`: what CI systems read,
//! with paths relative to the git repository's root.

use crate::support::{Fleet, repo, run_in};

/// A fleet in `deploy/fleet/` of a git repository, with two problems.
fn monorepo_fleet() -> (tempfile::TempDir, std::path::PathBuf) {
    let app = crate::validate::APP
        .replace("cpu: 256", "cpu: 256\n        bogus: 1")
        .replace("image_tag: v1", "image_tag: \"v1\"\n    env_vars: {A: b}");
    let fleet = Fleet::new().file("instances/mstdn/app.yml", &app);
    let repository = tempfile::tempdir().unwrap();
    std::fs::create_dir(repository.path().join(".git")).unwrap();
    let root = repository.path().join("deploy/fleet");
    std::fs::create_dir_all(root.parent().unwrap()).unwrap();
    let copy = crate::support::copy_tree(fleet.path());
    std::fs::rename(copy.path(), &root).unwrap();
    (repository, root)
}

#[test]
fn github_workflow_commands_name_files_from_the_repository_root() {
    let (_repository, root) = monorepo_fleet();
    let output = run_in(&root, &["validate", "--format", "github"]);
    assert_eq!(output.code, 1);
    insta::assert_snapshot!(output.stdout);
    assert_eq!(output.stderr, "");
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let (_repository, root) = monorepo_fleet();
    let output = run_in(&root, &["validate", "--format", "sarif"]);
    assert_eq!(output.code, 1);
    let log: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    // The OASIS schema as the pinned @microsoft/jest-sarif ships it
    // (tools/npm, installed by scripts/npm-tools).
    let tools = std::process::Command::new(repo().join("scripts/npm-tools"))
        .output()
        .unwrap();
    assert!(tools.status.success());
    let schema_path = repo()
        .join("tools/npm/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
    // Its `run.language` pattern has a lone `]`, a literal to ECMA-262 and
    // an error to Rust's regex: written `\]`, it means the same to both.
    let text = std::fs::read_to_string(schema_path).unwrap().replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#,
    );
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft4::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The schema is strict enough to refuse a broken log.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
    let result = &log["runs"][0]["results"];
    assert_eq!(result.as_array().unwrap().len(), 2);
    assert_eq!(
        result[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "deploy/fleet/instances/mstdn/app.yml"
    );
    assert_eq!(result[1]["level"], "error");
    assert_eq!(result[1]["ruleId"], "unknown-key");
}
