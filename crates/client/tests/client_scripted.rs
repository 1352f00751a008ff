//! The client's retry, failover, rate and outcome behaviour against a scripted
//! transport in simulated time (the `test-util` simulator). The same behaviour over real HTTP is tested against
//! the emulator in the CLI's and hyper crate's tests.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cloudrec_client::testing::{EventLog, Sim, SimClock};
use cloudrec_client::{CallError, Client, StartOutcome, StopOutcome, Transport};
use cloudrec_core::{
    Delivery, HttpRequest, HttpResponse, Resolution, TaskRef, TransportError, TransportErrorKind,
};
use cloudrec_types::{
    AcquireRequest, AppId, Cname, Endpoint, Mode, QueryResponse, ResourceId, Sid,
    StartClientRequest, StartRequest, StopRequest, StorageConfig, StorageVendor, Uid,
};

type Answer = Result<HttpResponse, TransportError>;

/// Answers requests from a script, and records them with the time they were sent.
#[derive(Clone)]
struct Script {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    sent: Arc<Mutex<Vec<(Duration, HttpRequest)>>>,
    clock: SimClock,
}

impl Script {
    fn new(clock: &SimClock, answers: Vec<Answer>) -> Self {
        Self {
            answers: Arc::new(Mutex::new(answers.into())),
            sent: Arc::default(),
            clock: clock.clone(),
        }
    }
    fn sent(&self) -> Vec<(Duration, HttpRequest)> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl Transport for Script {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.sent
            .lock()
            .unwrap()
            .push((self.clock.elapsed(), request.clone()));
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .expect("the script ran out of answers")
    }
}

fn answer(status: u16, body: &str) -> Answer {
    Ok(HttpResponse {
        status,
        retry_after: None,
        request_id: Some("req-1".into()),
        body: cloudrec_types::Bytes::copy_from_slice(body.as_bytes()),
    })
}

fn transport_error(kind: TransportErrorKind, delivery: Delivery) -> Answer {
    Err(TransportError::new(
        kind,
        delivery,
        "http://127.0.0.1:9",
        "scripted",
    ))
}

const ACQUIRED: &str = r#"{"cname":"room","uid":"527841","resourceId":"rid-1"}"#;

/// Runs `test` to completion in simulated time.
fn simulate<F, Fut>(test: F)
where
    F: FnOnce(SimClock) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let sim = Sim::new();
    sim.run(test(sim.clock())).expect("the test can finish");
}

type TestClient = Client<Script, SimClock, EventLog>;

fn client(clock: &SimClock, answers: Vec<Answer>) -> (TestClient, Script, EventLog) {
    let script = Script::new(clock, answers);
    let events = EventLog::default();
    let client = Client::builder(AppId::new("app").unwrap(), script.clone(), clock.clone())
        .events(events.clone())
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    (client, script, events)
}

fn acquire_request() -> AcquireRequest {
    AcquireRequest::new(Cname::new("room").unwrap(), Uid::new(527_841).unwrap())
}

fn start_request() -> StartRequest {
    let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "bucket", "ak", "sk");
    StartRequest::new(
        Cname::new("room").unwrap(),
        Uid::new(527_841).unwrap(),
        StartClientRequest::mix(storage),
    )
}

fn task() -> TaskRef {
    TaskRef {
        resource_id: ResourceId::new("rid-1").unwrap(),
        sid: Sid::new("sid-1").unwrap(),
        mode: Mode::Mix,
        cname: Cname::new("room").unwrap(),
        uid: Uid::new(527_841).unwrap(),
    }
}

#[test]
fn acquire_succeeds_on_the_first_answer_and_reports_the_attempt() {
    simulate(|clock| async move {
        let (client, script, events) = client(&clock, vec![answer(200, ACQUIRED)]);
        let response = client
            .acquire(&Mode::Mix, &acquire_request())
            .await
            .unwrap();
        assert_eq!(response.resource_id.as_str(), "rid-1");
        let sent = script.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].1.path, "/v1/apps/app/cloud_recording/acquire");
        assert_eq!(sent[0].1.base_url, "http://127.0.0.1:9");
        let body: serde_json::Value =
            serde_json::from_slice(sent[0].1.body.as_ref().unwrap()).unwrap();
        assert_eq!(body["uid"], "527841");
        assert_eq!(events.types(), ["call.attempt"]);
    });
}

