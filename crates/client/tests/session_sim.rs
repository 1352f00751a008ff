//! Deterministic simulation of whole sessions: the recorder over the fake
//! service in simulated time, under random fault scripts (any row of the status
//! table at any call, hangs, refused connections, failovers, idle exits).
//!
//! The invariant: every task the service started is stopped, or the session
//! that started it reports exactly that it could not confirm it (naming its sid,
//! or its resource id when the sid never arrived).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudrec_client::testing::{FakeService, Fault, Sim, Trigger};
use cloudrec_client::{Client, Clock, Recorder, RecorderConfig, SessionReport, SessionSpec, Spawn};
use cloudrec_core::{
    ConflictPolicy, End, LostPolicy, NoEvents, Resolution, SessionConfig, StatusTable, StopMode,
};
use cloudrec_types::{
    AppId, Cname, Endpoint, Mode, StartClientRequest, StorageConfig, StorageVendor, Uid,
};
use proptest::prelude::*;

const ENDPOINTS: [Endpoint; 4] = [
    Endpoint::Acquire,
    Endpoint::Start,
    Endpoint::Query,
    Endpoint::Stop,
];

/// One fault of a script, before it is bound to the table.
#[derive(Clone, Debug)]
enum Choice {
    Row {
        index: usize,
        applied: bool,
        endpoint: usize,
    },
    Hang {
        applied: bool,
        endpoint: usize,
    },
    Refuse {
        endpoint: usize,
    },
    Failover {
        seconds: u64,
    },
    IdleExit,
    NeverRuns,
}

fn choice() -> impl Strategy<Value = Choice> {
    let rows = StatusTable::get().rules().len();
    prop_oneof![
        4 => (0..rows, any::<bool>(), 0..4usize)
            .prop_map(|(index, applied, endpoint)| Choice::Row { index, applied, endpoint }),
        1 => (any::<bool>(), 0..4usize).prop_map(|(applied, endpoint)| Choice::Hang { applied, endpoint }),
        1 => (0..4usize).prop_map(|endpoint| Choice::Refuse { endpoint }),
        1 => (1..150u64).prop_map(|seconds| Choice::Failover { seconds }),
        1 => Just(Choice::IdleExit),
        1 => Just(Choice::NeverRuns),
    ]
}

/// Binds a choice to a trigger and a fault the service can really produce: an
/// answer that says the call took effect is applied; one that says it could not
/// have is not.
fn bind(choice: &Choice, nth: u64) -> (Trigger, Fault) {
    match choice {
        Choice::Row {
            index,
            applied,
            endpoint,
        } => {
            let rule = &StatusTable::get().rules()[*index];
            let endpoint = rule.endpoint().unwrap_or(ENDPOINTS[*endpoint]);
            let applied = match rule.resolution() {
                Resolution::DoNotRepeat
                | Resolution::SuccessNoData
                | Resolution::AlreadyExiting
                | Resolution::UploadPending => true,
                Resolution::RetryBackoff | Resolution::RetryThenReacquire => *applied,
                _ => false,
            };
            (Trigger::Nth(endpoint, nth), Fault::Row { rule, applied })
        }
        Choice::Hang { applied, endpoint } => (
            Trigger::Nth(ENDPOINTS[*endpoint], nth),
            Fault::Hang { applied: *applied },
        ),
        Choice::Refuse { endpoint } => (Trigger::Nth(ENDPOINTS[*endpoint], nth), Fault::Refuse),
        Choice::Failover { seconds } => (
            Trigger::Nth(Endpoint::Query, nth),
            Fault::Failover {
                duration: Duration::from_secs(*seconds),
            },
        ),
        Choice::IdleExit => (Trigger::Nth(Endpoint::Query, nth), Fault::IdleExit),
        Choice::NeverRuns => (Trigger::Nth(Endpoint::Start, nth % 2), Fault::NeverRuns),
    }
}

fn spec(n: u32) -> SessionSpec {
    let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "bucket", "access", "secret");
    SessionSpec::new(
        Mode::Mix,
        Cname::new(format!("room-{n}")).unwrap(),
        Uid::new(100 + n).unwrap(),
        StartClientRequest::mix(storage),
    )
}

/// Runs `sessions` sessions that record for `record_for` and stop, under the
/// faults; returns their reports and the fake service.
fn simulate(
    sessions: u32,
    record_for: Duration,
    faults: &[(Trigger, Fault)],
) -> (Vec<SessionReport>, FakeService, Duration) {
    simulate_with(sessions, record_for, faults, SessionConfig::default())
}

