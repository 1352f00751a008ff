//! The `start` call: request body (every block of spec §4) and response.

use serde::{Deserialize, Serialize};

use crate::UnknownFields;

use crate::lenient::{open_int_enum, open_str_enum};
use crate::{Cname, ResourceId, Secret, Sid, Text, Uid};

/// The body of `POST .../resourceid/{rid}/mode/{mode}/start`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRequest {
    /// The channel name; must equal the one given to acquire.
    pub cname: Cname,
    /// The recorder's uid; must equal the one given to acquire.
    pub uid: Uid,
    /// What to record and where to store it.
    pub client_request: StartClientRequest,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl StartRequest {
    /// A start body for the channel and recorder uid used in acquire.
    pub fn new(cname: Cname, uid: Uid, client_request: StartClientRequest) -> Self {
        Self {
            unknown: Default::default(),
            cname,
            uid,
            client_request,
        }
    }
}

/// The `clientRequest` of start. Which blocks apply depends on the mode:
///
/// | block | individual | mix | web |
/// |---|---|---|---|
/// | `token` | if App Certificate on | if App Certificate on | not needed |
/// | `recordingConfig` | required | required | – |
/// | `recordingFileConfig` | optional (default `["hls"]`; omit for screenshots only) | optional | optional |
/// | `snapshotConfig` | optional | – | – |
/// | `storageConfig` | required | required | required |
/// | `extensionServiceConfig` | – | – | required |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartClientRequest {
    /// RTC token for the channel and the recorder uid; needed when the App
    /// Certificate is enabled. It is not renewed during recording, so give it a
    /// lifetime longer than the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// What to subscribe to and how (individual and mix modes; required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_config: Option<RecordingConfig>,
    /// Output container types; absent means `["hls"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_file_config: Option<RecordingFileConfig>,
    /// Screenshots (individual mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_config: Option<SnapshotConfig>,
    /// Where the files are uploaded (required in every mode).
    pub storage_config: StorageConfig,
    /// The web page recorder and RTMP publishing services (web mode only; required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_service_config: Option<ExtensionServiceConfig>,
    /// Scene 2 only (individual mode, feature `legacy`): how the recording is combined.
    #[cfg(feature = "legacy")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps_collection: Option<crate::legacy::AppsCollection>,
    /// Scene 2 only (individual mode, feature `legacy`): postponed transcoding or
    /// audio mixing settings.
    #[cfg(feature = "legacy")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcode_options: Option<crate::legacy::TranscodeOptions>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl StartClientRequest {
    /// A composite (mix) recording of everyone in a communication channel, with the
    /// service defaults: audio and video, 360x640 at 15 fps and 500 Kbps, HLS output.
    ///
    /// ```
    /// use cloudrec_types::{Cname, Mode, StartClientRequest, StartRequest, StorageConfig, StorageVendor, Validate};
    /// let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "bucket", "access", "secret");
    /// let request = StartRequest::new(
    ///     Cname::new("room-1").unwrap(),
    ///     "527841".parse().unwrap(),
    ///     StartClientRequest::mix(storage),
    /// );
    /// assert!(request.validate(&Mode::Mix).is_ok());
    /// ```
    pub fn mix(storage: StorageConfig) -> Self {
        Self {
            unknown: Default::default(),
            token: None,
            recording_config: Some(RecordingConfig::default()),
            recording_file_config: None,
            snapshot_config: None,
            storage_config: storage,
            extension_service_config: None,
            #[cfg(feature = "legacy")]
            apps_collection: None,
            #[cfg(feature = "legacy")]
            transcode_options: None,
        }
    }

    /// An individual recording of everyone in a communication channel (separate
    /// audio and video files per user, HLS output).
    pub fn individual(storage: StorageConfig) -> Self {
        Self {
            recording_file_config: Some(RecordingFileConfig::default()),
            ..Self::mix(storage)
        }
    }

    /// A web page recording of `url` at 1280x720 (see [`WebRecorderParams::new`]),
    /// with HLS output.
    pub fn web(url: impl Into<String>, storage: StorageConfig) -> Self {
        Self {
            unknown: Default::default(),
            token: None,
            recording_config: None,
            recording_file_config: None,
            snapshot_config: None,
            storage_config: storage,
            extension_service_config: Some(ExtensionServiceConfig::new(vec![
                ExtensionService::web_recorder(WebRecorderParams::new(url)),
            ])),
            #[cfg(feature = "legacy")]
            apps_collection: None,
            #[cfg(feature = "legacy")]
            transcode_options: None,
        }
    }

    /// Sets the RTC token.
    pub fn with_token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Replaces the recording configuration.
    pub fn with_recording_config(mut self, config: RecordingConfig) -> Self {
        self.recording_config = Some(config);
        self
    }

    /// Sets the mix canvas (mix mode); keeps the rest of the recording configuration.
    pub fn with_transcoding(mut self, transcoding: TranscodingConfig) -> Self {
        self.recording_config
            .get_or_insert_with(RecordingConfig::default)
            .transcoding_config = Some(transcoding);
        self
    }

    /// Sets the output container types.
    pub fn with_file_types(mut self, types: Vec<AvFileType>) -> Self {
        self.recording_file_config = Some(RecordingFileConfig {
            unknown: Default::default(),
            av_file_type: types,
        });
        self
    }

    /// Adds HLS and MP4 output (`["hls","mp4"]`).
    pub fn with_mp4(self) -> Self {
        self.with_file_types(vec![AvFileType::Hls, AvFileType::Mp4])
    }

    /// Sets screenshots (individual mode).
    pub fn with_snapshot(mut self, snapshot: SnapshotConfig) -> Self {
        self.snapshot_config = Some(snapshot);
        self
    }

    /// Adds an RTMP publishing service for `rtmp_url` (web mode).
    pub fn with_rtmp_publish(mut self, rtmp_url: impl Into<String>) -> Self {
        self.extension_service_config
            .get_or_insert_with(|| ExtensionServiceConfig::new(Vec::new()))
            .extension_services
            .push(ExtensionService::rtmp_publish(rtmp_url));
        self
    }
}

