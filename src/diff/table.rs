//! The replacement table: per resource type, the properties whose change
//! makes CloudFormation replace the resource.
//!
//! `create_only.json` is generated from the resource provider schemas of the
//! pinned cfn-lint by `scripts/generate-replacement-table` (the test run
//! checks it is current) and built into the binary. `overrides.json` is
//! reviewed by hand: where a schema calls a property conditionally
//! create-only but the CloudFormation documentation says plainly what an
//! update does ("Update requires: Replacement", "No interruption"), a row
//! with that page settles it. The overrides apply on top of the generated
//! table, so regenerating never loses them.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// The generated table, as committed.
pub const CREATE_ONLY_JSON: &str = include_str!("create_only.json");

/// The reviewed corrections, as committed.
pub const OVERRIDES_JSON: &str = include_str!("overrides.json");

/// A property path of a schema, below `/properties`: keys, with `*` for
/// every item of an array.
pub type SchemaPath = Vec<String>;

/// Create-only properties by resource type.
#[derive(Debug, Default)]
pub struct Table {
    types: BTreeMap<String, Entry>,
}

/// The create-only properties of one type.
#[derive(Debug, Default)]
pub struct Entry {
    pub create_only: Vec<SchemaPath>,
    pub conditional: Vec<SchemaPath>,
}

#[derive(Deserialize)]
struct Document {
    types: BTreeMap<String, RawEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    create_only_properties: Vec<String>,
    conditional_create_only_properties: Vec<String>,
}

/// The overrides file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Overrides {
    #[allow(dead_code, reason = "documentation for the reader of the file")]
    about: String,
    overrides: Vec<Override>,
}

/// One reviewed correction of the generated table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// The resource type, e.g. `AWS::RDS::DBInstance`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// A top-level property, e.g. `Engine`.
    pub property: String,
    pub replacement: Verdict,
    /// What the documentation says under "Update requires".
    pub update_requires: String,
    /// The documentation page that says it.
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// What a change of an overridden property does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Always replaces the resource.
    Always,
    /// Updates it in place (with or without interruption).
    Never,
}

static BUILTIN: LazyLock<Table> = LazyLock::new(|| {
    let mut table = Table::parse(CREATE_ONLY_JSON).expect("the committed table parses");
    for row in overrides() {
        table.apply(&row);
    }
    table
});

/// The reviewed overrides built into berth.
#[must_use]
pub fn overrides() -> Vec<Override> {
    let file: Overrides =
        serde_json::from_str(OVERRIDES_JSON).expect("the committed overrides parse");
    file.overrides
}

impl Table {
    /// The table built into berth.
    #[must_use]
    pub fn builtin() -> &'static Self {
        &BUILTIN
    }

    /// Reads a table in the format of `create_only.json`.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        let document: Document = serde_json::from_str(text)?;
        let paths = |raw: Vec<String>| raw.iter().filter_map(|p| schema_path(p)).collect();
        Ok(Self {
            types: document
                .types
                .into_iter()
                .map(|(name, raw)| {
                    let entry = Entry {
                        create_only: paths(raw.create_only_properties),
                        conditional: paths(raw.conditional_create_only_properties),
                    };
                    (name, entry)
                })
                .collect(),
        })
    }

    /// Applies one override: the property leaves both lists, and goes into
    /// the create-only one when it always replaces.
    pub fn apply(&mut self, row: &Override) {
        let entry = self.types.entry(row.resource_type.clone()).or_default();
        let path = vec![row.property.clone()];
        entry.create_only.retain(|p| *p != path);
        entry.conditional.retain(|p| *p != path);
        if row.replacement == Verdict::Always {
            entry.create_only.push(path);
        }
    }

    /// The entry of a resource type, if the table knows it.
    #[must_use]
    pub fn get(&self, resource_type: &str) -> Option<&Entry> {
        self.types.get(resource_type)
    }
}

/// `/properties/Foo/*/Bar` → `["Foo", "*", "Bar"]`; paths outside
/// `/properties` are not property paths.
fn schema_path(pointer: &str) -> Option<SchemaPath> {
    let rest = pointer.strip_prefix("/properties/")?;
    Some(
        rest.split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_table_knows_what_berth_emits() {
        let table = Table::builtin();
        let target_group = table
            .get("AWS::ElasticLoadBalancingV2::TargetGroup")
            .unwrap();
        assert!(target_group.create_only.contains(&vec!["Port".to_owned()]));
        let database = table.get("AWS::RDS::DBInstance").unwrap();
        assert!(database.create_only.contains(&vec!["DBName".to_owned()]));
        assert!(
            !database
                .create_only
                .contains(&vec!["DBInstanceClass".to_owned()])
        );
        let repository = table.get("AWS::ECR::Repository").unwrap();
        assert!(repository.create_only.contains(&vec![
            "EncryptionConfiguration".to_owned(),
            "KmsKey".to_owned()
        ]));
    }

    #[test]
    fn overrides_settle_what_the_documentation_settles() {
        let table = Table::builtin();
        let database = table.get("AWS::RDS::DBInstance").unwrap();
        let engine = vec!["Engine".to_owned()];
        assert!(database.create_only.contains(&engine));
        assert!(!database.conditional.contains(&engine));
        for update in ["MultiAZ", "BackupRetentionPeriod"] {
            let path = vec![update.to_owned()];
            assert!(!database.create_only.contains(&path), "{update}");
            assert!(!database.conditional.contains(&path), "{update}");
        }
        let service = table.get("AWS::ECS::Service").unwrap();
        assert!(service.create_only.contains(&vec!["LaunchType".to_owned()]));
        let group = table.get("AWS::AutoScaling::AutoScalingGroup").unwrap();
        assert!(
            !group
                .conditional
                .contains(&vec!["LaunchTemplate".to_owned()])
        );
    }

    #[test]
    fn every_override_cites_the_documentation_and_changes_the_generated_table() {
        let generated = Table::parse(CREATE_ONLY_JSON).unwrap();
        for row in overrides() {
            assert!(
                row.source
                    .starts_with("https://docs.aws.amazon.com/AWSCloudFormation/"),
                "{row:?}"
            );
            assert!(!row.update_requires.is_empty(), "{row:?}");
            let entry = generated.get(&row.resource_type).unwrap();
            let path = vec![row.property.clone()];
            let already = match row.replacement {
                Verdict::Always => {
                    entry.create_only.contains(&path) && !entry.conditional.contains(&path)
                }
                Verdict::Never => {
                    !entry.create_only.contains(&path) && !entry.conditional.contains(&path)
                }
            };
            assert!(!already, "the generated table already says this: {row:?}");
        }
    }

    #[test]
    fn schema_paths() {
        assert_eq!(
            schema_path("/properties/Foo/*/Bar"),
            Some(vec!["Foo".to_owned(), "*".to_owned(), "Bar".to_owned()])
        );
        assert_eq!(
            schema_path("/properties/A~1B"),
            Some(vec!["A/B".to_owned()])
        );
        assert_eq!(schema_path("/definitions/X"), None);
    }
}
