//! Every resource of every Terraform configuration berth wrote (the example
//! fleet's `out/` and the golden fleets') against the argument schema of the
//! `hashicorp/aws` provider in `tests/data/terraform-aws-provider.schema.json`
//! (6.25.0, from the provider's published schema bindings; see `notes` in the
//! file): argument and block names, nesting, required arguments, no
//! computed-only attribute set, value shapes; and every reference in the
//! module (`var.`, `local.`, `data.`, `aws_*.name.attribute`, `depends_on`)
//! names something declared, down to the attribute. A `module` block (a
//! district's root module, `heritages.tf.json`) sets exactly the variables
//! of the module in its `source` folder, every one without a default, and a
//! `module.<name>.<output>` reads an output that module declares.
//! `terraform validate` would check the same with the provider, which cannot
//! be downloaded here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::support::repo;

/// Meta-arguments Terraform accepts on every resource.
const META: &[&str] = &[
    "lifecycle",
    "depends_on",
    "count",
    "for_each",
    "provider",
    "provisioner",
    "connection",
];

/// Arguments of a `lifecycle` block.
const LIFECYCLE: &[&str] = &[
    "create_before_destroy",
    "prevent_destroy",
    "ignore_changes",
    "replace_triggered_by",
    "precondition",
    "postcondition",
];

/// Optional+computed attributes the provider fills in; setting them is a mistake.
const PROVIDER_OWNED: &[&str] = &["id", "tags_all"];

/// The data sources berth reads: the schema file covers resources only, so
/// their arguments and attributes are listed here, from the provider's docs.
const DATA_SOURCES: &[(&str, &[&str], &[&str])] = &[
    ("aws_availability_zones", &["state"], &["names", "zone_ids"]),
    (
        "aws_caller_identity",
        &[],
        &["account_id", "arn", "user_id"],
    ),
    ("aws_partition", &[], &["partition", "dns_suffix"]),
    ("aws_region", &[], &["region", "description", "endpoint"]),
    (
        "aws_ssm_parameter",
        &["name"],
        &["insecure_value", "value", "arn", "type", "version"],
    ),
];

/// The ephemeral resources berth opens (Terraform 1.10+): the schema file
/// covers managed resources only, so their arguments and attributes are
/// listed here, from the provider's ephemeral resource schema (6.25.0,
/// `ephemeral_resource_schemas` of `terraform providers schema -json`).
const EPHEMERAL: &[(&str, &[&str], &[&str])] = &[(
    "aws_secretsmanager_random_password",
    &[
        "exclude_characters",
        "exclude_lowercase",
        "exclude_numbers",
        "exclude_punctuation",
        "exclude_uppercase",
        "include_space",
        "password_length",
        "region",
        "require_each_included_type",
    ],
    &["random_password"],
)];

fn provider_schema() -> Value {
    let path = repo().join("tests/data/terraform-aws-provider.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every folder holding `*.tf.json` files (one Terraform module each) under
/// the example fleet's and the golden fleets' `out/`, with its files' JSON.
fn modules() -> BTreeMap<PathBuf, Vec<(PathBuf, Value)>> {
    let roots = crate::support::fleet_outs();
    let mut modules: BTreeMap<PathBuf, Vec<(PathBuf, Value)>> = BTreeMap::new();
    for root in roots {
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = entry.unwrap();
            let path = entry.path();
            if path.to_string_lossy().ends_with(".tf.json") {
                let json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
                let relative = path.strip_prefix(repo()).unwrap().to_path_buf();
                modules
                    .entry(relative.parent().unwrap().to_path_buf())
                    .or_default()
                    .push((relative, json));
            }
        }
    }
    modules
}

/// What one module declares, for resolving references.
#[derive(Default)]
struct Declared<'a> {
    variables: BTreeSet<&'a str>,
    locals: BTreeSet<&'a str>,
    data: BTreeSet<(&'a str, &'a str)>,
    ephemeral: BTreeSet<(&'a str, &'a str)>,
    resources: BTreeMap<(&'a str, &'a str), &'a str>,
    /// Module calls by name, with their `source`.
    modules: BTreeMap<&'a str, &'a str>,
}

/// What a module offers its callers: its variables (with whether each has a
/// default) and its outputs.
#[derive(Default)]
struct Interface<'a> {
    variables: BTreeMap<&'a str, bool>,
    outputs: BTreeSet<&'a str>,
}

