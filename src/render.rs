//! Render: Tera templates → JSON text → parsed → canonical pretty JSON.
//!
//! The built-in templates are compiled into the binary; a fleet's own
//! `templates/` folder overrides any of them by file name. Templates are
//! compiled once per run and rendered in parallel. Every rendered text must
//! parse as JSON; it is written back with 2-space indent and sorted keys
//! (CloudFormation's top-level sections first, in their usual order), so the
//! bytes depend only on the values.

use std::path::Path;

use rayon::prelude::*;
use tera::{Context, Tera};

use crate::plan::{Artifact, Unit};

/// The built-in templates, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("app.cfn.json", include_str!("../templates/app.cfn.json")),
    (
        "app.params.json",
        include_str!("../templates/app.params.json"),
    ),
    ("data.cfn.json", include_str!("../templates/data.cfn.json")),
    (
        "alb-rules.json",
        include_str!("../templates/alb-rules.json"),
    ),
    (
        "district.cfn.json",
        include_str!("../templates/district.cfn.json"),
    ),
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
];

/// CloudFormation's top-level sections, in the order they are written.
const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Parameters",
    "Resources",
    "Outputs",
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
}

/// The compiled templates of one run.
pub struct Renderer {
    tera: Tera,
    /// Which built-in templates the fleet overrides.
    pub overridden: Vec<String>,
}

impl Renderer {
    /// Compiles the built-in templates, replaced by any file of the same name
    /// under `overrides` (a fleet's `templates/` folder) when it exists.
    pub fn new(overrides: &Path) -> Result<Self, RenderError> {
        let mut tera = Tera::new();
        tera.autoescape_on(Vec::<&str>::new());
        tera.register_filter("json_encode", tera_contrib::json::json_encode);
        let mut templates = Vec::new();
        let mut overridden = Vec::new();
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
            templates.push((*name, text));
        }
        tera.add_raw_templates(templates)
            .map_err(|e| RenderError::Compile {
                template: error_template(&e).unwrap_or_default(),
                message: error_chain(&e),
            })?;
        Ok(Self { tera, overridden })
    }

    /// Renders one artifact to canonical JSON text, with `base` its unit's context.
    pub fn render(&self, artifact: &Artifact, base: &Context) -> Result<String, RenderError> {
        let mut context = base.clone();
        if let Some((name, value)) = &artifact.extra {
            context.insert(*name, value);
        }
        let text = self
            .tera
            .render(artifact.template, &context)
            .map_err(|e| failed(artifact, &e))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
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
        Ok(canonical(value))
    }

    /// Renders every artifact of every unit in parallel; the texts keep the
    /// order of `units` and their artifacts. A broken template is reported
    /// once, with the number of other artifacts it broke.
    pub fn render_all(&self, units: &[Unit]) -> Result<Vec<String>, Vec<RenderError>> {
        let results: Vec<Result<String, RenderError>> = units
            .par_iter()
            .flat_map_iter(|unit| {
                let base = Context::from_serialize(&unit.context);
                unit.artifacts.iter().map(move |a| match &base {
                    Ok(base) => self.render(a, base),
                    Err(e) => Err(failed(a, e)),
                })
            })
            .collect();
        let mut texts = Vec::with_capacity(results.len());
        let mut errors: Vec<(RenderError, usize)> = Vec::new();
        for result in results {
            match result {
                Ok(text) => texts.push(text),
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
            return Ok(texts);
        }
        Err(errors
            .into_iter()
            .map(|(e, more)| if more == 0 { e } else { e.and_more(more) })
            .collect())
    }
}

impl RenderError {
    fn template(&self) -> &str {
        match self {
            Self::Override { path, .. } => path,
            Self::Compile { template, .. }
            | Self::Render { template, .. }
            | Self::Json { template, .. } => template,
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

/// Sorted keys everywhere, CloudFormation sections first; 2-space indent; final newline.
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
    fn canonical_orders_sections_then_keys() {
        let value = serde_json::json!({"Resources": {"b": 1, "a": {"z": 1, "y": [ {"d": 1, "c": 2} ]}}, "Outputs": {}, "AWSTemplateFormatVersion": "2010-09-09", "Zeta": 1, "Alpha": 2});
        assert_eq!(
            canonical(value),
            "{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Resources\": {\n    \"a\": {\n      \"y\": [\n        {\n          \"c\": 2,\n          \"d\": 1\n        }\n      ],\n      \"z\": 1\n    },\n    \"b\": 1\n  },\n  \"Outputs\": {},\n  \"Alpha\": 2,\n  \"Zeta\": 1\n}\n"
        );
    }
}
