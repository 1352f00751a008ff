//! Decoding of the 200 bodies: [`ResponseBody`], a fast path per response type,
//! and the derived serde decoder as the fallback.

mod envelope;
mod files;
mod server;
mod services;
mod values;

#[cfg(test)]
mod tests;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::json::Reader;
use crate::{AcquireResponse, QueryResponse, StartResponse, StopResponse, UpdateResponse};

/// A response body that decodes from the bytes of an HTTP 200 answer.
///
/// [`from_json`](Self::from_json) gives exactly what the derived [`Deserialize`]
/// implementation gives through `serde_json::from_slice`: like it, it checks the
/// UTF-8 of the strings it keeps and of the keys it reads, not of values it
/// skips. The response types of this crate first try a hand-written reader that
/// handles the documented shapes (plain strings, integers, the known keys in any
/// order, unknown keys of any shape) in one pass and falls back to serde_json for
/// anything it does not read itself; that fast path returns a value only when it
/// is the one serde_json gives. Its strings are [`Text`](crate::Text)s that share
/// the body's buffer instead of copying it.
///
/// ```
/// use cloudrec_types::{Bytes, ResponseBody, StartResponse};
///
/// let body = Bytes::from_static(br#"{"cname":"room1","uid":"527841","resourceId":"res","sid":"38f8e3cf"}"#);
/// let started = StartResponse::from_json(&body)?;
/// assert_eq!(started.sid.as_str(), "38f8e3cf");
/// assert!(StartResponse::from_json(&Bytes::from_static(br#"{"cname":"room1"}"#)).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// [`Deserialize`]: serde::Deserialize
pub trait ResponseBody: DeserializeOwned {
    /// Decodes a body with `serde_json::from_slice`. Types may override it with a
    /// faster decoder that gives the same result.
    fn from_json(body: &Bytes) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

/// The fast path when it reads the whole body, else serde_json.
fn decode<T: DeserializeOwned>(
    body: &Bytes,
    fast: fn(&mut Reader<'_>) -> Option<T>,
) -> Result<T, serde_json::Error> {
    let mut reader = Reader::shared(body);
    if let Some(value) = fast(&mut reader)
        && reader.end().is_some()
    {
        return Ok(value);
    }
    serde_json::from_slice(body)
}

impl ResponseBody for AcquireResponse {
    fn from_json(body: &Bytes) -> Result<Self, serde_json::Error> {
        decode(body, envelope::acquire)
    }
}

impl ResponseBody for StartResponse {
    fn from_json(body: &Bytes) -> Result<Self, serde_json::Error> {
        decode(body, envelope::start)
    }
}

/// Also the body of updateLayout ([`UpdateLayoutResponse`](crate::UpdateLayoutResponse)).
impl ResponseBody for UpdateResponse {
    fn from_json(body: &Bytes) -> Result<Self, serde_json::Error> {
        decode(body, envelope::update)
    }
}

impl ResponseBody for QueryResponse {
    fn from_json(body: &Bytes) -> Result<Self, serde_json::Error> {
        decode(body, envelope::query)
    }
}

impl ResponseBody for StopResponse {
    fn from_json(body: &Bytes) -> Result<Self, serde_json::Error> {
        decode(body, envelope::stop)
    }
}
