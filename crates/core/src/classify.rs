//! Classification: from an HTTP answer or a transport failure to a typed success
//! or a [`Failure`] with its [`Resolution`].

use std::time::Duration;

use cloudrec_types::{Endpoint, ErrorBody, ResourceId, Sid};
use serde::de::DeserializeOwned;

use crate::failure::{Answered, clip};
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
    if response.status == 200
        && let Ok(value) = serde_json::from_slice::<T>(&response.body)
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

/// Reads a failed answer and finds its table row, if the table has one.
pub(crate) fn read_answer(
    endpoint: Endpoint,
    response: &HttpResponse,
) -> (Answered, Option<&'static Rule>) {
    let status = response.status;
    let body = serde_json::from_slice::<ErrorBody>(&response.body).ok();
    let table = StatusTable::get();

    let (kind, code, text, rule, sid, resource_id) = match body {
        Some(body) => {
            let code = body.code;
            let kind = match (code, &body.message, &body.reason) {
                (Some(_), _, _) | (None, None, Some(_)) => FailureKind::Service,
                (None, Some(_), _) => FailureKind::Gateway,
                (None, None, None) if status == 200 => FailureKind::UnreadableSuccess,
                (None, None, None) => FailureKind::UnreadableError,
            };
            let rule = match (code, body.message.as_deref()) {
                (Some(code), _) => table.lookup_code(endpoint, status, code),
                (None, Some(message)) => table.lookup_message(status, message),
                (None, None) => None,
            };
            let sid = body.non_empty_sid().and_then(|sid| Sid::new(sid).ok());
            let resource_id = body
                .resource_id
                .as_deref()
                .and_then(|id| ResourceId::new(id).ok());
            let text = body.text().map(clip);
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
            let text = (!text.is_empty()).then(|| clip(text));
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