fn interface(files: &[(PathBuf, Value)]) -> Interface<'_> {
    let mut i = Interface::default();
    for (_, json) in files {
        for (name, variable) in object(&json["variable"]) {
            i.variables
                .insert(name.as_str(), variable.get("default").is_some());
        }
        i.outputs
            .extend(object(&json["output"]).keys().map(String::as_str));
    }
    i
}

/// The folder a local `source` (`./bcn-users`) names, from the caller's.
fn source_dir(caller: &std::path::Path, source: &str) -> Option<PathBuf> {
    let relative = source.strip_prefix("./")?;
    (!relative.is_empty() && !relative.contains("..")).then(|| caller.join(relative))
}

/// Meta-arguments of a `module` block.
const MODULE_META: &[&str] = &[
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

/// Problems of one `module` block against the interface of the module it calls.
fn check_module_call(body: &Value, child: &Interface<'_>, at: &str, out: &mut Vec<String>) {
    let arguments: BTreeSet<&str> = object(body)
        .keys()
        .map(String::as_str)
        .filter(|k| !MODULE_META.contains(k))
        .collect();
    for argument in &arguments {
        if !child.variables.contains_key(argument) {
            out.push(format!(
                "{at}: `{argument}` is not a variable of the module it calls"
            ));
        }
    }
    for (variable, has_default) in &child.variables {
        if !has_default && !arguments.contains(variable) {
            out.push(format!(
                "{at}: the module's variable `{variable}` has no default and is not set"
            ));
        }
    }
}

fn object(value: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    value
        .as_object()
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

fn declared(files: &[(PathBuf, Value)]) -> Declared<'_> {
    let mut d = Declared::default();
    for (_, json) in files {
        d.variables
            .extend(object(&json["variable"]).keys().map(String::as_str));
        d.locals
            .extend(object(&json["locals"]).keys().map(String::as_str));
        for (kind, blocks) in object(&json["data"]) {
            d.data
                .extend(object(blocks).keys().map(|n| (kind.as_str(), n.as_str())));
        }
        for (kind, blocks) in object(&json["ephemeral"]) {
            d.ephemeral
                .extend(object(blocks).keys().map(|n| (kind.as_str(), n.as_str())));
        }
        for (kind, blocks) in object(&json["resource"]) {
            for name in object(blocks).keys() {
                d.resources
                    .insert((kind.as_str(), name.as_str()), kind.as_str());
            }
        }
        for (name, body) in object(&json["module"]) {
            d.modules
                .insert(name.as_str(), body["source"].as_str().unwrap_or_default());
        }
    }
    d
}

/// Problems of one value against an attribute's declared type.
fn check_value(value: &Value, attribute: &Value, at: &str, out: &mut Vec<String>) {
    let kind = attribute["type"].as_str().unwrap_or("dynamic");
    let expression = value
        .as_str()
        .is_some_and(|s| s.starts_with("${") && s.ends_with('}'));
    match kind {
        "string" | "number" | "bool" => {
            let wrong = value.is_object()
                || value.is_array()
                || kind == "number" && value.is_boolean()
                || kind == "bool" && value.is_number();
            if wrong {
                out.push(format!("{at}: a {kind}, not {value}"));
            }
        }
        "map(string)" => {
            if let Some(map) = value.as_object() {
                for (k, v) in map {
                    if v.is_object() || v.is_array() {
                        out.push(format!("{at}.{k}: a string, not {v}"));
                    }
                }
            } else if !expression {
                out.push(format!("{at}: a map, not {value}"));
            }
        }
        list if list.starts_with("list(") || list.starts_with("set(") => {
            if let Some(items) = value.as_array() {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{at}[{i}]");
                    if list.ends_with("(object)") {
                        let fields = object(&attribute["attributes"]);
                        match item.as_object() {
                            Some(item) => out.extend(
                                item.keys()
                                    .filter(|k| !fields.contains_key(*k))
                                    .map(|k| format!("{at}: unknown field `{k}`")),
                            ),
                            None => out.push(format!("{at}: an object, not {item}")),
                        }
                    } else if item.is_object() || item.is_array() {
                        out.push(format!("{at}: a single value, not {item}"));
                    }
                }
            } else if !expression {
                out.push(format!("{at}: a {kind}, not {value}"));
            }
        }
        _ => {}
    }
}

