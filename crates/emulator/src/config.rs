//! How an emulator is configured: from Rust or from JSON.

use std::time::Duration;

use cloudrec_types::{AppId, Secret};
use serde::{Deserialize, Deserializer};

use crate::error::{EmulatorError, JsonError};
use crate::fault::FaultRule;

/// The App ID the emulator accepts by default.
pub const DEFAULT_APP_ID: &str = "0123456789abcdef0123456789abcdef";
/// The RESTful customer id the emulator accepts by default.
pub const DEFAULT_CUSTOMER_ID: &str = "cloudrec-emulator";
/// The RESTful customer secret the emulator accepts by default (not a real secret).
pub const DEFAULT_CUSTOMER_SECRET: &str = "emulator-secret";

/// How an emulator behaves: credentials, limits, timings and the time scale.
///
/// `Default` accepts App ID [`DEFAULT_APP_ID`] with Basic credentials
/// [`DEFAULT_CUSTOMER_ID`]:[`DEFAULT_CUSTOMER_SECRET`], runs in real time
/// (`time_scale` 1) and applies the service's documented limits.
///
/// It also reads from JSON (every field optional, durations in seconds), for
/// example `{"time_scale": 60, "faults": [...]}`; see [`EmulatorConfig::from_json`].
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorConfig {
    /// The App ID that is accepted; any other answers 400 `appid is invalid`.
    pub app_id: AppId,
    /// The customer id expected in the Basic `Authorization` header.
    pub customer_id: String,
    /// The customer secret expected in the Basic `Authorization` header.
    pub customer_secret: Secret,
    /// Emulator time runs this many times faster than real time (0.001..=1e9).
    pub time_scale: f64,
    /// The most live tasks per App ID; beyond it acquire and start answer
    /// 400 code 406 `vendor_over_load`. 0 means no limit.
    pub concurrency_limit: usize,
    /// The most API requests per second (real time) per App ID; beyond it the
    /// gateway answers 429. 0 means no limit.
    pub rate_limit_per_sec: u32,
    /// How long an acquired resource id can be started (emulator time).
    #[serde(deserialize_with = "seconds")]
    pub resource_ttl: Duration,
    /// How many users publish in a channel that nobody set with
    /// [`Emulator::set_channel_users`](crate::Emulator::set_channel_users).
    pub default_channel_users: u32,
    /// Emulator time between two status steps 0, 1, 2, 3, 4 after start.
    #[serde(deserialize_with = "seconds")]
    pub status_step: Duration,
    /// Length of one recorded slice (emulator time of publishing); the first
    /// file appears, and status becomes 5, after the first slice.
    #[serde(deserialize_with = "seconds")]
    pub slice_duration: Duration,
    /// A mix-mode MP4 file is closed and a new one begun after this much recording.
    #[serde(deserialize_with = "seconds")]
    pub mp4_split: Duration,
    /// How long a synchronous stop waits for the upload (emulator time).
    #[serde(deserialize_with = "seconds")]
    pub upload_duration: Duration,
    /// How long a stopped or exited task still answers stop with 400 code 49
    /// before it answers 404 (emulator time).
    #[serde(deserialize_with = "seconds")]
    pub exit_linger: Duration,
    /// The longest a `hang` fault holds a request before closing it (real time).
    #[serde(deserialize_with = "seconds")]
    pub hang_limit: Duration,
    /// How many requests the request log keeps (oldest dropped first).
    pub request_log_capacity: usize,
    /// How many bytes the request log's entries may count in all (oldest
    /// dropped first); each entry counts its fixed size and its text.
    pub request_log_max_bytes: usize,
    /// The longest path kept in a log entry, in bytes; the rest is cut off and
    /// counted in the entry's `path_truncated_bytes`.
    pub request_log_max_path: usize,
    /// How long a client may take to send a request's headers once it sent
    /// their first byte (real time); then the connection is closed.
    #[serde(deserialize_with = "seconds")]
    pub header_read_timeout: Duration,
    /// How long a connection may stay open with no request in progress (real
    /// time), before its first request or between two; then it is closed.
    #[serde(deserialize_with = "seconds")]
    pub idle_timeout: Duration,
    /// The most connections served at once; one more is answered 503 with a
    /// message naming this limit, then closed.
    pub max_connections: usize,
    /// Refuse request fields that the service does not document with 400 code 2
    /// naming them, so a misspelt key fails a test instead of being ignored.
    pub strict_fields: bool,
    /// Fault rules installed at start.
    pub faults: Vec<FaultRule>,
    /// Where to POST signed NCS notices about the tasks (an `http://` URL); none
    /// are sent when absent. Needs [`EmulatorConfig::ncs_secret`].
    pub ncs_url: Option<String>,
    /// The secret the NCS notices are signed with (`Agora-Signature` and
    /// `Agora-Signature-V2`); hidden in `Debug`, never printed.
    pub ncs_secret: Option<Secret>,
}

fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let value = f64::deserialize(deserializer)?;
    Duration::try_from_secs_f64(value).map_err(serde::de::Error::custom)
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            app_id: AppId::new(DEFAULT_APP_ID).unwrap_or_else(|_| unreachable!()),
            customer_id: DEFAULT_CUSTOMER_ID.to_owned(),
            customer_secret: Secret::new(DEFAULT_CUSTOMER_SECRET),
            time_scale: 1.0,
            concurrency_limit: 50,
            rate_limit_per_sec: 10,
            resource_ttl: Duration::from_secs(5 * 60),
            default_channel_users: 1,
            status_step: Duration::from_secs(1),
            slice_duration: Duration::from_secs(15),
            mp4_split: Duration::from_secs(2 * 3600),
            upload_duration: Duration::from_secs(2),
            exit_linger: Duration::from_secs(60),
            hang_limit: Duration::from_secs(600),
            request_log_capacity: 10_000,
            request_log_max_bytes: 8 << 20,
            request_log_max_path: 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            strict_fields: false,
            faults: Vec::new(),
            ncs_url: None,
            ncs_secret: None,
        }
    }
}

impl EmulatorConfig {
    /// Reads a configuration from JSON; absent fields keep their defaults.
    pub fn from_json(text: &str) -> Result<Self, EmulatorError> {
        let config: Self =
            serde_json::from_str(text).map_err(|error| EmulatorError::InvalidJson {
                what: "config",
                source: JsonError::from_serde(&error),
            })?;
        config.check()?;
        Ok(config)
    }

    /// Checks the values as [`Emulator::start`](crate::Emulator::start) does,
    /// without starting anything: ranges, fault rules, and the NCS URL and secret.
    pub fn validate(&self) -> Result<(), EmulatorError> {
        self.check()
    }

    /// Checks the ranges of the values.
    pub(crate) fn check(&self) -> Result<(), EmulatorError> {
        if !(0.001..=1e9).contains(&self.time_scale) {
            return Err(EmulatorError::InvalidConfig(format!(
                "time_scale must be within 0.001..=1e9, got {}",
                self.time_scale
            )));
        }
        if self.slice_duration.is_zero() || self.mp4_split.is_zero() {
            return Err(EmulatorError::InvalidConfig(
                "slice_duration and mp4_split must be above 0 seconds".to_owned(),
            ));
        }
        if self.header_read_timeout.is_zero() || self.idle_timeout.is_zero() {
            return Err(EmulatorError::InvalidConfig(
                "header_read_timeout and idle_timeout must be above 0 seconds".to_owned(),
            ));
        }
        if self.max_connections == 0 {
            return Err(EmulatorError::InvalidConfig(
                "max_connections must be at least 1".to_owned(),
            ));
        }
        for rule in &self.faults {
            rule.check()?;
        }
        match (&self.ncs_url, &self.ncs_secret) {
            (None, None) => {}
            (Some(url), Some(secret)) => {
                crate::ncs::parse_url(url)?;
                if secret.is_empty() {
                    return Err(EmulatorError::InvalidConfig(
                        "ncs_secret must not be empty: notices are signed with it".to_owned(),
                    ));
                }
            }
            (Some(_), None) => {
                return Err(EmulatorError::InvalidConfig(
                    "ncs_url needs ncs_secret: notices are signed with it".to_owned(),
                ));
            }
            (None, Some(_)) => {
                return Err(EmulatorError::InvalidConfig(
                    "ncs_secret needs ncs_url: the URL to send notices to".to_owned(),
                ));
            }
        }
        Ok(())
    }
}
