//! YAML text → a [`Node`] tree that remembers where every value came from.
//!
//! Built on saphyr-parser's event stream so that every key and value keeps its
//! span. Anchors, aliases and merge keys (`<<: *base`, also `<<: [*a, *b]`) are
//! resolved here, with a bound on how many nodes aliases may expand to. Only
//! the YAML 1.2 core schema is understood: `yes`/`no` are strings.
//! This module knows nothing about berth's format.

use std::collections::HashMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span as YamlSpan};

use crate::diagnostic::{Diagnostic, FileId, Span};

/// How many nodes one file may hold, aliases expanded (against "billion laughs").
pub const MAX_NODES: usize = 100_000;
/// How deep collections may nest.
pub const MAX_DEPTH: usize = 64;

/// A YAML value with its location.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    /// The node carried an anchor (`&name`) where it was written.
    pub anchored: bool,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    /// The entries of a mapping node, if it is one.
    #[must_use]
    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value under `key` of a mapping node.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|e| e.key == key)
    }

    fn size(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::size).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.size()).sum(),
            _ => 0,
        }
    }

    /// The node as JSON, for schema validation and deserialization.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Follows a JSON pointer (`/environments/production/services/0`) and returns
    /// the span that best shows it: a key for collections, the value for scalars.
    #[must_use]
    pub fn locate(&self, pointer: &str) -> Span {
        let mut node = self;
        let mut best = &self.span;
        for segment in pointer.split('/').skip(1) {
            let segment = unescape(segment);
            let next = match &node.value {
                Value::Map(entries) => entries.iter().find(|e| e.key == *segment).map(|e| {
                    best = &e.key_span;
                    &e.value
                }),
                Value::Seq(items) => segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .inspect(|item| {
                        best = &item.span;
                    }),
                _ => None,
            };
            let Some(next) = next else { break };
            node = next;
            if !matches!(node.value, Value::Map(_) | Value::Seq(_)) {
                best = &node.span;
            }
        }
        best.clone()
    }

    /// The span of key `key` inside the mapping at `pointer`, if present.
    #[must_use]
    pub fn locate_key(&self, pointer: &str, key: &str) -> Option<Span> {
        let mut node = self;
        for segment in pointer.split('/').skip(1) {
            let segment = unescape(segment);
            node = match &node.value {
                Value::Map(_) => &node.get(&segment)?.value,
                Value::Seq(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        node.get(key).map(|e| e.key_span.clone())
    }
}

impl Node {
    /// The node at a JSON pointer.
    #[must_use]
    pub fn at(&self, pointer: &str) -> Option<&Node> {
        let mut node = self;
        for segment in pointer.split('/').skip(1) {
            let segment = unescape(segment);
            node = match &node.value {
                Value::Map(entries) => &entries.iter().find(|e| e.key == segment)?.value,
                Value::Seq(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The node at a JSON pointer, to change it.
    pub fn at_mut(&mut self, pointer: &str) -> Option<&mut Node> {
        let mut node = self;
        for segment in pointer.split('/').skip(1) {
            let segment = unescape(segment);
            node = match &mut node.value {
                Value::Map(entries) => &mut entries.iter_mut().find(|e| e.key == segment)?.value,
                Value::Seq(items) => items.get_mut(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Every span in this subtree: keys, values, and collections' starts.
    pub fn spans(&self, out: &mut Vec<Span>) {
        out.push(self.span.clone());
        match &self.value {
            Value::Seq(items) => items.iter().for_each(|i| i.spans(out)),
            Value::Map(entries) => {
                for e in entries {
                    out.push(e.key_span.clone());
                    e.value.spans(out);
                }
            }
            _ => {}
        }
    }

    /// Takes the value at a JSON pointer out of its mapping or list; the
    /// root itself cannot be removed. Returns whether something was removed.
    pub fn remove_at(&mut self, pointer: &str) -> bool {
        let Some((parent, last)) = pointer.rsplit_once('/') else {
            return false;
        };
        let last = unescape(last);
        match self.at_mut(parent).map(|p| &mut p.value) {
            Some(Value::Map(entries)) => {
                let before = entries.len();
                entries.retain(|e| e.key != last);
                entries.len() != before
            }
            Some(Value::Seq(items)) => match last.parse::<usize>() {
                Ok(i) if i < items.len() => {
                    items.remove(i);
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// Parses one YAML file holding exactly one document.
pub fn parse(file: FileId, text: &str) -> Result<Node, Vec<Diagnostic>> {
    let mut builder = Builder {
        file,
        positions: Positions::new(text),
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        nodes: 0,
        aliased: 0,
        diagnostics: Vec::new(),
    };
    let root = builder.document();
    match root {
        Ok(root) if builder.diagnostics.is_empty() => Ok(root),
        Ok(_) => Err(builder.diagnostics),
        Err(fatal) => {
            builder.diagnostics.push(fatal);
            Err(builder.diagnostics)
        }
    }
}

/// Maps saphyr's character indexes to byte offsets.
struct Positions {
    /// Byte offset of every character, only for non-ASCII text.
    offsets: Option<Vec<usize>>,
    len: usize,
}

impl Positions {
    fn new(text: &str) -> Self {
        let offsets = (!text.is_ascii()).then(|| text.char_indices().map(|(i, _)| i).collect());
        Self {
            offsets,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.offsets {
            None => char_index.min(self.len),
            Some(offsets) => offsets.get(char_index).copied().unwrap_or(self.len),
        }
    }
}

struct Builder<'a> {
    file: FileId,
    positions: Positions,
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    /// How many of `nodes` aliases repeated.
    aliased: usize,
    diagnostics: Vec<Diagnostic>,
}

type Fatal = Diagnostic;

impl<'a> Builder<'a> {
    fn span(&self, span: &YamlSpan) -> Span {
        let start = self.positions.byte(span.start.index());
        let end = self.positions.byte(span.end.index()).max(start);
        Span::new(self.file, start..end)
    }

    fn point(&self, index: usize) -> Span {
        let start = self.positions.byte(index);
        Span::new(self.file, start..start)
    }

    fn next(&mut self) -> Result<(Event<'a>, YamlSpan), Fatal> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err(self.scan_error(&error)),
            None => Err(Diagnostic::error(
                "yaml-syntax",
                "unexpected end of the YAML stream",
            )),
        }
    }

    fn scan_error(&self, error: &ScanError) -> Diagnostic {
        let at = self.point(error.marker().index());
        let info = error.info();
        let mut diagnostic =
            Diagnostic::error("yaml-syntax", format!("invalid YAML: {info}")).at(at, "here");
        if info.contains("tab") {
            diagnostic =
                diagnostic.help("indent YAML with spaces; tabs are not allowed for indentation");
        }
        diagnostic
    }

    fn document(&mut self) -> Result<Node, Fatal> {
        let mut root = None;
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::DocumentStart(_) => {
                    let (first, first_span) = self.next()?;
                    let node = self.node(first, first_span, 0)?;
                    if root.is_some() {
                        return Err(Diagnostic::error(
                            "yaml-multiple-documents",
                            "a file holds one YAML document, this one has more",
                        )
                        .at(node.span.clone(), "second document starts here")
                        .help("split the documents into separate files"));
                    }
                    root = Some(node);
                }
                Event::StreamEnd => {
                    return root.ok_or_else(|| {
                        Diagnostic::error("empty-file", "the file is empty")
                            .at(self.span(&span), "nothing here")
                            .help("write the file's content, or delete the file")
                    });
                }
                _ => {}
            }
        }
    }

    /// Counts `added` nodes, `aliased` if an alias repeats them. Past the
    /// limit the file is refused, as an alias bomb if aliases brought most
    /// of its values and as too large otherwise.
    fn count(&mut self, added: usize, aliased: bool, span: &Span) -> Result<(), Fatal> {
        self.nodes += added;
        if aliased {
            self.aliased += added;
        }
        if self.nodes > MAX_NODES && self.aliased * 2 <= self.nodes {
            return Err(Diagnostic::error(
                "yaml-too-large",
                format!("this file holds more than {MAX_NODES} values"),
            )
            .at(span.clone(), "the limit is crossed here")
            .help(
                "split the fleet's instances into more files; one instance needs far fewer values",
            ));
        }
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::error(
                "yaml-alias-limit",
                format!("aliases expand this file beyond {MAX_NODES} values"),
            )
            .at(span.clone(), "expanding this alias crosses the limit")
            .help(
                "aliases that refer to aliases multiply; write the values out or use fewer levels",
            ));
        }
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, span: YamlSpan, depth: usize) -> Result<Node, Fatal> {
        let at = self.span(&span);
        if depth > MAX_DEPTH {
            return Err(Diagnostic::error(
                "yaml-too-deep",
                format!("values nest deeper than {MAX_DEPTH} levels"),
            )
            .at(at, "too deep"));
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, false, &at)?;
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let value = self.scalar(&text, style, tag.as_deref(), &at);
                let node = Node {
                    value,
                    span: at,
                    anchored: anchor > 0,
                };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(
                        Diagnostic::error("yaml-syntax", "alias to an unknown anchor")
                            .at(at, "here"),
                    );
                };
                self.count(target.size(), true, &at)?;
                Ok(Node {
                    anchored: false,
                    ..target
                })
            }
            Event::SequenceStart(anchor, _) => {
                self.count(1, false, &at)?;
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span, depth + 1)?);
                }
                let node = Node {
                    value: Value::Seq(items),
                    span: self.point(span.start.index()),
                    anchored: anchor > 0,
                };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::MappingStart(anchor, _) => {
                self.count(1, false, &at)?;
                let entries = self.mapping(depth)?;
                let node = Node {
                    value: Value::Map(entries),
                    span: self.point(span.start.index()),
                    anchored: anchor > 0,
                };
                self.remember(anchor, &node);
                Ok(node)
            }
            _ => Err(Diagnostic::error("yaml-syntax", "unexpected YAML event").at(at, "here")),
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    fn mapping(&mut self, depth: usize) -> Result<Vec<Entry>, Fatal> {
        // Explicit entries, and where each merge (`<<`) sat among them.
        let mut explicit: Vec<Entry> = Vec::new();
        // Where each explicit key sits in `explicit`, so a large mapping is read in linear time.
        let mut positions: HashMap<String, usize> = HashMap::new();
        let mut merges: Vec<(usize, Vec<Entry>)> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let key_node = self.node(event, span, depth + 1)?;
            let (value_event, value_span) = self.next()?;
            let value = self.node(value_event, value_span, depth + 1)?;
            let key = match &key_node.value {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Null => "null".to_owned(),
                Value::Seq(_) | Value::Map(_) => {
                    self.diagnostics.push(
                        Diagnostic::error("yaml-complex-key", "mapping keys must be plain scalars")
                            .at(key_node.span, "this key is a collection"),
                    );
                    continue;
                }
            };
            if key == "<<" && matches!(key_node.value, Value::Str(_)) {
                if let Some(merged) = self.merge_sources(&value) {
                    merges.push((explicit.len(), merged));
                }
                continue;
            }
            if let Some(first) = positions.get(&key).map(|&i| &explicit[i]) {
                self.diagnostics.push(
                    Diagnostic::error("duplicate-key", format!("duplicate key `{key}`"))
                        .at(key_node.span.clone(), "written again here")
                        .also(first.key_span.clone(), "first written here")
                        .help("remove one of them; YAML keeps only one value per key"),
                );
                continue;
            }
            positions.insert(key.clone(), explicit.len());
            explicit.push(Entry {
                key,
                key_span: key_node.span,
                value,
            });
        }
        if merges.is_empty() {
            return Ok(explicit);
        }
        // Merged keys take the place of their `<<` entry; explicit keys win, and
        // among merged maps the first one listed wins (YAML 1.1 merge semantics).
        let mut result: Vec<Entry> = Vec::new();
        let mut merges = merges.into_iter().peekable();
        for index in 0..=explicit.len() {
            while let Some((_, merged)) = merges.next_if(|(at, _)| *at == index) {
                for m in merged {
                    let overridden = explicit.iter().chain(&result).any(|e| e.key == m.key);
                    if !overridden {
                        result.push(m);
                    }
                }
            }
            if let Some(entry) = explicit.get(index) {
                result.push(entry.clone());
            }
        }
        Ok(result)
    }

    /// The entries a `<<` value brings: one mapping or a list of mappings.
    fn merge_sources(&mut self, value: &Node) -> Option<Vec<Entry>> {
        let not_a_map = |span: Span| {
            Diagnostic::error(
                "yaml-merge",
                "a merge key (`<<`) takes a mapping or a list of mappings",
            )
            .at(span, "not a mapping")
            .help("write `<<: *anchor` where `&anchor` marks a mapping")
        };
        match &value.value {
            Value::Map(entries) => Some(entries.clone()),
            Value::Seq(items) => {
                let mut all: Vec<Entry> = Vec::new();
                for item in items {
                    let Value::Map(entries) = &item.value else {
                        self.diagnostics.push(not_a_map(item.span.clone()));
                        return None;
                    };
                    for e in entries {
                        if !all.iter().any(|a| a.key == e.key) {
                            all.push(e.clone());
                        }
                    }
                }
                Some(all)
            }
            _ => {
                self.diagnostics.push(not_a_map(value.span.clone()));
                None
            }
        }
    }

    fn scalar(&mut self, text: &str, style: ScalarStyle, tag: Option<&str>, at: &Span) -> Value {
        match tag {
            None => {}
            Some("tag:yaml.org,2002:str" | "!!str") => return Value::Str(text.to_owned()),
            Some(other) => {
                let resolved = resolve_plain(text);
                let expected = other.rsplit([':', '!']).next().unwrap_or_default();
                let fits = matches!(
                    (expected, &resolved),
                    ("int", Value::Int(_))
                        | ("float", Value::Float(_) | Value::Int(_))
                        | ("bool", Value::Bool(_))
                        | ("null", Value::Null)
                );
                if !fits {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "yaml-tag",
                            format!("unsupported or mismatched tag `{other}`"),
                        )
                        .at(at.clone(), "here")
                        .help("berth reads plain YAML; remove the tag"),
                    );
                }
                return resolved;
            }
        }
        if style == ScalarStyle::Plain {
            resolve_plain(text)
        } else {
            Value::Str(text.to_owned())
        }
    }
}

/// The YAML 1.2 core schema's reading of a plain scalar.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits(unsigned, 10)
        && let Ok(i) = text.parse::<i64>()
    {
        return Value::Int(i);
    }
    if let Some(hex) = text.strip_prefix("0x").filter(|h| digits(h, 16))
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Int(i);
    }
    if let Some(oct) = text.strip_prefix("0o").filter(|o| digits(o, 8))
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Value::Int(i);
    }
    let float_like = unsigned
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '.')
        && unsigned
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && unsigned.chars().any(|c| c.is_ascii_digit());
    if float_like && let Ok(f) = text.parse::<f64>() {
        return Value::Float(f);
    }
    Value::Str(text.to_owned())
}

