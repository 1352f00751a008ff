//! The event pipeline of cloudrec.
//!
//! Recording sessions report what happens to them as core [`Event`]s through
//! [`EventSink`]. This crate turns them into CloudEvents 1.0 structured JSON
//! ([`CloudEvent`], type `io.cloudrec.<suffix>`, UUID v7 ids), runs ordered
//! [`Plugin`]s (filter, enrich, redact, sample) and fans each event out to
//! [`Sink`]s: [`TracingSink`], [`MemorySink`], [`JsonLinesSink`] and, behind the
//! `amqp` feature (on by default), `AmqpSink` for RabbitMQ.
//!
//! [`Pipeline`] implements [`EventSink`]: `emit` never blocks recording control.
//! Every sink has a bounded queue; what does not fit is dropped, counted per sink
//! and reported to that sink in a gap event (`io.cloudrec.events.gap`).
//!
//! It does not decide anything about sessions (that is `cloudrec-core`), speaks no
//! HTTP, and never sees credentials: events carry ids, never secrets.
//!
//! ```no_run
//! # async fn run() -> Result<(), cloudrec_events::EventsError> {
//! use std::time::Duration;
//! use cloudrec_events::{JsonLinesSink, Pipeline, Redact, TracingSink};
//!
//! let pipeline = Pipeline::builder()
//!     .plugin(Redact::pointers(["/text"]))
//!     .sink(TracingSink)
//!     .sink(JsonLinesSink::file("events.jsonl").await?)
//!     .build()?;
//! // hand `pipeline` to the session driver as its EventSink …
//! let report = pipeline.shutdown(Duration::from_secs(5)).await;
//! assert!(report.is_complete());
//! # Ok(()) }
//! ```
//!
//! With the `amqp` feature, add `.sink(AmqpSink::start(AmqpConfig::from_env())?)`
//! (keep a clone to read its health and counters, and to shut it down).
//!
//! [`Event`]: cloudrec_core::Event
//! [`EventSink`]: cloudrec_core::EventSink

#[cfg(feature = "amqp")]
mod amqp;
pub mod catalog;
mod envelope;
mod error;
mod gap;
mod pipeline;
mod plugin;
mod sink;
mod sinks;

#[cfg(feature = "amqp")]
pub use amqp::is_login_refused;
#[cfg(feature = "amqp")]
pub use amqp::{
    AmqpConfig, AmqpSink, AmqpStats, ContentMode, DEFAULT_EXCHANGE, DEFAULT_URL, Health, URL_ENV,
};
pub use envelope::{
    CONTENT_TYPE, CloudEvent, DATA_CONTENT_TYPE, DEFAULT_SOURCE, GAP_TYPE_SUFFIX, Priority,
    SPEC_VERSION, TYPE_PREFIX,
};
pub use error::{EventsError, SinkError, SinkErrorKind};
pub use pipeline::{
    DEFAULT_QUEUE_CAPACITY, DEFAULT_RETRY_LIMIT, FlushReport, Pipeline, PipelineBuilder, SinkStats,
};
pub use plugin::{Enrich, Filter, Plugin, Redact, Sample, Verdict};
pub use sink::Sink;
pub use sinks::{JsonLinesSink, MemoryReceiver, MemorySink, TracingSink};
