//! The AMQP sink with no broker reachable: nothing here needs RabbitMQ.

#![cfg(feature = "amqp")]

use std::sync::Arc;
use std::time::Duration;

use cloudrec_events::{
    AmqpConfig, AmqpSink, CloudEvent, EventsError, Health, SinkErrorKind, catalog,
};

fn unreachable() -> AmqpConfig {
    // Port 1 on loopback: nothing listens, connections are refused at once.
    AmqpConfig::new("amqp://guest:guest@127.0.0.1:1/%2f")
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
}

#[tokio::test]
async fn events_wait_in_the_buffer_and_shutdown_is_bounded() {
    let sink = AmqpSink::start(unreachable()).unwrap();
    for event in catalog::every_kind() {
        sink.enqueue(Arc::new(CloudEvent::from_event(&event, "/t")))
            .unwrap();
    }
    let stats = sink.stats();
    assert_eq!(stats.buffered, catalog::every_kind().len() as u64);
    assert_eq!((stats.published, stats.dropped), (0, 0));
    let error = sink.shutdown(Duration::from_millis(300)).await.unwrap_err();
    assert_eq!(error.kind(), SinkErrorKind::Timeout);
    assert_eq!(sink.health(), Health::Closed);
    let late = CloudEvent::from_event(&catalog::every_kind()[0], "/t");
    assert_eq!(
        sink.enqueue(Arc::new(late)).unwrap_err().kind(),
        SinkErrorKind::Closed
    );
}

#[tokio::test]
async fn the_sink_reports_reconnecting_while_the_broker_is_unreachable() {
    let sink = AmqpSink::start(unreachable()).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while sink.health() != Health::Reconnecting {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never reported reconnecting"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sink.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[test]
fn starting_checks_the_settings_and_needs_a_runtime() {
    assert!(matches!(
        AmqpSink::start(unreachable()),
        Err(EventsError::NoRuntime)
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let err = AmqpSink::start(AmqpConfig::new("not a url:pw@")).unwrap_err();
        assert!(matches!(err, EventsError::AmqpUrl));
        let err = AmqpSink::start(unreachable().buffer_capacity(0)).unwrap_err();
        assert!(matches!(
            err,
            EventsError::InvalidSetting {
                setting: "buffer_capacity",
                ..
            }
        ));
    });
}
