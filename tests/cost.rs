//! `berth cost`: the price table's shape and coverage, and the example
//! fleet's estimate recomputed by hand from the table.

use std::collections::{BTreeMap, BTreeSet};

use berth::cost::price::{Billing, PriceTable};
use serde_json::Value;

use crate::support::{fleet_outs, read_tree, repo, run_in};

#[test]
fn every_price_row_has_a_unit_a_date_and_a_page() {
    let table = PriceTable::builtin();
    assert_eq!(table.currency, "USD");
    assert!((table.hours_per_month - 730.0).abs() < f64::EPSILON);
    let mut seen = BTreeSet::new();
    for row in &table.prices {
        let what = format!("{} {} {}", row.key, row.variant, row.region);
        assert!(!row.unit.is_empty(), "{what}: no unit");
        assert!(row.usd > 0.0, "{what}: no price");
        assert!(
            row.source.starts_with("https://"),
            "{what}: source {}",
            row.source
        );
        assert_eq!(
            row.read.len(),
            10,
            "{what}: read {} is not YYYY-MM-DD",
            row.read
        );
        assert!(
            row.read <= table.date,
            "{what}: read {} after the table's date {}",
            row.read,
            table.date
        );
        assert!(
            row.verified || !row.note.is_empty(),
            "{what}: an unconfirmed figure must say so in its note"
        );
        assert!(seen.insert(what.clone()), "{what}: two rows");
    }
}

#[test]
fn every_price_key_without_variants_is_priced_in_every_table_region() {
    let table = PriceTable::builtin();
    let regions: BTreeSet<&str> = table.prices.iter().map(|p| p.region.as_str()).collect();
    assert!(regions.contains("ap-northeast-1") && regions.contains("us-east-1"));
    for row in table.prices.iter().filter(|p| p.variant.is_empty()) {
        for region in &regions {
            assert!(
                table.find(&row.key, "", region).is_some(),
                "`{}` has no row for {region}",
                row.key
            );
        }
    }
    for billing in table.resource_types.values() {
        for key in &billing.prices {
            assert!(
                table.prices.iter().any(|p| &p.key == key),
                "resource_types names `{key}`, which has no row"
            );
        }
    }
}

/// Every resource type in `out/` and the fixtures' artifacts, CloudFormation
/// and Terraform.
fn emitted_types() -> BTreeMap<String, String> {
    let mut types = BTreeMap::new();
    for out in fleet_outs() {
        for entry in walkdir::WalkDir::new(&out).into_iter().map(Result::unwrap) {
            let path = entry.path();
            let name = path.to_string_lossy().into_owned();
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            if name.ends_with(".cfn.json") {
                let json: Value = serde_json::from_str(&text).unwrap();
                for r in json["Resources"].as_object().into_iter().flatten() {
                    types.insert(r.1["Type"].as_str().unwrap().to_owned(), name.clone());
                }
            } else if name.ends_with(".tf.json") {
                let json: Value = serde_json::from_str(&text).unwrap();
                for t in json["resource"].as_object().into_iter().flatten() {
                    types.insert(t.0.clone(), name.clone());
                }
            }
        }
    }
    types
}

#[test]
fn every_emitted_resource_type_is_priced_free_or_usage_based() {
    let table = PriceTable::builtin();
    let types = emitted_types();
    assert!(types.contains_key("AWS::EC2::NatGateway") && types.contains_key("aws_db_instance"));
    for (kind, file) in &types {
        let billing = table
            .resource_types
            .get(kind)
            .unwrap_or_else(|| panic!("{kind} (in {file}) has no entry in resource_types"));
        if billing.billing != Billing::Free {
            assert!(
                !billing.prices.is_empty(),
                "{kind} is billed but names no price"
            );
        }
    }
}

