//! `berth build`: the committed artifacts of the example fleet and of the
//! golden fleets in `tests/fixtures/` are exactly what berth renders (review
//! them as diffs; refresh with `cargo run -- --root tests/fixtures/<fleet> build`),
//! builds are deterministic, and `out/` is replaced atomically.

use crate::support::{Fleet, copy_tree, read_tree, repo, run_in, run_with};

const FIXTURES: &[&str] = &[
    "barcelona",
    "lokka",
    "mastodon",
    "mastodon-cdn",
    "mastodon-large",
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

/// `nat: none` with one host in one zone (`tests/fixtures/network`, district
/// `onehost`): no NAT and no private default route, the host in the first
/// public subnet with a public address, admitted to only by the load
/// balancers, while the load balancer keeps both zones and the database
/// stays in the private subnets.
#[test]
fn a_district_without_nat_runs_its_one_host_in_a_public_subnet() {
    let out = repo().join("tests/fixtures/network/out/onehost");
    let read = |path: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(path)).unwrap()).unwrap()
    };
    let district = read("district.cfn.json");
    let resources = district["Resources"].as_object().unwrap();
    let of_type = |kind: &str| {
        resources
            .iter()
            .filter(|(_, r)| r["Type"] == kind)
            .map(|(id, r)| (id.clone(), r["Properties"].clone()))
            .collect::<Vec<_>>()
    };
    assert!(of_type("AWS::EC2::NatGateway").is_empty());
    assert!(of_type("AWS::EC2::EIP").is_empty());
    let routes: Vec<String> = of_type("AWS::EC2::Route")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(routes, ["PublicDefaultRoute"]);
    let group = &of_type("AWS::AutoScaling::AutoScalingGroup")[0].1;
    assert_eq!(
        group["VPCZoneIdentifier"],
        serde_json::json!([{"Ref": "PublicSubnet1"}])
    );
    let template = &of_type("AWS::EC2::LaunchTemplate")[0].1["LaunchTemplateData"];
    assert_eq!(
        template["NetworkInterfaces"][0]["AssociatePublicIpAddress"],
        true
    );
    assert!(template.get("SecurityGroupIds").is_none());
    let balancer = &of_type("AWS::ElasticLoadBalancingV2::LoadBalancer")[0].1;
    assert_eq!(
        balancer["Subnets"],
        serde_json::json!([{"Ref": "PublicSubnet1"}, {"Ref": "PublicSubnet2"}])
    );
    let containers = &resources["ContainerSecurityGroup"]["Properties"];
    assert!(containers.get("SecurityGroupIngress").is_none());
    let ingress = of_type("AWS::EC2::SecurityGroupIngress");
    let to_hosts: Vec<_> = ingress
        .iter()
        .filter(|(_, p)| p["GroupId"]["Fn::GetAtt"][0] == "ContainerSecurityGroup")
        .collect();
    assert_eq!(to_hosts.len(), 1, "{to_hosts:?}");
    assert_eq!(
        to_hosts[0].1["SourceSecurityGroupId"]["Fn::GetAtt"][0],
        "LoadBalancerSecurityGroup"
    );
    let data = read("diary/data.cfn.json");
    let subnets = data["Resources"]
        .as_object()
        .unwrap()
        .values()
        .find(|r| r["Type"] == "AWS::RDS::DBSubnetGroup")
        .map(|r| r["Properties"]["SubnetIds"].to_string())
        .unwrap();
    assert!(subnets.contains("onehost-PrivateSubnets"), "{subnets}");
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
    // 2 is drift; 1 is kept for errors.
    assert_eq!(output.code, 2);
    insta::assert_snapshot!(output.stderr);
    assert_eq!(read_tree(&fleet.path().join("out")), before);
    let text = std::fs::read_to_string(&instance)
        .unwrap()
        .replace("desired_count: 4", "desired_count: many");
    std::fs::write(&instance, text).unwrap();
    assert_eq!(run_in(fleet.path(), &["build", "--check"]).code, 1);
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

// ---- the swap and the lock -------------------------------------------------

