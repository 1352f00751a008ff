//! NCS notifications: every documented event type decodes to its typed details,
//! unknown types and fields are kept, and no body panics the decoder.

use cloudrec_types::ncs::{
    Event, EventType, ExitStatus, LeaveCode, Module, Notification, ServiceType, StreamState,
    WebStopCode,
};
use cloudrec_types::{RecordingStatus, RtmpStatus};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn notice(event_type: i64, details: Value) -> Value {
    json!({
        "noticeId": "n1", "productId": 3, "eventType": event_type, "notifyMs": 1_619_172_931_089_i64,
        "payload": {"cname": "room1", "uid": "527841", "sid": "38f8e3cfdc474cd56fc1ceba380d7e1a",
                    "sequence": 5, "sendts": 1_619_172_930_089_i64, "serviceType": 0,
                    "details": details}
    })
}

fn decode(value: &Value) -> Notification {
    serde_json::from_value(value.clone()).unwrap()
}

#[test]
fn the_spec_fixture_decodes_as_uploaded_with_its_files() {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ncs.event.31.uploaded.json"
    ))
    .unwrap();
    let notice: Notification = serde_json::from_slice(&body).unwrap();
    assert_eq!(notice.notice_id, "2000001428:4330:107");
    assert_eq!(notice.product_id, Some(3));
    assert_eq!(notice.event_type(), EventType::Uploaded);
    assert_eq!(notice.notify_ms, Some(1_619_172_931_089));
    assert_eq!(notice.payload.sequence, Some(5));
    assert_eq!(notice.payload.sendts, Some(1_619_172_930_089));
    assert_eq!(notice.payload.service_type, Some(ServiceType::Uploader));
    assert_eq!(notice.payload.uid.as_deref(), Some("527841"));
    assert_eq!(notice.payload.cname.as_deref(), Some("httpClient463224"));
    assert_eq!(notice.payload.details.msg_name(), Some("uploaded"));
    let Event::Uploaded(uploaded) = notice.event() else {
        panic!("{:?}", notice.event())
    };
    assert_eq!(uploaded.status, Some(0));
    assert_eq!(uploaded.file_names().len(), 2);
    assert!(uploaded.file_names()[0].ends_with("_0.mp4"));
    let original: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(serde_json::to_value(&notice).unwrap(), original);
}

/// What a decoded event must satisfy.
type Check = fn(&Event) -> bool;

