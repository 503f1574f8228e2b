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
