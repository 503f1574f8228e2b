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
            "schema/{name}.schema.json is stale: run `cargo run -- schema --write schema`"
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

/// Every instance file berth accepts, as an editor reads it (YAML 1.2:
/// `yes` is a string, an empty key is `null`), against the published schema,
/// top-level template holders (`web_base: &web_base`) included.
fn editor_errors(root: &std::path::Path) -> Vec<String> {
    let schema = json_schema(SchemaKind::Instance);
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let loaded = berth::load::load(root).unwrap();
    let mut errors = Vec::new();
    for file in loaded.districts.iter().flat_map(|d| &d.instances) {
        let json = file.root.to_json();
        for error in validator.iter_errors(&json) {
            errors.push(format!(
                "{}: {} at {}",
                loaded.sources.path(file.file),
                error,
                error.instance_path()
            ));
        }
    }
    errors
}

#[test]
fn editors_accept_every_instance_file_berth_accepts() {
    let mut roots = vec![repo()];
    roots.extend(
        crate::support::fleet_outs()
            .iter()
            .filter_map(|out| out.parent().map(std::path::Path::to_path_buf))
            .filter(|root| root != &repo()),
    );
    let mut checked = 0;
    for root in &roots {
        assert_eq!(
            crate::support::run_in(&repo(), &["--root", root.to_str().unwrap(), "validate"]).code,
            0,
            "{}",
            root.display()
        );
        let errors = editor_errors(root);
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        checked += 1;
    }
    assert!(checked >= 8, "checked only {checked} fleets");
}

#[test]
fn editors_refuse_what_berth_refuses() {
    let app = "environments:\n  production:\n    name: app\n    image_name: registry.example/app\n    services:\n      - name: web\n";
    for (case, text) in [
        (
            "typo",
            app.replace(
                "      - name: web\n",
                "      - name: web\n        listners: []\n",
            ),
        ),
        (
            "boolean",
            app.replace(
                "      - name: web\n",
                "      - name: web\n        force_ssl: maybe\n",
            ),
        ),
        ("empty required key", app.replace("name: app", "name:")),
    ] {
        let fleet = crate::support::Fleet::new().file("instances/mstdn/app.yml", &text);
        assert_eq!(fleet.run(&["validate"]).code, 1, "{case}: berth accepts it");
        assert!(
            !editor_errors(fleet.path()).is_empty(),
            "{case}: the schema accepts it"
        );
    }
}

/// A fleet whose files name `schema/` as a user's repository does.
fn fleet_naming_its_schemas() -> crate::support::Fleet {
    let district = format!(
        "# yaml-language-server: $schema=../../schema/district.schema.json\n{}",
        crate::support::DISTRICT
    );
    let app = format!(
        "# yaml-language-server: $schema=../../schema/instance.schema.json\n{}",
        crate::validate::APP
    );
    crate::support::Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .file("instances/mstdn/app.yml", &app)
}

#[test]
fn schema_write_writes_both_schemas() {
    let fleet = fleet_naming_its_schemas();
    let output = fleet.run(&[
        "schema",
        "--write",
        &fleet.path().join("schema").display().to_string(),
    ]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    for (kind, name) in [
        (SchemaKind::Instance, "instance"),
        (SchemaKind::District, "district"),
    ] {
        let written =
            std::fs::read_to_string(fleet.path().join(format!("schema/{name}.schema.json")))
                .unwrap();
        assert_eq!(written, berth::editor::schema_text(kind));
        assert_eq!(
            written,
            std::fs::read_to_string(repo().join(format!("schema/{name}.schema.json"))).unwrap()
        );
    }
}

#[test]
fn build_check_finds_missing_and_stale_schemas() {
    let fleet = fleet_naming_its_schemas();
    assert_eq!(fleet.run(&["build"]).code, 0);
    let output = fleet.run(&["build", "--check"]);
    assert_eq!(
        (output.code, output.stderr.as_str()),
        (
            2,
            "  missing: schema/instance.schema.json (named by the `$schema=` line of `instances/mstdn/app.yml`)\n  \
             missing: schema/district.schema.json (named by the `$schema=` line of `instances/mstdn/district.yml`)\n\
             the schemas editors check your files against are not this berth's: run `berth schema --write schema` and commit the result\n"
        )
    );
    let schema_dir = fleet.path().join("schema");
    assert_eq!(
        fleet
            .run(&["schema", "--write", schema_dir.to_str().unwrap()])
            .code,
        0
    );
    let output = fleet.run(&["build", "--check"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    // An older berth's schema: one description differs.
    let path = schema_dir.join("instance.schema.json");
    let old = std::fs::read_to_string(&path).unwrap().replacen(
        "Each environment",
        "Every environment",
        1,
    );
    std::fs::write(&path, old).unwrap();
    let output = fleet.run(&["build", "--check"]);
    assert_eq!(output.code, 2);
    assert!(
        output.stderr.starts_with(
            "  stale: schema/instance.schema.json (named by the `$schema=` line of `instances/mstdn/app.yml`)\n"
        ),
        "{}",
        output.stderr
    );
    // A schema of the user's own is not berth's to judge.
    std::fs::write(&path, "{\"title\": \"our own\"}\n").unwrap();
    assert_eq!(fleet.run(&["build", "--check"]).code, 0);
}
