//! The HTTP side: accepting connections, routing, the gateway checks, fault
//! injection and the admin API.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use cloudrec_types::{Endpoint, Mode};
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::connection::{ConnectionStats, Counters, Limits};
use crate::fault::{FaultAction, FaultRule};
use crate::state::{FaultDecision, Reply, State, TaskSelector};
use crate::validate;

/// The largest request body read.
const MAX_BODY: usize = 1 << 20;

/// State shared by the connections and the [`Emulator`](crate::Emulator) handle.
pub(crate) struct Shared {
    state: Mutex<State>,
    hang_limit: Duration,
    pub(crate) limits: Limits,
    pub(crate) connections: Arc<Counters>,
    /// The NCS counters (also held by the outbox and the delivery task).
    pub(crate) ncs: Arc<crate::ncs::Counters>,
}

impl Shared {
    pub(crate) fn new(state: State, ncs: Arc<crate::ncs::Counters>) -> Self {
        let config = &state.config;
        let hang_limit = config.hang_limit;
        let limits = Limits {
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.idle_timeout,
            max_connections: config.max_connections,
        };
        Self {
            state: Mutex::new(state),
            hang_limit,
            limits,
            connections: Arc::default(),
            ncs,
        }
    }

    /// What the connections did so far.
    pub(crate) fn connection_stats(&self) -> ConnectionStats {
        self.connections.stats(&self.limits)
    }

    /// The state, even if a thread panicked while holding the lock.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The error a handler returns to make hyper close the connection unanswered.
#[derive(Debug, thiserror::Error)]
#[error("connection closed by a fault rule")]
pub(crate) struct CloseConnection;

/// A recognised route.
#[derive(Debug, PartialEq)]
enum Route {
    Api {
        endpoint: Endpoint,
        app_id: String,
        resource_id: Option<String>,
        sid: Option<String>,
        mode: Option<Mode>,
    },
    NcsIp,
    Admin(String),
    Unknown,
}

fn route(method: &Method, path: &str) -> Route {
    if let Some(rest) = path.strip_prefix("/_emulator/") {
        return Route::Admin(rest.trim_end_matches('/').to_owned());
    }
    if path == "/v1/ncs/ip" {
        return if method == Method::GET {
            Route::NcsIp
        } else {
            Route::Unknown
        };
    }
    let segments: Vec<&str> = path.split('/').collect();
    let found = match segments.as_slice() {
        ["", "v1", "apps", app_id, "cloud_recording", "acquire"] => {
            Some((Endpoint::Acquire, *app_id, None, None, None))
        }
        [
            "",
            "v1",
            "apps",
            app_id,
            "cloud_recording",
            "resourceid",
            rid,
            "mode",
            mode,
            "start",
        ] => Some((Endpoint::Start, *app_id, Some(*rid), None, Some(*mode))),
        [
            "",
            "v1",
            "apps",
            app_id,
            "cloud_recording",
            "resourceid",
            rid,
            "sid",
            sid,
            "mode",
            mode,
            op,
        ] => {
            let endpoint = match *op {
                "query" => Some(Endpoint::Query),
                "update" => Some(Endpoint::Update),
                "updateLayout" => Some(Endpoint::UpdateLayout),
                "stop" => Some(Endpoint::Stop),
                _ => None,
            };
            endpoint.map(|endpoint| (endpoint, *app_id, Some(*rid), Some(*sid), Some(*mode)))
        }
        _ => None,
    };
    match found {
        Some((endpoint, app_id, rid, sid, mode))
            if method.as_str() == endpoint.method()
                && !app_id.is_empty()
                && rid.is_none_or(|r| !r.is_empty())
                && sid.is_none_or(|s| !s.is_empty()) =>
        {
            Route::Api {
                endpoint,
                app_id: app_id.to_owned(),
                resource_id: rid.map(str::to_owned),
                sid: sid.map(str::to_owned),
                mode: mode.map(Mode::parse),
            }
        }
        _ => Route::Unknown,
    }
}

fn json_response(status: u16, body: &Value) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    encoded_response(status, Bytes::from(bytes))
}

