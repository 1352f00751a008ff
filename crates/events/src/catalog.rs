//! One example event of every type this crate publishes, for documentation, for
//! consumers' tests and for this crate's own tests.

use std::sync::Arc;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cloudrec_core::{Event, EventKind, FailureReport, Resolution, SessionState, Subject};
use cloudrec_types::{AppId, Cname, Endpoint, Mode, ResourceId, Sid, Uid};

/// Every session state, in the order a session goes through them.
pub const STATES: [SessionState; 10] = [
    SessionState::Acquired,
    SessionState::Starting,
    SessionState::WaitingUntilRunning,
    SessionState::Running,
    SessionState::Recovering,
    SessionState::Stopping,
    SessionState::Stopped,
    SessionState::StoppedNoData,
    SessionState::Failed,
    SessionState::Lost,
];

/// A subject with every identity field set (example values, no secret).
pub fn subject() -> Subject {
    Subject {
        app_id: AppId::new("0123456789abcdef0123456789abcdef")
            .expect("a non-empty literal is a valid app id"),
        cname: Cname::new("class-42").ok(),
        uid: Uid::new(527_841).ok(),
        mode: Some(Mode::Mix),
        resource_id: ResourceId::new(
            "JyvK8nXHuV1BE64GDkAaBGEscvtHW7v8BrQoRPCHxmeVxwY22-x-kv4GdPcjZeMzoCBUCOr9q",
        )
        .ok(),
        sid: Sid::new("38f8e3cfdc474cd56fc1ceba380d7e1a").ok(),
    }
}

fn at(offset_ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_764_230_400_000 + offset_ms)
}

/// One event of every kind: `call.attempt`, `call.retry`, `call.failover`, one
/// `error.<resolution>` per resolution, one `session.<state>` per state,
/// `session.status`, `journal.failed` and one `ncs.<msgName>` (a notification
/// that cloudrec serve received).
pub fn every_kind() -> Vec<Event> {
    let mut kinds = vec![
        EventKind::CallAttempt {
            endpoint: Endpoint::Start,
            attempt: 1,
            host: "https://api.sd-rtn.com".to_owned(),
        },
        EventKind::CallRetry {
            endpoint: Endpoint::Query,
            attempt: 2,
            delay: Duration::from_millis(3000),
            resolution: Resolution::RetryBackoff,
        },
        EventKind::CallFailover {
            endpoint: Endpoint::Query,
            from: "https://api.sd-rtn.com".to_owned(),
            to: "https://api.agora.io".to_owned(),
        },
    ];
    kinds.extend(Resolution::ALL.into_iter().map(|resolution| {
        EventKind::CallFailed(FailureReport {
            endpoint: Endpoint::Start,
            http_status: Some(400),
            code: Some(2),
            text: Some("invalid parameter".to_owned()),
            transport: None,
            resolution,
            request_id: Some("f1b2c3".to_owned()),
        })
    }));
    let mut previous = None;
    kinds.extend(STATES.into_iter().map(|to| {
        let from = previous.replace(to);
        EventKind::StateChanged {
            from,
            to,
            reason: to.is_terminal().then(|| "example".to_owned()),
        }
    }));
    kinds.push(EventKind::StatusPolled {
        status: 5,
        files: 2,
    });
    kinds.push(EventKind::JournalFailed {
        entry: "live",
        start_withheld: false,
        error: "journal append failed on /var/lib/app/cloudrec.jsonl: No space left on device (os error 28)".to_owned(),
    });
    kinds.push(EventKind::Notice {
        notice_id: "4eb720f0-8da7-11ed-b9d8-5f2e2b7c6d8a".to_owned(),
        event_type: 41,
        msg_name: "recorder_leave".to_owned(),
        sequence: Some(7),
        details: serde_json::json!({"leaveCode": 4}),
    });
    kinds
        .into_iter()
        .zip(0u64..)
        .map(|(kind, n)| Event {
            time: at(n * 10),
            subject: Arc::new(subject()),
            kind,
        })
        .collect()
}
