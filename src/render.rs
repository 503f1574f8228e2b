//! Render: Tera templates → JSON text → parsed → canonical pretty JSON.
//!
//! An artifact's bytes are a function of its *inputs*: the rendering code
//! (see `build.rs`), the templates (a fleet's overrides included), its unit's context and its
//! own fields. `out/manifest.json` records a hash of them with each artifact
//! ([`Rendered::inputs`]), so a later run given the previous `out/` (see
//! [`Previous`]) takes the file as it is when its inputs and its bytes are
//! both unchanged, and renders only the rest. A file edited by hand no longer
//! has the bytes the manifest names, so it is rendered again.
//!
//! The built-in templates are compiled into the binary; a fleet's own
//! `templates/` folder overrides any of them by file name. Templates are
//! compiled once per run and rendered in parallel. Every rendered text must
//! parse as JSON; it is written back with 2-space indent and sorted keys
//! (CloudFormation's top-level sections first, in their usual order), so the
//! bytes depend only on the values.

use std::path::Path;

use std::collections::HashMap;
use std::path::PathBuf;

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use tera::{Context, Kwargs, State, Tera, TeraResult, Value};

use crate::limits;
use crate::plan::{Artifact, Task, TaskContext, Unit, terraform_literal};

/// The built-in templates, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("app.cfn.json", include_str!("../templates/app.cfn.json")),
    (
        "app.params.json",
        include_str!("../templates/app.params.json"),
    ),
    ("data.cfn.json", include_str!("../templates/data.cfn.json")),
    ("data.tf.json", include_str!("../templates/data.tf.json")),
    (
        "alb-rules.json",
        include_str!("../templates/alb-rules.json"),
    ),
    (
        "district.cfn.json",
        include_str!("../templates/district.cfn.json"),
    ),
    (
        "district.tf.json",
        include_str!("../templates/district.tf.json"),
    ),
    (
        "heritages.tf.json",
        include_str!("../templates/heritages.tf.json"),
    ),
    ("main.tf.json", include_str!("../templates/main.tf.json")),
    (
        "task-definition.json",
        include_str!("../templates/task-definition.json"),
    ),
    (
        "partials/container.cfn.json",
        include_str!("../templates/partials/container.cfn.json"),
    ),
    (
        "partials/container.ecs.json",
        include_str!("../templates/partials/container.ecs.json"),
    ),
    (
        "partials/container.tf.json",
        include_str!("../templates/partials/container.tf.json"),
    ),
    (
        "partials/nlb.cfn.json",
        include_str!("../templates/partials/nlb.cfn.json"),
    ),
    (
        "partials/nlb.tf.json",
        include_str!("../templates/partials/nlb.tf.json"),
    ),
    (
        "partials/records.cfn.json",
        include_str!("../templates/partials/records.cfn.json"),
    ),
    (
        "partials/records.tf.json",
        include_str!("../templates/partials/records.tf.json"),
    ),
    (
        "partials/image.cfn.json",
        include_str!("../templates/partials/image.cfn.json"),
    ),
    (
        "partials/guard.cfn.json",
        include_str!("../templates/partials/guard.cfn.json"),
    ),
];

/// Top-level sections, in the order they are written: CloudFormation's, then
/// Terraform's (no artifact has both).
const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Parameters",
    "Rules",
    "Resources",
    "Outputs",
    "terraform",
    "variable",
    "data",
    "ephemeral",
    "locals",
    "resource",
    "module",
    "output",
];

/// A template that could not be compiled or rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read template override `{path}`: {message}")]
    Override { path: String, message: String },
    #[error("template `{template}` does not compile: {message}")]
    Compile { template: String, message: String },
    #[error("template `{template}` failed for `{artifact}`: {message}")]
    Render {
        template: String,
        artifact: String,
        message: String,
    },
    #[error(
        "template `{template}` rendered invalid JSON for `{artifact}` at line {line}, column {column} of its output: {message}\n{excerpt}"
    )]
    Json {
        template: String,
        artifact: String,
        line: usize,
        column: usize,
        message: String,
        excerpt: String,
    },
    #[error(
        "`out/{artifact}` exceeds CloudFormation's limits: {message}; split the services of `{sources}` over more heritages"
    )]
    Limit {
        artifact: String,
        sources: String,
        message: String,
    },
}

