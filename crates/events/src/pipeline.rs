use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cloudrec_core::{Event, EventSink};
use tokio::sync::{mpsc, oneshot};

use crate::EventsError;
use crate::envelope::{CloudEvent, DEFAULT_SOURCE};
use crate::error::{SinkError, SinkErrorKind};
use crate::gap::LossTally;
use crate::plugin::{Plugin, Verdict};
use crate::sink::Sink;

/// The default capacity of each sink's queue.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;

/// The default number of times a retryable sink error is retried.
pub const DEFAULT_RETRY_LIMIT: u32 = 3;

/// Builds a [`Pipeline`]: plugins in order, sinks, queue capacity, source.
pub struct PipelineBuilder {
    source: String,
    plugins: Vec<Arc<dyn Plugin>>,
    sinks: Vec<Arc<dyn Sink>>,
    queue_capacity: usize,
    retry_limit: u32,
    retry_backoff: Duration,
}

impl fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("source", &self.source)
            .field(
                "plugins",
                &self.plugins.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .field(
                "sinks",
                &self.sinks.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field("queue_capacity", &self.queue_capacity)
            .finish()
    }
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        Self {
            source: DEFAULT_SOURCE.to_owned(),
            plugins: Vec::new(),
            sinks: Vec::new(),
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            retry_limit: DEFAULT_RETRY_LIMIT,
            retry_backoff: Duration::from_millis(20),
        }
    }
}

impl PipelineBuilder {
    /// The CloudEvents `source` of every event (default `/cloudrec`).
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// Appends a plugin; plugins run in the order they are added.
    pub fn plugin(mut self, plugin: impl Plugin + 'static) -> Self {
        self.plugins.push(Arc::new(plugin));
        self
    }

    /// Adds a sink; every kept event goes to every sink.
    pub fn sink(mut self, sink: impl Sink) -> Self {
        self.sinks.push(Arc::new(sink));
        self
    }

    /// The capacity of each sink's queue (default 1024); see [`Pipeline`] for what
    /// happens when it is full.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// How often a retryable sink error is retried before the event is dropped
    /// (default 3), and the first back-off (doubled each time, default 20 ms).
    pub fn retries(mut self, limit: u32, first_backoff: Duration) -> Self {
        self.retry_limit = limit;
        self.retry_backoff = first_backoff;
        self
    }

    /// Starts one task per sink on the current tokio runtime.
    pub fn build(self) -> Result<Pipeline, EventsError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| EventsError::NoRuntime)?;
        if self.queue_capacity == 0 {
            return Err(EventsError::InvalidSetting {
                setting: "queue_capacity",
                expected: "at least 1",
            });
        }
        let mut names = HashSet::new();
        for sink in &self.sinks {
            if !names.insert(sink.name().to_owned()) {
                return Err(EventsError::DuplicateSink {
                    name: sink.name().to_owned(),
                });
            }
        }
        let mut slots = Vec::with_capacity(self.sinks.len());
        for sink in self.sinks {
            let (tx, rx) = mpsc::channel(self.queue_capacity);
            let shared = Arc::new(SlotShared {
                name: sink.name().to_owned(),
                counters: Counters::default(),
                losses: Mutex::new(LossTally::default()),
            });
            let worker = Worker {
                sink,
                shared: Arc::clone(&shared),
                source: self.source.clone(),
                retry_limit: self.retry_limit,
                retry_backoff: self.retry_backoff,
            };
            runtime.spawn(worker.run(rx));
            slots.push(Slot { tx, shared });
        }
        Ok(Pipeline {
            inner: Arc::new(Inner {
                source: self.source,
                plugins: self.plugins,
                slots,
                closed: AtomicBool::new(false),
                filtered: AtomicU64::new(0),
            }),
        })
    }
}

