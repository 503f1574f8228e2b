//! Artifacts: what apply deploys, read from `out/` and checked against the
//! manifest (every sha256) and against the sources (what `build --check`
//! does), so that only what was built and reviewed reaches AWS.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use crate::compiler;
use crate::diagnostic::summary;
use crate::emit;

/// Why `out/` cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error(
        "cannot read `{path}`: {reason}\n  help: run `berth build` to render the fleet and its manifest"
    )]
    Manifest { path: String, reason: String },
    #[error("{}", tampered(.0))]
    Tampered(Vec<Tampered>),
    #[error("{}", stale(.0))]
    Stale(emit::Drift),
    #[error(
        "cannot check that `out/` is current: {0}\n  help: run `berth validate` and fix the fleet first"
    )]
    Sources(String),
    #[error("`{path}` is not valid: {reason}")]
    Invalid { path: String, reason: String },
}

/// An artifact that is not what the manifest says.
#[derive(Debug)]
pub struct Tampered {
    pub path: String,
    /// The sha256 of the file now; `None` when it is missing.
    pub actual: Option<String>,
    pub expected: String,
}

fn tampered(files: &[Tampered]) -> String {
    let mut text = String::from("refusing to apply: `out/` is not what `berth build` wrote\n");
    for file in files {
        match &file.actual {
            Some(actual) => {
                let _ = writeln!(
                    text,
                    "  edited: out/{}: its sha256 is {actual}, the manifest says {}",
                    file.path, file.expected
                );
            }
            None => {
                let _ = writeln!(text, "  missing: out/{}: listed in the manifest", file.path);
            }
        }
    }
    text.push_str("  help: apply deploys only what was built and reviewed: run `berth build`, review the diff and commit it");
    text
}

fn stale(drift: &emit::Drift) -> String {
    let mut text =
        String::from("refusing to apply: `out/` is stale: it is not what the sources produce\n");
    for (label, paths) in [
        ("changed", &drift.changed),
        ("missing", &drift.missing),
        ("not produced", &drift.extra),
    ] {
        for path in paths {
            let _ = writeln!(text, "  {label}: out/{path}");
        }
    }
    text.push_str("  help: run `berth build`, review the diff and commit it, then apply");
    text
}

#[derive(Debug, Deserialize)]
struct Manifest {
    version: u32,
    artifacts: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    path: String,
    kind: String,
    #[serde(default)]
    stack: Option<String>,
    sha256: String,
}

/// The parameters file of a stack: `{"Parameters": {...}, "Tags": {...}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParamsFile {
    #[serde(default)]
    parameters: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// One CloudFormation stack of `out/`.
#[derive(Debug, Clone)]
pub struct StackArtifact {
    /// The stack name, e.g. `mstdn-bcn-users-app`.
    pub name: String,
    /// The template's path from the fleet root, e.g. `out/mstdn/district.cfn.json`.
    pub template_path: String,
    pub template: serde_json::Value,
    /// The template's sha256 (hex), as the manifest has it and as checked.
    pub sha256: String,
    /// The template's size in bytes.
    pub bytes: usize,
    /// The template's text: the bytes whose sha256 was checked, which are
    /// the bytes apply hands the AWS CLI (through a [`crate::apply::PrivateCopy`]).
    pub text: String,
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

/// The artifacts of one heritage.
#[derive(Debug, Clone)]
pub struct HeritageArtifacts {
    pub district: String,
    pub name: String,
    /// `out/<district>/<heritage>/data.cfn.json`: log group, roles, stateful resources.
    pub data: Option<StackArtifact>,
    pub app: Option<StackArtifact>,
    /// `task-definitions/before-deploy.json`: its path and text.
    pub before_deploy: Option<(String, String)>,
}

/// The district stack and the heritages of one district.
#[derive(Debug, Clone)]
pub struct DistrictArtifacts {
    pub name: String,
    /// The district's region, from the `berth` metadata of its stack's
    /// template; `None` when `out/` has no district stack.
    pub region: Option<String>,
    /// The account its stacks belong to, from the same metadata, when the
    /// district names one.
    pub account_id: Option<String>,
    pub stack: Option<StackArtifact>,
    pub heritages: Vec<HeritageArtifacts>,
}

/// Every deployable artifact of `out/`, in manifest order.
#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    pub districts: Vec<DistrictArtifacts>,
    /// Every file the manifest lists, and the manifest, as read (once) and
    /// verified, by path under `out/`.
    pub files: BTreeMap<String, String>,
}

