//! `berth build` and `berth build --check`: render the fleet, then write
//! `out/` or compare it, and say what happened — for people on stderr, or
//! as one JSON document on stdout (`--format json`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::ValueEnum;
use serde::Serialize;

use berth::compiler::{self, Analysis};
use berth::diagnostic::{Severity, counts_summary, json_diagnostics};
use berth::editor::stale_schemas;
use berth::emit;
use berth::render::Previous;

use super::{
    Args, DRIFT, DiagnosticFormat, Verbosity, color_enabled, report_diagnostics, write_stdout,
};

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Where to write; default `<root>/out`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write nothing; exit 2 and list what differs when `out/` or a schema
    /// the fleet's files name is stale (1 is for errors).
    #[arg(long)]
    check: bool,
    /// Delete files in the output directory that berth did not write
    /// (not in its manifest); without it, build refuses and lists them.
    #[arg(long, conflicts_with = "check")]
    delete_unknown_files: bool,
    /// Render every artifact, reusing none of the previous `out/` (the
    /// result is the same; this is slower).
    #[arg(long)]
    fresh: bool,
    /// How long to wait for another build writing the same directory.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    lock_timeout: u64,
    /// `human` on stderr, or `json`: one document on stdout with the
    /// status, the files, what drifted and every diagnostic.
    #[arg(long, value_enum, default_value_t = BuildFormat::Human)]
    format: BuildFormat,
    #[command(flatten)]
    verbosity: Verbosity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BuildFormat {
    Human,
    Json,
}

/// What a build did: the JSON document of `--format json`, and what the
/// human output is printed from.
#[derive(Debug, Serialize)]
struct Outcome {
    /// `build` or `build --check`.
    command: &'static str,
    /// `written`, `up-to-date`, `stale` (only `--check`) or `failed`.
    status: &'static str,
    exit_code: u8,
    /// The output directory, as given.
    out: String,
    /// How many files the sources produce (manifest included).
    files: usize,
    /// How many artifacts were taken from the previous `out/`, their
    /// inputs and bytes unchanged, instead of rendered.
    reused: usize,
    /// How many of the reused artifacts were known unchanged from
    /// `.out.stat`, without reading them.
    unread: usize,
    /// What differs between `out/` and the sources: for `--check`, and for
    /// a build what it added, changed and removed.
    drift: Option<Drift>,
    /// Schemas named by the fleet's `$schema=` lines that are missing or
    /// not this berth's (`--check` only).
    stale_schemas: Vec<StaleSchema>,
    /// Problems writing that did not fail the build (an old tree that
    /// could not be deleted).
    write_warnings: Vec<String>,
    /// Why the build failed, when it failed for another reason than its
    /// diagnostics.
    error: Option<String>,
    /// The diagnostics, in `validate --format json`'s shape.
    diagnostics: Vec<serde_json::Value>,
    counts: Counts,
    /// How long each step took: `analyze`, `render`, `compare`, `write`.
    timings: Vec<Timing>,
}

#[derive(Debug, Default, Serialize)]
struct Counts {
    errors: usize,
    warnings: usize,
    notes: usize,
}

#[derive(Debug, Serialize)]
struct Timing {
    step: &'static str,
    seconds: f64,
}

#[derive(Debug, Default, Serialize)]
struct Drift {
    /// Produced by the sources, different in `out/`.
    changed: Vec<String>,
    /// Produced by the sources, not in `out/` (a build adds them).
    missing: Vec<String>,
    /// In `out/`, not produced by the sources (a build removes them).
    not_produced: Vec<String>,
}

#[derive(Debug, Serialize)]
struct StaleSchema {
    path: String,
    named_by: String,
    missing: bool,
}

pub fn run(args: &Args, build: &BuildArgs) -> Result<ExitCode> {
    let json = build.format == BuildFormat::Json;
    let out = build.out.clone().unwrap_or_else(|| args.root.join("out"));
    let mut outcome = Outcome {
        command: if build.check {
            "build --check"
        } else {
            "build"
        },
        status: "failed",
        exit_code: 1,
        out: out.strip_prefix(".").unwrap_or(&out).display().to_string(),
        files: 0,
        reused: 0,
        unread: 0,
        drift: None,
        stale_schemas: Vec::new(),
        write_warnings: Vec::new(),
        error: None,
        diagnostics: Vec::new(),
        counts: Counts::default(),
        timings: Vec::new(),
    };
    let result = execute(args, build, &out, &mut outcome);
    if !json {
        let code = result?;
        print_human(build, &outcome);
        return Ok(code);
    }
    let code = match result {
        Ok(code) => code,
        Err(error) => {
            outcome.error = Some(format!("{error:#}"));
            outcome.status = "failed";
            outcome.exit_code = 1;
            ExitCode::FAILURE
        }
    };
    write_stdout(&format!("{}\n", serde_json::to_string_pretty(&outcome)?))?;
    Ok(code)
}

