//! The reviewer's summary of a diff: per heritage (and per district), what
//! changed in the words of the YAML — `image v4.3.2 → v4.3.3 (2 services
//! roll)`, `web desired 1 → 2`, `database: engine postgres → mysql
//! (REPLACED: new empty database)`.
//!
//! It compares the resolved models ([`Fleet`]) of both sides, not the
//! templates. What a change does to a stateful resource is not worked out
//! again here: the words come from the verdicts of the resource view
//! ([`Diff`]) for that heritage's stacks, so the summary and the sections
//! below it never disagree. Only heritages and districts that differ are
//! looked at in depth, so the work is linear in the fleet.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Action, Diff, Impact, ResourceChange};
use crate::model::{Bucket, Cache, Database, District, Fleet, Heritage, Listener, Service};

/// Whether a heritage or district is new, gone or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Removed,
    Changed,
}

/// What changed in one heritage (or, with `heritage` `None`, one district's file).
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub district: String,
    /// `None` for the district's own settings.
    pub heritage: Option<String>,
    pub status: Status,
    /// The changes, each in the words of the YAML.
    pub changes: Vec<String>,
}

impl Entry {
    /// What the entry is about: the heritage's name, or `district <name>`.
    #[must_use]
    pub fn subject(&self) -> String {
        match &self.heritage {
            Some(h) => h.clone(),
            None => format!("district {}", self.district),
        }
    }

    /// The line without its subject: what groups identical changes.
    #[must_use]
    pub fn text(&self) -> String {
        self.changes.join("; ")
    }
}

/// The summary of a diff, in the reviewer's terms.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Why there is no summary, or what it is short of (the base has no
    /// `instances/`, its sources do not compile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub entries: Vec<Entry>,
}

/// Entries with the same text: `3 heritages (a, b, c): image … → …`.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub entries: Vec<&'a Entry>,
    pub text: String,
}

impl Group<'_> {
    /// What the group is about: `bcn-users`, or `3 heritages (a, b, c)`
    /// with at most `names_up_to` names.
    #[must_use]
    pub fn label(&self, names_up_to: usize) -> String {
        if self.entries.len() == 1 {
            return self.entries[0].subject();
        }
        let heritages = self.entries.iter().all(|e| e.heritage.is_some());
        let word = if heritages { "heritages" } else { "entries" };
        let names: Vec<String> = self
            .entries
            .iter()
            .take(names_up_to)
            .map(|e| e.subject())
            .collect();
        let more = self.entries.len().saturating_sub(names_up_to);
        let names = if more > 0 {
            format!("{} and {more} more", names.join(", "))
        } else {
            names.join(", ")
        };
        format!("{} {word} ({names})", self.entries.len())
    }

    /// The changes every entry of the group has.
    #[must_use]
    pub fn changes(&self) -> &[String] {
        &self.entries[0].changes
    }

    /// `bcn-users: a; b`, or `3 heritages (…): a; b`.
    #[must_use]
    pub fn line(&self, names_up_to: usize) -> String {
        format!("{}: {}", self.label(names_up_to), self.text)
    }
}

impl Summary {
    /// The summary when there are no base sources to compare with.
    #[must_use]
    pub fn unavailable(note: impl Into<String>) -> Self {
        Self {
            note: Some(format!("not available: {}", note.into())),
            entries: Vec::new(),
        }
    }

    /// Entries grouped by their text, in the order of each group's first entry.
    #[must_use]
    pub fn groups(&self) -> Vec<Group<'_>> {
        let mut order: Vec<Group<'_>> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for entry in &self.entries {
            let text = entry.text();
            if let Some(&i) = index.get(&text) {
                order[i].entries.push(entry);
            } else {
                index.insert(text.clone(), order.len());
                order.push(Group {
                    entries: vec![entry],
                    text,
                });
            }
        }
        order
    }
}

/// Resource types of each kind of stateful resource, in both targets.
const DATABASE: &[&str] = &["AWS::RDS::DBInstance", "aws_db_instance"];
const CACHE: &[&str] = &[
    "AWS::ElastiCache::ReplicationGroup",
    "aws_elasticache_replication_group",
];
const BUCKET: &[&str] = &["AWS::S3::Bucket", "aws_s3_bucket"];
const SECRET: &[&str] = &["AWS::SecretsManager::Secret", "aws_secretsmanager_secret"];
const REPOSITORY: &[&str] = &["AWS::ECR::Repository", "aws_ecr_repository"];

/// Reads the resource view's verdicts for one heritage's (or district's) stacks.
struct Verdicts<'a> {
    diff: &'a Diff,
    /// `mstdn/bcn-users/`, or `mstdn/district.` for a district's stacks.
    prefix: String,
}

