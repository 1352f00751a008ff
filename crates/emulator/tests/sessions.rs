//! Every endpoint's happy path in each mode, over loopback HTTP.

mod common;

use std::time::Duration;

use cloudrec_emulator::EmulatorConfig;
use common::{Client, fast, fixture_request, minimal_start, start};
use serde_json::json;

fn has_files(answer: &common::Answer) -> bool {
    answer.status == 200 && answer.body["serverResponse"]["status"] == 5
}

#[tokio::test]
async fn individual_session_lists_per_uid_files_and_stops_with_them() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let request = fixture_request("start.individual.request.json");
    let task = client
        .session("individual", "room-1", "527841", &request)
        .await;
    assert_eq!(task.sid.len(), 32);
    assert!(task.sid.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(task.rid.len() > 200);
    assert!(
        task.rid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );

    let answer = client.query_until(&task, 2000, has_files).await;
    let response = &answer.body["serverResponse"];
    assert_eq!(answer.body["sid"], task.sid.as_str());
    assert_eq!(response["fileListMode"], "json");
    let files = response["fileList"].as_array().unwrap();
    // The fixture subscribes uids 123 and 456, audio and video.
    assert_eq!(files.len(), 4);
    assert_eq!(
        files[0]["fileName"],
        format!(
            "directory1/directory2/{}_room-1__uid_s_123__uid_e_audio.m3u8",
            task.sid
        )
    );
    assert_eq!(files[1]["trackType"], "video");
    assert_eq!(files[2]["uid"], "456");
    assert_eq!(files[0]["mixedAllUser"], false);
    assert!(response["sliceStartTime"].as_i64().unwrap() > 1_600_000_000_000);

    let update = client
        .post_task(
            &task,
            "update",
            json!({"streamSubscribe": {"audioUidList": {"subscribeAudioUids": ["123"]}}}),
        )
        .await;
    assert_eq!(update.status, 200, "{update:?}");
    assert_eq!(update.body["sid"], task.sid.as_str());
    assert_eq!(emulator.tasks()[0].updates, 1);

    let stop = client.stop(&task, false).await;
    assert_eq!(stop.status, 200, "{stop:?}");
    assert_eq!(stop.body["serverResponse"]["uploadingStatus"], "uploaded");
    assert_eq!(stop.body["serverResponse"]["fileListMode"], "json");
    assert!(emulator.tasks().is_empty());
}

#[tokio::test]
async fn mix_hls_lists_one_string_and_update_layout_replaces_the_layout() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let request = fixture_request("start.mix.request.json");
    let task = client.session("mix", "room-2", "1", &request).await;
    let answer = client.query_until(&task, 2000, has_files).await;
    let response = &answer.body["serverResponse"];
    assert_eq!(response["fileListMode"], "string");
    let name = response["fileList"].as_str().unwrap();
    assert!(
        name.ends_with(&format!("{}_room-2.m3u8", task.sid)),
        "{name}"
    );

    let layout = json!({"mixedVideoLayout": 1, "backgroundColor": "#FF0000"});
    let answer = client
        .post_task(&task, "updateLayout", layout.clone())
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let view = &emulator.tasks()[0];
    assert_eq!(view.layout, layout);
    assert_eq!(view.layout_updates, 1);

    let stop = client.stop(&task, true).await;
    assert_eq!(stop.status, 200);
    assert_eq!(stop.body["serverResponse"]["fileListMode"], "string");
    assert_eq!(stop.body["serverResponse"]["uploadingStatus"], "unknown");
}

#[tokio::test]
async fn mix_hls_mp4_lists_json_files_and_time_scale_splits_mp4() {
    let config = EmulatorConfig {
        time_scale: 20_000.0,
        rate_limit_per_sec: 0,
        ..EmulatorConfig::default()
    };
    let emulator = start(config);
    let client = Client::new(&emulator);
    let request = fixture_request("start.mix.custom-layout.request.json");
    let task = client.session("mix", "room-3", "2", &request).await;
    // Two hours of recording (about 0.4 s of real time) close the first MP4.
    let answer = client
        .query_until(&task, 5000, |answer| {
            answer.body["serverResponse"]["fileList"]
                .as_array()
                .is_some_and(|files| files.len() >= 3)
        })
        .await;
    let files = answer.body["serverResponse"]["fileList"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = files
        .iter()
        .map(|f| f["fileName"].as_str().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.ends_with("_0.mp4")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("_1.mp4")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".m3u8")), "{names:?}");
    assert!(
        files
            .iter()
            .all(|f| f["uid"] == "0" && f["mixedAllUser"] == true)
    );
    assert!(emulator.tasks()[0].recorded_secs >= 7200.0);
}

