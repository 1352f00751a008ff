//! Scene 2 (individual recording with postponed transcoding or audio mixing),
//! removed from the documentation in April 2025 (spec §4.8). Whether the service
//! still accepts these blocks is unconfirmed, so they sit behind the `legacy`
//! feature. Note the numbers carried as strings, as the service documented them.

use serde::{Deserialize, Serialize};

use crate::UnknownFields;

use crate::lenient::open_str_enum;

open_str_enum! {
    /// `appsCollection.combinationPolicy`.
    CombinationPolicy {
        /// Normal recording.
        Default = "default",
        /// Postponed transcoding or audio mixing (scene 2).
        PostponeTranscoding = "postpone_transcoding",
    }
}

/// `appsCollection` of a scene-2 start (individual mode only).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppsCollection {
    /// How the recording is combined, default `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combination_policy: Option<CombinationPolicy>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

open_str_enum! {
    /// `transcodeOptions.transConfig.transMode`.
    TransMode {
        /// Transcode into one file per user after the recording.
        PostponeTranscoding = "postponeTranscoding",
        /// Mix all audio into one file after the recording.
        AudioMix = "audioMix",
    }
}

open_str_enum! {
    /// `transcodeOptions.container.format`.
    ContainerFormat {
        /// MP4 (postponed transcoding).
        Mp4 = "mp4",
        /// MP3 (audio mixing).
        Mp3 = "mp3",
        /// M4A (audio mixing).
        M4a = "m4a",
        /// AAC (audio mixing).
        Aac = "aac",
    }
}

/// `transcodeOptions` of a scene-2 start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscodeOptions {
    /// The transcoding mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trans_config: Option<TransConfig>,
    /// The output container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// Audio settings of audio mixing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<LegacyAudio>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// `transcodeOptions.transConfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransConfig {
    /// `postponeTranscoding` or `audioMix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trans_mode: Option<TransMode>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// `transcodeOptions.container`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    /// `mp4`, `mp3`, `m4a` or `aac`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<ContainerFormat>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// `transcodeOptions.audio`; every value is a decimal string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyAudio {
    /// `"48000"`, `"32000"` or `"16000"` Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<String>,
    /// Bits per second as a decimal string, default `"48000"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<String>,
    /// `"1"` (mono) or `"2"` (stereo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<String>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

crate::unknown::unknown_members!(AppsCollection);
crate::unknown::unknown_members!(
    TranscodeOptions,
    trans_config: "transConfig",
    container: "container",
    audio: "audio",
);
crate::unknown::unknown_members!(TransConfig);
crate::unknown::unknown_members!(Container);
crate::unknown::unknown_members!(LegacyAudio);
