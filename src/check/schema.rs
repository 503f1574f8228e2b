//! Schema validation: the JSON Schemas of `schema/` applied to a loaded file,
//! with every error mapped back to the key or value it is about.
//!
//! Validators are compiled once per run and shared by all files. This module
//! turns the validator's findings into berth's wording; it adds no rules.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value as Json;

use crate::diagnostic::Diagnostic;
use crate::load::Node;
use crate::load::yaml::Value;
use crate::schema::{SchemaKind, validation_schema};

/// Compiled validators for both input files.
pub struct Validators {
    instance: (Validator, Json),
    district: (Validator, Json),
}

impl Validators {
    /// Compiles both schemas.
    #[must_use]
    pub fn new() -> Self {
        let compile = |kind| {
            let schema = validation_schema(kind);
            let validator = jsonschema::draft202012::new(&schema).expect("berth's schemas compile");
            (validator, schema)
        };
        Self {
            instance: compile(SchemaKind::Instance),
            district: compile(SchemaKind::District),
        }
    }

    /// Reads integral numbers written as floats (`512.0`, `2.56e2`) as the
    /// integers they are, where the schema of `kind` asks for an integer and
    /// not for any number. JSON Schema's `integer` accepts them (2020-12
    /// validation §6.1.1: "any number with a zero fractional part"), and so
    /// do editors reading `schema/`; berth's reader agrees.
    pub fn integers(&self, kind: SchemaKind, value: &mut Json) {
        let schema = match kind {
            SchemaKind::Instance => &self.instance.1,
            SchemaKind::District => &self.district.1,
        };
        // Most files hold no float at all: then there is nothing to read.
        if has_float(value) {
            integers(schema, schema, value);
        }
    }

    /// Validates `value` (the JSON form of `root`) against the schema of `kind`.
    #[must_use]
    pub fn validate(&self, kind: SchemaKind, root: &Node, value: &Json) -> Vec<Finding> {
        let (validator, schema) = match kind {
            SchemaKind::Instance => &self.instance,
            SchemaKind::District => &self.district,
        };
        let mut findings = Vec::new();
        for error in validator.iter_errors(value) {
            explain(&error, schema, root, value, &mut findings);
        }
        findings.dedup_by(|a, b| a.diagnostic == b.diagnostic);
        findings
    }
}

/// One schema finding: what to tell the user, and what to take out of (or
/// mend in) the tree so the rest of the file can still be checked.
#[derive(Debug, Clone)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub repair: Repair,
}

/// How a finding's part of the tree is handled before berth's rules run.
#[derive(Debug, Clone, PartialEq)]
pub enum Repair {
    /// Leave out the value at this JSON pointer, and do not report what
    /// berth's rules find in the part of the file its `shadow` covers.
    Remove { pointer: String, shadow: Shadow },
    /// Read the value at this pointer as this boolean (YAML 1.1's `yes`, `off`, …).
    Boolean(String, bool),
}

impl Finding {
    fn remove(diagnostic: Diagnostic, pointer: impl Into<String>, shadow: Shadow) -> Self {
        Self {
            diagnostic,
            repair: Repair::Remove {
                pointer: pointer.into(),
                shadow,
            },
        }
    }
}

/// What a value left out hides from berth's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shadow {
    /// Nothing: an unknown key was never read.
    None,
    /// The mapping that held it: a value left out changes what its
    /// neighbours mean (an invalid `service_type` is not "no service type").
    Parent,
    /// The value itself: a mapping without a required key.
    Itself,
}

/// A YAML 1.1 boolean, as `bcn` (Go's yaml.v2) reads one: `yes`, `no`, `on`,
/// `off`, `y`, `n` in any case.
#[must_use]
pub fn yaml11_boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "y" | "on" => Some(true),
        "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

impl Default for Validators {
    fn default() -> Self {
        Self::new()
    }
}

fn has_float(value: &Json) -> bool {
    match value {
        Json::Number(n) => n.is_f64(),
        Json::Array(items) => items.iter().any(has_float),
        Json::Object(entries) => entries.values().any(has_float),
        _ => false,
    }
}

/// The largest integer an `f64` holds exactly (2^53).
const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

