//! The Mastodon contract: every environment variable Mastodon 4.3.2's web
//! (puma), Sidekiq and streaming processes need to boot against RDS
//! PostgreSQL, ElastiCache with TLS and S3, with the form each must have,
//! written from Mastodon's source (file and line range per row; the
//! research notes reconstruct v4.3.2 from upstream `main` plus the 4.3.1 and
//! 4.3.2 backports). Every row is checked on every Mastodon container of the
//! example fleet and of `tests/fixtures/mastodon`, in all three artifact
//! formats: the standalone task definitions, the app stack's CloudFormation
//! and the Terraform configuration. One-off tasks (`before_deploy`,
//! scheduled `tootctl`) boot Rails, so they are held to the Rails rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::repo;

/// The process a container runs, read from its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Process {
    Web,
    /// Sidekiq with its concurrency (`-c N`; 5 without it, config/sidekiq.yml:2).
    Sidekiq(u32),
    Streaming,
    /// A one-off Rails command (`rails db:migrate`, `tootctl`).
    Task,
}

/// Which processes a row applies to.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// web, Sidekiq and one-off tasks: everything that boots Rails.
    Rails,
    Sidekiq,
    Streaming,
    /// Rails and streaming.
    All,
    Web,
}

impl Who {
    fn covers(self, process: Process) -> bool {
        match (self, process) {
            (Self::Rails, p) => p != Process::Streaming,
            (Self::All, _)
            | (Self::Sidekiq, Process::Sidekiq(_))
            | (Self::Streaming, Process::Streaming)
            | (Self::Web, Process::Web) => true,
            _ => false,
        }
    }
}

/// The form a variable must have.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// Exactly this plain value.
    Literal(&'static str),
    /// One of these plain values.
    OneOf(&'static [&'static str]),
    /// A plain value starting with this URL scheme and naming a host after it.
    Scheme(&'static str),
    /// A non-empty plain value (or a value imported from the data stack).
    Plain,
    /// A port number, or a value imported from the data stack.
    Number,
    /// A secret: read by ECS from SSM or Secrets Manager, a non-empty reference.
    Secret,
    /// A number at least the Sidekiq process's concurrency.
    AtLeastConcurrency,
    /// The container's own port.
    ContainerPort,
}

struct Row {
    name: &'static str,
    who: Who,
    form: Form,
    /// Where Mastodon reads it (v4.3.2).
    source: &'static str,
}

const fn row(name: &'static str, who: Who, form: Form, source: &'static str) -> Row {
    Row {
        name,
        who,
        form,
        source,
    }
}

