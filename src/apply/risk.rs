//! Risk: berth's own list of the data a dry run's stack change puts at risk.
//!
//! The deployed template (`get-template`, a reading call, printed like every
//! call of a dry run) is compared with what the stack becomes by the diff
//! engine ([`crate::diff::template::compare`], the replacement table and
//! its stateful types), and the stateful resources it replaces or removes
//! are printed as `#` lines in `berth diff`'s words.
//!
//! It informs and never gates: a real apply stops on the change set's own
//! answer (`stack::risk`), which this module must not replace, and it runs
//! only in dry runs. Templates are compared, not the parameter values a
//! change set gets: no stateful resource berth writes refers to a parameter.

use crate::apply::aws::{Ctx, Template, args};
use crate::apply::{ApplyError, StackArtifact};
use crate::diff::render::risk_cause;
use crate::diff::table::Table;
use crate::diff::template::compare;
use crate::diff::{AtRisk, FileStatus, Impact, ResourceChange, StackChange, Target};

/// What an existing stack becomes.
pub(crate) enum After<'a> {
    /// Updated to the artifact of `out/` (`berth apply`).
    Artifact(&'a StackArtifact),
    /// Deleted (`berth destroy`).
    Deleted,
}

impl After<'_> {
    /// What still stands between the dry run's list and the data: said
    /// when berth cannot make the list.
    fn gate(&self) -> &'static str {
        match self {
            After::Artifact(_) => "; the change set's own answer still gates the real apply",
            After::Deleted => "",
        }
    }
}

/// Says that a stack the change set creates puts no data at risk.
pub(crate) fn created(ctx: &mut Ctx<'_>, name: &str) {
    ctx.ui.say(&format!(
        "# no data at risk in `{name}`: its change set creates the stack, so it only adds"
    ));
}

/// Reads the deployed template of the existing stack `name`, compares it
/// with what the stack becomes, and prints the data at risk.
pub(crate) fn report(ctx: &mut Ctx<'_>, name: &str, after: &After<'_>) -> Result<(), ApplyError> {
    let command = args([
        "cloudformation",
        "get-template",
        "--stack-name",
        name,
        "--template-stage",
        "Original",
    ]);
    ctx.print(&command);
    let body = match ctx.try_call(&command)? {
        Ok(stdout) => Some(ctx.parse::<Template>(&command, &stdout)?.template_body),
        // Deleted since `describe-stacks`: nothing is deployed.
        Err(failure) if failure.is_missing_stack() => None,
        Err(failure) => {
            return Err(ApplyError::Aws {
                command: ctx.shown(&command, false),
                message: failure.message,
            });
        }
    };
    let before = match body {
        None => None,
        Some(None) => {
            cannot(
                ctx,
                name,
                "`get-template` returned no `TemplateBody`",
                after,
            );
            return Ok(());
        }
        Some(Some(serde_json::Value::String(text))) => {
            if serde_json::from_str::<serde_json::Value>(&text).is_err() {
                let reason = "its deployed template is not JSON (YAML, or a template deployed by other means than berth)";
                cannot(ctx, name, reason, after);
                return Ok(());
            }
            Some(text)
        }
        Some(Some(value)) => Some(value.to_string()),
    };
    let (path, text) = match after {
        After::Artifact(stack) => (stack.template_path.as_str(), Some(stack.text.as_str())),
        After::Deleted => (name, None),
    };
    let status = match (&before, after) {
        (None, _) => FileStatus::Added,
        (Some(_), After::Deleted) => FileStatus::Removed,
        (Some(_), After::Artifact(_)) => FileStatus::Changed,
    };
    let (resources, unreadable) = compare(before.as_deref(), text, Table::builtin());
    if let Some(reason) = unreadable {
        cannot(ctx, name, &reason, after);
        return Ok(());
    }
    let change = StackChange {
        path: path.strip_prefix("out/").unwrap_or(path).to_owned(),
        target: Target::CloudFormation,
        stack: Some(name.to_owned()),
        status,
        resources,
        unreadable: None,
    };
    // `berth diff`'s order: what will fail, then the data at risk.
    let fails = at(&change, Impact::WillFail);
    let risks = at(&change, Impact::DataLoss);
    for risk in &fails {
        ctx.ui.say(&format!(
            "# will fail in `{name}`: {}: {}",
            resource(risk.resource),
            risk_cause(risk)
        ));
    }
    for risk in &risks {
        ctx.ui.say(&format!(
            "# data at risk in `{name}`: {} {}",
            resource(risk.resource),
            risk_cause(risk)
        ));
    }
    if fails.is_empty() && risks.is_empty() {
        let why = match (status, after) {
            (FileStatus::Added, After::Artifact(_)) => {
                "it does not exist any more, so its change set creates it and only adds".to_owned()
            }
            (FileStatus::Added, After::Deleted) => "it does not exist any more".to_owned(),
            (_, After::Deleted) => {
                "by berth's diff of its deployed template, deleting it destroys no stateful resource"
                    .to_owned()
            }
            (_, After::Artifact(stack)) => format!(
                "berth's diff of its deployed template and {} replaces or removes no stateful resource",
                stack.template_path
            ),
        };
        ctx.ui.say(&format!("# no data at risk in `{name}`: {why}"));
    }
    Ok(())
}

/// The stateful resources of a stack change with `impact`: the data at
/// risk, or the changes to them CloudFormation refuses.
fn at(change: &StackChange, impact: Impact) -> Vec<AtRisk<'_>> {
    change
        .resources
        .iter()
        .filter(|r| r.stateful && r.impact == impact)
        .map(|resource| AtRisk {
            stack: change,
            resource,
        })
        .collect()
}

/// `` `Database` (AWS::RDS::DBInstance) ``.
fn resource(r: &ResourceChange) -> String {
    format!("`{}` ({})", r.logical_id, r.resource_type)
}

/// Warns that the list cannot be made for one stack; the dry run goes on.
fn cannot(ctx: &mut Ctx<'_>, name: &str, reason: &str, after: &After<'_>) {
    ctx.ui.say(&format!(
        "# warning: berth cannot list the data at risk in `{name}`: {reason}{}",
        after.gate()
    ));
}
