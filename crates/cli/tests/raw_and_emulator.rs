//! The raw calls in sequence against `cloudrec emulator`, as a user would run them.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Run, cloudrec, run};

const LIMIT: Duration = Duration::from_secs(120);
const SECRET: &str = "local-emulator-secret";
const APP_ID: &str = "fedcba9876543210fedcba9876543210";

/// Starts `cloudrec emulator` and returns it with its base URL.
fn emulator(extra: &[&str]) -> (Child, String, Vec<String>) {
    let mut command = cloudrec();
    command
        .args(["emulator", "--listen", "127.0.0.1:0", "--time-scale", "50"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(LIMIT) {
        let done = line.starts_with("Ctrl-C stops it");
        lines.push(line);
        if done {
            break;
        }
    }
    let base_url = lines
        .first()
        .and_then(|l| l.split_whitespace().find(|w| w.starts_with("http://")))
        .expect("the emulator prints its base URL")
        .to_owned();
    (child, base_url, lines)
}

fn interrupt(mut child: Child) {
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("sh")
            .args(["-c", &format!("kill -INT {pid}")])
            .status()
            .unwrap()
            .success()
    );
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the emulator ignored Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn call(base_url: &str, args: &[&str], body: Option<&str>) -> Run {
    let mut command = cloudrec();
    command
        .env("CLOUDREC_APP_ID", APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", "tester")
        .env("CLOUDREC_CUSTOMER_SECRET", SECRET)
        .env("CLOUDREC_BASE_URL", base_url)
        .args(args);
    if let Some(body) = body {
        // One file per call: the tests run in parallel in one process.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "cloudrec-cli-raw-{}-{n}-{}.json",
            std::process::id(),
            args[0]
        ));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        command.arg("--body").arg(path);
    }
    let result = run(command, LIMIT);
    assert!(
        !result.all().contains(SECRET),
        "the secret was printed: {}",
        result.all()
    );
    result
}

fn json(result: &Run) -> serde_json::Value {
    assert_eq!(result.code, Some(0), "{}", result.all());
    serde_json::from_str(&result.stdout).expect("the result is JSON")
}

#[test]
fn acquire_start_query_update_layout_stop_through_the_raw_calls() {
    let (child, base_url, lines) = emulator(&[
        "--app-id",
        APP_ID,
        "--customer-id",
        "tester",
        "--customer-secret",
        SECRET,
    ]);
    // The emulator echoes the credentials it was given for itself.
    assert!(lines.iter().any(|l| l.contains(APP_ID)), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains(SECRET)), "{lines:?}");

    let body = r#"{"cname":"raw-room","uid":"4321","clientRequest":{}}"#;
    let acquired = json(&call(&base_url, &["acquire", "--mode", "mix"], Some(body)));
    let resource_id = acquired["resourceId"].as_str().unwrap().to_owned();

    let start = r#"{"cname":"raw-room","uid":"4321","clientRequest":{
        "recordingConfig":{"channelType":0},
        "recordingFileConfig":{"avFileType":["hls"]},
        "storageConfig":{"vendor":1,"region":0,"bucket":"b","accessKey":"ak","secretKey":"sk"}}}"#;
    let started = json(&call(
        &base_url,
        &["start", "--resource-id", &resource_id, "--mode", "mix"],
        Some(start),
    ));
    assert_eq!(started["outcome"], "started");
    let sid = started["sid"].as_str().unwrap().to_owned();
    let task = [
        "--resource-id",
        resource_id.as_str(),
        "--sid",
        sid.as_str(),
        "--mode",
        "mix",
    ];

    let mut args = vec!["query"];
    args.extend(task);
    let queried = json(&call(&base_url, &args, None));
    assert_eq!(queried["sid"], sid.as_str());
    assert!(queried["serverResponse"]["status"].is_number(), "{queried}");

    let mut args = vec!["update-layout"];
    args.extend(task);
    let layout = r#"{"cname":"raw-room","uid":"4321","clientRequest":{"mixedVideoLayout":1}}"#;
    json(&call(&base_url, &args, Some(layout)));

    let mut args = vec!["stop"];
    args.extend(task);
    let stop = r#"{"cname":"raw-room","uid":"4321","clientRequest":{}}"#;
    let stopped = json(&call(&base_url, &args, Some(stop)));
    assert!(
        ["stopped", "no_recorded_data"].contains(&stopped["outcome"].as_str().unwrap()),
        "{stopped}"
    );

    // A second stop: the task is already exiting; the CLI says so and succeeds.
    let again = json(&call(&base_url, &args, Some(stop)));
    assert_eq!(again["outcome"], "already_exiting", "{again}");

    // An update of a mix task with a web-only field is refused before sending.
    let mut args = vec!["update"];
    args.extend(task);
    let web_only = r#"{"cname":"raw-room","uid":"4321","clientRequest":{"webRecordingConfig":{"onhold":true}}}"#;
    let refused = call(&base_url, &args, Some(web_only));
    assert_eq!(refused.code, Some(3), "{}", refused.all());
    assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);

    interrupt(child);
}

