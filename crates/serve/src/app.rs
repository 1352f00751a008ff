//! One App ID the service records on: its recorder and its settings.

use cloudrec_client::{Recorder, TokioClock};
use std::sync::Arc;

use cloudrec_fleet::FleetGate;
use cloudrec_types::AppId;

use crate::metrics::{MetricsSink, Timed};

/// The recorder of one App ID: every call timed, every event counted.
pub type AppRecorder = Recorder<Timed, TokioClock, MetricsSink>;

/// An App ID with the recorder that drives its sessions.
#[derive(Debug, Clone)]
pub struct App {
    /// The App ID.
    pub id: AppId,
    /// The recorder, with its client (credentials, hosts, rate) and its journal.
    pub recorder: AppRecorder,
    /// The request budget shared with the fleet on Redis, if any (told the
    /// fleet's size, which sizes its share while Redis is down).
    pub shared_budget: Option<Arc<FleetGate>>,
}
