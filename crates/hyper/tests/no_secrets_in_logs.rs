//! Everything the transport (and rustls, through the `log` bridge) logs at trace
//! level, captured in a buffer: the secret, the Authorization value and bodies are
//! never in it.

mod common;

use std::io;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use cloudrec_client::Transport;
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{Endpoint, Secret};
use common::{
    Behaviour, CUSTOMER_ID, CUSTOMER_SECRET, request, response, self_signed_tls, start, start_with,
};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const REQUEST_BODY_KEY: &str = "storage-secret-key-QWERTY";
const RESPONSE_BODY_KEY: &str = "response-body-marker-ZXCV";

#[tokio::test]
async fn trace_logs_hold_no_secret_no_auth_header_and_no_body() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    // The global subscriber also installs the `log` bridge, so rustls records land here.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let (der, acceptor) = self_signed_tls();
    let body =
        format!(r#"{{"clientRequest":{{"storageConfig":{{"secretKey":"{REQUEST_BODY_KEY}"}}}}}}"#);
    let reply = response(200, &[("x-request-id", "log-1")], RESPONSE_BODY_KEY);
    let plain = start(Behaviour::Respond(reply.clone())).await;
    let tls = start_with(Behaviour::Respond(reply), Some(acceptor)).await;
    let transport = HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .add_root_certificate(der)
        .build()
        .unwrap();
    tracing::info!(transport = ?transport, "built");

    let answer = transport
        .send(request(Endpoint::Start, &plain.url(), Some(&body)))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let https = format!("https://localhost:{}", tls.addr.port());
    let answer = transport
        .send(request(Endpoint::Stop, &https, Some(&body)))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused_url = format!("http://{}", refused.local_addr().unwrap());
    drop(refused);
    transport
        .send(request(Endpoint::Update, &refused_url, Some(&body)))
        .await
        .unwrap_err();

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    // The capture works and holds the useful fields.
    assert!(logs.contains("cloudrec_http"), "{logs}");
    assert!(logs.contains("endpoint=start"), "{logs}");
    assert!(logs.contains("endpoint=stop"), "{logs}");
    assert!(logs.contains("status=200"), "{logs}");
    assert!(logs.contains("kind=Connect"), "{logs}");
    assert!(logs.contains("duration_ms="), "{logs}");
    assert!(logs.contains(CUSTOMER_ID), "{logs}");

    let token = base64::engine::general_purpose::STANDARD
        .encode(format!("{CUSTOMER_ID}:{CUSTOMER_SECRET}"));
    for forbidden in [
        CUSTOMER_SECRET,
        token.as_str(),
        "Basic ",
        REQUEST_BODY_KEY,
        RESPONSE_BODY_KEY,
    ] {
        assert!(
            !logs.contains(forbidden),
            "logs contain {forbidden:?}:\n{logs}"
        );
    }
}
