//! The sans-IO core of cloudrec.
//!
//! It turns every documented answer of the Agora Cloud Recording REST API into a
//! decision: succeed, retry after a back-off, wait out a failover, acquire again,
//! stop, or tell the caller exactly what to fix. It also holds the retry, rate,
//! failover and session policies, and the traits through which the async driver
//! reaches the outside world: [`Transport`], [`Clock`] and [`EventSink`].
//!
//! It does no I/O: with default features it depends on no async runtime, HTTP stack,
//! TLS library or message broker, reads no clock and draws no random numbers. Time,
//! attempt numbers and jitter are arguments, so every decision can be tested in
//! simulated time.
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
//! use cloudrec_core::testing::{FakeService, Sim};
//! use cloudrec_core::{Client, Clock, StartOutcome, StopOutcome};
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
//!     Ok::<_, cloudrec_core::CallError>((status, stopped))
//! });
//! let (status, stopped) = stopped.expect("the simulation finishes")?;
//! assert!(status.is_some_and(|status| status.is_running()));
//! assert!(matches!(stopped, StopOutcome::Stopped { .. }));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "test-util"))]
//! # fn main() {}
//! ```

mod backoff;
mod classify;
mod client;
mod clock;
mod event;
mod explain;
mod explain_partial;
mod failover;
mod failure;
mod ha_window;
mod jitter;
mod journal;
mod outcome;
mod policy;
mod policy_error;
mod rate;
mod recorder;
mod resolution;
mod session;
mod table;
#[cfg(feature = "test-util")]
pub mod testing;
mod transport;

pub use backoff::Backoff;
pub use classify::{classify, classify_failure, classify_transport, decode, fallback};
pub use client::{
    CallError, Client, ClientBuilder, ClientConfigError, StartOutcome, StopOutcome, TaskRef,
    Timeouts,
};
pub use clock::{Clock, Timestamp};
pub use event::{Event, EventKind, EventSink, FailureReport, NoEvents, SessionState, Subject};
pub use explain::{Explanation, MatchedRow, explain};
pub use explain_partial::{Ambiguity, Reading, explain_partial};
pub use failover::{FailoverPlan, Host, Region, Suffix};
pub use failure::{Failure, FailureKind};
pub use ha_window::{RecoveryWindow, Verdict};
pub use journal::{Entry, Intent, Journal, JournalError, JournalTask, Ledger, MemoryJournal};
#[cfg(feature = "file-journal")]
pub use journal::{FileJournal, TornTail};
pub use outcome::{Outcome, Reply, classify_reply};
pub use policy::{GiveUpReason, Next, RetryPolicy};
pub use policy_error::PolicyError;
pub use rate::{Admission, Permit, RateLimiter, TaskLimit};
pub use recorder::{
    Found, IntentFound, LeakPolicy, Recorder, RecorderConfig, Recovered, RecoveryPolicy,
    RecoveryReport, ResolvedIntent, SessionError, SessionHandle, SessionId, SessionReport,
    SessionSpec, ShutdownReport, Spawn, Unstopped, missing_verdict,
};
pub use resolution::Resolution;
pub use session::{
    Action, Answer, ConflictPolicy, End, Input, LostPolicy, Polled, Session, SessionConfig,
    Started, StopAnswer, StopMode, TaskIds, Transition,
};
pub use table::{RowSource, Rule, STATUS_TABLE_TSV, StatusTable};
pub use transport::{
    Delivery, HttpRequest, HttpResponse, Transport, TransportError, TransportErrorKind,
};
