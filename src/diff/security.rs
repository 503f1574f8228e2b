//! Changes that widen access, as `cdk diff`'s security section shows them:
//! IAM policy statements that allow more (new actions, resources or
//! principals, a condition dropped), ingress that opens (a security group or
//! network ACL rule with a wider CIDR or more ports), and a resource that
//! becomes public (a statement allowing `*`, a public access block turned
//! off, a database made publicly accessible).
//!
//! Each resource is compared with its own previous version, so a statement or
//! rule that moves to another resource counts as new there. A new artifact (a
//! new stack or Terraform file) is left out: it is reviewed whole. Only `Allow`
//! statements are followed: a removed `Deny` is not seen.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::Target;

/// What kind of access widens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecurityKind {
    /// An IAM policy statement allows more.
    Statement,
    /// A security group or network ACL lets more in.
    Ingress,
    /// A resource becomes reachable by anyone.
    Public,
}

/// One widening of access.
#[derive(Debug, Clone, Serialize)]
pub struct SecurityChange {
    /// The artifact, under `out/`.
    pub path: String,
    pub target: Target,
    /// The stack's name (a Terraform file's path).
    pub stack: String,
    /// The logical id or resource address.
    pub resource: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub kind: SecurityKind,
    /// What widens, for people.
    pub description: String,
}

/// A policy statement, normalised: every list as strings.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    sid: Option<String>,
    actions: Vec<String>,
    resources: Vec<String>,
    principals: Vec<String>,
    condition: Option<String>,
}

/// A value as text for matching: strings as they are, `Fn::Sub` by its
/// pattern, anything else as compact JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(map) if map.len() == 1 && map.contains_key("Fn::Sub") => {
            match &map["Fn::Sub"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        }
        other => other.to_string(),
    }
}

fn texts(value: Option<&Value>) -> Vec<String> {
    match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(text).collect(),
        Some(v) => vec![text(v)],
    }
}

fn principals(value: Option<&Value>) -> Vec<String> {
    match value {
        None => Vec::new(),
        Some(Value::String(s)) if s == "*" => vec!["*".to_owned()],
        Some(Value::Object(map)) => map
            .iter()
            .flat_map(|(kind, v)| {
                texts(Some(v)).into_iter().map(move |p| {
                    if p == "*" && kind == "AWS" {
                        "*".to_owned()
                    } else {
                        format!("{kind}:{p}")
                    }
                })
            })
            .collect(),
        Some(v) => vec![text(v)],
    }
}

/// Whether the IAM-style pattern (`*`, `?`) matches the text, ignoring case
/// as IAM does for actions.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (
        pattern.to_lowercase().chars().collect(),
        text.to_lowercase().chars().collect(),
    );
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn covered(patterns: &[String], item: &str) -> bool {
    patterns.iter().any(|p| glob(p, item))
}

/// The items of `after` that no pattern of `before` covers.
fn added(before: &[String], after: &[String]) -> Vec<String> {
    after
        .iter()
        .filter(|a| !covered(before, a))
        .cloned()
        .collect()
}

