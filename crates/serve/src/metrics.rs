//! `/metrics`: Prometheus counters fed by the event pipeline (the metrics are
//! one more sink of it) and by a transport wrapper that times every call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_trait::async_trait;
use cloudrec_client::{RateGate, Transport};
use cloudrec_core::{
    Event, EventKind, EventSink, HttpRequest, HttpResponse, Permit, Timestamp, TransportError,
};
use cloudrec_events::Pipeline;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The label of per-endpoint series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabel {
    endpoint: String,
}

/// The labels of per-endpoint, per-resolution series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResolutionLabels {
    endpoint: String,
    resolution: String,
}

/// The label of per-state series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

/// The label of per-kind series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

/// The label of per-NCS-event series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabel {
    event: String,
}

/// The label of per-reason series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

/// The label of per-action series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    action: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

struct Series {
    attempts: Family<EndpointLabel, Counter>,
    failures: Family<ResolutionLabels, Counter>,
    retries: Family<ResolutionLabels, Counter>,
    failovers: Family<EndpointLabel, Counter>,
    latency: Family<EndpointLabel, Histogram, fn() -> Histogram>,
    transitions: Family<StateLabel, Counter>,
    recoveries: Counter,
    sessions: Family<StateLabel, Gauge>,
    takeovers: Counter,
    events_dropped: Counter,
    store_errors: Family<KindLabel, Counter>,
    http_requests: Family<KindLabel, Counter>,
    budget_waits: Counter,
    budget_wait_seconds: Counter<f64, AtomicU64>,
    ncs_notices: Family<EventLabel, Counter>,
    ncs_rejected: Family<ReasonLabel, Counter>,
    ncs_actions: Family<ActionLabel, Counter>,
}

