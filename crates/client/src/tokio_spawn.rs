//! The tokio [`Spawn`] the `Recorder` runs its session supervisors with.

use std::future::Future;
use std::pin::Pin;

use crate::Spawn;

/// Runs the `Recorder`'s supervisors on the current tokio runtime
/// (`Recorder::new(client, Arc::new(TokioSpawn), config)`).
///
/// Spawning needs a running tokio runtime: create the recorder's sessions from
/// inside one.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSpawn;

impl Spawn for TokioSpawn {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        tokio::spawn(future);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn spawned_futures_run_on_the_runtime() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawner: Arc<dyn Spawn> = Arc::new(TokioSpawn);
        spawner.spawn(Box::pin(async move {
            let _ = tx.send(42);
        }));
        assert_eq!(rx.await.unwrap(), 42);
    }
}