open_int_enum! {
    /// `recordingConfig.channelType`: the channel profile; must match the SDK's.
    /// Default 0.
    ChannelType {
        /// `0`: communication.
        Communication = 0,
        /// `1`: live broadcasting.
        LiveBroadcasting = 1,
    }
}

open_int_enum! {
    /// `recordingConfig.decryptionMode`: the media stream encryption of the channel.
    /// Default 0 (none). Any other mode needs `secret`; modes 7 and 8 also need `salt`.
    DecryptionMode {
        /// `0`: no encryption.
        None = 0,
        /// `1`: AES-128, XTS.
        Aes128Xts = 1,
        /// `2`: AES-128, ECB.
        Aes128Ecb = 2,
        /// `3`: AES-256, XTS.
        Aes256Xts = 3,
        /// `4`: SM4-128, ECB.
        Sm4128Ecb = 4,
        /// `5`: AES-128, GCM.
        Aes128Gcm = 5,
        /// `6`: AES-256, GCM.
        Aes256Gcm = 6,
        /// `7`: AES-128, GCM2 (needs `salt`).
        Aes128Gcm2 = 7,
        /// `8`: AES-256, GCM2 (needs `salt`).
        Aes256Gcm2 = 8,
    }
}

open_int_enum! {
    /// `recordingConfig.streamTypes`: which media to subscribe to. Default 2.
    StreamTypes {
        /// `0`: audio only.
        AudioOnly = 0,
        /// `1`: video only.
        VideoOnly = 1,
        /// `2`: audio and video.
        AudioAndVideo = 2,
    }
}

impl StreamTypes {
    /// Whether audio is subscribed.
    pub const fn has_audio(self) -> bool {
        matches!(self, Self::AudioOnly | Self::AudioAndVideo)
    }

