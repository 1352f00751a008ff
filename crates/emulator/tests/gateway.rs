//! Routes, authentication, App ID, rate limit and validation errors.

mod common;

use cloudrec_emulator::EmulatorConfig;
use common::{Client, basic, fast, minimal_start, start};
use serde_json::json;

#[tokio::test]
async fn wrong_routes_and_methods_answer_the_gateway_404() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let no_route = json!({"message": "no Route matched with those values"});
    let cases = [
        ("GET", client.api("/acquire")),
        ("POST", client.api("/acquire/extra")),
        ("POST", client.api("/resourceid/r/sid/s/mode/mix/query")),
        ("GET", client.api("/resourceid/r/sid/s/mode/mix/stop")),
        ("POST", client.api("/resourceid/r/sid/s/mode/mix/pause")),
        ("POST", "/v1/apps/x/acquire".to_owned()),
        ("POST", "/v1/ncs/ip".to_owned()),
        ("GET", "/".to_owned()),
    ];
    for (method, path) in cases {
        let answer = client.send(method, &path, None).await;
        assert_eq!(answer.status, 404, "{method} {path}");
        assert_eq!(answer.body, no_route, "{method} {path}");
    }
}

#[tokio::test]
async fn missing_and_wrong_credentials_answer_401() {
    let emulator = start(fast());
    let mut client = Client::new(&emulator);
    let body = json!({"cname": "r", "uid": "1", "clientRequest": {}});
    client.auth = None;
    let answer = client
        .send("POST", &client.api("/acquire"), Some(&body))
        .await;
    assert_eq!(
        (answer.status, answer.body),
        (401, json!({"message": "Unauthorized"}))
    );

    let invalid = json!({"message": "Invalid authentication credentials"});
    for auth in [
        basic("cloudrec-emulator", "wrong"),
        basic("someone", "emulator-secret"),
        "Basic !!!".to_owned(),
        "Bearer token".to_owned(),
    ] {
        client.auth = Some(auth.clone());
        let answer = client
            .send("POST", &client.api("/acquire"), Some(&body))
            .await;
        assert_eq!(answer.status, 401, "{auth}");
        assert_eq!(answer.body, invalid, "{auth}");
        let answer = client.send("GET", "/v1/ncs/ip", None).await;
        assert_eq!(answer.status, 401, "{auth}");
    }
    // The scheme is case-insensitive.
    let right = basic("cloudrec-emulator", "emulator-secret");
    client.auth = Some(right.replacen("Basic", "basic", 1));
    let answer = client
        .send("POST", &client.api("/acquire"), Some(&body))
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test]
async fn unknown_app_id_answers_400_appid_is_invalid() {
    let emulator = start(fast());
    let mut client = Client::new(&emulator);
    client.app = "not-our-app".to_owned();
    let answer = client.acquire("r", "1", json!({})).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body, json!({"message": "appid is invalid"}));
}

