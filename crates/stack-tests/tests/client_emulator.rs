//! The client over real loopback HTTP: `cloudrec-hyper`'s transport against the
//! `cloudrec-emulator` service, for every endpoint and mode, every resolution of
//! the status table injected as a fault, the shared rate limit and secrecy in logs.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudrec_client::TokioClock;
use cloudrec_client::{CallError, Client, StartOutcome, StopOutcome};
use cloudrec_core::{Backoff, Event, EventSink, Resolution, RetryPolicy, TaskRef};
use cloudrec_emulator::{Emulator, EmulatorConfig, FaultRule};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{
    AcquireClientRequest, AcquireRequest, AvFileType, Cname, Endpoint, LayoutConfig, Mode, Secret,
    StartClientRequest, StartRequest, StopClientRequest, StopRequest, StorageConfig, StorageVendor,
    StreamSubscribe, Uid, UpdateClientRequest, UpdateLayoutClientRequest, UpdateLayoutRequest,
    UpdateRequest, VideoUidList,
};

const STORAGE_SECRET_KEY: &str = "storage-secret-key-7f3a";
const CUSTOMER_SECRET: &str = "customer-secret-91bd";

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<Event>>>);

impl EventSink for Collect {
    fn emit(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

type TestClient = Client<HyperTransport, TokioClock, Collect>;

fn config() -> EmulatorConfig {
    EmulatorConfig {
        customer_secret: Secret::new(CUSTOMER_SECRET),
        time_scale: 200.0,
        ..EmulatorConfig::default()
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A retry policy with the documented shape but millisecond delays, so that
/// retried calls finish quickly in real time.
fn quick_retries() -> RetryPolicy {
    let quick = || {
        Backoff::new(
            vec![
                Duration::from_millis(10),
                Duration::from_millis(20),
                Duration::from_millis(30),
            ],
            Duration::from_millis(50),
        )
        .unwrap()
    };
    RetryPolicy::default()
        .with_server_error_backoff(quick())
        .with_failover_backoff(quick())
        .with_rate_limited_backoff(quick())
}

fn transport(config: &EmulatorConfig) -> HyperTransport {
    HyperTransport::builder()
        .credentials(config.customer_id.clone(), config.customer_secret.clone())
        .build()
        .unwrap()
}

fn client(emulator: &Emulator, config: &EmulatorConfig, events: &Collect) -> TestClient {
    Client::builder(config.app_id.clone(), transport(config), TokioClock::new())
        .events(events.clone())
        .base_url(emulator.base_url())
        .retry_policy(quick_retries())
        .build()
        .unwrap()
}

fn storage() -> StorageConfig {
    StorageConfig::new(
        StorageVendor::AmazonS3,
        0,
        "bucket",
        "access-key",
        STORAGE_SECRET_KEY,
    )
}

fn uid(n: u32) -> Uid {
    Uid::new(n).unwrap()
}

fn start_body(mode: &Mode) -> StartClientRequest {
    match mode {
        Mode::Web => StartClientRequest::web("https://example.com/board", storage()),
        Mode::Individual => {
            let mut request =
                StartClientRequest::individual(storage()).with_file_types(vec![AvFileType::Hls]);
            if let Some(config) = request.recording_config.as_mut() {
                config.subscribe_uid_group = Some(0);
            }
            request
        }
        _ => StartClientRequest::mix(storage()),
    }
}

/// Acquires and starts a task on channel `cname` with `uid` in `mode`.
async fn started(client: &TestClient, mode: &Mode, cname: &str, n: u32) -> TaskRef {
    let cname = Cname::new(cname).unwrap();
    let mut acquire = AcquireRequest::new(cname.clone(), uid(n));
    if *mode == Mode::Web {
        acquire = acquire.with_client_request(AcquireClientRequest::web());
    }
    let acquired = client.acquire(mode, &acquire).await.unwrap();
    let start = StartRequest::new(cname.clone(), uid(n), start_body(mode));
    let outcome = client
        .start(&acquired.resource_id, mode, &start)
        .await
        .unwrap();
    let StartOutcome::Started { task } = outcome else {
        panic!("expected a new task, got {outcome:?}");
    };
    assert_eq!(
        task,
        TaskRef {
            resource_id: acquired.resource_id,
            sid: task.sid.clone(),
            mode: mode.clone(),
            cname,
            uid: uid(n),
        },
        "start hands back the task that query and stop take"
    );
    task
}

fn stop_request(task: &TaskRef) -> StopRequest {
    StopRequest::new(task.cname.clone(), task.uid)
}

async fn wait_until_running(client: &TestClient, task: &TaskRef) {
    for _ in 0..200 {
        let answer = client.query(task).await.unwrap();
        if answer.is_running() && !answer.file_names().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the task did not start recording");
}

#[tokio::test]
async fn every_endpoint_in_every_mode() {
    let config = EmulatorConfig {
        rate_limit_per_sec: 0,
        ..config()
    };
    let emulator = Emulator::start(config.clone(), loopback()).unwrap();
    let events = Collect::default();
    let client = client(&emulator, &config, &events);
    for (n, mode) in [Mode::Individual, Mode::Mix, Mode::Web]
        .into_iter()
        .enumerate()
    {
        let n = u32::try_from(n).unwrap() + 1;
        let task = started(&client, &mode, &format!("room-{n}"), n).await;
        wait_until_running(&client, &task).await;
        let update = match mode {
            Mode::Web => UpdateClientRequest::onhold(false),
            _ => UpdateClientRequest::subscribe(StreamSubscribe {
                unknown: Default::default(),
                audio_uid_list: None,
                video_uid_list: Some(VideoUidList {
                    unknown: Default::default(),
                    subscribe_video_uids: Some(vec!["#allstream#".into()]),
                    unsubscribe_video_uids: None,
                }),
            }),
        };
        client
            .update(
                &task,
                &UpdateRequest::new(task.cname.clone(), task.uid, update),
            )
            .await
            .unwrap();
        if mode == Mode::Mix {
            let layout = UpdateLayoutClientRequest::custom(vec![LayoutConfig::new(
                None, 0.0, 0.0, 0.5, 0.5,
            )]);
            client
                .update_layout(
                    &task,
                    &UpdateLayoutRequest::new(task.cname.clone(), task.uid, layout),
                )
                .await
                .unwrap();
        }
        let outcome = client.stop(&task, &stop_request(&task)).await.unwrap();
        assert!(
            matches!(outcome, StopOutcome::Stopped { .. }),
            "{mode}: {outcome:?}"
        );
        assert!(!outcome.file_names().is_empty(), "{mode}: no files");
        assert!(outcome.uploading_status().is_some(), "{mode}");
    }
    assert!(emulator.tasks().is_empty(), "{:?}", emulator.tasks());
}

#[tokio::test]
async fn update_layout_outside_mix_is_refused_before_sending() {
    let config = config();
    let emulator = Emulator::start(config.clone(), loopback()).unwrap();
    let client = client(&emulator, &config, &Collect::default());
    let task = started(&client, &Mode::Individual, "room-x", 9).await;
    let before = emulator.request_log().len();
    let layout = UpdateLayoutRequest::new(
        task.cname.clone(),
        task.uid,
        UpdateLayoutClientRequest::custom(Vec::new()),
    );
    let error = client.update_layout(&task, &layout).await.unwrap_err();
    assert!(matches!(error, CallError::Invalid(_)), "{error}");
    assert_eq!(emulator.request_log().len(), before);
    client.stop(&task, &stop_request(&task)).await.unwrap();
}

/// One row of the status table with a documented HTTP status.
struct Row {
    endpoint: String,
    status: u16,
    code: Option<i64>,
    text: String,
    resolution: Resolution,
}

fn documented_rows() -> Vec<Row> {
    let table = cloudrec_core::STATUS_TABLE_TSV;
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let status = cells[1].parse().ok()?;
            Some(Row {
                endpoint: cells[0].to_owned(),
                status,
                code: cells[2].parse().ok(),
                text: cells[3].to_owned(),
                resolution: Resolution::parse(cells[5]).unwrap(),
            })
        })
        .collect()
}

fn fault_body(row: &Row) -> serde_json::Value {
    match row.code {
        Some(code) => serde_json::json!({"code": code, "reason": row.text}),
        None => serde_json::json!({"message": row.text}),
    }
}

/// Injects each documented answer once into a real call and checks that the
/// client retried it the documented way, or did not.
#[tokio::test]
async fn every_documented_answer_is_retried_or_not_as_documented() {
    let config = EmulatorConfig {
        rate_limit_per_sec: 0,
        concurrency_limit: 0,
        ..config()
    };
    let emulator = Emulator::start(config.clone(), loopback()).unwrap();
    let client = client(&emulator, &config, &Collect::default());
    for (n, row) in documented_rows().into_iter().enumerate() {
        let n = u32::try_from(n).unwrap() + 100;
        let endpoint: Endpoint = match row.endpoint.as_str() {
            "*" => Endpoint::Query,
            name => name.parse().unwrap(),
        };
        let label = format!(
            "{} {} {:?} {}",
            row.endpoint, row.status, row.code, row.text
        );
        let task = started(&client, &Mode::Mix, &format!("row-{n}"), n).await;
        let rule = FaultRule::respond(Some(endpoint), row.status, fault_body(&row))
            .for_cname(task.cname.as_str())
            .times(1);
        emulator.inject(rule);
        let before = calls_of(&emulator, endpoint);
        let retried = matches!(
            row.resolution,
            Resolution::RetryBackoff | Resolution::RetryThenReacquire | Resolution::ReduceRate
        );
        let outcome = call(&client, endpoint, &task, n).await;
        let sent = calls_of(&emulator, endpoint) - before;
        match outcome {
            Ok(()) => {
                assert!(
                    retried || endpoint_absorbs(endpoint, row.resolution),
                    "{label}: succeeded"
                );
                assert_eq!(sent, if retried { 2 } else { 1 }, "{label}");
            }
            Err(error) => {
                assert!(!retried, "{label}: {error}");
                assert_eq!(error.resolution(), row.resolution, "{label}: {error}");
                assert_eq!(sent, 1, "{label}: sent {sent} times");
            }
        }
        emulator.clear_faults();
        let _ = client.stop(&task, &stop_request(&task)).await;
    }
}

/// How many calls of `endpoint` the emulator has received.
fn calls_of(emulator: &Emulator, endpoint: Endpoint) -> usize {
    emulator
        .request_log()
        .iter()
        .filter(|record| record.endpoint == Some(endpoint))
        .count()
}

/// Resolutions that a typed outcome absorbs: a duplicate start, and the ways a
/// stop can end without files.
fn endpoint_absorbs(endpoint: Endpoint, resolution: Resolution) -> bool {
    match endpoint {
        Endpoint::Start => resolution == Resolution::DoNotRepeat,
        Endpoint::Stop => matches!(
            resolution,
            Resolution::SuccessNoData
                | Resolution::AlreadyExiting
                | Resolution::TreatAsGone
                | Resolution::UploadPending
        ),
        Endpoint::Acquire
        | Endpoint::Query
        | Endpoint::Update
        | Endpoint::UpdateLayout
        | Endpoint::NcsIp => false,
    }
}

/// Makes one call of `endpoint` for `task` (acquire and start on a fresh channel).
async fn call(
    client: &TestClient,
    endpoint: Endpoint,
    task: &TaskRef,
    n: u32,
) -> Result<(), CallError> {
    match endpoint {
        Endpoint::Acquire => client
            .acquire(
                &Mode::Mix,
                &AcquireRequest::new(task.cname.clone(), uid(n + 1000)),
            )
            .await
            .map(drop),
        Endpoint::Start => {
            let fresh = uid(n + 2000);
            let acquired = client
                .acquire(&Mode::Mix, &AcquireRequest::new(task.cname.clone(), fresh))
                .await?;
            let request = StartRequest::new(task.cname.clone(), fresh, start_body(&Mode::Mix));
            let outcome = client
                .start(&acquired.resource_id, &Mode::Mix, &request)
                .await?;
            if let Some(sid) = outcome.sid() {
                let started = TaskRef {
                    resource_id: acquired.resource_id,
                    sid: sid.clone(),
                    mode: Mode::Mix,
                    cname: task.cname.clone(),
                    uid: fresh,
                };
                let _ = client.stop(&started, &stop_request(&started)).await;
            }
            Ok(())
        }
        Endpoint::Query => client.query(task).await.map(drop),
        Endpoint::Update => client
            .update(
                task,
                &UpdateRequest::new(
                    task.cname.clone(),
                    task.uid,
                    UpdateClientRequest::subscribe(StreamSubscribe::default()),
                ),
            )
            .await
            .map(drop),
        Endpoint::UpdateLayout => client
            .update_layout(
                task,
                &UpdateLayoutRequest::new(
                    task.cname.clone(),
                    task.uid,
                    UpdateLayoutClientRequest::custom(Vec::new()),
                ),
            )
            .await
            .map(drop),
        Endpoint::Stop => client
            .stop(
                task,
                &StopRequest {
                    client_request: StopClientRequest::async_stop(),
                    ..stop_request(task)
                },
            )
            .await
            .map(drop),
        Endpoint::NcsIp => client.ncs_ips().await.map(drop),
    }
}

/// The NCS address list is fetched, retried on a rate-limit answer like every
/// call, and a 200 without the list is an unreadable success, not an empty list.
#[tokio::test]
async fn the_ncs_addresses_are_listed_and_retried() {
    let config = config();
    let emulator = Emulator::start(config.clone(), loopback()).unwrap();
    let client = client(&emulator, &config, &Collect::default());
    assert_eq!(client.ncs_ips().await.unwrap().primary_ips(), ["127.0.0.1"]);
    emulator.inject(
        FaultRule::respond(
            Some(Endpoint::NcsIp),
            429,
            serde_json::json!({"message": "API rate limit exceeded"}),
        )
        .times(1),
    );
    let before = calls_of(&emulator, Endpoint::NcsIp);
    assert_eq!(client.ncs_ips().await.unwrap().primary_ips(), ["127.0.0.1"]);
    assert_eq!(calls_of(&emulator, Endpoint::NcsIp) - before, 2);
    // An answer without the host list is unreadable however often it is sent again.
    emulator.inject(FaultRule::respond(
        Some(Endpoint::NcsIp),
        200,
        serde_json::json!({}),
    ));
    let error = client.ncs_ips().await.unwrap_err();
    assert_eq!(
        error.failure().map(cloudrec_core::Failure::kind),
        Some(cloudrec_core::FailureKind::UnreadableSuccess),
        "{error}"
    );
}

/// The shared rate limit keeps a burst of 100 concurrent calls under the
/// service's 10 requests per second: the emulator answers none of them with 429.
#[tokio::test]
async fn a_burst_of_100_calls_stays_under_the_rate_limit() {
    let config = config();
    let emulator = Emulator::start(config.clone(), loopback()).unwrap();
    let events = Collect::default();
    let client = client(&emulator, &config, &events);
    let task = started(&client, &Mode::Mix, "burst", 7).await;
    let calls = (0..100).map(|_| {
        let client = client.clone();
        let task = task.clone();
        tokio::spawn(async move { client.query(&task).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    let limited = emulator
        .request_log()
        .iter()
        .filter(|record| record.status == Some(429))
        .count();
    assert_eq!(limited, 0, "the emulator answered 429 {limited} times");
    client.stop(&task, &stop_request(&task)).await.unwrap();
}

/// A 429 is retried: after the server's `Retry-After` when it sends one, else
/// after the rate-limited back-off.
#[tokio::test]
async fn rate_limited_answers_are_retried_honouring_retry_after() {
    let config = config();
    let emulator = Emulator::start(config.clone(), loopback()).unwrap();
    let client = client(&emulator, &config, &Collect::default());
    let limited = serde_json::json!({"message": "API rate limit exceeded"});
    for retry_after in [None, Some(1)] {
        let mut rule = FaultRule::respond(Some(Endpoint::Acquire), 429, limited.clone()).times(1);
        if let Some(seconds) = retry_after {
            rule = rule.with_retry_after(seconds);
        }
        emulator.inject(rule);
        let before = calls_of(&emulator, Endpoint::Acquire);
        let started = std::time::Instant::now();
        client
            .acquire(
                &Mode::Mix,
                &AcquireRequest::new(Cname::new("limited").unwrap(), uid(3)),
            )
            .await
            .unwrap();
        let waited = started.elapsed();
        assert_eq!(calls_of(&emulator, Endpoint::Acquire) - before, 2);
        if let Some(seconds) = retry_after {
            assert!(
                waited >= Duration::from_secs(seconds),
                "retried after {waited:?}, before the server's Retry-After of {seconds} s"
            );
        }
        emulator.clear_faults();
    }
}

/// A `Retry-After` sent as an HTTP date is obeyed like the seconds form, and
/// clamped the same way: an hour ahead waits the policy's cap, not the
/// rate-limited back-off.
#[tokio::test]
async fn a_retry_after_date_is_obeyed_and_clamped() {
    let config = config();
    let emulator = Emulator::start(config.clone(), loopback()).unwrap();
    let events = Collect::default();
    let cap = Duration::from_millis(1500);
    let client = Client::builder(config.app_id.clone(), transport(&config), TokioClock::new())
        .events(events.clone())
        .base_url(emulator.base_url())
        .retry_policy(quick_retries().with_retry_after_cap(cap))
        .build()
        .unwrap();
    let limited = serde_json::json!({"message": "API rate limit exceeded"});
    emulator.inject(
        FaultRule::respond(Some(Endpoint::Acquire), 429, limited)
            .with_retry_after_date(3600)
            .times(1),
    );
    client
        .acquire(
            &Mode::Mix,
            &AcquireRequest::new(Cname::new("dated").unwrap(), uid(3)),
        )
        .await
        .unwrap();
    let delays: Vec<Duration> = events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|event| match &event.kind {
            cloudrec_core::EventKind::CallRetry { delay, .. } => Some(*delay),
            _ => None,
        })
        .collect();
    assert_eq!(delays, [cap]);
    let sent = emulator
        .request_log()
        .iter()
        .filter(|record| record.status == Some(429))
        .count();
    assert_eq!(sent, 1);
}

/// Two emulators stand in for two hosts of the failover plan. When the first
/// refuses connections, or hangs, a query moves on to the second one.
#[tokio::test]
async fn a_query_fails_over_to_the_next_host() {
    let config = config();
    let second = Emulator::start(config.clone(), loopback()).unwrap();
    let setup = client(&second, &config, &Collect::default());
    let task = started(&setup, &Mode::Mix, "failover", 11).await;

    // Nothing listens on a port that was just released: connections are refused.
    let refusing = {
        let listener = std::net::TcpListener::bind(loopback()).unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let hanging = Emulator::start(config.clone(), loopback()).unwrap();
    hanging.inject(FaultRule::hang(Some(Endpoint::Query)));

    for first in [refusing, hanging.base_url()] {
        let events = Collect::default();
        let plan =
            cloudrec_core::FailoverPlan::from_urls([first.clone(), second.base_url()]).unwrap();
        let transport = HyperTransport::builder()
            .credentials(config.customer_id.clone(), config.customer_secret.clone())
            .request_timeout(Endpoint::Query, Duration::from_millis(300))
            .build()
            .unwrap();
        let client = Client::builder(config.app_id.clone(), transport, TokioClock::new())
            .events(events.clone())
            .failover_plan(plan)
            .retry_policy(quick_retries())
            .build()
            .unwrap();
        let answer = client.query(&task).await.unwrap();
        assert_eq!(answer.sid, task.sid, "via {first}");
        let failovers: Vec<(String, String)> = events
            .0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|event| match &event.kind {
                cloudrec_core::EventKind::CallFailover { from, to, .. } => {
                    Some((from.clone(), to.clone()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            failovers,
            [(first.clone(), second.base_url())],
            "via {first}"
        );
    }
    setup.stop(&task, &stop_request(&task)).await.unwrap();
}
