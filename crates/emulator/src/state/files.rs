//! The recording files a task lists, and the `serverResponse` that carries them.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use cloudrec_types::Mode;

use super::task::{Task, Timing};
use crate::clock::{EmuTime, ScaledClock};

impl Task {
    fn prefix(&self) -> String {
        let segments: Vec<&str> = self
            .client_request
            .pointer("/storageConfig/fileNamePrefix")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if segments.is_empty() {
            String::new()
        } else {
            format!("{}/", segments.join("/"))
        }
    }

    fn file_cname(&self) -> String {
        if self.mode == Mode::Web {
            self.cname
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect()
        } else {
            self.cname.clone()
        }
    }

    fn wants_mp4(&self) -> bool {
        self.client_request
            .pointer("/recordingFileConfig/avFileType")
            .and_then(Value::as_array)
            .is_some_and(|types| types.iter().any(|t| t == "mp4"))
    }

    fn screenshots_only(&self) -> bool {
        self.client_request.get("snapshotConfig").is_some()
            && self.client_request.get("recordingFileConfig").is_none()
    }

    fn stream_types(&self) -> u64 {
        self.client_request
            .pointer("/recordingConfig/streamTypes")
            .and_then(Value::as_u64)
            .unwrap_or(2)
    }

    /// `recordingConfig.streamMode`: `default`, `standard` (adds a merged audio and
    /// video M3U8 per uid) or `original`.
    fn stream_mode(&self) -> &str {
        self.client_request
            .pointer("/recordingConfig/streamMode")
            .and_then(Value::as_str)
            .unwrap_or("default")
    }

    /// The uids whose files an individual recording has.
    fn recorded_uids(&self) -> Vec<String> {
        let recording = self.client_request.get("recordingConfig");
        let mut uids = BTreeSet::new();
        let mut explicit = false;
        for key in ["subscribeAudioUids", "subscribeVideoUids"] {
            if let Some(list) = recording.and_then(|r| r.get(key)).and_then(Value::as_array) {
                for uid in list.iter().filter_map(Value::as_str) {
                    if uid == "#allstream#" {
                        explicit = false;
                        uids.clear();
                        break;
                    }
                    explicit = true;
                    uids.insert(uid.to_owned());
                }
            }
        }
        if !explicit {
            uids.extend(self.publishers.iter().cloned());
        }
        uids.into_iter().collect()
    }

    /// The files a query lists now: (file name, trackType, uid, mixedAllUser).
    pub(super) fn files(
        &self,
        now: EmuTime,
        timing: &Timing,
    ) -> Vec<(String, &'static str, String, bool)> {
        if self.slices(now, timing) == 0 || self.screenshots_only() {
            return Vec::new();
        }
        let prefix = self.prefix();
        let base = format!("{prefix}{}_{}", self.sid, self.file_cname());
        let mix_track = match self.stream_types() {
            0 => "audio",
            1 => "video",
            _ => "audio_and_video",
        };
        let mp4_count = || self.mp4_files(now, timing);
        match self.mode {
            Mode::Individual => {
                let tracks: &[&'static str] = match self.stream_types() {
                    0 => &["audio"],
                    1 => &["video"],
                    _ => &["audio", "video"],
                };
                let merged = self.stream_mode() == "standard" && tracks.len() == 2;
                let mut files = Vec::new();
                for uid in self.recorded_uids() {
                    for track in tracks {
                        files.push((
                            format!("{base}__uid_s_{uid}__uid_e_{track}.m3u8"),
                            *track,
                            uid.clone(),
                            false,
                        ));
                    }
                    if merged {
                        files.push((
                            format!("{base}__uid_s_{uid}__uid_e_av.m3u8"),
                            "audio_and_video",
                            uid.clone(),
                            false,
                        ));
                    }
                }
                files
            }
            _ => {
                let mut files = Vec::new();
                if self.wants_mp4() || self.mode == Mode::Web {
                    for index in 0..mp4_count() {
                        if self.mode == Mode::Web && !self.wants_mp4() {
                            break;
                        }
                        files.push((
                            format!("{base}_{index}.mp4"),
                            mix_track,
                            "0".to_owned(),
                            true,
                        ));
                    }
                }
                files.push((format!("{base}.m3u8"), mix_track, "0".to_owned(), true));
                files
            }
        }
    }

    /// The `serverResponse` of query (`uploading` None) or stop.
    pub(super) fn server_response(
        &self,
        now: EmuTime,
        timing: &Timing,
        clock: &ScaledClock,
        uploading: Option<&str>,
    ) -> Value {
        let slice_start = self.first_active.map(|at| clock.unix_ms(at));
        let files = self.files(now, timing);
        let mut response = serde_json::Map::new();
        if uploading.is_none() {
            response.insert("status".to_owned(), json!(self.status(now, timing)));
        }
        match self.mode {
            Mode::Web => {
                let state = match (self.ended, files.is_empty()) {
                    (Some(_), _) => "exit",
                    (None, true) => "init",
                    (None, false) => "inProgress",
                };
                let file_list: Vec<Value> = files
                    .iter()
                    .map(|(name, ..)| json!({"filename": name, "sliceStartTime": slice_start}))
                    .collect();
                let mut services = Vec::new();
                if let Some(uploading) = uploading {
                    services.push(json!({
                        "serviceName": "upload_service",
                        "payload": {"uploadingStatus": uploading},
                    }));
                }
                services.push(json!({
                    "serviceName": "web_recorder_service",
                    "payload": {"fileList": file_list, "onhold": self.onhold, "state": state},
                }));
                if let Some(url) = &self.rtmp_url
                    && uploading.is_none()
                {
                    let status = if self.status(now, timing) >= 4 {
                        "publishing"
                    } else {
                        "connecting"
                    };
                    services.push(json!({
                        "serviceName": "rtmp_publish_service",
                        "payload": {"outputs": [{"rtmpUrl": url, "status": status}], "state": state},
                    }));
                }
                response.insert("extensionServiceState".to_owned(), Value::Array(services));
            }
            _ => {
                if !files.is_empty() {
                    if self.mode == Mode::Mix && !self.wants_mp4() {
                        response.insert("fileListMode".to_owned(), json!("string"));
                        response.insert("fileList".to_owned(), json!(files[0].0));
                    } else {
                        let list: Vec<Value> = files
                            .iter()
                            .map(|(name, track, uid, mixed)| {
                                json!({
                                    "fileName": name,
                                    "trackType": track,
                                    "uid": uid,
                                    "mixedAllUser": mixed,
                                    "isPlayable": true,
                                    "sliceStartTime": slice_start,
                                })
                            })
                            .collect();
                        response.insert("fileListMode".to_owned(), json!("json"));
                        response.insert("fileList".to_owned(), Value::Array(list));
                    }
                }
                if let Some(uploading) = uploading {
                    response.insert("uploadingStatus".to_owned(), json!(uploading));
                } else if let Some(start) = slice_start {
                    response.insert("sliceStartTime".to_owned(), json!(start));
                }
            }
        }
        Value::Object(response)
    }
}
