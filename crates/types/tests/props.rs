//! Property tests: arbitrary valid requests validate and survive a JSON round
//! trip unchanged; arbitrary bytes and arbitrary JSON never panic a decoder or
//! the validator.

use cloudrec_types::ncs::{NcsIpResponse, Notification};
use cloudrec_types::{
    AcquireClientRequest, AcquireRequest, AcquireResponse, Area, AudioProfile, AudioUidList,
    AvFileType, BackgroundConfig, ChannelType, Cname, ErrorBody, ExtensionParams, ExtensionService,
    ExtensionServiceConfig, LayoutConfig, MixedVideoLayout, Mode, QueryResponse, RecordingConfig,
    RecordingFileConfig, RenderMode, Scene, ServerSideEncryption, SnapshotConfig,
    StartClientRequest, StartRequest, StartResponse, StopClientRequest, StopRequest, StopResponse,
    StorageConfig, StorageVendor, StreamMode, StreamSubscribe, StreamTypes, TranscodingConfig, Uid,
    UpdateClientRequest, UpdateLayoutClientRequest, UpdateLayoutRequest, UpdateLayoutResponse,
    UpdateRequest, UpdateResponse, Validate, VideoStreamType, VideoUidList, WebRecorderParams,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn uid() -> impl Strategy<Value = Uid> {
    (1..=u32::MAX).prop_map(|n| Uid::new(n).unwrap())
}

fn cname() -> impl Strategy<Value = Cname> {
    "[a-zA-Z0-9_ !#$%&()+:;<=.>?@^{}|~,-]{1,63}".prop_map(|s| Cname::new(s).unwrap())
}

fn uid_text() -> impl Strategy<Value = String> {
    (1..=u32::MAX).prop_map(|n| n.to_string())
}

/// A binary fraction in [0, 1]: exact in JSON, so equality after a round trip holds.
fn fraction() -> impl Strategy<Value = f64> {
    (0u32..=1024).prop_map(|k| f64::from(k) / 1024.0)
}

fn storage() -> impl Strategy<Value = StorageConfig> {
    let vendors = [1i64, 2, 3, 5, 6, 7, 8, 11].map(StorageVendor::from_code);
    (
        proptest::sample::select(vendors.to_vec()),
        any::<prop::sample::Index>(),
    )
        .prop_flat_map(|(vendor, region_index)| {
            let regions = vendor.regions().unwrap();
            let region = regions[region_index.index(regions.len())];
            (
                "[a-z0-9-]{1,20}",
                "[A-Za-z0-9]{1,30}",
                "[A-Za-z0-9/+]{1,40}",
                option::of(("[A-Za-z0-9]{1,40}", any::<u64>())),
                option::of(vec("[A-Za-z0-9]{1,20}", 0..5)),
                option::of("[a-z]{1,10}"),
                option::of(prop_oneof![
                    Just(ServerSideEncryption::Kms),
                    Just(ServerSideEncryption::Aes256)
                ]),
                "[a-z0-9.]{1,30}",
            )
                .prop_map(
                    move |(bucket, access, secret, sts, prefix, tag, sse, endpoint)| {
                        let mut config = StorageConfig::new(vendor, region, bucket, access, secret);
                        if vendor.supports_sts()
                            && let Some((token, expiration)) = sts
                        {
                            config = config.with_sts(token, expiration);
                        }
                        config.file_name_prefix = prefix;
                        let params = ExtensionParams {
                            unknown: Default::default(),
                            sse: sse.filter(|_| vendor == StorageVendor::AmazonS3),
                            tag: tag.filter(|_| {
                                matches!(
                                    vendor,
                                    StorageVendor::AmazonS3 | StorageVendor::AlibabaCloud
                                )
                            }),
                            endpoint: (vendor == StorageVendor::S3Compatible).then_some(endpoint),
                        };
                        if params != ExtensionParams::default() {
                            config.extension_params = Some(params);
                        }
                        config
                    },
                )
        })
}

/// Audio allow-list, audio deny-list, video allow-list, video deny-list.
type Lists = (
    Option<Vec<String>>,
    Option<Vec<String>>,
    Option<Vec<String>>,
    Option<Vec<String>>,
);

/// Subscription lists: each media has an allow-list, a deny-list or neither.
fn lists() -> impl Strategy<Value = Lists> {
    let list = || vec(uid_text(), 0..=16);
    (0..3u8, list(), 0..3u8, list()).prop_map(|(audio_kind, audio, video_kind, video)| {
        let (sub_a, unsub_a) = match audio_kind {
            0 => (None, None),
            1 => (Some(audio), None),
            _ => (None, Some(audio)),
        };
        let (sub_v, unsub_v) = match video_kind {
            0 => (None, None),
            1 => (Some(video), None),
            _ => (None, Some(video)),
        };
        (sub_a, unsub_a, sub_v, unsub_v)
    })
}

fn window() -> impl Strategy<Value = LayoutConfig> {
    (
        option::of(uid_text()),
        fraction(),
        fraction(),
        fraction(),
        fraction(),
        option::of(fraction()),
        option::of(prop_oneof![Just(RenderMode::Crop), Just(RenderMode::Fit)]),
    )
        .prop_map(|(uid, x, y, w, h, alpha, render_mode)| LayoutConfig {
            alpha,
            render_mode,
            ..LayoutConfig::new(uid, x, y, w, h)
        })
}

fn background() -> impl Strategy<Value = BackgroundConfig> {
    (uid_text(), "[a-z]{1,10}", option::of(Just(RenderMode::Fit))).prop_map(
        |(uid, name, render_mode)| BackgroundConfig {
            unknown: Default::default(),
            uid,
            image_url: format!("https://img.example/{name}.jpg"),
            render_mode,
        },
    )
}

fn transcoding() -> impl Strategy<Value = TranscodingConfig> {
    (
        (1u32..=1920, 1u32..=1080, 1u32..=60, 1u32..=6500),
        0..4i64,
        option::of("#[0-9A-Fa-f]{6}"),
        option::of(vec(window(), 0..=17)),
        option::of(vec(background(), 0..4)),
        uid_text(),
    )
        .prop_map(
            |((w, h, fps, bitrate), layout, color, windows, backgrounds, big)| {
                let mut config = TranscodingConfig::new(w, h, fps, bitrate);
                config.mixed_video_layout = Some(MixedVideoLayout::from_code(layout));
                if layout == 2 {
                    config.max_resolution_uid = Some(big);
                }
                config.background_color = color;
                config.layout_config = windows;
                config.background_config = backgrounds;
                config
            },
        )
}

fn recording(mode: Mode) -> impl Strategy<Value = RecordingConfig> {
    (
        option::of(prop_oneof![
            Just(ChannelType::Communication),
            Just(ChannelType::LiveBroadcasting)
        ]),
        option::of(5u32..=2_592_000),
        option::of(prop_oneof![
            Just(VideoStreamType::High),
            Just(VideoStreamType::Low)
        ]),
        lists(),
        option::of(prop_oneof![
            Just(StreamMode::Default),
            Just(StreamMode::Standard)
        ]),
        option::of(prop_oneof![
            Just(AudioProfile::Standard),
            Just(AudioProfile::HighMono),
            Just(AudioProfile::HighStereo)
        ]),
        option::of(transcoding()),
        option::of("[A-Za-z0-9]{8,32}"),
    )
        .prop_map(
            move |(
                channel,
                idle,
                video_stream,
                lists,
                stream_mode,
                profile,
                transcoding,
                secret,
            )| {
                let (sub_a, unsub_a, sub_v, unsub_v) = lists;
                let any_list =
                    sub_a.is_some() || unsub_a.is_some() || sub_v.is_some() || unsub_v.is_some();
                let mut config = RecordingConfig {
                    channel_type: channel,
                    max_idle_time: idle,
                    video_stream_type: video_stream,
                    subscribe_audio_uids: sub_a,
                    unsubscribe_audio_uids: unsub_a,
                    subscribe_video_uids: sub_v,
                    unsubscribe_video_uids: unsub_v,
                    stream_types: any_list.then_some(StreamTypes::AudioAndVideo),
                    ..RecordingConfig::default()
                };
                if let Some(secret) = secret {
                    config.decryption_mode = Some(cloudrec_types::DecryptionMode::Aes128Xts);
                    config.secret = Some(secret.into());
                }
                match mode {
                    Mode::Individual => {
                        config.stream_mode = stream_mode;
                        // Two lists of at most 16 uids: group 4 covers them.
                        if any_list {
                            config.subscribe_uid_group = Some(4);
                        }
                    }
                    _ => {
                        config.audio_profile = profile;
                        config.transcoding_config = transcoding;
                    }
                }
                config
            },
        )
}

fn web_params() -> impl Strategy<Value = WebRecorderParams> {
    (
        "[a-z]{1,12}",
        (240u32..=1920, 240u32..=1080, 1u32..=720),
        option::of(1u32..=10_000),
        option::of(5u32..=60),
        option::of(any::<bool>()),
        option::of(30u32..=240),
        option::of(any::<bool>()),
        option::of(0u32..=60),
    )
        .prop_map(
            |(page, (w, h, hours), bitrate, fps, mobile, duration, onhold, ready)| {
                WebRecorderParams {
                    video_width: w,
                    video_height: h,
                    max_recording_hour: hours,
                    video_bitrate: bitrate,
                    video_fps: fps,
                    mobile,
                    max_video_duration: duration,
                    onhold,
                    ready_timeout: ready,
                    ..WebRecorderParams::new(format!("https://{page}.example/"))
                }
            },
        )
}

fn start_client(mode: Mode) -> BoxedStrategy<StartClientRequest> {
    let token = option::of("[A-Za-z0-9]{10,40}");
    match mode {
        Mode::Web => (
            token,
            storage(),
            web_params(),
            option::of("[a-z]{1,10}"),
            any::<bool>(),
        )
            .prop_map(|(token, storage, params, rtmp, mp4)| {
                let mut services = vec![ExtensionService::web_recorder(params)];
                if let Some(key) = rtmp {
                    services.push(ExtensionService::rtmp_publish(format!(
                        "rtmp://cdn.example/{key}"
                    )));
                }
                let mut request = StartClientRequest::web("unused", storage);
                request.extension_service_config = Some(ExtensionServiceConfig::new(services));
                request.token = token.map(Into::into);
                if mp4 {
                    request = request.with_mp4();
                }
                request
            })
            .boxed(),
        Mode::Individual => (
            token,
            storage(),
            recording(Mode::Individual),
            option::of(5u32..=3600),
            any::<bool>(),
        )
            .prop_map(|(token, storage, recording, snapshot, files)| {
                let no_audio_only_lists = recording.subscribe_audio_uids.is_none()
                    && recording.unsubscribe_audio_uids.is_none();
                let mut request =
                    StartClientRequest::individual(storage).with_recording_config(recording);
                request.token = token.map(Into::into);
                if let Some(interval) = snapshot.filter(|_| no_audio_only_lists) {
                    request = request.with_snapshot(SnapshotConfig::every(interval));
                }
                // Individual recording names its file types unless it takes screenshots only.
                if files || request.snapshot_config.is_none() {
                    request.recording_file_config = Some(RecordingFileConfig::default());
                }
                request
            })
            .boxed(),
        _ => (token, storage(), recording(Mode::Mix), any::<bool>())
            .prop_map(|(token, storage, recording, mp4)| {
                let mut request = StartClientRequest::mix(storage).with_recording_config(recording);
                request.token = token.map(Into::into);
                if mp4 {
                    request.recording_file_config = Some(RecordingFileConfig {
                        unknown: Default::default(),
                        av_file_type: vec![AvFileType::Hls, AvFileType::Mp4],
                    });
                }
                request
            })
            .boxed(),
    }
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Individual), Just(Mode::Mix), Just(Mode::Web)]
}

