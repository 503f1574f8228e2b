//! Command-line interface: flags in, text and exit codes out.
//!
//! This is the only place that prints, reads the environment or exits.

mod apply;
mod diff;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use berth::compiler::{self, Analysis};
use berth::diagnostic::{render_human, render_json, summary};
use berth::emit;
use berth::schema::{SchemaKind, json_schema};

const EXAMPLES: &str = "\
Examples:
  berth build                          render every artifact into out/
  berth build --check                  fail when out/ is not what the sources produce
  berth validate                       check every file under instances/
  berth validate --format json         the same, as JSON lines for tools
  berth explain bcn-users              show what berth understood of a heritage
  berth diff --base origin/main        what this branch changes in out/, resource by resource
  berth apply --dry-run                print the AWS CLI commands a deploy would run
  berth apply --heritage bcn-users     deploy one heritage (after its district stack)
  berth destroy --heritage bcn-users   delete a heritage's app stack
  berth run bcn-users -- bin/tootctl accounts create admin --email a@b.c --role Owner
  berth schema instance > schema/instance.schema.json";

/// Compiles a fleet of barcelona.yml instance files into reviewable AWS artifacts.
#[derive(Debug, Parser)]
#[command(name = "berth", version, after_help = EXAMPLES)]
struct Args {
    /// The fleet repository (holding `instances/`); default: the current directory.
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// When to colour output; `NO_COLOR` turns `auto` off.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check every district and instance file; print all problems found.
    Validate {
        /// Fail (exit 1) on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// `human` for people, `json` for one JSON object per line.
        #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
        format: DiagnosticFormat,
    },
    /// Render every artifact into `out/` (atomically, with a manifest).
    Build {
        /// Where to write; default `<root>/out`.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Write nothing; exit 1 and list the artifacts that differ when `out/` is stale.
        #[arg(long)]
        check: bool,
        /// Delete files in the output directory that berth did not write
        /// (not in its manifest); without it, build refuses and lists them.
        #[arg(long, conflicts_with = "check")]
        delete_unknown_files: bool,
        /// How long to wait for another build writing the same directory.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        lock_timeout: u64,
    },
    /// Print the JSON Schema of an input file.
    Schema {
        #[arg(value_enum, default_value_t = SchemaArg::Instance)]
        kind: SchemaArg,
    },
    /// Show the resolved model of one heritage: anchors merged, defaults applied.
    Explain {
        /// The heritage name (an environment's `name`).
        heritage: String,
        #[arg(long, value_enum, default_value_t = ExplainFormat::Yaml)]
        format: ExplainFormat,
    },
    /// Show what the sources change in `out/` (or since a git revision): resources and text.
    Diff(diff::DiffArgs),
    /// Deploy the reviewed artifacts of `out/` through the AWS CLI, with change sets.
    Apply(apply::ApplyArgs),
    /// Delete a heritage's app stack (and its data stack with --allow-data-loss).
    Destroy(apply::DestroyArgs),
    /// Run a one-off command in a task of a deployed service; exit with its exit code.
    Run(apply::RunArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiagnosticFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SchemaArg {
    Instance,
    District,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExplainFormat {
    Yaml,
    Json,
}

/// Exit code of a command line berth cannot parse (`EX_USAGE`): distinct
/// from 2, which `berth diff` uses for "there are changes".
const USAGE_ERROR: u8 = 64;

/// Runs berth and turns any error into a message and exit code 1.
pub fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(USAGE_ERROR)
            } else {
                ExitCode::SUCCESS // --help and --version
            };
        }
    };
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn color_enabled(color: Color) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    }
}