/// The template limits a rendered stack goes over, with its counts.
fn over_limits(stack: &serde_json::Value) -> Vec<(limits::Limit, u64)> {
    let count = |section: &str| {
        stack
            .get(section)
            .and_then(serde_json::Value::as_object)
            .map_or(0, |m| m.len() as u64)
    };
    [
        (limits::TEMPLATE_RESOURCES, count("Resources")),
        (limits::TEMPLATE_OUTPUTS, count("Outputs")),
        (limits::TEMPLATE_PARAMETERS, count("Parameters")),
    ]
    .into_iter()
    .filter(|(limit, n)| *n > limit.value)
    .collect()
}

/// The compiled templates of one run.
pub struct Renderer {
    tera: Tera,
    /// Which built-in templates the fleet overrides.
    pub overridden: Vec<String>,
    /// The rendering code (see `build.rs`) and every template's name and text, hashed: what
    /// every artifact's inputs share.
    fingerprint: Sha256,
}

/// One rendered artifact: its text, the text's sha256 and its inputs' hash
/// (both hex), as the manifest records them.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The text; `None` for an artifact kept in `out/` as it is, whose bytes
    /// were read, hashed and found to be the manifest's (see
    /// [`Previous::read_verifying`]).
    pub text: Option<String>,
    pub sha256: String,
    pub inputs: String,
    /// Taken from the previous `out/` rather than rendered.
    pub reused: bool,
    /// For a file kept in `out/`, its stamp when its bytes were verified,
    /// if it can vouch for them (see [`crate::emit::stat`]).
    pub stamp: Option<crate::emit::stat::Stamp>,
}

/// What a previous build left in `out/`: each artifact's sha256 and inputs
/// hash from its manifest, and where to read the files.
#[derive(Debug, Default)]
pub struct Previous {
    out: PathBuf,
    artifacts: HashMap<String, (String, String)>,
    /// Hand back the text of a reused file (`diff` compares texts), or only
    /// verify it (`build`, `build --check`: the file stays as it is).
    keep_text: bool,
    /// What `.out.stat` says of the files, when they are only verified.
    stats: crate::emit::stat::Stats,
}

impl Previous {
    /// Nothing to reuse: every artifact is rendered.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// The manifest of `out`, if there is one berth can read; a missing or
    /// unreadable manifest (or one without inputs) reuses nothing.
    #[must_use]
    pub fn read(out: &Path) -> Self {
        Self {
            out: out.to_path_buf(),
            artifacts: Self::manifest(out),
            keep_text: true,
            stats: crate::emit::stat::Stats::default(),
        }
    }

    /// [`Previous::read`], for a build or check that leaves a reused file
    /// in place: its bytes are hashed as they are read and not kept, so the
    /// build holds only what it renders. A file whose stamp `.out.stat`
    /// records with its sha256 is not read (see [`crate::emit::stat`]).
    #[must_use]
    pub fn read_verifying(out: &Path) -> Self {
        Self {
            out: out.to_path_buf(),
            artifacts: Self::manifest(out),
            keep_text: false,
            stats: crate::emit::stat::Stats::read(out),
        }
    }

    /// How many reused artifacts `.out.stat` vouched for, unread.
    #[must_use]
    pub fn unread(&self) -> usize {
        self.stats.unread()
    }

    /// Records in `.out.stat` what this run found `out/` to hold.
    pub fn save_stats(self) {
        self.stats.save();
    }

    /// Each artifact's sha256 and inputs hash, from the manifest of `out`.
    fn manifest(out: &Path) -> HashMap<String, (String, String)> {
        #[derive(serde::Deserialize)]
        struct Manifest {
            artifacts: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            path: String,
            sha256: String,
            inputs: Option<String>,
        }
        let manifest = std::fs::read(out.join(crate::emit::MANIFEST))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok());
        manifest
            .map(|m| m.artifacts)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| Some((e.path, (e.sha256, e.inputs?))))
            .collect()
    }

    /// The file of `artifact` as the previous build wrote it, when its
    /// inputs are `key` and its bytes are still those the manifest names.
    fn reuse(&self, artifact: &Artifact, key: &[u8]) -> Option<Rendered> {
        let (sha256, inputs) = self.artifacts.get(&artifact.path)?;
        if &inputs_hash(key, sha256) != inputs {
            return None;
        }
        let path = self.out.join(&artifact.path);
        let (text, stamp) = if self.keep_text {
            let text = std::fs::read_to_string(path).ok()?;
            (
                (&crate::emit::sha256(&text) == sha256).then_some(Some(text))?,
                None,
            )
        } else {
            (None, self.stats.held(&artifact.path, &path, sha256)?)
        };
        Some(Rendered {
            text,
            sha256: sha256.clone(),
            inputs: inputs.clone(),
            reused: true,
            stamp,
        })
    }
}

