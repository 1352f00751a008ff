//! Which NCS events a task's timeline produces, in order, and their queueing.

use std::time::Duration;

use cloudrec_types::Mode;
use serde_json::{Value, json};

use super::State;
use super::task::{EndReason, Task, Timing, later};
use crate::clock::{EmuTime, ScaledClock};
use crate::fault::{CallInfo, FaultAction};
use crate::ncs::Event;

/// What a task has notified so far.
#[derive(Debug, Default)]
pub(crate) struct NoticeTrack {
    /// The next `sequence`.
    sequence: i64,
    started: bool,
    status: Option<u8>,
    active_since: Option<EmuTime>,
    paused_at: Option<EmuTime>,
    file_infos: bool,
    recovery: Option<EmuTime>,
    rtmp: Option<(String, &'static str)>,
    ended: bool,
    uploaded: bool,
    /// Everything is notified, `session_exit` last.
    done: bool,
}

/// `serviceType` per component (spec §14).
const SERVICE: i64 = 0;
const RECORDER: i64 = 1;
const UPLOADER: i64 = 2;
const WEB_RECORDER: i64 = 6;

/// What observing a task needs besides the task.
struct Seen<'a> {
    now: EmuTime,
    timing: &'a Timing,
    clock: &'a ScaledClock,
    upload: Duration,
}

impl Task {
    fn event(&mut self, event_type: i64, service_type: i64, at: i64, details: Value) -> Event {
        let sequence = self.ncs.sequence;
        self.ncs.sequence += 1;
        Event {
            sid: self.sid.clone(),
            cname: self.cname.clone(),
            uid: self.uid.clone(),
            sequence,
            event_type,
            service_type,
            sendts: at,
            details,
        }
    }

    /// A status update (3) to `status` at `at`.
    fn status_notice(&mut self, status: u8, at: i64) -> Event {
        self.ncs.status = Some(status);
        let mut details = json!({"status": status});
        if self.mode != Mode::Web {
            details["recordingMode"] = json!(u8::from(self.mode != Mode::Individual));
        }
        self.event(3, SERVICE, at, details)
    }

    /// The file list of a notice (query's `fileList`, or the web recorder's).
    fn notice_files(&self, at: EmuTime, seen: &Seen<'_>) -> Value {
        let response = self.server_response(at, seen.timing, seen.clock, None);
        if self.mode == Mode::Web {
            return response
                .get("extensionServiceState")
                .and_then(Value::as_array)
                .and_then(|services| {
                    services
                        .iter()
                        .find(|s| s["serviceName"] == "web_recorder_service")
                })
                .and_then(|service| service.pointer("/payload/fileList"))
                .cloned()
                .unwrap_or_else(|| json!([]));
        }
        response
            .get("fileList")
            .cloned()
            .unwrap_or_else(|| json!([]))
    }

