//! Classification: from an HTTP answer or a transport failure to a typed success
//! or a [`Failure`] with its [`Resolution`].

use std::time::Duration;

use std::borrow::Cow;

use cloudrec_types::json::Reader;
use cloudrec_types::{Endpoint, ResourceId, ResponseBody, Sid};
use serde::Deserialize;

use crate::failure::{Answered, clip, keep_text};
use crate::table::{Rule, StatusTable};
use crate::{Failure, FailureKind, HttpResponse, Outcome, Resolution, TransportError};

/// Decodes the answer to a call of `endpoint`: the typed response `T` for HTTP 200
/// with a readable body ([`ResponseBody::from_json`]), otherwise a classified
/// [`Failure`].
///
/// Never panics, whatever the status and body.
pub fn decode<T: ResponseBody>(endpoint: Endpoint, response: &HttpResponse) -> Result<T, Failure> {
    if response.status == 200
        && let Ok(value) = T::from_json(&response.body)
    {
        return Ok(value);
    }
    Err(classify_failure(endpoint, response))
}

/// [`decode`] as an [`Outcome`].
pub fn classify<T: ResponseBody>(endpoint: Endpoint, response: &HttpResponse) -> Outcome<T> {
    decode(endpoint, response).into()
}

/// Classifies an answer that is known not to be a readable success (any status
/// other than 200, or a 200 whose body did not decode).
///
/// The body is read as either error form; the status table decides the
/// resolution, and an answer the table does not know falls back on the HTTP status
/// family, keeping the raw code and text.
pub fn classify_failure(endpoint: Endpoint, response: &HttpResponse) -> Failure {
    read_answer(endpoint, response).0
}

/// The fields of an error body that classification reads, as plain strings
/// borrowed from the body or from its [`RawErrorBody`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ErrorFields<'a> {
    code: Option<i64>,
    reason: Option<&'a str>,
    message: Option<&'a str>,
    sid: Option<&'a str>,
    resource_id: Option<&'a str>,
}

/// The fields of [`ErrorBody`](cloudrec_types::ErrorBody) that classification
/// reads, as serde_json decodes them when [`read_flat`] cannot: borrowed from the
/// body where no unescaping is needed, so that reading an error allocates only
/// what the [`Failure`] keeps.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawErrorBody<'a> {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default, borrow)]
    reason: Option<JsonStr<'a>>,
    #[serde(default, borrow)]
    message: Option<JsonStr<'a>>,
    #[serde(default, borrow)]
    sid: Option<JsonStr<'a>>,
    #[serde(default, borrow)]
    resource_id: Option<JsonStr<'a>>,
}

/// A JSON string borrowed from the body when it has no escapes, else owned.
/// (serde borrows a bare `Cow<str>` field but not one inside an `Option`.)
#[derive(Debug)]
struct JsonStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for JsonStr<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = JsonStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<JsonStr<'de>, E> {
                Ok(JsonStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<JsonStr<'de>, E> {
                Ok(JsonStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<JsonStr<'de>, E> {
                Ok(JsonStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

impl RawErrorBody<'_> {
    /// The decoded fields, borrowed.
    fn fields(&self) -> ErrorFields<'_> {
        ErrorFields {
            code: self.code,
            reason: self.reason.as_ref().map(JsonStr::as_str),
            message: self.message.as_ref().map(JsonStr::as_str),
            sid: self.sid.as_ref().map(JsonStr::as_str),
            resource_id: self.resource_id.as_ref().map(JsonStr::as_str),
        }
    }
}

impl JsonStr<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }
}

/// Reads an error body as the derived decoder of [`RawErrorBody`] would, with the
/// fast [`Reader`]: the fields classification keeps must be strings without
/// escapes, integers of up to 18 digits or `null` (every documented error body has
/// only these); any other field is skipped, whatever its shape. Returns `None` for
/// anything else (an escape or a float in a kept field, a repeated field, a body
/// that is not one object), and the caller then parses with serde_json. For every
/// body this accepts, the result is the one serde_json gives.
fn read_flat(body: &[u8]) -> Option<ErrorFields<'_>> {
    let mut reader = Reader::new(body);
    let mut fields = ErrorFields::default();
    let mut seen = 0u8;
    reader.object(|reader, key| {
        let (bit, slot) = match key {
            b"code" => (1, None),
            b"reason" => (2, Some(&mut fields.reason)),
            b"message" => (4, Some(&mut fields.message)),
            b"sid" => (8, Some(&mut fields.sid)),
            b"resourceId" => (16, Some(&mut fields.resource_id)),
            _ => return reader.skip(),
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        let null = reader.null();
        match slot {
            None => fields.code = if null { None } else { Some(reader.integer()?) },
            Some(slot) if null => *slot = None,
            Some(slot) => *slot = Some(reader.string()?),
        }
        Some(())
    })?;
    reader.end()?;
    Some(fields)
}

