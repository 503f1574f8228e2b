//! One stack through a change set: describe → create the change set → wait
//! → print its changes → stop before data loss → confirm → execute → wait,
//! showing progress → on failure, the failed resources' reasons.
//!
//! [`prepare`] ends before execution so the deploy can run `before_deploy`
//! between a confirmed app change set and its execution.

use std::collections::{BTreeMap, BTreeSet};

use crate::apply::aws::{
    BUCKET_VAR, ChangeSet, CreatedChangeSet, Ctx, ResourceChange, Stack, StackEvent, StackEvents,
    Stacks, args, clock,
};
use crate::apply::risk::{self, After};
use crate::apply::task::Value;
use crate::apply::{Answer, ApplyError, ArtifactError, StackArtifact};

/// Resource types whose replacement or removal loses data.
pub(crate) const STATEFUL: &[&str] = &[
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::ServerlessCache",
    "AWS::S3::Bucket",
    "AWS::ECR::Repository",
    "AWS::SecretsManager::Secret",
    "AWS::DynamoDB::Table",
    "AWS::EFS::FileSystem",
];

/// The most bytes `create-change-set` takes in `--template-body`: botocore's
/// model of CloudFormation (`cloudformation/2010-05-15/service-2.json` of the
/// pinned awscli, `CreateChangeSetInput.TemplateBody`: "a maximum length of
/// 51,200 bytes"; the `TemplateBody` shape itself states only `min: 1`).
/// Larger templates go through the district's artifacts bucket and
/// `--template-url` (up to 1 MB, `TemplateURL` in the same model).
pub(crate) const TEMPLATE_BODY_LIMIT: usize = 51_200;

/// The district stack's output naming its artifacts bucket.
pub(crate) const BUCKET_OUTPUT: &str = "ArtifactsBucket";

/// A district stack must pass inline: it creates the bucket larger
/// templates go through.
pub(crate) fn fits_inline(stack: &StackArtifact) -> Result<(), ApplyError> {
    if stack.bytes <= TEMPLATE_BODY_LIMIT {
        return Ok(());
    }
    Err(ApplyError::Artifacts(ArtifactError::Invalid {
        path: stack.template_path.clone(),
        reason: format!(
            "it is {} bytes, more than the {TEMPLATE_BODY_LIMIT} CloudFormation takes inline; a district stack cannot go through the artifacts bucket it creates, so it must pass inline\n  help: split the district (fewer endpoints or zones per district) so that its stack is smaller",
            stack.bytes
        ),
    }))
}

