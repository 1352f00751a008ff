//! The service's request checks, applied to the JSON bodies the emulator receives.
//!
//! A failure is the `reason` of a 400 code 2 answer, written as `field: rule` like
//! the validation errors of `cloudrec-types`, so the field is always named.

use cloudrec_types::validate::Validate;
use cloudrec_types::{
    AcquireRequest as TypedAcquire, Endpoint, Mode, StartRequest, StopRequest, Uid, Unknown,
    UpdateLayoutRequest, UpdateRequest,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Why a body is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 400 code 2 with this reason.
    InvalidParam(String),
    /// 400 code 401 `invalid_channel_name` (acquire only).
    InvalidChannelName,
}

type Checked<T> = Result<T, Refusal>;

fn invalid(field: &str, rule: impl std::fmt::Display) -> Refusal {
    Refusal::InvalidParam(format!("{field}: {rule}"))
}

/// Decodes the body as the typed request of `cloudrec-types` and applies its
/// validation rules for `mode`.
fn typed<T: DeserializeOwned + Validate>(body: &Value, mode: &Mode) -> Checked<()> {
    let request = T::deserialize(body).map_err(|error| {
        invalid(
            "clientRequest",
            format!("does not match the documented schema: {error}"),
        )
    })?;
    request
        .validate(mode)
        .map_err(|error| Refusal::InvalidParam(error.to_string()))
}

/// Refuses members of `body` that the typed request of `endpoint` does not know
/// (strict fields): a misspelt key is named instead of silently ignored. The
/// documented fields are those of the `cloudrec-types` request types, so the
/// emulator keeps no list of its own. A body that does not decode passes here and
/// is refused by the endpoint's own checks.
pub(crate) fn documented_fields_only(endpoint: Endpoint, body: &Value) -> Checked<()> {
    let undocumented = match endpoint {
        Endpoint::Acquire => undocumented::<TypedAcquire>(body),
        Endpoint::Start => undocumented::<StartRequest>(body),
        Endpoint::Update => undocumented::<UpdateRequest>(body),
        Endpoint::UpdateLayout => undocumented::<UpdateLayoutRequest>(body),
        Endpoint::Stop => undocumented::<StopRequest>(body),
        Endpoint::Query | Endpoint::NcsIp => Vec::new(),
    };
    if undocumented.is_empty() {
        return Ok(());
    }
    let rule = if undocumented.len() == 1 {
        "is not a documented field of this request; check its spelling (the emulator runs with strict fields)"
    } else {
        "are not documented fields of this request; check their spelling (the emulator runs with strict fields)"
    };
    Err(invalid(&undocumented.join(", "), rule))
}

/// The JSON paths of the members of `body` that the typed request `T` keeps as
/// unknown.
fn undocumented<T: DeserializeOwned + Unknown>(body: &Value) -> Vec<String> {
    T::deserialize(body).map_or_else(|_| Vec::new(), |request| request.unknown_fields())
}

/// The common part of every POST body.
#[derive(Debug)]
pub(crate) struct Common<'a> {
    pub(crate) body: &'a Value,
    pub(crate) cname: &'a str,
    pub(crate) uid: &'a str,
    pub(crate) client_request: &'a Map<String, Value>,
}

/// Checks `cname`, `uid` and `clientRequest`.
pub(crate) fn common(body: &Value) -> Checked<Common<'_>> {
    let Some(object) = body.as_object() else {
        return Err(invalid("body", "must be a JSON object"));
    };
    let cname = match object.get("cname") {
        Some(Value::String(cname)) if !cname.is_empty() => cname.as_str(),
        Some(Value::String(_)) => return Err(invalid("cname", "must not be empty")),
        Some(_) => return Err(invalid("cname", "must be a string")),
        None => return Err(invalid("cname", "is required here; add it")),
    };
    let uid = match object.get("uid") {
        Some(Value::String(uid)) => uid.as_str(),
        Some(_) => return Err(invalid("uid", "must be a decimal integer as a JSON string")),
        None => return Err(invalid("uid", "is required here; add it")),
    };
    if uid.parse::<Uid>().is_err() {
        return Err(invalid(
            "uid",
            format!("must be a decimal integer in 1..=4294967295, got `{uid}`"),
        ));
    }
    let client_request = match object.get("clientRequest") {
        Some(Value::Object(request)) => request,
        Some(_) => return Err(invalid("clientRequest", "must be a JSON object")),
        None => return Err(invalid("clientRequest", "is required here; add it")),
    };
    Ok(Common {
        body,
        cname,
        uid,
        client_request,
    })
}

