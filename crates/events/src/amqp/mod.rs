//! The RabbitMQ sink: CloudEvents JSON to a durable topic exchange, with publisher
//! confirms, an own reconnect loop and a bounded, shedding buffer.

mod buffer;
mod codec;
mod config;
mod mode;
mod publisher;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use config::{AmqpConfig, DEFAULT_EXCHANGE, DEFAULT_URL, URL_ENV};
pub use mode::ContentMode;

use self::buffer::{Buffer, Pushed};
use crate::EventsError;
use crate::envelope::CloudEvent;
use crate::error::{SinkError, SinkErrorKind};
use crate::sink::Sink;

/// The state of the sink's connection, for health checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Health {
    /// The first connection is being made.
    Connecting,
    /// Connected; publishing.
    Connected,
    /// The connection was lost or could not be made; retrying with back-off while
    /// events are buffered.
    Reconnecting,
    /// Connected, but the broker sent connection.blocked (memory or disk alarm):
    /// nothing is published until it unblocks.
    Blocked,
    /// Shut down.
    Closed,
}

impl Health {
    const ALL: [Self; 5] = [
        Self::Connecting,
        Self::Connected,
        Self::Reconnecting,
        Self::Blocked,
        Self::Closed,
    ];

    fn code(self) -> u8 {
        match self {
            Self::Connecting => 0,
            Self::Connected => 1,
            Self::Reconnecting => 2,
            Self::Blocked => 3,
            Self::Closed => 4,
        }
    }
}

/// The sink's counters, readable at any time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AmqpStats {
    /// Messages written to the broker, republications included.
    pub published: u64,
    /// Messages the broker acknowledged (returned ones included).
    pub confirmed: u64,
    /// Messages the broker negatively acknowledged; each is republished.
    pub nacked: u64,
    /// Acknowledged messages the broker returned as unroutable (no queue bound for
    /// the routing key). They are reported, not republished.
    pub returned: u64,
    /// Messages put back in the buffer after a nack, a timeout or a connection loss.
    pub republished: u64,
    /// Events waiting in the buffer now.
    pub buffered: u64,
    /// Messages published and not yet confirmed now.
    pub in_flight: u64,
    /// Events shed or refused because the buffer was full (reported in gap events).
    pub dropped: u64,
    /// Connections made after the first one.
    pub reconnects: u64,
    /// Gap events published.
    pub gaps: u64,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    confirmed: AtomicU64,
    nacked: AtomicU64,
    returned: AtomicU64,
    republished: AtomicU64,
    dropped: AtomicU64,
    reconnects: AtomicU64,
    gaps: AtomicU64,
}

struct Shared {
    config: AmqpConfig,
    buffer: Mutex<Buffer>,
    in_flight: AtomicUsize,
    /// New events, or the connection unblocked.
    wake: Notify,
    /// Something was confirmed or requeued; flush waiters look again.
    progress: Notify,
    stop: AtomicBool,
    stop_signal: Notify,
    blocked: AtomicBool,
    health: AtomicU8,
    counters: Counters,
    returned_ids: Mutex<VecDeque<String>>,
    /// The broker refused the last connection attempt's login.
    login_refused: AtomicBool,
}

impl Shared {
    fn buffer(&self) -> std::sync::MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_health(&self, health: Health) {
        self.health.store(health.code(), Ordering::Release);
    }

    fn health(&self) -> Health {
        let code = self.health.load(Ordering::Acquire);
        Health::ALL
            .into_iter()
            .find(|h| h.code() == code)
            .unwrap_or(Health::Closed)
    }

    /// Events not yet confirmed, plus one for an unreported gap.
    fn pending(&self) -> usize {
        let buffer = self.buffer();
        buffer.len()
            + self.in_flight.load(Ordering::Acquire)
            + usize::from(buffer.unreported_losses() > 0)
    }

    fn record_returned(&self, id: String) {
        let mut ids = self
            .returned_ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if ids.len() == RETURNED_KEPT {
            ids.pop_front();
        }
        ids.push_back(id);
    }
}

const RETURNED_KEPT: usize = 64;

