//! Every bad input ends with one line naming what is wrong, a documented exit
//! code, no panic and no secret.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cloudrec_emulator::{DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, Emulator, EmulatorConfig};
use common::{Run, cloudrec, run};

const SECRET: &str = "s3cr3t-never-print-me";
const LIMIT: Duration = Duration::from_secs(120);

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cloudrec-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn with_credentials(mut command: std::process::Command, base_url: &str) -> std::process::Command {
    command
        .env("CLOUDREC_APP_ID", DEFAULT_APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", DEFAULT_CUSTOMER_ID)
        .env("CLOUDREC_CUSTOMER_SECRET", SECRET)
        .env("CLOUDREC_BASE_URL", base_url);
    command
}

/// One `error:` line on stderr, the expected code, no panic, no secret.
fn assert_one_line(result: &Run, code: i32, mentions: &str) {
    assert_eq!(result.code, Some(code), "{}", result.all());
    let lines: Vec<&str> = result.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "not one line: {:?}", result.stderr);
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    assert!(
        lines[0].contains(mentions),
        "{} does not mention {mentions}",
        lines[0]
    );
    assert!(!result.all().contains("panicked"), "{}", result.all());
    assert!(
        !result.all().contains(SECRET),
        "the secret was printed: {}",
        result.all()
    );
}

const ACQUIRE: &str = r#"{"cname":"room-1","uid":"527841","clientRequest":{}}"#;

