//! The validation rules of every request body (spec §2-8), as [`Validate`] impls.

use crate::acquire::{AcquireClientRequest, AcquireRequest, Scene};
use crate::lenient::IntEnum;
use crate::start::{
    ALL_STREAMS, AvFileType, BackgroundConfig, ErrorHandlePolicy, ExtensionServiceConfig,
    LayoutConfig, MixedVideoLayout, RecordingConfig, RecordingFileConfig, RtmpOutput, ServiceName,
    ServiceParam, SnapshotConfig, SnapshotFileType, StartClientRequest, StartRequest,
    StorageConfig, StorageVendor, StreamMode, StreamTypes, TranscodingConfig, WebRecorderParams,
};
use crate::stop::{StopClientRequest, StopRequest};
use crate::update::{StreamSubscribe, UpdateClientRequest, UpdateRequest};
use crate::update_layout::{UpdateLayoutClientRequest, UpdateLayoutRequest};
use crate::validate::{
    Path, Rule, Validate, ValidationError, check_cname, is_individual, is_mix, is_web,
};
use crate::{Mode, Uid};

type Checked = Result<(), ValidationError>;

const CLIENT_REQUEST: Path<'static> = Path::root("clientRequest");

/// Largest canvas: 1920 x 1080 pixels.
const MAX_PIXELS: u64 = 1920 * 1080;

/// Upper bound of uids for each `subscribeUidGroup`.
const GROUP_LIMITS: [usize; 6] = [2, 7, 12, 17, 32, 49];

// ---- request bodies -------------------------------------------------------

impl Validate for AcquireRequest {
    fn validate(&self, mode: &Mode) -> Checked {
        check_cname(&self.cname, mode)?;
        self.client_request.validate(mode)
    }
}

impl Validate for AcquireClientRequest {
    fn validate(&self, mode: &Mode) -> Checked {
        let path = CLIENT_REQUEST;
        let scene_path = path.key("scene");
        let scene = self.scene.unwrap_or(Scene::Realtime);
        known(&scene_path, Some(scene), "0, 1, 2")?;
        match mode {
            Mode::Web if scene != Scene::WebPage => {
                return Err(scene_path.error(Rule::NotOneOf {
                    allowed: "1 (web mode records a web page)",
                    got: scene.to_string(),
                }));
            }
            Mode::Individual | Mode::Mix if scene == Scene::WebPage => {
                return Err(scene_path.error(Rule::NotOneOf {
                    allowed: "0 or 2 (scene 1 is for web mode)",
                    got: scene.to_string(),
                }));
            }
            Mode::Mix | Mode::Web if scene == Scene::PostponedTranscoding => {
                return Err(scene_path.error(Rule::NotInMode {
                    mode: mode.to_string(),
                    allowed: "individual",
                }));
            }
            _ => {}
        }
        path.key("resourceExpiredHour")
            .opt_range(self.resource_expired_hour, 1, 720)?;
        if let Some(ids) = &self.exclude_resource_ids {
            let ids_path = path.key("excludeResourceIds");
            for (i, id) in ids.iter().enumerate() {
                ids_path.index(i).non_empty(id)?;
            }
        }
        if let Some(region) = &self.region
            && !region.is_known()
        {
            return Err(path.key("region").error(Rule::NotOneOf {
                allowed: "CN, AP, EU, NA",
                got: region.to_string(),
            }));
        }
        if let Some(start) = &self.start_parameter {
            check_start(start, mode, &path.key("startParameter"))?;
        }
        Ok(())
    }
}

impl Validate for StartRequest {
    fn validate(&self, mode: &Mode) -> Checked {
        check_cname(&self.cname, mode)?;
        self.client_request.validate(mode)
    }
}

impl Validate for StartClientRequest {
    fn validate(&self, mode: &Mode) -> Checked {
        check_start(self, mode, &CLIENT_REQUEST)
    }
}

impl Validate for UpdateRequest {
    fn validate(&self, mode: &Mode) -> Checked {
        check_cname(&self.cname, mode)?;
        self.client_request.validate(mode)
    }
}

impl Validate for UpdateClientRequest {
    fn validate(&self, mode: &Mode) -> Checked {
        let path = CLIENT_REQUEST;
        let subscribe_path = path.key("streamSubscribe");
        subscribe_path.only_in(
            self.stream_subscribe.is_some(),
            mode,
            !matches!(mode, Mode::Web),
            "individual, mix",
        )?;
        if let Some(subscribe) = &self.stream_subscribe {
            check_stream_subscribe(subscribe, &subscribe_path)?;
        }
        path.key("webRecordingConfig").only_in(
            self.web_recording_config.is_some(),
            mode,
            is_web(mode),
            "web",
        )?;
        let rtmp_path = path.key("rtmpPublishConfig");
        rtmp_path.only_in(
            self.rtmp_publish_config.is_some(),
            mode,
            is_web(mode),
            "web",
        )?;
        if let Some(rtmp) = &self.rtmp_publish_config {
            check_rtmp_outputs(&rtmp.outputs, &rtmp_path.key("outputs"))?;
        }
        if let Some(storage) = &self.storage_config {
            check_storage(storage, &path.key("storageConfig"))?;
        }
        Ok(())
    }
}