    /// Whether video is subscribed.
    pub const fn has_video(self) -> bool {
        matches!(self, Self::VideoOnly | Self::AudioAndVideo)
    }
}

open_int_enum! {
    /// `recordingConfig.videoStreamType`: which of a dual-stream sender's streams to
    /// record. Default 0.
    VideoStreamType {
        /// `0`: the high-quality stream.
        High = 0,
        /// `1`: the low-quality stream.
        Low = 1,
    }
}

open_int_enum! {
    /// Audio quality of the output: `recordingConfig.audioProfile` (mix) and the web
    /// recorder's `audioProfile`. Default 0.
    AudioProfile {
        /// `0`: 48 kHz, mono, about 48 Kbps.
        Standard = 0,
        /// `1`: 48 kHz, mono, about 128 Kbps.
        HighMono = 1,
        /// `2`: 48 kHz, stereo, about 192 Kbps.
        HighStereo = 2,
    }
}

open_str_enum! {
    /// `recordingConfig.streamMode` (individual mode only). Default `default`.
    StreamMode {
        /// Separate audio and video M3U8 files.
        Default = "default",
        /// Also a merged audio-and-video M3U8 (or MPD when the web client uses VP8).
        Standard = "standard",
        /// Audio-only recording without transcoding; needs `streamTypes` 0.
        Original = "original",
    }
}

/// The uid lists' wildcard: subscribe to every user.
pub const ALL_STREAMS: &str = "#allstream#";

/// `recordingConfig`: what to subscribe to and how (individual and mix modes).
///
/// Every field is optional; absent fields take the service default given on each.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingConfig {
    /// Channel profile, default communication (0). Must match the SDK's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<ChannelType>,
    /// Stream decryption mode, default none (0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decryption_mode: Option<DecryptionMode>,
    /// Decryption key; required when `decryptionMode` is not 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// Decryption salt: base64 of 32 bytes; required for decryption modes 7 and 8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<Secret>,
    /// Seconds without a host (live) or user (communication) before the recorder
    /// leaves; 5..=2592000 (30 days), default 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_idle_time: Option<u32>,
    /// Which media to record, default audio and video (2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_types: Option<StreamTypes>,
    /// Which stream of a dual-stream sender to record, default high (0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_stream_type: Option<VideoStreamType>,
    /// Uids whose audio to record (at most 32; [`ALL_STREAMS`] for everyone).
    /// Default: everyone. Excludes `unsubscribeAudioUids`. Setting only video lists
    /// means no audio is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe_audio_uids: Option<Vec<String>>,
    /// Uids whose audio not to record (at most 32). Serialized as
    /// `unSubscribeAudioUids`; `unsubscribeAudioUids` is accepted too.
    #[serde(
        default,
        rename = "unSubscribeAudioUids",
        alias = "unsubscribeAudioUids",
        skip_serializing_if = "Option::is_none"
    )]
    pub unsubscribe_audio_uids: Option<Vec<String>>,
    /// Uids whose video to record (at most 32; [`ALL_STREAMS`] for everyone).
    /// Default: everyone. Excludes `unsubscribeVideoUids`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe_video_uids: Option<Vec<String>>,
    /// Uids whose video not to record (at most 32). Serialized as
    /// `unSubscribeVideoUids`; `unsubscribeVideoUids` is accepted too.
    #[serde(
        default,
        rename = "unSubscribeVideoUids",
        alias = "unsubscribeVideoUids",
        skip_serializing_if = "Option::is_none"
    )]
    pub unsubscribe_video_uids: Option<Vec<String>>,
    /// Expected peak of subscribed uids: 0 = 1-2, 1 = 3-7, 2 = 8-12, 3 = 13-17,
    /// 4 = 18-32, 5 = 33-49. Needed in individual mode when subscription lists are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe_uid_group: Option<u32>,
    /// Output layout of individual recordings, default `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_mode: Option<StreamMode>,
    /// Audio quality of the mixed output (mix only), default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_profile: Option<AudioProfile>,
    /// The mixed video canvas (mix only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcoding_config: Option<TranscodingConfig>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

