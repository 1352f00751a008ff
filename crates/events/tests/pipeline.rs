//! The pipeline without a broker: plugins, fan-out, counters, the full-queue policy,
//! retries, flush and shutdown, and the JSON lines sink.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cloudrec_core::{Event, EventKind, EventSink};
use cloudrec_events::{
    CloudEvent, Enrich, EventsError, Filter, JsonLinesSink, MemorySink, Pipeline, Plugin, Redact,
    Sample, Sink, SinkError, SinkErrorKind, Verdict, catalog,
};
use tokio::sync::{Semaphore, mpsc};

const WAIT: Duration = Duration::from_secs(10);

fn status_event() -> Event {
    catalog::every_kind()
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::StatusPolled { .. }))
        .unwrap()
}

struct Recorder {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
}

impl Plugin for Recorder {
    fn name(&self) -> &str {
        self.name
    }

    fn modify_event(&self, _event: &mut Event) -> Verdict {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:event", self.name));
        Verdict::Keep
    }

    fn modify_envelope(&self, _envelope: &mut CloudEvent) -> Verdict {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:envelope", self.name));
        Verdict::Keep
    }

    fn on_dropped(&self, sink: &str, _envelope: &CloudEvent) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:dropped:{sink}", self.name));
    }
}

#[tokio::test]
async fn plugins_run_in_order_and_every_sink_gets_every_event() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (a, mut rx_a) = MemorySink::named("a", 64);
    let (b, mut rx_b) = MemorySink::named("b", 64);
    let pipeline = Pipeline::builder()
        .source("/test")
        .plugin(Recorder {
            name: "first",
            log: Arc::clone(&log),
        })
        .plugin(Recorder {
            name: "second",
            log: Arc::clone(&log),
        })
        .sink(a)
        .sink(b)
        .build()
        .unwrap();
    let events = catalog::every_kind();
    let sink: &dyn EventSink = &pipeline;
    for event in events.clone() {
        sink.emit(event);
    }
    assert!(pipeline.flush(WAIT).await.is_complete());
    let got_a = rx_a.drain();
    let got_b = rx_b.drain();
    assert_eq!(got_a.len(), events.len());
    let ids = |v: &[Arc<CloudEvent>]| v.iter().map(|e| e.id().to_owned()).collect::<Vec<_>>();
    assert_eq!(ids(&got_a), ids(&got_b));
    for (event, envelope) in events.iter().zip(&got_a) {
        assert_eq!(envelope.type_suffix(), event.kind.type_suffix());
        assert_eq!(envelope.source(), "/test");
    }
    assert_eq!(
        log.lock().unwrap()[..4],
        [
            "first:event",
            "second:event",
            "first:envelope",
            "second:envelope"
        ]
    );
    for stats in pipeline.stats() {
        assert_eq!(stats.emitted, events.len() as u64);
        assert_eq!(stats.delivered, events.len() as u64);
        assert_eq!((stats.dropped, stats.retried, stats.gaps), (0, 0, 0));
    }
}

#[tokio::test]
async fn filter_sample_redact_and_enrich() {
    let (sink, mut rx) = MemorySink::channel(256);
    let pipeline = Pipeline::builder()
        .plugin(Filter::new("no-call-attempts", |e: &Event| {
            !matches!(e.kind, EventKind::CallAttempt { .. })
        }))
        .plugin(Sample::one_in(3).unwrap())
        .plugin(Redact::pointers(["/session/cname", "/text", "/absent"]))
        .plugin(Enrich::extension("region", "eu").unwrap())
        .sink(sink)
        .build()
        .unwrap();
    for event in catalog::every_kind() {
        pipeline.emit(event);
    }
    for _ in 0..6 {
        pipeline.emit(status_event());
    }
    assert!(pipeline.flush(WAIT).await.is_complete());
    let got = rx.drain();
    assert!(got.iter().all(|e| e.type_suffix() != "call.attempt"));
    // 7 status polls went in (one from the catalog): 1st, 4th and 7th are kept.
    let polls = got
        .iter()
        .filter(|e| e.type_suffix() == "session.status")
        .count();
    assert_eq!(polls, 3);
    assert_eq!(pipeline.filtered(), 1 + 4);
    for event in &got {
        assert_eq!(event.data()["session"]["cname"], "[redacted]");
        assert_eq!(event.extensions()["region"], "eu");
        let json: serde_json::Value = serde_json::from_slice(&event.to_json()).unwrap();
        assert_eq!(json["region"], "eu");
    }
    let failed = got
        .iter()
        .find(|e| e.type_suffix().starts_with("error."))
        .unwrap();
    assert_eq!(failed.data()["text"], "[redacted]");
    assert!(Sample::one_in(0).is_err());
    assert!(Enrich::extension("Bad-Name", "x").is_err());
}

