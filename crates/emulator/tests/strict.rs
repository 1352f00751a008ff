//! Strict fields: request members the service does not document answer 400 code 2
//! naming them, while every documented request fixture still passes.

mod common;

use cloudrec_emulator::EmulatorConfig;
use common::{Client, fast, fixture_request, start};
use serde_json::{Value, json};

fn strict() -> EmulatorConfig {
    EmulatorConfig {
        strict_fields: true,
        ..fast()
    }
}

const NOT_DOCUMENTED: &str = "not a documented field";

fn misspelt_start() -> Value {
    let mut request = fixture_request("start.individual.request.json");
    let recording = request["recordingConfig"].as_object_mut().unwrap();
    recording.remove("subscribeVideoUids");
    recording.insert("unsunscribeVideoUids".to_owned(), json!(["123"]));
    request
}

#[tokio::test]
async fn a_misspelt_start_field_is_named_in_strict_mode_and_ignored_otherwise() {
    let emulator = start(strict());
    let client = Client::new(&emulator);
    let rid = client.acquire_id("room-s", "527841", 0).await;
    let answer = client
        .start(&rid, "individual", "room-s", "527841", &misspelt_start())
        .await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.body["code"], 2);
    let reason = answer.body["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("clientRequest.recordingConfig.unsunscribeVideoUids: "),
        "{reason}"
    );
    assert!(reason.contains(NOT_DOCUMENTED), "{reason}");
    assert!(emulator.tasks().is_empty());

    // Without strict fields the same body starts a task, the key ignored.
    let lenient = start(fast());
    let client = Client::new(&lenient);
    let rid = client.acquire_id("room-s", "527841", 0).await;
    let answer = client
        .start(&rid, "individual", "room-s", "527841", &misspelt_start())
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test]
async fn every_undocumented_member_is_named_at_any_depth() {
    let emulator = start(strict());
    let client = Client::new(&emulator);
    let body = json!({
        "cname": "room-d", "uid": "1", "extra": 1,
        "clientRequest": {"scene": 0, "resourceExpiredHour": 24, "futureField": {}}
    });
    let answer = client
        .send("POST", &client.api("/acquire"), Some(&body))
        .await;
    assert_eq!(answer.status, 400, "{answer:?}");
    let reason = answer.body["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("clientRequest.futureField, extra: are not documented fields"),
        "{reason}"
    );

    let rid = client.acquire_id("room-d", "1", 0).await;
    let mut request = fixture_request("start.mix.custom-layout.request.json");
    request["recordingConfig"]["transcodingConfig"]["layoutConfig"][1]["xAxis"] = json!(0.5);
    let answer = client.start(&rid, "mix", "room-d", "1", &request).await;
    let reason = answer.body["reason"].as_str().unwrap_or_default();
    assert!(
        reason
            .starts_with("clientRequest.recordingConfig.transcodingConfig.layoutConfig[1].xAxis: "),
        "{answer:?}"
    );
}

/// The endpoint, mode segment and fixture of every documented request body.
fn request_fixtures() -> Vec<(String, Value)> {
    let dir = format!("{}/../types/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains(".request.") && !name.starts_with("error."))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

fn path_for(client: &Client, fixture: &str) -> String {
    let mode = if fixture.contains("web") {
        "web"
    } else if fixture.starts_with("start.individual")
        || fixture.starts_with("update.request.subscribe")
    {
        "individual"
    } else {
        "mix"
    };
    let endpoint = fixture.split('.').next().unwrap();
    match endpoint {
        "acquire" => client.api("/acquire"),
        "start" => client.api(&format!("/resourceid/rid/mode/{mode}/start")),
        other => client.api(&format!("/resourceid/rid/sid/sid/mode/{mode}/{other}")),
    }
}

#[tokio::test]
async fn every_documented_request_fixture_passes_strict_mode() {
    let emulator = start(strict());
    let client = Client::new(&emulator);
    let fixtures = request_fixtures();
    assert!(fixtures.len() >= 20, "{} fixtures", fixtures.len());
    for (name, body) in fixtures {
        let path = path_for(&client, &name);
        let answer = client.send("POST", &path, Some(&body)).await;
        let reason = answer.body["reason"].as_str().unwrap_or_default();
        assert!(!reason.contains("documented field"), "{name}: {answer:?}");

        // The same body with one unknown member is refused on that path, so the
        // check above ran.
        let mut tampered = body.clone();
        tampered["clientRequest"]["notInTheSpec"] = json!(true);
        let answer = client.send("POST", &path, Some(&tampered)).await;
        assert_eq!(
            answer.body["reason"].as_str().unwrap_or_default(),
            format!(
                "clientRequest.notInTheSpec: is not a documented field of this request; \
                 check its spelling (the emulator runs with strict fields)"
            ),
            "{name}"
        );
    }
}
