//! The sans-IO core of cloudrec.
//!
//! It turns every documented answer of the Agora Cloud Recording REST API into a
//! decision: succeed, retry after a back-off, wait out a failover, acquire again,
//! stop, or tell the caller exactly what to fix. It holds the classification, the
//! status table, the retry, rate, failover and recovery policies, the session state
//! machine, and the data the async driver (`cloudrec-client`) exchanges with them:
//! requests and answers ([`HttpRequest`], [`HttpResponse`], [`TransportError`]),
//! tasks ([`TaskRef`]) and events ([`Event`], through an [`EventSink`]).
//!
//! It does no I/O: it has no `async` code, no file system access and no clock, and
//! depends on no async runtime, HTTP stack, TLS library or message broker. Time,
//! attempt numbers and jitter are arguments, so every decision can be tested in
//! simulated time.
//!
//! # Example
//!
//! A failed answer becomes a decision:
//!
//! ```
//! use cloudrec_core::{HttpResponse, Resolution, classify_failure};
//! use cloudrec_types::{Bytes, Endpoint};
//!
//! let answer = HttpResponse {
//!     status: 401,
//!     retry_after: None,
//!     request_id: None,
//!     body: Bytes::from_static(br#"{"message":"Invalid authentication credentials"}"#),
//! };
//! let failure = classify_failure(Endpoint::Start, &answer);
//! assert_eq!(failure.resolution(), Resolution::FixCredentials);
//! ```

mod backoff;
mod classify;
mod clock;
mod event;
mod explain;
mod explain_partial;
mod failover;
mod failure;
mod ha_window;
mod outcome;
mod policy;
mod policy_error;
mod rate;
mod resolution;
mod session;
mod table;
mod task;
mod transport;

pub use backoff::Backoff;
pub use classify::{classify, classify_failure, classify_transport, decode, fallback};
pub use clock::Timestamp;
pub use event::{Event, EventKind, EventSink, FailureReport, NoEvents, SessionState, Subject};
pub use explain::{Explanation, MatchedRow, explain};
pub use explain_partial::{Ambiguity, Reading, explain_partial};
pub use failover::{FailoverPlan, Host, Region, Suffix};
pub use failure::{Failure, FailureKind};
pub use ha_window::{RecoveryWindow, Verdict};
pub use outcome::{Outcome, Reply, classify_reply};
pub use policy::{GiveUpReason, Next, RetryPolicy};
pub use policy_error::PolicyError;
pub use rate::{Admission, Permit, RateLimiter, TaskLimit};
pub use resolution::Resolution;
pub use session::{
    Action, Answer, ConflictPolicy, End, Input, LostPolicy, Polled, Session, SessionConfig,
    Started, StopAnswer, StopMode, TaskIds, Transition,
};
pub use table::{RowSource, Rule, STATUS_TABLE_TSV, StatusTable};
pub use task::TaskRef;
pub use transport::{Delivery, HttpRequest, HttpResponse, TransportError, TransportErrorKind};