fn example_estimate() -> Value {
    let output = run_in(&repo(), &["cost", "--format", "json"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    serde_json::from_str(&output.stdout).unwrap()
}

fn monthly(lines: &Value, resource: &str, key: &str) -> f64 {
    lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["resource"] == resource && l["price_key"] == key)
        .unwrap_or_else(|| panic!("no {key} line for {resource}"))["monthly"]
        .as_f64()
        .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005
}

/// The example fleet (district `mstdn` in ap-northeast-1), by hand from
/// `src/cost/prices.json`: every quantity is 730 hours a month.
#[test]
fn the_example_fleet_estimate_is_the_table_times_the_quantities() {
    let estimate = example_estimate();
    let district = &estimate["districts"][0];
    assert_eq!(district["region"], "ap-northeast-1");
    let lines = &district["lines"];
    // 2 t3.xlarge hosts (cluster.size 2) × 730 h × $0.2176
    assert!(close(
        monthly(lines, "AutoScalingGroup", "ec2.instance"),
        317.70
    ));
    // 2 hosts × 30 GB root volume × $0.096 per GB-month
    assert!(close(monthly(lines, "AutoScalingGroup", "ebs.gp3"), 5.76));
    // one NAT gateway (availability_zones 2, nat: gateway makes one) × 730 h × $0.062
    assert!(close(monthly(lines, "NatGateway1", "nat.hour"), 45.26));
    // its Elastic IP: 730 h × $0.005
    assert!(close(monthly(lines, "NatEip1", "ipv4.hour"), 3.65));
    // the public ALB: 730 h × $0.0243, and one IPv4 address in each of 2 zones
    assert!(close(
        monthly(lines, "EndpointMstdnLoadBalancer", "alb.hour"),
        17.74
    ));
    assert!(close(
        monthly(lines, "EndpointMstdnLoadBalancer", "ipv4.hour"),
        7.30
    ));
    // 317.70 + 5.76 + 45.26 + 3.65 + 17.74 + 7.30
    assert!(close(district["shared"].as_f64().unwrap(), 397.41));

    let heritages = district["heritages"].as_array().unwrap();
    let bcn = heritages.iter().find(|h| h["name"] == "bcn-users").unwrap();
    // db.t4g.micro PostgreSQL Single-AZ: 730 h × $0.025; 20 GB × $0.138
    assert!(close(
        monthly(&bcn["lines"], "Database", "rds.instance"),
        18.25
    ));
    assert!(close(monthly(&bcn["lines"], "Database", "rds.gp3"), 2.76));
    // one cache.t4g.micro node: 730 h × $0.026
    assert!(close(
        monthly(&bcn["lines"], "Cache", "elasticache.node"),
        18.98
    ));
    // 5 generated secrets × $0.40: 18.25 + 2.76 + 18.98 + 2.00
    assert!(close(bcn["own"].as_f64().unwrap(), 41.99));

    let cats = heritages
        .iter()
        .find(|h| h["name"] == "cat-lovers")
        .unwrap();
    // db.m7g.large PostgreSQL Multi-AZ: 730 h × $0.428; 100 GB × 2 × $0.138
    assert!(close(
        monthly(&cats["lines"], "Database", "rds.instance"),
        312.44
    ));
    assert!(close(monthly(&cats["lines"], "Database", "rds.gp3"), 27.60));
    // two cache.m7g.large nodes: 2 × 730 h × $0.203
    assert!(close(
        monthly(&cats["lines"], "Cache", "elasticache.node"),
        296.38
    ));
    // and 5 secrets: 312.44 + 27.60 + 296.38 + 2.00
    assert!(close(cats["own"].as_f64().unwrap(), 638.42));

    // Shares of reserved CPU and memory add up to the whole district.
    let shares: f64 = heritages.iter().map(|h| h["share"].as_f64().unwrap()).sum();
    assert!((shares - 1.0).abs() < 1e-9, "shares add up to {shares}");
    let allocated: f64 = heritages
        .iter()
        .map(|h| h["allocated"].as_f64().unwrap())
        .sum();
    assert!(close(allocated, 397.41) || (allocated - 397.41).abs() <= 0.011);

    // Usage-based lines carry a unit price and count for nothing.
    let nat_gb = lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["price_key"] == "nat.gb")
        .unwrap();
    assert_eq!(nat_gb["kind"], "usage");
    assert_eq!(nat_gb["unit_usd"], 0.062);
    assert_eq!(nat_gb["monthly"], 0.0);
}

#[test]
fn cost_prints_text_markdown_and_json() {
    for format in ["text", "markdown", "json"] {
        let output = run_in(&repo(), &["cost", "--format", format]);
        assert_eq!(output.code, 0, "{}", output.stderr);
        insta::assert_snapshot!(format!("cost_{format}"), output.stdout);
    }
}

