//! `berth apply` and `berth destroy`: flags, the terminal, Ctrl-C and exit
//! codes around the library's [`berth::apply`] stage; `apply --rev`'s
//! revision (a private copy of the fleet at a commit, see
//! [`super::git::Snapshot`]) and, after a failed deploy, the command that
//! goes back. The library knows nothing of git.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;

use berth::apply::{
    self, Answer, ApplyError, ArtifactError, Artifacts, ProcessRunner, Selection, Settings,
    StackOutcome, Timing, Ui, WaveOutcome, WaveReport, Waves,
};

use super::git::{self, NoCommit};

/// How to reach AWS.
#[derive(Debug, Args)]
pub struct AwsArgs {
    /// The AWS CLI to run; default: `aws` on PATH.
    #[arg(long, value_name = "PATH")]
    aws: Option<PathBuf>,
    /// The AWS CLI profile (`--profile` of every call).
    #[arg(long, value_name = "P")]
    pub(super) profile: Option<String>,
    /// The AWS region; each district is deployed to its own region (a
    /// different one is refused); for stacks out/ has no district for, the
    /// `--region` of every call; default: the CLI's.
    #[arg(long, value_name = "R")]
    pub(super) region: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Only this district (its stack and its heritages).
    #[arg(long, value_name = "D")]
    district: Option<String>,
    /// Only this heritage (repeatable); its district's stack is applied first.
    #[arg(long = "heritage", value_name = "H")]
    heritages: Vec<String>,
    /// Print the AWS CLI commands apply would run; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Execute change sets without asking.
    #[arg(long)]
    yes: bool,
    /// Go on when a database, cache, bucket or repository would be replaced or removed.
    #[arg(long)]
    allow_data_loss: bool,
    /// `human`, or `json`: one document on stdout with every stack's
    /// outcome and the report's lines; never asks (pass --yes or --dry-run).
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    /// Deploy `out/` as committed at this git revision (e.g. the one before
    /// a bad deploy), checked against that revision's own manifest and
    /// sources; the working tree is not read.
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    /// Deploy the heritages of each district in waves, e.g. `1,10%,rest`:
    /// counts, percentages of the heritages (rounded up) or `rest`; each
    /// wave waits for its services to be stable before the next.
    #[arg(long, value_name = "SPEC", value_parser = parse_waves)]
    waves: Option<Waves>,
    #[command(flatten)]
    aws: AwsArgs,
}

fn parse_waves(text: &str) -> Result<Waves, String> {
    text.parse()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The heritage whose deployed task definition runs the command.
    heritage: String,
    /// The service whose task definition, cluster and network to use; default: the web service.
    #[arg(long, value_name = "S")]
    service: Option<String>,
    /// An environment variable of the command (repeatable), on top of `run_env.vars`.
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// CPU units of the container (and of a Fargate task).
    #[arg(long, value_name = "N")]
    cpu: Option<u32>,
    /// Memory of the container in MiB (and of a Fargate task).
    #[arg(long, value_name = "M")]
    memory: Option<u32>,
    /// Start the task, print its ARN and log stream, and return.
    #[arg(long)]
    detach: bool,
    /// Print the AWS CLI calls run would make; start nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    aws: AwsArgs,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not `NAME=VALUE`")),
    }
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The heritage whose app stack to delete.
    #[arg(long, value_name = "H")]
    heritage: String,
    /// Its district, when out/ no longer has the heritage.
    #[arg(long, value_name = "D")]
    district: Option<String>,
    /// Delete its data stack too (Retain and Snapshot policies still keep data).
    #[arg(long)]
    allow_data_loss: bool,
    /// Delete without asking.
    #[arg(long)]
    yes: bool,
    /// Print the AWS CLI commands destroy would run; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// `human`, or `json`: one document on stdout with every stack's
    /// outcome and the report's lines; never asks (pass --yes or --dry-run).
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    #[command(flatten)]
    aws: AwsArgs,
}

/// Set by Ctrl-C; apply stops at its next poll.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Set while a question waits for an answer: Ctrl-C then exits at once.
static PROMPTING: AtomicBool = AtomicBool::new(false);

