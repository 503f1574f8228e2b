//! The Terraform configurations: one per district and heritage, listed in the
//! manifest, with text from instance files kept literal, heritage variables
//! wired to district outputs, the district's root module calling every
//! heritage, stateful resources protected, and the district's `targets`
//! choosing which formats are written.

use crate::support::{Fleet, repo};

fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_district_and_heritage_has_a_terraform_configuration() {
    let manifest = read_json(&repo().join("out/manifest.json"));
    let mut configurations: Vec<&str> = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "terraform-configuration")
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    configurations.sort_unstable();
    assert_eq!(
        configurations,
        [
            "mstdn/bcn-users/data.tf.json",
            "mstdn/bcn-users/main.tf.json",
            "mstdn/cat-lovers/data.tf.json",
            "mstdn/cat-lovers/main.tf.json",
            "mstdn/district.tf.json",
            "mstdn/heritages.tf.json"
        ]
    );
}

#[test]
fn instance_text_stays_literal_in_terraform() {
    let fleet = Fleet::new().file(
        "instances/mstdn/app.yml",
        "\
environments:
  production:
    name: app
    image_name: example/app
    image_tag: v1
    environment:
      GREETING: hello ${USER} 100%{x}
    services:
      - name: worker
        cpu: 128
        memory: 256
        command: [echo, '${HOME}']
",
    );
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let main = read_json(&fleet.path().join("out/mstdn/app/main.tf.json"));
    let container = &main["locals"]["container_worker"];
    assert_eq!(
        container["command"],
        serde_json::json!(["echo", "$${HOME}"])
    );
    assert_eq!(
        container["environment"][0]["value"],
        "hello $${USER} 100%%{x}"
    );
    assert_eq!(container["image"], "${var.image}");
    // CloudFormation takes the same text as written.
    let app = std::fs::read_to_string(fleet.path().join("out/mstdn/app/app.cfn.json")).unwrap();
    assert!(app.contains("\"hello ${USER} 100%{x}\""), "{app}");
}

/// Each heritage variable without a default is a district output of the same
/// name and shape, so `module.<district>.<name>` wires it.
#[test]
fn heritage_variables_are_district_outputs() {
    let outs = crate::support::fleet_outs();
    let mut wired = 0;
    for out in outs {
        for district in std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()) {
            if !district.join("district.tf.json").exists() {
                continue;
            }
            let outputs = read_json(&district.join("district.tf.json"))["output"].clone();
            for heritage in std::fs::read_dir(&district)
                .unwrap()
                .map(|e| e.unwrap().path())
            {
                if !heritage.join("main.tf.json").exists() {
                    continue;
                }
                let main = read_json(&heritage.join("main.tf.json"));
                for (name, variable) in main["variable"].as_object().unwrap() {
                    assert!(
                        variable["description"].is_string() && variable["type"].is_string(),
                        "{}: variable {name} needs a type and a description",
                        heritage.display()
                    );
                    if variable.get("default").is_some() {
                        continue;
                    }
                    let output = &outputs[name];
                    assert!(
                        output.is_object(),
                        "{}: variable {name} has no district output",
                        heritage.display()
                    );
                    let list = output["value"].is_array();
                    assert_eq!(
                        list,
                        variable["type"] == "list(string)",
                        "{}: {name}",
                        heritage.display()
                    );
                    wired += 1;
                }
            }
        }
    }
    assert!(wired >= 30, "wired only {wired} variables");
}