open_int_enum! {
    /// `mixedVideoLayout`: how the mix arranges users. Default 0. Every layout has at
    /// most 17 windows.
    MixedVideoLayout {
        /// `0`: floating; the first user fills the canvas, up to 4 rows of 4 small windows above it.
        Floating = 0,
        /// `1`: best-fit grid.
        BestFit = 1,
        /// `2`: vertical; one big window on the left (`maxResolutionUid`), up to 2 columns of 8 on the right.
        Vertical = 2,
        /// `3`: custom, from `layoutConfig`.
        Custom = 3,
    }
}

open_int_enum! {
    /// `render_mode` of a window or a background image. Default 0.
    RenderMode {
        /// `0`: crop to fill the window.
        Crop = 0,
        /// `1`: fit inside the window.
        Fit = 1,
    }
}

/// `recordingConfig.transcodingConfig`: the mixed video canvas (mix mode only).
///
/// Older documentation asks for width, height, fps and bitrate all together when
/// the block is present; [`TranscodingConfig::new`] sets all four.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscodingConfig {
    /// Canvas width in pixels, default 360; width x height at most 1920 x 1080.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Canvas height in pixels, default 640; width x height at most 1920 x 1080.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Frame rate, default 15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<u32>,
    /// Bitrate in Kbps, default 500, at most 6500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<u32>,
    /// The uid shown in the big window of layout 2 (required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resolution_uid: Option<String>,
    /// The layout, default floating (0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mixed_video_layout: Option<MixedVideoLayout>,
    /// Canvas colour `#RRGGBB`, default `#000000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// URL of a canvas background image (crop-fill).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_image: Option<String>,
    /// URL of the image shown when a user's video has stopped for more than 3.5 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_user_background_image: Option<String>,
    /// Windows of the custom layout (3); at most 17.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout_config: Option<Vec<LayoutConfig>>,
    /// Per-uid placeholder images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_config: Option<Vec<BackgroundConfig>>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl TranscodingConfig {
    /// A canvas of `width` x `height` pixels at `fps` frames per second and
    /// `bitrate` Kbps, in the best-fit grid layout.
    pub fn new(width: u32, height: u32, fps: u32, bitrate: u32) -> Self {
        Self {
            width: Some(width),
            height: Some(height),
            fps: Some(fps),
            bitrate: Some(bitrate),
            mixed_video_layout: Some(MixedVideoLayout::BestFit),
            ..Self::default()
        }
    }

    /// Switches to the custom layout with these windows.
    pub fn with_custom_layout(mut self, windows: Vec<LayoutConfig>) -> Self {
        self.mixed_video_layout = Some(MixedVideoLayout::Custom);
        self.layout_config = Some(windows);
        self
    }
}

/// One window of a custom mix layout. Coordinates are fractions of the canvas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayoutConfig {
    /// The user shown; absent = windows are assigned in join order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Left edge, in [0, 1].
    pub x_axis: f64,
    /// Top edge, in [0, 1].
    pub y_axis: f64,
    /// Width, in [0, 1].
    pub width: f64,
    /// Height, in [0, 1].
    pub height: f64,
    /// Opacity, in [0, 1], default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// How the video fills the window, default crop (0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render_mode: Option<RenderMode>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl LayoutConfig {
    /// A window at (`x`, `y`) of `width` x `height`, all fractions of the canvas.
    pub fn new(uid: Option<String>, x: f64, y: f64, width: f64, height: f64) -> Self {
        Self {
            unknown: Default::default(),
            uid,
            x_axis: x,
            y_axis: y,
            width,
            height,
            alpha: None,
            render_mode: None,
        }
    }
}

