//! Shared bodies of the cloudrec fuzz targets.
//!
//! Each target feeds arbitrary bytes to one entry point and checks what must hold
//! whatever the input: no panic, and a classified failure that says what it is.

use std::fmt::Debug;
use std::time::Duration;

use cloudrec_core::{HttpResponse, Next, Outcome, RetryPolicy, classify_reply, decode};
use cloudrec_types::{Bytes, Endpoint, ResponseBody};

/// Splits the input into an HTTP status (first two bytes), a `Retry-After` value
/// (third byte, when odd), and the body (the rest).
fn response(data: &[u8]) -> HttpResponse {
    let status = match data {
        [high, low, ..] => u16::from_be_bytes([*high, *low]) % 1000,
        _ => 200,
    };
    let retry_after = data
        .get(2)
        .filter(|b| *b % 2 == 1)
        .map(|b| (u32::from(*b) * 7).to_string());
    HttpResponse {
        status,
        retry_after,
        request_id: None,
        body: Bytes::copy_from_slice(data.get(3..).unwrap_or_default()),
    }
}

/// Classifies the input as an answer to `endpoint`, then runs the retry decision.
pub fn classify(endpoint: Endpoint, data: &[u8]) {
    let response = response(data);
    match classify_reply(endpoint, &response) {
        Outcome::Success(reply) => {
            assert_eq!(response.status, 200, "a success that is not HTTP 200");
            assert_eq!(reply.endpoint(), endpoint);
        }
        Outcome::Failure(failure) => {
            assert_eq!(failure.http_status(), Some(response.status));
            assert!(failure.text().is_none_or(|text| text.len() <= 512));
            assert!(!failure.to_string().is_empty());
            let policy = RetryPolicy::default();
            let jitter = f64::from(data.first().copied().unwrap_or(0)) / 255.0;
            for attempt in 1..=policy.max_attempts() {
                let elapsed = Duration::from_secs(u64::from(attempt) * 5);
                if let Next::Retry { after } | Next::Failover { after } =
                    policy.decide(&failure, attempt, elapsed, jitter)
                {
                    assert!(elapsed + after <= policy.deadline());
                }
            }
        }
    }
}

/// Decodes the input as the 200 body of a response type.
pub fn decode_as<T: ResponseBody>(endpoint: Endpoint, data: &[u8]) {
    let response = HttpResponse {
        status: 200,
        retry_after: None,
        request_id: None,
        body: Bytes::copy_from_slice(data),
    };
    if let Err(failure) = decode::<T>(endpoint, &response) {
        assert_eq!(failure.http_status(), Some(200));
        assert!(!failure.to_string().is_empty());
    }
}

/// Decodes the input with [`ResponseBody::from_json`] (the fast path first) and
/// with the derived decoder alone (`serde_json::from_slice`): both must accept
/// the same bodies and give the same value.
pub fn agrees<T: ResponseBody + PartialEq + Debug>(data: &[u8]) {
    let fast = T::from_json(&Bytes::copy_from_slice(data)).ok();
    let derived = serde_json::from_slice::<T>(data).ok();
    assert_eq!(fast, derived, "{:?}", String::from_utf8_lossy(data));
}