#[test]
fn cost_narrows_to_one_heritage_and_names_the_ones_there_are() {
    let output = run_in(&repo(), &["cost", "--heritage", "bcn-users"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(output.stdout.contains("heritage bcn-users"));
    assert!(!output.stdout.contains("heritage cat-lovers"));
    let output = run_in(&repo(), &["cost", "--heritage", "nope"]);
    assert_eq!(output.code, 1);
    assert!(
        output.stderr.contains("no heritage named `nope`"),
        "{}",
        output.stderr
    );
    let output = run_in(&repo(), &["cost", "--district", "nope"]);
    assert_eq!(output.code, 1);
    assert!(
        output
            .stderr
            .contains("no district named `nope`; the fleet has `mstdn`"),
        "{}",
        output.stderr
    );
}

#[test]
fn diff_fails_on_a_monthly_increase_above_the_limit() {
    use crate::diff::{diff, fixture, repository};
    // db.t4g.micro → db.t4g.small in ap-northeast-1: +730 h × ($0.05 − $0.025) = +$18.25
    let dir = repository(
        &fixture("instance-class", "before"),
        &fixture("instance-class", "after"),
    );
    for (kind, code) in [
        ("cost:+10", 3),
        ("cost:+18.25", 2),
        ("cost:+50", 2),
        ("cost:+0", 3),
    ] {
        let output = diff(dir.path(), &["--fail-on", kind]);
        assert_eq!(output.code, code, "{kind}: {}", output.stderr);
    }
    let output = diff(dir.path(), &["--fail-on", "cost:+10", "--format", "json"]);
    let json: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(json["cost"]["delta"], 18.25);
    assert_eq!(
        json["cost"]["causes"][0]["after"],
        "postgres db.t4g.small single-az"
    );
    // A removed instance lowers the cost: never above a limit.
    let dir = repository(
        &fixture("remove-instance", "before"),
        &fixture("remove-instance", "after"),
    );
    let output = diff(dir.path(), &["--fail-on", "cost:+0"]);
    assert_eq!(output.code, 2, "{}", output.stderr);
    assert!(
        output.stdout.contains("-$21.01/mo in total"),
        "{}",
        output.stdout
    );
    // A second NAT gateway zone (nat: per_az): 730 h × $0.062 + its
    // Elastic IP 730 h × $0.005 = +$48.91, under the limit of 50.
    let nat = repository(
        &fixture("nat-per-az", "before"),
        &fixture("nat-per-az", "after"),
    );
    let output = diff(nat.path(), &["--fail-on", "cost:+50"]);
    assert_eq!(output.code, 2, "{}", output.stderr);
    assert!(
        output.stdout.contains("+$48.91/mo in total"),
        "{}",
        output.stdout
    );
    assert_eq!(diff(nat.path(), &["--fail-on", "cost:+48"]).code, 3);
    // A new Fargate service of 0.5 vCPU and 1 GB (x86, ap-northeast-1):
    // 730 h × 0.5 × $0.05056 = $18.45 and 730 h × 1 × $0.00553 = $4.04.
    let fargate = repository(
        &fixture("fargate-service", "before"),
        &fixture("fargate-service", "after"),
    );
    let output = diff(
        fargate.path(),
        &["--fail-on", "cost:+22", "--format", "json"],
    );
    assert_eq!(output.code, 3, "{}", output.stderr);
    let json: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(json["cost"]["delta"], 22.49);
    let causes: Vec<(&str, f64)> = json["cost"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["after"].as_str().unwrap(), c["delta"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        causes,
        [
            ("1 × 1 GB Fargate (x86)", 4.04),
            ("1 × 0.5 vCPU Fargate (x86)", 18.45)
        ],
        "{}",
        output.stdout
    );
    let output = diff(dir.path(), &["--fail-on", "cost:50"]);
    assert_eq!(output.code, 64);
    assert!(output.stderr.contains("`cost:+N`"), "{}", output.stderr);
}

fn example_with_district_lines(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = repo().join("instances");
    for entry in walkdir::WalkDir::new(&from).into_iter().map(Result::unwrap) {
        let target = dir
            .path()
            .join("instances")
            .join(entry.path().strip_prefix(&from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    let path = dir.path().join("instances/mstdn/district.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}{extra}")).unwrap();
    dir
}

#[test]
fn usage_assumptions_of_the_district_file_are_priced_and_counted() {
    let dir =
        example_with_district_lines("cost:\n  nat_gb_per_month: 100\n  load_balancer_lcus: 2\n");
    let output = run_in(dir.path(), &["cost", "--format", "json"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let estimate: Value = serde_json::from_str(&output.stdout).unwrap();
    let lines = &estimate["districts"][0]["lines"];
    // 100 GB × $0.062
    assert!(close(monthly(lines, "NatGateway1", "nat.gb"), 6.20));
    // 2 LCU × 730 h × $0.008
    assert!(close(
        monthly(lines, "EndpointMstdnLoadBalancer", "alb.lcu"),
        11.68
    ));
    // 397.41 + 6.20 + 11.68
    assert!(close(
        estimate["districts"][0]["shared"].as_f64().unwrap(),
        415.29
    ));
    let text = run_in(dir.path(), &["cost"]).stdout;
    assert!(
        text.contains("assumed 100 GB × $0.062/GB (usage-based)"),
        "{text}"
    );
}

#[test]
fn a_negative_or_unknown_usage_assumption_is_a_located_error() {
    let dir = example_with_district_lines("cost:\n  nat_gb_per_month: -1\n  nat_gb: 3\n");
    let output = run_in(dir.path(), &["cost"]);
    assert_eq!(output.code, 1);
    assert!(
        output.stderr.contains("instances/mstdn/district.yml:"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("nat_gb"), "{}", output.stderr);
    assert!(output.stderr.contains("-1"), "{}", output.stderr);
}

#[test]
fn a_terraform_only_district_is_listed_as_unpriced_not_as_free() {
    let root = crate::diff::fixture("terraform-database-user", "after");
    let output = run_in(&repo(), &["--root", root.to_str().unwrap(), "cost"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(
        output.stdout.contains("unpriced  Terraform-only district"),
        "{}",
        output.stdout
    );
}

/// Every committed fleet (the example at the root and each fixture with an
/// `out/`, the diff cases' sides among them) is priced line by line: the
/// table has a row for each instance class, node type and host type it
/// uses, in its region. The one unpriced line allowed is the Terraform-only
/// district's, which is not a missing price but a district berth does not
/// read.
#[test]
fn no_committed_fleet_has_an_unpriced_line() {
    let mut fleets = 0;
    for out in fleet_outs() {
        let root = out.parent().unwrap();
        let output = run_in(
            &repo(),
            &["--root", root.to_str().unwrap(), "cost", "--format", "json"],
        );
        assert_eq!(output.code, 0, "{}: {}", root.display(), output.stderr);
        let estimate: Value = serde_json::from_str(&output.stdout).unwrap();
        for district in estimate["districts"].as_array().unwrap() {
            let heritage_lines = district["heritages"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|h| h["lines"].as_array().unwrap());
            for line in district["lines"]
                .as_array()
                .unwrap()
                .iter()
                .chain(heritage_lines)
            {
                assert!(
                    line["kind"] != "unpriced" || line["price_key"] == "terraform",
                    "{}: district {} ({}) has no price for `{}` `{}` ({})",
                    root.display(),
                    district["name"],
                    district["region"],
                    line["price_key"].as_str().unwrap(),
                    line["variant"].as_str().unwrap(),
                    line["item"].as_str().unwrap()
                );
            }
        }
        fleets += 1;
    }
    assert!(fleets > 40, "only {fleets} fleets");
}

/// The off-hours fixture's one heritage, copied with `edit` applied to its
/// instance file, and its estimate.
fn off_hours_estimate(edit: impl Fn(&str) -> String) -> Value {
    let dir = crate::support::copy_tree(&repo().join("tests/fixtures/off-hours"));
    let path = dir.path().join("instances/night/solo.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(&text)).unwrap();
    let output = run_in(dir.path(), &["cost", "--format", "json"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    serde_json::from_str(&output.stdout).unwrap()
}

fn without_schedule(text: &str) -> String {
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            !["schedule:", "off: cron", "on: cron", "timezone:"]
                .iter()
                .any(|k| l.trim_start().starts_with(k))
        })
        .collect();
    assert_eq!(
        kept.len() + 4,
        text.lines().count(),
        "the schedule is 4 lines"
    );
    kept.join("\n") + "\n"
}

fn on_fargate(text: &str) -> String {
    let edited = text.replace(
        "        cpu: 256\n",
        "        launch_type: FARGATE\n        cpu: 256\n",
    );
    assert_eq!(edited.matches("FARGATE").count(), 2, "both services");
    edited
}

/// The heritage is off from 01:00 to 07:00 Tokyo time every day. berth
/// prices the times its schedules really switch: the services go to 0 tasks
/// at 01:00 and come back at 07:10, the database stops at 01:10 and starts
/// at 07:00. So of each day of 24 hours the database runs 18 h 10 min and
/// the tasks 17 h 50 min; Tokyo has no daylight saving time, so every day of
/// the reference year is the same. A month is 730 hours.
#[test]
fn off_hours_count_only_the_hours_on_of_the_database_and_the_fargate_tasks() {
    let hours_on =
        |minutes_on_a_day: f64| (730.0 * minutes_on_a_day / 1440.0 * 100.0).round() / 100.0;
    let database_on = hours_on(18.0 * 60.0 + 10.0);
    let tasks_on = hours_on(17.0 * 60.0 + 50.0);
    assert!(close(database_on, 552.57) && close(tasks_on, 542.43));

    let line = |estimate: &Value, key: &str| -> Value {
        let heritage = &estimate["districts"][0]["heritages"][0];
        heritage["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["price_key"] == key)
            .unwrap_or_else(|| panic!("no {key} line"))
            .clone()
    };
    let total = |estimate: &Value| estimate["total"].as_f64().unwrap();

    // On EC2 hosts: only the database's instance hours go down.
    let scheduled = off_hours_estimate(str::to_owned);
    let always_on = off_hours_estimate(without_schedule);
    let database = line(&scheduled, "rds.instance");
    assert_eq!(database["quantity"], database_on);
    // db.t4g.micro in ap-northeast-1 at $0.025 an hour
    assert!(close(database["monthly"].as_f64().unwrap(), 13.81));
    assert!(close(
        line(&always_on, "rds.instance")["monthly"]
            .as_f64()
            .unwrap(),
        18.25
    ));
    let note = database["note"].as_str().unwrap();
    assert!(note.contains("on 552.57 of 730 hours a month"), "{note}");
    assert!(
        note.contains("storage and backups are still charged"),
        "{note}"
    );
    assert!(line(&always_on, "rds.instance").get("note").is_none());
    // Storage is charged all month either way: 20 GB × $0.138.
    assert_eq!(line(&scheduled, "rds.gp3")["monthly"], 2.76);
    assert_eq!(line(&always_on, "rds.gp3")["monthly"], 2.76);
    // 18.25 − 13.81: the hosts run all month, and say so.
    assert!(close(total(&always_on) - total(&scheduled), 4.44));
    let hosts = &scheduled["districts"][0]["lines"][0];
    assert_eq!(hosts["price_key"], "ec2.instance");
    assert_eq!(hosts["quantity"], 730.0);
    assert!(
        hosts["note"]
            .as_str()
            .unwrap()
            .contains("hosts keep running")
    );

    // On Fargate: two services of 0.25 vCPU and 0.5 GB (x86, $0.05056 per
    // vCPU-hour and $0.00553 per GB-hour), each on `tasks_on` hours.
    let scheduled = off_hours_estimate(on_fargate);
    let always_on = off_hours_estimate(|t| on_fargate(&without_schedule(t)));
    let fargate = |estimate: &Value, key: &str| -> f64 {
        let heritage = &estimate["districts"][0]["heritages"][0];
        heritage["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["price_key"] == key)
            .map(|l| l["monthly"].as_f64().unwrap())
            .sum()
    };
    let cents = |usd: f64| (usd * 100.0).round() / 100.0;
    let vcpu_on = 2.0 * cents(0.25 * tasks_on * 0.05056);
    let gb_on = 2.0 * cents(0.5 * tasks_on * 0.00553);
    assert!(close(fargate(&scheduled, "fargate.vcpu"), vcpu_on));
    assert!(close(fargate(&scheduled, "fargate.gb"), gb_on));
    let vcpu_all = 2.0 * cents(0.25 * 730.0 * 0.05056);
    let gb_all = 2.0 * cents(0.5 * 730.0 * 0.00553);
    assert!(close(fargate(&always_on, "fargate.vcpu"), vcpu_all));
    assert!(close(fargate(&always_on, "fargate.gb"), gb_all));
    let vcpu = line(&scheduled, "fargate.vcpu");
    assert!(
        vcpu["note"]
            .as_str()
            .unwrap()
            .contains("on 542.43 of 730 hours"),
        "{vcpu}"
    );
    // Fargate tasks reserve nothing on the hosts, so the shared costs are
    // the same; the difference is the database's and the tasks' hours off.
    assert!(close(
        total(&always_on) - total(&scheduled),
        (vcpu_all - vcpu_on) + (gb_all - gb_on) + (18.25 - 13.81)
    ));
}

/// The tutorial's fleet (`tests/fixtures/tutorial`) with `instances` Mastodon
/// instances, each the tutorial's heritage with a database and a cache, on
/// host names of their own (the endpoint is shared), and its estimate.
fn tutorial_estimate(instances: &[(&str, &str, u32)]) -> Value {
    let dir = crate::support::copy_tree(&repo().join("tests/fixtures/tutorial"));
    let heritage = dir.path().join("instances/tutorial/bcn-users.yml");
    let text = std::fs::read_to_string(&heritage).unwrap();
    std::fs::remove_file(&heritage).unwrap();
    for (name, host, priority) in instances {
        let text = text
            .replacen(
                "environments:\n",
                "resources:\n  database:\n    engine: postgres\n    instance_class: db.t4g.micro\n    name: mastodon\n    user: mastodon\n  cache:\n    node_type: cache.t4g.micro\n\nenvironments:\n",
                1,
            )
            .replace("name: bcn-users", &format!("name: {name}"))
            .replace(
                "          - endpoint: mstdn\n",
                &format!("          - endpoint: mstdn\n            hosts: [{host}]\n"),
            )
            .replace("rule_priority: 10", &format!("rule_priority: {priority}"));
        std::fs::write(
            dir.path().join(format!("instances/tutorial/{name}.yml")),
            text,
        )
        .unwrap();
    }
    let output = run_in(dir.path(), &["cost", "--format", "json"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    serde_json::from_str(&output.stdout).unwrap()
}

/// The tutorial berth grew from ends with a cost table worked out by hand:
/// first what the district costs whatever runs on it (the container host,
/// the NAT gateway, the load balancers), then what each Mastodon instance
/// costs: its RDS database, its share of the load balancer and its
/// ElastiCache node. The same table, from `berth cost --format json`, every
/// figure recomputed here as quantity × the table's unit price in eu-west-1;
/// and one more instance raises the district's total by exactly what the
/// estimate says one instance costs.
#[test]
fn the_tutorial_cost_table_is_fixed_district_cost_then_per_instance_cost() {
    let table = PriceTable::builtin();
    let price = |key: &str, variant: &str| table.find(key, variant, "eu-west-1").unwrap().usd;
    let cents = |usd: f64| (usd * 100.0).round() / 100.0;
    let one = tutorial_estimate(&[("bcn-users", "bcn.example.social", 10)]);
    let district = &one["districts"][0];
    assert_eq!(district["region"], "eu-west-1");

    // The fixed district cost, line by line.
    let lines = district["lines"].as_array().unwrap();
    for line in lines.iter().filter(|l| l["kind"] == "fixed") {
        let by_hand = cents(
            line["quantity"].as_f64().unwrap()
                * price(
                    line["price_key"].as_str().unwrap(),
                    line["variant"].as_str().unwrap(),
                ),
        );
        assert!(close(line["monthly"].as_f64().unwrap(), by_hand), "{line}");
    }
    // One m6i.large host (cluster.size 1) all month and its 30 GB root
    // volume; one NAT gateway and its Elastic IP; two load balancers
    // (`mstdn` public, `internal`), the public one with an address in each
    // of its 2 zones.
    let host = cents(730.0 * price("ec2.instance", "m6i.large"));
    let root_volume = cents(30.0 * price("ebs.gp3", ""));
    let nat = cents(730.0 * price("nat.hour", "")) + cents(730.0 * price("ipv4.hour", ""));
    let alb = cents(730.0 * price("alb.hour", ""));
    let load_balancers = 2.0 * alb + cents(2.0 * 730.0 * price("ipv4.hour", ""));
    let fixed = host + root_volume + nat + load_balancers;
    assert!(close(district["shared"].as_f64().unwrap(), fixed));
    assert!(close(
        monthly(&district["lines"], "AutoScalingGroup", "ec2.instance"),
        host
    ));

    // Per instance: RDS (db.t4g.micro PostgreSQL Single-AZ, 20 GB gp3),
    // the ALB share, ElastiCache (one cache.t4g.micro node).
    let rds = cents(730.0 * price("rds.instance", "postgres/db.t4g.micro/single-az"))
        + cents(20.0 * price("rds.gp3", ""));
    let elasticache = cents(730.0 * price("elasticache.node", "cache.t4g.micro"));
    let instance = &district["heritages"][0];
    assert!(close(
        monthly(&instance["lines"], "Database", "rds.instance")
            + monthly(&instance["lines"], "Database", "rds.gp3"),
        rds
    ));
    assert!(close(
        monthly(&instance["lines"], "Cache", "elasticache.node"),
        elasticache
    ));
    // Nothing else of the instance is fixed (no secrets, no Fargate).
    assert!(close(instance["own"].as_f64().unwrap(), rds + elasticache));
    // Alone on the district, it carries all of the load balancers.
    assert!((instance["share"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    let alb_share = |heritage: &Value| heritage["share"].as_f64().unwrap() * 2.0 * alb;
    assert!(close(alb_share(instance), 2.0 * alb));
    assert!(close(
        district["total"].as_f64().unwrap(),
        fixed + rds + elasticache
    ));

    // One more instance: the host, NAT and load balancers are the same, the
    // district's total grows by one instance's own cost, and the two share
    // the load balancers half and half (same services, same reservations).
    let two = tutorial_estimate(&[
        ("bcn-users", "bcn.example.social", 10),
        ("cat-lovers", "cats.example.social", 20),
    ]);
    let district_two = &two["districts"][0];
    assert!(close(district_two["shared"].as_f64().unwrap(), fixed));
    let added = district_two["heritages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "cat-lovers")
        .unwrap();
    assert!(close(added["own"].as_f64().unwrap(), rds + elasticache));
    assert!(close(
        district_two["total"].as_f64().unwrap() - district["total"].as_f64().unwrap(),
        rds + elasticache
    ));
    for heritage in district_two["heritages"].as_array().unwrap() {
        assert!((heritage["share"].as_f64().unwrap() - 0.5).abs() < 1e-12);
        assert!(close(alb_share(heritage), alb));
    }
}

#[test]
fn the_text_and_markdown_estimates_say_the_hours_on_of_an_off_hours_heritage() {
    let root = repo().join("tests/fixtures/off-hours");
    let root = root.to_str().unwrap();
    let text = run_in(&repo(), &["--root", root, "cost"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains(
            "552.57 hour × $0.025/hour — off-hours: on 552.57 of 730 hours a month (off cron(10 1 * * ? *), on cron(0 7 * * ? *), Asia/Tokyo); storage and backups are still charged while it is stopped"
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("— hosts keep running"),
        "{}",
        text.stdout
    );
    let markdown = run_in(&repo(), &["--root", root, "cost", "--format", "markdown"]);
    assert!(
        markdown.stdout.contains(
            "| postgres db.t4g.micro single-az (off-hours: on 552.57 of 730 hours a month"
        ),
        "{}",
        markdown.stdout
    );
}

/// `berth diff` prices both sides of a change at once, a heritage whose
/// templates are the same on both sides only once: the estimates are those
/// of pricing each side alone, for every case of `tests/fixtures/diff/`.
#[test]
fn pricing_both_sides_of_a_change_is_pricing_each_alone() {
    let table = PriceTable::builtin();
    let mut compared = 0;
    for case in std::fs::read_dir(repo().join("tests/fixtures/diff")).unwrap() {
        let case = case.unwrap().path();
        let read = |side: &str| -> BTreeMap<String, String> {
            read_tree(&case.join(side).join("out"))
                .into_iter()
                .map(|(path, bytes)| (path, String::from_utf8(bytes).unwrap()))
                .collect()
        };
        let Some(fleet) = berth::compiler::analyze(&case.join("after")).unwrap().fleet else {
            continue;
        };
        let regions = berth::cost::districts_of(&fleet);
        let (before, after) = (read("before"), read("after"));
        let (priced_before, priced_after) =
            berth::cost::estimate_both(&before, &after, &regions, &table);
        for (both, files) in [(priced_before, &before), (priced_after, &after)] {
            assert_eq!(
                serde_json::to_value(both).unwrap(),
                serde_json::to_value(berth::cost::estimate(files, &regions, &table)).unwrap(),
                "{}",
                case.display()
            );
        }
        compared += 1;
    }
    assert!(compared >= 20, "{compared} cases compared");
}
