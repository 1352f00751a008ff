use std::fmt;
use std::time::Duration;

use super::ContentMode;
use cloudrec_types::redact;

use crate::EventsError;
use crate::envelope::DEFAULT_SOURCE;

/// The environment variable that holds the AMQP URL.
pub const URL_ENV: &str = "CLOUDREC_AMQP_URL";

/// The URL used when [`URL_ENV`] is not set: the local RabbitMQ, vhost `/`.
pub const DEFAULT_URL: &str = "amqp://127.0.0.1:5672/%2f";

/// The default exchange: a durable topic exchange.
pub const DEFAULT_EXCHANGE: &str = "cloudrec.events";

/// Settings of the [`AmqpSink`](crate::AmqpSink).
///
/// `Debug` hides the password of the URL.
#[derive(Clone)]
pub struct AmqpConfig {
    pub(crate) url: String,
    pub(crate) exchange: String,
    pub(crate) declare_exchange: bool,
    pub(crate) confirm_window: usize,
    pub(crate) buffer_capacity: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) confirm_timeout: Duration,
    pub(crate) backoff_min: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) source: String,
    pub(crate) name: String,
    pub(crate) content_mode: ContentMode,
}

impl fmt::Debug for AmqpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpConfig")
            .field("url", &redact::url(&self.url))
            .field("exchange", &self.exchange)
            .field("declare_exchange", &self.declare_exchange)
            .field("confirm_window", &self.confirm_window)
            .field("buffer_capacity", &self.buffer_capacity)
            .field("connect_timeout", &self.connect_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("confirm_timeout", &self.confirm_timeout)
            .field("backoff", &(self.backoff_min, self.backoff_max))
            .field("name", &self.name)
            .field("content_mode", &self.content_mode)
            .finish()
    }
}

impl AmqpConfig {
    /// Settings for the broker at `url` (`amqp://user:password@host:port/vhost`), with
    /// the defaults: exchange `cloudrec.events` (declared durable, topic), 256
    /// messages in flight, a buffer of 10,000 events, 5 s to connect, 5 s per socket
    /// write, 10 s per confirm, back-off from 100 ms to 10 s, structured content mode.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            exchange: DEFAULT_EXCHANGE.to_owned(),
            declare_exchange: true,
            confirm_window: 256,
            buffer_capacity: 10_000,
            connect_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            confirm_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            source: DEFAULT_SOURCE.to_owned(),
            name: "amqp".to_owned(),
            content_mode: ContentMode::Structured,
        }
    }

    /// Settings for the URL in `CLOUDREC_AMQP_URL`, or `amqp://127.0.0.1:5672/%2f`.
    pub fn from_env() -> Self {
        Self::new(std::env::var(URL_ENV).unwrap_or_else(|_| DEFAULT_URL.to_owned()))
    }

    /// The exchange to publish to.
    pub fn exchange(mut self, exchange: impl Into<String>) -> Self {
        self.exchange = exchange.into();
        self
    }

    /// Whether to declare the exchange (durable topic) on each connection (default
    /// true); turn off when the broker's permissions forbid declaring.
    pub fn declare_exchange(mut self, declare: bool) -> Self {
        self.declare_exchange = declare;
        self
    }

    /// How many published messages may wait for their confirm at once (default 256).
    /// This also bounds the duplicates one connection loss can cause.
    pub fn confirm_window(mut self, window: usize) -> Self {
        self.confirm_window = window;
        self
    }

    /// How many events the sink holds while it cannot publish (default 10,000).
    pub fn buffer_capacity(mut self, capacity: usize) -> Self {
        self.buffer_capacity = capacity;
        self
    }

    /// The time allowed to connect (and open a channel), to write one message to the
    /// socket, and for one confirm to arrive.
    pub fn timeouts(mut self, connect: Duration, write: Duration, confirm: Duration) -> Self {
        self.connect_timeout = connect;
        self.write_timeout = write;
        self.confirm_timeout = confirm;
        self
    }

    /// The reconnect back-off: starts at `min`, doubles to `max`, with jitter.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min;
        self.backoff_max = max.max(min);
        self
    }

    /// The CloudEvents `source` of the gap events this sink makes (default `/cloudrec`).
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// The sink's name in pipeline counters and gap events (default `amqp`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// How each event is laid out in its message (default
    /// [`ContentMode::Structured`]): the whole CloudEvent JSON in the body, or
    /// [`ContentMode::Binary`]: the attributes as `ce-` headers and `data` as the body.
    pub fn content_mode(mut self, mode: ContentMode) -> Self {
        self.content_mode = mode;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), EventsError> {
        self.url
            .parse::<lapin::uri::AMQPUri>()
            .map_err(|_| EventsError::AmqpUrl)?;
        if self.confirm_window == 0 {
            return Err(EventsError::InvalidSetting {
                setting: "confirm_window",
                expected: "at least 1 message in flight",
            });
        }
        if self.buffer_capacity == 0 {
            return Err(EventsError::InvalidSetting {
                setting: "buffer_capacity",
                expected: "at least 1 event",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let config = AmqpConfig::new("amqp://bob:hunter2@broker:5672/%2f");
        let text = format!("{config:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("amqp://bob:***@broker:5672/%2f"), "{text}");
        assert_eq!(redact::url("amqp://host/%2f"), "amqp://host/%2f");
    }

    #[test]
    fn validation_rejects_bad_urls_without_echoing_them() {
        let err = AmqpConfig::new("http://x:secretpw@[")
            .validate()
            .unwrap_err();
        assert!(!err.to_string().contains("secretpw"));
        assert!(AmqpConfig::new(DEFAULT_URL).validate().is_ok());
        assert!(
            AmqpConfig::new(DEFAULT_URL)
                .confirm_window(0)
                .validate()
                .is_err()
        );
    }
}
