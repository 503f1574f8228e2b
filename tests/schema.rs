//! The schemas in `schema/` are exactly what the code generates, and the
//! example files point editors at them.

use berth::schema::{SchemaKind, json_schema};

use crate::support::repo;

#[test]
fn committed_schemas_are_fresh() {
    for (kind, name) in [
        (SchemaKind::Instance, "instance"),
        (SchemaKind::District, "district"),
    ] {
        let path = repo().join(format!("schema/{name}.schema.json"));
        let committed = std::fs::read_to_string(&path).expect("schema file exists");
        let generated = format!(
            "{}\n",
            serde_json::to_string_pretty(&json_schema(kind)).unwrap()
        );
        assert!(
            committed == generated,
            "schema/{name}.schema.json is stale: run `cargo run -- schema {name} > schema/{name}.schema.json`"
        );
    }
}

#[test]
fn every_key_has_a_description() {
    fn walk(value: &serde_json::Value, path: &str, missing: &mut Vec<String>) {
        if let Some(properties) = value.get("properties").and_then(|p| p.as_object()) {
            for (key, property) in properties {
                if property.get("description").is_none() {
                    missing.push(format!("{path}/{key}"));
                }
            }
        }
        if let Some(object) = value.as_object() {
            for (key, child) in object {
                walk(child, &format!("{path}/{key}"), missing);
            }
        }
    }
    for kind in [SchemaKind::Instance, SchemaKind::District] {
        let mut missing = Vec::new();
        walk(&json_schema(kind), "", &mut missing);
        assert!(missing.is_empty(), "keys without description: {missing:?}");
    }
}

#[test]
fn example_files_name_their_schema() {
    for entry in walkdir::WalkDir::new(repo().join("instances")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "yml") {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let schema = if entry.file_name() == "district.yml" {
                "district"
            } else {
                "instance"
            };
            let first = text.lines().next().unwrap_or_default();
            assert_eq!(
                first,
                format!("# yaml-language-server: $schema=../../schema/{schema}.schema.json"),
                "{}",
                entry.path().display()
            );
        }
    }
}
