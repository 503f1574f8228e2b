//! What an editor shows: the pinned yaml-language-server (`tools/npm`,
//! installed by `scripts/npm-tools`), driven over LSP on stdio with the
//! published schemas, reports nothing on the example and golden fleets and
//! the expected problems on a bad file.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{fleet_outs, repo};

/// A yaml-language-server process and the messages it sends.
struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
}

impl Server {
    fn start() -> Self {
        let tools = Command::new(repo().join("scripts/npm-tools"))
            .output()
            .expect("scripts/npm-tools runs");
        assert!(
            tools.status.success(),
            "scripts/npm-tools failed:\n{}",
            String::from_utf8_lossy(&tools.stderr)
        );
        let bin = repo().join("tools/npm/node_modules/.bin/yaml-language-server");
        let mut child = Command::new(bin)
            .arg("--stdio")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("yaml-language-server starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let message: Value = serde_json::from_slice(&body).expect("JSON-RPC message");
                if send.send(message).is_err() {
                    return;
                }
            }
        });
        let mut server = Self {
            child,
            stdin,
            messages,
            next_id: 1,
        };
        let root = format!("file://{}", repo().display());
        server.request(
            "initialize",
            &json!({
                "processId": null,
                "rootUri": root,
                "capabilities": {
                    "workspace": {"configuration": true},
                    "textDocument": {"publishDiagnostics": {}, "hover": {"contentFormat": ["markdown", "plaintext"]}}
                }
            }),
        );
        server.notify("initialized", &json!({}));
        server.notify(
            "workspace/didChangeConfiguration",
            &json!({"settings": settings()}),
        );
        server
    }

    fn send(&mut self, message: &Value) {
        let body = serde_json::to_string(message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: &Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response, answering the server's
    /// own requests meanwhile.
    fn request(&mut self, method: &str, params: &Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive(Duration::from_mins(1)).unwrap_or_else(|| {
                panic!("no answer to `{method}` from yaml-language-server in 60 s")
            });
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message.get("result").cloned().unwrap_or(Value::Null);
            }
        }
    }

    /// The next notification, answering the server's requests on the way.
    fn receive(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = match self.messages.recv_timeout(left) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            };
            if let (Some(id), Some(method)) = (message.get("id"), message.get("method")) {
                let result = if method == "workspace/configuration" {
                    let items = message["params"]["items"].as_array().map_or(0, Vec::len);
                    let sections: Vec<Value> = message["params"]["items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|item| match item["section"].as_str() {
                            Some("yaml") => settings()["yaml"].clone(),
                            _ => Value::Null,
                        })
                        .collect();
                    assert_eq!(sections.len(), items);
                    Value::Array(sections)
                } else {
                    Value::Null
                };
                let id = id.clone();
                self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
                continue;
            }
            return Some(message);
        }
    }

    /// Opens a document and returns the diagnostics the server publishes for it.
    fn diagnostics(&mut self, path: &Path, text: &str) -> Vec<Value> {
        let uri = format!("file://{}", path.display());
        self.notify(
            "textDocument/didOpen",
            &json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
        loop {
            let message = self
                .receive(Duration::from_mins(1))
                .unwrap_or_else(|| panic!("no diagnostics for {} in 60 s", path.display()));
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri.as_str()
            {
                self.notify(
                    "textDocument/didClose",
                    &json!({"textDocument": {"uri": uri}}),
                );
                return message["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }

    fn hover(&mut self, path: &Path, text: &str, line: u32, character: u32) -> String {
        let uri = format!("file://{}", path.display());
        self.notify(
            "textDocument/didOpen",
            &json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
        let result = self.request(
            "textDocument/hover",
            &json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        );
        self.notify(
            "textDocument/didClose",
            &json!({"textDocument": {"uri": uri}}),
        );
        result["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The editor settings of the test: validation on, and no schema store
/// (which would be fetched from the network).
fn settings() -> Value {
    json!({"yaml": {
        "validate": true,
        "hover": true,
        "completion": true,
        "schemaStore": {"enable": false},
        "format": {"enable": false}
    }})
}

/// The published schema a fleet file is checked against.
fn schema_for(path: &Path) -> PathBuf {
    let name = if path.file_stem().is_some_and(|s| s == "district") {
        "district"
    } else {
        "instance"
    };
    repo().join(format!("schema/{name}.schema.json"))
}

/// The file's text as the editor sees it: files without a `$schema` line
/// get one naming the published schema by its absolute path.
fn with_modeline(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    if text.contains("yaml-language-server: $schema=") {
        text
    } else {
        format!(
            "# yaml-language-server: $schema=file://{}\n{text}",
            schema_for(path).display()
        )
    }
}

/// Every YAML file of the example fleet and of each golden fleet.
fn fleet_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for out in fleet_outs() {
        let instances = out.parent().unwrap().join("instances");
        for entry in walkdir::WalkDir::new(instances).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry
                .path()
                .extension()
                .is_some_and(|e| e == "yml" || e == "yaml")
            {
                files.push(entry.into_path());
            }
        }
    }
    files
}

fn describe(diagnostic: &Value) -> String {
    format!(
        "{}:{}: {}",
        diagnostic["range"]["start"]["line"].as_u64().unwrap_or(0) + 1,
        diagnostic["range"]["start"]["character"]
            .as_u64()
            .unwrap_or(0)
            + 1,
        diagnostic["message"].as_str().unwrap_or_default()
    )
}

#[test]
fn the_language_server_reports_nothing_on_every_golden_fleet() {
    let mut server = Server::start();
    let files = fleet_files();
    assert!(files.len() > 50, "only {} fleet files found", files.len());
    let mut found = Vec::new();
    for path in &files {
        for diagnostic in server.diagnostics(path, &with_modeline(path)) {
            found.push(format!(
                "{}:{}",
                path.strip_prefix(repo()).unwrap().display(),
                describe(&diagnostic)
            ));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_language_server_reports_the_mistakes_of_a_bad_file() {
    let mut server = Server::start();
    let path = repo().join("instances/mstdn/bad.yml");
    let text = "\
# yaml-language-server: $schema=../../schema/instance.schema.json
web_base: &web_base
  cpu: 256
environments:
  production:
    name: bad
    image_name: ghcr.io/mastodon/mastodon
    services:
      - <<: *web_base
        name: web
        service_type: web
        health_chek_path: /health
      - name: worker
        service_type: sidekiq
        command: bundle exec sidekiq
  staging:
    image_name: ghcr.io/mastodon/mastodon
";
    let mut diagnostics = server.diagnostics(&path, text);
    diagnostics.sort_by_key(|d| {
        (
            d["range"]["start"]["line"].as_u64(),
            d["range"]["start"]["character"].as_u64(),
        )
    });
    let found: Vec<String> = diagnostics.iter().map(describe).collect();
    assert_eq!(
        found,
        [
            "12:9: Not a key berth knows here. Valid keys: `name`, `service_type`, `force_ssl`, \
             `cpu`, `memory`, `command`, `environment`, `web_container_port`, `read_only_root_filesystem`, `desired_count`, \
             `launch_type`, `capacity`, `listeners`, `autoscaling`, `public`, `port_mappings`, \
             `health_check`, `hosts`, `reverse_proxy_image`.",
            "14:23: Value is not accepted. Valid values: \"web\", \"default\".",
            "16:3: Missing property \"name\".",
        ],
        "{found:#?}"
    );
}

#[test]
fn hover_shows_descriptions_as_markdown() {
    let mut server = Server::start();
    let path = repo().join("instances/mstdn/bcn-users.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (line, column) = text
        .lines()
        .enumerate()
        .find_map(|(n, l)| l.find("image_name:").map(|c| (n, c)))
        .expect("an image_name line");
    let shown = server.hover(&path, &text, line as u32, column as u32 + 2);
    // Backticks as code, not `\``.
    assert!(
        shown.contains("`resources.repositories`") && !shown.contains("\\`"),
        "{shown}"
    );
}
