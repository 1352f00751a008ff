//! Details of the web recorder's events (service type 6): start, stop,
//! capability limits, page reloads and RTMP publishing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient::{open_int_enum, open_str_enum, opt_i64};
use crate::query::{RtmpStatus, WebFileInfo};

/// `70` `web_recorder_started`: the web recorder started.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WebRecorderStarted {
    /// When it started, unix milliseconds.
    #[serde(deserialize_with = "opt_i64", skip_serializing_if = "Option::is_none")]
    pub recorder_start_time: Option<i64>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

open_int_enum! {
    /// `code` of a web recorder stop: why it stopped.
    WebStopCode {
        /// `0`: stopped normally.
        Normal = 0,
        /// `1`: the maximum recording length (`maxRecordingHour`) was reached.
        MaxRecordingHour = 1,
        /// `2`: a capability limit was reached.
        CapabilityLimit = 2,
        /// `3`: the recording engine failed to start.
        StartEngineFailed = 3,
        /// `4`: the page did not load in time.
        PageLoadTimeout = 4,
        /// `5`: the page could not be opened.
        AccessUrlFailed = 5,
        /// `6`: the recorder failed.
        RecorderError = 6,
    }
}

/// `71` `web_recorder_stopped`: the web recorder stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WebRecorderStopped {
    /// Why it stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<WebStopCode>,
    /// The reason in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// More about the reason, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// The recorded files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_list: Option<Vec<WebFileInfo>>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

open_str_enum! {
    /// `limitType` of a capability limit.
    LimitType {
        /// The page's resolution is over the limit.
        Resolution = "resolution",
        /// The page uses WebGL beyond the limit.
        WebGl = "WebGL",
        /// The page's bandwidth is over the limit.
        Bandwidth = "bandwidth",
    }
}

/// `72` `web_recorder_capability_limit`: the page went beyond what the web
/// recorder can render.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CapabilityLimit {
    /// Which limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_type: Option<LimitType>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

open_str_enum! {
    /// `reason` of a page reload.
    ReloadReason {
        /// The page was silent for too long.
        AudioSilence = "audio_silence",
        /// The page did not load in time.
        PageLoadTimeout = "page_load_timeout",
    }
}

/// `73` `web_recorder_reload`: the web recorder reloaded the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WebRecorderReload {
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReloadReason>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `100` `rtmp_publish_status`: an RTMP push changed state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RtmpPublishStatus {
    /// The CDN address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtmp_url: Option<String>,
    /// The new state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<RtmpStatus>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
