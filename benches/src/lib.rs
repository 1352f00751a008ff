//! Shared helpers of the cloudrec benchmarks (run them with `just bench`).
//!
//! The benchmarks live in `benches/benches/`; each compares cloudrec with a reference
//! doing the same work in the same run, and `docs/benchmarks.md` records the figures.

use std::path::{Path, PathBuf};

/// The JSON fixtures shared with the `cloudrec-types` tests, as `(file name, bytes)`,
/// sorted by name. Reads `crates/types/tests/fixtures/`.
pub fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = fixtures_dir();
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "json")
                && let (Some(name), Ok(bytes)) = (path.file_name(), std::fs::read(&path))
            {
                out.push((name.to_string_lossy().into_owned(), bytes));
            }
        }
    }
    out.sort();
    out
}

/// Where the fixtures are.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/types/tests/fixtures")
}
