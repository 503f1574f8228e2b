//! The replacement table: per resource type, the properties whose change
//! makes CloudFormation replace the resource.
//!
//! `create_only.json` is generated from the resource provider schemas of the
//! pinned cfn-lint by `scripts/generate-replacement-table` (the test run
//! checks it is current) and built into the binary.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// The generated table, as committed.
pub const CREATE_ONLY_JSON: &str = include_str!("create_only.json");

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

static BUILTIN: LazyLock<Table> =
    LazyLock::new(|| Table::parse(CREATE_ONLY_JSON).expect("the committed table parses"));

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
