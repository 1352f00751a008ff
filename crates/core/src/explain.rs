//! Explanations of answers in plain words, generated from the status table.

use std::fmt;

use bytes::Bytes;
use cloudrec_types::Endpoint;
use serde::Serialize;

use crate::classify::read_answer;
use crate::{FailureKind, HttpResponse, Outcome, Resolution, RowSource, classify_reply};

/// What an answer means and what to do about it, for people (`Display`) and for
/// tools (`Serialize`, with the resolution in the status table's vocabulary).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Explanation {
    /// The operation that was answered; `None` when it was not given and the
    /// answer means the same to every endpoint in `endpoints`.
    pub endpoint: Option<Endpoint>,
    /// Every endpoint this explanation holds for (the given one, or all that
    /// can get this answer).
    pub endpoints: Vec<Endpoint>,
    /// The HTTP status, when given or when the table knows only one for the
    /// body's code or message.
    pub status: Option<u16>,
    /// The service code, when the body had one.
    pub code: Option<i64>,
    /// The reason or message in the body.
    pub text: Option<String>,
    /// Which form the answer took; `None` for a success.
    pub form: Option<FailureKind>,
    /// What to do, in the table's vocabulary; `None` for a success.
    pub resolution: Option<Resolution>,
    /// Whether sending the same request again can succeed.
    pub retryable: bool,
    /// What happened, in plain words.
    pub what_happened: String,
    /// What to do, in plain words.
    pub what_to_do: String,
    /// The table row that matched, if one did.
    pub row: Option<MatchedRow>,
}

/// The status table row an explanation comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatchedRow {
    /// The row's endpoint, `*` for every endpoint.
    pub endpoint: String,
    /// The row's HTTP status, `-` where the documentation gives none.
    pub http_status: String,
    /// The row's code, `-` for gateway answers.
    pub code: String,
    /// Where the row comes from.
    pub source: RowSource,
}

/// Explains the answer `status` / `body` to a call of `endpoint`.
///
/// HTTP 200 is explained as a success when its body decodes as the endpoint's
/// response; anything else goes through the same classification as
/// [`classify_failure`](crate::classify_failure).
pub fn explain(endpoint: Endpoint, status: u16, body: &[u8]) -> Explanation {
    let response = HttpResponse {
        status,
        retry_after: None,
        request_id: None,
        body: Bytes::copy_from_slice(body),
    };
    if let Outcome::Success(_) = classify_reply(endpoint, &response) {
        return Explanation {
            endpoint: Some(endpoint),
            endpoints: vec![endpoint],
            status: Some(status),
            code: None,
            text: None,
            form: None,
            resolution: None,
            retryable: false,
            what_happened: format!("{endpoint} succeeded"),
            what_to_do: "nothing: use the response".to_owned(),
            row: None,
        };
    }
    let (failure, rule) = read_answer(endpoint, &response);
    let resolution = failure.resolution();
    let what_happened = match (rule, failure.kind(), failure.code()) {
        (Some(rule), _, _) => rule.meaning().to_owned(),
        (None, FailureKind::UnreadableSuccess, _) => format!(
            "{endpoint} answered http 200 but the body is not the documented response: \
             the call probably took effect and its result is unknown"
        ),
        (None, FailureKind::UnreadableError, None) => format!(
            "{endpoint} answered http {status} with a body that is neither error form \
             (maybe a proxy's page)"
        ),
        (None, _, Some(code)) => format!(
            "{endpoint} answered http {status} with code {code}, which the status table \
             does not list; classified by the http status"
        ),
        (None, _, None) => format!(
            "{endpoint} answered http {status} with a message the status table does not \
             list; classified by the http status"
        ),
    };
    let mut what_to_do = resolution.advice().to_owned();
    if resolution == Resolution::FixRequest && failure.code() == Some(2) {
        what_to_do.push_str(" (the reason names the invalid field)");
    }
    if resolution == Resolution::TreatAsGone && endpoint.targets_task() {
        what_to_do.push_str(
            " ; cloudrec treats it as recovering until 90 s have passed since the task's last good answer",
        );
    }
    Explanation {
        endpoint: Some(endpoint),
        endpoints: vec![endpoint],
        status: Some(status),
        code: failure.code(),
        text: failure.text().map(str::to_owned),
        form: Some(failure.kind()),
        resolution: Some(resolution),
        retryable: resolution.is_retryable(),
        what_happened,
        what_to_do,
        row: rule.map(|rule| MatchedRow {
            endpoint: rule
                .endpoint()
                .map_or_else(|| "*".to_owned(), |e| e.as_str().to_owned()),
            http_status: rule
                .http_status()
                .map_or_else(|| "-".to_owned(), |s| s.to_string()),
            code: rule
                .code()
                .map_or_else(|| "-".to_owned(), |c| c.to_string()),
            source: rule.source(),
        }),
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.endpoint {
            Some(endpoint) => write!(f, "{endpoint}")?,
            None => write!(f, "{}", one_of(&self.endpoints))?,
        }
        f.write_str(" answered")?;
        if let Some(status) = self.status {
            write!(f, " http {status}")?;
        }
        if let Some(code) = self.code {
            write!(f, " code {code}")?;
        }
        if let Some(text) = &self.text {
            write!(f, " ({text:?})")?;
        }
        writeln!(f)?;
        writeln!(f, "what happened: {}", self.what_happened)?;
        writeln!(f, "what to do:    {}", self.what_to_do)?;
        match self.resolution {
            Some(resolution) => {
                let retry = if self.retryable {
                    "retryable"
                } else {
                    "not retryable"
                };
                write!(f, "resolution:    {resolution} ({retry})")
            }
            None => write!(f, "resolution:    none (success)"),
        }
    }
}