/// A placeholder image for one user of the mix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackgroundConfig {
    /// The user.
    pub uid: String,
    /// HTTPS URL of a JPG or BMP image of at most 6 MB; used once downloaded.
    pub image_url: String,
    /// How the image fills the window, default crop (0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render_mode: Option<RenderMode>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

open_str_enum! {
    /// An entry of `recordingFileConfig.avFileType`.
    AvFileType {
        /// M3U8 playlist and TS slices (the default).
        Hls = "hls",
        /// MP4 files, only together with `hls`.
        Mp4 = "mp4",
        /// MP3 (preview `raw` mode only).
        Mp3 = "mp3",
    }
}

/// `recordingFileConfig`: the output containers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingFileConfig {
    /// `["hls"]` (default) or `["hls","mp4"]`; `["mp4"]` alone is invalid. Mix
    /// starts a new MP4 about every 2 hours or 2 GB; web every `maxVideoDuration`.
    #[serde(default = "default_av_file_type")]
    pub av_file_type: Vec<AvFileType>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

fn default_av_file_type() -> Vec<AvFileType> {
    vec![AvFileType::Hls]
}

impl Default for RecordingFileConfig {
    fn default() -> Self {
        Self {
            unknown: Default::default(),
            av_file_type: default_av_file_type(),
        }
    }
}

open_str_enum! {
    /// An entry of `snapshotConfig.fileType`.
    SnapshotFileType {
        /// JPEG, the only documented type.
        Jpg = "jpg",
    }
}

/// `snapshotConfig`: periodic screenshots (individual mode only). Needs video
/// (`streamTypes` 1 or 2); with an audio list set, a video list must be set too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotConfig {
    /// Seconds between screenshots, 5..=3600, default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_interval: Option<u32>,
    /// Must be `["jpg"]`.
    pub file_type: Vec<SnapshotFileType>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl SnapshotConfig {
    /// JPG screenshots every `interval` seconds (5..=3600).
    pub fn every(interval: u32) -> Self {
        Self {
            unknown: Default::default(),
            capture_interval: Some(interval),
            file_type: vec![SnapshotFileType::Jpg],
        }
    }
}

open_int_enum! {
    /// `storageConfig.vendor`: the object store the files go to.
    StorageVendor {
        /// `0`: Qiniu Cloud (legacy, older documentation only).
        Qiniu = 0,
        /// `1`: Amazon S3.
        AmazonS3 = 1,
        /// `2`: Alibaba Cloud OSS.
        AlibabaCloud = 2,
        /// `3`: Tencent Cloud COS.
        TencentCloud = 3,
        /// `5`: Microsoft Azure.
        MicrosoftAzure = 5,
        /// `6`: Google Cloud.
        GoogleCloud = 6,
        /// `7`: Huawei Cloud OBS.
        HuaweiCloud = 7,
        /// `8`: Baidu AI Cloud BOS.
        BaiduAiCloud = 8,
        /// `11`: an S3-compatible store; needs `extensionParams.endpoint`.
        S3Compatible = 11,
    }
}

impl StorageVendor {
    /// Whether the vendor accepts temporary credentials (`stsToken`): 1, 2, 3.
    pub const fn supports_sts(self) -> bool {
        matches!(
            self,
            Self::AmazonS3 | Self::AlibabaCloud | Self::TencentCloud
        )
    }

    /// The region codes the vendor accepts, or `None` for an unknown vendor.
    pub fn regions(self) -> Option<&'static [u32]> {
        const S3: &[u32] = &[
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 24,
            25,
        ];
        const ALIBABA: &[u32] = &[
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
            24, 25, 26, 27,
        ];
        const TENCENT: &[u32] = &[
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
        ];
        const HUAWEI: &[u32] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        const BAIDU: &[u32] = &[1, 2, 3, 4, 5, 6, 7];
        const QINIU: &[u32] = &[0, 1, 2, 3];
        const ZERO: &[u32] = &[0];
        match self {
            Self::Qiniu => Some(QINIU),
            Self::AmazonS3 => Some(S3),
            Self::AlibabaCloud => Some(ALIBABA),
            Self::TencentCloud => Some(TENCENT),
            Self::MicrosoftAzure | Self::GoogleCloud | Self::S3Compatible => Some(ZERO),
            Self::HuaweiCloud => Some(HUAWEI),
            Self::BaiduAiCloud => Some(BAIDU),
            Self::Other(_) => None,
        }
    }
}

