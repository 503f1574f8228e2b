//! JSON values as CloudFormation sees them: equality that ignores how a
//! scalar is spelled (`10` is `"10"`, `true` is `"true"`), property paths,
//! the changed leaves between two values, and the names a value refers to.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

/// One step into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path into a resource, e.g. `Properties` → `Command` → `0`.
pub type Path = Vec<Segment>;

/// A changed leaf: where, the value before and after (`None` when absent).
pub type Leaf = (Path, Option<Value>, Option<Value>);

/// Whether CloudFormation sees the two values as the same: scalars compare
/// by their text, so `10` equals `"10"` and `true` equals `"true"`.
#[must_use]
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|other| same(v, other)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Null, Value::Null) => true,
        _ => match (scalar(a), scalar(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `ContainerDefinitions[0].Command[4]`: keys joined by dots, indexes in
/// brackets, keys that are not plain words quoted.
#[must_use]
pub fn display(path: &[Segment]) -> String {
    let mut text = String::new();
    for segment in path {
        match segment {
            Segment::Index(i) => {
                let _ = write!(text, "[{i}]");
            }
            Segment::Key(k)
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':')) =>
            {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(k);
            }
            Segment::Key(k) => {
                let _ = write!(text, "[{}]", Value::String(k.clone()));
            }
        }
    }
    text
}

/// Collects the leaves that differ between `before` and `after` under
/// `path`. Objects are compared key by key, arrays item by item (extra items
/// are added or removed) unless they are lists of scalars of different
/// lengths, which are one leaf; anything else is one leaf.
pub fn changes(before: &Value, after: &Value, path: &mut Path, out: &mut Vec<Leaf>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                path.push(Segment::Key(key.clone()));
                match (b.get(key), a.get(key)) {
                    (Some(x), Some(y)) => changes(x, y, path, out),
                    (x, y) => out.push((path.clone(), x.cloned(), y.cloned())),
                }
                path.pop();
            }
        }
        // A list of words (a command) that grows or shrinks reads best whole.
        (Value::Array(b), Value::Array(a))
            if b.len() != a.len() && b.iter().chain(a).all(|v| scalar(v).is_some()) =>
        {
            out.push((path.clone(), Some(before.clone()), Some(after.clone())));
        }
        (Value::Array(b), Value::Array(a)) => {
            for i in 0..b.len().max(a.len()) {
                path.push(Segment::Index(i));
                match (b.get(i), a.get(i)) {
                    (Some(x), Some(y)) => changes(x, y, path, out),
                    (x, y) => out.push((path.clone(), x.cloned(), y.cloned())),
                }
                path.pop();
            }
        }
        _ if same(before, after) => {}
        _ => out.push((path.clone(), Some(before.clone()), Some(after.clone()))),
    }
}

/// The values at a schema path (`*` = every array item); `None` where the
/// path leads nowhere.
#[must_use]
pub fn select<'a>(value: &'a Value, schema: &[String]) -> Vec<Option<&'a Value>> {
    let mut current = vec![Some(value)];
    for step in schema {
        current = current
            .into_iter()
            .flat_map(|v| match (v, step.as_str()) {
                (Some(Value::Array(items)), "*") => items.iter().map(Some).collect(),
                (Some(Value::Object(map)), key) => vec![map.get(key)],
                _ => vec![None],
            })
            .collect();
    }
    current
}

/// Whether two selections hold the same values.
#[must_use]
pub fn same_selection(a: &[Option<&Value>], b: &[Option<&Value>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => same(x, y),
            (None, None) => true,
            _ => false,
        })
}

/// Whether a path and a schema path overlap: one lies inside the other.
#[must_use]
pub fn overlaps(path: &[Segment], schema: &[String]) -> bool {
    path.iter()
        .zip(schema)
        .all(|(segment, step)| match segment {
            Segment::Key(k) => k == step,
            Segment::Index(_) => step == "*",
        })
}

