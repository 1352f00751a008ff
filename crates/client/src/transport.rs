//! The one trait through which the client reaches the service.

use async_trait::async_trait;
use cloudrec_core::{HttpRequest, HttpResponse, TransportError};

/// Sends one HTTP request and returns the answer. Implemented over hyper by
/// `cloudrec-hyper`, and by in-process fakes in simulated-time tests.
///
/// A transport does not retry and does not interpret statuses: every HTTP answer is
/// `Ok`, and only a missing answer is `Err`.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Sends `request` and waits for the whole answer or a failure.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}
