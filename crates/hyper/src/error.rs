/// Why [`HyperTransportBuilder::build`](crate::HyperTransportBuilder::build) refused
/// the configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No credentials were given.
    #[error(
        "missing credentials: call credentials(customer_id, customer_secret) with the RESTful API credentials from the Agora Console"
    )]
    MissingCredentials,
    /// The customer id is empty, contains `:` or a character not allowed in a header.
    #[error(
        "invalid customer id: it must be non-empty printable ASCII without ':' (use the customer id from the Agora Console)"
    )]
    InvalidCustomerId,
    /// The customer secret is empty or contains a character not allowed in a header.
    #[error(
        "invalid customer secret: it must be non-empty printable ASCII (use the customer secret from the Agora Console)"
    )]
    InvalidCustomerSecret,
    /// A timeout is zero, or the stop timeout is below the 25 s a synchronous stop needs.
    #[error(
        "invalid {what} timeout: it must be above zero, and at least 25 s for stop (a synchronous stop may take 20 s)"
    )]
    InvalidTimeout {
        /// `connect` or the endpoint's wire name.
        what: &'static str,
    },
    /// A root certificate given to `add_root_certificate` is not a usable DER
    /// X.509 certificate.
    #[error(
        "invalid root certificate #{index}: pass one DER-encoded X.509 CA certificate (convert PEM to DER first)"
    )]
    InvalidRootCertificate {
        /// The position of the certificate among those added, from 0.
        index: usize,
    },
    /// The TLS library refused the configuration.
    #[error("tls setup failed: the ring provider supports no safe protocol version")]
    Tls,
}
