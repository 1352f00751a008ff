//! The `details` object of each event type, one module per emitting service.
//!
//! Every field is optional (the service adds and drops fields between
//! revisions), integers also read from decimal strings, enums keep values this
//! crate does not know, and fields this crate does not know are kept in `extra`.

mod extension;
mod recorder;
mod service;
mod uploader;
mod web;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use extension::{
    AliVodInfo, DownloadFailed, TranscodeResult, TranscodedFile, TranscodedUser,
    TranscoderCompleted, VodStarted,
};
pub use recorder::{
    LeaveCode, RecorderLeave, SliceStart, SnapshotFile, StreamState, StreamStateChanged,
};
pub use service::{
    ExitStatus, FileInfos, Module, PostponeResult, PostponeTranscodeResult, RecordingError,
    RecordingMode, RecordingWarning, SessionExit, SessionFailover, StatusUpdate,
};
pub use uploader::{UploadedFiles, UploadingProgress};
pub use web::{
    CapabilityLimit, LimitType, ReloadReason, RtmpPublishStatus, WebRecorderReload,
    WebRecorderStarted, WebRecorderStopped, WebStopCode,
};

/// The details of an event whose fields the documentation does not list
/// (13 high availability registered, 61 VOD triggered, 80 transcoder started).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoDocumentedFields {
    /// Every field sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The details of a component that started (30 uploader, 40 recorder).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ComponentStarted {
    /// The component's status code.
    #[serde(
        deserialize_with = "crate::lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<i64>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