/// Whether `error` is the broker refusing the login: ACCESS_REFUSED (403, a wrong
/// user or password, or no permission on the exchange) or NOT_ALLOWED (530, no
/// access to the vhost), or the client's authentication failing. Connecting
/// again with the same URL cannot help.
pub fn is_login_refused(error: &lapin::Error) -> bool {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => matches!(amqp.get_id(), 403 | 530),
        lapin::ErrorKind::AuthProviderError(_) => true,
        _ => false,
    }
}

/// Publishes events to RabbitMQ (or any AMQP 0-9-1 broker).
///
/// - A durable topic exchange (default `cloudrec.events`); routing key = the type
///   suffix (`session.<state>`, `error.<resolution>`, `call.attempt`, `call.retry`,
///   `call.failover`, `session.status`, `events.gap`).
/// - Persistent messages, `message_id` = event id, `type` = event type, mandatory;
///   in structured [`ContentMode`] (the default) the body is the CloudEvent JSON,
///   content type `application/cloudevents+json`; in binary mode the attributes are
///   `ce-` headers, content type `application/json` and the body is `data`.
///   [`CloudEvent::from_amqp`] decodes both.
/// - Publisher confirms with at most `confirm_window` messages in flight; a nack
///   republishes; a returned (unroutable) message is counted, logged and kept in
///   [`AmqpSink::returned_ids`].
/// - Its own reconnect loop (lapin's auto-recovery is off): on any error, timeout or
///   lost connection, the in-flight messages go back to the front of the buffer and
///   are republished after reconnecting with jittered exponential back-off
///   (at-least-once; consumers dedupe by id).
/// - While the broker has the connection blocked, nothing is published.
/// - **When the buffer is full:** a status poll replaces the buffered poll of the
///   same session; otherwise the oldest event of the lowest priority below the new
///   event's is shed (status polls and call attempts, then retries, failovers,
///   failures and intermediate states); acquired, waiting_until_running, running,
///   stopped, stopped_no_data, failed and lost are never shed, and a new event that
///   outranks nothing is refused. Everything shed or refused is counted in
///   `dropped` and reported by one `io.cloudrec.events.gap` event published before
///   the next event.
///
/// Cloning shares the sink.
///
/// Dropping the last clone without [`AmqpSink::shutdown`] stops the publisher task
/// at once; events still buffered are lost. Shut down to flush them.
#[derive(Clone)]
pub struct AmqpSink {
    shared: Arc<Shared>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
    _owner: Arc<StopOnDrop>,
}

/// Stops the publisher task when the last handle of the sink goes away.
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Release);
        self.0.stop_signal.notify_waiters();
        self.0.wake.notify_one();
    }
}

impl std::fmt::Debug for AmqpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpSink")
            .field("config", &self.shared.config)
            .field("health", &self.health())
            .field("stats", &self.stats())
            .finish()
    }
}