impl Validate for UpdateLayoutRequest {
    fn validate(&self, mode: &Mode) -> Checked {
        check_cname(&self.cname, mode)?;
        self.client_request.validate(mode)
    }
}

impl Validate for UpdateLayoutClientRequest {
    fn validate(&self, mode: &Mode) -> Checked {
        let path = CLIENT_REQUEST;
        path.only_in(true, mode, is_mix(mode), "mix")?;
        check_layout(
            &Layout {
                mixed_video_layout: self.mixed_video_layout,
                max_resolution_uid: self.max_resolution_uid.as_deref(),
                background_color: self.background_color.as_deref(),
                background_image: self.background_image.as_deref(),
                default_user_background_image: self.default_user_background_image.as_deref(),
                layout_config: self.layout_config.as_deref(),
                background_config: self.background_config.as_deref(),
            },
            &path,
        )
    }
}

impl Validate for StopRequest {
    fn validate(&self, mode: &Mode) -> Checked {
        check_cname(&self.cname, mode)?;
        self.client_request.validate(mode)
    }
}

impl Validate for StopClientRequest {
    /// Every stop `clientRequest` is valid: `async_stop` is optional.
    fn validate(&self, _mode: &Mode) -> Checked {
        Ok(())
    }
}

// ---- start ----------------------------------------------------------------

fn check_start(request: &StartClientRequest, mode: &Mode, path: &Path<'_>) -> Checked {
    if let Some(token) = &request.token
        && token.is_empty()
    {
        return Err(path.key("token").error(Rule::Empty));
    }

    let recording_path = path.key("recordingConfig");
    if matches!(mode, Mode::Individual | Mode::Mix) {
        recording_path.required(request.recording_config.is_some())?;
    }
    if let Some(recording) = &request.recording_config {
        check_recording_config(recording, mode, &recording_path)?;
    }

    let files_path = path.key("recordingFileConfig");
    if is_individual(mode) {
        // Individual recording needs its file types, unless it takes screenshots only.
        files_path.required(
            request.recording_file_config.is_some() || request.snapshot_config.is_some(),
        )?;
    }
    if let Some(files) = &request.recording_file_config {
        check_file_config(files, mode, &files_path)?;
    }

    let snapshot_path = path.key("snapshotConfig");
    snapshot_path.only_in(
        request.snapshot_config.is_some(),
        mode,
        is_individual(mode),
        "individual",
    )?;
    if let Some(snapshot) = &request.snapshot_config {
        check_snapshot(snapshot, request.recording_config.as_ref(), &snapshot_path)?;
    }

    check_storage(&request.storage_config, &path.key("storageConfig"))?;

    let extension_path = path.key("extensionServiceConfig");
    extension_path.only_in(
        request.extension_service_config.is_some(),
        mode,
        is_web(mode),
        "web",
    )?;
    if *mode == Mode::Web {
        extension_path.required(request.extension_service_config.is_some())?;
    }
    if let Some(extension) = &request.extension_service_config {
        check_extension(extension, &extension_path)?;
    }
    #[cfg(feature = "legacy")]
    check_legacy(request, mode, path)?;
    Ok(())
}

