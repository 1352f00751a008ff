//! The NCS notices the emulator POSTs about its tasks, received over real
//! loopback HTTP: event order per sid, signatures, sequences, counters, and the
//! notice faults.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use cloudrec_emulator::{Emulator, EmulatorConfig, FaultAction, FaultRule, NcsStats, TaskSelector};
use cloudrec_types::Secret;
use cloudrec_types::ncs::{Notification, ServiceType, SignatureHeader, VerifyError, verify};
use common::{Client, Task, fast, fixture_request, minimal_start};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

const NCS_SECRET: &str = "ncs-test-secret";

/// One POST the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, Vec<u8>)>,
    content_type: Option<String>,
    body: Bytes,
}

impl Received {
    fn verify(&self) -> Result<SignatureHeader, VerifyError> {
        let headers = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_bytes(), value.as_slice()));
        verify(headers, &self.body, &Secret::new(NCS_SECRET))
    }

    fn notice(&self) -> Notification {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn event_type(&self) -> i64 {
        self.notice().event_type().code()
    }
}

/// A tiny NCS receiver: records every POST and answers `status` (200 at first).
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let receiver = Self { addr, got, status };
        let serving = receiver.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let serving = serving.clone();
                tokio::spawn(async move {
                    let handler =
                        service_fn(move |request: http::Request<hyper::body::Incoming>| {
                            let serving = serving.clone();
                            async move {
                                let (parts, body) = request.into_parts();
                                let body = body.collect().await.unwrap().to_bytes();
                                let headers = parts
                                    .headers
                                    .iter()
                                    .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                                    .collect();
                                let content_type = parts
                                    .headers
                                    .get("content-type")
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_owned);
                                serving.got.lock().unwrap().push(Received {
                                    headers,
                                    content_type,
                                    body,
                                });
                                let status = serving.status.load(Ordering::SeqCst);
                                let mut response = http::Response::new(Full::new(Bytes::new()));
                                *response.status_mut() =
                                    http::StatusCode::from_u16(status).unwrap();
                                Ok::<_, std::convert::Infallible>(response)
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), handler)
                        .await;
                });
            }
        });
        receiver
    }

    fn url(&self) -> String {
        format!("http://{}/ncs", self.addr)
    }

    fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// The notices about `sid`, in arrival order.
    fn for_sid(&self, sid: &str) -> Vec<Received> {
        self.all()
            .into_iter()
            .filter(|r| r.notice().sid() == Some(sid))
            .collect()
    }

    fn types_for(&self, sid: &str) -> Vec<i64> {
        self.for_sid(sid).iter().map(Received::event_type).collect()
    }

    /// Waits (polling, up to a generous bound) until `sid` got `event_type`.
    async fn wait_for(&self, sid: &str, event_type: i64) -> Vec<Received> {
        for _ in 0..2000 {
            let got = self.for_sid(sid);
            if got.iter().any(|r| r.event_type() == event_type) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "no eventType {event_type} for {sid}; got {:?}",
            self.types_for(sid)
        );
    }
}

fn config(receiver: &Receiver) -> EmulatorConfig {
    EmulatorConfig {
        ncs_url: Some(receiver.url()),
        ncs_secret: Some(Secret::new(NCS_SECRET)),
        ..fast()
    }
}

