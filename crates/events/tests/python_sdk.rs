//! The CloudEvents Python SDK's RabbitMQ binding decodes what the AMQP sink publishes,
//! in binary and in structured mode.
//!
//! Needs RabbitMQ (guest/guest at 127.0.0.1:5672, or `CLOUDREC_AMQP_URL`), `python3`
//! with its `venv` module, and PyPI the first time: the test makes a virtual
//! environment under the cargo target directory with `cloudevents` and `pika`, and
//! keeps it for later runs.

#![cfg(feature = "amqp")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use cloudrec_events::{AmqpConfig, AmqpSink, CloudEvent, ContentMode, catalog};
use common::{cleanup, queue_for, require_broker, unique};
use serde_json::Value;

/// The SDK release whose `cloudevents.core.bindings.rabbitmq` is used.
const SDK: &str = "cloudevents==2.2.0";
const PIKA: &str = "pika==1.4.4";

/// The virtual environment with the SDK, made once per target directory.
fn python_with_the_sdk() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-cloudevents-2.2.0");
    let python = venv.join("bin").join("python");
    let ready = venv.join("installed");
    if ready.exists() {
        return python;
    }
    let made = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .output()
        .unwrap_or_else(|e| panic!("this test needs python3 (with venv) on PATH: {e}"));
    assert!(
        made.status.success(),
        "python3 -m venv {} failed (Debian: apt-get install python3-venv): {}",
        venv.display(),
        String::from_utf8_lossy(&made.stderr)
    );
    let pip = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--timeout",
            "30",
            SDK,
            PIKA,
        ])
        .output()
        .expect("the virtual environment's python runs");
    assert!(
        pip.status.success(),
        "this test needs PyPI once, to install {SDK} and {PIKA} into {}; pip failed: {}",
        venv.display(),
        String::from_utf8_lossy(&pip.stderr)
    );
    std::fs::write(&ready, format!("{SDK} {PIKA}\n")).unwrap();
    python
}

/// Publishes every catalog event (with an extension on every other one) in `mode`
/// to a queue of its own, and returns what was sent and the queue.
async fn publish_all(
    admin: &lapin::Channel,
    mode: ContentMode,
) -> (String, String, Vec<Arc<CloudEvent>>) {
    let exchange = unique("python-sdk");
    let queue = unique("python-sdk-q");
    queue_for(admin, &exchange, &queue, "#").await;
    let amqp = AmqpSink::start(
        AmqpConfig::new(common::broker_url())
            .exchange(&exchange)
            .content_mode(mode),
    )
    .unwrap();
    let mut sent = Vec::new();
    for (n, event) in catalog::every_kind().iter().enumerate() {
        let mut envelope = CloudEvent::from_event(event, "/cloudrec/test");
        if n % 2 == 1 {
            envelope.set_extension("tenant", "acme").unwrap();
        }
        let envelope = Arc::new(envelope);
        amqp.enqueue(Arc::clone(&envelope)).unwrap();
        sent.push(envelope);
    }
    amqp.shutdown(Duration::from_secs(30)).await.unwrap();
    (exchange, queue, sent)
}

fn decode_with_the_sdk(python: &Path, queue: &str, count: usize, mode: &str) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/decode_with_sdk.py");
    let url = common::broker_url();
    let out = Command::new(python)
        .arg(script)
        .args([url.as_str(), queue, &count.to_string(), mode])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the SDK could not decode the {mode} messages: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_decodes_both_content_modes() {
    let python = tokio::task::spawn_blocking(python_with_the_sdk)
        .await
        .unwrap();
    let connection = require_broker().await;
    let admin = connection.create_channel().await.unwrap();
    for (mode, decoder) in [
        (ContentMode::Binary, "binary"),
        (ContentMode::Structured, "structured"),
    ] {
        let (exchange, queue, sent) = publish_all(&admin, mode).await;
        let got = {
            let (python, queue, count) = (python.clone(), queue.clone(), sent.len());
            tokio::task::spawn_blocking(move || {
                decode_with_the_sdk(&python, &queue, count, decoder)
            })
            .await
            .unwrap()
        };
        cleanup(&admin, &exchange, Some(&queue)).await;
        assert_eq!(got.len(), sent.len(), "{decoder}");
        for (seen, envelope) in got.iter().zip(&sent) {
            let what = format!("{decoder} {}", envelope.event_type());
            assert_eq!(seen["specversion"], "1.0", "{what}");
            assert_eq!(seen["id"], envelope.id(), "{what}");
            assert_eq!(seen["type"], envelope.event_type(), "{what}");
            assert_eq!(seen["source"], envelope.source(), "{what}");
            assert_eq!(seen["subject"].as_str(), envelope.subject(), "{what}");
            assert_eq!(seen["datacontenttype"], "application/json", "{what}");
            assert_eq!(&seen["data"], envelope.data(), "{what}");
            let extensions: Value = serde_json::to_value(envelope.extensions()).unwrap();
            assert_eq!(seen["extensions"], extensions, "{what}");
            let time = seen["time"].as_str().unwrap().replace("+00:00", "Z");
            assert_eq!(
                humantime::parse_rfc3339_weak(&time).unwrap(),
                envelope.time(),
                "{what}: {time}"
            );
        }
    }
    let _ = connection.close(200, "bye".into()).await;
}
