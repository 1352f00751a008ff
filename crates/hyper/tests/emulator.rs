//! The transport against the cloudrec emulator: its Basic auth, content type and
//! routes accept what the transport sends, and its faults classify as expected.

use std::time::Duration;

use cloudrec_client::Transport;
use cloudrec_core::{Delivery, HttpRequest, TransportErrorKind};
use cloudrec_emulator::{
    DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_SECRET, Emulator, EmulatorConfig,
    FaultRule,
};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{Endpoint, Secret};

fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default(), "127.0.0.1:0".parse().unwrap()).unwrap()
}

fn transport(secret: &str) -> HyperTransport {
    HyperTransport::builder()
        .credentials(DEFAULT_CUSTOMER_ID, Secret::new(secret))
        .request_timeout(Endpoint::Acquire, Duration::from_millis(500))
        .build()
        .unwrap()
}

fn acquire(base_url: &str) -> HttpRequest {
    HttpRequest {
        endpoint: Endpoint::Acquire,
        base_url: base_url.to_owned(),
        path: format!("/v1/apps/{DEFAULT_APP_ID}/cloud_recording/acquire"),
        body: Some(br#"{"cname":"room","uid":"527841","clientRequest":{}}"#.to_vec()),
        timeout: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn acquire_succeeds_with_the_right_credentials_and_is_refused_without() {
    let emulator = emulator();
    let answer = transport(DEFAULT_CUSTOMER_SECRET)
        .send(acquire(&emulator.base_url()))
        .await
        .unwrap();
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert!(body["resourceId"].as_str().is_some_and(|id| !id.is_empty()));

    let answer = transport("wrong-secret")
        .send(acquire(&emulator.base_url()))
        .await
        .unwrap();
    assert_eq!(answer.status, 401);
    emulator.shutdown().await;
}

#[tokio::test]
async fn emulator_faults_classify_as_timeout_and_reset() {
    let emulator = emulator();
    let transport = transport(DEFAULT_CUSTOMER_SECRET);

    emulator.inject(FaultRule::hang(Some(Endpoint::Acquire)).times(1));
    let error = transport
        .send(acquire(&emulator.base_url()))
        .await
        .unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Timeout, "{error}");
    assert_eq!(error.delivery, Delivery::MaybeSent);

    emulator.inject(FaultRule::close(Some(Endpoint::Acquire)).times(1));
    let error = transport
        .send(acquire(&emulator.base_url()))
        .await
        .unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Reset, "{error}");
    assert_eq!(error.delivery, Delivery::MaybeSent);

    // With the faults used up, the same transport gets a normal answer.
    let answer = transport.send(acquire(&emulator.base_url())).await.unwrap();
    assert_eq!(answer.status, 200);
    emulator.shutdown().await;
}