/// Renders the fleet and writes or compares `out/`, filling `outcome`.
fn execute(args: &Args, build: &BuildArgs, out: &Path, outcome: &mut Outcome) -> Result<ExitCode> {
    let human = build.format == BuildFormat::Human;
    let mut step = Instant::now();
    let mut took = |outcome: &mut Outcome, name| {
        outcome.timings.push(Timing {
            step: name,
            seconds: step.elapsed().as_secs_f64(),
        });
        step = Instant::now();
    };
    let analysis = compiler::analyze(&args.root)?;
    took(outcome, "analyze");
    count(outcome, &analysis);
    if human {
        let shown = build.verbosity.shown(&analysis.diagnostics);
        report_diagnostics(
            &shown,
            &analysis.sources,
            &args.root,
            DiagnosticFormat::Human,
            color_enabled(args.color),
        );
    } else {
        outcome.diagnostics = json_diagnostics(&analysis.diagnostics, &analysis.sources);
    }
    let Some(fleet) = &analysis.fleet else {
        return Ok(ExitCode::FAILURE);
    };
    let previous = if build.fresh {
        Previous::none()
    } else {
        Previous::read_verifying(out)
    };
    let compiler::Tree {
        files,
        kept,
        reused,
    } = compiler::render_reusing(fleet, &args.root, &previous)?;
    took(outcome, "render");
    outcome.files = files.len() + kept.len();
    outcome.reused = reused;
    outcome.unread = previous.unread();
    if build.check {
        let drift = emit::check_keeping(out, &files, &kept)?;
        // What the check found the files of `out/` to hold saves the next
        // check reading them. (A build's links change the files' times.)
        previous.save_stats();
        took(outcome, "compare");
        outcome.stale_schemas = stale_schemas(&args.root, &analysis.sources)
            .into_iter()
            .map(|s| StaleSchema {
                path: s.path,
                named_by: s.named_by,
                missing: s.missing,
            })
            .collect();
        let stale = !drift.is_empty() || !outcome.stale_schemas.is_empty();
        outcome.drift = Some(Drift {
            changed: drift.changed,
            missing: drift.missing,
            not_produced: drift.extra,
        });
        (outcome.status, outcome.exit_code) = if stale {
            ("stale", DRIFT)
        } else {
            ("up-to-date", 0)
        };
        return Ok(ExitCode::from(outcome.exit_code));
    }
    let out = out.strip_prefix(".").unwrap_or(out).to_path_buf();
    let lock = lock(&out, Duration::from_secs(build.lock_timeout))?;
    refuse_sources(&args.root, &out)?;
    if !build.delete_unknown_files {
        emit::check_replaceable(&out)?;
    }
    // What the build changes, for `-v` and JSON: one more read of `out/`.
    if build.verbosity.verbose || !human {
        let drift = emit::check_keeping(&out, &files, &kept)?;
        outcome.drift = Some(Drift {
            changed: drift.changed,
            missing: drift.missing,
            not_produced: drift.extra,
        });
        took(outcome, "compare");
    }
    outcome.write_warnings = emit::write_keeping(&out, &files, &kept, &lock, &mut abort_hook())?;
    took(outcome, "write");
    (outcome.status, outcome.exit_code) = ("written", 0);
    Ok(ExitCode::SUCCESS)
}

fn count(outcome: &mut Outcome, analysis: &Analysis) {
    let count = |severity| {
        analysis
            .diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    };
    outcome.counts = Counts {
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        notes: count(Severity::Note),
    };
}

