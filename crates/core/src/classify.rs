//! Classification: from an HTTP answer or a transport failure to a typed success
//! or a [`Failure`] with its [`Resolution`].

use std::time::Duration;

use std::borrow::Cow;

use cloudrec_types::{Endpoint, ErrorBodyRef, ResourceId, ResponseBody, Sid};

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
    let fields = ErrorBodyRef::from_json(&response.body);
    let table = StatusTable::get();

    let (kind, code, text, rule, sid, resource_id) = match fields {
        Some(body) => {
            let code = body.code;
            let (reason, message) = (body.reason.as_deref(), body.message.as_deref());
            let (sid, resource_id) = (body.sid.as_deref(), body.resource_id.as_deref());
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

    #[test]
    fn a_string_code_is_classified_like_the_number() {
        let number = classify_failure(
            Endpoint::Start,
            &answer(200, r#"{"code":65,"reason":"request not completed"}"#),
        );
        let text = classify_failure(
            Endpoint::Start,
            &answer(200, r#"{"code":"65","reason":"request not completed"}"#),
        );
        assert_eq!(text.code(), Some(65));
        assert_eq!(text.kind(), FailureKind::Service);
        assert_eq!(text.resolution(), number.resolution());
        let body: cloudrec_types::ErrorBody =
            serde_json::from_str(r#"{"code":"65","reason":"request not completed"}"#).unwrap();
        assert_eq!(body.code, text.code());
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
