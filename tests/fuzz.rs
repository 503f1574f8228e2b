//! A bounded mutation fuzzer over the front end: the YAML files of every
//! golden fleet, mutated by a small seeded mutator, through load → check →
//! model → plan → render with the library API. Whatever the input, berth
//! must not panic, must not report `error[internal]`, must render every
//! fleet it accepts, and must not say a value has the type it asks for.
//!
//! `cargo test fuzz` runs it for `BERTH_FUZZ_SECONDS` (default 20) or
//! `BERTH_FUZZ_ITERATIONS` runs, whichever ends first, from seed
//! `BERTH_FUZZ_SEED` (default 1). A failing input is written to
//! `target/fuzz-failures/` and named in the failure.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use berth::compiler;

/// One fleet to mutate: its files by path relative to the fleet root.
struct Seed {
    files: Vec<(String, String)>,
}

/// xorshift64*: small, seeded, the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Values hostile or careless users write, and values berth must tell apart.
const VALUES: &[&str] = &[
    "512.0",
    "2.56e2",
    "2.0",
    "0.5",
    ".inf",
    "-.inf",
    ".nan",
    "\"\"",
    "''",
    "{}",
    "[]",
    "~",
    "-1",
    "0",
    "65536",
    "4294967296",
    "99999999999999999999",
    "1e400",
    "0x10",
    "yes",
    "x",
    "\"a b\"",
    "é",
    "[a, b]",
    "[1, 2]",
    "{value: x}",
    "{ssm_path: app/x}",
    "{value_from: arn:aws:ssm:ap-northeast-1:111111111111:parameter/x}",
    "{repository: app}",
    "!!str 1",
    "&a x",
    "*a",
    "cron(0 25 * * ? *)",
    "cron(0 10 * * ? *)",
    "rate(1 hour)",
    "rate(0 minutes)",
    "web",
    "default",
    "FARGATE",
    "EC2",
    "mstdn",
    "/x/*",
    "PGPASSWORD=x rake db:migrate",
    "RAILS_ENV=production bundle exec rails s",
    "rake db:migrate --password hunter2",
    "user:pw@registry.example/app",
    "AKIAABCDEFGHIJKLMNOP",
    "postgres://u:pw@db/x",
    "\"-----BEGIN PRIVATE KEY-----\"",
    "'echo \"oops'",
    "10.0.0.0/8",
    "t3.small",
    "db.t4g.micro",
];

/// Keys of both file kinds, so mutations reach deeper rules.
const KEYS: &[&str] = &[
    "name",
    "cpu",
    "memory",
    "command",
    "environment",
    "services",
    "listeners",
    "endpoint",
    "hosts",
    "rule_priority",
    "port_mappings",
    "resources",
    "database",
    "cache",
    "buckets",
    "secrets",
    "image_name",
    "image_tag",
    "before_deploy",
    "scheduled_tasks",
    "schedule",
    "desired_count",
    "launch_type",
    "service_type",
    "region",
    "cluster",
    "size",
    "network",
    "cidr",
    "endpoints",
    "<<",
    "DB_PASS",
    "SECRET_KEY_BASE",
];

fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let at = rng.below(lines.len());
    match rng.below(10) {
        // Replace a value.
        0..=2 => {
            let line = &lines[at];
            let value = rng.pick(VALUES);
            lines[at] = match line.find(": ") {
                Some(colon) => format!("{}: {value}", &line[..colon]),
                None => match line.find("- ") {
                    Some(dash) => format!("{}- {value}", &line[..dash]),
                    None => format!("{line} {value}"),
                },
            };
        }
        // Replace a key.
        3 => {
            let line = &lines[at];
            let indent = line.len() - line.trim_start().len();
            let rest = line.find(':').map_or("", |colon| &line[colon..]);
            let dash = if line.trim_start().starts_with("- ") {
                "- "
            } else {
                ""
            };
            lines[at] = format!("{}{dash}{}{rest}", &line[..indent], rng.pick(KEYS));
        }
        4 => {
            lines.remove(at);
        }
        5 => {
            let line = lines[at].clone();
            lines.insert(at, line);
        }
        6 => {
            let other = rng.below(lines.len());
            lines.swap(at, other);
        }
        // Insert a key with the indentation of the line.
        7 => {
            let line = &lines[at];
            let indent = &line[..line.len() - line.trim_start().len()];
            let new = format!("{indent}{}: {}", rng.pick(KEYS), rng.pick(VALUES));
            lines.insert(at, new);
        }
        // Move a line's indentation.
        8 => {
            if rng.below(2) == 0 {
                lines[at].insert_str(0, "  ");
            } else if lines[at].starts_with("  ") {
                lines[at].replace_range(..2, "");
            }
        }
        // Put a YAML character somewhere.
        _ => {
            let line = &mut lines[at];
            let chars: Vec<char> = line.chars().collect();
            let pos = rng.below(chars.len() + 1);
            let c = *rng.pick(&[
                ':', '-', '[', ']', '{', '}', '&', '*', '\'', '"', '#', '\t', ' ', '|', '>', '!',
                '%', '@', '`', ',', '?',
            ]);
            let mut new: String = chars[..pos].iter().collect();
            new.push(c);
            new.extend(&chars[pos..]);
            *line = new;
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Every fleet under the repository: the example fleet and the golden ones.
fn seeds() -> Vec<Seed> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![repo.clone()];
    for entry in walkdir::WalkDir::new(repo.join("tests/fixtures"))
        .max_depth(3)
        .sort_by_file_name()
    {
        let entry = entry.unwrap();
        if entry.file_type().is_dir() && entry.path().join("instances").is_dir() {
            roots.push(entry.path().to_path_buf());
        }
    }
    roots
        .iter()
        .map(|root| {
            let files = walkdir::WalkDir::new(root.join("instances"))
                .sort_by_file_name()
                .into_iter()
                .map(Result::unwrap)
                .filter(|e| e.file_type().is_file())
                .map(|e| {
                    let path = e.path().strip_prefix(root).unwrap();
                    (
                        path.to_string_lossy().into_owned(),
                        std::fs::read_to_string(e.path()).unwrap(),
                    )
                })
                .collect();
            Seed { files }
        })
        .collect()
}

fn write_fleet(dir: &Path, files: &[(String, String)]) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// Whether berth accepted the fleet in `dir`, or what is wrong with its answer.
fn run(dir: &Path) -> Result<bool, String> {
    let outcome = std::panic::catch_unwind(|| {
        let Ok(analysis) = compiler::analyze(dir) else {
            return Ok(false);
        };
        for d in &analysis.diagnostics {
            if d.code == "internal" {
                return Err(format!("internal error: {}", d.message));
            }
            if let Some(found) = contradiction(&d.message) {
                return Err(format!("misleading message: {} ({found})", d.message));
            }
        }
        let Some(fleet) = analysis.fleet.as_ref() else {
            return Ok(false);
        };
        compiler::render(fleet, dir)
            .map(|_| true)
            .map_err(|e| format!("an accepted fleet does not render: {e}"))
    });
    outcome.unwrap_or_else(|panic| {
        let text = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        Err(format!("panic: {text}"))
    })
}

/// "`x` must be a string or a list, found a string": the type found is one
/// the message says is accepted.
fn contradiction(message: &str) -> Option<String> {
    let (_, rest) = message.split_once(" must be ")?;
    let (expected, found) = rest.rsplit_once(", found ")?;
    let words: Vec<&str> = expected
        .split(", ")
        .flat_map(|w| w.split(" or "))
        .map(str::trim)
        .collect();
    words
        .contains(&found)
        .then(|| format!("`{found}` is among {words:?}"))
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn mutated_fleets_never_panic_or_fail_inside_berth() {
    let seconds = env_number("BERTH_FUZZ_SECONDS", 20);
    let iterations = env_number("BERTH_FUZZ_ITERATIONS", u64::MAX);
    let mut rng = Rng(env_number("BERTH_FUZZ_SEED", 1).max(1));
    let seeds = seeds();
    assert!(seeds.len() > 5, "the golden fleets are found");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("fleet");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut runs, mut accepted) = (0_u64, 0_u64);
    // Panics are caught and reported with their input; keep the hook quiet.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failure = None;
    while runs < iterations && Instant::now() < deadline {
        let seed = rng.pick(&seeds);
        let mut files = seed.files.clone();
        let target = rng.below(files.len());
        for _ in 0..=rng.below(3) {
            files[target].1 = mutate(&files[target].1, &mut rng);
        }
        write_fleet(&dir, &files);
        runs += 1;
        match run(&dir) {
            Ok(ok) => accepted += u64::from(ok),
            Err(problem) => {
                failure = Some((problem, files, target));
                break;
            }
        }
    }
    std::panic::set_hook(hook);
    eprintln!(
        "fuzz: {runs} runs, {accepted} accepted fleets, {} failures",
        u8::from(failure.is_some())
    );
    if let Some((problem, files, target)) = failure {
        let saved = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("fuzz-failures")
            .join(format!("run-{runs}"));
        write_fleet(&saved, &files);
        let (path, text) = &files[target];
        panic!(
            "run {runs}: {problem}\nin {path} (the fleet is saved in {}):\n{text}",
            saved.display()
        );
    }
}
