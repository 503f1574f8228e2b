//! Diagnostics: what went wrong (or looks wrong) in the fleet, where, and what to do.
//!
//! Every stage reports problems as [`Diagnostic`]s pointing into [`Sources`]; the
//! stages collect them instead of stopping at the first one. Rendering happens
//! here too, into strings: the library never prints, the CLI decides where the
//! text goes.

use std::fmt::Write as _;
use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as Report, Label, LabelStyle};
use codespan_reporting::files::{Files, SimpleFiles};
use codespan_reporting::term::{self, Config, termcolor::Buffer};
use serde::Serialize;

/// Index of a file in [`Sources`].
pub type FileId = usize;

/// A byte range in one source file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub range: Range<usize>,
}

impl Span {
    #[must_use]
    pub fn new(file: FileId, range: Range<usize>) -> Self {
        Self { file, range }
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice; never fails a run, not even with `--deny-warnings`.
    Note,
    Warning,
    Error,
}

/// One problem found in the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A short kebab-case name of the kind of problem, e.g. `unknown-key`.
    pub code: &'static str,
    /// Lowercase, names keys and values in backticks.
    pub message: String,
    /// Where the problem is; `None` for problems about the fleet as a whole.
    pub span: Option<Span>,
    /// Text under the caret.
    pub label: String,
    /// Other places involved (e.g. the first of two duplicate names).
    pub related: Vec<(Span, String)>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    #[must_use]
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    #[must_use]
    pub fn note(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Note, code, message)
    }

    #[must_use]
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity,
            code,
            message: message.into(),
            span: None,
            label: String::new(),
            related: Vec::new(),
            help: None,
        }
    }

    #[must_use]
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.span = Some(span);
        self.label = label.into();
        self
    }

    #[must_use]
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    #[must_use]
    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning
    }

    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The text of every file a run has read, for locating and showing diagnostics.
#[derive(Debug, Default)]
pub struct Sources {
    files: SimpleFiles<String, String>,
}

impl Sources {
    /// Adds a file under the path it is shown as (relative to the fleet root).
    pub fn add(&mut self, path: String, text: String) -> FileId {
        self.files.add(path, text)
    }

    /// Every file read, in the order read.
    pub fn ids(&self) -> impl Iterator<Item = FileId> + '_ {
        (0..).map_while(|id| self.files.get(id).ok().map(|_| id))
    }

    /// The displayed path of a file.
    #[must_use]
    pub fn path(&self, file: FileId) -> &str {
        self.files.get(file).map_or("", |f| f.name().as_str())
    }

    /// The text of a file.
    #[must_use]
    pub fn text(&self, file: FileId) -> &str {
        self.files.get(file).map_or("", |f| f.source().as_str())
    }

    /// 1-based line and column (in characters) of a byte offset.
    #[must_use]
    pub fn line_col(&self, file: FileId, offset: usize) -> (usize, usize) {
        self.files
            .location(file, offset)
            .map_or((1, 1), |l| (l.line_number, l.column_number))
    }

    /// `path:line:col` of a span.
    #[must_use]
    pub fn locate(&self, span: &Span) -> String {
        let (line, col) = self.line_col(span.file, span.range.start);
        format!("{}:{line}:{col}", self.path(span.file))
    }
}

/// Renders diagnostics the way a person reads them: the message, the location,
/// the source line with a caret, then the help.
#[must_use]
pub fn render_human(diagnostics: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let config = Config {
        chars: term::Chars::ascii(),
        ..Config::default()
    };
    let mut out = Buffer::no_color();
    let mut colored = Buffer::ansi();
    for diagnostic in diagnostics {
        let report = to_report(diagnostic);
        let target = if color { &mut colored } else { &mut out };
        // Rendering only fails for spans outside their file, which the loader never makes.
        let _ = term::emit_to_write_style(target, &config, &sources.files, &report);
    }
    let buffer = if color { colored } else { out };
    String::from_utf8_lossy(buffer.as_slice()).into_owned()
}

fn to_report(diagnostic: &Diagnostic) -> Report<FileId> {
    let report = match diagnostic.severity {
        Severity::Error => Report::error(),
        Severity::Warning => Report::warning(),
        Severity::Note => Report::note(),
    };
    let mut labels = Vec::new();
    if let Some(span) = &diagnostic.span {
        labels.push(
            Label::new(LabelStyle::Primary, span.file, span.range.clone())
                .with_message(diagnostic.label.clone()),
        );
    }
    for (span, message) in &diagnostic.related {
        labels.push(
            Label::new(LabelStyle::Secondary, span.file, span.range.clone())
                .with_message(message.clone()),
        );
    }
    let notes = diagnostic
        .help
        .iter()
        .map(|h| format!("help: {h}"))
        .collect();
    report
        .with_code(diagnostic.code)
        .with_message(diagnostic.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: Severity,
    code: &'a str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    help: Option<&'a str>,
}

/// Renders diagnostics as JSON lines, one object per diagnostic, for tools.
#[must_use]
pub fn render_json(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let mut out = String::new();
    for value in json_diagnostics(diagnostics, sources) {
        let _ = writeln!(out, "{value}");
    }
    out
}

/// The diagnostics as JSON objects (`severity`, `code`, `message`, `file`,
/// `line`, `column`, `end_line`, `end_column`, `help`), for documents that
/// hold them, such as `build --format json`'s.
#[must_use]
pub fn json_diagnostics(diagnostics: &[Diagnostic], sources: &Sources) -> Vec<serde_json::Value> {
    diagnostics
        .iter()
        .map(|d| {
            let start = d
                .span
                .as_ref()
                .map(|s| sources.line_col(s.file, s.range.start));
            let end = d
                .span
                .as_ref()
                .map(|s| sources.line_col(s.file, s.range.end));
            serde_json::to_value(JsonDiagnostic {
                severity: d.severity,
                code: d.code,
                message: &d.message,
                file: d.span.as_ref().map(|s| sources.path(s.file)),
                line: start.map(|p| p.0),
                column: start.map(|p| p.1),
                end_line: end.map(|p| p.0),
                end_column: end.map(|p| p.1),
                help: d.help.as_deref(),
            })
            .expect("diagnostics serialize")
        })
        .collect()
}

/// A one-line count, e.g. `2 errors, 1 warning` or `0 errors, 0 warnings, 3 notes`
/// (notes are counted when there are some).
#[must_use]
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let count = |severity| {
        diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    };
    counts_summary(
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Note),
    )
}

/// `1 error, 0 warnings, 2 notes` (notes only when there are some): the
/// counts of [`summary`], for a caller that kept only the counts.
#[must_use]
pub fn counts_summary(errors: usize, warnings: usize, notes: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut text = format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    if notes > 0 {
        text.push_str(&format!(", {}", plural(notes, "note")));
    }
    text
}
