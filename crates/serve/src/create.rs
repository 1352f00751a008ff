//! The body of `POST /v1/recordings`, checked whole before anything is stored
//! or sent: the session it describes, and the same request without secrets.

use cloudrec_client::SessionSpec;
use cloudrec_types::{
    AcquireClientRequest, AcquireRequest, Cname, Mode, StartClientRequest, StartRequest, Uid,
    Validate, redact,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::problem::Problem;

/// What a caller sends to create a recording.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRecording {
    /// The App ID to record on; absent: the service's only (or first) App ID.
    #[serde(default)]
    pub app_id: Option<String>,
    /// `individual`, `mix` or `web`.
    pub mode: String,
    /// The channel to record (for web mode, a label of the task).
    pub cname: String,
    /// The recorder bot's uid: a number no user of the channel has, as a number
    /// or a string of digits.
    #[schema(value_type = String, example = "527841")]
    pub uid: serde_json::Value,
    /// The start `clientRequest` (recordingConfig, recordingFileConfig,
    /// storageConfig, ...), as the REST API takes it.
    #[schema(value_type = Object)]
    pub client_request: serde_json::Value,
    /// The acquire `clientRequest` (scene, region, resourceExpiredHour), if any.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub acquire: Option<serde_json::Value>,
}

/// A checked creation request.
#[derive(Clone, Debug)]
pub(crate) struct Checked {
    /// The App ID named, if any.
    pub(crate) app_id: Option<String>,
    /// The session to run.
    pub(crate) spec: SessionSpec,
    /// The request with every credential masked, to store and echo.
    pub(crate) shown: serde_json::Value,
    /// The start `clientRequest` as JSON, to seal.
    pub(crate) start_json: Vec<u8>,
}

/// A SHA-256 of a request body, hex, to tell a repeat of an idempotent request
/// from a different one.
pub fn request_hash(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Parses `body` and checks it as the service would; the error names the field.
pub(crate) fn check(body: &[u8]) -> Result<Checked, Problem> {
    let request: CreateRecording = serde_json::from_slice(body).map_err(|error| {
        let kind = if error.is_syntax() || error.is_eof() {
            "the body is not valid JSON"
        } else {
            "the body does not fit the request's schema"
        };
        Problem::invalid(
            "",
            format!(
                "{kind}: {} at line {} column {}",
                redact::serde_message(&error),
                error.line(),
                error.column()
            ),
        )
    })?;
    let mode = match request.mode.as_str() {
        "individual" | "mix" | "web" => Mode::parse(&request.mode),
        _ => {
            return Err(Problem::invalid(
                "mode",
                "must be one of individual, mix, web",
            ));
        }
    };
    let cname = Cname::new(request.cname.as_str())
        .map_err(|error| Problem::invalid("cname", error.to_string()))?;
    let uid = parse_uid(&request.uid)?;
    let start: StartClientRequest = member(&request.client_request, "clientRequest")?;
    let acquire: AcquireClientRequest = match &request.acquire {
        Some(value) => member(value, "acquire")?,
        None if mode == Mode::Web => AcquireClientRequest::web(),
        None => AcquireClientRequest::default(),
    };
    AcquireRequest::new(cname.clone(), uid)
        .with_client_request(acquire.clone())
        .validate(&mode)
        .map_err(|error| {
            let field = error
                .field()
                .replacen("clientRequest", "acquire", 1)
                .to_string();
            Problem::invalid(
                field,
                error.to_string().replacen("clientRequest", "acquire", 1),
            )
        })?;
    StartRequest::new(cname.clone(), uid, start.clone())
        .validate(&mode)
        .map_err(|error| Problem::invalid(error.field(), error.to_string()))?;
    let start_json = serde_json::to_vec(&start)
        .map_err(|error| Problem::internal(format!("the start body cannot be encoded: {error}")))?;
    let mut shown = serde_json::json!({
        "clientRequest": request.client_request,
        "acquire": request.acquire,
    });
    redact::json(&mut shown);
    Ok(Checked {
        app_id: request.app_id,
        spec: SessionSpec::new(mode, cname, uid, start).with_acquire(acquire),
        shown,
        start_json,
    })
}

fn parse_uid(value: &serde_json::Value) -> Result<Uid, Problem> {
    let number = match value {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => text.parse::<u64>().ok(),
        _ => None,
    };
    let number = number
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| Problem::invalid("uid", "must be a number from 1 to 4294967295"))?;
    Uid::new(number).map_err(|error| Problem::invalid("uid", error.to_string()))
}

fn member<T: DeserializeOwned>(value: &serde_json::Value, field: &str) -> Result<T, Problem> {
    serde_json::from_value(value.clone()).map_err(|error| {
        Problem::invalid(
            field,
            format!(
                "{field} does not fit the REST API's schema: {}",
                redact::serde_message(&error)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(mut client_request: serde_json::Value) -> Vec<u8> {
        if let Some(members) = client_request.as_object_mut() {
            members.insert(
                "recordingConfig".into(),
                serde_json::json!({"channelType": 0}),
            );
        }
        serde_json::to_vec(&serde_json::json!({
            "mode": "mix", "cname": "room-1", "uid": "527841", "clientRequest": client_request,
        }))
        .unwrap()
    }

    fn storage() -> serde_json::Value {
        serde_json::json!({"vendor": 1, "region": 0, "bucket": "b",
                           "accessKey": "AK-SECRET", "secretKey": "SK-SECRET"})
    }

    #[test]
    fn a_good_request_gives_its_session_and_a_copy_without_keys() {
        let checked = check(&body(serde_json::json!({"storageConfig": storage()}))).unwrap();
        assert_eq!(checked.spec.cname.as_str(), "room-1");
        assert_eq!(checked.spec.uid.get(), 527_841);
        let shown = checked.shown.to_string();
        assert!(
            !shown.contains("AK-SECRET") && !shown.contains("SK-SECRET"),
            "{shown}"
        );
        assert!(shown.contains("\"bucket\":\"b\""));
    }

    #[test]
    fn every_bad_part_is_named_by_its_field() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"{".to_vec(), ""),
            (b"{\"mode\": \"mix\"}".to_vec(), ""),
            (
                serde_json::to_vec(&serde_json::json!({"mode": "audio", "cname": "c", "uid": 1, "clientRequest": {}})).unwrap(),
                "mode",
            ),
            (
                serde_json::to_vec(&serde_json::json!({"mode": "mix", "cname": "c", "uid": "x", "clientRequest": {}})).unwrap(),
                "uid",
            ),
            (
                serde_json::to_vec(&serde_json::json!({"mode": "mix", "cname": "", "uid": 1, "clientRequest": {}})).unwrap(),
                "cname",
            ),
            (
                body(serde_json::json!({"storageConfig": {"vendor": 1, "region": 0, "bucket": "", "accessKey": "a", "secretKey": "s"}})),
                "clientRequest.storageConfig.bucket",
            ),
            (body(serde_json::json!({"storageConfig": 5})), "clientRequest"),
        ];
        for (body, field) in cases {
            let problem = check(&body).expect_err("refused");
            assert_eq!(problem.status, 400);
            assert_eq!(problem.field.as_deref(), Some(field), "{problem:?}");
            assert!(problem.detail.is_some());
        }
    }

    #[test]
    fn a_refused_body_never_quotes_a_secret() {
        let body = body(
            serde_json::json!({"storageConfig": {"vendor": 1, "region": 0, "bucket": "b",
            "accessKey": 5, "secretKey": "SK-SECRET"}}),
        );
        let problem = check(&body).expect_err("refused");
        assert!(!format!("{problem:?}").contains("SK-SECRET"));
    }
}
