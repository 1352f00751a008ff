//! A throwaway database per test, on the PostgreSQL of `.ci/run`, and a
//! throwaway directory per test for SQLite.
// Each test crate uses a part of this module.
#![allow(dead_code, unused_imports)]

use std::path::PathBuf;

#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "postgres")]
pub(crate) use pg::TestDb;

/// A directory of its own under the system's temporary directory, removed
/// with everything in it when the guard is dropped (also when the test panics).
pub(crate) struct TempDir {
    /// The directory.
    pub(crate) path: PathBuf,
}

impl TempDir {
    /// Creates `cloudrec_test_<pid>_<random>` in the temporary directory.
    pub(crate) fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "cloudrec_test_{}_{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        Self { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!("could not remove {}: {e}", self.path.display());
        }
    }
}
