//! The retry decision, the recovery window and failover in simulated time.

use std::time::Duration;

use cloudrec_core::{
    Backoff, Delivery, FailoverPlan, GiveUpReason, Host, HttpResponse, Next, RecoveryWindow,
    Region, RetryPolicy, Suffix, Timestamp, TransportError, TransportErrorKind, Verdict,
    classify_failure, classify_transport,
};
use cloudrec_types::{Bytes, Endpoint};

fn failure(endpoint: Endpoint, status: u16, body: &str) -> cloudrec_core::Failure {
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

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn server_errors_follow_3_6_9_then_give_up() {
    let policy = RetryPolicy::default();
    let failed = failure(
        Endpoint::Query,
        504,
        r#"{"code":62,"reason":"request timeout"}"#,
    );
    let mut elapsed = Duration::ZERO;
    let mut delays = Vec::new();
    for attempt in 1.. {
        match policy.decide(&failed, attempt, elapsed, 0.0) {
            Next::Retry { after } => {
                delays.push(after.as_secs());
                elapsed += after;
            }
            Next::GiveUp(reason) => {
                assert_eq!(reason, GiveUpReason::AttemptsExhausted);
                assert_eq!(attempt, policy.max_attempts());
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(delays, [3, 6, 9]);
}

#[test]
fn start_timeouts_escalate_to_a_new_acquire() {
    let policy = RetryPolicy::default();
    let failed = failure(
        Endpoint::Start,
        500,
        r#"{"code":62,"reason":"request timeout"}"#,
    );
    assert_eq!(
        policy.decide(&failed, 1, Duration::ZERO, 0.0),
        Next::Retry { after: secs(3) }
    );
    assert_eq!(policy.decide(&failed, 4, secs(18), 0.0), Next::Reacquire);
    // The deadline runs out before the attempts: still escalate, never give up.
    assert_eq!(policy.decide(&failed, 2, secs(58), 0.0), Next::Reacquire);
    let request_not_completed = failure(Endpoint::Start, 206, r#"{"code":65}"#);
    assert_eq!(
        policy.decide(&request_not_completed, 4, secs(18), 0.0),
        Next::Reacquire
    );
}

#[test]
fn the_deadline_stops_retries_that_would_end_after_it() {
    let policy = RetryPolicy::default().with_deadline(secs(10)).unwrap();
    let failed = failure(Endpoint::Update, 206, r#"{"code":65}"#);
    assert_eq!(
        policy.decide(&failed, 1, secs(7), 0.0),
        Next::Retry { after: secs(3) }
    );
    assert_eq!(
        policy.decide(&failed, 1, secs(8), 0.0),
        Next::GiveUp(GiveUpReason::DeadlinePassed)
    );
}

#[test]
fn retry_after_is_honoured_and_clamped() {
    let policy = RetryPolicy::default();
    let limited = |retry_after: Option<&str>| {
        classify_failure(
            Endpoint::Query,
            &HttpResponse {
                status: 429,
                retry_after: retry_after.map(str::to_owned),
                request_id: None,
                body: Bytes::from_static(br#"{"message":"API rate limit exceeded"}"#),
            },
        )
    };
    assert_eq!(
        policy.decide(&limited(Some("2")), 1, Duration::ZERO, 0.0),
        Next::Retry { after: secs(2) }
    );
    assert_eq!(
        policy.decide(&limited(Some("3600")), 1, Duration::ZERO, 0.0),
        Next::Retry { after: secs(30) }
    );
    assert_eq!(
        policy.decide(&limited(None), 1, Duration::ZERO, 0.0),
        Next::Retry { after: secs(1) }
    );
    let short = RetryPolicy::default().with_retry_after_cap(secs(5));
    assert_eq!(
        short.decide(&limited(Some("3600")), 1, Duration::ZERO, 0.0),
        Next::Retry { after: secs(5) }
    );
}

#[test]
fn final_answers_are_not_retried() {
    let policy = RetryPolicy::default();
    let cases = [
        (Endpoint::Start, 500, r#"{"code":502}"#, Next::Reacquire),
        (
            Endpoint::Start,
            400,
            r#"{"code":53}"#,
            Next::ReacquireWithNewUid,
        ),
        (
            Endpoint::Acquire,
            400,
            r#"{"code":2,"reason":"bad"}"#,
            Next::GiveUp(GiveUpReason::NotRetryable),
        ),
        (
            Endpoint::Acquire,
            400,
            r#"{"code":406}"#,
            Next::GiveUp(GiveUpReason::NotRetryable),
        ),
        (
            Endpoint::Query,
            401,
            r#"{"message":"Unauthorized"}"#,
            Next::GiveUp(GiveUpReason::NotRetryable),
        ),
        (
            Endpoint::Query,
            400,
            r#"{"message":"appid is invalid"}"#,
            Next::GiveUp(GiveUpReason::NotRetryable),
        ),
        (Endpoint::Stop, 400, r#"{"code":50}"#, Next::AlreadyDone),
    ];
    for (endpoint, status, body, expected) in cases {
        assert_eq!(
            policy.decide(&failure(endpoint, status, body), 1, Duration::ZERO, 0.5),
            expected,
            "{endpoint} {status} {body}"
        );
    }
}

#[test]
fn transport_failures_walk_the_failover_plan_with_1_3_6() {
    let policy = RetryPolicy::default();
    let mut plan = FailoverPlan::new(Host::regional(Region::UsEast1, Suffix::AgoraIo));
    let mut elapsed = Duration::ZERO;
    let mut visited = vec![plan.current().to_owned()];
    let mut delays = Vec::new();
    for attempt in 1.. {
        let error = TransportError::new(
            TransportErrorKind::Connect,
            Delivery::NotSent,
            plan.current(),
            "refused",
        );
        let failed = classify_transport(Endpoint::Acquire, &error);
        match policy.decide(&failed, attempt, elapsed, 0.0) {
            Next::Failover { after } => {
                delays.push(after.as_secs());
                elapsed += after;
                match plan.advance(error.kind) {
                    Some(next) => visited.push(next.to_owned()),
                    None => break,
                }
            }
            Next::GiveUp(GiveUpReason::AttemptsExhausted) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    // The third failover finds the plan exhausted: a connection failure skips the
    // suffix switches, leaving the primary twice and the neighbouring region.
    assert_eq!(delays, [1, 3, 6]);
    assert_eq!(
        visited,
        [
            "https://api-us-east-1.agora.io",
            "https://api-us-east-1.agora.io",
            "https://api-us-west-1.agora.io",
        ]
    );
}

#[test]
fn a_task_404_is_recovering_for_90_seconds_then_gone() {
    // A query every 10 s of simulated time; the task answers until t = 100 s,
    // then answers 404 (it is failing over, or it ended).
    let policy = RetryPolicy::default();
    let mut window = RecoveryWindow::new(Timestamp::ZERO);
    let mut verdicts = Vec::new();
    for second in (0..=300).step_by(10) {
        let now = Timestamp::from_origin(secs(second));
        if second <= 100 {
            window.record_good_answer(now);
            continue;
        }
        let missing = failure(
            Endpoint::Query,
            404,
            r#"{"code":404,"reason":"failed to find worker"}"#,
        );
        assert_eq!(
            policy.decide(&missing, 1, Duration::ZERO, 0.0),
            Next::CheckRecovery
        );
        verdicts.push((second, window.judge(now)));
    }
    let first_gone = verdicts
        .iter()
        .find(|(_, v)| *v == Verdict::Gone)
        .unwrap()
        .0;
    assert_eq!(first_gone, 190);
    assert!(
        verdicts
            .iter()
            .filter(|(s, _)| *s < 190)
            .all(|(_, v)| matches!(v, Verdict::Recovering { .. }))
    );
}

#[test]
fn custom_schedules_are_used() {
    let backoff = Backoff::new(vec![secs(1)], secs(4))
        .unwrap()
        .with_spread(0)
        .unwrap();
    let policy = RetryPolicy::default()
        .with_server_error_backoff(backoff)
        .with_max_attempts(6)
        .unwrap();
    let failed = failure(Endpoint::Query, 500, "");
    let delays: Vec<Next> = (1..6)
        .map(|a| policy.decide(&failed, a, Duration::ZERO, 1.0))
        .collect();
    assert_eq!(
        delays,
        [1, 2, 4, 4, 4].map(|s| Next::Retry { after: secs(s) })
    );
    assert!(RetryPolicy::default().with_max_attempts(0).is_err());
    assert!(
        RetryPolicy::default()
            .with_deadline(Duration::ZERO)
            .is_err()
    );
}