/// Exit codes, documented in the README.
fn exit_code(error: &ApplyError) -> u8 {
    match error {
        ApplyError::Aws { .. } | ApplyError::PrivateCopy { .. } => 1,
        ApplyError::Selection(_) | ApplyError::Region { .. } => 64,
        ApplyError::Artifacts(_) => 3,
        ApplyError::DataLoss { .. } => 4,
        ApplyError::NotConfirmed(_) => 5,
        ApplyError::Stack(_) | ApplyError::Unstable(_) => 6,
        ApplyError::BeforeDeploy(_) => 7,
        ApplyError::CliMissing { .. } => 8,
        ApplyError::Credentials { .. } | ApplyError::Account { .. } => 9,
        ApplyError::Throttled { .. } => 10,
        ApplyError::Network { .. } => 11,
        ApplyError::Timeout { .. } => 12,
        ApplyError::Interrupted { .. } => 130,
        // `berth run`: like `docker run`'s 125, apart from the command's own codes.
        ApplyError::Task(_) => 125,
    }
}

pub(super) fn fail(error: &ApplyError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(exit_code(error))
}

/// The terminal (or a pipe): stdout for the report, stdin for answers.
pub(super) struct Terminal {
    start: Instant,
    tty: bool,
    status_shown: bool,
    /// A change set was executed.
    executed: bool,
}

impl Terminal {
    pub(super) fn new() -> Self {
        Self {
            start: Instant::now(),
            tty: std::io::stdout().is_terminal(),
            status_shown: false,
            executed: false,
        }
    }

    fn clear_status(&mut self) {
        if self.status_shown {
            print!("\r\x1b[2K");
            self.status_shown = false;
        }
    }
}

impl Ui for Terminal {
    fn say(&mut self, line: &str) {
        self.clear_status();
        println!("{line}");
    }

    fn progress(&mut self, status: &str, events: &[String]) {
        self.clear_status();
        for line in events {
            println!("{line}");
        }
        if self.tty && !status.is_empty() {
            print!("{status}");
            let _ = std::io::stdout().flush();
            self.status_shown = true;
        }
    }

    fn confirm(&mut self, question: &str) -> Answer {
        self.clear_status();
        if !std::io::stdin().is_terminal() {
            return Answer::NoTerminal;
        }
        print!("{question} [y/N] ");
        let _ = std::io::stdout().flush();
        PROMPTING.store(true, Ordering::SeqCst);
        let mut answer = String::new();
        let read = std::io::stdin().lock().read_line(&mut answer);
        PROMPTING.store(false, Ordering::SeqCst);
        match (read, answer.trim().to_ascii_lowercase().as_str()) {
            (Ok(_), "y" | "yes") => Answer::Yes,
            _ => Answer::No,
        }
    }

    fn sleep(&mut self, duration: Duration) {
        let until = Instant::now() + duration;
        while !INTERRUPTED.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= until {
                break;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(100)));
        }
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn interrupted(&self) -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }

    fn executing(&mut self, _stack: &str) {
        self.executed = true;
    }
}

pub(super) fn on_ctrl_c() {
    let _ = ctrlc::set_handler(|| {
        // At a question nothing is in flight: stop at once. A second
        // Ctrl-C while waiting does too.
        if PROMPTING.load(Ordering::SeqCst) {
            eprintln!(
                "\ninterrupted at a question: nothing more was run (an unanswered change set stays unexecuted; the next apply makes a new one)"
            );
            std::process::exit(130);
        }
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted twice: stopped at once; AWS goes on with what it was doing");
            std::process::exit(130);
        }
    });
}

/// `berth-20261122T174900Z`: unique per run, valid as a change set name.
fn change_set_name() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "berth-{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `BERTH_POLL_MS` sets how often apply polls AWS (default 5000).
fn timing() -> Timing {
    std::env::var("BERTH_POLL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or_else(Timing::default, |ms| {
            Timing::every(Duration::from_millis(ms))
        })
}

pub(super) fn settings(aws: &AwsArgs, dry_run: bool, yes: bool, allow_data_loss: bool) -> Settings {
    Settings {
        dry_run,
        yes,
        allow_data_loss,
        profile: aws.profile.clone(),
        region: aws.region.clone(),
        change_set_name: change_set_name(),
        timing: timing(),
        scratch: std::env::temp_dir(),
        origin: None,
        waves: None,
    }
}

