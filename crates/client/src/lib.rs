//! The async driver of cloudrec: everything that awaits.
//!
//! [`Client`] makes the calls of the Cloud Recording API with the retries,
//! failovers and rate limits that `cloudrec-core` decides; [`Recorder`] supervises
//! whole sessions (the core's `Session` machine driven against the service), keeps
//! their [`Journal`] and stops them on shutdown. It reaches the outside world
//! through three traits: [`Transport`] (`cloudrec-hyper` implements it over
//! HTTPS), [`Clock`] and [`Spawn`]. Feature `tokio` adds `TokioClock` and
//! `TokioSpawn`, feature `file-journal` the `FileJournal`, and feature `test-util`
//! an in-process fake service with a simulated clock and executor.
//!
//! # Example
//!
//! A whole recording through the [`Client`]; here over the in-process fake service
//! in simulated time (feature `test-util`), in production over `cloudrec-hyper`'s
//! transport and `TokioClock`.
//!
//! ```
//! # #[cfg(feature = "test-util")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cloudrec_client::testing::{FakeService, Sim};
//! use cloudrec_client::{Client, Clock, StartOutcome, StopOutcome};
//! use cloudrec_types::{AcquireRequest, AppId, Cname, Mode, StartClientRequest};
//! use cloudrec_types::{StartRequest, StopRequest, StorageConfig, StorageVendor, Uid};
//!
//! let sim = Sim::new();
//! let service = FakeService::new(sim.clock());
//! let app_id = AppId::new("0123456789abcdef0123456789abcdef")?;
//! let client = Client::builder(app_id, service, sim.clock()).build()?;
//! let (cname, uid) = (Cname::new("class-42")?, Uid::new(527_841)?);
//! let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "bucket", "ak", "sk");
//!
//! let stopped = sim.run(async move {
//!     let acquire = AcquireRequest::new(cname.clone(), uid);
//!     let resource_id = client.acquire(&Mode::Mix, &acquire).await?.resource_id;
//!     let start = StartRequest::new(cname.clone(), uid, StartClientRequest::mix(storage));
//!     let StartOutcome::Started { task } = client.start(&resource_id, &Mode::Mix, &start).await?
//!     else {
//!         unreachable!("a fresh resource starts a new task");
//!     };
//!     client.clock().sleep(std::time::Duration::from_secs(30)).await;
//!     let status = client.query(&task).await?.status();
//!     let stopped = client.stop(&task, &StopRequest::new(cname, uid)).await?;
//!     Ok::<_, cloudrec_client::CallError>((status, stopped))
//! });
//! let (status, stopped) = stopped.expect("the simulation finishes")?;
//! assert!(status.is_some_and(|status| status.is_running()));
//! assert!(matches!(stopped, StopOutcome::Stopped { .. }));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "test-util"))]
//! # fn main() {}
//! ```

mod client;
mod clock;
mod jitter;
mod journal;
mod rate_gate;
mod recorder;
pub mod store;
#[cfg(feature = "test-util")]
pub mod testing;
#[cfg(feature = "tokio")]
mod tokio_clock;
#[cfg(feature = "tokio")]
mod tokio_spawn;
mod transport;

// The core's items, for the paths of this crate's modules (`crate::Failure`).
#[allow(unused_imports)]
use cloudrec_core::*;

pub use client::{
    CallError, Client, ClientBuilder, ClientConfigError, StartOutcome, StopOutcome, Timeouts,
};
pub use clock::Clock;
pub use journal::{Entry, Intent, Journal, JournalError, JournalTask, Ledger, MemoryJournal};
#[cfg(feature = "file-journal")]
pub use journal::{FileJournal, TornTail};
pub use rate_gate::{LocalGate, RateGate};
pub use recorder::{
    Found, IntentFound, LeakPolicy, Recorder, RecorderConfig, Recovered, RecoveryPolicy,
    RecoveryReport, ResolvedIntent, SessionError, SessionHandle, SessionId, SessionReport,
    SessionSpec, SessionView, ShutdownReport, Spawn, Unstopped, missing_verdict,
};
#[cfg(feature = "tokio")]
pub use tokio_clock::TokioClock;
#[cfg(feature = "tokio")]
pub use tokio_spawn::TokioSpawn;
pub use transport::Transport;