/// Problems of one block body (a resource's or a nested block's) against its schema.
fn check_block(body: &Value, schema: &Value, at: &str, top: bool, out: &mut Vec<String>) {
    let Some(body) = body.as_object() else {
        out.push(format!("{at}: a block is a JSON object, not {body}"));
        return;
    };
    let attributes = object(&schema["attributes"]);
    let blocks = object(&schema["blocks"]);
    for (key, value) in body {
        let here = format!("{at}.{key}");
        if top && META.contains(&key.as_str()) {
            if key == "lifecycle" {
                out.extend(
                    object(value)
                        .keys()
                        .filter(|k| !LIFECYCLE.contains(&k.as_str()))
                        .map(|k| format!("{here}: `{k}` is not a lifecycle argument")),
                );
            }
            continue;
        }
        if let Some(attribute) = attributes.get(key) {
            if attribute["computed"] == true {
                out.push(format!("{here}: computed by the provider, cannot be set"));
            } else if top && PROVIDER_OWNED.contains(&key.as_str()) {
                out.push(format!("{here}: filled in by the provider, do not set it"));
            } else {
                check_value(value, attribute, &here, out);
            }
        } else if let Some(block) = blocks.get(key) {
            let nesting = block["nesting"].as_str().unwrap_or("list");
            let items: Vec<&Value> = match value {
                Value::Array(items) if nesting != "single" => items.iter().collect(),
                Value::Object(_) => vec![value],
                _ => {
                    out.push(format!("{here}: a {nesting} block, not {value}"));
                    continue;
                }
            };
            let count = items.len() as u64;
            if let Some(max) = block["max_items"].as_u64().filter(|max| count > *max) {
                out.push(format!("{here}: at most {max} block(s), found {count}"));
            }
            if let Some(min) = block["min_items"].as_u64().filter(|min| count < *min) {
                out.push(format!("{here}: at least {min} block(s), found {count}"));
            }
            for (i, item) in items.iter().enumerate() {
                check_block(item, block, &format!("{here}[{i}]"), false, out);
            }
        } else {
            out.push(format!("{here}: no such argument or block"));
        }
    }
    for (name, attribute) in attributes {
        if attribute["required"] == true && !body.contains_key(name) {
            out.push(format!("{at}: required argument `{name}` is missing"));
        }
    }
    for (name, block) in blocks {
        if block["min_items"].as_u64().unwrap_or(0) > 0 && !body.contains_key(name) {
            out.push(format!("{at}: required block `{name}` is missing"));
        }
    }
}

/// The `${…}` expressions of a Terraform template string (`$${` is a literal).
fn expressions(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'$' {
            i += 2;
        } else if bytes[i] == b'$' && bytes[i + 1] == b'{' {
            let start = i + 2;
            let (mut depth, mut j, mut quoted) = (1, start, false);
            while j < bytes.len() && depth > 0 {
                match bytes[j] {
                    b'\\' if quoted => j += 1,
                    b'"' => quoted = !quoted,
                    b'{' if !quoted => depth += 1,
                    b'}' if !quoted => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            found.push(&text[start..j.saturating_sub(1)]);
            i = j;
        } else {
            i += 1;
        }
    }
    found
}

/// The dotted names an expression reads (`aws_vpc.this.id`), leaving out
/// function names and quoted strings.
fn traversals(expression: &str) -> Vec<Vec<&str>> {
    let bytes = expression.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let preceded_by_dot = i > 0 && bytes[i - 1] == b'.';
            let mut parts = Vec::new();
            loop {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
                {
                    i += 1;
                }
                parts.push(&expression[start..i]);
                if i + 1 < bytes.len()
                    && bytes[i] == b'.'
                    && (bytes[i + 1].is_ascii_alphabetic() || bytes[i + 1] == b'_')
                {
                    i += 1;
                } else {
                    break;
                }
            }
            let call = bytes.get(i) == Some(&b'(');
            if !call && !preceded_by_dot {
                found.push(parts);
            }
        } else {
            i += 1;
        }
    }
    found
}

fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k);
                strings(v, out);
            }
        }
        _ => {}
    }
}

