//! `cdn:` on a bucket: a `CloudFront` distribution reads the bucket's
//! `public_read` prefixes through origin access control, in both formats;
//! the bucket stays private; Mastodon gets the alias as `S3_ALIAS_HOST`;
//! the errors of the key. `cdn:` on an endpoint: a distribution in front of
//! its load balancer, static paths cached, the rest passed through.

use std::path::Path;

use serde_json::Value;

use crate::support::{DISTRICT, Fleet, repo};

const CERTIFICATE: &str =
    "arn:aws:acm:us-east-1:111111111111:certificate/5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn instance(cdn: &str) -> String {
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
            hosts: [app.example]
resources:
  buckets:
    media:
{cdn}"
    )
}

#[test]
fn the_bucket_stays_private_and_only_the_distribution_reads_its_prefixes() {
    let out = repo().join("tests/fixtures/mastodon-cdn/out/tokyo/pawprint");
    let cfn = read(&out.join("data.cfn.json"));
    let r = &cfn["Resources"];
    let block = &r["BucketMedia"]["Properties"]["PublicAccessBlockConfiguration"];
    for key in [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[key], true, "{key}");
    }
    let statement = &r["BucketMediaPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(
        statement["Principal"]["Service"],
        "cloudfront.amazonaws.com"
    );
    assert_eq!(
        statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"],
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${BucketMediaDistribution}"
    );
    assert_eq!(statement["Resource"].as_array().unwrap().len(), 6);
    let config = &r["BucketMediaDistribution"]["Properties"]["DistributionConfig"];
    assert_eq!(config["Aliases"][0], "files.pawprint.example");
    assert_eq!(
        config["Origins"][0]["OriginAccessControlId"]["Fn::GetAtt"][0],
        "BucketMediaOriginAccess"
    );
    // CachingOptimized, a managed cache policy.
    assert_eq!(
        config["DefaultCacheBehavior"]["CachePolicyId"],
        "658327ea-f89d-4fab-a63d-7e88639e58f6"
    );
    let tf = read(&out.join("data.tf.json"));
    let block = &tf["resource"]["aws_s3_bucket_public_access_block"]["media"];
    assert_eq!(block["block_public_policy"], true);
    assert_eq!(block["restrict_public_buckets"], true);
    let policy = &tf["locals"]["bucket_media_policy"]["Statement"][0];
    assert_eq!(
        policy["Condition"]["StringEquals"]["AWS:SourceArn"],
        "${aws_cloudfront_distribution.media.arn}"
    );
}

#[test]
fn mastodon_links_media_on_the_first_alias() {
    let fleet = Fleet::new()
        .file("instances/mstdn/district.yml", DISTRICT)
        .file(
            "instances/mstdn/app.yml",
            &instance(&format!(
                "      public_read: [media_attachments/]\n      cdn:\n        aliases: [files.app.example, media.app.example]\n        certificate_arn: {CERTIFICATE}\n"
            )),
        );
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let task = read(&fleet.path().join("out/mstdn/app/task-definitions/web.json"));
    let environment = task["containerDefinitions"][0]["environment"]
        .as_array()
        .unwrap();
    let alias: Vec<&Value> = environment
        .iter()
        .filter(|v| v["name"] == "S3_ALIAS_HOST")
        .map(|v| &v["value"])
        .collect();
    assert_eq!(alias, ["files.app.example"]);
}

#[test]
fn a_bucket_without_cdn_keeps_its_public_prefixes_and_no_alias() {
    let fleet = Fleet::new()
        .file("instances/mstdn/district.yml", DISTRICT)
        .file(
            "instances/mstdn/app.yml",
            &instance("      public_read: [media_attachments/]\n"),
        );
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let data = std::fs::read_to_string(fleet.path().join("out/mstdn/app/data.cfn.json")).unwrap();
    assert!(!data.contains("CloudFront"));
    assert!(data.contains("\"Principal\": \"*\""));
    let task =
        std::fs::read_to_string(fleet.path().join("out/mstdn/app/task-definitions/web.json"))
            .unwrap();
    assert!(!task.contains("S3_ALIAS_HOST"));
}

#[test]
fn a_cdn_certificate_outside_us_east_1_and_a_cdn_without_prefixes_are_errors() {
    let cdn = "      cdn:\n        aliases: [files.app.example]\n        certificate_arn: arn:aws:acm:ap-northeast-1:111111111111:certificate/5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d\n";
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", DISTRICT)
        .file("instances/mstdn/app.yml", &instance(cdn))
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn an_endpoint_distribution_caches_its_static_paths_and_passes_the_rest() {
    let cfn = read(&repo().join("tests/fixtures/mastodon-cdn/out/tokyo/district.cfn.json"));
    let config =
        &cfn["Resources"]["EndpointSocialDistribution"]["Properties"]["DistributionConfig"];
    assert_eq!(
        config["Origins"][0]["DomainName"]["Fn::GetAtt"],
        serde_json::json!(["EndpointSocialLoadBalancer", "DNSName"])
    );
    assert_eq!(
        config["Origins"][0]["CustomOriginConfig"]["OriginProtocolPolicy"],
        "https-only"
    );
    let default = &config["DefaultCacheBehavior"];
    assert_eq!(default["AllowedMethods"].as_array().unwrap().len(), 7);
    // CachingDisabled and AllViewer: every header, cookie and query string.
    assert_eq!(
        default["CachePolicyId"],
        "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    );
    assert_eq!(
        default["OriginRequestPolicyId"],
        "216adef6-5c7f-47e4-b989-5492eafa07d3"
    );
    let paths: Vec<&Value> = config["CacheBehaviors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            assert_eq!(b["CachePolicyId"], "658327ea-f89d-4fab-a63d-7e88639e58f6");
            assert_eq!(
                b["OriginRequestPolicyId"],
                "216adef6-5c7f-47e4-b989-5492eafa07d3"
            );
            &b["PathPattern"]
        })
        .collect();
    assert_eq!(paths, ["/packs/*", "/assets/*", "/emoji/*", "/sounds/*"]);
    let tf = read(&repo().join("tests/fixtures/mastodon-cdn/out/tokyo/district.tf.json"));
    let distribution = &tf["resource"]["aws_cloudfront_distribution"]["social"];
    assert_eq!(
        distribution["origin"][0]["domain_name"],
        "${aws_lb.social.dns_name}"
    );
    assert_eq!(
        distribution["ordered_cache_behavior"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn an_endpoint_cdn_needs_one_public_load_balancer_and_a_us_east_1_certificate() {
    let district = "\
region: ap-northeast-1
network:
  cidr: 10.1.0.0/16
cluster:
  instance_type: t3.small
  size: 2
endpoints:
  mstdn:
    certificate_arn: arn:aws:acm:ap-northeast-1:111111111111:certificate/0b7a5f2e-3c1d-4e8f-9a6b-2d4c8e1f7a90
    load_balancers: 2
    cdn:
      aliases: [app.example]
      certificate_arn: arn:aws:acm:ap-northeast-1:111111111111:certificate/0b7a5f2e-3c1d-4e8f-9a6b-2d4c8e1f7a90
";
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", district)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}
