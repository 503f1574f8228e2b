//! The AWS CLI as apply uses it: one call at a time with `--output json`,
//! errors sorted into what a person can act on (no CLI, no credentials,
//! throttling, no network), throttled calls retried with backoff, and the
//! answers parsed with serde.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::apply::{ApplyError, Runner, Settings, Ui};

/// What a run of apply works with: the CLI, the person, the settings.
pub(crate) struct Ctx<'a> {
    pub runner: &'a mut dyn Runner,
    pub ui: &'a mut dyn Ui,
    pub settings: &'a Settings,
    /// How to follow what is in flight if the person presses Ctrl-C now.
    pub follow: String,
    /// The region of the district being deployed (its template's `berth`
    /// metadata): the `--region` of every call; `None` falls back to
    /// `--region`, then to the CLI's own configuration.
    pub region: Option<String>,
    /// The district's artifacts bucket, once its stack is deployed (or the
    /// shell form of its output, in a dry run of a new district).
    pub bucket: Option<crate::apply::task::Value>,
    /// Whether a dry run already printed `export ARTIFACTS_BUCKET=…` for
    /// the current district.
    pub bucket_exported: bool,
    /// The private copy of the verified artifacts the CLI reads (`None` in
    /// a dry run, which prints `out/` paths for a person to run by hand).
    pub copy: Option<&'a crate::apply::PrivateCopy>,
}

/// What went wrong in one call, as far as its caller may care.
#[derive(Debug)]
pub(crate) struct Failed {
    /// The AWS error code (`ValidationError`), when the CLI printed one.
    pub code: Option<String>,
    pub message: String,
}

impl Failed {
    pub fn is_missing_stack(&self) -> bool {
        self.code.as_deref() == Some("ValidationError") && self.message.contains("does not exist")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Throttled,
    Credentials,
    Network,
    Other,
}

fn classify(stderr: &str) -> Kind {
    const CREDENTIALS: &[&str] = &[
        "Unable to locate credentials",
        "could not be found",
        "InvalidClientTokenId",
        "ExpiredToken",
        "UnrecognizedClientException",
        "security token included in the request is invalid",
        "SignatureDoesNotMatch",
        "Error loading SSO Token",
        "Token has expired",
    ];
    const THROTTLED: &[&str] = &[
        "Throttling",
        "Rate exceeded",
        "TooManyRequests",
        "RequestLimitExceeded",
        "SlowDown",
    ];
    const NETWORK: &[&str] = &[
        "Could not connect to the endpoint URL",
        "Connect timeout on endpoint URL",
        "Read timeout on endpoint URL",
        "Connection was closed",
        "EndpointConnectionError",
        "Failed to establish a new connection",
        "SSL validation failed",
    ];
    let any = |needles: &[&str]| needles.iter().any(|n| stderr.contains(n));
    if any(THROTTLED) {
        Kind::Throttled
    } else if any(CREDENTIALS) {
        Kind::Credentials
    } else if any(NETWORK) {
        Kind::Network
    } else {
        Kind::Other
    }
}

/// The CLI's message: `An error occurred (Code) when calling the Op operation: text`.
fn failed(stderr: &str, code: Option<i32>) -> Failed {
    let line = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or_default();
    let error_code = line
        .strip_prefix("An error occurred (")
        .and_then(|rest| rest.split_once(')'))
        .map(|(code, _)| code.to_owned());
    // `... the DescribeStacks operation (reached max retries: 4): text`
    let text = line.find(" operation").and_then(|at| {
        let rest = &line[at + " operation".len()..];
        let rest = match rest.strip_prefix(" (") {
            Some(inner) => &inner[inner.find(')')? + 1..],
            None => rest,
        };
        rest.strip_prefix(": ")
    });
    let message = match text {
        Some(text) if error_code.is_some() => text.to_owned(),
        _ if line.is_empty() => match code {
            Some(code) => format!("exited with code {code} and printed nothing"),
            None => "killed by a signal".to_owned(),
        },
        _ => line.to_owned(),
    };
    Failed {
        code: error_code,
        message,
    }
}

/// The shell variable a dry run of a new district keeps its artifacts
/// bucket in, as arguments use it.
pub(crate) const BUCKET_VAR: &str = "${ARTIFACTS_BUCKET}";

/// Quotes one argument for a POSIX shell; one holding [`BUCKET_VAR`] (a
/// bucket name or URL, no other shell characters) in double quotes, so
/// the shell expands it.
fn quote(arg: &str) -> String {
    if arg.contains(BUCKET_VAR) && !arg.contains(['"', '`', '\\']) {
        return format!("\"{arg}\"");
    }
    shlex::try_quote(arg).map_or_else(|_| format!("{arg:?}"), std::borrow::Cow::into_owned)
}

impl Ctx<'_> {
    /// The file to hand the CLI for the artifact at `path` (`out/...`): its
    /// private copy, or in a dry run the `out/` path itself.
    pub fn handed(&self, path: &str) -> Result<String, ApplyError> {
        let Some(copy) = self.copy else {
            return Ok(path.to_owned());
        };
        copy.path(path)
            .map(|p| p.display().to_string())
            .ok_or_else(|| {
                ApplyError::Stack(format!(
                    "`{path}` has no private copy, so apply will not hand it to the AWS CLI"
                ))
            })
    }