/// Scene-2 blocks: individual mode only, documented values only.
#[cfg(feature = "legacy")]
fn check_legacy(request: &StartClientRequest, mode: &Mode, path: &Path<'_>) -> Checked {
    let apps_path = path.key("appsCollection");
    apps_path.only_in(
        request.apps_collection.is_some(),
        mode,
        is_individual(mode),
        "individual",
    )?;
    if let Some(policy) = request
        .apps_collection
        .as_ref()
        .and_then(|apps| apps.combination_policy.as_ref())
        .filter(|policy| !policy.is_known())
    {
        return Err(apps_path.key("combinationPolicy").error(Rule::NotOneOf {
            allowed: "default, postpone_transcoding",
            got: policy.to_string(),
        }));
    }
    let options_path = path.key("transcodeOptions");
    options_path.only_in(
        request.transcode_options.is_some(),
        mode,
        is_individual(mode),
        "individual",
    )?;
    let Some(options) = &request.transcode_options else {
        return Ok(());
    };
    if let Some(trans_mode) = options
        .trans_config
        .as_ref()
        .and_then(|config| config.trans_mode.as_ref())
        .filter(|trans_mode| !trans_mode.is_known())
    {
        return Err(options_path
            .key("transConfig")
            .key("transMode")
            .error(Rule::NotOneOf {
                allowed: "postponeTranscoding, audioMix",
                got: trans_mode.to_string(),
            }));
    }
    if let Some(format) = options
        .container
        .as_ref()
        .and_then(|container| container.format.as_ref())
        .filter(|format| !format.is_known())
    {
        return Err(options_path
            .key("container")
            .key("format")
            .error(Rule::NotOneOf {
                allowed: "mp4, mp3, m4a, aac",
                got: format.to_string(),
            }));
    }
    if let Some(audio) = &options.audio {
        let audio_path = options_path.key("audio");
        let checks: [(&str, Option<&String>, &[&str], &'static str); 2] = [
            (
                "sampleRate",
                audio.sample_rate.as_ref(),
                &["48000", "32000", "16000"],
                "\"48000\", \"32000\", \"16000\"",
            ),
            (
                "channels",
                audio.channels.as_ref(),
                &["1", "2"],
                "\"1\", \"2\"",
            ),
        ];
        for (key, value, allowed_values, allowed) in checks {
            if let Some(value) = value.filter(|v| !allowed_values.contains(&v.as_str())) {
                return Err(audio_path.key(key).error(Rule::NotOneOf {
                    allowed,
                    got: value.clone(),
                }));
            }
        }
        if let Some(bitrate) = &audio.bitrate
            && (bitrate.is_empty() || !bitrate.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(audio_path.key("bitrate").error(Rule::Format {
                expected: "a decimal string such as \"48000\"",
                got: bitrate.clone(),
            }));
        }
    }
    Ok(())
}

fn check_recording_config(config: &RecordingConfig, mode: &Mode, path: &Path<'_>) -> Checked {
    known(&path.key("channelType"), config.channel_type, "0, 1")?;
    known(&path.key("decryptionMode"), config.decryption_mode, "0..=8")?;
    let decryption = config.decryption_mode.map_or(0, |m| m.code());
    if decryption != 0 {
        let secret_path = path.key("secret");
        match &config.secret {
            None => return Err(secret_path.error(Rule::Required)),
            Some(secret) if secret.is_empty() => return Err(secret_path.error(Rule::Empty)),
            Some(_) => {}
        }
    }
    let salt_path = path.key("salt");
    if matches!(decryption, 7 | 8) {
        salt_path.required(config.salt.is_some())?;
    }
    if let Some(salt) = &config.salt {
        check_salt(salt.expose(), &salt_path)?;
    }
    path.key("maxIdleTime")
        .opt_range(config.max_idle_time, 5, 2_592_000)?;
    known(&path.key("streamTypes"), config.stream_types, "0, 1, 2")?;
    known(
        &path.key("videoStreamType"),
        config.video_stream_type,
        "0, 1",
    )?;

    let stream_types = config.stream_types.unwrap_or(StreamTypes::AudioAndVideo);
    let lists = [
        ("subscribeAudioUids", &config.subscribe_audio_uids, true),
        ("unSubscribeAudioUids", &config.unsubscribe_audio_uids, true),
        ("subscribeVideoUids", &config.subscribe_video_uids, false),
        (
            "unSubscribeVideoUids",
            &config.unsubscribe_video_uids,
            false,
        ),
    ];
    for (key, list, audio) in lists {
        let Some(list) = list else { continue };
        let list_path = path.key(key);
        check_uid_list(list, &list_path)?;
        if stream_types.is_known() && audio && !stream_types.has_audio() {
            return Err(list_path.error(Rule::NotAllowedWith {
                condition: format!("streamTypes is {stream_types} (no audio)"),
            }));
        }
        if stream_types.is_known() && !audio && !stream_types.has_video() {
            return Err(list_path.error(Rule::NotAllowedWith {
                condition: format!("streamTypes is {stream_types} (no video)"),
            }));
        }
    }
    exclusive(
        config.subscribe_audio_uids.is_some(),
        config.unsubscribe_audio_uids.is_some(),
        &path.key("unSubscribeAudioUids"),
        "subscribeAudioUids",
    )?;
    exclusive(
        config.subscribe_video_uids.is_some(),
        config.unsubscribe_video_uids.is_some(),
        &path.key("unSubscribeVideoUids"),
        "subscribeVideoUids",
    )?;

    let group_path = path.key("subscribeUidGroup");
    group_path.opt_range(config.subscribe_uid_group, 0, 5)?;
    let any_list = lists.iter().any(|(_, list, _)| list.is_some());
    if *mode == Mode::Individual && any_list {
        group_path.required(config.subscribe_uid_group.is_some())?;
    }
    if let Some(group) = config.subscribe_uid_group {
        check_group_size(config, group, &group_path)?;
    }

    let stream_mode_path = path.key("streamMode");
    stream_mode_path.only_in(
        config.stream_mode.is_some(),
        mode,
        is_individual(mode),
        "individual",
    )?;
    if let Some(stream_mode) = &config.stream_mode {
        if !stream_mode.is_known() {
            return Err(stream_mode_path.error(Rule::NotOneOf {
                allowed: "default, standard, original",
                got: stream_mode.to_string(),
            }));
        }
        if *stream_mode == StreamMode::Original && stream_types != StreamTypes::AudioOnly {
            return Err(stream_mode_path.error(Rule::Needs {
                what: "streamTypes 0 (audio only) for `original`",
            }));
        }
    }

    let profile_path = path.key("audioProfile");
    profile_path.only_in(config.audio_profile.is_some(), mode, is_mix(mode), "mix")?;
    known(&profile_path, config.audio_profile, "0, 1, 2")?;

    let transcoding_path = path.key("transcodingConfig");
    transcoding_path.only_in(
        config.transcoding_config.is_some(),
        mode,
        is_mix(mode),
        "mix",
    )?;
    if let Some(transcoding) = &config.transcoding_config {
        check_transcoding(transcoding, &transcoding_path)?;
    }
    Ok(())
}

/// The salt of GCM2 decryption: base64 of 32 bytes. Its value is never reported.
fn check_salt(salt: &str, path: &Path<'_>) -> Checked {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD.decode(salt);
    match decoded {
        Ok(bytes) if bytes.len() == 32 => Ok(()),
        Ok(bytes) => Err(path.error(Rule::Format {
            expected: "base64 of 32 bytes",
            got: format!("base64 of {} bytes", bytes.len()),
        })),
        Err(_) => Err(path.error(Rule::Format {
            expected: "base64 of 32 bytes",
            got: "text that is not base64".to_owned(),
        })),
    }
}

/// `subscribeUidGroup` must cover the named uids (union of audio and video lists).
fn check_group_size(config: &RecordingConfig, group: u32, path: &Path<'_>) -> Checked {
    let Some(&limit) = usize::try_from(group)
        .ok()
        .and_then(|g| GROUP_LIMITS.get(g))
    else {
        return Ok(());
    };
    let lists = [&config.subscribe_audio_uids, &config.subscribe_video_uids];
    let mut uids: Vec<&str> = lists
        .iter()
        .filter_map(|list| list.as_deref())
        .flatten()
        .map(String::as_str)
        .collect();
    if uids.contains(&ALL_STREAMS) {
        return Ok(());
    }
    uids.sort_unstable();
    uids.dedup();
    if uids.len() > limit {
        // The smallest group that covers the lists.
        let needed = GROUP_LIMITS
            .iter()
            .position(|&max| uids.len() <= max)
            .unwrap_or(GROUP_LIMITS.len());
        return Err(path.error(Rule::Range {
            min: i64::try_from(needed).unwrap_or(i64::MAX),
            max: 5,
            got: i64::from(group),
        }));
    }
    Ok(())
}

struct Layout<'a> {
    mixed_video_layout: Option<MixedVideoLayout>,
    max_resolution_uid: Option<&'a str>,
    background_color: Option<&'a str>,
    background_image: Option<&'a str>,
    default_user_background_image: Option<&'a str>,
    layout_config: Option<&'a [LayoutConfig]>,
    background_config: Option<&'a [BackgroundConfig]>,
}