fn check_references(
    files: &[(PathBuf, Value)],
    declared: &Declared<'_>,
    outputs_of: &dyn Fn(&str) -> Option<BTreeSet<String>>,
    schema: &Value,
    out: &mut Vec<String>,
) {
    for (path, json) in files {
        let at = path.display();
        let mut texts = Vec::new();
        for section in [
            "locals",
            "data",
            "ephemeral",
            "resource",
            "module",
            "output",
        ] {
            strings(&json[section], &mut texts);
        }
        for text in texts {
            for expression in expressions(text) {
                for parts in traversals(expression) {
                    let known = match parts.as_slice() {
                        ["var", name, ..] => declared.variables.contains(name),
                        ["local", name, ..] => declared.locals.contains(name),
                        ["data", kind, name, attribute, ..] => {
                            declared.data.contains(&(*kind, *name))
                                && DATA_SOURCES
                                    .iter()
                                    .any(|(k, _, attrs)| k == kind && attrs.contains(attribute))
                        }
                        ["ephemeral", kind, name, attribute, ..] => {
                            declared.ephemeral.contains(&(*kind, *name))
                                && EPHEMERAL
                                    .iter()
                                    .any(|(k, _, attrs)| k == kind && attrs.contains(attribute))
                        }
                        [kind, name, attribute, ..] if kind.starts_with("aws_") => {
                            let resource = &schema["resources"][*kind];
                            declared.resources.contains_key(&(*kind, *name))
                                && (resource["attributes"].get(*attribute).is_some()
                                    || resource["blocks"].get(*attribute).is_some()
                                    || *attribute == "id")
                        }
                        [kind, ..] if kind.starts_with("aws_") => false,
                        ["module", name, output, ..] => declared
                            .modules
                            .get(name)
                            .and_then(|source| outputs_of(source))
                            .is_some_and(|outputs| outputs.contains(*output)),
                        ["module", ..] => false,
                        // Words inside expressions that are no references: `true`, `null`, `for` bodies.
                        _ => true,
                    };
                    if !known {
                        out.push(format!(
                            "{at}: `${{{expression}}}` reads `{}`, which is not declared",
                            parts.join(".")
                        ));
                    }
                }
            }
        }
        let mut depends = Vec::new();
        for blocks in object(&json["resource"]).values() {
            for body in object(blocks).values() {
                depends.extend(body["depends_on"].as_array().into_iter().flatten());
            }
        }
        for body in object(&json["output"]).values() {
            depends.extend(body["depends_on"].as_array().into_iter().flatten());
        }
        for target in depends {
            let target = target.as_str().unwrap_or_default();
            let found = target
                .split_once('.')
                .is_some_and(|(kind, name)| declared.resources.contains_key(&(kind, name)));
            if !found {
                out.push(format!(
                    "{at}: depends_on `{target}`, which is not declared"
                ));
            }
        }
    }
}

