//! The constructors for common cases produce bodies that are valid in their mode
//! and have the documented wire shape.

use cloudrec_types::{
    AcquireClientRequest, AcquireRequest, Area, Cname, LayoutConfig, Mode, SnapshotConfig,
    StartClientRequest, StartRequest, StopClientRequest, StopRequest, StorageConfig, StorageVendor,
    StreamSubscribe, TranscodingConfig, Uid, UpdateClientRequest, UpdateLayoutClientRequest,
    UpdateLayoutRequest, UpdateRequest, Validate, VideoUidList,
};
use serde_json::json;

fn ids() -> (Cname, Uid) {
    (Cname::new("room-1").unwrap(), Uid::new(527_841).unwrap())
}

fn storage() -> StorageConfig {
    StorageConfig::new(StorageVendor::AlibabaCloud, 3, "bucket", "ak", "sk").with_prefix(["a", "b"])
}

#[test]
fn start_constructors_are_valid_in_their_mode_only() {
    let (cname, uid) = ids();
    let cases = [
        (Mode::Mix, StartClientRequest::mix(storage()).with_mp4()),
        (
            Mode::Mix,
            StartClientRequest::mix(storage()).with_transcoding(
                TranscodingConfig::new(1280, 720, 15, 1130).with_custom_layout(vec![
                    LayoutConfig::new(Some("1".into()), 0.0, 0.0, 0.5, 1.0),
                    LayoutConfig::new(None, 0.5, 0.0, 0.5, 1.0),
                ]),
            ),
        ),
        (
            Mode::Individual,
            StartClientRequest::individual(storage()).with_snapshot(SnapshotConfig::every(5)),
        ),
        (
            Mode::Web,
            StartClientRequest::web("https://example.com", storage())
                .with_rtmp_publish("rtmp://cdn.example/live/key")
                .with_mp4(),
        ),
    ];
    for (mode, client) in cases {
        let body = StartRequest::new(cname.clone(), uid, client.with_token("tok"));
        body.validate(&mode)
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        let others = [Mode::Individual, Mode::Mix, Mode::Web];
        for other in others.iter().filter(|m| **m != mode) {
            assert!(
                body.validate(other).is_err(),
                "{mode} body accepted in {other}"
            );
        }
    }
}

#[test]
fn mix_start_wire_shape() {
    let (cname, uid) = ids();
    let body = StartRequest::new(cname, uid, StartClientRequest::mix(storage()));
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"cname": "room-1", "uid": "527841", "clientRequest": {
            "recordingConfig": {},
            "storageConfig": {"vendor": 2, "region": 3, "bucket": "bucket", "accessKey": "ak",
                "secretKey": "sk", "fileNamePrefix": ["a", "b"]}}})
    );
}

#[test]
fn storage_constructors() {
    let compatible = StorageConfig::s3_compatible("s3.example.com", "b", "ak", "sk");
    assert_eq!(
        serde_json::to_value(&compatible).unwrap(),
        json!({"vendor": 11, "region": 0, "bucket": "b", "accessKey": "ak", "secretKey": "sk",
            "extensionParams": {"endpoint": "s3.example.com"}})
    );
    let sts = StorageConfig::new(StorageVendor::AmazonS3, 0, "b", "ak", "sk").with_sts("t", 9);
    let value = serde_json::to_value(&sts).unwrap();
    assert_eq!(
        (value["stsToken"].clone(), value["stsExpiration"].clone()),
        (json!("t"), json!(9))
    );
}

#[test]
fn other_constructors() {
    let (cname, uid) = ids();
    let acquire = AcquireRequest::new(cname.clone(), uid).with_client_request(
        AcquireClientRequest::web()
            .with_resource_expired_hour(24)
            .with_region(Area::Europe),
    );
    acquire.validate(&Mode::Web).unwrap();
    assert!(acquire.validate(&Mode::Mix).is_err());
    assert_eq!(
        serde_json::to_value(&acquire.client_request).unwrap(),
        json!({"scene": 1, "resourceExpiredHour": 24, "region": "EU"})
    );
    let planned = AcquireClientRequest::default()
        .with_start_parameter(StartClientRequest::mix(storage()).with_mp4());
    AcquireRequest::new(cname.clone(), uid)
        .with_client_request(planned)
        .validate(&Mode::Mix)
        .unwrap();

    let stop = StopRequest {
        client_request: StopClientRequest::async_stop(),
        ..StopRequest::new(cname.clone(), uid)
    };
    assert_eq!(
        serde_json::to_value(&stop).unwrap()["clientRequest"],
        json!({"async_stop": true})
    );
    assert_eq!(
        serde_json::to_value(StopRequest::new(cname.clone(), uid)).unwrap()["clientRequest"],
        json!({})
    );

    let pause = UpdateRequest::new(cname.clone(), uid, UpdateClientRequest::onhold(true));
    pause.validate(&Mode::Web).unwrap();
    let rtmp = UpdateRequest::new(
        cname.clone(),
        uid,
        UpdateClientRequest::rtmp("rtmps://cdn/x"),
    );
    rtmp.validate(&Mode::Web).unwrap();
    let subscribe = UpdateClientRequest::subscribe(StreamSubscribe {
        unknown: Default::default(),
        audio_uid_list: None,
        video_uid_list: Some(VideoUidList {
            unknown: Default::default(),
            subscribe_video_uids: Some(vec!["#allstream#".into()]),
            unsubscribe_video_uids: None,
        }),
    });
    UpdateRequest::new(cname.clone(), uid, subscribe)
        .validate(&Mode::Mix)
        .unwrap();
    let rotate = UpdateClientRequest::storage(storage());
    UpdateRequest::new(cname.clone(), uid, rotate)
        .validate(&Mode::Individual)
        .unwrap();

    for layout in [
        UpdateLayoutClientRequest::vertical("42"),
        UpdateLayoutClientRequest::custom(vec![LayoutConfig::new(None, 0.0, 0.0, 1.0, 1.0)]),
    ] {
        UpdateLayoutRequest::new(cname.clone(), uid, layout)
            .validate(&Mode::Mix)
            .unwrap();
    }
}