/// The service's metrics. Cloning shares them.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    series: Arc<Series>,
    pipeline_dropped: Arc<AtomicU64>,
    pipeline: Arc<Mutex<Option<Pipeline>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every series at zero.
    pub fn new() -> Self {
        let series = Series {
            attempts: Family::default(),
            failures: Family::default(),
            retries: Family::default(),
            failovers: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            transitions: Family::default(),
            recoveries: Counter::default(),
            sessions: Family::default(),
            takeovers: Counter::default(),
            events_dropped: Counter::default(),
            store_errors: Family::default(),
            http_requests: Family::default(),
            budget_waits: Counter::default(),
            budget_wait_seconds: Counter::default(),
            ncs_notices: Family::default(),
            ncs_rejected: Family::default(),
            ncs_actions: Family::default(),
        };
        let mut registry = Registry::with_prefix("cloudrec");
        registry.register(
            "call_attempts",
            "Requests sent to the recording service, by endpoint",
            series.attempts.clone(),
        );
        registry.register(
            "call_failures",
            "Answers classified as failures, by endpoint and resolution",
            series.failures.clone(),
        );
        registry.register(
            "call_retries",
            "Requests sent again, by endpoint and the resolution that caused it",
            series.retries.clone(),
        );
        registry.register(
            "call_failovers",
            "Requests moved to another host, by endpoint",
            series.failovers.clone(),
        );
        registry.register(
            "call_duration_seconds",
            "Time from sending a request to its whole answer or failure, by endpoint",
            series.latency.clone(),
        );
        registry.register(
            "session_transitions",
            "Session state changes, by the state entered",
            series.transitions.clone(),
        );
        registry.register(
            "recoveries",
            "Tasks that answered 404 inside the recovery window (a failover)",
            series.recoveries.clone(),
        );
        registry.register(
            "sessions",
            "Recordings supervised by this process, by state",
            series.sessions.clone(),
        );
        registry.register(
            "takeovers",
            "Sessions this process claimed from a dead or departed owner",
            series.takeovers.clone(),
        );
        registry.register(
            "events_dropped",
            "Events lost before reaching the broker (buffer full, sink failed)",
            series.events_dropped.clone(),
        );
        registry.register(
            "store_errors",
            "Session store operations that failed, by operation",
            series.store_errors.clone(),
        );
        registry.register(
            "http_requests",
            "API requests answered, by route and status class",
            series.http_requests.clone(),
        );
        registry.register(
            "budget_waits",
            "Requests told to wait by the App ID's request budget",
            series.budget_waits.clone(),
        );
        registry.register(
            "budget_wait_seconds",
            "Time requests were told to wait by the App ID's request budget",
            series.budget_wait_seconds.clone(),
        );
        registry.register(
            "ncs_notices",
            "NCS notifications accepted on POST /v1/ncs (verified and new), by event (msgName)",
            series.ncs_notices.clone(),
        );
        registry.register(
            "ncs_rejected",
            "NCS notifications not acted on, by reason: bad_signature, missing_signature, undecodable, duplicate, queue_full",
            series.ncs_rejected.clone(),
        );
        registry.register(
            "ncs_actions",
            "What accepted NCS notifications made a session do: query_now, stop, none, query_now_forwarded or stop_forwarded (left in the store for the worker that supervises it), or unknown_sid (no recording that has not ended has the sid)",
            series.ncs_actions.clone(),
        );
        Self {
            registry: Arc::new(registry),
            series: Arc::new(series),
            pipeline_dropped: Arc::new(AtomicU64::new(0)),
            pipeline: Arc::new(Mutex::new(None)),
        }
    }

    /// Counts, at each scrape, the events `pipeline` dropped.
    pub fn watch_pipeline(&self, pipeline: Pipeline) {
        *self.pipeline.lock().unwrap_or_else(PoisonError::into_inner) = Some(pipeline);
    }

    /// The Prometheus text exposition of every series.
    pub fn encode(&self) -> String {
        if let Some(pipeline) = self
            .pipeline
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            let dropped: u64 = pipeline.stats().iter().map(|s| s.dropped).sum();
            let before = self.pipeline_dropped.swap(dropped, Ordering::Relaxed);
            self.series
                .events_dropped
                .inc_by(dropped.saturating_sub(before));
        }
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }

    /// A session moved from `from` (none for a new one) to `to`.
    pub fn session_moved(&self, from: Option<&str>, to: Option<&str>) {
        if from == to {
            return;
        }
        if let Some(from) = from {
            self.series
                .sessions
                .get_or_create(&StateLabel {
                    state: from.to_owned(),
                })
                .dec();
        }
        if let Some(to) = to {
            self.series
                .sessions
                .get_or_create(&StateLabel {
                    state: to.to_owned(),
                })
                .inc();
        }
    }

    /// This process claimed `count` sessions of another owner.
    pub fn took_over(&self, count: u64) {
        self.series.takeovers.inc_by(count);
    }

    /// A store operation failed.
    pub fn store_failed(&self, op: &str) {
        self.series
            .store_errors
            .get_or_create(&KindLabel {
                kind: op.to_owned(),
            })
            .inc();
    }

    /// An API request on `route` was answered with `status`.
    pub fn answered(&self, route: &str, status: u16) {
        self.series
            .http_requests
            .get_or_create(&KindLabel {
                kind: format!("{route} {}xx", status / 100),
            })
            .inc();
    }

    /// An NCS notification of `event` was accepted.
    pub fn ncs_notice(&self, event: &str) {
        self.series
            .ncs_notices
            .get_or_create(&EventLabel {
                event: event.to_owned(),
            })
            .inc();
    }

    /// An NCS notification was refused or ignored for `reason`.
    pub fn ncs_rejected(&self, reason: &str) {
        self.series
            .ncs_rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// An accepted NCS notification led to `action`.
    pub fn ncs_action(&self, action: &str) {
        self.series
            .ncs_actions
            .get_or_create(&ActionLabel {
                action: action.to_owned(),
            })
            .inc();
    }

    fn call_took(&self, endpoint: &str, seconds: f64) {
        self.series
            .latency
            .get_or_create(&EndpointLabel {
                endpoint: endpoint.to_owned(),
            })
            .observe(seconds);
    }
}