impl Verdicts<'_> {
    /// The worst verdict on the resources of these types, in words; `None`
    /// when they are only added, updated in place or unchanged.
    fn of(&self, types: &[&str], what: &str) -> Option<String> {
        self.of_where(|r| types.contains(&r.resource_type.as_str()), what)
    }

    /// The worst verdict on the resources `pick` chooses, in words.
    fn of_where(&self, pick: impl Fn(&ResourceChange) -> bool, what: &str) -> Option<String> {
        let worst = self
            .diff
            .stacks
            .iter()
            .filter(|s| s.path.starts_with(&self.prefix))
            .flat_map(|s| &s.resources)
            .filter(|r| pick(r))
            .max_by_key(|r| r.impact)?;
        Some(match (worst.impact, worst.action) {
            (Impact::WillFail, Action::Replace) => {
                "WILL FAIL: the replacement is refused, see Will fail".to_owned()
            }
            (Impact::WillFail, Action::Remove) => {
                "WILL FAIL: the deletion is refused, see Will fail".to_owned()
            }
            (Impact::WillFail, _) => "WILL FAIL: see Will fail".to_owned(),
            (Impact::DataLoss, Action::Replace) => format!("REPLACED: new empty {what}"),
            (Impact::DataLoss, Action::Remove) => "DELETED: data at risk".to_owned(),
            (Impact::DataLoss, _) if worst.regenerates => {
                "GENERATED ANEW: the old value is lost".to_owned()
            }
            (Impact::DataLoss, _) => "MAY BE REPLACED: data at risk".to_owned(),
            (Impact::Replace, _) => "replaced".to_owned(),
            (Impact::Destroy, _) => "deleted".to_owned(),
            (Impact::Orphan, _) => "kept in AWS, outside the stack".to_owned(),
            _ => return None,
        })
    }

    /// The verdict on a service's ECS service: `SidekiqService`, or
    /// `aws_ecs_service.sidekiq`.
    fn of_service(&self, name: &str) -> Option<String> {
        let squash = |s: &str| -> String {
            s.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect()
        };
        let want = squash(name);
        self.of_where(
            |r| match r.resource_type.as_str() {
                "AWS::ECS::Service" => squash(&r.logical_id) == format!("{want}service"),
                "aws_ecs_service" => r
                    .logical_id
                    .strip_prefix("aws_ecs_service.")
                    .is_some_and(|n| squash(n) == want),
                _ => false,
            },
            "service",
        )
    }

    /// How many resources of these stacks (outputs too) will fail, and how
    /// many are stateful and at risk.
    fn counts(&self) -> (usize, usize) {
        let resources = || {
            self.diff
                .stacks
                .iter()
                .filter(|s| s.path.starts_with(&self.prefix))
                .flat_map(|s| &s.resources)
        };
        (
            resources().filter(|r| r.impact == Impact::WillFail).count(),
            resources()
                .filter(|r| r.stateful && r.impact == Impact::DataLoss)
                .count(),
        )
    }

    /// How many security changes are in these stacks.
    fn widened(&self) -> usize {
        self.diff
            .security
            .iter()
            .filter(|c| c.path.starts_with(&self.prefix))
            .count()
    }

    /// How many stateful resources of these stacks are at risk or will fail.
    fn at_risk(&self) -> usize {
        self.diff
            .stacks
            .iter()
            .filter(|s| s.path.starts_with(&self.prefix))
            .flat_map(|s| &s.resources)
            .filter(|r| r.stateful && r.impact >= Impact::DataLoss)
            .count()
    }
}