pub(super) fn runner(root: &Path, aws: &AwsArgs) -> ProcessRunner {
    // The CLI runs in the fleet root (for `file://out/...`): a relative
    // `--aws` path is meant from here, so make it absolute first.
    let program = match &aws.aws {
        Some(path) if path.components().count() > 1 => {
            std::path::absolute(path).unwrap_or_else(|_| path.clone())
        }
        Some(path) => path.clone(),
        None => PathBuf::from("aws"),
    };
    ProcessRunner {
        program,
        dir: root.to_path_buf(),
    }
}

pub fn apply(root: &Path, args: &ApplyArgs) -> ExitCode {
    let refuse = |code: u8, message: &str| {
        if args.format == ReportFormat::Json {
            JsonReport::new("apply").finish_as(
                Some((code, message)),
                args.dry_run,
                &[("rollback", serde_json::Value::Null)],
            )
        } else {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    };
    let revision = match &args.rev {
        Some(name) => match Revision::read(root, name, &std::env::temp_dir()) {
            Ok(revision) => Some(revision),
            Err((code, message)) => return refuse(code, &message),
        },
        None => None,
    };
    // The fleet root apply reads: the working tree's, or the revision's copy.
    let fleet = revision.as_ref().map_or(root, |r| r.snapshot.root());
    let artifacts = match Artifacts::read(fleet)
        .and_then(|artifacts| apply::artifacts::check_fresh(fleet, &artifacts).map(|()| artifacts))
    {
        Ok(artifacts) => artifacts,
        Err(error) => {
            let error = ApplyError::from(error);
            let mut message = error.to_string();
            if let Some(revision) = &revision {
                message.push_str(&revision.checked());
            }
            return refuse(exit_code(&error), &message);
        }
    };
    let selection = Selection {
        district: args.district.clone(),
        heritages: args.heritages.clone(),
    };
    let mut settings = settings(&args.aws, args.dry_run, args.yes, args.allow_data_loss);
    settings.origin = revision.as_ref().map(|r| r.origin(args.dry_run));
    settings.waves.clone_from(&args.waves);
    on_ctrl_c();
    let mut runner = runner(fleet, &args.aws);
    let go_back = |result: &Result<(), ApplyError>, executed: bool| match result {
        Err(error) if executed && rolls_back(error) => Some(match &revision {
            Some(revision) => Err(format!(
                "this run deployed out/ at `{}` with `--rev`, so berth does not know what was deployed before it",
                revision.name
            )),
            None => previous_revision(root, &artifacts.files),
        }),
        _ => None,
    };
    if args.format == ReportFormat::Json {
        let mut report = JsonReport::new("apply");
        let result = apply::apply(&artifacts, &selection, &settings, &mut runner, &mut report);
        let rollback = go_back(&result, report.executed).and_then(Result::ok);
        let failure = result.as_ref().err().map(|e| (exit_code(e), e.to_string()));
        let failure = failure.as_ref().map(|(code, text)| (*code, text.as_str()));
        return report.finish_as(failure, args.dry_run, &[("rollback", rollback.into())]);
    }
    let mut terminal = Terminal::new();
    let result = apply::apply(
        &artifacts,
        &selection,
        &settings,
        &mut runner,
        &mut terminal,
    );
    let Err(error) = &result else {
        return ExitCode::SUCCESS;
    };
    let code = fail(error);
    match go_back(&result, terminal.executed) {
        Some(Ok(command)) => eprintln!("to go back to what was deployed before: {command}"),
        Some(Err(reason)) => {
            eprintln!("berth cannot tell which revision was deployed before: {reason}");
        }
        None => {}
    }
    code
}

/// Failures after which apply says how to go back, when the run executed
/// a change set: a stack that failed or rolled back (6), a `before_deploy`
/// that failed after earlier stacks changed (7), and a wait that ended
/// (12) or was interrupted (130) while a stack was changing. A refusal
/// (3, 4, 5, 64) leaves the stack it refuses as it was, and when the AWS
/// CLI itself fails (1, 8–11) the fix is its error and the same apply again.
fn rolls_back(error: &ApplyError) -> bool {
    matches!(
        error,
        ApplyError::Stack(_)
            | ApplyError::Unstable(_)
            | ApplyError::BeforeDeploy(_)
            | ApplyError::Timeout { .. }
            | ApplyError::Interrupted { .. }
    )
}

/// `berth apply --rev <the commit before the newest commit that changed
/// out/>`: what was deployed before out/ of HEAD, as far as git tells —
/// when apply deployed exactly HEAD's out/ (the verified `files`).
/// Otherwise why berth cannot tell.
fn previous_revision(root: &Path, files: &berth::diff::Files) -> Result<String, String> {
    let error = |e: anyhow::Error| format!("{e:#}");
    let head = match git::resolve(root, "HEAD").map_err(error)? {
        Ok(head) => head,
        Err(NoCommit::NotARepository(_)) => {
            return Err("the fleet is not in a git repository".to_owned());
        }
        Err(NoCommit::Unknown) => return Err("its git repository has no commit yet".to_owned()),
    };
    if !git::holds(root, &head, "out", files).map_err(error)? {
        return Err(
            "out/ is not out/ as committed at HEAD (it has changes that are not committed)"
                .to_owned(),
        );
    }
    let Some(changed) = git::last_change(root, &head, "out").map_err(error)? else {
        return Err("no commit changed out/".to_owned());
    };
    let before = match git::parent(root, &changed).map_err(error)? {
        Some(parent) if git::has_dir(root, &parent, "out").map_err(error)? => parent,
        _ => {
            return Err(format!(
                "out/ first appears in commit {}: no revision before it has an out/ to go back to",
                short(&changed)
            ));
        }
    };
    Ok(format!("berth apply --rev {}", short(&before)))
}

/// A commit id shortened to 12 hex digits.
fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// `--rev`: the fleet's `out/`, `instances/` and `templates/` as committed
/// at a revision, in a private directory that apply reads as the fleet.
struct Revision {
    /// The revision as given.
    name: String,
    commit: String,
    snapshot: git::Snapshot,
}

impl Revision {
    /// Reads the revision, or the exit code and message of why not.
    fn read(root: &Path, name: &str, scratch: &Path) -> Result<Self, (u8, String)> {
        let commit = match git::resolve(root, name) {
            Ok(Ok(commit)) => commit,
            Ok(Err(NoCommit::NotARepository(message))) => {
                return Err((
                    64,
                    format!(
                        "`--rev` deploys out/ as committed at a git revision, but `{}` is not in a git repository ({message})\n  help: run berth apply without `--rev` to deploy out/ as it is",
                        root.display()
                    ),
                ));
            }
            Ok(Err(NoCommit::Unknown)) => {
                return Err((
                    64,
                    format!(
                        "unknown revision `{name}`: git knows no commit by that name\n  help: `git log --oneline -- out/` lists the commits that changed out/"
                    ),
                ));
            }
            Err(error) => return Err((1, format!("{error:#}"))),
        };
        match git::has_dir(root, &commit, "out") {
            Ok(true) => {}
            Ok(false) => {
                return Err((
                    64,
                    format!(
                        "`{name}` (commit {}) has no out/: there is nothing to deploy at that revision\n  help: name a commit that has out/; `git log --oneline -- out/` lists the commits that changed it",
                        short(&commit)
                    ),
                ));
            }
            Err(error) => return Err((1, format!("{error:#}"))),
        }
        let snapshot =
            git::Snapshot::new(root, &commit, &["out", "instances", "templates"], scratch)
                .map_err(|e| (1, format!("cannot read the fleet at `{name}`: {e:#}")))?;
        Ok(Self {
            name: name.to_owned(),
            commit,
            snapshot,
        })
    }

    /// The line apply says first: which `out/` its paths mean.
    fn origin(&self, dry_run: bool) -> String {
        let short = short(&self.commit);
        if dry_run {
            format!(
                "out/ here is out/ as committed at `{}` (commit {short}), not the working tree's: run this script in a checkout of that commit (git worktree add ../berth-{short} {short})",
                self.name
            )
        } else {
            format!(
                "deploying out/ as committed at `{}` (commit {short})",
                self.name
            )
        }
    }

    /// What a refusal of the revision's `out/` was checked against.
    fn checked(&self) -> String {
        format!(
            "\n  note: this is out/ as committed at `{}` (commit {}), checked against that commit's own manifest, instances/ and templates/ as this berth renders them; deploy another revision, or the berth that built this one if berth renders differently since",
            self.name,
            short(&self.commit)
        )
    }
}

/// `berth run`: the container's exit code, or berth's own (README).
pub fn run(root: &Path, args: &RunArgs) -> ExitCode {
    // Only the manifest's checksums: run deploys nothing, so out/ need not
    // be fresh, only what berth wrote.
    let artifacts = match Artifacts::read(root) {
        Ok(artifacts) => artifacts,
        Err(error) => return fail(&error.into()),
    };
    let request = apply::RunRequest {
        heritage: args.heritage.clone(),
        service: args.service.clone(),
        env: args.env.clone(),
        cpu: args.cpu,
        memory: args.memory,
        command: args.command.clone(),
        detach: args.detach,
    };
    let settings = settings(&args.aws, args.dry_run, false, false);
    on_ctrl_c();
    match apply::run(
        &artifacts,
        &request,
        &settings,
        &mut runner(root, &args.aws),
        &mut Terminal::new(),
    ) {
        Ok(apply::RunOutcome::Exited(code)) => {
            // A code outside 0..=255 cannot be an exit status: say so, exit 1.
            u8::try_from(code).map_or_else(
                |_| {
                    eprintln!("the container exited {code}, which is no exit status: exiting 1");
                    ExitCode::FAILURE
                },
                ExitCode::from,
            )
        }
        Ok(apply::RunOutcome::Detached | apply::RunOutcome::DryRun) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

pub fn destroy(root: &Path, args: &DestroyArgs) -> ExitCode {
    let artifacts = match Artifacts::read(root) {
        Ok(artifacts) => artifacts,
        // The stacks of a removed fleet can still be destroyed by name.
        Err(ArtifactError::Manifest { .. }) if args.district.is_some() => Artifacts::default(),
        Err(error) if args.format == ReportFormat::Json => {
            return JsonReport::new("destroy").finish(&Err(error.into()), args.dry_run);
        }
        Err(error) => return fail(&error.into()),
    };
    let settings = settings(&args.aws, args.dry_run, args.yes, args.allow_data_loss);
    on_ctrl_c();
    let mut runner = runner(root, &args.aws);
    let district = args.district.as_deref();
    let (mut report, mut terminal) = (JsonReport::new("destroy"), Terminal::new());
    let json = args.format == ReportFormat::Json;
    let ui: &mut dyn Ui = if json { &mut report } else { &mut terminal };
    let result = apply::destroy(
        &artifacts,
        &args.heritage,
        district,
        &settings,
        &mut runner,
        ui,
    );
    if json {
        return report.finish(&result, args.dry_run);
    }
    result.map_or_else(|e| fail(&e), |()| ExitCode::SUCCESS)
}

/// `berth diff --deployed`: the verified artifacts of `out/` and what is
/// deployed of their stacks; a failure is printed and given as its exit
/// code (the table of apply's).
pub fn deployed(root: &Path, aws: &AwsArgs, resources: bool) -> Result<Deployed, ExitCode> {
    let artifacts = Artifacts::read(root).map_err(|error| fail(&error.into()))?;
    let settings = settings(aws, false, false, false);
    let mut runner = runner(root, aws);
    let mut ui = OnStderr(Terminal::new());
    on_ctrl_c();
    let files = apply::deployed(&artifacts, &settings, &mut runner, &mut ui)
        .map_err(|error| fail(&error))?;
    let drift = if resources {
        apply::drift(&artifacts, &files, &settings, &mut runner, &mut ui)
            .map_err(|error| fail(&error))?
    } else {
        Vec::new()
    };
    Ok(Deployed {
        artifacts,
        files,
        drift,
    })
}

/// What `berth diff --deployed` compares with `out/`.
pub struct Deployed {
    pub artifacts: Artifacts,
    /// The deployed stacks' files, in `out/`'s shape.
    pub files: std::collections::BTreeMap<String, String>,
    /// What drift detection found (`--resources`), else empty.
    pub drift: Vec<berth::diff::ResourceDrift>,
}

/// The terminal, with the report on stderr: stdout is the diff's.
pub(super) struct OnStderr(pub(super) Terminal);

impl Ui for OnStderr {
    fn say(&mut self, line: &str) {
        eprintln!("{line}");
    }

    fn progress(&mut self, _status: &str, events: &[String]) {
        for line in events {
            eprintln!("{line}");
        }
    }

    fn confirm(&mut self, _question: &str) -> Answer {
        Answer::NoTerminal
    }

    fn sleep(&mut self, duration: Duration) {
        self.0.sleep(duration);
    }

    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    fn interrupted(&self) -> bool {
        self.0.interrupted()
    }
}

/// `--format json` of apply and destroy: collects the report's lines and
/// each stack's outcome, and prints them as one document on stdout when
/// the run ends. It never asks: a question is answered as if no terminal
/// were there (the run stops unless `--yes` or `--dry-run` was given).
struct JsonReport {
    command: &'static str,
    start: Instant,
    lines: Vec<String>,
    stacks: Vec<serde_json::Value>,
    /// Each wave of `apply --waves`, once settled.
    waves: Vec<serde_json::Value>,
    /// A change set was executed.
    executed: bool,
}

impl JsonReport {
    fn new(command: &'static str) -> Self {
        Self {
            command,
            start: Instant::now(),
            lines: Vec::new(),
            stacks: Vec::new(),
            waves: Vec::new(),
            executed: false,
        }
    }

    /// Prints the document; returns the exit code the human output has.
    fn finish(self, result: &Result<(), ApplyError>, dry_run: bool) -> ExitCode {
        let failure = result.as_ref().err().map(|e| (exit_code(e), e.to_string()));
        let failure = failure.as_ref().map(|(code, text)| (*code, text.as_str()));
        self.finish_as(failure, dry_run, &[])
    }

    /// Prints the document of a run that ended with `failure` (its exit
    /// code and message) or without, with the command's own `extra` keys
    /// (apply's `rollback`).
    fn finish_as(
        self,
        failure: Option<(u8, &str)>,
        dry_run: bool,
        extra: &[(&str, serde_json::Value)],
    ) -> ExitCode {
        let (status, code, error) = match failure {
            None if dry_run => ("dry-run", 0, None),
            None => ("done", 0, None),
            Some((code, message)) => ("failed", code, Some(message)),
        };
        let mut document = serde_json::json!({
            "command": self.command,
            "status": status,
            "exit_code": code,
            "stacks": self.stacks,
            "error": error,
            "lines": self.lines,
        });
        if !self.waves.is_empty() {
            document["waves"] = self.waves.into();
        }
        for (key, value) in extra {
            document[*key] = value.clone();
        }
        let text = serde_json::to_string_pretty(&document).unwrap_or_default();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}").and_then(|()| out.flush());
        ExitCode::from(code)
    }
}

impl Ui for JsonReport {
    fn say(&mut self, line: &str) {
        self.lines.push(line.to_owned());
    }

    fn progress(&mut self, _status: &str, events: &[String]) {
        self.lines.extend(events.iter().cloned());
    }

    fn confirm(&mut self, _question: &str) -> Answer {
        Answer::NoTerminal
    }

    fn sleep(&mut self, duration: Duration) {
        Terminal::new().sleep(duration);
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn interrupted(&self) -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }

    fn stack(&mut self, name: &str, outcome: StackOutcome) {
        self.stacks
            .push(serde_json::json!({"stack": name, "outcome": outcome.name()}));
    }

    fn executing(&mut self, _stack: &str) {
        self.executed = true;
    }

    fn wave(&mut self, report: &WaveReport) {
        let mut wave = serde_json::json!({
            "district": report.district,
            "wave": report.number,
            "heritages": report.heritages,
            "outcome": report.outcome.name(),
        });
        if let WaveOutcome::Failed {
            heritage,
            reason,
            deployed,
        } = &report.outcome
        {
            wave["failed"] = heritage.clone().into();
            wave["reason"] = reason.clone().into();
            wave["deployed"] = deployed.clone().into();
        }
        self.waves.push(wave);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn change_set_names_are_valid() {
        let name = super::change_set_name();
        assert_eq!(name.len(), "berth-20261122T174900Z".len(), "{name}");
        assert!(name.starts_with("berth-20"), "{name}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