/// What Mastodon 4.3.2 reads to boot on RDS, ElastiCache (TLS) and S3.
const CONTRACT: &[Row] = &[
    row(
        "RAILS_ENV",
        Who::Rails,
        Form::Literal("production"),
        "config/puma.rb:15; Dockerfile:63",
    ),
    row(
        "NODE_ENV",
        Who::Streaming,
        Form::Literal("production"),
        "streaming/index.js:21-33; streaming/database.js:13-20",
    ),
    row(
        "LOCAL_DOMAIN",
        Who::Rails,
        Form::Plain,
        "config/initializers/1_hosts.rb:3-5,30-35",
    ),
    row(
        "SECRET_KEY_BASE",
        Who::Rails,
        Form::Secret,
        ".env.production.sample:43-46; config/initializers/devise.rb:112",
    ),
    row(
        "OTP_SECRET",
        Who::Rails,
        Form::Secret,
        "config/environments/production.rb:158-163",
    ),
    row(
        "ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY",
        Who::Rails,
        Form::Secret,
        "config/initializers/active_record_encryption.rb:3-44",
    ),
    row(
        "ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT",
        Who::Rails,
        Form::Secret,
        "config/initializers/active_record_encryption.rb:3-44",
    ),
    row(
        "ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY",
        Who::Rails,
        Form::Secret,
        "config/initializers/active_record_encryption.rb:3-44",
    ),
    row(
        "DB_HOST",
        Who::All,
        Form::Plain,
        "config/database.yml:47-55; streaming/database.js:22-28",
    ),
    row(
        "DB_PORT",
        Who::All,
        Form::Number,
        "config/database.yml:47-55; streaming/database.js:22-28",
    ),
    row(
        "DB_NAME",
        Who::All,
        Form::Plain,
        "config/database.yml:47-55; streaming/database.js:13-25",
    ),
    row(
        "DB_USER",
        Who::All,
        Form::Plain,
        "config/database.yml:47-55; streaming/database.js:22-28",
    ),
    row(
        "DB_PASS",
        Who::All,
        Form::Secret,
        "config/database.yml:47-55; streaming/database.js:22-28,79-81",
    ),
    // libpq: `require` encrypts; `no-verify` is not a libpq mode.
    row(
        "DB_SSLMODE",
        Who::Rails,
        Form::OneOf(&["require", "verify-ca", "verify-full"]),
        "config/database.yml:7",
    ),
    // node-postgres verifies the certificate for any mode but these, and the
    // RDS CA is not in Node's store.
    row(
        "DB_SSLMODE",
        Who::Streaming,
        Form::OneOf(&["no-verify"]),
        "streaming/database.js:82-98",
    ),
    row(
        "DB_POOL",
        Who::Sidekiq,
        Form::AtLeastConcurrency,
        "config/database.yml:3; dist/mastodon-sidekiq.service:10,13",
    ),
    row(
        "REDIS_URL",
        Who::All,
        Form::Scheme("rediss://"),
        "lib/mastodon/redis_configuration.rb:57-67,104-111; streaming/redis.js:80-88",
    ),
    row(
        "REDIS_DRIVER",
        Who::Rails,
        Form::Literal("ruby"),
        "lib/mastodon/redis_configuration.rb:35-37",
    ),
    row(
        "S3_ENABLED",
        Who::Rails,
        Form::Literal("true"),
        "config/initializers/paperclip.rb:38",
    ),
    row(
        "S3_BUCKET",
        Who::Rails,
        Form::Plain,
        "config/initializers/paperclip.rb:61",
    ),
    row(
        "S3_REGION",
        Who::Rails,
        Form::Plain,
        "config/initializers/paperclip.rb:41",
    ),
    row(
        "S3_HOSTNAME",
        Who::Rails,
        Form::Plain,
        "config/initializers/paperclip.rb:43; app/lib/content_security_policy.rb:71-73",
    ),
    // Owner-enforced buckets refuse ACLs; empty means none.
    row(
        "S3_PERMISSION",
        Who::Rails,
        Form::Literal(""),
        "config/initializers/paperclip.rb:57,75",
    ),
    row(
        "BIND",
        Who::Web,
        Form::Literal("0.0.0.0"),
        "config/puma.rb:9-13",
    ),
    row(
        "BIND",
        Who::Streaming,
        Form::Literal("0.0.0.0"),
        "streaming/index.js:1376-1399",
    ),
    row("PORT", Who::Web, Form::ContainerPort, "config/puma.rb:12"),
    row(
        "PORT",
        Who::Streaming,
        Form::ContainerPort,
        "streaming/index.js:1385",
    ),
];

/// One container as an artifact describes it.
#[derive(Debug)]
struct Container {
    /// `file: container`, for messages.
    at: String,
    command: Vec<String>,
    port: Option<u64>,
    environment: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
}

impl Container {
    fn process(&self) -> Process {
        let words = self.command.join(" ");
        if words.contains("sidekiq") {
            let concurrency = self
                .command
                .iter()
                .position(|a| a == "-c" || a == "--concurrency")
                .and_then(|i| self.command.get(i + 1))
                .and_then(|c| c.parse().ok())
                .unwrap_or(5);
            Process::Sidekiq(concurrency)
        } else if words.contains("streaming") {
            Process::Streaming
        } else if words.contains("puma") || words.contains("rails s") {
            Process::Web
        } else {
            Process::Task
        }
    }
}

