//! Tests against a real RabbitMQ (guest/guest at 127.0.0.1:5672, or `CLOUDREC_AMQP_URL`).
//!
//! Every test here needs the broker and says how to start one when none listens.
//! The broker restart test is in `broker_restart.rs`, its own test binary, so that it
//! never runs at the same time as these.

#![cfg(feature = "amqp")]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudrec_core::Event;
use cloudrec_events::{
    AmqpConfig, AmqpSink, CloudEvent, ContentMode, Health, Pipeline, SPEC_VERSION, catalog,
};
use common::{cleanup, consume, eventually, queue_for, require_broker, unique};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

const WAIT: Duration = Duration::from_secs(30);

fn event_of(suffix: &str) -> Event {
    catalog::every_kind()
        .into_iter()
        .find(|e| e.kind.type_suffix() == suffix)
        .unwrap_or_else(|| panic!("no catalog event of type {suffix}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_type_is_published_with_its_cloudevents_attributes() {
    let admin = require_broker().await.create_channel().await.unwrap();
    let exchange = unique("every-type");
    let queue = unique("every-type-q");
    queue_for(&admin, &exchange, &queue, "#").await;

    let amqp = AmqpSink::start(AmqpConfig::new(common::broker_url()).exchange(&exchange)).unwrap();
    let pipeline = Pipeline::builder()
        .source("/cloudrec/test")
        .sink(amqp.clone())
        .build()
        .unwrap();
    let mut sent = Vec::new();
    for event in catalog::every_kind() {
        sent.push(pipeline.publish(event).unwrap());
    }
    assert!(pipeline.flush(WAIT).await.is_complete());
    assert_eq!(amqp.health(), Health::Connected);

    let got = consume(&admin, &queue, sent.len(), Duration::from_secs(10)).await;
    assert_eq!(got.len(), sent.len());
    for (delivery, envelope) in got.iter().zip(&sent) {
        let props = &delivery.properties;
        assert_eq!(
            props.content_type().as_ref().unwrap().as_str(),
            "application/cloudevents+json"
        );
        assert_eq!(props.delivery_mode(), &Some(2));
        assert_eq!(props.message_id().as_ref().unwrap().as_str(), envelope.id());
        assert_eq!(
            props.kind().as_ref().unwrap().as_str(),
            envelope.event_type()
        );
        assert_eq!(delivery.routing_key.as_str(), envelope.type_suffix());
        let json: serde_json::Value = serde_json::from_slice(&delivery.data).unwrap();
        assert_eq!(json["specversion"], SPEC_VERSION);
        assert_eq!(json["id"], envelope.id());
        assert_eq!(json["source"], "/cloudrec/test");
        assert_eq!(json["type"], envelope.event_type());
        assert!(json["type"].as_str().unwrap().starts_with("io.cloudrec."));
        assert_eq!(
            json["subject"],
            "0123456789abcdef0123456789abcdef/class-42/38f8e3cfdc474cd56fc1ceba380d7e1a"
        );
        assert_eq!(json["datacontenttype"], "application/json");
        assert_eq!(json["data"]["session"]["cname"], "class-42");
        assert_eq!(json["data"]["session"]["uid"], "527841");
        assert_eq!(json["data"]["session"]["mode"], "mix");
        assert!(json["time"].as_str().unwrap().ends_with('Z'));
        let decoded = CloudEvent::from_json(&delivery.data).unwrap();
        assert_eq!(&decoded, envelope.as_ref());
    }
    let stats = amqp.stats();
    assert_eq!(stats.confirmed, sent.len() as u64);
    assert_eq!((stats.returned, stats.nacked, stats.dropped), (0, 0, 0));
    amqp.shutdown(WAIT).await.unwrap();
    assert_eq!(amqp.health(), Health::Closed);
    cleanup(&admin, &exchange, Some(&queue)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unroutable_events_are_returned_and_reported() {
    let admin = require_broker().await.create_channel().await.unwrap();
    let exchange = unique("unroutable");
    let queue = unique("unroutable-q");
    // Only session events have a queue; calls and errors are unroutable.
    queue_for(&admin, &exchange, &queue, "session.#").await;

    let amqp = AmqpSink::start(AmqpConfig::new(common::broker_url()).exchange(&exchange)).unwrap();
    let pipeline = Pipeline::builder().sink(amqp.clone()).build().unwrap();
    let mut unroutable = Vec::new();
    let mut routable = 0;
    for event in catalog::every_kind() {
        let envelope = pipeline.publish(event).unwrap();
        if envelope.type_suffix().starts_with("session.") {
            routable += 1;
        } else {
            unroutable.push(envelope.id().to_owned());
        }
    }
    assert!(pipeline.flush(WAIT).await.is_complete());
    let stats = amqp.stats();
    assert!(
        !unroutable.is_empty() && routable > 0,
        "the catalog has both kinds"
    );
    assert_eq!(stats.returned, unroutable.len() as u64);
    assert_eq!(stats.confirmed, catalog::every_kind().len() as u64);
    assert_eq!(
        stats.republished, 0,
        "returned messages are not republished"
    );
    assert_eq!(amqp.returned_ids(), unroutable);
    let routed = consume(&admin, &queue, routable, Duration::from_secs(10)).await;
    assert_eq!(routed.len(), routable);
    amqp.shutdown(WAIT).await.unwrap();
    cleanup(&admin, &exchange, Some(&queue)).await;
}

/// A TCP forwarder to the broker that can be switched off, to cut the sink off
/// without touching the broker.
struct Switch {
    port: u16,
    up: watch::Sender<bool>,
}

async fn switch_to_broker() -> Switch {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (up, rx) = watch::channel(false);
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            if !*rx.borrow() {
                continue; // dropping the socket refuses the connection
            }
            let mut rx = rx.clone();
            tokio::spawn(async move {
                let Ok(mut outbound) = TcpStream::connect("127.0.0.1:5672").await else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = rx.wait_for(|up| !*up) => {}
                }
            });
        }
    });
    Switch { port, up }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_sheds_the_least_valuable_and_a_gap_follows_recovery() {
    let admin = require_broker().await.create_channel().await.unwrap();
    let exchange = unique("full-buffer");
    let queue = unique("full-buffer-q");
    queue_for(&admin, &exchange, &queue, "#").await;
    let switch = switch_to_broker().await;
    let url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", switch.port);
    let amqp = AmqpSink::start(
        AmqpConfig::new(url)
            .exchange(&exchange)
            .buffer_capacity(5)
            .backoff(Duration::from_millis(10), Duration::from_millis(50))
            .timeouts(
                Duration::from_secs(2),
                Duration::from_secs(2),
                Duration::from_secs(5),
            ),
    )
    .unwrap();
    let sequence = [
        "session.acquired",
        "session.starting",
        "session.status",
        "call.attempt",
        "session.running",
        "session.status",
        "session.stopping",
        "session.stopped",
        "call.retry",
        "session.lost",
    ];
    let mut ids = BTreeMap::new();
    for suffix in sequence {
        let envelope = Arc::new(CloudEvent::from_event(&event_of(suffix), "/t"));
        ids.insert(envelope.id().to_owned(), suffix);
        amqp.enqueue(envelope).unwrap();
    }
    eventually("the sink to give up its first connection", WAIT, || {
        amqp.health() == Health::Reconnecting
    })
    .await;
    let stats = amqp.stats();
    assert_eq!((stats.buffered, stats.dropped, stats.published), (5, 5, 0));

    switch.up.send_replace(true);
    amqp.wait_confirmed(Instant::now() + WAIT).await.unwrap();
    assert_eq!(amqp.health(), Health::Connected);
    let got = consume(&admin, &queue, 6, Duration::from_secs(10)).await;
    let types: Vec<String> = got
        .iter()
        .map(|d| {
            CloudEvent::from_json(&d.data)
                .unwrap()
                .type_suffix()
                .to_owned()
        })
        .collect();
    assert_eq!(
        types,
        [
            "events.gap",
            "session.acquired",
            "session.running",
            "session.stopping",
            "session.stopped",
            "session.lost"
        ]
    );
    let gap = CloudEvent::from_json(&got[0].data).unwrap();
    assert_eq!(gap.data()["lost"], 5);
    assert_eq!(gap.data()["byType"]["session.status"], 2);
    assert_eq!(gap.data()["byType"]["call.attempt"], 1);
    assert_eq!(gap.data()["byType"]["call.retry"], 1);
    assert_eq!(gap.data()["byType"]["session.starting"], 1);
    assert_eq!(amqp.stats().gaps, 1);
    amqp.shutdown(WAIT).await.unwrap();
    cleanup(&admin, &exchange, Some(&queue)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_republishes_what_was_not_confirmed() {
    let admin = require_broker().await.create_channel().await.unwrap();
    let exchange = unique("cut");
    let queue = unique("cut-q");
    queue_for(&admin, &exchange, &queue, "#").await;
    let switch = switch_to_broker().await;
    switch.up.send_replace(true);
    let window = 32;
    let amqp = AmqpSink::start(
        AmqpConfig::new(format!("amqp://guest:guest@127.0.0.1:{}/%2f", switch.port))
            .exchange(&exchange)
            .confirm_window(window)
            .backoff(Duration::from_millis(10), Duration::from_millis(100))
            .timeouts(
                Duration::from_secs(2),
                Duration::from_secs(2),
                Duration::from_secs(3),
            ),
    )
    .unwrap();
    let pipeline = Pipeline::builder()
        .queue_capacity(4096)
        .sink(amqp.clone())
        .build()
        .unwrap();
    let mut ids = HashSet::new();
    for n in 0..2000 {
        ids.insert(
            pipeline
                .publish(event_of("session.running"))
                .unwrap()
                .id()
                .to_owned(),
        );
        if n == 500 {
            eventually("some confirms", WAIT, || amqp.stats().confirmed > 0).await;
            switch.up.send_replace(false);
            eventually("the cut to be noticed", WAIT, || {
                amqp.health() == Health::Reconnecting
            })
            .await;
            switch.up.send_replace(true);
        }
    }
    assert!(pipeline.flush(Duration::from_secs(60)).await.is_complete());
    let stats = amqp.stats();
    assert!(stats.reconnects >= 1, "{stats:?}");
    let got = consume(&admin, &queue, usize::MAX, Duration::from_secs(3)).await;
    let unique_ids: HashSet<String> = got
        .iter()
        .map(|d| d.properties.message_id().as_ref().unwrap().to_string())
        .collect();
    assert_eq!(unique_ids, ids);
    let duplicates = (got.len() - unique_ids.len()) as u64;
    eprintln!(
        "cut: {} deliveries, {duplicates} duplicates, {stats:?}",
        got.len()
    );
    assert!(
        duplicates <= stats.republished,
        "{duplicates} duplicates, {stats:?}"
    );
    assert!(
        stats.republished <= window as u64 * stats.reconnects,
        "{stats:?}"
    );
    amqp.shutdown(WAIT).await.unwrap();
    cleanup(&admin, &exchange, Some(&queue)).await;
}

/// Forwards one client to the broker and, on command, slips a connection.blocked
/// (`true`) or connection.unblocked (`false`) frame into the broker-to-client
/// stream between two whole frames, as a broker under a memory alarm would.
async fn blocking_forwarder() -> (u16, mpsc::UnboundedSender<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (commands, mut command_rx) = mpsc::unbounded_channel::<bool>();
    tokio::spawn(async move {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let broker = TcpStream::connect("127.0.0.1:5672").await.unwrap();
        let (mut client_read, mut client_write) = client.into_split();
        let (mut broker_read, mut broker_write) = broker.into_split();
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut client_read, &mut broker_write).await;
        });
        let (frames, mut frame_rx) = mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(async move {
            loop {
                let mut header = [0u8; 7];
                if broker_read.read_exact(&mut header).await.is_err() {
                    return;
                }
                let size = u32::from_be_bytes([header[3], header[4], header[5], header[6]]);
                let mut frame = header.to_vec();
                frame.resize(7 + size as usize + 1, 0);
                if broker_read.read_exact(&mut frame[7..]).await.is_err()
                    || frames.send(frame).is_err()
                {
                    return;
                }
            }
        });
        loop {
            let bytes = tokio::select! {
                frame = frame_rx.recv() => match frame { Some(frame) => frame, None => return },
                command = command_rx.recv() => {
                    let Some(block) = command else { return };
                    let mut payload = vec![0, 10, 0, if block { 60 } else { 61 }];
                    if block {
                        let reason = b"low on memory (test)";
                        payload.push(reason.len() as u8);
                        payload.extend_from_slice(reason);
                    }
                    let mut frame = vec![1, 0, 0];
                    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
                    frame.extend_from_slice(&payload);
                    frame.push(0xCE);
                    frame
                }
            };
            if client_write.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    (port, commands)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_published_while_the_broker_blocks_the_connection() {
    let admin = require_broker().await.create_channel().await.unwrap();
    let exchange = unique("blocked");
    let queue = unique("blocked-q");
    queue_for(&admin, &exchange, &queue, "#").await;
    let (port, block) = blocking_forwarder().await;
    let amqp = AmqpSink::start(
        AmqpConfig::new(format!("amqp://guest:guest@127.0.0.1:{port}/%2f")).exchange(&exchange),
    )
    .unwrap();
    let send = |n: usize| {
        for _ in 0..n {
            let event = CloudEvent::from_event(&event_of("session.running"), "/t");
            amqp.enqueue(Arc::new(event)).unwrap();
        }
    };
    send(5);
    amqp.wait_confirmed(Instant::now() + WAIT).await.unwrap();
    assert_eq!(amqp.stats().published, 5);

    block.send(true).unwrap();
    eventually("the sink to see the block", WAIT, || {
        amqp.health() == Health::Blocked
    })
    .await;
    send(10);
    // Give a misbehaving sink the chance to publish; a correct one holds the events.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stats = amqp.stats();
    assert_eq!((stats.published, stats.buffered), (5, 10), "{stats:?}");

    block.send(false).unwrap();
    amqp.wait_confirmed(Instant::now() + WAIT).await.unwrap();
    assert_eq!(amqp.health(), Health::Connected);
    assert_eq!(amqp.stats().confirmed, 15);
    assert_eq!(
        consume(&admin, &queue, 15, Duration::from_secs(10))
            .await
            .len(),
        15
    );
    amqp.shutdown(WAIT).await.unwrap();
    cleanup(&admin, &exchange, Some(&queue)).await;
}

/// The string value of an AMQP header.
fn header<'a>(delivery: &'a lapin::message::Delivery, name: &str) -> Option<&'a str> {
    let headers = delivery.properties.headers().as_ref()?;
    match headers.inner().get(name)? {
        lapin::types::AMQPValue::LongString(text) => std::str::from_utf8(text.as_bytes()).ok(),
        lapin::types::AMQPValue::ShortString(text) => Some(text.as_str()),
        other => panic!("header {name} is not a string: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_type_is_published_in_binary_mode_with_ce_headers() {
    let admin = require_broker().await.create_channel().await.unwrap();
    let exchange = unique("binary");
    let queue = unique("binary-q");
    queue_for(&admin, &exchange, &queue, "#").await;

    let config = AmqpConfig::new(common::broker_url())
        .exchange(&exchange)
        .content_mode(ContentMode::Binary);
    assert!(format!("{config:?}").contains("Binary"), "{config:?}");
    let amqp = AmqpSink::start(config).unwrap();
    let pipeline = Pipeline::builder()
        .source("/cloudrec/test")
        .sink(amqp.clone())
        .build()
        .unwrap();
    let mut sent = Vec::new();
    for (n, event) in catalog::every_kind().into_iter().enumerate() {
        let mut envelope = CloudEvent::from_event(&event, "/cloudrec/test");
        if n % 2 == 0 {
            envelope.set_extension("region", "eu-west").unwrap();
        }
        let envelope = Arc::new(envelope);
        amqp.enqueue(Arc::clone(&envelope)).unwrap();
        sent.push(envelope);
    }
    assert!(pipeline.flush(WAIT).await.is_complete());

    let got = consume(&admin, &queue, sent.len(), Duration::from_secs(10)).await;
    assert_eq!(got.len(), sent.len());
    for (delivery, envelope) in got.iter().zip(&sent) {
        let props = &delivery.properties;
        assert_eq!(
            props.content_type().as_ref().unwrap().as_str(),
            "application/json"
        );
        assert_eq!(props.delivery_mode(), &Some(2));
        assert_eq!(props.message_id().as_ref().unwrap().as_str(), envelope.id());
        assert_eq!(
            props.kind().as_ref().unwrap().as_str(),
            envelope.event_type()
        );
        assert_eq!(delivery.routing_key.as_str(), envelope.type_suffix());
        assert_eq!(header(delivery, "ce-specversion"), Some(SPEC_VERSION));
        assert_eq!(header(delivery, "ce-id"), Some(envelope.id()));
        assert_eq!(header(delivery, "ce-source"), Some("/cloudrec/test"));
        assert_eq!(
            header(delivery, "ce-type"),
            Some(envelope.event_type().as_str())
        );
        assert_eq!(header(delivery, "ce-subject"), envelope.subject());
        let time = header(delivery, "ce-time").unwrap();
        assert!(time.ends_with('Z'), "{time}");
        assert_eq!(
            header(delivery, "ce-region"),
            envelope.extensions().get("region").map(String::as_str)
        );
        assert_eq!(header(delivery, "ce-datacontenttype"), None);
        let data: serde_json::Value = serde_json::from_slice(&delivery.data).unwrap();
        assert_eq!(&data, envelope.data());
        let decoded = CloudEvent::from_amqp(&delivery.properties, &delivery.data).unwrap();
        assert_eq!(&decoded, envelope.as_ref());
    }
    amqp.shutdown(WAIT).await.unwrap();
    cleanup(&admin, &exchange, Some(&queue)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_amqp_decoder_reads_structured_messages_and_names_missing_headers() {
    let admin = require_broker().await.create_channel().await.unwrap();
    let exchange = unique("decoder");
    let queue = unique("decoder-q");
    queue_for(&admin, &exchange, &queue, "#").await;

    let amqp = AmqpSink::start(
        AmqpConfig::new(common::broker_url())
            .exchange(&exchange)
            .content_mode(ContentMode::Structured),
    )
    .unwrap();
    let sent: Vec<Arc<CloudEvent>> = catalog::every_kind()
        .iter()
        .map(|event| Arc::new(CloudEvent::from_event(event, "/cloudrec/test")))
        .collect();
    for envelope in &sent {
        amqp.enqueue(Arc::clone(envelope)).unwrap();
    }
    amqp.shutdown(WAIT).await.unwrap();
    let got = consume(&admin, &queue, sent.len(), Duration::from_secs(10)).await;
    assert_eq!(got.len(), sent.len());
    for (delivery, envelope) in got.iter().zip(&sent) {
        assert_eq!(header(delivery, "ce-id"), None);
        let decoded = CloudEvent::from_amqp(&delivery.properties, &delivery.data).unwrap();
        assert_eq!(&decoded, envelope.as_ref());
    }
    cleanup(&admin, &exchange, Some(&queue)).await;

    // A binary-mode message without its id is refused by name.
    let props = lapin::BasicProperties::default().with_content_type("application/json".into());
    let error = CloudEvent::from_amqp(&props, b"{}")
        .unwrap_err()
        .to_string();
    assert!(error.contains("no ce-id header"), "{error}");
}
