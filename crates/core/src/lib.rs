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

mod backoff;
mod classify;
mod client;
mod clock;
mod event;
mod explain;
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
pub use failover::{FailoverPlan, Host, Region, Suffix};
pub use failure::{Failure, FailureKind};
pub use ha_window::{RecoveryWindow, Verdict};
#[cfg(feature = "file-journal")]
pub use journal::FileJournal;
pub use journal::{Journal, JournalError, MemoryJournal};
pub use outcome::{Outcome, Reply, classify_reply};
pub use policy::{GiveUpReason, Next, RetryPolicy};
pub use policy_error::PolicyError;
pub use rate::{Admission, Permit, RateLimiter, TaskLimit};
pub use recorder::{
    Found, LeakPolicy, Recorder, RecorderConfig, Recovered, RecoveryPolicy, RecoveryReport,
    SessionError, SessionHandle, SessionId, SessionReport, SessionSpec, ShutdownReport, Spawn,
    Unstopped,
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