fn encoded_response(status: u16, bytes: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(bytes));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Handles one HTTP request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, CloseConnection> {
    let method = request.method().clone();
    let route = route(&method, request.uri().path());
    if let Route::Admin(rest) = &route {
        let query = request.uri().query().map(str::to_owned);
        let body = read_body(request.into_body()).await;
        return Ok(admin(&shared, &method, rest, query.as_deref(), body));
    }
    let (parts, body) = request.into_parts();
    let body = read_body(body).await;
    let json_body: Option<Value> = body
        .as_deref()
        .filter(|bytes| !bytes.is_empty())
        .and_then(|bytes| serde_json::from_slice(bytes).ok());
    let (endpoint, sid) = match &route {
        Route::Api { endpoint, sid, .. } => (Some(*endpoint), sid.as_deref()),
        Route::NcsIp => (Some(Endpoint::NcsIp), None),
        _ => (None, None),
    };
    let call = Call {
        route: &route,
        parts: &parts,
        body: body.as_ref(),
        json_body: json_body.as_ref(),
    };
    // The common case takes the lock once: log, fault matching and the call.
    let (seq, action) = {
        let mut state = shared.lock();
        let seq = state.log_request(method.as_str(), parts.uri.path(), endpoint);
        let decision = if route == Route::Unknown {
            FaultDecision::None
        } else {
            let body_cname = json_body
                .as_ref()
                .and_then(|b| b.get("cname"))
                .and_then(Value::as_str);
            state.match_fault(endpoint, sid, body_cname)
        };
        match decision {
            FaultDecision::None => {
                let reply = dispatch(&mut state, &call, None);
                state.log_outcome(seq, Some(reply.status), None);
                (seq, Err(reply))
            }
            FaultDecision::Fire(action) => (seq, Ok(action)),
        }
    };
    let action = match action {
        Err(reply) => return Ok(finish(reply).await),
        Ok(action) => action,
    };
    let mut recovery_for_new_task = None;
    let fault = match action {
        FaultAction::Respond {
            status,
            body,
            retry_after,
            retry_after_as_date,
        } => {
            shared
                .lock()
                .log_outcome(seq, Some(status), Some("respond"));
            let mut response = json_response(status, &body);
            if let Some(seconds) = retry_after {
                let value = if retry_after_as_date {
                    let at = std::time::SystemTime::now() + std::time::Duration::from_secs(seconds);
                    http::HeaderValue::from_str(&httpdate::fmt_http_date(at))
                        .unwrap_or_else(|_| http::HeaderValue::from(seconds))
                } else {
                    http::HeaderValue::from(seconds)
                };
                response
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, value);
            }
            return Ok(response);
        }
        FaultAction::Hang => {
            // Logged first: the future is dropped when the client disconnects.
            shared.lock().log_outcome(seq, None, Some("hang"));
            tokio::time::sleep(shared.hang_limit).await;
            return Err(CloseConnection);
        }
        FaultAction::Close => {
            shared.lock().log_outcome(seq, None, Some("close"));
            return Err(CloseConnection);
        }
        FaultAction::ApplyThenDrop => {
            let mut state = shared.lock();
            let reply = dispatch(&mut state, &call, None);
            state.log_outcome(seq, Some(reply.status), Some("apply_then_drop"));
            return Err(CloseConnection);
        }
        FaultAction::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            "delay"
        }
        // Notice actions never fire on requests (the matcher keeps them apart).
        FaultAction::Drop
        | FaultAction::Duplicate
        | FaultAction::Reorder
        | FaultAction::BadSignature => "notice_fault",
        FaultAction::RecoveryWindow { seconds } => {
            let length = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::ZERO);
            match sid {
                Some(sid) => {
                    shared
                        .lock()
                        .start_recovery_window(&TaskSelector::Sid(sid.to_owned()), length);
                }
                None => recovery_for_new_task = Some(length),
            }
            "recovery_window"
        }
    };
    let reply = {
        let mut state = shared.lock();
        let reply = dispatch(&mut state, &call, recovery_for_new_task);
        state.log_outcome(seq, Some(reply.status), Some(fault));
        reply
    };
    Ok(finish(reply).await)
}

/// Waits what the reply asks for, then encodes it.
async fn finish(reply: Reply) -> Response<Full<Bytes>> {
    if let Some(wait) = reply.wait {
        tokio::time::sleep(wait).await;
    }
    match reply.encoded {
        Some(bytes) => encoded_response(reply.status, bytes),
        None => json_response(reply.status, &reply.body),
    }
}

