//! `berth diff`: renders the fleet in memory, compares it with `out/` on
//! disk or at a git revision, prints the changes and exits with a code for CI.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use rayon::prelude::*;

use berth::compiler;
use berth::cost::{self, price::PriceTable};
use berth::diagnostic::summary;
use berth::diff::summary::{self, Summary};
use berth::diff::{self, Files, Impact, render};

use super::{
    Args, Color, DiagnosticFormat, Verbosity, analyze, git, report_diagnostics, write_stdout,
};

/// Exit code when there are changes (as `terraform plan -detailed-exitcode`).
const CHANGES: u8 = 2;
/// Exit code when a change named by `--fail-on` is present.
const FAILED_ON: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// Compare with `out/` at this git revision (e.g. `origin/main`) instead
    /// of `out/` on disk.
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// `text` for a terminal, `markdown` for a pull-request comment, `json` for tools.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Exit 3 when a change of this kind is present: `replace` (any
    /// replacement or deletion), `data-loss` (a stateful resource replaced
    /// or deleted, or a change CloudFormation refuses), `will-fail` (a
    /// change CloudFormation or Terraform refuses) or `security` (a change
    /// that widens access: the Security section) or `cost:+N` (a monthly
    /// cost increase above N USD).
    #[arg(long, value_parser = parse_fail_on, value_name = "KIND")]
    fail_on: Option<FailOn>,
    /// Compare `out/` with what is deployed: each stack's template and
    /// parameters as CloudFormation holds them (reading calls only).
    #[arg(long, conflicts_with = "base")]
    deployed: bool,
    /// With `--deployed`: also run CloudFormation's drift detection on
    /// each stack and list the resources changed outside CloudFormation.
    #[arg(long, requires = "deployed")]
    resources: bool,
    #[command(flatten)]
    verbosity: Verbosity,
    #[command(flatten)]
    aws: super::apply::AwsArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy)]
enum FailOn {
    Replace,
    DataLoss,
    WillFail,
    Security,
    /// A monthly cost increase above this many USD.
    Cost(f64),
}

/// `replace`, `data-loss`, `will-fail`, `security` or `cost:+N`.
fn parse_fail_on(text: &str) -> Result<FailOn, String> {
    match text {
        "replace" => Ok(FailOn::Replace),
        "data-loss" => Ok(FailOn::DataLoss),
        "will-fail" => Ok(FailOn::WillFail),
        "security" => Ok(FailOn::Security),
        _ => {
            let limit = text
                .strip_prefix("cost:+")
                .and_then(|n| n.parse::<f64>().ok())
                .filter(|n| n.is_finite() && *n >= 0.0);
            limit.map(FailOn::Cost).ok_or_else(|| {
                format!(
                    "`{text}` is not one of `replace`, `data-loss`, `will-fail`, `security` or `cost:+N` (a monthly increase in USD, e.g. `cost:+50`)"
                )
            })
        }
    }
}

impl FailOn {
    /// Whether the diff holds a change of this kind: an impact at least as
    /// destructive as the kind's, or for `security` a widening of access.
    fn found_in(self, diff: &diff::Diff) -> bool {
        let at_least = |impact| diff.worst().is_some_and(|w| w >= impact);
        match self {
            Self::Replace => at_least(Impact::Replace),
            Self::DataLoss => at_least(Impact::DataLoss),
            Self::WillFail => at_least(Impact::WillFail),
            Self::Security => !diff.security.is_empty(),
            Self::Cost(limit) => diff.cost.as_ref().is_some_and(|c| c.delta > limit),
        }
    }
}

