//! `berth build`: the committed artifacts of the example fleet and of the
//! golden fleets in `tests/fixtures/` are exactly what berth renders (review
//! them as diffs; refresh with `cargo run -- --root tests/fixtures/<fleet> build`),
//! builds are deterministic, and `out/` is replaced atomically.

use crate::support::{Fleet, copy_tree, read_tree, repo, run_in, run_with};

const FIXTURES: &[&str] = &[
    "barcelona",
    "lokka",
    "mastodon",
    "network",
    "port-mappings",
    "tutorial",
    "web-rules",
    "workers",
];

#[test]
fn example_fleet_out_is_current() {
    let output = run_in(&repo(), &["build", "--check"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
}

#[test]
fn golden_fleets_out_is_current() {
    for fixture in FIXTURES {
        let root = repo().join("tests/fixtures").join(fixture);
        let output = run_in(
            &repo(),
            &["--root", root.to_str().unwrap(), "build", "--check"],
        );
        assert_eq!(output.code, 0, "{fixture}: {}", output.stderr);
    }
}

#[test]
fn builds_are_identical_across_directories_and_threads() {
    let fleet = copy_tree(&repo().join("tests/fixtures/web-rules"));
    let elsewhere = tempfile::tempdir().unwrap();
    let out_a = elsewhere.path().join("a");
    let out_b = elsewhere.path().join("b");
    let root = fleet.path().to_str().unwrap();
    let a = run_with(
        fleet.path(),
        &["build", "--out", out_a.to_str().unwrap()],
        &[("RAYON_NUM_THREADS", "1")],
    );
    let b = run_with(
        elsewhere.path(),
        &["--root", root, "build", "--out", out_b.to_str().unwrap()],
        &[("RAYON_NUM_THREADS", "2")],
    );
    assert_eq!((a.code, b.code), (0, 0), "{}{}", a.stderr, b.stderr);
    let (tree_a, tree_b) = (read_tree(&out_a), read_tree(&out_b));
    assert!(tree_a.len() > 5);
    assert_eq!(tree_a, tree_b);
    assert_eq!(
        tree_a,
        read_tree(&repo().join("tests/fixtures/web-rules/out"))
    );
}

#[test]
fn a_failed_build_leaves_out_unchanged() {
    let fleet = copy_tree(&repo().join("tests/fixtures/workers"));
    let before = read_tree(&fleet.path().join("out"));
    std::fs::create_dir_all(fleet.path().join("templates")).unwrap();
    std::fs::write(
        fleet.path().join("templates/app.params.json"),
        "{\"Parameters\": {{ heritage.name }} }",
    )
    .unwrap();
    let output = run_in(fleet.path(), &["build"]);
    assert_eq!(output.code, 1);
    insta::assert_snapshot!(output.stderr);
    assert_eq!(read_tree(&fleet.path().join("out")), before);
}

#[test]
fn templates_can_be_overridden_by_name() {
    let fleet = copy_tree(&repo().join("tests/fixtures/workers"));
    std::fs::create_dir_all(fleet.path().join("templates")).unwrap();
    let custom = "{\"Parameters\": {\"Image\": {{ heritage.image | json_encode | safe }}}, \"Tags\": {\"team\": \"platform\"}}";
    std::fs::write(fleet.path().join("templates/app.params.json"), custom).unwrap();
    let output = run_in(fleet.path(), &["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let params =
        std::fs::read_to_string(fleet.path().join("out/workers/queue/app.params.json")).unwrap();
    assert_eq!(
        params,
        "{\n  \"Parameters\": {\n    \"Image\": \"222222222222.dkr.ecr.eu-west-1.amazonaws.com/queue:2026.11.1\"\n  },\n  \"Tags\": {\n    \"team\": \"platform\"\n  }\n}\n"
    );
}

#[test]
fn check_lists_stale_artifacts_and_writes_nothing() {
    let fleet = copy_tree(&repo().join("tests/fixtures/workers"));
    let instance = fleet.path().join("instances/workers/queue.yml");
    let text = std::fs::read_to_string(&instance)
        .unwrap()
        .replace("desired_count: 3", "desired_count: 4");
    std::fs::write(&instance, text).unwrap();
    let before = read_tree(&fleet.path().join("out"));
    let output = run_in(fleet.path(), &["build", "--check"]);
    assert_eq!(output.code, 1);
    insta::assert_snapshot!(output.stderr);
    assert_eq!(read_tree(&fleet.path().join("out")), before);
}

#[test]
fn removed_instances_lose_their_artifacts() {
    let fleet = Fleet::new()
        .file(
            "instances/mstdn/a.yml",
            &crate::fleet::instance("alpha", "alpha.example"),
        )
        .file(
            "instances/mstdn/b.yml",
            &crate::fleet::instance("beta", "beta.example"),
        );
    assert_eq!(fleet.run(&["build"]).code, 0);
    assert!(fleet.path().join("out/mstdn/beta/app.cfn.json").exists());
    std::fs::remove_file(fleet.path().join("instances/mstdn/b.yml")).unwrap();
    assert_eq!(fleet.run(&["build"]).code, 0);
    assert!(!fleet.path().join("out/mstdn/beta").exists());
    assert!(fleet.path().join("out/mstdn/alpha/app.cfn.json").exists());
}

#[test]
fn manifest_lists_every_artifact_with_its_checksum() {
    let out = repo().join("out");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let artifacts = manifest["artifacts"].as_array().unwrap();
    let files = read_tree(&out);
    assert_eq!(
        artifacts.len(),
        files.len() - 1,
        "every file but the manifest is listed"
    );
    for artifact in artifacts {
        let path = artifact["path"].as_str().unwrap();
        let bytes = &files[path];
        assert_eq!(
            artifact["sha256"].as_str().unwrap(),
            berth::emit::sha256(std::str::from_utf8(bytes).unwrap()),
            "{path}"
        );
        assert!(!artifact["sources"].as_array().unwrap().is_empty());
    }
}

#[test]
fn build_refuses_a_fleet_with_errors() {
    let fleet = Fleet::new().file("instances/mstdn/a.yml", "environments: {}\nextra: 1\n");
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 1);
    assert!(
        output
            .stderr
            .ends_with("build failed: 1 error, 0 warnings\n"),
        "{}",
        output.stderr
    );
    assert!(!fleet.path().join("out").exists());
}

// ---- what `build` may replace ----------------------------------------------

#[test]
fn build_refuses_to_replace_the_sources() {
    let fleet = copy_tree(&repo().join("tests/fixtures/tutorial"));
    let before = read_tree(&fleet.path().join("instances"));
    let output = run_in(fleet.path(), &["build", "--out", "instances"]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert_eq!(read_tree(&fleet.path().join("instances")), before);
    insta::assert_snapshot!(output.stderr);
    for out in ["instances", "."] {
        let forced = run_in(
            fleet.path(),
            &["build", "--out", out, "--delete-unknown-files"],
        );
        assert_eq!(forced.code, 1, "{out}: the flag does not delete sources");
    }
    assert_eq!(read_tree(&fleet.path().join("instances")), before);
}

#[test]
fn build_refuses_a_directory_it_did_not_write() {
    let fleet = copy_tree(&repo().join("tests/fixtures/tutorial"));
    std::fs::create_dir(fleet.path().join("docs")).unwrap();
    std::fs::write(fleet.path().join("docs/notes.md"), "# notes\n").unwrap();
    let output = run_in(fleet.path(), &["build", "--out", "docs"]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert_eq!(
        std::fs::read_to_string(fleet.path().join("docs/notes.md")).unwrap(),
        "# notes\n"
    );
    assert!(!fleet.path().join("docs/manifest.json").exists());
    insta::assert_snapshot!(output.stderr);
}

#[test]
fn build_into_a_new_or_empty_directory_is_fine() {
    let fleet = copy_tree(&repo().join("tests/fixtures/tutorial"));
    std::fs::create_dir_all(fleet.path().join("empty/sub")).unwrap();
    for dir in ["empty", "new"] {
        let output = run_in(fleet.path(), &["build", "--out", dir]);
        assert_eq!(output.code, 0, "{dir}: {}", output.stderr);
        assert!(fleet.path().join(dir).join("manifest.json").is_file());
    }
}

#[test]
fn build_refuses_to_delete_a_file_it_did_not_write() {
    let fleet = copy_tree(&repo().join("tests/fixtures/tutorial"));
    let backend = fleet.path().join("out/tutorial/backend.tf");
    std::fs::write(&backend, "terraform {}\n").unwrap();
    let output = run_in(fleet.path(), &["build"]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert!(backend.is_file(), "the hand-added file is kept");
    insta::assert_snapshot!(output.stderr);
    let output = run_in(fleet.path(), &["build", "--delete-unknown-files"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(!backend.exists(), "deleted when asked to");
    assert_eq!(run_in(fleet.path(), &["build", "--check"]).code, 0);
}
