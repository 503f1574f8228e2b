//! The Markdown printer, for a pull-request comment: a one-line summary, the
//! summary per heritage in the reviewer's terms (identical changes grouped), what
//! will fail, the data at risk and what widens access, a table of resource counts per stack, then
//! each artifact in a collapsed `<details>` block (its resource changes and its hunks in a
//! `diff` fence). The comment stays under [`LIMIT`] characters (GitHub takes
//! 65,536): what does not fit is left out, and the comment says what.

use std::fmt::Write as _;

use super::{
    Diff, FileStatus, counts_text, no_changes, resource_lines, risk_line, security_line, summary,
};
use crate::diff::{ArtifactChange, StackChange};

/// The comment's first line, hidden when GitHub renders it: a CI job finds
/// berth's comment on a pull request by it, to update it instead of adding one.
pub const MARKER: &str = "<!-- berth diff -->";

/// The most characters a comment may have.
pub const LIMIT: usize = 60_000;

/// Most rows of the stack table: a fleet-wide change should leave room for
/// the artifacts themselves.
const TABLE_ROWS: usize = 100;

/// Room kept for the note on what was left out.
const FOOTER_ROOM: usize = 400;

/// Renders a diff as a pull-request comment; `baseline` names what it was
/// compared with.
#[must_use]
pub fn render(diff: &Diff, baseline: &str) -> String {
    render_within(diff, baseline, LIMIT)
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// The longest run of backticks in `text`.
fn longest_backticks(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// A fence longer than any run of backticks in `content`.
fn fence(content: &str) -> String {
    "`".repeat(longest_backticks(content).max(2) + 1)
}

fn code_block(language: &str, content: &str) -> String {
    let fence = fence(content);
    format!("{fence}{language}\n{content}{fence}\n")
}

fn stack_row(stack: &StackChange) -> String {
    let c = stack.counts();
    format!(
        "| `{}` | {} | {} | {} | {} | {} |\n",
        stack.name(),
        c.added,
        c.updated,
        c.replaced,
        c.removed,
        c.orphaned
    )
}

/// One artifact's `<details>` block; without its hunks when `hunks` is false.
fn details(artifact: &ArtifactChange, stack: Option<&StackChange>, hunks: bool) -> String {
    let status = match artifact.status {
        FileStatus::Added => "added",
        FileStatus::Removed => "removed",
        FileStatus::Changed => "changed",
    };
    let mut title = format!("<code>out/{}</code> {status}", artifact.path);
    if let Some(stack) = stack {
        let _ = write!(title, ": {}", counts_text(&stack.counts()));
    }
    let mut block = format!("<details>\n<summary>{title}</summary>\n\n");
    if let Some(stack) = stack {
        let mut lines = String::new();
        if let Some(reason) = &stack.unreadable {
            let _ = writeln!(lines, "resource changes unknown: {reason}");
        }
        for (_, _, line) in resource_lines(stack) {
            lines.push_str(&line);
            lines.push('\n');
        }
        if !lines.is_empty() {
            block.push_str(&code_block("text", &lines));
            block.push('\n');
        }
    }
    if !artifact.hunks.is_empty() {
        if hunks {
            block.push_str(&code_block("diff", &artifact.unified()));
        } else {
            block.push_str("_The text diff is left out to keep this comment short._\n");
        }
        block.push('\n');
    }
    block.push_str("</details>\n\n");
    block
}

fn render_within(diff: &Diff, baseline: &str, limit: usize) -> String {
    if diff.is_empty() {
        return format!("{MARKER}\n{}\n", no_changes(baseline));
    }
    let mut budget = limit.saturating_sub(FOOTER_ROOM);
    let mut left_out: Vec<String> = Vec::new();
    let take = |text: &str, budget: &mut usize| -> bool {
        let n = chars(text);
        if n <= *budget {
            *budget -= n;
            true
        } else {
            false
        }
    };

    let head = format!(
        "{MARKER}\n**berth diff** against {baseline}: {}.\n\n",
        summary(diff)
    );
    take(&head, &mut budget);

    // The change in the reviewer's terms, grouped: 200 heritages with the
    // same change are one line.
    let mut risk = String::new();
    if let Some(note) = &diff.summary.note {
        let line = format!("**Summary:** {note}.\n\n");
        if take(&line, &mut budget) {
            risk.push_str(&line);
        }
    } else if !diff.summary.entries.is_empty() {
        let title = "### Summary\n\n";
        take(title, &mut budget);
        risk.push_str(title);
        let mut skipped = 0;
        for group in diff.summary.groups() {
            let changes: Vec<String> = group.changes().iter().map(|c| code_span(c)).collect();
            let line = format!(
                "- **{}**: {}\n",
                group.label(super::GROUP_NAMES),
                changes.join("; ")
            );
            if take(&line, &mut budget) {
                risk.push_str(&line);
            } else {
                skipped += 1;
            }
        }
        if skipped > 0 {
            left_out.push(format!("{skipped} summary lines"));
        }
        risk.push('\n');
    }

    if let Some(cost) = &diff.cost {
        let title = "### 💰 Cost\n\n";
        take(title, &mut budget);
        risk.push_str(title);
        for line in cost.lines() {
            let line = format!("- {line}\n");
            if take(&line, &mut budget) {
                risk.push_str(&line);
            }
        }
        risk.push('\n');
    }

    // What will fail, then data at risk: what must not be missed.
    for (risks, title, what) in [
        (
            diff.will_fail().collect::<Vec<_>>(),
            "### ⛔ Will fail\n\n",
            "will-fail lines",
        ),
        (
            diff.at_risk().collect(),
            "### ⚠️ Data at risk\n\n",
            "data-at-risk lines",
        ),
    ] {
        if risks.is_empty() {
            continue;
        }
        take(title, &mut budget);
        risk.push_str(title);
        let mut skipped = 0;
        for r in &risks {
            let line = format!("- {}\n", code_span(&risk_line(r)));
            if take(&line, &mut budget) {
                risk.push_str(&line);
            } else {
                skipped += 1;
            }
        }
        if skipped > 0 {
            left_out.push(format!("{skipped} {what}"));
        }
        risk.push('\n');
    }

    if !diff.security.is_empty() {
        let title = "### 🔓 Security\n\n";
        take(title, &mut budget);
        risk.push_str(title);
        let mut skipped = 0;
        for change in &diff.security {
            let line = format!("- {}\n", code_span(&security_line(change)));
            if take(&line, &mut budget) {
                risk.push_str(&line);
            } else {
                skipped += 1;
            }
        }
        if skipped > 0 {
            left_out.push(format!("{skipped} security lines"));
        }
        risk.push('\n');
    }

    if !diff.drift.is_empty() {
        let title = "### ✋ Drift (changed outside CloudFormation; an apply does not undo it)\n\n";
        take(title, &mut budget);
        risk.push_str(title);
        let mut skipped = 0;
        for drift in &diff.drift {
            let mut lines = drift.lines().into_iter();
            let mut entry = format!("- {}\n", code_span(&lines.next().unwrap_or_default()));
            for line in lines {
                entry.push_str(&format!("  - {}\n", code_span(&line)));
            }
            if take(&entry, &mut budget) {
                risk.push_str(&entry);
            } else {
                skipped += 1;
            }
        }
        if skipped > 0 {
            left_out.push(format!("{skipped} drifted resources"));
        }
        risk.push('\n');
    }

    let mut table = String::new();
    if !diff.stacks.is_empty() {
        let header = "| Stack | Added | Updated | Replaced | Removed | Orphaned |\n|---|--:|--:|--:|--:|--:|\n";
        if take(header, &mut budget) {
            table.push_str(header);
            let mut shown = 0;
            for stack in &diff.stacks {
                let row = stack_row(stack);
                if shown < TABLE_ROWS && take(&row, &mut budget) {
                    table.push_str(&row);
                    shown += 1;
                } else {
                    break;
                }
            }
            let skipped = diff.stacks.len() - shown;
            if skipped > 0 {
                left_out.push(format!("{skipped} rows of the stack table"));
            }
            table.push('\n');
        } else {
            left_out.push("the stack table".to_owned());
        }
    }

    let mut artifacts = String::new();
    let mut listed = String::new();
    let mut skipped = 0;
    let mut without_hunks = 0;
    for artifact in &diff.artifacts {
        let stack = diff.stacks.iter().find(|s| s.path == artifact.path);
        if stack.is_none() && artifact.hunks.is_empty() {
            let line = format!(
                "- {} `out/{}`{}\n",
                if artifact.status == FileStatus::Added {
                    "added"
                } else {
                    "removed"
                },
                artifact.path,
                artifact
                    .lines
                    .map(|n| format!(" ({})", super::plural(n, "line")))
                    .unwrap_or_default()
            );
            if skipped == 0 && take(&line, &mut budget) {
                listed.push_str(&line);
            } else {
                skipped += 1;
            }
            continue;
        }
        if skipped > 0 {
            skipped += 1;
            continue;
        }
        let full = details(artifact, stack, true);
        if take(&full, &mut budget) {
            artifacts.push_str(&full);
            continue;
        }
        let short = details(artifact, stack, false);
        if take(&short, &mut budget) {
            artifacts.push_str(&short);
            without_hunks += 1;
        } else {
            skipped += 1;
        }
    }
    if without_hunks > 0 {
        left_out.push(format!(
            "the text diff of {}",
            super::plural(without_hunks, "artifact")
        ));
    }
    if skipped > 0 {
        left_out.push(super::plural(skipped, "more artifact"));
    }

    let mut out = head;
    out.push_str(&risk);
    out.push_str(&table);
    if !artifacts.is_empty() || !listed.is_empty() {
        out.push_str("### Artifacts\n\n");
        out.push_str(&artifacts);
        if !listed.is_empty() {
            out.push_str(&listed);
            out.push('\n');
        }
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            out,
            "_Left out to stay under {} characters: {}. Run `berth diff` locally to see everything._",
            crate::limits::thousands(limit as u64),
            left_out.join(", ")
        );
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Text in a code span, with a delimiter longer than any backtick run in it.
fn code_span(text: &str) -> String {
    let longest = longest_backticks(text);
    let ticks = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{ticks} {text} {ticks}")
    } else {
        format!("{ticks}{text}{ticks}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Files;

    fn files(entries: &[(&str, String)]) -> Files {
        entries
            .iter()
            .map(|(p, t)| ((*p).to_owned(), t.clone()))
            .collect()
    }

    #[test]
    fn fences_outgrow_backticks_in_the_content() {
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("a ```` b"), "`````");
        assert_eq!(code_span("a"), "`a`");
        assert_eq!(code_span("a `b`"), "`` a `b` ``");
        assert_eq!(crate::limits::thousands(60_000), "60,000");
        assert_eq!(crate::limits::thousands(999), "999");
    }

    #[test]
    fn the_stack_table_has_at_most_a_hundred_rows() {
        let template = |port: u16| {
            crate::render::canonical(serde_json::json!({"Resources": {"Group": {
                "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                "Properties": {"Port": port}
            }}}))
        };
        let side = |port| -> Files {
            (0..150)
                .map(|i| (format!("d/h{i:03}/app.cfn.json"), template(port)))
                .collect()
        };
        let diff = crate::diff::diff(&side(80), &side(81));
        assert_eq!(diff.stacks.len(), 150);
        let text = render(&diff, "`out/`");
        assert_eq!(text.matches("| `d/h").count(), TABLE_ROWS);
        assert!(text.contains("| `d/h099/app.cfn.json` | 0 | 0 | 1 | 0 | 0 |"));
        assert!(
            text.contains("_Left out to stay under 60,000 characters: 50 rows of the stack table"),
            "{text}"
        );
    }

    #[test]
    fn a_long_diff_stays_under_the_limit_and_says_what_it_left_out() {
        let before: Vec<(String, String)> = (0..200)
            .map(|i| {
                let text = (0..50).fold(String::new(), |mut s, l| {
                    let _ = writeln!(s, "line {l} of {i}");
                    s
                });
                (format!("d/h{i}/task-definitions/web.json"), text)
            })
            .collect();
        let after: Vec<(String, String)> = before
            .iter()
            .map(|(p, t)| (p.clone(), t.replace("line 25", "row 25")))
            .collect();
        let as_files = |v: &[(String, String)]| {
            files(
                &v.iter()
                    .map(|(p, t)| (p.as_str(), t.clone()))
                    .collect::<Vec<_>>(),
            )
        };
        let diff = crate::diff::diff(&as_files(&before), &as_files(&after));
        let limit = 10_000;
        let text = render_within(&diff, "`out/`", limit);
        assert!(chars(&text) <= limit, "{}", chars(&text));
        assert!(
            text.ends_with("Run `berth diff` locally to see everything._\n"),
            "{text}"
        );
        assert!(text.contains("_Left out to stay under 10,000 characters: "));
        let full = render(&diff, "`out/`");
        assert!(chars(&full) <= LIMIT);
    }
}
