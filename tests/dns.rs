//! `dns:` on a district: alias records for the listener hosts and `CloudFront`
//! aliases in its Route 53 zone, in the stack that owns each target; the
//! zone's errors and names claimed twice; what `berth explain` says about
//! the names outside the zone.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{DISTRICT, Fleet, repo};

const CDN_CERTIFICATE: &str =
    "arn:aws:acm:us-east-1:111111111111:certificate/5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn district(dns: &str) -> String {
    format!("{DISTRICT}{dns}")
}

fn instance(hosts: &str, buckets: &str) -> String {
    format!(
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
            hosts: {hosts}
{buckets}"
    )
}

fn types(resources: &Value, kind: &str) -> Vec<String> {
    let mut ids: Vec<String> = resources
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(id, _)| id.clone())
        .collect();
    ids.sort();
    ids
}

#[test]
fn the_golden_fleet_points_its_hosts_at_the_distribution_and_the_load_balancer() {
    let out = repo().join("tests/fixtures/mastodon-cdn/out/tokyo");
    let cfn = read(&out.join("district.cfn.json"));
    let r = &cfn["Resources"];
    // The web host is fronted by the endpoint's distribution (A and AAAA);
    // www. reaches the load balancer, which is IPv4 only (A); the host
    // outside the zone and the bucket's alias have no record here.
    assert_eq!(
        types(r, "AWS::Route53::RecordSet"),
        [
            "RecordPawprintExampleA",
            "RecordPawprintExampleAAAA",
            "RecordWwwPawprintExampleA"
        ]
    );
    let apex = &r["RecordPawprintExampleAAAA"]["Properties"];
    assert_eq!(apex["HostedZoneId"], "Z0123456789ABCDEFGHIJ");
    assert_eq!(apex["Name"], "pawprint.example");
    assert_eq!(
        apex["AliasTarget"],
        json!({
            "DNSName": {"Fn::GetAtt": ["EndpointSocialDistribution", "DomainName"]},
            "HostedZoneId": "Z2FDTNDATAQYW2",
            "EvaluateTargetHealth": false
        })
    );
    assert_eq!(
        r["RecordWwwPawprintExampleA"]["Properties"]["AliasTarget"],
        json!({
            "DNSName": {"Fn::GetAtt": ["EndpointSocialLoadBalancer", "DNSName"]},
            "HostedZoneId": {"Fn::GetAtt": ["EndpointSocialLoadBalancer", "CanonicalHostedZoneID"]},
            "EvaluateTargetHealth": true
        })
    );
    assert_eq!(
        r["EndpointSocialLoadBalancer"]["Properties"]["IpAddressType"],
        "ipv4"
    );
    let data = read(&out.join("pawprint/data.cfn.json"));
    assert_eq!(
        types(&data["Resources"], "AWS::Route53::RecordSet"),
        [
            "RecordFilesPawprintExampleA",
            "RecordFilesPawprintExampleAAAA"
        ]
    );
    assert_eq!(
        data["Resources"]["RecordFilesPawprintExampleA"]["Properties"]["AliasTarget"]["DNSName"],
        json!({"Fn::GetAtt": ["BucketMediaDistribution", "DomainName"]})
    );
    let app = std::fs::read_to_string(out.join("pawprint/app.cfn.json")).unwrap();
    assert!(!app.contains("AWS::Route53"));
    let tf = read(&out.join("district.tf.json"));
    let records = &tf["resource"]["aws_route53_record"];
    let mut names: Vec<&String> = records.as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "pawprint_example_a",
            "pawprint_example_aaaa",
            "www_pawprint_example_a"
        ]
    );
    assert_eq!(
        records["www_pawprint_example_a"]["alias"][0],
        json!({
            "name": "${aws_lb.social.dns_name}",
            "zone_id": "${aws_lb.social.zone_id}",
            "evaluate_target_health": true
        })
    );
    let data = read(&out.join("pawprint/data.tf.json"));
    assert_eq!(
        data["resource"]["aws_route53_record"]["files_pawprint_example_aaaa"]["alias"][0]["name"],
        "${aws_cloudfront_distribution.media.domain_name}"
    );
}