/// The base64 of a hex sha256, as `--checksum-sha256` takes it.
fn base64_of_hex(hex: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

/// Uploads a template too large to pass inline to the district's artifacts
/// bucket (the exact bytes apply verified: S3 refuses a body whose sha256 is
/// not the manifest's) and returns its URL; `None` for a template that
/// passes inline.
fn upload(ctx: &mut Ctx<'_>, stack: &StackArtifact) -> Result<Option<String>, ApplyError> {
    if stack.bytes <= TEMPLATE_BODY_LIMIT {
        return Ok(None);
    }
    let bucket = match ctx.bucket.clone() {
        Some(Value::Known(bucket)) => bucket,
        Some(Value::Later {
            stack: district,
            key,
        }) if ctx.settings.dry_run => {
            if !ctx.bucket_exported {
                let query = output_query(ctx, &district, &key);
                ctx.ui.say(&format!("export ARTIFACTS_BUCKET=\"{query}\""));
                ctx.bucket_exported = true;
            }
            BUCKET_VAR.to_owned()
        }
        _ => {
            return Err(ApplyError::Stack(format!(
                "`{}` is {} bytes, more than the {TEMPLATE_BODY_LIMIT} CloudFormation takes inline, and its district stack has no `{BUCKET_OUTPUT}` output to upload it to\n  help: build with this berth (its district stack creates the bucket) and apply the district first",
                stack.template_path, stack.bytes
            )));
        }
    };
    let key = format!("templates/{}/{}.json", stack.name, stack.sha256);
    let body = ctx.handed(&stack.template_path)?;
    let command = args([
        "s3api",
        "put-object",
        "--bucket",
        &bucket,
        "--key",
        &key,
        "--body",
        &body,
        "--content-type",
        "application/json",
        "--checksum-sha256",
        &base64_of_hex(&stack.sha256),
    ]);
    if ctx.settings.dry_run {
        ctx.print(&command);
    } else {
        ctx.call::<serde_json::Value>(&command)?;
    }
    // Virtual-hosted style in the district's region, the form the S3 and
    // CloudFormation documentation give; without a known region, the
    // global endpoint.
    let host = match ctx.region.as_ref().or(ctx.settings.region.as_ref()) {
        Some(region) => format!("{bucket}.s3.{region}.amazonaws.com"),
        None => format!("{bucket}.s3.amazonaws.com"),
    };
    Ok(Some(format!("https://{host}/{key}")))
}

/// What `describe-stacks` says about a stack.
pub(crate) fn describe(ctx: &mut Ctx<'_>, name: &str) -> Result<Option<Stack>, ApplyError> {
    let command = args(["cloudformation", "describe-stacks", "--stack-name", name]);
    if ctx.settings.dry_run {
        ctx.print(&command);
    }
    match ctx.try_call(&command)? {
        Ok(stdout) => {
            let stacks: Stacks = ctx.parse(&command, &stdout)?;
            Ok(stacks.stacks.into_iter().next())
        }
        Err(failure) if failure.is_missing_stack() => Ok(None),
        Err(failure) => Err(ApplyError::Aws {
            command: ctx.shown(&command, false),
            message: failure.message,
        }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Create,
    Update,
}

impl Kind {
    fn arg(self) -> &'static str {
        match self {
            Kind::Create => "CREATE",
            Kind::Update => "UPDATE",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::Update => "update",
        }
    }
}

/// A confirmed change set, ready to execute.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub stack: String,
    pub kind: Kind,
    /// The change set's ARN; `None` in a dry run.
    pub change_set: Option<String>,
    /// The stack's outputs before this change (empty when it is new).
    pub outputs: BTreeMap<String, String>,
}

#[derive(Debug)]
pub(crate) enum Plan {
    /// Nothing to change: the stack's outputs.
    UpToDate(BTreeMap<String, String>),
    Ready(Prepared),
}

/// The capabilities a template needs: IAM resources need `CAPABILITY_IAM`,
/// named ones `CAPABILITY_NAMED_IAM`.
fn capabilities(template: &serde_json::Value) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "RoleName",
        "UserName",
        "GroupName",
        "InstanceProfileName",
        "ManagedPolicyName",
    ];
    let resources = template.get("Resources")?.as_object()?;
    let iam: Vec<&serde_json::Value> = resources
        .values()
        .filter(|r| {
            r.get("Type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.starts_with("AWS::IAM::"))
        })
        .collect();
    if iam.is_empty() {
        None
    } else if iam.iter().any(|r| {
        NAMES
            .iter()
            .any(|n| r.get("Properties").and_then(|p| p.get(n)).is_some())
    }) {
        Some("CAPABILITY_NAMED_IAM")
    } else {
        Some("CAPABILITY_IAM")
    }
}

fn create_args(
    ctx: &Ctx<'_>,
    stack: &StackArtifact,
    kind: Kind,
    url: Option<String>,
) -> Result<Vec<String>, ApplyError> {
    let mut command = args([
        "cloudformation",
        "create-change-set",
        "--stack-name",
        &stack.name,
        "--change-set-name",
        &ctx.settings.change_set_name,
        "--change-set-type",
        kind.arg(),
    ]);
    match url {
        Some(url) => command.extend(["--template-url".to_owned(), url]),
        None => command.extend([
            "--template-body".to_owned(),
            format!("file://{}", ctx.handed(&stack.template_path)?),
        ]),
    }
    if !stack.parameters.is_empty() {
        let parameters: Vec<_> = stack
            .parameters
            .iter()
            .map(|(k, v)| serde_json::json!({"ParameterKey": k, "ParameterValue": v}))
            .collect();
        command.push("--parameters".to_owned());
        command.push(serde_json::Value::Array(parameters).to_string());
    }
    if !stack.tags.is_empty() {
        let tags: Vec<_> = stack
            .tags
            .iter()
            .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
            .collect();
        command.push("--tags".to_owned());
        command.push(serde_json::Value::Array(tags).to_string());
    }
    if let Some(capability) = capabilities(&stack.template) {
        command.push("--capabilities".to_owned());
        command.push(capability.to_owned());
    }
    command.push("--description".to_owned());
    command.push(format!("berth apply of {}", stack.template_path));
    Ok(command)
}