/// A CloudFormation or Terraform value as text: literals as they are,
/// intrinsics and references as `{…}` (an imported value).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => {
            if s.starts_with("${") && s.ends_with('}') && !s[2..].contains("${") {
                "{imported}".to_owned()
            } else {
                s.clone()
            }
        }
        Value::Number(n) => n.to_string(),
        Value::Object(map) => match map.iter().next() {
            Some((k, v)) if k == "Fn::Join" => v[1]
                .as_array()
                .unwrap()
                .iter()
                .map(text)
                .collect::<Vec<_>>()
                .join(v[0].as_str().unwrap()),
            _ => "{imported}".to_owned(),
        },
        other => other.to_string(),
    }
}

fn pairs(list: &Value, name: &str, value: &str) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|v| (v[name].as_str().unwrap().to_owned(), text(&v[value])))
        .collect()
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every container of a heritage folder, from one artifact format.
fn containers(dir: &Path, format: &str) -> Vec<Container> {
    let mut found = Vec::new();
    let rel = |p: &Path| p.strip_prefix(repo()).unwrap_or(p).display().to_string();
    match format {
        "ecs" => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("task-definitions"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for file in files {
                let c = &read(&file)["containerDefinitions"][0];
                found.push(container(
                    c,
                    format!("{}: {}", rel(&file), c["name"]),
                    false,
                ));
            }
        }
        "cloudformation" => {
            let file = dir.join("app.cfn.json");
            for (id, resource) in read(&file)["Resources"].as_object().unwrap() {
                if resource["Type"] == "AWS::ECS::TaskDefinition" {
                    let c = &resource["Properties"]["ContainerDefinitions"][0];
                    found.push(container(c, format!("{}: {id}", rel(&file)), true));
                }
            }
        }
        _ => {
            let file = dir.join("main.tf.json");
            for (name, local) in read(&file)["locals"].as_object().unwrap() {
                if name.starts_with("container_") {
                    found.push(container(
                        local,
                        format!("{}: local.{name}", rel(&file)),
                        false,
                    ));
                }
            }
        }
    }
    found
}

fn container(c: &Value, at: String, cfn: bool) -> Container {
    let k = |cfn_key: &str, api_key: &str| c[if cfn { cfn_key } else { api_key }].clone();
    let (name, value, value_from) = if cfn {
        ("Name", "Value", "ValueFrom")
    } else {
        ("name", "value", "valueFrom")
    };
    Container {
        at,
        command: k("Command", "command")
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect(),
        port: k("PortMappings", "portMappings")[0][if cfn {
            "ContainerPort"
        } else {
            "containerPort"
        }]
        .as_u64(),
        environment: pairs(&k("Environment", "environment"), name, value),
        secrets: pairs(&k("Secrets", "secrets"), name, value_from),
    }
}

/// What is wrong with one row on one container, if anything.
fn violation(row: &Row, c: &Container, process: Process) -> Option<String> {
    let plain = c.environment.get(row.name);
    let imported = |v: &str| v == "{imported}" || (v.starts_with("${") && v.ends_with('}'));
    if !matches!(row.form, Form::Secret) && c.secrets.contains_key(row.name) && plain.is_none() {
        return Some("is a secret, but must be a plain value".to_owned());
    }
    let need = |ok: bool, what: String| (!ok).then_some(what);
    match row.form {
        Form::Secret => match c.secrets.get(row.name) {
            Some(from) if !from.is_empty() => need(plain.is_none(), "is also a plain value".into()),
            Some(_) => Some("is a secret with an empty reference".into()),
            None if plain.is_some() => Some("is a plain value, but must be a secret".into()),
            None => Some("is missing (a secret)".into()),
        },
        _ if plain.is_none() => Some("is missing".into()),
        Form::Literal(want) => {
            let v = plain.unwrap();
            need(v == want, format!("is `{v}`, must be `{want}`"))
        }
        Form::OneOf(allowed) => {
            let v = plain.unwrap();
            need(
                allowed.contains(&v.as_str()),
                format!("is `{v}`, must be one of {allowed:?}"),
            )
        }
        Form::Scheme(scheme) => {
            let v = plain.unwrap();
            need(
                v.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty()),
                format!("is `{v}`, must be a `{scheme}` URL"),
            )
        }
        Form::Plain => need(!plain.unwrap().is_empty(), "is empty".into()),
        Form::Number => {
            let v = plain.unwrap();
            need(
                imported(v) || v.parse::<u32>().is_ok(),
                format!("is `{v}`, must be a number"),
            )
        }
        Form::AtLeastConcurrency => {
            let Process::Sidekiq(concurrency) = process else {
                return None;
            };
            let v = plain.unwrap();
            need(
                v.parse::<u32>().is_ok_and(|n| n >= concurrency),
                format!("is `{v}`, must be at least the concurrency {concurrency}"),
            )
        }
        Form::ContainerPort => {
            let v = plain.unwrap();
            need(
                c.port.is_some_and(|p| p.to_string() == *v),
                format!("is `{v}`, the container listens on {:?}", c.port),
            )
        }
    }
}

