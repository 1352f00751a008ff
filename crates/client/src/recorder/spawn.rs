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

/// Any function that takes the future is a spawner, e.g.
/// `Arc::new(|future| { tokio::spawn(future); })`.
impl<F> Spawn for F
where
    F: Fn(Pin<Box<dyn Future<Output = ()> + Send>>) + Send + Sync,
{
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        self(future);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn a_closure_is_a_spawner() {
        let spawned = Arc::new(Mutex::new(0));
        let count = Arc::clone(&spawned);
        let spawner: Arc<dyn Spawn> = Arc::new(move |_future| {
            *count.lock().unwrap() += 1;
        });
        spawner.spawn(Box::pin(async {}));
        assert_eq!(*spawned.lock().unwrap(), 1);
    }
}
