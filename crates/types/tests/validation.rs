//! One test per validation rule: a value on each side of the rule, checking that
//! the failure names the right field.

use cloudrec_types::{
    AcquireRequest, Mode, Rule, StartRequest, StopRequest, UpdateLayoutRequest, UpdateRequest,
    Validate, ValidationError,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Sets `value` at a `/`-separated path, creating objects on the way; a numeric
/// segment indexes an array.
fn set(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if let Ok(index) = segment.parse::<usize>() {
            node = &mut node.as_array_mut().unwrap()[index];
            if last {
                *node = value;
                return;
            }
            continue;
        }
        let map = node.as_object_mut().unwrap();
        if last {
            map.insert((*segment).to_owned(), value);
            return;
        }
        node = map.entry(*segment).or_insert_with(|| json!({}));
    }
}

fn remove(root: &mut Value, path: &str) {
    let (parent, key) = path.rsplit_once('/').unwrap();
    root.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
}

fn storage() -> Value {
    json!({"vendor": 1, "region": 0, "bucket": "b", "accessKey": "ak-secret-value", "secretKey": "sk-secret-value"})
}

fn individual_start() -> Value {
    json!({"cname": "room", "uid": "527841", "clientRequest": {
        "recordingConfig": {"channelType": 0, "subscribeUidGroup": 0},
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": storage()}})
}

fn mix_start() -> Value {
    json!({"cname": "room", "uid": "527841", "clientRequest": {
        "recordingConfig": {"transcodingConfig": {"width": 640, "height": 360, "fps": 15, "bitrate": 500}},
        "storageConfig": storage()}})
}

fn web_start() -> Value {
    json!({"cname": "room", "uid": "527841", "clientRequest": {
        "extensionServiceConfig": {"extensionServices": [
            {"serviceName": "web_recorder_service", "serviceParam": {
                "url": "https://example.com/page", "audioProfile": 0, "videoWidth": 1280,
                "videoHeight": 720, "maxRecordingHour": 3}}]},
        "storageConfig": storage()}})
}

fn check<T: DeserializeOwned + Validate>(body: &Value, mode: &Mode) -> Result<(), ValidationError> {
    let request: T = serde_json::from_value(body.clone()).unwrap();
    request.validate(mode)
}

/// `body` with `path` set to `good` validates and with `bad` fails naming `field`.
#[track_caller]
fn both_sides<T: DeserializeOwned + Validate>(
    base: &Value,
    mode: &Mode,
    path: &str,
    good: Value,
    bad: Value,
    field: &str,
) -> Rule {
    let mut ok = base.clone();
    set(&mut ok, path, good);
    if let Err(error) = check::<T>(&ok, mode) {
        panic!("good value for {path} refused: {error}");
    }
    let mut ko = base.clone();
    set(&mut ko, path, bad);
    let error = check::<T>(&ko, mode).expect_err("bad value accepted");
    assert_eq!(error.field(), field, "{error}");
    assert!(error.to_string().starts_with(field));
    error.rule().clone()
}

#[track_caller]
fn start_sides(base: &Value, mode: Mode, path: &str, good: Value, bad: Value, field: &str) -> Rule {
    both_sides::<StartRequest>(base, &mode, path, good, bad, field)
}

const RC: &str = "/clientRequest/recordingConfig";
const TC: &str = "/clientRequest/recordingConfig/transcodingConfig";
const SC: &str = "/clientRequest/storageConfig";
const WEB: &str = "/clientRequest/extensionServiceConfig/extensionServices/0/serviceParam";

#[test]
fn the_bases_are_valid() {
    for (body, mode) in [
        (individual_start(), Mode::Individual),
        (mix_start(), Mode::Mix),
        (web_start(), Mode::Web),
    ] {
        check::<StartRequest>(&body, &mode).unwrap();
    }
}

#[test]
fn display_names_field_rule_and_value() {
    let mut body = individual_start();
    set(&mut body, &format!("{RC}/maxIdleTime"), json!(3));
    let error = check::<StartRequest>(&body, &Mode::Individual).unwrap_err();
    assert_eq!(
        error.to_string(),
        "clientRequest.recordingConfig.maxIdleTime: must be in 5..=2592000, got 3"
    );
    assert_eq!(
        error.rule(),
        &Rule::Range {
            min: 5,
            max: 2_592_000,
            got: 3
        }
    );
}

#[test]
fn cname_charset_and_length_depend_on_mode() {
    let base = individual_start();
    start_sides(
        &base,
        Mode::Individual,
        "/cname",
        json!("a b!#$%&()+-:;<=.>?@[]^_{}|~,"),
        json!("room/1"),
        "cname",
    );
    start_sides(
        &base,
        Mode::Individual,
        "/cname",
        json!("x".repeat(63)),
        json!("x".repeat(64)),
        "cname",
    );
    start_sides(
        &base,
        Mode::Individual,
        "/cname",
        json!("r"),
        json!(""),
        "cname",
    );
    let web = web_start();
    start_sides(
        &web,
        Mode::Web,
        "/cname",
        json!("é/ü ".repeat(170)),
        json!("x".repeat(1025)),
        "cname",
    );
}

#[test]
fn uid_zero_and_out_of_range_do_not_decode() {
    let mut body = individual_start();
    for bad in ["0", "4294967296", "-5", "abc"] {
        set(&mut body, "/uid", json!(bad));
        assert!(
            serde_json::from_value::<StartRequest>(body.clone()).is_err(),
            "{bad}"
        );
    }
    set(&mut body, "/uid", json!("4294967295"));
    check::<StartRequest>(&body, &Mode::Individual).unwrap();
}

#[test]
fn acquire_rules() {
    let base = json!({"cname": "room", "uid": "1", "clientRequest": {}});
    let rule = both_sides::<AcquireRequest>(
        &base,
        &Mode::Mix,
        "/clientRequest/resourceExpiredHour",
        json!(720),
        json!(721),
        "clientRequest.resourceExpiredHour",
    );
    assert_eq!(
        rule,
        Rule::Range {
            min: 1,
            max: 720,
            got: 721
        }
    );
    both_sides::<AcquireRequest>(
        &base,
        &Mode::Mix,
        "/clientRequest/resourceExpiredHour",
        json!(1),
        json!(0),
        "clientRequest.resourceExpiredHour",
    );
    both_sides::<AcquireRequest>(
        &base,
        &Mode::Web,
        "/clientRequest/scene",
        json!(1),
        json!(0),
        "clientRequest.scene",
    );
    both_sides::<AcquireRequest>(
        &base,
        &Mode::Mix,
        "/clientRequest/scene",
        json!(0),
        json!(1),
        "clientRequest.scene",
    );
    both_sides::<AcquireRequest>(
        &base,
        &Mode::Individual,
        "/clientRequest/scene",
        json!(2),
        json!(7),
        "clientRequest.scene",
    );
    both_sides::<AcquireRequest>(
        &base,
        &Mode::Mix,
        "/clientRequest/region",
        json!("EU"),
        json!("XX"),
        "clientRequest.region",
    );
    both_sides::<AcquireRequest>(
        &base,
        &Mode::Mix,
        "/clientRequest/excludeResourceIds",
        json!(["rid"]),
        json!([""]),
        "clientRequest.excludeResourceIds[0]",
    );
    both_sides::<AcquireRequest>(
        &base,
        &Mode::Individual,
        "/cname",
        json!("ok"),
        json!("no/slash"),
        "cname",
    );
    // startParameter is checked as the later start body, under its own path.
    let mut start = mix_start()["clientRequest"].clone();
    set(&mut start, "/recordingConfig/maxIdleTime", json!(2));
    both_sides::<AcquireRequest>(
        &base,
        &Mode::Mix,
        "/clientRequest/startParameter",
        mix_start()["clientRequest"].clone(),
        start,
        "clientRequest.startParameter.recordingConfig.maxIdleTime",
    );
}

#[test]
fn recording_config_is_required_outside_web() {
    let mut body = individual_start();
    remove(&mut body, RC);
    let error = check::<StartRequest>(&body, &Mode::Individual).unwrap_err();
    assert_eq!(error.field(), "clientRequest.recordingConfig");
    assert_eq!(error.rule(), &Rule::Required);
}

#[test]
fn max_idle_time_range() {
    let base = individual_start();
    let path = format!("{RC}/maxIdleTime");
    let field = "clientRequest.recordingConfig.maxIdleTime";
    start_sides(&base, Mode::Individual, &path, json!(5), json!(4), field);
    start_sides(
        &base,
        Mode::Individual,
        &path,
        json!(2_592_000),
        json!(2_592_001),
        field,
    );
}

#[test]
fn subscription_lists() {
    let mut base = individual_start();
    // Up to 32 uids need subscribeUidGroup 4.
    set(&mut base, &format!("{RC}/subscribeUidGroup"), json!(4));
    let uids: Vec<String> = (1..=33).map(|n| n.to_string()).collect();
    let rule = start_sides(
        &base,
        Mode::Individual,
        &format!("{RC}/subscribeAudioUids"),
        json!(uids[..32]),
        json!(uids),
        "clientRequest.recordingConfig.subscribeAudioUids",
    );
    assert_eq!(rule, Rule::TooMany { max: 32, got: 33 });
    start_sides(
        &base,
        Mode::Individual,
        &format!("{RC}/subscribeVideoUids"),
        json!(["#allstream#"]),
        json!(["abc"]),
        "clientRequest.recordingConfig.subscribeVideoUids[0]",
    );
    start_sides(
        &base,
        Mode::Individual,
        &format!("{RC}/unsubscribeVideoUids"),
        json!(["7"]),
        json!(["0"]),
        "clientRequest.recordingConfig.unSubscribeVideoUids[0]",
    );
    // Allow- and deny-list together.
    let mut with_allow = base.clone();
    set(
        &mut with_allow,
        &format!("{RC}/subscribeAudioUids"),
        json!(["1"]),
    );
    let mut both = with_allow.clone();
    set(
        &mut both,
        &format!("{RC}/unSubscribeAudioUids"),
        json!(["2"]),
    );
    let error = check::<StartRequest>(&both, &Mode::Individual).unwrap_err();
    assert_eq!(
        error.field(),
        "clientRequest.recordingConfig.unSubscribeAudioUids"
    );
    assert_eq!(
        error.rule(),
        &Rule::Exclusive {
            other: "subscribeAudioUids"
        }
    );
    // A video list needs video in streamTypes.
    let mut video_list = base.clone();
    set(
        &mut video_list,
        &format!("{RC}/subscribeVideoUids"),
        json!(["1"]),
    );
    start_sides(
        &video_list,
        Mode::Individual,
        &format!("{RC}/streamTypes"),
        json!(1),
        json!(0),
        "clientRequest.recordingConfig.subscribeVideoUids",
    );
}

#[test]
fn subscribe_uid_group() {
    let mut base = individual_start();
    set(
        &mut base,
        &format!("{RC}/subscribeAudioUids"),
        json!(["1", "2", "3"]),
    );
    let field = "clientRequest.recordingConfig.subscribeUidGroup";
    // Three uids need group 1 (3-7 uids) or more.
    let rule = start_sides(
        &base,
        Mode::Individual,
        &format!("{RC}/subscribeUidGroup"),
        json!(1),
        json!(0),
        field,
    );
    assert_eq!(
        rule,
        Rule::Range {
            min: 1,
            max: 5,
            got: 0
        }
    );
    start_sides(
        &base,
        Mode::Individual,
        &format!("{RC}/subscribeUidGroup"),
        json!(5),
        json!(6),
        field,
    );
    let mut missing = base.clone();
    remove(&mut missing, &format!("{RC}/subscribeUidGroup"));
    let error = check::<StartRequest>(&missing, &Mode::Individual).unwrap_err();
    assert_eq!((error.field(), error.rule()), (field, &Rule::Required));
    // Not needed in mix mode.
    let mut mix = mix_start();
    set(&mut mix, &format!("{RC}/subscribeAudioUids"), json!(["1"]));
    check::<StartRequest>(&mix, &Mode::Mix).unwrap();
}

#[test]
fn decryption_needs_secret_and_salt() {
    let base = individual_start();
    let mut encrypted = base.clone();
    set(&mut encrypted, &format!("{RC}/decryptionMode"), json!(1));
    let error = check::<StartRequest>(&encrypted, &Mode::Individual).unwrap_err();
    assert_eq!(error.field(), "clientRequest.recordingConfig.secret");
    start_sides(
        &encrypted,
        Mode::Individual,
        &format!("{RC}/secret"),
        json!("channel-key"),
        json!(""),
        "clientRequest.recordingConfig.secret",
    );
    let mut gcm2 = base.clone();
    set(&mut gcm2, &format!("{RC}/decryptionMode"), json!(7));
    set(&mut gcm2, &format!("{RC}/secret"), json!("channel-key"));
    let salt_32 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let rule = start_sides(
        &gcm2,
        Mode::Individual,
        &format!("{RC}/salt"),
        json!(salt_32),
        json!("c2hvcnQ="),
        "clientRequest.recordingConfig.salt",
    );
    assert!(
        !rule.to_string().contains("c2hvcnQ"),
        "the salt leaked: {rule}"
    );
}

#[test]
fn unknown_codes_are_refused() {
    let base = individual_start();
    start_sides(
        &base,
        Mode::Individual,
        &format!("{RC}/decryptionMode"),
        json!(0),
        json!(9),
        "clientRequest.recordingConfig.decryptionMode",
    );
    start_sides(
        &base,
        Mode::Individual,
        &format!("{RC}/channelType"),
        json!(1),
        json!(2),
        "clientRequest.recordingConfig.channelType",
    );
    start_sides(
        &base,
        Mode::Individual,
        &format!("{RC}/streamTypes"),
        json!(2),
        json!(3),
        "clientRequest.recordingConfig.streamTypes",
    );
    start_sides(
        &base,
        Mode::Individual,
        &format!("{RC}/videoStreamType"),
        json!(1),
        json!(2),
        "clientRequest.recordingConfig.videoStreamType",
    );
    start_sides(
        &mix_start(),
        Mode::Mix,
        &format!("{RC}/audioProfile"),
        json!(2),
        json!(3),
        "clientRequest.recordingConfig.audioProfile",
    );
}

#[test]
fn stream_mode_is_individual_only_and_original_needs_audio_only() {
    let base = individual_start();
    start_sides(
        &base,
        Mode::Individual,
        &format!("{RC}/streamMode"),
        json!("standard"),
        json!("weird"),
        "clientRequest.recordingConfig.streamMode",
    );
    let mut original = base.clone();
    set(
        &mut original,
        &format!("{RC}/streamMode"),
        json!("original"),
    );
    start_sides(
        &original,
        Mode::Individual,
        &format!("{RC}/streamTypes"),
        json!(0),
        json!(2),
        "clientRequest.recordingConfig.streamMode",
    );
    let mut mix = mix_start();
    set(&mut mix, &format!("{RC}/streamMode"), json!("default"));
    let error = check::<StartRequest>(&mix, &Mode::Mix).unwrap_err();
    assert_eq!(error.field(), "clientRequest.recordingConfig.streamMode");
    assert!(matches!(error.rule(), Rule::NotInMode { .. }));
}

#[test]
fn mode_specific_blocks() {
    // transcodingConfig and audioProfile only in mix.
    let mut individual = individual_start();
    set(&mut individual, &format!("{TC}/bitrate"), json!(500));
    let error = check::<StartRequest>(&individual, &Mode::Individual).unwrap_err();
    assert_eq!(
        error.field(),
        "clientRequest.recordingConfig.transcodingConfig"
    );
    let mut individual = individual_start();
    set(&mut individual, &format!("{RC}/audioProfile"), json!(1));
    let error = check::<StartRequest>(&individual, &Mode::Individual).unwrap_err();
    assert_eq!(error.field(), "clientRequest.recordingConfig.audioProfile");
    // snapshotConfig only in individual.
    let mut mix = mix_start();
    set(
        &mut mix,
        "/clientRequest/snapshotConfig",
        json!({"captureInterval": 5, "fileType": ["jpg"]}),
    );
    let error = check::<StartRequest>(&mix, &Mode::Mix).unwrap_err();
    assert_eq!(error.field(), "clientRequest.snapshotConfig");
    // extensionServiceConfig only in web, and required there.
    let mut mix = mix_start();
    set(
        &mut mix,
        "/clientRequest/extensionServiceConfig",
        web_start()["clientRequest"]["extensionServiceConfig"].clone(),
    );
    let error = check::<StartRequest>(&mix, &Mode::Mix).unwrap_err();
    assert_eq!(error.field(), "clientRequest.extensionServiceConfig");
    let mut web = web_start();
    remove(&mut web, "/clientRequest/extensionServiceConfig");
    let error = check::<StartRequest>(&web, &Mode::Web).unwrap_err();
    assert_eq!(
        (error.field(), error.rule()),
        ("clientRequest.extensionServiceConfig", &Rule::Required)
    );
}

#[test]
fn transcoding_limits() {
    let base = mix_start();
    let rule = start_sides(
        &base,
        Mode::Mix,
        &format!("{TC}/bitrate"),
        json!(6500),
        json!(6501),
        "clientRequest.recordingConfig.transcodingConfig.bitrate",
    );
    assert_eq!(
        rule,
        Rule::Range {
            min: 1,
            max: 6500,
            got: 6501
        }
    );
    let mut wide = base.clone();
    set(&mut wide, &format!("{TC}/width"), json!(1920));
    start_sides(
        &wide,
        Mode::Mix,
        &format!("{TC}/height"),
        json!(1080),
        json!(1081),
        "clientRequest.recordingConfig.transcodingConfig.width",
    );
    let mut tall = base.clone();
    set(&mut tall, &format!("{TC}/height"), json!(1920));
    start_sides(
        &tall,
        Mode::Mix,
        &format!("{TC}/width"),
        json!(1080),
        json!(1081),
        "clientRequest.recordingConfig.transcodingConfig.width",
    );
    start_sides(
        &base,
        Mode::Mix,
        &format!("{TC}/height"),
        json!(1),
        json!(0),
        "clientRequest.recordingConfig.transcodingConfig.height",
    );
    start_sides(
        &base,
        Mode::Mix,
        &format!("{TC}/fps"),
        json!(30),
        json!(0),
        "clientRequest.recordingConfig.transcodingConfig.fps",
    );
    start_sides(
        &base,
        Mode::Mix,
        &format!("{TC}/backgroundColor"),
        json!("#00ff7A"),
        json!("#FFF"),
        "clientRequest.recordingConfig.transcodingConfig.backgroundColor",
    );
    start_sides(
        &base,
        Mode::Mix,
        &format!("{TC}/backgroundColor"),
        json!("#000000"),
        json!("000000F"),
        "clientRequest.recordingConfig.transcodingConfig.backgroundColor",
    );
    start_sides(
        &base,
        Mode::Mix,
        &format!("{TC}/mixedVideoLayout"),
        json!(3),
        json!(4),
        "clientRequest.recordingConfig.transcodingConfig.mixedVideoLayout",
    );
    start_sides(
        &base,
        Mode::Mix,
        &format!("{TC}/backgroundImage"),
        json!("https://x.example/a.jpg"),
        json!("ftp://x.example/a.jpg"),
        "clientRequest.recordingConfig.transcodingConfig.backgroundImage",
    );
    // The vertical layout needs its big-window uid.
    let mut vertical = base.clone();
    set(&mut vertical, &format!("{TC}/mixedVideoLayout"), json!(2));
    let error = check::<StartRequest>(&vertical, &Mode::Mix).unwrap_err();
    assert_eq!(
        error.field(),
        "clientRequest.recordingConfig.transcodingConfig.maxResolutionUid"
    );
    start_sides(
        &vertical,
        Mode::Mix,
        &format!("{TC}/maxResolutionUid"),
        json!("42"),
        json!("x"),
        "clientRequest.recordingConfig.transcodingConfig.maxResolutionUid",
    );
}

fn window(x: f64) -> Value {
    json!({"x_axis": x, "y_axis": 0, "width": 0.5, "height": 1, "alpha": 1.0, "render_mode": 1})
}

#[test]
fn layout_windows() {
    let base = mix_start();
    let path = format!("{TC}/layoutConfig");
    let field = "clientRequest.recordingConfig.transcodingConfig.layoutConfig";
    let rule = start_sides(
        &base,
        Mode::Mix,
        &path,
        json!(vec![window(0.0); 17]),
        json!(vec![window(0.0); 18]),
        field,
    );
    assert_eq!(rule, Rule::TooMany { max: 17, got: 18 });
    start_sides(
        &base,
        Mode::Mix,
        &path,
        json!([window(1.0)]),
        json!([window(1.000_001)]),
        &format!("{field}[0].x_axis"),
    );
    start_sides(
        &base,
        Mode::Mix,
        &path,
        json!([window(0.0)]),
        json!([window(-0.1)]),
        &format!("{field}[0].x_axis"),
    );
    let mut one = base.clone();
    set(&mut one, &path, json!([window(0.5)]));
    start_sides(
        &one,
        Mode::Mix,
        &format!("{path}/0/alpha"),
        json!(0),
        json!(1.5),
        &format!("{field}[0].alpha"),
    );
    start_sides(
        &one,
        Mode::Mix,
        &format!("{path}/0/height"),
        json!(0.25),
        json!(2),
        &format!("{field}[0].height"),
    );
    start_sides(
        &one,
        Mode::Mix,
        &format!("{path}/0/y_axis"),
        json!(0.25),
        json!(-1),
        &format!("{field}[0].y_axis"),
    );
    start_sides(
        &one,
        Mode::Mix,
        &format!("{path}/0/width"),
        json!(0.25),
        json!(1.01),
        &format!("{field}[0].width"),
    );
    start_sides(
        &one,
        Mode::Mix,
        &format!("{path}/0/render_mode"),
        json!(0),
        json!(2),
        &format!("{field}[0].render_mode"),
    );
    start_sides(
        &one,
        Mode::Mix,
        &format!("{path}/0/uid"),
        json!("9"),
        json!("nine"),
        &format!("{field}[0].uid"),
    );
    let backgrounds = format!("{TC}/backgroundConfig");
    start_sides(
        &base,
        Mode::Mix,
        &backgrounds,
        json!([{"uid": "1", "image_url": "https://x.example/1.jpg"}]),
        json!([{"uid": "1", "image_url": "http://x.example/1.jpg"}]),
        "clientRequest.recordingConfig.transcodingConfig.backgroundConfig[0].image_url",
    );
}

#[test]
fn av_file_type_combinations() {
    let path = "/clientRequest/recordingFileConfig/avFileType";
    let field = "clientRequest.recordingFileConfig.avFileType";
    start_sides(
        &mix_start(),
        Mode::Mix,
        path,
        json!(["hls", "mp4"]),
        json!(["mp4"]),
        field,
    );
    start_sides(
        &mix_start(),
        Mode::Mix,
        path,
        json!(["hls"]),
        json!([]),
        field,
    );
    start_sides(
        &mix_start(),
        Mode::Mix,
        path,
        json!(["mp4", "hls"]),
        json!(["hls", "flv"]),
        &format!("{field}[1]"),
    );
    start_sides(
        &mix_start(),
        Mode::Mix,
        path,
        json!(["hls", "mp4"]),
        json!(["hls", "hls"]),
        &format!("{field}[1]"),
    );
    start_sides(
        &web_start(),
        Mode::Web,
        path,
        json!(["hls", "mp4"]),
        json!(["mp4"]),
        field,
    );
    start_sides(
        &individual_start(),
        Mode::Individual,
        path,
        json!(["hls"]),
        json!(["hls", "mp4"]),
        &format!("{field}[1]"),
    );
    // The preview raw mode adds mp3.
    let mut raw = individual_start();
    set(&mut raw, path, json!(["mp3"]));
    check::<StartRequest>(&raw, &Mode::parse("raw")).unwrap();
    let error = check::<StartRequest>(&raw, &Mode::Individual).unwrap_err();
    assert_eq!(error.field(), format!("{field}[0]"));
}

#[test]
fn snapshot_rules() {
    let mut base = individual_start();
    set(
        &mut base,
        "/clientRequest/snapshotConfig",
        json!({"captureInterval": 10, "fileType": ["jpg"]}),
    );
    let interval = "/clientRequest/snapshotConfig/captureInterval";
    let field = "clientRequest.snapshotConfig.captureInterval";
    start_sides(&base, Mode::Individual, interval, json!(5), json!(4), field);
    start_sides(
        &base,
        Mode::Individual,
        interval,
        json!(3600),
        json!(3601),
        field,
    );
    start_sides(
        &base,
        Mode::Individual,
        "/clientRequest/snapshotConfig/fileType",
        json!(["jpg"]),
        json!(["png"]),
        "clientRequest.snapshotConfig.fileType",
    );
    start_sides(
        &base,
        Mode::Individual,
        "/clientRequest/snapshotConfig/fileType",
        json!(["jpg"]),
        json!(["jpg", "jpg"]),
        "clientRequest.snapshotConfig.fileType",
    );
    start_sides(
        &base,
        Mode::Individual,
        &format!("{RC}/streamTypes"),
        json!(1),
        json!(0),
        "clientRequest.snapshotConfig",
    );
    let mut audio_list = base.clone();
    set(
        &mut audio_list,
        &format!("{RC}/subscribeAudioUids"),
        json!(["1"]),
    );
    let error = check::<StartRequest>(&audio_list, &Mode::Individual).unwrap_err();
    assert_eq!(error.field(), "clientRequest.snapshotConfig");
    set(
        &mut audio_list,
        &format!("{RC}/subscribeVideoUids"),
        json!(["1"]),
    );
    check::<StartRequest>(&audio_list, &Mode::Individual).unwrap();
}

#[test]
fn storage_rules() {
    let base = mix_start();
    let m = Mode::Mix;
    start_sides(
        &base,
        m.clone(),
        &format!("{SC}/vendor"),
        json!(7),
        json!(4),
        "clientRequest.storageConfig.vendor",
    );
    start_sides(
        &base,
        m.clone(),
        &format!("{SC}/region"),
        json!(25),
        json!(23),
        "clientRequest.storageConfig.region",
    );
    let mut baidu = base.clone();
    set(&mut baidu, &format!("{SC}/vendor"), json!(8));
    start_sides(
        &baidu,
        m.clone(),
        &format!("{SC}/region"),
        json!(7),
        json!(0),
        "clientRequest.storageConfig.region",
    );
    let mut azure = base.clone();
    set(&mut azure, &format!("{SC}/vendor"), json!(5));
    start_sides(
        &azure,
        m.clone(),
        &format!("{SC}/region"),
        json!(0),
        json!(1),
        "clientRequest.storageConfig.region",
    );
    start_sides(
        &base,
        m.clone(),
        &format!("{SC}/bucket"),
        json!("b"),
        json!(""),
        "clientRequest.storageConfig.bucket",
    );
    start_sides(
        &base,
        m.clone(),
        &format!("{SC}/accessKey"),
        json!("k"),
        json!(""),
        "clientRequest.storageConfig.accessKey",
    );
    start_sides(
        &base,
        m.clone(),
        &format!("{SC}/secretKey"),
        json!("k"),
        json!(""),
        "clientRequest.storageConfig.secretKey",
    );
    // STS tokens: vendors 1-3 only.
    start_sides(
        &base,
        m.clone(),
        &format!("{SC}/stsToken"),
        json!("tok"),
        json!(""),
        "clientRequest.storageConfig.stsToken",
    );
    let mut sts = base.clone();
    set(
        &mut sts,
        &format!("{SC}/stsToken"),
        json!("sts-secret-token"),
    );
    set(
        &mut sts,
        &format!("{SC}/stsExpiration"),
        json!(1_735_689_600_u64),
    );
    let rule = start_sides(
        &sts,
        m.clone(),
        &format!("{SC}/vendor"),
        json!(3),
        json!(6),
        "clientRequest.storageConfig.stsToken",
    );
    assert!(!rule.to_string().contains("sts-secret-token"));
    let mut no_token = base.clone();
    set(&mut no_token, &format!("{SC}/stsExpiration"), json!(1));
    assert_eq!(
        check::<StartRequest>(&no_token, &m).unwrap_err().field(),
        "clientRequest.storageConfig.stsExpiration"
    );
    // S3-compatible needs an endpoint, and only it may have one.
    let mut compatible = base.clone();
    set(&mut compatible, &format!("{SC}/vendor"), json!(11));
    let error = check::<StartRequest>(&compatible, &m).unwrap_err();
    assert_eq!(
        (error.field(), error.rule()),
        (
            "clientRequest.storageConfig.extensionParams.endpoint",
            &Rule::Required
        )
    );
    start_sides(
        &compatible,
        m.clone(),
        &format!("{SC}/extensionParams/endpoint"),
        json!("s3.example.com"),
        json!(""),
        "clientRequest.storageConfig.extensionParams.endpoint",
    );
}

#[test]
#[should_panic(expected = "bad value accepted")]
fn both_sides_notices_an_accepted_bad_value() {
    start_sides(
        &mix_start(),
        Mode::Mix,
        &format!("{SC}/bucket"),
        json!("a"),
        json!("b"),
        "clientRequest.storageConfig.bucket",
    );
}

#[test]
fn storage_extension_params_and_prefix() {
    let base = mix_start();
    let m = Mode::Mix;
    let mut endpoint_elsewhere = base.clone();
    set(
        &mut endpoint_elsewhere,
        &format!("{SC}/extensionParams/endpoint"),
        json!("s3.example.com"),
    );
    assert_eq!(
        check::<StartRequest>(&endpoint_elsewhere, &m)
            .unwrap_err()
            .field(),
        "clientRequest.storageConfig.extensionParams.endpoint"
    );
    start_sides(
        &base,
        m.clone(),
        &format!("{SC}/extensionParams/sse"),
        json!("kms"),
        json!("des"),
        "clientRequest.storageConfig.extensionParams.sse",
    );
    let mut oss = base.clone();
    set(
        &mut oss,
        &format!("{SC}/extensionParams/sse"),
        json!("aes256"),
    );
    start_sides(
        &oss,
        m.clone(),
        &format!("{SC}/vendor"),
        json!(1),
        json!(2),
        "clientRequest.storageConfig.extensionParams.sse",
    );
    let mut tagged = base.clone();
    set(
        &mut tagged,
        &format!("{SC}/extensionParams/tag"),
        json!("project"),
    );
    start_sides(
        &tagged,
        m.clone(),
        &format!("{SC}/vendor"),
        json!(2),
        json!(3),
        "clientRequest.storageConfig.extensionParams.tag",
    );
    let prefix = format!("{SC}/fileNamePrefix");
    start_sides(
        &base,
        m.clone(),
        &prefix,
        json!(["abc", "Dir2"]),
        json!(["abc", "a-b"]),
        "clientRequest.storageConfig.fileNamePrefix[1]",
    );
    start_sides(
        &base,
        m.clone(),
        &prefix,
        json!(["abc"]),
        json!(["abc", ""]),
        "clientRequest.storageConfig.fileNamePrefix[1]",
    );
    // 128 characters in all, slashes between segments included.
    let fits = json!(["a".repeat(63), "b".repeat(64)]);
    let too_long = json!(["a".repeat(64), "b".repeat(64)]);
    let rule = start_sides(
        &base,
        m.clone(),
        &prefix,
        fits,
        too_long,
        "clientRequest.storageConfig.fileNamePrefix",
    );
    assert_eq!(
        rule,
        Rule::TooLong {
            max: 128,
            got: 129,
            unit: "characters"
        }
    );
}

#[test]
fn web_recorder_ranges() {
    let base = web_start();
    let w = Mode::Web;
    let field = |name: &str| {
        format!("clientRequest.extensionServiceConfig.extensionServices[0].serviceParam.{name}")
    };
    start_sides(
        &base,
        w.clone(),
        &format!("{WEB}/maxRecordingHour"),
        json!(720),
        json!(721),
        &field("maxRecordingHour"),
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{WEB}/maxRecordingHour"),
        json!(1),
        json!(0),
        &field("maxRecordingHour"),
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{WEB}/videoFps"),
        json!(60),
        json!(61),
        &field("videoFps"),
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{WEB}/videoFps"),
        json!(5),
        json!(4),
        &field("videoFps"),
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{WEB}/maxVideoDuration"),
        json!(30),
        json!(29),
        &field("maxVideoDuration"),
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{WEB}/maxVideoDuration"),
        json!(240),
        json!(241),
        &field("maxVideoDuration"),
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{WEB}/readyTimeout"),
        json!(60),
        json!(61),
        &field("readyTimeout"),
    );
    let mut wide = base.clone();
    set(&mut wide, &format!("{WEB}/videoWidth"), json!(1920));
    start_sides(
        &wide,
        w.clone(),
        &format!("{WEB}/videoHeight"),
        json!(1080),
        json!(1088),
        &field("videoWidth"),
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{WEB}/videoWidth"),
        json!(240),
        json!(0),
        &field("videoWidth"),
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{WEB}/videoBitrate"),
        json!(2000),
        json!(0),
        &field("videoBitrate"),
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{WEB}/audioProfile"),
        json!(2),
        json!(3),
        &field("audioProfile"),
    );
    let rule = start_sides(
        &base,
        w.clone(),
        &format!("{WEB}/url"),
        json!("http://example.com"),
        json!("file:///etc/passwd?key=hidden"),
        &field("url"),
    );
    assert!(!rule.to_string().contains("hidden"), "{rule}");
}

#[test]
fn extension_service_rules() {
    let base = web_start();
    let w = Mode::Web;
    let services = "/clientRequest/extensionServiceConfig/extensionServices";
    let field = "clientRequest.extensionServiceConfig.extensionServices";
    let recorder = base["clientRequest"]["extensionServiceConfig"]["extensionServices"][0].clone();
    let rtmp = |urls: Vec<&str>| {
        let outputs: Vec<Value> = urls.into_iter().map(|u| json!({"rtmpUrl": u})).collect();
        json!({"serviceName": "rtmp_publish_service", "errorHandlePolicy": "error_ignore", "serviceParam": {"outputs": outputs}})
    };
    start_sides(
        &base,
        w.clone(),
        services,
        json!([recorder.clone(), rtmp(vec!["rtmps://cdn/live"])]),
        json!([recorder.clone(), rtmp(vec!["http://cdn/live"])]),
        &format!("{field}[1].serviceParam.outputs[0].rtmpUrl"),
    );
    start_sides(
        &base,
        w.clone(),
        services,
        json!([recorder.clone(), rtmp(vec!["rtmp://cdn/a"])]),
        json!([recorder.clone(), rtmp(vec!["rtmp://cdn/a", "rtmp://cdn/b"])]),
        &format!("{field}[1].serviceParam.outputs"),
    );
    start_sides(
        &base,
        w.clone(),
        services,
        json!([recorder.clone()]),
        json!([recorder.clone(), recorder.clone()]),
        &format!("{field}[1].serviceName"),
    );
    start_sides(
        &base,
        w.clone(),
        services,
        json!([recorder.clone()]),
        json!([]),
        field,
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{services}/0/serviceName"),
        json!("web_recorder_service"),
        json!("upload_service"),
        &format!("{field}[0].serviceName"),
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{services}/0/serviceName"),
        json!("web_recorder_service"),
        json!("rtmp_publish_service"),
        &format!("{field}[0].serviceParam"),
    );
    start_sides(
        &base,
        w.clone(),
        &format!("{services}/0/errorHandlePolicy"),
        json!("error_ignore"),
        json!("retry"),
        &format!("{field}[0].errorHandlePolicy"),
    );
    start_sides(
        &base,
        w.clone(),
        "/clientRequest/extensionServiceConfig/errorHandlePolicy",
        json!("error_abort"),
        json!("error_ignore"),
        "clientRequest.extensionServiceConfig.errorHandlePolicy",
    );
    start_sides(
        &base,
        w.clone(),
        "/clientRequest/token",
        json!("rtc-token"),
        json!(""),
        "clientRequest.token",
    );
}

#[test]
fn update_rules() {
    let base = json!({"cname": "room", "uid": "1", "clientRequest": {}});
    let subscribe = json!({"audioUidList": {"subscribeAudioUids": ["1"]}, "videoUidList": {"unsubscribeVideoUids": ["2"]}});
    let both =
        json!({"audioUidList": {"subscribeAudioUids": ["1"], "unSubscribeAudioUids": ["2"]}});
    let rule = both_sides::<UpdateRequest>(
        &base,
        &Mode::Mix,
        "/clientRequest/streamSubscribe",
        subscribe.clone(),
        both,
        "clientRequest.streamSubscribe.audioUidList.unSubscribeAudioUids",
    );
    assert_eq!(
        rule,
        Rule::Exclusive {
            other: "subscribeAudioUids"
        }
    );
    let long: Vec<String> = (1..=33).map(|n| n.to_string()).collect();
    both_sides::<UpdateRequest>(
        &base,
        &Mode::Individual,
        "/clientRequest/streamSubscribe",
        subscribe.clone(),
        json!({"videoUidList": {"subscribeVideoUids": long}}),
        "clientRequest.streamSubscribe.videoUidList.subscribeVideoUids",
    );
    // Mode-specific blocks.
    let mut web_subscribe = base.clone();
    set(
        &mut web_subscribe,
        "/clientRequest/streamSubscribe",
        subscribe,
    );
    assert_eq!(
        check::<UpdateRequest>(&web_subscribe, &Mode::Web)
            .unwrap_err()
            .field(),
        "clientRequest.streamSubscribe"
    );
    let mut onhold = base.clone();
    set(
        &mut onhold,
        "/clientRequest/webRecordingConfig/onhold",
        json!(true),
    );
    check::<UpdateRequest>(&onhold, &Mode::Web).unwrap();
    assert_eq!(
        check::<UpdateRequest>(&onhold, &Mode::Mix)
            .unwrap_err()
            .field(),
        "clientRequest.webRecordingConfig"
    );
    both_sides::<UpdateRequest>(
        &base,
        &Mode::Web,
        "/clientRequest/rtmpPublishConfig/outputs",
        json!([{"rtmpUrl": "rtmp://cdn/x"}]),
        json!([]),
        "clientRequest.rtmpPublishConfig.outputs",
    );
    let mut rtmp = base.clone();
    set(
        &mut rtmp,
        "/clientRequest/rtmpPublishConfig/outputs",
        json!([{"rtmpUrl": "rtmp://cdn/x"}]),
    );
    assert_eq!(
        check::<UpdateRequest>(&rtmp, &Mode::Individual)
            .unwrap_err()
            .field(),
        "clientRequest.rtmpPublishConfig"
    );
    // Storage rotation is checked like start's.
    let mut sts = storage();
    set(&mut sts, "/stsToken", json!("t"));
    let mut bad_sts = sts.clone();
    set(&mut bad_sts, "/vendor", json!(5));
    both_sides::<UpdateRequest>(
        &base,
        &Mode::Web,
        "/clientRequest/storageConfig",
        sts,
        bad_sts,
        "clientRequest.storageConfig.stsToken",
    );
}

#[test]
fn update_layout_rules() {
    let base = json!({"cname": "room", "uid": "1", "clientRequest": {"mixedVideoLayout": 1}});
    let error = check::<UpdateLayoutRequest>(&base, &Mode::Individual).unwrap_err();
    assert_eq!(error.field(), "clientRequest");
    assert!(matches!(error.rule(), Rule::NotInMode { .. }));
    check::<UpdateLayoutRequest>(&base, &Mode::Mix).unwrap();
    both_sides::<UpdateLayoutRequest>(
        &base,
        &Mode::Mix,
        "/clientRequest/mixedVideoLayout",
        json!(3),
        json!(5),
        "clientRequest.mixedVideoLayout",
    );
    both_sides::<UpdateLayoutRequest>(
        &base,
        &Mode::Mix,
        "/clientRequest/backgroundColor",
        json!("#ABCDEF"),
        json!("red"),
        "clientRequest.backgroundColor",
    );
    both_sides::<UpdateLayoutRequest>(
        &base,
        &Mode::Mix,
        "/clientRequest/layoutConfig",
        json!(vec![window(0.1); 17]),
        json!(vec![window(0.1); 18]),
        "clientRequest.layoutConfig",
    );
    both_sides::<UpdateLayoutRequest>(
        &base,
        &Mode::Mix,
        "/clientRequest/layoutConfig",
        json!([window(0.1)]),
        json!([window(0.1), window(7.0)]),
        "clientRequest.layoutConfig[1].x_axis",
    );
    let mut vertical = base.clone();
    set(&mut vertical, "/clientRequest/mixedVideoLayout", json!(2));
    assert_eq!(
        check::<UpdateLayoutRequest>(&vertical, &Mode::Mix)
            .unwrap_err()
            .field(),
        "clientRequest.maxResolutionUid"
    );
    both_sides::<UpdateLayoutRequest>(
        &vertical,
        &Mode::Mix,
        "/clientRequest/maxResolutionUid",
        json!("5"),
        json!("0"),
        "clientRequest.maxResolutionUid",
    );
}

#[test]
fn stop_checks_only_the_channel_name() {
    let base = json!({"cname": "room", "uid": "1", "clientRequest": {"async_stop": true}});
    both_sides::<StopRequest>(
        &base,
        &Mode::Mix,
        "/cname",
        json!("room 2"),
        json!("room\u{1F600}"),
        "cname",
    );
    check::<StopRequest>(
        &json!({"cname": "x", "uid": "1", "clientRequest": {}}),
        &Mode::Web,
    )
    .unwrap();
}

#[test]
fn secrets_never_show_in_debug_or_errors() {
    let mut body = mix_start();
    set(&mut body, "/clientRequest/token", json!("rtc-token-secret"));
    set(
        &mut body,
        &format!("{SC}/stsToken"),
        json!("sts-secret-token"),
    );
    set(&mut body, &format!("{SC}/vendor"), json!(6));
    let request: StartRequest = serde_json::from_value(body).unwrap();
    let debug = format!("{request:?}");
    let error = request.validate(&Mode::Mix).unwrap_err();
    let text = format!("{error} {error:?}");
    for secret in [
        "ak-secret-value",
        "sk-secret-value",
        "rtc-token-secret",
        "sts-secret-token",
    ] {
        assert!(!debug.contains(secret), "{secret} in Debug");
        assert!(!text.contains(secret), "{secret} in the error");
    }
    // The wire form does carry them: the service needs them.
    let wire = serde_json::to_string(&request).unwrap();
    assert!(wire.contains("sk-secret-value") && wire.contains("rtc-token-secret"));
}

#[cfg(feature = "legacy")]
#[test]
fn legacy_scene_two_blocks() {
    let mut base = individual_start();
    set(
        &mut base,
        "/clientRequest/appsCollection",
        json!({"combinationPolicy": "postpone_transcoding"}),
    );
    set(
        &mut base,
        "/clientRequest/transcodeOptions",
        json!({"transConfig": {"transMode": "audioMix"}, "container": {"format": "mp3"},
               "audio": {"sampleRate": "48000", "bitrate": "48000", "channels": "2"}}),
    );
    check::<StartRequest>(&base, &Mode::Individual).unwrap();
    let request: StartRequest = serde_json::from_value(base.clone()).unwrap();
    assert_eq!(serde_json::to_value(&request).unwrap(), base);
    let opts = "/clientRequest/transcodeOptions";
    let field = "clientRequest.transcodeOptions";
    start_sides(
        &base,
        Mode::Individual,
        &format!("{opts}/audio/sampleRate"),
        json!("16000"),
        json!("44100"),
        &format!("{field}.audio.sampleRate"),
    );
    start_sides(
        &base,
        Mode::Individual,
        &format!("{opts}/audio/channels"),
        json!("1"),
        json!("3"),
        &format!("{field}.audio.channels"),
    );
    start_sides(
        &base,
        Mode::Individual,
        &format!("{opts}/audio/bitrate"),
        json!("64000"),
        json!("64k"),
        &format!("{field}.audio.bitrate"),
    );
    start_sides(
        &base,
        Mode::Individual,
        &format!("{opts}/container/format"),
        json!("aac"),
        json!("wav"),
        &format!("{field}.container.format"),
    );
    start_sides(
        &base,
        Mode::Individual,
        &format!("{opts}/transConfig/transMode"),
        json!("postponeTranscoding"),
        json!("live"),
        &format!("{field}.transConfig.transMode"),
    );
    start_sides(
        &base,
        Mode::Individual,
        "/clientRequest/appsCollection/combinationPolicy",
        json!("default"),
        json!("other"),
        "clientRequest.appsCollection.combinationPolicy",
    );
    let mut mix = mix_start();
    set(&mut mix, "/clientRequest/appsCollection", json!({}));
    assert_eq!(
        check::<StartRequest>(&mix, &Mode::Mix).unwrap_err().field(),
        "clientRequest.appsCollection"
    );
}

#[test]
fn service_param_shape_problems_name_the_missing_field() {
    let mut body = web_start();
    remove(&mut body, &format!("{WEB}/maxRecordingHour"));
    let error = check::<StartRequest>(&body, &Mode::Web).unwrap_err();
    assert_eq!(
        error.field(),
        "clientRequest.extensionServiceConfig.extensionServices[0].serviceParam"
    );
    assert!(error.to_string().contains("maxRecordingHour"), "{error}");
}

#[test]
fn individual_recording_names_its_file_types_unless_it_takes_screenshots_only() {
    let mut body = individual_start();
    remove(&mut body, "/clientRequest/recordingFileConfig");
    let error = check::<StartRequest>(&body, &Mode::Individual).unwrap_err();
    assert_eq!(error.field(), "clientRequest.recordingFileConfig");
    body["clientRequest"]["snapshotConfig"] = json!({"captureInterval": 5, "fileType": ["jpg"]});
    check::<StartRequest>(&body, &Mode::Individual).expect("screenshots only need no file types");
}
