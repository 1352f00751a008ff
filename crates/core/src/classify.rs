//! Classification: from an HTTP answer or a transport failure to a typed success
//! or a [`Failure`] with its [`Resolution`].

use std::time::Duration;

use std::borrow::Cow;

use cloudrec_types::{Endpoint, ResourceId, Sid};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::failure::{Answered, clip, keep_text};
use crate::table::{Rule, StatusTable};
use crate::{Failure, FailureKind, HttpResponse, Outcome, Resolution, TransportError};

/// Decodes the answer to a call of `endpoint`: the typed response `T` for HTTP 200
/// with a readable body, otherwise a classified [`Failure`].
///
/// Never panics, whatever the status and body.
pub fn decode<T: DeserializeOwned>(
    endpoint: Endpoint,
    response: &HttpResponse,
) -> Result<T, Failure> {
    // One UTF-8 check of the whole body, then a parse that checks no string again
    // (JSON is UTF-8; a body that is not cannot be the documented response).
    if response.status == 200
        && let Ok(body) = std::str::from_utf8(&response.body)
        && let Ok(value) = serde_json::from_str::<T>(body)
    {
        return Ok(value);
    }
    Err(classify_failure(endpoint, response))
}

/// [`decode`] as an [`Outcome`].
pub fn classify<T: DeserializeOwned>(endpoint: Endpoint, response: &HttpResponse) -> Outcome<T> {
    decode(endpoint, response).into()
}

/// Classifies an answer that is known not to be a readable success (any status
/// other than 200, or a 200 whose body did not decode).
///
/// The body is read as either error form; the status table decides the
/// resolution, and an answer the table does not know falls back on the HTTP status
/// family, keeping the raw code and text.
pub fn classify_failure(endpoint: Endpoint, response: &HttpResponse) -> Failure {
    let (answered, _) = read_answer(endpoint, response);
    Failure::answered(endpoint, answered)
}

/// The fields of [`ErrorBody`](cloudrec_types::ErrorBody) that classification
/// reads, borrowed from the body where no unescaping is needed, so that reading
/// an error allocates only what the [`Failure`] keeps.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawErrorBody<'a> {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default, borrow)]
    reason: Option<Text<'a>>,
    #[serde(default, borrow)]
    message: Option<Text<'a>>,
    #[serde(default, borrow)]
    sid: Option<Text<'a>>,
    #[serde(default, borrow)]
    resource_id: Option<Text<'a>>,
}

/// A JSON string borrowed from the body when it has no escapes, else owned.
/// (serde borrows a bare `Cow<str>` field but not one inside an `Option`.)
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// Reads a failed answer and finds its table row, if the table has one.
pub(crate) fn read_answer(
    endpoint: Endpoint,
    response: &HttpResponse,
) -> (Answered, Option<&'static Rule>) {
    let status = response.status;
    // One UTF-8 check of the whole body, then a parse that checks no string again.
    let body = std::str::from_utf8(&response.body)
        .ok()
        .and_then(|body| serde_json::from_str::<RawErrorBody<'_>>(body).ok());
    let table = StatusTable::get();

    let (kind, code, text, rule, sid, resource_id) = match body {
        Some(body) => {
            let code = body.code;
            let message = body.message.map(|text| text.0);
            let reason = body.reason.map(|text| text.0);
            let kind = match (code, &message, &reason) {
                (Some(_), _, _) | (None, None, Some(_)) => FailureKind::Service,
                (None, Some(_), _) => FailureKind::Gateway,
                (None, None, None) if status == 200 => FailureKind::UnreadableSuccess,
                (None, None, None) => FailureKind::UnreadableError,
            };
            let rule = match (code, message.as_deref()) {
                (Some(code), _) => table.lookup_code(endpoint, status, code),
                (None, Some(message)) => table.lookup_message(status, message),
                (None, None) => None,
            };
            let sid = body
                .sid
                .filter(|sid| !sid.0.is_empty())
                .and_then(|sid| Sid::new(sid.0.into_owned()).ok());
            let resource_id = body
                .resource_id
                .and_then(|id| ResourceId::new(id.0.into_owned()).ok());
            let documented = rule.map(Rule::text);
            let text = reason.or(message).map(|text| keep_text(&text, documented));
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
    (answered, rule)
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

/// Reads `Retry-After` in its delay-seconds form.
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
            body: body.as_bytes().to_vec(),
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
        let ok: Result<serde_json::Value, _> = decode(Endpoint::Acquire, &answer(200, "{}"));
        assert!(ok.is_ok());
        let bad = decode::<u32>(Endpoint::Acquire, &answer(200, "{}")).unwrap_err();
        assert_eq!(bad.kind(), FailureKind::UnreadableSuccess);
        let html = classify_failure(Endpoint::Query, &answer(502, "<html>bad gateway</html>"));
        assert_eq!(html.kind(), FailureKind::UnreadableError);
        assert_eq!(html.resolution(), Resolution::RetryBackoff);
        assert_eq!(html.text(), Some("<html>bad gateway</html>"));
    }
}
