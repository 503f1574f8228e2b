//! Command-line interface: flags in, text and exit codes out.
//!
//! This is the only place that prints, reads the environment or exits.

mod apply;
mod diff;
mod init;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use berth::annotations::{render_github, render_sarif};
use berth::compiler::{self, Analysis};
use berth::diagnostic::{render_human, render_json, summary};
use berth::editor::{schema_text, stale_schemas};
use berth::emit;
use berth::schema::SchemaKind;

const EXAMPLES: &str = "\
Examples:
  berth init my-fleet                  start a fleet repository in my-fleet/
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
  berth schema --write schema          write both schemas for editors into schema/";

/// Compiles a fleet of barcelona.yml instance files into reviewable AWS artifacts.
#[derive(Debug, Parser)]
#[command(name = "berth", version, after_help = EXAMPLES)]
struct Args {
    /// The fleet repository (holding `instances/`); default: the current
    /// directory or the nearest folder above it with `instances/`.
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
    /// Start a fleet repository: a district, an instance, the schemas and a CI workflow.
    Init(init::InitArgs),
    /// Check every district and instance file; print all problems found.
    Validate {
        /// Fail (exit 1) on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// How to print the problems found.
        #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
        format: DiagnosticFormat,
    },
    /// Render every artifact into `out/` (atomically, with a manifest).
    Build {
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
        /// How long to wait for another build writing the same directory.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        lock_timeout: u64,
    },
    /// Print the JSON Schema of an input file, or write both into a folder.
    Schema {
        /// Which file's schema to print.
        #[arg(value_enum, default_value_t = SchemaArg::Instance)]
        kind: SchemaArg,
        /// Write `instance.schema.json` and `district.schema.json` into DIR
        /// (created if needed) instead of printing one.
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
    /// Show the resolved model of one heritage: anchors merged, defaults applied.
    Explain {
        /// The heritage name (an environment's `name`).
        heritage: String,
        /// `yaml` to read, `json` for tools.
        #[arg(long, value_enum, default_value_t = ExplainFormat::Yaml)]
        format: ExplainFormat,
    },
    /// Show what the sources change in `out/` (or since a git revision): resources and text.
    Diff(diff::DiffArgs),
    /// Deploy the reviewed artifacts of `out/` through the AWS CLI, with change sets.
    Apply(apply::ApplyArgs),
    /// Delete a heritage's app stack (and its data stack with --allow-data-loss).
    Destroy(apply::DestroyArgs),
    /// Print a shell completion script (e.g. `berth completions bash > ~/.local/share/bash-completion/completions/berth`).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print berth's man page (roff), e.g. `berth man > ~/.local/share/man/man1/berth.1`.
    Man,
    /// Run a one-off command in a task of a deployed service; exit with its exit code.
    Run(apply::RunArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiagnosticFormat {
    /// Source lines with carets, for people (on stderr).
    Human,
    /// One JSON object per line, paths relative to the fleet root.
    Json,
    /// GitHub Actions workflow commands (`::error file=…::`), paths relative to the git repository's root.
    Github,
    /// A SARIF 2.1.0 log (code scanning), paths relative to the git repository's root.
    Sarif,
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

/// Exit code of `build --check` when `out/` or a schema is stale (as
/// `diff` uses 2 for "there are changes"); 1 is for errors.
const DRIFT: u8 = 2;

/// Exit code of a command line berth cannot parse (`EX_USAGE`): distinct
/// from 2, which `berth diff` uses for "there are changes".
const USAGE_ERROR: u8 = 64;

/// Runs berth and turns any error into a message and exit code 1.
pub fn main() -> ExitCode {
    let parsed = <Args as clap::CommandFactory>::command()
        .try_get_matches()
        .and_then(|matches| {
            let mut args = <Args as clap::FromArgMatches>::from_arg_matches(&matches)?;
            if matches.value_source("root") == Some(clap::parser::ValueSource::DefaultValue) {
                args.root = find_root();
            }
            Ok(args)
        });
    let args = match parsed {
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

/// The fleet root when `--root` is not given, found as git finds its
/// repository: the current directory or the nearest folder above it that
/// holds `instances/`, not looking past a folder that holds `.git`. Given
/// as a relative path (`../..`), so paths berth prints stay short; `.`
/// when there is none, for the error that says how to start.
fn find_root() -> PathBuf {
    let Ok(cwd) = std::env::current_dir() else {
        return PathBuf::from(".");
    };
    let mut relative = PathBuf::from(".");
    for dir in cwd.ancestors() {
        if dir.join("instances").is_dir() {
            return relative;
        }
        if dir.join(".git").exists() {
            break;
        }
        relative = if relative == std::path::Path::new(".") {
            PathBuf::from("..")
        } else {
            relative.join("..")
        };
    }
    PathBuf::from(".")
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
            report(&analysis, &args.root, *format, color_enabled(args.color));
            if *format == DiagnosticFormat::Human {
                let districts = analysis.fleet.as_ref().map_or(0, |f| f.districts.len());
                let heritages = analysis.fleet.as_ref().map_or(0, |f| f.heritages().count());
                for district in analysis.fleet.iter().flat_map(|f| &f.districts) {
                    if let Some(cluster_use) = &district.cluster_use {
                        eprintln!("district {}: {cluster_use}", district.name);
                    }
                }
                if districts == 0 && !analysis.has_errors() {
                    eprintln!(
                        "`instances/` holds no district yet\n  help: add `instances/<district>/district.yml` and an instance file beside it, or start with `berth init` in an empty folder"
                    );
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
                &args.root,
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
                let schemas = stale_schemas(&args.root, &analysis.sources);
                for schema in &schemas {
                    let label = if schema.missing { "missing" } else { "stale" };
                    eprintln!(
                        "  {label}: {} (named by the `$schema=` line of `{}`)",
                        schema.path, schema.named_by
                    );
                }
                if !schemas.is_empty() {
                    let dirs: std::collections::BTreeSet<String> = schemas
                        .iter()
                        .map(|s| {
                            std::path::Path::new(&s.path)
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
                if drift.is_empty() && schemas.is_empty() {
                    eprintln!("{shown} is up to date ({} files)", files.len());
                    return Ok(ExitCode::SUCCESS);
                }
                if drift.is_empty() {
                    return Ok(ExitCode::from(DRIFT));
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
                return Ok(ExitCode::from(DRIFT));
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
            if analysis.diagnostics.is_empty() {
                eprintln!("wrote {} files to {shown}", files.len());
            } else {
                eprintln!(
                    "wrote {} files to {shown}: {}",
                    files.len(),
                    summary(&analysis.diagnostics)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { kind, write } => {
            if let Some(dir) = write {
                for path in write_schemas(dir)? {
                    eprintln!("wrote {}", path.display());
                }
                return Ok(ExitCode::SUCCESS);
            }
            let kind = match kind {
                SchemaArg::Instance => SchemaKind::Instance,
                SchemaArg::District => SchemaKind::District,
            };
            write_stdout(&schema_text(kind))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { heritage, format } => {
            let analysis = analyze(args)?;
            let Some(fleet) = &analysis.fleet else {
                report(
                    &analysis,
                    &args.root,
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
        Command::Init(init_args) => init::run(init_args),
        Command::Completions { shell } => {
            let mut command = <Args as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(*shell, &mut command, "berth", &mut text);
            write_stdout(&String::from_utf8_lossy(&text))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let command = <Args as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut text)
                .context("cannot render the man page")?;
            write_stdout(&String::from_utf8_lossy(&text))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff(diff_args) => diff::run(args, diff_args),
        Command::Apply(apply_args) => Ok(apply::apply(&args.root, apply_args)),
        Command::Destroy(destroy_args) => Ok(apply::destroy(&args.root, destroy_args)),
        Command::Run(run_args) => Ok(apply::run(&args.root, run_args)),
    }
}

/// Writes both schemas into `dir`, creating it; returns the paths written.
fn write_schemas(dir: &std::path::Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut written = Vec::new();
    for kind in [SchemaKind::Instance, SchemaKind::District] {
        let path = dir.join(kind.file_name());
        std::fs::write(&path, schema_text(kind))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        written.push(path.strip_prefix(".").unwrap_or(&path).to_path_buf());
    }
    Ok(written)
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

fn report(analysis: &Analysis, root: &std::path::Path, format: DiagnosticFormat, color: bool) {
    let (diagnostics, sources) = (&analysis.diagnostics, &analysis.sources);
    let text = match format {
        DiagnosticFormat::Human => {
            eprint!("{}", render_human(diagnostics, sources, color));
            return;
        }
        DiagnosticFormat::Json => render_json(diagnostics, sources),
        DiagnosticFormat::Github => render_github(diagnostics, sources, &repository_prefix(root)),
        DiagnosticFormat::Sarif => render_sarif(diagnostics, sources, &repository_prefix(root)),
    };
    let _ = write_stdout(&text);
}

/// The fleet root's path inside its git repository (`deploy/fleet/`), or
/// nothing when it is the repository's root or not in one: the nearest
/// folder at or above the root that holds `.git`.
fn repository_prefix(root: &std::path::Path) -> String {
    let Ok(root) = std::fs::canonicalize(root) else {
        return String::new();
    };
    let Some(top) = root.ancestors().find(|dir| dir.join(".git").exists()) else {
        return String::new();
    };
    let inside = root.strip_prefix(top).unwrap_or(std::path::Path::new(""));
    let mut prefix = String::new();
    for part in inside.components() {
        prefix.push_str(&part.as_os_str().to_string_lossy());
        prefix.push('/');
    }
    prefix
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every flag and argument of every command says what it is for.
    #[test]
    fn every_argument_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if !["help", "version"].contains(&id) && arg.get_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {}", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Args::command(), "berth", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:?}");
    }
}
