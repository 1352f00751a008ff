//! `cloudrec serve` over real HTTP against a real `cloudrec emulator`
//! process: every route, its errors, idempotency, the token and body limits.

mod common;

use std::time::Duration;

use common::serve::{SingleNode, http, mix_body, temp_dir};

const LIMIT: Duration = Duration::from_secs(60);

fn is(state: &'static str) -> impl Fn(&serde_json::Value) -> bool {
    move |recording| recording["state"] == state
}

#[test]
fn a_recording_is_created_runs_takes_updates_and_stops_with_no_secret_shown() {
    let node = SingleNode::start("serve-api", &["--poll-interval", "1s"], &[]);
    let (emulator, serve) = (&node.emulator, &node.serve);
    let created = serve.post("/v1/recordings", &mix_body("room-api", 527_841));
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("content-type"), Some("application/json"));
    let recording = created.json();
    let id = recording["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/recordings/{id}").as_str())
    );
    assert_eq!(recording["cname"], "room-api");
    assert_eq!(recording["uid"], "527841");
    assert_eq!(recording["mode"], "mix");
    assert_eq!(
        recording["clientRequest"]["storageConfig"]["bucket"],
        "bucket"
    );
    assert!(!created.body.contains("NEVER-SHOWN"), "{}", created.body);

    let running = serve.wait_for_recording(&id, LIMIT, is("running"));
    assert!(running["sid"].is_string() && running["resourceId"].is_string());
    assert_eq!(emulator.live_tasks().len(), 1);

    let layout = serve.post(
        &format!("/v1/recordings/{id}/update-layout"),
        &serde_json::json!({"clientRequest": {"mixedVideoLayout": 1}}),
    );
    assert_eq!(layout.status, 202, "{}", layout.body);
    let update = serve.post(
        &format!("/v1/recordings/{id}/update"),
        &serde_json::json!({"clientRequest": {"streamSubscribe": {"audioUidList": {"subscribeAudioUids": ["#allstream#"]}}}}),
    );
    assert_eq!(update.status, 202, "{}", update.body);

    let stop = serve.post(
        &format!("/v1/recordings/{id}/stop"),
        &serde_json::Value::Null,
    );
    assert_eq!(stop.status, 202, "{}", stop.body);
    let stopped = serve.wait_for_recording(&id, LIMIT, |r| {
        r["state"] == "stopped" || r["state"] == "stopped_no_data"
    });
    assert_eq!(stopped["uploadingStatus"], "uploaded", "{stopped}");
    let again = serve.post(
        &format!("/v1/recordings/{id}/stop"),
        &serde_json::Value::Null,
    );
    assert_eq!(again.status, 202, "stop is idempotent: {}", again.body);
    assert!(emulator.live_tasks().is_empty());

    let listed = serve.get("/v1/recordings").json();
    assert_eq!(listed["recordings"].as_array().unwrap().len(), 1);
    let page = serve.get("/");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&id) && page.body.contains("room-api"));
    for path in ["/v1/recordings", &format!("/v1/recordings/{id}"), "/"] {
        assert!(!serve.get(path).body.contains("NEVER-SHOWN"), "{path}");
    }
    let emulator_log = http(emulator.addr, "GET", "/_emulator/requests", &[], b"");
    let endpoints = emulator_log.body;
    for call in [
        "acquire",
        "start",
        "query",
        "updateLayout",
        "update",
        "stop",
    ] {
        assert!(endpoints.contains(call), "the emulator saw no {call}");
    }
}

#[test]
fn idempotency_keys_answer_the_same_recording_or_a_conflict() {
    let node = SingleNode::start("serve-idem", &[], &[]);
    let serve = &node.serve;
    let body = serde_json::to_vec(&mix_body("room-idem", 42)).unwrap();
    let key = [("Idempotency-Key", "order-17")];
    let first = http(serve.addr, "POST", "/v1/recordings", &key, &body);
    assert_eq!(first.status, 201, "{}", first.body);
    let second = http(serve.addr, "POST", "/v1/recordings", &key, &body);
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(first.json()["id"], second.json()["id"]);
    let other = serde_json::to_vec(&mix_body("room-other", 42)).unwrap();
    let conflict = http(serve.addr, "POST", "/v1/recordings", &key, &other);
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert_eq!(
        conflict.header("content-type"),
        Some("application/problem+json")
    );
    let list = serve.get("/v1/recordings").json();
    assert_eq!(list["recordings"].as_array().unwrap().len(), 1, "{list}");
    let without = http(serve.addr, "POST", "/v1/recordings", &[], &body);
    assert_eq!(without.status, 201);
    assert_ne!(without.json()["id"], first.json()["id"]);
    let bad_key = http(
        serve.addr,
        "POST",
        "/v1/recordings",
        &[("Idempotency-Key", "")],
        &body,
    );
    assert_eq!(bad_key.status, 400);
    assert_eq!(bad_key.json()["field"], "Idempotency-Key");
}