pub fn run(args: &Args, diff_args: &DiffArgs) -> Result<ExitCode> {
    if diff_args.deployed {
        return deployed(args, diff_args);
    }
    let start = std::time::Instant::now();
    let analysis = analyze(args)?;
    report_diagnostics(
        &diff_args.verbosity.shown(&analysis.diagnostics),
        &analysis.sources,
        &args.root,
        DiagnosticFormat::Human,
        color(args.color, false),
    );
    let Some(fleet) = &analysis.fleet else {
        eprintln!("diff failed: {}", summary(&analysis.diagnostics));
        return Ok(ExitCode::FAILURE);
    };
    // What `out/` holds of the sources' artifacts is reused where their
    // inputs are unchanged (see `berth::render`); the result is the same.
    let previous = berth::render::Previous::read(&args.root.join("out"));
    let after = compiler::render_reusing(fleet, &args.root, &previous)?.files;
    // The baseline, as plain text and as Markdown.
    let (before, baseline, markdown) = match &diff_args.base {
        Some(revision) => match git::out_at(&args.root, revision, &after)? {
            Some(files) => (
                files,
                format!("out/ at {revision}"),
                format!("`out/` at `{revision}`"),
            ),
            // The first change that commits `out/`: everything is new.
            None => (
                Files::new(),
                format!("out/ at {revision} (the base has no out/: everything is added)"),
                format!("`out/` at `{revision}` (the base has no `out/`: everything is added)"),
            ),
        },
        None => (
            read_out(&args.root.join("out"))?,
            "out/".to_owned(),
            "`out/`".to_owned(),
        ),
    };
    let mut diff = diff::diff(&before, &after);
    if !diff.is_empty() {
        let regions = cost::districts_of(fleet);
        let table = PriceTable::builtin();
        let (cost_before, cost_after) = cost::estimate_both(&before, &after, &regions, &table);
        diff.cost = cost::change::change(&cost_before, &cost_after);
        let revision = diff_args.base.as_deref().unwrap_or("HEAD");
        diff.summary = base_summary(&args.root, revision, fleet, &diff);
    }
    finish(args, diff_args, &diff, &baseline, &markdown, start)
}

/// `--deployed`: `out/` (its stack files, checked against the manifest)
/// against what CloudFormation holds for those stacks. The sources are not
/// read, so there is no reviewer's summary.
fn deployed(args: &Args, diff_args: &DiffArgs) -> Result<ExitCode> {
    let start = std::time::Instant::now();
    let super::apply::Deployed {
        artifacts,
        files: before,
        drift,
    } = match super::apply::deployed(&args.root, &diff_args.aws, diff_args.resources) {
        Ok(found) => found,
        Err(code) => return Ok(code),
    };
    let after: Files = artifacts
        .files
        .iter()
        .filter(|(path, _)| {
            diff::is_template(path)
                || path.ends_with("/app.params.json")
                || path.as_str() == berth::emit::MANIFEST
        })
        .map(|(path, text)| (path.clone(), text.clone()))
        .collect();
    let mut diff = diff::diff(&before, &after);
    diff.drift = drift;
    if !diff.is_empty() {
        diff.summary = Summary::unavailable(
            "compared with the deployed stacks, not with sources: the resource view below says what changed",
        );
    }
    finish(
        args,
        diff_args,
        &diff,
        "the deployed stacks",
        "the deployed stacks",
        start,
    )
}

/// Prints the diff in its format and returns its exit code.
fn finish(
    args: &Args,
    diff_args: &DiffArgs,
    diff: &diff::Diff,
    baseline: &str,
    markdown: &str,
    start: std::time::Instant,
) -> Result<ExitCode> {
    let text = match diff_args.format {
        DiffFormat::Text => render::text::render(diff, baseline, color(args.color, true)),
        DiffFormat::Markdown => render::markdown::render(diff, markdown),
        DiffFormat::Json => render::json::render(diff, baseline),
    };
    if !diff_args.verbosity.quiet {
        write_stdout(&text)?;
    }
    if diff_args.verbosity.verbose {
        eprintln!("took: {:.3} s", start.elapsed().as_secs_f64());
    }
    if diff.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let failed = diff_args.fail_on.is_some_and(|kind| kind.found_in(diff));
    Ok(ExitCode::from(if failed { FAILED_ON } else { CHANGES }))
}

