//! Secure defaults of the artifacts (issue 14, part 9), in both formats, on every golden fleet:
//! what checkov (`scripts/checkov`) checks, pinned here so a template change that drops one
//! fails `cargo test` too, and the keys that opt out.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{DISTRICT, Fleet, copy_tree, fleet_outs, repo, run_in};

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every artifact named `name` under the golden `out/` trees.
fn artifacts(name: &str) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for out in fleet_outs() {
        for entry in walkdir::WalkDir::new(&out) {
            let entry = entry.unwrap();
            if entry.file_name() == name {
                found.push((entry.path().display().to_string(), read(entry.path())));
            }
        }
    }
    assert!(!found.is_empty(), "no {name} found");
    found
}

fn cfn_of_type<'a>(stack: &'a Value, kind: &str) -> Vec<&'a Value> {
    stack["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == kind)
        .map(|r| &r["Properties"])
        .collect()
}

fn tf_of_type<'a>(config: &'a Value, kind: &str) -> Vec<&'a Value> {
    config["resource"][kind]
        .as_object()
        .map(|m| m.values().collect())
        .unwrap_or_default()
}

#[test]
fn container_hosts_keep_containers_off_the_instance_metadata() {
    // Hop limit 1: a bridge-mode container's request to IMDS is one hop further and is dropped,
    // so containers cannot take the host's role; tasks get theirs from the ECS agent.
    let mut seen = 0;
    for (path, stack) in artifacts("district.cfn.json") {
        for p in cfn_of_type(&stack, "AWS::EC2::LaunchTemplate") {
            let m = &p["LaunchTemplateData"]["MetadataOptions"];
            assert_eq!(
                (&m["HttpTokens"], &m["HttpPutResponseHopLimit"]),
                (&json!("required"), &json!(1)),
                "{path}"
            );
            seen += 1;
        }
    }
    for (path, config) in artifacts("district.tf.json") {
        for b in tf_of_type(&config, "aws_launch_template") {
            let m = &b["metadata_options"];
            assert_eq!(
                (&m["http_tokens"], &m["http_put_response_hop_limit"]),
                (&json!("required"), &json!(1)),
                "{path}"
            );
            seen += 1;
        }
    }
    assert!(seen > 2);
}

#[test]
fn endpoint_load_balancers_have_deletion_protection() {
    let mut seen = 0;
    for (path, stack) in artifacts("district.cfn.json") {
        for p in cfn_of_type(&stack, "AWS::ElasticLoadBalancingV2::LoadBalancer") {
            let attributes = p["LoadBalancerAttributes"].as_array().unwrap();
            assert!(
                attributes
                    .contains(&json!({"Key": "deletion_protection.enabled", "Value": "true"})),
                "{path}"
            );
            seen += 1;
        }
    }
    for (path, config) in artifacts("district.tf.json") {
        for b in tf_of_type(&config, "aws_lb") {
            assert_eq!(b["enable_deletion_protection"], json!(true), "{path}");
            seen += 1;
        }
    }
    assert!(seen > 2);
}

#[test]
fn every_bucket_aborts_incomplete_uploads() {
    // The district's artifacts bucket had a one-day rule already; the heritages' buckets get seven.
    let mut seen = 0;
    for (name, days) in [("district.cfn.json", 1), ("data.cfn.json", 7)] {
        for (path, stack) in artifacts(name) {
            for p in cfn_of_type(&stack, "AWS::S3::Bucket") {
                let rules = p["LifecycleConfiguration"]["Rules"].as_array().unwrap();
                assert!(
                    rules.iter().any(
                        |r| r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
                            == json!(days)
                    ),
                    "{path}"
                );
                seen += 1;
            }
        }
    }
    for (name, days) in [("district.tf.json", 1), ("data.tf.json", 7)] {
        for (path, config) in artifacts(name) {
            let buckets = tf_of_type(&config, "aws_s3_bucket").len();
            let lifecycles = tf_of_type(&config, "aws_s3_bucket_lifecycle_configuration");
            assert_eq!(
                lifecycles.len(),
                buckets,
                "{path}: a lifecycle configuration per bucket"
            );
            for l in lifecycles {
                let rules = l["rule"].as_array().unwrap();
                assert!(
                    rules.iter().any(
                        |r| r["abort_incomplete_multipart_upload"]["days_after_initiation"]
                            == json!(days)
                    ),
                    "{path}"
                );
                seen += 1;
            }
        }
    }
    assert!(seen > 4);
}