/// What a request brings to the dispatcher.
struct Call<'a> {
    route: &'a Route,
    parts: &'a http::request::Parts,
    body: Option<&'a Bytes>,
    json_body: Option<&'a Value>,
}

async fn read_body(body: Incoming) -> Option<Bytes> {
    Limited::new(body, MAX_BODY)
        .collect()
        .await
        .ok()
        .map(http_body_util::Collected::to_bytes)
}

fn is_json_content_type(parts: &http::request::Parts) -> bool {
    parts.headers.get(CONTENT_TYPE).is_none_or(|value| {
        value.to_str().is_ok_and(|text| {
            text.split(';')
                .next()
                .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
        })
    })
}

/// Handles the call, then queues the NCS notices of what it changed.
fn dispatch(state: &mut State, call: &Call<'_>, recovery_for_new_task: Option<Duration>) -> Reply {
    let reply = dispatch_call(state, call, recovery_for_new_task);
    state.observe_ncs();
    reply
}

/// The gateway checks (auth, App ID, rate), then the endpoint itself.
fn dispatch_call(
    state: &mut State,
    call: &Call<'_>,
    recovery_for_new_task: Option<Duration>,
) -> Reply {
    if *call.route == Route::Unknown {
        return Reply::gateway(404, "no Route matched with those values");
    }
    if let Some(refusal) = state.check_auth(call.parts.headers.get(AUTHORIZATION)) {
        return refusal;
    }
    let Route::Api {
        endpoint,
        app_id,
        resource_id,
        sid,
        mode,
    } = call.route
    else {
        return State::ncs_ip();
    };
    if app_id != state.config.app_id.as_str() {
        return Reply::gateway(400, "appid is invalid");
    }
    if !state.admit() {
        return Reply::gateway(429, "API rate limit exceeded");
    }
    let resource_id = resource_id.as_deref().unwrap_or_default();
    let sid = sid.as_deref().unwrap_or_default();
    let mode = mode.clone().unwrap_or(Mode::Mix);
    if *endpoint == Endpoint::Query {
        return state.query(resource_id, sid, &mode);
    }
    if !is_json_content_type(call.parts) {
        return Reply::service(400, 2, "Content-Type: must be application/json");
    }
    let Some(json_body) = call.json_body else {
        let reason = match call.body {
            None => "body: too large or unreadable; send at most 1 MiB",
            Some(bytes) if bytes.is_empty() => "body: is required here; send a JSON object",
            Some(_) => "body: is not valid JSON",
        };
        return Reply::service(400, 2, reason);
    };
    if state.config.strict_fields
        && let Err(refusal) = validate::documented_fields_only(*endpoint, json_body)
    {
        return Reply::refusal(refusal);
    }
    match endpoint {
        Endpoint::Acquire => state.acquire(json_body),
        Endpoint::Start => {
            let (reply, new_sid) = state.start(resource_id, &mode, json_body);
            if let (Some(new_sid), Some(length)) = (new_sid, recovery_for_new_task) {
                state.start_recovery_window(&TaskSelector::Sid(new_sid), length);
            }
            reply
        }
        Endpoint::Update => state.update(resource_id, sid, &mode, json_body),
        Endpoint::UpdateLayout => state.update_layout(resource_id, sid, &mode, json_body),
        Endpoint::Stop => state.stop(resource_id, sid, &mode, json_body),
        Endpoint::Query => state.query(resource_id, sid, &mode),
        Endpoint::NcsIp => State::ncs_ip(),
    }
}

// ----- admin API ----------------------------------------------------------------------

fn admin_error(status: u16, message: &str) -> Response<Full<Bytes>> {
    json_response(status, &json!({ "message": message }))
}

/// The most entries one page of the request log holds.
const MAX_PAGE: usize = 1000;
/// The entries a page holds when `limit` is not given.
const DEFAULT_PAGE: usize = 100;

/// `after` and `limit` of a paginated log read, or the message naming the bad one.
fn page_params(query: &str) -> Result<(u64, usize), String> {
    let mut after = 0;
    let mut limit = DEFAULT_PAGE;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "after" => {
                after = value.parse().map_err(|_| {
                    format!("after: must be a sequence number (an integer >= 0), got {value:?}")
                })?;
            }
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|limit| (1..=MAX_PAGE).contains(limit))
                    .ok_or_else(|| {
                        format!("limit: must be an integer in 1..={MAX_PAGE}, got {value:?}")
                    })?;
            }
            other => {
                return Err(format!(
                    "{other}: unknown parameter; the request log takes after and limit"
                ));
            }
        }
    }
    Ok((after, limit))
}