const CHANNEL_PUNCTUATION: &str = " !#$%&()+-:;<=.>?@[]^_{}|~,";

/// Whether `cname` is a valid RTC channel name: < 64 bytes of the allowed set.
pub(crate) fn is_rtc_channel_name(cname: &str) -> bool {
    cname.len() < 64
        && cname
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || CHANNEL_PUNCTUATION.contains(c))
}

fn int(request: &Map<String, Value>, key: &str, path: &str) -> Checked<Option<i64>> {
    match request.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(&format!("{path}.{key}"), "must be an integer")),
    }
}

fn ranged(
    request: &Map<String, Value>,
    key: &str,
    path: &str,
    min: i64,
    max: i64,
) -> Checked<Option<i64>> {
    let value = int(request, key, path)?;
    if let Some(got) = value
        && !(min..=max).contains(&got)
    {
        return Err(invalid(
            &format!("{path}.{key}"),
            format!("must be in {min}..={max}, got {got}"),
        ));
    }
    Ok(value)
}

fn object<'a>(
    request: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Checked<Option<&'a Map<String, Value>>> {
    match request.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(_) => Err(invalid(&format!("{path}.{key}"), "must be a JSON object")),
    }
}

fn strings<'a>(
    request: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Checked<Option<Vec<&'a str>>> {
    match request.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| invalid(&format!("{path}.{key}"), "must be a list of strings"))
            })
            .collect::<Checked<Vec<_>>>()
            .map(Some),
        Some(_) => Err(invalid(
            &format!("{path}.{key}"),
            "must be a list of strings",
        )),
    }
}

fn required<T>(value: Option<T>, field: &str) -> Checked<T> {
    value.ok_or_else(|| invalid(field, "is required here; add it"))
}

/// What acquire asked for.
#[derive(Debug)]
pub(crate) struct AcquireRequest {
    pub(crate) scene: i64,
    pub(crate) resource_expired_hour: i64,
}

/// Checks an acquire body.
pub(crate) fn acquire(common: &Common<'_>) -> Checked<AcquireRequest> {
    let request = common.client_request;
    let path = "clientRequest";
    let scene = ranged(request, "scene", path, 0, 2)?.unwrap_or(0);
    if scene == 1 {
        if common.cname.len() > 1024 {
            return Err(Refusal::InvalidChannelName);
        }
    } else if !is_rtc_channel_name(common.cname) {
        return Err(Refusal::InvalidChannelName);
    }
    let resource_expired_hour = match int(request, "resourceExpiredHour", path) {
        Ok(Some(hours)) if (1..=720).contains(&hours) => hours,
        Ok(None) => 72,
        _ => {
            return Err(Refusal::InvalidParam(
                "Acquire: invalid resourceExpiredHour value!".to_owned(),
            ));
        }
    };
    if let Some(region) = request.get("region") {
        match region.as_str() {
            Some("CN" | "AP" | "EU" | "NA") => {}
            _ => {
                return Err(invalid(
                    "clientRequest.region",
                    format!("must be one of CN, AP, EU, NA, got {region}"),
                ));
            }
        }
    }
    strings(request, "excludeResourceIds", path)?;
    object(request, "startParameter", path)?;
    let mode = match scene {
        1 => Mode::Web,
        2 => Mode::Individual,
        _ => Mode::Mix,
    };
    typed::<TypedAcquire>(common.body, &mode)?;
    Ok(AcquireRequest {
        scene,
        resource_expired_hour,
    })
}

