//! Shared helpers of the cloudrec benchmarks (run them with `just bench`).
//!
//! The benchmarks live in `benches/benches/`; each compares cloudrec with a reference
//! doing the same work in the same run, and `docs/benchmarks.md` records the figures.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde_json::Value;

pub mod query;

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

/// `body` as the transport hands one over: a buffer of just its bytes, which
/// decoded strings slice by counting references.
pub fn received(body: &[u8]) -> Bytes {
    Bytes::copy_from_slice(body)
}

/// Where the fixtures are.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/types/tests/fixtures")
}

/// The naive reference of the decoding benchmarks: after parsing into a `Value`,
/// read the fields the typed decoder keeps; returns how many it found.
pub fn read_like_cloudrec(value: &Value) -> usize {
    let mut seen = 0;
    for key in [
        "cname",
        "uid",
        "resourceId",
        "sid",
        "code",
        "reason",
        "message",
    ] {
        if let Some(field) = value.get(key) {
            seen += usize::from(field.as_str().is_some() || field.as_i64().is_some());
        }
    }
    if let Some(server) = value.get("serverResponse") {
        for key in [
            "status",
            "fileListMode",
            "fileList",
            "sliceStartTime",
            "uploadingStatus",
            "extensionServiceState",
        ] {
            if let Some(field) = server.get(key) {
                seen += match field {
                    Value::Array(items) => items.len(),
                    _ => 1,
                };
            }
        }
    }
    seen
}
