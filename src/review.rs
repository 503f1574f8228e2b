//! Review apps: one short-lived heritage per branch or pull request, made
//! from an instance's `review:` section, a review name and an image tag.
//!
//! The meaning is Barcelona's (degica/barcelona `app/models/review_app.rb`,
//! `app/models/review_group.rb`): a review app of group `G` named `N` runs
//! the section's services with the image at the given tag, answers on
//! `N.<G's base domain>` through a host rule on `G`'s endpoint, and has no
//! stateful resources. berth names its heritage `review-N`, so its stacks are
//! `<district>-review-N-data` (roles and log group only) and
//! `<district>-review-N-app`, and checks it together with the fleet, so its
//! rule priority and quotas are those of the district it joins.
//!
//! This module builds and renders; it must not print, write or call AWS
//! (`berth review deploy` hands the rendering to [`crate::apply`]).

use std::collections::BTreeMap;
use std::path::Path;

use crate::check::rules::is_name;
use crate::check::{Checked, CheckedFleet};
use crate::compiler::RenderFailure;
use crate::diagnostic::{Diagnostic, Sources};
use crate::emit;
use crate::model::{self, Fleet, Heritage};
use crate::plan;
use crate::render::Renderer;
use crate::schema::{Environment, InstanceFile, Listener, ServiceType};

/// The prefix of a review app's heritage name, and so of its stacks after
/// the district's name.
pub const PREFIX: &str = "review-";

/// The longest review name: `review-<name>` is a heritage name, at most 32
/// characters like every heritage's (the schema's limit, which keeps stack,
/// role and target group names within AWS's).
pub const MAX_NAME: usize = 32 - PREFIX.len();

/// Why a review app could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(
        "review name `{0}` is invalid\n  help: use letters, digits and `-`, 2 to {MAX_NAME} characters, starting and ending with a letter or digit (e.g. a branch name `fix/login` as `fix-login`)"
    )]
    Name(String),
    #[error(
        "no heritage is named `{0}`\n  help: name an environment's `name`, e.g. one `berth explain` shows"
    )]
    NoHeritage(String),
    #[error(
        "`{file}` has no `review:` section\n  help: add `review: {{group: <group>, services: [...]}}` to it (see the README's `berth review`)"
    )]
    NoSection { file: String },
    #[error(
        "review group `{group}` is not in `{district}`'s district file\n  help: add `review_groups: {{{group}: {{endpoint: <endpoint>, domain: <domain>}}}}` to `instances/{district}/district.yml`"
    )]
    NoGroup { group: String, district: String },
    #[error(
        "a heritage named `{0}` already exists in the fleet\n  help: choose another review name"
    )]
    Taken(String),
    #[error("the review app does not fit the fleet")]
    Diagnostics(Vec<Diagnostic>),
    #[error("{0}")]
    Render(#[from] RenderFailure),
}

/// A review app: its district, its heritage and the fleet it was checked in.
#[derive(Debug)]
pub struct ReviewApp {
    pub name: String,
    pub district: String,
    pub heritage: Heritage,
    /// The fleet with only the review app's district, holding only the
    /// review heritage (what is rendered).
    pub fleet: Fleet,
}

impl ReviewApp {
    /// The review app's app stack.
    #[must_use]
    pub fn app_stack(&self) -> String {
        plan::app_stack(&self.district, &self.heritage.name)
    }

    /// The review app's data stack.
    #[must_use]
    pub fn data_stack(&self) -> String {
        plan::data_stack(&self.district, &self.heritage.name)
    }
}

/// Checks a review name: a heritage-name part short enough for `review-<name>`.
pub fn check_name(name: &str) -> Result<(), ReviewError> {
    if is_name(name) && name.len() <= MAX_NAME {
        Ok(())
    } else {
        Err(ReviewError::Name(name.to_owned()))
    }
}

