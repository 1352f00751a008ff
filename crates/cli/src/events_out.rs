//! Publishing a command's events to RabbitMQ through cloudrec-events' AMQP sink.

use std::time::Duration;

use cloudrec_events::{AmqpConfig, AmqpSink, Pipeline};

use crate::exit::Fail;

/// The AMQP pipeline of one command, when `--amqp-url` was given.
pub(crate) struct EventsOut {
    inner: Option<(Pipeline, AmqpSink)>,
}

impl EventsOut {
    /// Starts publishing to `url`; nothing when `url` is `None`.
    pub(crate) fn start(url: Option<&str>) -> Result<Self, Fail> {
        let Some(url) = url else {
            return Ok(Self { inner: None });
        };
        if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
            return Err(Fail::input(
                "invalid --amqp-url: give amqp://user:password@host:port/vhost, e.g. amqp://127.0.0.1:5672/%2f",
            ));
        }
        let amqp = AmqpSink::start(AmqpConfig::new(url))
            .map_err(|error| Fail::input(format!("--amqp-url refused: {error}")))?;
        let pipeline = Pipeline::builder()
            .sink(amqp.clone())
            .build()
            .map_err(|error| Fail::internal(format!("event pipeline: {error}")))?;
        Ok(Self {
            inner: Some((pipeline, amqp)),
        })
    }

    /// The pipeline to hand to the reporter.
    pub(crate) fn pipeline(&self) -> Option<Pipeline> {
        self.inner.as_ref().map(|(pipeline, _)| pipeline.clone())
    }

    /// Flushes within a bounded time and says what reached the broker.
    pub(crate) async fn finish(self) -> Option<String> {
        let (pipeline, amqp) = self.inner?;
        let flushed = pipeline.shutdown(Duration::from_secs(5)).await;
        let closed = amqp.shutdown(Duration::from_secs(5)).await;
        let stats = amqp.stats();
        let complete = flushed.is_complete() && closed.is_ok();
        Some(format!(
            "{} published, {} confirmed by the broker, {} unroutable{}",
            stats.published,
            stats.confirmed,
            stats.returned,
            if complete {
                ""
            } else {
                " (not all events were confirmed before the deadline: is RabbitMQ running?)"
            }
        ))
    }
}
