//! SIGTERM (what `docker stop`, systemd and Kubernetes send) stops a recording
//! like Ctrl-C: the task is stopped in the emulator and the exit code is the
//! session's.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cloudrec_emulator::{
    DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_SECRET, Emulator, EmulatorConfig,
};
use common::cloudrec;

const LIMIT: Duration = Duration::from_secs(120);

/// Sends `signal` (e.g. `TERM`) to `child` with the system's `kill`.
fn kill(child: &Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Spawns `command`, waits (bounded) until it prints `ready` on stdout, sends
/// SIGTERM, and returns the exit code and everything it printed.
fn terminate_once(mut command: std::process::Command, ready: &str) -> (Option<i32>, String) {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
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
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        text
    });
    let mut seen = false;
    while let Ok(line) = rx.recv_timeout(LIMIT) {
        if line.contains(ready) {
            seen = true;
            break;
        }
    }
    assert!(seen, "never printed {ready:?}");
    kill(&child, "TERM");
    let deadline = Instant::now() + LIMIT;
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("did not stop after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = format!("{}{}", reader.join().unwrap(), errors.join().unwrap());
    (exit.code(), out)
}

#[test]
fn sigterm_stops_a_recording_and_exits_with_the_sessions_code() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = {
        let _guard = runtime.enter();
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let config = EmulatorConfig {
            time_scale: 50.0,
            ..EmulatorConfig::default()
        };
        Emulator::start(config, addr).unwrap()
    };
    let body = serde_json::json!({
        "recordingConfig": {"channelType": 0, "maxIdleTime": 30},
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": {
            "vendor": 1, "region": 0, "bucket": "recordings",
            "accessKey": "access-key-id", "secretKey": "storage-secret-key"
        }
    });
    let file = std::env::temp_dir().join(format!("cloudrec-cli-term-{}.json", std::process::id()));
    std::fs::write(&file, body.to_string()).unwrap();
    let mut command = cloudrec();
    command
        .env("CLOUDREC_APP_ID", DEFAULT_APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", DEFAULT_CUSTOMER_ID)
        .env("CLOUDREC_CUSTOMER_SECRET", DEFAULT_CUSTOMER_SECRET)
        .args(["record", "--base-url", &emulator.base_url()])
        .args(["--channel", "room-term", "--poll-interval", "100ms"])
        .arg("--client-request")
        .arg(&file);
    let (code, out) = terminate_once(command, "status 5 (recording)");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("SIGTERM: stopping the recording"), "{out}");
    assert!(out.contains("running -> stopping"), "{out}");
    assert!(out.contains("stopping -> stopped"), "{out}");
    assert!(emulator.tasks().is_empty(), "a task was left recording");
}

#[test]
fn sigterm_stops_the_demo_and_leaves_no_task() {
    let mut command = cloudrec();
    command.args(["demo", "--no-faults", "--time-scale", "20"]);
    let (code, out) = terminate_once(command, "status 5 (recording)");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("SIGTERM: stopping the recording"), "{out}");
    assert!(out.contains("stopping -> stopped"), "{out}");
    let left = out
        .lines()
        .find_map(|line| line.trim().strip_prefix("tasks left running"))
        .unwrap_or_else(|| panic!("no summary: {out}"));
    assert_eq!(left.trim(), "0", "{out}");
}
