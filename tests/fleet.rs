//! The fleet as a whole: shared load balancers, stable priorities, AWS name
//! limits, Fargate sizes, data stacks that keep data private and no secret
//! value in any artifact.

use std::collections::BTreeMap;

use crate::support::{Fleet, read_tree, repo};

/// An instance with a web and a streaming service on endpoint `mstdn` of host `host`.
pub fn instance(name: &str, host: &str) -> String {
    format!(
        "environments:
  production:
    name: {name}
    image_name: registry.example/{name}
    image_tag: v1
    services:
      - name: web
        service_type: web
        cpu: 256
        memory: 512
        listeners:
          - {{endpoint: mstdn, hosts: [{host}]}}
      - name: streaming
        service_type: web
        cpu: 256
        memory: 512
        listeners:
          - endpoint: mstdn
            hosts: [{host}]
            rule_conditions: [{{type: path-pattern, value: /api/v1/streaming/*}}]
"
    )
}

/// Priorities of every rule, by heritage/service, as `explain` shows them.
fn priorities(fleet: &Fleet, heritages: &[&str]) -> BTreeMap<String, u64> {
    let mut found = BTreeMap::new();
    for heritage in heritages {
        let output = fleet.run(&["explain", heritage, "--format", "json"]);
        assert_eq!(output.code, 0, "{}", output.stderr);
        let value: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
        for service in value["services"].as_array().unwrap() {
            for listener in service["listeners"].as_array().unwrap() {
                let key = format!("{heritage}/{}", service["name"].as_str().unwrap());
                found.insert(key, listener["priority"].as_u64().unwrap());
            }
        }
    }
    found
}

#[test]
fn assigned_priorities_do_not_move_when_instances_come_and_go() {
    let fleet = Fleet::new()
        .file(
            "instances/mstdn/alpha.yml",
            &instance("alpha", "alpha.example"),
        )
        .file(
            "instances/mstdn/beta.yml",
            &instance("beta", "beta.example"),
        );
    let before = priorities(&fleet, &["alpha"]);
    let fleet = fleet.file(
        "instances/mstdn/gamma.yml",
        &instance("gamma", "gamma.example"),
    );
    assert_eq!(
        priorities(&fleet, &["alpha"]),
        before,
        "adding an instance moved alpha's rules"
    );
    std::fs::remove_file(fleet.path().join("instances/mstdn/beta.yml")).unwrap();
    assert_eq!(
        priorities(&fleet, &["alpha"]),
        before,
        "removing an instance moved alpha's rules"
    );
    // The path rule is evaluated before the host-only rule of the same host.
    assert!(
        before["alpha/streaming"] < before["alpha/web"],
        "{before:?}"
    );
}

macro_rules! golden {
    ($($name:ident: $fleet:expr;)*) => {$(
        #[test]
        fn $name() {
            let fleet: Fleet = $fleet;
            insta::assert_snapshot!(fleet.run(&["validate"]).transcript());
        }
    )*};
}

golden! {
    identical_conditions_across_instances: Fleet::new()
        .file("instances/mstdn/alpha.yml", &instance("alpha", "same.example"))
        .file("instances/mstdn/beta.yml", &instance("beta", "same.example"));
    shared_endpoint_without_host: Fleet::new()
        .file("instances/mstdn/alpha.yml", &instance("alpha", "alpha.example"))
        .file("instances/mstdn/beta.yml", &instance("beta", "beta.example").replace("hosts: [beta.example]}", "health_check_path: /}"));
    explicit_priority_in_the_wrong_order: Fleet::new()
        .file("instances/mstdn/alpha.yml", &instance("alpha", "alpha.example")
            .replace("hosts: [alpha.example]}", "hosts: [alpha.example], rule_priority: 5}")
            .replace("rule_conditions:", "rule_priority: 6\n            rule_conditions:"));
    invalid_fargate_pair: Fleet::new()
        .file("instances/mstdn/alpha.yml", &instance("alpha", "alpha.example")
            .replacen("memory: 512", "memory: 4096\n        launch_type: FARGATE", 1));
    autoscaling_range: Fleet::new()
        .file("instances/mstdn/alpha.yml", &instance("alpha", "alpha.example")
            .replacen("memory: 512", "memory: 512\n        desired_count: 2\n        autoscaling: {min: 4, max: 2}", 1));
    load_balancer_name_too_long: Fleet::new()
        .file("instances/mstdn/district.yml", &crate::support::DISTRICT.replace("  mstdn:", "  mastodon-social-network-public:"));
}

#[test]
fn long_names_are_shortened_with_a_hash() {
    let district = "a-rather-long-district";
    let text = instance("an-instance-with-a-long-name", "long.example").replace(
        "environments:",
        "resources:\n  database: {engine: postgres, instance_class: db.t4g.micro, name: app, user: app}\n  cache: {node_type: cache.t4g.micro}\nenvironments:",
    );
    let fleet = Fleet::new()
        .file(
            &format!("instances/{district}/district.yml"),
            &crate::support::DISTRICT.replace("  mstdn:", "  ab:"),
        )
        .file(
            &format!("instances/{district}/long.yml"),
            &text.replace("endpoint: mstdn", "endpoint: ab"),
        );
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let data = std::fs::read_to_string(fleet.path().join(format!(
        "out/{district}/an-instance-with-a-long-name/data.cfn.json"
    )))
    .unwrap();
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    let cache = data["Resources"]["Cache"]["Properties"]["ReplicationGroupId"]
        .as_str()
        .unwrap();
    let database = data["Resources"]["Database"]["Properties"]["DBInstanceIdentifier"]
        .as_str()
        .unwrap();
    assert_eq!(
        cache, "a-rather-long-district-an-insta-14e901c9",
        "≤ 40 characters, a hash of the whole name at the end"
    );
    assert_eq!(
        database,
        "a-rather-long-district-an-instance-with-a-long-name"
    );
}

#[test]
fn buckets_stay_private_unless_a_prefix_is_public() {
    let text = instance("alpha", "alpha.example").replace(
        "environments:",
        "resources:\n  buckets:\n    private: {}\n    media: {public_read: [media/]}\nenvironments:",
    );
    let fleet = Fleet::new().file("instances/mstdn/alpha.yml", &text);
    assert_eq!(fleet.run(&["build"]).code, 0);
    let data = std::fs::read_to_string(fleet.path().join("out/mstdn/alpha/data.cfn.json")).unwrap();
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    let resources = &data["Resources"];
    let block = |id: &str| resources[id]["Properties"]["PublicAccessBlockConfiguration"].clone();
    assert_eq!(
        block("BucketPrivate"),
        serde_json::json!({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true})
    );
    assert!(
        resources.get("BucketPrivatePolicy").is_none(),
        "a private bucket has no public policy"
    );
    assert_eq!(block("BucketMedia")["BlockPublicPolicy"], false);
    assert_eq!(block("BucketMedia")["BlockPublicAcls"], true);
    let statement = &resources["BucketMediaPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Action"], "s3:GetObject");
    assert_eq!(
        statement["Resource"],
        serde_json::json!([{"Fn::Sub": "${BucketMedia.Arn}/media/*"}])
    );
    for id in ["BucketPrivate", "BucketMedia"] {
        assert_eq!(resources[id]["DeletionPolicy"], "Retain");
    }
}

/// Every literal string that is a password property's value, or the value of
/// an environment variable whose name looks secret.
fn secret_values(value: &serde_json::Value, key: &str, env: bool, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            let name = map
                .get("Name")
                .or_else(|| map.get("name"))
                .and_then(|n| n.as_str());
            for (k, v) in map {
                match name {
                    Some(name) if k.eq_ignore_ascii_case("value") => {
                        secret_values(v, name, true, found);
                    }
                    _ => secret_values(v, k, false, found),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                secret_values(v, key, env, found);
            }
        }
        serde_json::Value::String(s) => {
            let upper = key.to_ascii_uppercase();
            let secret = if env {
                ["PASSWORD", "SECRET", "TOKEN"]
                    .iter()
                    .any(|w| upper.contains(w))
                    || upper.ends_with("_KEY")
            } else {
                upper.contains("PASSWORD")
            };
            if secret {
                found.push(format!("{key}: {s}"));
            }
        }
        _ => {}
    }
}

#[test]
fn no_password_or_secret_value_in_any_artifact() {
    let mut trees = vec![repo().join("out")];
    for fixture in ["tutorial", "web-rules", "workers"] {
        trees.push(repo().join("tests/fixtures").join(fixture).join("out"));
    }
    let mut checked = 0;
    for tree in trees {
        for (path, bytes) in read_tree(&tree) {
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let mut found = Vec::new();
            secret_values(&value, "", false, &mut found);
            assert!(found.is_empty(), "{}/{path}: {found:?}", tree.display());
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} artifacts scanned");
    // The scanner itself finds a literal password.
    let mut found = Vec::new();
    secret_values(
        &serde_json::json!({"Environment": [{"Name": "DB_PASSWORD", "Value": "hunter2"}], "MasterUserPassword": "x"}),
        "",
        false,
        &mut found,
    );
    assert_eq!(found, ["DB_PASSWORD: hunter2", "MasterUserPassword: x"]);
}

#[test]
fn a_service_environment_wins_over_the_heritage_and_its_secrets_are_readable() {
    let text = instance("alpha", "alpha.example")
        .replace(
            "    services:\n",
            "    environment:\n      DB_POOL: 5\n      MODE: {ssm_path: alpha/mode}\n    services:\n",
        )
        .replacen(
            "        memory: 512\n",
            "        memory: 512\n        environment:\n          - {name: DB_POOL, value: 25}\n          - {name: MODE, value: worker}\n          - {name: API_TOKEN, value_from: \"arn:aws:secretsmanager:ap-northeast-1:111111111111:secret:alpha-api\"}\n",
            1,
        );
    let fleet = Fleet::new().file("instances/mstdn/alpha.yml", &text);
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let read = |path: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(fleet.path().join(path)).unwrap()).unwrap()
    };
    let container = |service: &str| {
        read(&format!("out/mstdn/alpha/task-definitions/{service}.json"))["containerDefinitions"][0]
            .clone()
    };
    let pairs = |list: &serde_json::Value, value: &str| -> BTreeMap<String, String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["name"].as_str().unwrap().to_owned(),
                    v[value].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let web = container("web");
    assert_eq!(pairs(&web["environment"], "value")["DB_POOL"], "25");
    assert_eq!(pairs(&web["environment"], "value")["MODE"], "worker");
    assert!(!pairs(&web["secrets"], "valueFrom").contains_key("MODE"));
    assert!(pairs(&web["secrets"], "valueFrom").contains_key("API_TOKEN"));
    let streaming = container("streaming");
    assert_eq!(pairs(&streaming["environment"], "value")["DB_POOL"], "5");
    assert_eq!(
        pairs(&streaming["secrets"], "valueFrom")["MODE"],
        "/barcelona/mstdn/alpha/mode"
    );
    assert!(!pairs(&streaming["secrets"], "valueFrom").contains_key("API_TOKEN"));
    let data = read("out/mstdn/alpha/data.cfn.json");
    let statements = data["Resources"]["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .to_string();
    assert!(statements.contains("secret:alpha-api"), "{statements}");
    assert!(
        statements.contains("parameter/barcelona/mstdn/alpha/mode"),
        "{statements}"
    );
}

/// Every variable name of every container in one heritage folder, in all
/// three formats: the standalone task definitions, the app stack and the
/// Terraform configuration.
fn container_variable_names(dir: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let read = |p: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let names = |c: &serde_json::Value, env: &str, secrets: &str, key: &str| -> Vec<String> {
        [env, secrets]
            .iter()
            .flat_map(|k| c[*k].as_array().cloned().unwrap_or_default())
            .map(|v| v[key].as_str().unwrap().to_owned())
            .collect()
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir.join("task-definitions")).unwrap() {
        let path = entry.unwrap().path();
        let c = &read(path.clone())["containerDefinitions"][0];
        found.push((
            path.display().to_string(),
            names(c, "environment", "secrets", "name"),
        ));
    }
    for (id, r) in read(dir.join("app.cfn.json"))["Resources"]
        .as_object()
        .unwrap()
    {
        if r["Type"] == "AWS::ECS::TaskDefinition" {
            let c = &r["Properties"]["ContainerDefinitions"][0];
            found.push((id.clone(), names(c, "Environment", "Secrets", "Name")));
        }
    }
    for (name, local) in read(dir.join("main.tf.json"))["locals"]
        .as_object()
        .unwrap()
    {
        if name.starts_with("container_") {
            found.push((name.clone(), names(local, "environment", "secrets", "name")));
        }
    }
    found
}

/// `resources.env` renames injected variables and leaves some out, in every
/// format (tests/fixtures/lokka: MySQL under Rails' `DATABASE_*` names).
#[test]
fn renamed_injected_variables_reach_every_container() {
    let dir = repo().join("tests/fixtures/lokka/out/blog/lokka");
    let containers = container_variable_names(&dir);
    assert_eq!(containers.len(), 9, "{containers:?}");
    for (at, names) in containers {
        for want in [
            "DATABASE_HOST",
            "DATABASE_PORT",
            "DATABASE_NAME",
            "DATABASE_USERNAME",
            "DATABASE_PASSWORD",
            "AWS_S3_BUCKET",
            "AWS_REGION",
            "SECRET_KEY_BASE",
        ] {
            assert!(
                names.iter().any(|n| n == want),
                "{at}: no {want} in {names:?}"
            );
        }
        let unwanted: Vec<&String> = names
            .iter()
            .filter(|n| n.starts_with("DB_") || n.starts_with("S3_") || *n == "DATABASE_URL")
            .collect();
        assert!(
            unwanted.is_empty(),
            "{at}: not renamed or left out: {unwanted:?}"
        );
    }
}
