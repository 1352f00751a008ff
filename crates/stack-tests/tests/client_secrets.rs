//! No secret reaches the logs: a whole session over loopback HTTP, with a retried
//! failure, traced at TRACE level through the client, the hyper transport and the
//! emulator, leaves no customer secret, storage key or token in the output.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use cloudrec_client::TokioClock;
use cloudrec_client::{Client, StartOutcome};
use cloudrec_core::NoEvents;
use cloudrec_emulator::{Emulator, EmulatorConfig, FaultRule};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{
    AcquireRequest, Cname, Endpoint, Mode, Secret, StartClientRequest, StartRequest, StopRequest,
    StorageConfig, StorageVendor, Uid, UpdateClientRequest, UpdateRequest,
};
use tracing_subscriber::fmt::MakeWriter;

const CUSTOMER_SECRET: &str = "customer-secret-5c1e";
const STORAGE_SECRET_KEY: &str = "storage-secret-key-0d44";
const STORAGE_ACCESS_KEY: &str = "storage-access-key-aa17";
const RTC_TOKEN: &str = "rtc-token-007eJxTYBC4";
const STS_TOKEN: &str = "sts-token-9e2b";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traced_session_logs_no_secret() {
    let captured = Captured::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .init();

    let config = EmulatorConfig {
        customer_secret: Secret::new(CUSTOMER_SECRET),
        time_scale: 200.0,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config.clone(), SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    emulator.inject(
        FaultRule::respond(
            Some(Endpoint::Query),
            504,
            serde_json::json!({"code": 62, "reason": "request timeout"}),
        )
        .times(1),
    );
    let transport = HyperTransport::builder()
        .credentials(config.customer_id.clone(), config.customer_secret.clone())
        .build()
        .unwrap();
    let client = Client::builder(config.app_id.clone(), transport, TokioClock::new())
        .events(NoEvents)
        .base_url(emulator.base_url())
        .retry_policy(
            cloudrec_core::RetryPolicy::default().with_server_error_backoff(
                cloudrec_core::Backoff::new(
                    vec![std::time::Duration::from_millis(10)],
                    std::time::Duration::from_millis(10),
                )
                .unwrap(),
            ),
        )
        .build()
        .unwrap();

    let cname = Cname::new("secret-room").unwrap();
    let uid = Uid::new(42).unwrap();
    let storage = StorageConfig::new(
        StorageVendor::AmazonS3,
        0,
        "bucket",
        STORAGE_ACCESS_KEY,
        STORAGE_SECRET_KEY,
    );
    let acquired = client
        .acquire(&Mode::Mix, &AcquireRequest::new(cname.clone(), uid))
        .await
        .unwrap();
    let start = StartRequest::new(
        cname.clone(),
        uid,
        StartClientRequest::mix(storage.clone()).with_token(RTC_TOKEN),
    );
    let StartOutcome::Started { task } = client
        .start(&acquired.resource_id, &Mode::Mix, &start)
        .await
        .unwrap()
    else {
        panic!("expected a new task");
    };
    client.query(&task).await.unwrap();
    let rotate = UpdateClientRequest::storage(storage.with_sts(STS_TOKEN, 4_102_444_800));
    client
        .update(&task, &UpdateRequest::new(cname.clone(), uid, rotate))
        .await
        .unwrap();
    client
        .stop(&task, &StopRequest::new(cname, uid))
        .await
        .unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("cloudrec.call"),
        "the client logged no call span"
    );
    assert!(logs.contains("request timeout") || logs.contains("retry_backoff"));
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", config.customer_id, CUSTOMER_SECRET));
    for secret in [
        CUSTOMER_SECRET,
        STORAGE_SECRET_KEY,
        STORAGE_ACCESS_KEY,
        RTC_TOKEN,
        STS_TOKEN,
        basic.as_str(),
    ] {
        assert!(
            !logs.contains(secret),
            "a secret reached the logs: {secret}"
        );
    }
}
