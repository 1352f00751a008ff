//! The `stop` call: request body (spec §8) and response.

use serde::{Deserialize, Serialize};

use crate::UnknownFields;

use crate::lenient::open_str_enum;
use crate::query::{FileList, FileListMode, ServiceState, file_names_of};
use crate::start::ServiceName;
use crate::{Cname, ResourceId, Sid, Text, Uid};

/// The body of `POST .../sid/{sid}/mode/{mode}/stop`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopRequest {
    /// The channel name used in acquire.
    pub cname: Cname,
    /// The recorder uid used in acquire.
    pub uid: Uid,
    /// Whether to wait for the upload; may be empty.
    pub client_request: StopClientRequest,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl StopRequest {
    /// A stop body that waits for the upload (the service default, `{}`).
    pub fn new(cname: Cname, uid: Uid) -> Self {
        Self {
            unknown: Default::default(),
            cname,
            uid,
            client_request: StopClientRequest::default(),
        }
    }
}

/// The `clientRequest` of stop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopClientRequest {
    /// `false` (default): reply once the upload has finished (expected within 20 s,
    /// else error 50); `true`: reply at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_stop: Option<bool>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl StopClientRequest {
    /// A stop that replies at once, without waiting for the upload.
    pub fn async_stop() -> Self {
        Self {
            unknown: Default::default(),
            async_stop: Some(true),
        }
    }
}

open_str_enum! {
    /// `uploadingStatus`: where the files are when stop answers.
    UploadingStatus {
        /// Every file is in your storage.
        Uploaded = "uploaded",
        /// Some slices went to Agora's backup cloud and will be forwarded automatically.
        Backuped = "backuped",
        /// The service reports the upload state as `unknown`.
        StatusUnknown = "unknown",
        /// Files are parked on Agora's backup and uploaded later (preview `raw` mode);
        /// not a failure.
        Stranded = "stranded",
    }
}

/// The 200 body of stop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopResponse {
    /// The channel name, when echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<Cname>,
    /// The recorder uid, when echoed (kept as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<Text>,
    /// The resource id of the task.
    pub resource_id: ResourceId,
    /// The session id of the task.
    pub sid: Sid,
    /// Files and upload state; empty when absent.
    #[serde(default)]
    pub server_response: StopServerResponse,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl StopResponse {
    /// The upload state: the top-level `uploadingStatus` (individual, mix) or the
    /// one of the web task's `upload_service`.
    pub fn uploading_status(&self) -> Option<&UploadingStatus> {
        self.server_response.uploading_status.as_ref().or_else(|| {
            self.server_response
                .extension_service_state
                .iter()
                .flatten()
                .filter(|state| state.service_name == ServiceName::Upload)
                .find_map(|state| state.payload.uploading_status.as_ref())
        })
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

/// The `serverResponse` of stop; its shape depends on mode and features:
/// individual and mix give `fileListMode`, `fileList` and `uploadingStatus`
/// (screenshots only: just `uploadingStatus`); web gives `extensionServiceState`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopServerResponse {
    /// How `fileList` is encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_list_mode: Option<FileListMode>,
    /// The recorded files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_list: Option<FileList>,
    /// Where the files are (individual, mix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploading_status: Option<UploadingStatus>,
    /// States of the web task's services (`upload_service`, `web_recorder_service`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_service_state: Option<Vec<ServiceState>>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

crate::unknown::unknown_members!(StopRequest, client_request: "clientRequest");
crate::unknown::unknown_members!(StopClientRequest);
crate::unknown::unknown_members!(StopResponse, server_response: "serverResponse");
crate::unknown::unknown_members!(
    StopServerResponse,
    file_list: "fileList",
    extension_service_state: "extensionServiceState",
);
