//! Publishing a command's events to RabbitMQ through cloudrec-events' AMQP sink,
//! and saying what did not reach a queue.

use std::time::Duration;

use clap::ValueEnum;
use cloudrec_events::{AmqpConfig, AmqpSink, ContentMode, Health, Pipeline};

use crate::exit::{Exit, Fail};
use cloudrec_types::redact;

/// How long a command waits for its first connection to the broker before it
/// goes on (events wait in the buffer meanwhile).
const FIRST_CONNECTION: Duration = Duration::from_secs(6);

/// How long a command waits at its end for the broker to confirm its events.
const FLUSH: Duration = Duration::from_secs(5);

/// `--amqp-content-mode`: how each event is laid out in its AMQP message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum AmqpContentMode {
    /// The whole CloudEvent JSON in the body (`application/cloudevents+json`).
    #[default]
    Structured,
    /// The attributes as `ce-` headers, `data` alone in the body (`application/json`).
    Binary,
}

impl From<AmqpContentMode> for ContentMode {
    fn from(mode: AmqpContentMode) -> Self {
        match mode {
            AmqpContentMode::Structured => Self::Structured,
            AmqpContentMode::Binary => Self::Binary,
        }
    }
}

/// The AMQP pipeline of one command, when `--amqp-url` was given.
pub(crate) struct EventsOut {
    inner: Option<Amqp>,
}

struct Amqp {
    pipeline: Pipeline,
    sink: AmqpSink,
    /// The URL with its password masked.
    shown: String,
    exchange: String,
}

/// What reached RabbitMQ, once the command flushed its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// The broker's URL, password masked.
    pub(crate) shown: String,
    /// The exchange published to.
    pub(crate) exchange: String,
    /// Messages written to the broker.
    pub(crate) published: u64,
    /// Messages the broker acknowledged (unroutable ones included).
    pub(crate) confirmed: u64,
    /// Acknowledged messages no queue was bound for: nobody will read them.
    pub(crate) unroutable: u64,
    /// Events that never reached the broker: still buffered or in flight at the
    /// deadline, shed from a full buffer, or dropped before the sink.
    pub(crate) undelivered: u64,
}

impl Delivery {
    /// The summary's `rabbitmq` row.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{} published, {} confirmed by the broker, {} unroutable, {} undelivered",
            self.published, self.confirmed, self.unroutable, self.undelivered
        )
    }

    /// Whether any event is lost to its readers.
    pub(crate) fn lost(&self) -> bool {
        self.unroutable > 0 || self.undelivered > 0
    }

    /// One warning line per kind of loss.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.undelivered > 0 {
            lines.push(format!(
                "warning: {} event(s) were not delivered to RabbitMQ at {}: the broker did not confirm them before the deadline (is it running and reachable?); they are lost",
                self.undelivered, self.shown
            ));
        }
        if self.unroutable > 0 {
            lines.push(format!(
                "warning: {} of {} event(s) published to exchange {} at {} were unroutable: no queue is bound for their routing keys, so nobody will read them; bind a queue (e.g. `cloudrec events tail`) before recording",
                self.unroutable, self.confirmed, self.exchange, self.shown
            ));
        }
        lines
    }
}

impl EventsOut {
    /// Starts publishing to `url` on `exchange` in `mode`; nothing when `url` is `None`.
    pub(crate) fn start(
        url: Option<&str>,
        exchange: &str,
        mode: AmqpContentMode,
    ) -> Result<Self, Fail> {
        let Some(url) = url else {
            return Ok(Self { inner: None });
        };
        if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
            return Err(Fail::input(
                "invalid --amqp-url: give amqp://user:password@host:port/vhost, e.g. amqp://127.0.0.1:5672/%2f",
            ));
        }
        let sink = AmqpSink::start(
            AmqpConfig::new(url)
                .exchange(exchange)
                .content_mode(mode.into()),
        )
        .map_err(|error| Fail::input(format!("--amqp-url refused: {error}")))?;
        let pipeline = Pipeline::builder()
            .sink(sink.clone())
            .build()
            .map_err(|error| Fail::internal(format!("event pipeline: {error}")))?;
        Ok(Self {
            inner: Some(Amqp {
                pipeline,
                sink,
                shown: redact::url(url),
                exchange: exchange.to_owned(),
            }),
        })
    }

    /// The broker connection, for readiness checks.
    pub(crate) fn broker(&self) -> Option<AmqpSink> {
        self.inner.as_ref().map(|amqp| amqp.sink.clone())
    }

    /// The pipeline to hand to the reporter.
    pub(crate) fn pipeline(&self) -> Option<Pipeline> {
        self.inner.as_ref().map(|amqp| amqp.pipeline.clone())
    }

    /// Waits (bounded) for the first connection to the broker. A refused login
    /// is a credentials error: nothing could ever be published. A broker that
    /// does not answer is a warning: events wait in the buffer until it does.
    pub(crate) async fn connected(&self) -> Result<(), Fail> {
        let Some(amqp) = &self.inner else {
            return Ok(());
        };
        let deadline = tokio::time::Instant::now() + FIRST_CONNECTION;
        while amqp.sink.health() == Health::Connecting && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if amqp.sink.login_refused() {
            return Err(Fail::new(
                Exit::Credentials,
                format!(
                    "RabbitMQ at {} refused the login: check the user and password in --amqp-url (or CLOUDREC_AMQP_URL) and the user's access to the vhost",
                    amqp.shown
                ),
            ));
        }
        if amqp.sink.health() != Health::Connected {
            eprintln!(
                "warning: RabbitMQ at {} does not answer yet; events are kept in memory until it does (is it running?)",
                amqp.shown
            );
        }
        Ok(())
    }

    /// Flushes within a bounded time and says what reached the broker.
    pub(crate) async fn finish(self) -> Option<Delivery> {
        let Amqp {
            pipeline,
            sink,
            shown,
            exchange,
        } = self.inner?;
        // One budget for both: the pipeline's flush waits for the broker's confirms.
        let deadline = tokio::time::Instant::now() + FLUSH;
        let _ = pipeline.shutdown(FLUSH).await;
        let _ = sink
            .shutdown(deadline.saturating_duration_since(tokio::time::Instant::now()))
            .await;
        let stats = sink.stats();
        let before_sink: u64 = pipeline
            .stats()
            .iter()
            .map(|slot| slot.emitted.saturating_sub(slot.delivered))
            .sum();
        Some(Delivery {
            shown,
            exchange,
            published: stats.published,
            confirmed: stats.confirmed,
            unroutable: stats.returned,
            undelivered: before_sink + stats.buffered + stats.in_flight + stats.dropped,
        })
    }
}