/// The district folder is a root module: `heritages.tf.json` calls every
/// heritage folder beside it, sets each of its variables to the district
/// output of the same name (the same expression, word for word), and passes
/// every output of the heritage on.
#[test]
fn the_root_module_calls_every_heritage_with_the_district_outputs() {
    let mut calls = 0;
    for out in crate::support::fleet_outs() {
        for district in std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()) {
            if !district.join("district.tf.json").exists() {
                continue;
            }
            let mut heritages: Vec<String> = std::fs::read_dir(&district)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.join("main.tf.json").exists())
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            heritages.sort();
            let root_path = district.join("heritages.tf.json");
            if heritages.is_empty() {
                assert!(!root_path.exists(), "{}", root_path.display());
                continue;
            }
            let outputs = read_json(&district.join("district.tf.json"))["output"].clone();
            let root = read_json(&root_path);
            let modules = root["module"].as_object().unwrap();
            let mut sources: Vec<String> = modules
                .values()
                .map(|m| {
                    m["source"]
                        .as_str()
                        .unwrap()
                        .trim_start_matches("./")
                        .to_owned()
                })
                .collect();
            sources.sort();
            assert_eq!(
                sources,
                heritages,
                "{}: a heritage is not called",
                root_path.display()
            );
            for (name, call) in modules {
                let at = format!("{}: module.{name}", root_path.display());
                for (argument, value) in call.as_object().unwrap() {
                    if argument == "source" {
                        continue;
                    }
                    let output = &outputs[argument];
                    assert!(output.is_object(), "{at}: {argument} is no district output");
                    assert_eq!(value, &output["value"], "{at}: {argument}");
                    assert!(
                        output.get("depends_on").is_none(),
                        "{at}: {argument}: a module argument cannot carry the output's depends_on"
                    );
                }
                let heritage = district.join(call["source"].as_str().unwrap());
                let mut declared: Vec<String> = ["main.tf.json", "data.tf.json"]
                    .iter()
                    .flat_map(|f| {
                        read_json(&heritage.join(f))["output"]
                            .as_object()
                            .unwrap()
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                    .collect();
                declared.sort();
                let passed = &root["output"][format!("heritage_{name}")]["value"];
                let mut keys: Vec<String> = passed.as_object().unwrap().keys().cloned().collect();
                keys.sort();
                assert_eq!(keys, declared, "{at}: outputs passed on");
                for (key, value) in passed.as_object().unwrap() {
                    assert_eq!(value, &format!("${{module.{name}.{key}}}"), "{at}");
                }
                calls += 1;
            }
        }
    }
    assert!(calls >= 20, "checked only {calls} module calls");
}

/// A fleet's root module as `berth build` writes it, and `build --check`
/// catching it when it is edited or deleted by hand.
#[test]
fn the_root_module_is_built_and_checked() {
    let fleet = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &format!("{}targets: [terraform]\n", crate::support::DISTRICT),
        )
        .file(
            "instances/mstdn/cat-lovers.yml",
            &crate::fleet::instance("cat-lovers", "cat-lovers.example"),
        )
        .file(
            "instances/mstdn/1st-blog.yml",
            &crate::fleet::instance("1st-blog", "blog.example"),
        );
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let path = fleet.path().join("out/mstdn/heritages.tf.json");
    let text = std::fs::read_to_string(&path).unwrap();
    insta::assert_snapshot!(text);
    let manifest = read_json(&fleet.path().join("out/manifest.json"));
    let entry = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == "mstdn/heritages.tf.json")
        .expect("the manifest lists the root module");
    assert_eq!(entry["kind"], "terraform-configuration");
    assert_eq!(
        entry["sources"],
        serde_json::json!([
            "instances/mstdn/district.yml",
            "instances/mstdn/1st-blog.yml",
            "instances/mstdn/cat-lovers.yml"
        ])
    );
    std::fs::write(&path, text.replace("./1st-blog", "./blog")).unwrap();
    let check = fleet.run(&["build", "--check"]);
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(
        check.stderr.contains("mstdn/heritages.tf.json"),
        "{}",
        check.stderr
    );
    std::fs::remove_file(&path).unwrap();
    let check = fleet.run(&["build", "--check"]);
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(
        check.stderr.contains("mstdn/heritages.tf.json"),
        "{}",
        check.stderr
    );
}

