//! Maps hyper, hyper-util, rustls and io errors to a [`TransportErrorKind`] and a
//! [`Delivery`].

use std::error::Error as StdError;
use std::io;

use cloudrec_core::{Delivery, TransportError, TransportErrorKind};

use crate::resolver::ResolveError;

/// Every error in the chain of `error`, including the inner error of an
/// `io::Error` (whose `source()` skips it).
fn chain<'a>(error: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        out.push(current);
        next = match current.downcast_ref::<io::Error>() {
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner as &(dyn StdError + 'static)),
                None => None,
            },
            None => current.source(),
        };
    }
    out
}

fn find<'a, T: StdError + 'static>(errors: &[&'a (dyn StdError + 'static)]) -> Option<&'a T> {
    errors.iter().find_map(|error| error.downcast_ref::<T>())
}

fn io_kinds(errors: &[&(dyn StdError + 'static)]) -> Vec<io::ErrorKind> {
    errors
        .iter()
        .filter_map(|error| error.downcast_ref::<io::Error>())
        .map(io::Error::kind)
        .collect()
}

/// The chain rendered as `outer: inner: ...`, skipping repeated texts.
fn describe(errors: &[&(dyn StdError + 'static)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for error in errors {
        let text = error.to_string();
        if !parts.iter().any(|part| part == &text) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Classifies an error of the pooled client's `request` future.
pub(crate) fn client_error(
    error: &hyper_util::client::legacy::Error,
    host: &str,
) -> TransportError {
    let errors = chain(error);
    // The outermost text is hyper-util's "client error (Kind)"; the phase says more.
    let phase = if error.is_connect() {
        "connect"
    } else {
        "exchange"
    };
    let cause = errors.get(1..).unwrap_or_default();
    let detail = if cause.is_empty() {
        describe(&errors)
    } else {
        format!("{phase}: {}", describe(cause))
    };
    let (kind, delivery) = if error.is_connect() {
        (connect_kind(&errors), Delivery::NotSent)
    } else {
        exchange_kind(&errors)
    };
    TransportError::new(kind, delivery, host, detail)
}

/// Classifies an error met while reading the response body (at most `limit`
/// bytes): the request was sent.
pub(crate) fn body_error(
    error: &(dyn StdError + 'static),
    host: &str,
    limit: usize,
) -> TransportError {
    let errors = chain(error);
    if find::<http_body_util::LengthLimitError>(&errors).is_some() {
        return TransportError::new(
            TransportErrorKind::Protocol,
            Delivery::MaybeSent,
            host,
            format_args!("response body longer than {limit} bytes: not a Cloud Recording answer"),
        );
    }
    let (kind, _) = exchange_kind(&errors);
    TransportError::new(kind, Delivery::MaybeSent, host, describe(&errors))
}

/// The kind of a failure to open a connection (nothing was sent).
fn connect_kind(errors: &[&(dyn StdError + 'static)]) -> TransportErrorKind {
    if find::<ResolveError>(errors).is_some() {
        TransportErrorKind::Dns
    } else if find::<rustls::Error>(errors).is_some() {
        TransportErrorKind::Tls
    } else if io_kinds(errors).contains(&io::ErrorKind::InvalidData) {
        // rustls reports a handshake it cannot parse as invalid data.
        TransportErrorKind::Tls
    } else {
        // Refused, unreachable, or the TCP connect timeout: no connection was made.
        TransportErrorKind::Connect
    }
}

/// The kind and delivery of a failure on an open connection.
fn exchange_kind(errors: &[&(dyn StdError + 'static)]) -> (TransportErrorKind, Delivery) {
    let hyper_error = find::<hyper::Error>(errors);
    if hyper_error.is_some_and(hyper::Error::is_canceled) {
        // hyper hands the request back unsent when the connection closed before
        // the request was dispatched.
        return (TransportErrorKind::Reset, Delivery::NotSent);
    }
    let io = io_kinds(errors);
    let kind = if hyper_error.is_some_and(hyper::Error::is_parse) {
        TransportErrorKind::Protocol
    } else if hyper_error.is_some_and(hyper::Error::is_timeout)
        || io.contains(&io::ErrorKind::TimedOut)
    {
        TransportErrorKind::Timeout
    } else if find::<rustls::Error>(errors).is_some() {
        TransportErrorKind::Tls
    } else if io.contains(&io::ErrorKind::InvalidData) {
        TransportErrorKind::Protocol
    } else {
        // Incomplete message, closed channel, reset, broken pipe, early EOF.
        TransportErrorKind::Reset
    };
    (kind, Delivery::MaybeSent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] io::Error);

    #[test]
    fn the_chain_enters_io_errors() {
        let inner = ResolveError::NoAddress {
            host: "a.invalid".into(),
        };
        let outer = Outer(io::Error::other(inner));
        let errors = chain(&outer);
        assert!(find::<ResolveError>(&errors).is_some());
        assert_eq!(connect_kind(&errors), TransportErrorKind::Dns);
    }

    #[test]
    fn connect_failures_default_to_connect() {
        let outer = Outer(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(connect_kind(&chain(&outer)), TransportErrorKind::Connect);
    }

    #[test]
    fn rustls_errors_in_the_chain_are_tls() {
        let outer = Outer(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ));
        assert_eq!(connect_kind(&chain(&outer)), TransportErrorKind::Tls);
        assert_eq!(
            exchange_kind(&chain(&outer)),
            (TransportErrorKind::Tls, Delivery::MaybeSent)
        );
    }

    #[test]
    fn io_kinds_after_sending_map_to_timeout_and_reset() {
        let timed_out = Outer(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(
            exchange_kind(&chain(&timed_out)),
            (TransportErrorKind::Timeout, Delivery::MaybeSent)
        );
        let reset = Outer(io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(
            exchange_kind(&chain(&reset)),
            (TransportErrorKind::Reset, Delivery::MaybeSent)
        );
    }

    #[test]
    fn describe_skips_repeated_texts() {
        let outer = Outer(io::Error::other("boom"));
        assert_eq!(describe(&chain(&outer)), "outer: boom");
    }
}
