use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use cloudrec_client::Transport;
use cloudrec_core::{Delivery, HttpRequest, HttpResponse, TransportError, TransportErrorKind};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, DATE, RETRY_AFTER, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use http_body_util::{BodyExt as _, Limited};
use hyper_util::client::legacy::Client;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::builder::HyperTransportBuilder;
use crate::classify;
use crate::connector::SharedConnector;
use crate::deadlines::{Deadlines, Elapsed};
use crate::resolver::RefreshingResolver;
use crate::sent_body::{SentBody, Writing};
use crate::target::Targets;
use crate::timeouts::Timeouts;

/// The `User-Agent` sent with every request.
pub const USER_AGENT_VALUE: &str = concat!("cloudrec/", env!("CARGO_PKG_VERSION"));

/// The `Content-Type` sent with every POST body.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=utf-8";

/// Response headers that may carry the request id, in order of preference.
const REQUEST_ID_HEADERS: [HeaderName; 3] = [
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("request-id"),
    HeaderName::from_static("x-agora-request-id"),
];

type HyperClient = Client<SharedConnector, SentBody>;
type HyperRequest = http::Request<SentBody>;

/// The cloudrec [`Transport`] over hyper 1, hyper-util's connection pool and rustls.
///
/// Sends each [`HttpRequest`] once, over HTTPS (or plain http to loopback, or
/// anywhere after [`allow_plain_http`](HyperTransportBuilder::allow_plain_http)),
/// with Basic auth, `User-Agent` and, for POST, the JSON `Content-Type`. Every HTTP
/// answer is `Ok`; only a missing answer is an error, classified by kind and by
/// whether the request may have reached the server.
///
/// Cheap to clone: clones share the connection pool and the DNS cache.
#[derive(Clone)]
pub struct HyperTransport {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) client: HyperClient,
    /// `Basic ...`, marked sensitive.
    pub(crate) authorization: HeaderValue,
    pub(crate) customer_id: String,
    pub(crate) timeouts: Timeouts,
    pub(crate) targets: Targets,
    pub(crate) max_response_body: usize,
    pub(crate) resolver: RefreshingResolver,
    pub(crate) deadlines: Deadlines,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("customer_id", &self.inner.customer_id)
            .field("customer_secret", &cloudrec_types::Secret::MASK)
            .field("timeouts", &self.inner.timeouts)
            .field("targets", &self.inner.targets)
            .field("max_response_body", &self.inner.max_response_body)
            .field("resolver", &self.inner.resolver)
            .finish()
    }
}

impl HyperTransport {
    /// Starts configuring a transport; `credentials` is required.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }

    /// The resolver of this transport's connections, shared with its clones.
    pub fn resolver(&self) -> &RefreshingResolver {
        &self.inner.resolver
    }

    /// Whether `host` currently resolves in DNS (see
    /// [`RefreshingResolver::resolves`]), for the failover plan to skip names that
    /// do not.
    pub async fn resolves(&self, host: &str) -> bool {
        self.inner.resolver.resolves(host).await
    }

    /// The first of `base_urls` (e.g. `https://api.agora.io`, in the order of the
    /// core's failover plan) whose host name currently resolves, as the Agora clients
    /// pick the suffix to start with. `None` if none resolves or none parses.
    pub async fn first_resolving<'a>(
        &self,
        base_urls: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        for base_url in base_urls {
            let Ok(uri) = base_url.parse::<Uri>() else {
                continue;
            };
            if let Some(host) = uri.host()
                && self.resolves(host).await
            {
                return Some(base_url);
            }
        }
        None
    }

    /// Checks `base_url` as every request to it is checked (an https or loopback
    /// http URL with a host, no credentials, no query), without sending anything:
    /// a setting that would refuse every request can be refused up front.
    pub fn check_base_url(&self, base_url: &str) -> Result<(), &'static str> {
        self.inner.targets.uri(base_url, "/".to_owned()).map(|_| ())
    }

    /// The request timeout configured for `endpoint`.
    pub fn request_timeout(&self, endpoint: cloudrec_types::Endpoint) -> Duration {
        self.inner.timeouts.request(endpoint)
    }

    /// The request, and for a request with a body the flag telling whether
    /// hyper began to write it.
    fn build_request(
        &self,
        method: Method,
        uri: Uri,
        body: Option<Vec<u8>>,
    ) -> (HyperRequest, Option<Writing>) {
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(AUTHORIZATION, self.inner.authorization.clone());
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if method == Method::POST {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
        }
        let (body, writing) = match body {
            Some(body) => {
                let (body, writing) = SentBody::tracked(Bytes::from(body));
                (body, Some(writing))
            }
            None => (SentBody::default(), None),
        };
        let mut request = http::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        (request, writing)
    }
}

/// `base_url` with any `user:password@` part masked, for logs and errors.
fn redact_userinfo(base_url: &str) -> Cow<'_, str> {
    let (scheme, rest) = match base_url.split_once("://") {
        Some((scheme, rest)) => (scheme, rest),
        None => ("", base_url),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((_, host)) => {
            let tail = rest.get(authority.len()..).unwrap_or_default();
            let separator = if scheme.is_empty() { "" } else { "://" };
            Cow::Owned(format!("{scheme}{separator}***@{host}{tail}"))
        }
        None => Cow::Borrowed(base_url),
    }
}

