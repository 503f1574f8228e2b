//! `berth init`: a new fleet repository, minimal and valid, with the schemas
//! editors use and a CI workflow. Writes only files that do not exist.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;

use berth::compiler;
use berth::diagnostic::render_human;
use berth::editor::schema_text;
use berth::schema::SchemaKind;

#[derive(Debug, Parser)]
pub struct InitArgs {
    /// The folder to start the fleet in (created if needed); default: the current directory.
    #[arg(value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    /// The first district's name: its folder, cluster, VPC and stacks.
    #[arg(long, value_name = "NAME", default_value = "main")]
    district: String,
    /// The AWS region of the first district.
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    region: String,
}

/// What `.gitignore` must hold for `berth build`'s lock and staging folders.
const GITIGNORE: [&str; 4] = [".out.lock", ".out.new-*", ".out.old-*", ".out.stat"];

fn district_file(region: &str) -> String {
    format!(
        "\
# yaml-language-server: $schema=../../schema/district.schema.json
# One VPC and one ECS cluster in one region; see berth's README, \"District files\".
region: {region}
network:
  cidr: 10.0.0.0/16
cluster:
  instance_type: t3.small
  size: 2
endpoints:
  # A public load balancer with an HTTPS listener. Replace the ARN with
  # your ACM certificate's before `berth apply`.
  public:
    certificate_arn: arn:aws:acm:{region}:123456789012:certificate/00000000-0000-4000-8000-000000000000
"
    )
}

const INSTANCE_FILE: &str = "\
# yaml-language-server: $schema=../../schema/instance.schema.json
# One application instance (Barcelona's barcelona.yml); see berth's README, \"Instance files\".
environments:
  production:
    # The heritage: names the stacks, task families and log group.
    name: hello
    image_name: public.ecr.aws/nginx/nginx
    image_tag: '1.27'
    services:
      - name: web
        service_type: web
        cpu: 256
        memory: 512
        web_container_port: 80
        listeners:
          - endpoint: public
            health_check_path: /
            hosts: [hello.example.com]
";

/// The GitHub Actions workflow: validation as annotations, the `out/`
/// check, and the diff as a pull-request comment.
const WORKFLOW: &str = include_str!("init/berth.yml");

/// Writes the new fleet; refuses, writing nothing, when any file exists.
pub fn run(args: &InitArgs) -> Result<ExitCode> {
    let district = &args.district;
    let files: Vec<(PathBuf, String)> = vec![
        (
            PathBuf::from(format!("instances/{district}/district.yml")),
            district_file(&args.region),
        ),
        (
            PathBuf::from(format!("instances/{district}/hello.yml")),
            INSTANCE_FILE.to_owned(),
        ),
        (
            PathBuf::from("schema").join(SchemaKind::Instance.file_name()),
            schema_text(SchemaKind::Instance),
        ),
        (
            PathBuf::from("schema").join(SchemaKind::District.file_name()),
            schema_text(SchemaKind::District),
        ),
        (
            PathBuf::from(".github/workflows/berth.yml"),
            WORKFLOW.to_owned(),
        ),
    ];
    let instances = PathBuf::from("instances");
    let has_instances = args.dir.join(&instances).symlink_metadata().is_ok();
    let existing: Vec<String> = [&instances]
        .into_iter()
        .filter(|_| has_instances)
        .chain(
            files
                .iter()
                .map(|(path, _)| path)
                .filter(|path| !path.starts_with(&instances)),
        )
        .filter(|path| args.dir.join(path).symlink_metadata().is_ok())
        .map(|path| format!("`{}`", shown(&args.dir.join(path))))
        .collect();
    if !existing.is_empty() {
        bail!(
            "refusing to start a fleet in `{}`: {} already exist{}; berth init never overwrites\n  help: run it in an empty folder (`berth init DIR`), or add a district by hand",
            shown(&args.dir),
            existing.join(", "),
            if existing.len() == 1 { "s" } else { "" }
        );
    }
    check_first(&files)?;
    for (path, text) in &files {
        let path = args.dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", shown(parent)))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", shown(&path)))?;
        eprintln!("wrote {}", shown(&path));
    }
    if gitignore(&args.dir)? {
        eprintln!("wrote {}", shown(&args.dir.join(".gitignore")));
    }
    let cd = if args.dir == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", shown(&args.dir))
    };
    eprintln!(
        "\nstarted a fleet with district `{district}` ({region}) and instance `hello`; next:\n\
         \x20 {cd}berth validate && berth build\n\
         \x20     check the fleet and render its artifacts into out/\n\
         \x20 edit instances/{district}/district.yml\n\
         \x20     your ACM certificate's ARN, the cluster's size\n\
         \x20 git add . && git commit\n\
         \x20     .github/workflows/berth.yml checks every push and comments the diff on pull requests",
        region = args.region
    );
    Ok(ExitCode::SUCCESS)
}

/// Validates the new fleet in a scratch folder, so a bad `--district` or
/// `--region` is refused before anything is written.
fn check_first(files: &[(PathBuf, String)]) -> Result<()> {
    let scratch = tempfile::tempdir().context("cannot create a temporary folder")?;
    for (path, text) in files {
        let path = scratch.path().join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
    }
    let analysis = compiler::analyze(scratch.path())?;
    if analysis.has_errors() {
        eprint!(
            "{}",
            render_human(&analysis.diagnostics, &analysis.sources, false)
        );
        bail!(
            "refusing to start a fleet berth would not accept (nothing was written): fix `--district` or `--region`"
        );
    }
    Ok(())
}

/// Adds the lines berth needs to `dir/.gitignore`; whether it wrote.
fn gitignore(dir: &Path) -> Result<bool> {
    let path = dir.join(".gitignore");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", shown(&path))),
    };
    let missing: Vec<&str> = GITIGNORE
        .into_iter()
        .filter(|line| !text.lines().any(|l| l.trim() == *line))
        .collect();
    if missing.is_empty() {
        return Ok(false);
    }
    let mut new = text;
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str(
        "# berth build: beside out/, its lock, the folders of a build in progress and the stat cache\n",
    );
    for line in missing {
        new.push_str(line);
        new.push('\n');
    }
    std::fs::write(&path, new).with_context(|| format!("cannot write `{}`", shown(&path)))?;
    Ok(true)
}

fn shown(path: &Path) -> String {
    let path = path.strip_prefix(".").unwrap_or(path);
    if path.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        path.display().to_string()
    }
}
