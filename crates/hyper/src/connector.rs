//! [`SharedConnector`]: the pool's connector behind one reference count.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use tower_service::Service;

use crate::resolver::ConnectorResolver;

/// The TLS connector over the refreshing resolver.
type Https = HttpsConnector<HttpConnector<ConnectorResolver>>;

/// The connector that opens the pool's connections.
///
/// hyper-util clones its connector for every request, also when a pooled
/// connection serves it; a clone of this one counts one reference instead of
/// one for each shared part of the TLS and TCP connectors. The parts are
/// cloned only to open a connection.
#[derive(Clone)]
pub(crate) struct SharedConnector(Arc<Https>);

impl SharedConnector {
    pub(crate) fn new(https: Https) -> Self {
        Self(Arc::new(https))
    }
}

impl Service<Uri> for SharedConnector {
    type Response = <Https as Service<Uri>>::Response;
    type Error = <Https as Service<Uri>>::Error;
    type Future = <Https as Service<Uri>>::Future;

    /// Always ready, as the TCP connector and the resolver under it are.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        Https::clone(&self.0).call(destination)
    }
}