    /// The arguments of a call: the command, `--output json`, profile, region.
    fn full(&self, args: &[String]) -> Vec<String> {
        let mut full = args.to_vec();
        full.extend(["--output".to_owned(), "json".to_owned()]);
        self.globals(&mut full);
        full
    }

    fn globals(&self, args: &mut Vec<String>) {
        if let Some(profile) = &self.settings.profile {
            args.extend(["--profile".to_owned(), profile.clone()]);
        }
        if let Some(region) = self.region.as_ref().or(self.settings.region.as_ref()) {
            args.extend(["--region".to_owned(), region.clone()]);
        }
    }

    /// A command as a person would type it (with `--output json` when `json`).
    pub fn shown(&self, args: &[String], json: bool) -> String {
        let full = if json {
            self.full(args)
        } else {
            let mut full = args.to_vec();
            self.globals(&mut full);
            full
        };
        std::iter::once("aws".to_owned())
            .chain(full.iter().map(|a| quote(a)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Prints a command for a dry run.
    pub fn print(&mut self, args: &[String]) {
        let line = self.shown(args, true);
        self.ui.say(&line);
    }

    /// Prints a command without `--output json` (a `wait`, or one whose
    /// output a person reads).
    pub fn print_plain(&mut self, args: &[String]) {
        let line = self.shown(args, false);
        self.ui.say(&line);
    }

    pub fn interrupted(&self) -> ApplyError {
        ApplyError::interrupted(self.follow.clone())
    }

    /// Runs one call; `Ok(Err(_))` is an error the caller may handle (a
    /// missing stack); what no caller can handle is an `ApplyError`.
    pub fn try_call(&mut self, args: &[String]) -> Result<Result<String, Failed>, ApplyError> {
        let full = self.full(args);
        let mut backoff = self.settings.timing.backoff;
        let attempts = self.settings.timing.attempts.max(1);
        for attempt in 1..=attempts {
            let finished = self.runner.run(&full).map_err(|e| {
                let program = self.runner.program();
                let reason = match e.kind() {
                    std::io::ErrorKind::NotFound if program.contains('/') => {
                        "there is no such file".to_owned()
                    }
                    std::io::ErrorKind::NotFound => "it is not on PATH".to_owned(),
                    _ => format!("it cannot be started: {e}"),
                };
                ApplyError::CliMissing { program, reason }
            })?;
            if self.ui.interrupted() {
                return Err(self.interrupted());
            }
            if finished.success() {
                return Ok(Ok(finished.stdout));
            }
            let failure = failed(&finished.stderr, finished.code);
            match classify(&finished.stderr) {
                Kind::Throttled if attempt < attempts => {
                    self.ui.say(&format!(
                        "  throttled by AWS ({}); trying again in {}s",
                        failure.message,
                        backoff.as_secs_f32()
                    ));
                    self.ui.sleep(backoff);
                    if self.ui.interrupted() {
                        return Err(self.interrupted());
                    }
                    backoff = backoff.saturating_mul(2);
                }
                Kind::Throttled => {
                    return Err(ApplyError::Throttled {
                        command: self.shown(args, false),
                        attempts,
                        message: failure.message,
                    });
                }
                Kind::Credentials => {
                    return Err(ApplyError::Credentials {
                        message: failure.message,
                    });
                }
                Kind::Network => {
                    return Err(ApplyError::Network {
                        command: self.shown(args, false),
                        message: failure.message,
                    });
                }
                Kind::Other => return Ok(Err(failure)),
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Runs one call that must succeed and parses its JSON answer.
    pub fn call<T: DeserializeOwned>(&mut self, args: &[String]) -> Result<T, ApplyError> {
        match self.try_call(args)? {
            Ok(stdout) => self.parse(args, &stdout),
            Err(failure) => Err(ApplyError::Aws {
                command: self.shown(args, false),
                message: failure.message,
            }),
        }
    }

    pub fn parse<T: DeserializeOwned>(
        &self,
        args: &[String],
        stdout: &str,
    ) -> Result<T, ApplyError> {
        let text = if stdout.trim().is_empty() {
            "{}"
        } else {
            stdout
        };
        serde_json::from_str(text).map_err(|e| ApplyError::Aws {
            command: self.shown(args, false),
            message: format!("cannot read its answer: {e}"),
        })
    }

    /// Waits one poll interval, unless the person pressed Ctrl-C.
    pub fn pause(&mut self) -> Result<(), ApplyError> {
        self.ui.sleep(self.settings.timing.poll);
        if self.ui.interrupted() {
            return Err(self.interrupted());
        }
        Ok(())
    }
}

/// Builds an argument list from string slices.
pub(crate) fn args<const N: usize>(parts: [&str; N]) -> Vec<String> {
    parts.iter().map(|&s| s.to_owned()).collect()
}

// ---- answers -------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Identity {
    pub account: String,
    pub arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Stacks {
    #[serde(default)]
    pub stacks: Vec<Stack>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Stack {
    #[serde(rename = "StackStatus")]
    pub status: String,
    #[serde(default, rename = "StackStatusReason")]
    pub status_reason: Option<String>,
    #[serde(default)]
    pub outputs: Vec<Output>,
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Parameter {
    pub parameter_key: String,
    #[serde(default)]
    pub parameter_value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub key: String,
    pub value: String,
}

impl Stack {
    pub fn outputs(&self) -> BTreeMap<String, String> {
        self.outputs
            .iter()
            .map(|o| {
                (
                    o.output_key.clone(),
                    o.output_value.clone().unwrap_or_default(),
                )
            })
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    pub output_key: String,
    #[serde(default)]
    pub output_value: Option<String>,
}

/// `get-template`'s answer. The service returns `TemplateBody` as a string;
/// the CLI (botocore's `json_decode_template_body`) prints a JSON template
/// as an object and leaves any other text, such as YAML, a string.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Template {
    #[serde(default)]
    pub template_body: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreatedChangeSet {
    pub id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ChangeSet {
    pub status: String,
    #[serde(default)]
    pub status_reason: Option<String>,
    #[serde(default)]
    pub changes: Vec<Change>,
    #[serde(default)]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Change {
    #[serde(default)]
    pub resource_change: Option<ResourceChange>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ResourceChange {
    pub action: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub resource_type: String,
    #[serde(default)]
    pub replacement: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StackEvents {
    #[serde(default)]
    pub stack_events: Vec<StackEvent>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StackEvent {
    pub event_id: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub resource_type: String,
    pub resource_status: String,
    #[serde(default)]
    pub resource_status_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegisteredTaskDefinition {
    pub task_definition: TaskDefinition,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskDefinition {
    pub task_definition_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tasks {
    #[serde(default)]
    pub tasks: Vec<Task>,
    #[serde(default)]
    pub failures: Vec<TaskFailure>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Task {
    #[serde(rename = "taskArn")]
    pub arn: String,
    #[serde(default)]
    pub last_status: String,
    #[serde(default)]
    pub stopped_reason: Option<String>,
    #[serde(default)]
    pub stop_code: Option<String>,
    #[serde(default)]
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Container {
    pub name: String,
    #[serde(default)]
    pub exit_code: Option<i64>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskFailure {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// `ecs describe-services`'s answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Services {
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub failures: Vec<ServiceFailure>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Service {
    #[serde(rename = "serviceName")]
    pub name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub desired_count: i64,
    #[serde(default)]
    pub running_count: i64,
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    #[serde(default)]
    pub load_balancers: Vec<ServiceLoadBalancer>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Deployment {
    #[serde(default)]
    pub rollout_state: Option<String>,
    #[serde(default)]
    pub rollout_state_reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServiceLoadBalancer {
    #[serde(default)]
    pub target_group_arn: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServiceFailure {
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `elbv2 describe-target-health`'s answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TargetHealths {
    #[serde(default)]
    pub target_health_descriptions: Vec<TargetHealthDescription>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TargetHealthDescription {
    #[serde(default)]
    pub target: Option<Target>,
    pub target_health: TargetHealth,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Target {
    pub id: String,
    #[serde(default)]
    pub port: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TargetHealth {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `cloudformation describe-stack-resources`'s answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StackResources {
    #[serde(default)]
    pub stack_resources: Vec<StackResource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StackResource {
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
}

/// How long ago, as `m:ss`.
pub(crate) fn clock(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    format!("{}:{:02}", secs / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_sorted_by_what_a_person_can_do() {
        for (stderr, kind) in [
            (
                "\nUnable to locate credentials. You can configure credentials by running \"aws configure\".\n",
                Kind::Credentials,
            ),
            (
                "\nThe config profile (prod) could not be found\n",
                Kind::Credentials,
            ),
            (
                "\nAn error occurred (ExpiredToken) when calling the DescribeStacks operation: The security token included in the request is expired\n",
                Kind::Credentials,
            ),
            (
                "\nAn error occurred (Throttling) when calling the DescribeStacks operation (reached max retries: 4): Rate exceeded\n",
                Kind::Throttled,
            ),
            (
                "\nCould not connect to the endpoint URL: \"https://cloudformation.ap-northeast-1.amazonaws.com/\"\n",
                Kind::Network,
            ),
            (
                "\nAn error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id x does not exist\n",
                Kind::Other,
            ),
        ] {
            assert_eq!(classify(stderr), kind, "{stderr}");
        }
    }

    #[test]
    fn messages_lose_the_cli_boilerplate() {
        let f = failed(
            "\nAn error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id x does not exist\n",
            Some(254),
        );
        assert_eq!(f.code.as_deref(), Some("ValidationError"));
        assert_eq!(f.message, "Stack with id x does not exist");
        assert!(f.is_missing_stack());
        assert_eq!(
            failed("", Some(3)).message,
            "exited with code 3 and printed nothing"
        );
        let throttled = failed(
            "An error occurred (Throttling) when calling the DescribeStacks operation (reached max retries: 4): Rate exceeded",
            Some(254),
        );
        assert_eq!(throttled.message, "Rate exceeded");
    }
}
