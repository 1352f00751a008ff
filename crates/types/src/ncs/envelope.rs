//! The notification envelope: `noticeId`, `productId`, `eventType`, `notifyMs`
//! and the `payload` with the session's ids, `sequence`, `sendts`,
//! `serviceType` and the typed [`Details`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::event::{Details, Event, EventType};
use crate::lenient::{i64_from, open_int_enum, opt_i64, opt_str_or_int};

open_int_enum! {
    /// `serviceType`: the component that sent the event.
    ServiceType {
        /// `0`: the cloud recording service.
        CloudRecording = 0,
        /// `1`: the recorder.
        Recorder = 1,
        /// `2`: the uploader.
        Uploader = 2,
        /// `4`: the extension services (VOD).
        ExtensionServices = 4,
        /// `6`: the web recorder.
        WebRecorder = 6,
        /// `8`: the downloader.
        Downloader = 8,
    }
}

/// One webhook notification of the Notification Center Service.
///
/// Notifications can be lost, duplicated or reordered: deduplicate by
/// [`Notification::notice_id`] and by `sid` + `sequence`, and prefer `query` for
/// the truth. It decodes from the raw body (`serde_json::from_slice`); only a
/// body that is not a JSON object, or lacks `noticeId` or `eventType`, fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The notification's unique id; a resend keeps it.
    pub notice_id: String,
    /// The product; 3 is Cloud Recording.
    pub product_id: Option<i64>,
    /// When the notification was sent, unix milliseconds (refreshed on resend).
    pub notify_ms: Option<i64>,
    /// The event.
    pub payload: Payload,
    /// Top-level fields this crate does not know.
    pub extra: Map<String, Value>,
}

impl Notification {
    /// The product id of Cloud Recording.
    pub const CLOUD_RECORDING: i64 = 3;

    /// A notification of `event` for the session `sid`, its `sequence`-th.
    pub fn new(
        notice_id: impl Into<String>,
        sid: impl Into<String>,
        sequence: i64,
        event: Event,
    ) -> Self {
        Self {
            notice_id: notice_id.into(),
            product_id: Some(Self::CLOUD_RECORDING),
            notify_ms: None,
            payload: Payload {
                sid: Some(sid.into()),
                sequence: Some(sequence),
                ..Payload::new(event)
            },
            extra: Map::new(),
        }
    }

    /// The `eventType`.
    pub const fn event_type(&self) -> EventType {
        self.payload.details.event.event_type()
    }

    /// The typed details.
    pub const fn event(&self) -> &Event {
        &self.payload.details.event
    }

    /// The session id, if the payload names one.
    pub fn sid(&self) -> Option<&str> {
        self.payload.sid.as_deref()
    }
}

/// `payload` of a [`Notification`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// The channel name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    /// The recorder's uid, as text (a number is read as its digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The session's sequence number of this notification, from 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
    /// When the event happened, unix milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sendts: Option<i64>,
    /// The component that sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_type: Option<ServiceType>,
    /// `msgName` and the typed event.
    pub details: Details,
    /// Payload fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Payload {
    /// A payload of `event` with no ids, its documented `msgName` and nothing else.
    pub fn new(event: Event) -> Self {
        Self {
            cname: None,
            uid: None,
            sid: None,
            sequence: None,
            sendts: None,
            service_type: None,
            details: Details::new(event),
            extra: Map::new(),
        }
    }
}

/// The notification as it is read, before `details` is typed by `eventType`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireNotification {
    notice_id: String,
    #[serde(default, deserialize_with = "opt_i64")]
    product_id: Option<i64>,
    #[serde(deserialize_with = "i64_from")]
    event_type: i64,
    #[serde(default, deserialize_with = "opt_i64")]
    notify_ms: Option<i64>,
    #[serde(default)]
    payload: WirePayload,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WirePayload {
    cname: Option<String>,
    #[serde(deserialize_with = "opt_str_or_int")]
    uid: Option<String>,
    sid: Option<String>,
    #[serde(deserialize_with = "opt_i64")]
    sequence: Option<i64>,
    #[serde(deserialize_with = "opt_i64")]
    sendts: Option<i64>,
    service_type: Option<ServiceType>,
    details: Option<Map<String, Value>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Notification {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireNotification::deserialize(deserializer)?;
        let payload = wire.payload;
        let event_type = EventType::from_code(wire.event_type);
        Ok(Self {
            notice_id: wire.notice_id,
            product_id: wire.product_id,
            notify_ms: wire.notify_ms,
            payload: Payload {
                cname: payload.cname,
                uid: payload.uid,
                sid: payload.sid,
                sequence: payload.sequence,
                sendts: payload.sendts,
                service_type: payload.service_type,
                details: Details::from_object(event_type, payload.details.unwrap_or_default()),
                extra: payload.extra,
            },
            extra: wire.extra,
        })
    }
}

impl Serialize for Notification {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            notice_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            product_id: Option<i64>,
            event_type: EventType,
            #[serde(skip_serializing_if = "Option::is_none")]
            notify_ms: Option<i64>,
            payload: &'a Payload,
            #[serde(flatten)]
            extra: &'a Map<String, Value>,
        }
        Wire {
            notice_id: &self.notice_id,
            product_id: self.product_id,
            event_type: self.event_type(),
            notify_ms: self.notify_ms,
            payload: &self.payload,
            extra: &self.extra,
        }
        .serialize(serializer)
    }
}