/// Makes the review app `name` of the instance holding heritage `heritage`,
/// with image tag `tag`, and checks it with the rest of the fleet.
pub fn build(
    fleet: &CheckedFleet,
    sources: &Sources,
    heritage: &str,
    name: &str,
    tag: &str,
) -> Result<ReviewApp, ReviewError> {
    check_name(name)?;
    let review_heritage = format!("{PREFIX}{name}");
    let mut fleet = fleet.clone();
    let taken = fleet
        .districts
        .iter()
        .flat_map(|d| &d.instances)
        .flat_map(|i| i.spec.environments.values())
        .any(|e| e.name == review_heritage);
    if taken {
        return Err(ReviewError::Taken(review_heritage));
    }
    let (district_index, instance) = fleet
        .districts
        .iter()
        .enumerate()
        .find_map(|(d, district)| {
            district
                .instances
                .iter()
                .find(|i| i.spec.environments.values().any(|e| e.name == heritage))
                .map(|i| (d, i.clone()))
        })
        .ok_or_else(|| ReviewError::NoHeritage(heritage.to_owned()))?;
    let district = &fleet.districts[district_index];
    let Some(review) = &instance.spec.review else {
        return Err(ReviewError::NoSection {
            file: sources.path(instance.file).to_owned(),
        });
    };
    let group = district
        .district
        .as_ref()
        .and_then(|d| d.spec.review_groups.get(&review.group))
        .ok_or_else(|| ReviewError::NoGroup {
            group: review.group.clone(),
            district: district.name.clone(),
        })?;
    let source_env = instance
        .spec
        .environments
        .values()
        .find(|e| e.name == heritage)
        .expect("found above");
    let host = format!("{name}.{}", group.domain);
    let services = review
        .services
        .iter()
        .map(|service| {
            let mut service = service.clone();
            if service.service_type == Some(ServiceType::Web) {
                let listener: Listener = serde_json::from_value(serde_json::json!({
                    "endpoint": group.endpoint,
                    "hosts": [host],
                }))
                .expect("a listener of an endpoint and a host");
                service.listeners = vec![listener];
            }
            service
        })
        .collect();
    // The section's image, else the heritage's (Barcelona's `bcn review`
    // requires `image_name`; berth falls back so a section can be short).
    let image_name = match &review.image_name {
        Some(image) => serde_json::to_value(image).expect("a string serializes"),
        None => serde_json::to_value(&source_env.image_name).expect("an image name serializes"),
    };
    let mut environment: Environment = serde_json::from_value(serde_json::json!({
        "name": review_heritage,
        "image_name": image_name,
        "image_tag": tag,
    }))
    .map_err(|_| ReviewError::Name(name.to_owned()))?;
    environment.environment.clone_from(&review.environment);
    environment.services = services;
    let key = review_heritage.clone();
    let spec = InstanceFile {
        environments: std::iter::once((key, environment)).collect(),
        // No data unless the section asks: the instance's resources are the
        // environments' own, not the review app's.
        resources: None,
        review: None,
        bcnd: None,
    };
    let checked = Checked {
        file: instance.file,
        stem: instance.stem.clone(),
        root: instance.root.clone(),
        spec,
        shadowed: Vec::new(),
    };
    let district_name = district.name.clone();
    fleet.districts[district_index].instances.push(checked);
    let (mut resolved, diagnostics) = model::resolve(&fleet, sources);
    let errors: Vec<_> = diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    if !errors.is_empty() {
        return Err(ReviewError::Diagnostics(errors));
    }
    resolved.districts.retain(|d| d.name == district_name);
    for district in &mut resolved.districts {
        district.heritages.retain(|h| h.name == review_heritage);
    }
    let heritage = resolved.districts[0].heritages[0].clone();
    Ok(ReviewApp {
        name: name.to_owned(),
        district: district_name,
        heritage,
        fleet: resolved,
    })
}

/// Renders a review app's CloudFormation artifacts with the fleet's
/// renderer and templates: the files of `out/review/<name>/`, keyed by path
/// under that folder, with their own manifest. Only the heritage's stacks:
/// never the district's (a review app does not change it), and no Terraform
/// (review apps are deployed by `berth review deploy`).
pub fn render(app: &ReviewApp, root: &Path) -> Result<BTreeMap<String, String>, ReviewError> {
    let renderer =
        Renderer::new(&root.join("templates")).map_err(|e| ReviewError::Render(e.into()))?;
    let prefix = format!("{}/{}/", app.district, app.heritage.name);
    let mut units = plan::plan(&app.fleet);
    for unit in &mut units {
        unit.artifacts
            .retain(|a| a.path.starts_with(&prefix) && a.kind.starts_with("cloudformation"));
    }
    units.retain(|u| !u.artifacts.is_empty());
    let done = renderer
        .render_all(&units, &crate::render::Previous::none())
        .map_err(|e| ReviewError::Render(RenderFailure::Artifacts(e)))?;
    let artifacts: Vec<_> = units.into_iter().flat_map(|u| u.artifacts).collect();
    Ok(emit::files(&artifacts, done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for (name, ok) in [
            ("pr-42", true),
            ("fix-login", true),
            (&"x".repeat(MAX_NAME), true),
            (&"x".repeat(MAX_NAME + 1), false),
            ("a", false),
            ("-a", false),
            ("a-", false),
            ("fix/login", false),
            ("Bad_Name", false),
        ] {
            assert_eq!(check_name(name).is_ok(), ok, "{name}");
        }
    }
}