/// Every `Allow` statement of the policy documents in a value.
fn statements(value: &Value, out: &mut Vec<Statement>) {
    match value {
        Value::Object(map) => {
            if let Some(list) = map.get("Statement") {
                let items = match list {
                    Value::Array(items) => items.clone(),
                    other => vec![other.clone()],
                };
                for s in items {
                    if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
                        continue;
                    }
                    out.push(Statement {
                        sid: s.get("Sid").map(text),
                        actions: [
                            texts(s.get("Action")),
                            texts(s.get("NotAction"))
                                .into_iter()
                                .map(|a| format!("not {a}"))
                                .collect(),
                        ]
                        .concat(),
                        resources: [
                            texts(s.get("Resource")),
                            texts(s.get("NotResource"))
                                .into_iter()
                                .map(|r| format!("not {r}"))
                                .collect(),
                        ]
                        .concat(),
                        principals: principals(s.get("Principal")),
                        condition: s.get("Condition").map(Value::to_string),
                    });
                }
                return;
            }
            map.values().for_each(|v| statements(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| statements(v, out)),
        _ => {}
    }
}

fn covers(old: &Statement, new: &Statement) -> bool {
    added(&old.actions, &new.actions).is_empty()
        && added(&old.resources, &new.resources).is_empty()
        && added(&old.principals, &new.principals).is_empty()
        && (old.condition.is_none() || old.condition == new.condition)
}

/// How the statements of one resource widen.
fn statement_changes(before: &[Statement], after: &[Statement]) -> Vec<(SecurityKind, String)> {
    let mut found = Vec::new();
    for (i, new) in after.iter().enumerate() {
        if before.iter().any(|old| covers(old, new)) {
            continue;
        }
        let public = new.principals.iter().any(|p| p == "*");
        let kind = if public {
            SecurityKind::Public
        } else {
            SecurityKind::Statement
        };
        let old = before
            .iter()
            .find(|o| o.sid.is_some() && o.sid == new.sid)
            .or_else(|| before.get(i));
        let name = new.sid.as_ref().map_or_else(
            || format!("statement {}", i + 1),
            |s| format!("statement {s}"),
        );
        let to = if public {
            " to everyone (Principal *)".to_owned()
        } else if new.principals.is_empty() {
            String::new()
        } else {
            format!(" to {}", new.principals.join(", "))
        };
        let description = match old {
            Some(old) => {
                let mut parts = Vec::new();
                for (what, items) in [
                    ("actions", added(&old.actions, &new.actions)),
                    ("resources", added(&old.resources, &new.resources)),
                    ("principals", added(&old.principals, &new.principals)),
                ] {
                    if !items.is_empty() {
                        parts.push(format!("{what} + {}", items.join(", ")));
                    }
                }
                if old.condition.is_some() && old.condition != new.condition {
                    parts.push("its condition changes or goes".to_owned());
                }
                format!("{name} allows more{to}: {}", parts.join("; "))
            }
            None => format!(
                "new {name} allows {} on {}{to}",
                new.actions.join(", "),
                new.resources.join(", ")
            ),
        };
        found.push((kind, description));
    }
    found
}

/// An ingress rule, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ingress {
    protocol: String,
    from: i64,
    to: i64,
    source: String,
}