fn start() -> impl Strategy<Value = (Mode, StartRequest)> {
    mode().prop_flat_map(|mode| {
        (cname(), uid(), start_client(mode.clone()))
            .prop_map(move |(c, u, r)| (mode.clone(), StartRequest::new(c, u, r)))
    })
}

fn acquire() -> impl Strategy<Value = (Mode, AcquireRequest)> {
    mode().prop_flat_map(|mode| {
        (
            cname(),
            uid(),
            option::of(1u32..=720),
            option::of(vec("[A-Za-z0-9_-]{10,40}", 0..3)),
            option::of(prop_oneof![
                Just(Area::China),
                Just(Area::AsiaPacific),
                Just(Area::Europe),
                Just(Area::NorthAmerica)
            ]),
            option::of(start_client(mode.clone())),
        )
            .prop_map(move |(c, u, hours, exclude, region, start)| {
                let client = AcquireClientRequest {
                    unknown: Default::default(),
                    scene: if mode == Mode::Web {
                        Some(Scene::WebPage)
                    } else {
                        None
                    },
                    resource_expired_hour: hours,
                    exclude_resource_ids: exclude,
                    region,
                    start_parameter: start,
                };
                (
                    mode.clone(),
                    AcquireRequest::new(c, u).with_client_request(client),
                )
            })
    })
}