/// The avFileType list: `["hls"]` or `["hls", "mp4"]`.
fn av_file_type(file_config: &Map<String, Value>, path: &str) -> Checked<bool> {
    let Some(types) = strings(file_config, "avFileType", path)? else {
        return Ok(false);
    };
    let field = format!("{path}.avFileType");
    for kind in &types {
        if !matches!(*kind, "hls" | "mp4") {
            return Err(invalid(
                &field,
                format!("must be one of hls, mp4, got {kind}"),
            ));
        }
    }
    let mp4 = types.contains(&"mp4");
    if mp4 && !types.contains(&"hls") {
        return Err(invalid(
            &field,
            "needs \"hls\" next to \"mp4\": send [\"hls\", \"mp4\"]",
        ));
    }
    Ok(mp4)
}

fn storage_config(request: &Map<String, Value>, path: &str) -> Checked<Option<()>> {
    let Some(storage) = object(request, "storageConfig", path)? else {
        return Ok(None);
    };
    let path = format!("{path}.storageConfig");
    let vendor = required(int(storage, "vendor", &path)?, &format!("{path}.vendor"))?;
    if !matches!(vendor, 0..=3 | 5..=8 | 11) {
        return Err(invalid(
            &format!("{path}.vendor"),
            format!("must be one of 0, 1, 2, 3, 5, 6, 7, 8, 11, got {vendor}"),
        ));
    }
    required(
        ranged(storage, "region", &path, 0, 99)?,
        &format!("{path}.region"),
    )?;
    for key in ["bucket", "accessKey", "secretKey"] {
        match storage.get(key) {
            Some(Value::String(text)) if !text.is_empty() => {}
            Some(Value::String(_)) => {
                return Err(invalid(&format!("{path}.{key}"), "must not be empty"));
            }
            _ => {
                return Err(invalid(
                    &format!("{path}.{key}"),
                    "is required here; add it",
                ));
            }
        }
    }
    if let Some(prefix) = strings(storage, "fileNamePrefix", &path)? {
        let field = format!("{path}.fileNamePrefix");
        for segment in &prefix {
            if segment.is_empty() || !segment.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(invalid(
                    &field,
                    format!("segments must be letters and digits only, got `{segment}`"),
                ));
            }
        }
        let total: usize = prefix.iter().map(|s| s.len() + 1).sum();
        if total > 128 {
            return Err(invalid(
                &field,
                format!("is {total} characters long; at most 128 characters are allowed"),
            ));
        }
    }
    Ok(Some(()))
}

fn uid_list(config: &Map<String, Value>, key: &str, path: &str) -> Checked<Option<usize>> {
    let list = strings(config, key, path)?;
    if let Some(list) = &list
        && list.len() > 32
    {
        return Err(invalid(
            &format!("{path}.{key}"),
            format!("has {} entries; at most 32 are allowed", list.len()),
        ));
    }
    Ok(list.map(|l| l.len()))
}

fn either_spelling<'a>(config: &'a Map<String, Value>, reference: &'a str) -> &'a str {
    let alternative = reference.replacen("unsubscribe", "unSubscribe", 1);
    if config.contains_key(reference) {
        reference
    } else if config.contains_key(&alternative) {
        // Keys are compared case-sensitively; find the stored spelling.
        config
            .keys()
            .find(|key| **key == alternative)
            .map_or(reference, String::as_str)
    } else {
        reference
    }
}

fn subscriptions(config: &Map<String, Value>, path: &str) -> Checked<()> {
    for (allow, deny) in [
        ("subscribeAudioUids", "unsubscribeAudioUids"),
        ("subscribeVideoUids", "unsubscribeVideoUids"),
    ] {
        let deny = either_spelling(config, deny);
        let allowed = uid_list(config, allow, path)?;
        let denied = uid_list(config, deny, path)?;
        if allowed.is_some() && denied.is_some() {
            return Err(invalid(
                &format!("{path}.{deny}"),
                format!("cannot be combined with {allow}; keep only one of them"),
            ));
        }
    }
    Ok(())
}

