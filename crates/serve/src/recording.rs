//! A recording as the API shows it: the stored session without its secrets.

use std::time::{SystemTime, UNIX_EPOCH};

use cloudrec_client::store::SessionRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Every state a recording can be in, in the order a session goes through them.
pub const STATES: [&str; 11] = [
    "waiting",
    "acquired",
    "starting",
    "waiting_until_running",
    "running",
    "recovering",
    "stopping",
    "stopped",
    "stopped_no_data",
    "failed",
    "lost",
];

/// The state of a recording before its session took its first step.
pub(crate) const WAITING: &str = "waiting";

/// What the session reports to its callers; kept in the row's `report`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Why it is in its state, in plain words, when that needs saying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The recorded file names, once stop named them.
    #[serde(default)]
    pub files: Vec<String>,
    /// Where the files are (`uploaded`, `backuped`, ...), once stop said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploading_status: Option<String>,
}

impl Report {
    /// The report kept in `row`; an unreadable one reads as empty.
    pub fn of(row: &SessionRow) -> Self {
        serde_json::from_value(row.report.clone()).unwrap_or_default()
    }
}

/// One recording, as every route answers it. It never holds a secret.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    /// The recording's id (UUID v7).
    pub id: Uuid,
    /// The App ID it records on.
    pub app_id: String,
    /// `individual`, `mix` or `web`.
    pub mode: String,
    /// The channel (for web mode, a label of the task).
    pub cname: String,
    /// The recorder bot's uid.
    pub uid: String,
    /// The resource id, once acquired and started.
    pub resource_id: Option<String>,
    /// The sid, once started.
    pub sid: Option<String>,
    /// One of `waiting`, `acquired`, `starting`, `waiting_until_running`,
    /// `running`, `recovering`, `stopping`, `stopped`, `stopped_no_data`,
    /// `failed`, `lost`.
    pub state: String,
    /// Why it is in its state, when that needs saying.
    pub reason: Option<String>,
    /// The worker that supervises it, if any.
    pub owner: Option<String>,
    /// The recorded file names, once stop named them.
    pub files: Vec<String>,
    /// Where the files are, once stop said.
    pub uploading_status: Option<String>,
    /// The start `clientRequest` it was created with, storage keys and tokens
    /// masked as `***`.
    #[schema(value_type = Object)]
    pub client_request: serde_json::Value,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
    /// When it last changed (RFC 3339, UTC).
    pub updated_at: String,
}

impl From<&SessionRow> for Recording {
    fn from(row: &SessionRow) -> Self {
        let report = Report::of(row);
        Self {
            id: row.id,
            app_id: row.app_id.clone(),
            mode: row.mode.clone(),
            cname: row.cname.clone(),
            uid: row.uid.clone(),
            resource_id: row.resource_id.clone(),
            sid: row.sid.clone(),
            state: row.state.clone(),
            reason: report.reason,
            owner: row.owner.clone(),
            files: report.files,
            uploading_status: report.uploading_status,
            client_request: row
                .request
                .get("clientRequest")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

/// `time` as RFC 3339 in UTC with milliseconds.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    humantime::format_rfc3339_millis(UNIX_EPOCH + since).to_string()
}

/// A page of recordings.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct RecordingPage {
    /// The recordings, oldest first.
    pub recordings: Vec<Recording>,
    /// The cursor of the next page (`after=`), when there may be one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}
