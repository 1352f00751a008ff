//! The recorder over the in-process fake service, in simulated time: sessions
//! start, record, update and stop; dropped handles, shutdown and a crash followed
//! by `recover` leave no task running.

use std::sync::Arc;
use std::time::Duration;

use cloudrec_client::testing::{EventLog, FakeService, Fault, Sim, SimClock, Trigger};
use cloudrec_client::{
    Client, Clock, Entry, Found, Journal, JournalError, LeakPolicy, Ledger, MemoryJournal,
    Recorder, RecorderConfig, Recovered, RecoveryPolicy, SessionSpec, Spawn,
};
use cloudrec_core::{End, EventKind, SessionConfig, SessionState, StopMode};
use cloudrec_types::{
    AppId, Cname, Endpoint, MixedVideoLayout, Mode, StartClientRequest, StorageConfig,
    StorageVendor, Uid, UpdateClientRequest, UpdateLayoutClientRequest,
};

const SECRET_KEY: &str = "storage-secret-key-never-logged";

type TestRecorder = Recorder<FakeService, SimClock, EventLog>;

struct World {
    sim: Sim,
    fake: FakeService,
    events: EventLog,
    journal: Arc<MemoryJournal>,
}

impl World {
    fn new() -> Self {
        let sim = Sim::new();
        let fake = FakeService::new(sim.clock());
        Self {
            sim,
            fake,
            events: EventLog::default(),
            journal: Arc::new(MemoryJournal::new()),
        }
    }

    fn recorder(&self, config: RecorderConfig) -> TestRecorder {
        let client = Client::builder(
            AppId::new("app").unwrap(),
            self.fake.clone(),
            self.sim.clock(),
        )
        .events(self.events.clone())
        .base_url("http://fake.invalid")
        .rate_limit(1000, 1000)
        .build()
        .unwrap();
        let spawner: Arc<dyn Spawn> = Arc::new(self.sim.clone());
        Recorder::new(client, spawner, config).with_journal(self.journal.clone())
    }
}

fn spec(n: u32) -> SessionSpec {
    let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "bucket", "access", SECRET_KEY);
    SessionSpec::new(
        Mode::Mix,
        Cname::new(format!("room-{n}")).unwrap(),
        Uid::new(1000 + n).unwrap(),
        StartClientRequest::mix(storage),
    )
}

#[test]
fn a_session_records_updates_and_stops_with_its_files() {
    let world = World::new();
    let recorder = world.recorder(RecorderConfig::default());
    let clock = world.sim.clock();
    let journal = world.journal.clone();
    let report = world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            let task = handle.running().await.expect("running");
            assert_eq!(journal.live().unwrap(), vec![task.clone()]);
            clock.sleep(Duration::from_secs(600)).await;
            handle
                .update_layout(UpdateLayoutClientRequest::layout(MixedVideoLayout::BestFit))
                .await
                .expect("update layout");
            handle.stop().await
        })
        .expect("the session ended");
    match &report.end {
        End::Stopped { files, .. } => assert_eq!(files.len(), 1),
        other => panic!("{other:?}"),
    }
    assert!(report.unconfirmed.is_empty());
    assert!(world.fake.live_tasks().is_empty());
    assert!(world.journal.live().unwrap().is_empty());
    assert!(world.fake.calls_of(Endpoint::Query) >= 10);
    assert_eq!(world.fake.calls_of(Endpoint::UpdateLayout), 1);
    let states = world.events.states();
    assert_eq!(states.first(), Some(&SessionState::Acquired));
    assert_eq!(states.last(), Some(&SessionState::Stopped));
    let all = format!("{:?}", world.events.events());
    assert!(!all.contains(SECRET_KEY));
}

#[test]
fn a_dropped_handle_stops_its_task() {
    let world = World::new();
    let recorder = world.recorder(RecorderConfig::default());
    world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            handle.running().await.expect("running");
            drop(handle);
        })
        .unwrap();
    assert_eq!(world.fake.live_tasks().len(), 1);
    world.sim.run_until_idle(Duration::from_secs(3600));
    assert!(world.fake.live_tasks().is_empty());
    assert_eq!(world.events.states().last(), Some(&SessionState::Stopped));
}

