//! The `update` call (spec §5): request body and response.

use serde::{Deserialize, Serialize};

use crate::UnknownFields;

use crate::start::{RtmpOutput, StorageConfig};
use crate::{Cname, ResourceId, Sid, Text, Uid};

/// The body of `POST .../sid/{sid}/mode/{mode}/update`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRequest {
    /// The channel name used in acquire.
    pub cname: Cname,
    /// The recorder uid used in acquire.
    pub uid: Uid,
    /// What changes.
    pub client_request: UpdateClientRequest,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl UpdateRequest {
    /// An update body.
    pub fn new(cname: Cname, uid: Uid, client_request: UpdateClientRequest) -> Self {
        Self {
            unknown: Default::default(),
            cname,
            uid,
            client_request,
        }
    }
}

/// The `clientRequest` of update: send only what changes. Wait for each update's
/// answer before sending the next.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateClientRequest {
    /// New subscriptions (individual and mix modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_subscribe: Option<StreamSubscribe>,
    /// Pause or resume slicing (web mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_recording_config: Option<WebRecordingConfig>,
    /// A new CDN target (web mode with RTMP publishing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtmp_publish_config: Option<RtmpPublishConfig>,
    /// New storage settings, e.g. to rotate `stsToken` and `stsExpiration` (all modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_config: Option<StorageConfig>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl UpdateClientRequest {
    /// Changes subscriptions.
    pub fn subscribe(subscribe: StreamSubscribe) -> Self {
        Self {
            stream_subscribe: Some(subscribe),
            ..Self::default()
        }
    }

    /// Pauses (`true`) or resumes (`false`) a web recording.
    pub fn onhold(onhold: bool) -> Self {
        Self {
            web_recording_config: Some(WebRecordingConfig {
                unknown: Default::default(),
                onhold,
            }),
            ..Self::default()
        }
    }

    /// Moves RTMP publishing to `rtmp_url`.
    pub fn rtmp(rtmp_url: impl Into<String>) -> Self {
        Self {
            rtmp_publish_config: Some(RtmpPublishConfig {
                unknown: Default::default(),
                outputs: vec![RtmpOutput::new(rtmp_url)],
            }),
            ..Self::default()
        }
    }

    /// Replaces the storage settings (e.g. a fresh STS token).
    pub fn storage(storage: StorageConfig) -> Self {
        Self {
            storage_config: Some(storage),
            ..Self::default()
        }
    }
}

/// `streamSubscribe`: new audio and video subscriptions, with the rules of start's
/// `recordingConfig` lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamSubscribe {
    /// Audio subscriptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_uid_list: Option<AudioUidList>,
    /// Video subscriptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_uid_list: Option<VideoUidList>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// `audioUidList`: an allow-list or a deny-list, never both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioUidList {
    /// Uids whose audio to record (at most 32; `#allstream#` for everyone).
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
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// `videoUidList`: an allow-list or a deny-list, never both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoUidList {
    /// Uids whose video to record (at most 32; `#allstream#` for everyone).
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
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// `webRecordingConfig` (web mode).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebRecordingConfig {
    /// `true` pauses slicing (the page keeps rendering), `false` (default) resumes it.
    #[serde(default)]
    pub onhold: bool,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// `rtmpPublishConfig` (web mode with RTMP publishing): the new CDN target.
pub type RtmpPublishConfig = crate::start::RtmpPublishParams;

/// The 200 body of update (and updateLayout).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateResponse {
    /// The channel name, when echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<Cname>,
    /// The recorder uid, when echoed (kept as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<Text>,
    /// The resource id of the task.
    pub resource_id: ResourceId,
    /// The session id of the task.
    pub sid: Sid,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

crate::unknown::unknown_members!(UpdateRequest, client_request: "clientRequest");
crate::unknown::unknown_members!(
    UpdateClientRequest,
    stream_subscribe: "streamSubscribe",
    web_recording_config: "webRecordingConfig",
    rtmp_publish_config: "rtmpPublishConfig",
    storage_config: "storageConfig",
);
crate::unknown::unknown_members!(
    StreamSubscribe,
    audio_uid_list: "audioUidList",
    video_uid_list: "videoUidList",
);
crate::unknown::unknown_members!(AudioUidList);
crate::unknown::unknown_members!(VideoUidList);
crate::unknown::unknown_members!(WebRecordingConfig);
crate::unknown::unknown_members!(UpdateResponse);
