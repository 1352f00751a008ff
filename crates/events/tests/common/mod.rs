//! Helpers for the tests that need a RabbitMQ broker.

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lapin::options::{
    BasicConsumeOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind, message::Delivery};

/// The broker URL: `CLOUDREC_AMQP_URL`, or the local RabbitMQ.
pub fn broker_url() -> String {
    std::env::var(cloudrec_events::URL_ENV)
        .unwrap_or_else(|_| cloudrec_events::DEFAULT_URL.to_owned())
}

/// Connects to the broker, waiting up to 20 s for one that is restarting; fails the
/// test with instructions when none listens.
pub async fn require_broker() -> Connection {
    let url = broker_url();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let attempt = tokio::time::timeout(
            Duration::from_secs(5),
            Connection::connect(&url, ConnectionProperties::default()),
        )
        .await;
        if let Ok(Ok(connection)) = attempt {
            return connection;
        }
        assert!(
            Instant::now() < deadline,
            "this test needs RabbitMQ (guest/guest) at CLOUDREC_AMQP_URL or \
             amqp://127.0.0.1:5672/%2f: start it with `rabbitmq-server -detached` \
             (`bash .ci/run` starts it too)"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A name no other test (or engineer) uses.
pub fn unique(what: &str) -> String {
    format!("cloudrec.test.{what}.{}", uuid::Uuid::now_v7())
}

/// Declares a durable topic exchange and a durable queue bound to it with `pattern`.
/// The queue expires after 10 minutes unused, so a failed test leaves nothing behind for long.
pub async fn queue_for(channel: &Channel, exchange: &str, queue: &str, pattern: &str) {
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut args = FieldTable::default();
    args.insert("x-expires".into(), AMQPValue::LongUInt(600_000));
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            args,
        )
        .await
        .unwrap();
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            pattern.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
}

/// Reads `count` messages (auto-ack), or fewer if none arrives for `idle`.
pub async fn consume(
    channel: &Channel,
    queue: &str,
    count: usize,
    idle: Duration,
) -> Vec<Delivery> {
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            unique("consumer").as_str().into(),
            BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut got = Vec::with_capacity(count.min(1 << 16));
    while got.len() < count {
        match tokio::time::timeout(idle, consumer.next()).await {
            Ok(Some(Ok(delivery))) => got.push(delivery),
            _ => break,
        }
    }
    got
}

/// Deletes the test's queue and exchange.
pub async fn cleanup(channel: &Channel, exchange: &str, queue: Option<&str>) {
    if let Some(queue) = queue {
        let _ = channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await;
    }
    let _ = channel
        .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
        .await;
}

/// Waits (bounded) until `check` holds.
pub async fn eventually(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