impl DistrictArtifacts {
    /// The district's stacks in deploy order: its own, then each
    /// heritage's data and app stacks.
    pub fn stacks(&self) -> impl Iterator<Item = &StackArtifact> {
        self.stack.iter().chain(
            self.heritages
                .iter()
                .flat_map(|h| h.data.iter().chain(&h.app)),
        )
    }
}

impl Artifacts {
    /// Every stack template: its `out/` path and the text that was verified.
    pub fn templates(&self) -> impl Iterator<Item = (&str, &str)> {
        self.districts
            .iter()
            .flat_map(DistrictArtifacts::stacks)
            .map(|s| (s.template_path.as_str(), s.text.as_str()))
    }

    /// Reads `root/out` and checks every artifact's sha256 against the manifest.
    pub fn read(root: &Path) -> Result<Self, ArtifactError> {
        let out = root.join("out");
        let manifest_path = format!("out/{}", emit::MANIFEST);
        let text = std::fs::read_to_string(out.join(emit::MANIFEST)).map_err(|e| {
            ArtifactError::Manifest {
                path: manifest_path.clone(),
                reason: e.to_string(),
            }
        })?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| ArtifactError::Manifest {
                path: manifest_path.clone(),
                reason: e.to_string(),
            })?;
        if manifest.version != 1 {
            return Err(ArtifactError::Manifest {
                path: manifest_path,
                reason: format!(
                    "version {} is not one this berth reads (1)",
                    manifest.version
                ),
            });
        }
        let mut texts = BTreeMap::new();
        let mut problems = Vec::new();
        for entry in &manifest.artifacts {
            match std::fs::read_to_string(out.join(&entry.path)) {
                Ok(text) => {
                    let actual = emit::sha256(&text);
                    if actual == entry.sha256 {
                        texts.insert(entry.path.clone(), text);
                    } else {
                        problems.push(Tampered {
                            path: entry.path.clone(),
                            actual: Some(actual),
                            expected: entry.sha256.clone(),
                        });
                    }
                }
                Err(_) => problems.push(Tampered {
                    path: entry.path.clone(),
                    actual: None,
                    expected: entry.sha256.clone(),
                }),
            }
        }
        if !problems.is_empty() {
            return Err(ArtifactError::Tampered(problems));
        }
        let mut artifacts = assemble(&manifest.artifacts, &texts)?;
        texts.insert(emit::MANIFEST.to_owned(), text);
        artifacts.files = texts;
        Ok(artifacts)
    }

    /// The heritage named `name`, if `out/` has it.
    #[must_use]
    pub fn heritage(&self, name: &str) -> Option<&HeritageArtifacts> {
        self.districts
            .iter()
            .flat_map(|d| &d.heritages)
            .find(|h| h.name == name)
    }
}

fn parse(path: &str, text: &str) -> Result<serde_json::Value, ArtifactError> {
    serde_json::from_str(text).map_err(|e| ArtifactError::Invalid {
        path: format!("out/{path}"),
        reason: e.to_string(),
    })
}

