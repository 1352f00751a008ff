//! The cloudrec [`Transport`](cloudrec_client::Transport) over hyper 1, hyper-util's
//! pooled client and rustls. The tokio clock and executor the client needs are
//! `cloudrec-client`'s (feature `tokio`).
//!
//! [`HyperTransport`] sends one request per call: HTTPS with the webpki roots (and
//! any root CA you add), Basic auth from the customer id and secret, the JSON
//! `Content-Type` on POST and `User-Agent: cloudrec/<version>`. It applies a connect
//! timeout and a request timeout per endpoint (stop at least 25 s, because a
//! synchronous stop may take 20 s), captures the request id and `Retry-After`
//! (an HTTP date becomes the seconds from the answer's `Date` to it), and
//! classifies a missing answer by [`TransportErrorKind`](cloudrec_core::TransportErrorKind)
//! and by [`Delivery`](cloudrec_core::Delivery): whether the server may have acted.
//! A request with a body (every POST) knows whether hyper began to write it,
//! because hyper asks for the body only once the request head is on a
//! connection: a timeout before that was not sent. A request without a body (a
//! query, which is safe to repeat) that times out counts as maybe sent.
//! Request timeouts are kept by one thread per transport (`cloudrec-deadlines`)
//! rather than a runtime timer per request, which costs the runtime fewer
//! wakeups; they follow the real clock, not tokio's paused test clock.
//! Host names go through a [`RefreshingResolver`] that looks each name up again
//! every 30 s and keeps the last good addresses through a DNS outage;
//! [`HyperTransport::first_resolving`] tells the client which host of the core's
//! failover plan currently resolves.
//!
//! It does not retry, interpret statuses or choose hosts: the client in
//! `cloudrec-core` decides what an answer means and which host comes next. Plain
//! http is refused except to loopback or after an explicit opt-in. Secrets and
//! bodies never reach logs: tracing events carry the endpoint, host, status,
//! duration and failure kind only.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use cloudrec_client::Transport;
//! use cloudrec_core::HttpRequest;
//! use cloudrec_hyper::HyperTransport;
//! use cloudrec_types::{Endpoint, Secret};
//!
//! let transport = HyperTransport::builder()
//!     .credentials("customer-id", Secret::new("customer-secret"))
//!     .request_timeout(Endpoint::Query, Duration::from_secs(5))
//!     .build()?;
//! let answer = transport
//!     .send(HttpRequest {
//!         endpoint: Endpoint::Acquire,
//!         base_url: "https://api.sd-rtn.com".into(),
//!         path: "/v1/apps/<appid>/cloud_recording/acquire".into(),
//!         body: Some(br#"{"cname":"room","uid":"527841","clientRequest":{}}"#.to_vec()),
//!         timeout: Duration::from_secs(10),
//!     })
//!     .await?;
//! println!("{} {:?}", answer.status, answer.request_id);
//! # Ok(()) }
//! ```
//!
//! # Crypto provider
//!
//! rustls runs on `ring`. It builds with a C compiler alone, where `aws-lc-rs`
//! needs cmake (and nasm on Windows) on a fresh machine and makes a larger, slower
//! build; cloudrec needs no FIPS mode and no post-quantum key exchange, the two
//! reasons to prefer `aws-lc-rs`. The transport passes the provider to its own
//! `ClientConfig`, so it neither needs nor changes a process-wide default provider.

mod builder;
mod classify;
mod connector;
mod deadlines;
mod error;
mod resolver;
mod retry_after;
mod sent_body;
mod target;
mod timeouts;
mod transport;

pub use builder::{DEFAULT_MAX_RESPONSE_BODY, HyperTransportBuilder};
pub use error::BuildError;
pub use resolver::{
    DEFAULT_REFRESH, LOOKUP_TIMEOUT, Lookup, RefreshingResolver, ResolveError, SystemLookup,
};
pub use timeouts::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, MIN_STOP_TIMEOUT};
pub use transport::{HyperTransport, JSON_CONTENT_TYPE, USER_AGENT_VALUE};