fn check_transcoding(config: &TranscodingConfig, path: &Path<'_>) -> Checked {
    let width = config.width.unwrap_or(360);
    let height = config.height.unwrap_or(640);
    check_canvas(width, height, &path.key("width"), &path.key("height"))?;
    if config.fps == Some(0) {
        return Err(path.key("fps").error(Rule::Range {
            min: 1,
            max: i64::from(u32::MAX),
            got: 0,
        }));
    }
    path.key("bitrate").opt_range(config.bitrate, 1, 6500)?;
    check_layout(
        &Layout {
            mixed_video_layout: config.mixed_video_layout,
            max_resolution_uid: config.max_resolution_uid.as_deref(),
            background_color: config.background_color.as_deref(),
            background_image: config.background_image.as_deref(),
            default_user_background_image: config.default_user_background_image.as_deref(),
            layout_config: config.layout_config.as_deref(),
            background_config: config.background_config.as_deref(),
        },
        path,
    )
}

/// Width and height at least 1 and at most 1920 x 1080 pixels in all.
fn check_canvas(width: u32, height: u32, width_path: &Path<'_>, height_path: &Path<'_>) -> Checked {
    let max = i64::try_from(MAX_PIXELS).unwrap_or(i64::MAX);
    if width == 0 {
        return Err(width_path.error(Rule::Range {
            min: 1,
            max,
            got: 0,
        }));
    }
    if height == 0 {
        return Err(height_path.error(Rule::Range {
            min: 1,
            max,
            got: 0,
        }));
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(width_path.error(Rule::NotAllowedWith {
            condition: format!("width x height is {width}x{height}, more than 1920x1080 pixels"),
        }));
    }
    Ok(())
}

