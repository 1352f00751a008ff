//! 10,000 events with a RabbitMQ restart in the middle (needs the local broker and
//! `rabbitmqctl`). In its own test binary so that no other test of this crate runs
//! while the broker is down; the broker is always started again (a drop guard).

#![cfg(feature = "amqp")]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use cloudrec_events::{AmqpConfig, AmqpSink, Health, Pipeline, catalog};
use common::{cleanup, consume, eventually, queue_for, require_broker, unique};

const WAIT: Duration = Duration::from_secs(30);

/// Starts the RabbitMQ app again when dropped, whatever happened, and waits (bounded)
/// until the broker accepts connections.
struct BrokerRestart;

fn rabbitmqctl(command: &str) -> bool {
    std::process::Command::new("rabbitmqctl")
        .arg(command)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

impl BrokerRestart {
    fn stop() -> Self {
        let guard = Self;
        assert!(
            rabbitmqctl("stop_app"),
            "`rabbitmqctl stop_app` failed: this test must run as a user that may control the local RabbitMQ"
        );
        guard
    }
}

impl Drop for BrokerRestart {
    fn drop(&mut self) {
        let started = rabbitmqctl("start_app");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline && std::net::TcpStream::connect("127.0.0.1:5672").is_err() {
            std::thread::sleep(Duration::from_millis(200));
        }
        if !started && !std::thread::panicking() {
            panic!(
                "`rabbitmqctl start_app` failed: start RabbitMQ with `rabbitmq-server -detached`"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_survive_a_broker_restart() {
    const TOTAL: usize = 10_000;
    let admin_connection = require_broker().await;
    let admin = admin_connection.create_channel().await.unwrap();
    let exchange = unique("restart");
    let queue = unique("restart-q");
    queue_for(&admin, &exchange, &queue, "#").await;
    drop(admin);
    let _ = admin_connection.close(200, "bye".into()).await;

    let window = 256;
    let amqp = AmqpSink::start(
        AmqpConfig::new(common::broker_url())
            .exchange(&exchange)
            .confirm_window(window)
            .buffer_capacity(2 * TOTAL)
            .backoff(Duration::from_millis(100), Duration::from_secs(1))
            .timeouts(
                Duration::from_secs(3),
                Duration::from_secs(3),
                Duration::from_secs(5),
            ),
    )
    .unwrap();
    let pipeline = Pipeline::builder()
        .queue_capacity(2 * TOTAL)
        .sink(amqp.clone())
        .build()
        .unwrap();
    let kinds = catalog::every_kind();
    let mut ids = HashSet::with_capacity(TOTAL);
    let mut emit = |n: usize| {
        let event = kinds[n % kinds.len()].clone();
        ids.insert(pipeline.publish(event).unwrap().id().to_owned());
    };
    // A steady stream (20 events every 2 ms) so that messages are in flight when
    // the broker goes away; pacing only, nothing is asserted about time.
    let mut n = 0;
    while n < TOTAL / 4 {
        for _ in 0..20 {
            emit(n);
            n += 1;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eventually("the first confirms", Duration::from_secs(60), || {
        amqp.stats().confirmed > 0
    })
    .await;
    {
        let stopping = tokio::task::spawn_blocking(BrokerRestart::stop);
        while !stopping.is_finished() && n < TOTAL * 3 / 4 {
            for _ in 0..4 {
                emit(n);
                n += 1;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let restart = stopping.await.unwrap();
        // The rest arrives while the broker is down and waits in the buffer.
        while n < TOTAL {
            emit(n);
            n += 1;
        }
        eventually(
            "the sink to notice the outage",
            Duration::from_secs(60),
            || amqp.health() != Health::Connected,
        )
        .await;
        tokio::task::spawn_blocking(move || drop(restart))
            .await
            .unwrap();
    }
    assert_eq!(ids.len(), TOTAL);
    let report = pipeline.flush(Duration::from_secs(120)).await;
    assert!(report.is_complete(), "{report:?} {:?}", amqp.stats());
    let stats = amqp.stats();
    assert!(stats.reconnects >= 1, "{stats:?}");
    assert_eq!(stats.dropped, 0);

    let admin = require_broker().await.create_channel().await.unwrap();
    let got = consume(&admin, &queue, usize::MAX, Duration::from_secs(5)).await;
    let unique_ids: HashSet<String> = got
        .iter()
        .map(|d| d.properties.message_id().as_ref().unwrap().to_string())
        .collect();
    let missing = ids.difference(&unique_ids).count();
    assert_eq!(
        missing, 0,
        "{missing} of {TOTAL} events never arrived; {stats:?}"
    );
    let duplicates = (got.len() - unique_ids.len()) as u64;
    eprintln!(
        "restart: {} deliveries, {duplicates} duplicates, {stats:?}",
        got.len()
    );
    assert!(
        duplicates <= stats.republished,
        "{duplicates} duplicates; {stats:?}"
    );
    assert!(
        stats.republished <= window as u64 * stats.reconnects,
        "more republished than the confirm window allows: {stats:?}"
    );
    amqp.shutdown(WAIT).await.unwrap();
    cleanup(&admin, &exchange, Some(&queue)).await;
}
