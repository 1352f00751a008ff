//! Sessions over real loopback HTTP: the recorder with `cloudrec-hyper`'s
//! transport against `cloudrec-emulator` running 200 times faster than real
//! time (the session timings are scaled the same way).
//!
//! - the fault matrix: every row of the status table injected at the step where
//!   it can occur, with the expected end state per row;
//! - 200 sessions at once under random faults end with no task left running;
//! - a recording process killed with SIGKILL is recovered from its journal by a
//!   new process, which stops the orphans.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use cloudrec_client::{
    Client, FileJournal, Journal, MemoryJournal, Recorder, RecorderConfig, RecoveryPolicy,
    SessionReport, SessionSpec, Timeouts,
};
use cloudrec_client::{TokioClock, TokioSpawn};
use cloudrec_core::{
    Backoff, End, NoEvents, Resolution, RetryPolicy, SessionConfig, SessionState, StatusTable,
    TaskRef,
};
use cloudrec_emulator::{Emulator, EmulatorConfig, FaultAction, FaultRule};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{
    Cname, Endpoint, MixedVideoLayout, Mode, StartClientRequest, StorageConfig, StorageVendor, Uid,
    UpdateLayoutClientRequest,
};

/// How much faster the emulator runs than real time.
const SCALE: f64 = 200.0;

/// A documented duration, shrunk by the time scale.
fn scaled(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds / SCALE)
}

fn steps(seconds: &[f64]) -> Backoff {
    let steps: Vec<Duration> = seconds.iter().map(|s| scaled(*s)).collect();
    Backoff::new(steps, scaled(30.0)).unwrap().with_growth(1)
}

/// The documented session timings, scaled.
fn session_config() -> SessionConfig {
    SessionConfig::default()
        .with_first_query_delay(scaled(5.0))
        .unwrap()
        .with_waiting_backoff(steps(&[5.0, 10.0, 15.0]))
        .with_running_give_up(scaled(90.0))
        .unwrap()
        .with_query_interval(scaled(60.0))
        .unwrap()
        .with_recovery_window(scaled(90.0))
        .unwrap()
        .with_recovery_backoff(steps(&[5.0, 10.0, 15.0]))
        .with_resource_lifetime(scaled(300.0))
        .unwrap()
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_server_error_backoff(steps(&[3.0, 6.0, 9.0]))
        .with_failover_backoff(steps(&[1.0, 3.0, 6.0]))
        .with_rate_limited_backoff(steps(&[1.0, 2.0, 4.0]))
}

fn emulator_config() -> EmulatorConfig {
    EmulatorConfig {
        time_scale: SCALE,
        rate_limit_per_sec: 0,
        concurrency_limit: 1000,
        hang_limit: Duration::from_millis(300),
        ..EmulatorConfig::default()
    }
}

type TestRecorder = Recorder<HyperTransport, TokioClock, NoEvents>;

/// A client for the emulator at `base_url`: quick retries, 2 s attempts, no rate limit
/// to speak of (the tests drive many sessions at once).
fn client(base_url: &str, config: &EmulatorConfig) -> Client<HyperTransport, TokioClock, NoEvents> {
    let transport = HyperTransport::builder()
        .credentials(config.customer_id.clone(), config.customer_secret.clone())
        .build()
        .unwrap();
    let timeouts = Timeouts::default()
        .with_default(Duration::from_secs(2))
        .unwrap();
    Client::builder(config.app_id.clone(), transport, TokioClock::new())
        .base_url(base_url)
        .retry_policy(quick_retries())
        .timeouts(timeouts)
        .rate_limit(10_000, 10_000)
        .build()
        .unwrap()
}

fn recorder(base_url: &str, config: &EmulatorConfig) -> TestRecorder {
    let recorder_config = RecorderConfig::default()
        .with_session(session_config())
        .with_task_limit(None)
        .unwrap();
    Recorder::new(
        client(base_url, config),
        Arc::new(TokioSpawn),
        recorder_config,
    )
}