/// `storageConfig`: where the files are uploaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageConfig {
    /// The object store.
    pub vendor: StorageVendor,
    /// The vendor's region code (spec §12); should be in the area of the calling
    /// server and of acquire's `region`. Always 0 for Azure, Google and S3-compatible.
    pub region: u32,
    /// The bucket, following the vendor's naming rules.
    pub bucket: String,
    /// The access key.
    pub access_key: Secret,
    /// The secret key.
    pub secret_key: Secret,
    /// A temporary (STS) credential; vendors 1, 2 and 3 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sts_token: Option<Secret>,
    /// When `stsToken` expires, in unix seconds. Give it at least 4 hours; for tasks
    /// longer than 1 hour refresh it every 60 minutes through `update`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sts_expiration: Option<u64>,
    /// Directory segments the files go under (`["a","b"]` = `a/b/`); each only
    /// ASCII letters and digits, at most 128 characters in all including slashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name_prefix: Option<Vec<String>>,
    /// Vendor-specific extras: encryption, tags, S3-compatible endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_params: Option<ExtensionParams>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl StorageConfig {
    /// A storage target with long-lived keys.
    pub fn new(
        vendor: StorageVendor,
        region: u32,
        bucket: impl Into<String>,
        access_key: impl Into<Secret>,
        secret_key: impl Into<Secret>,
    ) -> Self {
        Self {
            unknown: Default::default(),
            vendor,
            region,
            bucket: bucket.into(),
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            sts_token: None,
            sts_expiration: None,
            file_name_prefix: None,
            extension_params: None,
        }
    }

    /// An S3-compatible store (vendor 11, region 0) at `endpoint`.
    pub fn s3_compatible(
        endpoint: impl Into<String>,
        bucket: impl Into<String>,
        access_key: impl Into<Secret>,
        secret_key: impl Into<Secret>,
    ) -> Self {
        let mut config = Self::new(
            StorageVendor::S3Compatible,
            0,
            bucket,
            access_key,
            secret_key,
        );
        config.extension_params = Some(ExtensionParams {
            endpoint: Some(endpoint.into()),
            ..ExtensionParams::default()
        });
        config
    }

    /// Puts the files under these directory segments.
    pub fn with_prefix<I, S>(mut self, segments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.file_name_prefix = Some(segments.into_iter().map(Into::into).collect());
        self
    }

    /// Adds a temporary credential valid until `expiration` (unix seconds).
    pub fn with_sts(mut self, token: impl Into<Secret>, expiration: u64) -> Self {
        self.sts_token = Some(token.into());
        self.sts_expiration = Some(expiration);
        self
    }
}

open_str_enum! {
    /// `extensionParams.sse`: server-side encryption (Amazon S3 only).
    ServerSideEncryption {
        /// AWS KMS keys.
        Kms = "kms",
        /// AES-256.
        Aes256 = "aes256",
    }
}

/// `storageConfig.extensionParams`: vendor-specific extras, all optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionParams {
    /// Server-side encryption; Amazon S3 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<ServerSideEncryption>,
    /// An object tag; Amazon S3 and Alibaba OSS only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Host of the S3-compatible store; required for and only for vendor 11.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

open_str_enum! {
    /// What the service does when an extension service fails.
    ErrorHandlePolicy {
        /// Stop the whole task (the default, and the only value for the top level and
        /// the web recorder).
        ErrorAbort = "error_abort",
        /// Keep the other services going (the default for RTMP publishing).
        ErrorIgnore = "error_ignore",
    }
}