#[test]
fn every_resource_matches_the_provider_schema() {
    let schema = provider_schema();
    let modules = modules();
    assert!(
        modules.len() >= 9,
        "found only {} Terraform modules",
        modules.len()
    );
    let mut problems = Vec::new();
    let mut missing_types = BTreeSet::new();
    let mut checked = 0;
    for files in modules.values() {
        for (path, json) in files {
            for (kind, blocks) in object(&json["resource"]) {
                let Some(resource) = schema["resources"].get(kind) else {
                    missing_types.insert(kind.clone());
                    continue;
                };
                for (name, body) in object(blocks) {
                    checked += 1;
                    check_block(
                        body,
                        resource,
                        &format!("{}: {kind}.{name}", path.display()),
                        true,
                        &mut problems,
                    );
                }
            }
            for (section, known, what) in [
                ("data", DATA_SOURCES, "data source"),
                ("ephemeral", EPHEMERAL, "ephemeral resource"),
            ] {
                for (kind, blocks) in object(&json[section]) {
                    let Some((_, arguments, _)) = known.iter().find(|(k, _, _)| k == kind) else {
                        problems.push(format!(
                            "{}: {what} `{kind}` is not one berth knows",
                            path.display()
                        ));
                        continue;
                    };
                    for (name, body) in object(blocks) {
                        problems.extend(
                            object(body)
                                .keys()
                                .filter(|k| !arguments.contains(&k.as_str()))
                                .map(|k| {
                                    format!(
                                        "{}: {section}.{kind}.{name}.{k}: no such argument",
                                        path.display()
                                    )
                                }),
                        );
                    }
                }
            }
        }
    }
    assert!(checked > 100, "checked only {checked} resources");
    assert!(
        missing_types.is_empty(),
        "resource types missing from the provider schema file: {missing_types:?}"
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_reference_names_something_declared() {
    let schema = provider_schema();
    let modules = modules();
    let mut problems = Vec::new();
    for (dir, files) in &modules {
        let declared = declared(files);
        let outputs_of = |source: &str| {
            let child = modules.get(&source_dir(dir, source)?)?;
            Some(
                interface(child)
                    .outputs
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            )
        };
        check_references(files, &declared, &outputs_of, &schema, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Every `module` block calls a folder of `*.tf.json` files and sets exactly
/// its variables: all without a default, none it does not declare.
#[test]
fn every_module_call_sets_the_variables_of_its_module() {
    let modules = modules();
    let mut problems = Vec::new();
    let mut calls = 0;
    for (dir, files) in &modules {
        for (path, json) in files {
            for (name, body) in object(&json["module"]) {
                calls += 1;
                let at = format!("{}: module.{name}", path.display());
                let source = body["source"].as_str().unwrap_or_default();
                let Some(child) = source_dir(dir, source).and_then(|d| modules.get(&d)) else {
                    problems.push(format!(
                        "{at}: `source = {source:?}` is no folder of `*.tf.json` files beside it"
                    ));
                    continue;
                };
                check_module_call(body, &interface(child), &at, &mut problems);
            }
        }
    }
    assert!(calls >= 20, "checked only {calls} module calls");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The checker itself: a resource body with the mistakes it must catch.
#[test]
fn the_checks_catch_misplaced_and_unknown_arguments() {
    let schema = provider_schema();
    let body = serde_json::json!({
        "name": "x",
        "cluster": "${var.cluster_name}",
        "desired_count": {"nested": 1},
        "launch_typo": "EC2",
        "arn": "arn:aws:ecs:x",
        "deployment_circuit_breaker": [{"enable": true, "rollback": true}, {"enable": true, "rollback": true}],
        "load_balancer": {"container_port": 80, "target_group": "x"},
        "lifecycle": {"prevent_destroy": true, "prevent_destruction": true},
        "depends_on": ["aws_lb_listener_rule.x"]
    });
    let mut problems = Vec::new();
    check_block(
        &body,
        &schema["resources"]["aws_ecs_service"],
        "s",
        true,
        &mut problems,
    );
    problems.sort();
    assert_eq!(
        problems,
        [
            "s.arn: computed by the provider, cannot be set",
            "s.deployment_circuit_breaker: at most 1 block(s), found 2",
            "s.desired_count: a number, not {\"nested\":1}",
            "s.launch_typo: no such argument or block",
            "s.lifecycle: `prevent_destruction` is not a lifecycle argument",
            "s.load_balancer[0].target_group: no such argument or block",
            "s.load_balancer[0]: required argument `container_name` is missing",
        ]
    );
    let child = Interface {
        variables: [("vpc_id", false), ("cluster_name", false), ("image", true)].into(),
        outputs: BTreeSet::new(),
    };
    let mut problems = Vec::new();
    check_module_call(
        &serde_json::json!({"source": "./h", "vpc_id": "${aws_vpc.this.id}", "vpc": "x"}),
        &child,
        "m",
        &mut problems,
    );
    assert_eq!(
        problems,
        [
            "m: `vpc` is not a variable of the module it calls",
            "m: the module's variable `cluster_name` has no default and is not set",
        ]
    );
    assert_eq!(
        source_dir(std::path::Path::new("out/d"), "./h"),
        Some(PathBuf::from("out/d/h"))
    );
    assert_eq!(source_dir(std::path::Path::new("out/d"), "../h"), None);
    assert_eq!(
        expressions("a ${b.c} $${literal} ${f(\"}\", d.e)}"),
        ["b.c", "f(\"}\", d.e)"]
    );
    assert_eq!(
        traversals("jsonencode([local.x, aws_s3_bucket.media.arn]) == \"a.b\""),
        [vec!["local", "x"], vec!["aws_s3_bucket", "media", "arn"]]
    );
}
