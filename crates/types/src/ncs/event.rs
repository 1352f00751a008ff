//! The event types of spec §14 and their typed `details`: [`EventType`] is the
//! `eventType` code, [`Event`] the details read for it, [`Details`] the whole
//! `details` object.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::details::{
    CapabilityLimit, ComponentStarted, DownloadFailed, FileInfos, NoDocumentedFields,
    PostponeTranscodeResult, RecorderLeave, RecordingError, RecordingWarning, RtmpPublishStatus,
    SessionExit, SessionFailover, SliceStart, SnapshotFile, StatusUpdate, StreamStateChanged,
    TranscoderCompleted, UploadedFiles, UploadingProgress, VodStarted, WebRecorderReload,
    WebRecorderStarted, WebRecorderStopped,
};
use crate::lenient::open_int_enum;

/// Declares [`EventType`], [`Event`] and what links them from one list: each
/// event's variant, details type, code and documented `msgName`.
macro_rules! events {
    (
        $(
            $(#[$doc:meta])*
            $variant:ident($details:ty) = $code:literal, $msg:expr;
        )*
    ) => {
        open_int_enum! {
            /// `eventType`: what happened. Codes this crate does not know are kept.
            EventType {
                $( $(#[$doc])* $variant = $code, )*
            }
        }

        impl EventType {
            /// The documented `msgName` of the event, if the documentation gives one.
            pub const fn msg_name(self) -> Option<&'static str> {
                match self {
                    $( Self::$variant => $msg, )*
                    Self::Other(_) => None,
                }
            }
        }

        /// The `details` of a notification, typed by its `eventType`.
        ///
        /// A code this crate does not know gives [`Event::Unknown`], and details
        /// that do not fit their event's type (a field of another JSON type) give
        /// [`Event::Unreadable`]: both keep every field as sent, so no
        /// notification fails to decode for its details.
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Event {
            $( $(#[$doc])* $variant($details), )*
            /// An event type this crate does not know, with its details as sent
            /// (without `msgName`, which [`Details`] holds).
            Unknown {
                /// The `eventType` code.
                event_type: i64,
                /// The fields of `details`.
                fields: Map<String, Value>,
            },
            /// A known event type whose details do not fit its type, as sent.
            Unreadable {
                /// The event type.
                event_type: EventType,
                /// The fields of `details`.
                fields: Map<String, Value>,
                /// What did not fit.
                reason: String,
            },
        }

        impl Event {
            /// The event's `eventType`.
            pub const fn event_type(&self) -> EventType {
                match self {
                    $( Self::$variant(_) => EventType::$variant, )*
                    Self::Unknown { event_type, .. } => EventType::from_code(*event_type),
                    Self::Unreadable { event_type, .. } => *event_type,
                }
            }

            /// Reads the fields of `details` (without `msgName`) for `event_type`.
            pub fn from_fields(event_type: EventType, fields: Map<String, Value>) -> Self {
                let fields = Value::Object(fields);
                let read = match event_type {
                    $( EventType::$variant => <$details>::deserialize(&fields).map(Self::$variant), )*
                    EventType::Other(code) => return Self::Unknown {
                        event_type: code,
                        fields: into_map(fields),
                    },
                };
                read.unwrap_or_else(|error| Self::Unreadable {
                    event_type,
                    fields: into_map(fields),
                    reason: error.to_string(),
                })
            }
        }

        impl Serialize for Event {
            /// The fields of `details`, without `msgName`.
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(details) => details.serialize(serializer), )*
                    Self::Unknown { fields, .. } | Self::Unreadable { fields, .. } => {
                        fields.serialize(serializer)
                    }
                }
            }
        }
    };
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

events! {
    /// `1` `cloud_recording_error`: a component failed.
    RecordingError(RecordingError) = 1, Some("cloud_recording_error");
    /// `2` `cloud_recording_warning`: a component warns.
    RecordingWarning(RecordingWarning) = 2, Some("cloud_recording_warning");
    /// `3` `cloud_recording_status_update`: the task's status changed.
    StatusUpdate(StatusUpdate) = 3, Some("cloud_recording_status_update");
    /// `4` `cloud_recording_file_infos`: the first M3U8 playlist was uploaded.
    FileInfos(FileInfos) = 4, Some("cloud_recording_file_infos");
    /// `11` `session_exit`: the task ended.
    SessionExit(SessionExit) = 11, Some("session_exit");
    /// `12` `session_failover`: the task moved to another server.
    SessionFailover(SessionFailover) = 12, Some("session_failover");
    /// `13`: high availability registered, expected within 10 s of start
    /// (mentioned only in the best practices; its `msgName` is not documented).
    HighAvailabilityRegistered(NoDocumentedFields) = 13, None;
    /// `30` `uploader_started`: the uploader started.
    UploaderStarted(ComponentStarted) = 30, Some("uploader_started");
    /// `31` `uploaded`: every file reached your storage.
    Uploaded(UploadedFiles) = 31, Some("uploaded");
    /// `32` `backuped`: some files went to the backup storage, to be moved later.
    Backuped(UploadedFiles) = 32, Some("backuped");
    /// `33` `uploading_progress`: the upload's progress, each minute.
    UploadingProgress(UploadingProgress) = 33, Some("uploading_progress");
    /// `40` `recorder_started`: the recorder joined the channel.
    RecorderStarted(ComponentStarted) = 40, Some("recorder_started");
    /// `41` `recorder_leave`: the recorder left the channel.
    RecorderLeave(RecorderLeave) = 41, Some("recorder_leave");
    /// `42` `recorder_slice_start`: the recorder started a slice.
    RecorderSliceStart(SliceStart) = 42, Some("recorder_slice_start");
    /// `43` `recorder_audio_stream_state_changed`: a user's audio started or stopped.
    AudioStreamStateChanged(StreamStateChanged) = 43, Some("recorder_audio_stream_state_changed");
    /// `44` `recorder_video_stream_state_changed`: a user's video started or stopped.
    VideoStreamStateChanged(StreamStateChanged) = 44, Some("recorder_video_stream_state_changed");
    /// `45` `recorder_snapshot_file`: a screenshot was taken.
    SnapshotFile(SnapshotFile) = 45, Some("recorder_snapshot_file");
    /// `60` `vod_started`: uploading to Alibaba Cloud VOD started.
    VodStarted(VodStarted) = 60, Some("vod_started");
    /// `61` `vod_triggered`: the VOD upload was triggered.
    VodTriggered(NoDocumentedFields) = 61, Some("vod_triggered");
    /// `70` `web_recorder_started`: the web recorder started.
    WebRecorderStarted(WebRecorderStarted) = 70, Some("web_recorder_started");
    /// `71` `web_recorder_stopped`: the web recorder stopped.
    WebRecorderStopped(WebRecorderStopped) = 71, Some("web_recorder_stopped");
    /// `72` `web_recorder_capability_limit`: the page went beyond a limit.
    WebRecorderCapabilityLimit(CapabilityLimit) = 72, Some("web_recorder_capability_limit");
    /// `73` `web_recorder_reload`: the web recorder reloaded the page.
    WebRecorderReload(WebRecorderReload) = 73, Some("web_recorder_reload");
    /// `80` `transcoder_started`: the postponed transcoding started.
    TranscoderStarted(NoDocumentedFields) = 80, Some("transcoder_started");
    /// `81` `transcoder_completed`: the postponed transcoding ended.
    TranscoderCompleted(TranscoderCompleted) = 81, Some("transcoder_completed");
    /// `90` `download_failed`: the downloader could not read files.
    DownloadFailed(DownloadFailed) = 90, Some("download_failed");
    /// `100` `rtmp_publish_status`: an RTMP push changed state.
    RtmpPublishStatus(RtmpPublishStatus) = 100, Some("rtmp_publish_status");
    /// `1001` `postpone_transcode_final_result`: the postponed transcoding's result.
    PostponeTranscodeFinalResult(PostponeTranscodeResult) = 1001, Some("postpone_transcode_final_result");
}

/// The `details` object of a notification: its `msgName` and the typed event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Details {
    /// The event's name as sent, e.g. `uploaded`.
    pub msg_name: Option<String>,
    /// The other fields, typed by the notification's `eventType`.
    pub event: Event,
}

impl Details {
    /// Reads a `details` object for `event_type`; `msgName` is taken out of it.
    /// A `msgName` that is not a string stays among the event's fields.
    pub fn from_object(event_type: EventType, mut fields: Map<String, Value>) -> Self {
        let msg_name = match fields.remove("msgName") {
            Some(Value::String(name)) => Some(name),
            Some(other) => {
                fields.insert("msgName".to_owned(), other);
                None
            }
            None => None,
        };
        Self {
            msg_name,
            event: Event::from_fields(event_type, fields),
        }
    }

    /// Details for `event`, with its documented `msgName`.
    pub fn new(event: Event) -> Self {
        Self {
            msg_name: event.event_type().msg_name().map(str::to_owned),
            event,
        }
    }

    /// The event name as sent.
    pub fn msg_name(&self) -> Option<&str> {
        self.msg_name.as_deref()
    }
}

impl Serialize for Details {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(rename = "msgName", skip_serializing_if = "Option::is_none")]
            msg_name: Option<&'a str>,
            #[serde(flatten)]
            event: &'a Event,
        }
        Wire {
            msg_name: self.msg_name(),
            event: &self.event,
        }
        .serialize(serializer)
    }
}