/// Classifies a failed answer, with the table row it was found in, if the table
/// has one. Inlined into [`classify_failure`], so that the failure is built where
/// it is returned.
#[inline]
pub(crate) fn read_answer(
    endpoint: Endpoint,
    response: &HttpResponse,
) -> (Failure, Option<&'static Rule>) {
    let status = response.status;
    // Strings are checked for UTF-8 where they are read, as serde_json does.
    let decoded: Option<RawErrorBody<'_>>;
    let fields = match read_flat(&response.body) {
        Some(fields) => Some(fields),
        None => {
            decoded = serde_json::from_slice(&response.body).ok();
            decoded.as_ref().map(RawErrorBody::fields)
        }
    };
    let table = StatusTable::get();

    let (kind, code, text, rule, sid, resource_id) = match fields {
        Some(ErrorFields {
            code,
            reason,
            message,
            sid,
            resource_id,
        }) => {
            let kind = match (code, message, reason) {
                (Some(_), _, _) | (None, None, Some(_)) => FailureKind::Service,
                (None, Some(_), _) => FailureKind::Gateway,
                (None, None, None) if status == 200 => FailureKind::UnreadableSuccess,
                (None, None, None) => FailureKind::UnreadableError,
            };
            let rule = match (code, message) {
                (Some(code), _) => table.lookup_code(endpoint, status, code),
                (None, Some(message)) => table.lookup_message(status, message),
                (None, None) => None,
            };
            let sid = sid
                .filter(|sid| !sid.is_empty())
                .and_then(|sid| Sid::new(sid).ok());
            let resource_id = resource_id.and_then(|id| ResourceId::new(id).ok());
            let documented = rule.map(Rule::text);
            let text = reason.or(message).map(|text| keep_text(text, documented));
            (kind, code, text, rule, sid, resource_id)
        }
        None => {
            let kind = if status == 200 {
                FailureKind::UnreadableSuccess
            } else {
                FailureKind::UnreadableError
            };
            let text = String::from_utf8_lossy(&response.body);
            let text = text.trim();
            let text = (!text.is_empty()).then(|| Cow::Owned(clip(text)));
            (kind, None, text, None, None, None)
        }
    };
    let resolution = rule.map_or_else(|| fallback(status), Rule::resolution);

    let answered = Answered {
        kind,
        http_status: status,
        code,
        text,
        request_id: response.request_id.as_deref().map(clip),
        retry_after: parse_retry_after(response.retry_after.as_deref()),
        resolution,
        sid,
        resource_id,
    };
    (Failure::answered(endpoint, answered), rule)
}

/// Classifies a request that got no answer. The resolution is `retry_backoff`;
/// whether a retry is safe depends on [`Failure::delivery`], which the
/// [`RetryPolicy`](crate::RetryPolicy) takes into account.
pub fn classify_transport(endpoint: Endpoint, error: &TransportError) -> Failure {
    Failure::no_answer(endpoint, error.clone(), Resolution::RetryBackoff)
}

/// The resolution of an answer the table does not know, by HTTP status family.
///
/// A 404 without a known task code is a routing miss and is never retried.
pub fn fallback(status: u16) -> Resolution {
    match status {
        401 | 403 => Resolution::FixCredentials,
        429 => Resolution::ReduceRate,
        300..=499 => Resolution::FixRequest,
        // 2xx other than 200 (the service's "reached the backend but not completed"),
        // 5xx, and statuses no service sends (a broken intermediary).
        _ => Resolution::RetryBackoff,
    }
}

