//! `cloudrec serve` receiving NCS notifications from a real `cloudrec emulator`
//! process over real HTTP: verified, deduplicated, published to RabbitMQ, and
//! acted on (an idle exit ends the recording long before the next poll).
//! Needs RabbitMQ on 127.0.0.1:5672 (guest/guest); `.ci/run` starts it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cloudrec_types::Secret;
use cloudrec_types::ncs::{SignatureHeader, sign};
use common::cloudrec;
use common::serve::{
    APP_ID, CUSTOMER_ID, CUSTOMER_SECRET, EmulatorProc, ServeProc, http, mix_body, temp_dir,
};

const SECRET: &str = "ncs-test-secret-NEVER-SHOWN";
const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const LIMIT: Duration = Duration::from_secs(60);

fn require_rabbitmq() {
    assert!(
        std::net::TcpStream::connect("127.0.0.1:5672").is_ok(),
        "this test needs RabbitMQ on 127.0.0.1:5672: start it with `rabbitmq-server -detached` \
         (Debian: `apt-get install rabbitmq-server`), or run `.ci/run`"
    );
}

/// A free loopback port (bound, then let go).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `cloudrec serve --listen 127.0.0.1:port` on the emulator at `base_url`.
fn serve_on(port: u16, base_url: &str, args: &[&str], envs: &[(&str, &str)]) -> ServeProc {
    let mut command = cloudrec();
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--base-url", base_url])
        .args(args)
        .env("CLOUDREC_APP_ID", APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", CUSTOMER_ID)
        .env("CLOUDREC_CUSTOMER_SECRET", CUSTOMER_SECRET);
    for (key, value) in envs {
        command.env(key, value);
    }
    ServeProc::spawn(command)
}

/// `cloudrec events tail` on `exchange` for `ncs.#` and `session.#`, bound
/// before it returns; its JSON lines arrive on the receiver.
fn tail(exchange: &str) -> (Child, mpsc::Receiver<serde_json::Value>) {
    let mut command = cloudrec();
    command
        .args(["events", "tail", "--amqp-url", AMQP, "--json"])
        .args(["--exchange", exchange, "--routing-key", "#"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (ready_tx, ready) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = ready_tx.send(line);
        }
    });
    let line = ready.recv_timeout(LIMIT).unwrap_or_default();
    assert!(line.starts_with("tailing exchange"), "{line}");
    let stdout = child.stdout.take().unwrap();
    let (tx, events) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(event) = serde_json::from_str(&line) {
                let _ = tx.send(event);
            }
        }
    });
    (child, events)
}

/// The value of the series `name{labels}` in a Prometheus text, 0 if absent.
fn series(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// A mix recording whose task exits after 5 s without anyone publishing.
fn idle_body(cname: &str) -> serde_json::Value {
    let mut body = mix_body(cname, 527_841);
    body["clientRequest"]["recordingConfig"]["maxIdleTime"] = serde_json::json!(5);
    body
}

fn queries(emulator: &EmulatorProc) -> usize {
    let log = http(emulator.addr, "GET", "/_emulator/requests", &[], b"").json();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|record| record["endpoint"] == "query")
        .count()
}

fn set_users(emulator: &EmulatorProc, cname: &str, users: u32) {
    let body = serde_json::json!({"cname": cname, "users": users}).to_string();
    let reply = http(
        emulator.addr,
        "POST",
        "/_emulator/channel-users",
        &[],
        body.as_bytes(),
    );
    assert!(reply.status < 300, "{}", reply.body);
}

fn notice_body(notice_id: &str, sid: &str, sequence: i64, event_type: i64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "noticeId": notice_id, "productId": 3, "eventType": event_type,
        "notifyMs": 1_700_000_000_000_i64,
        "payload": {"cname": "room", "uid": "527841", "sid": sid, "sequence": sequence,
                    "sendts": 1_700_000_000_000_i64, "serviceType": 0,
                    "details": {"msgName": "session_exit", "exitStatus": 0}}
    }))
    .unwrap()
}

fn post_ncs(serve: &ServeProc, headers: &[(&str, &str)], body: &[u8]) -> common::serve::Reply {
    http(serve.addr, "POST", "/v1/ncs", headers, body)
}