impl AmqpSink {
    /// Checks the settings and starts the publisher task on the current tokio
    /// runtime. It connects in the background: events are buffered until it can
    /// publish, so the application starts even while the broker is down.
    pub fn start(config: AmqpConfig) -> Result<Self, EventsError> {
        config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| EventsError::NoRuntime)?;
        let shared = Arc::new(Shared {
            buffer: Mutex::new(Buffer::new(config.buffer_capacity)),
            config,
            in_flight: AtomicUsize::new(0),
            wake: Notify::new(),
            progress: Notify::new(),
            stop: AtomicBool::new(false),
            stop_signal: Notify::new(),
            blocked: AtomicBool::new(false),
            health: AtomicU8::new(Health::Connecting.code()),
            counters: Counters::default(),
            returned_ids: Mutex::new(VecDeque::new()),
            login_refused: AtomicBool::new(false),
        });
        let task = runtime.spawn(publisher::run(Arc::clone(&shared)));
        Ok(Self {
            _owner: Arc::new(StopOnDrop(Arc::clone(&shared))),
            shared,
            task: Arc::new(Mutex::new(Some(task))),
        })
    }

    /// The connection's state.
    pub fn health(&self) -> Health {
        self.shared.health()
    }

    /// Whether the broker refused the login of the last connection attempt (wrong
    /// user or password, or no access to the vhost): reconnecting goes on, but
    /// cannot succeed until the URL's credentials change.
    pub fn login_refused(&self) -> bool {
        self.shared.login_refused.load(Ordering::Acquire)
    }

    /// The counters.
    pub fn stats(&self) -> AmqpStats {
        let c = &self.shared.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        AmqpStats {
            published: load(&c.published),
            confirmed: load(&c.confirmed),
            nacked: load(&c.nacked),
            returned: load(&c.returned),
            republished: load(&c.republished),
            buffered: self.shared.buffer().len() as u64,
            in_flight: self.shared.in_flight.load(Ordering::Relaxed) as u64,
            dropped: load(&c.dropped),
            reconnects: load(&c.reconnects),
            gaps: load(&c.gaps),
        }
    }

    /// The ids of the most recent returned (unroutable) events, oldest first (at most 64).
    pub fn returned_ids(&self) -> Vec<String> {
        self.shared
            .returned_ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Takes one event into the buffer without waiting (the shedding policy applies
    /// when it is full). Fails only after [`AmqpSink::shutdown`].
    pub fn enqueue(&self, event: Arc<CloudEvent>) -> Result<(), SinkError> {
        if self.shared.stop.load(Ordering::Acquire) {
            return Err(SinkError::new(SinkErrorKind::Closed));
        }
        let pushed = self.shared.buffer().push(event);
        if pushed != Pushed::Stored {
            self.shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Waits until every buffered event is confirmed (and any gap event published),
    /// or until `deadline`.
    pub async fn wait_confirmed(&self, deadline: Instant) -> Result<(), SinkError> {
        loop {
            let progress = self.shared.progress.notified();
            tokio::pin!(progress);
            progress.as_mut().enable();
            if self.shared.pending() == 0 {
                return Ok(());
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(SinkError::new(SinkErrorKind::Timeout));
            }
            // Progress is also re-checked every 100 ms in case a wake-up raced.
            let _ = tokio::time::timeout(remaining.min(Duration::from_millis(100)), progress).await;
        }
    }

    /// Publishes what is buffered until `timeout`, then closes the connection and
    /// stops the task. Later events are refused. Returns a timeout error if events
    /// were still unconfirmed.
    pub async fn shutdown(&self, timeout: Duration) -> Result<(), SinkError> {
        let deadline = Instant::now() + timeout;
        let outcome = self.wait_confirmed(deadline).await;
        self.shared.stop.store(true, Ordering::Release);
        self.shared.stop_signal.notify_waiters();
        self.shared.wake.notify_one();
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let grace = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_secs(1));
            let abort = task.abort_handle();
            if tokio::time::timeout(grace, task).await.is_err() {
                abort.abort();
            }
        }
        self.shared.set_health(Health::Closed);
        outcome
    }
}

#[async_trait]
impl Sink for AmqpSink {
    fn name(&self) -> &str {
        &self.shared.config.name
    }

    async fn deliver(&self, event: Arc<CloudEvent>) -> Result<(), SinkError> {
        self.enqueue(event)
    }

    async fn flush(&self, deadline: Instant) -> Result<(), SinkError> {
        self.wait_confirmed(deadline).await
    }
}

#[cfg(test)]
mod tests {
    use lapin::protocol::AMQPError;

    use super::is_login_refused;

    fn protocol(id: u16) -> lapin::Error {
        let amqp = AMQPError::from_id(id, "refused".into()).unwrap();
        lapin::ErrorKind::ProtocolError(amqp).into()
    }

    #[test]
    fn only_access_refusals_are_login_refusals() {
        assert!(is_login_refused(&protocol(403)));
        assert!(is_login_refused(&protocol(530)));
        assert!(is_login_refused(
            &lapin::ErrorKind::AuthProviderError("no".into()).into()
        ));
        for id in [320, 404, 406, 501, 504, 541] {
            assert!(!is_login_refused(&protocol(id)), "{id}");
        }
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(!is_login_refused(&refused.into()));
    }
}