    /// The events that happened since the last call, in order (the task is refreshed).
    fn new_events(&mut self, seen: &Seen<'_>) -> Vec<Event> {
        let mut events = Vec::new();
        if self.ncs.done {
            return events;
        }
        let unix = |at: EmuTime| seen.clock.unix_ms(at);
        let now_ms = unix(seen.now);
        let web = self.mode == Mode::Web;
        if !self.ncs.started {
            self.ncs.started = true;
            let at = unix(self.started);
            let started = if web {
                self.event(70, WEB_RECORDER, at, json!({"recorderStartTime": at}))
            } else {
                self.event(40, RECORDER, at, json!({"status": 0}))
            };
            events.push(started);
            // What the task reported at its start: status 0, and an RTMP push connecting.
            let status = self.status_notice(0, at);
            events.push(status);
            if let Some(url) = self.rtmp_url.clone() {
                self.ncs.rtmp = Some((url.clone(), "connecting"));
                let details = json!({"rtmpUrl": url, "status": "connecting"});
                events.push(self.event(100, WEB_RECORDER, at, details));
            }
        }
        if self.ended.is_none() {
            let status = self.status(seen.now, seen.timing);
            if self.ncs.status != Some(status) {
                let notice = self.status_notice(status, now_ms);
                events.push(notice);
            }
            if !web {
                match self.active_since {
                    Some(since) if self.ncs.active_since != Some(since) => {
                        self.ncs.active_since = Some(since);
                        let discontinue = self.ncs.paused_at.map_or(0, unix);
                        let mixed = self.mode == Mode::Mix;
                        let details = json!({
                            "startUtcMs": unix(since),
                            "discontinueUtcMs": discontinue,
                            "mixedAllUser": mixed,
                            "streamUid": if mixed { "0".to_owned() } else {
                                self.publishers.iter().next().cloned().unwrap_or_else(|| "0".to_owned())
                            },
                            "trackType": "audio_and_video",
                        });
                        events.push(self.event(42, RECORDER, unix(since), details));
                    }
                    None if self.ncs.active_since.is_some() => {
                        self.ncs.active_since = None;
                        self.ncs.paused_at = Some(seen.now);
                    }
                    _ => {}
                }
                if !self.ncs.file_infos && self.slices(seen.now, seen.timing) > 0 {
                    let files = self.notice_files(seen.now, seen);
                    self.ncs.file_infos = true;
                    events.push(self.event(4, SERVICE, now_ms, json!({"fileList": files})));
                }
            }
            if let Some(until) = self.recovery_until
                && seen.now < until
                && self.ncs.recovery != Some(until)
            {
                self.ncs.recovery = Some(until);
                let new_uid: u32 = rand::random_range(100_000_000..999_999_999);
                events.push(self.event(12, SERVICE, now_ms, json!({"newUid": new_uid})));
            }
            if let Some(url) = self.rtmp_url.clone() {
                let state = if status >= 4 {
                    "publishing"
                } else {
                    "connecting"
                };
                let now_state = Some((url.clone(), state));
                if self.ncs.rtmp != now_state {
                    self.ncs.rtmp = now_state;
                    let details = json!({"rtmpUrl": url, "status": state});
                    events.push(self.event(100, WEB_RECORDER, now_ms, details));
                }
            }
            return events;
        }
        let Some((ended_at, reason)) = self.ended else {
            return events;
        };
        let end_ms = unix(ended_at);
        if !self.ncs.ended {
            self.ncs.ended = true;
            if let Some((url, _)) = self.ncs.rtmp.take() {
                let details = json!({"rtmpUrl": url, "status": "disconnected"});
                events.push(self.event(100, WEB_RECORDER, end_ms, details));
            }
            if web {
                let files = self.notice_files(ended_at, seen);
                let (code, message) = match reason {
                    EndReason::Expired => (1, "max_recording_hour"),
                    EndReason::Stopped | EndReason::IdleExit => (0, "ok"),
                };
                let details = json!({"code": code, "message": message, "fileList": files});
                events.push(self.event(71, WEB_RECORDER, end_ms, details));
            } else if reason == EndReason::IdleExit {
                events.push(self.event(41, RECORDER, end_ms, json!({"leaveCode": 4})));
            }
        }
        let has_files = !self.files(ended_at, seen.timing).is_empty();
        if has_files && !self.ncs.uploaded {
            let done_at = later(ended_at, seen.upload);
            if seen.now < done_at {
                return events;
            }
            self.ncs.uploaded = true;
            let files = self.notice_files(ended_at, seen);
            let details = json!({"status": 0, "fileList": files});
            events.push(self.event(31, UPLOADER, unix(done_at), details));
        }
        self.ncs.done = true;
        events.push(self.event(11, SERVICE, now_ms, json!({"exitStatus": 0})));
        events
    }
}

impl State {
    /// Queues the notices of every event since the last call (nothing when NCS
    /// is off). Called after each call and on a timer, so time-driven events
    /// (status steps, slices, idle exit, upload) go out as they happen.
    pub(crate) fn observe_ncs(&mut self) {
        if self.ncs.is_none() {
            return;
        }
        let now = self.clock.now();
        let timing = self.config.clone_timing();
        let seen = Seen {
            now,
            timing: &timing,
            clock: &self.clock,
            upload: self.config.upload_duration,
        };
        let mut sids: Vec<&String> = self
            .tasks
            .iter()
            .filter(|(_, task)| !task.ncs.done)
            .map(|(sid, _)| sid)
            .collect();
        if sids.is_empty() {
            return;
        }
        sids.sort();
        let sids: Vec<String> = sids.into_iter().cloned().collect();
        let mut events = Vec::new();
        for sid in sids {
            if let Some(task) = self.tasks.get_mut(&sid) {
                task.refresh(now);
                events.extend(task.new_events(&seen));
            }
        }
        let notify_ms = self.clock.unix_ms(now);
        for event in events {
            let call = CallInfo {
                notice: Some(event.event_type),
                endpoint: None,
                sid: Some(&event.sid),
                cname: Some(&event.cname),
            };
            let fault: Option<FaultAction> = self
                .faults
                .iter_mut()
                .find_map(|rule| rule.fires(&call).then(|| rule.rule.action.clone()));
            if let Some(outbox) = &mut self.ncs {
                outbox.send(event, notify_ms, fault.as_ref());
            }
        }
    }
}
