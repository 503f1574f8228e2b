//! Command-line interface: flags in, text and exit codes out.
//!
//! This is the only place that prints, reads the environment or exits.

mod apply;
mod build;
mod cost;
mod diff;
mod git;
mod init;
mod review;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use berth::annotations::{render_github, render_sarif};
use berth::compiler::{self, Analysis};
use berth::diagnostic::{Diagnostic, Severity, Sources, render_human, render_json, summary};
use berth::editor::schema_text;
use berth::schema::SchemaKind;

const EXAMPLES: &str = "\
Examples:
  berth init my-fleet                  start a fleet repository in my-fleet/
  berth build                          render every artifact into out/
  berth build --check                  fail when out/ is not what the sources produce
  berth validate                       check every file under instances/
  berth validate --format json         the same, as JSON lines for tools
  berth explain bcn-users              show what berth understood of a heritage
  berth cost --format markdown         the fleet's monthly cost estimate, itemised
  berth diff --base origin/main        what this branch changes in out/, resource by resource
  berth apply --dry-run                print the AWS CLI commands a deploy would run
  berth apply --heritage bcn-users     deploy one heritage (after its district stack)
  berth apply --rev 3f2a9c1d0e4b       deploy out/ as committed at a revision (to go back)
  berth apply --waves 1,10%,rest       one heritage first, then batches, each stable before the next
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
        #[command(flatten)]
        verbosity: Verbosity,
    },
    /// Render every artifact into `out/` (atomically, with a manifest).
    Build(build::BuildArgs),
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
    /// Print the fleet's monthly cost estimate from berth's dated price table.
    Cost(cost::CostArgs),
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
    /// Review apps from an instance's `review:` section, one per branch or pull request.
    Review(review::ReviewArgs),
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

/// `-q` and `-v` of `validate`, `build` and `diff`.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Verbosity {
    /// Print only what is wrong: errors, warnings and drift; no notes, no
    /// summary line (`diff`: nothing, the exit code says it).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print how long each step took (`build`: and every file it
    /// adds, changes or removes in `out/`).
    #[arg(short, long)]
    pub verbose: bool,
}

impl Verbosity {
    /// The diagnostics to print: without notes under `-q`.
    fn shown(self, diagnostics: &[Diagnostic]) -> Vec<Diagnostic> {
        diagnostics
            .iter()
            .filter(|d| !self.quiet || d.severity != Severity::Note)
            .cloned()
            .collect()
    }
}

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
            verbosity,
        } => {
            let start = std::time::Instant::now();
            let analysis = analyze(args)?;
            let took = start.elapsed().as_secs_f64();
            if *format == DiagnosticFormat::Human {
                report_diagnostics(
                    &verbosity.shown(&analysis.diagnostics),
                    &analysis.sources,
                    &args.root,
                    *format,
                    color_enabled(args.color),
                );
                let districts = analysis.fleet.as_ref().map_or(0, |f| f.districts.len());
                let heritages = analysis.fleet.as_ref().map_or(0, |f| f.heritages().count());
                if !verbosity.quiet {
                    for district in analysis.fleet.iter().flat_map(|f| &f.districts) {
                        if let Some(cluster_use) = &district.cluster_use {
                            eprintln!("district {}: {cluster_use}", district.name);
                        }
                    }
                }
                if districts == 0 && !analysis.has_errors() {
                    eprintln!(
                        "`instances/` holds no district yet\n  help: add `instances/<district>/district.yml` and an instance file beside it, or start with `berth init` in an empty folder"
                    );
                }
                if analysis.has_errors() {
                    eprintln!("validation failed: {}", summary(&analysis.diagnostics));
                } else if !verbosity.quiet {
                    eprintln!(
                        "validated {districts} district{}, {heritages} heritage{}: {}",
                        plural(districts),
                        plural(heritages),
                        summary(&analysis.diagnostics)
                    );
                }
                if verbosity.verbose {
                    eprintln!("took: load, check and model {took:.3} s");
                }
            } else {
                report(&analysis, &args.root, *format, color_enabled(args.color));
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
        Command::Build(build_args) => build::run(args, build_args),
        Command::Review(review_args) => review::run(args, review_args),
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
            let Some((district, found)) = fleet.heritages().find(|(_, h)| &h.name == heritage)
            else {
                let names: Vec<_> = fleet
                    .heritages()
                    .map(|(_, h)| format!("`{}`", h.name))
                    .collect();
                bail!(
                    "no heritage named `{heritage}`; the fleet has {}",
                    names.join(", ")
                );
            };
            // The heritage as the model has it, and its DNS names with what each points at.
            let mut shown = serde_json::to_value(found)?;
            if let Some(names) = berth::plan::dns::heritage_names(district, heritage) {
                shown["dns"] = serde_json::to_value(names)?;
            }
            let text = match format {
                ExplainFormat::Json => format!("{}\n", serde_json::to_string_pretty(&shown)?),
                ExplainFormat::Yaml => {
                    serde_saphyr::to_string(&shown).context("cannot write YAML")?
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
        Command::Cost(cost_args) => cost::run(args, cost_args),
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

fn analyze(args: &Args) -> Result<Analysis> {
    Ok(compiler::analyze(&args.root)?)
}

fn report(analysis: &Analysis, root: &std::path::Path, format: DiagnosticFormat, color: bool) {
    report_diagnostics(
        &analysis.diagnostics,
        &analysis.sources,
        root,
        format,
        color,
    );
}

fn report_diagnostics(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    root: &std::path::Path,
    format: DiagnosticFormat,
    color: bool,
) {
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
