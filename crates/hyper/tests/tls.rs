//! HTTPS against a local server whose self-signed certificate is trusted only here.

mod common;

use std::time::Duration;

use cloudrec_client::Transport;
use cloudrec_core::{Delivery, TransportErrorKind};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{Endpoint, Secret};
use common::{
    Behaviour, CUSTOMER_ID, CUSTOMER_SECRET, request, response, self_signed_tls, start_with,
};

fn trusting(der: Vec<u8>) -> HyperTransport {
    HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .add_root_certificate(der)
        .build()
        .unwrap()
}

#[tokio::test]
async fn https_with_an_added_root_gets_the_answer_and_sends_auth() {
    let (der, acceptor) = self_signed_tls();
    let reply = response(200, &[("x-request-id", "tls-1")], r#"{"resourceId":"r"}"#);
    let mut server = start_with(Behaviour::Respond(reply), Some(acceptor)).await;
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{}", server.addr.port());
        let answer = trusting(der.clone())
            .send(request(Endpoint::Acquire, &url, Some("{}")))
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{host}");
        assert_eq!(answer.request_id.as_deref(), Some("tls-1"));
        assert_eq!(answer.body, &br#"{"resourceId":"r"}"#[..]);
        let raw = server.next_request().await;
        assert!(raw.starts_with("POST /v1/apps/app/cloud_recording/acquire "));
        assert!(raw.to_ascii_lowercase().contains("authorization: basic "));
    }
}

#[tokio::test]
async fn an_untrusted_certificate_is_tls_and_not_sent() {
    let (_der, acceptor) = self_signed_tls();
    let server = start_with(Behaviour::Respond(response(200, &[], "{}")), Some(acceptor)).await;
    let transport = HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .build()
        .unwrap();
    let url = format!("https://localhost:{}", server.addr.port());
    let error = tokio::time::timeout(
        Duration::from_secs(20),
        transport.send(request(Endpoint::Start, &url, Some("{}"))),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Tls, "{error}");
    assert_eq!(error.delivery, Delivery::NotSent);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_tls() {
    // The certificate names localhost and 127.0.0.1, not 127.0.0.2.
    let (der, acceptor) = self_signed_tls();
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0")
        .await
        .expect("127.0.0.2 is loopback on Linux; this test needs it bindable");
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    let url = format!("https://127.0.0.2:{port}");
    let error = tokio::time::timeout(
        Duration::from_secs(20),
        trusting(der).send(request(Endpoint::Query, &url, None)),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Tls, "{error}");
    assert_eq!(error.delivery, Delivery::NotSent);
}
