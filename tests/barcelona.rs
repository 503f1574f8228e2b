//! Barcelona compatibility: the `barcelona.yml` files of Barcelona's own
//! authors and users in `tests/fixtures/barcelona/` compile unchanged, and
//! their artifacts mean what Barcelona made of them (the meanings are
//! Barcelona's `app/models` and bcn's `api/types.go`, cited in the README's
//! key table).

use serde_json::Value;

use crate::support::{repo, run_in};

fn fleet() -> std::path::PathBuf {
    repo().join("tests/fixtures/barcelona")
}

fn artifact(path: &str) -> Value {
    let path = fleet().join("out").join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The first container of a standalone task definition.
fn container(path: &str) -> Value {
    artifact(path)["containerDefinitions"][0].clone()
}

fn variable(container: &Value, key: &str, name: &str) -> Option<String> {
    container[key].as_array()?.iter().find_map(|v| {
        (v["name"] == name).then(|| {
            v["value"]
                .as_str()
                .or(v["valueFrom"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
    })
}

#[test]
fn every_file_validates_with_notes_and_warnings_only() {
    let root = fleet();
    let output = run_in(&repo(), &["--root", root.to_str().unwrap(), "validate"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    insta::assert_snapshot!(output.stderr);
}

#[test]
fn explain_shows_barcelonas_meaning() {
    let root = fleet();
    let mut heritages = Vec::new();
    for district in std::fs::read_dir(root.join("out")).unwrap() {
        let district = district.unwrap().path();
        if district.is_dir() {
            for heritage in std::fs::read_dir(&district).unwrap() {
                let heritage = heritage.unwrap().path();
                if heritage.is_dir() {
                    heritages.push(heritage.file_name().unwrap().to_string_lossy().into_owned());
                }
            }
        }
    }
    heritages.sort();
    assert_eq!(heritages.len(), 13, "{heritages:?}");
    for heritage in &heritages {
        let output = run_in(
            &repo(),
            &[
                "--root",
                root.to_str().unwrap(),
                "explain",
                heritage.as_str(),
            ],
        );
        assert_eq!(output.code, 0, "{heritage}: {}", output.stderr);
        insta::assert_snapshot!(format!("explain-{heritage}"), output.stdout);
    }
}

#[test]
fn web_containers_get_port_as_barcelona_sets_it() {
    let web = container("bcn/rails-app/task-definitions/web.json");
    assert_eq!(
        variable(&web, "environment", "PORT").as_deref(),
        Some("3000")
    );
    assert_eq!(web["command"][0], "sh", "`$PORT` needs a shell: {web}");
    let streaming = container("bcn/mstdn-bcn/task-definitions/streaming.json");
    assert_eq!(
        variable(&streaming, "environment", "PORT").as_deref(),
        Some("4000")
    );
    let worker = container("bcn/mstdn-bcn/task-definitions/sidekiq.json");
    assert_eq!(variable(&worker, "environment", "PORT"), None);
}

#[test]
fn no_cpu_reserves_none_and_memory_defaults_to_512() {
    let web = container("bcn/mstdn-bcn/task-definitions/web.json");
    assert!(web.get("cpu").is_none(), "{web}");
    assert_eq!(web["memory"], 1024);
    let worker = container("bcn/mstdn-bcn/task-definitions/sidekiq.json");
    assert_eq!(worker["memory"], 512);
    let stack = artifact("bcn/mstdn-bcn/app.cfn.json");
    let definition = &stack["Resources"]["SidekiqTaskDefinition"]["Properties"];
    assert!(
        definition["ContainerDefinitions"][0].get("Cpu").is_none(),
        "{definition}"
    );
}

#[test]
fn one_off_and_scheduled_tasks_get_barcelonas_sizes() {
    let migrate = container("bcn/mstdn-bcn/task-definitions/before-deploy.json");
    assert_eq!(
        (migrate["cpu"].clone(), migrate["memory"].clone()),
        (128.into(), 512.into())
    );
    let schedule =
        container("bcn/mstdn-bcn/task-definitions/schedule-bin-tootctl-media-remove-days-7.json");
    assert_eq!(
        (schedule["cpu"].clone(), schedule["memory"].clone()),
        (512.into(), 1512.into())
    );
}

#[test]
fn an_external_task_definition_is_not_scheduled() {
    let stack = artifact("bcn/mstdn-bcn/app.cfn.json");
    let rules: Vec<&String> = stack["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Events::Rule")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(rules, ["ScheduleBinTootctlMediaRemoveDays7Rule"]);
}

#[test]
fn force_ssl_false_serves_http_and_true_redirects() {
    let stack = artifact("bcn/mstdn-bcn/app.cfn.json");
    let resources = stack["Resources"].as_object().unwrap();
    let http = &resources["WebMstdnHttpRule"]["Properties"];
    assert_eq!(
        http["ListenerArn"]["Fn::ImportValue"], "bcn-mstdn-HttpListener",
        "{http}"
    );
    assert_eq!(
        http["Priority"],
        resources["WebMstdnRule"]["Properties"]["Priority"]
    );
    assert!(!resources.contains_key("StreamingMstdnHttpRule"));
    let terraform = artifact("bcn/mstdn-bcn/main.tf.json");
    let rule = &terraform["resource"]["aws_lb_listener_rule"]["web_mstdn_http"];
    assert_eq!(rule["listener_arn"], "${var.http_listener_arn_mstdn}");
    assert!(terraform["variable"]["http_listener_arn_mstdn"].is_object());
}

#[test]
fn bcn_threshold_names_and_the_star_path_mean_what_they_meant() {
    let stack = artifact("bcn/mstdn-bcn/app.cfn.json");
    let group = &stack["Resources"]["WebMstdnTargetGroup"]["Properties"];
    assert_eq!(
        (
            group["HealthyThresholdCount"].clone(),
            group["UnhealthyThresholdCount"].clone()
        ),
        (2.into(), 5.into())
    );
    let rules = artifact("bcn/rails-app/alb-rules.json");
    assert_eq!(
        rules[0]["Conditions"][0]["PathPatternConfig"]["Values"],
        serde_json::json!(["/*"])
    );
}

#[test]
fn ssm_paths_are_under_the_district_prefix_once() {
    let stack = artifact("bcn/hello/data.cfn.json");
    let policy = serde_json::to_string(&stack).unwrap();
    assert!(
        policy.contains("parameter/barcelona/bcn/hello/testvar1"),
        "{policy}"
    );
    assert!(policy.contains("parameter/barcelona/bcn/hello/testvar3"));
    assert!(!policy.contains("barcelona/bcn/barcelona/bcn"));
}