/// "acquire", "start or stop", "query, update or stop"; "any endpoint" for all.
pub(crate) fn one_of(endpoints: &[Endpoint]) -> String {
    if endpoints.len() == Endpoint::ALL.len() {
        return "any endpoint".to_owned();
    }
    let names: Vec<&str> = endpoints.iter().map(|e| e.as_str()).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "no endpoint".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_a_table_row_with_its_meaning() {
        let explanation = explain(
            Endpoint::Stop,
            206,
            br#"{"code":435,"reason":"no recorded data"}"#,
        );
        assert_eq!(explanation.resolution, Some(Resolution::SuccessNoData));
        assert!(!explanation.retryable);
        assert!(explanation.what_happened.contains("nobody published"));
        let row = explanation.row.as_ref().unwrap();
        assert_eq!((row.endpoint.as_str(), row.code.as_str()), ("stop", "435"));
        let json = serde_json::to_value(&explanation).unwrap();
        assert_eq!(json["resolution"], "success_no_data");
        assert_eq!(json["endpoint"], "stop");
        assert_eq!(json["status"], 206);
        assert_eq!(json["endpoints"], serde_json::json!(["stop"]));
        assert_eq!(json["code"], 435);
        assert_eq!(json["retryable"], false);
        assert!(explanation.to_string().contains("success_no_data"));
    }

    #[test]
    fn explains_unknown_and_unreadable_answers() {
        let unknown = explain(Endpoint::Query, 503, br#"{"code":9999,"reason":"new"}"#);
        assert_eq!(unknown.resolution, Some(Resolution::RetryBackoff));
        assert!(unknown.retryable);
        assert!(unknown.row.is_none());
        assert!(unknown.what_happened.contains("9999"));
        let html = explain(Endpoint::Query, 502, b"<html>");
        assert_eq!(html.form, Some(FailureKind::UnreadableError));
        let ok = explain(Endpoint::Acquire, 200, br#"{"resourceId":"x"}"#);
        assert_eq!(ok.resolution, None);
        let not_a_start = explain(Endpoint::Start, 200, br#"{"resourceId":"x"}"#);
        assert_eq!(not_a_start.form, Some(FailureKind::UnreadableSuccess));
    }
}
