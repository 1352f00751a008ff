use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cloudrec_types::{Endpoint, Secret};
use http::HeaderValue;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;

use crate::connector::SharedConnector;
use crate::deadlines::Deadlines;
use crate::error::BuildError;
use crate::resolver::{ConnectorResolver, RefreshingResolver};
use crate::target::Targets;
use crate::timeouts::{MIN_STOP_TIMEOUT, Timeouts};
use crate::transport::{HyperTransport, Inner};

/// The idle time after which the OS probes a pooled connection.
const TCP_KEEPALIVE: Duration = Duration::from_secs(30);

/// How long an idle pooled connection is kept open.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The default limit of a response body: far above any Cloud Recording answer.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 16 * 1024 * 1024;

/// Configures a [`HyperTransport`]; made by [`HyperTransport::builder`].
pub struct HyperTransportBuilder {
    credentials: Option<(String, Secret)>,
    timeouts: Timeouts,
    allow_plain_http: bool,
    max_response_body: usize,
    roots: Vec<Vec<u8>>,
    resolver: Option<RefreshingResolver>,
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        Self {
            credentials: None,
            timeouts: Timeouts::default(),
            allow_plain_http: false,
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
            roots: Vec::new(),
            resolver: None,
        }
    }
}

impl fmt::Debug for HyperTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransportBuilder")
            .field(
                "customer_id",
                &self.credentials.as_ref().map(|(id, _)| id.as_str()),
            )
            .field("timeouts", &self.timeouts)
            .field("allow_plain_http", &self.allow_plain_http)
            .field("max_response_body", &self.max_response_body)
            .field("extra_roots", &self.roots.len())
            .finish_non_exhaustive()
    }
}

impl HyperTransportBuilder {
    /// The RESTful API credentials from the Agora Console, sent as Basic auth.
    pub fn credentials(mut self, customer_id: impl Into<String>, customer_secret: Secret) -> Self {
        self.credentials = Some((customer_id.into(), customer_secret));
        self
    }

    /// The time allowed to open a TCP connection (default 5 s). The TLS handshake
    /// counts against the request timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// The time one exchange with `endpoint` may take, from sending to the last byte
    /// of the body (default 10 s; stop 25 s and never less). The `timeout` of each
    /// `HttpRequest` is an upper bound too: the smaller one applies.
    pub fn request_timeout(mut self, endpoint: Endpoint, timeout: Duration) -> Self {
        self.timeouts.set_request(endpoint, timeout);
        self
    }

    /// Allows `http://` to hosts other than loopback (127.0.0.0/8, ::1, localhost),
    /// e.g. an emulator on another machine. Off by default: the service is HTTPS only
    /// and plain http would expose the credentials.
    pub fn allow_plain_http(mut self, allow: bool) -> Self {
        self.allow_plain_http = allow;
        self
    }

    /// The longest response body accepted (default 16 MiB); a longer one fails
    /// the request as a protocol error instead of filling memory.
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// Trusts one more root CA, given as a DER-encoded X.509 certificate, on top of
    /// the webpki roots: for a private CA or a test server's self-signed certificate.
    pub fn add_root_certificate(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.roots.push(der.into());
        self
    }

