//! The HTTP answer a handler hands back to the server.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::validate::Refusal;

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

    pub(super) fn ok_encoded(bytes: Bytes) -> Self {
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

    pub(crate) fn refusal(refusal: Refusal) -> Self {
        match refusal {
            Refusal::InvalidParam(reason) => Self::service(400, 2, &reason),
            Refusal::InvalidChannelName => Self::service(400, 401, "invalid_channel_name"),
        }
    }

    pub(super) fn task_not_found() -> Self {
        Self::service(404, 404, "failed to find worker")
    }
}
