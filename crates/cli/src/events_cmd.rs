//! `cloudrec events tail`: prints the events published to RabbitMQ as they arrive.

use std::time::Duration;

use clap::{Args, Subcommand};
use cloudrec_events::{CloudEvent, DEFAULT_EXCHANGE, DEFAULT_URL, is_login_refused};
use cloudrec_types::redact;
use futures_util::StreamExt;
use lapin::options::{
    BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties, ExchangeKind};

use crate::exit::{Exit, Fail};

/// What to do with events.
#[derive(Subcommand, Debug)]
pub(crate) enum EventsCommand {
    /// Print events published to RabbitMQ as they arrive, until Ctrl-C.
    Tail(TailArgs),
}

/// `events tail`.
#[derive(Args, Debug)]
pub(crate) struct TailArgs {
    /// The broker (default amqp://127.0.0.1:5672/%2f).
    #[arg(long, env = "CLOUDREC_AMQP_URL", hide_env_values = true)]
    amqp_url: Option<String>,
    /// Which events: a topic pattern over the routing keys, e.g. `session.*` or
    /// `error.#` (default `#`, every event).
    #[arg(long, default_value = "#")]
    routing_key: String,
    /// The exchange the events are published to.
    #[arg(long, default_value = DEFAULT_EXCHANGE)]
    exchange: String,
    /// Print each CloudEvent as one JSON line instead of a readable line.
    #[arg(long)]
    json: bool,
    /// Exit after this many events.
    #[arg(long)]
    count: Option<u64>,
    /// How long to wait for the broker to answer in AMQP (connect, open a channel,
    /// declare and bind), e.g. `5s` or `500ms`.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    connect_timeout: Duration,
}

pub(crate) async fn run(command: &EventsCommand) -> Result<Exit, Fail> {
    match command {
        EventsCommand::Tail(args) => tail(args).await,
    }
}

async fn tail(args: &TailArgs) -> Result<Exit, Fail> {
    let url = args
        .amqp_url
        .clone()
        .unwrap_or_else(|| DEFAULT_URL.to_owned());
    let shown = redact::url(&url);
    let broker = |what: &str, error: lapin::Error| {
        let detail = redact::text(&error.to_string(), &url);
        if is_login_refused(&error) {
            return Fail::new(
                Exit::Credentials,
                format!(
                    "RabbitMQ at {shown} refused the login ({detail}): check the user and password in --amqp-url (or CLOUDREC_AMQP_URL) and the user's access to the vhost"
                ),
            );
        }
        Fail::new(
            Exit::Unreachable,
            format!(
                "{what} at {shown} failed ({detail}); is RabbitMQ running? start it with `rabbitmq-server -detached`"
            ),
        )
    };
    if args.connect_timeout.is_zero() {
        return Err(Fail::input(
            "invalid --connect-timeout: give a positive duration such as 5s",
        ));
    }
    let opened = tokio::time::timeout(args.connect_timeout, subscribe(args, &url, &broker))
        .await
        .map_err(|_| {
            Fail::new(
                Exit::Unreachable,
                format!(
                    "RabbitMQ at {shown} did not answer within {}: the host answered TCP but did not speak AMQP; check that --amqp-url names the broker's AMQP port (5672 by default, not the management port 15672), or give a longer --connect-timeout",
                    humantime::format_duration(args.connect_timeout)
                ),
            )
        })?;
    let (connection, mut consumer) = opened?;
    eprintln!(
        "tailing exchange {} at {shown}, routing key {} (Ctrl-C stops)",
        args.exchange, args.routing_key
    );
    let mut seen = 0_u64;
    loop {
        let delivery = tokio::select! {
            delivery = consumer.next() => delivery,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Some(delivery) = delivery else {
            return Err(Fail::new(
                Exit::Unreachable,
                format!("RabbitMQ at {shown} closed the consumer; run the command again"),
            ));
        };
        let delivery = delivery.map_err(|e| broker("receiving", e))?;
        match CloudEvent::from_amqp(&delivery.properties, &delivery.data) {
            Ok(event) if args.json => {
                println!("{}", String::from_utf8_lossy(&event.to_json()));
            }
            Ok(event) => println!("{}", line(&event, delivery.routing_key.as_str())),
            Err(error) => eprintln!("skipping a message that is not a cloudrec event: {error}"),
        }
        seen += 1;
        if args.count.is_some_and(|count| seen >= count) {
            break;
        }
    }
    let _ = connection.close(200, "bye".into()).await;
    Ok(Exit::Ok)
}

/// Connects, declares the exchange and a private queue bound to it, and starts
/// consuming.
async fn subscribe(
    args: &TailArgs,
    url: &str,
    broker: &impl Fn(&str, lapin::Error) -> Fail,
) -> Result<(Connection, lapin::Consumer), Fail> {
    let connection = Connection::connect(url, ConnectionProperties::default())
        .await
        .map_err(|e| broker("connecting to RabbitMQ", e))?;
    let channel = connection
        .create_channel()
        .await
        .map_err(|e| broker("opening a channel", e))?;
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
        .await
        .map_err(|e| {
            if is_precondition_failed(&e) {
                let detail = redact::text(&e.to_string(), url);
                Fail::input(format!(
                    "exchange {} at {} exists with another type than topic, or other settings than durable ({detail}): give another --exchange, or delete it if nothing else uses it (`rabbitmqadmin delete exchange name={}` or the management UI)",
                    args.exchange,
                    redact::url(url),
                    args.exchange
                ))
            } else {
                broker("declaring the exchange", e)
            }
        })?;
    // A private queue that disappears with this command.
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| broker("declaring a queue", e))?;
    channel
        .queue_bind(
            queue.name().as_str().into(),
            args.exchange.as_str().into(),
            args.routing_key.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| broker("binding the queue", e))?;
    let consumer = channel
        .basic_consume(
            queue.name().as_str().into(),
            "cloudrec-events-tail".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| broker("consuming", e))?;
    Ok((connection, consumer))
}

/// Whether the broker refused a declaration as inequivalent to what exists
/// (PRECONDITION_FAILED, 406).
fn is_precondition_failed(error: &lapin::Error) -> bool {
    matches!(error.kind(), lapin::ErrorKind::ProtocolError(amqp) if amqp.get_id() == 406)
}

fn line(event: &CloudEvent, routing_key: &str) -> String {
    let time = humantime::format_rfc3339_millis(event.time());
    format!(
        "{time}  {:<24} {:<44} {}  {}",
        routing_key,
        event.event_type(),
        event.subject().unwrap_or("-"),
        serde_json::to_string(event.data()).unwrap_or_default()
    )
}
