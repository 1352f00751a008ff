//! The publisher task: connect, publish with confirms, and reconnect on any error.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{
    Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind, PublisherConfirm,
};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{Health, Shared};
use crate::envelope::CloudEvent;

/// Why a connection was given up; logged, never returned to the application.
enum Failure {
    Amqp(lapin::Error),
    Timeout(&'static str),
    ConnectionLost,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Amqp(error) => write!(f, "amqp error: {error}"),
            Self::Timeout(what) => write!(f, "timed out waiting for {what}"),
            Self::ConnectionLost => f.write_str("connection lost"),
        }
    }
}

impl Failure {
    fn is_login_refused(&self) -> bool {
        matches!(self, Self::Amqp(error) if super::is_login_refused(error))
    }
}

impl From<lapin::Error> for Failure {
    fn from(error: lapin::Error) -> Self {
        Self::Amqp(error)
    }
}

async fn within<T>(
    limit: Duration,
    what: &'static str,
    future: impl Future<Output = lapin::Result<T>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(limit, future).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(Failure::Timeout(what)),
    }
}

/// Signals from the connection's event stream.
struct Signals {
    failed: AtomicBool,
    notify: Notify,
}

struct Session {
    connection: Connection,
    channel: Channel,
    signals: Arc<Signals>,
    listener: JoinHandle<()>,
}

