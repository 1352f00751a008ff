//! A task and its timeline: publishing, idling, pausing, ending, and what it reports.

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};

use cloudrec_types::Mode;

use crate::clock::EmuTime;
use crate::config::EmulatorConfig;

/// Why a task is no longer running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndReason {
    /// Stopped by a stop call.
    Stopped,
    /// Left the channel after `maxIdleTime` with no user in it.
    IdleExit,
    /// `resourceExpiredHour` passed since start.
    Expired,
}

/// What the emulator knows about one task, as listed by `GET /_emulator/tasks`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TaskView {
    /// The session id.
    pub sid: String,
    /// The resource id the task was started with.
    pub resource_id: String,
    /// The channel.
    pub cname: String,
    /// The recorder's uid.
    pub uid: String,
    /// The recording mode.
    pub mode: String,
    /// `running`, or `recovering` while a recovery window is open.
    pub state: String,
    /// The `status` a query would report (0..=5 while running; 8 once ended).
    pub status: u8,
    /// Seconds of emulator time recorded (while someone published).
    pub recorded_secs: f64,
    /// Slices produced so far.
    pub slices: u64,
    /// The file names a query reports (m3u8 and mp4 files).
    pub files: Vec<String>,
    /// Users publishing in the task's channel now.
    pub channel_users: u32,
    /// Whether any user ever published while the task ran.
    pub had_publisher: bool,
    /// Successful update calls.
    pub updates: u32,
    /// Successful updateLayout calls.
    pub layout_updates: u32,
    /// The current mix layout (the last updateLayout `clientRequest`, else the start one).
    pub layout: Value,
    /// Web mode: whether slicing is paused.
    pub onhold: bool,
    /// Emulator seconds left in a high-availability recovery window, if one is open.
    pub recovery_secs_left: Option<f64>,
}

#[derive(Debug)]
pub(super) struct Task {
    pub(super) sid: String,
    pub(super) resource_id: String,
    pub(super) cname: String,
    pub(super) uid: String,
    pub(super) mode: Mode,
    pub(super) started: EmuTime,
    pub(super) expires: EmuTime,
    pub(super) max_idle: Duration,
    pub(super) client_request: Value,
    pub(super) layout: Value,
    pub(super) recorded: Duration,
    pub(super) active_since: Option<EmuTime>,
    pub(super) first_active: Option<EmuTime>,
    pub(super) idle_since: Option<EmuTime>,
    pub(super) had_publisher: bool,
    pub(super) publishers: BTreeSet<String>,
    pub(super) onhold: bool,
    pub(super) rtmp_url: Option<String>,
    pub(super) recovery_until: Option<EmuTime>,
    pub(super) ended: Option<(EmuTime, EndReason)>,
    pub(super) updates: u32,
    pub(super) layout_updates: u32,
    pub(super) query_cache: Option<(QueryKey, Bytes)>,
    /// What NCS notices the task has produced.
    pub(super) ncs: super::NoticeTrack,
}

/// Everything a query answer depends on besides the task's fixed fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct QueryKey {
    pub(super) status: u8,
    pub(super) slices: bool,
    pub(super) mp4_files: u64,
    pub(super) first_active: bool,
    pub(super) onhold: bool,
    pub(super) updates: u32,
    pub(super) publishers: usize,
}

/// The timing values a task needs to describe itself.
pub(crate) struct Timing {
    pub(super) status_step: Duration,
    pub(super) slice_duration: Duration,
    pub(super) mp4_split: Duration,
}

impl EmulatorConfig {
    pub(super) fn clone_timing(&self) -> Timing {
        Timing {
            status_step: self.status_step,
            slice_duration: self.slice_duration,
            mp4_split: self.mp4_split,
        }
    }
}

/// Picks tasks for a recovery window: by sid, by channel, or all live tasks.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskSelector {
    /// The task with this sid.
    Sid(String),
    /// Every live task in this channel.
    Cname(String),
    /// Every live task.
    All,
}

impl TaskSelector {
    pub(super) fn picks(&self, task: &Task) -> bool {
        match self {
            Self::Sid(sid) => task.sid == *sid,
            Self::Cname(cname) => task.cname == *cname,
            Self::All => true,
        }
    }
}

pub(super) fn web_service<'a>(client_request: &'a Value, name: &str) -> Option<&'a Value> {
    client_request
        .pointer("/extensionServiceConfig/extensionServices")?
        .as_array()?
        .iter()
        .find(|service| service.get("serviceName").and_then(Value::as_str) == Some(name))?
        .get("serviceParam")
}

/// The most publishers whose uids a task lists (the service subscribes at most 32).
const MAX_LISTED_PUBLISHERS: u32 = 32;

/// The uids of the users publishing in a channel with `users` users: `10001`, `10002`, ...
fn publisher_uids(users: u32) -> impl Iterator<Item = String> {
    (1..=users.min(MAX_LISTED_PUBLISHERS)).map(|n| (10_000 + u64::from(n)).to_string())
}

/// `at + length`, saturating instead of overflowing.
pub(super) fn later(at: EmuTime, length: Duration) -> EmuTime {
    at.checked_add(length).unwrap_or(Duration::MAX)
}

