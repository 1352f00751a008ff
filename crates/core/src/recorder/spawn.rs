//! The one thing the recorder needs from an async runtime: running a future in
//! the background.

use std::future::Future;
use std::pin::Pin;

/// Runs futures in the background. The recorder spawns one supervisor per
/// session through it, so it works on any runtime: the CLI passes a tokio one,
/// tests the simulated executor of `testing::Sim`.
pub trait Spawn: Send + Sync {
    /// Starts `future` and returns at once; the future runs to completion on its own.
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>);
}