#[test]
fn server_errors_are_retried_with_the_documented_back_off() {
    simulate(|clock| async move {
        let (client, script, events) = client(
            &clock,
            vec![
                answer(500, r#"{"code":500,"reason":"internal_error"}"#),
                answer(
                    500,
                    r#"{"code":501,"reason":"no_worker_manager_available"}"#,
                ),
                answer(200, ACQUIRED),
            ],
        );
        client
            .acquire(&Mode::Mix, &acquire_request())
            .await
            .unwrap();
        let times: Vec<Duration> = script.sent().iter().map(|(at, _)| *at).collect();
        assert_eq!(times.len(), 3);
        let first_wait = times[1] - times[0];
        let second_wait = times[2] - times[1];
        assert!(
            (Duration::from_secs(2)..=Duration::from_secs(4)).contains(&first_wait),
            "{first_wait:?}"
        );
        assert!(
            second_wait > first_wait,
            "{first_wait:?} then {second_wait:?}"
        );
        assert_eq!(
            events.types(),
            [
                "call.attempt",
                "error.retry_backoff",
                "call.retry",
                "call.attempt",
                "error.retry_backoff",
                "call.retry",
                "call.attempt"
            ]
        );
    });
}

/// The delays before the retries of an acquire that meets three 500s, by a
/// client with the default jitter seed or with `seed`.
async fn retry_delays(clock: &SimClock, seed: Option<u64>) -> Vec<Duration> {
    let failed = || answer(500, r#"{"code":500,"reason":"internal_error"}"#);
    let script = Script::new(
        clock,
        vec![failed(), failed(), failed(), answer(200, ACQUIRED)],
    );
    let events = EventLog::default();
    let builder = Client::builder(AppId::new("app").unwrap(), script, clock.clone())
        .events(events.clone())
        .base_url("http://127.0.0.1:9");
    let builder = match seed {
        Some(seed) => builder.jitter_seed(seed),
        None => builder,
    };
    let client = builder.build().unwrap();
    client
        .acquire(&Mode::Mix, &acquire_request())
        .await
        .unwrap();
    events
        .events()
        .into_iter()
        .filter_map(|event| match event.kind {
            cloudrec_core::EventKind::CallRetry { delay, .. } => Some(delay),
            _ => None,
        })
        .collect()
}

#[test]
fn clients_built_by_default_draw_different_jitter() {
    simulate(|clock| async move {
        let first = retry_delays(&clock, None).await;
        let second = retry_delays(&clock, None).await;
        assert_eq!(first.len(), 3);
        assert_ne!(first, second, "two clients back off in lockstep");
        // A fixed seed repeats them.
        let fixed = retry_delays(&clock, Some(7)).await;
        assert_eq!(fixed, retry_delays(&clock, Some(7)).await);
    });
}

#[test]
fn a_request_error_is_not_retried() {
    simulate(|clock| async move {
        let (client, script, _) = client(
            &clock,
            vec![answer(
                400,
                r#"{"code":2,"reason":"Acquire: invalid resourceExpiredHour value!"}"#,
            )],
        );
        let error = client
            .acquire(&Mode::Mix, &acquire_request())
            .await
            .unwrap_err();
        assert_eq!(error.resolution(), Resolution::FixRequest);
        assert!(matches!(error, CallError::Failed { attempts: 1, .. }));
        assert!(error.to_string().contains("resourceExpiredHour"), "{error}");
        assert_eq!(script.sent().len(), 1);
    });
}

#[test]
fn an_invalid_request_is_never_sent() {
    simulate(|clock| async move {
        let (client, script, _) = client(&clock, vec![]);
        let mut request = start_request();
        request.client_request.recording_config = None;
        let error = client
            .start(&ResourceId::new("rid-1").unwrap(), &Mode::Mix, &request)
            .await
            .unwrap_err();
        assert!(matches!(error, CallError::Invalid(_)), "{error}");
        assert!(error.to_string().contains("recordingConfig"), "{error}");
        assert!(script.sent().is_empty());
    });
}

#[test]
fn a_duplicate_start_keeps_the_running_sid() {
    simulate(|clock| async move {
        let (client, _, _) = client(
            &clock,
            vec![answer(
                201,
                r#"{"cname":"room","uid":"527841","resourceId":"rid-1","sid":"sid-9","code":7,"reason":"already started"}"#,
            )],
        );
        let outcome = client
            .start(
                &ResourceId::new("rid-1").unwrap(),
                &Mode::Mix,
                &start_request(),
            )
            .await
            .unwrap();
        assert_eq!(
            outcome,
            StartOutcome::AlreadyStarted {
                task: Some(TaskRef {
                    resource_id: ResourceId::new("rid-1").unwrap(),
                    sid: Sid::new("sid-9").unwrap(),
                    mode: Mode::Mix,
                    cname: start_request().cname,
                    uid: start_request().uid,
                })
            }
        );
    });
}

#[test]
fn a_start_that_may_have_reached_the_server_is_ambiguous_not_resent() {
    simulate(|clock| async move {
        let (client, script, _) = client(
            &clock,
            vec![transport_error(
                TransportErrorKind::Timeout,
                Delivery::MaybeSent,
            )],
        );
        let error = client
            .start(
                &ResourceId::new("rid-1").unwrap(),
                &Mode::Mix,
                &start_request(),
            )
            .await
            .unwrap_err();
        assert!(error.is_ambiguous(), "{error}");
        assert_eq!(script.sent().len(), 1);
    });
}

#[test]
fn a_query_that_was_never_sent_is_retried() {
    simulate(|clock| async move {
        let (client, script, _) = client(
            &clock,
            vec![
                transport_error(TransportErrorKind::Connect, Delivery::NotSent),
                answer(
                    200,
                    r#"{"resourceId":"rid-1","sid":"sid-1","serverResponse":{"status":5}}"#,
                ),
            ],
        );
        let response: QueryResponse = client.query(&task()).await.unwrap();
        assert!(response.is_running());
        let sent = script.sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].1.endpoint, Endpoint::Query);
        assert!(sent[0].1.body.is_none());
        assert_eq!(
            sent[0].1.path,
            "/v1/apps/app/cloud_recording/resourceid/rid-1/sid/sid-1/mode/mix/query"
        );
    });
}