/// [`simulate`] with other session settings.
fn simulate_with(
    sessions: u32,
    record_for: Duration,
    faults: &[(Trigger, Fault)],
    session: SessionConfig,
) -> (Vec<SessionReport>, FakeService, Duration) {
    let sim = Sim::new();
    let fake = FakeService::new(sim.clock());
    for (trigger, fault) in faults {
        fake.inject(*trigger, fault.clone());
    }
    let client = Client::builder(AppId::new("app").unwrap(), fake.clone(), sim.clock())
        .events(NoEvents)
        .base_url("http://fake.invalid")
        .rate_limit(1000, 1000)
        .jitter_seed(0x5EED)
        .build()
        .unwrap();
    let spawner: Arc<dyn Spawn> = Arc::new(sim.clone());
    // Fixed seeds: a simulated run repeats exactly.
    let config = RecorderConfig::default()
        .with_session(session)
        .with_jitter_seed(0x5E55_1015);
    let recorder = Recorder::new(client, spawner, config);
    let reports: Arc<Mutex<Vec<SessionReport>>> = Arc::default();
    for n in 0..sessions {
        let handle = recorder.start_session(spec(n));
        let reports = Arc::clone(&reports);
        let clock = sim.clock();
        sim.spawn(Box::pin(async move {
            let report = match handle.running().await {
                Ok(_) => {
                    clock.sleep(record_for).await;
                    handle.stop().await
                }
                Err(_) => handle.finished().await,
            };
            reports.lock().unwrap().push(report);
        }));
    }
    sim.run_until_idle(Duration::from_secs(6 * 3600));
    let elapsed = sim.clock().elapsed();
    let reports = reports.lock().unwrap().clone();
    (reports, fake, elapsed)
}