#[test]
fn bad_requests_are_problems_naming_the_field_and_nothing_is_sent() {
    let node = SingleNode::start("serve-bad", &[], &[]);
    let (emulator, serve) = (&node.emulator, &node.serve);
    let mut no_bucket = mix_body("room-bad", 1);
    no_bucket["clientRequest"]["storageConfig"]["bucket"] = "".into();
    let mut bad_uid = mix_body("room-bad", 1);
    bad_uid["uid"] = "abc".into();
    let mut bad_mode = mix_body("room-bad", 1);
    bad_mode["mode"] = "audio".into();
    let mut other_app = mix_body("room-bad", 1);
    other_app["appId"] = "ffffffffffffffffffffffffffffffff".into();
    let cases = [
        (no_bucket, "clientRequest.storageConfig.bucket"),
        (bad_uid, "uid"),
        (bad_mode, "mode"),
        (other_app, "appId"),
    ];
    for (body, field) in cases {
        let reply = serve.post("/v1/recordings", &body);
        assert_eq!(reply.status, 400, "{field}: {}", reply.body);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        let problem = reply.json();
        assert_eq!(problem["field"], field, "{problem}");
        assert_eq!(problem["status"], 400);
        assert!(
            problem["type"].is_string()
                && problem["title"].is_string()
                && problem["detail"].is_string()
        );
        assert!(!reply.body.contains("NEVER-SHOWN"));
    }
    let not_json = http(serve.addr, "POST", "/v1/recordings", &[], b"{nope");
    assert_eq!(not_json.status, 400);
    let big = vec![b' '; 1024 * 1024 + 10];
    let too_big = http(serve.addr, "POST", "/v1/recordings", &[], &big);
    assert_eq!(too_big.status, 413, "{}", too_big.body);
    assert_eq!(
        too_big.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(serve.get("/v1/nothing").status, 404);
    assert_eq!(
        serve.get("/v1/nothing").header("content-type"),
        Some("application/problem+json")
    );
    let unknown = serve.get("/v1/recordings/0190c0de-0000-7000-8000-000000000000");
    assert_eq!(unknown.status, 404);
    assert_eq!(serve.get("/v1/recordings/not-a-uuid").status, 404);
    let wrong = http(serve.addr, "DELETE", "/v1/recordings", &[], b"");
    assert_eq!(wrong.status, 405);
    let allow = wrong.header("allow").unwrap_or_default().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_eq!(
        serve.get("/v1/recordings?state=dancing").json()["field"],
        "state"
    );
    assert_eq!(serve.get("/v1/recordings?limit=0").json()["field"], "limit");
    assert_eq!(serve.get("/v1/recordings?after=x").json()["field"], "after");
    assert_eq!(
        serve.get("/v1/recordings?colour=red").json()["field"],
        "colour"
    );
    let requests = http(emulator.addr, "GET", "/_emulator/requests", &[], b"").body;
    assert!(
        !requests.contains("acquire"),
        "a refused request reached the service: {requests}"
    );
}

#[test]
fn update_layout_of_an_individual_recording_is_a_conflict_and_so_is_an_update_after_the_end() {
    let node = SingleNode::start("serve-conflict", &["--poll-interval", "1s"], &[]);
    let serve = &node.serve;
    let mut body = mix_body("room-ind", 7);
    body["mode"] = "individual".into();
    body["clientRequest"]["recordingConfig"] =
        serde_json::json!({"channelType": 0, "streamTypes": 2});
    let refused = serve.post("/v1/recordings", &body);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["field"], "clientRequest.recordingFileConfig");
    body["clientRequest"]["recordingFileConfig"] = serde_json::json!({"avFileType": ["hls"]});
    let created = serve.post("/v1/recordings", &body);
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let layout = serve.post(
        &format!("/v1/recordings/{id}/update-layout"),
        &serde_json::json!({"clientRequest": {"mixedVideoLayout": 1}}),
    );
    assert_eq!(layout.status, 409, "{}", layout.body);
    serve.wait_for_recording(&id, LIMIT, is("running"));
    let bad = serve.post(
        &format!("/v1/recordings/{id}/update"),
        &serde_json::json!({"nope": 1}),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    serve.post(
        &format!("/v1/recordings/{id}/stop"),
        &serde_json::Value::Null,
    );
    serve.wait_for_recording(&id, LIMIT, |r| {
        r["state"]
            .as_str()
            .is_some_and(|s| s.starts_with("stopped"))
    });
    let late = serve.post(
        &format!("/v1/recordings/{id}/update"),
        &serde_json::json!({"clientRequest": {"streamSubscribe": {"audioUidList": {"subscribeAudioUids": ["1"]}}}}),
    );
    assert_eq!(late.status, 409, "{}", late.body);
}

#[test]
fn with_a_token_every_route_but_healthz_needs_it() {
    let node = SingleNode::start(
        "serve-token",
        &[],
        &[("CLOUDREC_API_TOKEN", "s3cret-token")],
    );
    let serve = &node.serve;
    assert_eq!(serve.get("/healthz").status, 200);
    for path in [
        "/v1/recordings",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/",
    ] {
        let refused = serve.get(path);
        assert_eq!(refused.status, 401, "{path}");
        assert!(!refused.body.contains("s3cret"), "{path}");
        let wrong = http(
            serve.addr,
            "GET",
            path,
            &[("Authorization", "Bearer s3cret-tokex")],
            b"",
        );
        assert_eq!(wrong.status, 401, "{path}");
        let right = http(
            serve.addr,
            "GET",
            path,
            &[("Authorization", "Bearer s3cret-token")],
            b"",
        );
        assert_eq!(right.status, 200, "{path}: {}", right.body);
    }
    assert!(!serve.proc.output().contains("s3cret"));
}

#[test]
fn health_readiness_metrics_and_the_openapi_document_answer() {
    let node = SingleNode::start("serve-meta", &["--poll-interval", "1s"], &[]);
    let serve = &node.serve;
    assert_eq!(serve.get("/healthz").status, 200);
    let ready = serve.get("/readyz");
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["checks"]["store"], "ok");
    let created = serve
        .post("/v1/recordings", &mix_body("room-metrics", 9))
        .json();
    let id = created["id"].as_str().unwrap().to_owned();
    serve.wait_for_recording(&id, LIMIT, is("running"));
    let metrics = serve.get("/metrics").body;
    for series in [
        "cloudrec_call_attempts_total{endpoint=\"acquire\"} 1",
        "cloudrec_call_attempts_total{endpoint=\"start\"} 1",
        "cloudrec_call_duration_seconds_count{endpoint=\"acquire\"} 1",
        "cloudrec_sessions{state=\"running\"} 1",
        "cloudrec_session_transitions_total{state=\"running\"} 1",
    ] {
        assert!(metrics.contains(series), "{series} missing from\n{metrics}");
    }
    let document = serve.get("/openapi.json").json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/recordings",
        "/v1/recordings/{id}",
        "/v1/recordings/{id}/update",
        "/v1/recordings/{id}/update-layout",
        "/v1/recordings/{id}/stop",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            document["paths"][path].is_object(),
            "{path} missing from the document"
        );
    }
    assert!(document["components"]["schemas"]["Recording"].is_object());
}

