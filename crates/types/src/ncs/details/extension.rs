//! Details of the extension services' events (service type 4 and the postponed
//! transcoder): VOD, transcoding and downloads.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient::{open_str_enum, opt_i64, opt_str_or_int};
use crate::start::StorageVendor;

/// `aliVodInfo` of a VOD start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AliVodInfo {
    /// The video's id in Alibaba Cloud VOD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_id: Option<String>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `60` `vod_started`: uploading to Alibaba Cloud VOD started.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VodStarted {
    /// Where the video is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ali_vod_info: Option<AliVodInfo>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

open_str_enum! {
    /// `result` of a transcoding, overall or for one user.
    TranscodeResult {
        /// Every file was transcoded.
        AllSuccess = "all_success",
        /// Some files were transcoded.
        PartialSuccess = "partial_success",
        /// Nothing was transcoded.
        Fail = "fail",
    }
}

/// One file of a [`TranscodedUser`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TranscodedFile {
    /// The file's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One user of a transcoding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TranscodedUser {
    /// The user.
    #[serde(
        deserialize_with = "opt_str_or_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub uid: Option<String>,
    /// How the user's transcoding ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<TranscodeResult>,
    /// The user's transcoded files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub file_list: Vec<TranscodedFile>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `81` `transcoder_completed`: the postponed transcoding ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TranscoderCompleted {
    /// How it ended overall.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<TranscodeResult>,
    /// Each user's result.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uids: Vec<TranscodedUser>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `90` `download_failed`: the downloader could not read files from storage.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DownloadFailed {
    /// The storage vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<StorageVendor>,
    /// The storage region code.
    #[serde(deserialize_with = "opt_i64", skip_serializing_if = "Option::is_none")]
    pub region: Option<i64>,
    /// The bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// The files, separated by `;` ([`DownloadFailed::file_names`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DownloadFailed {
    /// The files that failed, in order, without empty names.
    pub fn file_names(&self) -> Vec<&str> {
        self.file_name.as_deref().map_or_else(Vec::new, |names| {
            names
                .split(';')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .collect()
        })
    }
}