fn integers(root: &Json, node: &Json, value: &mut Json) {
    let Some(node) = resolve(root, node) else {
        return;
    };
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(branches) = node.get(key).and_then(Json::as_array) {
            if value.is_number() {
                break;
            }
            for branch in branches {
                integers(root, branch, value);
            }
        }
    }
    match value {
        Json::Number(n) if n.is_f64() => {
            let words = accepted(root, node);
            let float = n.as_f64().unwrap_or(f64::NAN);
            if words.contains(&"an integer")
                && !words.contains(&"a number")
                && float.fract() == 0.0
                && float.abs() <= EXACT_INTEGER
            {
                // Exact: the value is integral and within f64's exact range.
                #[allow(clippy::cast_possible_truncation)]
                let integer = float as i64;
                *value = Json::from(integer);
            }
        }
        Json::Object(entries) => {
            let properties = node.get("properties").and_then(Json::as_object);
            let additional = node.get("additionalProperties").filter(|a| a.is_object());
            for (key, item) in entries.iter_mut() {
                if let Some(sub) = properties.and_then(|p| p.get(key)).or(additional) {
                    integers(root, sub, item);
                }
            }
        }
        Json::Array(items) => {
            if let Some(sub) = node.get("items").filter(|i| i.is_object()) {
                for item in items {
                    integers(root, sub, item);
                }
            }
        }
        _ => {}
    }
}

/// The key an instance path ends in, e.g. `cpu` or `services[2]`.
fn key_name(pointer: &str) -> String {
    let mut segments = pointer.rsplit('/');
    let last = segments.next().unwrap_or_default();
    if last.parse::<usize>().is_ok() {
        let parent = segments.next().unwrap_or_default();
        format!("{parent}[{last}]")
    } else if last.is_empty() {
        String::new()
    } else {
        last.replace("~1", "/").replace("~0", "~")
    }
}

fn shown(value: Option<&Json>) -> String {
    match value {
        Some(Json::String(s)) => format!("`{s}`"),
        Some(Json::Array(_)) => "a list".to_owned(),
        Some(Json::Object(_)) => "a mapping".to_owned(),
        Some(Json::Null) | None => "nothing".to_owned(),
        Some(other) => format!("`{other}`"),
    }
}

fn type_of(value: Option<&Json>) -> &'static str {
    match value {
        Some(Json::String(_)) => "a string",
        Some(Json::Number(n)) if n.is_i64() || n.is_u64() => "an integer",
        Some(Json::Number(_)) => "a number",
        Some(Json::Bool(_)) => "a boolean",
        Some(Json::Array(_)) => "a list",
        Some(Json::Object(_)) => "a mapping",
        Some(Json::Null) | None => "nothing",
    }
}

fn type_word(name: &str) -> &'static str {
    match name {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean (`true` or `false`)",
        "array" => "a list",
        "object" => "a mapping",
        _ => "null",
    }
}

/// The schema object that holds the keyword at `schema_path`, following `$ref`s.
fn schema_at<'a>(schema: &'a Json, schema_path: &str) -> Option<&'a Json> {
    let parent = schema_path.rsplit_once('/').map_or("", |(p, _)| p);
    resolve(schema, schema.pointer(parent)?)
}

fn resolve<'a>(root: &'a Json, node: &'a Json) -> Option<&'a Json> {
    match node.get("$ref").and_then(Json::as_str) {
        Some(reference) => resolve(root, root.pointer(reference.strip_prefix('#')?)?),
        None => Some(node),
    }
}

/// The types a sub-schema accepts, in words (`a string or a list`).
fn accepted(root: &Json, node: &Json) -> Vec<&'static str> {
    let Some(node) = resolve(root, node) else {
        return Vec::new();
    };
    if let Some(branches) = node
        .get("anyOf")
        .or_else(|| node.get("oneOf"))
        .and_then(Json::as_array)
    {
        let mut all: Vec<&'static str> = Vec::new();
        for branch in branches {
            for word in accepted(root, branch) {
                if !all.contains(&word) {
                    all.push(word);
                }
            }
        }
        return all;
    }
    match node.get("type") {
        Some(Json::String(t)) => vec![type_word(t)],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).map(type_word).collect(),
        _ if node.get("enum").is_some() => vec!["a string"],
        _ => Vec::new(),
    }
}