/// The reviewer's summary: the fleet as the sources are now against the
/// fleet of the sources (`instances/`) at `revision` — the `--base`, or
/// `HEAD` when comparing with `out/` on disk, which is usually built from
/// it. Without base sources the summary is a note that says why; it never
/// fails the diff.
fn base_summary(
    root: &Path,
    revision: &str,
    fleet: &berth::model::Fleet,
    diff: &diff::Diff,
) -> Summary {
    let Ok(commit) = git::commit_of(root, revision) else {
        return Summary::unavailable(format!(
            "there are no sources at {revision} to compare with (not a git repository, or no commit yet)"
        ));
    };
    let files = match git::tree_at(root, &commit, "instances") {
        Ok(Some(files)) => files,
        Ok(None) => {
            return Summary::unavailable(format!("the base ({revision}) has no instances/"));
        }
        Err(error) => {
            return Summary::unavailable(format!("cannot read instances/ at {revision}: {error}"));
        }
    };
    let Ok(dir) = tempfile::tempdir() else {
        return Summary::unavailable("cannot create a temporary directory");
    };
    for (path, text) in &files {
        let target = dir.path().join("instances").join(path);
        let written = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&target, text));
        if written.is_err() {
            return Summary::unavailable("cannot write the base sources to a temporary directory");
        }
    }
    match compiler::analyze(dir.path()) {
        Ok(compiler::Analysis {
            fleet: Some(base), ..
        }) => {
            let mut summary = summary::summarize(&base, fleet, diff);
            if summary.entries.is_empty() {
                summary.note = Some(if same_sources(root, &files) {
                    format!(
                        "instances/ is the same as at {revision}: the artifacts change for another reason (templates/, berth itself, or an out/ not built from those sources)"
                    )
                } else {
                    format!(
                        "instances/ changed since {revision} in ways this summary does not name: the resources below say what the change does"
                    )
                });
            }
            summary
        }
        _ => Summary::unavailable(format!(
            "the sources at {revision} do not compile (run `berth validate` on that revision)"
        )),
    }
}

/// Whether `root/instances` holds exactly `base` (paths under
/// `instances/`, and their text).
fn same_sources(root: &Path, base: &std::collections::BTreeMap<String, String>) -> bool {
    let dir = root.join("instances");
    let mut count = 0;
    for entry in walkdir::WalkDir::new(&dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(&dir).unwrap_or(entry.path());
        let relative = relative.to_string_lossy().replace('\\', "/");
        match (base.get(&relative), std::fs::read_to_string(entry.path())) {
            (Some(text), Ok(now)) if *text == now => count += 1,
            _ => return false,
        }
    }
    count == base.len()
}

/// Whether to colour: `auto` colours the stream it writes to when it is a
/// terminal and `NO_COLOR` is not set.
fn color(color: Color, stdout: bool) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && if stdout {
                    std::io::stdout().is_terminal()
                } else {
                    std::io::stderr().is_terminal()
                }
        }
    }
}

/// Every file of `out/` on disk, by path relative to it.
fn read_out(out: &Path) -> Result<Files> {
    if !out.is_dir() {
        bail!(
            "there is no `{}` to compare with: run `berth build` first, or compare with a git revision: `berth diff --base REV`",
            out.strip_prefix(".").unwrap_or(out).display()
        );
    }
    let mut paths = Vec::new();
    for entry in walkdir::WalkDir::new(out).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot read `{}`", out.display()))?;
        if entry.file_type().is_file() {
            paths.push(entry.into_path());
        }
    }
    // In parallel: reading is most of a diff's time on a large out/.
    paths
        .par_iter()
        .map(|path| {
            let relative = path.strip_prefix(out).unwrap_or(path);
            let relative = relative.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            Ok((relative, text))
        })
        .collect()
}