#[test]
fn missing_credentials_name_the_flag_and_the_variable() {
    let body = temp_file("acquire.json", ACQUIRE);
    let mut command = cloudrec();
    command
        .args(["acquire", "--base-url", "http://127.0.0.1:9", "--body"])
        .arg(&body);
    let result = run(command, LIMIT);
    assert_one_line(&result, 4, "CLOUDREC_APP_ID");

    let mut command = cloudrec();
    command
        .env("CLOUDREC_APP_ID", DEFAULT_APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", DEFAULT_CUSTOMER_ID)
        .args(["acquire", "--base-url", "http://127.0.0.1:9", "--body"])
        .arg(&body);
    let result = run(command, LIMIT);
    assert_one_line(&result, 4, "--customer-secret");
}

#[test]
fn bad_json_names_the_file_and_the_position() {
    let body = temp_file("broken.json", r#"{"cname": "room-1", "uid": }"#);
    let mut command = with_credentials(cloudrec(), "http://127.0.0.1:9");
    command.args(["acquire", "--body"]).arg(&body);
    let result = run(command, LIMIT);
    assert_one_line(&result, 3, "is not valid JSON");
    assert!(result.stderr.contains("line 1"), "{}", result.stderr);

    let missing = temp_file("schema.json", r#"{"cname": "room-1"}"#);
    let mut command = with_credentials(cloudrec(), "http://127.0.0.1:9");
    command.args(["acquire", "--body"]).arg(&missing);
    let result = run(command, LIMIT);
    assert_one_line(&result, 3, "uid");
}

#[test]
fn a_secret_in_a_mistyped_field_is_not_echoed() {
    let body = temp_file(
        "typed.json",
        &format!(
            r#"{{"cname":"room-1","uid":"1","clientRequest":{{"resourceExpiredHour":"{SECRET}"}}}}"#
        ),
    );
    let mut command = with_credentials(cloudrec(), "http://127.0.0.1:9");
    command.args(["acquire", "--body"]).arg(&body);
    let result = run(command, LIMIT);
    assert_one_line(&result, 3, "schema");
}

#[test]
fn an_invalid_field_is_named_and_nothing_is_sent() {
    let body = temp_file(
        "invalid.json",
        r#"{"cname":"room-1","uid":"527841","clientRequest":{"resourceExpiredHour":1000}}"#,
    );
    // The host is unreachable: a request that was sent would fail with code 5.
    let mut command = with_credentials(cloudrec(), "http://127.0.0.1:9");
    command.args(["acquire", "--body"]).arg(&body);
    let result = run(command, LIMIT);
    assert_one_line(&result, 3, "resourceExpiredHour");

    let mut command = with_credentials(cloudrec(), "http://127.0.0.1:9");
    command
        .args(["acquire", "--mode", "audio", "--body"])
        .arg(&body);
    let result = run(command, LIMIT);
    assert_one_line(&result, 3, "--mode");
}

#[test]
fn an_unreachable_host_says_no_answer() {
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let body = temp_file("acquire-ok.json", ACQUIRE);
    let mut command = with_credentials(cloudrec(), &format!("http://127.0.0.1:{port}"));
    command.args(["acquire", "--body"]).arg(&body);
    let result = run(command, LIMIT);
    assert_one_line(&result, 5, "no answer");

    let mut command = with_credentials(cloudrec(), "not-a-url");
    command.args(["acquire", "--body"]).arg(&body);
    let result = run(command, LIMIT);
    assert_one_line(&result, 3, "--base-url");

    // Ids may start with `-` (resource ids are URL-safe base64): they are values,
    // not flags, and the call goes out.
    let mut command = with_credentials(cloudrec(), &format!("http://127.0.0.1:{port}"));
    command.args(["query", "--resource-id", "-Lr1", "--sid", "-s1"]);
    let result = run(command, LIMIT);
    assert_one_line(&result, 5, "no answer");
}

#[test]
fn refused_credentials_give_the_credentials_code_without_the_secret() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = {
        let _guard = runtime.enter();
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        Emulator::start(EmulatorConfig::default(), addr).unwrap()
    };
    let body = temp_file("acquire-auth.json", ACQUIRE);
    let mut command = with_credentials(cloudrec(), &emulator.base_url());
    command.args(["acquire", "--body"]).arg(&body);
    let result = run(command, LIMIT);
    assert_one_line(&result, 4, "fix_credentials");
    let advice = cloudrec_core::Resolution::FixCredentials.advice();
    assert_eq!(
        result.stderr.matches(advice).count(),
        1,
        "{}",
        result.stderr
    );
    assert_eq!(result.stderr.matches("fix_credentials").count(), 1);

    // The same call with the emulator's credentials succeeds and prints the typed result.
    let mut command = cloudrec();
    command
        .env("CLOUDREC_APP_ID", DEFAULT_APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", DEFAULT_CUSTOMER_ID)
        .env(
            "CLOUDREC_CUSTOMER_SECRET",
            cloudrec_emulator::DEFAULT_CUSTOMER_SECRET,
        )
        .args(["acquire", "--base-url", &emulator.base_url(), "--body"])
        .arg(&body);
    let result = run(command, LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
    let json: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert!(json["resourceId"].as_str().is_some_and(|id| !id.is_empty()));
    drop(emulator);
}

#[test]
fn explain_rejects_an_unknown_endpoint_and_bad_json() {
    let mut command = cloudrec();
    command.args(["explain", "--endpoint", "stp", "--status", "404"]);
    assert_one_line(&run(command, LIMIT), 3, "--endpoint");
    let mut command = cloudrec();
    command.args([
        "explain",
        "--endpoint",
        "stop",
        "--status",
        "404",
        "--body",
        "{bad",
    ]);
    assert_one_line(&run(command, LIMIT), 3, "--body");
}

/// An emulator on loopback, with the runtime that serves it.
fn emulator() -> (tokio::runtime::Runtime, Emulator) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = {
        let _guard = runtime.enter();
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        Emulator::start(EmulatorConfig::default(), addr).unwrap()
    };
    (runtime, emulator)
}

fn record(
    base_url: &str,
    channel: &str,
    client_request: &std::path::Path,
) -> std::process::Command {
    let mut command = with_credentials(cloudrec(), base_url);
    command
        .args(["record", "--mode", "mix", "--channel", channel])
        .arg("--client-request")
        .arg(client_request)
        .args(["--duration", "1s", "--poll-interval", "100ms"]);
    command
}

const START: &str = r#"{"recordingConfig":{"channelType":0,"maxIdleTime":30},
    "recordingFileConfig":{"avFileType":["hls"]},
    "storageConfig":{"vendor":1,"region":0,"bucket":"b","accessKey":"a","secretKey":"s"}}"#;

#[test]
fn record_checks_the_start_body_and_the_channel_before_sending_anything() {
    let (_runtime, emulator) = emulator();
    // maxIdleTime must be at least 5: the service would refuse the start, after
    // the acquire had already taken a resource.
    let invalid = temp_file(
        "start-invalid.json",
        &START.replace(r#""maxIdleTime":30"#, r#""maxIdleTime":3"#),
    );
    let result = run(record(&emulator.base_url(), "room-1", &invalid), LIMIT);
    assert_one_line(&result, 3, "maxIdleTime");
    assert!(result.stderr.contains("nothing sent"), "{}", result.stderr);
    assert!(
        emulator.request_log().is_empty(),
        "requests reached the service: {:?}",
        emulator.request_log()
    );

    let valid = temp_file("start-valid.json", START);
    let result = run(record(&emulator.base_url(), "room/1", &valid), LIMIT);
    assert_one_line(&result, 3, "--channel");
    assert!(
        emulator.request_log().is_empty(),
        "requests reached the service: {:?}",
        emulator.request_log()
    );
}

#[test]
fn plain_http_to_a_host_that_is_not_loopback_is_refused_before_sending() {
    let body = temp_file("acquire-plain.json", ACQUIRE);
    let mut command = with_credentials(cloudrec(), "http://recording.example.invalid");
    command.args(["acquire", "--body"]).arg(&body);
    let result = run(command, LIMIT);
    assert_one_line(&result, 3, "plain http");
    assert!(!result.stderr.contains("attempt"), "{}", result.stderr);

    let start = temp_file("start-plain.json", START);
    let result = run(
        record("http://recording.example.invalid", "room-1", &start),
        LIMIT,
    );
    assert_one_line(&result, 3, "plain http");
    assert!(!result.stdout.contains("attempt"), "{}", result.stdout);
}
