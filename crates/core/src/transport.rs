use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use cloudrec_types::Endpoint;

/// One HTTP request to the service, fully built by the core: the transport adds
/// the host's scheme and authority, Basic auth, `Content-Type` and `User-Agent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// Which operation this is; selects the timeout and labels logs.
    pub endpoint: Endpoint,
    /// The base URL to send to, e.g. `https://api.sd-rtn.com` or
    /// `http://127.0.0.1:8080`, chosen by the core's failover order.
    pub base_url: String,
    /// The path after the host, e.g. `/v1/apps/{appid}/cloud_recording/acquire`.
    pub path: String,
    /// The JSON body for POST endpoints; `None` for query (GET).
    pub body: Option<Vec<u8>>,
    /// How long the whole exchange may take before it is abandoned.
    pub timeout: Duration,
}

impl HttpRequest {
    /// The HTTP method, from the endpoint.
    pub fn method(&self) -> &'static str {
        self.endpoint.method()
    }
}

/// The answer to an [`HttpRequest`]: any HTTP status, including errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The value of the `Retry-After` header, if any, in seconds. A transport
    /// turns the HTTP-date form into the seconds left until that date (counted
    /// from the answer's `Date`: `cloudrec-hyper` does); the core reads no clock
    /// and ignores a value that is not a number of seconds.
    pub retry_after: Option<String>,
    /// The request id header (`X-Request-ID` or similar), if any, for support tickets.
    pub request_id: Option<String>,
    /// The response body, as received; decoded strings share its buffer.
    pub body: Bytes,
}

/// What kind of transport failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The host name did not resolve.
    Dns,
    /// The TCP connection was refused or could not be made.
    Connect,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// No complete answer arrived in time.
    Timeout,
    /// The connection was closed or reset before a complete answer arrived.
    Reset,
    /// The peer spoke something that is not valid HTTP.
    Protocol,
}

/// Whether a failed request may have reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// The request was certainly not sent (no connection was made).
    NotSent,
    /// The request may have been received and acted on.
    MaybeSent,
}

/// A request that got no HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} failure talking to {host}: {detail}")]
pub struct TransportError {
    /// What went wrong.
    pub kind: TransportErrorKind,
    /// Whether the server may have acted on the request.
    pub delivery: Delivery,
    /// The base URL the request was sent to.
    pub host: String,
    /// A short description of the cause, with no credential in it.
    pub detail: String,
}

impl TransportError {
    /// A failure of `kind` talking to `host`.
    pub fn new(
        kind: TransportErrorKind,
        delivery: Delivery,
        host: impl Into<String>,
        detail: impl fmt::Display,
    ) -> Self {
        Self {
            kind,
            delivery,
            host: host.into(),
            detail: detail.to_string(),
        }
    }
}