fn check_layout(layout: &Layout<'_>, path: &Path<'_>) -> Checked {
    known(
        &path.key("mixedVideoLayout"),
        layout.mixed_video_layout,
        "0, 1, 2, 3",
    )?;
    let max_uid_path = path.key("maxResolutionUid");
    if layout.mixed_video_layout == Some(MixedVideoLayout::Vertical) {
        max_uid_path.required(layout.max_resolution_uid.is_some())?;
    }
    if let Some(uid) = layout.max_resolution_uid {
        check_uid(uid, &max_uid_path, false)?;
    }
    if let Some(color) = layout.background_color {
        let valid = color.len() == 7
            && color.starts_with('#')
            && color.bytes().skip(1).all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(path.key("backgroundColor").error(Rule::Format {
                expected: "#RRGGBB",
                got: color.to_owned(),
            }));
        }
    }
    if let Some(url) = layout.background_image {
        check_url(
            url,
            &path.key("backgroundImage"),
            &["http://", "https://"],
            "an http(s) URL",
        )?;
    }
    if let Some(url) = layout.default_user_background_image {
        check_url(
            url,
            &path.key("defaultUserBackgroundImage"),
            &["http://", "https://"],
            "an http(s) URL",
        )?;
    }
    if let Some(windows) = layout.layout_config {
        let list_path = path.key("layoutConfig");
        list_path.at_most(windows, 17)?;
        for (i, window) in windows.iter().enumerate() {
            let entry = list_path.index(i);
            if let Some(uid) = &window.uid {
                check_uid(uid, &entry.key("uid"), false)?;
            }
            entry.key("x_axis").unit_interval(window.x_axis)?;
            entry.key("y_axis").unit_interval(window.y_axis)?;
            entry.key("width").unit_interval(window.width)?;
            entry.key("height").unit_interval(window.height)?;
            if let Some(alpha) = window.alpha {
                entry.key("alpha").unit_interval(alpha)?;
            }
            known(&entry.key("render_mode"), window.render_mode, "0, 1")?;
        }
    }
    if let Some(backgrounds) = layout.background_config {
        let list_path = path.key("backgroundConfig");
        for (i, background) in backgrounds.iter().enumerate() {
            let entry = list_path.index(i);
            check_uid(&background.uid, &entry.key("uid"), false)?;
            check_url(
                &background.image_url,
                &entry.key("image_url"),
                &["https://"],
                "an https URL",
            )?;
            known(&entry.key("render_mode"), background.render_mode, "0, 1")?;
        }
    }
    Ok(())
}

fn check_file_config(config: &RecordingFileConfig, mode: &Mode, path: &Path<'_>) -> Checked {
    let path = path.key("avFileType");
    let types = &config.av_file_type;
    if types.is_empty() {
        return Err(path.error(Rule::Empty));
    }
    let preview = matches!(mode, Mode::Other(_));
    for (i, kind) in types.iter().enumerate() {
        let entry = path.index(i);
        let allowed = match kind {
            AvFileType::Hls | AvFileType::Mp4 => true,
            AvFileType::Mp3 => preview,
            AvFileType::Unknown(_) => false,
        };
        if !allowed {
            return Err(entry.error(Rule::NotOneOf {
                allowed: "hls, mp4",
                got: kind.to_string(),
            }));
        }
        if *kind == AvFileType::Mp4 && *mode == Mode::Individual {
            return Err(entry.error(Rule::NotInMode {
                mode: mode.to_string(),
                allowed: "mix, web",
            }));
        }
        if types[..i].contains(kind) {
            return Err(entry.error(Rule::Format {
                expected: "each type at most once",
                got: kind.to_string(),
            }));
        }
    }
    if !preview && !types.contains(&AvFileType::Hls) {
        return Err(path.error(Rule::Needs {
            what: "\"hls\": use [\"hls\"] or [\"hls\",\"mp4\"] ([\"mp4\"] alone is invalid)",
        }));
    }
    Ok(())
}