/// A value as the YAML spells it (an enum's serialized name).
fn word(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// `label before → after` when they differ.
fn field(out: &mut Vec<String>, label: &str, before: &impl ToString, after: &impl ToString) {
    let (b, a) = (before.to_string(), after.to_string());
    if b != a {
        out.push(format!("{label} {b} → {a}"));
    }
}

fn optional(value: Option<&impl ToString>) -> String {
    value.map_or_else(|| "none".to_owned(), ToString::to_string)
}

/// `label: changes (verdict)`, or nothing when nothing changed.
fn with_verdict(label: &str, changes: &[String], verdict: Option<String>) -> Option<String> {
    if changes.is_empty() && verdict.is_none() {
        return None;
    }
    let mut line = if changes.is_empty() {
        label.to_owned()
    } else {
        format!("{label}: {}", changes.join(", "))
    };
    if let Some(v) = verdict {
        line.push_str(&format!(" ({v})"));
    }
    Some(line)
}

/// Names added and removed: `+ env A`, `- env B`; a plain variable whose value
/// changes is `env C changed` (its value is not shown: it may be a secret).
fn variables(
    out: &mut Vec<String>,
    what: &str,
    before: &[(String, String)],
    after: &[(String, String)],
) {
    let b: BTreeMap<&str, &str> = before
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let a: BTreeMap<&str, &str> = after
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    for name in a.keys().filter(|n| !b.contains_key(*n)) {
        out.push(format!("+ {what} {name}"));
    }
    for name in b.keys().filter(|n| !a.contains_key(*n)) {
        out.push(format!("- {what} {name}"));
    }
    for (name, value) in &a {
        if b.get(name).is_some_and(|old| old != value) {
            out.push(format!("{what} {name} changed"));
        }
    }
}

fn plain(vars: &[crate::model::Variable]) -> Vec<(String, String)> {
    vars.iter()
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect()
}

fn secrets(vars: &[crate::model::Secret]) -> Vec<(String, String)> {
    vars.iter()
        .map(|v| (v.name.clone(), v.value_from.clone()))
        .collect()
}

fn conditions(listener: &Listener) -> String {
    listener
        .conditions
        .iter()
        .map(|c| format!("{} {}", word(&c.field), c.values.join(",")))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// One service's changes, each starting with its name.
fn service(out: &mut Vec<String>, b: &Service, a: &Service, verdict: Option<&str>) {
    let name = &a.name;
    let mut changes = Vec::new();
    field(&mut changes, "desired", &b.desired_count, &a.desired_count);
    field(
        &mut changes,
        "cpu",
        &optional(b.cpu.as_ref()),
        &optional(a.cpu.as_ref()),
    );
    field(&mut changes, "memory", &b.memory, &a.memory);
    let command = |c: &Option<Vec<String>>| {
        c.as_ref().map_or_else(
            || "(image default)".to_owned(),
            |c| shlex::try_join(c.iter().map(String::as_str)).unwrap_or_else(|_| c.join(" ")),
        )
    };
    let (bc, ac) = (command(&b.command), command(&a.command));
    if bc != ac {
        changes.push(format!("command `{bc}` → `{ac}`"));
    }
    field(
        &mut changes,
        "port",
        &optional(b.port.as_ref()),
        &optional(a.port.as_ref()),
    );
    field(
        &mut changes,
        "launch_type",
        &word(&b.launch_type),
        &word(&a.launch_type),
    );
    field(
        &mut changes,
        "service_type",
        &word(&b.service_type),
        &word(&a.service_type),
    );
    let scaling = |s: &Option<crate::model::Autoscaling>| {
        s.as_ref().map_or_else(
            || "none".to_owned(),
            |s| format!("{}..{} at {}% cpu", s.min, s.max, s.cpu_target),
        )
    };
    field(
        &mut changes,
        "autoscaling",
        &scaling(&b.autoscaling),
        &scaling(&a.autoscaling),
    );
    let by_endpoint = |s: &Service| -> BTreeMap<String, String> {
        s.listeners
            .iter()
            .map(|l| (l.endpoint.clone(), conditions(l)))
            .collect()
    };
    let (bl, al) = (by_endpoint(b), by_endpoint(a));
    for (endpoint, conds) in &al {
        match bl.get(endpoint) {
            None => changes.push(format!("+ listener {endpoint} ({conds})")),
            Some(old) if old != conds => {
                changes.push(format!("listener {endpoint}: {old} → {conds}"));
            }
            Some(_) => {}
        }
    }
    for endpoint in bl.keys().filter(|e| !al.contains_key(*e)) {
        changes.push(format!("- listener {endpoint}"));
    }
    variables(
        &mut changes,
        "env",
        &plain(&b.environment),
        &plain(&a.environment),
    );
    variables(
        &mut changes,
        "secret env",
        &secrets(&b.secrets),
        &secrets(&a.secrets),
    );
    let last = changes.len().saturating_sub(1);
    for (i, change) in changes.into_iter().enumerate() {
        match &verdict {
            Some(v) if i == last => out.push(format!("{name} {change} ({v})")),
            _ => out.push(format!("{name} {change}")),
        }
    }
}

fn database(d: &Database) -> String {
    format!("{} {}", word(&d.engine), d.version)
}

fn database_changes(b: &Database, a: &Database) -> Vec<String> {
    let mut c = Vec::new();
    field(&mut c, "engine", &word(&b.engine), &word(&a.engine));
    field(&mut c, "version", &b.version, &a.version);
    field(
        &mut c,
        "instance_class",
        &b.instance_class,
        &a.instance_class,
    );
    field(&mut c, "storage", &b.storage, &a.storage);
    field(&mut c, "name", &b.name, &a.name);
    field(&mut c, "user", &b.user, &a.user);
    field(&mut c, "port", &b.port, &a.port);
    field(&mut c, "multi_az", &b.multi_az, &a.multi_az);
    field(
        &mut c,
        "backup_retention_days",
        &b.backup_retention_days,
        &a.backup_retention_days,
    );
    field(
        &mut c,
        "deletion_protection",
        &b.deletion_protection,
        &a.deletion_protection,
    );
    field(
        &mut c,
        "prevent_destroy",
        &b.prevent_destroy,
        &a.prevent_destroy,
    );
    c
}

fn cache_changes(b: &Cache, a: &Cache) -> Vec<String> {
    let mut c = Vec::new();
    field(&mut c, "node_type", &b.node_type, &a.node_type);
    field(&mut c, "version", &b.version, &a.version);
    field(&mut c, "nodes", &b.nodes, &a.nodes);
    field(
        &mut c,
        "prevent_destroy",
        &b.prevent_destroy,
        &a.prevent_destroy,
    );
    c
}

fn bucket_changes(b: &Bucket, a: &Bucket) -> Vec<String> {
    let mut c = Vec::new();
    field(
        &mut c,
        "bucket_name",
        &optional(b.bucket_name.as_ref()),
        &optional(a.bucket_name.as_ref()),
    );
    let paths = |p: &[String]| format!("{p:?}");
    field(
        &mut c,
        "public_read",
        &paths(&b.public_read),
        &paths(&a.public_read),
    );
    field(&mut c, "versioning", &b.versioning, &a.versioning);
    field(
        &mut c,
        "prevent_destroy",
        &b.prevent_destroy,
        &a.prevent_destroy,
    );
    let logs = |l: Option<&crate::model::AccessLogs>| {
        optional(
            l.map(|l| format!("s3://{}/{}", l.bucket, l.prefix))
                .as_ref(),
        )
    };
    field(
        &mut c,
        "access_logs",
        &logs(b.access_logs.as_ref()),
        &logs(a.access_logs.as_ref()),
    );
    let cdn =
        |c: Option<&crate::model::BucketCdn>| optional(c.map(|c| c.aliases.join(",")).as_ref());
    field(&mut c, "cdn", &cdn(b.cdn.as_ref()), &cdn(a.cdn.as_ref()));
    c
}

/// A stateful resource that may be added, removed or changed.
fn stateful<T>(
    out: &mut Vec<String>,
    label: &str,
    before: Option<&T>,
    after: Option<&T>,
    describe: impl Fn(&T) -> String,
    changes: impl Fn(&T, &T) -> Vec<String>,
    verdict: Option<String>,
) {
    match (before, after) {
        (None, Some(a)) => out.push(format!("+ {label} ({})", describe(a))),
        (Some(_), None) => out.push(match verdict {
            Some(v) => format!("- {label} ({v})"),
            None => format!("- {label}"),
        }),
        (Some(b), Some(a)) => out.extend(with_verdict(label, &changes(b, a), verdict)),
        (None, None) => {}
    }
}

/// Everything that changed in one heritage, in the words of its YAML.
fn heritage(b: &Heritage, a: &Heritage, verdicts: &Verdicts<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if b.image != a.image {
        let (old, new) = match (b.image.rsplit_once(':'), a.image.rsplit_once(':')) {
            (Some((bn, bt)), Some((an, at))) if bn == an => (bt.to_owned(), at.to_owned()),
            _ => (b.image.clone(), a.image.clone()),
        };
        let mut roll = vec![match a.services.len() {
            1 => "1 service rolls".to_owned(),
            n => format!("{n} services roll"),
        }];
        if a.before_deploy.is_some() {
            roll.push("before_deploy runs".to_owned());
        }
        out.push(format!("image {old} → {new} ({})", roll.join(", ")));
    }
    let join = |c: &Option<Vec<String>>| {
        c.as_ref()
            .map_or_else(|| "none".to_owned(), |c| c.join(" "))
    };
    let (bd, ad) = (join(&b.before_deploy), join(&a.before_deploy));
    if bd != ad {
        out.push(format!("before_deploy `{bd}` → `{ad}`"));
    }
    let services = |h: &Heritage| -> BTreeMap<String, usize> {
        h.services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect()
    };
    let (bs, as_) = (services(b), services(a));
    for s in &a.services {
        match bs.get(&s.name) {
            None => out.push(format!("+ service {}", s.name)),
            Some(&i) => service(
                &mut out,
                &b.services[i],
                s,
                verdicts.of_service(&s.name).as_deref(),
            ),
        }
    }
    for s in &b.services {
        if !as_.contains_key(&s.name) {
            out.push(format!("- service {}", s.name));
        }
    }
    variables(
        &mut out,
        "env",
        &plain(&b.environment),
        &plain(&a.environment),
    );
    variables(
        &mut out,
        "secret env",
        &secrets(&b.secrets),
        &secrets(&a.secrets),
    );
    let tasks = |h: &Heritage| -> BTreeMap<String, String> {
        h.scheduled_tasks
            .iter()
            .map(|t| (t.name.clone(), t.schedule.clone()))
            .collect()
    };
    let (bt, at) = (tasks(b), tasks(a));
    for (name, schedule) in &at {
        match bt.get(name) {
            None => out.push(format!("+ scheduled task {name} ({schedule})")),
            Some(old) if old != schedule => {
                out.push(format!("scheduled task {name} schedule {old} → {schedule}"));
            }
            Some(_) => {}
        }
    }
    for name in bt.keys().filter(|n| !at.contains_key(*n)) {
        out.push(format!("- scheduled task {name}"));
    }
    let (br, ar) = (&b.resources, &a.resources);
    stateful(
        &mut out,
        "database",
        br.database.as_ref(),
        ar.database.as_ref(),
        database,
        database_changes,
        verdicts.of(DATABASE, "database"),
    );
    stateful(
        &mut out,
        "cache",
        br.cache.as_ref(),
        ar.cache.as_ref(),
        |c: &Cache| format!("{} ×{}", c.node_type, c.nodes),
        cache_changes,
        verdicts.of(CACHE, "cache"),
    );
    let buckets = |r: &crate::model::Resources| -> BTreeMap<String, Bucket> {
        r.buckets
            .iter()
            .map(|x| (x.name.clone(), x.clone()))
            .collect()
    };
    let (bb, ab) = (buckets(br), buckets(ar));
    let names: BTreeSet<&String> = bb.keys().chain(ab.keys()).collect();
    // The verdict is per kind: with one bucket changing it is that bucket's.
    let bucket_verdict = verdicts.of(BUCKET, "bucket");
    for name in names {
        stateful(
            &mut out,
            &format!("bucket {name}"),
            bb.get(name),
            ab.get(name),
            |x: &Bucket| {
                if x.versioning {
                    "versioned".to_owned()
                } else {
                    "unversioned".to_owned()
                }
            },
            bucket_changes,
            bucket_verdict.clone(),
        );
    }
    let generated = |r: &crate::model::Resources| -> BTreeMap<String, (u32, String, bool)> {
        r.secrets
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    (s.length, word(&s.characters), s.prevent_destroy),
                )
            })
            .collect()
    };
    let (bg, ag) = (generated(br), generated(ar));
    let names: BTreeSet<&String> = bg.keys().chain(ag.keys()).collect();
    let secret_verdict = verdicts.of(SECRET, "secret");
    for name in names {
        stateful(
            &mut out,
            &format!("generated secret {name}"),
            bg.get(name),
            ag.get(name),
            |(length, ..)| format!("length {length}"),
            |(bl, bch, bp), (al, ach, ap)| {
                let mut c = Vec::new();
                field(&mut c, "length", bl, al);
                field(&mut c, "characters", bch, ach);
                field(&mut c, "prevent_destroy", bp, ap);
                c
            },
            secret_verdict.clone(),
        );
    }
    let repos = |r: &crate::model::Resources| -> BTreeMap<String, (u32, bool)> {
        r.repositories
            .iter()
            .map(|x| (x.name.clone(), (x.untagged_expire_days, x.prevent_destroy)))
            .collect()
    };
    let (bre, are) = (repos(br), repos(ar));
    let names: BTreeSet<&String> = bre.keys().chain(are.keys()).collect();
    let repo_verdict = verdicts.of(REPOSITORY, "repository");
    for name in names {
        stateful(
            &mut out,
            &format!("repository {name}"),
            bre.get(name),
            are.get(name),
            |_| "new".to_owned(),
            |(bd, bp), (ad, ap)| {
                let mut c = Vec::new();
                field(&mut c, "untagged_expire_days", bd, ad);
                field(&mut c, "prevent_destroy", bp, ap);
                c
            },
            repo_verdict.clone(),
        );
    }
    sections(&mut out, verdicts);
    out
}