#[test]
fn with_the_warn_policy_a_dropped_handle_keeps_recording_until_shutdown() {
    let world = World::new();
    let config = RecorderConfig::default().with_leak_policy(LeakPolicy::Warn);
    let recorder = world.recorder(config);
    let clock = world.sim.clock();
    let fake = world.fake.clone();
    let report = world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            handle.running().await.expect("running");
            drop(handle);
            clock.sleep(Duration::from_secs(300)).await;
            assert_eq!(fake.live_tasks().len(), 1);
            recorder.shutdown(Duration::from_secs(60)).await
        })
        .unwrap();
    assert_eq!(report.stopped.len(), 1);
    assert!(report.not_stopped.is_empty());
    assert!(world.fake.live_tasks().is_empty());
}

#[test]
fn shutdown_stops_every_task_and_reports_the_one_it_could_not_stop() {
    let world = World::new();
    // Every stop of the third task fails: the shutdown must say so.
    let recorder = world.recorder(RecorderConfig::default());
    let fake = world.fake.clone();
    let report = world
        .sim
        .run(async move {
            let handles: Vec<_> = (0..3).map(|n| recorder.start_session(spec(n))).collect();
            for handle in &handles {
                handle.running().await.expect("running");
            }
            let stuck = handles[2].task().unwrap();
            for n in 0..40 {
                fake.inject(Trigger::Nth(Endpoint::Stop, n), Fault::Refuse);
            }
            // The first two stops succeed.
            let _ = stuck;
            recorder.shutdown(Duration::from_secs(30)).await
        })
        .unwrap();
    assert_eq!(report.not_stopped.len() + report.stopped.len(), 3);
    assert!(!report.not_stopped.is_empty());
    for unstopped in &report.not_stopped {
        let task = unstopped.task.as_ref().expect("the task is named");
        assert!(
            world
                .fake
                .live_tasks()
                .iter()
                .any(|t| t.sid == task.sid.as_str()),
            "{unstopped:?}"
        );
    }
    assert_eq!(world.fake.live_tasks().len(), report.not_stopped.len());
}

#[test]
fn a_restarted_process_recovers_and_stops_the_orphans() {
    let world = World::new();
    let first = Sim::with_clock(world.sim.clock());
    let first_world = World {
        sim: first.clone(),
        fake: world.fake.clone(),
        events: EventLog::default(),
        journal: world.journal.clone(),
    };
    let recorder = first_world.recorder(RecorderConfig::default());
    first
        .run(async move {
            for n in 0..3 {
                let handle = recorder.start_session(spec(n));
                handle.running().await.expect("running");
                std::mem::forget(handle);
            }
        })
        .unwrap();
    // The first process dies: its executor and every supervisor are gone.
    drop(first_world);
    drop(first);
    assert_eq!(world.fake.live_tasks().len(), 3);
    assert_eq!(world.journal.live().unwrap().len(), 3);

    // One orphan exited by itself meanwhile.
    let gone = world.fake.live_tasks()[0].sid.clone();
    world.fake.exit_task(&gone);
    let clock = world.sim.clock();
    let recorder = world.recorder(RecorderConfig::default());
    let report = world
        .sim
        .run({
            let recorder = recorder.clone();
            let clock = clock.clone();
            async move {
                clock.sleep(Duration::from_secs(60)).await;
                recorder.recover(RecoveryPolicy::Stop).await.unwrap()
            }
        })
        .unwrap();
    assert_eq!(report.tasks.len(), 3);
    // A 404 may be a failover: the task that exited stays in the journal,
    // inside the recovery window counted from this first 404.
    let missing: Vec<_> = report
        .tasks
        .iter()
        .filter(|t| matches!(t.found, Found::Recovering { .. }))
        .collect();
    assert_eq!(missing.len(), 1, "{:?}", report.tasks);
    assert_eq!(missing[0].task.sid.as_str(), gone);
    let Found::Recovering { since, remaining } = missing[0].found else {
        unreachable!()
    };
    assert_eq!(remaining, Duration::from_secs(90));
    for recovered in report.tasks.iter().filter(|t| t.stopped.is_some()) {
        let stopped = recovered.stopped.as_ref().expect("stopped");
        assert!(matches!(stopped.end, End::Stopped { .. }), "{stopped:?}");
    }
    assert_eq!(
        report.tasks.iter().filter(|t| t.stopped.is_some()).count(),
        2
    );
    assert!(world.fake.live_tasks().is_empty());
    assert_eq!(world.journal.live().unwrap().len(), 1);

    // A second recovery continues the count: 30 s on, 60 s are left; past the
    // window, the task is gone and leaves the journal.
    let (again, last) = world
        .sim
        .run(async move {
            clock.sleep(Duration::from_secs(30)).await;
            let again = recorder.recover(RecoveryPolicy::Stop).await.unwrap();
            clock.sleep(Duration::from_secs(60)).await;
            let last = recorder.recover(RecoveryPolicy::Stop).await.unwrap();
            (again, last)
        })
        .unwrap();
    assert!(
        matches!(again.tasks[..], [Recovered { found: Found::Recovering { since: s, remaining }, .. }]
            if s == since && remaining < Duration::from_secs(61) && remaining > Duration::from_secs(55)),
        "{:?}",
        again.tasks
    );
    assert!(
        matches!(last.tasks[..], [Recovered { found: Found::Gone { since: s, .. }, .. }] if s == since),
        "{:?}",
        last.tasks
    );
    assert!(world.journal.live().unwrap().is_empty());
}