/// Checks a start body for `mode`; `scene` is the acquire scene.
pub(crate) fn start(common: &Common<'_>, mode: &Mode, scene: i64) -> Checked<()> {
    let request = common.client_request;
    let path = "clientRequest";
    let web = *mode == Mode::Web;
    if web != (scene == 1) {
        return Err(invalid(
            "clientRequest.scene",
            "web mode needs scene 1 on acquire and the other modes need scene 0 or 2; acquire again",
        ));
    }
    if !web && !is_rtc_channel_name(common.cname) {
        return Err(invalid(
            "cname",
            "must be < 64 bytes of letters, digits, space and !#$%&()+-:;<=.>?@[]^_{}|~,",
        ));
    }
    if required(
        storage_config(request, path)?,
        "clientRequest.storageConfig",
    )
    .is_err()
    {
        return Err(invalid(
            "clientRequest.storageConfig",
            "is required here; add it",
        ));
    }
    let file_config = object(request, "recordingFileConfig", path)?;
    if let Some(file_config) = file_config {
        av_file_type(file_config, "clientRequest.recordingFileConfig")?;
    }
    let snapshot = object(request, "snapshotConfig", path)?;
    if let Some(snapshot) = snapshot {
        if *mode != Mode::Individual {
            return Err(invalid(
                "clientRequest.snapshotConfig",
                format!("is not allowed in {mode} mode (only in individual); remove it"),
            ));
        }
        let snap_path = "clientRequest.snapshotConfig";
        ranged(snapshot, "captureInterval", snap_path, 1, 3600)?;
        match strings(snapshot, "fileType", snap_path)? {
            Some(types) if types == ["jpg"] => {}
            Some(_) => {
                return Err(invalid(
                    "clientRequest.snapshotConfig.fileType",
                    "must be [\"jpg\"]",
                ));
            }
            None => {
                return Err(invalid(
                    "clientRequest.snapshotConfig.fileType",
                    "is required here; add it",
                ));
            }
        }
    }
    match mode {
        Mode::Individual | Mode::Mix => {
            let recording = required(
                object(request, "recordingConfig", path)?,
                "clientRequest.recordingConfig",
            )?;
            let rpath = "clientRequest.recordingConfig";
            ranged(recording, "channelType", rpath, 0, 1)?;
            ranged(recording, "decryptionMode", rpath, 0, 8)?;
            ranged(recording, "maxIdleTime", rpath, 5, 2_592_000)?;
            ranged(recording, "streamTypes", rpath, 0, 2)?;
            ranged(recording, "videoStreamType", rpath, 0, 1)?;
            ranged(recording, "subscribeUidGroup", rpath, 0, 5)?;
            subscriptions(recording, rpath)?;
            if *mode == Mode::Individual {
                if file_config.is_none() && snapshot.is_none() {
                    return Err(invalid(
                        "clientRequest.recordingFileConfig",
                        "is required here; add it (or a snapshotConfig for screenshots only)",
                    ));
                }
                if recording.contains_key("transcodingConfig") {
                    return Err(invalid(
                        "clientRequest.recordingConfig.transcodingConfig",
                        "is not allowed in individual mode (only in mix); remove it",
                    ));
                }
            } else {
                ranged(recording, "audioProfile", rpath, 0, 2)?;
                if let Some(transcoding) = object(recording, "transcodingConfig", rpath)? {
                    let tpath = "clientRequest.recordingConfig.transcodingConfig";
                    ranged(transcoding, "bitrate", tpath, 1, 6500)?;
                    ranged(transcoding, "mixedVideoLayout", tpath, 0, 3)?;
                    layout_entries(transcoding, tpath)?;
                }
            }
            if request.contains_key("extensionServiceConfig") {
                return Err(invalid(
                    "clientRequest.extensionServiceConfig",
                    format!("is not allowed in {mode} mode (only in web); remove it"),
                ));
            }
        }
        Mode::Web => {
            let extension = required(
                object(request, "extensionServiceConfig", path)?,
                "clientRequest.extensionServiceConfig",
            )?;
            let services = match extension.get("extensionServices") {
                Some(Value::Array(services)) if !services.is_empty() => services,
                _ => {
                    return Err(invalid(
                        "clientRequest.extensionServiceConfig.extensionServices",
                        "is required here; add it",
                    ));
                }
            };
            for (index, service) in services.iter().enumerate() {
                let spath =
                    format!("clientRequest.extensionServiceConfig.extensionServices[{index}]");
                let name = service.get("serviceName").and_then(Value::as_str);
                if !matches!(name, Some("web_recorder_service" | "rtmp_publish_service")) {
                    return Err(invalid(
                        &format!("{spath}.serviceName"),
                        "must be one of web_recorder_service, rtmp_publish_service",
                    ));
                }
                let Some(param) = service.get("serviceParam").and_then(Value::as_object) else {
                    return Err(invalid(
                        &format!("{spath}.serviceParam"),
                        "is required here; add it",
                    ));
                };
                let ppath = format!("{spath}.serviceParam");
                if name == Some("web_recorder_service") {
                    if !param.get("url").is_some_and(Value::is_string) {
                        return Err(invalid(&format!("{ppath}.url"), "is required here; add it"));
                    }
                    required(
                        ranged(param, "audioProfile", &ppath, 0, 2)?,
                        &format!("{ppath}.audioProfile"),
                    )?;
                    let width = required(
                        int(param, "videoWidth", &ppath)?,
                        &format!("{ppath}.videoWidth"),
                    )?;
                    let height = required(
                        int(param, "videoHeight", &ppath)?,
                        &format!("{ppath}.videoHeight"),
                    )?;
                    if width <= 0 || height <= 0 || width * height > 1920 * 1080 {
                        return Err(invalid(
                            &format!("{ppath}.videoWidth"),
                            format!(
                                "videoWidth x videoHeight must be positive and at most 1920x1080, got {width}x{height}"
                            ),
                        ));
                    }
                    required(
                        ranged(param, "maxRecordingHour", &ppath, 1, 720)?,
                        &format!("{ppath}.maxRecordingHour"),
                    )?;
                    ranged(param, "maxVideoDuration", &ppath, 30, 240)?;
                    ranged(param, "videoFps", &ppath, 5, 60)?;
                    ranged(param, "readyTimeout", &ppath, 0, 60)?;
                } else {
                    rtmp_outputs(param, &ppath)?;
                }
            }
            if request.contains_key("recordingConfig") {
                return Err(invalid(
                    "clientRequest.recordingConfig",
                    "is not allowed in web mode (only in individual, mix); remove it",
                ));
            }
        }
        Mode::Other(other) => {
            return Err(invalid(
                "mode",
                format!("must be one of individual, mix, web, got {other}"),
            ));
        }
    }
    typed::<StartRequest>(common.body, mode)
}