/// Points at the sections below for what the lines above do not already
/// name: refused changes, data at risk, widened access.
fn sections(out: &mut Vec<String>, verdicts: &Verdicts<'_>) {
    let said = |words: &[&str]| out.iter().any(|l| words.iter().any(|w| l.contains(w)));
    let (fail, risk) = verdicts.counts();
    let widened = verdicts.widened();
    let mut more = Vec::new();
    if fail > 0 && !said(&["WILL FAIL"]) {
        more.push(format!(
            "WILL FAIL: {} refused, see Will fail",
            if fail == 1 {
                "1 change".to_owned()
            } else {
                format!("{fail} changes")
            }
        ));
    }
    if risk > 0 && !said(&["REPLACED", "DELETED", "GENERATED ANEW", "MAY BE REPLACED"]) {
        more.push(format!(
            "DATA AT RISK: {risk} stateful resource{}, see Data at risk",
            if risk == 1 { "" } else { "s" }
        ));
    }
    if widened > 0 {
        more.push(
            format!(
                "WIDENS ACCESS: {} , see Security",
                if widened == 1 {
                    "1 change".to_owned()
                } else {
                    format!("{widened} changes")
                }
            )
            .replace(" ,", ","),
        );
    }
    out.extend(more);
}

fn endpoints(d: &District) -> BTreeMap<String, &crate::model::Endpoint> {
    d.endpoints.iter().map(|e| (e.name.clone(), e)).collect()
}

