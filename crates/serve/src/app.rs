//! One App ID the service records on: its recorder and its settings.

use cloudrec_client::{Recorder, TokioClock};
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
}