/// Waits until nothing is pending; returns the counters.
async fn settled(emulator: &Emulator) -> NcsStats {
    for _ in 0..2000 {
        let stats = emulator.ncs_stats();
        if stats.pending == 0 {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("NCS notices still pending: {:?}", emulator.ncs_stats());
}

fn position(types: &[i64], event_type: i64) -> usize {
    types
        .iter()
        .position(|t| *t == event_type)
        .unwrap_or_else(|| panic!("no {event_type} in {types:?}"))
}

/// Checks what every notice of a sid must hold: signed, JSON, ids, sequence from
/// 0 without gaps, unique noticeIds, the documented serviceType, emulator times.
fn check_well_formed(got: &[Received], task: &Task) {
    let mut ids = std::collections::BTreeSet::new();
    for (index, received) in got.iter().enumerate() {
        assert_eq!(received.verify(), Ok(SignatureHeader::V2), "{received:?}");
        assert_eq!(received.content_type.as_deref(), Some("application/json"));
        let raw: Value = serde_json::from_slice(&received.body).unwrap();
        assert!(
            raw["notifyMs"].as_i64().unwrap() > 1_600_000_000_000,
            "{raw}"
        );
        let notice = received.notice();
        assert!(
            ids.insert(notice.notice_id.clone()),
            "repeated {}",
            notice.notice_id
        );
        assert_eq!(notice.product_id, Some(3));
        let payload = &notice.payload;
        assert_eq!(payload.sid.as_deref(), Some(task.sid.as_str()));
        assert_eq!(payload.cname.as_deref(), Some(task.cname.as_str()));
        assert_eq!(payload.uid.as_deref(), Some(task.uid.as_str()));
        assert_eq!(
            payload.sequence,
            Some(i64::try_from(index).unwrap()),
            "{raw}"
        );
        assert!(payload.sendts.unwrap() > 1_600_000_000_000, "{raw}");
        let expected = match notice.event_type().code() {
            40..=45 => ServiceType::Recorder,
            30..=33 => ServiceType::Uploader,
            70..=73 | 100 => ServiceType::WebRecorder,
            _ => ServiceType::CloudRecording,
        };
        assert_eq!(payload.service_type, Some(expected), "{raw}");
        assert_eq!(
            notice.payload.details.msg_name(),
            notice.event_type().msg_name(),
            "{raw}"
        );
    }
}

#[tokio::test]
async fn a_mix_task_notifies_its_lifecycle_in_order() {
    let receiver = Receiver::start().await;
    let emulator = common::start(config(&receiver));
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "room", "7", &minimal_start("mix"))
        .await;
    client
        .query_until(&task, 2000, |a| a.body["serverResponse"]["status"] == 5)
        .await;
    assert_eq!(client.stop(&task, false).await.status, 200);
    let got = receiver.wait_for(&task.sid, 11).await;
    let types: Vec<i64> = got.iter().map(Received::event_type).collect();
    check_well_formed(&got, &task);

    assert_eq!(types[..2], [40, 3], "{types:?}");
    let statuses: Vec<i64> = got
        .iter()
        .filter(|r| r.event_type() == 3)
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["payload"]["details"]["status"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(statuses.first(), Some(&0), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&5), "{statuses:?}");
    assert!(statuses.windows(2).all(|w| w[0] < w[1]), "{statuses:?}");
    assert!(position(&types, 40) < position(&types, 42));
    assert!(position(&types, 42) < position(&types, 4));
    assert!(position(&types, 4) < position(&types, 31));
    assert_eq!(types[types.len() - 2..], [31, 11], "{types:?}");
    assert_eq!(types.iter().filter(|t| **t == 4).count(), 1, "{types:?}");
    let uploaded: Value = serde_json::from_slice(&got[types.len() - 2].body).unwrap();
    assert!(
        uploaded["payload"]["details"]["fileList"]
            .to_string()
            .contains(".m3u8"),
        "{uploaded}"
    );

    let stats = settled(&emulator).await;
    let all = receiver.all().len() as u64;
    assert_eq!(
        (stats.sent, stats.failed, stats.notices),
        (all, 0, all),
        "{stats:?}"
    );
    assert!(stats.enabled);
    // The admin API reports the same counters.
    let admin = client.send("GET", "/_emulator/ncs", None).await;
    assert_eq!(admin.status, 200);
    assert_eq!(admin.body["sent"], all);
    assert_eq!(admin.body["failed"], 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn idle_exit_notifies_the_leave_and_the_exit() {
    let receiver = Receiver::start().await;
    let emulator = common::start(EmulatorConfig {
        default_channel_users: 0,
        ..config(&receiver)
    });
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "quiet", "8", &minimal_start("mix"))
        .await;
    // Nobody publishes: maxIdleTime 30 s of emulator time passes in 30 ms.
    let got = receiver.wait_for(&task.sid, 11).await;
    check_well_formed(&got, &task);
    let types: Vec<i64> = got.iter().map(Received::event_type).collect();
    assert_eq!(types[0], 40, "{types:?}");
    assert_eq!(types[types.len() - 2..], [41, 11], "{types:?}");
    assert!(!types.contains(&42) && !types.contains(&31), "{types:?}");
    let leave = got[types.len() - 2].notice();
    assert!(matches!(
        leave.event(),
        cloudrec_types::ncs::Event::RecorderLeave(l) if l.leave_code.is_some_and(|c| c.idle())
    ));
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_web_task_with_rtmp_notifies_the_web_recorder_and_rtmp_events() {
    let receiver = Receiver::start().await;
    let emulator = common::start(config(&receiver));
    let client = Client::new(&emulator);
    let request = fixture_request("start.web-rtmp.request.json");
    let task = client.session("web", "web1", "3", &request).await;
    receiver.wait_for(&task.sid, 100).await;
    client
        .query_until(&task, 2000, |a| a.body["serverResponse"]["status"] == 5)
        .await;
    assert_eq!(client.stop(&task, true).await.status, 200);
    let got = receiver.wait_for(&task.sid, 11).await;
    check_well_formed(&got, &task);
    let types: Vec<i64> = got.iter().map(Received::event_type).collect();
    assert_eq!(types[0], 70, "{types:?}");
    assert!(!types.contains(&40) && !types.contains(&42), "{types:?}");
    let rtmp: Vec<String> = got
        .iter()
        .filter(|r| r.event_type() == 100)
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["payload"]["details"]["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        rtmp,
        ["connecting", "publishing", "disconnected"],
        "{types:?}"
    );
    assert!(position(&types, 71) < position(&types, 31), "{types:?}");
    assert_eq!(types[types.len() - 2..], [31, 11], "{types:?}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_recovery_window_notifies_a_failover() {
    let receiver = Receiver::start().await;
    let emulator = common::start(config(&receiver));
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "room", "9", &minimal_start("mix"))
        .await;
    let picked = emulator.start_recovery_window(
        TaskSelector::Sid(task.sid.clone()),
        Duration::from_secs(3600),
    );
    assert_eq!(picked.as_slice(), std::slice::from_ref(&task.sid));
    let got = receiver.wait_for(&task.sid, 12).await;
    let failover = got.iter().find(|r| r.event_type() == 12).unwrap();
    let failover: Value = serde_json::from_slice(&failover.body).unwrap();
    assert!(
        failover["payload"]["details"]["newUid"].as_u64().is_some(),
        "{failover}"
    );
    assert_eq!(got.iter().filter(|r| r.event_type() == 12).count(), 1);
    check_well_formed(&got, &task);
    emulator.shutdown().await;
}

/// Starts a task under `rules` and returns the receiver, the task and its notices
/// until the first status update with status 2 (or later) arrived.
async fn faulted(rules: Vec<FaultRule>) -> (Emulator, Receiver, Task) {
    let receiver = Receiver::start().await;
    let emulator = common::start(EmulatorConfig {
        faults: rules,
        ..config(&receiver)
    });
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "room", "5", &minimal_start("mix"))
        .await;
    (emulator, receiver, task)
}

#[tokio::test]
async fn a_drop_fault_keeps_the_notice_from_being_sent() {
    let (emulator, receiver, task) =
        faulted(vec![FaultRule::notice(Some(40), FaultAction::Drop)]).await;
    let got = receiver.wait_for(&task.sid, 4).await;
    let types: Vec<i64> = got.iter().map(Received::event_type).collect();
    assert!(!types.contains(&40), "{types:?}");
    // The dropped notice leaves a gap: sequence 0 never arrives.
    assert_eq!(got[0].notice().payload.sequence, Some(1));
    let stats = emulator.ncs_stats();
    assert_eq!(stats.dropped, 1, "{stats:?}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_duplicate_fault_sends_the_same_notice_twice() {
    let (emulator, receiver, task) =
        faulted(vec![FaultRule::notice(Some(40), FaultAction::Duplicate)]).await;
    let got = receiver.wait_for(&task.sid, 4).await;
    let started: Vec<&Received> = got.iter().filter(|r| r.event_type() == 40).collect();
    assert_eq!(started.len(), 2);
    assert_eq!(started[0].body, started[1].body);
    assert_eq!(started[0].notice().notice_id, started[1].notice().notice_id);
    assert!(started.iter().all(|r| r.verify().is_ok()));
    let types: Vec<i64> = got.iter().map(Received::event_type).collect();
    assert_eq!(types[..3], [40, 40, 3], "{types:?}");
    assert_eq!(settled(&emulator).await.duplicated, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_reorder_fault_sends_the_notice_after_the_next() {
    let (emulator, receiver, task) =
        faulted(vec![FaultRule::notice(Some(40), FaultAction::Reorder)]).await;
    let got = receiver.wait_for(&task.sid, 4).await;
    let sequences: Vec<i64> = got
        .iter()
        .map(|r| r.notice().payload.sequence.unwrap())
        .collect();
    assert_eq!(sequences[..3], [1, 0, 2], "{sequences:?}");
    assert_eq!(got[1].event_type(), 40);
    assert_eq!(settled(&emulator).await.reordered, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_delay_fault_lets_later_notices_overtake() {
    let (emulator, receiver, task) = faulted(vec![FaultRule::notice(
        Some(40),
        FaultAction::Delay { ms: 1000 },
    )])
    .await;
    let got = receiver.wait_for(&task.sid, 40).await;
    let types: Vec<i64> = got.iter().map(Received::event_type).collect();
    // The status update made together with it arrives first.
    assert_eq!(types[0], 3, "{types:?}");
    assert!(position(&types, 40) > 0);
    assert_eq!(emulator.ncs_stats().delayed, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_bad_signature_fault_signs_one_notice_wrongly() {
    let (emulator, receiver, task) = faulted(vec![
        FaultRule::notice(Some(3), FaultAction::BadSignature)
            .nth(2)
            .times(1),
    ])
    .await;
    let got = receiver.wait_for(&task.sid, 4).await;
    let refused: Vec<(i64, Result<SignatureHeader, VerifyError>)> = got
        .iter()
        .map(|r| (r.event_type(), r.verify()))
        .filter(|(_, verdict)| verdict.is_err())
        .collect();
    assert_eq!(
        refused,
        [(3, Err(VerifyError::Mismatch(SignatureHeader::V2)))],
        "{:?}",
        receiver.types_for(&task.sid)
    );
    // The second status update is the wrong one; the first verifies.
    let statuses: Vec<&Received> = got.iter().filter(|r| r.event_type() == 3).collect();
    assert!(statuses[0].verify().is_ok());
    assert!(statuses[1].verify().is_err());
    assert_eq!(emulator.ncs_stats().bad_signatures, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_failing_receiver_is_retried_and_counted() {
    let receiver = Receiver::start().await;
    receiver.status.store(500, Ordering::SeqCst);
    let emulator = common::start(config(&receiver));
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "room", "6", &minimal_start("mix"))
        .await;
    let stats = settled(&emulator).await;
    assert!(stats.failed >= 2, "{stats:?}");
    assert_eq!(stats.sent, 0, "{stats:?}");
    assert_eq!(stats.attempts, 3 * stats.failed, "{stats:?}");
    assert_eq!(stats.failed, stats.notices, "{stats:?}");
    let why = stats.last_error.unwrap();
    assert!(
        why.contains("HTTP 500") && !why.contains(NCS_SECRET),
        "{why}"
    );
    // Each notice reached the receiver three times, each time with the same body.
    let started: Vec<Received> = receiver
        .for_sid(&task.sid)
        .into_iter()
        .filter(|r| r.event_type() == 40)
        .collect();
    assert_eq!(started.len(), 3);
    emulator.shutdown().await;
}

#[tokio::test]
async fn without_ncs_nothing_is_sent_and_the_counters_say_off() {
    let emulator = common::start(fast());
    let client = Client::new(&emulator);
    client
        .session("mix", "room", "1", &minimal_start("mix"))
        .await;
    let stats = emulator.ncs_stats();
    assert!(!stats.enabled);
    assert_eq!(stats.notices, 0);
    emulator.shutdown().await;
}

#[test]
fn the_ncs_config_reads_from_json_and_hides_the_secret() {
    let config = EmulatorConfig::from_json(
        r#"{"ncs_url": "http://127.0.0.1:9/ncs", "ncs_secret": "json-ncs-SECRET"}"#,
    )
    .unwrap();
    assert_eq!(config.ncs_url.as_deref(), Some("http://127.0.0.1:9/ncs"));
    assert_eq!(
        config.ncs_secret.as_ref().unwrap().expose(),
        "json-ncs-SECRET"
    );
    assert!(!format!("{config:?}").contains("json-ncs-SECRET"));

    for (text, needle) in [
        (r#"{"ncs_url": "https://h/ncs", "ncs_secret": "s"}"#, "TLS"),
        (r#"{"ncs_url": "not a url", "ncs_secret": "s"}"#, "ncs_url"),
        (r#"{"ncs_url": "http://h/ncs"}"#, "ncs_secret"),
        (r#"{"ncs_secret": "json-ncs-SECRET"}"#, "ncs_url"),
        (r#"{"ncs_url": "http://h/ncs", "ncs_secret": ""}"#, "empty"),
    ] {
        let error = EmulatorConfig::from_json(text).unwrap_err().to_string();
        assert!(error.contains(needle), "{text}: {error}");
        assert!(!error.contains("json-ncs-SECRET"), "{error}");
    }
}

#[test]
fn notice_rules_read_from_json_and_bad_ones_are_refused() {
    let rules = FaultRule::list_from_json(
        r#"[{"event_type": 40, "times": 1, "action": {"kind": "drop"}},
            {"ncs": true, "action": {"kind": "delay", "ms": 50}},
            {"event_type": 3, "nth": 2, "action": {"kind": "bad_signature"}},
            {"event_type": 4, "action": {"kind": "duplicate"}},
            {"event_type": 42, "action": {"kind": "reorder"}}]"#,
    )
    .unwrap();
    assert_eq!(
        rules[0],
        FaultRule::notice(Some(40), FaultAction::Drop).times(1)
    );
    assert_eq!(
        rules[1],
        FaultRule::notice(None, FaultAction::Delay { ms: 50 })
    );
    assert!(rules.iter().all(FaultRule::is_notice_rule));
    let text = serde_json::to_string(&rules).unwrap();
    assert_eq!(FaultRule::list_from_json(&text).unwrap(), rules);

    for bad in [
        r#"{"action": {"kind": "drop"}}"#,
        r#"{"event_type": 40, "action": {"kind": "hang"}}"#,
        r#"{"event_type": 40, "endpoint": "start", "action": {"kind": "drop"}}"#,
    ] {
        assert!(FaultRule::list_from_json(bad).is_err(), "{bad}");
    }
}
