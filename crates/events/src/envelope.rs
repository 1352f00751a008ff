use std::collections::BTreeMap;
use std::time::SystemTime;

use cloudrec_core::{Event, Subject};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::EventsError;

/// The prefix of every event type this crate writes.
pub const TYPE_PREFIX: &str = "io.cloudrec.";

/// The CloudEvents `specversion` this crate writes and accepts.
pub const SPEC_VERSION: &str = "1.0";

/// The content type of a structured-mode CloudEvents JSON message (AMQP `content_type`).
pub const CONTENT_TYPE: &str = "application/cloudevents+json";

/// The `datacontenttype` of every event: `data` is a JSON object.
pub const DATA_CONTENT_TYPE: &str = "application/json";

/// The default `source` attribute, when the pipeline is not given one.
pub const DEFAULT_SOURCE: &str = "/cloudrec";

/// Event type suffix of the gap event that tells consumers how many events were lost.
pub const GAP_TYPE_SUFFIX: &str = "events.gap";

/// CloudEvents context attributes that an extension may not reuse.
pub(crate) const RESERVED: [&str; 8] = [
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "data",
];

/// How much an event is worth keeping when a bounded buffer must shed something.
///
/// Buffers shed the lowest priority first, oldest first within a priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Superseded by the next event of the same kind: status polls (which also coalesce
    /// per session) and call attempts.
    Superseded,
    /// Worth keeping, but a later event tells most of the story: retries, failovers,
    /// classified call failures and intermediate session states.
    Ordinary,
    /// Never shed to make room: acquired, waiting_until_running (start succeeded),
    /// running, stopped, stopped_no_data, failed, lost, and the gap event itself.
    Kept,
}

impl Priority {
    /// The priority of an event type suffix such as `session.running`.
    pub fn of_type_suffix(suffix: &str) -> Self {
        match suffix {
            "session.status" | "call.attempt" => Self::Superseded,
            "session.acquired"
            | "session.waiting_until_running"
            | "session.running"
            | "session.stopped"
            | "session.stopped_no_data"
            | "session.failed"
            | "session.lost"
            | GAP_TYPE_SUFFIX => Self::Kept,
            _ => Self::Ordinary,
        }
    }
}

/// One event as published: a CloudEvents 1.0 structured JSON envelope.
///
/// The pipeline builds it from a core [`Event`]: a fresh UUID v7 `id` (sortable by
/// creation time), the pipeline's `source`, `type` = `io.cloudrec.` + the kind's type
/// suffix, `subject` = `<appId>/<cname>[/<sid>]`, the event's `time` (RFC 3339, UTC) and
/// `data` = the kind's fields plus the session identity under `session`. Plugins may
/// change it before it reaches the sinks.
#[derive(Clone, Debug, PartialEq)]
pub struct CloudEvent {
    id: String,
    source: String,
    type_suffix: String,
    subject: Option<String>,
    time: SystemTime,
    data: Value,
    extensions: BTreeMap<String, String>,
}

impl CloudEvent {
    /// Wraps a core event with a new UUID v7 id, stamped with `source`.
    pub fn from_event(event: &Event, source: &str) -> Self {
        let mut data = match serde_json::to_value(&event.kind) {
            Ok(Value::Object(map)) => map,
            // The kind always serialises to an object (internally tagged enum); keep a
            // marker rather than panic if that ever changes.
            Ok(other) => {
                let mut map = Map::new();
                map.insert("value".to_owned(), other);
                map
            }
            Err(_) => Map::new(),
        };
        if let Ok(session) = serde_json::to_value(&event.subject) {
            data.insert("session".to_owned(), session);
        }
        Self {
            id: Uuid::now_v7().to_string(),
            source: source.to_owned(),
            type_suffix: event.kind.type_suffix(),
            subject: Some(subject_of(&event.subject)),
            time: event.time,
            data: Value::Object(data),
            extensions: BTreeMap::new(),
        }
    }

    /// An event this crate makes itself (such as the gap event): `type` is
    /// `io.cloudrec.` + `type_suffix`, with a new UUID v7 id.
    pub fn new(source: &str, type_suffix: &str, time: SystemTime, data: Value) -> Self {
        Self {
            id: Uuid::now_v7().to_string(),
            source: source.to_owned(),
            type_suffix: type_suffix.to_owned(),
            subject: None,
            time,
            data,
            extensions: BTreeMap::new(),
        }
    }

    /// The unique id (UUID v7 text); consumers dedupe by it. Also the AMQP `message_id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The `source` attribute.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The full `type`, e.g. `io.cloudrec.session.running`.
    pub fn event_type(&self) -> String {
        format!("{TYPE_PREFIX}{}", self.type_suffix)
    }

    /// The type after `io.cloudrec.`, e.g. `session.running`; also the AMQP routing key.
    pub fn type_suffix(&self) -> &str {
        &self.type_suffix
    }