fn check_invariant(reports: &[SessionReport], fake: &FakeService, sessions: u32) {
    assert_eq!(
        reports.len(),
        sessions as usize,
        "every session reports its end"
    );
    for task in fake.live_tasks() {
        let named = reports.iter().any(|report| {
            report
                .unconfirmed
                .iter()
                .any(|t| t.sid.as_str() == task.sid)
                || report
                    .uncertain
                    .iter()
                    .any(|r| r.as_str() == task.resource_id)
                || report.end.to_string().contains(&task.resource_id)
        });
        assert!(
            named,
            "task {task:?} is left running and no report names it: {reports:#?}"
        );
    }
    // A session that ends stopped with an unconfirmed task says why in its end,
    // unless that task was lost and replaced by a new one.
    for report in reports {
        if matches!(report.end, End::Stopped { .. } | End::StoppedNoData) && report.restarts == 0 {
            for task in &report.unconfirmed {
                assert!(
                    report.end.to_string().contains(task.sid.as_str()),
                    "{report:?}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_started_task_is_stopped_or_reported(
        script in proptest::collection::vec((choice(), 0..4u64), 0..6),
        sessions in 1..4u32,
        record_for in 0..600u64,
    ) {
        let faults: Vec<(Trigger, Fault)> =
            script.iter().map(|(choice, nth)| bind(choice, *nth)).collect();
        let (reports, fake, _) = simulate(sessions, Duration::from_secs(record_for), &faults);
        check_invariant(&reports, &fake, sessions);
    }

    #[test]
    fn the_invariant_holds_under_every_policy(
        script in proptest::collection::vec((choice(), 0..4u64), 0..6),
        sessions in 1..3u32,
        record_for in 0..300u64,
        async_stop in any::<bool>(),
        restart_lost in any::<bool>(),
        fail_on_conflict in any::<bool>(),
    ) {
        let mut session = SessionConfig::default()
            .with_lost_policy(if restart_lost {
                LostPolicy::RestartWithNewUid
            } else {
                LostPolicy::Report
            })
            .with_conflict_policy(if fail_on_conflict {
                ConflictPolicy::Fail
            } else {
                ConflictPolicy::NewUid
            });
        if async_stop {
            let mode = StopMode::Async {
                poll: Duration::from_secs(2),
                give_up: Duration::from_secs(30),
            };
            session = session.with_stop_mode(mode).unwrap();
        }
        let faults: Vec<(Trigger, Fault)> =
            script.iter().map(|(choice, nth)| bind(choice, *nth)).collect();
        let (reports, fake, _) =
            simulate_with(sessions, Duration::from_secs(record_for), &faults, session);
        check_invariant(&reports, &fake, sessions);
    }
}

/// Faults, each with the number of the call of its endpoint it strikes.
type Script<'a> = &'a [(Choice, u64)];

/// Scripts proptest once shrank a failure to, kept as plain tests.
#[test]
fn scripts_that_once_leaked_a_task() {
    let cases: [(Script<'_>, u32, u64); 4] = [
        // A start that hung after taking effect, then a 206 code 65 on the resend.
        (
            &[
                (
                    Choice::Hang {
                        applied: true,
                        endpoint: 1,
                    },
                    0,
                ),
                (
                    Choice::Row {
                        index: 15,
                        applied: false,
                        endpoint: 0,
                    },
                    2,
                ),
            ],
            2,
            0,
        ),
        // A failover, a query 501 while recovering, a stop that hung without
        // taking effect: the 404 after it is not proof of a stop.
        (
            &[
                (
                    Choice::Row {
                        index: 44,
                        applied: false,
                        endpoint: 0,
                    },
                    3,
                ),
                (Choice::Failover { seconds: 67 }, 0),
                (
                    Choice::Hang {
                        applied: false,
                        endpoint: 3,
                    },
                    0,
                ),
            ],
            1,
            0,
        ),
        // A stop answered with code 50 while the task was failing over.
        (
            &[
                (
                    Choice::Row {
                        index: 51,
                        applied: false,
                        endpoint: 0,
                    },
                    0,
                ),
                (Choice::Failover { seconds: 6 }, 1),
                (
                    Choice::Row {
                        index: 20,
                        applied: false,
                        endpoint: 0,
                    },
                    2,
                ),
            ],
            1,
            63,
        ),
        // A 206 code 65 that started the task, then 433 on the client's retry.
        (
            &[
                (
                    Choice::Row {
                        index: 14,
                        applied: true,
                        endpoint: 0,
                    },
                    0,
                ),
                (
                    Choice::Row {
                        index: 43,
                        applied: false,
                        endpoint: 0,
                    },
                    1,
                ),
            ],
            1,
            0,
        ),
    ];
    for (script, sessions, record_for) in cases {
        let faults: Vec<(Trigger, Fault)> = script
            .iter()
            .map(|(choice, nth)| bind(choice, *nth))
            .collect();
        let (reports, fake, _) = simulate(sessions, Duration::from_secs(record_for), &faults);
        check_invariant(&reports, &fake, sessions);
    }
}

#[test]
fn every_row_of_the_table_at_every_step_ends_cleanly() {
    let rows = StatusTable::get().rules().len();
    for index in 0..rows {
        for endpoint in 0..4 {
            for nth in 0..2 {
                for applied in [false, true] {
                    let fault = bind(
                        &Choice::Row {
                            index,
                            applied,
                            endpoint,
                        },
                        nth,
                    );
                    let (reports, fake, _) =
                        simulate(1, Duration::from_secs(120), std::slice::from_ref(&fault));
                    check_invariant(&reports, &fake, 1);
                }
            }
        }
    }
}

#[test]
fn a_75_second_failover_is_survived() {
    let failover = (
        Trigger::Nth(Endpoint::Query, 3),
        Fault::Failover {
            duration: Duration::from_secs(75),
        },
    );
    let (reports, fake, _) = simulate(1, Duration::from_secs(900), &[failover]);
    check_invariant(&reports, &fake, 1);
    assert!(
        matches!(reports[0].end, End::Stopped { reason: None, .. }),
        "{:?}",
        reports[0]
    );
    assert!(fake.live_tasks().is_empty());
}

#[test]
fn a_120_second_failover_is_declared_lost() {
    let failover = (
        Trigger::Nth(Endpoint::Query, 3),
        Fault::Failover {
            duration: Duration::from_secs(120),
        },
    );
    let (reports, fake, _) = simulate(1, Duration::from_secs(900), &[failover]);
    check_invariant(&reports, &fake, 1);
    match &reports[0].end {
        End::Lost { why } => assert!(why.contains("recovery window"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(reports[0].unconfirmed.len(), 1);
}

#[test]
fn a_simulated_run_repeats_exactly() {
    let faults = [
        (
            Trigger::Nth(Endpoint::Start, 0),
            Fault::Hang { applied: true },
        ),
        (
            Trigger::Nth(Endpoint::Query, 2),
            Fault::Failover {
                duration: Duration::from_secs(40),
            },
        ),
    ];
    let (first, fake_a, elapsed_a) = simulate(3, Duration::from_secs(300), &faults);
    let (second, fake_b, elapsed_b) = simulate(3, Duration::from_secs(300), &faults);
    assert_eq!(first, second);
    assert_eq!(elapsed_a, elapsed_b);
    assert_eq!(fake_a.calls(), fake_b.calls());
}
