//! Diagnostics for CI systems: GitHub Actions workflow commands
//! (`::error file=…,line=…::message`) and SARIF 2.1.0, each with file paths
//! relative to the repository's root (a prefix the caller gives), so
//! annotations land on the right file in a monorepo too.
//!
//! Pure text out; the CLI finds the prefix and prints.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::diagnostic::{Diagnostic, Severity, Sources};

/// A diagnostic's file and range: path (prefixed), start line and column,
/// end line and column, all 1-based, columns in characters.
fn location(d: &Diagnostic, sources: &Sources, prefix: &str) -> Option<(String, [usize; 4])> {
    let span = d.span.as_ref()?;
    let (line, column) = sources.line_col(span.file, span.range.start);
    let (end_line, end_column) = sources.line_col(span.file, span.range.end);
    Some((
        format!("{prefix}{}", sources.path(span.file)),
        [line, column, end_line, end_column],
    ))
}

/// The message with its help on the next line.
fn text(d: &Diagnostic) -> String {
    match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    }
}

/// GitHub Actions workflow commands, one per diagnostic: `error`, `warning`
/// and `notice`. Escaping as the runner reads it (actions/toolkit,
/// `packages/core/src/command.ts`): `%`, CR and LF in the message; also `:`
/// and `,` in properties.
#[must_use]
pub fn render_github(diagnostics: &[Diagnostic], sources: &Sources, prefix: &str) -> String {
    fn data(s: &str) -> String {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }
    fn property(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let mut out = String::new();
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut properties = Vec::new();
        if let Some((file, [line, col, end_line, end_col])) = location(d, sources, prefix) {
            properties.push(format!("file={}", property(&file)));
            properties.push(format!("line={line}"));
            properties.push(format!("col={col}"));
            properties.push(format!("endLine={end_line}"));
            if end_line == line {
                properties.push(format!("endColumn={end_col}"));
            }
        }
        properties.push(format!("title={}", property(&format!("berth {}", d.code))));
        let _ = writeln!(
            out,
            "::{command} {}::{}",
            properties.join(","),
            data(&text(d))
        );
    }
    out
}

/// One SARIF 2.1.0 log (OASIS, `sarif-schema-2.1.0.json`) with one run of
/// berth: a rule per diagnostic code, a result per diagnostic, columns in
/// Unicode code points.
#[must_use]
pub fn render_sarif(diagnostics: &[Diagnostic], sources: &Sources, prefix: &str) -> String {
    let mut codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let rules: Vec<Value> = codes.iter().map(|code| json!({"id": code})).collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            };
            let mut result = json!({
                "ruleId": d.code,
                "ruleIndex": codes.binary_search(&d.code).unwrap_or(0),
                "level": level,
                "message": {"text": text(d)},
            });
            if let Some((file, [line, col, end_line, end_col])) = location(d, sources, prefix) {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": {"uri": file, "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": line,
                            "startColumn": col,
                            "endLine": end_line,
                            "endColumn": end_col
                        }
                    }
                }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "berth",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "columnKind": "unicodeCodePoints",
            "results": results
        }]
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&log).unwrap_or_default()
    )
}