/// The artifact paths a fleet with `targets` in its district file builds.
fn built_with_targets(targets: &str) -> Vec<String> {
    let fleet = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &format!("{}targets: {targets}\n", crate::support::DISTRICT),
        )
        .file("instances/mstdn/app.yml", crate::validate::TUTORIAL);
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let mut paths: Vec<String> = crate::support::read_tree(&fleet.path().join("out"))
        .into_keys()
        .filter(|p| !p.contains("task-definitions/"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn targets_choose_the_artifacts_of_a_district() {
    let both = [
        "manifest.json",
        "mstdn/bcn-users/alb-rules.json",
        "mstdn/bcn-users/app.cfn.json",
        "mstdn/bcn-users/app.params.json",
        "mstdn/bcn-users/data.cfn.json",
        "mstdn/bcn-users/data.tf.json",
        "mstdn/bcn-users/main.tf.json",
        "mstdn/district.cfn.json",
        "mstdn/district.tf.json",
        "mstdn/heritages.tf.json",
    ];
    assert_eq!(built_with_targets("[cloudformation, terraform]"), both);
    assert_eq!(
        built_with_targets("[terraform]"),
        [
            "manifest.json",
            "mstdn/bcn-users/alb-rules.json",
            "mstdn/bcn-users/data.tf.json",
            "mstdn/bcn-users/main.tf.json",
            "mstdn/district.tf.json",
            "mstdn/heritages.tf.json",
        ]
    );
    assert_eq!(
        built_with_targets("[cloudformation]"),
        [
            "manifest.json",
            "mstdn/bcn-users/alb-rules.json",
            "mstdn/bcn-users/app.cfn.json",
            "mstdn/bcn-users/app.params.json",
            "mstdn/bcn-users/data.cfn.json",
            "mstdn/district.cfn.json",
        ]
    );
}

#[test]
fn targets_must_be_known_and_not_empty() {
    let output = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &format!(
                "{}targets: [terraform, terraforn]\n",
                crate::support::DISTRICT
            ),
        )
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
    let output = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &format!("{}targets: []\n", crate::support::DISTRICT),
        )
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

/// Where the golden fleets lift `prevent_destroy` on purpose: the
/// instance file sets `prevent_destroy: false` on these resources.
const LIFTED: &[(&str, &str)] = &[
    (
        "tests/fixtures/diff/allow-destroy/after/out/mstdn/bcn-users/data.tf.json",
        "aws_db_instance.this",
    ),
    (
        "tests/fixtures/diff/allow-destroy/after/out/mstdn/bcn-users/data.tf.json",
        "aws_s3_bucket.media",
    ),
];

/// Databases, caches, buckets and repositories survive a careless plan
/// unless their instance file says otherwise, and no database password is
/// ever written.
#[test]
fn stateful_resources_cannot_be_destroyed_and_hold_no_password() {
    const STATEFUL: &[&str] = &[
        "aws_db_instance",
        "aws_elasticache_replication_group",
        "aws_s3_bucket",
        "aws_ecr_repository",
        "aws_secretsmanager_secret",
        "aws_secretsmanager_secret_version",
    ];
    let roots = crate::support::fleet_outs();
    let mut stateful = 0;
    let mut lifted = Vec::new();
    for root in roots {
        for entry in walkdir::WalkDir::new(root) {
            let path = entry.unwrap().into_path();
            if !path.to_string_lossy().ends_with(".tf.json") {
                continue;
            }
            let relative = path
                .strip_prefix(repo())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let json = read_json(&path);
            for (kind, blocks) in json["resource"].as_object().into_iter().flatten() {
                for (name, body) in blocks.as_object().unwrap() {
                    let at = format!("{}: {kind}.{name}", path.display());
                    if STATEFUL.contains(&kind.as_str()) {
                        let keep = &body["lifecycle"]["prevent_destroy"];
                        assert!(keep.is_boolean(), "{at}: prevent_destroy is {keep}");
                        if keep == false {
                            lifted.push((relative.clone(), format!("{kind}.{name}")));
                        }
                        stateful += 1;
                    }
                    if kind == "aws_db_instance" {
                        assert_eq!(body["manage_master_user_password"], true, "{at}");
                        assert_eq!(body["skip_final_snapshot"], false, "{at}");
                        for key in ["password", "password_wo"] {
                            assert!(body.get(key).is_none(), "{at}: {key}");
                        }
                    }
                }
            }
        }
    }
    assert!(stateful >= 10, "found only {stateful} stateful resources");
    lifted.sort();
    let expected: Vec<(String, String)> = LIFTED
        .iter()
        .map(|(p, a)| ((*p).to_owned(), (*a).to_owned()))
        .collect();
    assert_eq!(
        lifted, expected,
        "prevent_destroy is false only where a file says so"
    );
}

/// An instance with one stateful resource of each kind.
const STATEFUL_INSTANCE: &str = "\
resources:
  database: {engine: postgres, instance_class: db.t4g.micro, name: app, user: app}
  cache: {node_type: cache.t4g.micro}
  buckets:
    media: {}
  repositories:
    app: {}
  secrets:
    SECRET_KEY_BASE: {}
environments:
  production:
    name: app
    image_name: example/app
    image_tag: v1
    services:
      - name: worker
        cpu: 128
        memory: 256
        command: [echo, hi]
";

/// `prevent_destroy: false` on one resource writes `lifecycle.prevent_destroy
/// = false` on that resource's Terraform blocks and nowhere else; the
/// CloudFormation data stack does not change.
#[test]
fn prevent_destroy_false_lifts_only_that_resource() {
    let build = |text: &str| {
        let fleet = Fleet::new().file("instances/mstdn/app.yml", text);
        let output = fleet.run(&["build"]);
        assert_eq!(output.code, 0, "{}", output.stderr);
        let data = read_json(&fleet.path().join("out/mstdn/app/data.tf.json"));
        let cfn =
            std::fs::read_to_string(fleet.path().join("out/mstdn/app/data.cfn.json")).unwrap();
        let mut lifted = Vec::new();
        let mut kept = 0;
        for (kind, blocks) in data["resource"].as_object().unwrap() {
            for (name, body) in blocks.as_object().unwrap() {
                match body["lifecycle"].get("prevent_destroy") {
                    Some(serde_json::Value::Bool(false)) => lifted.push(format!("{kind}.{name}")),
                    Some(serde_json::Value::Bool(true)) => kept += 1,
                    _ => {}
                }
            }
        }
        (lifted, kept, cfn)
    };
    let (none, all, cfn) = build(STATEFUL_INSTANCE);
    assert_eq!((none.len(), all), (0, 6));
    for (key, line, expected) in [
        (
            "database",
            "  database: {engine: postgres, instance_class: db.t4g.micro, name: app, user: app}",
            &["aws_db_instance.this"][..],
        ),
        (
            "cache",
            "  cache: {node_type: cache.t4g.micro}",
            &["aws_elasticache_replication_group.this"],
        ),
        ("buckets", "    media: {}", &["aws_s3_bucket.media"]),
        ("repositories", "    app: {}", &["aws_ecr_repository.app"]),
        (
            "secrets",
            "    SECRET_KEY_BASE: {}",
            &[
                "aws_secretsmanager_secret.secret_key_base",
                "aws_secretsmanager_secret_version.secret_key_base",
            ],
        ),
    ] {
        let lifted_line = if line.ends_with("{}") {
            line.replace("{}", "{prevent_destroy: false}")
        } else {
            line.replace('}', ", prevent_destroy: false}")
        };
        let text = STATEFUL_INSTANCE.replace(line, &lifted_line);
        assert_ne!(text, STATEFUL_INSTANCE, "{key}");
        let (lifted, kept, lifted_cfn) = build(&text);
        assert_eq!(lifted, expected, "{key}");
        assert_eq!(kept, 6 - expected.len(), "{key}");
        assert_eq!(
            lifted_cfn, cfn,
            "{key}: CloudFormation keeps its DeletionPolicy"
        );
    }
}

/// `prevent_destroy` in a district that writes no Terraform does nothing,
/// and says so.
#[test]
fn prevent_destroy_without_terraform_is_a_warning() {
    let output = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &format!("{}targets: [cloudformation]\n", crate::support::DISTRICT),
        )
        .file(
            "instances/mstdn/app.yml",
            &STATEFUL_INSTANCE.replace("    media: {}", "    media: {prevent_destroy: false}"),
        )
        .run(&["validate"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    insta::assert_snapshot!(output.transcript());
}