#[test]
fn repository_tags_are_immutable_by_default() {
    let mut seen = 0;
    for (path, stack) in artifacts("data.cfn.json") {
        for p in cfn_of_type(&stack, "AWS::ECR::Repository") {
            assert_eq!(p["ImageTagMutability"], json!("IMMUTABLE"), "{path}");
            seen += 1;
        }
    }
    for (path, config) in artifacts("data.tf.json") {
        for b in tf_of_type(&config, "aws_ecr_repository") {
            assert_eq!(b["image_tag_mutability"], json!("IMMUTABLE"), "{path}");
            seen += 1;
        }
    }
    assert!(seen > 2);
}

#[test]
fn mutable_tags_opts_a_repository_out() {
    let fleet = copy_tree(&repo().join("tests/fixtures/mastodon"));
    let file = fleet.path().join("instances/social/toots.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("    mastodon: {}\n"));
    std::fs::write(
        &file,
        text.replace("    mastodon: {}\n", "    mastodon: {mutable_tags: true}\n"),
    )
    .unwrap();
    let output = run_in(fleet.path(), &["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let heritages: Vec<_> = walkdir::WalkDir::new(fleet.path().join("out"))
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_name() == "data.cfn.json")
        .map(|e| e.path().parent().unwrap().to_path_buf())
        .collect();
    let mut mutabilities = Vec::new();
    for dir in heritages {
        for p in cfn_of_type(&read(&dir.join("data.cfn.json")), "AWS::ECR::Repository") {
            mutabilities.push(p["ImageTagMutability"].clone());
        }
        for b in tf_of_type(&read(&dir.join("data.tf.json")), "aws_ecr_repository") {
            mutabilities.push(b["image_tag_mutability"].clone());
        }
    }
    assert_eq!(mutabilities, [json!("MUTABLE"), json!("MUTABLE")]);
}

#[test]
fn databases_export_their_logs() {
    let mut seen = 0;
    for (path, stack) in artifacts("data.cfn.json") {
        for p in cfn_of_type(&stack, "AWS::RDS::DBInstance") {
            let want = if p["Engine"] == "mysql" {
                json!(["error", "slowquery"])
            } else {
                json!(["postgresql", "upgrade"])
            };
            assert_eq!(p["EnableCloudwatchLogsExports"], want, "{path}");
            seen += 1;
        }
    }
    for (path, config) in artifacts("data.tf.json") {
        for b in tf_of_type(&config, "aws_db_instance") {
            let want = if b["engine"] == "mysql" {
                json!(["error", "slowquery"])
            } else {
                json!(["postgresql", "upgrade"])
            };
            assert_eq!(b["enabled_cloudwatch_logs_exports"], want, "{path}");
            seen += 1;
        }
    }
    assert!(seen > 2);
}

#[test]
fn terraform_adopts_the_default_security_group_without_rules() {
    // CloudFormation has no resource for a VPC's default security group; Terraform empties it.
    for (path, config) in artifacts("district.tf.json") {
        let groups = tf_of_type(&config, "aws_default_security_group");
        assert_eq!(groups.len(), 1, "{path}");
        let g = groups[0];
        assert_eq!(g["vpc_id"], json!("${aws_vpc.this.id}"), "{path}");
        assert!(
            g.get("ingress").is_none() && g.get("egress").is_none(),
            "{path}: no rules"
        );
    }
}

/// The golden fleet whose files opt in to what is off by default.
fn opted_in() -> std::path::PathBuf {
    repo().join("tests/fixtures/network/out/zones")
}

#[test]
fn endpoint_access_logs_are_opt_in() {
    let stack = read(&opted_in().join("district.cfn.json"));
    let attributes = &cfn_of_type(&stack, "AWS::ElasticLoadBalancingV2::LoadBalancer")[0]["LoadBalancerAttributes"];
    for (key, value) in [
        ("access_logs.s3.enabled", "true"),
        ("access_logs.s3.bucket", "zones-load-balancer-logs"),
        ("access_logs.s3.prefix", "internal-api"),
    ] {
        assert!(
            attributes
                .as_array()
                .unwrap()
                .contains(&json!({"Key": key, "Value": value})),
            "{key}"
        );
    }
    let config = read(&opted_in().join("district.tf.json"));
    assert_eq!(
        tf_of_type(&config, "aws_lb")[0]["access_logs"],
        json!({"bucket": "zones-load-balancer-logs", "prefix": "internal-api", "enabled": true})
    );
    // Off unless a district file asks.
    for (path, stack) in artifacts("district.cfn.json")
        .into_iter()
        .filter(|(p, _)| !p.contains("network"))
    {
        for p in cfn_of_type(&stack, "AWS::ElasticLoadBalancingV2::LoadBalancer") {
            assert!(
                !p["LoadBalancerAttributes"]
                    .to_string()
                    .contains("access_logs"),
                "{path}"
            );
        }
    }
}

#[test]
fn read_only_root_filesystems_are_opt_in() {
    let stack = read(&opted_in().join("shop/app.cfn.json"));
    let workers: Vec<_> = cfn_of_type(&stack, "AWS::ECS::TaskDefinition")
        .into_iter()
        .flat_map(|p| p["ContainerDefinitions"].as_array().unwrap().iter())
        .map(|c| {
            (
                c["Name"].as_str().unwrap().to_owned(),
                c["ReadonlyRootFilesystem"].clone(),
            )
        })
        .collect();
    // The service that asks; its before_deploy and scheduled tasks keep a writable root.
    assert!(
        workers.contains(&("worker".to_owned(), json!(true))),
        "{workers:?}"
    );
    assert!(
        workers
            .iter()
            .filter(|(n, _)| n != "worker")
            .all(|(_, v)| v.is_null()),
        "{workers:?}"
    );
    let definition = read(&opted_in().join("shop/task-definitions/worker.json"));
    assert_eq!(
        definition["containerDefinitions"][0]["readonlyRootFilesystem"],
        json!(true)
    );
    let config = std::fs::read_to_string(opted_in().join("shop/main.tf.json")).unwrap();
    assert_eq!(
        config.matches("\"readonlyRootFilesystem\": true").count(),
        1
    );
    for (path, stack) in artifacts("app.cfn.json")
        .into_iter()
        .filter(|(p, _)| !p.contains("network"))
    {
        assert!(
            !stack.to_string().contains("ReadonlyRootFilesystem"),
            "{path}"
        );
    }
}

#[test]
fn bucket_access_logs_are_opt_in() {
    let stack = read(&opted_in().join("shop/data.cfn.json"));
    let buckets = &stack["Resources"];
    assert_eq!(
        buckets["BucketExports"]["Properties"]["LoggingConfiguration"],
        json!({"DestinationBucketName": "zones-s3-access-logs", "LogFilePrefix": "zones/shop/exports/"})
    );
    // The heritage's other bucket does not ask.
    assert!(buckets["BucketUploads"]["Properties"]["LoggingConfiguration"].is_null());
    let config = read(&opted_in().join("shop/data.tf.json"));
    assert_eq!(
        config["resource"]["aws_s3_bucket_logging"],
        json!({"exports": {
            "bucket": "${aws_s3_bucket.exports.id}",
            "target_bucket": "zones-s3-access-logs",
            "target_prefix": "zones/shop/exports/"
        }})
    );
    // Off unless an instance file asks.
    for (path, stack) in artifacts("data.cfn.json")
        .into_iter()
        .filter(|(p, _)| !p.contains("network"))
    {
        for p in cfn_of_type(&stack, "AWS::S3::Bucket") {
            assert!(p["LoggingConfiguration"].is_null(), "{path}");
        }
    }
    for (path, config) in artifacts("data.tf.json")
        .into_iter()
        .filter(|(p, _)| !p.contains("network"))
    {
        assert!(
            tf_of_type(&config, "aws_s3_bucket_logging").is_empty(),
            "{path}"
        );
    }
}

#[test]
fn vpc_flow_logs_are_opt_in() {
    // All traffic of the VPC to the district's bucket: an S3 destination needs no IAM role.
    let stack = read(&opted_in().join("district.cfn.json"));
    assert_eq!(
        cfn_of_type(&stack, "AWS::EC2::FlowLog"),
        [&json!({
            "ResourceType": "VPC",
            "ResourceId": {"Ref": "Vpc"},
            "TrafficType": "ALL",
            "LogDestinationType": "s3",
            "LogDestination": {"Fn::Sub": "arn:${AWS::Partition}:s3:::zones-flow-logs/vpc"},
            "Tags": [{"Key": "berth:district", "Value": "zones"}]
        })]
    );
    let config = read(&opted_in().join("district.tf.json"));
    assert_eq!(
        config["resource"]["aws_flow_log"],
        json!({"this": {
            "vpc_id": "${aws_vpc.this.id}",
            "traffic_type": "ALL",
            "log_destination_type": "s3",
            "log_destination": "arn:${data.aws_partition.current.partition}:s3:::zones-flow-logs/vpc",
            "tags": {"berth:district": "zones"}
        }})
    );
    for (path, stack) in artifacts("district.cfn.json")
        .into_iter()
        .filter(|(p, _)| !p.contains("network"))
    {
        assert!(
            cfn_of_type(&stack, "AWS::EC2::FlowLog").is_empty(),
            "{path}"
        );
    }
    for (path, config) in artifacts("district.tf.json")
        .into_iter()
        .filter(|(p, _)| !p.contains("network"))
    {
        assert!(tf_of_type(&config, "aws_flow_log").is_empty(), "{path}");
    }
}

const WEB_ACL: &str = "arn:aws:wafv2:us-east-1:333333333333:regional/webacl/zones-internal-api/4f8e2a1c-9b3d-4e7f-a6c5-0d1e2f3a4b5c";

#[test]
fn endpoint_web_acls_are_opt_in() {
    let stack = read(&opted_in().join("district.cfn.json"));
    assert_eq!(
        stack["Resources"]["EndpointInternalApiWebAclAssociation"],
        json!({
            "Type": "AWS::WAFv2::WebACLAssociation",
            "Properties": {"ResourceArn": {"Ref": "EndpointInternalApiLoadBalancer"}, "WebACLArn": WEB_ACL}
        })
    );
    let config = read(&opted_in().join("district.tf.json"));
    assert_eq!(
        config["resource"]["aws_wafv2_web_acl_association"],
        json!({"internal_api": {"resource_arn": "${aws_lb.internal_api.arn}", "web_acl_arn": WEB_ACL}})
    );
    for (path, stack) in artifacts("district.cfn.json")
        .into_iter()
        .filter(|(p, _)| !p.contains("network"))
    {
        assert!(
            cfn_of_type(&stack, "AWS::WAFv2::WebACLAssociation").is_empty(),
            "{path}"
        );
    }
    for (path, config) in artifacts("district.tf.json")
        .into_iter()
        .filter(|(p, _)| !p.contains("network"))
    {
        assert!(
            tf_of_type(&config, "aws_wafv2_web_acl_association").is_empty(),
            "{path}"
        );
    }
}

#[test]
fn every_load_balancer_of_a_pool_gets_the_endpoint_web_acl() {
    let acl = "arn:aws:wafv2:ap-northeast-1:111111111111:regional/webacl/mstdn/4f8e2a1c-9b3d-4e7f-a6c5-0d1e2f3a4b5c";
    let district = format!("{DISTRICT}    load_balancers: 2\n    web_acl_arn: {acl}\n");
    let fleet = Fleet::new().file("instances/mstdn/district.yml", &district);
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let stack = read(&fleet.path().join("out/mstdn/district.cfn.json"));
    let mut associated: Vec<String> = cfn_of_type(&stack, "AWS::WAFv2::WebACLAssociation")
        .into_iter()
        .map(|p| {
            assert_eq!(p["WebACLArn"], acl);
            p["ResourceArn"]["Ref"].as_str().unwrap().to_owned()
        })
        .collect();
    associated.sort();
    assert_eq!(
        associated,
        ["EndpointMstdnLb2LoadBalancer", "EndpointMstdnLoadBalancer"]
    );
}

#[test]
fn a_web_acl_of_another_region_or_scope_is_an_error() {
    // A CloudFront (global) web ACL cannot be put on a load balancer, nor one of another region.
    let district = format!(
        "{DISTRICT}    web_acl_arn: arn:aws:wafv2:us-east-1:111111111111:regional/webacl/mstdn/4f8e2a1c-9b3d-4e7f-a6c5-0d1e2f3a4b5c
  other:
    certificate_arn: arn:aws:acm:ap-northeast-1:111111111111:certificate/0b7a5f2e-3c1d-4e8f-9a6b-2d4c8e1f7a90
    web_acl_arn: arn:aws:wafv2:us-east-1:111111111111:global/webacl/other/4f8e2a1c-9b3d-4e7f-a6c5-0d1e2f3a4b5c
"
    );
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn a_bucket_that_logs_to_itself_is_an_error() {
    let instance = "environments:
  production:
    name: app
    image_name: registry.example/app
    image_tag: v1
resources:
  buckets:
    media:
      name: app-media-111111111111
      access_logs:
        bucket: app-media-111111111111
";
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", DISTRICT)
        .file("instances/mstdn/app.yml", instance)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}