/// The human output after the diagnostics: what differs, what was written,
/// the summary line; `-q` keeps only what is wrong, `-v` adds every file
/// and the time of each step.
fn print_human(build: &BuildArgs, outcome: &Outcome) {
    let Verbosity { quiet, verbose } = build.verbosity;
    let counts = outcome_summary(outcome);
    if outcome.status == "failed" {
        eprintln!("build failed: {counts}");
        return;
    }
    for warning in &outcome.write_warnings {
        eprintln!("warning: {warning}");
    }
    let shown = &outcome.out;
    if build.check {
        for schema in &outcome.stale_schemas {
            let label = if schema.missing { "missing" } else { "stale" };
            eprintln!(
                "  {label}: {} (named by the `$schema=` line of `{}`)",
                schema.path, schema.named_by
            );
        }
        if !outcome.stale_schemas.is_empty() {
            let dirs: std::collections::BTreeSet<String> = outcome
                .stale_schemas
                .iter()
                .map(|s| {
                    Path::new(&s.path)
                        .parent()
                        .map_or_else(|| ".".to_owned(), |p| p.display().to_string())
                })
                .collect();
            let commands: Vec<String> = dirs
                .iter()
                .map(|d| format!("`berth schema --write {d}`"))
                .collect();
            eprintln!(
                "the schemas editors check your files against are not this berth's: run {} and commit the result",
                commands.join(" and ")
            );
        }
    }
    let drift = outcome.drift.as_ref();
    let drifted = drift.is_some_and(|d| {
        !(d.changed.is_empty() && d.missing.is_empty() && d.not_produced.is_empty())
    });
    if (build.check && drifted) || verbose {
        let labels = if build.check {
            ["changed", "missing", "not produced"]
        } else {
            ["changed", "added", "removed"]
        };
        if let Some(d) = drift {
            for (label, paths) in labels.iter().zip([&d.changed, &d.missing, &d.not_produced]) {
                for path in paths {
                    eprintln!("  {label}: {path}");
                }
            }
        }
    }
    if build.check && drifted {
        eprintln!(
            "{shown} is not what the sources produce: run `berth build` and commit the result"
        );
    } else if !quiet {
        if build.check {
            if outcome.status == "up-to-date" {
                eprintln!("{shown} is up to date ({} files)", outcome.files);
            }
        } else if outcome.counts.errors + outcome.counts.warnings + outcome.counts.notes == 0 {
            eprintln!("wrote {} files to {shown}", outcome.files);
        } else {
            eprintln!("wrote {} files to {shown}: {counts}", outcome.files);
        }
    }
    if verbose {
        let steps: Vec<String> = outcome
            .timings
            .iter()
            .map(|t| format!("{} {:.3} s", t.step, t.seconds))
            .collect();
        let artifacts = outcome.files.saturating_sub(1);
        let unread = if outcome.unread == 0 {
            String::new()
        } else {
            let cache = emit::stat::Stats::path(Path::new(&outcome.out));
            let name = cache.file_name().unwrap_or_default().to_string_lossy();
            format!(
                " ({} of them known unchanged from {name}, not read)",
                outcome.unread
            )
        };
        eprintln!(
            "rendered {} of {artifacts} artifacts; reused {} whose inputs and bytes were unchanged{unread}",
            artifacts - outcome.reused,
            outcome.reused
        );
        eprintln!("took: {}", steps.join(", "));
    }
}

fn outcome_summary(outcome: &Outcome) -> String {
    let Counts {
        errors,
        warnings,
        notes,
    } = outcome.counts;
    counts_summary(errors, warnings, notes)
}

/// Takes the lock on `out`, waiting up to `timeout` for another build to
/// release it.
fn lock(out: &Path, timeout: Duration) -> Result<emit::Lock> {
    let start = Instant::now();
    let mut said = false;
    loop {
        match emit::Lock::try_acquire(out)? {
            emit::Acquired::Held(lock) => return Ok(lock),
            emit::Acquired::Busy { path, holder } => {
                let who = holder.map_or_else(
                    || "another berth build".to_owned(),
                    |h| format!("another berth build ({h})"),
                );
                if start.elapsed() >= timeout {
                    bail!(
                        "`{}` is being written by {who}, which holds `{}`; gave up waiting after {} s\n  help: let that build finish and run `berth build` again, or wait longer with `--lock-timeout SECONDS`",
                        out.display(),
                        path.display(),
                        timeout.as_secs()
                    );
                }
                if !said {
                    eprintln!(
                        "waiting for {who} to finish writing `{}` (it holds `{}`)",
                        out.display(),
                        path.display()
                    );
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// A test hook: `BERTH_TEST_ABORT_AT=<step>` aborts the process (no
/// clean-up runs, as with `kill -9`) right after that step of writing
/// `out/` (`staged`, `moved-aside`, `swapped`, `cleaned`), so tests can show
/// that `out/` is always a whole tree. Not meant for users.
fn abort_hook() -> impl FnMut(emit::Step) {
    let at = std::env::var("BERTH_TEST_ABORT_AT").ok();
    move |step| {
        if at.as_deref() == Some(step.name()) {
            std::process::abort();
        }
    }
}

/// Refuses an output directory that is the fleet's root or holds its
/// `instances/`: building would delete the sources, flag or not.
fn refuse_sources(root: &Path, out: &Path) -> Result<()> {
    let sources = root.join("instances");
    let (Ok(out_path), Ok(instances)) =
        (std::fs::canonicalize(out), std::fs::canonicalize(&sources))
    else {
        return Ok(());
    };
    if instances.starts_with(&out_path) {
        bail!(
            "refusing to write into `{}`: it holds the fleet's sources (`{}`), which the build would delete\n  help: build into `out/` (the default) or another directory with `--out DIR`",
            out.display(),
            sources.strip_prefix(".").unwrap_or(&sources).display()
        );
    }
    Ok(())
}
