//! Resources, tasks and channels, and how each call changes them.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use cloudrec_types::{Endpoint, Mode};
use rand::Rng;
use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::{EmuTime, ScaledClock};
use crate::config::EmulatorConfig;
use crate::fault::{ActiveRule, CallInfo, FaultAction, FaultRule};
use crate::validate::{self, Refusal};

/// An HTTP answer: status and JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
    /// The body already encoded; when present it is sent instead of `body`.
    pub(crate) encoded: Option<Bytes>,
    /// Real time to wait before answering (synchronous stop).
    pub(crate) wait: Option<Duration>,
}

impl Reply {
    pub(crate) fn ok(body: Value) -> Self {
        Self::new(200, body)
    }

    pub(crate) fn new(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            encoded: None,
            wait: None,
        }
    }

    fn ok_encoded(bytes: Bytes) -> Self {
        Self {
            status: 200,
            body: Value::Null,
            encoded: Some(bytes),
            wait: None,
        }
    }

    pub(crate) fn gateway(status: u16, message: &str) -> Self {
        Self::new(status, json!({ "message": message }))
    }

    pub(crate) fn service(status: u16, code: i64, reason: &str) -> Self {
        Self::new(status, json!({ "code": code, "reason": reason }))
    }

    fn refusal(refusal: Refusal) -> Self {
        match refusal {
            Refusal::InvalidParam(reason) => Self::service(400, 2, &reason),
            Refusal::InvalidChannelName => Self::service(400, 401, "invalid_channel_name"),
        }
    }

    fn task_not_found() -> Self {
        Self::service(404, 404, "failed to find worker")
    }
}

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

/// One request as recorded in the request log (`GET /_emulator/requests`).
///
/// Headers are not kept, so credentials never appear.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// Sequence number from 1.
    pub seq: u64,
    /// Emulator seconds since start when the request arrived.
    pub at_secs: f64,
    /// The HTTP method.
    pub method: String,
    /// The path (without query string).
    pub path: String,
    /// The endpoint, if the route is one.
    pub endpoint: Option<Endpoint>,
    /// The HTTP status answered; absent when the connection was closed or hung.
    pub status: Option<u16>,
    /// The fault action applied, if a rule fired (`respond`, `delay`, ...).
    pub fault: Option<String>,
}

#[derive(Debug)]
struct Resource {
    cname: String,
    uid: String,
    created: EmuTime,
    scene: i64,
    expired_hour: i64,
    sid: Option<String>,
}

#[derive(Debug)]
struct Task {
    sid: String,
    resource_id: String,
    cname: String,
    uid: String,
    mode: Mode,
    started: EmuTime,
    expires: EmuTime,
    max_idle: Duration,
    client_request: Value,
    layout: Value,
    recorded: Duration,
    active_since: Option<EmuTime>,
    first_active: Option<EmuTime>,
    idle_since: Option<EmuTime>,
    had_publisher: bool,
    publishers: BTreeSet<String>,
    onhold: bool,
    rtmp_url: Option<String>,
    recovery_until: Option<EmuTime>,
    ended: Option<(EmuTime, EndReason)>,
    updates: u32,
    layout_updates: u32,
    query_cache: Option<(QueryKey, Bytes)>,
}

/// Everything a query answer depends on besides the task's fixed fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct QueryKey {
    status: u8,
    slices: bool,
    mp4_files: u64,
    first_active: bool,
    onhold: bool,
    updates: u32,
    publishers: usize,
}

/// A token bucket per App ID, in real time.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// All mutable emulator state, behind one lock.
pub(crate) struct State {
    pub(crate) config: EmulatorConfig,
    pub(crate) clock: ScaledClock,
    resources: HashMap<String, Resource>,
    tasks: HashMap<String, Task>,
    channels: HashMap<String, u32>,
    faults: Vec<ActiveRule>,
    log: VecDeque<RequestRecord>,
    seq: u64,
    bucket: Bucket,
    /// The `Authorization` value of the configured credentials.
    expected_auth: String,
}

/// What the fault matcher decided for a call.
pub(crate) enum FaultDecision {
    /// No rule fired.
    None,
    /// A rule fired with this action.
    Fire(FaultAction),
}

impl State {
    pub(crate) fn new(config: EmulatorConfig) -> Self {
        let clock = ScaledClock::new(config.time_scale);
        let faults = config.faults.iter().cloned().map(ActiveRule::new).collect();
        let tokens = f64::from(config.rate_limit_per_sec);
        let expected_auth =
            basic_authorization(&config.customer_id, config.customer_secret.expose());
        Self {
            config,
            clock,
            resources: HashMap::new(),
            tasks: HashMap::new(),
            channels: HashMap::new(),
            faults,
            log: VecDeque::new(),
            seq: 0,
            bucket: Bucket {
                tokens,
                last: Instant::now(),
            },
            expected_auth,
        }
    }