/// The jittered exponential back-off before reconnect attempt `failures` (0-based):
/// a random point in the upper half of `min * 2^failures`, capped at `max`.
pub(super) fn backoff(min: Duration, max: Duration, failures: u32, unit: f64) -> Duration {
    let base = min
        .saturating_mul(1u32.checked_shl(failures.min(20)).unwrap_or(u32::MAX))
        .min(max);
    base.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

pub(super) async fn run(shared: Arc<Shared>) {
    let mut failures = 0u32;
    let mut connected_before = false;
    while !shared.stop.load(Ordering::Acquire) {
        match connect(&shared).await {
            Ok(session) => {
                shared.login_refused.store(false, Ordering::Release);
                if connected_before {
                    shared.counters.reconnects.fetch_add(1, Ordering::Relaxed);
                }
                connected_before = true;
                failures = 0;
                shared.set_health(if shared.blocked.load(Ordering::Acquire) {
                    Health::Blocked
                } else {
                    Health::Connected
                });
                tracing::info!(sink = %shared.config.name, "amqp sink connected");
                let outcome = pump(&shared, &session).await;
                session.listener.abort();
                let _ = tokio::time::timeout(
                    shared.config.write_timeout,
                    session.connection.close(200, "bye".into()),
                )
                .await;
                match outcome {
                    Ok(()) => break,
                    Err(failure) => {
                        tracing::warn!(sink = %shared.config.name, %failure, "amqp sink lost its connection; reconnecting");
                    }
                }
            }
            Err(failure) => {
                shared
                    .login_refused
                    .store(failure.is_login_refused(), Ordering::Release);
                tracing::warn!(sink = %shared.config.name, %failure, attempt = failures + 1, "amqp sink could not connect");
            }
        }
        shared.blocked.store(false, Ordering::Release);
        shared.set_health(Health::Reconnecting);
        shared.progress.notify_waiters();
        let delay = backoff(
            shared.config.backoff_min,
            shared.config.backoff_max,
            failures,
            rand::random::<f64>(),
        );
        failures = failures.saturating_add(1);
        let stopping = shared.stop_signal.notified();
        tokio::pin!(stopping);
        stopping.as_mut().enable();
        if shared.stop.load(Ordering::Acquire) {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stopping => {}
        }
    }
    shared.set_health(Health::Closed);
}

async fn connect(shared: &Arc<Shared>) -> Result<Session, Failure> {
    let config = &shared.config;
    let properties =
        ConnectionProperties::default().with_connection_name(config.name.clone().into());
    let connection = within(
        config.connect_timeout,
        "the connection",
        Connection::connect(&config.url, properties),
    )
    .await?;
    let signals = Arc::new(Signals {
        failed: AtomicBool::new(false),
        notify: Notify::new(),
    });
    let listener = {
        let mut events = connection.events_listener();
        let shared = Arc::clone(shared);
        let signals = Arc::clone(&signals);
        tokio::spawn(async move {
            while let Some(event) = events.next().await {
                match event {
                    lapin::Event::ConnectionBlocked(reason) => {
                        tracing::warn!(sink = %shared.config.name, %reason, "broker blocked the connection; holding events");
                        shared.blocked.store(true, Ordering::Release);
                        shared.set_health(Health::Blocked);
                    }
                    lapin::Event::ConnectionUnblocked => {
                        tracing::info!(sink = %shared.config.name, "broker unblocked the connection");
                        shared.blocked.store(false, Ordering::Release);
                        shared.set_health(Health::Connected);
                        shared.wake.notify_one();
                    }
                    lapin::Event::Error(_) => {
                        signals.failed.store(true, Ordering::Release);
                        signals.notify.notify_one();
                    }
                    _ => {}
                }
            }
        })
    };
    // A broker already under an alarm may have blocked the connection before the
    // listener subscribed; lapin keeps that state too.
    if connection.status().blocked() {
        shared.blocked.store(true, Ordering::Release);
    }
    let channel = within(
        config.connect_timeout,
        "a channel",
        connection.create_channel(),
    )
    .await?;
    within(
        config.connect_timeout,
        "confirm.select",
        channel.confirm_select(ConfirmSelectOptions::default()),
    )
    .await?;
    if config.declare_exchange {
        within(
            config.connect_timeout,
            "exchange.declare",
            channel.exchange_declare(
                config.exchange.clone().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            ),
        )
        .await?;
    }
    Ok(Session {
        connection,
        channel,
        signals,
        listener,
    })
}

/// Publishes until an error (returned) or a stop (`Ok`). Whatever is in flight when
/// it fails goes back to the front of the buffer.
async fn pump(shared: &Arc<Shared>, session: &Session) -> Result<(), Failure> {
    let mut in_flight: VecDeque<(Arc<CloudEvent>, Option<PublisherConfirm>)> = VecDeque::new();
    let outcome = pump_inner(shared, session, &mut in_flight).await;
    if !in_flight.is_empty() {
        let count = in_flight.len() as u64;
        shared
            .buffer()
            .requeue_front(in_flight.into_iter().map(|(event, _)| event));
        shared
            .counters
            .republished
            .fetch_add(count, Ordering::Relaxed);
    }
    shared.in_flight.store(0, Ordering::Release);
    shared.progress.notify_waiters();
    outcome
}

async fn pump_inner(
    shared: &Arc<Shared>,
    session: &Session,
    in_flight: &mut VecDeque<(Arc<CloudEvent>, Option<PublisherConfirm>)>,
) -> Result<(), Failure> {
    let config = &shared.config;
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return Ok(());
        }
        if session.signals.failed.load(Ordering::Acquire) {
            return Err(Failure::ConnectionLost);
        }
        while in_flight.len() < config.confirm_window && !shared.blocked.load(Ordering::Acquire) {
            // Taken from the buffer and counted in flight under one lock, so that a
            // flush never sees the event in neither place.
            let next = {
                let mut buffer = shared.buffer();
                let next = match buffer.take_gap(&config.source, &config.name) {
                    Some(gap) => {
                        shared.counters.gaps.fetch_add(1, Ordering::Relaxed);
                        Some(Arc::new(gap))
                    }
                    None => buffer.pop(),
                };
                if next.is_some() {
                    shared
                        .in_flight
                        .store(in_flight.len() + 1, Ordering::Release);
                }
                next
            };
            let Some(event) = next else { break };
            match publish(session, config, &event).await {
                Ok(confirm) => {
                    shared.counters.published.fetch_add(1, Ordering::Relaxed);
                    in_flight.push_back((event, Some(confirm)));
                }
                Err(failure) => {
                    // Behind the older in-flight events, which `pump` puts back first.
                    in_flight.push_back((event, None));
                    return Err(failure);
                }
            }
        }
        if let Some((event, confirm)) = in_flight.pop_front() {
            let Some(confirm) = confirm else {
                // Only a failed wait leaves no confirm, and it returns at once.
                in_flight.push_front((event, None));
                return Err(Failure::ConnectionLost);
            };
            let answer = tokio::time::timeout(config.confirm_timeout, confirm).await;
            let answer = match answer {
                Ok(Ok(answer)) => answer,
                Ok(Err(error)) => {
                    in_flight.push_front((event, None));
                    return Err(Failure::Amqp(error));
                }
                Err(_) => {
                    in_flight.push_front((event, None));
                    return Err(Failure::Timeout("a publisher confirm"));
                }
            };
            match answer {
                Confirmation::Ack(Some(returned)) | Confirmation::Nack(Some(returned)) => {
                    shared.counters.confirmed.fetch_add(1, Ordering::Relaxed);
                    shared.counters.returned.fetch_add(1, Ordering::Relaxed);
                    // lapin hands a return to whichever confirm it reads next, which
                    // under multiple-acks is not always the returned message's own: the
                    // message id the broker sent back names the event.
                    let id = returned
                        .delivery
                        .properties
                        .message_id()
                        .as_ref()
                        .map_or_else(|| event.id().to_owned(), |id| id.as_str().to_owned());
                    tracing::warn!(sink = %config.name, id = %id, exchange = %config.exchange, routing_key = returned.delivery.routing_key.as_str(), "event returned as unroutable: no queue is bound for its routing key");
                    shared.record_returned(id);
                }
                Confirmation::Ack(_) | Confirmation::NotRequested => {
                    shared.counters.confirmed.fetch_add(1, Ordering::Relaxed);
                }
                Confirmation::Nack(_) => {
                    shared.counters.nacked.fetch_add(1, Ordering::Relaxed);
                    shared.counters.republished.fetch_add(1, Ordering::Relaxed);
                    shared.buffer().requeue_front(std::iter::once(event));
                }
            }
            shared.in_flight.store(in_flight.len(), Ordering::Release);
            shared.progress.notify_waiters();
        } else {
            let woken = shared.wake.notified();
            let stopping = shared.stop_signal.notified();
            tokio::pin!(woken, stopping);
            stopping.as_mut().enable();
            let idle = {
                let buffer = shared.buffer();
                buffer.is_empty() && buffer.unreported_losses() == 0
            };
            if !idle && !shared.blocked.load(Ordering::Acquire) {
                continue;
            }
            tokio::select! {
                () = woken => {}
                () = stopping => {}
                () = session.signals.notify.notified() => {}
            }
        }
    }
}

async fn publish(
    session: &Session,
    config: &super::AmqpConfig,
    event: &CloudEvent,
) -> Result<PublisherConfirm, Failure> {
    let (payload, properties) = super::codec::encode(event, config.content_mode);
    within(
        config.write_timeout,
        "a socket write",
        session.channel.basic_publish(
            config.exchange.clone().into(),
            event.routing_key().into(),
            BasicPublishOptions {
                mandatory: true,
                immediate: false,
            },
            &payload,
            properties,
        ),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stays_capped() {
        let min = Duration::from_millis(100);
        let max = Duration::from_secs(10);
        assert_eq!(backoff(min, max, 0, 1.0), min);
        assert_eq!(backoff(min, max, 0, 0.0), min / 2);
        assert_eq!(backoff(min, max, 3, 1.0), Duration::from_millis(800));
        assert_eq!(backoff(min, max, 30, 1.0), max);
        assert_eq!(backoff(min, max, u32::MAX, 0.0), max / 2);
    }
}