/// A recorder with the default task limit of 50, waiting for a slot in
/// scaled time.
fn limited_recorder(base_url: &str, config: &EmulatorConfig) -> TestRecorder {
    let recorder_config = RecorderConfig::default()
        .with_session(session_config())
        .with_admission_poll(scaled(1.0))
        .unwrap();
    Recorder::new(
        client(base_url, config),
        Arc::new(TokioSpawn),
        recorder_config,
    )
}

fn spec(cname: &str, uid: u32) -> SessionSpec {
    let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "bucket", "access", "secret");
    SessionSpec::new(
        Mode::Mix,
        Cname::new(cname).unwrap(),
        Uid::new(uid).unwrap(),
        StartClientRequest::mix(storage),
    )
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Tasks the emulator still runs (recording or recovering).
fn live_tasks(emulator: &Emulator) -> Vec<String> {
    emulator
        .tasks()
        .into_iter()
        .filter(|task| task.state == "running" || task.state == "recovering")
        .map(|task| task.sid)
        .collect()
}

/// Records for `record_for`, updates the layout once, and stops; or reports
/// how the session ended before it ran.
async fn record(recorder: &TestRecorder, spec: SessionSpec, record_for: Duration) -> SessionReport {
    let handle = recorder.start_session(spec);
    match handle.running().await {
        Ok(_) => {
            tokio::time::sleep(record_for).await;
            let _ = handle
                .update_layout(UpdateLayoutClientRequest::layout(MixedVideoLayout::BestFit))
                .await;
            tokio::time::sleep(record_for).await;
            handle.stop().await
        }
        Err(_) => handle.finished().await,
    }
}

/// The end state a row must lead to, injected once at its endpoint.
fn expected(endpoint: Endpoint, resolution: Resolution) -> SessionState {
    use Resolution as R;
    use SessionState as S;
    match (endpoint, resolution) {
        (Endpoint::Acquire, R::RetryBackoff | R::ReduceRate | R::ReacquireAndStart) => S::Stopped,
        (Endpoint::Acquire, _) => S::Failed,
        (
            Endpoint::Start,
            R::RetryBackoff
            | R::RetryThenReacquire
            | R::ReacquireAndStart
            | R::ChangeUidAndReacquire
            | R::ReduceRate,
        ) => S::Stopped,
        // An answer 201 code 7 without a sid, or an unfixable request.
        (Endpoint::Start, _) => S::Failed,
        (Endpoint::Query, R::FixRequest | R::FixCredentials | R::FixAccount) => S::Failed,
        (Endpoint::Query, _) => S::Stopped,
        (Endpoint::Update | Endpoint::UpdateLayout, _) => S::Stopped,
        (Endpoint::Stop, R::SuccessNoData) => S::StoppedNoData,
        (Endpoint::Stop, R::FixRequest | R::FixCredentials | R::FixAccount) => S::Failed,
        (Endpoint::Stop, _) => S::Stopped,
        (Endpoint::NcsIp, _) => unreachable!("a session never lists the NCS addresses"),
    }
}