/// A sink that waits for a permit per event and says when it started waiting.
struct GateSink {
    gate: Arc<Semaphore>,
    entered: mpsc::UnboundedSender<()>,
    seen: Arc<Mutex<Vec<Arc<CloudEvent>>>>,
}

#[async_trait]
impl Sink for GateSink {
    fn name(&self) -> &str {
        "gate"
    }

    async fn deliver(&self, event: Arc<CloudEvent>) -> Result<(), SinkError> {
        let _ = self.entered.send(());
        self.gate.acquire().await.unwrap().forget();
        self.seen.lock().unwrap().push(event);
        Ok(())
    }
}

#[tokio::test]
async fn a_full_queue_drops_for_that_sink_only_and_reports_a_gap() {
    let gate = Arc::new(Semaphore::new(0));
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::new(Mutex::new(Vec::new()));
    let (fast, mut fast_rx) = MemorySink::named("fast", 64);
    let pipeline = Pipeline::builder()
        .queue_capacity(2)
        .plugin(Recorder {
            name: "watch",
            log: Arc::clone(&log),
        })
        .sink(GateSink {
            gate: Arc::clone(&gate),
            entered: entered_tx,
            seen: Arc::clone(&seen),
        })
        .sink(fast)
        .build()
        .unwrap();
    pipeline.emit(status_event());
    // The gate sink holds the first event; its queue then takes 2 of the next 5.
    tokio::time::timeout(WAIT, entered.recv())
        .await
        .unwrap()
        .unwrap();
    for _ in 0..5 {
        pipeline.emit(status_event());
        // On this single-threaded runtime, yielding lets the fast sink's task drain
        // its queue; the gate sink's task stays parked on the gate.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
    }
    gate.add_permits(100);
    assert!(pipeline.flush(WAIT).await.is_complete());
    let stats = pipeline.stats();
    let gate_stats = &stats[0];
    assert_eq!(gate_stats.name, "gate");
    assert_eq!(gate_stats.emitted, 6);
    assert_eq!(gate_stats.dropped, 3);
    assert_eq!(gate_stats.delivered, 3);
    assert_eq!(gate_stats.gaps, 1);
    assert_eq!(stats[1].delivered, 6);
    assert_eq!(stats[1].dropped, 0);
    assert_eq!(fast_rx.drain().len(), 6);
    let seen = seen.lock().unwrap();
    let types: Vec<&str> = seen.iter().map(|e| e.type_suffix()).collect();
    assert_eq!(
        types,
        [
            "session.status",
            "events.gap",
            "session.status",
            "session.status"
        ]
    );
    assert_eq!(seen[1].data()["lost"], 3);
    assert_eq!(seen[1].data()["byType"]["session.status"], 3);
    assert_eq!(seen[1].data()["sink"], "gate");
    let drops = log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.as_str() == "watch:dropped:gate")
        .count();
    assert_eq!(drops, 3);
}

struct Flaky {
    failures_left: AtomicU32,
    kind: SinkErrorKind,
    delivered: Arc<AtomicU32>,
}

#[async_trait]
impl Sink for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }

    async fn deliver(&self, _event: Arc<CloudEvent>) -> Result<(), SinkError> {
        if self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(SinkError::new(self.kind));
        }
        self.delivered.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn retryable_errors_are_retried_and_final_failures_dropped() {
    let delivered = Arc::new(AtomicU32::new(0));
    let pipeline = Pipeline::builder()
        .retries(3, Duration::from_millis(1))
        .sink(Flaky {
            failures_left: AtomicU32::new(2),
            kind: SinkErrorKind::Io,
            delivered: Arc::clone(&delivered),
        })
        .build()
        .unwrap();
    pipeline.emit(status_event());
    assert!(pipeline.flush(WAIT).await.is_complete());
    let stats = &pipeline.stats()[0];
    assert_eq!((stats.delivered, stats.retried, stats.dropped), (1, 2, 0));
    assert_eq!(delivered.load(Ordering::SeqCst), 1);

    let closed = Pipeline::builder()
        .sink(Flaky {
            failures_left: AtomicU32::new(1),
            kind: SinkErrorKind::Closed,
            delivered: Arc::new(AtomicU32::new(0)),
        })
        .build()
        .unwrap();
    closed.emit(status_event());
    closed.emit(status_event());
    assert!(closed.flush(WAIT).await.is_complete());
    let stats = &closed.stats()[0];
    // The first event is lost; the gap event reporting it goes out before the second.
    assert_eq!(
        (stats.delivered, stats.retried, stats.dropped, stats.gaps),
        (1, 0, 1, 1)
    );
}

