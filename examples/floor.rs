//! The floor `scripts/bench` compares berth with: the least work a build
//! does. It parses the same YAML inputs (events only), serialises the same
//! JSON documents berth wrote (read from a reference `out/` beforehand, not
//! timed) pretty-printed as berth writes them, writes the same files into a
//! staging folder and swaps it in with one rename. It prints the timed part's
//! wall seconds.
//!
//! usage: `cargo run --release --example floor -- FLEET REFERENCE_OUT TARGET_OUT`

use std::path::{Path, PathBuf};
use std::time::Instant;

use saphyr_parser::Parser;

fn files(root: &Path, suffix: &str) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(suffix))
        .map(walkdir::DirEntry::into_path)
        .collect()
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [fleet, reference, target] = args.as_slice() else {
        eprintln!("usage: floor FLEET REFERENCE_OUT TARGET_OUT");
        std::process::exit(64);
    };
    // Not timed: the documents berth would hold in memory.
    let documents: Vec<(PathBuf, serde_json::Value)> = files(reference, "")
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("reference out/ is readable");
            let value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
            (path.strip_prefix(reference).unwrap().to_owned(), value)
        })
        .collect();

    let start = Instant::now();
    let mut events = 0_u64;
    for path in files(&fleet.join("instances"), ".yml") {
        let text = std::fs::read_to_string(&path).expect("inputs are readable");
        let mut parser = Parser::new_from_str(&text);
        while let Some(Ok(_)) = parser.next_event() {
            events += 1;
        }
    }
    let staging = target.with_extension("floor-new");
    let _ = std::fs::remove_dir_all(&staging);
    for (relative, value) in &documents {
        let path = staging.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = match value {
            serde_json::Value::String(text) => text.clone(),
            other => serde_json::to_string_pretty(other).unwrap() + "\n",
        };
        std::fs::write(&path, text).unwrap();
    }
    let old = target.with_extension("floor-old");
    let _ = std::fs::remove_dir_all(&old);
    if target.exists() {
        std::fs::rename(target, &old).unwrap();
    }
    std::fs::rename(&staging, target).unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&old);
    println!("{elapsed:.3} {events} {}", documents.len());
}
