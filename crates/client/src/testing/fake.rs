//! An in-process fake of the Cloud Recording service, below the [`Transport`]
//! trait: it keeps resources and tasks, and answers with any row of the status
//! table, hangs, refuses or fails tasks over when a fault script says so.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use cloudrec_types::Endpoint;
use serde_json::{Value, json};

use crate::{
    Clock, Delivery, HttpRequest, HttpResponse, Rule, Transport, TransportError, TransportErrorKind,
};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Something that goes wrong at one call.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this row of the status table (status, and a body in the row's
    /// form). With `applied`, the call takes effect first (a start that runs, a
    /// stop that stops) and only its answer is replaced.
    Row {
        /// The row.
        rule: &'static Rule,
        /// Whether the call takes effect before the answer is replaced.
        applied: bool,
    },
    /// Hold the request for its whole timeout, then fail with a timeout. With
    /// `applied`, the call took effect before the connection hung.
    Hang {
        /// Whether the call takes effect.
        applied: bool,
    },
    /// Refuse the connection: the request is not sent.
    Refuse,
    /// The call's task fails over: it answers 404 to query, update, updateLayout
    /// and stop for `duration` from now. On a start, the started task fails over.
    Failover {
        /// How long the task is unreachable.
        duration: Duration,
    },
    /// The call's task exits on its own (idle for maxIdleTime) before the call.
    IdleExit,
    /// The task started by this start call never reports status 4 or 5.
    NeverRuns,
}

/// When a fault strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// The `n`th request the service receives (0 for the first).
    Call(u64),
    /// The `n`th request of `endpoint` (0 for the first).
    Nth(Endpoint, u64),
}

/// The fake service's timings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeConfig {
    /// How long after start a task reports status 5.
    pub running_after: Duration,
    /// How long after stop a task still answers query (status 6).
    pub upload_time: Duration,
    /// How long a resource id can be started.
    pub resource_lifetime: Duration,
    /// Whether tasks record something (otherwise stop answers 206, code 435).
    pub publishers: bool,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            running_after: Duration::from_secs(4),
            upload_time: Duration::from_secs(3),
            resource_lifetime: Duration::from_secs(300),
            publishers: true,
        }
    }
}

/// A task the fake service holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FakeTask {
    /// Its resource id.
    pub resource_id: String,
    /// Its session id.
    pub sid: String,
    /// Its channel.
    pub cname: String,
    /// Its recorder uid.
    pub uid: String,
}

#[derive(Debug)]
struct Task {
    ids: FakeTask,
    started: Duration,
    hidden_until: Duration,
    never_runs: bool,
}

#[derive(Debug)]
struct Resource {
    cname: String,
    uid: String,
    acquired: Duration,
    sid: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    resources: HashMap<String, Resource>,
    live: HashMap<String, Task>,
    stopped: HashMap<String, (Duration, String)>,
    calls: u64,
    per_endpoint: HashMap<Endpoint, u64>,
    faults: HashMap<Trigger, VecDeque<Fault>>,
    next_id: u64,
}

/// An in-process Cloud Recording service for tests, implementing [`Transport`].
///
/// Acquire hands out resource ids valid for 5 minutes; start creates a task
/// (53 on a duplicate cname and uid, 201 code 7 on a reused resource id, 433 on
/// an expired one); query reports status 2, 3, then 5; stop ends the task (206
/// code 435 without publishers, 49 when already stopped, 404 when unknown).
/// Faults injected with [`FakeService::inject`] replace answers at chosen calls.
#[derive(Clone)]
pub struct FakeService {
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
    config: Arc<FakeConfig>,
}

impl std::fmt::Debug for FakeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("FakeService")
            .field("live_tasks", &state.live.len())
            .field("calls", &state.calls)
            .finish()
    }
}

impl FakeService {
    /// A service on `clock` with the default timings.
    pub fn new(clock: impl Clock + 'static) -> Self {
        Self::with_config(clock, FakeConfig::default())
    }

    /// A service on `clock` with `config`.
    pub fn with_config(clock: impl Clock + 'static, config: FakeConfig) -> Self {
        Self {
            state: Arc::default(),
            clock: Arc::new(clock),
            config: Arc::new(config),
        }
    }

