//! The scale of the session supervisor, in simulated time: 10,000 concurrent
//! sessions in one process, over one client and the in-process fake service.
//!
//! It prints:
//! - the state machine alone: time per query step (answer in, next action out);
//! - memory per live session: growth of the resident set while N sessions
//!   record, divided by N (it includes each session's supervisor future, its
//!   registry entry, its start body, and the fake service's record of its task,
//!   so it is an upper bound of what the supervisor costs);
//! - CPU per poll of the whole loop (executor, recorder, client, fake
//!   transport, classification, state machine): wall time of 10 simulated
//!   minutes of recording divided by the queries sent.
//!
//! It is a measurement, not a check of speed: it asserts only behaviour (every
//! session records, none is left after shutdown). Run it optimized with
//! `cargo test -p cloudrec-core --profile bench --test session_scale -- --ignored --nocapture`
//! (`SESSIONS=n` to change the count); the figures are in `docs/benchmarks.md`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudrec_client::testing::{FakeService, Sim};
use cloudrec_client::{Client, Recorder, RecorderConfig, SessionSpec, Spawn};
use cloudrec_core::{
    Action, Answer, Input, NoEvents, Polled, Session, SessionConfig, SessionState, Started,
    Timestamp,
};
use cloudrec_types::{
    AppId, Cname, Endpoint, Mode, RecordingStatus, ResourceId, Sid, StartClientRequest,
    StorageConfig, StorageVendor, Uid,
};

/// The resident set size in bytes, from `/proc/self/status` (Linux).
fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn machine_step() {
    const STEPS: u32 = 1_000_000;
    let config = Arc::new(SessionConfig::default());
    let mut session = Session::new(Uid::new(1).unwrap(), config);
    let mut now = Timestamp::ZERO;
    session.handle(Input::Wake, now, 0.5);
    session.handle(
        Input::Acquired(Answer::Ok(ResourceId::new("rid").unwrap())),
        now,
        0.5,
    );
    let mut action = session.handle(
        Input::Started(Answer::Ok(Started::New(Sid::new("sid").unwrap()))),
        now,
        0.5,
    );
    let polled = Polled {
        status: Some(RecordingStatus::Running),
        files: 1,
    };
    let started = Instant::now();
    for _ in 0..STEPS {
        if let Action::Wait { until } = action {
            now = until;
        }
        let query = session.handle(Input::Wake, now, 0.5);
        assert!(matches!(query, Action::Query { .. }));
        action = session.handle(Input::Queried(Answer::Ok(polled)), now, 0.5);
        session.take_transitions();
    }
    let per_step = started.elapsed() / STEPS;
    assert_eq!(session.state(), Some(SessionState::Running));
    println!(
        "state machine: {per_step:?} per query step (wake + answer), Session is {} bytes inline",
        std::mem::size_of::<Session>()
    );
}

fn scale(sessions: u32) {
    let sim = Sim::new();
    let fake = FakeService::new(sim.clock());
    let client = Client::builder(AppId::new("app").unwrap(), fake.clone(), sim.clock())
        .events(NoEvents)
        .base_url("http://fake.invalid")
        .rate_limit(1_000_000, 1_000_000)
        .build()
        .expect("client");
    let spawner: Arc<dyn Spawn> = Arc::new(sim.clone());
    let session = SessionConfig::default()
        .with_query_interval(Duration::from_secs(60))
        .expect("interval");
    let recorder = Recorder::new(
        client,
        spawner,
        RecorderConfig::default()
            .with_session(session)
            .with_task_limit(None)
            .expect("no task limit"),
    );
    let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "bucket", "access", "secret");
    let start = StartClientRequest::mix(storage);

    let before = rss();
    let mut handles = Vec::with_capacity(sessions as usize);
    let started = Instant::now();
    for n in 0..sessions {
        let spec = SessionSpec::new(
            Mode::Mix,
            Cname::new(format!("room-{n}")).expect("cname"),
            Uid::new(n + 1).expect("uid"),
            start.clone(),
        );
        handles.push(recorder.start_session(spec));
    }
    // Until every task reports recording (first query 5 s after start, status 5 at 4 s).
    sim.run_until_idle(Duration::from_secs(30));
    let ramp = started.elapsed();
    let running = handles
        .iter()
        .filter(|h| h.state() == Some(SessionState::Running))
        .count();
    let after = rss();
    assert_eq!(running, sessions as usize, "every session records");
    assert_eq!(fake.live_tasks().len(), sessions as usize);

    let queries_before = fake.calls_of(Endpoint::Query);
    let started = Instant::now();
    sim.run_until_idle(Duration::from_secs(30 + 600));
    let steady = started.elapsed();
    let polls = fake.calls_of(Endpoint::Query) - queries_before;

    let shutdown_started = Instant::now();
    let report = sim
        .run({
            let recorder = recorder.clone();
            async move { recorder.shutdown(Duration::from_secs(120)).await }
        })
        .expect("shutdown ends");
    let shutdown = shutdown_started.elapsed();
    drop(handles);
    assert!(report.not_stopped.is_empty());
    assert!(fake.live_tasks().is_empty());

    println!("{sessions} sessions: acquire+start+first queries in {ramp:?} (wall)");
    match (before, after) {
        (Some(before), Some(after)) => println!(
            "memory per live session: {} bytes (RSS {} MiB -> {} MiB)",
            after.saturating_sub(before) / u64::from(sessions),
            before / (1 << 20),
            after / (1 << 20)
        ),
        _ => println!("memory per live session: /proc/self/status not readable"),
    }
    println!(
        "{polls} polls over 10 simulated minutes in {steady:?}: {:?} CPU per poll",
        steady / u32::try_from(polls.max(1)).unwrap_or(u32::MAX)
    );
    println!(
        "shutdown stopped {} sessions in {shutdown:?} (wall), none left running",
        report.stopped.len()
    );
}

#[test]
#[ignore = "a measurement: run it on purpose, optimized, with --nocapture"]
fn ten_thousand_sessions() {
    let sessions = std::env::var("SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    machine_step();
    scale(sessions);
}
