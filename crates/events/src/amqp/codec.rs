//! The AMQP message of an event in either content mode, and back.

use std::collections::BTreeMap;
use std::time::UNIX_EPOCH;

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString};
use serde_json::Value;

use super::ContentMode;
use crate::EventsError;
use crate::envelope::{CONTENT_TYPE, CloudEvent, DATA_CONTENT_TYPE, Parts, RESERVED, SPEC_VERSION};

/// The prefix of the binary-mode attribute headers.
pub(crate) const HEADER_PREFIX: &str = "ce-";

/// The body and properties of `event`'s message in `mode`.
pub(crate) fn encode(event: &CloudEvent, mode: ContentMode) -> (Vec<u8>, BasicProperties) {
    let timestamp = event
        .time()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let properties = BasicProperties::default()
        .with_delivery_mode(2)
        .with_message_id(event.id().into())
        .with_type(event.event_type().into())
        .with_timestamp(timestamp);
    match mode {
        ContentMode::Structured => (
            event.to_json(),
            properties.with_content_type(CONTENT_TYPE.into()),
        ),
        ContentMode::Binary => {
            let mut headers = FieldTable::default();
            let mut put = |name: &str, value: &str| {
                headers.insert(
                    format!("{HEADER_PREFIX}{name}").into(),
                    AMQPValue::LongString(LongString::from(value)),
                );
            };
            put("specversion", SPEC_VERSION);
            put("id", event.id());
            put("source", event.source());
            put("type", &event.event_type());
            if let Some(subject) = event.subject() {
                put("subject", subject);
            }
            put("time", &event.time_text());
            for (name, value) in event.extensions() {
                put(name, value);
            }
            // Serialising a JSON value cannot fail.
            let body = serde_json::to_vec(event.data()).unwrap_or_default();
            (
                body,
                properties
                    .with_content_type(DATA_CONTENT_TYPE.into())
                    .with_headers(headers),
            )
        }
    }
}

fn refused(reason: impl Into<String>) -> EventsError {
    EventsError::AmqpMessage {
        reason: reason.into(),
    }
}

/// The `ce-` headers by attribute name (lowercase), their values as text.
fn attribute_headers(
    properties: &BasicProperties,
) -> Result<BTreeMap<String, String>, EventsError> {
    let mut attributes = BTreeMap::new();
    let Some(headers) = properties.headers() else {
        return Ok(attributes);
    };
    for (name, value) in headers.inner() {
        let name = name.as_str().to_ascii_lowercase();
        let Some(attribute) = name.strip_prefix(HEADER_PREFIX) else {
            continue;
        };
        let text = match value {
            AMQPValue::LongString(text) => String::from_utf8(text.as_bytes().to_vec()).ok(),
            AMQPValue::ShortString(text) => Some(text.as_str().to_owned()),
            _ => None,
        }
        .ok_or_else(|| refused(format!("binary-mode header {name} is not a UTF-8 string")))?;
        attributes.insert(attribute.to_owned(), text);
    }
    Ok(attributes)
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == DATA_CONTENT_TYPE || essence.ends_with("+json") || essence == "text/json"
}

impl CloudEvent {
    /// Decodes an AMQP message in either [`ContentMode`], by its content type as the
    /// CloudEvents RabbitMQ binding says: `application/cloudevents+json` (or any
    /// `application/cloudevents…`) is structured mode, decoded with
    /// [`CloudEvent::from_json`]; anything else is binary mode, the attributes read
    /// from the `ce-` headers and `data` from the JSON body. A message with neither a
    /// content type nor a `ce-specversion` header is taken as structured.
    ///
    /// The error names what is missing or wrong, e.g. `binary-mode message has no
    /// ce-id header`.
    pub fn from_amqp(properties: &BasicProperties, body: &[u8]) -> Result<Self, EventsError> {
        let content_type = properties
            .content_type()
            .as_ref()
            .map(|c| c.as_str().to_owned());
        let mut attributes = attribute_headers(properties)?;
        let structured = match &content_type {
            Some(kind) => kind
                .to_ascii_lowercase()
                .starts_with("application/cloudevents"),
            None => !attributes.contains_key("specversion"),
        };
        if structured {
            return Self::from_json(body);
        }
        if let Some(kind) = content_type.as_deref().filter(|kind| !is_json(kind)) {
            return Err(refused(format!(
                "binary-mode message has content type {kind}; cloudrec events carry JSON data (application/json)"
            )));
        }
        let mut take = |name: &str| {
            attributes.remove(name).ok_or_else(|| {
                refused(format!(
                    "binary-mode message has no {HEADER_PREFIX}{name} header"
                ))
            })
        };
        let id = take("id")?;
        let source = take("source")?;
        let event_type = take("type")?;
        let specversion = take("specversion")?;
        let time = take("time")?;
        let subject = attributes.remove("subject");
        let data = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body)
                .map_err(|e| refused(format!("binary-mode message body is not JSON: {e}")))?
        };
        let extensions = attributes
            .into_iter()
            .filter(|(name, _)| !RESERVED.contains(&name.as_str()))
            .collect();
        Self::from_parts(Parts {
            specversion: &specversion,
            id,
            source,
            event_type: &event_type,
            subject,
            time: &time,
            data,
            extensions,
        })
        .map_err(|reason| refused(format!("binary-mode message: {reason}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn events() -> Vec<CloudEvent> {
        catalog::every_kind()
            .iter()
            .enumerate()
            .map(|(n, event)| {
                let mut envelope = CloudEvent::from_event(event, "/test");
                if n % 3 == 0 {
                    envelope.set_extension("region", "eu").unwrap();
                }
                envelope
            })
            .collect()
    }

    #[test]
    fn both_modes_round_trip() {
        for mode in [ContentMode::Structured, ContentMode::Binary] {
            for event in events() {
                let (body, properties) = encode(&event, mode);
                assert_eq!(CloudEvent::from_amqp(&properties, &body).unwrap(), event);
            }
        }
    }

    #[test]
    fn binary_mode_puts_the_attributes_in_headers_and_data_in_the_body() {
        let event = &events()[0];
        let (body, properties) = encode(event, ContentMode::Binary);
        assert_eq!(
            properties.content_type().as_ref().unwrap().as_str(),
            "application/json"
        );
        assert_eq!(
            &serde_json::from_slice::<Value>(&body).unwrap(),
            event.data()
        );
        let headers = attribute_headers(&properties).unwrap();
        assert_eq!(headers["id"], event.id());
        assert_eq!(headers["region"], "eu");
        assert_eq!(headers["time"], event.time_text());
    }

    #[test]
    fn missing_and_wrong_headers_are_named() {
        let event = &events()[0];
        let (body, properties) = encode(event, ContentMode::Binary);
        for header in ["ce-id", "ce-source", "ce-type", "ce-time", "ce-specversion"] {
            let mut headers = properties.headers().clone().unwrap();
            let mut kept = FieldTable::default();
            for (name, value) in headers.inner() {
                if name.as_str() != header {
                    kept.insert(name.clone(), value.clone());
                }
            }
            headers = kept;
            let stripped = properties.clone().with_headers(headers);
            let error = CloudEvent::from_amqp(&stripped, &body)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(&format!("binary-mode message has no {header} header")),
                "{error}"
            );
        }
        let text = properties.clone().with_content_type("text/plain".into());
        let error = CloudEvent::from_amqp(&text, &body).unwrap_err().to_string();
        assert!(error.contains("content type text/plain"), "{error}");
        let error = CloudEvent::from_amqp(&properties, b"{no")
            .unwrap_err()
            .to_string();
        assert!(error.contains("body is not JSON"), "{error}");
    }
}
