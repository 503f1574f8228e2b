//! `berth review`: review apps from an instance's `review:` section (see
//! [`berth::review`]). Rendering is the library's; this layer finds the
//! fleet, prints, and writes `out/review/<name>/` when asked.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use berth::review::{self, ReviewError};
use berth::{compiler, emit};
use clap::{Args as ClapArgs, Subcommand};

use super::{Args, DiagnosticFormat, color_enabled, report, report_diagnostics, write_stdout};

#[derive(Debug, ClapArgs)]
pub struct ReviewArgs {
    #[command(subcommand)]
    command: ReviewCommand,
}

#[derive(Debug, Subcommand)]
enum ReviewCommand {
    /// Render a review app's stacks; print their paths, or write them with --write.
    Render {
        /// A heritage of the instance whose `review:` section to use (an environment's `name`).
        heritage: String,
        /// The review app's name, e.g. the branch: its host is `<name>.<group domain>`.
        name: String,
        /// The image tag to deploy, e.g. the commit built for the branch.
        #[arg(long, value_name = "TAG")]
        tag: String,
        /// Write the artifacts into `<out>/review/<name>/` (atomically, with their own manifest).
        #[arg(long)]
        write: bool,
        /// The output folder whose `review/` subfolder is written; default `<root>/out`.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

pub fn run(args: &Args, review_args: &ReviewArgs) -> Result<ExitCode> {
    match &review_args.command {
        ReviewCommand::Render {
            heritage,
            name,
            tag,
            write,
            out,
        } => render(args, heritage, name, tag, *write, out.as_deref()),
    }
}

fn render(
    args: &Args,
    heritage: &str,
    name: &str,
    tag: &str,
    write: bool,
    out: Option<&std::path::Path>,
) -> Result<ExitCode> {
    // A bad name is refused before the fleet is read.
    review::check_name(name)?;
    let (analysis, checked) = compiler::analyze_checked(&args.root)?;
    let color = color_enabled(args.color);
    if analysis.fleet.is_none() {
        report(&analysis, &args.root, DiagnosticFormat::Human, color);
        bail!("the fleet has errors; fix them before making a review app");
    }
    let app = match review::build(&checked, &analysis.sources, heritage, name, tag) {
        Ok(app) => app,
        Err(ReviewError::Diagnostics(found)) => {
            report_diagnostics(
                &found,
                &analysis.sources,
                &args.root,
                DiagnosticFormat::Human,
                color,
            );
            bail!("review app `{name}` does not fit the fleet; see above");
        }
        Err(e) => return Err(e.into()),
    };
    let files = review::render(&app, &args.root)?;
    let out = out.map_or_else(|| args.root.join("out"), std::path::Path::to_path_buf);
    let dir = out.join(emit::REVIEW_DIR).join(name);
    let mut text = String::new();
    for path in files.keys() {
        text.push_str(&format!("{}\n", dir.join(path).display()));
    }
    write_stdout(&text)?;
    if write {
        emit::check_replaceable(&dir)?;
        let lock = match emit::Lock::try_acquire(&dir)? {
            emit::Acquired::Held(lock) => lock,
            emit::Acquired::Busy { path, .. } => {
                bail!(
                    "`{}` is being written by another berth (it holds `{}`)",
                    dir.display(),
                    path.display()
                )
            }
        };
        for warning in emit::write(&dir, &files, &lock, &mut |_| {})? {
            eprintln!("warning: {warning}");
        }
        eprintln!("wrote {} files into {}", files.len(), dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
