//! Details of the events of the cloud recording service itself (service type 0):
//! errors, warnings, status updates, the first file list, exit, failover and the
//! postponed transcoding's result.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient::{open_int_enum, open_str_enum, opt_i64};
use crate::query::{FileList, RecordingStatus};

open_int_enum! {
    /// `module`: the component an error or warning comes from.
    Module {
        /// `0`: the recorder.
        Recorder = 0,
        /// `1`: the uploader.
        Uploader = 1,
        /// `2`: the cloud recording service.
        Service = 2,
        /// `6`: the web recorder.
        WebRecorder = 6,
    }
}

/// `1` `cloud_recording_error`: a component failed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RecordingError {
    /// The failing component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<Module>,
    /// How bad it is, 1 to 5; 5 is fatal ([`RecordingError::is_fatal`]).
    #[serde(deserialize_with = "opt_i64", skip_serializing_if = "Option::is_none")]
    pub error_level: Option<i64>,
    /// The error code (NCS-only codes: uploader 32 storage configuration wrong,
    /// 47 upload failed, 51 uploader processing error; service 50 upload timeout,
    /// 52 service start timeout).
    #[serde(deserialize_with = "opt_i64", skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    /// The component's state code when it failed.
    #[serde(deserialize_with = "opt_i64", skip_serializing_if = "Option::is_none")]
    pub stat: Option<i64>,
    /// The error message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RecordingError {
    /// The level of a fatal error: the task cannot go on.
    pub const FATAL_LEVEL: i64 = 5;

    /// Whether the error is fatal (`errorLevel` 5).
    pub fn is_fatal(&self) -> bool {
        self.error_level == Some(Self::FATAL_LEVEL)
    }
}

/// `2` `cloud_recording_warning`: a component warns (uploader warnings 31
/// re-upload to your storage, 32 re-upload to the backup storage).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RecordingWarning {
    /// The warning component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<Module>,
    /// The warning code.
    #[serde(deserialize_with = "opt_i64", skip_serializing_if = "Option::is_none")]
    pub warn_code: Option<i64>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

open_int_enum! {
    /// `recordingMode` of a status update.
    RecordingMode {
        /// `0`: individual recording.
        Individual = 0,
        /// `1`: composite (mix) recording.
        Mix = 1,
    }
}

/// `3` `cloud_recording_status_update`: the task's status changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StatusUpdate {
    /// The task's status, as `query` gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<RecordingStatus>,
    /// The recording mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_mode: Option<RecordingMode>,
    /// The files so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_list: Option<FileList>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `4` `cloud_recording_file_infos`: the first M3U8 playlist was uploaded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FileInfos {
    /// The files so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_list: Option<FileList>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

open_int_enum! {
    /// `exitStatus` of a session exit.
    ExitStatus {
        /// `0`: a normal exit.
        Normal = 0,
        /// `1`: an abnormal exit.
        Abnormal = 1,
    }
}

/// `11` `session_exit`: the task ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionExit {
    /// How it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<ExitStatus>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `12` `session_failover`: the task moved to another server; calls may answer
/// 404 for up to about 90 s.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionFailover {
    /// The uid the recorder joins with after the failover.
    #[serde(deserialize_with = "opt_i64", skip_serializing_if = "Option::is_none")]
    pub new_uid: Option<i64>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

open_str_enum! {
    /// `result` of the postponed transcoding.
    PostponeResult {
        /// Every file was transcoded.
        TotalSuccess = "total_success",
        /// Some files were transcoded.
        PartialSuccess = "partial_success",
        /// Nothing was transcoded.
        Failed = "failed",
    }
}

/// `1001` `postpone_transcode_final_result`: the postponed transcoding ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PostponeTranscodeResult {
    /// How it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<PostponeResult>,
    /// The transcoded files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_list: Option<FileList>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