open_str_enum! {
    /// The name of an extension service, in start bodies and in query/stop states.
    ServiceName {
        /// Records a web page.
        WebRecorder = "web_recorder_service",
        /// Pushes the page to a CDN over RTMP.
        RtmpPublish = "rtmp_publish_service",
        /// Uploads files (appears in stop responses of web tasks).
        Upload = "upload_service",
    }
}

/// `extensionServiceConfig`: the services of a web task (web mode only, required there).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionServiceConfig {
    /// Task-level policy; only `error_abort` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_handle_policy: Option<ErrorHandlePolicy>,
    /// The services; at least one, at most one of each kind.
    pub extension_services: Vec<ExtensionService>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl ExtensionServiceConfig {
    /// The given services with the default policy.
    pub fn new(services: Vec<ExtensionService>) -> Self {
        Self {
            unknown: Default::default(),
            error_handle_policy: None,
            extension_services: services,
        }
    }
}

/// One extension service of a web task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionService {
    /// Which service.
    pub service_name: ServiceName,
    /// What a failure of this service does; defaults `error_abort` for the recorder,
    /// `error_ignore` for RTMP publishing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_handle_policy: Option<ErrorHandlePolicy>,
    /// The service's parameters; their shape follows `serviceName`.
    pub service_param: ServiceParam,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl ExtensionService {
    /// The web page recorder with these parameters.
    pub fn web_recorder(params: WebRecorderParams) -> Self {
        Self {
            unknown: Default::default(),
            service_name: ServiceName::WebRecorder,
            error_handle_policy: None,
            service_param: ServiceParam::WebRecorder(params),
        }
    }

    /// RTMP publishing to `rtmp_url` (`rtmp://` or `rtmps://`).
    pub fn rtmp_publish(rtmp_url: impl Into<String>) -> Self {
        Self {
            unknown: Default::default(),
            service_name: ServiceName::RtmpPublish,
            error_handle_policy: None,
            service_param: ServiceParam::RtmpPublish(RtmpPublishParams {
                unknown: Default::default(),
                outputs: vec![RtmpOutput::new(rtmp_url)],
            }),
        }
    }
}

/// `serviceParam` of an extension service. Decoding tries the web recorder's
/// shape, then RTMP publishing's; anything else is kept as raw JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServiceParam {
    /// Parameters of `web_recorder_service`.
    WebRecorder(WebRecorderParams),
    /// Parameters of `rtmp_publish_service`.
    RtmpPublish(RtmpPublishParams),
    /// Parameters of a service this crate does not know, kept as sent.
    Other(serde_json::Value),
}

/// `serviceParam` of `web_recorder_service`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebRecorderParams {
    /// The page to render.
    pub url: String,
    /// Audio quality, 0..=2 as in [`AudioProfile`].
    pub audio_profile: AudioProfile,
    /// Output width in pixels; width x height at most 1920 x 1080.
    pub video_width: u32,
    /// Output height in pixels; width x height at most 1920 x 1080.
    pub video_height: u32,
    /// Hours after which recording stops, 1..=720; keep it at most acquire's
    /// `resourceExpiredHour`. Billing continues until stop.
    pub max_recording_hour: u32,
    /// Video bitrate in Kbps; default 2000 at 1280x720 and above, else 1500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_bitrate: Option<u32>,
    /// Frame rate, 5..=60, default 15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_fps: Option<u32>,
    /// Render the page as a mobile browser, default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<bool>,
    /// Minutes per MP4 file, 30..=240, default 120.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_video_duration: Option<u32>,
    /// Start paused: the page renders but no slices are made until `update` sets
    /// `onhold` false. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onhold: Option<bool>,
    /// Page-load timeout in seconds, 0..=60; 0 (the default) disables the check,
    /// otherwise a page not loaded in time stops the recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_timeout: Option<u32>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl WebRecorderParams {
    /// Records `url` at 1280x720 with standard audio for at most 72 hours (the
    /// default `resourceExpiredHour`).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            unknown: Default::default(),
            url: url.into(),
            audio_profile: AudioProfile::Standard,
            video_width: 1280,
            video_height: 720,
            max_recording_hour: 72,
            video_bitrate: None,
            video_fps: None,
            mobile: None,
            max_video_duration: None,
            onhold: None,
            ready_timeout: None,
        }
    }
}