#[test]
fn recover_can_resume_supervision() {
    let world = World::new();
    let recorder = world.recorder(RecorderConfig::default());
    let journal = world.journal.clone();
    world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            handle.running().await.expect("running");
            std::mem::forget(handle);
        })
        .unwrap();
    assert_eq!(journal.live().unwrap().len(), 1);
    let recorder = world.recorder(RecorderConfig::default());
    let report = world
        .sim
        .run(async move {
            let mut report = recorder.recover(RecoveryPolicy::Resume).await.unwrap();
            let handle = report.resumed.pop().expect("resumed");
            assert_eq!(handle.state(), Some(SessionState::Running));
            handle.stop().await
        })
        .unwrap();
    assert!(matches!(report.end, End::Stopped { .. }));
    // The first recorder's supervisor notices on its next query that the task
    // is gone; what matters is that the service holds no task.
    assert!(world.fake.live_tasks().is_empty());
}

#[test]
fn async_stop_polls_until_the_upload_finished() {
    let world = World::new();
    let mode = StopMode::Async {
        poll: Duration::from_secs(1),
        give_up: Duration::from_secs(30),
    };
    let session = SessionConfig::default().with_stop_mode(mode).unwrap();
    let recorder = world.recorder(RecorderConfig::default().with_session(session));
    let report = world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            handle.running().await.expect("running");
            handle.stop().await
        })
        .unwrap();
    match &report.end {
        End::Stopped { reason, .. } => {
            assert!(
                reason
                    .as_deref()
                    .unwrap_or("")
                    .contains("exited after stop"),
                "{reason:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(world.fake.calls_of(Endpoint::Query) >= 3);
}

#[test]
fn updates_before_the_task_runs_are_refused_with_a_reason() {
    let world = World::new();
    let recorder = world.recorder(RecorderConfig::default());
    world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            let early = handle.update(UpdateClientRequest::onhold(true)).await;
            assert!(early.is_err());
            handle.stop().await
        })
        .unwrap();
    assert!(world.fake.live_tasks().is_empty());
}

#[test]
fn a_dropped_handle_whose_start_timed_out_still_stops_the_task() {
    let world = World::new();
    // The start reaches the service but its answer never comes back.
    world.fake.inject(
        Trigger::Nth(Endpoint::Start, 0),
        Fault::Hang { applied: true },
    );
    let recorder = world.recorder(RecorderConfig::default());
    let clock = world.sim.clock();
    let fake = world.fake.clone();
    world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            // The caller gives up waiting while the start hangs, and drops the handle.
            clock.sleep(Duration::from_secs(3)).await;
            assert_eq!(fake.live_tasks().len(), 1);
            assert_eq!(handle.state(), Some(SessionState::Starting));
            drop(handle);
        })
        .unwrap();
    world.sim.run_until_idle(Duration::from_secs(3600));
    assert!(world.fake.live_tasks().is_empty());
    assert_eq!(world.events.states().last(), Some(&SessionState::Stopped));
}