#[test]
fn notices_are_verified_deduplicated_published_and_an_idle_exit_ends_the_recording_at_once() {
    require_rabbitmq();
    let exchange = format!("cloudrec.test.ncs.{}", std::process::id());
    let (mut tail, events) = tail(&exchange);
    let port = free_port();
    let faults = temp_dir("serve-ncs-faults").join("faults.json");
    std::fs::write(
        &faults,
        r#"[{"event_type": 40, "action": {"kind": "duplicate"}},
            {"event_type": 3, "times": 1, "action": {"kind": "bad_signature"}},
            {"event_type": 4, "times": 1, "action": {"kind": "reorder"}}]"#,
    )
    .unwrap();
    let emulator = EmulatorProc::start(&[
        "--ncs-url",
        &format!("http://127.0.0.1:{port}/v1/ncs"),
        "--ncs-secret",
        SECRET,
        "--faults",
        faults.to_str().unwrap(),
    ]);
    let dir = temp_dir("serve-ncs");
    let serve = serve_on(
        port,
        &emulator.base_url,
        &[
            "--state-dir",
            dir.to_str().unwrap(),
            "--poll-interval",
            "60s",
            "--amqp-url",
            AMQP,
            "--amqp-exchange",
            &exchange,
        ],
        &[("CLOUDREC_NCS_SECRET", SECRET)],
    );

    let created = serve.post("/v1/recordings", &idle_body("room-ncs"));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let running = serve.wait_for_recording(&id, LIMIT, |r| r["state"] == "running");
    let sid = running["sid"].as_str().unwrap().to_owned();

    // A forged exit (signed with another secret, or not at all) is refused
    // without detail and changes nothing.
    let forged = notice_body("forged-1", &sid, 1000, 11);
    let wrong = sign(SignatureHeader::V2, &forged, &Secret::new("not the secret"));
    for headers in [vec![("Agora-Signature-V2", wrong.as_str())], vec![]] {
        let reply = post_ncs(&serve, &headers, &forged);
        assert_eq!(reply.status, 401, "{}", reply.body);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        for hint in ["Agora-Signature", "expected", "match", SECRET] {
            assert!(!reply.body.contains(hint), "{}", reply.body);
        }
    }
    // Over 1 MiB: 413, before any check.
    let big = vec![b' '; 1024 * 1024 + 1];
    assert_eq!(post_ncs(&serve, &[], &big).status, 413);
    // Signed, but not a notification: 400.
    let junk = br#"{"hello": 1}"#;
    let signed = sign(SignatureHeader::V2, junk, &Secret::new(SECRET));
    assert_eq!(
        post_ncs(&serve, &[("Agora-Signature-V2", &signed)], junk).status,
        400
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        serve.get(&format!("/v1/recordings/{id}")).json()["state"],
        "running"
    );

    // Nobody publishes from now on: the task exits 5 s later on its own.
    let queries_before = queries(&emulator);
    set_users(&emulator, "room-ncs", 0);
    let idle = Instant::now();
    let ended = serve.wait_for_recording(&id, LIMIT, |r| {
        r["state"] != "running" && r["state"] != "stopping"
    });
    let took = idle.elapsed();
    assert_eq!(ended["state"], "stopped", "{ended}");
    // Polling alone would have learnt it at the next query, 60 s after the
    // last one, and then waited out the 90 s recovery window.
    assert!(took < Duration::from_secs(50), "{took:?}");
    let queries_after = queries(&emulator);
    assert!(
        queries_after - queries_before <= 2,
        "{queries_before} then {queries_after}"
    );

    // Every notice published once, typed, about the sid.
    let mut got: Vec<serde_json::Value> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(event) = events.recv_timeout(Duration::from_millis(200)) {
            got.push(event);
        }
        let types: Vec<&str> = got.iter().filter_map(|e| e["type"].as_str()).collect();
        if types.contains(&"io.cloudrec.ncs.session_exit")
            && types.contains(&"io.cloudrec.session.stopped")
        {
            break;
        }
    }
    let _ = tail.kill();
    let _ = tail.wait();
    let notices: Vec<&serde_json::Value> = got
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("io.cloudrec.ncs."))
        .collect();
    let types: Vec<&str> = notices
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for expected in [
        "io.cloudrec.ncs.recorder_started",
        "io.cloudrec.ncs.recorder_leave",
        "io.cloudrec.ncs.session_exit",
    ] {
        assert!(types.contains(&expected), "{expected} missing: {types:?}");
    }
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "io.cloudrec.ncs.recorder_started")
            .count(),
        1,
        "the duplicated notice is published once: {types:?}"
    );
    for notice in &notices {
        assert!(
            notice["subject"].as_str().unwrap().ends_with(&sid),
            "{notice}"
        );
        assert_eq!(notice["data"]["session"]["sid"], sid.as_str());
        assert!(notice["data"]["notice_id"].is_string(), "{notice}");
        assert_ne!(notice["data"]["notice_id"], "forged-1");
    }
    let ids: std::collections::HashSet<&str> = notices
        .iter()
        .map(|n| n["data"]["notice_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), notices.len(), "each notice once: {types:?}");

    let metrics = serve.get("/metrics").body;
    assert_eq!(
        series(
            &metrics,
            "cloudrec_ncs_notices_total{event=\"recorder_started\"}"
        ),
        1.0,
        "{metrics}"
    );
    assert!(
        series(
            &metrics,
            "cloudrec_ncs_rejected_total{reason=\"duplicate\"}"
        ) >= 1.0
    );
    // The emulator's wrongly signed status update, tried three times, and the forged one.
    assert!(
        series(
            &metrics,
            "cloudrec_ncs_rejected_total{reason=\"bad_signature\"}"
        ) >= 2.0,
        "{metrics}"
    );
    assert!(
        series(
            &metrics,
            "cloudrec_ncs_rejected_total{reason=\"missing_signature\"}"
        ) >= 1.0
    );
    assert!(series(&metrics, "cloudrec_ncs_actions_total{action=\"stop\"}") >= 1.0);
    assert!(!serve.proc.output().contains(SECRET));
    assert!(!emulator.proc.output().contains(SECRET));
}

#[test]
fn a_failover_notice_makes_the_session_query_at_once_and_ride_out_the_404() {
    let port = free_port();
    let emulator = EmulatorProc::start(&[
        "--ncs-url",
        &format!("http://127.0.0.1:{port}/v1/ncs"),
        "--ncs-secret",
        SECRET,
    ]);
    let dir = temp_dir("serve-ncs-failover");
    let serve = serve_on(
        port,
        &emulator.base_url,
        &[
            "--state-dir",
            dir.to_str().unwrap(),
            "--poll-interval",
            "60s",
        ],
        &[("CLOUDREC_NCS_SECRET", SECRET)],
    );
    let created = serve.post("/v1/recordings", &mix_body("room-failover", 527_841));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let running = serve.wait_for_recording(&id, LIMIT, |r| r["state"] == "running");
    let sid = running["sid"].as_str().unwrap().to_owned();
    let queries_before = queries(&emulator);
    // The task moves to another server for 3 s: query, update and stop answer 404.
    let body = serde_json::json!({"seconds": 3, "sid": sid}).to_string();
    let reply = http(
        emulator.addr,
        "POST",
        "/_emulator/recovery",
        &[],
        body.as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let started = Instant::now();
    // Only the failover notice can explain a query before the next poll, 60 s on.
    serve.wait_for_recording(&id, Duration::from_secs(30), |r| r["state"] == "recovering");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(queries(&emulator) > queries_before);
    // The notice changed nothing by itself: the machine's recovery window
    // takes the 404, and the task answers again.
    let back = serve.wait_for_recording(&id, LIMIT, |r| r["state"] != "recovering");
    assert_eq!(back["state"], "running", "{back}");
    assert_eq!(back["sid"], sid.as_str());
    let metrics = serve.get("/metrics").body;
    assert!(
        series(
            &metrics,
            "cloudrec_ncs_notices_total{event=\"session_failover\"}"
        ) == 1.0,
        "{metrics}"
    );
    assert!(series(&metrics, "cloudrec_ncs_actions_total{action=\"query_now\"}") >= 1.0);
}

#[test]
fn without_an_ncs_secret_the_route_says_ncs_is_not_enabled() {
    let emulator = EmulatorProc::start(&[]);
    let dir = temp_dir("serve-ncs-off");
    let serve = ServeProc::start(
        &emulator.base_url,
        &["--state-dir", dir.to_str().unwrap()],
        &[],
    );
    let body = notice_body("n1", "sid", 1, 11);
    let reply = post_ncs(&serve, &[], &body);
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert!(reply.body.contains("not enabled"), "{}", reply.body);
    assert!(reply.body.contains("--ncs-secret"), "{}", reply.body);
}

#[test]
fn an_app_id_secret_from_the_config_file_verifies_and_the_token_is_not_needed() {
    let emulator = EmulatorProc::start(&[]);
    let dir = temp_dir("serve-ncs-config");
    let config = dir.join("apps.toml");
    std::fs::write(
        &config,
        format!(
            "[[app]]\nid = \"{APP_ID}\"\ncustomer_id = \"{CUSTOMER_ID}\"\ncustomer_secret_env = \"CUSTOMER_SECRET_A\"\nncs_secret_env = \"NCS_SECRET_A\"\n"
        ),
    )
    .unwrap();
    let mut command = cloudrec();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--base-url", &emulator.base_url])
        .args(["--state-dir", dir.to_str().unwrap()])
        .args(["--config", config.to_str().unwrap()])
        .env("CUSTOMER_SECRET_A", CUSTOMER_SECRET)
        .env("NCS_SECRET_A", SECRET)
        .env("CLOUDREC_API_TOKEN", "api-token");
    let serve = ServeProc::spawn(command);
    let body = notice_body("n1", "a-sid-nobody-supervises", 1, 11);
    let v1 = sign(SignatureHeader::V1, &body, &Secret::new(SECRET));
    let reply = post_ncs(&serve, &[("Agora-Signature", &v1)], &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let again = post_ncs(&serve, &[("Agora-Signature", &v1)], &body);
    assert_eq!(again.status, 200, "a repeat is answered 200 too");
    // The other routes still need the token.
    assert_eq!(serve.get("/v1/recordings").status, 401);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = http(
            serve.addr,
            "GET",
            "/metrics",
            &[("Authorization", "Bearer api-token")],
            b"",
        )
        .body;
        if series(
            &metrics,
            "cloudrec_ncs_actions_total{action=\"unknown_sid\"}",
        ) == 1.0
        {
            assert_eq!(
                series(
                    &metrics,
                    "cloudrec_ncs_notices_total{event=\"session_exit\"}"
                ),
                1.0
            );
            assert_eq!(
                series(
                    &metrics,
                    "cloudrec_ncs_rejected_total{reason=\"duplicate\"}"
                ),
                1.0
            );
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The figures of docs/benchmarks.md: time from the emulator's idle exit to
/// the recording's end, with notices (three runs) and with polling alone
/// (poll interval 60 s, recovery window 90 s; one run). Run with
/// `cargo test -p cloudrec-cli --test serve_ncs -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement of several minutes; see docs/benchmarks.md"]
fn idle_exit_to_end_with_and_without_notices() {
    for with_notices in [true, true, true, false] {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/v1/ncs");
        let mut args = vec![];
        if with_notices {
            args.extend(["--ncs-url", url.as_str(), "--ncs-secret", SECRET]);
        }
        let emulator = EmulatorProc::start(&args);
        let dir = temp_dir("serve-ncs-bench");
        let mut serve_args = vec!["--state-dir", dir.to_str().unwrap()];
        serve_args.extend(["--poll-interval", "60s"]);
        if with_notices {
            serve_args.extend(["--ncs-secret", SECRET]);
        }
        let serve = serve_on(port, &emulator.base_url, &serve_args, &[]);
        let created = serve.post("/v1/recordings", &idle_body("room-bench"));
        let id = created.json()["id"].as_str().unwrap().to_owned();
        serve.wait_for_recording(&id, LIMIT, |r| r["state"] == "running");
        let before = queries(&emulator);
        let idle = Instant::now();
        set_users(&emulator, "room-bench", 0);
        // The task exits maxIdleTime (5 s, emulator time at scale 1) later.
        let exit = idle + Duration::from_secs(5);
        let path = format!("/v1/recordings/{id}");
        let ended = loop {
            let recording = serve.get(&path).json();
            let state = recording["state"].as_str().unwrap().to_owned();
            if !["running", "stopping", "recovering"].contains(&state.as_str()) {
                break recording;
            }
            assert!(idle.elapsed() < Duration::from_secs(400), "{recording}");
            std::thread::sleep(Duration::from_millis(10));
        };
        let took = Instant::now().saturating_duration_since(exit);
        println!(
            "notices {with_notices}: idle exit to {} in {:.2} s, {} queries after the channel went idle",
            ended["state"],
            took.as_secs_f64(),
            queries(&emulator) - before
        );
    }
}
