//! The text printer, for a terminal: the summary in the reviewer's terms, what will fail, data at risk, security, each stack's resource
//! changes, the changed artifacts and their hunks, then a summary line;
//! ANSI colours when asked.

use std::fmt::Write as _;

use super::{
    Action, Diff, FileStatus, no_changes, resource_lines, risk_line, security_line, summary,
};
use crate::diff::{LineKind, Target};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const BOLD_RED: &str = "\x1b[1;31m";

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}

fn action_style(action: Action) -> &'static str {
    match action {
        Action::Add => GREEN,
        Action::Remove | Action::Replace => RED,
        Action::Orphan => CYAN,
        Action::Update | Action::Revision => YELLOW,
    }
}

/// Renders a diff for a terminal; `baseline` names what it was compared with.
#[must_use]
pub fn render(diff: &Diff, baseline: &str, color: bool) -> String {
    if diff.is_empty() {
        return no_changes(baseline) + "\n";
    }
    let paint = Paint { color };
    let mut out = String::new();
    // The change in the reviewer's terms comes first.
    let lines = super::summary_lines(&diff.summary);
    if let Some(note) = &diff.summary.note {
        let _ = writeln!(out, "{} {note}.", paint.paint(BOLD, "Summary:"));
        out.push('\n');
    } else if !lines.is_empty() {
        out.push_str(&paint.paint(BOLD, "Summary:"));
        out.push('\n');
        for line in lines {
            let _ = writeln!(out, "  {line}");
        }
        out.push('\n');
    }
    if let Some(cost) = &diff.cost {
        out.push_str(&paint.paint(BOLD, "Cost:"));
        out.push('\n');
        for line in cost.lines() {
            let _ = writeln!(out, "  {line}");
        }
        out.push('\n');
    }
    let fails: Vec<_> = diff.will_fail().collect();
    if !fails.is_empty() {
        out.push_str(&paint.paint(BOLD_RED, "Will fail:"));
        out.push('\n');
        for fail in &fails {
            let _ = writeln!(out, "  {}", paint.paint(BOLD_RED, &risk_line(fail)));
        }
        out.push('\n');
    }
    let risks: Vec<_> = diff.at_risk().collect();
    if !risks.is_empty() {
        out.push_str(&paint.paint(BOLD_RED, "Data at risk:"));
        out.push('\n');
        for risk in &risks {
            let _ = writeln!(out, "  {}", paint.paint(BOLD_RED, &risk_line(risk)));
        }
        out.push('\n');
    }
    if !diff.security.is_empty() {
        out.push_str(&paint.paint(BOLD_RED, "Security:"));
        out.push('\n');
        for change in &diff.security {
            let _ = writeln!(out, "  {}", paint.paint(BOLD_RED, &security_line(change)));
        }
        out.push('\n');
    }
    if !diff.drift.is_empty() {
        out.push_str(&paint.paint(
            BOLD_RED,
            "Drift (changed outside CloudFormation; an apply does not undo it):",
        ));
        out.push('\n');
        for drift in &diff.drift {
            for (i, line) in drift.lines().iter().enumerate() {
                let indent = if i == 0 { "  " } else { "      " };
                let _ = writeln!(out, "{indent}{line}");
            }
        }
        out.push('\n');
    }
    for stack in &diff.stacks {
        let heading = match stack.target {
            Target::CloudFormation => {
                let status = match stack.status {
                    FileStatus::Added => " (new stack)",
                    FileStatus::Removed => " (stack deleted)",
                    FileStatus::Changed => "",
                };
                format!("Stack {} (out/{}){status}", stack.name(), stack.path)
            }
            Target::Terraform => {
                let status = match stack.status {
                    FileStatus::Added => " (new file)",
                    FileStatus::Removed => " (file deleted)",
                    FileStatus::Changed => "",
                };
                format!("Terraform out/{}{status}", stack.path)
            }
        };
        let _ = writeln!(out, "{}", paint.paint(BOLD, &heading));
        if let Some(reason) = &stack.unreadable {
            let _ = writeln!(out, "  resource changes unknown: {reason}");
        }
        for (action, at_risk, line) in resource_lines(stack) {
            let style = if at_risk {
                BOLD_RED
            } else {
                action_style(action)
            };
            let line = if line.starts_with(' ') {
                line
            } else {
                paint.paint(style, &line)
            };
            let _ = writeln!(out, "  {line}");
        }
        out.push('\n');
    }
    if !diff.artifacts.is_empty() {
        out.push_str(&paint.paint(BOLD, "Artifacts:"));
        out.push('\n');
    }
    for artifact in &diff.artifacts {
        let (word, style) = match artifact.status {
            FileStatus::Added => ("added  ", GREEN),
            FileStatus::Removed => ("removed", RED),
            FileStatus::Changed => ("changed", YELLOW),
        };
        let lines = artifact
            .lines
            .map(|n| format!(" ({})", super::plural(n, "line")))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} out/{}{lines}",
            paint.paint(style, word),
            artifact.path
        );
    }
    for artifact in diff.artifacts.iter().filter(|a| !a.hunks.is_empty()) {
        out.push('\n');
        let _ = writeln!(
            out,
            "{}",
            paint.paint(BOLD, &format!("--- a/out/{}", artifact.path))
        );
        let _ = writeln!(
            out,
            "{}",
            paint.paint(BOLD, &format!("+++ b/out/{}", artifact.path))
        );
        for hunk in &artifact.hunks {
            let _ = writeln!(out, "{}", paint.paint(CYAN, &hunk.header));
            for line in &hunk.lines {
                let text = format!("{}{}", line.kind.sign(), line.text);
                let text = match line.kind {
                    LineKind::Context => text,
                    LineKind::Delete => paint.paint(RED, &text),
                    LineKind::Insert => paint.paint(GREEN, &text),
                };
                let _ = writeln!(out, "{text}");
            }
        }
    }
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    let _ = writeln!(out, "Changes against {baseline}: {}.", summary(diff));
    out
}