fn update() -> impl Strategy<Value = (Mode, UpdateRequest)> {
    mode().prop_flat_map(|mode| {
        (
            cname(),
            uid(),
            lists(),
            any::<bool>(),
            "[a-z]{1,10}",
            option::of(storage()),
            0..3u8,
        )
            .prop_map(move |(c, u, lists, onhold, key, storage, pick)| {
                let (sub_a, unsub_a, sub_v, unsub_v) = lists;
                let mut client = match (&mode, pick) {
                    (Mode::Web, 0) => UpdateClientRequest::onhold(onhold),
                    (Mode::Web, 1) => {
                        UpdateClientRequest::rtmp(format!("rtmps://cdn.example/{key}"))
                    }
                    (Mode::Web, _) => UpdateClientRequest::default(),
                    _ => UpdateClientRequest::subscribe(StreamSubscribe {
                        unknown: Default::default(),
                        audio_uid_list: Some(AudioUidList {
                            unknown: Default::default(),
                            subscribe_audio_uids: sub_a,
                            unsubscribe_audio_uids: unsub_a,
                        }),
                        video_uid_list: Some(VideoUidList {
                            unknown: Default::default(),
                            subscribe_video_uids: sub_v,
                            unsubscribe_video_uids: unsub_v,
                        }),
                    }),
                };
                client.storage_config = storage;
                (mode.clone(), UpdateRequest::new(c, u, client))
            })
    })
}

