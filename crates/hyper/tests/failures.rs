//! Every transport failure that can be produced on loopback, with its kind and
//! whether the request may have reached the server.

mod common;

use std::time::Duration;

use cloudrec_client::Transport;
use cloudrec_core::{Delivery, TransportError, TransportErrorKind};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{Endpoint, Secret};
use common::{Behaviour, CUSTOMER_ID, CUSTOMER_SECRET, request, response, start, transport};

/// Sends `endpoint` to `url` (with a JSON body for POST, none for the query GET, as
/// the client does) and returns the failure, bounded by a 20 s guard so a wrong
/// answer cannot hang the test run.
async fn fail(transport: &HyperTransport, endpoint: Endpoint, url: &str) -> TransportError {
    let body = (endpoint.method() == "POST").then_some("{}");
    let send = transport.send(request(endpoint, url, body));
    tokio::time::timeout(Duration::from_secs(20), send)
        .await
        .expect("the transport did not give up within 20 s")
        .expect_err("the request unexpectedly got an answer")
}

fn short_timeouts() -> HyperTransport {
    HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .request_timeout(Endpoint::Query, Duration::from_millis(300))
        .request_timeout(Endpoint::Update, Duration::from_millis(300))
        .build()
        .unwrap()
}

#[tokio::test]
async fn refused_connection_is_connect_and_not_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}");
    let error = fail(&transport(), Endpoint::Start, &url).await;
    assert_eq!(error.kind, TransportErrorKind::Connect, "{error}");
    assert_eq!(error.delivery, Delivery::NotSent);
    assert_eq!(error.host, url);
}

#[tokio::test]
async fn unresolvable_name_is_dns_and_not_sent() {
    let url = "http://nonexistent.invalid";
    let transport = HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .allow_plain_http(true)
        .build()
        .unwrap();
    let error = fail(&transport, Endpoint::Acquire, url).await;
    assert_eq!(error.kind, TransportErrorKind::Dns, "{error}");
    assert_eq!(error.delivery, Delivery::NotSent);
    assert!(!transport.resolves("nonexistent.invalid").await);
}

#[tokio::test]
async fn a_server_that_never_answers_is_timeout_and_maybe_sent() {
    let mut server = start(Behaviour::Hang).await;
    let error = fail(&short_timeouts(), Endpoint::Update, &server.url()).await;
    assert_eq!(error.kind, TransportErrorKind::Timeout, "{error}");
    assert_eq!(error.delivery, Delivery::MaybeSent);
    assert!(
        error
            .detail
            .contains("after the request was handed to a connection"),
        "{}",
        error.detail
    );
    // The server did receive it: MaybeSent was the right call.
    assert!(server.next_request().await.starts_with("POST "));

    // A query has no body to tell whether it was written; it is safe to repeat
    // and counts as maybe sent.
    let mut server = start(Behaviour::Hang).await;
    let error = fail(&short_timeouts(), Endpoint::Query, &server.url()).await;
    assert_eq!(error.kind, TransportErrorKind::Timeout, "{error}");
    assert_eq!(error.delivery, Delivery::MaybeSent);
    assert!(
        error.detail.contains("before an answer"),
        "{}",
        error.detail
    );
    assert!(server.next_request().await.starts_with("GET "));
}

#[tokio::test]
async fn the_caller_bound_applies_when_smaller_than_the_endpoint_timeout() {
    let server = start(Behaviour::Hang).await;
    let mut call = request(Endpoint::Stop, &server.url(), Some("{}"));
    call.timeout = Duration::from_millis(200);
    let error = tokio::time::timeout(Duration::from_secs(20), transport().send(call))
        .await
        .expect("the caller's 200 ms bound was not applied to stop's 25 s timeout")
        .unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Timeout);
    assert!(error.detail.contains("200 ms"), "{}", error.detail);
}

#[tokio::test]
async fn a_stalled_tls_handshake_times_out_not_sent() {
    let server = start(Behaviour::Silent).await;
    let url = format!("https://{}", server.addr);
    let error = fail(&short_timeouts(), Endpoint::Update, &url).await;
    assert_eq!(error.kind, TransportErrorKind::Timeout, "{error}");
    assert_eq!(error.delivery, Delivery::NotSent);
    assert!(
        error.detail.contains("while connecting"),
        "{}",
        error.detail
    );
}

