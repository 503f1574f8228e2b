//! Hands the compiler a fingerprint of the code that turns a template and
//! its context into bytes: berth's version, `src/render.rs` (the filters and
//! the canonical JSON writer), `src/limits.rs` (the template limits a
//! rendered stack is held to) and `Cargo.lock` (the template engine and JSON
//! library). `out/manifest.json` records it within each artifact's inputs
//! (see `src/render.rs`), so an artifact rendered by a berth that writes
//! other bytes is never taken as current. The rest of berth only shapes the
//! contexts, which the inputs hash themselves.

use sha2::{Digest, Sha256};

fn main() {
    let mut hash = Sha256::new();
    hash.update(env!("CARGO_PKG_VERSION").as_bytes());
    for file in ["src/render.rs", "src/limits.rs", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={file}");
        // An installed crate may come without its lock file.
        let bytes = std::fs::read(file).unwrap_or_default();
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    let hex = hash.finalize().iter().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    });
    println!("cargo:rustc-env=BERTH_RENDER_SHA256={hex}");
}