#[test]
fn a_non_loopback_listen_without_a_token_is_refused_before_listening() {
    let mut command = common::cloudrec();
    command.args(["serve", "--emulator", "--listen", "0.0.0.0:0"]);
    let run = common::run(command, LIMIT);
    assert_eq!(run.code, Some(3), "{}", run.all());
    assert!(run.stderr.contains("--api-token"), "{}", run.stderr);
}

#[test]
fn a_bad_config_file_is_one_line_naming_the_key_and_exit_3() {
    let dir = temp_dir("serve-config");
    let path = dir.join("cloudrec.toml");
    std::fs::write(
        &path,
        "[[app]]\nid = \"a\"\ncustomer_id = \"c\"\ncustomer_secret_env = \"S\"\nrate = \"fast\"\n",
    )
    .unwrap();
    let mut command = common::cloudrec();
    command.args([
        "serve",
        "--config",
        path.to_str().unwrap(),
        "--state-dir",
        dir.to_str().unwrap(),
    ]);
    let run = common::run(command, LIMIT);
    assert_eq!(run.code, Some(3), "{}", run.all());
    let line = run.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.contains("`rate`"), "{line}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn with_async_stop_a_recording_ends_once_the_upload_is_confirmed() {
    let node = SingleNode::start(
        "serve-async-stop",
        &["--poll-interval", "1s", "--stop-mode", "async"],
        &[],
    );
    let (emulator, serve) = (&node.emulator, &node.serve);
    let id = serve
        .post("/v1/recordings", &mix_body("room-async", 11))
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    serve.wait_for_recording(&id, LIMIT, is("running"));
    serve.post(
        &format!("/v1/recordings/{id}/stop"),
        &serde_json::Value::Null,
    );
    let ended = serve.wait_for_recording(&id, LIMIT, |r| {
        common::serve::is_terminal(r["state"].as_str().unwrap_or(""))
    });
    assert_eq!(ended["state"], "stopped", "{ended}");
    let requests = http(emulator.addr, "GET", "/_emulator/requests", &[], b"").body;
    assert!(
        requests.contains("async_stop") || requests.contains("/stop"),
        "{requests}"
    );
    assert!(emulator.live_tasks().is_empty());
}
