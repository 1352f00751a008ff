//! The HTTP API: routes, their handlers, and the layers every answer goes
//! through (token, body limit, problem details, counting).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use cloudrec_client::store::ListQuery;
use cloudrec_events::{AmqpSink, Health};
use cloudrec_types::Secret;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::create::CreateRecording;
use crate::metrics::Metrics;
use crate::ncs::Ncs;
use crate::problem::{PROBLEM_JSON, Problem};
use crate::recording::{Recording, RecordingPage, STATES};
use crate::sessions::Sessions;
use crate::status_page;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The most recordings one page lists.
pub const MAX_PAGE: u32 = 1000;

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct Api {
    /// The recordings.
    pub sessions: Arc<Sessions>,
    /// The metrics.
    pub metrics: Metrics,
    /// The broker the events go to, if any (for `/readyz`).
    pub broker: Option<AmqpSink>,
    /// The NCS receiver of `POST /v1/ncs`; `None` when no NCS secret is
    /// configured (the route answers 404).
    pub ncs: Option<Arc<Ncs>>,
}

/// The OpenAPI document of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "cloudrec",
        description = "Start, watch and stop Agora Cloud Recording sessions; cloudrec keeps them healthy and never loses one."
    ),
    paths(
        create_recording,
        get_recording,
        list_recordings,
        update_recording,
        update_layout,
        stop_recording,
        ncs_notification,
        healthz,
        readyz,
        metrics_text
    ),
    components(schemas(
        Recording,
        RecordingPage,
        CreateRecording,
        Problem,
        UpdateBody,
        Readiness
    ))
)]
pub struct ApiDoc;

/// The body of update and update-layout.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBody {
    /// The `clientRequest` of update or updateLayout, as the REST API takes it.
    #[schema(value_type = Object)]
    pub client_request: serde_json::Value,
}

/// What `/readyz` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `not ready`.
    pub status: String,
    /// Each part checked (`store`, `broker`) and how it is.
    pub checks: HashMap<String, String>,
}

/// The router of the whole API over `api`, with `token` required when given.
pub fn router(api: Api, token: Option<Secret>) -> Router {
    let metrics = api.metrics.clone();
    Router::new()
        .route(
            "/v1/recordings",
            post(create_recording).get(list_recordings),
        )
        .route("/v1/recordings/{id}", get(get_recording))
        .route("/v1/recordings/{id}/update", post(update_recording))
        .route("/v1/recordings/{id}/update-layout", post(update_layout))
        .route("/v1/recordings/{id}/stop", post(stop_recording))
        .route("/v1/ncs", post(ncs_notification))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi))
        .route("/", get(status))
        .fallback(|| async { Problem::for_status(StatusCode::NOT_FOUND) })
        .with_state(api)
        .layer(middleware::from_fn_with_state(
            token,
            crate::auth::require_token,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(metrics, problems))
}

/// Gives every error answer a problem body (the router's bare 405 and 413
/// too, keeping their headers) and counts every answer by route.
async fn problems(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    metrics.answered(&format!("{method} {route}"), status.as_u16());
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes() == PROBLEM_JSON.as_bytes());
    if status.as_u16() < 400 || is_problem {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let problem = Problem::for_status(status);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(error) => {
            Problem::internal(format!("the answer cannot be encoded: {error}")).into_response()
        }
    }
}

fn recording_id(id: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(id)
        .map_err(|_| Problem::not_found(format!("no recording has the id {id:?}: ids are UUIDs")))
}