#[test]
fn without_a_zone_there_are_no_records() {
    let out = repo().join("tests/fixtures/mastodon/out");
    for entry in walk(&out) {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(
            !text.contains("Route53") && !text.contains("aws_route53_record"),
            "{}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_wildcard_host_gets_a_wildcard_record_and_patterns_get_none() {
    let fleet = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &district("dns: {zone: Example.com., zone_id: Z2ABCDEF123456}\n"),
        )
        .file(
            "instances/mstdn/app.yml",
            &instance(
                "[\"*.example.com\", \"api-?.example.com\", example.com]",
                "",
            ),
        );
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let cfn = read(&fleet.path().join("out/mstdn/district.cfn.json"));
    let r = &cfn["Resources"];
    assert_eq!(
        types(r, "AWS::Route53::RecordSet"),
        ["RecordExampleComA", "RecordWildcardExampleComA"]
    );
    assert_eq!(
        r["RecordWildcardExampleComA"]["Properties"]["Name"],
        "*.example.com"
    );
    assert_eq!(
        r["RecordExampleComA"]["Properties"]["HostedZoneId"],
        "Z2ABCDEF123456"
    );
}

#[test]
fn a_zone_id_with_its_path_and_a_name_that_is_no_domain_are_errors() {
    let output = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &district("dns:\n  zone: example..com\n  zone_id: /hostedzone/Z2ABCDEF123456\n"),
        )
        .file(
            "instances/mstdn/app.yml",
            &instance("[app.example.com]", ""),
        )
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn a_listener_host_that_is_also_a_bucket_alias_is_an_error_with_both_places() {
    let buckets = format!(
        "resources:
  buckets:
    media:
      public_read: [media_attachments/]
      cdn:
        aliases: [files.example.com, App.Example.com.]
        certificate_arn: {CDN_CERTIFICATE}
"
    );
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", DISTRICT)
        .file(
            "instances/mstdn/app.yml",
            &instance("[app.example.com]", &buckets),
        )
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn two_heritages_sharing_a_host_on_one_load_balancer_share_its_record() {
    let other = instance("[app.example.com]", "")
        .replace("name: app", "name: api")
        .replace("hosts: [app.example.com]", "hosts: [app.example.com]\n            rule_conditions: [{type: path-pattern, value: /api/*}]");
    let fleet = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &district("dns: {zone: example.com, zone_id: Z2ABCDEF123456}\n"),
        )
        .file(
            "instances/mstdn/app.yml",
            &instance("[app.example.com]", ""),
        )
        .file("instances/mstdn/api.yml", &other);
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let cfn = read(&fleet.path().join("out/mstdn/district.cfn.json"));
    assert_eq!(
        types(&cfn["Resources"], "AWS::Route53::RecordSet"),
        ["RecordAppExampleComA"]
    );
}

#[test]
fn a_lower_case_zone_id_is_an_error() {
    let output = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &district("dns: {zone: example.com, zone_id: z2abcdef123456}\n"),
        )
        .file(
            "instances/mstdn/app.yml",
            &instance("[app.example.com]", ""),
        )
        .run(&["validate"]);
    assert_eq!(output.code, 1);
    assert!(
        output
            .stderr
            .contains("error[dns-zone-id]: `z2abcdef123456` is not a Route 53 hosted zone id"),
        "{}",
        output.stderr
    );
}

/// The `dns:` part of `berth explain`'s YAML.
fn explained_names(output: &crate::support::Output) -> String {
    assert_eq!(output.code, 0, "{}", output.stderr);
    let start = output.stdout.find("\ndns:\n").expect("a dns section");
    output.stdout[start + 1..].to_owned()
}

#[test]
fn explain_lists_the_records_and_the_hosts_outside_the_zone_with_their_targets() {
    let output = crate::support::run_in(
        &repo().join("tests/fixtures/mastodon-cdn"),
        &["explain", "pawprint"],
    );
    insta::assert_snapshot!(explained_names(&output));
}