/// Where the first invalid UTF-8 byte sits, as a span for a diagnostic.
#[must_use]
pub fn utf8_error_range(error: &std::str::Utf8Error) -> Range<usize> {
    let start = error.valid_up_to();
    start..start + error.error_len().unwrap_or(1)
}

/// A JSON pointer segment as the key it names (RFC 6901: `~1` is `/`, `~0` is `~`).
fn unescape(segment: &str) -> std::borrow::Cow<'_, str> {
    if segment.contains('~') {
        segment.replace("~1", "/").replace("~0", "~").into()
    } else {
        segment.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> serde_json::Value {
        parse(0, text).expect("parses").to_json()
    }

    fn codes(text: &str) -> Vec<&'static str> {
        parse(0, text)
            .expect_err("fails")
            .iter()
            .map(|d| d.code)
            .collect()
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let value =
            json("a: 1\nb: 1.5\nc: true\nd: ~\ne: yes\nf: '1'\ng: 0x10\nh: 1e3\ni: 3000/tcp\n");
        assert_eq!(
            value,
            serde_json::json!({"a": 1, "b": 1.5, "c": true, "d": null, "e": "yes", "f": "1", "g": 16, "h": 1000.0, "i": "3000/tcp"})
        );
    }

    #[test]
    fn merge_keys_keep_explicit_values_and_first_listed_map() {
        let value = json("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  x: 3\n");
        assert_eq!(value["c"], serde_json::json!({"x": 3, "y": 1, "z": 2}));
    }

    #[test]
    fn merge_keys_take_the_place_of_the_merge() {
        let value =
            json("base: &base {cpu: 1, memory: 2}\ns:\n  <<: *base\n  name: web\n  memory: 3\n");
        let keys: Vec<_> = value["s"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["cpu", "name", "memory"]);
        assert_eq!(value["s"]["memory"], 3);
    }

    #[test]
    fn anchored_values_are_marked() {
        let root = parse(0, "web_base: &web_base {a: 1}\nother: {b: 2}\n").unwrap();
        assert!(root.get("web_base").unwrap().value.anchored);
        assert!(!root.get("other").unwrap().value.anchored);
    }

    #[test]
    fn problems_are_reported() {
        assert_eq!(codes("a: 1\na: 2\n"), ["duplicate-key"]);
        assert_eq!(codes(""), ["empty-file"]);
        assert_eq!(codes("# only a comment\n"), ["empty-file"]);
        assert_eq!(codes("a: [1\n"), ["yaml-syntax"]);
        assert_eq!(codes("a: 1\n---\nb: 2\n"), ["yaml-multiple-documents"]);
        assert_eq!(codes("a: &x 1\nb:\n  <<: *x\n"), ["yaml-merge"]);
        assert_eq!(codes("a: !Ref x\n"), ["yaml-tag"]);
        assert_eq!(codes(&"[".repeat(100)), ["yaml-too-deep"]);
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        assert_eq!(codes(&text), ["yaml-alias-limit"]);
    }

    #[test]
    fn a_large_file_without_aliases_is_too_large_not_an_alias_bomb() {
        let mut text = String::from("values:\n");
        for i in 0..MAX_NODES {
            text.push_str(&format!("  k{i}: v\n"));
        }
        assert_eq!(codes(&text), ["yaml-too-large"]);
    }

    #[test]
    fn locate_points_at_keys_and_scalars() {
        let text = "env:\n  services:\n    - name: web\n      cpu: x\n";
        let root = parse(0, text).unwrap();
        let span = root.locate("/env/services/0/cpu");
        assert_eq!(&text[span.range], "x");
        let span = root.locate_key("/env/services/0", "name").unwrap();
        assert_eq!(&text[span.range], "name");
    }

    #[test]
    fn non_ascii_spans_are_byte_offsets() {
        let text = "name: \"ñandú\"\nx: é\n";
        let root = parse(0, text).unwrap();
        let span = root.locate("/x");
        assert_eq!(&text[span.range], "é");
    }
}