fn check_snapshot(
    config: &SnapshotConfig,
    recording: Option<&RecordingConfig>,
    path: &Path<'_>,
) -> Checked {
    path.key("captureInterval")
        .opt_range(config.capture_interval, 5, 3600)?;
    if config.file_type != [SnapshotFileType::Jpg] {
        let got: Vec<&str> = config
            .file_type
            .iter()
            .map(SnapshotFileType::as_str)
            .collect();
        return Err(path.key("fileType").error(Rule::NotOneOf {
            allowed: "[\"jpg\"]",
            got: format!("{got:?}"),
        }));
    }
    if let Some(recording) = recording {
        let stream_types = recording.stream_types.unwrap_or(StreamTypes::AudioAndVideo);
        if stream_types == StreamTypes::AudioOnly {
            return Err(path.error(Rule::NotAllowedWith {
                condition: "recordingConfig.streamTypes is 0 (audio only)".to_owned(),
            }));
        }
        let audio_list =
            recording.subscribe_audio_uids.is_some() || recording.unsubscribe_audio_uids.is_some();
        let video_list =
            recording.subscribe_video_uids.is_some() || recording.unsubscribe_video_uids.is_some();
        if audio_list && !video_list {
            return Err(path.error(Rule::Needs {
                what: "a video subscription list in recordingConfig when an audio list is set",
            }));
        }
    }
    Ok(())
}

fn region_text(vendor: StorageVendor) -> &'static str {
    match vendor {
        StorageVendor::Qiniu => "0..=3",
        StorageVendor::AmazonS3 => "0..=25 except 23",
        StorageVendor::AlibabaCloud => "0..=27",
        StorageVendor::TencentCloud => "0..=19",
        StorageVendor::HuaweiCloud => "0..=15",
        StorageVendor::BaiduAiCloud => "1..=7",
        StorageVendor::MicrosoftAzure
        | StorageVendor::GoogleCloud
        | StorageVendor::S3Compatible => "0",
        StorageVendor::Other(_) => "a code of a known vendor",
    }
}

fn check_storage(config: &StorageConfig, path: &Path<'_>) -> Checked {
    let vendor = config.vendor;
    let Some(regions) = vendor.regions() else {
        return Err(path.key("vendor").error(Rule::NotOneOf {
            allowed: "0, 1, 2, 3, 5, 6, 7, 8, 11",
            got: vendor.to_string(),
        }));
    };
    if !regions.contains(&config.region) {
        return Err(path.key("region").error(Rule::NotOneOf {
            allowed: region_text(vendor),
            got: config.region.to_string(),
        }));
    }
    path.key("bucket").non_empty(&config.bucket)?;
    if config.access_key.is_empty() {
        return Err(path.key("accessKey").error(Rule::Empty));
    }
    if config.secret_key.is_empty() {
        return Err(path.key("secretKey").error(Rule::Empty));
    }
    if let Some(token) = &config.sts_token {
        let token_path = path.key("stsToken");
        if !vendor.supports_sts() {
            return Err(token_path.error(Rule::NotAllowedWith {
                condition: format!("vendor is {vendor} (STS tokens are for vendors 1, 2, 3)"),
            }));
        }
        if token.is_empty() {
            return Err(token_path.error(Rule::Empty));
        }
    }
    if config.sts_expiration.is_some() && config.sts_token.is_none() {
        return Err(path
            .key("stsExpiration")
            .error(Rule::Needs { what: "stsToken" }));
    }
    if let Some(segments) = &config.file_name_prefix {
        let prefix_path = path.key("fileNamePrefix");
        for (i, segment) in segments.iter().enumerate() {
            let entry = prefix_path.index(i);
            entry.non_empty(segment)?;
            if !segment.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(entry.error(Rule::Format {
                    expected: "ASCII letters and digits only",
                    got: segment.clone(),
                }));
            }
        }
        let total =
            segments.iter().map(String::len).sum::<usize>() + segments.len().saturating_sub(1);
        if total > 128 {
            return Err(prefix_path.error(Rule::TooLong {
                max: 128,
                got: total,
                unit: "characters",
            }));
        }
    }
    let params = config.extension_params.as_ref();
    let params_path = path.key("extensionParams");
    let endpoint_path = params_path.key("endpoint");
    let endpoint = params.and_then(|p| p.endpoint.as_deref());
    if vendor == StorageVendor::S3Compatible {
        endpoint_path.required(endpoint.is_some())?;
    } else if endpoint.is_some() {
        return Err(endpoint_path.error(Rule::NotAllowedWith {
            condition: format!("vendor is {vendor} (endpoint is for vendor 11)"),
        }));
    }
    if let Some(endpoint) = endpoint {
        endpoint_path.non_empty(endpoint)?;
    }
    if let Some(sse) = params.and_then(|p| p.sse.as_ref()) {
        let sse_path = params_path.key("sse");
        if vendor != StorageVendor::AmazonS3 {
            return Err(sse_path.error(Rule::NotAllowedWith {
                condition: format!("vendor is {vendor} (sse is for vendor 1)"),
            }));
        }
        if !sse.is_known() {
            return Err(sse_path.error(Rule::NotOneOf {
                allowed: "kms, aes256",
                got: sse.to_string(),
            }));
        }
    }
    if params.is_some_and(|p| p.tag.is_some())
        && !matches!(
            vendor,
            StorageVendor::AmazonS3 | StorageVendor::AlibabaCloud
        )
    {
        return Err(params_path.key("tag").error(Rule::NotAllowedWith {
            condition: format!("vendor is {vendor} (tag is for vendors 1, 2)"),
        }));
    }
    Ok(())
}