/// `serviceParam` of `rtmp_publish_service`, and `update`'s `rtmpPublishConfig`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtmpPublishParams {
    /// The CDN targets; exactly one.
    pub outputs: Vec<RtmpOutput>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// One RTMP target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtmpOutput {
    /// `rtmp://` or `rtmps://` URL of the CDN ingest point.
    pub rtmp_url: String,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl RtmpOutput {
    /// A target at `rtmp_url`.
    pub fn new(rtmp_url: impl Into<String>) -> Self {
        Self {
            unknown: Default::default(),
            rtmp_url: rtmp_url.into(),
        }
    }
}

/// The 200 body of start. Older revisions omit `cname` and `uid`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartResponse {
    /// The channel name, when echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<Cname>,
    /// The recorder uid, when echoed (kept as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<Text>,
    /// The resource id the task runs on.
    pub resource_id: ResourceId,
    /// The new session id, for query, update, updateLayout and stop.
    pub sid: Sid,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

crate::unknown::unknown_members!(StartRequest, client_request: "clientRequest");

impl crate::Unknown for StartClientRequest {
    fn collect_unknown(&self, at: &str, found: &mut Vec<String>) {
        use crate::unknown::join;
        self.unknown.paths(at, found);
        self.recording_config
            .collect_unknown(&join(at, "recordingConfig"), found);
        self.recording_file_config
            .collect_unknown(&join(at, "recordingFileConfig"), found);
        self.snapshot_config
            .collect_unknown(&join(at, "snapshotConfig"), found);
        self.storage_config
            .collect_unknown(&join(at, "storageConfig"), found);
        self.extension_service_config
            .collect_unknown(&join(at, "extensionServiceConfig"), found);
        #[cfg(feature = "legacy")]
        {
            self.apps_collection
                .collect_unknown(&join(at, "appsCollection"), found);
            self.transcode_options
                .collect_unknown(&join(at, "transcodeOptions"), found);
        }
    }
}

crate::unknown::unknown_members!(RecordingConfig, transcoding_config: "transcodingConfig");
crate::unknown::unknown_members!(
    TranscodingConfig,
    layout_config: "layoutConfig",
    background_config: "backgroundConfig",
);
crate::unknown::unknown_members!(LayoutConfig);
crate::unknown::unknown_members!(BackgroundConfig);
crate::unknown::unknown_members!(RecordingFileConfig);
crate::unknown::unknown_members!(SnapshotConfig);
crate::unknown::unknown_members!(StorageConfig, extension_params: "extensionParams");
crate::unknown::unknown_members!(ExtensionParams);
crate::unknown::unknown_members!(
    ExtensionServiceConfig,
    extension_services: "extensionServices",
);
crate::unknown::unknown_members!(ExtensionService, service_param: "serviceParam");

/// A service this crate does not know keeps its whole `serviceParam` as raw JSON,
/// which is not reported member by member.
impl crate::Unknown for ServiceParam {
    fn collect_unknown(&self, at: &str, found: &mut Vec<String>) {
        match self {
            Self::WebRecorder(params) => params.collect_unknown(at, found),
            Self::RtmpPublish(params) => params.collect_unknown(at, found),
            Self::Other(_) => {}
        }
    }
}

crate::unknown::unknown_members!(WebRecorderParams);
crate::unknown::unknown_members!(RtmpPublishParams, outputs: "outputs");
crate::unknown::unknown_members!(RtmpOutput);
crate::unknown::unknown_members!(StartResponse);