struct Stuck;

#[async_trait]
impl Sink for Stuck {
    fn name(&self) -> &str {
        "stuck"
    }

    async fn deliver(&self, _event: Arc<CloudEvent>) -> Result<(), SinkError> {
        Ok(())
    }

    async fn flush(&self, _deadline: Instant) -> Result<(), SinkError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn shutdown_is_bounded_and_later_events_are_dropped() {
    let (memory, mut rx) = MemorySink::channel(8);
    let pipeline = Pipeline::builder()
        .sink(memory)
        .sink(Stuck)
        .build()
        .unwrap();
    pipeline.emit(status_event());
    let report = pipeline.shutdown(Duration::from_millis(200)).await;
    assert!(!report.is_complete());
    assert!(report.sinks[0].1.is_ok());
    assert_eq!(
        report.sinks[1].1.as_ref().unwrap_err().kind(),
        SinkErrorKind::Timeout
    );
    pipeline.emit(status_event());
    let stats = pipeline.stats();
    assert_eq!(
        (stats[0].emitted, stats[0].delivered, stats[0].dropped),
        (2, 1, 1)
    );
    assert_eq!(rx.drain().len(), 1);
}

#[test]
fn building_needs_a_runtime_and_unique_sink_names() {
    let (memory, _rx) = MemorySink::channel(1);
    assert!(matches!(
        Pipeline::builder().sink(memory).build(),
        Err(EventsError::NoRuntime)
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (a, _ra) = MemorySink::channel(1);
        let (b, _rb) = MemorySink::channel(1);
        let err = Pipeline::builder().sink(a).sink(b).build().unwrap_err();
        assert!(matches!(err, EventsError::DuplicateSink { ref name } if name == "memory"));
        assert!(err.to_string().contains("unique name"));
        let err = Pipeline::builder().queue_capacity(0).build().unwrap_err();
        assert!(matches!(err, EventsError::InvalidSetting { .. }));
    });
}

#[tokio::test]
async fn json_lines_sink_appends_one_event_per_line() {
    let path = std::env::temp_dir().join(format!("cloudrec-events-{}.jsonl", uuid::Uuid::now_v7()));
    let sink = JsonLinesSink::file(&path).await.unwrap();
    let pipeline = Pipeline::builder().sink(sink).build().unwrap();
    let events = catalog::every_kind();
    for event in events.clone() {
        pipeline.emit(event);
    }
    assert!(pipeline.shutdown(WAIT).await.is_complete());
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), events.len());
    for (line, event) in lines.iter().zip(&events) {
        let decoded = CloudEvent::from_json(line.as_bytes()).unwrap();
        assert_eq!(decoded.type_suffix(), event.kind.type_suffix());
        assert_eq!(decoded.time(), event.time);
    }
    let missing = JsonLinesSink::file("/nonexistent-dir/x/events.jsonl")
        .await
        .unwrap_err();
    assert!(matches!(missing, EventsError::OpenFile { .. }));
}

#[test]
fn the_catalog_has_every_type_once_and_priorities_match_core() {
    let events = catalog::every_kind();
    let mut types: Vec<String> = events.iter().map(|e| e.kind.type_suffix()).collect();
    types.sort();
    types.dedup();
    assert_eq!(types.len(), events.len());
    let calls = 3 + cloudrec_core::Resolution::ALL.len();
    let states = events
        .iter()
        .filter(|e| e.kind.type_suffix().starts_with("session."))
        .count();
    // The calls and their failures, one per state plus the polled status, the
    // journal, and one NCS notification.
    assert_eq!(events.len(), calls + states + 2);
    for event in &events {
        let envelope = CloudEvent::from_event(event, "/t");
        assert_eq!(
            envelope.priority() == cloudrec_events::Priority::Superseded,
            !event.kind.is_essential(),
            "{}",
            envelope.type_suffix()
        );
    }
}
