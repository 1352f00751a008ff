//! A classified failure: an answer that is not a success, or no answer at all.

use std::borrow::Cow;
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
pub struct Failure {
    endpoint: Endpoint,
    kind: FailureKind,
    http_status: Option<u16>,
    code: Option<i64>,
    /// Borrowed from the status table when the answer used the documented text,
    /// so that classifying a documented answer allocates nothing.
    text: Option<Cow<'static, str>>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    resolution: Resolution,
    /// What few failures carry, kept out of line to keep `Failure` small.
    extra: Option<Box<Extra>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Extra {
    transport: Option<TransportError>,
    sid: Option<Sid>,
    resource_id: Option<ResourceId>,
    /// Every host a call tried, when none of them answered.
    unanswered: Vec<String>,
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

/// The text to keep: the table's own copy when it is the documented text, else
/// the answer's, cut to [`MAX_TEXT`].
pub(crate) fn keep_text(text: &str, documented: Option<&'static str>) -> Cow<'static, str> {
    match documented {
        Some(documented) if documented == text => Cow::Borrowed(documented),
        _ => Cow::Owned(clip(text)),
    }
}

/// The answered parts of a failure, gathered by the classifier.
#[derive(Debug)]
pub(crate) struct Answered {
    pub(crate) kind: FailureKind,
    pub(crate) http_status: u16,
    pub(crate) code: Option<i64>,
    pub(crate) text: Option<Cow<'static, str>>,
    pub(crate) request_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) resolution: Resolution,
    pub(crate) sid: Option<Sid>,
    pub(crate) resource_id: Option<ResourceId>,
}

impl Failure {
    #[inline]
    pub(crate) fn answered(endpoint: Endpoint, answer: Answered) -> Self {
        let extra = (answer.sid.is_some() || answer.resource_id.is_some()).then(|| {
            Box::new(Extra {
                transport: None,
                sid: answer.sid,
                resource_id: answer.resource_id,
                unanswered: Vec::new(),
            })
        });
        Self {
            endpoint,
            kind: answer.kind,
            http_status: Some(answer.http_status),
            code: answer.code,
            text: answer.text,
            request_id: answer.request_id,
            retry_after: answer.retry_after,
            resolution: answer.resolution,
            extra,
        }
    }

    pub(crate) fn no_answer(
        endpoint: Endpoint,
        error: TransportError,
        resolution: Resolution,
    ) -> Self {
        Self {
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
            extra: Some(Box::new(Extra {
                transport: Some(error),
                sid: None,
                resource_id: None,
                unanswered: Vec::new(),
            })),
        }
    }

    fn extra(&self) -> Option<&Extra> {
        self.extra.as_deref()
    }

    /// Records that this was the last failure of a call in which no host
    /// answered at all, and which hosts the call tried; only a failure without
    /// an answer keeps them.
    pub fn with_unanswered_hosts(mut self, hosts: Vec<String>) -> Self {
        if let (FailureKind::NoAnswer { .. }, Some(extra)) = (self.kind, self.extra.as_deref_mut())
        {
            extra.unanswered = hosts;
        }
        self
    }

    /// Every host the call tried, in order, when none of them answered any
    /// attempt (nothing reached the service); empty otherwise.
    pub fn unanswered_hosts(&self) -> &[String] {
        self.extra().map_or(&[], |extra| &extra.unanswered)
    }

    /// The operation that failed.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// Which form the answer took, or that none came.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The HTTP status, when an answer arrived.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// The service error code, when the body carried one.
    pub fn code(&self) -> Option<i64> {
        self.code
    }

    /// The service's reason or the gateway's message (for an unreadable body, its
    /// beginning), cut to 512 bytes.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The request id header of the answer, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The server's `Retry-After`, when it sent one (in seconds, or as a date the
    /// transport turned into seconds; see [`HttpResponse`](crate::HttpResponse)).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// What the caller should do, in the status table's vocabulary.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// The transport failure, when no answer arrived.
    pub fn transport(&self) -> Option<&TransportError> {
        self.extra().and_then(|extra| extra.transport.as_ref())
    }

    /// Whether the server may have received the request: always for an answer,
    /// as the transport reports otherwise.
    pub fn delivery(&self) -> Delivery {
        match self.kind {
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
        self.extra().and_then(|extra| extra.sid.as_ref())
    }

    /// The resource id in the body of a failed call, when the service echoed it.
    pub fn resource_id(&self) -> Option<&ResourceId> {
        self.extra().and_then(|extra| extra.resource_id.as_ref())
    }

    /// The failure as carried by an event.
    pub fn report(&self) -> FailureReport {
        let transport = match self.kind {
            FailureKind::NoAnswer { transport, .. } => Some(transport),
            FailureKind::Service
            | FailureKind::Gateway
            | FailureKind::UnreadableError
            | FailureKind::UnreadableSuccess => None,
        };
        FailureReport {
            endpoint: self.endpoint,
            http_status: self.http_status,
            code: self.code,
            text: self.text.as_deref().map(str::to_owned),
            transport,
            resolution: self.resolution,
            request_id: self.request_id.clone(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self;
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
                let hosts = self.unanswered_hosts();
                if hosts.is_empty() {
                    write!(f, " got no answer ({}, {sent})", transport_name(transport))?;
                } else {
                    write!(
                        f,
                        " got no answer from any host (tried {}; {}, {sent})",
                        hosts.join(", "),
                        transport_name(transport)
                    )?;
                }
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
        self.transport().map(|e| e as &(dyn Error + 'static))
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
