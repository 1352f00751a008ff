//! cloudrec-serve: cloudrec as an HTTP service.
//!
//! A backend in any language asks for a recording over a JSON API and hears
//! about it on the message bus; cloudrec does the rest (classification,
//! retries, failover, recovery, no leaked task). Each recording is a row of a
//! [`SessionStore`](cloudrec_client::store::SessionStore) (SQLite on one node,
//! PostgreSQL for a fleet), supervised by the worker that owns its lease.
//!
//! - [`api::router`] builds the routes: `/v1/recordings` and its actions,
//!   `/healthz`, `/readyz`, `/metrics`, `/openapi.json`, the status page `/`
//!   and the NCS receiver `/v1/ncs` ([`Ncs`]);
//! - [`Sessions`] starts, watches, stops and takes over recordings;
//! - [`Metrics`] is fed by the event pipeline ([`MetricsSink`]) and by the
//!   transport ([`Timed`]);
//! - [`run`](run()) serves until shutdown and then hands over or stops.
//!
//! `docs/api.md` describes every route with curl examples.

pub mod api;
mod app;
mod auth;
mod config;
mod create;
mod metrics;
mod ncs;
mod problem;
mod recording;
mod run;
mod sessions;
mod status_page;

pub use app::{App, AppRecorder};
pub use config::{AppEntry, ConfigError, ConfigFile};
pub use create::{CreateRecording, request_hash};
pub use metrics::{MeteredGate, Metrics, MetricsSink, Timed};
pub use ncs::{DEDUPE_WINDOW, NCS_QUEUE, Ncs, NcsSecret};
pub use problem::{PROBLEM_JSON, Problem};
pub use recording::{Recording, RecordingPage, Report, STATES};
pub use run::{Ended, RunError, STOP_DEADLINE, run};
pub use sessions::{
    COMMAND_POLL, COMMAND_WAIT, NoticeAction, OnShutdown, Sessions, SessionsConfig, is_terminal,
};
