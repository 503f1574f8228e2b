//! AWS's limits, checked before anything is deployed: what one load
//! balancer, one rule and one CloudFormation template may hold
//! (`src/limits.rs` holds the numbers and their sources).

use crate::support::{DISTRICT, Fleet};

/// A fleet of `n` heritages, each with a web service on endpoint `mstdn`.
fn fleet(n: usize, force_ssl: bool, district: &str) -> Fleet {
    // Hosts large enough for every task: the limits, not the capacity, are under test.
    let district = district.replace("t3.small", "r6i.4xlarge");
    let mut fleet = Fleet::new().file("instances/mstdn/district.yml", &district);
    for i in 1..=n {
        fleet = fleet.file(
            &format!("instances/mstdn/app{i}.yml"),
            &format!(
                "environments:
  production:
    name: app{i}
    image_name: registry.example/app
    image_tag: v1
    services:
      - name: web
        service_type: web
        force_ssl: {force_ssl}
        listeners:
          - endpoint: mstdn
            hosts: [app{i}.example.social]
            rule_priority: {i}
"
            ),
        );
    }
    fleet
}

#[test]
fn a_load_balancer_holds_100_target_groups() {
    let output = fleet(100, true, DISTRICT).run(&["validate"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let output = fleet(101, true, DISTRICT).run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn http_rules_count_against_the_load_balancer() {
    let output = fleet(50, false, DISTRICT).run(&["validate"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let output = fleet(51, false, DISTRICT).run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn a_district_may_raise_the_rules_quota() {
    let raised = format!("{DISTRICT}quotas:\n  rules_per_load_balancer: 200\n");
    let output = fleet(51, false, &raised).run(&["validate"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
}

#[test]
fn a_rule_holds_five_condition_values_and_five_wildcards() {
    let fleet = Fleet::new().file(
        "instances/mstdn/app.yml",
        "environments:
  production:
    name: app
    image_name: registry.example/app
    image_tag: v1
    services:
      - name: web
        service_type: web
        listeners:
          - endpoint: mstdn
            hosts: [a.example, b.example, c.example, d.example, e.example, f.example]
          - endpoint: mstdn
            rule_priority: 7
            rule_conditions:
              - {type: path-pattern, value: /a*/b*}
              - {type: path-pattern, value: /c*/d*}
              - {type: path-pattern, value: /e*/f?}
",
    );
    insta::assert_snapshot!(fleet.run(&["validate"]).transcript());
}

#[test]
fn a_template_holds_500_resources() {
    let mut services = String::new();
    for i in 1..=126 {
        services.push_str(&format!(
            "      - name: worker{i}\n        command: run\n        memory: 8\n        autoscaling: {{min: 1, max: 2}}\n"
        ));
    }
    let text = format!(
        "environments:\n  production:\n    name: big\n    image_name: registry.example/app\n    image_tag: v1\n    services:\n{services}"
    );
    let fleet = Fleet::new().file("instances/mstdn/big.yml", &text);
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 1);
    assert!(!fleet.path().join("out").exists(), "nothing is written");
    insta::assert_snapshot!(output.stderr);
}

/// The district of `DISTRICT` with other values.
fn district(region: &str, instance_type: &str) -> String {
    DISTRICT
        .replace("ap-northeast-1", region)
        .replace("t3.small", instance_type)
}

#[test]
fn values_aws_does_not_have_are_errors_with_the_real_name() {
    let app = "resources:
  database: {engine: mysql, version: \"17.7\", instance_class: db.t4g.mirco, name: app, user: app}
  cache: {node_type: cache.t4g.mirco, version: \"7.3\"}
environments:
  production:
    name: app
    image_name: registry.example/app
    image_tag: v1
";
    let fleet = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &district("ap-northeast-9", "t3.smal"),
        )
        .file("instances/mstdn/app.yml", app);
    insta::assert_snapshot!(fleet.run(&["validate"]).transcript());
}

#[test]
fn a_type_the_region_does_not_offer_is_an_error() {
    let fleet = Fleet::new().file(
        "instances/mstdn/district.yml",
        &district("ap-northeast-3", "c7a.2xlarge"),
    );
    insta::assert_snapshot!(fleet.run(&["validate"]).transcript());
    let fleet = Fleet::new().file(
        "instances/mstdn/district.yml",
        &district("us-east-1", "c7a.2xlarge"),
    );
    assert_eq!(fleet.run(&["validate"]).code, 0);
}

#[test]
fn names_and_ranges_aws_refuses_are_errors() {
    let district = DISTRICT
        .replace("10.1.0.0/16", "10.1.5.7/16")
        .replace("acm:ap-northeast-1", "acm:us-east-1");
    let app = "resources:
  database: {engine: postgres, instance_class: db.t4g.micro, name: app, user: rdsadmin}
  buckets:
    media: {name: media-fixed}
    dots: {name: my..bucket}
    ip: {name: 192.168.1.1}
    punycode: {name: xn--bucket}
    alias: {name: media-s3alias}
environments:
  production:
    name: app
    image_name: registry.example/app
    image_tag: v1
  staging:
    name: app-staging
    image_name: registry.example/app
    image_tag: v1
    resources:
      buckets:
        media: {name: media-fixed}
";
    let fleet = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .file("instances/mstdn/app.yml", app);
    insta::assert_snapshot!(fleet.run(&["validate"]).transcript());
}

/// A Mastodon-like fleet of `names` on one endpoint: a web and a streaming
/// listener per heritage, each heritage with its own certificate.
fn pooled_fleet(names: &[String], load_balancers: u32) -> Fleet {
    let district = DISTRICT
        .replace("t3.small", "r6i.16xlarge")
        .replace("size: 2", "size: 8")
        + &format!("    load_balancers: {load_balancers}\n");
    let mut fleet = Fleet::new().file("instances/mstdn/district.yml", &district);
    for (i, name) in names.iter().enumerate() {
        fleet = fleet.file(
            &format!("instances/mstdn/{name}.yml"),
            &format!(
                "environments:
  production:
    name: {name}
    image_name: registry.example/mastodon
    image_tag: v4.3.2
    services:
      - name: web
        service_type: web
        listeners:
          - endpoint: mstdn
            hosts: [{name}.example.social]
            rule_priority: {web}
            certificate_arn: arn:aws:acm:ap-northeast-1:111111111111:certificate/{name}
      - name: streaming
        service_type: web
        web_container_port: 4000
        listeners:
          - endpoint: mstdn
            hosts: [{name}.example.social]
            rule_conditions: [{{type: path-pattern, value: /api/v1/streaming/*}}]
            rule_priority: {streaming}
",
                web = 2 * i + 2,
                streaming = 2 * i + 1,
            ),
        );
    }
    fleet
}

fn names(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("instance-{i:04}")).collect()
}

/// What the built artifacts put on each load balancer, by its HTTPS listener's export.
#[derive(Debug, Default)]
struct Held {
    target_groups: std::collections::BTreeSet<String>,
    rules: usize,
    certificates: usize,
    heritages: std::collections::BTreeSet<String>,
}

fn held(out: &std::path::Path) -> std::collections::BTreeMap<String, Held> {
    let mut by_listener = std::collections::BTreeMap::<String, Held>::new();
    for entry in std::fs::read_dir(out.join("mstdn")).unwrap() {
        let app = entry.unwrap().path().join("app.cfn.json");
        let Ok(text) = std::fs::read_to_string(&app) else {
            continue;
        };
        let heritage = app
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let template: serde_json::Value = serde_json::from_str(&text).unwrap();
        for resource in template["Resources"].as_object().unwrap().values() {
            let properties = &resource["Properties"];
            let listener = properties["ListenerArn"]["Fn::ImportValue"]
                .as_str()
                .map(str::to_owned);
            match resource["Type"].as_str().unwrap() {
                "AWS::ElasticLoadBalancingV2::ListenerRule" => {
                    let held = by_listener.entry(listener.unwrap()).or_default();
                    held.rules += 1;
                    held.heritages.insert(heritage.clone());
                    let group = &properties["Actions"][0]["TargetGroupArn"]["Ref"];
                    held.target_groups.insert(format!("{heritage}/{group}"));
                    let values: usize = properties["Conditions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| {
                            c.as_object()
                                .unwrap()
                                .values()
                                .filter_map(|v| v["Values"].as_array())
                                .map(Vec::len)
                                .sum::<usize>()
                        })
                        .sum();
                    assert!(
                        values <= 5,
                        "{heritage}: a rule with {values} condition values"
                    );
                }
                "AWS::ElasticLoadBalancingV2::ListenerCertificate" => {
                    by_listener
                        .entry(listener.unwrap())
                        .or_default()
                        .certificates += 1;
                }
                _ => {}
            }
        }
    }
    by_listener
}

#[test]
fn an_endpoint_outgrowing_one_load_balancer_becomes_a_pool() {
    let fleet = pooled_fleet(&names(0..150), 1);
    let output = fleet.run(&["validate"]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    // The error says how large a pool fits; that pool does.
    let count: u32 = output
        .stderr
        .split("set `load_balancers: ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pool size suggested:\n{}", output.stderr));
    let fleet = pooled_fleet(&names(0..150), count);
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let held = held(&fleet.path().join("out"));
    assert!(held.len() >= 2, "one load balancer: {held:?}");
    assert_eq!(
        held.len(),
        count as usize,
        "every load balancer of the pool is used"
    );
    for (listener, held) in &held {
        assert!(
            held.target_groups.len() <= 100,
            "{listener}: {} target groups",
            held.target_groups.len()
        );
        assert!(held.rules <= 100, "{listener}: {} rules", held.rules);
        assert!(
            held.certificates <= 25,
            "{listener}: {} certificates",
            held.certificates
        );
        assert_eq!(
            held.certificates,
            held.heritages.len(),
            "{listener}: a certificate per instance"
        );
    }
    let total: usize = held.values().map(|h| h.heritages.len()).sum();
    assert_eq!(total, 150, "each heritage is on exactly one load balancer");
    // The district stack has each load balancer, with its DNS name as an output.
    let district: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fleet.path().join("out/mstdn/district.cfn.json")).unwrap(),
    )
    .unwrap();
    let balancers = district["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer")
        .count();
    assert_eq!(balancers, count as usize);
    let dns_names = district["Outputs"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.ends_with("DnsName"))
        .count();
    assert_eq!(dns_names, count as usize);
    for listener in held.keys() {
        let exported = district["Outputs"]
            .as_object()
            .unwrap()
            .values()
            .any(|o| o["Export"]["Name"] == listener.as_str());
        assert!(
            exported,
            "{listener} is not an export of the district stack"
        );
    }
}

#[test]
fn adding_or_removing_heritages_never_moves_another_to_another_load_balancer() {
    let place = |fleet: &Fleet| {
        let output = fleet.run(&["build"]);
        assert_eq!(output.code, 0, "{}", output.stderr);
        held(&fleet.path().join("out"))
            .into_iter()
            .flat_map(|(listener, held)| {
                held.heritages
                    .into_iter()
                    .map(move |h| (h, listener.clone()))
            })
            .collect::<std::collections::BTreeMap<String, String>>()
    };
    let before = place(&pooled_fleet(&names(0..60), 4));
    // Twenty removed, twenty added.
    let after = place(&pooled_fleet(&names(20..80), 4));
    let kept: Vec<&String> = before.keys().filter(|h| after.contains_key(*h)).collect();
    assert_eq!(kept.len(), 40);
    for heritage in kept {
        assert_eq!(before[heritage], after[heritage], "{heritage} moved");
    }
}

#[test]
fn a_pool_name_an_endpoint_has_is_an_error() {
    let district = format!(
        "{DISTRICT}    load_balancers: 2
  mstdn-lb2:
    certificate_arn: arn:aws:acm:ap-northeast-1:111111111111:certificate/0b7a5f2e-3c1d-4e8f-9a6b-2d4c8e1f7a90
"
    );
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn a_region_holds_50_load_balancers() {
    let district = format!(
        "{DISTRICT}    load_balancers: 50\n  other:\n    certificate_arn: arn:aws:acm:ap-northeast-1:111111111111:certificate/0b7a5f2e-3c1d-4e8f-9a6b-2d4c8e1f7a90\n"
    );
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
    let raised = format!("{district}quotas:\n  load_balancers_per_region: 60\n");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &raised)
        .run(&["validate"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
}

#[test]
fn two_instances_adding_one_certificate_to_a_load_balancer_is_an_error() {
    let mut fleet = pooled_fleet(&names(0..2), 1);
    let shared = "arn:aws:acm:ap-northeast-1:111111111111:certificate/shared";
    for name in names(0..2) {
        let path = fleet.path().join(format!("instances/mstdn/{name}.yml"));
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(&format!("certificate/{name}"), "certificate/shared");
        fleet = fleet.file(&format!("instances/mstdn/{name}.yml"), &text);
    }
    let output = fleet.run(&["validate"]);
    assert!(output.stderr.contains(shared), "{}", output.stderr);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn an_instance_certificate_in_another_region_is_an_error() {
    let mut fleet = pooled_fleet(&names(0..1), 1);
    let path = fleet.path().join("instances/mstdn/instance-0000.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("acm:ap-northeast-1:", "acm:us-east-1:");
    fleet = fleet.file("instances/mstdn/instance-0000.yml", &text);
    let output = fleet.run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn an_ecs_service_takes_five_target_groups() {
    let mut listeners = String::new();
    for i in 1..=6 {
        listeners += &format!("          - {{endpoint: mstdn, hosts: [h{i}.example.social]}}\n");
    }
    let instance = format!(
        "environments:
  production:
    name: app
    image_name: registry.example/app
    image_tag: v1
    services:
      - name: web
        service_type: web
        listeners:
{listeners}"
    );
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", DISTRICT)
        .file("instances/mstdn/app.yml", &instance)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn a_cluster_holds_the_services_of_every_heritage() {
    // Three heritages of one service each, on a cluster said to hold two.
    let district = format!("{DISTRICT}quotas:\n  services_per_cluster: 2\n");
    let output = fleet(3, true, &district).run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
    let district = format!("{DISTRICT}quotas:\n  services_per_cluster: 3\n");
    let output = fleet(3, true, &district).run(&["validate"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
}

#[test]
fn a_region_holds_3000_target_groups() {
    let district = format!("{DISTRICT}quotas:\n  target_groups_per_region: 2\n");
    let output = fleet(3, true, &district).run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn a_security_policy_aws_does_not_have_is_an_error() {
    let district = format!("{DISTRICT}    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-6\n");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
    let district =
        format!("{DISTRICT}    ssl_policy: ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09\n");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .run(&["validate"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
}