fn follow_stack(name: &str) -> String {
    format!(
        "CloudFormation goes on with `{name}`; follow it with `aws cloudformation describe-stack-events --stack-name {name}`, then run berth apply again"
    )
}

/// Decides CREATE or UPDATE from the stack's status; deletes a stack whose
/// first creation was rolled back (after asking).
fn decide(ctx: &mut Ctx<'_>, name: &str, current: Option<&Stack>) -> Result<Kind, ApplyError> {
    let Some(current) = current else {
        return Ok(Kind::Create);
    };
    let status = current.status.as_str();
    match status {
        "REVIEW_IN_PROGRESS" => Ok(Kind::Create),
        "CREATE_COMPLETE"
        | "UPDATE_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "IMPORT_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE" => Ok(Kind::Update),
        "ROLLBACK_COMPLETE" => {
            ctx.ui.say(&format!(
                "{}`{name}` is ROLLBACK_COMPLETE: its first creation failed and was rolled back, so it holds no resources and cannot be updated; it has to be deleted and created again",
                comment(ctx)
            ));
            confirm(
                ctx,
                &format!("delete `{name}` and create it again?"),
                &format!("`{name}` was left as it is"),
            )?;
            delete(ctx, name)?;
            Ok(Kind::Create)
        }
        "UPDATE_ROLLBACK_FAILED" => Err(ApplyError::Stack(format!(
            "`{name}` is UPDATE_ROLLBACK_FAILED: a rollback could not finish\n  help: fix the cause (aws cloudformation describe-stack-events --stack-name {name}), run `aws cloudformation continue-update-rollback --stack-name {name}`, then apply again"
        ))),
        s if s.ends_with("_IN_PROGRESS") => Err(ApplyError::Stack(format!(
            "`{name}` is {s}: another operation is running on it\n  help: wait for it to finish (aws cloudformation describe-stack-events --stack-name {name}), then apply again"
        ))),
        s => Err(ApplyError::Stack(format!(
            "`{name}` is {s}: berth apply cannot deploy from this status\n  help: look at its events (aws cloudformation describe-stack-events --stack-name {name}) and repair or delete it"
        ))),
    }
}

