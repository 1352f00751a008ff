//! The `query` call (spec §7): the response, and the file and service-state types
//! it shares with stop.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};

use crate::UnknownFields;
use serde::{Deserialize, Deserializer, Serialize};

use crate::lenient::{open_int_enum, open_str_enum, opt_i64};
use crate::start::ServiceName;
use crate::stop::UploadingStatus;
use crate::{Cname, ResourceId, Sid, Text};

open_int_enum! {
    /// `serverResponse.status`: the task's progress. Older revisions send it as a
    /// string (`"5"`); both forms decode. Unknown codes are kept.
    RecordingStatus {
        /// `0`: not started.
        NotStarted = 0,
        /// `1`: initialised.
        Initialized = 1,
        /// `2`: components (the recorder) starting.
        Starting = 2,
        /// `3`: some components (the uploader) ready.
        PartlyReady = 3,
        /// `4`: all components (the recorder) ready; counts as running.
        Ready = 4,
        /// `5`: running, first file uploaded; stays 5 while recording.
        Running = 5,
        /// `6`: stop requested, recording stopped.
        StopRequested = 6,
        /// `7`: all components stopped.
        Stopped = 7,
        /// `8`: exited, or ready to exit.
        Exited = 8,
        /// `20`: exited abnormally.
        ExitedAbnormally = 20,
    }
}

impl RecordingStatus {
    /// Whether the task is recording: status 4 or 5. If it is not after about 90 s
    /// from start, treat the start as failed.
    pub const fn is_running(self) -> bool {
        matches!(self, Self::Ready | Self::Running)
    }

    /// Whether the task has stopped or is stopping (6, 7, 8, 20).
    pub const fn is_finished(self) -> bool {
        matches!(
            self,
            Self::StopRequested | Self::Stopped | Self::Exited | Self::ExitedAbnormally
        )
    }
}

open_str_enum! {
    /// `fileListMode`: how `fileList` is encoded.
    FileListMode {
        /// `fileList` is one file name (mix with `["hls"]`).
        String = "string",
        /// `fileList` is an array of [`FileInfo`].
        Json = "json",
    }
}

/// `fileList` of individual and mix tasks: a single name or a list of [`FileInfo`],
/// whatever `fileListMode` says (both shapes decode either way).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FileList {
    /// `fileListMode` `string`: the name of the M3U8 playlist.
    Text(Text),
    /// `fileListMode` `json`: one entry per playlist or MP4 file.
    Json(Vec<FileInfo>),
}

impl<'de> Deserialize<'de> for FileList {
    /// Reads a string or an array straight from the input (no buffering, unlike an
    /// untagged enum).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FileListVisitor;

        impl<'de> Visitor<'de> for FileListVisitor {
            type Value = FileList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a file name or an array of file entries")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<FileList, E> {
                Ok(FileList::Text(Text::from(v)))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<FileList, E> {
                Ok(FileList::Text(Text::from(v)))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FileList, A::Error> {
                let mut files = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(file) = seq.next_element()? {
                    files.push(file);
                }
                Ok(FileList::Json(files))
            }
        }

        deserializer.deserialize_any(FileListVisitor)
    }
}

impl FileList {
    /// The file names, in order.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Self::Text(name) if name.is_empty() => Vec::new(),
            Self::Text(name) => vec![name.as_str()],
            Self::Json(files) => files.iter().map(|file| file.file_name.as_str()).collect(),
        }
    }
}

open_str_enum! {
    /// `trackType` of a [`FileInfo`].
    TrackType {
        /// Audio only.
        Audio = "audio",
        /// Video only.
        Video = "video",
        /// Audio and video.
        AudioAndVideo = "audio_and_video",
    }
}

/// One recorded file of an individual or mix task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    /// The M3U8 or MP4 name, including the `fileNamePrefix` path. Serialized as
    /// `fileName`; `filename` is accepted too.
    #[serde(alias = "filename")]
    pub file_name: Text,
    /// What the file holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_type: Option<TrackType>,
    /// The user recorded; `"0"` in mix mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<Text>,
    /// Whether every user is mixed into the file (mix mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mixed_all_user: Option<bool>,
    /// Whether the file can be played online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_playable: Option<bool>,
    /// When the first slice started; unix milliseconds in every example (the
    /// reference says seconds). A number or a decimal string.
    #[serde(
        default,
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub slice_start_time: Option<i64>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

open_str_enum! {
    /// `payload.state` of a web service.
    ServiceRunState {
        /// Initialising.
        Init = "init",
        /// Working.
        InProgress = "inProgress",
        /// Exited.
        Exit = "exit",
    }
}