#[test]
fn the_emulator_prints_the_default_credentials_and_refuses_a_bad_listen_address() {
    let (child, _, lines) = emulator(&[]);
    assert!(
        lines.iter().any(|l| l.contains("cloudrec-emulator")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("emulator-secret")),
        "{lines:?}"
    );
    interrupt(child);

    let mut command = cloudrec();
    command.args(["emulator", "--listen", "nowhere"]);
    let result = run(command, LIMIT);
    assert_eq!(result.code, Some(3), "{}", result.all());
    assert!(result.stderr.contains("--listen"), "{}", result.stderr);
}

/// Sends `request` on a new connection and returns what the emulator wrote until
/// it closed the connection.
fn exchange(base_url: &str, request: &[u8]) -> String {
    let addr = base_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream.write_all(request).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match std::io::Read::read(&mut stream, &mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(error) => panic!("the emulator kept the connection open: {error}"),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn emulator_flags_set_strict_fields_and_the_header_timeout() {
    let (child, base_url, lines) = emulator(&[
        "--strict-fields",
        "--header-read-timeout",
        "0.2",
        "--customer-id",
        "tester",
        "--customer-secret",
        SECRET,
        "--app-id",
        APP_ID,
    ]);
    assert!(
        lines.iter().any(|l| l.contains("strict fields:   true")),
        "{lines:?}"
    );
    let body = r#"{"cname":"room","uid":"1","clientRequest":{"sceen":0}}"#;
    // Base64 of `tester:local-emulator-secret`.
    let auth = "dGVzdGVyOmxvY2FsLWVtdWxhdG9yLXNlY3JldA==";
    let request = format!(
        "POST /v1/apps/{APP_ID}/cloud_recording/acquire HTTP/1.1\r\nHost: x\r\n\
         Authorization: Basic {auth}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange(&base_url, request.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("clientRequest.sceen: is not a documented field"),
        "{answer}"
    );
    // Partial headers: closed by the header timeout, unanswered.
    let answer = exchange(&base_url, b"GET /v1/ncs/ip HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    assert_eq!(answer, "");
    interrupt(child);

    let mut command = cloudrec();
    command.args(["emulator", "--listen", "127.0.0.1:0", "--idle-timeout", "0"]);
    let result = run(command, LIMIT);
    assert_eq!(result.code, Some(3), "{}", result.all());
    assert!(
        result.stderr.contains("--idle-timeout"),
        "{}",
        result.stderr
    );
}

#[test]
fn ncs_ips_lists_the_emulator_addresses_as_lines_or_json() {
    let (child, base_url, _) = emulator(&[
        "--app-id",
        APP_ID,
        "--customer-id",
        "tester",
        "--customer-secret",
        SECRET,
    ]);
    let lines = call(&base_url, &["ncs-ips"], None);
    assert_eq!(lines.code, Some(0), "{}", lines.all());
    assert_eq!(lines.stdout, "127.0.0.1\n");
    assert_eq!(
        json(&call(&base_url, &["ncs-ips", "--json"], None)),
        serde_json::json!(["127.0.0.1"])
    );

    let mut command = cloudrec();
    command
        .env("CLOUDREC_APP_ID", APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", "tester")
        .env("CLOUDREC_CUSTOMER_SECRET", "a-wrong-secret")
        .env("CLOUDREC_BASE_URL", &base_url)
        .arg("ncs-ips");
    let refused = run(command, LIMIT);
    assert_eq!(refused.code, Some(4), "{}", refused.all());
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    assert!(refused.stderr.contains("ncsIp"), "{}", refused.stderr);
    interrupt(child);
}

#[test]
fn raw_calls_send_the_fields_cloudrec_does_not_know_and_warn() {
    // With strict fields the emulator names every undocumented member it receives,
    // so its answer shows what was sent.
    let (child, base_url, _) = emulator(&[
        "--strict-fields",
        "--app-id",
        APP_ID,
        "--customer-id",
        "tester",
        "--customer-secret",
        SECRET,
    ]);
    let body = r#"{"cname":"raw-room","uid":"4321","clientRequest":{"regionAffinity":1,"futureField":{}}}"#;
    let result = call(&base_url, &["acquire", "--mode", "mix"], Some(body));
    assert_ne!(result.code, Some(0), "{}", result.all());
    assert!(
        result.all().contains(
            "clientRequest.futureField, clientRequest.regionAffinity: are not documented fields"
        ),
        "both members reach the service: {}",
        result.all()
    );
    for path in ["clientRequest.futureField", "clientRequest.regionAffinity"] {
        assert!(
            result
                .stderr
                .contains(&format!("warning: `{path}` in the acquire body from")),
            "{}",
            result.stderr
        );
    }
    interrupt(child);
}

/// One request an NCS receiver got: its headers (lower-case names) and body.
type Posted = (Vec<(String, String)>, Vec<u8>);

/// A minimal HTTP/1.1 receiver on a loopback port that answers every request
/// 200 and hands them over; returns its URL.
fn ncs_receiver() -> (String, mpsc::Receiver<Posted>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ncs", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut headers = Vec::new();
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let header = line.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':') {
                            headers
                                .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                        }
                    }
                    let length = headers
                        .iter()
                        .find(|(name, _)| name == "content-length")
                        .and_then(|(_, value)| value.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
                        return;
                    }
                    let _ = tx.send((headers, body));
                    if writer
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (url, rx)
}

#[test]
fn the_emulator_posts_signed_ncs_notices_and_never_prints_the_secret() {
    const NCS_SECRET: &str = "cli-ncs-SECRET";
    let (url, posted) = ncs_receiver();
    let (child, base_url, lines) = emulator(&[
        "--app-id",
        APP_ID,
        "--customer-id",
        "tester",
        "--customer-secret",
        SECRET,
        "--ncs-url",
        &url,
        "--ncs-secret",
        NCS_SECRET,
    ]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ncs notices:     on") && l.contains(&url)),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains(NCS_SECRET)), "{lines:?}");

    let body = r#"{"cname":"ncs-room","uid":"4321","clientRequest":{}}"#;
    let acquired = json(&call(&base_url, &["acquire", "--mode", "mix"], Some(body)));
    let resource_id = acquired["resourceId"].as_str().unwrap().to_owned();
    let start = r#"{"cname":"ncs-room","uid":"4321","clientRequest":{
        "recordingConfig":{"channelType":0},
        "recordingFileConfig":{"avFileType":["hls"]},
        "storageConfig":{"vendor":1,"region":0,"bucket":"b","accessKey":"ak","secretKey":"sk"}}}"#;
    let started = json(&call(
        &base_url,
        &["start", "--resource-id", &resource_id, "--mode", "mix"],
        Some(start),
    ));
    let sid = started["sid"].as_str().unwrap().to_owned();

    // The first notices: recorder started, then the status update, both signed.
    let secret = cloudrec_types::Secret::new(NCS_SECRET);
    let mut types = Vec::new();
    while types.len() < 2 {
        let (headers, body) = posted.recv_timeout(LIMIT).expect("a notice arrives");
        assert_eq!(
            cloudrec_types::ncs::verify(headers.iter().map(|(n, v)| (n, v)), &body, &secret),
            Ok(cloudrec_types::ncs::SignatureHeader::V2)
        );
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == "content-type" && v == "application/json")
        );
        let notice: cloudrec_types::ncs::Notification = serde_json::from_slice(&body).unwrap();
        assert_eq!(notice.sid(), Some(sid.as_str()));
        types.push(notice.event_type().code());
    }
    assert_eq!(types, [40, 3]);
    interrupt(child);
}