fn either(words: &[&str]) -> String {
    match words {
        [] => "something else".to_owned(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The closest of `candidates` to `word`, if close enough to be a likely typo.
#[must_use]
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let close = |c: &str| {
        strsim::jaro_winkler(word, c) > 0.85
            || strsim::damerau_levenshtein(word, c) <= (word.len() / 4).max(1)
    };
    candidates
        .into_iter()
        .filter(|c| close(c))
        .max_by(|a, b| strsim::jaro_winkler(word, a).total_cmp(&strsim::jaro_winkler(word, b)))
}

fn explain(
    error: &ValidationError<'_>,
    schema: &Json,
    root: &Node,
    value: &Json,
    out: &mut Vec<Finding>,
) {
    let pointer = error.instance_path().as_str();
    let schema_path = error.schema_path().as_str();
    let holder = schema_at(schema, schema_path);
    let description = holder
        .and_then(|h| h.get("description"))
        .and_then(Json::as_str)
        .map(str::to_owned);
    let actual = value.pointer(pointer);
    // JSON has no infinity or NaN: such a YAML number is `null` in `actual`;
    // say what was written instead of "nothing".
    let non_finite = match root.at(pointer).map(|n| &n.value) {
        Some(Value::Float(f)) if !f.is_finite() => Some(if f.is_nan() {
            "`.nan`, not a number"
        } else if *f > 0.0 {
            "`.inf`, an infinite number"
        } else {
            "`-.inf`, an infinite number"
        }),
        _ => None,
    };
    let type_found = non_finite.unwrap_or_else(|| type_of(actual));
    let value_found = non_finite.map_or_else(|| shown(actual), str::to_owned);
    let label_found = if non_finite.is_some() {
        "not a finite number here".to_owned()
    } else {
        format!("{} here", type_of(actual))
    };
    let key = key_name(pointer);
    // What a message is about: the key, or the file itself at the top level.
    let subject = if key.is_empty() {
        "the file".to_owned()
    } else {
        format!("`{key}`")
    };
    let diagnostic = match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known: Vec<&str> = holder
                .and_then(|h| h.get("properties"))
                .and_then(Json::as_object)
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            for name in unexpected {
                let span = root
                    .locate_key(pointer, name)
                    .unwrap_or_else(|| root.locate(pointer));
                let mut d = Diagnostic::error("unknown-key", format!("unknown key `{name}`"))
                    .at(span, "not a key berth knows here");
                d = match suggest(name, known.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None if pointer.is_empty() => d.help(format!(
                        "the top level holds `environments`; a template for merge keys needs an anchor: `{name}: &{name}`"
                    )),
                    None => d.help(format!(
                        "known keys here: {}",
                        known
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                out.push(Finding::remove(
                    d,
                    format!("{pointer}/{}", escape(name)),
                    Shadow::None,
                ));
            }
            return;
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let help = holder
                .and_then(|h| h.pointer(&format!("/properties/{name}/description")))
                .and_then(Json::as_str)
                .map(|d| format!("add `{name}`: {}", lowercase_first(d)));
            let d = Diagnostic::error(
                "missing-key",
                if key.is_empty() {
                    format!("missing top-level key `{name}`")
                } else {
                    format!("missing key `{name}` in `{key}`")
                },
            )
            .at(root.locate(pointer), format!("`{name}` is required here"));
            match help {
                Some(h) => d.help(h),
                None => d,
            }
        }
        ValidationErrorKind::Type { kind } => {
            let expected: Vec<&str> = match kind {
                TypeKind::Single(t) => vec![type_word(&t.to_string())],
                TypeKind::Multiple(ts) => ts.iter().map(|t| type_word(&t.to_string())).collect(),
            };
            if let (Some(Json::String(text)), true) =
                (actual, expected.contains(&type_word("boolean")))
                && let Some(boolean) = yaml11_boolean(text)
            {
                let d = Diagnostic::note(
                    "yaml11-boolean",
                    format!("`{key}: {text}` is read as `{boolean}`, as `bcn` reads YAML 1.1"),
                )
                .at(root.locate(pointer), format!("read as `{boolean}`"))
                .help(format!(
                    "write `{boolean}`: in YAML 1.2 `{text}` is a string, and other tools read it so"
                ));
                out.push(Finding {
                    diagnostic: d,
                    repair: Repair::Boolean(pointer.to_owned(), boolean),
                });
                return;
            }
            Diagnostic::error(
                "wrong-type",
                format!(
                    "{subject} must be {}, found {}",
                    either(&expected),
                    type_found
                ),
            )
            .at(root.locate(pointer), label_found)
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<&str> = options
                .as_array()
                .map(|o| o.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            let listed = options.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>();
            let d = Diagnostic::error(
                "invalid-value",
                format!(
                    "{subject} must be one of {}, found {}",
                    either(&listed.iter().map(String::as_str).collect::<Vec<_>>()),
                    value_found
                ),
            )
            .at(root.locate(pointer), "not an accepted value");
            match actual
                .and_then(Json::as_str)
                .and_then(|a| suggest(a, options.iter().copied()))
            {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d,
            }
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            let words = holder.map(|h| accepted(schema, h)).unwrap_or_default();
            // The value has a shape one branch accepts (a mapping where a
            // mapping or a list may be written): what that branch refused
            // inside it is the problem, not the shape.
            let same_shape = |errors: &Vec<ValidationError<'static>>| {
                !errors.is_empty()
                    && errors.iter().all(|e| {
                        e.instance_path().as_str() != pointer
                            || !matches!(
                                e.kind(),
                                ValidationErrorKind::Type { .. }
                                    | ValidationErrorKind::AnyOf { .. }
                                    | ValidationErrorKind::OneOfNotValid { .. }
                            )
                    })
            };
            if words.contains(&type_of(actual))
                && let Some(branch) = context.iter().find(|errors| same_shape(errors))
            {
                for inner in branch {
                    explain(inner, schema, root, value, out);
                }
                return;
            }
            Diagnostic::error(
                "wrong-type",
                format!("{subject} must be {}, found {}", either(&words), type_found),
            )
            .at(root.locate(pointer), label_found)
        }
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => Diagnostic::error(
            "out-of-range",
            format!("{subject} must be at least {limit}, found {value_found}"),
        )
        .at(root.locate(pointer), "too small"),
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => Diagnostic::error(
            "out-of-range",
            format!("{subject} must be at most {limit}, found {value_found}"),
        )
        .at(root.locate(pointer), "too large"),
        ValidationErrorKind::MinLength { limit } => Diagnostic::error(
            "invalid-value",
            format!("{subject} must be at least {limit} characters long"),
        )
        .at(root.locate(pointer), "too short"),
        ValidationErrorKind::MaxLength { limit } => Diagnostic::error(
            "invalid-value",
            format!("{subject} must be at most {limit} characters long"),
        )
        .at(root.locate(pointer), "too long"),
        ValidationErrorKind::MinItems { limit } => Diagnostic::error(
            "invalid-value",
            format!(
                "{subject} needs at least {limit} item{}",
                if *limit == 1 { "" } else { "s" }
            ),
        )
        .at(root.locate(pointer), "too few items"),
        ValidationErrorKind::Pattern { pattern } => Diagnostic::error(
            "invalid-value",
            format!("`{key}` has an invalid value {value_found}"),
        )
        .at(root.locate(pointer), format!("does not match `{pattern}`")),
        _ => Diagnostic::error("invalid-value", format!("`{key}`: {error}"))
            .at(root.locate(pointer), "here"),
    };
    let diagnostic = match (description, diagnostic.help.is_some()) {
        (Some(description), false) => {
            diagnostic.help(format!("`{key}`: {}", lowercase_first(&description)))
        }
        _ => diagnostic,
    };
    let shadow = if matches!(error.kind(), ValidationErrorKind::Required { .. }) {
        Shadow::Itself
    } else {
        Shadow::Parent
    };
    out.push(Finding::remove(diagnostic, pointer, shadow));
}

/// A key as a JSON pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    let acronym = text.chars().take(2).all(char::is_uppercase);
    match chars.next() {
        Some(first) if !acronym => first.to_lowercase().chain(chars).collect(),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        let keys = ["health_check_path", "health_check_interval", "endpoint"];
        assert_eq!(suggest("health_chek_path", keys), Some("health_check_path"));
        assert_eq!(suggest("endpiont", keys), Some("endpoint"));
        assert_eq!(suggest("zzz", keys), None);
        assert_eq!(suggest("wbe", ["web", "default"]), Some("web"));
        assert_eq!(suggest("nope", ["mstdn"]), None);
    }

    #[test]
    fn key_names_read_naturally() {
        assert_eq!(
            key_name("/environments/production/services/2"),
            "services[2]"
        );
        assert_eq!(key_name("/environments/production/services/2/cpu"), "cpu");
        assert_eq!(key_name(""), "");
    }
}