/// The event pipeline: runs plugins in order and fans each event out to every sink.
///
/// It implements core's [`EventSink`], so the session driver can emit into it.
/// `emit` never blocks and never waits on a sink: it runs the plugins, builds the
/// envelope, and offers it to each sink's bounded queue.
///
/// **When a sink's queue is full** the new event is dropped for that sink only (the
/// other sinks still get it), counted in that sink's `dropped`, handed to every
/// plugin's `on_dropped`, and tallied by type. Before the sink's next delivery the
/// pipeline sends it one `io.cloudrec.events.gap` event with the number and types of
/// the lost events, so consumers know what they missed. Events emitted after
/// [`Pipeline::shutdown`] are dropped the same way.
///
/// Cloning is cheap and shares the pipeline.
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("source", &self.inner.source)
            .field("stats", &self.stats())
            .finish()
    }
}

struct Inner {
    source: String,
    plugins: Vec<Arc<dyn Plugin>>,
    slots: Vec<Slot>,
    closed: AtomicBool,
    filtered: AtomicU64,
}

struct Slot {
    tx: mpsc::Sender<Msg>,
    shared: Arc<SlotShared>,
}

struct SlotShared {
    name: String,
    counters: Counters,
    losses: Mutex<LossTally>,
}

#[derive(Default)]
struct Counters {
    emitted: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    retried: AtomicU64,
    gaps: AtomicU64,
}

enum Msg {
    Event(Arc<CloudEvent>),
    Flush(Instant, oneshot::Sender<Result<(), SinkError>>),
}

/// The counters of one sink, as seen by the pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SinkStats {
    /// The sink's name.
    pub name: String,
    /// Events offered to the sink's queue (after the plugins).
    pub emitted: u64,
    /// Events the sink accepted.
    pub delivered: u64,
    /// Events lost for this sink: queue full, shut down, or failed after retries.
    pub dropped: u64,
    /// Deliveries tried again after a retryable error.
    pub retried: u64,
    /// Gap events sent to the sink to report drops.
    pub gaps: u64,
}

/// What a flush or shutdown achieved, per sink.
#[derive(Debug)]
#[non_exhaustive]
pub struct FlushReport {
    /// `(sink name, outcome)` in the order the sinks were added.
    pub sinks: Vec<(String, Result<(), SinkError>)>,
}

impl FlushReport {
    /// Whether every sink flushed before the deadline.
    pub fn is_complete(&self) -> bool {
        self.sinks.iter().all(|(_, outcome)| outcome.is_ok())
    }
}