fn check_extension(config: &ExtensionServiceConfig, path: &Path<'_>) -> Checked {
    if let Some(policy) = &config.error_handle_policy
        && *policy != ErrorHandlePolicy::ErrorAbort
    {
        return Err(path.key("errorHandlePolicy").error(Rule::NotOneOf {
            allowed: "error_abort",
            got: policy.to_string(),
        }));
    }
    let services_path = path.key("extensionServices");
    let services = &config.extension_services;
    if services.is_empty() {
        return Err(services_path.error(Rule::Empty));
    }
    for (i, service) in services.iter().enumerate() {
        let entry = services_path.index(i);
        let name_path = entry.key("serviceName");
        if !matches!(
            service.service_name,
            ServiceName::WebRecorder | ServiceName::RtmpPublish
        ) {
            return Err(name_path.error(Rule::NotOneOf {
                allowed: "web_recorder_service, rtmp_publish_service",
                got: service.service_name.to_string(),
            }));
        }
        if services[..i]
            .iter()
            .any(|earlier| earlier.service_name == service.service_name)
        {
            return Err(name_path.error(Rule::Format {
                expected: "each service at most once",
                got: service.service_name.to_string(),
            }));
        }
        if let Some(policy) = &service.error_handle_policy
            && !policy.is_known()
        {
            return Err(entry.key("errorHandlePolicy").error(Rule::NotOneOf {
                allowed: "error_abort, error_ignore",
                got: policy.to_string(),
            }));
        }
        let param_path = entry.key("serviceParam");
        match (&service.service_name, &service.service_param) {
            (ServiceName::WebRecorder, ServiceParam::WebRecorder(params)) => {
                check_web_recorder(params, &param_path)?;
            }
            (ServiceName::RtmpPublish, ServiceParam::RtmpPublish(params)) => {
                check_rtmp_outputs(&params.outputs, &param_path.key("outputs"))?;
            }
            (ServiceName::WebRecorder, param) => {
                return Err(param_path.error(Rule::Format {
                    expected: "web recorder parameters (url, audioProfile, videoWidth, videoHeight, maxRecordingHour)",
                    got: shape_problem::<WebRecorderParams>(param),
                }));
            }
            (_, param) => {
                return Err(param_path.error(Rule::Format {
                    expected: "RTMP parameters ({\"outputs\":[{\"rtmpUrl\":...}]})",
                    got: shape_problem::<crate::start::RtmpPublishParams>(param),
                }));
            }
        }
    }
    Ok(())
}

/// Why `param` does not have the shape `T`, in serde's words (e.g. ``missing
/// field `maxRecordingHour` ``). Service parameters carry no credentials.
fn shape_problem<T: serde::de::DeserializeOwned>(param: &ServiceParam) -> String {
    let value = match serde_json::to_value(param) {
        Ok(value) => value,
        Err(_) => return "another shape".to_owned(),
    };
    match serde_json::from_value::<T>(value) {
        Ok(_) => "the parameters of another service".to_owned(),
        Err(error) => error.to_string(),
    }
}