/// One details object per documented event type, with what it must decode to.
#[test]
fn every_documented_event_type_decodes_to_its_details() {
    let cases: Vec<(i64, Value, Check)> = vec![
        (
            1,
            json!({"msgName": "cloud_recording_error", "module": 1, "errorLevel": 5, "errorCode": 47, "stat": 0, "errorMsg": "upload failed"}),
            |e| matches!(e, Event::RecordingError(d) if d.module == Some(Module::Uploader) && d.is_fatal() && d.error_code == Some(47) && d.error_msg.as_deref() == Some("upload failed")),
        ),
        (
            2,
            json!({"msgName": "cloud_recording_warning", "module": 1, "warnCode": 32}),
            |e| matches!(e, Event::RecordingWarning(d) if d.warn_code == Some(32)),
        ),
        (
            3,
            json!({"msgName": "cloud_recording_status_update", "status": 5, "recordingMode": 1, "fileList": "a.m3u8"}),
            |e| matches!(e, Event::StatusUpdate(d) if d.status == Some(RecordingStatus::Running) && d.file_list.as_ref().is_some_and(|f| f.names() == ["a.m3u8"])),
        ),
        (
            4,
            json!({"msgName": "cloud_recording_file_infos", "fileList": [{"fileName": "a.m3u8"}]}),
            |e| matches!(e, Event::FileInfos(d) if d.file_list.as_ref().is_some_and(|f| f.names() == ["a.m3u8"])),
        ),
        (
            11,
            json!({"msgName": "session_exit", "exitStatus": 1}),
            |e| matches!(e, Event::SessionExit(d) if d.exit_status == Some(ExitStatus::Abnormal)),
        ),
        (
            12,
            json!({"msgName": "session_failover", "newUid": 2_000_000_001_i64}),
            |e| matches!(e, Event::SessionFailover(d) if d.new_uid == Some(2_000_000_001)),
        ),
        (
            13,
            json!({"msgName": "high availability register success", "x": 1}),
            |e| matches!(e, Event::HighAvailabilityRegistered(d) if d.extra["x"] == 1),
        ),
        (
            30,
            json!({"msgName": "uploader_started", "status": 0}),
            |e| matches!(e, Event::UploaderStarted(d) if d.status == Some(0)),
        ),
        (
            31,
            json!({"msgName": "uploaded", "status": 0, "fileList": []}),
            |e| matches!(e, Event::Uploaded(d) if d.file_names().is_empty()),
        ),
        (
            32,
            json!({"msgName": "backuped", "status": "1", "fileList": [{"fileName": "b.mp4"}]}),
            |e| matches!(e, Event::Backuped(d) if d.status == Some(1) && d.file_names() == ["b.mp4"]),
        ),
        (
            33,
            json!({"msgName": "uploading_progress", "progress": 5000}),
            |e| matches!(e, Event::UploadingProgress(d) if d.progress == Some(5000)),
        ),
        (
            40,
            json!({"msgName": "recorder_started", "status": 0}),
            |e| matches!(e, Event::RecorderStarted(d) if d.status == Some(0)),
        ),
        (
            41,
            json!({"msgName": "recorder_leave", "leaveCode": 20}),
            |e| matches!(e, Event::RecorderLeave(d) if d.leave_code.is_some_and(|c| c.idle() && c.has(LeaveCode::LEAVE_CHANNEL) && !c.has(LeaveCode::SIGINT) && !c.init_failed())),
        ),
        (
            42,
            json!({"msgName": "recorder_slice_start", "startUtcMs": 1, "discontinueUtcMs": 2, "mixedAllUser": true, "streamUid": 7, "trackType": "audio"}),
            |e| matches!(e, Event::RecorderSliceStart(d) if d.start_utc_ms == Some(1) && d.discontinue_utc_ms == Some(2) && d.stream_uid.as_deref() == Some("7") && d.mixed_all_user == Some(true)),
        ),
        (
            43,
            json!({"msgName": "recorder_audio_stream_state_changed", "streamUid": "7", "state": 0, "UtcMs": 3}),
            |e| matches!(e, Event::AudioStreamStateChanged(d) if d.state == Some(StreamState::Receiving) && d.utc_ms == Some(3)),
        ),
        (
            44,
            json!({"msgName": "recorder_video_stream_state_changed", "streamUid": "7", "state": 1, "UtcMs": 4}),
            |e| matches!(e, Event::VideoStreamStateChanged(d) if d.state == Some(StreamState::NotReceiving)),
        ),
        (
            45,
            json!({"msgName": "recorder_snapshot_file", "fileName": "p/x.jpg"}),
            |e| matches!(e, Event::SnapshotFile(d) if d.file_name.as_deref() == Some("p/x.jpg")),
        ),
        (
            60,
            json!({"msgName": "vod_started", "aliVodInfo": {"videoId": "v1"}}),
            |e| matches!(e, Event::VodStarted(d) if d.ali_vod_info.as_ref().and_then(|i| i.video_id.as_deref()) == Some("v1")),
        ),
        (61, json!({"msgName": "vod_triggered"}), |e| {
            matches!(e, Event::VodTriggered(_))
        }),
        (
            70,
            json!({"msgName": "web_recorder_started", "recorderStartTime": 9}),
            |e| matches!(e, Event::WebRecorderStarted(d) if d.recorder_start_time == Some(9)),
        ),
        (
            71,
            json!({"msgName": "web_recorder_stopped", "code": 4, "message": "page_load_timeout", "details": "x", "fileList": [{"filename": "w.mp4", "sliceStartTime": 5}]}),
            |e| matches!(e, Event::WebRecorderStopped(d) if d.code == Some(WebStopCode::PageLoadTimeout) && d.file_list.as_ref().is_some_and(|f| f[0].filename == "w.mp4")),
        ),
        (
            72,
            json!({"msgName": "web_recorder_capability_limit", "limitType": "WebGL"}),
            |e| matches!(e, Event::WebRecorderCapabilityLimit(d) if d.limit_type.as_ref().is_some_and(|l| l.as_str() == "WebGL" && l.is_known())),
        ),
        (
            73,
            json!({"msgName": "web_recorder_reload", "reason": "audio_silence"}),
            |e| matches!(e, Event::WebRecorderReload(d) if d.reason.as_ref().is_some_and(|r| r.is_known())),
        ),
        (80, json!({"msgName": "transcoder_started"}), |e| {
            matches!(e, Event::TranscoderStarted(_))
        }),
        (
            81,
            json!({"msgName": "transcoder_completed", "result": "partial_success", "uids": [{"uid": "1", "result": "fail", "fileList": [{"fileName": "u.mp4"}]}]}),
            |e| matches!(e, Event::TranscoderCompleted(d) if d.uids.len() == 1 && d.uids[0].file_list[0].file_name.as_deref() == Some("u.mp4")),
        ),
        (
            90,
            json!({"msgName": "download_failed", "vendor": 1, "region": 3, "bucket": "b", "fileName": "a.ts;b.ts;"}),
            |e| matches!(e, Event::DownloadFailed(d) if d.file_names() == ["a.ts", "b.ts"] && d.bucket.as_deref() == Some("b")),
        ),
        (
            100,
            json!({"msgName": "rtmp_publish_status", "rtmpUrl": "rtmp://x/y", "status": "onhold"}),
            |e| matches!(e, Event::RtmpPublishStatus(d) if d.status == Some(RtmpStatus::Onhold)),
        ),
        (
            1001,
            json!({"msgName": "postpone_transcode_final_result", "result": "total_success", "fileList": [{"fileName": "t.mp4"}]}),
            |e| matches!(e, Event::PostponeTranscodeFinalResult(d) if d.result.as_ref().is_some_and(|r| r.is_known())),
        ),
    ];
    let mut codes: Vec<i64> = cases.iter().map(|(code, ..)| *code).collect();
    codes.dedup();
    assert_eq!(codes.len(), 28, "one case per documented event type");
    for (code, details, check) in cases {
        let notice = decode(&notice(code, details.clone()));
        let event = notice.event();
        assert!(check(event), "{code}: {event:?}");
        let event_type = EventType::from_code(code);
        assert!(event_type.is_known(), "{code}");
        assert_eq!(event.event_type(), event_type);
        if code != 13 {
            assert_eq!(event_type.msg_name(), details["msgName"].as_str(), "{code}");
        }
        // Re-encoding gives the details back (numbers sent as text come back as numbers).
        let back = serde_json::to_value(&notice.payload.details).unwrap();
        let mut expected = details;
        match code {
            32 => expected["status"] = json!(1),
            42 => expected["streamUid"] = json!("7"),
            _ => {}
        }
        assert_eq!(back, expected, "{code}");
    }
}

