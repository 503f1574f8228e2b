//! `berth review`: review apps from an instance's `review:` section (see
//! [`berth::review`]). Rendering is the library's; this layer finds the
//! fleet, prints, writes `out/review/<name>/` when asked, and deploys,
//! deletes and lists review apps through `berth apply`'s machinery.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use berth::review::{self, ReviewError};
use berth::{compiler, emit};
use clap::{Args as ClapArgs, Subcommand};

use berth::apply::{self, ApplyError, Artifacts, Runner, Selection};

use super::apply::{AwsArgs, Terminal, fail, on_ctrl_c, runner, settings};
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
    /// Render a review app privately and apply its data and app stacks (never the district's).
    Deploy {
        /// A heritage of the instance whose `review:` section to use (an environment's `name`).
        heritage: String,
        /// The review app's name, e.g. the branch: its host is `<name>.<group domain>`.
        name: String,
        /// The image tag to deploy, e.g. the commit built for the branch.
        #[arg(long, value_name = "TAG")]
        tag: String,
        /// Execute change sets without asking.
        #[arg(long)]
        yes: bool,
        /// Print the AWS CLI commands deploy would run; change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Delete a review app's stacks: the app stack, then the data stack.
    Delete {
        /// The review app's name.
        name: String,
        /// The review app's district; needed when more than one district has `review_groups`.
        #[arg(long, value_name = "D")]
        district: Option<String>,
        /// Delete without asking.
        #[arg(long)]
        yes: bool,
        /// Print the AWS CLI commands delete would run; change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// List the deployed review apps of the districts with `review_groups`.
    List {
        /// Only this district's.
        #[arg(long, value_name = "D")]
        district: Option<String>,
        #[command(flatten)]
        aws: AwsArgs,
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
        ReviewCommand::Deploy {
            heritage,
            name,
            tag,
            yes,
            dry_run,
            aws,
        } => deploy(args, heritage, name, tag, *yes, *dry_run, aws),
        ReviewCommand::Delete {
            name,
            district,
            yes,
            dry_run,
            aws,
        } => delete(args, name, district.as_deref(), *yes, *dry_run, aws),
        ReviewCommand::List { district, aws } => list(args, district.as_deref(), aws),
    }
}

/// Makes the review app and reports why not (diagnostics on stderr).
fn make(args: &Args, heritage: &str, name: &str, tag: &str) -> Result<review::ReviewApp> {
    review::check_name(name)?;
    let (analysis, checked) = compiler::analyze_checked(&args.root)?;
    let color = color_enabled(args.color);
    if analysis.fleet.is_none() {
        report(&analysis, &args.root, DiagnosticFormat::Human, color);
        bail!("the fleet has errors; fix them before making a review app");
    }
    match review::build(&checked, &analysis.sources, heritage, name, tag) {
        Ok(app) => Ok(app),
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
        Err(e) => Err(e.into()),
    }
}

/// The region to call AWS in: the district's, unless `--region` says otherwise (refused).
fn region(aws: &AwsArgs, district: &str, region: &str) -> Result<String, ApplyError> {
    match &aws.region {
        Some(flag) if flag != region => Err(ApplyError::Region {
            flag: flag.clone(),
            district: district.to_owned(),
            region: region.to_owned(),
        }),
        _ => Ok(region.to_owned()),
    }
}

fn deploy(
    args: &Args,
    heritage: &str,
    name: &str,
    tag: &str,
    yes: bool,
    dry_run: bool,
    aws: &AwsArgs,
) -> Result<ExitCode> {
    let app = make(args, heritage, name, tag)?;
    let files = review::render(&app, &args.root)?;
    // A private tree, never `out/`: the review app is not part of it.
    let scratch = tempfile::tempdir()?;
    let out = scratch.path().join("out");
    let lock = match emit::Lock::try_acquire(&out)? {
        emit::Acquired::Held(lock) => lock,
        emit::Acquired::Busy { path, .. } => bail!("`{}` is locked", path.display()),
    };
    emit::write(&out, &files, &lock, &mut |_| {})?;
    let artifacts = match Artifacts::read(scratch.path()) {
        Ok(artifacts) => artifacts,
        Err(error) => return Ok(fail(&error.into())),
    };
    let district_region = &app.fleet.districts[0].region;
    let mut settings = settings(aws, dry_run, yes, false);
    settings.region = match region(aws, &app.district, district_region) {
        Ok(region) => Some(region),
        Err(error) => return Ok(fail(&error)),
    };
    on_ctrl_c();
    let mut runner = runner(&args.root, aws);
    // The district stack is the fleet's, applied by `berth apply`: a review
    // app needs it deployed and never changes it.
    let district_stack = berth::plan::district_stack(&app.district);
    let mut describe = vec![
        "cloudformation".to_owned(),
        "describe-stacks".to_owned(),
        "--stack-name".to_owned(),
        district_stack.clone(),
    ];
    if let Some(region) = &settings.region {
        describe.extend(["--region".to_owned(), region.clone()]);
    }
    if let Some(profile) = &aws.profile {
        describe.extend(["--profile".to_owned(), profile.clone()]);
    }
    let found = runner
        .run(&describe)
        .map_err(|e| anyhow::anyhow!("cannot start `{}`: {e}", runner.program()))?;
    if !found.success() {
        return Ok(fail(&ApplyError::Stack(format!(
            "the district stack `{district_stack}` is not deployed (or cannot be read): {}\n  help: deploy the district first with `berth apply --district {}`",
            found.stderr.trim(),
            app.district
        ))));
    }
    // What the review app's stacks change, in berth diff's words, against
    // what is deployed of them (nothing, the first time).
    // Reading calls only, so not printed as a dry run's script.
    let reading = apply::Settings {
        dry_run: false,
        ..settings.clone()
    };
    let mut quiet = super::apply::OnStderr(Terminal::new());
    let before = match apply::deployed(&artifacts, &reading, &mut runner, &mut quiet) {
        Ok(files) => files,
        Err(error) => return Ok(fail(&error)),
    };
    let after: berth::diff::Files = artifacts
        .files
        .iter()
        .filter(|(path, _)| stack_file(path))
        .map(|(path, text)| (path.clone(), text.clone()))
        .collect();
    let before: berth::diff::Files = before
        .into_iter()
        .filter(|(path, _)| stack_file(path))
        .collect();
    let mut diff = berth::diff::diff(&before, &after);
    diff.summary = berth::diff::summary::Summary {
        note: Some(format!(
            "review app `{name}` of `{heritage}` at `{tag}`, against its deployed stacks"
        )),
        entries: Vec::new(),
    };
    write_stdout(&berth::diff::render::text::render(
        &diff,
        "the review app's deployed stacks",
        false,
    ))?;
    let selection = Selection {
        district: Some(app.district.clone()),
        heritages: vec![app.heritage.name.clone()],
    };
    let result = apply::apply(
        &artifacts,
        &selection,
        &settings,
        &mut runner,
        &mut Terminal::new(),
    );
    Ok(result.map_or_else(|e| fail(&e), |()| ExitCode::SUCCESS))
}

/// A file the diff of a review app compares: its stacks' templates and
/// parameters, and the manifest that names them.
fn stack_file(path: &str) -> bool {
    berth::diff::is_template(path) || path.ends_with("/app.params.json") || path == emit::MANIFEST
}

fn delete(
    args: &Args,
    name: &str,
    district: Option<&str>,
    yes: bool,
    dry_run: bool,
    aws: &AwsArgs,
) -> Result<ExitCode> {
    review::check_name(name)?;
    let districts = review_districts(args, district)?;
    let found = match (districts.as_slice(), district) {
        ([one], _) => one,
        ([], Some(d)) => bail!("no district `{d}` in the fleet"),
        ([], None) => {
            bail!("no district has `review_groups`, so there are no review apps to delete")
        }
        (_, _) => bail!(
            "more than one district has `review_groups`\n  help: name the review app's district with --district D"
        ),
    };
    let mut settings = settings(aws, dry_run, yes, true);
    settings.region = match region(aws, &found.0, &found.1) {
        Ok(region) => Some(region),
        Err(error) => return Ok(fail(&error)),
    };
    on_ctrl_c();
    let mut runner = runner(&args.root, aws);
    let heritage = format!("{}{name}", review::PREFIX);
    let found = found.0.clone();
    // By name: the review app's data stack holds no data (roles and a log
    // group), so both stacks go, app first.
    let result = apply::destroy(
        &Artifacts::default(),
        &heritage,
        Some(&found),
        &settings,
        &mut runner,
        &mut Terminal::new(),
    );
    Ok(result.map_or_else(|e| fail(&e), |()| ExitCode::SUCCESS))
}

fn render(
    args: &Args,
    heritage: &str,
    name: &str,
    tag: &str,
    write: bool,
    out: Option<&std::path::Path>,
) -> Result<ExitCode> {
    let app = make(args, heritage, name, tag)?;
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

/// The districts review apps may be in, with their regions: `--district`,
/// else every district whose file has `review_groups`.
fn review_districts(args: &Args, district: Option<&str>) -> Result<Vec<(String, String)>> {
    let (analysis, checked) = compiler::analyze_checked(&args.root)?;
    let Some(fleet) = &analysis.fleet else {
        report(
            &analysis,
            &args.root,
            DiagnosticFormat::Human,
            color_enabled(args.color),
        );
        bail!("the fleet has errors; fix them first");
    };
    let has_groups = |name: &str| {
        checked.districts.iter().any(|c| {
            c.name == name
                && c.district
                    .as_ref()
                    .is_some_and(|f| !f.spec.review_groups.is_empty())
        })
    };
    Ok(fleet
        .districts
        .iter()
        .filter(|d| district.map_or_else(|| has_groups(&d.name), |name| d.name == name))
        .map(|d| (d.name.clone(), d.region.clone()))
        .collect())
}

/// A stack as `describe-stacks` lists it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Listed {
    stack_name: String,
    stack_status: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Stacks {
    #[serde(default)]
    stacks: Vec<Listed>,
}

/// One line per review app: name, district, app and data stack status.
fn list(args: &Args, district: Option<&str>, aws: &AwsArgs) -> Result<ExitCode> {
    let districts = review_districts(args, district)?;
    let mut runner = runner(&args.root, aws);
    let mut text = String::new();
    for (name, district_region) in &districts {
        let region = match region(aws, name, district_region) {
            Ok(region) => region,
            Err(error) => return Ok(fail(&error)),
        };
        let mut call = vec![
            "cloudformation".to_owned(),
            "describe-stacks".to_owned(),
            "--output".to_owned(),
            "json".to_owned(),
            "--region".to_owned(),
            region,
        ];
        if let Some(profile) = &aws.profile {
            call.extend(["--profile".to_owned(), profile.clone()]);
        }
        let found = runner
            .run(&call)
            .map_err(|e| anyhow::anyhow!("cannot start `{}`: {e}", runner.program()))?;
        if !found.success() {
            bail!(
                "`{} {}` failed: {}",
                runner.program(),
                call.join(" "),
                found.stderr.trim()
            );
        }
        let stacks: Stacks = serde_json::from_str(&found.stdout)?;
        let prefix = format!("{name}-{}", review::PREFIX);
        let mut apps: std::collections::BTreeMap<String, (String, String)> =
            std::collections::BTreeMap::new();
        for stack in stacks.stacks {
            let Some(rest) = stack.stack_name.strip_prefix(&prefix) else {
                continue;
            };
            if let Some(app) = rest.strip_suffix("-app") {
                apps.entry(app.to_owned()).or_default().0 = stack.stack_status;
            } else if let Some(app) = rest.strip_suffix("-data") {
                apps.entry(app.to_owned()).or_default().1 = stack.stack_status;
            }
        }
        for (app, (app_status, data_status)) in apps {
            let shown = |s: &str| {
                if s.is_empty() {
                    "-".to_owned()
                } else {
                    s.to_owned()
                }
            };
            text.push_str(&format!(
                "{app}\t{name}\tapp {}\tdata {}\n",
                shown(&app_status),
                shown(&data_status)
            ));
        }
    }
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
