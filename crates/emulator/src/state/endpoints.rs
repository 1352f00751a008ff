//! The handlers of the REST endpoints: acquire, start, query, update, updateLayout, stop.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use cloudrec_types::{Endpoint, Mode};
use rand::Rng;
use serde_json::{Value, json};

use super::task::{EndReason, Task, later, web_service};
use super::{Reply, Resource, State};
use crate::validate;

impl State {
    pub(crate) fn ncs_ip() -> Reply {
        Reply::ok(json!({"data": {"service": {"hosts": [
            {"primaryIP": "127.0.0.1"}
        ]}}}))
    }

    pub(crate) fn acquire(&mut self, body: &Value) -> Reply {
        let common = match validate::common(body) {
            Ok(common) => common,
            Err(refusal) => return Reply::refusal(refusal),
        };
        let request = match validate::acquire(&common) {
            Ok(request) => request,
            Err(refusal) => return Reply::refusal(refusal),
        };
        if self.over_concurrency() {
            return Reply::service(400, 406, "vendor_over_load");
        }
        let resource_id = new_resource_id();
        self.resources.insert(
            resource_id.clone(),
            Resource {
                cname: common.cname.to_owned(),
                uid: common.uid.to_owned(),
                created: self.clock.now(),
                scene: request.scene,
                expired_hour: request.resource_expired_hour,
                sid: None,
            },
        );
        Reply::ok(json!({
            "cname": common.cname,
            "uid": common.uid,
            "resourceId": resource_id,
        }))
    }

