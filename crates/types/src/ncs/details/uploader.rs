//! Details of the uploader's events (service type 2): files uploaded to your
//! storage or parked on the backup, and the upload's progress.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient::opt_i64;
use crate::query::FileList;

/// `31` `uploaded` and `32` `backuped`: every file reached your storage (31),
/// or some went to Agora's backup storage and will be moved to yours later (32).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UploadedFiles {
    /// The upload status code.
    #[serde(deserialize_with = "opt_i64", skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// The files, with their slice start times in unix milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_list: Option<FileList>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UploadedFiles {
    /// The file names, in order; empty without a file list.
    pub fn file_names(&self) -> Vec<&str> {
        self.file_list
            .as_ref()
            .map_or_else(Vec::new, FileList::names)
    }
}

/// `33` `uploading_progress`: sent each minute while uploading.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UploadingProgress {
    /// The progress in hundredths of a percent, 0 to 10000.
    #[serde(deserialize_with = "opt_i64", skip_serializing_if = "Option::is_none")]
    pub progress: Option<i64>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