/// The tutorial fleet with a built out/, and the tree its changed sources give.
fn fleet_with_a_change() -> (tempfile::TempDir, Tree, Tree) {
    let fleet = copy_tree(&repo().join("tests/fixtures/tutorial"));
    let old = read_tree(&fleet.path().join("out"));
    let instance = fleet.path().join("instances/tutorial/bcn-users.yml");
    let text = std::fs::read_to_string(&instance)
        .unwrap()
        .replace("rake db:migrate", "rake db:migrate:status");
    std::fs::write(&instance, text).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let new_out = elsewhere.path().join("new");
    let built = run_in(fleet.path(), &["build", "--out", new_out.to_str().unwrap()]);
    assert_eq!(built.code, 0, "{}", built.stderr);
    let new = read_tree(&new_out);
    assert_ne!(old, new);
    (fleet, old, new)
}

type Tree = std::collections::BTreeMap<String, Vec<u8>>;

/// What berth left beside out/: staging folders must not survive a build.
fn beside_out(root: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_build_killed_at_each_step_of_the_swap_leaves_the_old_or_the_new_tree() {
    // `BERTH_TEST_ABORT_AT` is a test hook: the binary aborts (no clean-up
    // runs, as with `kill -9`) at the named step of writing out/.
    for (step, expect_new) in [("staged", false), ("swapped", true), ("cleaned", true)] {
        let (fleet, old, new) = fleet_with_a_change();
        let killed = run_with(fleet.path(), &["build"], &[("BERTH_TEST_ABORT_AT", step)]);
        assert_ne!(killed.code, 0, "{step}: the build was stopped");
        let tree = read_tree(&fleet.path().join("out"));
        let expected = if expect_new { &new } else { &old };
        assert!(
            &tree == expected,
            "{step}: out/ is exactly the {} tree",
            if expect_new { "new" } else { "old" }
        );
        let again = run_in(fleet.path(), &["build"]);
        assert_eq!(
            again.code, 0,
            "{step}: the next build works: {}",
            again.stderr
        );
        assert_eq!(read_tree(&fleet.path().join("out")), new);
        assert_eq!(
            beside_out(fleet.path()),
            [".out.lock"],
            "{step}: stale staging folders are cleaned"
        );
    }
}

#[test]
fn out_as_a_file_fails_before_the_swap_and_does_not_wedge() {
    let fleet = copy_tree(&repo().join("tests/fixtures/tutorial"));
    let out = fleet.path().join("out");
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::write(&out, "not a folder\n").unwrap();
    let output = run_in(fleet.path(), &["build"]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "not a folder\n");
    insta::assert_snapshot!(output.stderr.lines().last().unwrap());
    std::fs::remove_file(&out).unwrap();
    let output = run_in(fleet.path(), &["build"]);
    assert_eq!(output.code, 0, "the next build works: {}", output.stderr);
    assert_eq!(run_in(fleet.path(), &["build", "--check"]).code, 0);
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        == b"0\n"
}

/// Makes `dir` read-only: mode 0555, and immutable when running as root
/// (whom permission bits do not stop).
fn make_read_only(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    if running_as_root() {
        let status = std::process::Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .status()
            .unwrap();
        assert!(status.success(), "chattr +i");
    }
}

/// Undoes [`make_read_only`] wherever a build may have moved the folder.
fn make_writable(root: &std::path::Path) {
    if running_as_root() {
        let _ = std::process::Command::new("chattr")
            .args(["-R", "-i"])
            .arg(root)
            .status();
    }
    let _ = std::process::Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(root)
        .status();
}

#[test]
fn a_read_only_out_fails_before_the_swap_and_does_not_wedge() {
    let (fleet, old, new) = fleet_with_a_change();
    let district = fleet.path().join("out/tutorial");
    make_read_only(&district);
    let output = run_in(fleet.path(), &["build"]);
    make_writable(fleet.path());
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert_eq!(
        read_tree(&fleet.path().join("out")),
        old,
        "out/ is left as it was"
    );
    insta::assert_snapshot!(output.stderr.lines().last().unwrap());
    let output = run_in(fleet.path(), &["build"]);
    assert_eq!(output.code, 0, "the next build works: {}", output.stderr);
    assert_eq!(read_tree(&fleet.path().join("out")), new);
}

#[test]
fn a_second_build_says_who_holds_the_lock() {
    let fleet = copy_tree(&repo().join("tests/fixtures/tutorial"));
    let lock = std::fs::File::create(fleet.path().join(".out.lock")).unwrap();
    lock.try_lock().unwrap();
    std::fs::write(fleet.path().join(".out.lock"), "pid 4242\n").unwrap();
    let output = run_in(fleet.path(), &["build", "--lock-timeout", "0"]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    insta::assert_snapshot!(
        output
            .stderr
            .lines()
            .skip_while(|l| !l.starts_with("error"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    drop(lock);
    assert_eq!(
        run_in(fleet.path(), &["build", "--lock-timeout", "0"]).code,
        0
    );
}

#[test]
fn two_builds_at_once_never_leave_a_broken_out() {
    let fleet = copy_tree(&repo().join("tests/fixtures/tutorial"));
    let berth = env!("CARGO_BIN_EXE_berth");
    for round in 0..12 {
        let children: Vec<_> = (0..2)
            .map(|_| {
                std::process::Command::new(berth)
                    .args(["build"])
                    .current_dir(fleet.path())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let check = run_in(fleet.path(), &["build", "--check"]);
        assert_eq!(check.code, 0, "round {round}: {}", check.stderr);
    }
}

/// An unchanged artifact is kept (hard-linked into the new tree, not
/// written again); a changed one is written; and the tree is byte for byte
/// what a build into an empty folder writes.
#[cfg(unix)]
#[test]
fn a_rebuild_keeps_unchanged_files_and_equals_a_clean_build() {
    use std::os::unix::fs::MetadataExt;
    let fleet = copy_tree(&repo().join("tests/fixtures/tutorial"));
    let out = fleet.path().join("out");
    let inode = |path: &str| std::fs::metadata(out.join(path)).unwrap().ino();
    let (kept, changed) = (
        "tutorial/district.cfn.json",
        "tutorial/bcn-users/app.params.json",
    );
    let before = (inode(kept), inode(changed));
    let instance = fleet.path().join("instances/tutorial/bcn-users.yml");
    let text = std::fs::read_to_string(&instance).unwrap();
    assert!(text.contains("    image_name: "), "{text}");
    std::fs::write(
        &instance,
        text.replacen("    image_name: ", "    image_tag: v2\n    image_name: ", 1),
    )
    .unwrap();
    let build = run_in(fleet.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    assert_eq!(inode(kept), before.0, "an unchanged file is kept");
    assert_ne!(inode(changed), before.1, "a changed file is written anew");
    let clean = tempfile::tempdir().unwrap();
    let elsewhere = clean.path().join("out");
    let fresh = run_in(
        fleet.path(),
        &["build", "--out", elsewhere.to_str().unwrap()],
    );
    assert_eq!(fresh.code, 0, "{}", fresh.stderr);
    assert_eq!(read_tree(&out), read_tree(&elsewhere));
}

/// A build that reuses the previous `out/` (the default) writes exactly what
/// a build from nothing writes, after a change to one instance, to a
/// template override, and after removing an instance.
#[test]
fn a_build_reusing_out_is_byte_identical_to_a_fresh_one() {
    let fleet = Fleet::new()
        .file(
            "instances/mstdn/a.yml",
            &crate::fleet::instance("alpha", "alpha.example"),
        )
        .file(
            "instances/mstdn/b.yml",
            &crate::fleet::instance("beta", "beta.example"),
        )
        .file(
            "instances/mstdn/c.yml",
            &crate::fleet::instance("gamma", "gamma.example"),
        );
    let elsewhere = tempfile::tempdir().unwrap();
    let mut builds = 0;
    let mut compare = |fleet: &std::path::Path| {
        let built = run_in(fleet, &["build", "--format", "json"]);
        assert_eq!(built.code, 0, "{}", built.stderr);
        let report: serde_json::Value = serde_json::from_str(&built.stdout).unwrap();
        builds += 1;
        let fresh = elsewhere.path().join(format!("fresh{builds}"));
        let clean = run_in(
            fleet,
            &["build", "--fresh", "--out", fresh.to_str().unwrap()],
        );
        assert_eq!(clean.code, 0, "{}", clean.stderr);
        assert_eq!(read_tree(&fleet.join("out")), read_tree(&fresh));
        report["reused"].as_u64().unwrap()
    };
    assert_eq!(compare(fleet.path()), 0, "nothing to reuse yet");
    let total = compare(fleet.path());
    assert!(
        total > 10,
        "an unchanged fleet reuses every artifact: {total}"
    );
    let path = fleet.path().join("instances/mstdn/b.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("image_tag: v1", "image_tag: v2")).unwrap();
    let reused = compare(fleet.path());
    assert!(
        total / 2 < reused && reused < total,
        "the changed heritage and the district are rendered again, the others reused: {reused} of {total}"
    );
    std::fs::create_dir_all(fleet.path().join("templates")).unwrap();
    std::fs::write(
        fleet.path().join("templates/app.params.json"),
        "{\"Parameters\": {\"Image\": {{ heritage.image | json_encode | safe }}}}",
    )
    .unwrap();
    // Templates include one another, so a changed template renders everything again.
    assert_eq!(compare(fleet.path()), 0);
    std::fs::remove_file(fleet.path().join("instances/mstdn/c.yml")).unwrap();
    assert!(compare(fleet.path()) > 0);
}

/// Reuse never hides a hand edit: an edited artifact is rendered again, so
/// `build --check` reports it, even when the manifest's checksum was edited
/// to match, and `build` puts the rendered bytes back.
#[test]
fn a_hand_edit_in_out_is_found_and_undone_despite_reuse() {
    let fleet = copy_tree(&repo().join("tests/fixtures/tutorial"));
    let out = fleet.path().join("out");
    let before = read_tree(&out);
    let artifact = out.join("tutorial/bcn-users/app.cfn.json");
    let text = std::fs::read_to_string(&artifact).unwrap();
    let edited = text.replacen("\"Resources\"", "\"Resources\" ", 1);
    assert_ne!(text, edited);
    std::fs::write(&artifact, &edited).unwrap();
    let check = run_in(fleet.path(), &["build", "--check"]);
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(
        check
            .stderr
            .contains("changed: tutorial/bcn-users/app.cfn.json"),
        "{}",
        check.stderr
    );
    let manifest = out.join("manifest.json");
    let listed = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace(&berth::emit::sha256(&text), &berth::emit::sha256(&edited));
    std::fs::write(&manifest, listed).unwrap();
    let check = run_in(fleet.path(), &["build", "--check"]);
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(
        check
            .stderr
            .contains("changed: tutorial/bcn-users/app.cfn.json"),
        "{}",
        check.stderr
    );
    assert_eq!(run_in(fleet.path(), &["build"]).code, 0);
    assert_eq!(read_tree(&out), before);
}

/// `build --check` records in `.out.stat` what it found `out/` to hold, and
/// the next check believes an unchanged file without reading it; a file
/// edited since, with its size and modification time as before, is read
/// and reported.
#[test]
fn a_check_believes_the_stat_cache_but_still_finds_an_edit() {
    let fleet = copy_tree(&repo().join("tests/fixtures/tutorial"));
    let out = fleet.path().join("out");
    let artifact = out.join("tutorial/bcn-users/app.cfn.json");
    // The file system's clock moves past the copy, so its files can be recorded.
    let copied = std::fs::metadata(&artifact).unwrap().modified().unwrap();
    let ticked = (0..200).any(|i| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        let probe = fleet.path().join(format!("probe-{i}"));
        std::fs::write(&probe, "").unwrap();
        let now = std::fs::metadata(&probe).unwrap().modified().unwrap();
        std::fs::remove_file(&probe).unwrap();
        now > copied
    });
    assert!(ticked, "the file system's clock stands still");
    let check = || {
        let output = run_in(fleet.path(), &["build", "--check", "--format", "json"]);
        let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
        (output.code, report)
    };
    let (code, first) = check();
    assert_eq!((code, first["unread"].as_u64()), (0, Some(0)), "{first}");
    let stat = std::fs::read_to_string(fleet.path().join(".out.stat")).unwrap();
    assert!(stat.starts_with("berth stat 1\n"), "{stat}");
    let (code, second) = check();
    assert_eq!(code, 0, "{second}");
    assert!(second["reused"].as_u64().unwrap() > 10, "{second}");
    assert_eq!(second["unread"], second["reused"], "{second}");
    let verbose = run_in(fleet.path(), &["build", "--check", "-v"]);
    assert!(
        verbose
            .stderr
            .contains("of them known unchanged from .out.stat, not read)"),
        "{}",
        verbose.stderr
    );

    let text = std::fs::read_to_string(&artifact).unwrap();
    let edited = text.replacen("\"Resources\"", "\"Resourcez\"", 1);
    assert!(edited != text && edited.len() == text.len());
    let modified = std::fs::metadata(&artifact).unwrap().modified().unwrap();
    std::fs::write(&artifact, &edited).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&artifact)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let (code, third) = check();
    assert_eq!(code, 2, "{third}");
    assert_eq!(
        third["drift"]["changed"],
        serde_json::json!(["tutorial/bcn-users/app.cfn.json"]),
        "{third}"
    );
    assert_eq!(
        third["unread"].as_u64().unwrap() + 1,
        second["unread"].as_u64().unwrap(),
        "only the edited file is read: {third}"
    );
}