#[test]
fn the_task_limit_makes_extra_sessions_wait_for_a_slot() {
    let world = World::new();
    let config = RecorderConfig::default().with_task_limit(Some(2)).unwrap();
    let recorder = world.recorder(config);
    let fake = world.fake.clone();
    let clock = world.sim.clock();
    let reports = world
        .sim
        .run(async move {
            let handles: Vec<_> = (0..3).map(|n| recorder.start_session(spec(n))).collect();
            handles[0].running().await.expect("running");
            handles[1].running().await.expect("running");
            clock.sleep(Duration::from_secs(120)).await;
            // The third waits: two tasks at most.
            assert_eq!(fake.live_tasks().len(), 2);
            assert_eq!(handles[2].state(), None);
            let mut handles = handles.into_iter();
            let first = handles.next().unwrap().stop().await;
            let second = handles.next().unwrap();
            let third = handles.next().unwrap();
            third
                .running()
                .await
                .expect("the third runs once a slot is free");
            assert_eq!(fake.live_tasks().len(), 2);
            vec![first, second.stop().await, third.stop().await]
        })
        .unwrap();
    assert!(reports.iter().all(|r| matches!(r.end, End::Stopped { .. })));
    assert!(world.fake.live_tasks().is_empty());
}

/// A journal whose writes of one kind of entry fail, as on a full disk.
struct FailingJournal {
    fails_on: &'static str,
    inner: MemoryJournal,
}

impl Journal for FailingJournal {
    fn write(&self, entry: &Entry) -> Result<(), JournalError> {
        if entry.op() == self.fails_on {
            return Err(JournalError::Io {
                op: "append",
                path: "full.jsonl".into(),
                source: std::io::Error::from_raw_os_error(28),
            });
        }
        self.inner.write(entry)
    }

    fn ledger(&self) -> Result<Ledger, JournalError> {
        self.inner.ledger()
    }
}