    /// Adds a fault at `trigger`; several faults at one trigger strike in turn at
    /// its first matching call... and only one per call.
    pub fn inject(&self, trigger: Trigger, fault: Fault) {
        lock(&self.state)
            .faults
            .entry(trigger)
            .or_default()
            .push_back(fault);
    }

    /// The tasks still recording (not stopped, not exited).
    pub fn live_tasks(&self) -> Vec<FakeTask> {
        let mut tasks: Vec<FakeTask> = lock(&self.state)
            .live
            .values()
            .map(|task| task.ids.clone())
            .collect();
        tasks.sort_by(|a, b| a.sid.cmp(&b.sid));
        tasks
    }

    /// How many requests arrived.
    pub fn calls(&self) -> u64 {
        lock(&self.state).calls
    }

    /// How many requests of `endpoint` arrived.
    pub fn calls_of(&self, endpoint: Endpoint) -> u64 {
        lock(&self.state)
            .per_endpoint
            .get(&endpoint)
            .copied()
            .unwrap_or(0)
    }

    /// Makes a live task exit on its own now, as after `maxIdleTime` with nobody
    /// in the channel. Returns whether the task was live.
    pub fn exit_task(&self, sid: &str) -> bool {
        let now = self.clock.now().since_origin();
        let mut state = lock(&self.state);
        match state.live.remove(sid) {
            Some(task) => {
                state
                    .stopped
                    .insert(sid.to_owned(), (now, task.ids.resource_id));
                true
            }
            None => false,
        }
    }

    fn take_fault(&self, endpoint: Endpoint) -> Option<Fault> {
        let mut state = lock(&self.state);
        let call = state.calls;
        state.calls += 1;
        let nth = {
            let counter = state.per_endpoint.entry(endpoint).or_insert(0);
            let nth = *counter;
            *counter += 1;
            nth
        };
        for trigger in [Trigger::Call(call), Trigger::Nth(endpoint, nth)] {
            if let Some(queue) = state.faults.get_mut(&trigger)
                && let Some(fault) = queue.pop_front()
            {
                return Some(fault);
            }
        }
        None
    }

    fn new_id(state: &mut State, prefix: &str) -> String {
        state.next_id += 1;
        format!("{prefix}{:08x}", state.next_id)
    }

    fn handle(&self, call: &Call, fault: Option<&Fault>) -> HttpResponse {
        let now = self.clock.now().since_origin();
        let mut state = lock(&self.state);
        if let (Some(Fault::IdleExit), Some(sid)) = (fault, call.sid.as_deref())
            && let Some(task) = state.live.remove(sid)
        {
            state
                .stopped
                .insert(sid.to_owned(), (now, task.ids.resource_id));
        }
        match call.endpoint {
            Endpoint::Acquire => {
                let resource_id = Self::new_id(&mut state, "rid");
                state.resources.insert(
                    resource_id.clone(),
                    Resource {
                        cname: call.cname.clone(),
                        uid: call.uid.clone(),
                        acquired: now,
                        sid: None,
                    },
                );
                ok(json!({"cname": call.cname, "uid": call.uid, "resourceId": resource_id}))
            }
            Endpoint::Start => self.start(&mut state, call, fault, now),
            Endpoint::Query => self.query(&mut state, call, now),
            Endpoint::Update | Endpoint::UpdateLayout => match Self::reachable(&state, call, now) {
                Ok(task) => ok(ids_body(&task.ids)),
                Err(answer) => answer,
            },
            Endpoint::Stop => self.stop(&mut state, call, now),
            Endpoint::NcsIp => {
                ok(json!({"data": {"service": {"hosts": [{"primaryIP": "127.0.0.1"}]}}}))
            }
        }
    }