/// The Mastodon fleets: the example, the per-queue fixture, the large one
/// with Sidekiq on Fargate Spot and the one-person one on one spot host.
fn mastodon_heritages() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for out in [
        repo().join("out"),
        repo().join("tests/fixtures/mastodon/out"),
        repo().join("tests/fixtures/mastodon-large/out"),
        repo().join("tests/fixtures/one-person/out"),
    ] {
        for district in std::fs::read_dir(&out).unwrap() {
            let district = district.unwrap().path();
            if !district.is_dir() {
                continue;
            }
            for heritage in std::fs::read_dir(&district).unwrap() {
                let heritage = heritage.unwrap().path();
                if heritage.join("task-definitions").is_dir() {
                    dirs.push(heritage);
                }
            }
        }
    }
    dirs.sort();
    dirs
}

#[test]
fn every_mastodon_container_gets_what_mastodon_reads() {
    let mut failures = Vec::new();
    let mut checked = 0;
    let heritages = mastodon_heritages();
    assert!(heritages.len() >= 3, "{heritages:?}");
    for dir in &heritages {
        for format in ["ecs", "cloudformation", "terraform"] {
            let found = containers(dir, format);
            assert!(
                !found.is_empty(),
                "{}: no containers in {format}",
                dir.display()
            );
            for c in &found {
                let process = c.process();
                for row in CONTRACT.iter().filter(|r| r.who.covers(process)) {
                    checked += 1;
                    if let Some(problem) = violation(row, c, process) {
                        failures.push(format!(
                            "{} ({process:?}): `{}` {problem} [{}]",
                            c.at, row.name, row.source
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Each Mastodon fleet has the three kinds of processes, so no row goes unchecked.
#[test]
fn every_mastodon_heritage_runs_web_sidekiq_and_streaming() {
    for dir in mastodon_heritages() {
        let processes: Vec<Process> = containers(&dir, "ecs")
            .iter()
            .map(Container::process)
            .collect();
        assert!(processes.contains(&Process::Web), "{}", dir.display());
        assert!(processes.contains(&Process::Streaming), "{}", dir.display());
        assert!(
            processes.iter().any(|p| matches!(p, Process::Sidekiq(_))),
            "{}",
            dir.display()
        );
    }
}

/// Streaming is routed for `/api/v1/streaming` and everything below it
/// (dist/nginx.conf:129-146, a prefix match), and the load balancer checks
/// each process where it answers `OK` (config/routes.rb:54 for web,
/// streaming/index.js:237-240 for streaming).
#[test]
fn streaming_routes_and_health_checks_follow_mastodon() {
    for dir in mastodon_heritages() {
        let app = read(&dir.join("app.cfn.json"));
        let resources = app["Resources"].as_object().unwrap();
        for (id, resource) in resources {
            if resource["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup" {
                let path = resource["Properties"]["HealthCheckPath"].as_str().unwrap();
                let want = if id.starts_with("Streaming") {
                    "/api/v1/streaming/health"
                } else {
                    "/health"
                };
                assert_eq!(path, want, "{}: {id}", dir.display());
            }
            if resource["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"
                && id.starts_with("Streaming")
            {
                let conditions = resource["Properties"]["Conditions"].to_string();
                for pattern in ["\"/api/v1/streaming\"", "\"/api/v1/streaming/*\""] {
                    assert!(
                        conditions.contains(pattern),
                        "{}: {id}: {conditions}",
                        dir.display()
                    );
                }
            }
        }
    }
}