/// Reads `Retry-After` in its delay-seconds form (the transport has turned a
/// date into it).
fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            retry_after: None,
            request_id: None,
            body: cloudrec_types::Bytes::copy_from_slice(body.as_bytes()),
        }
    }

    #[test]
    fn escaped_and_plain_texts_both_read() {
        let escaped = classify_failure(
            Endpoint::Start,
            &answer(400, r#"{"code":2,"reason":"bad \"uid\" \u00e9"}"#),
        );
        assert_eq!(escaped.text(), Some("bad \"uid\" é"));
        let plain = classify_failure(
            Endpoint::Start,
            &answer(400, r#"{"code":2,"reason":"bad"}"#),
        );
        assert_eq!(plain.text(), Some("bad"));
        let not_text = classify_failure(Endpoint::Start, &answer(400, r#"{"code":2,"reason":7}"#));
        assert_eq!(not_text.kind(), FailureKind::UnreadableError);
    }

    #[test]
    fn only_the_strings_read_must_be_utf8() {
        let classify = |body: &'static [u8]| {
            let response = HttpResponse {
                status: 400,
                retry_after: None,
                request_id: None,
                body: cloudrec_types::Bytes::from_static(body),
            };
            classify_failure(Endpoint::Start, &response)
        };
        let skipped = classify(b"{\"code\":2,\"reason\":\"bad\",\"extra\":\"\xff\"}");
        assert_eq!(
            (skipped.kind(), skipped.code(), skipped.text()),
            (FailureKind::Service, Some(2), Some("bad"))
        );
        let kept = classify(b"{\"code\":2,\"reason\":\"\xff\"}");
        assert_eq!(kept.kind(), FailureKind::UnreadableError);
    }

    /// The flat reader gives serde_json's answer for every body it accepts.
    fn same_as_serde(body: &[u8]) -> usize {
        let Some(flat) = read_flat(body) else {
            return 0;
        };
        let serde = serde_json::from_slice::<RawErrorBody<'_>>(body).ok();
        assert_eq!(
            Some(flat),
            serde.as_ref().map(RawErrorBody::fields),
            "{:?}",
            String::from_utf8_lossy(body)
        );
        1
    }

    #[test]
    fn the_flat_reader_agrees_with_serde() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../types/tests/fixtures");
        let mut bodies: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
            .collect();
        bodies.extend(
            [
                r#"{}"#,
                r#" { } "#,
                r#"{"code":62}"#,
                r#"{"code":062}"#,
                r#"{"code":-0}"#,
                r#"{"code":-5}"#,
                r#"{"code":6.0}"#,
                r#"{"code":6e1}"#,
                r#"{"code":"62"}"#,
                r#"{"code":null,"reason":null}"#,
                r#"{"code":1,"code":2}"#,
                r#"{"x":1,"x":2,"code":3}"#,
                r#"{"code":123456789012345678}"#,
                r#"{"code":1234567890123456789}"#,
                r#"{"code":99999999999999999999}"#,
                r#"{"code":12.5,"n":1234567890123456789,"m":-1e5,"z":01}"#,
                r#"{"reason":"a\u00e9\n","sid":"\"","x":"\\","y":[1,{"z":[]}]}"#,
                r#"{"message":"m","serverResponse":{"a":[1,2,{"b":"c"}]},"code":3}"#,
                r#"{"code":"5","reason":["x"]}"#,
                r#"{"reason":"a\"b"}"#,
                r#"{"reason":"é"}"#,
                r#"{"reason":7}"#,
                r#"{"reason":true}"#,
                r#"{"message":"m","sid":"","resourceId":"r"}"#,
                r#"{"flag":true,"other":false,"none":null,"n":0,"code":2}"#,
                r#"{"code":2,}"#,
                r#"{"code":2"#,
                r#"{"code":2} x"#,
                r#"{"code" 2}"#,
                r#"{code:2}"#,
                r#"{"code":2}{}"#,
                r#"{"code":nul}"#,
                r#"{"code":2,"nested":{"a":1}}"#,
                "{\"reason\":\"tab\there\"}",
                "\u{feff}{\"code\":2}",
                "\t{\r\n\"code\"\t:\n2\r}\n",
            ]
            .map(str::to_owned),
        );
        let mut read = 0;
        for body in &bodies {
            let body = body.as_bytes();
            read += same_as_serde(body);
            // Every prefix, and every byte changed to each JSON-significant one
            // and to bytes that are not UTF-8.
            for end in 0..body.len() {
                read += same_as_serde(&body[..end]);
            }
            for at in 0..body.len().min(200) {
                for byte in *b"{}[]\",:0-9 \"\\nte\x80\xff" {
                    let mut changed = body.to_vec();
                    changed[at] = byte;
                    read += same_as_serde(&changed);
                }
            }
        }
        // The documented bodies and many variants take the flat path.
        assert!(read > 1000, "{read}");
        let timeout = r#"{"code": 62, "reason": "request timeout"}"#;
        assert_eq!(
            read_flat(timeout.as_bytes()).and_then(|raw| raw.code),
            Some(62)
        );
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        assert_eq!(parse_retry_after(Some(" 7 ")), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert_eq!(parse_retry_after(None), None);
    }

    #[test]
    fn a_readable_200_is_a_success_and_anything_else_is_classified() {
        let ok = decode::<cloudrec_types::AcquireResponse>(
            Endpoint::Acquire,
            &answer(200, r#"{"resourceId":"r"}"#),
        );
        assert_eq!(
            ok.map(|acquired| acquired.resource_id.to_string()),
            Ok("r".into())
        );
        let bad = decode::<cloudrec_types::AcquireResponse>(Endpoint::Acquire, &answer(200, "{}"))
            .unwrap_err();
        assert_eq!(bad.kind(), FailureKind::UnreadableSuccess);
        let html = classify_failure(Endpoint::Query, &answer(502, "<html>bad gateway</html>"));
        assert_eq!(html.kind(), FailureKind::UnreadableError);
        assert_eq!(html.resolution(), Resolution::RetryBackoff);
        assert_eq!(html.text(), Some("<html>bad gateway</html>"));
    }
}