    /// The AMQP routing key: the type suffix (`session.<state>`, `error.<resolution>`,
    /// `call.attempt|retry|failover`, `session.status`, `events.gap`).
    pub fn routing_key(&self) -> &str {
        &self.type_suffix
    }

    /// The `subject` attribute: `<appId>/<cname>[/<sid>]`.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// When it happened.
    pub fn time(&self) -> SystemTime {
        self.time
    }

    /// The `data` object.
    pub fn data(&self) -> &Value {
        &self.data
    }

    /// The `data` object, for plugins that enrich or redact it.
    pub fn data_mut(&mut self) -> &mut Value {
        &mut self.data
    }

    /// The extension attributes, written next to the context attributes.
    pub fn extensions(&self) -> &BTreeMap<String, String> {
        &self.extensions
    }

    /// Sets an extension attribute. Names are 1 to 20 lowercase ASCII letters or
    /// digits and may not be a context attribute (CloudEvents 1.0 naming rules).
    pub fn set_extension(
        &mut self,
        name: &str,
        value: impl Into<String>,
    ) -> Result<(), EventsError> {
        check_extension_name(name)?;
        self.extensions.insert(name.to_owned(), value.into());
        Ok(())
    }

    /// How much it is worth keeping when a buffer is full.
    pub fn priority(&self) -> Priority {
        Priority::of_type_suffix(&self.type_suffix)
    }

    /// The key under which superseded events replace each other: the type and the
    /// subject. `None` for events that never coalesce.
    pub fn coalesce_key(&self) -> Option<(&str, Option<&str>)> {
        (self.type_suffix == "session.status").then(|| (self.type_suffix.as_str(), self.subject()))
    }

    /// The structured-mode JSON encoding.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising a map of strings and JSON values cannot fail.
        serde_json::to_vec(&self.wire()).unwrap_or_default()
    }

    /// Decodes a structured-mode JSON event written by [`CloudEvent::to_json`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, EventsError> {
        let wire: WireIn = serde_json::from_slice(bytes).map_err(|source| EventsError::Decode {
            source: Box::new(source),
        })?;
        let mut extensions = BTreeMap::new();
        for (name, value) in wire.rest {
            if let Value::String(text) = value {
                extensions.insert(name, text);
            }
        }
        Self::from_parts(Parts {
            specversion: &wire.specversion,
            id: wire.id,
            source: wire.source,
            event_type: &wire.type_,
            subject: wire.subject,
            time: &wire.time,
            data: wire.data,
            extensions,
        })
        .map_err(|reason| EventsError::Decode {
            source: reason.into(),
        })
    }

    /// An event from its decoded attributes, checked as [`CloudEvent::from_json`]
    /// checks them; the error is the reason.
    pub(crate) fn from_parts(parts: Parts<'_>) -> Result<Self, &'static str> {
        if parts.specversion != SPEC_VERSION {
            return Err("specversion is not 1.0");
        }
        let type_suffix = parts
            .event_type
            .strip_prefix(TYPE_PREFIX)
            .ok_or("type does not start with io.cloudrec.")?
            .to_owned();
        let time = humantime::parse_rfc3339(parts.time).map_err(|_| "time is not RFC 3339 UTC")?;
        Ok(Self {
            id: parts.id,
            source: parts.source,
            type_suffix,
            subject: parts.subject,
            time,
            data: parts.data,
            extensions: parts.extensions,
        })
    }

    /// The `time` attribute as written: RFC 3339, UTC, microseconds.
    pub(crate) fn time_text(&self) -> String {
        humantime::format_rfc3339_micros(self.time).to_string()
    }

    fn wire(&self) -> WireOut<'_> {
        WireOut {
            specversion: SPEC_VERSION,
            id: &self.id,
            source: &self.source,
            type_: self.event_type(),
            subject: self.subject(),
            time: self.time_text(),
            datacontenttype: DATA_CONTENT_TYPE,
            data: &self.data,
            extensions: &self.extensions,
        }
    }
}

impl Serialize for CloudEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.wire().serialize(serializer)
    }
}

/// The attributes and data of an event being decoded, before they are checked.
pub(crate) struct Parts<'a> {
    pub(crate) specversion: &'a str,
    pub(crate) id: String,
    pub(crate) source: String,
    pub(crate) event_type: &'a str,
    pub(crate) subject: Option<String>,
    pub(crate) time: &'a str,
    pub(crate) data: Value,
    pub(crate) extensions: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct WireOut<'a> {
    specversion: &'static str,
    id: &'a str,
    source: &'a str,
    #[serde(rename = "type")]
    type_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    time: String,
    datacontenttype: &'static str,
    data: &'a Value,
    #[serde(flatten)]
    extensions: &'a BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct WireIn {
    specversion: String,
    id: String,
    source: String,
    #[serde(rename = "type")]
    type_: String,
    #[serde(default)]
    subject: Option<String>,
    time: String,
    #[serde(default)]
    data: Value,
    #[serde(default, rename = "datacontenttype")]
    _datacontenttype: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

