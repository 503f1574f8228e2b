//! Off-hours and the cheap layout of the one-person fleet
//! (`tests/fixtures/one-person`): what it saves against the same fleet with
//! NAT and always on.

use serde_json::Value;

use crate::support::{Fleet, repo, without_block};

/// The one-person fleet's files, with `edit` applied to each text.
fn one_person(edit: impl Fn(&str) -> String) -> Fleet {
    let dir = repo().join("tests/fixtures/one-person/instances/home");
    let mut fleet = Fleet::new();
    std::fs::remove_dir_all(fleet.path().join("instances/mstdn")).unwrap();
    for name in ["district.yml", "mastodon.yml", "maintenance.html"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        fleet = fleet.file(&format!("instances/home/{name}"), &edit(&text));
    }
    fleet
}

fn estimate(fleet: &Fleet) -> Value {
    let output = fleet.run(&["cost", "--format", "json"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    serde_json::from_str(&output.stdout).unwrap()
}

fn lines(estimate: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for d in estimate["districts"].as_array().unwrap() {
        for l in d["lines"].as_array().unwrap() {
            out.push(l["price_key"].as_str().unwrap().to_owned());
        }
        for h in d["heritages"].as_array().into_iter().flatten() {
            for l in h["lines"].as_array().into_iter().flatten() {
                out.push(l["price_key"].as_str().unwrap().to_owned());
            }
        }
    }
    out
}

/// No NAT, the host and the instance off at night: the estimate is lower
/// than the same instance behind a NAT gateway, always on.
#[test]
fn the_one_person_fleet_costs_less_than_with_nat_and_always_on() {
    let cheap = estimate(&one_person(str::to_owned));
    let usual = estimate(&one_person(|text| {
        without_block(&without_block(text, "  schedule:"), "    schedule:")
            .replace("  nat: none\n", "")
    }));
    assert!(lines(&usual).iter().any(|k| k == "nat.hour"), "{usual}");
    assert!(!lines(&cheap).iter().any(|k| k == "nat.hour"), "{cheap}");
    let (cheap, usual) = (
        cheap["total"].as_f64().unwrap(),
        usual["total"].as_f64().unwrap(),
    );
    assert!(
        cheap < usual,
        "one-person ${cheap}/mo, with NAT and always on ${usual}/mo"
    );
}

/// The maintenance page of the one-person fleet is its `maintenance.html`,
/// word for word, in both formats; and the manifest names the page as a
/// source of the app stack.
#[test]
fn the_maintenance_page_is_the_file_it_names() {
    let dir = repo().join("tests/fixtures/one-person");
    let page = std::fs::read_to_string(dir.join("instances/home/maintenance.html")).unwrap();
    let read = |path: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(path)).unwrap()).unwrap()
    };
    let body = |input: &str| -> String {
        let input: Value = serde_json::from_str(input).unwrap();
        input["Actions"][0]["FixedResponseConfig"]["MessageBody"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let cfn = read("out/home/solo-social/app.cfn.json");
    let mut bodies = Vec::new();
    for (id, r) in cfn["Resources"].as_object().unwrap() {
        if r["Type"] == "AWS::Scheduler::Schedule"
            && id.ends_with("Off")
            && let Some(sub) = r["Properties"]["Target"]["Input"]["Fn::Sub"][0].as_str()
            && sub.contains("fixed-response")
        {
            bodies.push(body(sub));
        }
    }
    let tf = read("out/home/solo-social/main.tf.json");
    for (name, s) in tf["resource"]["aws_scheduler_schedule"]
        .as_object()
        .unwrap()
    {
        let input = s["target"]["input"].as_str().unwrap();
        if name.ends_with("_off") && input.contains("fixed-response") {
            bodies.push(body(&input.replace("$${", "${").replace("%%{", "%{")));
        }
    }
    assert_eq!(
        bodies.len(),
        4,
        "two rules (web, streaming) in each format: {bodies:?}"
    );
    for b in &bodies {
        assert_eq!(b, &page);
    }
    let manifest = read("out/manifest.json");
    let app = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == "home/solo-social/app.cfn.json")
        .unwrap();
    assert!(
        app["sources"]
            .as_array()
            .unwrap()
            .contains(&Value::from("instances/home/maintenance.html")),
        "{app}"
    );
}