/// The event sink of the service: counts every event, then hands it to the
/// AMQP pipeline when there is one.
#[derive(Clone, Debug)]
pub struct MetricsSink {
    metrics: Metrics,
    next: Option<Pipeline>,
}

impl MetricsSink {
    /// Counts into `metrics` and forwards to `next`.
    pub fn new(metrics: Metrics, next: Option<Pipeline>) -> Self {
        if let Some(pipeline) = &next {
            metrics.watch_pipeline(pipeline.clone());
        }
        Self { metrics, next }
    }
}

impl EventSink for MetricsSink {
    fn emit(&self, event: Event) {
        let series = &self.metrics.series;
        match &event.kind {
            EventKind::CallAttempt { endpoint, .. } => {
                series
                    .attempts
                    .get_or_create(&EndpointLabel {
                        endpoint: endpoint.as_str().to_owned(),
                    })
                    .inc();
            }
            EventKind::CallRetry {
                endpoint,
                resolution,
                ..
            } => {
                series
                    .retries
                    .get_or_create(&ResolutionLabels {
                        endpoint: endpoint.as_str().to_owned(),
                        resolution: resolution.as_str().to_owned(),
                    })
                    .inc();
            }
            EventKind::CallFailover { endpoint, .. } => {
                series
                    .failovers
                    .get_or_create(&EndpointLabel {
                        endpoint: endpoint.as_str().to_owned(),
                    })
                    .inc();
            }
            EventKind::CallFailed(report) => {
                series
                    .failures
                    .get_or_create(&ResolutionLabels {
                        endpoint: report.endpoint.as_str().to_owned(),
                        resolution: report.resolution.as_str().to_owned(),
                    })
                    .inc();
            }
            EventKind::StateChanged { to, .. } => {
                series
                    .transitions
                    .get_or_create(&StateLabel {
                        state: to.as_str().to_owned(),
                    })
                    .inc();
                if *to == cloudrec_core::SessionState::Recovering {
                    series.recoveries.inc();
                }
            }
            _ => {}
        }
        if let Some(next) = &self.next {
            next.emit(event);
        }
    }
}

/// A rate gate whose waits are counted.
pub struct MeteredGate {
    inner: Arc<dyn RateGate>,
    metrics: Metrics,
}

impl std::fmt::Debug for MeteredGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredGate").finish_non_exhaustive()
    }
}

impl MeteredGate {
    /// `inner`, its waits counted into `metrics`.
    pub fn new(inner: Arc<dyn RateGate>, metrics: Metrics) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl RateGate for MeteredGate {
    async fn try_acquire(&self, now: Timestamp) -> Permit {
        let permit = self.inner.try_acquire(now).await;
        if let Permit::Wait(wait) = permit {
            self.metrics.series.budget_waits.inc();
            self.metrics
                .series
                .budget_wait_seconds
                .inc_by(wait.as_secs_f64());
        }
        permit
    }
}

/// A transport that times every call into the latency histogram.
pub struct Timed {
    inner: Box<dyn Transport>,
    metrics: Metrics,
}

impl std::fmt::Debug for Timed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timed").finish_non_exhaustive()
    }
}

impl Timed {
    /// `inner`, timed into `metrics`.
    pub fn new(inner: impl Transport + 'static, metrics: Metrics) -> Self {
        Self {
            inner: Box::new(inner),
            metrics,
        }
    }
}

#[async_trait]
impl Transport for Timed {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let endpoint = request.endpoint;
        let started = Instant::now();
        let answer = self.inner.send(request).await;
        self.metrics
            .call_took(endpoint.as_str(), started.elapsed().as_secs_f64());
        answer
    }
}