fn rtmp_outputs(param: &Map<String, Value>, path: &str) -> Checked<()> {
    let field = format!("{path}.outputs");
    let Some(Value::Array(outputs)) = param.get("outputs") else {
        return Err(invalid(&field, "is required here; add it"));
    };
    if outputs.len() != 1 {
        return Err(invalid(
            &field,
            format!("must have exactly 1 entry, got {}", outputs.len()),
        ));
    }
    for output in outputs {
        let url = output.get("rtmpUrl").and_then(Value::as_str).unwrap_or("");
        if !(url.starts_with("rtmp://") || url.starts_with("rtmps://")) {
            return Err(invalid(
                &format!("{field}[0].rtmpUrl"),
                "must be an rtmp:// or rtmps:// URL",
            ));
        }
    }
    Ok(())
}

fn layout_entries(layout: &Map<String, Value>, path: &str) -> Checked<()> {
    let Some(entries) = layout.get("layoutConfig") else {
        return Ok(());
    };
    let Some(entries) = entries.as_array() else {
        return Err(invalid(&format!("{path}.layoutConfig"), "must be a list"));
    };
    if entries.len() > 17 {
        return Err(invalid(
            &format!("{path}.layoutConfig"),
            format!("has {} entries; at most 17 are allowed", entries.len()),
        ));
    }
    for (index, entry) in entries.iter().enumerate() {
        for key in ["x_axis", "y_axis", "width", "height"] {
            let field = format!("{path}.layoutConfig[{index}].{key}");
            match entry.get(key).and_then(Value::as_f64) {
                Some(value) if (0.0..=1.0).contains(&value) => {}
                Some(value) => {
                    return Err(invalid(&field, format!("must be in [0, 1], got {value}")));
                }
                None => return Err(invalid(&field, "is required here; add it")),
            }
        }
    }
    Ok(())
}

