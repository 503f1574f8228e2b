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
    assert_eq!(
        output.stderr,
        "error: no `instances/` folder in `.` or any folder above it\n  \
         help: run berth in a fleet repository, pass `--root DIR`, or start one here with `berth init`\n"
    );
    assert_eq!(run_in(dir.path(), &["build"]).stderr, output.stderr);
}

#[test]
fn an_empty_instances_folder_says_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("instances")).unwrap();
    let output = run_in(dir.path(), &["validate"]);
    assert_eq!(
        (output.code, output.stderr.as_str()),
        (
            0,
            "`instances/` holds no district yet\n  help: add `instances/<district>/district.yml` and an instance \
             file beside it, or start with `berth init` in an empty folder\n\
             validated 0 districts, 0 heritages: 0 errors, 0 warnings\n"
        )
    );
}

#[test]
fn the_fleet_root_is_found_from_a_folder_inside_it() {
    let fleet = Fleet::new().file("instances/mstdn/app.yml", crate::validate::APP);
    std::fs::create_dir(fleet.path().join(".git")).unwrap();
    let inside = fleet.path().join("instances/mstdn");
    let output = run_in(&inside, &["validate"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert_eq!(
        run_in(&inside, &["build"]).stderr,
        "wrote 11 files to ../../out\n"
    );
    assert!(fleet.path().join("out/manifest.json").is_file());
    // Not past the repository's root (the folder with `.git`).
    let nested = fleet.path().join("sub");
    std::fs::create_dir_all(nested.join(".git")).unwrap();
    assert_eq!(run_in(&nested, &["validate"]).code, 1);
}

#[test]
fn init_starts_a_fleet_that_validates_and_builds() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_in(
        dir.path(),
        &["init", "--district", "prod", "--region", "eu-west-1"],
    );
    assert_eq!(output.code, 0, "{}", output.stderr);
    insta::assert_snapshot!(output.stderr);
    let validate = run_in(dir.path(), &["validate", "--deny-warnings"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let build = run_in(dir.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    assert_eq!(run_in(dir.path(), &["build", "--check"]).code, 0);
    let files = crate::support::read_tree(dir.path());
    assert!(
        files.contains_key("out/prod/hello/app.cfn.json"),
        "{:?}",
        files.keys()
    );
    assert_eq!(
        String::from_utf8_lossy(&files[".gitignore"]),
        "# berth build: beside out/, its lock, the folders of a build in progress and the stat cache\n.out.lock\n.out.new-*\n.out.old-*\n.out.stat\n"
    );
    let workflow = String::from_utf8_lossy(&files[".github/workflows/berth.yml"]).into_owned();
    for command in [
        "berth validate --format github",
        "berth build --check",
        "berth diff --base \"origin/${{ github.base_ref }}\" --format markdown",
    ] {
        assert!(workflow.contains(command), "{command}");
    }
    // Each berth command line of the workflow is one berth accepts.
    for line in workflow
        .lines()
        .filter_map(|l| l.trim().strip_prefix("run: berth "))
    {
        let args: Vec<&str> = line.split_whitespace().collect();
        let help = run_in(dir.path(), &[&args[..], &["--help"]].concat());
        assert_eq!(help.code, 0, "{line}: {}", help.stderr);
    }

    // A second run refuses and changes nothing.
    let before = crate::support::read_tree(dir.path());
    let again = run_in(dir.path(), &["init"]);
    assert_eq!(again.code, 1);
    assert_eq!(
        again.stderr,
        "error: refusing to start a fleet in `.`: `instances`, `schema/instance.schema.json`, \
         `schema/district.schema.json`, `.github/workflows/berth.yml` already exist; berth init never overwrites\n  \
         help: run it in an empty folder (`berth init DIR`), or add a district by hand\n"
    );
    assert_eq!(crate::support::read_tree(dir.path()), before);
}

#[test]
fn init_keeps_a_gitignore_and_refuses_a_bad_district_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".gitignore"), "/target\n.out.lock").unwrap();
    let bad = run_in(dir.path(), &["init", "--district", "my district"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.ends_with(
            "error: refusing to start a fleet berth would not accept (nothing was written): fix `--district` or `--region`\n"
        ),
        "{}",
        bad.stderr
    );
    assert_eq!(crate::support::read_tree(dir.path()).len(), 1);
    let output = run_in(dir.path(), &["init", "fleet"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
        "/target\n.out.lock"
    );
    assert!(dir.path().join("fleet/.gitignore").is_file());
    assert_eq!(run_in(&dir.path().join("fleet"), &["validate"]).code, 0);
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

#[test]
fn completions_and_man_page_cover_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _berth"),
        ("zsh", "#compdef berth"),
        ("fish", "complete -c berth"),
    ] {
        let output = run_in(dir.path(), &["completions", shell]);
        assert_eq!(output.code, 0, "{}", output.stderr);
        assert!(output.stdout.contains(marker), "{shell}");
        for command in [
            "init",
            "validate",
            "build",
            "diff",
            "apply",
            "destroy",
            "completions",
            "man",
        ] {
            assert!(output.stdout.contains(command), "{shell}: {command}");
        }
    }
    let man = run_in(dir.path(), &["man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.starts_with(".ie"), "{}", &man.stdout[..80]);
    assert!(man.stdout.contains(".TH berth 1"));
    for command in [
        "berth\\-init",
        "berth\\-validate",
        "berth\\-build",
        "berth\\-diff",
        "berth\\-apply",
    ] {
        assert!(man.stdout.contains(command), "{command}");
    }
    assert_eq!(run_in(dir.path(), &["completions", "tcsh"]).code, 64);
}

/// Regression: a key missing at the top level read "missing key `network` in `the file`".
#[test]
fn a_missing_top_level_key_names_no_pseudo_key() {
    let district = crate::support::DISTRICT
        .replace("network:\n  cidr: 10.1.0.0/16\n  egress_ports: [587]\n", "");
    let fleet = Fleet::new().file("instances/mstdn/district.yml", &district);
    let output = fleet.run(&["validate"]);
    assert_eq!(output.code, 1);
    assert!(
        output
            .stderr
            .starts_with("error[missing-key]: missing top-level key `network`\n"),
        "{}",
        output.stderr
    );
    assert!(!output.stderr.contains("`the file`"), "{}", output.stderr);
}

#[test]
fn build_summary_counts_notes() {
    let app = crate::validate::APP.replace("    image_tag: v1\n", "");
    let fleet = Fleet::new().file("instances/mstdn/app.yml", &app);
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let last = output.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("wrote ") && last.ends_with(": 0 errors, 0 warnings, 1 note"),
        "{}",
        output.stderr
    );
}

/// The release workflow publishes what the workflow of `berth init`
/// downloads: for each runner architecture (`uname -m`), a
/// `berth-<tag>-<arch>-unknown-linux-musl.tar.gz` and its `.sha256`.
#[test]
fn release_assets_are_what_the_init_workflow_downloads() {
    let release = std::fs::read_to_string(repo().join(".github/workflows/release.yml")).unwrap();
    let targets: Vec<&str> = release
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- target: "))
        .collect();
    assert_eq!(
        targets,
        ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"]
    );
    for line in [
        r#"run: cargo build --release --locked --target "${{ matrix.target }}""#,
        r#"name="berth-${GITHUB_REF_NAME}-${{ matrix.target }}""#,
        r#"cp "target/${{ matrix.target }}/release/berth" README.md "$name/""#,
        r#"strip "$name/berth""#,
        r#"sha256sum "$name.tar.gz" > "$name.tar.gz.sha256""#,
    ] {
        assert!(release.contains(line), "{line}");
    }
    let init = std::fs::read_to_string(repo().join("src/cli/init/berth.yml")).unwrap();
    assert!(
        init.contains(r#"name="berth-$BERTH_VERSION-$(uname -m)-unknown-linux-musl""#),
        "{init}"
    );
    for line in [
        r#"curl -fsSLO "$BERTH_GIT/releases/download/$BERTH_VERSION/$name.tar.gz""#,
        r#"curl -fsSLO "$BERTH_GIT/releases/download/$BERTH_VERSION/$name.tar.gz.sha256""#,
        r#"sha256sum -c "$name.tar.gz.sha256""#,
    ] {
        assert!(init.contains(line), "{line}");
    }
}
