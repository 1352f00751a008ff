//! Lenient decoding where the service's shapes vary (spec §10): alternative key
//! spellings decode and one spelling is written; numbers may be strings; unknown
//! enum values and unknown fields are kept or ignored, never an error.

use cloudrec_types::{
    ErrorBody, FileInfo, FileList, FileListMode, QueryResponse, RecordingStatus, RtmpStatus,
    ServiceName, ServiceRunState, StopResponse, TrackType, UpdateRequest, UploadingStatus,
    WebFileInfo,
};
use serde_json::{Value, json};

fn query(server_response: Value) -> QueryResponse {
    serde_json::from_value(
        json!({"resourceId": "r", "sid": "s", "serverResponse": server_response}),
    )
    .unwrap()
}

#[test]
fn deny_lists_accept_both_spellings_and_write_un_subscribe() {
    for (audio, video) in [
        ("unsubscribeAudioUids", "unsubscribeVideoUids"),
        ("unSubscribeAudioUids", "unSubscribeVideoUids"),
    ] {
        let body = json!({"cname": "c", "uid": "1", "clientRequest": {"streamSubscribe": {
            "audioUidList": {audio: ["7"]}, "videoUidList": {video: ["8"]}}}});
        let request: UpdateRequest = serde_json::from_value(body).unwrap();
        let subscribe = request.client_request.stream_subscribe.clone().unwrap();
        assert_eq!(
            subscribe.audio_uid_list.unwrap().unsubscribe_audio_uids,
            Some(vec!["7".to_owned()])
        );
        assert_eq!(
            subscribe.video_uid_list.unwrap().unsubscribe_video_uids,
            Some(vec!["8".to_owned()])
        );
        let written = serde_json::to_value(&request).unwrap();
        let lists = &written["clientRequest"]["streamSubscribe"];
        assert_eq!(
            lists["audioUidList"],
            json!({"unSubscribeAudioUids": ["7"]})
        );
        assert_eq!(
            lists["videoUidList"],
            json!({"unSubscribeVideoUids": ["8"]})
        );
    }
}

#[test]
fn status_and_slice_start_time_as_numbers_or_strings() {
    for (status, time) in [
        (json!(5), json!(1_562_724_971_626_i64)),
        (json!("5"), json!("1562724971626")),
    ] {
        let response = query(json!({"status": status, "sliceStartTime": time}));
        assert_eq!(response.status(), Some(RecordingStatus::Running));
        assert_eq!(
            response.server_response.slice_start_time,
            Some(1_562_724_971_626)
        );
    }
    let file: FileInfo =
        serde_json::from_value(json!({"fileName": "a.m3u8", "sliceStartTime": "12"})).unwrap();
    assert_eq!(file.slice_start_time, Some(12));
}

#[test]
fn recording_status_codes() {
    for (code, running) in [
        (0, false),
        (3, false),
        (4, true),
        (5, true),
        (6, false),
        (20, false),
    ] {
        let status = RecordingStatus::from_code(code);
        assert!(status.is_known());
        assert_eq!((status.code(), status.is_running()), (code, running));
    }
    let unknown = query(json!({"status": 42})).status().unwrap();
    assert_eq!(unknown, RecordingStatus::Other(42));
    assert!(!unknown.is_running());
    assert_eq!(serde_json::to_value(unknown).unwrap(), json!(42));
}

#[test]
fn file_list_is_a_string_or_an_array_whatever_the_mode_says() {
    let text = query(json!({"fileListMode": "json", "fileList": "a.m3u8"}));
    assert_eq!(
        text.server_response.file_list,
        Some(FileList::Text("a.m3u8".into()))
    );
    assert_eq!(text.file_names(), ["a.m3u8"]);
    let array = query(json!({"fileListMode": "string", "fileList": [
        {"fileName": "a.m3u8", "trackType": "audio"}, {"filename": "b.mp4", "trackType": "video_2d"}]}));
    assert_eq!(array.file_names(), ["a.m3u8", "b.mp4"]);
    assert_eq!(
        array.server_response.file_list_mode,
        Some(FileListMode::String)
    );
    let Some(FileList::Json(files)) = &array.server_response.file_list else {
        panic!()
    };
    assert_eq!(files[0].track_type, Some(TrackType::Audio));
    assert_eq!(
        files[1].track_type,
        Some(TrackType::Unknown("video_2d".into()))
    );
    assert!(query(json!({"fileList": ""})).file_names().is_empty());
    assert!(
        query(json!({"fileList": null}))
            .server_response
            .file_list
            .is_none()
    );
}