/// Checks an update body for `mode`.
pub(crate) fn update(common: &Common<'_>, mode: &Mode) -> Checked<()> {
    let request = common.client_request;
    let path = "clientRequest";
    if let Some(subscribe) = object(request, "streamSubscribe", path)? {
        if *mode == Mode::Web {
            return Err(invalid(
                "clientRequest.streamSubscribe",
                "is not allowed in web mode (only in individual, mix); remove it",
            ));
        }
        for key in ["audioUidList", "videoUidList"] {
            let spath = "clientRequest.streamSubscribe";
            if let Some(list) = object(subscribe, key, spath)? {
                subscriptions(list, &format!("{spath}.{key}"))?;
            }
        }
    }
    for key in ["webRecordingConfig", "rtmpPublishConfig"] {
        if let Some(config) = object(request, key, path)? {
            if *mode != Mode::Web {
                return Err(invalid(
                    &format!("clientRequest.{key}"),
                    format!("is not allowed in {mode} mode (only in web); remove it"),
                ));
            }
            if key == "webRecordingConfig" {
                if let Some(onhold) = config.get("onhold")
                    && !onhold.is_boolean()
                {
                    return Err(invalid(
                        "clientRequest.webRecordingConfig.onhold",
                        "must be true or false",
                    ));
                }
            } else {
                rtmp_outputs(config, "clientRequest.rtmpPublishConfig")?;
            }
        }
    }
    storage_config(request, path)?;
    typed::<UpdateRequest>(common.body, mode)
}

/// Checks an updateLayout body.
pub(crate) fn update_layout(common: &Common<'_>) -> Checked<()> {
    let request = common.client_request;
    let path = "clientRequest";
    let layout = ranged(request, "mixedVideoLayout", path, 0, 3)?;
    if layout == Some(2)
        && !request
            .get("maxResolutionUid")
            .is_some_and(Value::is_string)
    {
        return Err(invalid(
            "clientRequest.maxResolutionUid",
            "is required with mixedVideoLayout 2; add it",
        ));
    }
    layout_entries(request, path)?;
    typed::<UpdateLayoutRequest>(common.body, &Mode::Mix)
}

/// Checks a stop body; returns `async_stop`.
pub(crate) fn stop(common: &Common<'_>, mode: &Mode) -> Checked<bool> {
    let async_stop = match common.client_request.get("async_stop") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(value)) => *value,
        Some(_) => return Err(invalid("clientRequest.async_stop", "must be true or false")),
    };
    typed::<StopRequest>(common.body, mode)?;
    Ok(async_stop)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reasons_name_the_field() {
        let body = json!({"cname": "room", "uid": "0", "clientRequest": {}});
        let Err(Refusal::InvalidParam(reason)) = common(&body) else {
            panic!("uid 0 accepted");
        };
        assert!(reason.starts_with("uid:"), "{reason}");

        let body =
            json!({"cname": "room", "uid": "1", "clientRequest": {"resourceExpiredHour": 0}});
        let parsed = common(&body).unwrap();
        assert_eq!(
            acquire(&parsed).unwrap_err(),
            Refusal::InvalidParam("Acquire: invalid resourceExpiredHour value!".to_owned())
        );

        let body = json!({"cname": "bad/name", "uid": "1", "clientRequest": {}});
        assert_eq!(
            acquire(&common(&body).unwrap()).unwrap_err(),
            Refusal::InvalidChannelName
        );
    }

    #[test]
    fn mp4_alone_is_refused() {
        let body = json!({"cname": "room", "uid": "1", "clientRequest": {
            "recordingConfig": {"channelType": 0},
            "recordingFileConfig": {"avFileType": ["mp4"]},
            "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "a", "secretKey": "s"}
        }});
        let Err(Refusal::InvalidParam(reason)) = start(&common(&body).unwrap(), &Mode::Mix, 0)
        else {
            panic!("mp4 alone accepted");
        };
        assert!(
            reason.starts_with("clientRequest.recordingFileConfig.avFileType:"),
            "{reason}"
        );
    }
}
