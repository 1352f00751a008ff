//! Consumes cloudrec events from RabbitMQ and dedupes them by id.
//!
//! The AMQP sink publishes at least once: after a connection loss it republishes
//! what the broker had not confirmed, so a consumer may see an event twice. This
//! consumer binds a durable queue to the events exchange, decodes each CloudEvent,
//! skips ids it has already seen and acknowledges every message.
//!
//! ```text
//! cargo run -p cloudrec-examples --example event_consumer -- [--samples] [--count N]
//!     [--exchange cloudrec.events] [--queue cloudrec.events.example] [--binding '#']
//! ```
//!
//! `--samples` first publishes one event of every type, each twice, through the
//! AMQP sink, to show the dedupe. The broker is `CLOUDREC_AMQP_URL` or
//! `amqp://127.0.0.1:5672/%2f`.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use cloudrec_events::{AmqpConfig, AmqpSink, CloudEvent, DEFAULT_EXCHANGE, catalog};
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicQosOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions, QueuePurgeOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties, ExchangeKind};

/// Remembers the last `capacity` ids, forgetting the oldest first.
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

impl Seen {
    fn new(capacity: usize) -> Self {
        Self {
            ids: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// True the first time an id is seen.
    fn first_time(&mut self, id: &str) -> bool {
        if self.ids.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        self.ids.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        true
    }
}

struct Args {
    exchange: String,
    queue: String,
    binding: String,
    count: Option<usize>,
    samples: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        exchange: DEFAULT_EXCHANGE.to_owned(),
        queue: "cloudrec.events.example".to_owned(),
        binding: "#".to_owned(),
        count: None,
        samples: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--exchange" => args.exchange = value()?,
            "--queue" => args.queue = value()?,
            "--binding" => args.binding = value()?,
            "--count" => {
                args.count = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--count takes a number".to_owned())?,
                )
            }
            "--samples" => args.samples = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let config = AmqpConfig::from_env().exchange(&args.exchange);
    let url = std::env::var(cloudrec_events::URL_ENV)
        .unwrap_or_else(|_| cloudrec_events::DEFAULT_URL.to_owned());
    let connection = Connection::connect(&url, ConnectionProperties::default())
        .await
        .map_err(|e| {
            format!("cannot reach RabbitMQ ({e}); start it with `rabbitmq-server -detached`")
        })?;
    let channel = connection.create_channel().await?;
    channel
        .exchange_declare(
            args.exchange.as_str().into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_declare(
            args.queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            args.queue.as_str().into(),
            args.exchange.as_str().into(),
            args.binding.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    channel.basic_qos(256, BasicQosOptions::default()).await?;

    let mut expected = args.count;
    let mut messages = None;
    if args.samples {
        // Start from an empty queue, so that the dedupe shown is this run's.
        channel
            .queue_purge(args.queue.as_str().into(), QueuePurgeOptions::default())
            .await?;
        let sink = AmqpSink::start(config)?;
        let samples = catalog::every_kind();
        for event in &samples {
            let envelope = Arc::new(CloudEvent::from_event(event, "/cloudrec/example"));
            sink.enqueue(Arc::clone(&envelope))?;
            sink.enqueue(envelope)?; // the same id again, as after a republish
        }
        sink.shutdown(Duration::from_secs(10)).await?;
        expected.get_or_insert(samples.len());
        messages = Some(2 * samples.len());
        println!("published {} sample events, each twice", samples.len());
    }

    let mut consumer = channel
        .basic_consume(
            args.queue.as_str().into(),
            "cloudrec-event-consumer".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let mut seen = Seen::new(100_000);
    let (mut unique, mut duplicates) = (0usize, 0usize);
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery?;
        match CloudEvent::from_amqp(&delivery.properties, &delivery.data) {
            Ok(event) if seen.first_time(event.id()) => {
                unique += 1;
                println!(
                    "{}  {:<40} {}",
                    event.id(),
                    event.event_type(),
                    event.subject().unwrap_or("-")
                );
            }
            Ok(_) => duplicates += 1,
            Err(error) => eprintln!("skipping a message that is not a cloudrec event: {error}"),
        }
        delivery.ack(BasicAckOptions::default()).await?;
        let received = unique + duplicates;
        if expected.is_some_and(|n| unique >= n) && messages.is_none_or(|n| received >= n) {
            break;
        }
    }
    println!("{unique} events, {duplicates} duplicates skipped");
    connection.close(200, "bye".into()).await?;
    Ok(())
}