impl Task {
    /// Ends the task if it idled out or expired before `now`.
    pub(super) fn refresh(&mut self, now: EmuTime) {
        if self.ended.is_some() {
            return;
        }
        let idle_end = self
            .idle_since
            .filter(|_| self.mode != Mode::Web)
            .map(|since| later(since, self.max_idle));
        let mut end: Option<(EmuTime, EndReason)> = None;
        if let Some(at) = idle_end
            && at <= now
        {
            end = Some((at, EndReason::IdleExit));
        }
        if self.expires <= now && end.is_none_or(|(at, _)| self.expires < at) {
            end = Some((self.expires, EndReason::Expired));
        }
        if let Some((at, reason)) = end {
            self.end(at, reason);
        }
    }

    pub(super) fn end(&mut self, at: EmuTime, reason: EndReason) {
        if let Some(since) = self.active_since.take() {
            self.recorded += at.saturating_sub(since);
        }
        self.ended = Some((at, reason));
    }

    /// Follows a change of the channel's users (non-web modes).
    pub(super) fn set_publishing(&mut self, now: EmuTime, users: u32) {
        self.publishers.extend(publisher_uids(users));
        if users > 0 {
            self.had_publisher = true;
            self.idle_since = None;
            if self.active_since.is_none() {
                self.active_since = Some(now);
                self.first_active.get_or_insert(now);
            }
        } else {
            if let Some(since) = self.active_since.take() {
                self.recorded += now.saturating_sub(since);
            }
            self.idle_since.get_or_insert(now);
        }
    }

    /// Pauses or resumes a web recording.
    pub(super) fn set_onhold(&mut self, now: EmuTime, onhold: bool) {
        self.onhold = onhold;
        if onhold {
            if let Some(since) = self.active_since.take() {
                self.recorded += now.saturating_sub(since);
            }
        } else if self.active_since.is_none() {
            self.active_since = Some(now);
            self.first_active.get_or_insert(now);
            self.had_publisher = true;
        }
    }

    pub(super) fn apply_subscriptions(&mut self, subscribe: &Value) {
        let Some(recording) = self
            .client_request
            .get_mut("recordingConfig")
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        for list in ["audioUidList", "videoUidList"] {
            if let Some(Value::Object(entries)) = subscribe.get(list) {
                for (key, value) in entries {
                    recording.insert(key.clone(), value.clone());
                }
            }
        }
    }

    fn recorded_at(&self, now: EmuTime) -> Duration {
        self.recorded
            + self
                .active_since
                .map_or(Duration::ZERO, |since| now.saturating_sub(since))
    }

    pub(super) fn slices(&self, now: EmuTime, timing: &Timing) -> u64 {
        let recorded = self.recorded_at(now).as_secs_f64();
        (recorded / timing.slice_duration.as_secs_f64()).floor() as u64
    }

    pub(super) fn status(&self, now: EmuTime, timing: &Timing) -> u8 {
        if self.ended.is_some() {
            return 8;
        }
        if self.slices(now, timing) >= 1 {
            return 5;
        }
        let steps =
            now.saturating_sub(self.started).as_secs_f64() / timing.status_step.as_secs_f64();
        steps.clamp(0.0, 4.0) as u8
    }

    fn mp4_split(&self, timing: &Timing) -> Duration {
        match self.mode {
            Mode::Web => web_service(&self.client_request, "web_recorder_service")
                .and_then(|p| p.get("maxVideoDuration"))
                .and_then(Value::as_u64)
                .map_or(Duration::from_secs(120 * 60), |m| {
                    Duration::from_secs(m * 60)
                }),
            _ => timing.mp4_split,
        }
    }

    pub(super) fn mp4_files(&self, now: EmuTime, timing: &Timing) -> u64 {
        let split = self.mp4_split(timing).as_secs_f64();
        1 + (self.recorded_at(now).as_secs_f64() / split).floor() as u64
    }

    pub(super) fn query_key(&self, now: EmuTime, timing: &Timing) -> QueryKey {
        QueryKey {
            status: self.status(now, timing),
            slices: self.slices(now, timing) > 0,
            mp4_files: self.mp4_files(now, timing),
            first_active: self.first_active.is_some(),
            onhold: self.onhold,
            updates: self.updates,
            publishers: self.publishers.len(),
        }
    }

    pub(super) fn ids_body(&self) -> Value {
        json!({
            "cname": self.cname,
            "uid": self.uid,
            "resourceId": self.resource_id,
            "sid": self.sid,
        })
    }

    pub(super) fn view(&self, now: EmuTime, config: &EmulatorConfig, users: u32) -> TaskView {
        let timing = config.clone_timing();
        let recovery = self
            .recovery_until
            .filter(|until| now < *until)
            .map(|until| (until - now).as_secs_f64());
        let state = match self.ended {
            Some((_, reason)) => match reason {
                EndReason::Stopped => "stopped",
                EndReason::IdleExit => "idle_exit",
                EndReason::Expired => "expired",
            },
            None if recovery.is_some() => "recovering",
            None => "running",
        };
        TaskView {
            sid: self.sid.clone(),
            resource_id: self.resource_id.clone(),
            cname: self.cname.clone(),
            uid: self.uid.clone(),
            mode: self.mode.to_string(),
            state: state.to_owned(),
            status: self.status(now, &timing),
            recorded_secs: self.recorded_at(now).as_secs_f64(),
            slices: self.slices(now, &timing),
            files: self.files(now, &timing).into_iter().map(|f| f.0).collect(),
            channel_users: users,
            had_publisher: self.had_publisher,
            updates: self.updates,
            layout_updates: self.layout_updates,
            layout: self.layout.clone(),
            onhold: self.onhold,
            recovery_secs_left: recovery,
        }
    }
}