#[tokio::test]
async fn web_session_reports_extension_services_and_onhold() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let request = fixture_request("start.web-rtmp.request.json");
    let task = client.session("web", "web task #1", "3", &request).await;
    let answer = client.query_until(&task, 2000, has_files).await;
    let services = answer.body["serverResponse"]["extensionServiceState"]
        .as_array()
        .unwrap();
    assert_eq!(services[0]["serviceName"], "web_recorder_service");
    assert_eq!(services[0]["payload"]["state"], "inProgress");
    let files = services[0]["payload"]["fileList"].as_array().unwrap();
    let first = files[0]["filename"].as_str().unwrap();
    // Special characters of the cname become `-` in web mode.
    assert!(
        first.contains(&format!("{}_web-task--1", task.sid)),
        "{first}"
    );
    assert_eq!(services[1]["serviceName"], "rtmp_publish_service");
    assert_eq!(services[1]["payload"]["outputs"][0]["status"], "publishing");

    let hold = client
        .post_task(
            &task,
            "update",
            json!({"webRecordingConfig": {"onhold": true}}),
        )
        .await;
    assert_eq!(hold.status, 200, "{hold:?}");
    assert!(emulator.tasks()[0].onhold);
    let rtmp = client
        .post_task(
            &task,
            "update",
            json!({"rtmpPublishConfig": {"outputs": [{"rtmpUrl": "rtmp://other"}]}}),
        )
        .await;
    assert_eq!(rtmp.status, 200);
    let answer = client.query(&task).await;
    let services = &answer.body["serverResponse"]["extensionServiceState"];
    assert_eq!(services[0]["payload"]["onhold"], true);
    assert_eq!(
        services[1]["payload"]["outputs"][0]["rtmpUrl"],
        "rtmp://other"
    );

    let stop = client.stop(&task, false).await;
    assert_eq!(stop.status, 200);
    let services = &stop.body["serverResponse"]["extensionServiceState"];
    assert_eq!(services[0]["serviceName"], "upload_service");
    assert_eq!(services[0]["payload"]["uploadingStatus"], "uploaded");
    assert_eq!(services[1]["payload"]["state"], "exit");
}

#[tokio::test]
async fn screenshot_only_individual_has_no_file_list() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let request = fixture_request("start.individual-snapshot.request.json");
    let task = client.session("individual", "room-4", "4", &request).await;
    let answer = client.query_until(&task, 2000, has_files).await;
    let response = answer.body["serverResponse"].as_object().unwrap();
    assert!(!response.contains_key("fileList"));
    assert!(response.contains_key("sliceStartTime"));
    let stop = client.stop(&task, false).await;
    let response = stop.body["serverResponse"].as_object().unwrap();
    assert_eq!(response.get("uploadingStatus"), Some(&json!("uploaded")));
    assert!(!response.contains_key("fileList"));
}

#[tokio::test]
async fn ncs_ip_answers_hosts() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let answer = client.send("GET", "/v1/ncs/ip", None).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body["data"]["service"]["hosts"][0]["primaryIP"].is_string());
}

#[tokio::test]
async fn status_starts_at_zero_and_advances_to_five() {
    // With hour-long status steps in real time, a query right after start sees 0.
    let config = EmulatorConfig {
        time_scale: 1.0,
        status_step: Duration::from_secs(3600),
        rate_limit_per_sec: 0,
        ..EmulatorConfig::default()
    };
    let emulator = start(config);
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "room-5", "5", &minimal_start("mix"))
        .await;
    let first = client.query(&task).await;
    assert_eq!(first.body["serverResponse"]["status"], 0);
    assert!(first.body["serverResponse"].get("fileList").is_none());

    // At scale 50 the steps pass within a second; the order, not the timing, is asserted.
    let config = EmulatorConfig {
        time_scale: 50.0,
        rate_limit_per_sec: 0,
        ..EmulatorConfig::default()
    };
    let emulator = start(config);
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "room-5", "5", &minimal_start("mix"))
        .await;
    let mut seen: Vec<i64> = Vec::new();
    for _ in 0..4000 {
        let answer = client.query(&task).await;
        let status = answer.body["serverResponse"]["status"].as_i64().unwrap();
        if seen.last() != Some(&status) {
            seen.push(status);
        }
        if status == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(seen.last(), Some(&5), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
}

#[tokio::test]
async fn both_json_content_types_are_accepted() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let body = serde_json::to_vec(&json!({"cname": "r", "uid": "1", "clientRequest": {}})).unwrap();
    for content_type in ["application/json", "application/json;charset=utf-8"] {
        let answer = client
            .raw(
                "POST",
                &client.api("/acquire"),
                Some(content_type),
                body.clone(),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{content_type}: {answer:?}");
    }
    let answer = client
        .raw("POST", &client.api("/acquire"), Some("text/plain"), body)
        .await
        .unwrap();
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["code"], 2);
}

#[tokio::test]
async fn standard_stream_mode_also_lists_a_merged_audio_and_video_file_per_uid() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let mut request = fixture_request("start.individual.request.json");
    request["recordingConfig"]["streamMode"] = json!("standard");
    let task = client
        .session("individual", "room-std", "527841", &request)
        .await;
    let answer = client.query_until(&task, 2000, has_files).await;
    let files = answer.body["serverResponse"]["fileList"]
        .as_array()
        .unwrap();
    let listed: Vec<(&str, &str)> = files
        .iter()
        .map(|f| {
            (
                f["fileName"].as_str().unwrap(),
                f["trackType"].as_str().unwrap(),
            )
        })
        .collect();
    let name = |uid: &str, kind: &str| {
        format!(
            "directory1/directory2/{}_room-std__uid_s_{uid}__uid_e_{kind}.m3u8",
            task.sid
        )
    };
    let mut expected = Vec::new();
    for uid in ["123", "456"] {
        expected.push((name(uid, "audio"), "audio".to_owned()));
        expected.push((name(uid, "video"), "video".to_owned()));
        expected.push((name(uid, "av"), "audio_and_video".to_owned()));
    }
    let listed: Vec<(String, String)> = listed
        .into_iter()
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect();
    assert_eq!(listed, expected);

    // Audio only: nothing to merge, one audio file per uid.
    let mut audio_only = request.clone();
    audio_only["recordingConfig"]["streamTypes"] = json!(0);
    audio_only["recordingConfig"]
        .as_object_mut()
        .unwrap()
        .remove("subscribeVideoUids");
    let task = client
        .session("individual", "room-std-a", "527841", &audio_only)
        .await;
    let answer = client.query_until(&task, 2000, has_files).await;
    let tracks: Vec<&str> = answer.body["serverResponse"]["fileList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["trackType"].as_str().unwrap())
        .collect();
    assert_eq!(tracks, ["audio", "audio"]);
}