fn journal_failures(events: &EventLog) -> Vec<(&'static str, bool)> {
    events
        .events()
        .into_iter()
        .filter_map(|event| match event.kind {
            EventKind::JournalFailed {
                entry,
                start_withheld,
                ..
            } => Some((entry, start_withheld)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_start_the_journal_cannot_record_is_not_sent() {
    let world = World::new();
    let journal = Arc::new(FailingJournal {
        fails_on: "intent",
        inner: MemoryJournal::new(),
    });
    let recorder = world
        .recorder(RecorderConfig::default())
        .with_journal(journal);
    let report = world
        .sim
        .run(async move { recorder.start_session(spec(1)).finished().await })
        .unwrap();
    match &report.end {
        End::Failed { why } => assert!(why.contains("journal"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(world.fake.calls_of(Endpoint::Start), 0);
    assert!(world.fake.live_tasks().is_empty());
    assert_eq!(journal_failures(&world.events), [("intent", true)]);
}

#[test]
fn a_journal_failure_after_start_is_an_event_and_the_recording_goes_on() {
    let world = World::new();
    let journal = Arc::new(FailingJournal {
        fails_on: "live",
        inner: MemoryJournal::new(),
    });
    let recorder = world
        .recorder(RecorderConfig::default())
        .with_journal(journal.clone());
    let report = world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            handle.running().await.expect("running");
            // The intent entry still names the resource for `recover`.
            assert_eq!(journal.ledger().unwrap().intents().len(), 1);
            handle.stop().await
        })
        .unwrap();
    assert!(matches!(report.end, End::Stopped { .. }), "{report:?}");
    assert_eq!(journal_failures(&world.events), [("live", false)]);
}

#[test]
fn the_intent_is_written_before_start_and_resolved_by_the_live_entry() {
    let world = World::new();
    let recorder = world.recorder(RecorderConfig::default());
    let journal = world.journal.clone();
    world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            let task = handle.running().await.expect("running");
            let ledger = journal.ledger().unwrap();
            assert!(ledger.intents().is_empty(), "{ledger:?}");
            assert_eq!(ledger.tasks()[0].task, task);
            handle.stop().await
        })
        .unwrap();
    assert!(world.journal.ledger().unwrap().is_empty());
}

#[test]
fn a_watcher_sees_every_state_and_the_end_of_a_requested_stop() {
    let world = World::new();
    let recorder = world.recorder(RecorderConfig::default());
    let clock = world.sim.clock();
    let (states, last) = world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            let mut view = handle.view();
            let mut states = vec![view.state];
            while view.report.is_none() {
                view = handle.changed(&view).await;
                if states.last() != Some(&view.state) {
                    states.push(view.state);
                }
                if view.state == Some(SessionState::Running) {
                    clock.sleep(Duration::from_secs(60)).await;
                    handle.request_stop();
                }
            }
            (states, view)
        })
        .expect("the session ended");
    // A watcher sees the latest state at each wake, in the machine's order.
    let order = [
        None,
        Some(SessionState::Acquired),
        Some(SessionState::Starting),
        Some(SessionState::WaitingUntilRunning),
        Some(SessionState::Running),
        Some(SessionState::Stopping),
        Some(SessionState::Stopped),
    ];
    let positions: Vec<usize> = states
        .iter()
        .map(|state| {
            order
                .iter()
                .position(|o| o == state)
                .expect("a known state")
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{states:?}");
    assert!(states.contains(&Some(SessionState::Running)), "{states:?}");
    assert_eq!(states.last(), Some(&Some(SessionState::Stopped)));
    let report = last.report.expect("a report");
    assert!(matches!(report.end, End::Stopped { .. }));
    assert_eq!(
        last.task.map(|task| task.resource_id),
        last.resource_id,
        "the task runs on the resource start was sent on"
    );
    assert!(world.fake.live_tasks().is_empty());
}

#[test]
fn resume_supervises_a_known_task_and_stops_it() {
    let world = World::new();
    let recorder = world.recorder(RecorderConfig::default());
    let task = world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            let task = handle.running().await.expect("running");
            std::mem::forget(handle);
            task
        })
        .unwrap();
    let recorder = world.recorder(RecorderConfig::default());
    let report = world
        .sim
        .run(async move {
            let handle = recorder.resume(&task);
            let running = handle.running().await.expect("the resumed task runs");
            assert_eq!(running.sid, task.sid);
            handle.stop().await
        })
        .unwrap();
    assert!(matches!(report.end, End::Stopped { .. }));
    assert!(world.fake.live_tasks().is_empty());
}

#[test]
fn an_abandoned_session_ends_without_a_call_and_leaves_its_task_recording() {
    let world = World::new();
    let recorder = world.recorder(RecorderConfig::default());
    let journal = world.journal.clone();
    let fake = world.fake.clone();
    let (report, calls_before) = world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            handle.running().await.expect("running");
            let calls = fake.calls_of(Endpoint::Query) + fake.calls_of(Endpoint::Stop);
            handle.abandon();
            (handle.finished().await, calls)
        })
        .expect("the session ended");
    assert!(
        matches!(&report.end, End::Failed { why } if why.contains("handed over")),
        "{:?}",
        report.end
    );
    assert!(report.unconfirmed.is_empty());
    assert_eq!(
        world.fake.calls_of(Endpoint::Query) + world.fake.calls_of(Endpoint::Stop),
        calls_before,
        "no call after abandon"
    );
    assert_eq!(world.fake.live_tasks().len(), 1, "the task records on");
    assert!(
        journal.live().unwrap().is_empty(),
        "the journal no longer names it"
    );
}

#[test]
fn query_now_wakes_a_waiting_session_to_query_at_once_without_changing_its_state() {
    let world = World::new();
    let recorder = world.recorder(RecorderConfig::default());
    let clock = world.sim.clock();
    let fake = world.fake.clone();
    let report = world
        .sim
        .run(async move {
            let handle = recorder.start_session(spec(1));
            handle.running().await.expect("running");
            // Well inside the 60 s poll interval.
            clock.sleep(Duration::from_secs(1)).await;
            let before = fake.calls_of(Endpoint::Query);
            let view = handle.view();
            handle.query_now();
            handle.query_now();
            clock.sleep(Duration::from_millis(100)).await;
            assert_eq!(
                fake.calls_of(Endpoint::Query),
                before + 1,
                "two pokes together give one query, at once"
            );
            assert_eq!(handle.view().state, view.state);
            clock.sleep(Duration::from_secs(30)).await;
            assert_eq!(
                fake.calls_of(Endpoint::Query),
                before + 1,
                "the next poll is a whole interval after the poked query"
            );
            handle.stop().await
        })
        .expect("the session ended");
    assert!(
        matches!(report.end, End::Stopped { .. }),
        "{:?}",
        report.end
    );
}