#[test]
fn bad_ncs_flags_exit_3_naming_the_flag() {
    for (args, needle) in [
        (&["--ncs-url", "http://127.0.0.1:9/ncs"][..], "--ncs-secret"),
        (&["--ncs-secret", "flag-ncs-SECRET"][..], "--ncs-url"),
        (
            &[
                "--ncs-url",
                "https://h/ncs",
                "--ncs-secret",
                "flag-ncs-SECRET",
            ][..],
            "--ncs-url",
        ),
        (
            &[
                "--ncs-url",
                "ftp://h/ncs",
                "--ncs-secret",
                "flag-ncs-SECRET",
            ][..],
            "--ncs-url",
        ),
        (
            &["--ncs-url", "http://h/ncs", "--ncs-secret", ""][..],
            "--ncs-secret",
        ),
    ] {
        let mut command = cloudrec();
        command
            .args(["emulator", "--listen", "127.0.0.1:0"])
            .args(args);
        let result = run(command, LIMIT);
        assert_eq!(result.code, Some(3), "{args:?}: {}", result.all());
        assert!(
            result.stderr.contains(needle),
            "{args:?}: {}",
            result.stderr
        );
        assert!(
            !result.all().contains("flag-ncs-SECRET"),
            "{}",
            result.all()
        );
    }
}