/// The manifest's `inputs`: the inputs' key and the bytes they gave, hashed
/// together, so that editing an artifact's `sha256` in the manifest by hand
/// does not make a hand-edited file pass as rendered.
fn inputs_hash(key: &[u8], sha256: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(key);
    hash.update(sha256.as_bytes());
    crate::emit::hex(&hash.finalize())
}

/// Feeds `serde_json`'s output into a hash without building the text.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Hashes a length-prefixed field, so that no two field lists hash alike.
fn field(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

impl Renderer {
    /// Compiles the built-in templates, replaced by any file of the same name
    /// under `overrides` (a fleet's `templates/` folder) when it exists.
    pub fn new(overrides: &Path) -> Result<Self, RenderError> {
        let mut tera = Tera::new();
        tera.autoescape_on(Vec::<&str>::new());
        tera.register_filter("json_encode", tera_contrib::json::json_encode);
        tera.register_filter("terraform_escape", terraform_escape);
        let mut templates = Vec::new();
        let mut overridden = Vec::new();
        let mut fingerprint = Sha256::new();
        field(&mut fingerprint, env!("BERTH_RENDER_SHA256").as_bytes());
        for (name, builtin) in TEMPLATES {
            let path = overrides.join(name);
            let text = if path.is_file() {
                overridden.push((*name).to_owned());
                std::fs::read_to_string(&path).map_err(|e| RenderError::Override {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?
            } else {
                (*builtin).to_owned()
            };
            field(&mut fingerprint, name.as_bytes());
            field(&mut fingerprint, text.as_bytes());
            templates.push((*name, text));
        }
        tera.add_raw_templates(templates)
            .map_err(|e| RenderError::Compile {
                template: error_template(&e).unwrap_or_default(),
                message: error_chain(&e),
            })?;
        Ok(Self {
            tera,
            overridden,
            fingerprint,
        })
    }

    /// Renders one artifact to canonical JSON text, with `base` its unit's
    /// context and `task` its own part of it (see [`Unit::task`]).
    pub fn render(
        &self,
        artifact: &Artifact,
        base: &Context,
        task: Option<&TaskContext<'_, '_>>,
    ) -> Result<String, RenderError> {
        let mut context = base.clone();
        if let Some(task) = task {
            context.insert("task", task);
        }
        let text = self
            .tera
            .render(artifact.template, &context)
            .map_err(|e| failed(artifact, &e))?;
        // serde_json keeps the last of two equal keys; a template that writes
        // a key twice (two resources of one name) must fail instead.
        let value: serde_json::Value = unique_keys(&text)
            .and_then(|()| serde_json::from_str(&text))
            .map_err(|e| {
                let line = e.line();
                let excerpt = text
                    .lines()
                    .enumerate()
                    .skip(line.saturating_sub(3))
                    .take(5)
                    .map(|(i, l)| format!("{:>5} | {l}", i + 1))
                    .collect::<Vec<_>>()
                    .join("\n");
                RenderError::Json {
                    template: artifact.template.to_owned(),
                    artifact: artifact.path.clone(),
                    line,
                    column: e.column(),
                    message: e.to_string(),
                    excerpt,
                }
            })?;
        let over = if artifact.kind == "cloudformation-stack" {
            over_limits(&value)
        } else {
            Vec::new()
        };
        let text = canonical(value);
        let bytes = text.len() as u64;
        let mut over = over;
        if artifact.kind == "cloudformation-stack" && bytes > limits::TEMPLATE_BYTES.value {
            over.push((limits::TEMPLATE_BYTES, bytes));
        }
        if over.is_empty() {
            return Ok(text);
        }
        Err(RenderError::Limit {
            artifact: artifact.path.clone(),
            sources: artifact.sources.last().cloned().unwrap_or_default(),
            message: over
                .iter()
                .map(|(limit, count)| {
                    format!(
                        "{} {}, at most {}",
                        limits::thousands(*count),
                        limit.what,
                        limits::allowed(limit, limit.value)
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        })
    }

    /// Renders every artifact of every unit in parallel, reusing what
    /// `previous` holds of it where its inputs are unchanged; the results
    /// keep the order of `units` and their artifacts. A broken template is
    /// reported once, with the number of other artifacts it broke.
    pub fn render_all(
        &self,
        units: &[Unit],
        previous: &Previous,
    ) -> Result<Vec<Rendered>, Vec<RenderError>> {
        let results: Vec<Result<Rendered, RenderError>> = units
            .par_iter()
            .flat_map_iter(|unit| {
                let mut shared = self.fingerprint.clone();
                // Writing a JSON value into a hash cannot fail.
                let _ = serde_json::to_writer(HashWriter(&mut shared), &unit.context);
                let mut base = None;
                unit.artifacts.iter().map(move |a| {
                    let key = artifact_key(&shared, a);
                    if let Some(reused) = previous.reuse(a, &key) {
                        return Ok(reused);
                    }
                    let task = unit.task(a);
                    let base = base.get_or_insert_with(|| Context::from_serialize(&unit.context));
                    let text = match base {
                        Ok(base) => self.render(a, base, task.as_ref())?,
                        Err(e) => return Err(failed(a, e)),
                    };
                    let sha256 = crate::emit::sha256(&text);
                    Ok(Rendered {
                        inputs: inputs_hash(&key, &sha256),
                        text: Some(text),
                        sha256,
                        reused: false,
                        stamp: None,
                    })
                })
            })
            .collect();
        let mut rendered = Vec::with_capacity(results.len());
        let mut errors: Vec<(RenderError, usize)> = Vec::new();
        for result in results {
            match result {
                Ok(r) => rendered.push(r),
                Err(e) => match errors
                    .iter_mut()
                    .find(|(first, _)| first.template() == e.template())
                {
                    Some((_, more)) => *more += 1,
                    None => errors.push((e, 0)),
                },
            }
        }
        if errors.is_empty() {
            return Ok(rendered);
        }
        Err(errors
            .into_iter()
            .map(|(e, more)| if more == 0 { e } else { e.and_more(more) })
            .collect())
    }
}

/// An artifact's inputs: what its unit shares (`shared`, which holds every
/// task of a heritage) and its own fields, with which of those tasks it
/// renders.
fn artifact_key(shared: &Sha256, artifact: &Artifact) -> Vec<u8> {
    let mut hash = shared.clone();
    field(&mut hash, artifact.template.as_bytes());
    field(&mut hash, artifact.path.as_bytes());
    field(&mut hash, artifact.kind.as_bytes());
    field(
        &mut hash,
        artifact.stack.as_deref().unwrap_or("").as_bytes(),
    );
    hash.update((artifact.sources.len() as u64).to_le_bytes());
    for source in &artifact.sources {
        field(&mut hash, source.as_bytes());
    }
    let (tag, index) = match artifact.task {
        None => (0u8, 0),
        Some(Task::Service(i)) => (1, i),
        Some(Task::Scheduled(i)) => (2, i),
        Some(Task::BeforeDeploy) => (3, 0),
    };
    hash.update([tag]);
    hash.update((index as u64).to_le_bytes());
    hash.finalize().to_vec()
}

impl RenderError {
    fn template(&self) -> &str {
        match self {
            Self::Override { path, .. } => path,
            Self::Compile { template, .. }
            | Self::Render { template, .. }
            | Self::Json { template, .. } => template,
            // Each stack over a limit is its own error.
            Self::Limit { artifact, .. } => artifact,
        }
    }

    /// The same error, saying how many more artifacts it broke.
    fn and_more(self, more: usize) -> Self {
        let note = format!(
            " (and {more} more artifact{} from this template)",
            if more == 1 { "" } else { "s" }
        );
        match self {
            Self::Render {
                template,
                artifact,
                message,
            } => Self::Render {
                template,
                artifact: artifact + &note,
                message,
            },
            Self::Json {
                template,
                artifact,
                line,
                column,
                message,
                excerpt,
            } => Self::Json {
                template,
                artifact: artifact + &note,
                line,
                column,
                message,
                excerpt,
            },
            other => other,
        }
    }
}

/// Fails on the first JSON object that has a key twice, at that key.
fn unique_keys(text: &str) -> Result<(), serde_json::Error> {
    use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};

    struct Unique;

    impl<'de> Deserialize<'de> for Unique {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(Unique)
        }
    }

    impl<'de> Visitor<'de> for Unique {
        type Value = Unique;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_unit<E>(self) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
            while seq.next_element::<Unique>()?.is_some() {}
            Ok(Unique)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
            let mut seen = std::collections::BTreeSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if !seen.insert(key.clone()) {
                    return Err(A::Error::custom(format!("duplicate key `{key}`")));
                }
                map.next_value::<Unique>()?;
            }
            Ok(Unique)
        }
    }

    serde_json::from_str::<Unique>(text).map(|_| ())
}

/// The `terraform_escape` filter: every string in a value, at any depth, with
/// Terraform's template sequences escaped (`${` → `$${`, `%{` → `%%{`), so a
/// value from an instance file reaches AWS exactly as written.
/// Use it before `json_encode` for every user-written value in a `*.tf.json`.
fn terraform_escape(value: &Value, _: Kwargs, _: &State) -> TeraResult<Value> {
    let json = serde_json::to_value(value)
        .map_err(|e| tera::Error::message(format!("cannot escape value: {e}")))?;
    Ok(Value::from_serializable(&escape_json(json)))
}

fn escape_json(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Json::String(s) => Json::String(terraform_literal(&s)),
        Json::Array(items) => Json::Array(items.into_iter().map(escape_json).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (terraform_literal(&k), escape_json(v)))
                .collect(),
        ),
        other => other,
    }
}