fn check_web_recorder(params: &WebRecorderParams, path: &Path<'_>) -> Checked {
    check_url(
        &params.url,
        &path.key("url"),
        &["http://", "https://"],
        "an http(s) URL",
    )?;
    known(
        &path.key("audioProfile"),
        Some(params.audio_profile),
        "0, 1, 2",
    )?;
    check_canvas(
        params.video_width,
        params.video_height,
        &path.key("videoWidth"),
        &path.key("videoHeight"),
    )?;
    path.key("maxRecordingHour")
        .range(i64::from(params.max_recording_hour), 1, 720)?;
    if params.video_bitrate == Some(0) {
        return Err(path.key("videoBitrate").error(Rule::Range {
            min: 1,
            max: i64::from(u32::MAX),
            got: 0,
        }));
    }
    path.key("videoFps").opt_range(params.video_fps, 5, 60)?;
    path.key("maxVideoDuration")
        .opt_range(params.max_video_duration, 30, 240)?;
    path.key("readyTimeout")
        .opt_range(params.ready_timeout, 0, 60)?;
    Ok(())
}

fn check_rtmp_outputs(outputs: &[RtmpOutput], path: &Path<'_>) -> Checked {
    if outputs.is_empty() {
        return Err(path.error(Rule::Empty));
    }
    path.at_most(outputs, 1)?;
    for (i, output) in outputs.iter().enumerate() {
        check_url(
            &output.rtmp_url,
            &path.index(i).key("rtmpUrl"),
            &["rtmp://", "rtmps://"],
            "an rtmp:// or rtmps:// URL",
        )?;
    }
    Ok(())
}

// ---- update ---------------------------------------------------------------

fn check_stream_subscribe(subscribe: &StreamSubscribe, path: &Path<'_>) -> Checked {
    if let Some(audio) = &subscribe.audio_uid_list {
        let audio_path = path.key("audioUidList");
        check_pair(
            audio.subscribe_audio_uids.as_deref(),
            audio.unsubscribe_audio_uids.as_deref(),
            &audio_path,
            ("subscribeAudioUids", "unSubscribeAudioUids"),
        )?;
    }
    if let Some(video) = &subscribe.video_uid_list {
        let video_path = path.key("videoUidList");
        check_pair(
            video.subscribe_video_uids.as_deref(),
            video.unsubscribe_video_uids.as_deref(),
            &video_path,
            ("subscribeVideoUids", "unSubscribeVideoUids"),
        )?;
    }
    Ok(())
}

fn check_pair(
    allow: Option<&[String]>,
    deny: Option<&[String]>,
    path: &Path<'_>,
    (allow_key, deny_key): (&'static str, &'static str),
) -> Checked {
    if let Some(list) = allow {
        check_uid_list(list, &path.key(allow_key))?;
    }
    if let Some(list) = deny {
        check_uid_list(list, &path.key(deny_key))?;
    }
    exclusive(
        allow.is_some(),
        deny.is_some(),
        &path.key(deny_key),
        allow_key,
    )
}

// ---- shared ---------------------------------------------------------------

/// At most 32 entries, each a uid or `#allstream#`.
fn check_uid_list(list: &[String], path: &Path<'_>) -> Checked {
    path.at_most(list, 32)?;
    for (i, uid) in list.iter().enumerate() {
        check_uid(uid, &path.index(i), true)?;
    }
    Ok(())
}

/// A decimal uid in 1..=2^32-1, or `#allstream#` where lists allow it.
fn check_uid(uid: &str, path: &Path<'_>, wildcard: bool) -> Checked {
    if (wildcard && uid == ALL_STREAMS) || uid.parse::<Uid>().is_ok() {
        return Ok(());
    }
    Err(path.error(Rule::Format {
        expected: if wildcard {
            "a decimal uid in 1..=4294967295 or #allstream#"
        } else {
            "a decimal uid in 1..=4294967295"
        },
        got: uid.to_owned(),
    }))
}

/// A URL with one of `schemes` and something after it. Only the scheme of a bad
/// URL is reported: URLs may carry stream keys or tokens.
fn check_url(url: &str, path: &Path<'_>, schemes: &[&str], expected: &'static str) -> Checked {
    path.non_empty(url)?;
    let lower = url.to_ascii_lowercase();
    if schemes
        .iter()
        .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len())
    {
        return Ok(());
    }
    let got = match url.split_once("://") {
        Some((scheme, _)) => format!("a URL with scheme {scheme}"),
        None => "text without a URL scheme".to_owned(),
    };
    Err(path.error(Rule::Format { expected, got }))
}

fn exclusive(first: bool, second: bool, path: &Path<'_>, other: &'static str) -> Checked {
    if first && second {
        Err(path.error(Rule::Exclusive { other }))
    } else {
        Ok(())
    }
}

/// Rejects integer codes the documentation does not list.
fn known<T: IntEnum>(path: &Path<'_>, value: Option<T>, allowed: &'static str) -> Checked {
    match value {
        Some(value) if !value.known() => Err(path.error(Rule::NotOneOf {
            allowed,
            got: value.wire_code().to_string(),
        })),
        _ => Ok(()),
    }
}