fn run(args: &Args) -> Result<ExitCode> {
    match &args.command {
        Command::Validate {
            deny_warnings,
            format,
        } => {
            let analysis = analyze(args)?;
            report(&analysis, *format, color_enabled(args.color));
            if *format == DiagnosticFormat::Human {
                let districts = analysis.fleet.as_ref().map_or(0, |f| f.districts.len());
                let heritages = analysis.fleet.as_ref().map_or(0, |f| f.heritages().count());
                for district in analysis.fleet.iter().flat_map(|f| &f.districts) {
                    if let Some(cluster_use) = &district.cluster_use {
                        eprintln!("district {}: {cluster_use}", district.name);
                    }
                }
                if analysis.has_errors() {
                    eprintln!("validation failed: {}", summary(&analysis.diagnostics));
                } else {
                    eprintln!(
                        "validated {districts} district{}, {heritages} heritage{}: {}",
                        plural(districts),
                        plural(heritages),
                        summary(&analysis.diagnostics)
                    );
                }
            }
            let failed = analysis.has_errors()
                || (*deny_warnings
                    && analysis
                        .diagnostics
                        .iter()
                        .any(berth::diagnostic::Diagnostic::is_warning));
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Build {
            out,
            check,
            delete_unknown_files,
            lock_timeout,
        } => {
            let analysis = analyze(args)?;
            report(
                &analysis,
                DiagnosticFormat::Human,
                color_enabled(args.color),
            );
            let Some(fleet) = &analysis.fleet else {
                eprintln!("build failed: {}", summary(&analysis.diagnostics));
                return Ok(ExitCode::FAILURE);
            };
            let files = compiler::render(fleet, &args.root)?;
            let out = out.clone().unwrap_or_else(|| args.root.join("out"));
            let shown = out.strip_prefix(".").unwrap_or(&out).display();
            if *check {
                let drift = emit::check(&out, &files)?;
                if drift.is_empty() {
                    eprintln!("{shown} is up to date ({} files)", files.len());
                    return Ok(ExitCode::SUCCESS);
                }
                for (label, paths) in [
                    ("changed", &drift.changed),
                    ("missing", &drift.missing),
                    ("not produced", &drift.extra),
                ] {
                    for path in paths {
                        eprintln!("  {label}: {path}");
                    }
                }
                eprintln!(
                    "{shown} is not what the sources produce: run `berth build` and commit the result"
                );
                return Ok(ExitCode::FAILURE);
            }
            let out = out.strip_prefix(".").unwrap_or(&out).to_path_buf();
            let lock = lock(&out, Duration::from_secs(*lock_timeout))?;
            refuse_sources(&args.root, &out)?;
            if !delete_unknown_files {
                emit::check_replaceable(&out)?;
            }
            for warning in emit::write(&out, &files, &lock, &mut abort_hook())? {
                eprintln!("warning: {warning}");
            }
            eprintln!("wrote {} files to {shown}", files.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { kind } => {
            let kind = match kind {
                SchemaArg::Instance => SchemaKind::Instance,
                SchemaArg::District => SchemaKind::District,
            };
            let text = serde_json::to_string_pretty(&json_schema(kind))?;
            write_stdout(&format!("{text}\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { heritage, format } => {
            let analysis = analyze(args)?;
            let Some(fleet) = &analysis.fleet else {
                report(
                    &analysis,
                    DiagnosticFormat::Human,
                    color_enabled(args.color),
                );
                bail!("the fleet has errors; fix them to see what berth understood");
            };
            let Some((_, found)) = fleet.heritages().find(|(_, h)| &h.name == heritage) else {
                let names: Vec<_> = fleet
                    .heritages()
                    .map(|(_, h)| format!("`{}`", h.name))
                    .collect();
                bail!(
                    "no heritage named `{heritage}`; the fleet has {}",
                    names.join(", ")
                );
            };
            let text = match format {
                ExplainFormat::Json => format!("{}\n", serde_json::to_string_pretty(found)?),
                ExplainFormat::Yaml => {
                    serde_saphyr::to_string(found).context("cannot write YAML")?
                }
            };
            write_stdout(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff(diff_args) => diff::run(args, diff_args),
        Command::Apply(apply_args) => Ok(apply::apply(&args.root, apply_args)),
        Command::Destroy(destroy_args) => Ok(apply::destroy(&args.root, destroy_args)),
        Command::Run(run_args) => Ok(apply::run(&args.root, run_args)),
    }
}

/// Takes the lock on `out`, waiting up to `timeout` for another build to
/// release it.
fn lock(out: &std::path::Path, timeout: Duration) -> Result<emit::Lock> {
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
fn refuse_sources(root: &std::path::Path, out: &std::path::Path) -> Result<()> {
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

fn analyze(args: &Args) -> Result<Analysis> {
    Ok(compiler::analyze(&args.root)?)
}

fn report(analysis: &Analysis, format: DiagnosticFormat, color: bool) {
    let text = match format {
        DiagnosticFormat::Human => render_human(&analysis.diagnostics, &analysis.sources, color),
        DiagnosticFormat::Json => render_json(&analysis.diagnostics, &analysis.sources),
    };
    if format == DiagnosticFormat::Json {
        let _ = write_stdout(&text);
    } else {
        eprint!("{text}");
    }
}

fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A closed pipe (`berth schema | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