/// `# ` in a dry run, so the output stays a script.
fn comment(ctx: &Ctx<'_>) -> &'static str {
    if ctx.settings.dry_run { "# " } else { "" }
}

/// Asks unless `--yes`; a dry run asks nothing.
pub(crate) fn confirm(ctx: &mut Ctx<'_>, question: &str, left: &str) -> Result<(), ApplyError> {
    if ctx.settings.yes || ctx.settings.dry_run {
        return Ok(());
    }
    match ctx.ui.confirm(question) {
        Answer::Yes => Ok(()),
        Answer::No => Err(ApplyError::NotConfirmed(format!("not confirmed: {left}"))),
        Answer::NoTerminal => Err(ApplyError::NotConfirmed(format!(
            "not confirmed: {left}: standard input is not a terminal, so nobody can answer\n  help: review what will happen (--dry-run), then run again with --yes"
        ))),
    }
}

/// Deletes a stack and waits until it is gone.
pub(crate) fn delete(ctx: &mut Ctx<'_>, name: &str) -> Result<(), ApplyError> {
    let command = args(["cloudformation", "delete-stack", "--stack-name", name]);
    if ctx.settings.dry_run {
        ctx.print(&command);
        ctx.print_plain(&args([
            "cloudformation",
            "wait",
            "stack-delete-complete",
            "--stack-name",
            name,
        ]));
        return Ok(());
    }
    ctx.call::<serde_json::Value>(&command)?;
    ctx.follow = follow_stack(name);
    let start = ctx.ui.elapsed();
    let mut seen = BTreeSet::new();
    let polls = ctx.settings.timing.stack_polls;
    for poll in 0..polls {
        if poll > 0 {
            ctx.pause()?;
        }
        let Some(current) = describe(ctx, name)? else {
            ctx.ui.progress("", &[]);
            return Ok(());
        };
        let status = current.status.clone();
        let events = new_events(ctx, name, &mut seen, None)?;
        report(ctx, name, &status, start, &events);
        match status.as_str() {
            "DELETE_COMPLETE" => return Ok(()),
            "DELETE_FAILED" => {
                return Err(ApplyError::Stack(failure(
                    name,
                    &status,
                    "the stack could not be deleted",
                    &failed_events(&events),
                )));
            }
            _ => {}
        }
    }
    Err(ApplyError::Timeout {
        what: format!("`{name}` to be deleted"),
        polls,
        follow: follow_stack(name),
    })
}

/// Creates the change set, waits for it, prints it, guards data, asks.
pub(crate) fn prepare(ctx: &mut Ctx<'_>, stack: &StackArtifact) -> Result<Plan, ApplyError> {
    let current = describe(ctx, &stack.name)?;
    let outputs = current.as_ref().map(Stack::outputs).unwrap_or_default();
    let kind = decide(ctx, &stack.name, current.as_ref())?;
    if ctx.settings.dry_run {
        let status = current
            .as_ref()
            .map_or("does not exist yet", |s| s.status.as_str());
        ctx.ui.say(&format!(
            "# `{}` {status}: {} it through a change set",
            stack.name,
            kind.verb()
        ));
        match kind {
            Kind::Create => risk::created(ctx, &stack.name),
            Kind::Update => risk::report(ctx, &stack.name, &After::Artifact(stack))?,
        }
    }
    let url = upload(ctx, stack)?;
    let create = create_args(ctx, stack, kind, url)?;
    if ctx.settings.dry_run {
        let name = ctx.settings.change_set_name.clone();
        let by_name = |verb: &str| {
            args([
                "cloudformation",
                verb,
                "--stack-name",
                &stack.name,
                "--change-set-name",
                &name,
            ])
        };
        ctx.print(&create);
        let mut wait = by_name("change-set-create-complete");
        wait.insert(1, "wait".to_owned());
        ctx.print_plain(&wait);
        ctx.print(&by_name("describe-change-set"));
        return Ok(Plan::Ready(Prepared {
            stack: stack.name.clone(),
            kind,
            change_set: None,
            outputs,
        }));
    }
    let created: CreatedChangeSet = match ctx.try_call(&create)? {
        Ok(stdout) => ctx.parse(&create, &stdout)?,
        // Some CloudFormation answers "nothing to change" right away.
        Err(failure) if no_changes(&failure.message) => {
            ctx.ui.say(&format!("`{}` is up to date", stack.name));
            return Ok(Plan::UpToDate(outputs));
        }
        Err(failure) => {
            return Err(ApplyError::Aws {
                command: ctx.shown(&create, false),
                message: failure.message,
            });
        }
    };
    let id = created.id;
    ctx.follow = format!(
        "the change set `{id}` was not executed: delete it with `aws cloudformation delete-change-set --change-set-name {id}` or run berth apply again"
    );
    let describe_args = |token: Option<&str>| {
        let mut command = args([
            "cloudformation",
            "describe-change-set",
            "--change-set-name",
            &id,
        ]);
        if let Some(token) = token {
            command.extend(["--next-token".to_owned(), token.to_owned()]);
        }
        command
    };
    let polls = ctx.settings.timing.change_set_polls;
    let mut first = None;
    for poll in 0..polls {
        if poll > 0 {
            ctx.pause()?;
        }
        let change_set: ChangeSet = ctx.call(&describe_args(None))?;
        match change_set.status.as_str() {
            "CREATE_COMPLETE" => {
                first = Some(change_set);
                break;
            }
            "FAILED" => {
                let reason = change_set.status_reason.unwrap_or_default();
                if no_changes(&reason) {
                    delete_change_set(ctx, &id)?;
                    ctx.ui.say(&format!("`{}` is up to date", stack.name));
                    return Ok(Plan::UpToDate(outputs));
                }
                return Err(ApplyError::Stack(format!(
                    "the change set for `{}` failed: {reason}\n  help: fix the template's cause, run `berth build`, review and apply again",
                    stack.name
                )));
            }
            _ => {}
        }
    }
    let Some(mut page) = first else {
        return Err(ApplyError::Timeout {
            what: format!("the change set of `{}` to be created", stack.name),
            polls,
            follow: format!(
                "look at it with `aws cloudformation describe-change-set --change-set-name {id}`"
            ),
        });
    };
    let mut changes: Vec<ResourceChange> = Vec::new();
    for _ in 0..100 {
        changes.extend(
            page.changes
                .iter()
                .filter_map(|c| c.resource_change.clone()),
        );
        match page.next_token.take() {
            Some(token) => page = ctx.call(&describe_args(Some(&token)))?,
            None => break,
        }
    }
    show_changes(ctx, &stack.name, kind, &changes);
    let losses: Vec<String> = changes
        .iter()
        .filter(|c| STATEFUL.contains(&c.resource_type.as_str()))
        .filter_map(risk)
        .collect();
    if !losses.is_empty() {
        let what = losses.join(" and ");
        if !ctx.settings.allow_data_loss {
            delete_change_set(ctx, &id)?;
            return Err(ApplyError::DataLoss {
                stack: stack.name.clone(),
                what,
            });
        }
        ctx.ui.say(&format!(
            "warning: --allow-data-loss: this change set will {what}"
        ));
    }
    if let Err(error) = confirm(
        ctx,
        &format!("execute this change set on `{}`?", stack.name),
        &format!(
            "`{}` was left as it is (its change set was deleted)",
            stack.name
        ),
    ) {
        delete_change_set(ctx, &id)?;
        return Err(error);
    }
    Ok(Plan::Ready(Prepared {
        stack: stack.name.clone(),
        kind,
        change_set: Some(id),
        outputs,
    }))
}

/// What a change to a stateful resource may do to its data, or `None` when
/// it is known to keep it. Unknown means at risk: only `Add`, `Import` and a
/// `Modify` whose `Replacement` is `False` are safe. CloudFormation's
/// `ResourceChange` (API reference) documents `Action` as `Add | Modify |
/// Remove | Import | Dynamic | SyncWithActual` and `Replacement` as `True |
/// False | Conditional`, present only for `Modify`; a `Modify` without it,
/// a `Dynamic` change (decided at run time) or a value this berth does not
/// know is treated as a possible replacement.
fn risk(c: &ResourceChange) -> Option<String> {
    let (id, kind) = (&c.logical_resource_id, &c.resource_type);
    match (c.action.as_str(), c.replacement.as_deref()) {
        ("Add" | "Import", _) | ("Modify", Some("False")) => None,
        ("Remove", _) => Some(format!("remove `{id}` ({kind})")),
        ("Modify", Some("True")) => Some(format!("replace `{id}` ({kind})")),
        ("Modify", Some("Conditional")) => Some(format!(
            "maybe replace `{id}` ({kind}, replacement: Conditional)"
        )),
        ("Modify", None) => Some(format!(
            "maybe replace `{id}` ({kind}, the change set does not say whether it is replaced)"
        )),
        (action, replacement) => Some(format!(
            "maybe replace `{id}` ({kind}, action `{action}`, replacement: {})",
            replacement.unwrap_or("unknown")
        )),
    }
}

/// How CloudFormation says a change set would change nothing.
fn no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

pub(crate) fn delete_change_set(ctx: &mut Ctx<'_>, id: &str) -> Result<(), ApplyError> {
    ctx.call::<serde_json::Value>(&args([
        "cloudformation",
        "delete-change-set",
        "--change-set-name",
        id,
    ]))?;
    Ok(())
}

fn show_changes(ctx: &mut Ctx<'_>, stack: &str, kind: Kind, changes: &[ResourceChange]) {
    ctx.ui.say(&format!(
        "change set to {} `{stack}` ({} change{}):",
        kind.verb(),
        changes.len(),
        if changes.len() == 1 { "" } else { "s" }
    ));
    for (action, mark) in [
        ("Remove", "[-]"),
        ("Add", "[+]"),
        ("Modify", "[~]"),
        ("Import", "[<]"),
        ("Dynamic", "[?]"),
    ] {
        for change in changes.iter().filter(|c| c.action == action) {
            let mut line = format!(
                "  {mark} {} {}",
                change.logical_resource_id, change.resource_type
            );
            if action == "Modify" {
                line.push_str(&format!(
                    " (replacement: {})",
                    change.replacement.as_deref().unwrap_or("unknown")
                ));
            }
            if STATEFUL.contains(&change.resource_type.as_str()) && risk(change).is_some() {
                line.push_str("  <- stateful: its data would be lost");
            }
            ctx.ui.say(&line);
        }
    }
}

/// Events newer than the last one seen (and than `until`), oldest first.
fn new_events(
    ctx: &mut Ctx<'_>,
    name: &str,
    seen: &mut BTreeSet<String>,
    until: Option<&str>,
) -> Result<Vec<StackEvent>, ApplyError> {
    let command = args([
        "cloudformation",
        "describe-stack-events",
        "--stack-name",
        name,
        "--max-items",
        "25",
    ]);
    let answer = match ctx.try_call(&command)? {
        Ok(stdout) => ctx.parse::<StackEvents>(&command, &stdout)?,
        // A stack deleted between two polls has no events to show.
        Err(failure) if failure.is_missing_stack() => return Ok(Vec::new()),
        Err(failure) => {
            return Err(ApplyError::Aws {
                command: ctx.shown(&command, false),
                message: failure.message,
            });
        }
    };
    let mut fresh = Vec::new();
    for event in answer.stack_events {
        if Some(event.event_id.as_str()) == until || seen.contains(&event.event_id) {
            break;
        }
        fresh.push(event);
    }
    for event in &fresh {
        seen.insert(event.event_id.clone());
    }
    fresh.reverse();
    Ok(fresh)
}

fn report(
    ctx: &mut Ctx<'_>,
    name: &str,
    status: &str,
    start: std::time::Duration,
    events: &[StackEvent],
) {
    let elapsed = clock(ctx.ui.elapsed().saturating_sub(start));
    let lines: Vec<String> = events
        .iter()
        .map(|e| {
            let mut line = format!(
                "  [{elapsed}] {} {} {}",
                e.logical_resource_id, e.resource_type, e.resource_status
            );
            if let Some(reason) = e
                .resource_status_reason
                .as_deref()
                .filter(|r| !r.is_empty())
            {
                line.push_str(&format!(": {reason}"));
            }
            line
        })
        .collect();
    ctx.ui
        .progress(&format!("  {name}: {status}, {elapsed}"), &lines);
}

fn failed_events(events: &[StackEvent]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.resource_status.ends_with("_FAILED"))
        .map(|e| {
            format!(
                "  {} ({}) {}: {}",
                e.logical_resource_id,
                e.resource_type,
                e.resource_status,
                e.resource_status_reason
                    .as_deref()
                    .unwrap_or("no reason given")
            )
        })
        .collect()
}