    /// Forgets resources, tasks, channels, faults and the log; keeps the config.
    pub(crate) fn reset(&mut self) {
        self.resources.clear();
        self.tasks.clear();
        self.channels.clear();
        self.faults.clear();
        self.log.clear();
        self.bucket.tokens = f64::from(self.config.rate_limit_per_sec);
    }

    // ----- faults -----------------------------------------------------------------

    pub(crate) fn inject(&mut self, rule: FaultRule) {
        self.faults.push(ActiveRule::new(rule));
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    pub(crate) fn faults(&self) -> Vec<FaultRule> {
        self.faults
            .iter()
            .map(|active| active.rule.clone())
            .collect()
    }

    /// The first rule that fires for the call, if any.
    pub(crate) fn match_fault(
        &mut self,
        endpoint: Option<Endpoint>,
        sid: Option<&str>,
        body_cname: Option<&str>,
    ) -> FaultDecision {
        if self.faults.is_empty() {
            return FaultDecision::None;
        }
        let task_cname = sid
            .and_then(|sid| self.tasks.get(sid))
            .map(|task| task.cname.clone());
        let call = CallInfo {
            endpoint,
            sid,
            cname: body_cname.or(task_cname.as_deref()),
        };
        for rule in &mut self.faults {
            if rule.fires(&call) {
                return FaultDecision::Fire(rule.rule.action.clone());
            }
        }
        FaultDecision::None
    }

    // ----- log ----------------------------------------------------------------------

    /// Records a request and returns its sequence number.
    pub(crate) fn log_request(
        &mut self,
        method: &str,
        path: &str,
        endpoint: Option<Endpoint>,
    ) -> u64 {
        self.seq += 1;
        let record = RequestRecord {
            seq: self.seq,
            at_secs: self.clock.now().as_secs_f64(),
            method: method.to_owned(),
            path: path.to_owned(),
            endpoint,
            status: None,
            fault: None,
        };
        if self.config.request_log_capacity > 0 {
            while self.log.len() >= self.config.request_log_capacity {
                self.log.pop_front();
            }
            self.log.push_back(record);
        }
        self.seq
    }

    /// Completes the log entry `seq` with its status and fault.
    pub(crate) fn log_outcome(&mut self, seq: u64, status: Option<u16>, fault: Option<&str>) {
        // Entries are in sequence order; search from the back, where recent ones are.
        if let Some(record) = self.log.iter_mut().rev().find(|record| record.seq == seq) {
            record.status = status;
            record.fault = fault.map(str::to_owned);
        }
    }

    pub(crate) fn request_log(&self) -> Vec<RequestRecord> {
        self.log.iter().cloned().collect()
    }

    // ----- gateway checks -----------------------------------------------------------

    /// The gateway's answer to missing or wrong Basic credentials, if they are.
    pub(crate) fn check_auth(&self, header: Option<&http::HeaderValue>) -> Option<Reply> {
        let Some(header) = header else {
            return Some(Reply::gateway(401, "Unauthorized"));
        };
        if header.as_bytes() == self.expected_auth.as_bytes() {
            return None;
        }
        // Tolerate another spelling of the scheme and padding around the token.
        let accepted = header
            .to_str()
            .ok()
            .and_then(|value| value.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .and_then(|(_, token)| {
                base64::engine::general_purpose::STANDARD
                    .decode(token.trim())
                    .ok()
            })
            .is_some_and(|decoded| basic_authorization_bytes(&decoded) == self.expected_auth);
        if accepted {
            None
        } else {
            Some(Reply::gateway(401, "Invalid authentication credentials"))
        }
    }

    /// Takes a token from the App ID's bucket; false when the rate is exceeded.
    pub(crate) fn admit(&mut self) -> bool {
        let rate = f64::from(self.config.rate_limit_per_sec);
        if rate <= 0.0 {
            return true;
        }
        let now = Instant::now();
        let refill = now.duration_since(self.bucket.last).as_secs_f64() * rate;
        self.bucket.tokens = (self.bucket.tokens + refill).min(rate);
        self.bucket.last = now;
        if self.bucket.tokens >= 1.0 {
            self.bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    // ----- channels -------------------------------------------------------------------

    fn channel_users(&self, cname: &str) -> u32 {
        self.channels
            .get(cname)
            .copied()
            .unwrap_or(self.config.default_channel_users)
    }

    /// Sets how many users publish in `cname` from now on.
    pub(crate) fn set_channel_users(&mut self, cname: &str, users: u32) {
        let now = self.clock.now();
        self.channels.insert(cname.to_owned(), users);
        for task in self.tasks.values_mut().filter(|task| task.cname == cname) {
            task.refresh(now);
            if task.ended.is_none() && task.mode != Mode::Web {
                task.set_publishing(now, users);
            }
        }
    }

    // ----- recovery windows ---------------------------------------------------------------

    /// Opens a recovery window on the tasks picked by `sid` or `cname`; returns their sids.
    pub(crate) fn start_recovery_window(
        &mut self,
        selector: &TaskSelector,
        length: Duration,
    ) -> Vec<String> {
        let now = self.clock.now();
        let mut sids = Vec::new();
        for task in self.tasks.values_mut() {
            task.refresh(now);
            if task.ended.is_none() && selector.picks(task) {
                task.recovery_until = Some(later(now, length));
                sids.push(task.sid.clone());
            }
        }
        sids.sort();
        sids
    }

    // ----- inspection ---------------------------------------------------------------

    pub(crate) fn tasks(&mut self) -> Vec<TaskView> {
        let now = self.clock.now();
        let mut views: Vec<TaskView> = Vec::new();
        let mut sids: Vec<String> = self.tasks.keys().cloned().collect();
        sids.sort();
        for sid in sids {
            let users = self
                .tasks
                .get(&sid)
                .map_or(0, |task| self.channel_users(&task.cname));
            if let Some(task) = self.tasks.get_mut(&sid) {
                task.refresh(now);
                if task.ended.is_none() {
                    views.push(task.view(now, &self.config, users));
                }
            }
        }
        views.sort_by(|a, b| a.sid.cmp(&b.sid));
        views
    }

    fn live_tasks(&mut self) -> usize {
        let now = self.clock.now();
        self.tasks
            .values_mut()
            .map(|task| {
                task.refresh(now);
                task.ended.is_none()
            })
            .filter(|live| *live)
            .count()
    }

    fn over_concurrency(&mut self) -> bool {
        let limit = self.config.concurrency_limit;
        limit > 0 && self.live_tasks() >= limit
    }

    // ----- endpoints ------------------------------------------------------------------

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

/// The timing values a task needs to describe itself.
pub(crate) struct Timing {
    status_step: Duration,
    slice_duration: Duration,
    mp4_split: Duration,
}

impl EmulatorConfig {
    fn clone_timing(&self) -> Timing {
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
    fn picks(&self, task: &Task) -> bool {
        match self {
            Self::Sid(sid) => task.sid == *sid,
            Self::Cname(cname) => task.cname == *cname,
            Self::All => true,
        }
    }
}

fn web_service<'a>(client_request: &'a Value, name: &str) -> Option<&'a Value> {
    client_request
        .pointer("/extensionServiceConfig/extensionServices")?
        .as_array()?
        .iter()
        .find(|service| service.get("serviceName").and_then(Value::as_str) == Some(name))?
        .get("serviceParam")
}

/// The `Authorization` header value for Basic credentials.
fn basic_authorization(id: &str, secret: &str) -> String {
    basic_authorization_bytes(format!("{id}:{secret}").as_bytes())
}

fn basic_authorization_bytes(pair: &[u8]) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn new_resource_id() -> String {
    let mut bytes = [0u8; 192];
    rand::rng().fill(&mut bytes[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn new_sid() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}

/// The most publishers whose uids a task lists (the service subscribes at most 32).
const MAX_LISTED_PUBLISHERS: u32 = 32;

/// The uids of the users publishing in a channel with `users` users: `10001`, `10002`, ...
fn publisher_uids(users: u32) -> impl Iterator<Item = String> {
    (1..=users.min(MAX_LISTED_PUBLISHERS)).map(|n| (10_000 + u64::from(n)).to_string())
}

/// `at + length`, saturating instead of overflowing.
fn later(at: EmuTime, length: Duration) -> EmuTime {
    at.checked_add(length).unwrap_or(Duration::MAX)
}

impl Task {
    /// Ends the task if it idled out or expired before `now`.
    fn refresh(&mut self, now: EmuTime) {
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

    fn end(&mut self, at: EmuTime, reason: EndReason) {
        if let Some(since) = self.active_since.take() {
            self.recorded += at.saturating_sub(since);
        }
        self.ended = Some((at, reason));
    }

    /// Follows a change of the channel's users (non-web modes).
    fn set_publishing(&mut self, now: EmuTime, users: u32) {
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
    fn set_onhold(&mut self, now: EmuTime, onhold: bool) {
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

    fn apply_subscriptions(&mut self, subscribe: &Value) {
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

    fn slices(&self, now: EmuTime, timing: &Timing) -> u64 {
        let recorded = self.recorded_at(now).as_secs_f64();
        (recorded / timing.slice_duration.as_secs_f64()).floor() as u64
    }

    fn status(&self, now: EmuTime, timing: &Timing) -> u8 {
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

    fn mp4_files(&self, now: EmuTime, timing: &Timing) -> u64 {
        let split = self.mp4_split(timing).as_secs_f64();
        1 + (self.recorded_at(now).as_secs_f64() / split).floor() as u64
    }

    fn query_key(&self, now: EmuTime, timing: &Timing) -> QueryKey {
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

    fn ids_body(&self) -> Value {
        json!({
            "cname": self.cname,
            "uid": self.uid,
            "resourceId": self.resource_id,
            "sid": self.sid,
        })
    }

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
    fn files(&self, now: EmuTime, timing: &Timing) -> Vec<(String, &'static str, String, bool)> {
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
    fn server_response(
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

    fn view(&self, now: EmuTime, config: &EmulatorConfig, users: u32) -> TaskView {
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