    fn start(
        &self,
        state: &mut State,
        call: &Call,
        fault: Option<&Fault>,
        now: Duration,
    ) -> HttpResponse {
        let Some(resource_id) = call.resource_id.clone() else {
            return service(400, 2, "invalid resourceId");
        };
        let Some(resource) = state.resources.get(&resource_id) else {
            return service(400, 1001, "resourceId could not be parsed");
        };
        if let Some(sid) = &resource.sid {
            return HttpResponse {
                status: 201,
                retry_after: None,
                request_id: None,
                body: json!({"code": 7, "reason": "already started", "resourceId": resource_id, "sid": sid})
                    .to_string()
                    .into(),
            };
        }
        if now.saturating_sub(resource.acquired) >= self.config.resource_lifetime {
            return service(400, 433, "resource expired");
        }
        if resource.cname != call.cname || resource.uid != call.uid {
            return service(400, 432, "cname or uid does not match the resourceId");
        }
        let conflict = state
            .live
            .values()
            .any(|task| task.ids.cname == call.cname && task.ids.uid == call.uid);
        if conflict {
            return service(400, 53, "task conflict");
        }
        let sid = Self::new_id(state, "sid");
        if let Some(resource) = state.resources.get_mut(&resource_id) {
            resource.sid = Some(sid.clone());
        }
        let hidden_until = match fault {
            Some(Fault::Failover { duration }) => now.saturating_add(*duration),
            _ => Duration::ZERO,
        };
        let ids = FakeTask {
            resource_id,
            sid: sid.clone(),
            cname: call.cname.clone(),
            uid: call.uid.clone(),
        };
        let body = ids_body(&ids);
        state.live.insert(
            sid,
            Task {
                ids,
                started: now,
                hidden_until,
                never_runs: matches!(fault, Some(Fault::NeverRuns)),
            },
        );
        ok(body)
    }

    /// The live task a call names, unless it is unknown or failing over.
    fn reachable<'s>(
        state: &'s State,
        call: &Call,
        now: Duration,
    ) -> Result<&'s Task, HttpResponse> {
        let task = call.sid.as_deref().and_then(|sid| state.live.get(sid));
        match task {
            Some(task) if now >= task.hidden_until => Ok(task),
            _ => Err(service(404, 404, "failed to find worker")),
        }
    }

    fn query(&self, state: &mut State, call: &Call, now: Duration) -> HttpResponse {
        if let Some(sid) = call.sid.as_deref()
            && let Some((at, resource_id)) = state.stopped.get(sid)
        {
            if now < at.saturating_add(self.config.upload_time) {
                return ok(json!({
                    "resourceId": resource_id, "sid": sid,
                    "serverResponse": {"status": 6}
                }));
            }
            return service(404, 404, "failed to find worker");
        }
        match Self::reachable(state, call, now) {
            Ok(task) => {
                let elapsed = now.saturating_sub(task.started);
                let status = if task.never_runs || elapsed < self.config.running_after / 2 {
                    2
                } else if elapsed < self.config.running_after {
                    3
                } else {
                    5
                };
                let mut body = ids_body(&task.ids);
                if let Some(object) = body.as_object_mut() {
                    object.insert(
                        "serverResponse".into(),
                        json!({"status": status, "fileListMode": "string", "fileList": format!("{}_{}.m3u8", task.ids.sid, task.ids.cname)}),
                    );
                }
                ok(body)
            }
            Err(answer) => answer,
        }
    }

    fn stop(&self, state: &mut State, call: &Call, now: Duration) -> HttpResponse {
        if let Some(sid) = call.sid.as_deref()
            && state.stopped.contains_key(sid)
        {
            return service(400, 49, "invalid operation");
        }
        let task = match Self::reachable(state, call, now) {
            Ok(task) => task.ids.clone(),
            Err(answer) => return answer,
        };
        state.live.remove(&task.sid);
        state
            .stopped
            .insert(task.sid.clone(), (now, task.resource_id.clone()));
        if !self.config.publishers {
            return HttpResponse {
                status: 206,
                retry_after: None,
                request_id: None,
                body: json!({"code": 435, "reason": "no recorded data", "resourceId": task.resource_id, "sid": task.sid})
                    .to_string()
                    .into(),
            };
        }
        let uploading = if call.async_stop {
            "unknown"
        } else {
            "uploaded"
        };
        let mut body = ids_body(&task);
        if let Some(object) = body.as_object_mut() {
            object.insert(
                "serverResponse".into(),
                json!({"fileListMode": "string", "fileList": format!("{}_{}.m3u8", task.sid, task.cname), "uploadingStatus": uploading}),
            );
        }
        ok(body)
    }

    fn failover(&self, call: &Call, duration: Duration) {
        let now = self.clock.now().since_origin();
        let mut state = lock(&self.state);
        if let Some(task) = call.sid.as_deref().and_then(|sid| state.live.get_mut(sid)) {
            task.hidden_until = now.saturating_add(duration);
        }
    }
}

