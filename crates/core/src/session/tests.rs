//! Unit tests of the session machine: one test per documented rule.

use std::sync::Arc;
use std::time::Duration;

use cloudrec_types::{Bytes, Endpoint, RecordingStatus, ResourceId, Sid, Uid, UploadingStatus};

use super::*;
use crate::{HttpResponse, SessionState, Timestamp, classify_failure};

fn at(seconds: u64) -> Timestamp {
    Timestamp::from_origin(Duration::from_secs(seconds))
}

fn uid() -> Uid {
    Uid::new(527_841).unwrap()
}

fn rid(n: u32) -> ResourceId {
    ResourceId::new(format!("resource-{n}")).unwrap()
}

fn sid(n: u32) -> Sid {
    Sid::new(format!("sid-{n}")).unwrap()
}

fn failure(endpoint: Endpoint, status: u16, body: &str) -> crate::Failure {
    classify_failure(
        endpoint,
        &HttpResponse {
            status,
            retry_after: None,
            request_id: None,
            body: Bytes::copy_from_slice(body.as_bytes()),
        },
    )
}

fn coded(endpoint: Endpoint, status: u16, code: i64) -> crate::Failure {
    failure(
        endpoint,
        status,
        &format!(r#"{{"code":{code},"reason":"x"}}"#),
    )
}

fn polled(status: RecordingStatus) -> Input {
    Input::Queried(Answer::Ok(Polled {
        status: Some(status),
        files: 0,
    }))
}

struct Run {
    session: Session,
    now: Timestamp,
    action: Action,
}

impl Run {
    fn new(config: SessionConfig) -> Self {
        let mut session = Session::new(uid(), Arc::new(config));
        let action = session.handle(Input::Wake, at(0), 0.0);
        Self {
            session,
            now: at(0),
            action,
        }
    }

    fn give(&mut self, input: Input) -> &Action {
        self.action = self.session.handle(input, self.now, 0.0);
        &self.action
    }

    /// Follows a `Wait` to its end and wakes the machine.
    fn wait(&mut self) -> &Action {
        if let Action::Wait { until } = self.action {
            self.now = until;
        }
        self.give(Input::Wake)
    }

    /// Acquires and starts with the given resource and sid number; ends waiting
    /// for the first query.
    fn start(&mut self, n: u32) {
        assert!(
            matches!(self.action, Action::Acquire { .. }),
            "{:?}",
            self.action
        );
        self.give(Input::Acquired(Answer::Ok(rid(n))));
        assert!(
            matches!(self.action, Action::Start { .. }),
            "{:?}",
            self.action
        );
        self.give(Input::Started(Answer::Ok(Started::New(sid(n)))));
    }

    fn run_until_recording(&mut self, n: u32) {
        self.start(n);
        assert!(matches!(self.wait(), Action::Query { .. }));
        self.give(polled(RecordingStatus::Running));
        assert_eq!(self.session.state(), Some(SessionState::Running));
    }

    fn states(&mut self) -> Vec<SessionState> {
        self.session
            .take_transitions()
            .into_iter()
            .map(|t| t.to)
            .collect()
    }
}

#[test]
fn a_plain_session_runs_the_documented_lifecycle() {
    let mut run = Run::new(SessionConfig::default());
    assert_eq!(run.action, Action::Acquire { uid: uid() });
    run.start(1);
    // First query about 5 s after start.
    assert_eq!(run.action, Action::Wait { until: at(5) });
    assert!(matches!(run.wait(), Action::Query { task } if task.sid == sid(1)));
    run.give(polled(RecordingStatus::Running));
    assert_eq!(run.action, Action::Wait { until: at(65) });
    run.wait();
    run.give(polled(RecordingStatus::Running));
    run.session.request_stop();
    assert!(matches!(
        run.give(Input::Wake),
        Action::Stop {
            async_stop: false,
            ..
        }
    ));
    run.give(Input::Stopped(Answer::Ok(StopAnswer::Stopped {
        files: vec!["a.m3u8".into()],
        uploading_status: Some(UploadingStatus::Uploaded),
    })));
    assert_eq!(run.action, Action::Done);
    assert_eq!(
        run.session.end(),
        Some(&End::Stopped {
            files: vec!["a.m3u8".into()],
            uploading_status: Some(UploadingStatus::Uploaded),
            reason: None,
        })
    );
    assert_eq!(
        run.states(),
        [
            SessionState::Acquired,
            SessionState::Starting,
            SessionState::WaitingUntilRunning,
            SessionState::Running,
            SessionState::Stopping,
            SessionState::Stopped,
        ]
    );
    assert!(run.session.unconfirmed().is_empty());
}

#[test]
fn transitions_chain_from_one_state_to_the_next() {
    let mut run = Run::new(SessionConfig::default());
    run.run_until_recording(1);
    run.session.request_stop();
    run.give(Input::Wake);
    run.give(Input::Stopped(Answer::Ok(StopAnswer::NoRecordedData)));
    let transitions = run.session.take_transitions();
    assert_eq!(transitions[0].from, None);
    for pair in transitions.windows(2) {
        assert_eq!(pair[1].from, Some(pair[0].to));
    }
    assert_eq!(run.session.end(), Some(&End::StoppedNoData));
}

#[test]
fn waiting_backs_off_and_gives_up_after_90_seconds_with_a_stop() {
    let mut run = Run::new(SessionConfig::default());
    run.start(1);
    let mut queries = 0;
    loop {
        match run.wait().clone() {
            Action::Query { .. } => {
                queries += 1;
                run.give(polled(RecordingStatus::Starting));
            }
            Action::Stop { .. } => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(run.now >= at(90) && run.now <= at(95), "{:?}", run.now);
    assert!(queries >= 6, "{queries} queries");
    run.give(Input::Stopped(Answer::Ok(StopAnswer::NoRecordedData)));
    match run.session.end() {
        Some(End::Failed { why }) => assert!(why.contains("status 4 or 5"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn start_502_acquires_and_starts_again() {
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    let action = run.give(Input::Started(Answer::Failed(coded(
        Endpoint::Start,
        500,
        502,
    ))));
    assert_eq!(action, &Action::Acquire { uid: uid() });
    run.start(2);
    assert_eq!(run.session.restarts(), 1);
    assert_eq!(run.session.state(), Some(SessionState::WaitingUntilRunning));
    assert!(run.session.uncertain().is_empty());
}

#[test]
fn codes_65_and_62_ask_the_same_resource_again_then_acquire_again() {
    for (status, code) in [(206, 65), (500, 62)] {
        let mut run = Run::new(SessionConfig::default());
        run.give(Input::Acquired(Answer::Ok(rid(1))));
        // The backend may have started the task: start is sent again on the same
        // resource (it answers 201 code 7 with the sid if it did).
        for _ in 0..3 {
            run.give(Input::Started(Answer::Failed(coded(
                Endpoint::Start,
                status,
                code,
            ))));
            assert_eq!(
                run.wait(),
                &Action::Start {
                    resource_id: rid(1),
                    uid: uid()
                },
                "code {code}"
            );
        }
        let action = run.give(Input::Started(Answer::Failed(coded(
            Endpoint::Start,
            status,
            code,
        ))));
        assert_eq!(action, &Action::Acquire { uid: uid() }, "code {code}");
        assert_eq!(run.session.uncertain(), [rid(1)]);
        run.start(2);
        assert_eq!(run.session.restarts(), 1);
    }
}

#[test]
fn a_task_started_by_a_lost_attempt_is_adopted() {
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    run.give(Input::Started(Answer::Failed(coded(
        Endpoint::Start,
        206,
        65,
    ))));
    run.wait();
    run.give(Input::Started(Answer::Ok(Started::Already(Some(sid(1))))));
    assert_eq!(run.session.task().map(|t| t.sid.clone()), Some(sid(1)));
    assert_eq!(run.session.restarts(), 0);
}

#[test]
fn the_restart_budget_is_bounded() {
    let config = SessionConfig::default().with_max_restarts(1);
    let mut run = Run::new(config);
    for n in 0..2 {
        run.give(Input::Acquired(Answer::Ok(rid(n))));
        run.give(Input::Started(Answer::Failed(coded(
            Endpoint::Start,
            500,
            502,
        ))));
    }
    assert_eq!(run.action, Action::Done);
    assert!(matches!(run.session.end(), Some(End::Failed { why }) if why.contains("gave up")));
}

#[test]
fn task_conflict_takes_a_new_uid_or_fails_by_policy() {
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    let action = run
        .give(Input::Started(Answer::Failed(coded(
            Endpoint::Start,
            400,
            53,
        ))))
        .clone();
    match action {
        Action::Acquire { uid: new } => assert_ne!(new, uid()),
        other => panic!("{other:?}"),
    }

    let mut run = Run::new(SessionConfig::default().with_conflict_policy(ConflictPolicy::Fail));
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    run.give(Input::Started(Answer::Failed(coded(
        Endpoint::Start,
        400,
        53,
    ))));
    match run.session.end() {
        Some(End::Failed { why }) => {
            assert!(
                why.contains("task conflict") && why.contains("527841"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn already_started_keeps_the_sid() {
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    run.give(Input::Started(Answer::Ok(Started::Already(Some(sid(7))))));
    assert_eq!(run.session.task().map(|t| t.sid.clone()), Some(sid(7)));
    // The same when the client hands the 201 over as a failure carrying the sid.
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    let body = r#"{"code":7,"reason":"already started","resourceId":"resource-1","sid":"sid-8"}"#;
    run.give(Input::Started(Answer::Failed(failure(
        Endpoint::Start,
        201,
        body,
    ))));
    assert_eq!(run.session.task().map(|t| t.sid.clone()), Some(sid(8)));
}

#[test]
fn an_ambiguous_start_is_sent_again_on_the_same_resource() {
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    let timeout = failure(Endpoint::Start, 504, "");
    run.give(Input::Started(Answer::Ambiguous(timeout)));
    assert!(matches!(run.action, Action::Wait { .. }));
    assert_eq!(
        run.wait(),
        &Action::Start {
            resource_id: rid(1),
            uid: uid()
        }
    );
    run.give(Input::Started(Answer::Ok(Started::Already(Some(sid(1))))));
    assert_eq!(run.session.state(), Some(SessionState::WaitingUntilRunning));
}

#[test]
fn an_expired_resource_is_acquired_again() {
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    run.now = at(301);
    assert_eq!(run.give(Input::Wake), &Action::Acquire { uid: uid() });
    // Code 433 (resource expired) on start does the same.
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    let action = run.give(Input::Started(Answer::Failed(coded(
        Endpoint::Start,
        400,
        433,
    ))));
    assert_eq!(action, &Action::Acquire { uid: uid() });
}

#[test]
fn unfixable_start_failures_fail_the_session_naming_the_cause() {
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    run.give(Input::Started(Answer::Failed(coded(
        Endpoint::Start,
        400,
        2,
    ))));
    assert!(matches!(run.session.end(), Some(End::Failed { why }) if why.contains("fix_request")));
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Failed(coded(
        Endpoint::Acquire,
        400,
        406,
    ))));
    assert!(
        matches!(run.session.end(), Some(End::Failed { why }) if why.contains("reduce_concurrency"))
    );
}

/// Runs a session whose task answers 404 for `outage` seconds from the first
/// query after it started recording.
fn outage(outage: u64, config: SessionConfig) -> Run {
    let mut run = Run::new(config);
    run.run_until_recording(1);
    let mut from = None;
    let mut seen_recovering = false;
    for _ in 0..200 {
        match run.wait().clone() {
            Action::Query { .. } => {
                let from = *from.get_or_insert(run.now);
                let back = from + Duration::from_secs(outage);
                if run.now < back {
                    run.give(Input::Queried(Answer::Failed(coded(
                        Endpoint::Query,
                        404,
                        404,
                    ))));
                    seen_recovering |= run.session.state() == Some(SessionState::Recovering);
                } else {
                    run.give(polled(RecordingStatus::Running));
                    if run.now >= back + Duration::from_secs(120) {
                        break;
                    }
                }
            }
            Action::Done => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(seen_recovering);
    run
}

#[test]
fn a_75_second_failover_is_survived() {
    let mut run = outage(75, SessionConfig::default());
    assert_eq!(run.session.state(), Some(SessionState::Running));
    let states = run.states();
    assert!(states.contains(&SessionState::Recovering));
    assert_eq!(states.last(), Some(&SessionState::Running));
}

#[test]
fn a_120_second_disappearance_is_declared_lost() {
    let run = outage(120, SessionConfig::default());
    match run.session.end() {
        Some(End::Lost { why }) => assert!(why.contains("90 s recovery window"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(run.session.unconfirmed().len(), 1);
    assert!(run.now >= at(65 + 90));
}

#[test]
fn a_lost_task_can_be_replaced_with_a_new_uid() {
    let config = SessionConfig::default().with_lost_policy(LostPolicy::RestartWithNewUid);
    let mut run = Run::new(config);
    run.run_until_recording(1);
    for _ in 0..50 {
        match run.wait().clone() {
            Action::Query { .. } => {
                run.give(Input::Queried(Answer::Failed(coded(
                    Endpoint::Query,
                    404,
                    404,
                ))));
            }
            Action::Acquire { uid: new } => {
                assert_ne!(new, uid());
                assert_eq!(run.session.unconfirmed()[0].sid, sid(1));
                return;
            }
            other => panic!("{other:?}"),
        }
    }
    panic!("no replacement was acquired");
}

#[test]
fn an_idle_exit_ends_stopped_with_the_reason() {
    let mut run = Run::new(SessionConfig::default());
    run.run_until_recording(1);
    run.wait();
    run.give(polled(RecordingStatus::Exited));
    assert!(matches!(run.action, Action::Stop { .. }));
    run.give(Input::Stopped(Answer::Failed(coded(
        Endpoint::Stop,
        400,
        49,
    ))));
    match run.session.end() {
        Some(End::Stopped {
            reason: Some(reason),
            ..
        }) => assert!(reason.contains("exited on its own"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn stop_answers_map_to_their_ends() {
    let cases = [
        (
            StopAnswer::AlreadyExiting,
            SessionState::Stopped,
            "already exiting",
        ),
        (StopAnswer::NoRecordedData, SessionState::StoppedNoData, ""),
        (StopAnswer::UploadPending, SessionState::Stopped, "code 50"),
    ];
    for (answer, state, text) in cases {
        let mut run = Run::new(SessionConfig::default());
        run.run_until_recording(1);
        run.session.request_stop();
        run.give(Input::Wake);
        run.give(Input::Stopped(Answer::Ok(answer)));
        let end = run.session.end().unwrap();
        assert_eq!(end.state(), state);
        assert!(end.to_string().contains(text), "{end}");
    }
}

#[test]
fn stop_404_waits_out_the_window_then_reports_the_task() {
    let mut run = Run::new(SessionConfig::default());
    run.run_until_recording(1);
    run.session.request_stop();
    run.give(Input::Wake);
    let mut stops = 0;
    while run.session.end().is_none() {
        assert!(
            matches!(run.action, Action::Stop { .. }),
            "{:?}",
            run.action
        );
        stops += 1;
        run.give(Input::Stopped(Answer::Ok(StopAnswer::Gone)));
        if run.session.end().is_none() {
            run.wait();
        }
    }
    assert!(stops > 3);
    assert!(run.now >= at(5 + 90));
    assert_eq!(run.session.unconfirmed().len(), 1);
    assert!(
        run.session
            .end()
            .unwrap()
            .to_string()
            .contains("recovery window")
    );
}

#[test]
fn a_stop_that_keeps_failing_is_reported_with_its_task() {
    let mut run = Run::new(SessionConfig::default());
    run.run_until_recording(1);
    run.session.request_stop();
    run.give(Input::Wake);
    for _ in 0..5 {
        assert!(
            matches!(run.action, Action::Stop { .. }),
            "{:?}",
            run.action
        );
        run.give(Input::Stopped(Answer::Failed(coded(
            Endpoint::Stop,
            504,
            62,
        ))));
        run.wait();
    }
    match run.session.end() {
        Some(End::Failed { why }) => {
            assert!(
                why.contains("could not stop") && why.contains("sid-1"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(run.session.unconfirmed()[0].sid, sid(1));
}

#[test]
fn an_ambiguous_stop_is_sent_again_and_a_404_is_not_taken_for_proof() {
    // The resent stop answers 49: the first one took effect.
    let mut run = Run::new(SessionConfig::default());
    run.run_until_recording(1);
    run.session.request_stop();
    run.give(Input::Wake);
    run.give(Input::Stopped(Answer::Ambiguous(failure(
        Endpoint::Stop,
        504,
        "",
    ))));
    assert!(matches!(run.wait(), Action::Stop { .. }));
    run.give(Input::Stopped(Answer::Ok(StopAnswer::AlreadyExiting)));
    assert_eq!(
        run.session.end().map(End::state),
        Some(SessionState::Stopped)
    );
    assert!(run.session.unconfirmed().is_empty());

    // The resent stop answers 404: it may be a failover, so the recovery window
    // applies; a task that comes back is stopped.
    let mut run = Run::new(SessionConfig::default());
    run.run_until_recording(1);
    run.session.request_stop();
    run.give(Input::Wake);
    run.give(Input::Stopped(Answer::Ambiguous(failure(
        Endpoint::Stop,
        504,
        "",
    ))));
    run.wait();
    run.give(Input::Stopped(Answer::Ok(StopAnswer::Gone)));
    assert!(run.session.end().is_none());
    assert!(matches!(run.wait(), Action::Stop { .. }));
    run.give(Input::Stopped(Answer::Ok(StopAnswer::Stopped {
        files: vec![],
        uploading_status: None,
    })));
    assert!(run.session.unconfirmed().is_empty());
}

#[test]
fn async_stop_polls_until_the_upload_finished() {
    let mode = StopMode::Async {
        poll: Duration::from_secs(5),
        give_up: Duration::from_secs(60),
    };
    let mut run = Run::new(SessionConfig::default().with_stop_mode(mode).unwrap());
    run.run_until_recording(1);
    run.session.request_stop();
    assert!(matches!(
        run.give(Input::Wake),
        Action::Stop {
            async_stop: true,
            ..
        }
    ));
    run.give(Input::Stopped(Answer::Ok(StopAnswer::Stopped {
        files: vec!["a.m3u8".into()],
        uploading_status: Some(UploadingStatus::StatusUnknown),
    })));
    assert!(matches!(run.wait(), Action::Query { .. }));
    run.give(polled(RecordingStatus::StopRequested));
    assert!(matches!(run.wait(), Action::Query { .. }));
    run.give(polled(RecordingStatus::Exited));
    assert_eq!(
        run.session.end(),
        Some(&End::Stopped {
            files: vec!["a.m3u8".into()],
            uploading_status: Some(UploadingStatus::Uploaded),
            reason: None,
        })
    );
}

#[test]
fn a_stop_before_start_sends_nothing() {
    let mut run = Run::new(SessionConfig::default());
    run.session.request_stop();
    assert_eq!(run.give(Input::Wake), &Action::Done);
    // Requested while the start is in flight: the start answer comes first, then stop.
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    run.session.request_stop();
    let action = run.give(Input::Started(Answer::Ok(Started::New(sid(1)))));
    assert!(matches!(action, Action::Stop { .. }));
}

#[test]
fn a_stop_after_an_ambiguous_start_learns_the_sid_and_stops_the_task() {
    let mut run = Run::new(SessionConfig::default());
    run.give(Input::Acquired(Answer::Ok(rid(1))));
    run.session.request_stop();
    let timeout = failure(Endpoint::Start, 504, "");
    run.give(Input::Started(Answer::Ambiguous(timeout)));
    // Not ended: the lost start may have started a task.
    assert!(run.session.end().is_none());
    assert!(matches!(run.wait(), Action::Start { .. }));
    let action = run.give(Input::Started(Answer::Ok(Started::Already(Some(sid(1))))));
    assert!(matches!(action, Action::Stop { task, .. } if task.sid == sid(1)));
}

#[test]
fn answers_that_do_not_fit_the_step_are_ignored() {
    let mut run = Run::new(SessionConfig::default());
    let action = run.give(Input::Queried(Answer::Ok(Polled {
        status: None,
        files: 0,
    })));
    assert_eq!(action, &Action::Acquire { uid: uid() });
    run.give(Input::Stopped(Answer::Ok(StopAnswer::Gone)));
    assert!(run.session.end().is_none());
}

#[test]
fn query_failures_while_running_keep_polling() {
    let mut run = Run::new(SessionConfig::default());
    run.run_until_recording(1);
    for _ in 0..10 {
        assert!(matches!(run.wait(), Action::Query { .. }));
        run.give(Input::Queried(Answer::Failed(coded(
            Endpoint::Query,
            504,
            62,
        ))));
    }
    assert_eq!(run.session.state(), Some(SessionState::Running));
}

#[test]
fn a_resumed_session_queries_at_once() {
    let task = TaskIds {
        resource_id: rid(1),
        sid: sid(1),
        uid: uid(),
    };
    let mut session = Session::resume(task.clone(), Arc::new(SessionConfig::default()), at(10));
    assert_eq!(
        session.handle(Input::Wake, at(10), 0.0),
        Action::Query { task }
    );
    assert_eq!(session.state(), Some(SessionState::Running));
}

#[test]
fn config_refuses_zero_durations() {
    assert!(
        SessionConfig::default()
            .with_recovery_window(Duration::ZERO)
            .is_err()
    );
    assert!(
        SessionConfig::default()
            .with_query_interval(Duration::ZERO)
            .is_err()
    );
    assert!(SessionConfig::default().with_max_stop_attempts(0).is_err());
    assert!(SessionConfig::default().with_query_spread(101).is_err());
}

#[test]
fn query_now_makes_a_recording_session_query_at_once_and_changes_nothing_else() {
    let mut run = Run::new(SessionConfig::default());
    run.run_until_recording(1);
    assert_eq!(run.action, Action::Wait { until: at(65) });
    run.states();
    run.now = at(10);
    run.session.query_now(run.now);
    assert!(matches!(run.give(Input::Wake), Action::Query { task } if task.sid == sid(1)));
    assert!(run.states().is_empty(), "a poke is not a transition");
    run.give(polled(RecordingStatus::Running));
    assert_eq!(run.action, Action::Wait { until: at(70) });
    assert_eq!(run.session.state(), Some(SessionState::Running));
}

#[test]
fn query_now_does_nothing_before_the_task_starts_or_while_it_stops() {
    let mut run = Run::new(SessionConfig::default());
    run.session.query_now(at(0));
    assert!(matches!(run.give(Input::Wake), Action::Acquire { .. }));
    run.run_until_recording(1);
    run.session.request_stop();
    assert!(matches!(run.give(Input::Wake), Action::Stop { .. }));
    run.session.query_now(run.now);
    run.give(Input::Stopped(Answer::Ok(StopAnswer::NoRecordedData)));
    assert_eq!(run.action, Action::Done);
    run.session.query_now(run.now);
    assert_eq!(run.give(Input::Wake), &Action::Done);
}
