//! Details of the recorder's events (service type 1): leaving the channel, slice
//! starts, stream state changes and screenshots.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::lenient::{i64_from, open_int_enum, opt_i64, opt_str_or_int};
use crate::query::TrackType;

/// `leaveCode` of a recorder leave: a bit mask of the reasons, or 0 when the
/// recorder failed to initialise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LeaveCode(pub i64);

impl LeaveCode {
    /// Bit 2: the recorder received SIGINT.
    pub const SIGINT: i64 = 2;
    /// Bit 4: no user was in the channel for `maxIdleTime`.
    pub const NO_USERS: i64 = 4;
    /// Bit 8: the documentation lists it as "ignore".
    pub const IGNORE: i64 = 8;
    /// Bit 16: the recorder called leaveChannel (a stop).
    pub const LEAVE_CHANNEL: i64 = 16;

    /// Whether the recorder failed to initialise (code 0).
    pub const fn init_failed(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit of `bits` is set.
    pub const fn has(self, bits: i64) -> bool {
        bits != 0 && self.0 & bits == bits
    }

    /// Whether the recorder left because the channel stayed empty.
    pub const fn idle(self) -> bool {
        self.has(Self::NO_USERS)
    }
}

impl fmt::Display for LeaveCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for LeaveCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for LeaveCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        i64_from(deserializer).map(Self)
    }
}

/// `41` `recorder_leave`: the recorder left the channel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RecorderLeave {
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leave_code: Option<LeaveCode>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `42` `recorder_slice_start`: the recorder started a new slice.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SliceStart {
    /// When the first slice started, unix milliseconds.
    #[serde(deserialize_with = "opt_i64", skip_serializing_if = "Option::is_none")]
    pub start_utc_ms: Option<i64>,
    /// When the previous slice was cut off, unix milliseconds.
    #[serde(deserialize_with = "opt_i64", skip_serializing_if = "Option::is_none")]
    pub discontinue_utc_ms: Option<i64>,
    /// Whether every user is mixed into the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mixed_all_user: Option<bool>,
    /// The user whose stream is recorded (individual mode).
    #[serde(
        deserialize_with = "opt_str_or_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub stream_uid: Option<String>,
    /// What the slice holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_type: Option<TrackType>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

open_int_enum! {
    /// `state` of a stream state change.
    StreamState {
        /// `0`: the stream is received.
        Receiving = 0,
        /// `1`: the stream is not received.
        NotReceiving = 1,
    }
}

/// `43` `recorder_audio_stream_state_changed` and `44`
/// `recorder_video_stream_state_changed`: a user's stream started or stopped
/// arriving.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StreamStateChanged {
    /// The user.
    #[serde(
        deserialize_with = "opt_str_or_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub stream_uid: Option<String>,
    /// The new state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<StreamState>,
    /// When it changed, unix milliseconds (the key is `UtcMs`).
    #[serde(
        rename = "UtcMs",
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub utc_ms: Option<i64>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `45` `recorder_snapshot_file`: a screenshot was taken.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SnapshotFile {
    /// `<fileNamePrefix>/<name>.jpg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