#[test]
fn every_documented_stop_ending_is_an_outcome() {
    simulate(|clock| async move {
        let cases = [
            (
                206,
                r#"{"code":435,"reason":"no recorded data"}"#,
                StopOutcome::NoRecordedData,
            ),
            (
                400,
                r#"{"code":49,"reason":"invalid operation"}"#,
                StopOutcome::AlreadyExiting,
            ),
            (
                404,
                r#"{"code":404,"reason":"failed to find worker"}"#,
                StopOutcome::Gone,
            ),
        ];
        for (status, body, expected) in cases {
            let (client, _, _) = client(&clock, vec![answer(status, body)]);
            let outcome = client
                .stop(
                    &task(),
                    &StopRequest::new(Cname::new("room").unwrap(), Uid::new(527_841).unwrap()),
                )
                .await
                .unwrap();
            assert_eq!(outcome, expected, "{status} {body}");
        }
    });
}

#[test]
fn a_stop_with_files_lists_them() {
    simulate(|clock| async move {
        let body = r#"{"resourceId":"rid-1","sid":"sid-1","serverResponse":{"fileListMode":"string","fileList":"sid-1_room.m3u8","uploadingStatus":"uploaded"}}"#;
        let (client, _, _) = client(&clock, vec![answer(200, body)]);
        let outcome = client
            .stop(
                &task(),
                &StopRequest::new(Cname::new("room").unwrap(), Uid::new(527_841).unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(outcome.file_names(), ["sid-1_room.m3u8"]);
        assert!(outcome.uploading_status().is_some());
    });
}

#[test]
fn retry_after_is_obeyed() {
    simulate(|clock| async move {
        let mut limited = answer(429, r#"{"message":"API rate limit exceeded"}"#).unwrap();
        limited.retry_after = Some("7".into());
        let (client, script, _) = client(&clock, vec![Ok(limited), answer(200, ACQUIRED)]);
        client
            .acquire(&Mode::Mix, &acquire_request())
            .await
            .unwrap();
        let sent = script.sent();
        assert_eq!(sent.len(), 2);
        assert!(sent[1].0 - sent[0].0 >= Duration::from_secs(7));
    });
}

#[test]
fn the_rate_limit_spaces_calls_of_one_client() {
    simulate(|clock| async move {
        let answers = (0..21).map(|_| answer(200, ACQUIRED)).collect();
        let (client, script, _) = client(&clock, answers);
        for _ in 0..21 {
            client
                .acquire(&Mode::Mix, &acquire_request())
                .await
                .unwrap();
        }
        let sent = script.sent();
        let span = sent.last().unwrap().0 - sent[0].0;
        assert!(span >= Duration::from_secs(2), "21 calls within {span:?}");
        for window in sent.windows(11) {
            assert!(
                window[10].0 - window[0].0 >= Duration::from_secs(1),
                "11 calls within one second"
            );
        }
    });
}

#[test]
fn failover_moves_to_the_next_host_after_a_network_failure() {
    simulate(|clock| async move {
        let script = Script::new(
            &clock,
            vec![
                transport_error(TransportErrorKind::Connect, Delivery::NotSent),
                transport_error(TransportErrorKind::Connect, Delivery::NotSent),
                answer(200, ACQUIRED),
            ],
        );
        let events = EventLog::default();
        let plan = cloudrec_core::FailoverPlan::new(cloudrec_core::Host::regional(
            cloudrec_core::Region::parse("eu-central-1").unwrap(),
            cloudrec_core::Suffix::AgoraIo,
        ));
        let client = Client::builder(AppId::new("app").unwrap(), script.clone(), clock)
            .events(events.clone())
            .failover_plan(plan)
            .build()
            .unwrap();
        client
            .acquire(&Mode::Mix, &acquire_request())
            .await
            .unwrap();
        let hosts: Vec<String> = script.sent().into_iter().map(|(_, r)| r.base_url).collect();
        assert_eq!(hosts[0], "https://api-eu-central-1.agora.io");
        assert_eq!(hosts[1], "https://api-eu-central-1.agora.io");
        assert_eq!(hosts[2], "https://api-eu-west-1.agora.io", "{hosts:?}");
        assert!(events.types().contains(&"call.failover".to_owned()));
    });
}

/// A sink that takes no events, and counts any it is handed anyway.
#[derive(Clone, Default)]
struct Disabled(Arc<Mutex<usize>>);

impl cloudrec_core::EventSink for Disabled {
    fn emit(&self, _event: cloudrec_core::Event) {
        *self.0.lock().unwrap() += 1;
    }

    fn enabled(&self) -> bool {
        false
    }
}

#[test]
fn a_disabled_sink_is_handed_no_events_and_calls_behave_the_same() {
    simulate(|clock| async move {
        let script = Script::new(
            &clock,
            vec![
                answer(500, r#"{"code":500,"reason":"internal_error"}"#),
                answer(200, ACQUIRED),
            ],
        );
        let sink = Disabled::default();
        let client = Client::builder(AppId::new("app").unwrap(), script.clone(), clock.clone())
            .events(sink.clone())
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        let response = client
            .acquire(&Mode::Mix, &acquire_request())
            .await
            .unwrap();
        assert_eq!(response.resource_id.as_str(), "rid-1");
        assert_eq!(script.sent().len(), 2);
        assert_eq!(*sink.0.lock().unwrap(), 0);
    });
}

#[test]
fn a_call_no_host_answered_names_every_host_it_tried() {
    simulate(|clock| async move {
        let refused = || transport_error(TransportErrorKind::Connect, Delivery::NotSent);
        let plan = cloudrec_core::FailoverPlan::from_urls(["http://a.invalid", "http://b.invalid"])
            .unwrap();
        let build = |answers| {
            Client::builder(
                AppId::new("app").unwrap(),
                Script::new(&clock, answers),
                clock.clone(),
            )
            .failover_plan(plan.clone())
            .build()
            .unwrap()
        };
        let error = build(vec![refused(), refused(), refused(), refused()])
            .acquire(&Mode::Mix, &acquire_request())
            .await
            .unwrap_err();
        let failure = error.failure().unwrap();
        assert_eq!(
            failure.unanswered_hosts(),
            ["http://a.invalid", "http://b.invalid"]
        );
        assert!(
            failure.to_string().contains("no answer from any host"),
            "{failure}"
        );
        // One answer, even an error, means a host answered.
        let answered = answer(503, r#"{"code":500,"reason":"internal_error"}"#);
        let error = build(vec![answered, refused(), refused(), refused()])
            .acquire(&Mode::Mix, &acquire_request())
            .await
            .unwrap_err();
        assert!(
            error.failure().unwrap().unanswered_hosts().is_empty(),
            "{error}"
        );
    });
}
