//! The bearer token every route but `/healthz` and `/v1/ncs` (signed by
//! NCS instead) needs when one is configured,
//! compared in constant time.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cloudrec_types::Secret;
use subtle::ConstantTimeEq;

use crate::problem::Problem;

/// Whether `header` carries `Bearer <token>`.
fn carries(header: Option<&str>, token: &Secret) -> bool {
    let Some(given) = header.and_then(|value| value.strip_prefix("Bearer ")) else {
        return false;
    };
    given.as_bytes().ct_eq(token.expose().as_bytes()).into()
}

/// Refuses with 401, saying nothing about the token, a request without it.
pub(crate) async fn require_token(
    State(token): State<Option<Secret>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = token else {
        return next.run(request).await;
    };
    // Agora's NCS cannot send the token: its notifications are authenticated
    // by their HMAC signature instead.
    if matches!(request.uri().path(), "/healthz" | "/v1/ncs") {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if carries(given, &token) {
        return next.run(request).await;
    }
    let mut response = Problem::for_status(axum::http::StatusCode::UNAUTHORIZED).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let token = Secret::new("t0ken");
        assert!(carries(Some("Bearer t0ken"), &token));
        for wrong in [
            "Bearer t0ke",
            "Bearer t0ken2",
            "bearer t0ken",
            "t0ken",
            "Basic t0ken",
            "Bearer ",
        ] {
            assert!(!carries(Some(wrong), &token), "{wrong}");
        }
        assert!(!carries(None, &token));
    }
}