/// A page holding `${` is written so that neither `Fn::Sub` nor Terraform
/// reads it as a reference.
#[test]
fn a_page_with_dollar_braces_stays_literal() {
    let fleet = one_person(str::to_owned).file(
        "instances/home/maintenance.html",
        "<p>back at ${WAKE} %{if x}</p>",
    );
    let output = fleet.run(&["build"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let cfn =
        std::fs::read_to_string(fleet.path().join("out/home/solo-social/app.cfn.json")).unwrap();
    let tf =
        std::fs::read_to_string(fleet.path().join("out/home/solo-social/main.tf.json")).unwrap();
    assert!(cfn.contains("back at ${!WAKE} %{if x}"), "{cfn}");
    assert!(!cfn.contains("back at ${WAKE}"));
    assert!(tf.contains("back at $${WAKE} %%{if x}"), "{tf}");
}

/// A page that is missing, outside `instances/` or longer than a fixed
/// response holds is a located error.
#[test]
fn page_errors() {
    let with_page = |page: &str| {
        one_person(move |text| text.replace("page: maintenance.html", &format!("page: {page}")))
    };
    let missing = with_page("sleeping.html").run(&["validate"]);
    let outside = with_page("../../README.md").run(&["validate"]);
    let long = one_person(str::to_owned)
        .file("instances/home/maintenance.html", &"z".repeat(1025))
        .run(&["validate"]);
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}",
        missing.transcript(),
        outside.transcript(),
        long.transcript()
    ));
}

/// `cluster.schedule` switches the one-person fleet's host off from 01:15 to
/// 06:50 every day: the host, its volume and its public IPv4 address (it has
/// one, `nat: none`) are priced for the 18 h 25 min a day it is on.
#[test]
fn the_host_is_priced_for_the_hours_it_is_on() {
    let cheap = estimate(&one_person(str::to_owned));
    let district = &cheap["districts"][0];
    let line = |key: &str| -> Value {
        district["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["price_key"] == key && l["resource"] == "AutoScalingGroup")
            .unwrap_or_else(|| panic!("no {key} line of the hosts: {district}"))
            .clone()
    };
    let on = 730.0 * (24.0 - (5.0 + 35.0 / 60.0)) / 24.0;
    let host = line("ec2.instance");
    assert!(
        (host["quantity"].as_f64().unwrap() - on).abs() < 0.01,
        "{host}"
    );
    assert!(
        host["note"].as_str().unwrap().contains("off-hours: on"),
        "{host}"
    );
    let address = line("ipv4.hour");
    assert!(
        (address["quantity"].as_f64().unwrap() - on).abs() < 0.01,
        "{address}"
    );
    let volume = line("ebs.gp3");
    assert!(
        (volume["quantity"].as_f64().unwrap() - 30.0 * on / 730.0).abs() < 0.001,
        "{volume}"
    );

    // Without the district's schedule the host runs all month, and says why.
    let always = estimate(&one_person(|text| without_block(text, "  schedule:")));
    let host = always["districts"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["price_key"] == "ec2.instance")
        .unwrap()
        .clone();
    assert_eq!(host["quantity"], 730.0, "{host}");
    assert!(
        host["note"]
            .as_str()
            .unwrap()
            .contains("hosts keep running"),
        "{host}"
    );
}

/// The spot hosts of `capacity: spot` start from none: a usage line at the
/// host's price, not a fixed one.
#[test]
fn spot_hosts_are_priced_as_usage() {
    let output = crate::support::run_in(
        &repo(),
        &[
            "--root",
            "tests/fixtures/mastodon",
            "cost",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.code, 0, "{}", output.stderr);
    let estimate: Value = serde_json::from_str(&output.stdout).unwrap();
    let spot = estimate["districts"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["resource"] == "SpotAutoScalingGroup")
        .unwrap()
        .clone();
    assert_eq!(spot["kind"], "usage", "{spot}");
    assert_eq!(spot["price_key"], "ec2.instance", "{spot}");
}
