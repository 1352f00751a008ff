//! A classified failure: an answer that is not a success, or no answer at all.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use cloudrec_types::{Endpoint, ResourceId, Sid};

use crate::{Delivery, FailureReport, Resolution, TransportError, TransportErrorKind};

/// What kind of failure it is: which form the answer took, or that none came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureKind {
    /// The service answered with its error form, `{"code": .., "reason": ..}`.
    Service,
    /// The API gateway answered with its form, `{"message": ..}` (authentication,
    /// routing, rate limit, invalid App ID).
    Gateway,
    /// An error status whose body is empty, not JSON, or neither error form.
    UnreadableError,
    /// HTTP 200 whose body is not the documented response: the call probably took
    /// effect, but its result could not be read.
    UnreadableSuccess,
    /// No answer arrived.
    NoAnswer {
        /// What went wrong in the transport.
        transport: TransportErrorKind,
        /// Whether the server may have received the request.
        delivery: Delivery,
    },
}

/// A call that did not succeed, classified: what was answered and what to do.
///
/// Built by [`classify`](crate::classify), [`decode`](crate::decode) and
/// [`classify_transport`](crate::classify_transport). It carries no credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    endpoint: Endpoint,
    kind: FailureKind,
    http_status: Option<u16>,
    code: Option<i64>,
    text: Option<String>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    resolution: Resolution,
    transport: Option<TransportError>,
    sid: Option<Sid>,
    resource_id: Option<ResourceId>,
}

/// The longest reason or message kept, in bytes; longer texts are cut at a
/// character boundary so that a huge body cannot flood logs and events.
pub(crate) const MAX_TEXT: usize = 512;

pub(crate) fn clip(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The answered parts of a failure, gathered by the classifier.
#[derive(Debug)]
pub(crate) struct Answered {
    pub(crate) kind: FailureKind,
    pub(crate) http_status: u16,
    pub(crate) code: Option<i64>,
    pub(crate) text: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) resolution: Resolution,
    pub(crate) sid: Option<Sid>,
    pub(crate) resource_id: Option<ResourceId>,
}

impl Failure {
    pub(crate) fn answered(endpoint: Endpoint, answer: Answered) -> Self {
        Self(Box::new(Inner {
            endpoint,
            kind: answer.kind,
            http_status: Some(answer.http_status),
            code: answer.code,
            text: answer.text,
            request_id: answer.request_id,
            retry_after: answer.retry_after,
            resolution: answer.resolution,
            transport: None,
            sid: answer.sid,
            resource_id: answer.resource_id,
        }))
    }

    pub(crate) fn no_answer(
        endpoint: Endpoint,
        error: TransportError,
        resolution: Resolution,
    ) -> Self {
        Self(Box::new(Inner {
            endpoint,
            kind: FailureKind::NoAnswer {
                transport: error.kind,
                delivery: error.delivery,
            },
            http_status: None,
            code: None,
            text: None,
            request_id: None,
            retry_after: None,
            resolution,
            transport: Some(error),
            sid: None,
            resource_id: None,
        }))
    }

    /// The operation that failed.
    pub fn endpoint(&self) -> Endpoint {
        self.0.endpoint
    }

    /// Which form the answer took, or that none came.
    pub fn kind(&self) -> FailureKind {
        self.0.kind
    }

    /// The HTTP status, when an answer arrived.
    pub fn http_status(&self) -> Option<u16> {
        self.0.http_status
    }

    /// The service error code, when the body carried one.
    pub fn code(&self) -> Option<i64> {
        self.0.code
    }

    /// The service's reason or the gateway's message (for an unreadable body, its
    /// beginning), cut to 512 bytes.
    pub fn text(&self) -> Option<&str> {
        self.0.text.as_deref()
    }

    /// The request id header of the answer, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// The server's `Retry-After`, when it sent one in seconds (the date form is
    /// ignored: the core reads no clock).
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// What the caller should do, in the status table's vocabulary.
    pub fn resolution(&self) -> Resolution {
        self.0.resolution
    }

    /// The transport failure, when no answer arrived.
    pub fn transport(&self) -> Option<&TransportError> {
        self.0.transport.as_ref()
    }

    /// Whether the server may have received the request: always for an answer,
    /// as the transport reports otherwise.
    pub fn delivery(&self) -> Delivery {
        match self.0.kind {
            FailureKind::NoAnswer { delivery, .. } => delivery,
            FailureKind::Service
            | FailureKind::Gateway
            | FailureKind::UnreadableError
            | FailureKind::UnreadableSuccess => Delivery::MaybeSent,
        }
    }

    /// The session id in the body of a failed start (201 with code 7 carries the
    /// running task's sid); `None` when absent or empty.
    pub fn sid(&self) -> Option<&Sid> {
        self.0.sid.as_ref()
    }

    /// The resource id in the body of a failed call, when the service echoed it.
    pub fn resource_id(&self) -> Option<&ResourceId> {
        self.0.resource_id.as_ref()
    }

    /// The failure as carried by an event.
    pub fn report(&self) -> FailureReport {
        let transport = match self.0.kind {
            FailureKind::NoAnswer { transport, .. } => Some(transport),
            FailureKind::Service
            | FailureKind::Gateway
            | FailureKind::UnreadableError
            | FailureKind::UnreadableSuccess => None,
        };
        FailureReport {
            endpoint: self.0.endpoint,
            http_status: self.0.http_status,
            code: self.0.code,
            text: self.0.text.clone(),
            transport,
            resolution: self.0.resolution,
            request_id: self.0.request_id.clone(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        write!(f, "{}", inner.endpoint)?;
        match inner.kind {
            FailureKind::NoAnswer {
                transport,
                delivery,
            } => {
                let sent = match delivery {
                    Delivery::NotSent => "not sent",
                    Delivery::MaybeSent => "may have been received",
                };
                write!(f, " got no answer ({}, {sent})", transport_name(transport))?;
            }
            FailureKind::Service
            | FailureKind::Gateway
            | FailureKind::UnreadableError
            | FailureKind::UnreadableSuccess => {
                if let Some(status) = inner.http_status {
                    write!(f, " answered http {status}")?;
                }
                if let Some(code) = inner.code {
                    write!(f, " code {code}")?;
                }
                match (&inner.text, inner.kind) {
                    (_, FailureKind::UnreadableSuccess) => {
                        f.write_str(" with an unreadable body")?
                    }
                    (_, FailureKind::UnreadableError) if inner.code.is_none() => {
                        f.write_str(" with no error body")?;
                    }
                    (Some(text), _) if !text.is_empty() => write!(f, " ({text:?})")?,
                    _ => {}
                }
            }
        }
        write!(f, ": {}: {}", inner.resolution, inner.resolution.advice())
    }
}

impl Error for Failure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0
            .transport
            .as_ref()
            .map(|e| e as &(dyn Error + 'static))
    }
}

/// A short lowercase name of a transport failure kind.
pub(crate) fn transport_name(kind: TransportErrorKind) -> &'static str {
    match kind {
        TransportErrorKind::Dns => "dns",
        TransportErrorKind::Connect => "connect",
        TransportErrorKind::Tls => "tls",
        TransportErrorKind::Timeout => "timeout",
        TransportErrorKind::Reset => "reset",
        TransportErrorKind::Protocol => "protocol",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_at_a_character_boundary() {
        let long = "é".repeat(MAX_TEXT);
        let cut = clip(&long);
        assert!(cut.len() <= MAX_TEXT);
        assert!(cut.len() >= MAX_TEXT - 1);
        assert_eq!(clip("short"), "short");
    }
}