fn admin(
    shared: &Shared,
    method: &Method,
    rest: &str,
    query: Option<&str>,
    body: Option<Bytes>,
) -> Response<Full<Bytes>> {
    let body_json =
        || -> Option<Value> { serde_json::from_slice(body.as_deref().unwrap_or_default()).ok() };
    let bad_json = || admin_error(400, "body is not valid JSON: see docs/emulator.md");
    match (method.as_str(), rest) {
        ("GET", "tasks") => json_response(200, &json!(shared.lock().tasks())),
        ("GET", "requests") => match query.map(page_params) {
            None => json_response(200, &json!(shared.lock().request_log())),
            Some(Ok((after, limit))) => {
                json_response(200, &json!(shared.lock().request_log_page(after, limit)))
            }
            Some(Err(message)) => admin_error(400, &message),
        },
        ("GET", "ncs") => json_response(200, &json!(shared.ncs.stats())),
        ("GET", "connections") => json_response(200, &json!(shared.connection_stats())),
        ("GET", "requests/stats") => json_response(200, &json!(shared.lock().request_log_stats())),
        ("GET", "faults") => json_response(200, &json!(shared.lock().faults())),
        ("POST", "faults") => {
            let text = String::from_utf8_lossy(body.as_deref().unwrap_or_default()).into_owned();
            match FaultRule::list_from_json(&text) {
                Ok(rules) => {
                    let count = rules.len();
                    let mut state = shared.lock();
                    for rule in rules {
                        state.inject(rule);
                    }
                    json_response(200, &json!({ "added": count }))
                }
                Err(error) => admin_error(400, &error_text(&error)),
            }
        }
        ("DELETE", "faults") => {
            shared.lock().clear_faults();
            json_response(200, &json!({ "cleared": true }))
        }
        ("POST", "reset") => {
            shared.lock().reset();
            json_response(200, &json!({ "reset": true }))
        }
        ("POST", "channel-users") => {
            let Some(value) = body_json() else {
                return bad_json();
            };
            let cname = value.get("cname").and_then(Value::as_str);
            let users = value
                .get("users")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok());
            match (cname, users) {
                (Some(cname), Some(users)) => {
                    shared.lock().set_channel_users(cname, users);
                    json_response(200, &json!({ "cname": cname, "users": users }))
                }
                _ => admin_error(400, "expected {\"cname\": string, \"users\": integer >= 0}"),
            }
        }
        ("POST", "recovery") => {
            let Some(value) = body_json() else {
                return bad_json();
            };
            let seconds = value
                .get("seconds")
                .and_then(Value::as_f64)
                .and_then(|s| Duration::try_from_secs_f64(s).ok());
            let selector = match (
                value.get("sid").and_then(Value::as_str),
                value.get("cname").and_then(Value::as_str),
            ) {
                (Some(sid), _) => TaskSelector::Sid(sid.to_owned()),
                (None, Some(cname)) => TaskSelector::Cname(cname.to_owned()),
                (None, None) => TaskSelector::All,
            };
            match seconds {
                Some(length) => {
                    let sids = shared.lock().start_recovery_window(&selector, length);
                    json_response(200, &json!({ "sids": sids }))
                }
                None => admin_error(
                    400,
                    "expected {\"seconds\": number >= 0} with an optional \"sid\" or \"cname\"",
                ),
            }
        }
        _ => admin_error(404, "no such emulator admin route: see docs/emulator.md"),
    }
}

fn error_text(error: &crate::EmulatorError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_the_right_method_and_shape() {
        let query = "/v1/apps/app/cloud_recording/resourceid/r/sid/s/mode/mix/query";
        assert!(matches!(
            route(&Method::GET, query),
            Route::Api {
                endpoint: Endpoint::Query,
                ..
            }
        ));
        assert_eq!(route(&Method::POST, query), Route::Unknown);
        assert_eq!(
            route(&Method::POST, "/v1/apps/app/cloud_recording/acquire/"),
            Route::Unknown
        );
        assert_eq!(route(&Method::GET, "/v1/ncs/ip"), Route::NcsIp);
    }
}