#[tokio::test]
async fn more_than_ten_requests_a_second_answer_429() {
    let emulator = start(EmulatorConfig::default());
    let client = Client::new(&emulator);
    let mut statuses = Vec::new();
    for n in 0..200 {
        let answer = client.acquire(&format!("room{n}"), "1", json!({})).await;
        statuses.push(answer.status);
        if answer.status == 429 {
            assert_eq!(answer.body, json!({"message": "API rate limit exceeded"}));
            break;
        }
    }
    // The bucket holds 10 requests: the first ten always pass.
    assert!(statuses[..10].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

#[tokio::test]
async fn invalid_bodies_answer_code_2_naming_the_field() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let acquire_cases = [
        (json!({"uid": "1", "clientRequest": {}}), "cname"),
        (json!({"cname": "r", "clientRequest": {}}), "uid"),
        (
            json!({"cname": "r", "uid": "0", "clientRequest": {}}),
            "uid",
        ),
        (json!({"cname": "r", "uid": 5, "clientRequest": {}}), "uid"),
        (json!({"cname": "r", "uid": "1"}), "clientRequest"),
        (
            json!({"cname": "r", "uid": "1", "clientRequest": {"region": "MARS"}}),
            "clientRequest.region",
        ),
        (
            json!({"cname": "r", "uid": "1", "clientRequest": {"scene": 9}}),
            "clientRequest.scene",
        ),
    ];
    for (body, field) in acquire_cases {
        let answer = client
            .send("POST", &client.api("/acquire"), Some(&body))
            .await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.body["code"], 2, "{body}");
        let reason = answer.body["reason"].as_str().unwrap();
        assert!(reason.starts_with(&format!("{field}:")), "{reason}");
    }
    let answer = client
        .acquire("r", "1", json!({"resourceExpiredHour": 721}))
        .await;
    assert_eq!(
        answer.body,
        json!({"code": 2, "reason": "Acquire: invalid resourceExpiredHour value!"})
    );
    let answer = client
        .raw(
            "POST",
            &client.api("/acquire"),
            Some("application/json"),
            b"{not json".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(
        (answer.status, answer.body["code"].clone()),
        (400, json!(2))
    );
}

#[tokio::test]
async fn bad_channel_names_answer_code_401() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    for cname in ["a/b", "é", &"x".repeat(64)] {
        let answer = client.acquire(cname, "1", json!({})).await;
        assert_eq!(answer.status, 400, "{cname}");
        assert_eq!(
            answer.body,
            json!({"code": 401, "reason": "invalid_channel_name"})
        );
    }
    // Web mode (scene 1) only labels the task: any text up to 1024 bytes.
    let answer = client.acquire("a/b é", "1", json!({"scene": 1})).await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn start_update_layout_and_stop_validation_name_the_field() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let mut cases = Vec::new();
    let mut no_storage = minimal_start("mix");
    no_storage.as_object_mut().unwrap().remove("storageConfig");
    cases.push(("mix", no_storage, "clientRequest.storageConfig"));
    let mut idle = minimal_start("individual");
    idle["recordingConfig"]["maxIdleTime"] = json!(3);
    cases.push((
        "individual",
        idle,
        "clientRequest.recordingConfig.maxIdleTime",
    ));
    let mut mp4 = minimal_start("mix");
    mp4["recordingFileConfig"]["avFileType"] = json!(["mp4"]);
    cases.push(("mix", mp4, "clientRequest.recordingFileConfig.avFileType"));
    let mut snapshot = minimal_start("mix");
    snapshot["snapshotConfig"] = json!({"fileType": ["jpg"]});
    cases.push(("mix", snapshot, "clientRequest.snapshotConfig"));
    let mut prefix = minimal_start("mix");
    prefix["storageConfig"]["fileNamePrefix"] = json!(["a-b"]);
    cases.push(("mix", prefix, "clientRequest.storageConfig.fileNamePrefix"));
    let mut web = minimal_start("web");
    web["extensionServiceConfig"]["extensionServices"][0]["serviceParam"]["maxRecordingHour"] =
        json!(0);
    cases.push((
        "web",
        web,
        "clientRequest.extensionServiceConfig.extensionServices[0].serviceParam.maxRecordingHour",
    ));
    // Checked by the cloudrec-types rules the emulator reuses.
    let mut token = minimal_start("mix");
    token["token"] = json!("");
    cases.push(("mix", token, "clientRequest.token"));
    let mut s3 = minimal_start("mix");
    s3["storageConfig"]["vendor"] = json!(11);
    cases.push((
        "mix",
        s3,
        "clientRequest.storageConfig.extensionParams.endpoint",
    ));
    for (n, (mode, request, field)) in cases.into_iter().enumerate() {
        let cname = format!("room{n}");
        let rid = client
            .acquire_id(&cname, "1", i64::from(mode == "web"))
            .await;
        let answer = client.start(&rid, mode, &cname, "1", &request).await;
        assert_eq!(answer.status, 400, "{field}: {answer:?}");
        assert_eq!(answer.body["code"], 2);
        let reason = answer.body["reason"].as_str().unwrap();
        assert!(reason.starts_with(&format!("{field}:")), "{reason}");
        // The secret key never appears in a reason.
        assert!(!reason.contains("sk"), "{reason}");
    }

    let task = client
        .session("mix", "live", "9", &minimal_start("mix"))
        .await;
    let checks = [
        (
            "update",
            json!({"webRecordingConfig": {"onhold": true}}),
            "clientRequest.webRecordingConfig",
        ),
        (
            "updateLayout",
            json!({"mixedVideoLayout": 7}),
            "clientRequest.mixedVideoLayout",
        ),
        (
            "updateLayout",
            json!({"mixedVideoLayout": 2}),
            "clientRequest.maxResolutionUid",
        ),
        (
            "updateLayout",
            json!({"layoutConfig": [{"x_axis": 0, "y_axis": 0, "width": 2, "height": 1}]}),
            "clientRequest.layoutConfig[0].width",
        ),
        (
            "stop",
            json!({"async_stop": "yes"}),
            "clientRequest.async_stop",
        ),
    ];
    for (op, request, field) in checks {
        let answer = client.post_task(&task, op, request).await;
        assert_eq!(answer.status, 400, "{op}: {answer:?}");
        assert_eq!(answer.body["code"], 2);
        let reason = answer.body["reason"].as_str().unwrap();
        assert!(reason.starts_with(&format!("{field}:")), "{reason}");
    }
    // updateLayout exists for mix only.
    let mut individual = task.clone();
    individual.mode = "individual".to_owned();
    let answer = client
        .post_task(&individual, "updateLayout", json!({"mixedVideoLayout": 1}))
        .await;
    assert_eq!(
        (answer.status, answer.body["code"].clone()),
        (400, json!(2))
    );
    assert!(answer.body["reason"].as_str().unwrap().starts_with("mode:"));
}