/// Everything that changed in a district's own file.
fn district(b: &District, a: &District) -> Vec<String> {
    let mut out = Vec::new();
    let (bc, ac) = (&b.cluster, &a.cluster);
    field(&mut out, "region", &b.region, &a.region);
    field(
        &mut out,
        "cluster instance_type",
        &bc.instance_type,
        &ac.instance_type,
    );
    field(&mut out, "cluster size", &bc.size, &ac.size);
    field(&mut out, "cluster max_size", &bc.max_size, &ac.max_size);
    field(
        &mut out,
        "cluster spot_share",
        &bc.spot_share,
        &ac.spot_share,
    );
    field(
        &mut out,
        "cluster availability_zones",
        &bc.availability_zones,
        &ac.availability_zones,
    );
    let (bn, an) = (&b.network, &a.network);
    field(&mut out, "network cidr", &bn.cidr, &an.cidr);
    field(
        &mut out,
        "network availability_zones",
        &bn.availability_zones,
        &an.availability_zones,
    );
    field(&mut out, "network nat", &word(&bn.nat), &word(&an.nat));
    field(
        &mut out,
        "network egress_ports",
        &format!("{:?}", bn.egress_ports),
        &format!("{:?}", an.egress_ports),
    );
    let s3 = |bucket: &str, prefix: Option<&str>| match prefix {
        Some(prefix) => format!("s3://{bucket}/{prefix}"),
        None => format!("s3://{bucket}"),
    };
    field(
        &mut out,
        "network flow_logs",
        &optional(
            bn.flow_logs
                .as_ref()
                .map(|f| s3(&f.bucket, f.prefix.as_deref()))
                .as_ref(),
        ),
        &optional(
            an.flow_logs
                .as_ref()
                .map(|f| s3(&f.bucket, f.prefix.as_deref()))
                .as_ref(),
        ),
    );
    field(
        &mut out,
        "account_id",
        &optional(b.account_id.as_ref()),
        &optional(a.account_id.as_ref()),
    );
    let targets = |t: &crate::model::Targets| {
        let mut v = Vec::new();
        if t.cloudformation {
            v.push("cloudformation");
        }
        if t.terraform {
            v.push("terraform");
        }
        format!("[{}]", v.join(", "))
    };
    field(
        &mut out,
        "targets",
        &targets(&b.targets),
        &targets(&a.targets),
    );
    let zones = |zones: &[crate::model::dns::Zone]| {
        let list: Vec<String> = zones
            .iter()
            .map(|z| format!("{} ({})", z.name, z.zone_id))
            .collect();
        optional((!list.is_empty()).then(|| list.join(",")).as_ref())
    };
    field(&mut out, "dns", &zones(&b.dns), &zones(&a.dns));
    let (be, ae) = (endpoints(b), endpoints(a));
    for (name, after) in &ae {
        let (public, policy, lbs) = (&after.public, &after.ssl_policy, &after.load_balancers);
        match be.get(name) {
            None => out.push(format!("+ endpoint {name}")),
            Some(before) => {
                let (bp, bpol, blbs) = (&before.public, &before.ssl_policy, &before.load_balancers);
                field(
                    &mut out,
                    &format!("endpoint {name} certificate_arn"),
                    &before.certificate_arn,
                    &after.certificate_arn,
                );
                let logs = |e: &crate::model::Endpoint| {
                    optional(
                        e.access_logs
                            .as_ref()
                            .map(|l| s3(&l.bucket, Some(&l.prefix)))
                            .as_ref(),
                    )
                };
                field(
                    &mut out,
                    &format!("endpoint {name} access_logs"),
                    &logs(before),
                    &logs(after),
                );
                field(
                    &mut out,
                    &format!("endpoint {name} web_acl_arn"),
                    &optional(before.web_acl_arn.as_ref()),
                    &optional(after.web_acl_arn.as_ref()),
                );
                let cdn = |c: Option<&crate::model::EndpointCdn>| {
                    optional(
                        c.map(|c| format!("{} caching {:?}", c.aliases.join(","), c.cached_paths))
                            .as_ref(),
                    )
                };
                field(
                    &mut out,
                    &format!("endpoint {name} cdn"),
                    &cdn(before.cdn.as_ref()),
                    &cdn(after.cdn.as_ref()),
                );
                field(&mut out, &format!("endpoint {name} public"), bp, public);
                field(
                    &mut out,
                    &format!("endpoint {name} ssl_policy"),
                    bpol,
                    policy,
                );
                field(
                    &mut out,
                    &format!("endpoint {name} load_balancers"),
                    blbs,
                    lbs,
                );
            }
        }
    }
    for name in be.keys().filter(|n| !ae.contains_key(*n)) {
        out.push(format!("- endpoint {name}"));
    }
    out
}

