//! Classification of every documented error body, unknown answers, broken bodies
//! and transport failures.

use std::error::Error;
use std::path::PathBuf;

use cloudrec_core::{
    Delivery, FailureKind, GiveUpReason, HttpResponse, Next, Resolution, RetryPolicy,
    TransportError, TransportErrorKind, classify_failure, classify_transport, decode,
};
use cloudrec_types::{Endpoint, ResponseBody};

/// Any JSON value as a response type, decoded by the default `from_json`.
#[derive(Debug, serde::Deserialize)]
#[serde(transparent)]
struct AnyJson(#[allow(dead_code)] serde_json::Value);

impl ResponseBody for AnyJson {}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../types/tests/fixtures")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(name)).unwrap()
}

fn answer(status: u16, body: impl Into<Vec<u8>>) -> HttpResponse {
    HttpResponse {
        status,
        retry_after: None,
        request_id: None,
        body: body.into().into(),
    }
}

/// `(file, endpoint, status)` for every error fixture, read from the fixture index.
/// Endpoint lists such as `start(500)|query|stop(504)` give the status per endpoint.
fn error_fixtures() -> Vec<(String, Endpoint, u16)> {
    let index = std::fs::read_to_string(fixtures_dir().join("INDEX.tsv")).unwrap();
    let mut out = Vec::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 5 || cols[1] != "error" {
            continue;
        }
        let statuses: Vec<u16> = cols[4].split('|').map(|s| s.parse().unwrap()).collect();
        for alternative in cols[2].split('|') {
            let (name, status) = match alternative.split_once('(') {
                Some((name, status)) => (name, Some(status.trim_end_matches(')').parse().unwrap())),
                None => (alternative, None),
            };
            let endpoints: Vec<Endpoint> = match name {
                "*" => Endpoint::ALL.to_vec(),
                name => vec![name.parse().unwrap()],
            };
            for endpoint in endpoints {
                match status {
                    Some(status) => out.push((cols[0].to_owned(), endpoint, status)),
                    None => {
                        for &status in &statuses {
                            out.push((cols[0].to_owned(), endpoint, status));
                        }
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_error_fixture_keeps_its_code_and_text() {
    let cases = error_fixtures();
    assert!(cases.len() > 40, "{} cases", cases.len());
    for (file, endpoint, status) in cases {
        let body = fixture(&file);
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let failure = classify_failure(endpoint, &answer(status, body.clone()));
        assert_eq!(failure.endpoint(), endpoint, "{file}");
        assert_eq!(failure.http_status(), Some(status), "{file}");
        assert_eq!(failure.code(), json["code"].as_i64(), "{file}");
        let text = json["reason"].as_str().or(json["message"].as_str());
        assert_eq!(failure.text(), text, "{file}");
        let expected_kind = if json.get("code").is_some() {
            FailureKind::Service
        } else {
            FailureKind::Gateway
        };
        assert_eq!(failure.kind(), expected_kind, "{file}");
        // An error body never decodes as a success, whatever type is asked for.
        assert!(decode::<AnyJson>(endpoint, &answer(status, body)).is_err() || status == 200);
    }
}

#[test]
fn gateway_404_is_fix_request_and_never_retried() {
    let policy = RetryPolicy::default();
    for endpoint in Endpoint::ALL {
        let failure = classify_failure(endpoint, &answer(404, fixture("error.no-route.json")));
        assert_eq!(failure.resolution(), Resolution::FixRequest, "{endpoint}");
        assert_eq!(failure.kind(), FailureKind::Gateway);
        assert_eq!(
            policy.decide(&failure, 1, Default::default(), 0.0),
            Next::GiveUp(GiveUpReason::NotRetryable)
        );
    }
}

#[test]
fn task_404_is_treat_as_gone_on_task_endpoints_only() {
    let body = fixture("error.failed-to-find-worker.json");
    let policy = RetryPolicy::default();
    for endpoint in [
        Endpoint::Query,
        Endpoint::Update,
        Endpoint::UpdateLayout,
        Endpoint::Stop,
    ] {
        let failure = classify_failure(endpoint, &answer(404, body.clone()));
        assert_eq!(failure.resolution(), Resolution::TreatAsGone, "{endpoint}");
        assert_eq!(
            policy.decide(&failure, 1, Default::default(), 0.0),
            Next::CheckRecovery
        );
    }
    // acquire and start address no task: a 404 there is a request to fix.
    for endpoint in [Endpoint::Acquire, Endpoint::Start] {
        let failure = classify_failure(endpoint, &answer(404, body.clone()));
        assert_eq!(failure.resolution(), Resolution::FixRequest, "{endpoint}");
    }
}

#[test]
fn start_201_code_7_keeps_sid_and_resource_id() {
    let body = br#"{"cname":"c","uid":"1","resourceId":"res-1","sid":"38f8e3cfdc474cd56fc1ceba380d7e1a","code":7,"reason":"already started"}"#;
    let failure = classify_failure(Endpoint::Start, &answer(201, body.to_vec()));
    assert_eq!(failure.resolution(), Resolution::DoNotRepeat);
    assert_eq!(
        failure.sid().map(|s| s.as_str()),
        Some("38f8e3cfdc474cd56fc1ceba380d7e1a")
    );
    assert_eq!(failure.resource_id().map(|r| r.as_str()), Some("res-1"));
    assert_eq!(
        RetryPolicy::default().decide(&failure, 1, Default::default(), 0.0),
        Next::AlreadyDone
    );
    let plain = classify_failure(
        Endpoint::Start,
        &answer(201, fixture("error.start.already-started.json")),
    );
    assert_eq!(plain.resolution(), Resolution::DoNotRepeat);
    assert_eq!(plain.sid(), None);
}

#[test]
fn stop_435_and_49_are_completed_stops() {
    let policy = RetryPolicy::default();
    let no_data = classify_failure(
        Endpoint::Stop,
        &answer(206, fixture("error.stop.no-recorded-data.json")),
    );
    assert_eq!(no_data.resolution(), Resolution::SuccessNoData);
    assert_eq!(
        policy.decide(&no_data, 1, Default::default(), 0.0),
        Next::AlreadyDone
    );
    for file in [
        "error.stop.invalid-operation.json",
        "error.stop.invalid-operation.observed.json",
    ] {
        let exiting = classify_failure(Endpoint::Stop, &answer(400, fixture(file)));
        assert_eq!(exiting.resolution(), Resolution::AlreadyExiting, "{file}");
        assert_eq!(
            policy.decide(&exiting, 1, Default::default(), 0.0),
            Next::AlreadyDone
        );
    }
    let observed = classify_failure(
        Endpoint::Stop,
        &answer(400, fixture("error.stop.invalid-operation.observed.json")),
    );
    assert_eq!(observed.text(), None);
    assert_eq!(
        observed.sid().map(|s| s.as_str()),
        Some("2354cf898b41b76d70850ba58b9b9ffb")
    );
}

#[test]
fn observed_code_15_keeps_the_resource_id_and_ignores_the_empty_sid() {
    let failure = classify_failure(
        Endpoint::Start,
        &answer(500, fixture("error.start.code15.observed.json")),
    );
    assert_eq!(failure.resolution(), Resolution::RetryThenReacquire);
    assert_eq!(failure.code(), Some(15));
    assert_eq!(failure.sid(), None);
    assert!(failure.resource_id().is_some());
}

#[test]
fn unknown_codes_fall_back_by_status_family_and_keep_code_and_text() {
    let cases = [
        (400, Resolution::FixRequest),
        (403, Resolution::FixCredentials),
        (409, Resolution::FixRequest),
        (206, Resolution::RetryBackoff),
        (500, Resolution::RetryBackoff),
        (503, Resolution::RetryBackoff),
    ];
    for endpoint in Endpoint::ALL {
        for (status, expected) in cases {
            let failure = classify_failure(
                endpoint,
                &answer(
                    status,
                    br#"{"code":987654,"reason":"brand new failure"}"#.to_vec(),
                ),
            );
            assert_eq!(failure.resolution(), expected, "{endpoint} {status}");
            assert_eq!(failure.code(), Some(987_654));
            assert_eq!(failure.text(), Some("brand new failure"));
        }
    }
    let limited = classify_failure(
        Endpoint::Query,
        &answer(429, br#"{"message":"slow down"}"#.to_vec()),
    );
    assert_eq!(limited.resolution(), Resolution::ReduceRate);
    let denied = classify_failure(
        Endpoint::Query,
        &answer(401, br#"{"message":"who are you"}"#.to_vec()),
    );
    assert_eq!(denied.resolution(), Resolution::FixCredentials);
}

#[test]
fn broken_bodies_give_classified_failures() {
    let huge_text = format!(r#"{{"code":62,"reason":"{}"}}"#, "x".repeat(1 << 20));
    let deep = "[".repeat(100_000);
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        (
            "not json",
            b"<html><body>502 Bad Gateway</body></html>".to_vec(),
        ),
        ("truncated", br#"{"code":65,"rea"#.to_vec()),
        ("array", b"[1,2,3]".to_vec()),
        ("code as string", br#"{"code":"65","reason":"x"}"#.to_vec()),
        ("invalid utf-8", vec![0xff, 0xfe, 0x00, 0x7b]),
        ("huge reason", huge_text.into_bytes()),
        ("deep nesting", deep.into_bytes()),
    ];
    for (name, body) in bodies {
        for status in [200, 206, 400, 404, 500, 504] {
            for endpoint in Endpoint::ALL {
                let failure = classify_failure(endpoint, &answer(status, body.clone()));
                assert_eq!(failure.http_status(), Some(status), "{name}");
                assert!(failure.text().is_none_or(|t| t.len() <= 512), "{name}");
                assert!(!failure.to_string().is_empty());
            }
        }
    }
    let huge = classify_failure(
        Endpoint::Query,
        &answer(
            504,
            format!(r#"{{"code":62,"reason":"{}"}}"#, "é".repeat(4096)).into_bytes(),
        ),
    );
    assert_eq!(huge.resolution(), Resolution::RetryBackoff);
    assert!(huge.text().unwrap().len() <= 512);
    let empty = classify_failure(Endpoint::Start, &answer(500, Vec::new()));
    assert_eq!(empty.kind(), FailureKind::UnreadableError);
    assert_eq!(empty.resolution(), Resolution::RetryBackoff);
    assert_eq!(empty.text(), None);
}

#[test]
fn every_prefix_of_every_fixture_is_classified() {
    let mut entries: Vec<_> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries.iter().filter(|entry| entry.path().is_file()) {
        let body = std::fs::read(entry.path()).unwrap();
        for end in 0..body.len() {
            let failure = classify_failure(Endpoint::Stop, &answer(200, body[..end].to_vec()));
            assert_eq!(failure.http_status(), Some(200));
        }
    }
}

#[test]
fn unreadable_success_of_start_or_stop_is_reconciled() {
    let policy = RetryPolicy::default();
    for endpoint in Endpoint::ALL {
        let failure =
            decode::<AnyJson>(endpoint, &answer(200, b"{\"resourceId\":".to_vec())).unwrap_err();
        assert_eq!(failure.kind(), FailureKind::UnreadableSuccess);
        let next = policy.decide(&failure, 1, Default::default(), 0.0);
        match endpoint {
            Endpoint::Start | Endpoint::Stop => assert_eq!(next, Next::Reconcile, "{endpoint}"),
            _ => assert!(matches!(next, Next::Retry { .. }), "{endpoint}: {next:?}"),
        }
    }
}

#[test]
fn transport_failures_know_whether_the_request_may_have_arrived() {
    let kinds = [
        (TransportErrorKind::Dns, Delivery::NotSent),
        (TransportErrorKind::Connect, Delivery::NotSent),
        (TransportErrorKind::Tls, Delivery::NotSent),
        (TransportErrorKind::Timeout, Delivery::NotSent),
        (TransportErrorKind::Timeout, Delivery::MaybeSent),
        (TransportErrorKind::Reset, Delivery::MaybeSent),
        (TransportErrorKind::Protocol, Delivery::MaybeSent),
    ];
    let policy = RetryPolicy::default();
    for endpoint in Endpoint::ALL {
        for (kind, delivery) in kinds {
            let error = TransportError::new(kind, delivery, "https://api.agora.io", "boom");
            let failure = classify_transport(endpoint, &error);
            assert_eq!(
                failure.kind(),
                FailureKind::NoAnswer {
                    transport: kind,
                    delivery
                }
            );
            assert_eq!(failure.delivery(), delivery);
            assert_eq!(failure.http_status(), None);
            assert_eq!(failure.transport(), Some(&error));
            assert!(failure.source().is_some());
            let report = failure.report();
            assert_eq!(report.transport, Some(kind));
            assert_eq!(report.http_status, None);
            let next = policy.decide(&failure, 1, Default::default(), 0.0);
            let ambiguous = delivery == Delivery::MaybeSent
                && matches!(endpoint, Endpoint::Start | Endpoint::Stop);
            if ambiguous {
                assert_eq!(next, Next::Reconcile, "{endpoint} {kind:?}");
            } else {
                assert!(
                    matches!(next, Next::Failover { .. }),
                    "{endpoint} {kind:?}: {next:?}"
                );
            }
        }
    }
}

#[test]
fn display_names_endpoint_status_code_and_advice() {
    let failure = classify_failure(
        Endpoint::Start,
        &HttpResponse {
            status: 500,
            retry_after: Some("3".into()),
            request_id: Some("rq-9".into()),
            body: fixture("error.request-timeout.json").into(),
        },
    );
    let text = failure.to_string();
    assert!(
        text.starts_with("start answered http 500 code 62"),
        "{text}"
    );
    assert!(text.contains("retry_then_reacquire"), "{text}");
    assert!(
        text.contains(Resolution::RetryThenReacquire.advice()),
        "{text}"
    );
    assert_eq!(
        failure.retry_after(),
        Some(std::time::Duration::from_secs(3))
    );
    let report = failure.report();
    assert_eq!(report.request_id.as_deref(), Some("rq-9"));
    assert_eq!(report.code, Some(62));
    assert_eq!(report.resolution, Resolution::RetryThenReacquire);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["resolution"], "retry_then_reacquire");

    let lost = classify_transport(
        Endpoint::Stop,
        &TransportError::new(
            TransportErrorKind::Timeout,
            Delivery::MaybeSent,
            "h",
            "read timed out",
        ),
    );
    assert_eq!(
        lost.to_string(),
        format!(
            "stop got no answer (timeout, may have been received): retry_backoff: {}",
            Resolution::RetryBackoff.advice()
        )
    );
}
