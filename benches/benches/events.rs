//! Event throughput:
//!
//! - `events_amqp/amqp_sink`: 1,000 events through the AMQP sink until every one is
//!   confirmed, against `events_amqp/raw_lapin`: the same 1,000 payloads and
//!   properties published with bare lapin (publisher confirms, mandatory, persistent,
//!   the same window of 256 in flight) to the same exchange and queue, in the same run;
//! - `events_pipeline/memory`: 1,000 core events through the pipeline (envelope, UUID
//!   v7, fan-out) to the in-memory sink, received by the application;
//! - `events_pipeline/emit`: the cost on the caller's side alone: 1,000 `emit` calls
//!   into a pipeline whose sink discards (the sink's task drains concurrently).
//!
//! Needs RabbitMQ at `CLOUDREC_AMQP_URL` or `amqp://127.0.0.1:5672/%2f` (the AMQP group
//! is skipped with a message when none listens). Run with
//! `cargo bench -p cloudrec-benches --bench events`; figures are in `docs/benchmarks.md`.

use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use cloudrec_core::{Event, EventSink};
use cloudrec_events::{
    AmqpConfig, AmqpSink, CONTENT_TYPE, CloudEvent, MemorySink, Pipeline, catalog,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, ExchangeDeleteOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

const BATCH: usize = 1_000;
const WINDOW: usize = 256;

fn events(n: usize) -> Vec<Event> {
    let kinds = catalog::every_kind();
    (0..n).map(|i| kinds[i % kinds.len()].clone()).collect()
}

fn url() -> String {
    std::env::var(cloudrec_events::URL_ENV)
        .unwrap_or_else(|_| cloudrec_events::DEFAULT_URL.to_owned())
}

async fn setup(connection: &Connection, exchange: &str, queue: &str) -> Channel {
    let channel = connection.create_channel().await.expect("channel");
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
        .expect("exchange");
    // A bounded queue, so a long run does not fill the broker's disk.
    let mut args = FieldTable::default();
    args.insert("x-max-length".into(), AMQPValue::LongInt(20_000));
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
        .expect("queue");
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind");
    channel
}

/// Bare lapin: publish every payload with the sink's properties, at most `WINDOW`
/// confirms outstanding, and wait for all of them.
async fn raw_publish(channel: &Channel, exchange: &str, batch: &[Arc<CloudEvent>]) {
    let mut in_flight = VecDeque::with_capacity(WINDOW);
    for event in batch {
        if in_flight.len() == WINDOW {
            let confirm: lapin::PublisherConfirm = in_flight.pop_front().expect("in flight");
            assert!(confirm.await.expect("confirm").is_ack());
        }
        let payload = event.to_json();
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type(CONTENT_TYPE.into())
            .with_message_id(event.id().into())
            .with_type(event.event_type().into())
            .with_timestamp(
                event
                    .time()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            );
        let confirm = channel
            .basic_publish(
                exchange.into(),
                event.routing_key().into(),
                BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                },
                &payload,
                properties,
            )
            .await
            .expect("publish");
        in_flight.push_back(confirm);
    }
    for confirm in in_flight {
        assert!(confirm.await.expect("confirm").is_ack());
    }
}

fn amqp(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let Ok(connection) = runtime.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(5),
            Connection::connect(&url(), ConnectionProperties::default()),
        )
        .await
        .map_err(|_| ())?
        .map_err(|_| ())
    }) else {
        eprintln!(
            "events_amqp skipped: no RabbitMQ at CLOUDREC_AMQP_URL or amqp://127.0.0.1:5672/%2f; \
             start one with `rabbitmq-server -detached`"
        );
        return;
    };
    let suffix = uuid::Uuid::now_v7();
    let exchange = format!("cloudrec.bench.{suffix}");
    let queue = format!("cloudrec.bench.q.{suffix}");
    let channel = runtime.block_on(async {
        let channel = setup(&connection, &exchange, &queue).await;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .expect("confirms");
        channel
    });
    let sink = runtime.block_on(async {
        AmqpSink::start(
            AmqpConfig::new(url())
                .exchange(&exchange)
                .confirm_window(WINDOW)
                .buffer_capacity(4 * BATCH),
        )
        .expect("sink")
    });
    let batch: Vec<Arc<CloudEvent>> = events(BATCH)
        .iter()
        .map(|e| Arc::new(CloudEvent::from_event(e, "/bench")))
        .collect();

    let mut group = c.benchmark_group("events_amqp");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    let (channel_ref, exchange_ref, batch_ref, sink_ref) = (&channel, &exchange, &batch, &sink);
    group.bench_function("raw_lapin", |b| {
        b.to_async(&runtime)
            .iter(move || raw_publish(channel_ref, exchange_ref, batch_ref));
    });
    group.bench_function("amqp_sink", |b| {
        b.to_async(&runtime).iter(move || async move {
            for event in batch_ref {
                sink_ref.enqueue(Arc::clone(event)).expect("enqueue");
            }
            sink_ref
                .wait_confirmed(Instant::now() + Duration::from_secs(60))
                .await
                .expect("confirmed");
        });
    });
    group.finish();
    let stats = sink.stats();
    assert_eq!(
        (stats.dropped, stats.returned, stats.nacked),
        (0, 0, 0),
        "{stats:?}"
    );
    runtime.block_on(async {
        let _ = sink.shutdown(Duration::from_secs(10)).await;
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
        let _ = channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await;
        let _ = connection.close(200, "bye".into()).await;
    });
}

fn pipeline(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (pipeline, received) = runtime.block_on(async {
        let (memory, received) = MemorySink::channel(2 * BATCH);
        let pipeline = Pipeline::builder()
            .queue_capacity(2 * BATCH)
            .sink(memory)
            .build()
            .expect("pipeline");
        (pipeline, received)
    });
    let batch = events(BATCH);
    let mut group = c.benchmark_group("events_pipeline");
    group.throughput(Throughput::Elements(BATCH as u64));
    let received = Arc::new(tokio::sync::Mutex::new(received));
    group.bench_function("memory", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (pipeline, batch, received) =
                (pipeline.clone(), batch.clone(), Arc::clone(&received));
            async move {
                let mut received = received.lock().await;
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let events = batch.clone();
                    let start = Instant::now();
                    for event in events {
                        pipeline.publish(event);
                    }
                    for _ in 0..BATCH {
                        black_box(received.recv().await.expect("event"));
                    }
                    total += start.elapsed();
                }
                total
            }
        });
    });
    group.finish();
    assert_eq!(pipeline.stats()[0].dropped, 0);

    let (emit_pipeline, mut drained) = runtime.block_on(async {
        let (memory, drained) = MemorySink::channel(2 * BATCH);
        let pipeline = Pipeline::builder()
            .queue_capacity(2 * BATCH)
            .sink(memory)
            .build()
            .expect("pipeline");
        (pipeline, drained)
    });
    let mut group = c.benchmark_group("events_pipeline");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("emit", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let events = batch.clone();
                let start = Instant::now();
                for event in events {
                    emit_pipeline.emit(event);
                }
                total += start.elapsed();
                // Deliver and drain outside the measurement, so nothing is dropped.
                runtime.block_on(emit_pipeline.flush(Duration::from_secs(10)));
                black_box(drained.drain());
            }
            total
        });
    });
    group.finish();
    assert_eq!(emit_pipeline.stats()[0].dropped, 0);
}

criterion_group!(benches, pipeline, amqp);
criterion_main!(benches);