/// Compares the resolved fleets of both sides, in the words of their YAML,
/// with the resource view's verdicts on what the changes do.
#[must_use]
pub fn summarize(before: &Fleet, after: &Fleet, diff: &Diff) -> Summary {
    let mut entries = Vec::new();
    let districts = |f: &Fleet| -> BTreeMap<String, usize> {
        f.districts
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), i))
            .collect()
    };
    let (bd, ad) = (districts(before), districts(after));
    let names: BTreeSet<&String> = bd.keys().chain(ad.keys()).collect();
    for name in names {
        let b = bd.get(name).map(|&i| &before.districts[i]);
        let a = ad.get(name).map(|&i| &after.districts[i]);
        let district_verdicts = Verdicts {
            diff,
            prefix: format!("{name}/district."),
        };
        match (b, a) {
            (None, Some(a)) => entries.push(Entry {
                district: name.clone(),
                heritage: None,
                status: Status::Added,
                changes: vec![format!(
                    "+ district ({} heritages, {} × {})",
                    a.heritages.len(),
                    a.cluster.size,
                    a.cluster.instance_type
                )],
            }),
            (Some(_), None) => entries.push(Entry {
                district: name.clone(),
                heritage: None,
                status: Status::Removed,
                changes: vec![match district_verdicts.at_risk() {
                    0 => "- district".to_owned(),
                    n => format!("- district ({n} resources at risk or failing)"),
                }],
            }),
            (Some(b), Some(a)) => {
                let mut changes = district(b, a);
                if !changes.is_empty() {
                    sections(&mut changes, &district_verdicts);
                    entries.push(Entry {
                        district: name.clone(),
                        heritage: None,
                        status: Status::Changed,
                        changes,
                    });
                }
            }
            (None, None) => {}
        }
        let heritages = |d: Option<&District>| -> BTreeMap<String, usize> {
            d.map(|d| {
                d.heritages
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (h.name.clone(), i))
                    .collect()
            })
            .unwrap_or_default()
        };
        let (bh, ah) = (heritages(b), heritages(a));
        let names: BTreeSet<&String> = bh.keys().chain(ah.keys()).collect();
        for heritage_name in names {
            let verdicts = Verdicts {
                diff,
                prefix: format!("{name}/{heritage_name}/"),
            };
            let old = b.zip(bh.get(heritage_name)).map(|(d, &i)| &d.heritages[i]);
            let new = a.zip(ah.get(heritage_name)).map(|(d, &i)| &d.heritages[i]);
            let (status, changes) = match (old, new) {
                (None, Some(h)) => (
                    Status::Added,
                    vec![format!(
                        "+ heritage ({} services, image {})",
                        h.services.len(),
                        h.image_tag
                    )],
                ),
                (Some(_), None) => (
                    Status::Removed,
                    vec![match verdicts.at_risk() {
                        0 => "- heritage".to_owned(),
                        n => format!(
                            "- heritage ({n} stateful resource{} at risk or failing)",
                            if n == 1 { "" } else { "s" }
                        ),
                    }],
                ),
                (Some(o), Some(n)) => (Status::Changed, heritage(o, n, &verdicts)),
                (None, None) => continue,
            };
            if !changes.is_empty() {
                entries.push(Entry {
                    district: name.clone(),
                    heritage: Some(heritage_name.clone()),
                    status,
                    changes,
                });
            }
        }
    }
    Summary {
        note: None,
        entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Secret, Variable};

    /// The resolved fleet of a golden diff case's side.
    fn fleet(case: &str, side: &str) -> Fleet {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/diff")
            .join(case)
            .join(side);
        crate::compiler::analyze(&root)
            .expect("the fixture loads")
            .fleet
            .expect("the fixture compiles")
    }

    fn lines(before: &Fleet, after: &Fleet) -> Vec<String> {
        summarize(before, after, &Diff::default())
            .groups()
            .iter()
            .map(|g| g.line(3))
            .collect()
    }

    #[test]
    fn services_environment_and_secrets_in_the_words_of_the_yaml() {
        let before = fleet("command", "before");
        let mut after = before.clone();
        let h = &mut after.districts[0].heritages[0];
        h.services[0].desired_count = 2;
        h.services[0].memory = 1024;
        h.services[0].listeners[0].conditions[0].values = vec!["new.example.social".into()];
        h.services.pop();
        h.environment.push(Variable {
            name: "LOCAL_DOMAIN".into(),
            value: "users.example".into(),
        });
        h.secrets.push(Secret {
            name: "OTP_SECRET".into(),
            value_from: "/barcelona/mstdn/otp-secret-value".into(),
        });
        let summary = lines(&before, &after);
        assert_eq!(
            summary,
            ["bcn-users: web desired 1 → 2; web memory 512 → 1024; \
                 web listener mstdn: host-header bcn-users.example.social → host-header new.example.social; \
                 - service sidekiq; + env LOCAL_DOMAIN; + secret env OTP_SECRET"]
        );
        // A changed value is named, never shown: it may be a secret.
        let mut changed = after.clone();
        changed.districts[0].heritages[0].environment[0].value = "hunter2".into();
        changed.districts[0].heritages[0].secrets[0].value_from = "/barcelona/other".into();
        let text = lines(&after, &changed).join("\n");
        assert!(text.contains("env LOCAL_DOMAIN changed"), "{text}");
        assert!(text.contains("secret env OTP_SECRET changed"), "{text}");
        assert!(
            !text.contains("hunter2") && !text.contains("/barcelona"),
            "{text}"
        );
    }

    #[test]
    fn heritages_and_districts_added_removed_and_changed() {
        let before = fleet("command", "before");
        let mut after = before.clone();
        after.districts[0].cluster.size = 3;
        after.districts[0].cluster.instance_type = "t3.medium".into();
        let mut new = after.districts[0].heritages[0].clone();
        new.name = "fresh".into();
        after.districts[0].heritages.push(new);
        assert_eq!(
            lines(&before, &after),
            [
                "district mstdn: cluster instance_type t3.small → t3.medium; cluster size 2 → 3",
                "fresh: + heritage (2 services, image v4.3.2)"
            ]
        );
        assert_eq!(lines(&after, &before)[1], "fresh: - heritage");
    }

    #[test]
    fn a_bucket_cdn_is_a_bucket_change() {
        let before = Bucket {
            name: "media".into(),
            bucket_name: None,
            public_read: vec!["media_attachments/".into()],
            versioning: true,
            prevent_destroy: true,
            access_logs: None,
            cdn: None,
        };
        let mut after = before.clone();
        after.cdn = Some(crate::model::BucketCdn {
            aliases: vec!["files.example".into(), "media.example".into()],
            certificate_arn: "arn:aws:acm:us-east-1:111111111111:certificate/c".into(),
        });
        assert_eq!(
            bucket_changes(&before, &after),
            ["cdn none → files.example,media.example"]
        );
        assert!(bucket_changes(&after, &after).is_empty());
    }

    #[test]
    fn logs_waf_certificates_and_account_are_district_changes() {
        let before = fleet("command", "before");
        let mut after = before.clone();
        let d = &mut after.districts[0];
        d.network.flow_logs = Some(crate::model::FlowLogs {
            bucket: "mstdn-flow-logs".into(),
            prefix: None,
        });
        d.account_id = Some("111111111111".into());
        d.dns = vec![crate::model::dns::Zone {
            name: "example.social".into(),
            zone_id: "Z0123456789ABCDEFGHIJ".into(),
        }];
        d.endpoints[0].web_acl_arn =
            Some("arn:aws:wafv2:ap-northeast-1:111111111111:regional/webacl/w/1".into());
        d.endpoints[0].cdn = Some(crate::model::EndpointCdn {
            aliases: vec!["app.example".into()],
            certificate_arn: "arn:aws:acm:us-east-1:111111111111:certificate/c".into(),
            cached_paths: vec!["/packs/*".into()],
        });
        d.endpoints[0].certificate_arn =
            "arn:aws:acm:ap-northeast-1:111111111111:certificate/new".into();
        let name = d.endpoints[0].name.clone();
        let old = before.districts[0].endpoints[0].certificate_arn.clone();
        assert_eq!(
            lines(&before, &after),
            [format!(
                "district mstdn: network flow_logs none → s3://mstdn-flow-logs; account_id none → 111111111111; \
                 dns none → example.social (Z0123456789ABCDEFGHIJ); \
                 endpoint {name} certificate_arn {old} → arn:aws:acm:ap-northeast-1:111111111111:certificate/new; \
                 endpoint {name} web_acl_arn none → arn:aws:wafv2:ap-northeast-1:111111111111:regional/webacl/w/1; \
                 endpoint {name} cdn none → app.example caching [\"/packs/*\"]"
            )]
        );
    }

    #[test]
    fn identical_changes_are_one_group_whatever_the_fleet_size() {
        let before = fleet("command", "before");
        let template = before.districts[0].heritages[0].clone();
        let mut before = before;
        before.districts[0].heritages = (0..200)
            .map(|i| Heritage {
                name: format!("h{i:03}"),
                ..template.clone()
            })
            .collect();
        let mut after = before.clone();
        for h in &mut after.districts[0].heritages {
            h.image = h.image.replace("v4.3.2", "v4.3.3");
            h.image_tag = "v4.3.3".into();
        }
        after.districts[0].heritages[7].services[0].desired_count = 2;
        let summary = summarize(&before, &after, &Diff::default());
        assert_eq!(summary.entries.len(), 200);
        let groups: Vec<String> = summary.groups().iter().map(|g| g.line(3)).collect();
        assert_eq!(
            groups,
            [
                "199 heritages (h000, h001, h002 and 196 more): image v4.3.2 → v4.3.3 (2 services roll)",
                "h007: image v4.3.2 → v4.3.3 (2 services roll); web desired 1 → 2"
            ]
        );
        let diff = Diff {
            summary,
            artifacts: vec![crate::diff::ArtifactChange::new(
                "x",
                Some("a\n"),
                Some("b\n"),
            )],
            ..Diff::default()
        };
        let comment = crate::diff::render::markdown::render(&diff, "`out/`");
        assert_eq!(comment.matches("\n- **").count(), 2, "{comment}");
        assert!(comment.contains("- **199 heritages (h000, h001, h002, h003, h004, h005, h006, h008, h009, h010 and 189 more)**: `image v4.3.2 → v4.3.3 (2 services roll)`\n"), "{comment}");
    }
}