/// Groups the manifest's entries into districts, heritages and stacks.
fn assemble(
    entries: &[Entry],
    texts: &BTreeMap<String, String>,
) -> Result<Artifacts, ArtifactError> {
    let mut params: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for entry in entries
        .iter()
        .filter(|e| e.kind == "cloudformation-parameters")
    {
        if let Some(stack) = &entry.stack {
            params.insert(stack, (&entry.path, &texts[&entry.path]));
        }
    }
    let mut artifacts = Artifacts::default();
    for entry in entries {
        let parts: Vec<&str> = entry.path.split('/').collect();
        let district = parts[0];
        let index = if let Some(i) = artifacts.districts.iter().position(|d| d.name == district) {
            i
        } else {
            artifacts.districts.push(DistrictArtifacts {
                name: district.to_owned(),
                region: None,
                account_id: None,
                stack: None,
                heritages: Vec::new(),
            });
            artifacts.districts.len() - 1
        };
        let d = &mut artifacts.districts[index];
        let stack = || -> Result<StackArtifact, ArtifactError> {
            let name = entry.stack.clone().ok_or_else(|| ArtifactError::Invalid {
                path: "out/manifest.json".to_owned(),
                reason: format!("`{}` has no stack name", entry.path),
            })?;
            let mut stack = StackArtifact {
                template_path: format!("out/{}", entry.path),
                template: parse(&entry.path, &texts[&entry.path])?,
                sha256: entry.sha256.clone(),
                bytes: texts[&entry.path].len(),
                text: texts[&entry.path].clone(),
                parameters: BTreeMap::new(),
                tags: BTreeMap::new(),
                name,
            };
            if let Some((path, text)) = params.get(stack.name.as_str()) {
                let file: ParamsFile =
                    serde_json::from_str(text).map_err(|e| ArtifactError::Invalid {
                        path: format!("out/{path}"),
                        reason: e.to_string(),
                    })?;
                stack.parameters = file
                    .parameters
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (k, v)
                    })
                    .collect();
                stack.tags = file.tags;
            }
            Ok(stack)
        };
        match (entry.kind.as_str(), parts.as_slice()) {
            ("cloudformation-stack", [_, "district.cfn.json"]) => {
                let stack = stack()?;
                let berth = &stack.template["Metadata"]["berth"];
                d.region = berth["Region"].as_str().map(str::to_owned);
                d.account_id = berth["AccountId"].as_str().map(str::to_owned);
                d.stack = Some(stack);
            }
            ("cloudformation-stack", [_, heritage, file @ ("app.cfn.json" | "data.cfn.json")]) => {
                let stack = stack()?;
                let h = heritage_mut(d, heritage);
                if *file == "app.cfn.json" {
                    h.app = Some(stack);
                } else {
                    h.data = Some(stack);
                }
            }
            ("ecs-task-definition", [_, heritage, "task-definitions", "before-deploy.json"]) => {
                heritage_mut(d, heritage).before_deploy =
                    Some((format!("out/{}", entry.path), texts[&entry.path].clone()));
            }
            _ => {}
        }
    }
    Ok(artifacts)
}

fn heritage_mut<'a>(district: &'a mut DistrictArtifacts, name: &str) -> &'a mut HeritageArtifacts {
    if let Some(i) = district.heritages.iter().position(|h| h.name == name) {
        return &mut district.heritages[i];
    }
    district.heritages.push(HeritageArtifacts {
        district: district.name.clone(),
        name: name.to_owned(),
        data: None,
        app: None,
        before_deploy: None,
    });
    district.heritages.last_mut().expect("just pushed")
}

/// Checks that the verified files of `artifacts` are what the sources under
/// `root/instances` produce (what `berth build --check` does), comparing the
/// bytes read once by [`Artifacts::read`], not a second read of `out/`;
/// `out/` itself is only walked for files the sources do not produce.
pub fn check_fresh(root: &Path, artifacts: &Artifacts) -> Result<(), ArtifactError> {
    let analysis = compiler::analyze(root).map_err(|e| ArtifactError::Sources(e.to_string()))?;
    let Some(fleet) = &analysis.fleet else {
        return Err(ArtifactError::Sources(format!(
            "the fleet has {}",
            summary(&analysis.diagnostics)
        )));
    };
    let files = compiler::render(fleet, root).map_err(|e| ArtifactError::Sources(e.to_string()))?;
    let mut drift = emit::check(&root.join("out"), &files)
        .map_err(|e| ArtifactError::Sources(e.to_string()))?;
    drift.changed.clear();
    drift.missing.clear();
    for (path, text) in &files {
        match artifacts.files.get(path) {
            Some(verified) if verified == text => {}
            Some(_) => drift.changed.push(path.clone()),
            None => drift.missing.push(path.clone()),
        }
    }
    if drift.is_empty() {
        Ok(())
    } else {
        Err(ArtifactError::Stale(drift))
    }
}