fn update_layout() -> impl Strategy<Value = UpdateLayoutRequest> {
    (cname(), uid(), transcoding()).prop_map(|(c, u, t)| {
        let client = UpdateLayoutClientRequest {
            unknown: Default::default(),
            mixed_video_layout: t.mixed_video_layout,
            max_resolution_uid: t.max_resolution_uid,
            background_color: t.background_color,
            background_image: t.background_image,
            default_user_background_image: t.default_user_background_image,
            layout_config: t.layout_config,
            background_config: t.background_config,
        };
        UpdateLayoutRequest::new(c, u, client)
    })
}

fn stop() -> impl Strategy<Value = StopRequest> {
    (cname(), uid(), option::of(any::<bool>())).prop_map(|(c, u, async_stop)| StopRequest {
        client_request: StopClientRequest {
            unknown: Default::default(),
            async_stop,
        },
        ..StopRequest::new(c, u)
    })
}

/// Valid, and equal to itself after JSON text and JSON value round trips.
fn round_trips<T>(mode: &Mode, request: &T) -> Result<(), TestCaseError>
where
    T: Validate + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Err(error) = request.validate(mode) {
        return Err(TestCaseError::fail(format!(
            "generated request invalid in {mode}: {error}"
        )));
    }
    let text = serde_json::to_string(request).unwrap();
    let back: T = serde_json::from_str(&text).unwrap();
    prop_assert_eq!(&back, request);
    let value = serde_json::to_value(request).unwrap();
    prop_assert_eq!(serde_json::to_value(&back).unwrap(), value);
    back.validate(mode)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_start_requests_round_trip((mode, request) in start()) {
        round_trips(&mode, &request)?;
    }

    #[test]
    fn valid_acquire_requests_round_trip((mode, request) in acquire()) {
        round_trips(&mode, &request)?;
    }

    #[test]
    fn valid_update_requests_round_trip((mode, request) in update()) {
        round_trips(&mode, &request)?;
    }

    #[test]
    fn valid_update_layout_requests_round_trip(request in update_layout()) {
        round_trips(&Mode::Mix, &request)?;
    }

    #[test]
    fn valid_stop_requests_round_trip(request in stop(), mode in mode()) {
        round_trips(&mode, &request)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_decoder(bytes in vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics_a_decoder_or_the_validator(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        decode_all(&bytes);
        // The same value wrapped the way bodies are, so nested decoders run too.
        for key in ["clientRequest", "serverResponse"] {
            let wrapped = serde_json::json!({"cname": "c", "uid": "1", "resourceId": "r", "sid": "s", key: value.clone()});
            decode_all(&serde_json::to_vec(&wrapped).unwrap());
        }
    }

    #[test]
    fn mutated_fixtures_never_panic(index in 0usize..64, position in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let fixtures = fixture_bytes();
        let mut bytes = fixtures[index % fixtures.len()].clone();
        if !bytes.is_empty() {
            let at = position.index(bytes.len());
            bytes[at] = byte;
        }
        decode_all(&bytes);
    }
}

fn fixture_bytes() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

/// Runs every decoder over `bytes`, and the validator over every request that decodes.
fn decode_all(bytes: &[u8]) {
    fn request<T: DeserializeOwned + Validate>(bytes: &[u8]) {
        if let Ok(body) = serde_json::from_slice::<T>(bytes) {
            for mode in [Mode::Individual, Mode::Mix, Mode::Web, Mode::parse("raw")] {
                let _ = body.validate(&mode);
            }
        }
    }
    fn response<T: DeserializeOwned>(bytes: &[u8]) {
        let _ = serde_json::from_slice::<T>(bytes);
    }
    request::<AcquireRequest>(bytes);
    request::<StartRequest>(bytes);
    request::<UpdateRequest>(bytes);
    request::<UpdateLayoutRequest>(bytes);
    request::<StopRequest>(bytes);
    request::<StartClientRequest>(bytes);
    response::<AcquireResponse>(bytes);
    response::<StartResponse>(bytes);
    response::<UpdateResponse>(bytes);
    response::<UpdateLayoutResponse>(bytes);
    response::<QueryResponse>(bytes);
    response::<StopResponse>(bytes);
    response::<ErrorBody>(bytes);
    response::<Notification>(bytes);
    response::<NcsIpResponse>(bytes);
}

/// Arbitrary JSON, biased towards the keys and shapes of this API.
fn json_value() -> impl Strategy<Value = Value> {
    let keys = proptest::sample::select(vec![
        "cname",
        "uid",
        "clientRequest",
        "recordingConfig",
        "storageConfig",
        "vendor",
        "region",
        "fileList",
        "fileListMode",
        "status",
        "sliceStartTime",
        "extensionServiceState",
        "serviceName",
        "payload",
        "playload",
        "serviceParam",
        "extensionServices",
        "transcodingConfig",
        "layoutConfig",
        "subscribeAudioUids",
        "unsubscribeAudioUids",
        "unSubscribeAudioUids",
        "avFileType",
        "snapshotConfig",
        "uploadingStatus",
        "filename",
        "fileName",
        "code",
        "reason",
        "message",
        "details",
        "outputs",
        "x_axis",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z0-9#_ ]{0,12}".prop_map(Value::from),
        (0u32..30).prop_map(|n| Value::from(n.to_string())),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::from),
            vec((keys.clone(), inner), 0..8).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }),
        ]
    })
}
