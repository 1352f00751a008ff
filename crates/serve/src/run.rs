//! Running the service: take over what is ours, serve the API, keep the
//! leases, and end as the shutdown policy says.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use cloudrec_types::Secret;
use tokio::net::TcpListener;

use crate::api::{self, Api};
use crate::sessions::{OnShutdown, Sessions};

/// How long a stopping shutdown waits for the recordings to stop.
pub const STOP_DEADLINE: Duration = Duration::from_secs(60);

/// How the service ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ended {
    /// Recordings handed over to other workers.
    pub released: u64,
    /// Recordings still live when a stopping shutdown's deadline passed.
    pub not_stopped: usize,
}

/// Why the service could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The store failed while taking over earlier recordings.
    #[error("cannot take over the recordings in the store: {0}")]
    Resume(#[source] cloudrec_client::store::StoreError),
    /// The listener failed.
    #[error("the HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// Serves `api` on `listener` until `shutdown` completes, then ends as
/// `on_shutdown` says. First takes over the recordings of this worker's
/// earlier life and those no live worker owns; while serving, renews its
/// leases every third of the lease and takes over expired ones (and at once
/// what another worker hands over, on [`Sessions::releases_arrived`]), and applies
/// the commands other workers left for its recordings (every third of the
/// lease, and whenever [`Sessions::commands_arrived`] is called).
pub async fn run(
    listener: TcpListener,
    api: Api,
    token: Option<Secret>,
    lease: Duration,
    on_shutdown: OnShutdown,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Ended, RunError> {
    let sessions = Arc::clone(&api.sessions);
    let resumed = sessions.resume().await.map_err(RunError::Resume)?;
    if resumed > 0 {
        tracing::info!(resumed, "took over recordings from the store");
    }
    let keeper = tokio::spawn(keep_leases(Arc::clone(&sessions), lease));
    let applier = tokio::spawn(apply_commands(Arc::clone(&sessions), lease / 3));
    let claimer = tokio::spawn(claim_on_release(Arc::clone(&sessions)));
    let router = api::router(api, token);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    keeper.abort();
    applier.abort();
    // Before this worker releases its own: it must not claim them back.
    claimer.abort();
    served.map_err(RunError::Serve)?;
    Ok(match on_shutdown {
        OnShutdown::Stop => Ended {
            released: 0,
            not_stopped: sessions.stop_all(STOP_DEADLINE).await,
        },
        OnShutdown::Handoff => Ended {
            released: sessions.release().await.unwrap_or_else(|error| {
                tracing::error!(%error, "could not release the leases: the recordings are taken over when they expire");
                0
            }),
            not_stopped: 0,
        },
    })
}

/// Renews the leases and claims expired recordings, every third of `lease`.
///
/// A renewal that has not succeeded for two thirds of the lease, counted on
/// this process's monotonic clock from the moment the last good one was sent,
/// means another worker may claim the recordings soon: this worker gives them
/// all up first, so that two workers never act on one recording.
async fn keep_leases(sessions: Arc<Sessions>, lease: Duration) {
    let mut tick = tokio::time::interval(lease / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let margin = lease * 2 / 3;
    let mut renewed_at = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        let sent = tokio::time::Instant::now();
        if sent.duration_since(renewed_at) > margin {
            let given_up = sessions.abandon_all();
            if given_up > 0 {
                tracing::error!(
                    given_up,
                    "the leases could not be renewed in time: every recording is given up to the other workers"
                );
            }
            // What is still ours goes back to the store, to be claimed afresh
            // (by this worker or another) with a new epoch.
            match sessions.release().await {
                Ok(_) => renewed_at = sent,
                Err(error) => tracing::error!(%error, "could not release the leases after a stall"),
            }
        } else {
            match sessions.renew().await {
                Ok(_) => renewed_at = sent,
                Err(error) => tracing::error!(%error, "could not renew the leases"),
            }
        }
        if let Err(error) = sessions.count_workers().await {
            tracing::warn!(%error, "could not count the fleet's workers");
        }
        match sessions.claim(&mut Vec::new()).await {
            Ok(0) => {}
            Ok(count) => {
                tracing::info!(count, "took over expired recordings");
                // Commands may wait for them.
                sessions.commands_arrived();
            }
            Err(error) => tracing::error!(%error, "could not claim expired recordings"),
        }
    }
}

/// Claims what another worker handed over as soon as it says so, rather than
/// on the next tick of [`keep_leases`].
async fn claim_on_release(sessions: Arc<Sessions>) {
    loop {
        sessions.releases_waiting().await;
        match sessions.claim(&mut Vec::new()).await {
            Ok(0) => {}
            Ok(count) => {
                tracing::info!(count, "took over recordings another worker handed over");
                sessions.commands_arrived();
            }
            Err(error) => tracing::error!(%error, "could not claim handed-over recordings"),
        }
    }
}

/// Applies the commands other workers left in the store for this worker's
/// recordings: every `every`, and at once when woken (a notification from the
/// store, a takeover). One round at a time, so a command is never applied by
/// two rounds.
async fn apply_commands(sessions: Arc<Sessions>, every: Duration) {
    loop {
        match sessions.apply_commands().await {
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%error, "could not read the commands left for this worker")
            }
        }
        tokio::select! {
            () = sessions.commands_waiting() => {}
            () = tokio::time::sleep(every) => {}
        }
    }
}