fn failed(artifact: &Artifact, error: &dyn std::error::Error) -> RenderError {
    RenderError::Render {
        template: artifact.template.to_owned(),
        artifact: artifact.path.clone(),
        message: error_chain(error),
    }
}

fn error_template(error: &tera::Error) -> Option<String> {
    let text = error.to_string();
    TEMPLATES
        .iter()
        .map(|(n, _)| *n)
        .find(|n| text.contains(n))
        .map(str::to_owned)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    message
}

/// Sorted keys everywhere, CloudFormation or Terraform sections first; 2-space indent; final newline.
#[must_use]
pub fn canonical(value: serde_json::Value) -> String {
    let mut value = sort_keys(value);
    if let serde_json::Value::Object(map) = &mut value {
        let mut ordered = serde_json::Map::new();
        for section in SECTIONS {
            if let Some(v) = map.shift_remove(*section) {
                ordered.insert((*section).to_owned(), v);
            }
        }
        ordered.append(map);
        *map = ordered;
    }
    let mut text = serde_json::to_string_pretty(&value).expect("JSON values serialize");
    text.push('\n');
    text
}

fn sort_keys(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_written_twice_is_an_error() {
        assert!(unique_keys(r#"{"a": {"x": 1, "y": [{"x": 1}]}, "b": 2}"#).is_ok());
        let error = unique_keys("{\"resource\": {\n  \"a\": 1,\n  \"a\": 2\n}}").unwrap_err();
        assert_eq!(error.line(), 3);
        assert!(
            error.to_string().starts_with("duplicate key `a`"),
            "{error}"
        );
    }

    #[test]
    fn terraform_escape_reaches_every_string() {
        assert_eq!(
            escape_json(serde_json::json!({"k": ["${x}", 1], "${y}": true})),
            serde_json::json!({"k": ["$${x}", 1], "$${y}": true})
        );
    }

    #[test]
    fn canonical_orders_sections_then_keys() {
        let value = serde_json::json!({"Resources": {"b": 1, "a": {"z": 1, "y": [ {"d": 1, "c": 2} ]}}, "Outputs": {}, "AWSTemplateFormatVersion": "2010-09-09", "Zeta": 1, "Alpha": 2});
        assert_eq!(
            canonical(value),
            "{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Resources\": {\n    \"a\": {\n      \"y\": [\n        {\n          \"c\": 2,\n          \"d\": 1\n        }\n      ],\n      \"z\": 1\n    },\n    \"b\": 1\n  },\n  \"Outputs\": {},\n  \"Alpha\": 2,\n  \"Zeta\": 1\n}\n"
        );
    }
}