impl Pipeline {
    /// A builder with no plugins and no sinks.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// Counters of every sink, in the order the sinks were added.
    pub fn stats(&self) -> Vec<SinkStats> {
        self.inner
            .slots
            .iter()
            .map(|slot| {
                let c = &slot.shared.counters;
                SinkStats {
                    name: slot.shared.name.clone(),
                    emitted: c.emitted.load(Ordering::Relaxed),
                    delivered: c.delivered.load(Ordering::Relaxed),
                    dropped: c.dropped.load(Ordering::Relaxed),
                    retried: c.retried.load(Ordering::Relaxed),
                    gaps: c.gaps.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// How many events a plugin dropped (filtered or sampled out).
    pub fn filtered(&self) -> u64 {
        self.inner.filtered.load(Ordering::Relaxed)
    }

    /// Runs the plugins and offers the envelope to every sink; returns it, or `None`
    /// if a plugin dropped it. This is [`EventSink::emit`] with a result.
    pub fn publish(&self, mut event: Event) -> Option<Arc<CloudEvent>> {
        let inner = &self.inner;
        for plugin in &inner.plugins {
            if plugin.modify_event(&mut event) == Verdict::Drop {
                inner.filtered.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        }
        let mut envelope = CloudEvent::from_event(&event, &inner.source);
        for plugin in &inner.plugins {
            if plugin.modify_envelope(&mut envelope) == Verdict::Drop {
                inner.filtered.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        }
        let envelope = Arc::new(envelope);
        let closed = inner.closed.load(Ordering::Acquire);
        for slot in &inner.slots {
            slot.shared.counters.emitted.fetch_add(1, Ordering::Relaxed);
            let accepted = !closed && slot.tx.try_send(Msg::Event(Arc::clone(&envelope))).is_ok();
            if !accepted {
                slot.shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
                slot.shared
                    .losses
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .record(&envelope);
                for plugin in &inner.plugins {
                    plugin.on_dropped(&slot.shared.name, &envelope);
                }
            }
        }
        Some(envelope)
    }

    /// Waits until every event emitted before the call has been handed to its sinks
    /// and each sink has flushed, or until `timeout` has passed.
    pub async fn flush(&self, timeout: Duration) -> FlushReport {
        let deadline = Instant::now() + timeout;
        let mut waits = Vec::with_capacity(self.inner.slots.len());
        for slot in &self.inner.slots {
            let (reply, answer) = oneshot::channel();
            let remaining = deadline.saturating_duration_since(Instant::now());
            let sent =
                tokio::time::timeout(remaining, slot.tx.send(Msg::Flush(deadline, reply))).await;
            waits.push((slot.shared.name.clone(), sent, answer));
        }
        let mut sinks = Vec::with_capacity(waits.len());
        for (name, sent, answer) in waits {
            let outcome = match sent {
                Err(_) => Err(SinkError::new(SinkErrorKind::Timeout)),
                Ok(Err(_)) => Err(SinkError::new(SinkErrorKind::Closed)),
                Ok(Ok(())) => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    match tokio::time::timeout(remaining, answer).await {
                        Err(_) => Err(SinkError::new(SinkErrorKind::Timeout)),
                        Ok(Err(_)) => Err(SinkError::new(SinkErrorKind::Closed)),
                        Ok(Ok(outcome)) => outcome,
                    }
                }
            };
            sinks.push((name, outcome));
        }
        FlushReport { sinks }
    }

    /// Stops taking events (later ones are counted as dropped) and flushes every
    /// sink within `timeout`.
    pub async fn shutdown(&self, timeout: Duration) -> FlushReport {
        self.inner.closed.store(true, Ordering::Release);
        self.flush(timeout).await
    }
}

impl EventSink for Pipeline {
    fn emit(&self, event: Event) {
        let _ = self.publish(event);
    }
}

struct Worker {
    sink: Arc<dyn Sink>,
    shared: Arc<SlotShared>,
    source: String,
    retry_limit: u32,
    retry_backoff: Duration,
}

impl Worker {
    async fn run(self, mut rx: mpsc::Receiver<Msg>) {
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Event(event) => {
                    self.report_gap().await;
                    if self.deliver(event).await {
                        self.shared
                            .counters
                            .delivered
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
                Msg::Flush(deadline, reply) => {
                    self.report_gap().await;
                    let _ = reply.send(self.sink.flush(deadline).await);
                }
            }
        }
    }

    async fn report_gap(&self) {
        let gap = self
            .shared
            .losses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take_gap(&self.source, &self.shared.name);
        if let Some(gap) = gap
            && self.deliver(Arc::new(gap)).await
        {
            self.shared.counters.gaps.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Delivers with retries; counts a final failure as dropped. True on success.
    async fn deliver(&self, event: Arc<CloudEvent>) -> bool {
        let mut backoff = self.retry_backoff;
        let mut attempt = 0;
        loop {
            match self.sink.deliver(Arc::clone(&event)).await {
                Ok(()) => return true,
                Err(error) if error.kind().is_retryable() && attempt < self.retry_limit => {
                    attempt += 1;
                    self.shared.counters.retried.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(sink = %self.shared.name, attempt, error = &error as &dyn std::error::Error, "retrying event delivery");
                    tokio::time::sleep(backoff).await;
                    backoff = backoff.saturating_mul(2);
                }
                Err(error) => {
                    tracing::warn!(sink = %self.shared.name, id = event.id(), error = &error as &dyn std::error::Error, "event dropped after failed delivery");
                    self.shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    // Gap events are not tallied again: the next gap would report a gap.
                    if event.type_suffix() != crate::envelope::GAP_TYPE_SUFFIX {
                        self.shared
                            .losses
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .record(&event);
                    }
                    return false;
                }
            }
        }
    }
}