open_str_enum! {
    /// `status` of an RTMP output.
    RtmpStatus {
        /// Connecting to the CDN.
        Connecting = "connecting",
        /// Publishing.
        Publishing = "publishing",
        /// Paused with the recorder.
        Onhold = "onhold",
        /// Disconnected.
        Disconnected = "disconnected",
    }
}

/// One file of a web recording. Serialized with the key `filename` (lower-case n,
/// as the service sends it); `fileName` is accepted too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebFileInfo {
    /// The M3U8 or MP4 name, including the `fileNamePrefix` path.
    #[serde(alias = "fileName")]
    pub filename: Text,
    /// When the first slice started, unix milliseconds; a number or a decimal string.
    #[serde(
        default,
        rename = "sliceStartTime",
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub slice_start_time: Option<i64>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// One RTMP target and its state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtmpOutputState {
    /// The target URL.
    pub rtmp_url: Text,
    /// Its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RtmpStatus>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// `payload` of a [`ServiceState`]. Which fields appear depends on the service:
/// the recorder gives `state`, `onhold`, `fileList`; RTMP publishing `state`,
/// `outputs`; the uploader `uploadingStatus`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePayload {
    /// The service's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ServiceRunState>,
    /// Whether the web recorder is paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onhold: Option<bool>,
    /// The web recorder's files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_list: Option<Vec<WebFileInfo>>,
    /// The RTMP targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<RtmpOutputState>>,
    /// Where the files are (`upload_service`, in stop responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploading_status: Option<UploadingStatus>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// One entry of `extensionServiceState` (web tasks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceState {
    /// Which service.
    pub service_name: ServiceName,
    /// Its state. Serialized as `payload`; the old misspelling `playload` is
    /// accepted too.
    #[serde(default, alias = "playload")]
    pub payload: ServicePayload,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// The 200 body of query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse {
    /// The channel name, when echoed (older revisions omit it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<Cname>,
    /// The recorder uid, when echoed (kept as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<Text>,
    /// The resource id of the task.
    pub resource_id: ResourceId,
    /// The session id of the task.
    pub sid: Sid,
    /// Status and files; empty when absent.
    #[serde(default)]
    pub server_response: QueryServerResponse,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl QueryResponse {
    /// The task's status, if the response carries one.
    pub fn status(&self) -> Option<RecordingStatus> {
        self.server_response.status
    }

    /// Whether the task is recording (status 4 or 5).
    pub fn is_running(&self) -> bool {
        self.status().is_some_and(RecordingStatus::is_running)
    }

    /// Every file name the response lists, from `fileList` (string or json) and
    /// from the web recorder's `fileList`.
    pub fn file_names(&self) -> Vec<&str> {
        file_names_of(
            self.server_response.file_list.as_ref(),
            self.server_response.extension_service_state.as_deref(),
        )
    }
}

/// The `serverResponse` of query. Individual and mix give `status`,
/// `fileListMode`, `fileList`, `sliceStartTime` (the file fields only once the
/// first slice exists; screenshots only: no files); web gives `status` and
/// `extensionServiceState`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryServerResponse {
    /// The task's progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RecordingStatus>,
    /// How `fileList` is encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_list_mode: Option<FileListMode>,
    /// The recorded files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_list: Option<FileList>,
    /// When recording started, unix milliseconds; a number or a decimal string.
    #[serde(
        default,
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub slice_start_time: Option<i64>,
    /// States of the web task's services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_service_state: Option<Vec<ServiceState>>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// The file names of a `fileList` and of the web recorder's file lists.
pub(crate) fn file_names_of<'a>(
    file_list: Option<&'a FileList>,
    services: Option<&'a [ServiceState]>,
) -> Vec<&'a str> {
    let mut names = file_list.map(FileList::names).unwrap_or_default();
    for state in services.into_iter().flatten() {
        for file in state.payload.file_list.iter().flatten() {
            names.push(file.filename.as_str());
        }
    }
    names
}

/// A file list given as a name has no members.
impl crate::Unknown for FileList {
    fn collect_unknown(&self, at: &str, found: &mut Vec<String>) {
        match self {
            Self::Text(_) => {}
            Self::Json(files) => files.collect_unknown(at, found),
        }
    }
}

crate::unknown::unknown_members!(FileInfo);
crate::unknown::unknown_members!(WebFileInfo);
crate::unknown::unknown_members!(RtmpOutputState);
crate::unknown::unknown_members!(
    ServicePayload,
    file_list: "fileList",
    outputs: "outputs",
);
crate::unknown::unknown_members!(ServiceState, payload: "payload");
crate::unknown::unknown_members!(QueryResponse, server_response: "serverResponse");
crate::unknown::unknown_members!(
    QueryServerResponse,
    file_list: "fileList",
    extension_service_state: "extensionServiceState",
);
