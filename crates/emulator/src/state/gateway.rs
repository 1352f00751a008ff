//! What the gateway checks before a call reaches the service: credentials and rate.

use std::time::Instant;

use base64::Engine as _;

use super::{Reply, State};

/// A token bucket per App ID, in real time.
#[derive(Debug)]
pub(super) struct Bucket {
    pub(super) tokens: f64,
    pub(super) last: Instant,
}

impl State {
    /// The gateway's answer to missing or wrong Basic credentials, if they are.
    pub(crate) fn check_auth(&self, header: Option<&http::HeaderValue>) -> Option<Reply> {
        let Some(header) = header else {
            return Some(Reply::gateway(401, "Unauthorized"));
        };
        if header.as_bytes() == self.expected_auth.as_bytes() {
            return None;
        }
        // Tolerate another spelling of the scheme and padding around the token.
        let accepted = header
            .to_str()
            .ok()
            .and_then(|value| value.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .and_then(|(_, token)| {
                base64::engine::general_purpose::STANDARD
                    .decode(token.trim())
                    .ok()
            })
            .is_some_and(|decoded| basic_authorization_bytes(&decoded) == self.expected_auth);
        if accepted {
            None
        } else {
            Some(Reply::gateway(401, "Invalid authentication credentials"))
        }
    }

    /// Takes a token from the App ID's bucket; false when the rate is exceeded.
    pub(crate) fn admit(&mut self) -> bool {
        let rate = f64::from(self.config.rate_limit_per_sec);
        if rate <= 0.0 {
            return true;
        }
        let now = Instant::now();
        let refill = now.duration_since(self.bucket.last).as_secs_f64() * rate;
        self.bucket.tokens = (self.bucket.tokens + refill).min(rate);
        self.bucket.last = now;
        if self.bucket.tokens >= 1.0 {
            self.bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The `Authorization` header value for Basic credentials.
pub(super) fn basic_authorization(id: &str, secret: &str) -> String {
    basic_authorization_bytes(format!("{id}:{secret}").as_bytes())
}

fn basic_authorization_bytes(pair: &[u8]) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}