#[test]
fn unknown_fields_are_kept_where_they_were() {
    let value = json!({
        "noticeId": "n2", "eventType": 11, "newTop": [1],
        "payload": {"sid": "s", "newPayload": "p", "details": {"msgName": "session_exit", "exitStatus": 0, "newDetail": {"a": 1}}}
    });
    let notice = decode(&value);
    let Event::SessionExit(exit) = notice.event() else {
        panic!()
    };
    assert_eq!(exit.exit_status, Some(ExitStatus::Normal));
    assert_eq!(exit.extra["newDetail"], json!({"a": 1}));
    assert_eq!(notice.payload.extra["newPayload"], "p");
    assert_eq!(notice.extra["newTop"], json!([1]));
    assert_eq!(serde_json::to_value(&notice).unwrap(), value);
}

#[test]
fn unknown_enum_values_are_kept() {
    let notice = decode(&notice(71, json!({"code": 99, "limitType": "cpu"})));
    let Event::WebRecorderStopped(stopped) = notice.event() else {
        panic!()
    };
    assert_eq!(stopped.code, Some(WebStopCode::Other(99)));
    let notice = decode(&json!({"noticeId": "n", "eventType": 40, "payload": {"serviceType": 77}}));
    assert_eq!(notice.payload.service_type, Some(ServiceType::Other(77)));
}