/// The `Retry-After` value (as delay-seconds, see
/// [`delay_seconds`](crate::retry_after::delay_seconds)) and the request id of an
/// answer, read in one pass over its headers (the first of
/// [`REQUEST_ID_HEADERS`] present wins).
fn answer_headers(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let text = |value: &HeaderValue| String::from_utf8_lossy(value.as_bytes()).into_owned();
    let mut retry_after = None;
    let mut date = None;
    let mut request_id: Option<(usize, &HeaderValue)> = None;
    for (name, value) in headers {
        if name == RETRY_AFTER {
            retry_after.get_or_insert_with(|| text(value));
        } else if name == DATE {
            date.get_or_insert_with(|| text(value));
        } else if let Some(rank) = REQUEST_ID_HEADERS.iter().position(|id| id == name)
            && request_id.is_none_or(|(best, _)| rank < best)
        {
            request_id = Some((rank, value));
        }
    }
    let retry_after = retry_after
        .map(|value| crate::retry_after::delay_seconds(value, date.as_deref(), SystemTime::now()));
    (retry_after, request_id.map(|(_, value)| text(value)))
}

#[async_trait]
impl Transport for HyperTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let HttpRequest {
            endpoint,
            base_url,
            path,
            body,
            timeout,
        } = request;
        let base_url = base_url.as_str();
        let host = redact_userinfo(base_url);
        let limit = self.inner.timeouts.effective(endpoint, timeout);
        let span = tracing::debug_span!(
            "cloudrec_http",
            endpoint = %endpoint,
            host = %host,
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        // Timed only for a span or an event that will be recorded.
        let timed = !span.is_disabled() || tracing::enabled!(tracing::Level::DEBUG);
        let recorded = span.clone();
        async move {
            let started = timed.then(Instant::now);
            let uri = self.inner.targets.uri(base_url, path).map_err(|detail| {
                TransportError::new(
                    TransportErrorKind::Connect,
                    Delivery::NotSent,
                    &*host,
                    detail,
                )
            })?;
            let method = if endpoint.method() == "GET" {
                Method::GET
            } else {
                Method::POST
            };
            let (http_request, writing) = self.build_request(method, uri, body);
            tracing::debug!(timeout_ms = limit.as_millis() as u64, "sending");

            let exchange = async {
                let response = self
                    .inner
                    .client
                    .request(http_request)
                    .await
                    .map_err(|error| classify::client_error(&error, &host))?;
                let (parts, body) = response.into_parts();
                let max_body = self.inner.max_response_body;
                let body = Limited::new(body, max_body)
                    .collect()
                    .await
                    .map_err(|error| classify::body_error(&*error, &host, max_body))?
                    .to_bytes();
                // hyper hands out the body as a slice of the connection's read
                // buffer (8 KiB or more); the strings decoded from it share it,
                // and ids kept for a whole session would keep that buffer. A copy
                // of just the body keeps only what was received.
                let body = Bytes::copy_from_slice(&body);
                Ok::<_, TransportError>((parts, body))
            };
            let result = match self.inner.deadlines.within(limit, exchange).await {
                Ok(result) => result,
                Err(Elapsed) => {
                    // hyper asks for the body only once the request head is on
                    // a connection. A request without a body (a query, which is
                    // safe to repeat) cannot tell, so it counts as maybe sent.
                    let (delivery, phase) = match &writing {
                        Some(writing) if !writing.began() => {
                            (Delivery::NotSent, "while connecting")
                        }
                        Some(_) => (
                            Delivery::MaybeSent,
                            "after the request was handed to a connection",
                        ),
                        None => (Delivery::MaybeSent, "before an answer"),
                    };
                    Err(TransportError::new(
                        TransportErrorKind::Timeout,
                        delivery,
                        &*host,
                        format_args!(
                            "no complete answer within {} ms (timed out {phase})",
                            limit.as_millis()
                        ),
                    ))
                }
            };
            let duration_ms = started.map_or(0, |started| started.elapsed().as_millis() as u64);
            recorded.record("duration_ms", duration_ms);
            match result {
                Ok((parts, body)) => {
                    recorded.record("status", parts.status.as_u16());
                    tracing::debug!(
                        status = parts.status.as_u16(),
                        duration_ms,
                        bytes = body.len(),
                        "answered"
                    );
                    let (retry_after, request_id) = answer_headers(&parts.headers);
                    Ok(HttpResponse {
                        status: parts.status.as_u16(),
                        retry_after,
                        request_id,
                        body,
                    })
                }
                Err(error) => {
                    tracing::debug!(
                        kind = ?error.kind,
                        delivery = ?error.delivery,
                        detail = %error.detail,
                        duration_ms,
                        "failed"
                    );
                    Err(error)
                }
            }
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_and_the_preferred_request_id_are_read() {
        let mut headers = HeaderMap::new();
        assert_eq!(answer_headers(&headers), (None, None));
        headers.insert("x-agora-request-id", HeaderValue::from_static("third"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("request-id", HeaderValue::from_static("second"));
        headers.append(RETRY_AFTER, HeaderValue::from_static("7"));
        headers.append(RETRY_AFTER, HeaderValue::from_static("9"));
        assert_eq!(
            answer_headers(&headers),
            (Some("7".to_owned()), Some("second".to_owned()))
        );
        headers.insert("x-request-id", HeaderValue::from_static("first"));
        assert_eq!(answer_headers(&headers).1.as_deref(), Some("first"));
    }

    #[test]
    fn userinfo_is_masked() {
        assert_eq!(
            redact_userinfo("https://id:pw@api.agora.io:443/x?y"),
            "https://***@api.agora.io:443/x?y"
        );
        assert_eq!(redact_userinfo("id:pw@host"), "***@host");
        assert_eq!(
            redact_userinfo("https://api.agora.io/a@b"),
            "https://api.agora.io/a@b"
        );
        assert_eq!(redact_userinfo(""), "");
    }
}