fn subject_of(subject: &Subject) -> String {
    let mut text = subject.app_id.as_str().to_owned();
    if let Some(cname) = &subject.cname {
        text.push('/');
        text.push_str(cname.as_str());
    }
    if let Some(sid) = &subject.sid {
        text.push('/');
        text.push_str(sid.as_str());
    }
    text
}

pub(crate) fn check_extension_name(name: &str) -> Result<(), EventsError> {
    let valid = !name.is_empty()
        && name.len() <= 20
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !RESERVED.contains(&name);
    if valid {
        Ok(())
    } else {
        Err(EventsError::ExtensionName {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use cloudrec_core::{EventKind, SessionState};
    use cloudrec_types::{AppId, Cname, Sid};

    use super::*;

    fn running() -> Event {
        let mut subject = Subject::app(AppId::new("app1").unwrap());
        subject.cname = Some(Cname::new("room").unwrap());
        subject.sid = Some(Sid::new("s1").unwrap());
        Event {
            time: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            subject: std::sync::Arc::new(subject),
            kind: EventKind::StateChanged {
                from: Some(SessionState::WaitingUntilRunning),
                to: SessionState::Running,
                reason: None,
            },
        }
    }

    #[test]
    fn envelope_has_the_cloudevents_attributes() {
        let envelope = CloudEvent::from_event(&running(), "/test");
        let json: Value = serde_json::from_slice(&envelope.to_json()).unwrap();
        assert_eq!(json["specversion"], "1.0");
        assert_eq!(json["type"], "io.cloudrec.session.running");
        assert_eq!(json["source"], "/test");
        assert_eq!(json["subject"], "app1/room/s1");
        assert_eq!(json["time"], "2023-11-14T22:13:20.123000Z");
        assert_eq!(json["datacontenttype"], "application/json");
        assert_eq!(json["data"]["to"], "running");
        assert_eq!(json["data"]["from"], "waiting_until_running");
        assert_eq!(json["data"]["session"]["appId"], "app1");
        let id = Uuid::parse_str(json["id"].as_str().unwrap()).unwrap();
        assert_eq!(id.get_version_num(), 7);
        assert_eq!(envelope.routing_key(), "session.running");
    }

    #[test]
    fn ids_are_unique_and_sortable() {
        let event = running();
        let ids: Vec<String> = (0..100)
            .map(|_| CloudEvent::from_event(&event, "/t").id().to_owned())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, ids);
    }

    #[test]
    fn json_round_trips_with_extensions() {
        let mut envelope = CloudEvent::from_event(&running(), "/test");
        envelope.set_extension("region", "eu").unwrap();
        let back = CloudEvent::from_json(&envelope.to_json()).unwrap();
        assert_eq!(back, envelope);
    }

    #[test]
    fn bad_extension_names_are_rejected() {
        let mut envelope = CloudEvent::from_event(&running(), "/test");
        for name in ["", "Region", "id", "a-b", "abcdefghijklmnopqrstu"] {
            assert!(envelope.set_extension(name, "x").is_err(), "{name}");
        }
    }

    #[test]
    fn decoding_rejects_other_specs_and_types() {
        let good = CloudEvent::from_event(&running(), "/test").to_json();
        let mut json: Value = serde_json::from_slice(&good).unwrap();
        json["specversion"] = "0.3".into();
        assert!(CloudEvent::from_json(&serde_json::to_vec(&json).unwrap()).is_err());
        json["specversion"] = "1.0".into();
        json["type"] = "com.other.thing".into();
        assert!(CloudEvent::from_json(&serde_json::to_vec(&json).unwrap()).is_err());
        assert!(CloudEvent::from_json(b"\xff{").is_err());
    }

    #[test]
    fn priorities_follow_the_shedding_order() {
        assert_eq!(
            Priority::of_type_suffix("session.status"),
            Priority::Superseded
        );
        assert_eq!(
            Priority::of_type_suffix("call.attempt"),
            Priority::Superseded
        );
        assert_eq!(Priority::of_type_suffix("call.retry"), Priority::Ordinary);
        assert_eq!(
            Priority::of_type_suffix("error.fix_request"),
            Priority::Ordinary
        );
        assert_eq!(
            Priority::of_type_suffix("session.starting"),
            Priority::Ordinary
        );
        for kept in ["acquired", "running", "stopped", "failed", "lost"] {
            assert_eq!(
                Priority::of_type_suffix(&format!("session.{kept}")),
                Priority::Kept
            );
        }
    }
}