    /// Handles start; returns the reply and the new sid on success.
    pub(crate) fn start(
        &mut self,
        resource_id: &str,
        mode: &Mode,
        body: &Value,
    ) -> (Reply, Option<String>) {
        let now = self.clock.now();
        let common = match validate::common(body) {
            Ok(common) => common,
            Err(refusal) => return (Reply::refusal(refusal), None),
        };
        let Some(resource) = self.resources.get(resource_id) else {
            return (
                Reply::service(400, 1001, "invalid resource id: acquire again"),
                None,
            );
        };
        if resource.cname != common.cname || resource.uid != common.uid {
            return (
                Reply::service(400, 432, "cname or uid does not match the resource id"),
                None,
            );
        }
        if let Some(sid) = resource.sid.clone() {
            let live = self.tasks.get_mut(&sid).is_some_and(|task| {
                task.refresh(now);
                task.ended.is_none()
            });
            if live {
                let reply = Reply::new(
                    201,
                    json!({
                        "cname": common.cname,
                        "uid": common.uid,
                        "resourceId": resource_id,
                        "sid": sid,
                        "code": 7,
                        "reason": "already started",
                    }),
                );
                return (reply, None);
            }
            return (
                Reply::service(400, 1005, "resource id already used by another session"),
                None,
            );
        }
        if now >= later(resource.created, self.config.resource_ttl) {
            return (Reply::service(400, 433, "resource id expired"), None);
        }
        let scene = resource.scene;
        let expired_hour = resource.expired_hour;
        if let Err(refusal) = validate::start(&common, mode, scene) {
            return (Reply::refusal(refusal), None);
        }
        let conflict = self.tasks.values_mut().any(|task| {
            task.cname == common.cname && task.uid == common.uid && {
                task.refresh(now);
                task.ended.is_none()
            }
        });
        if conflict {
            return (Reply::service(400, 53, "task conflict"), None);
        }
        if self.over_concurrency() {
            return (Reply::service(400, 406, "vendor_over_load"), None);
        }
        let sid = new_sid();
        let client_request = Value::Object(common.client_request.clone());
        let recording = client_request.get("recordingConfig");
        let max_idle = recording
            .and_then(|r| r.get("maxIdleTime"))
            .and_then(Value::as_u64)
            .unwrap_or(30);
        let layout = recording
            .and_then(|r| r.get("transcodingConfig"))
            .cloned()
            .unwrap_or(Value::Null);
        let web_param = web_service(&client_request, "web_recorder_service");
        let onhold = web_param
            .and_then(|p| p.get("onhold"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let rtmp_url = web_service(&client_request, "rtmp_publish_service")
            .and_then(|p| p.pointer("/outputs/0/rtmpUrl"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let hours = u64::try_from(expired_hour).unwrap_or(72);
        let mut task = Task {
            sid: sid.clone(),
            resource_id: resource_id.to_owned(),
            cname: common.cname.to_owned(),
            uid: common.uid.to_owned(),
            mode: mode.clone(),
            started: now,
            expires: later(now, Duration::from_secs(hours.saturating_mul(3600))),
            max_idle: Duration::from_secs(max_idle),
            client_request,
            layout,
            recorded: Duration::ZERO,
            active_since: None,
            first_active: None,
            idle_since: None,
            had_publisher: false,
            publishers: BTreeSet::new(),
            onhold,
            rtmp_url,
            recovery_until: None,
            ended: None,
            updates: 0,
            layout_updates: 0,
            query_cache: None,
            ncs: super::NoticeTrack::default(),
        };
        if *mode == Mode::Web {
            if !onhold {
                task.active_since = Some(now);
                task.first_active = Some(now);
                task.had_publisher = true;
            }
        } else {
            let users = self.channel_users(common.cname);
            task.set_publishing(now, users);
            if users == 0 {
                task.idle_since = Some(now);
            }
        }
        if let Some(resource) = self.resources.get_mut(resource_id) {
            resource.sid = Some(sid.clone());
        }
        self.tasks.insert(sid.clone(), task);
        let reply = Reply::ok(json!({
            "cname": common.cname,
            "uid": common.uid,
            "resourceId": resource_id,
            "sid": sid,
        }));
        (reply, Some(sid))
    }

    /// Finds the live task for a task call, or the answer that replaces the call.
    fn task_for_call(
        &mut self,
        endpoint: Endpoint,
        resource_id: &str,
        sid: &str,
        mode: &Mode,
    ) -> Result<&mut Task, Reply> {
        let now = self.clock.now();
        let linger = self.config.exit_linger;
        let Some(task) = self.tasks.get_mut(sid) else {
            return Err(Reply::task_not_found());
        };
        if task.resource_id != resource_id {
            return Err(Reply::service(
                400,
                1003,
                "sid does not match the resource id",
            ));
        }
        task.refresh(now);
        if task.recovery_until.is_some_and(|until| now < until) && task.ended.is_none() {
            return Err(Reply::task_not_found());
        }
        if let Some((at, _)) = task.ended {
            if endpoint == Endpoint::Stop && now < later(at, linger) {
                return Err(Reply::service(400, 49, "invalid operation"));
            }
            return Err(Reply::task_not_found());
        }
        if task.mode != *mode {
            return Err(Reply::service(
                400,
                2,
                &format!(
                    "mode: the task was started in {} mode, got {mode}",
                    task.mode
                ),
            ));
        }
        Ok(task)
    }

    pub(crate) fn query(&mut self, resource_id: &str, sid: &str, mode: &Mode) -> Reply {
        let now = self.clock.now();
        let config = self.config.clone_timing();
        let clock = self.clock.clone();
        match self.task_for_call(Endpoint::Query, resource_id, sid, mode) {
            Ok(task) => {
                // Polling is the hot path: answer from the cache while nothing that
                // the answer shows has changed.
                let key = task.query_key(now, &config);
                if let Some((cached, bytes)) = &task.query_cache
                    && *cached == key
                {
                    return Reply::ok_encoded(bytes.clone());
                }
                let server_response = task.server_response(now, &config, &clock, None);
                let body = json!({
                    "cname": task.cname,
                    "uid": task.uid,
                    "resourceId": task.resource_id,
                    "sid": task.sid,
                    "serverResponse": server_response,
                });
                let bytes = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
                task.query_cache = Some((key, bytes.clone()));
                Reply::ok_encoded(bytes)
            }
            Err(reply) => reply,
        }
    }

    fn check_body_matches(task: &Task, common: &validate::Common<'_>) -> Result<(), Reply> {
        if task.cname != common.cname || task.uid != common.uid {
            return Err(Reply::service(
                400,
                432,
                "cname or uid does not match the task",
            ));
        }
        Ok(())
    }

    pub(crate) fn update(
        &mut self,
        resource_id: &str,
        sid: &str,
        mode: &Mode,
        body: &Value,
    ) -> Reply {
        let now = self.clock.now();
        let common = match validate::common(body) {
            Ok(common) => common,
            Err(refusal) => return Reply::refusal(refusal),
        };
        if let Err(refusal) = validate::update(&common, mode) {
            return Reply::refusal(refusal);
        }
        let task = match self.task_for_call(Endpoint::Update, resource_id, sid, mode) {
            Ok(task) => task,
            Err(reply) => return reply,
        };
        if let Err(reply) = Self::check_body_matches(task, &common) {
            return reply;
        }
        let request = common.client_request;
        if let Some(onhold) = request
            .get("webRecordingConfig")
            .and_then(|c| c.get("onhold"))
            .and_then(Value::as_bool)
        {
            task.set_onhold(now, onhold);
        }
        if let Some(url) = request
            .get("rtmpPublishConfig")
            .and_then(|c| c.pointer("/outputs/0/rtmpUrl"))
            .and_then(Value::as_str)
        {
            task.rtmp_url = Some(url.to_owned());
        }
        if let (Some(storage), Some(target)) = (
            request.get("storageConfig"),
            task.client_request.as_object_mut(),
        ) {
            target.insert("storageConfig".to_owned(), storage.clone());
        }
        if let Some(subscribe) = request.get("streamSubscribe") {
            task.apply_subscriptions(subscribe);
        }
        task.updates += 1;
        Reply::ok(task.ids_body())
    }

    pub(crate) fn update_layout(
        &mut self,
        resource_id: &str,
        sid: &str,
        mode: &Mode,
        body: &Value,
    ) -> Reply {
        if *mode != Mode::Mix {
            return Reply::service(
                400,
                2,
                &format!("mode: updateLayout is for mix mode only, got {mode}"),
            );
        }
        let common = match validate::common(body) {
            Ok(common) => common,
            Err(refusal) => return Reply::refusal(refusal),
        };
        if let Err(refusal) = validate::update_layout(&common) {
            return Reply::refusal(refusal);
        }
        let task = match self.task_for_call(Endpoint::UpdateLayout, resource_id, sid, mode) {
            Ok(task) => task,
            Err(reply) => return reply,
        };
        if let Err(reply) = Self::check_body_matches(task, &common) {
            return reply;
        }
        task.layout = Value::Object(common.client_request.clone());
        task.layout_updates += 1;
        Reply::ok(task.ids_body())
    }

    pub(crate) fn stop(
        &mut self,
        resource_id: &str,
        sid: &str,
        mode: &Mode,
        body: &Value,
    ) -> Reply {
        let now = self.clock.now();
        let common = match validate::common(body) {
            Ok(common) => common,
            Err(refusal) => return Reply::refusal(refusal),
        };
        let async_stop = match validate::stop(&common, mode) {
            Ok(async_stop) => async_stop,
            Err(refusal) => return Reply::refusal(refusal),
        };
        let config = self.config.clone_timing();
        let upload_duration = self.config.upload_duration;
        let clock = self.clock.clone();
        let task = match self.task_for_call(Endpoint::Stop, resource_id, sid, mode) {
            Ok(task) => task,
            Err(reply) => return reply,
        };
        if let Err(reply) = Self::check_body_matches(task, &common) {
            return reply;
        }
        task.end(now, EndReason::Stopped);
        if !task.had_publisher {
            let mut body = task.ids_body();
            if let Some(object) = body.as_object_mut() {
                object.insert("code".to_owned(), json!(435));
                object.insert("reason".to_owned(), json!("no recorded data"));
            }
            return Reply::new(206, body);
        }
        let uploading = if async_stop { "unknown" } else { "uploaded" };
        let server_response = task.server_response(now, &config, &clock, Some(uploading));
        let mut body = task.ids_body();
        if let Some(object) = body.as_object_mut() {
            object.insert("serverResponse".to_owned(), server_response);
        }
        let mut reply = Reply::ok(body);
        if !async_stop {
            reply.wait = Some(clock.real(upload_duration));
        }
        reply
    }
}

fn new_resource_id() -> String {
    let mut bytes = [0u8; 192];
    rand::rng().fill(&mut bytes[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn new_sid() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}
