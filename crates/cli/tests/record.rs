//! `cloudrec record` against an emulator with faults: each documented end and
//! its exit code, and Ctrl-C stopping the recording cleanly.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use cloudrec_emulator::{
    DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_SECRET, Emulator, EmulatorConfig,
    FaultRule,
};
use cloudrec_types::Endpoint;
use common::{Run, cloudrec, run};

const LIMIT: Duration = Duration::from_secs(120);
const STORAGE_SECRET: &str = "storage-secret-key-never-printed";

struct Setup {
    _runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    client_request: PathBuf,
}

fn setup(name: &str, config: EmulatorConfig) -> Setup {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = {
        let _guard = runtime.enter();
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        Emulator::start(config, addr).unwrap()
    };
    let dir = std::env::temp_dir().join(format!("cloudrec-cli-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let client_request = dir.join(format!("{name}.json"));
    let body = serde_json::json!({
        "recordingConfig": {"channelType": 0, "maxIdleTime": 30},
        "recordingFileConfig": {"avFileType": ["hls", "mp4"]},
        "storageConfig": {
            "vendor": 1, "region": 0, "bucket": "recordings",
            "accessKey": "access-key-id", "secretKey": STORAGE_SECRET
        }
    });
    std::fs::write(&client_request, body.to_string()).unwrap();
    Setup {
        _runtime: runtime,
        emulator,
        client_request,
    }
}

fn record(setup: &Setup, extra: &[&str]) -> std::process::Command {
    let mut command = cloudrec();
    command
        .env("CLOUDREC_APP_ID", DEFAULT_APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", DEFAULT_CUSTOMER_ID)
        .env("CLOUDREC_CUSTOMER_SECRET", DEFAULT_CUSTOMER_SECRET)
        .args(["record", "--base-url", &setup.emulator.base_url()])
        .args(["--channel", "room-1", "--mode", "mix", "--client-request"])
        .arg(&setup.client_request)
        .args(["--poll-interval", "100ms"])
        .args(extra);
    command
}

fn summary_field(result: &Run, name: &str) -> String {
    let summary = result.stdout.split("summary\n").nth(1).unwrap_or_else(|| {
        panic!("no summary: {}", result.all());
    });
    summary
        .lines()
        .find_map(|line| line.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
        .unwrap_or_else(|| panic!("no {name} in {summary}"))
}

fn assert_no_secret(result: &Run) {
    for secret in [DEFAULT_CUSTOMER_SECRET, STORAGE_SECRET] {
        assert!(
            !result.all().contains(secret),
            "{secret} printed: {}",
            result.all()
        );
    }
}

fn scaled() -> EmulatorConfig {
    EmulatorConfig {
        time_scale: 50.0,
        ..EmulatorConfig::default()
    }
}

#[test]
fn faults_are_retried_and_recovered_and_the_session_stops_with_files() {
    let config = EmulatorConfig {
        faults: vec![
            FaultRule::respond(
                Some(Endpoint::Start),
                206,
                serde_json::json!({"code": 65, "reason": "request not completed"}),
            )
            .times(1),
            FaultRule::respond(
                Some(Endpoint::Query),
                504,
                serde_json::json!({"code": 62, "reason": "request timeout"}),
            )
            .nth(2)
            .times(1),
            FaultRule::recovery_window(Some(Endpoint::Query), 20.0)
                .nth(4)
                .times(1),
        ],
        ..scaled()
    };
    let setup = setup("faults", config);
    let result = run(
        record(&setup, &["--duration", "5s", "--recovery-window", "30s"]),
        LIMIT,
    );
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert_eq!(summary_field(&result, "session"), "stopped");
    assert!(summary_field(&result, "files").parse::<usize>().unwrap() >= 1);
    assert!(summary_field(&result, "retries").parse::<u32>().unwrap() >= 2);
    assert!(summary_field(&result, "recoveries").parse::<u32>().unwrap() >= 1);
    assert!(
        result.stdout.contains("recovering -> running"),
        "{}",
        result.stdout
    );
    assert!(setup.emulator.tasks().is_empty(), "a task was left running");
    assert_no_secret(&result);
}

#[test]
fn a_channel_nobody_publishes_in_ends_with_the_no_data_code() {
    let config = EmulatorConfig {
        default_channel_users: 0,
        ..scaled()
    };
    let setup = setup("nodata", config);
    let result = run(record(&setup, &["--duration", "300ms"]), LIMIT);
    assert_eq!(result.code, Some(10), "{}", result.all());
    assert_eq!(summary_field(&result, "session"), "stopped_no_data");
    assert!(result.stderr.starts_with("error: "), "{}", result.stderr);
    assert_no_secret(&result);
}

#[test]
fn a_task_missing_beyond_the_recovery_window_is_lost() {
    let config = EmulatorConfig {
        faults: vec![
            FaultRule::recovery_window(Some(Endpoint::Query), 100_000.0)
                .nth(2)
                .times(1),
        ],
        ..scaled()
    };
    let setup = setup("lost", config);
    let result = run(
        record(&setup, &["--duration", "30s", "--recovery-window", "500ms"]),
        LIMIT,
    );
    assert_eq!(result.code, Some(12), "{}", result.all());
    assert_eq!(summary_field(&result, "session"), "lost");
    assert_no_secret(&result);
}

#[test]
fn a_start_that_keeps_failing_ends_with_the_failed_code() {
    let config = EmulatorConfig {
        faults: vec![FaultRule::respond(
            Some(Endpoint::Start),
            400,
            serde_json::json!({"code": 2, "reason": "Start: invalid storageConfig"}),
        )],
        ..scaled()
    };
    let setup = setup("failed", config);
    let result = run(record(&setup, &["--duration", "1s"]), LIMIT);
    assert_eq!(result.code, Some(11), "{}", result.all());
    assert_eq!(summary_field(&result, "session"), "failed");
    assert!(result.stderr.contains("fix_request"), "{}", result.stderr);
    assert_no_secret(&result);
}

#[test]
fn ctrl_c_stops_the_recording_cleanly() {
    let setup = setup("ctrlc", scaled());
    let mut command = record(&setup, &[]);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    // Wait (bounded) until the task has recorded a file, then interrupt.
    let mut running = false;
    while let Ok(line) = rx.recv_timeout(LIMIT) {
        if line.contains("status 5 (recording)") {
            running = true;
            break;
        }
    }
    assert!(running, "the recording never ran");
    let pid = child.id().to_string();
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("kill -INT {pid}")])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + LIMIT;
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "record did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap();
    assert_eq!(exit.code(), Some(0), "{out}");
    assert!(out.contains("running -> stopping"), "{out}");
    assert!(out.contains("stopping -> stopped"), "{out}");
    assert!(setup.emulator.tasks().is_empty(), "a task was left running");
}

#[test]
fn a_killed_recording_is_stopped_by_recover_from_its_journal() {
    let setup = setup("journal", scaled());
    let journal = setup.client_request.with_extension("journal.jsonl");
    let _ = std::fs::remove_file(&journal);
    let mut command = record(&setup, &["--journal", journal.to_str().unwrap()]);
    command.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut recording = false;
    while let Ok(line) = rx.recv_timeout(LIMIT) {
        if line.contains("status 5 (recording)") {
            recording = true;
            break;
        }
    }
    assert!(recording, "the recording never ran");
    // A crash: no chance to stop the task.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(setup.emulator.tasks().len(), 1, "the orphan still records");

    let mut recover = cloudrec();
    recover
        .env("CLOUDREC_APP_ID", DEFAULT_APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", DEFAULT_CUSTOMER_ID)
        .env("CLOUDREC_CUSTOMER_SECRET", DEFAULT_CUSTOMER_SECRET)
        .args([
            "recover",
            "--base-url",
            &setup.emulator.base_url(),
            "--journal",
        ])
        .arg(&journal);
    let result = run(recover, LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert!(result.stdout.contains("was recording"), "{}", result.stdout);
    assert!(result.stdout.contains("now stopped"), "{}", result.stdout);
    assert!(
        setup.emulator.tasks().is_empty(),
        "the orphan was not stopped"
    );

    // The journal is empty now: a second recover has nothing to do.
    let mut again = cloudrec();
    again
        .env("CLOUDREC_APP_ID", DEFAULT_APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", DEFAULT_CUSTOMER_ID)
        .env("CLOUDREC_CUSTOMER_SECRET", DEFAULT_CUSTOMER_SECRET)
        .args([
            "recover",
            "--base-url",
            &setup.emulator.base_url(),
            "--journal",
        ])
        .arg(&journal);
    let result = run(again, LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert!(
        result.stdout.contains("nothing to recover"),
        "{}",
        result.stdout
    );
}

#[test]
fn refused_credentials_end_the_recording_with_the_credentials_code() {
    let setup = setup("credentials", scaled());
    let mut command = record(&setup, &["--duration", "1s"]);
    command.env("CLOUDREC_CUSTOMER_SECRET", "wrong-secret-never-printed");
    let result = run(command, LIMIT);
    assert_eq!(result.code, Some(4), "{}", result.all());
    assert_eq!(summary_field(&result, "session"), "failed");
    assert_eq!(result.stderr.lines().count(), 1, "{}", result.stderr);
    assert!(
        result.stderr.contains("fix_credentials"),
        "{}",
        result.stderr
    );
    assert!(!result.all().contains("wrong-secret-never-printed"));
}

/// `record` on the emulator with the start clientRequest given as `--client-request
/// VALUE` and, when `stdin` is given, piped in.
fn record_with(setup: &Setup, mode: &str, client_request: &str, stdin: Option<&str>) -> Run {
    let mut command = cloudrec();
    command
        .env("CLOUDREC_APP_ID", DEFAULT_APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", DEFAULT_CUSTOMER_ID)
        .env("CLOUDREC_CUSTOMER_SECRET", DEFAULT_CUSTOMER_SECRET)
        .args(["record", "--base-url", &setup.emulator.base_url()])
        .args(["--channel", "room-2", "--mode", mode])
        .args(["--client-request", client_request])
        .args(["--poll-interval", "100ms", "--duration", "500ms"]);
    let Some(input) = stdin else {
        return run(command, LIMIT);
    };
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn a_stop_that_names_no_file_ends_with_the_no_file_code() {
    // The fault answers stop in place of the emulator: its task records on until the
    // emulator is dropped with the test.
    let config = EmulatorConfig {
        faults: vec![FaultRule::respond(
            Some(Endpoint::Stop),
            200,
            serde_json::json!({
                "cname": "room-1", "uid": "0", "resourceId": "resource", "sid": "sid",
                "serverResponse": {"uploadingStatus": "uploaded"}
            }),
        )],
        ..scaled()
    };
    let setup = setup("nofile", config);
    let result = run(record(&setup, &["--duration", "1s"]), LIMIT);
    assert_eq!(result.code, Some(10), "{}", result.all());
    assert_eq!(summary_field(&result, "session"), "stopped");
    assert_eq!(summary_field(&result, "files"), "0");
    assert!(result.stderr.contains("named no file"), "{}", result.stderr);
    assert_no_secret(&result);
}

#[test]
fn a_screenshot_only_recording_stops_with_the_success_code() {
    let setup = setup("screenshots", scaled());
    // Screenshots only: the stop answers 200 with an uploading status and no file list.
    let screenshots = serde_json::json!({
        "recordingConfig": {"channelType": 0, "maxIdleTime": 30},
        "snapshotConfig": {"captureInterval": 5, "fileType": ["jpg"]},
        "storageConfig": {
            "vendor": 1, "region": 0, "bucket": "recordings",
            "accessKey": "access-key-id", "secretKey": STORAGE_SECRET
        }
    });
    let file = setup.client_request.with_extension("screenshots.json");
    std::fs::write(&file, screenshots.to_string()).unwrap();
    let result = record_with(&setup, "individual", file.to_str().unwrap(), None);
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert_eq!(summary_field(&result, "session"), "stopped");
    assert_eq!(summary_field(&result, "files"), "0");
    assert!(setup.emulator.tasks().is_empty(), "a task was left running");
    assert_no_secret(&result);
}

#[test]
fn the_client_request_may_come_inline_or_on_stdin() {
    let setup = setup("inline", scaled());
    let body = std::fs::read_to_string(&setup.client_request).unwrap();
    let result = record_with(&setup, "mix", &format!("  {body}"), None);
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert_eq!(summary_field(&result, "session"), "stopped");

    let result = record_with(&setup, "mix", "-", Some(&body));
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert_eq!(summary_field(&result, "session"), "stopped");

    // A value that is neither JSON nor `-` is a file, and says so when missing.
    let result = record_with(&setup, "mix", "no-such-file.json", None);
    assert_eq!(result.code, Some(3), "{}", result.all());
    assert!(
        result
            .stderr
            .contains("cannot read --client-request no-such-file.json"),
        "{}",
        result.stderr
    );
    assert!(setup.emulator.tasks().is_empty(), "a task was left running");
}

#[test]
fn an_unreachable_host_ends_at_once_naming_the_hosts_tried() {
    let setup = setup("unreachable", scaled());
    // Nothing listens on a port that was just released: connections are refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let mut command = cloudrec();
    command
        .env("CLOUDREC_APP_ID", DEFAULT_APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", DEFAULT_CUSTOMER_ID)
        .env("CLOUDREC_CUSTOMER_SECRET", DEFAULT_CUSTOMER_SECRET)
        .args(["record", "--base-url", &closed, "--channel", "room-1"])
        .arg("--client-request")
        .arg(&setup.client_request)
        .args(["--duration", "1s"]);
    let result = run(command, LIMIT);
    assert_eq!(summary_field(&result, "session"), "failed");
    assert_eq!(summary_field(&result, "restarts"), "0", "{}", result.all());
    let line = result.stderr.lines().last().unwrap_or_default();
    assert!(line.contains("no host answered acquire"), "{line}");
    assert!(line.contains(&closed), "{line}");
    assert!(!result.all().contains("re-acquisition"), "{}", result.all());
}