#[test]
fn file_name_spellings() {
    let info: FileInfo = serde_json::from_value(json!({"filename": "x.mp4"})).unwrap();
    assert_eq!(
        serde_json::to_value(&info).unwrap(),
        json!({"fileName": "x.mp4"})
    );
    let web: WebFileInfo =
        serde_json::from_value(json!({"fileName": "y.mp4", "sliceStartTime": 3})).unwrap();
    assert_eq!(
        serde_json::to_value(&web).unwrap(),
        json!({"filename": "y.mp4", "sliceStartTime": 3})
    );
}

#[test]
fn payload_and_its_old_misspelling() {
    for key in ["payload", "playload"] {
        let body = json!({"resourceId": "r", "sid": "s", "serverResponse": {"extensionServiceState": [
            {"serviceName": "upload_service", key: {"uploadingStatus": "backuped"}}]}});
        let response: StopResponse = serde_json::from_value(body).unwrap();
        assert_eq!(
            response.uploading_status(),
            Some(&UploadingStatus::Backuped)
        );
        let written = serde_json::to_value(&response).unwrap();
        assert!(
            written["serverResponse"]["extensionServiceState"][0]
                .get("payload")
                .is_some()
        );
    }
}

#[test]
fn unknown_enum_values_are_kept_and_written_back() {
    let body = json!({"resourceId": "r", "sid": "s", "serverResponse": {
        "status": 5,
        "extensionServiceState": [{"serviceName": "snapshot_service", "payload": {
            "state": "paused", "outputs": [{"rtmpUrl": "rtmp://x/y", "status": "buffering"}]}}]}});
    let response: QueryResponse = serde_json::from_value(body.clone()).unwrap();
    let state = &response
        .server_response
        .extension_service_state
        .as_ref()
        .unwrap()[0];
    assert_eq!(
        state.service_name,
        ServiceName::Unknown("snapshot_service".into())
    );
    assert_eq!(
        state.payload.state,
        Some(ServiceRunState::Unknown("paused".into()))
    );
    let outputs = state.payload.outputs.as_ref().unwrap();
    assert_eq!(
        outputs[0].status,
        Some(RtmpStatus::Unknown("buffering".into()))
    );
    assert_eq!(serde_json::to_value(&response).unwrap(), body);

    let stop: StopResponse = serde_json::from_value(json!({"resourceId": "r", "sid": "s",
        "serverResponse": {"uploadingStatus": "stranded"}}))
    .unwrap();
    assert_eq!(stop.uploading_status(), Some(&UploadingStatus::Stranded));
    let stop: StopResponse = serde_json::from_value(json!({"resourceId": "r", "sid": "s",
        "serverResponse": {"uploadingStatus": "lost_in_space"}}))
    .unwrap();
    assert_eq!(
        stop.uploading_status(),
        Some(&UploadingStatus::Unknown("lost_in_space".into()))
    );
    assert!(!stop.uploading_status().unwrap().is_known());
}

#[test]
fn unknown_fields_and_missing_optional_parts_are_fine() {
    let response = query(json!({"status": 4, "newField": {"x": [1, 2]}, "gwWorkerVersion": 1}));
    assert!(response.is_running());
    let bare: QueryResponse =
        serde_json::from_value(json!({"resourceId": "r", "sid": "s"})).unwrap();
    assert_eq!(bare.status(), None);
    assert!(bare.file_names().is_empty());
    // Older revisions omit cname and uid.
    assert_eq!(bare.cname, None);
    assert_eq!(bare.uid, None);
}

#[test]
fn error_code_may_be_a_string() {
    let body: ErrorBody = serde_json::from_value(json!({"code": "65", "reason": "x"})).unwrap();
    assert_eq!(body.code, Some(65));
}