fn row_body(code: Option<i64>, text: &str) -> serde_json::Value {
    match code {
        Some(code) => serde_json::json!({"code": code, "reason": text}),
        None => serde_json::json!({"message": text}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_of_the_table_at_its_step_ends_as_expected() {
    let config = emulator_config();
    let emulator = Emulator::start(config.clone(), loopback()).unwrap();
    let recorder = recorder(&emulator.base_url(), &config);
    let mut cases = Vec::new();
    for (n, rule) in StatusTable::get().rules().iter().enumerate() {
        let endpoint = rule.endpoint().unwrap_or(Endpoint::Acquire);
        let cname = format!("row-{n}");
        let status = rule.http_status().unwrap_or(400);
        emulator.inject(
            FaultRule::respond(Some(endpoint), status, row_body(rule.code(), rule.text()))
                .for_cname(cname.clone())
                .times(1),
        );
        let want = expected(endpoint, rule.resolution());
        cases.push((n, endpoint, rule.code(), status, want, cname));
    }
    let mut runs = Vec::new();
    for (n, _, _, _, _, cname) in &cases {
        let recorder = recorder.clone();
        let spec = spec(cname, 1000 + u32::try_from(*n).unwrap());
        runs.push(tokio::spawn(async move {
            record(&recorder, spec, scaled(60.0)).await
        }));
    }
    let mut wrong = Vec::new();
    let mut expected_left = Vec::new();
    for ((n, endpoint, code, status, want, cname), run) in cases.into_iter().zip(runs) {
        let report = run.await.unwrap();
        if report.end.state() != want {
            wrong.push(format!(
                "row {n} ({endpoint} {status} code {code:?}): want {want:?}, got {}",
                report.end
            ));
        }
        // A stop answered by an injected 435, 49 or 50 did not reach the task,
        // and a refused stop (code 2) is reported as unconfirmed: those tasks
        // are the only ones the service may still run.
        let resolution = StatusTable::get().rules()[n].resolution();
        if endpoint == Endpoint::Stop
            && matches!(
                resolution,
                Resolution::SuccessNoData
                    | Resolution::AlreadyExiting
                    | Resolution::UploadPending
                    | Resolution::FixRequest
            )
        {
            if resolution == Resolution::FixRequest {
                assert_eq!(report.unconfirmed.len(), 1, "{report:?}");
            }
            expected_left.push(cname);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let mut left: Vec<String> = emulator
        .tasks()
        .into_iter()
        .filter(|task| task.state == "running" || task.state == "recovering")
        .map(|task| task.cname)
        .collect();
    left.sort();
    expected_left.sort();
    assert_eq!(left, expected_left);
    let report = recorder.shutdown(Duration::from_secs(5)).await;
    assert!(report.not_stopped.is_empty(), "{report:?}");
    assert_eq!(recorder.live_sessions(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sessions_under_random_faults_leave_no_task() {
    let config = EmulatorConfig {
        concurrency_limit: 50,
        ..emulator_config()
    };
    let emulator = Emulator::start(config.clone(), loopback()).unwrap();
    let faults = [
        FaultRule::respond(
            Some(Endpoint::Start),
            500,
            serde_json::json!({"code": 502, "reason": "Failed to allocate worker"}),
        )
        .with_probability(0.05, 1),
        FaultRule::respond(
            Some(Endpoint::Start),
            400,
            serde_json::json!({"code": 53, "reason": "task conflict"}),
        )
        .with_probability(0.03, 2),
        FaultRule::respond(
            Some(Endpoint::Query),
            504,
            serde_json::json!({"code": 62, "reason": "request timeout"}),
        )
        .with_probability(0.05, 3),
        FaultRule::recovery_window(Some(Endpoint::Query), 40.0).with_probability(0.03, 4),
        FaultRule::respond(
            Some(Endpoint::Stop),
            504,
            serde_json::json!({"code": 62, "reason": "request timeout"}),
        )
        .with_probability(0.05, 5),
        FaultRule::new(Some(Endpoint::Query), FaultAction::Close).with_probability(0.02, 6),
        FaultRule::new(Some(Endpoint::Stop), FaultAction::Close).with_probability(0.03, 7),
        FaultRule::new(Some(Endpoint::Start), FaultAction::Close).with_probability(0.03, 8),
        FaultRule::respond(
            Some(Endpoint::Acquire),
            500,
            serde_json::json!({"code": 501, "reason": "no_worker_manager_available"}),
        )
        .with_probability(0.05, 9),
    ];
    for fault in faults {
        emulator.inject(fault);
    }
    let journal = Arc::new(MemoryJournal::new());
    // The recorder's task limit (50, the service's quota) keeps acquire clear
    // of 406 although 200 sessions start at once.
    let recorder = limited_recorder(&emulator.base_url(), &config).with_journal(journal.clone());
    let mut runs = Vec::new();
    for n in 0..200u32 {
        let recorder = recorder.clone();
        let record_for = scaled(f64::from(n % 7) * 20.0);
        runs.push(tokio::spawn(async move {
            record(&recorder, spec(&format!("room-{n}"), 5000 + n), record_for).await
        }));
    }
    let mut unconfirmed: Vec<TaskRef> = Vec::new();
    let mut ends = std::collections::BTreeMap::<&'static str, usize>::new();
    for run in runs {
        let report = run.await.unwrap();
        *ends.entry(report.end.state().as_str()).or_default() += 1;
        unconfirmed.extend(report.unconfirmed);
    }
    // Every task still running is one a session reported as unconfirmed (a
    // failover chained past the recovery window: lost); the journal kept it.
    let left = live_tasks(&emulator);
    for sid in &left {
        assert!(
            unconfirmed.iter().any(|task| task.sid.as_str() == sid),
            "task {sid} left running and not reported; ends: {ends:?}"
        );
    }
    let journalled: Vec<String> = journal
        .live()
        .unwrap()
        .into_iter()
        .map(|task| task.sid.to_string())
        .collect();
    assert_eq!(journalled.len(), unconfirmed.len(), "ends: {ends:?}");
    // What an application does with them later: recover stops what still runs.
    emulator.clear_faults();
    tokio::time::sleep(scaled(200.0)).await;
    let recovered = recorder.recover(RecoveryPolicy::Stop).await.unwrap();
    assert_eq!(recovered.tasks.len(), journalled.len());
    assert!(
        live_tasks(&emulator).is_empty(),
        "left after recover: {:?}; ends: {ends:?}",
        live_tasks(&emulator)
    );
    assert!(journal.live().unwrap().is_empty());
}

const CHILD_ENV: &str = "CLOUDREC_SESSION_KILL_CHILD";

/// The child process of the kill test: records three sessions with a file
/// journal, says READY, and waits to be killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by kill_and_recover as a child process"]
async fn kill_child() {
    let Ok(setup) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (base_url, journal_path) = setup.split_once('|').unwrap();
    let config = emulator_config();
    let journal = Arc::new(FileJournal::open(journal_path).unwrap());
    let recorder = recorder(base_url, &config).with_journal(journal);
    for n in 0..3 {
        let handle = recorder.start_session(spec(&format!("killed-{n}"), 7000 + n));
        handle.running().await.unwrap();
        std::mem::forget(handle);
    }
    println!("READY");
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_and_recover() {
    let config = emulator_config();
    let emulator = Emulator::start(config.clone(), loopback()).unwrap();
    let dir = std::env::temp_dir().join(format!("cloudrec-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal_path: PathBuf = dir.join("live.jsonl");
    let _ = std::fs::remove_file(&journal_path);

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "kill_child", "--ignored", "--nocapture"])
        .env(
            CHILD_ENV,
            format!("{}|{}", emulator.base_url(), journal_path.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let ready = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("READY"))
    });
    let ready = tokio::time::timeout(Duration::from_secs(60), ready)
        .await
        .expect("the child records within 60 s")
        .unwrap();
    assert!(ready);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    assert_eq!(live_tasks(&emulator).len(), 3);
    let journal = Arc::new(FileJournal::open(&journal_path).unwrap());
    assert_eq!(journal.live().unwrap().len(), 3);
    let recorder = recorder(&emulator.base_url(), &config).with_journal(journal.clone());
    let report = recorder.recover(RecoveryPolicy::Stop).await.unwrap();
    assert_eq!(report.tasks.len(), 3);
    for task in &report.tasks {
        let stopped = task.stopped.as_ref().expect("stopped");
        assert!(matches!(stopped.end, End::Stopped { .. }), "{stopped:?}");
    }
    assert!(live_tasks(&emulator).is_empty());
    assert!(journal.live().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
