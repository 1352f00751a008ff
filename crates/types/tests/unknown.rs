//! Members the types do not name are kept: requests send them as given, responses
//! keep what a newer service revision added, and their paths are listed.

use cloudrec_types::{
    AcquireRequest, Bytes, QueryResponse, ResponseBody, StartRequest, StartResponse, Unknown,
    UpdateRequest,
};
use serde_json::{Value, json};

#[test]
fn an_acquire_body_sends_the_members_it_does_not_know() {
    let sent = json!({
        "cname": "room1",
        "uid": "527841",
        "clientRequest": {"regionAffinity": 1, "futureField": {}, "resourceExpiredHour": 24}
    });
    let request: AcquireRequest = serde_json::from_value(sent.clone()).unwrap();
    assert_eq!(request.client_request.resource_expired_hour, Some(24));
    assert_eq!(
        request.unknown_fields(),
        ["clientRequest.futureField", "clientRequest.regionAffinity"]
    );
    assert_eq!(serde_json::to_value(&request).unwrap(), sent);
}

#[test]
fn nested_unknown_members_are_kept_and_named_by_their_path() {
    let sent = json!({
        "cname": "room1",
        "uid": "527841",
        "clientRequest": {
            "recordingConfig": {
                "channelType": 0,
                "unsunscribeVideoUids": ["7"],
                "transcodingConfig": {
                    "width": 640, "height": 360, "fps": 15, "bitrate": 500,
                    "layoutConfig": [{"x_axis": 0.0, "y_axis": 0.0, "width": 1.0, "height": 1.0, "cornerRadius": 4}]
                }
            },
            "storageConfig": {
                "vendor": 1, "region": 0, "bucket": "b", "accessKey": "ak", "secretKey": "sk",
                "newCredential": "hidden"
            }
        }
    });
    let request: StartRequest = serde_json::from_value(sent.clone()).unwrap();
    assert_eq!(
        request.unknown_fields(),
        [
            "clientRequest.recordingConfig.transcodingConfig.layoutConfig[0].cornerRadius",
            "clientRequest.recordingConfig.unsunscribeVideoUids",
            "clientRequest.storageConfig.newCredential",
        ]
    );
    assert_eq!(serde_json::to_value(&request).unwrap(), sent);
    let shown = format!("{request:?}");
    assert!(shown.contains("newCredential"), "{shown}");
    assert!(
        !shown.contains("hidden"),
        "Debug shows unknown names, never their values: {shown}"
    );
}

#[test]
fn a_request_the_types_know_whole_has_no_unknown_member() {
    let request: UpdateRequest = serde_json::from_value(json!({
        "cname": "room1",
        "uid": "527841",
        "clientRequest": {"streamSubscribe": {"audioUidList": {"subscribeAudioUids": ["#allstream#"]}}}
    }))
    .unwrap();
    assert!(request.unknown_fields().is_empty());
}

#[test]
fn responses_keep_what_a_newer_service_adds_on_the_fast_path_and_off_it() {
    let plain = br#"{"cname":"room1","uid":"527841","resourceId":"r","sid":"s","region":"eu","futureFlags":{"a":[1,2.5,null]}}"#;
    // An escape in a kept string sends the body to serde_json instead.
    let escaped = br#"{"cname":"room\u0031","uid":"527841","resourceId":"r","sid":"s","region":"eu","futureFlags":{"a":[1,2.5,null]}}"#;
    for body in [&plain[..], &escaped[..]] {
        let started = StartResponse::from_json(&Bytes::copy_from_slice(body)).unwrap();
        assert_eq!(started.unknown.get("region"), Some(&json!("eu")));
        assert_eq!(
            started.unknown.get("futureFlags"),
            Some(&json!({"a": [1, 2.5, null]}))
        );
        assert_eq!(started.unknown_fields(), ["futureFlags", "region"]);
        let back: Value = serde_json::to_value(&started).unwrap();
        assert_eq!(back["futureFlags"], json!({"a": [1, 2.5, null]}));
    }
}

#[test]
fn query_keeps_unknown_members_at_every_level() {
    let body = br#"{"resourceId":"r","sid":"s","serverResponse":{"status":5,"fileListMode":"json","fileList":[{"fileName":"a.m3u8","trackType":"audio_and_video","uid":"0","mixedAllUser":true,"isPlayable":true,"sliceStartTime":1,"bytes":42}],"recorderVersion":"2"},"traceId":"t"}"#;
    let query = QueryResponse::from_json(&Bytes::from_static(body)).unwrap();
    assert_eq!(
        query.unknown_fields(),
        [
            "serverResponse.fileList[0].bytes",
            "serverResponse.recorderVersion",
            "traceId",
        ]
    );
}