/// Creates a recording: checks the whole request, stores it, starts it.
#[utoipa::path(
    post,
    path = "/v1/recordings",
    request_body = CreateRecording,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to repeat: the same key with the same body answers the same recording")),
    responses(
        (status = 201, description = "Created and starting", body = Recording),
        (status = 200, description = "A repeat of an earlier request with the same Idempotency-Key and body", body = Recording),
        (status = 400, description = "The request breaks a rule; `field` names it; nothing was sent", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The session store is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_recording(State(api): State<Api>, headers: HeaderMap, body: Bytes) -> Response {
    let key = match headers.get("idempotency-key").map(HeaderValue::to_str) {
        None => None,
        Some(Ok(key)) => Some(key.to_owned()),
        Some(Err(_)) => {
            return Problem::invalid(
                "Idempotency-Key",
                "the Idempotency-Key header must be visible ASCII",
            )
            .into_response();
        }
    };
    match api.sessions.create(&body, key.as_deref()).await {
        Ok((recording, created)) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let mut response = json(status, &recording);
            if let Ok(location) = HeaderValue::from_str(&format!("/v1/recordings/{}", recording.id))
            {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(problem) => problem.into_response(),
    }
}

/// One recording.
#[utoipa::path(
    get,
    path = "/v1/recordings/{id}",
    params(("id" = String, Path, description = "The recording's id")),
    responses(
        (status = 200, body = Recording),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_recording(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let recording = api.sessions.get(recording_id(&id)?).await?;
    Ok(json(StatusCode::OK, &recording))
}

/// A page of recordings, oldest first.
#[utoipa::path(
    get,
    path = "/v1/recordings",
    params(
        ("state" = Option<String>, Query, description = "Only recordings in this state"),
        ("appId" = Option<String>, Query, description = "Only recordings of this App ID"),
        ("limit" = Option<u32>, Query, description = "At most this many (1 to 1000, default 100)"),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page"),
    ),
    responses(
        (status = 200, body = RecordingPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_recordings(
    State(api): State<Api>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let query = list_query(&params)?;
    let recordings = api.sessions.list(&query).await?;
    let next = (recordings.len() == query.limit as usize)
        .then(|| recordings.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(json(StatusCode::OK, &RecordingPage { recordings, next }))
}

fn list_query(params: &HashMap<String, String>) -> Result<ListQuery, Problem> {
    let mut query = ListQuery::default();
    for (name, value) in params {
        match name.as_str() {
            "state" => {
                if !STATES.contains(&value.as_str()) {
                    return Err(Problem::invalid(
                        "state",
                        format!("must be one of {}", STATES.join(", ")),
                    ));
                }
                query.state = Some(value.clone());
            }
            "appId" => query.app_id = Some(value.clone()),
            "limit" => {
                query.limit = value
                    .parse::<u32>()
                    .ok()
                    .filter(|limit| (1..=MAX_PAGE).contains(limit))
                    .ok_or_else(|| {
                        Problem::invalid("limit", format!("must be a number from 1 to {MAX_PAGE}"))
                    })?;
            }
            "after" => {
                query.after = Some(Uuid::parse_str(value).map_err(|_| {
                    Problem::invalid("after", "must be the `next` cursor of a previous page")
                })?);
            }
            other => {
                return Err(Problem::invalid(
                    other,
                    "unknown parameter: the list takes state, appId, limit and after",
                ));
            }
        }
    }
    Ok(query)
}

/// Sends an update (subscriptions, web page, RTMP, storage credentials) to
/// the running task; answers once the service accepted it. Any worker of a
/// fleet takes it: the recording's owner sends it.
#[utoipa::path(
    post,
    path = "/v1/recordings/{id}/update",
    request_body = UpdateBody,
    params(("id" = String, Path, description = "The recording's id")),
    responses(
        (status = 202, body = Recording),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The task does not run, or the recording ended", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The recording service refused the update", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "In a fleet, the recording's owner did not apply it within 10 s; it stays queued", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_recording(
    State(api): State<Api>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let recording = api.sessions.update(recording_id(&id)?, &body).await?;
    Ok(json(StatusCode::ACCEPTED, &recording))
}

/// Replaces the mix layout of the running task.
#[utoipa::path(
    post,
    path = "/v1/recordings/{id}/update-layout",
    request_body = UpdateBody,
    params(("id" = String, Path, description = "The recording's id")),
    responses(
        (status = 202, body = Recording),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a mix recording, the task does not run, or the recording ended", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The recording service refused the layout", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "In a fleet, the recording's owner did not apply it within 10 s; it stays queued", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_layout(
    State(api): State<Api>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let recording = api
        .sessions
        .update_layout(recording_id(&id)?, &body)
        .await?;
    Ok(json(StatusCode::ACCEPTED, &recording))
}

/// Stops the recording (idempotent): its state moves to `stopping`, then to
/// how it ended. Any worker of a fleet takes it: the recording's owner
/// applies it.
#[utoipa::path(
    post,
    path = "/v1/recordings/{id}/stop",
    params(("id" = String, Path, description = "The recording's id")),
    responses(
        (status = 202, body = Recording),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn stop_recording(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let recording = api.sessions.stop(recording_id(&id)?).await?;
    Ok(json(StatusCode::ACCEPTED, &recording))
}

/// Receives a notification of Agora's Notification Center Service: signed
/// with the NCS secret (`Agora-Signature-V2` or `Agora-Signature`), answered
/// at once, deduplicated, published as `io.cloudrec.ncs.<msgName>`, and handed
/// to the session of its task, which queries or stops it. Needs no bearer
/// token. See docs/ncs.md.
#[utoipa::path(
    post,
    path = "/v1/ncs",
    request_body(content = Object, description = "The notification as NCS sends it (noticeId, eventType, payload)"),
    responses(
        (status = 200, description = "Taken (or a repeat of one taken): do not send it again"),
        (status = 400, description = "Signed, but not a notification", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The signature is missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "NCS is not enabled on this service (no NCS secret)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many notifications wait: send it again (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn ncs_notification(State(api): State<Api>, headers: HeaderMap, body: Bytes) -> Response {
    match &api.ncs {
        Some(ncs) => ncs.receive(&headers, &body),
        None => Problem::not_found(
            "NCS notifications are not enabled on this service: start it with --ncs-secret (or CLOUDREC_NCS_SECRET), or give an App ID ncs_secret_env in --config",
        )
        .into_response(),
    }
}

/// Whether the process runs (no dependency is checked).
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "The process runs")))]
async fn healthz() -> Response {
    json(StatusCode::OK, &serde_json::json!({"status": "ok"}))
}

/// Whether the service can take recordings: the store answers and, when
/// events are published, the broker is connected.
#[utoipa::path(
    get,
    path = "/readyz",
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "Not ready; `checks` names what is not", body = Readiness),
    )
)]
async fn readyz(State(api): State<Api>) -> Response {
    let mut checks = HashMap::new();
    let mut ready = true;
    match api.sessions.store().ping().await {
        Ok(()) => {
            checks.insert("store".to_owned(), "ok".to_owned());
        }
        Err(error) => {
            ready = false;
            checks.insert("store".to_owned(), error.to_string());
        }
    }
    if let Some(budget) = api.sessions.budget() {
        // A worker on its local share still records: degraded, not unready.
        checks.insert("budget".to_owned(), budget);
    }
    if let Some(broker) = &api.broker {
        let health = broker.health();
        let state = match health {
            Health::Connected => "ok".to_owned(),
            other => format!("{other:?}").to_lowercase(),
        };
        ready &= health == Health::Connected;
        checks.insert("broker".to_owned(), state);
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json(
        status,
        &Readiness {
            status: if ready { "ready" } else { "not ready" }.to_owned(),
            checks,
        },
    )
}

/// The Prometheus text exposition of the service's metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
async fn metrics_text(State(api): State<Api>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        api.metrics.encode(),
    )
        .into_response()
}

async fn openapi() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            text,
        )
            .into_response(),
        Err(error) => Problem::internal(format!("the OpenAPI document cannot be encoded: {error}"))
            .into_response(),
    }
}

async fn status(State(api): State<Api>) -> Response {
    let query = ListQuery {
        limit: MAX_PAGE,
        ..ListQuery::default()
    };
    match api.sessions.list(&query).await {
        Ok(recordings) => Html(status_page::render(
            api.sessions.worker(),
            api.sessions.live_count(),
            &recordings,
        ))
        .into_response(),
        Err(problem) => problem.into_response(),
    }
}