fn failure(name: &str, status: &str, meaning: &str, reasons: &[String]) -> String {
    let mut text = format!("`{name}` failed: {status} ({meaning})\n");
    if reasons.is_empty() {
        text.push_str("  no resource reported a reason\n");
    }
    for reason in reasons {
        text.push_str(reason);
        text.push('\n');
    }
    text.push_str(&format!(
        "  help: all events: aws cloudformation describe-stack-events --stack-name {name}"
    ));
    text
}

/// Executes a prepared change set and waits for the stack, showing progress.
/// Returns the stack's outputs.
pub(crate) fn execute(
    ctx: &mut Ctx<'_>,
    prepared: &Prepared,
) -> Result<BTreeMap<String, String>, ApplyError> {
    let name = prepared.stack.as_str();
    let Some(id) = prepared.change_set.as_deref() else {
        let change_set_name = ctx.settings.change_set_name.clone();
        ctx.print(&args([
            "cloudformation",
            "execute-change-set",
            "--stack-name",
            name,
            "--change-set-name",
            &change_set_name,
        ]));
        let wait = format!("stack-{}-complete", prepared.kind.verb());
        ctx.print_plain(&args([
            "cloudformation",
            "wait",
            &wait,
            "--stack-name",
            name,
        ]));
        return Ok(prepared.outputs.clone());
    };
    // The newest event before executing: progress shows only what follows.
    let until = if prepared.kind == Kind::Update {
        let mut seen = BTreeSet::new();
        new_events(ctx, name, &mut seen, None)?
            .last()
            .map(|e| e.event_id.clone())
    } else {
        None
    };
    ctx.ui.executing(name);
    ctx.call::<serde_json::Value>(&args([
        "cloudformation",
        "execute-change-set",
        "--change-set-name",
        id,
    ]))?;
    ctx.ui.say(&format!("executing the change set on `{name}`"));
    ctx.follow = follow_stack(name);
    let start = ctx.ui.elapsed();
    let mut seen = BTreeSet::new();
    let mut all = Vec::new();
    let polls = ctx.settings.timing.stack_polls;
    for poll in 0..polls {
        if poll > 0 {
            ctx.pause()?;
        }
        let Some(current) = describe(ctx, name)? else {
            return Err(ApplyError::Stack(format!(
                "`{name}` disappeared while it was being deployed\n  help: aws cloudformation list-stacks"
            )));
        };
        let status = current.status.clone();
        let events = new_events(ctx, name, &mut seen, until.as_deref())?;
        report(ctx, name, &status, start, &events);
        all.extend(events);
        if status.ends_with("_IN_PROGRESS") {
            continue;
        }
        let meaning = match status.as_str() {
            "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" => {
                ctx.ui.say(&format!(
                    "`{name}` is {status} ({})",
                    clock(ctx.ui.elapsed().saturating_sub(start))
                ));
                return Ok(current.outputs());
            }
            "ROLLBACK_COMPLETE" => {
                "its creation was rolled back; the next apply deletes and recreates it, after asking"
            }
            "UPDATE_ROLLBACK_COMPLETE" => "the update was rolled back; the stack is as it was",
            _ => "the stack needs attention before the next apply",
        };
        let mut reasons = failed_events(&all);
        if reasons.is_empty()
            && let Some(reason) = current.status_reason.as_deref()
        {
            reasons.push(format!("  {name}: {reason}"));
        }
        return Err(ApplyError::Stack(failure(name, &status, meaning, &reasons)));
    }
    Err(ApplyError::Timeout {
        what: format!("`{name}` to finish"),
        polls,
        follow: follow_stack(name),
    })
}

/// The shell form of one stack output, for dry runs of stacks not created yet.
pub(crate) fn output_query(ctx: &Ctx<'_>, stack: &str, key: &str) -> String {
    let query = format!("Stacks[0].Outputs[?OutputKey=='{key}'].OutputValue");
    let command = args([
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        stack,
        "--query",
        &query,
        "--output",
        "text",
    ]);
    format!("$({})", ctx.shown(&command, false))
}

#[cfg(test)]
mod tests {
    use super::base64_of_hex;

    #[test]
    fn checksums_are_base64_of_the_digest() {
        // sha256("") and sha256("abc"), as `openssl dgst -sha256 -binary | base64` prints them.
        for (hex, base64) in [
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            ),
            (
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
            ),
            ("616263", "YWJj"),
            ("6162", "YWI="),
        ] {
            assert_eq!(base64_of_hex(hex), base64, "{hex}");
        }
    }
}