    /// Resolves host names through `resolver` (default: the system resolver with a
    /// 30 s refresh). Pass a clone of a resolver to share its cache, e.g. with the
    /// failover plan that asks which names resolve.
    pub fn resolver(mut self, resolver: RefreshingResolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Checks the configuration and makes the transport.
    pub fn build(self) -> Result<HyperTransport, BuildError> {
        let (customer_id, secret) = self.credentials.ok_or(BuildError::MissingCredentials)?;
        let authorization = basic_auth(&customer_id, &secret)?;
        check_timeouts(&self.timeouts)?;

        let tls = tls_config(&self.roots)?;
        let resolver = self.resolver.unwrap_or_default();
        let mut http = HttpConnector::new_with_resolver(ConnectorResolver(resolver.clone()));
        http.enforce_http(false);
        http.set_nodelay(true);
        // Probes idle pooled connections so a silently dropped one is noticed.
        http.set_keepalive(Some(TCP_KEEPALIVE));
        http.set_connect_timeout(Some(self.timeouts.connect));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build(SharedConnector::new(https));

        Ok(HyperTransport {
            inner: Arc::new(Inner {
                client,
                authorization,
                customer_id,
                timeouts: self.timeouts,
                targets: Targets::new(self.allow_plain_http),
                max_response_body: self.max_response_body,
                resolver,
                deadlines: Deadlines::default(),
            }),
        })
    }
}

fn basic_auth(customer_id: &str, secret: &Secret) -> Result<HeaderValue, BuildError> {
    let printable = |s: &str| s.bytes().all(|b| (0x20..0x7f).contains(&b));
    if customer_id.is_empty() || customer_id.contains(':') || !printable(customer_id) {
        return Err(BuildError::InvalidCustomerId);
    }
    if secret.is_empty() || !printable(secret.expose()) {
        return Err(BuildError::InvalidCustomerSecret);
    }
    let token = STANDARD.encode(format!("{customer_id}:{}", secret.expose()));
    let mut value = HeaderValue::try_from(format!("Basic {token}"))
        .map_err(|_| BuildError::InvalidCustomerSecret)?;
    value.set_sensitive(true);
    Ok(value)
}

fn check_timeouts(timeouts: &Timeouts) -> Result<(), BuildError> {
    if timeouts.connect.is_zero() {
        return Err(BuildError::InvalidTimeout { what: "connect" });
    }
    for endpoint in Endpoint::ALL {
        let timeout = timeouts.request(endpoint);
        let too_short = if endpoint == Endpoint::Stop {
            timeout < MIN_STOP_TIMEOUT
        } else {
            timeout.is_zero()
        };
        if too_short {
            return Err(BuildError::InvalidTimeout {
                what: endpoint.as_str(),
            });
        }
    }
    Ok(())
}

fn tls_config(extra_roots: &[Vec<u8>]) -> Result<rustls::ClientConfig, BuildError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for (index, der) in extra_roots.iter().enumerate() {
        roots
            .add(CertificateDer::from(der.as_slice()))
            .map_err(|_| BuildError::InvalidRootCertificate { index })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| BuildError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> HyperTransportBuilder {
        HyperTransport::builder().credentials("customer", Secret::new("s3cret"))
    }

    #[test]
    fn the_authorization_header_is_basic_and_sensitive() {
        let value = basic_auth("id", &Secret::new("pw")).unwrap();
        assert_eq!(value.to_str().unwrap(), "Basic aWQ6cHc=");
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("aWQ6cHc"));
    }

    #[test]
    fn credentials_are_required_and_checked() {
        assert_eq!(
            HyperTransport::builder().build().unwrap_err(),
            BuildError::MissingCredentials
        );
        for id in ["", "a:b", "tab\there"] {
            let error = HyperTransport::builder()
                .credentials(id, Secret::new("s"))
                .build()
                .unwrap_err();
            assert_eq!(error, BuildError::InvalidCustomerId, "{id:?}");
        }
        for secret in ["", "new\nline"] {
            let error = HyperTransport::builder()
                .credentials("id", Secret::new(secret))
                .build()
                .unwrap_err();
            assert_eq!(error, BuildError::InvalidCustomerSecret);
            assert!(!error.to_string().contains("new\nline"));
        }
    }

    #[test]
    fn stop_timeout_below_25_s_is_refused() {
        let error = builder()
            .request_timeout(Endpoint::Stop, Duration::from_secs(20))
            .build()
            .unwrap_err();
        assert_eq!(error, BuildError::InvalidTimeout { what: "stop" });
        assert!(
            builder()
                .request_timeout(Endpoint::Stop, MIN_STOP_TIMEOUT)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn zero_timeouts_are_refused() {
        let error = builder()
            .request_timeout(Endpoint::Query, Duration::ZERO)
            .build()
            .unwrap_err();
        assert_eq!(error, BuildError::InvalidTimeout { what: "query" });
        let error = builder()
            .connect_timeout(Duration::ZERO)
            .build()
            .unwrap_err();
        assert_eq!(error, BuildError::InvalidTimeout { what: "connect" });
    }

    #[test]
    fn a_root_that_is_not_der_is_refused_with_its_index() {
        let error = builder()
            .add_root_certificate(b"-----BEGIN CERTIFICATE-----".to_vec())
            .build()
            .unwrap_err();
        assert_eq!(error, BuildError::InvalidRootCertificate { index: 0 });
    }
}