#[async_trait]
impl Transport for FakeService {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let call = Call::parse(&request);
        let fault = self.take_fault(call.endpoint);
        match &fault {
            None | Some(Fault::IdleExit | Fault::NeverRuns) => {
                Ok(self.handle(&call, fault.as_ref()))
            }
            Some(Fault::Failover { duration }) => {
                self.failover(&call, *duration);
                Ok(self.handle(&call, fault.as_ref()))
            }
            Some(Fault::Refuse) => Err(TransportError::new(
                TransportErrorKind::Connect,
                Delivery::NotSent,
                request.base_url.clone(),
                "the fake service refused the connection",
            )),
            Some(Fault::Hang { applied }) => {
                if *applied {
                    self.handle(&call, None);
                }
                self.clock.sleep(request.timeout).await;
                Err(TransportError::new(
                    TransportErrorKind::Timeout,
                    Delivery::MaybeSent,
                    request.base_url.clone(),
                    "the fake service held the request",
                ))
            }
            Some(Fault::Row { rule, applied }) => {
                if !*applied {
                    return Ok(row_answer(rule, &call, None));
                }
                // The row stands for a call that took effect: when the call
                // fails here (a task failing over, already stopped), the service
                // would not claim it did, so the real answer is given.
                let real = self.handle(&call, None);
                if real.status >= 300 {
                    return Ok(real);
                }
                Ok(row_answer(rule, &call, Some(&real)))
            }
        }
    }
}

/// The answer a table row describes, echoing the ids a start that took effect
/// got (so that a 201 code 7 carries the sid).
fn row_answer(rule: &Rule, call: &Call, real: Option<&HttpResponse>) -> HttpResponse {
    let status = rule.http_status().unwrap_or(400);
    let body = match rule.code() {
        Some(code) => {
            let mut body = json!({"code": code, "reason": rule.text()});
            let echoed: Option<Value> = real.and_then(|r| serde_json::from_slice(&r.body).ok());
            if let (Some(object), Some(echoed)) = (body.as_object_mut(), echoed) {
                for key in ["resourceId", "sid"] {
                    if let Some(value) = echoed.get(key) {
                        object.insert(key.into(), value.clone());
                    }
                }
            }
            if let (Some(object), Some(sid)) = (body.as_object_mut(), &call.sid) {
                object.entry("sid").or_insert_with(|| json!(sid));
            }
            body
        }
        None => json!({"message": rule.text()}),
    };
    HttpResponse {
        status,
        retry_after: None,
        request_id: None,
        body: body.to_string().into(),
    }
}

fn ok(body: Value) -> HttpResponse {
    HttpResponse {
        status: 200,
        retry_after: None,
        request_id: None,
        body: body.to_string().into(),
    }
}

fn service(status: u16, code: i64, reason: &str) -> HttpResponse {
    HttpResponse {
        status,
        retry_after: None,
        request_id: None,
        body: json!({"code": code, "reason": reason}).to_string().into(),
    }
}

fn ids_body(task: &FakeTask) -> Value {
    json!({"cname": task.cname, "uid": task.uid, "resourceId": task.resource_id, "sid": task.sid})
}

/// What the fake reads from a request.
#[derive(Debug)]
struct Call {
    endpoint: Endpoint,
    resource_id: Option<String>,
    sid: Option<String>,
    cname: String,
    uid: String,
    async_stop: bool,
}

impl Call {
    fn parse(request: &HttpRequest) -> Self {
        let segments: Vec<String> = request.path.split('/').map(percent_decode).collect();
        let after = |name: &str| {
            segments
                .iter()
                .position(|s| s == name)
                .and_then(|i| segments.get(i + 1))
                .cloned()
        };
        let body: Value = request
            .body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        let text = |key: &str| {
            body.get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        Self {
            endpoint: request.endpoint,
            resource_id: after("resourceid"),
            sid: after("sid"),
            cname: text("cname"),
            uid: text("uid"),
            async_stop: body
                .pointer("/clientRequest/async_stop")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = segment.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