fn number(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// An IPv4 CIDR as (network, prefix length).
fn cidr(text: &str) -> Option<(u32, u32)> {
    let (address, bits) = text.split_once('/')?;
    let ip: std::net::Ipv4Addr = address.parse().ok()?;
    let bits: u32 = bits.parse().ok().filter(|b| *b <= 32)?;
    Some((u32::from(ip), bits))
}

fn contains(outer: &str, inner: &str) -> bool {
    match (cidr(outer), cidr(inner)) {
        (Some((a, n)), Some((b, m))) => {
            let mask = if n == 0 { 0 } else { u32::MAX << (32 - n) };
            n <= m && (a & mask) == (b & mask)
        }
        _ => outer == inner,
    }
}

fn ingress_covers(old: &Ingress, new: &Ingress) -> bool {
    (old.protocol == "-1" || old.protocol == new.protocol)
        && old.from <= new.from
        && new.to <= old.to
        && contains(&old.source, &new.source)
}

/// A rule from CloudFormation's or Terraform's spelling of its fields.
fn ingress(rule: &Value, terraform: bool) -> Option<Ingress> {
    let get = |cfn: &str, tf: &str| rule.get(if terraform { tf } else { cfn });
    let protocol = text(
        get("IpProtocol", "ip_protocol")
            .or_else(|| get("Protocol", "protocol"))
            .unwrap_or(&Value::String("-1".to_owned())),
    );
    let protocol = match protocol.as_str() {
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "all" => "-1".to_owned(),
        other => other.to_lowercase(),
    };
    let range = rule.get("PortRange");
    let from = number(get("FromPort", "from_port").or_else(|| range.and_then(|r| r.get("From"))));
    let to = number(get("ToPort", "to_port").or_else(|| range.and_then(|r| r.get("To"))));
    let (from, to) = match (from, to) {
        _ if protocol == "-1" => (0, 65_535),
        (Some(f), Some(t)) if f >= 0 => (f, t),
        _ => (0, 65_535),
    };
    let source = [
        ("CidrIp", "cidr_ipv4"),
        ("CidrBlock", "cidr_block"),
        ("CidrIpv6", "cidr_ipv6"),
        ("SourceSecurityGroupId", "referenced_security_group_id"),
        ("SourcePrefixListId", "prefix_list_id"),
    ]
    .iter()
    .find_map(|(c, t)| get(c, t))
    .map(text)?;
    Some(Ingress {
        protocol,
        from,
        to,
        source,
    })
}

/// The ingress rules a resource lets in: a security group's inline ones, a
/// stand-alone rule, or an allowing inbound network ACL entry.
fn rules(resource_type: &str, properties: &Value) -> Vec<Ingress> {
    let terraform = !resource_type.starts_with("AWS::");
    match resource_type {
        "AWS::EC2::SecurityGroup" => properties
            .get("SecurityGroupIngress")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(|r| ingress(r, false)).collect())
            .unwrap_or_default(),
        "AWS::EC2::SecurityGroupIngress" | "aws_vpc_security_group_ingress_rule" => {
            ingress(properties, terraform).into_iter().collect()
        }
        "AWS::EC2::NetworkAclEntry" | "aws_network_acl_rule" => {
            let egress = properties.get(if terraform { "egress" } else { "Egress" });
            let action = properties.get(if terraform {
                "rule_action"
            } else {
                "RuleAction"
            });
            let inbound = egress.is_none_or(|e| text(e) != "true");
            let allows = action.is_some_and(|a| text(a) == "allow");
            if inbound && allows {
                ingress(properties, terraform).into_iter().collect()
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

fn show_rule(rule: &Ingress) -> String {
    let protocol = if rule.protocol == "-1" {
        "all traffic".to_owned()
    } else if rule.from == rule.to {
        format!("{} {}", rule.protocol, rule.from)
    } else {
        format!("{} {}-{}", rule.protocol, rule.from, rule.to)
    };
    format!("{protocol} from {}", rule.source)
}

/// Flags that keep a resource private, by type: (flag, the value that keeps it).
const PRIVATE_FLAGS: &[(&str, &str, bool)] = &[
    (
        "AWS::S3::Bucket",
        "PublicAccessBlockConfiguration.BlockPublicAcls",
        true,
    ),
    (
        "AWS::S3::Bucket",
        "PublicAccessBlockConfiguration.BlockPublicPolicy",
        true,
    ),
    (
        "AWS::S3::Bucket",
        "PublicAccessBlockConfiguration.IgnorePublicAcls",
        true,
    ),
    (
        "AWS::S3::Bucket",
        "PublicAccessBlockConfiguration.RestrictPublicBuckets",
        true,
    ),
    (
        "aws_s3_bucket_public_access_block",
        "block_public_acls",
        true,
    ),
    (
        "aws_s3_bucket_public_access_block",
        "block_public_policy",
        true,
    ),
    (
        "aws_s3_bucket_public_access_block",
        "ignore_public_acls",
        true,
    ),
    (
        "aws_s3_bucket_public_access_block",
        "restrict_public_buckets",
        true,
    ),
    ("AWS::RDS::DBInstance", "PubliclyAccessible", false),
    ("aws_db_instance", "publicly_accessible", false),
];

fn at<'a>(value: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(value, |v, key| v.get(key))
}

/// How one resource's access widens from `before` (absent when it is new)
/// to `after`: `properties` are its `Properties` (CloudFormation) or its
/// arguments with policy strings resolved (Terraform).
#[must_use]
pub fn widenings(
    resource_type: &str,
    before: Option<&Value>,
    after: &Value,
) -> Vec<(SecurityKind, String)> {
    let mut found = Vec::new();
    let (mut old, mut new) = (Vec::new(), Vec::new());
    if let Some(before) = before {
        statements(before, &mut old);
    }
    statements(after, &mut new);
    found.extend(statement_changes(&old, &new));
    let old_rules = before.map(|b| rules(resource_type, b)).unwrap_or_default();
    let mut seen = BTreeSet::new();
    for rule in rules(resource_type, after) {
        if old_rules.iter().any(|o| ingress_covers(o, &rule)) || !seen.insert(show_rule(&rule)) {
            continue;
        }
        let wider = old_rules
            .iter()
            .find(|o| o.protocol == rule.protocol || o.source == rule.source);
        let description = match wider {
            Some(o) => format!("ingress opens: {} (was {})", show_rule(&rule), show_rule(o)),
            None => format!("ingress opens: {}", show_rule(&rule)),
        };
        found.push((SecurityKind::Ingress, description));
    }
    for (kind, flag, private) in PRIVATE_FLAGS {
        if *kind != resource_type {
            continue;
        }
        let keeps = |v: Option<&Value>| v.is_some_and(|v| text(v) == private.to_string());
        let was_private = before.is_none_or(|b| keeps(at(b, flag)));
        if was_private && !keeps(at(after, flag)) && before.is_some() {
            found.push((
                SecurityKind::Public,
                format!(
                    "{flag}: {} → {}",
                    before
                        .and_then(|b| at(b, flag))
                        .map_or("(absent)".to_owned(), Value::to_string),
                    at(after, flag).map_or("(absent)".to_owned(), Value::to_string)
                ),
            ));
        }
    }
    found
}

/// The widenings of one CloudFormation template's resources.
#[must_use]
pub fn of_template(
    path: &str,
    stack: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> Vec<SecurityChange> {
    let parse = |t: Option<&str>| t.and_then(|t| serde_json::from_str::<Value>(t).ok());
    // A new stack is reviewed whole: listing its every statement would drown
    // the section.
    let (Some(after), Some(before)) = (parse(after), parse(before)) else {
        return Vec::new();
    };
    let before = Some(before);
    let resources = |t: &Value| t.get("Resources").and_then(Value::as_object).cloned();
    let (Some(ra), rb) = (resources(&after), before.as_ref().and_then(resources)) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (id, resource) in &ra {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        let props = |r: &Value| r.get("Properties").cloned().unwrap_or(Value::Null);
        let old = rb
            .as_ref()
            .and_then(|rb| rb.get(id))
            .filter(|old| old.get("Type") == resource.get("Type"))
            .map(props);
        for (k, description) in widenings(kind, old.as_ref(), &props(resource)) {
            found.push(SecurityChange {
                path: path.to_owned(),
                target: Target::CloudFormation,
                stack: stack.to_owned(),
                resource: id.clone(),
                resource_type: kind.to_owned(),
                kind: k,
                description,
            });
        }
    }
    found
}

/// A Terraform module's resources by address, with the file holding them and
/// their arguments, policy strings resolved: `${jsonencode(local.x)}` is the
/// local's value, a JSON string its document.
fn module_resources(files: &[(&str, &str)]) -> std::collections::BTreeMap<String, (String, Value)> {
    let mut locals = serde_json::Map::new();
    let mut resources = std::collections::BTreeMap::new();
    for (path, text) in files {
        let Ok(document) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        if let Some(l) = document.get("locals").and_then(Value::as_object) {
            locals.extend(l.clone());
        }
        for (kind, by_name) in document
            .get("resource")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for (name, body) in by_name.as_object().into_iter().flatten() {
                resources.insert(format!("{kind}.{name}"), ((*path).to_owned(), body.clone()));
            }
        }
    }
    for (_, body) in resources.values_mut() {
        resolve(body, &locals);
    }
    resources
}

fn resolve(value: &mut Value, locals: &serde_json::Map<String, Value>) {
    match value {
        Value::String(s) => {
            let local = s
                .strip_prefix("${jsonencode(local.")
                .and_then(|r| r.strip_suffix(")}"))
                .and_then(|name| locals.get(name));
            if let Some(document) = local {
                *value = document.clone();
            } else if s.trim_start().starts_with('{')
                && let Ok(document) = serde_json::from_str::<Value>(s)
            {
                *value = document;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve(v, locals)),
        Value::Object(map) => map.values_mut().for_each(|v| resolve(v, locals)),
        _ => {}
    }
}

/// The widenings of one Terraform module's resources.
#[must_use]
pub fn of_module(before: &[(&str, &str)], after: &[(&str, &str)]) -> Vec<SecurityChange> {
    let (rb, ra) = (module_resources(before), module_resources(after));
    let mut found = Vec::new();
    let old_files: BTreeSet<&str> = before.iter().map(|(p, _)| *p).collect();
    for (address, (path, body)) in &ra {
        if !old_files.contains(path.as_str()) {
            continue;
        }
        let kind = address.split('.').next().unwrap_or("");
        let old = rb.get(address).map(|(_, b)| b);
        for (k, description) in widenings(kind, old, body) {
            found.push(SecurityChange {
                path: path.clone(),
                target: Target::Terraform,
                stack: path.clone(),
                resource: address.clone(),
                resource_type: kind.to_owned(),
                kind: k,
                description,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn patterns_match_as_iam_does() {
        assert!(glob("s3:*", "s3:GetObject"));
        assert!(glob(
            "arn:aws:s3:::b/accounts/*",
            "arn:aws:s3:::b/accounts/x/*"
        ));
        assert!(!glob("arn:aws:s3:::b/accounts/*", "arn:aws:s3:::b/*"));
        assert!(glob("*", "anything"));
        assert!(contains("10.0.0.0/8", "10.1.0.0/16"));
        assert!(!contains("10.1.0.0/16", "10.0.0.0/8"));
        assert!(contains("0.0.0.0/0", "192.168.1.0/24"));
    }

    #[test]
    fn a_wider_public_path_makes_the_bucket_public() {
        let policy = |paths: &[&str]| {
            json!({"PolicyDocument": {"Statement": [{"Sid": "PublicReadOfPrefixes", "Effect": "Allow",
                "Principal": "*", "Action": "s3:GetObject",
                "Resource": paths.iter().map(|p| json!({"Fn::Sub": format!("${{B.Arn}}/{p}*")})).collect::<Vec<_>>()}]}})
        };
        let found = widenings(
            "AWS::S3::BucketPolicy",
            Some(&policy(&["accounts/"])),
            &policy(&[""]),
        );
        assert_eq!(
            found,
            [(
                SecurityKind::Public,
                "statement PublicReadOfPrefixes allows more to everyone (Principal *): resources + ${B.Arn}/*".to_owned()
            )]
        );
        assert!(
            widenings(
                "AWS::S3::BucketPolicy",
                Some(&policy(&[""])),
                &policy(&["accounts/"])
            )
            .is_empty()
        );
    }

    #[test]
    fn ingress_that_opens() {
        let group = |cidr: &str, from: u16, to: u16| json!({"SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": from, "ToPort": to, "CidrIp": cidr}]});
        let found = widenings(
            "AWS::EC2::SecurityGroup",
            Some(&group("10.0.0.0/16", 443, 443)),
            &group("0.0.0.0/0", 443, 443),
        );
        assert_eq!(
            found[0].1,
            "ingress opens: tcp 443 from 0.0.0.0/0 (was tcp 443 from 10.0.0.0/16)"
        );
        let found = widenings(
            "AWS::EC2::SecurityGroup",
            Some(&group("10.0.0.0/16", 443, 443)),
            &group("10.0.0.0/16", 0, 65_535),
        );
        assert_eq!(found.len(), 1);
        assert!(
            widenings(
                "AWS::EC2::SecurityGroup",
                Some(&group("10.0.0.0/16", 0, 65_535)),
                &group("10.0.1.0/24", 443, 443)
            )
            .is_empty()
        );
    }

    #[test]
    fn new_actions_and_dropped_conditions_broaden_a_statement() {
        let role = |actions: &[&str], condition: bool| {
            let mut s = json!({"Effect": "Allow", "Action": actions, "Resource": "*"});
            if condition {
                s["Condition"] = json!({"Bool": {"aws:SecureTransport": "true"}});
            }
            json!({"Policies": [{"PolicyDocument": {"Statement": [s]}}]})
        };
        let found = widenings(
            "AWS::IAM::Role",
            Some(&role(&["s3:GetObject"], true)),
            &role(&["s3:GetObject", "s3:PutObject"], true),
        );
        assert_eq!(
            found,
            [(
                SecurityKind::Statement,
                "statement 1 allows more: actions + s3:PutObject".to_owned()
            )]
        );
        let found = widenings(
            "AWS::IAM::Role",
            Some(&role(&["s3:GetObject"], true)),
            &role(&["s3:GetObject"], false),
        );
        assert_eq!(
            found[0].1,
            "statement 1 allows more: its condition changes or goes"
        );
        assert!(
            widenings(
                "AWS::IAM::Role",
                Some(&role(&["s3:*"], false)),
                &role(&["s3:GetObject"], false)
            )
            .is_empty()
        );
    }

    #[test]
    fn a_public_access_block_turned_off() {
        let bucket = |block: bool| json!({"PublicAccessBlockConfiguration": {"BlockPublicPolicy": block, "BlockPublicAcls": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}});
        let found = widenings("AWS::S3::Bucket", Some(&bucket(true)), &bucket(false));
        assert_eq!(
            found,
            [(
                SecurityKind::Public,
                "PublicAccessBlockConfiguration.BlockPublicPolicy: true → false".to_owned()
            )]
        );
    }
}