#[test]
fn details_that_do_not_fit_their_type_are_kept_as_unreadable() {
    let details = json!({"msgName": "session_exit", "exitStatus": {"not": "a number"}});
    let notice = decode(&notice(11, details));
    let Event::Unreadable {
        event_type,
        fields,
        reason,
    } = notice.event()
    else {
        panic!("{:?}", notice.event())
    };
    assert_eq!(*event_type, EventType::SessionExit);
    assert_eq!(fields["exitStatus"], json!({"not": "a number"}));
    assert!(reason.contains("integer"), "{reason}");
    assert_eq!(notice.payload.details.msg_name(), Some("session_exit"));
}

#[test]
fn a_notice_needs_a_notice_id_and_an_event_type() {
    for bad in [
        json!({"eventType": 11}),
        json!({"noticeId": "n"}),
        json!({"noticeId": "n", "eventType": "x"}),
        json!({"noticeId": "n", "eventType": 11, "payload": {"details": 5}}),
        json!([1]),
    ] {
        assert!(
            serde_json::from_value::<Notification>(bad.clone()).is_err(),
            "{bad}"
        );
    }
    let minimal = decode(&json!({"noticeId": "n", "eventType": "31"}));
    assert!(matches!(minimal.event(), Event::Uploaded(_)));
    assert_eq!(minimal.payload.details.msg_name(), None);
}

fn details_map() -> impl Strategy<Value = Map<String, Value>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9_ ]{0,8}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-zA-Z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let keys = prop_oneof![
        proptest::sample::select(vec![
            "msgName",
            "status",
            "fileList",
            "module",
            "errorLevel",
            "exitStatus",
            "leaveCode",
            "streamUid",
            "UtcMs",
            "code",
            "details",
            "uids",
            "result",
            "rtmpUrl",
            "vendor",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z]{1,8}",
    ];
    proptest::collection::btree_map(keys, value, 0..8).prop_map(|m| m.into_iter().collect())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = serde_json::from_slice::<Notification>(&bytes);
    }

    #[test]
    fn an_unknown_event_type_keeps_its_raw_details(
        code in any::<i64>().prop_filter("unknown", |c| !EventType::from_code(*c).is_known()),
        details in details_map(),
    ) {
        let notice = decode(&notice(code, Value::Object(details.clone())));
        let Event::Unknown { event_type, fields } = notice.event() else {
            return Err(TestCaseError::fail(format!("{:?}", notice.event())));
        };
        prop_assert_eq!(*event_type, code);
        let mut expected = details.clone();
        if let Some(Value::String(name)) = expected.get("msgName").cloned() {
            expected.remove("msgName");
            prop_assert_eq!(notice.payload.details.msg_name(), Some(name.as_str()));
        } else {
            prop_assert_eq!(notice.payload.details.msg_name(), None);
        }
        prop_assert_eq!(fields, &expected);
        prop_assert_eq!(serde_json::to_value(&notice.payload.details).unwrap(), Value::Object(details));
    }

    #[test]
    fn any_details_of_a_known_event_type_decode(
        code in proptest::sample::select(vec![1_i64, 2, 3, 4, 11, 12, 13, 30, 31, 32, 33, 40, 41, 42, 43, 44, 45, 60, 61, 70, 71, 72, 73, 80, 81, 90, 100, 1001]),
        details in details_map(),
    ) {
        let notice = decode(&notice(code, Value::Object(details)));
        prop_assert_eq!(notice.event_type(), EventType::from_code(code));
        let back = serde_json::to_string(&notice).unwrap();
        let again: Notification = serde_json::from_str(&back).unwrap();
        prop_assert_eq!(again.event_type(), notice.event_type());
    }
}