/// Every intrinsic function in `value` (`Ref`, `Fn::GetAtt`, `Fn::Sub`, and
/// any other `Fn::` wrapping those) with the logical names it refers to,
/// keyed by the intrinsic's path. Pseudo parameters (`AWS::Region`) are left
/// out.
pub fn references(value: &Value, path: &mut Path, out: &mut Vec<(Path, BTreeSet<String>)>) {
    match value {
        Value::Object(map) if map.len() == 1 && is_intrinsic(map.keys().next()) => {
            let mut names = BTreeSet::new();
            names_in(value, &mut names);
            names.retain(|n| !n.starts_with("AWS::"));
            if !names.is_empty() {
                out.push((path.clone(), names));
            }
        }
        Value::Object(map) => {
            for (key, v) in map {
                path.push(Segment::Key(key.clone()));
                references(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Segment::Index(i));
                references(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn is_intrinsic(key: Option<&String>) -> bool {
    key.is_some_and(|k| k == "Ref" || k.starts_with("Fn::"))
}

fn names_in(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next().expect("one entry");
            match (key.as_str(), arg) {
                ("Ref", Value::String(name)) => {
                    names.insert(name.clone());
                }
                ("Fn::GetAtt", Value::Array(items)) => {
                    if let Some(Value::String(name)) = items.first() {
                        names.insert(name.clone());
                        // The attribute too, for attributes an update changes.
                        if let Some(Value::String(attribute)) = items.get(1) {
                            names.insert(format!("{name}.{attribute}"));
                        }
                    }
                }
                ("Fn::GetAtt", Value::String(dotted)) => {
                    names.insert(dotted.split('.').next().unwrap_or(dotted).to_owned());
                }
                ("Fn::Sub", Value::String(text)) => sub_names(text, &[], names),
                ("Fn::Sub", Value::Array(items)) => {
                    let vars: Vec<&str> = items
                        .get(1)
                        .and_then(Value::as_object)
                        .map(|m| m.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    if let Some(Value::String(text)) = items.first() {
                        sub_names(text, &vars, names);
                    }
                    if let Some(map) = items.get(1).and_then(Value::as_object) {
                        for v in map.values() {
                            names_in(v, names);
                        }
                    }
                }
                _ => names_in(arg, names),
            }
        }
        Value::Object(map) => {
            for v in map.values() {
                names_in(v, names);
            }
        }
        Value::Array(items) => {
            for v in items {
                names_in(v, names);
            }
        }
        _ => {}
    }
}

/// Names in `${Name}` and `${Name.Attribute}` of an `Fn::Sub` string, except
/// `${!Literal}` and the function's own variables.
fn sub_names(text: &str, vars: &[&str], names: &mut BTreeSet<String>) {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let inner = &rest[..end];
        rest = &rest[end + 1..];
        if inner.starts_with('!') {
            continue;
        }
        let name = inner.split('.').next().unwrap_or(inner).trim();
        if !name.is_empty() && !vars.contains(&name) {
            names.insert(name.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scalars_compare_as_cloudformation_sees_them() {
        for (a, b, equal) in [
            (json!(10), json!("10"), true),
            (json!(true), json!("true"), true),
            (json!("false"), json!(false), true),
            (json!(10), json!(11), false),
            (json!({"A": [1, "2"]}), json!({"A": ["1", 2]}), true),
            (json!([1]), json!([1, 1]), false),
            (json!(null), json!("null"), false),
            (json!({"A": 1}), json!({"A": 1, "B": 2}), false),
        ] {
            assert_eq!(same(&a, &b), equal, "{a} vs {b}");
        }
    }

    fn leaves(before: &Value, after: &Value) -> Vec<String> {
        let mut out = Vec::new();
        changes(before, after, &mut Vec::new(), &mut out);
        out.iter()
            .map(|(p, b, a)| {
                let show = |v: &Option<Value>| v.as_ref().map_or("-".to_owned(), Value::to_string);
                format!("{}: {} -> {}", display(p), show(b), show(a))
            })
            .collect()
    }

    #[test]
    fn changes_are_leaves() {
        let before = json!({"Port": 3000, "Command": ["a", "b"], "Tags": [{"Key": "k"}], "Old": 1});
        let after = json!({"Port": "3000", "Command": ["a", "c", "d"], "Tags": [{"Key": "k"}], "New": {"x": 1}});
        assert_eq!(
            leaves(&before, &after),
            [
                "Command: [\"a\",\"b\"] -> [\"a\",\"c\",\"d\"]",
                "New: - -> {\"x\":1}",
                "Old: 1 -> -",
            ]
        );
        let before = json!({"Command": ["a", "b"], "Items": [{"A": 1}]});
        let after = json!({"Command": ["a", "c"], "Items": [{"A": 1}, {"A": 2}]});
        assert_eq!(
            leaves(&before, &after),
            ["Command[1]: \"b\" -> \"c\"", "Items[1]: - -> {\"A\":2}"]
        );
    }

    #[test]
    fn paths_display_like_code() {
        let path = vec![
            Segment::Key("ContainerDefinitions".into()),
            Segment::Index(0),
            Segment::Key("Options".into()),
            Segment::Key("awslogs-group".into()),
            Segment::Key("a.b".into()),
        ];
        assert_eq!(
            display(&path),
            "ContainerDefinitions[0].Options.awslogs-group[\"a.b\"]"
        );
    }

    #[test]
    fn selections_follow_schema_paths() {
        let value = json!({"A": [{"B": 1}, {"B": 2}, {}], "C": {"D": "x"}});
        let path = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            select(&value, &path(&["A", "*", "B"])),
            [Some(&json!(1)), Some(&json!(2)), None]
        );
        assert_eq!(select(&value, &path(&["C", "D"])), [Some(&json!("x"))]);
        assert_eq!(select(&value, &path(&["Z", "D"])), [None]);
        let renamed = json!({"A": [{"B": "1"}, {"B": 2}, {}], "C": {"D": "x"}});
        assert!(same_selection(
            &select(&value, &path(&["A", "*", "B"])),
            &select(&renamed, &path(&["A", "*", "B"]))
        ));
    }

    #[test]
    fn overlapping_paths() {
        let path = vec![
            Segment::Key("A".into()),
            Segment::Index(3),
            Segment::Key("B".into()),
        ];
        let schema = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(overlaps(&path, &schema(&["A"])));
        assert!(overlaps(&path, &schema(&["A", "*", "B", "C"])));
        assert!(!overlaps(&path, &schema(&["A", "*", "X"])));
        assert!(!overlaps(&path, &schema(&["Z"])));
    }

    #[test]
    fn references_name_resources_and_parameters() {
        let value = json!({
            "A": {"Ref": "Image"},
            "B": [{"Fn::GetAtt": ["Role", "Arn"]}, {"Fn::GetAtt": "Other.Arn"}],
            "C": {"Fn::Sub": "arn:${AWS::Partition}:x:${Bucket}/${Queue.Arn}/${!Literal}"},
            "D": {"Fn::Sub": ["${Cluster}-${Thing}", {"Cluster": {"Fn::ImportValue": "x"}}]},
            "E": {"Fn::Join": ["", [{"Ref": "AWS::Region"}, {"Ref": "Log"}]]},
            "F": {"Ref": "AWS::Region"},
        });
        let mut out = Vec::new();
        references(&value, &mut Vec::new(), &mut out);
        let found: Vec<String> = out
            .iter()
            .map(|(p, names)| format!("{}: {names:?}", display(p)))
            .collect();
        assert_eq!(
            found,
            [
                "A: {\"Image\"}",
                "B[0]: {\"Role\", \"Role.Arn\"}",
                "B[1]: {\"Other\"}",
                "C: {\"Bucket\", \"Queue\"}",
                "D: {\"Thing\"}",
                "E: {\"Log\"}",
            ]
        );
    }
}