#[test]
fn explain_lists_every_host_when_the_district_names_no_zone() {
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", DISTRICT)
        .file(
            "instances/mstdn/app.yml",
            &instance("[app.example.com, \"*.app.example.com\"]", ""),
        )
        .run(&["explain", "app"]);
    insta::assert_snapshot!(explained_names(&output));
}

#[test]
fn with_several_zones_each_name_goes_to_the_longest_zone_that_holds_it() {
    let fleet = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &district(
                "dns:\n  - {zone: example.com, zone_id: Z1EXAMPLE}\n  - {zone: social.example.com., zone_id: Z2SOCIAL}\n",
            ),
        )
        .file(
            "instances/mstdn/app.yml",
            &instance("[www.example.com, app.social.example.com, app.example.org]", ""),
        );
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let cfn = read(&fleet.path().join("out/mstdn/district.cfn.json"));
    let r = &cfn["Resources"];
    assert_eq!(
        types(r, "AWS::Route53::RecordSet"),
        ["RecordAppSocialExampleComA", "RecordWwwExampleComA"]
    );
    assert_eq!(
        r["RecordAppSocialExampleComA"]["Properties"]["HostedZoneId"],
        "Z2SOCIAL"
    );
    assert_eq!(
        r["RecordWwwExampleComA"]["Properties"]["HostedZoneId"],
        "Z1EXAMPLE"
    );
    let tf = read(&fleet.path().join("out/mstdn/district.tf.json"));
    assert_eq!(
        tf["resource"]["aws_route53_record"]["app_social_example_com_a"]["zone_id"],
        "Z2SOCIAL"
    );
    let explained = fleet.run(&["explain", "app", "--format", "json"]);
    let names: Value = serde_json::from_str(&explained.stdout).unwrap();
    assert_eq!(
        names["dns"]["point_yourself"][0]["why"],
        "outside zone `example.com`, `social.example.com`"
    );
    assert_eq!(names["dns"]["records"][0]["zone"], "social.example.com");
}

#[test]
fn a_zone_named_twice_is_an_error() {
    let output = Fleet::new()
        .file(
            "instances/mstdn/district.yml",
            &district(
                "dns:\n  - {zone: example.com, zone_id: Z1EXAMPLE}\n  - {zone: Example.com., zone_id: Z2OTHER}\n",
            ),
        )
        .file("instances/mstdn/app.yml", &instance("[app.example.com]", ""))
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn one_host_on_two_load_balancers_is_an_error_even_without_a_zone() {
    let district = format!(
        "{DISTRICT}  other:\n    certificate_arn: arn:aws:acm:ap-northeast-1:111111111111:certificate/0b7a5f2e-3c1d-4e8f-9a6b-2d4c8e1f7a90\n"
    );
    let other = instance("[app.example.com]", "")
        .replace("name: app", "name: api")
        .replace("endpoint: mstdn", "endpoint: other");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .file(
            "instances/mstdn/app.yml",
            &instance("[app.example.com]", ""),
        )
        .file("instances/mstdn/api.yml", &other)
        .run(&["validate"]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert!(
        output.stderr.contains(
            "error[dns-name-conflict]: `app.example.com` is named for load balancer `other` (a listener of `api`/`web`) and for load balancer `mstdn` (a listener of `app`/`web`)"
        ),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("instances/mstdn/app.yml:11:21"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("api.yml"), "{}", output.stderr);
}

#[test]
fn one_cloudfront_alias_in_two_districts_is_an_error() {
    let bucket = format!(
        "resources:
  buckets:
    media:
      public_read: [media_attachments/]
      cdn:
        aliases: [files.example.com]
        certificate_arn: {CDN_CERTIFICATE}
"
    );
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", DISTRICT)
        .file(
            "instances/mstdn/app.yml",
            &instance("[app.example.com]", &bucket),
        )
        .file(
            "instances/other/district.yml",
            &DISTRICT.replace("10.1.0.0/16", "10.2.0.0/16"),
        )
        .file(
            "instances/other/api.yml",
            &instance("[api.example.com]", &bucket).replace("name: app", "name: api"),
        )
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}