#[tokio::test]
async fn closing_mid_response_is_reset_and_maybe_sent() {
    let partial = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"resourceId\":".to_vec();
    let server = start(Behaviour::Respond(partial)).await;
    let error = fail(&transport(), Endpoint::Acquire, &server.url()).await;
    assert_eq!(error.kind, TransportErrorKind::Reset, "{error}");
    assert_eq!(error.delivery, Delivery::MaybeSent);
}

#[tokio::test]
async fn closing_before_any_answer_is_reset_and_maybe_sent() {
    let server = start(Behaviour::Respond(Vec::new())).await;
    let error = fail(&transport(), Endpoint::Stop, &server.url()).await;
    assert_eq!(error.kind, TransportErrorKind::Reset, "{error}");
    assert_eq!(error.delivery, Delivery::MaybeSent);
}

#[tokio::test]
async fn garbage_bytes_are_protocol_and_maybe_sent() {
    let server = start(Behaviour::Respond(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec())).await;
    let error = fail(&transport(), Endpoint::Start, &server.url()).await;
    assert_eq!(error.kind, TransportErrorKind::Protocol, "{error}");
    assert_eq!(error.delivery, Delivery::MaybeSent);
}

#[tokio::test]
async fn plain_http_to_a_non_loopback_host_is_refused_before_connecting() {
    let url = "http://api.agora.io";
    let error = fail(&transport(), Endpoint::Acquire, url).await;
    assert_eq!(error.kind, TransportErrorKind::Connect);
    assert_eq!(error.delivery, Delivery::NotSent);
    assert!(
        error.detail.contains("allow_plain_http"),
        "{}",
        error.detail
    );
    // The private address 10.0.0.1 is not loopback either.
    let error = fail(&transport(), Endpoint::Acquire, "http://10.0.0.1:1").await;
    assert!(
        error.detail.contains("plain http refused"),
        "{}",
        error.detail
    );
}

#[tokio::test]
async fn plain_http_opt_in_lets_the_request_through() {
    // With the opt-in the refusal is gone: the request reaches DNS and fails there.
    let transport = HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .allow_plain_http(true)
        .build()
        .unwrap();
    let error = fail(&transport, Endpoint::Acquire, "http://host.invalid").await;
    assert!(
        !error.detail.contains("plain http refused"),
        "{}",
        error.detail
    );
    assert_eq!(error.kind, TransportErrorKind::Dns);
}

#[tokio::test]
async fn malformed_urls_and_schemes_are_refused_not_sent() {
    for url in ["ftp://127.0.0.1", "not a url", ""] {
        let error = fail(&transport(), Endpoint::Query, url).await;
        assert_eq!(error.delivery, Delivery::NotSent, "{url}");
        assert_eq!(error.kind, TransportErrorKind::Connect, "{url}");
    }
}

#[tokio::test]
async fn plain_text_where_tls_is_expected_is_tls_and_not_sent() {
    let reply = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".to_vec();
    let server = start(Behaviour::Greet(reply)).await;
    let url = format!("https://{}", server.addr);
    let error = fail(&transport(), Endpoint::Acquire, &url).await;
    assert_eq!(error.kind, TransportErrorKind::Tls, "{error}");
    assert_eq!(error.delivery, Delivery::NotSent);
}

#[tokio::test]
async fn a_body_over_the_limit_is_protocol_and_maybe_sent() {
    let big = "x".repeat(2048);
    let server = start(Behaviour::Respond(response(200, &[], &big))).await;
    let transport = HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .max_response_body(1024)
        .build()
        .unwrap();
    let error = fail(&transport, Endpoint::Query, &server.url()).await;
    assert_eq!(error.kind, TransportErrorKind::Protocol, "{error}");
    assert_eq!(error.delivery, Delivery::MaybeSent);
    assert!(error.detail.contains("1024 bytes"), "{}", error.detail);

    // At the limit the body is accepted whole.
    let server = start(Behaviour::Respond(response(200, &[], &big[..1024]))).await;
    let answer = transport
        .send(request(Endpoint::Query, &server.url(), None))
        .await
        .unwrap();
    assert_eq!(answer.body.len(), 1024);
}

#[tokio::test]
async fn credentials_in_the_url_are_refused_and_masked() {
    let url = "https://someone:pa55word@127.0.0.1:1";
    let error = fail(&transport(), Endpoint::Query, url).await;
    assert_eq!(error.kind, TransportErrorKind::Connect);
    assert_eq!(error.delivery, Delivery::NotSent);
    assert!(
        error.detail.contains("credentials in the url"),
        "{}",
        error.detail
    );
    assert!(!error.to_string().contains("pa55word"), "{error}");
    assert_eq!(error.host, "https://***@127.0.0.1:1");
}
