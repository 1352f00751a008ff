//! Errors as RFC 9457 problem details (`application/problem+json`), naming the
//! field and the rule when the input was wrong.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One error answer of the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, `urn:cloudrec:problem:<kind>`; docs/api.md lists them.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong in this request and how to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For invalid input: the path of the field that broke a rule (`clientRequest.storageConfig.bucket`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Problem {
    /// A problem of kind `kind` (a short slug, made into a URI) with `status`.
    pub fn new(status: StatusCode, kind: &str, title: &str) -> Self {
        Self {
            kind: format!("urn:cloudrec:problem:{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            field: None,
        }
    }

    /// The same with a detail sentence.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The same naming the field at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 400: the request breaks a rule; nothing was sent to the service.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "Invalid request",
        )
        .field(field)
        .detail(detail)
    }

    /// 404: no such recording (or path).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found").detail(detail)
    }

    /// 409: the request conflicts with the recording's state or an earlier request.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict").detail(detail)
    }

    /// 503: a part the service needs is not available.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
        )
        .detail(detail)
    }

    /// 502: the recording service refused or failed the call.
    pub fn upstream(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "upstream-failed",
            "The recording service failed the call",
        )
        .detail(detail)
    }

    /// 504: the worker that owns the recording has not applied the command
    /// in time; it stays queued.
    pub fn not_applied(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "not-applied",
            "The owner has not applied the command yet",
        )
        .detail(detail)
    }

    /// 500: something failed inside this service.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
        )
        .detail(detail)
    }

    /// The problem for a bare status from the router (404, 405, 413, ...).
    pub fn for_status(status: StatusCode) -> Self {
        let (kind, detail) = match status {
            StatusCode::NOT_FOUND => ("not-found", "no route has this path: see GET /openapi.json"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method-not-allowed",
                "this path does not take this method: the Allow header lists those it takes",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "body-too-large",
                "the body is over 1 MiB: send a smaller request",
            ),
            StatusCode::UNAUTHORIZED => (
                "unauthorized",
                "send Authorization: Bearer with the service's API token",
            ),
            _ => ("about", ""),
        };
        let title = status.canonical_reason().unwrap_or("Error");
        let problem = Self::new(status, kind, title);
        if detail.is_empty() {
            problem
        } else {
            problem.detail(detail)
        }
    }

    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}
