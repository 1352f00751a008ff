//! Notification Center Service (NCS) bodies (spec §14): the webhook notification
//! the service POSTs to your URL, and the answer of `GET /v1/ncs/ip`.
//!
//! This module decodes; checking the `Agora-Signature` headers, deduplicating and
//! ordering notifications are left to the receiver.

use serde::{Deserialize, Serialize};

use crate::lenient::opt_i64;
use crate::query::FileInfo;

/// One webhook notification. Notifications can be lost, duplicated or reordered:
/// deduplicate by `sid` and `sequence`, and prefer `query` for the truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Unique id of the notification.
    #[serde(default)]
    pub notice_id: String,
    /// The product; 3 is Cloud Recording.
    #[serde(
        default,
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_id: Option<i64>,
    /// The event type (e.g. 31 uploaded, 40 recorder started, 11 session exit).
    #[serde(
        default,
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub event_type: Option<i64>,
    /// When the notification was sent, unix milliseconds (refreshed on resend).
    #[serde(
        default,
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub notify_ms: Option<i64>,
    /// The event itself.
    #[serde(default)]
    pub payload: NotificationPayload,
}

/// `payload` of a [`Notification`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPayload {
    /// The channel name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    /// The recorder uid (as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Per-session sequence number, from 0.
    #[serde(
        default,
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub sequence: Option<i64>,
    /// When the event happened, unix milliseconds.
    #[serde(
        default,
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub sendts: Option<i64>,
    /// The emitting service: 0 cloud recording, 1 recorder, 2 uploader, 4 extension
    /// services, 6 web recorder, 8 downloader.
    #[serde(
        default,
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub service_type: Option<i64>,
    /// Event-specific fields; new ones may appear.
    #[serde(default)]
    pub details: NotificationDetails,
}

/// `details` of a notification: `msgName` plus event-specific fields, kept as JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationDetails {
    /// The event name, e.g. `uploaded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_name: Option<String>,
    /// Every other field of `details`.
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl NotificationDetails {
    /// The event name.
    pub fn msg_name(&self) -> Option<&str> {
        self.msg_name.as_deref()
    }

    /// The `fileList` of events 3, 4, 31, 32 and 1001, if it holds file entries.
    pub fn file_list(&self) -> Option<Vec<FileInfo>> {
        let list = self.fields.get("fileList")?;
        serde_json::from_value(list.clone()).ok()
    }
}

/// The answer of `GET /v1/ncs/ip`: the addresses notifications come from. They
/// change; fetch them at least daily.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcsIpResponse {
    /// The wrapper object.
    #[serde(default)]
    pub data: NcsIpData,
}

impl NcsIpResponse {
    /// The notification servers' addresses.
    pub fn primary_ips(&self) -> Vec<&str> {
        self.data
            .service
            .hosts
            .iter()
            .map(|host| host.primary_ip.as_str())
            .collect()
    }
}

/// `data` of [`NcsIpResponse`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcsIpData {
    /// The service entry.
    #[serde(default)]
    pub service: NcsIpService,
}

/// `data.service` of [`NcsIpResponse`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcsIpService {
    /// The hosts.
    #[serde(default)]
    pub hosts: Vec<NcsHost>,
}

/// One notification server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcsHost {
    /// Its IP address.
    #[serde(rename = "primaryIP")]
    pub primary_ip: String,
}
