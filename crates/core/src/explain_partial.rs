//! Explaining an answer when its endpoint or HTTP status is not known: what the
//! body alone (or with one of them) is enough to tell.

use std::fmt;

use cloudrec_types::Endpoint;

use crate::explain::one_of;
use crate::{Explanation, Resolution, StatusTable, explain};

/// The status an answer is explained with when the table row that matches its
/// code names none: a row without a status matches any.
const STAND_IN_STATUS: u16 = 400;

/// An endpoint and the status it would answer with (`None`: the row names none).
type Candidate = (Endpoint, Option<u16>);

/// An answer that means different things depending on what was not given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ambiguity {
    /// Each distinct meaning, with the endpoints and statuses that lead to it.
    pub readings: Vec<Reading>,
    /// The flags that would tell the readings apart (`--endpoint`, `--status`).
    pub add: Vec<&'static str>,
}

/// One meaning of an ambiguous answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    /// The endpoints it holds for.
    pub endpoints: Vec<Endpoint>,
    /// The HTTP statuses it holds for (empty: any).
    pub statuses: Vec<u16>,
    /// What to do.
    pub resolution: Resolution,
    /// What happened, in plain words.
    pub what_happened: String,
}

impl fmt::Display for Ambiguity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.readings.is_empty() {
            return write!(
                f,
                "no row of the status table has this body's code or message, so its meaning depends on the HTTP status: add {}",
                self.add.join(" and ")
            );
        }
        f.write_str("this answer could mean: ")?;
        for (n, reading) in self.readings.iter().enumerate() {
            if n > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}", one_of(&reading.endpoints))?;
            if !reading.statuses.is_empty() {
                let statuses: Vec<String> = reading.statuses.iter().map(u16::to_string).collect();
                write!(f, " (http {})", statuses.join("/"))?;
            }
            write!(f, ": {} ({})", reading.resolution, reading.what_happened)?;
        }
        write!(f, "; add {} to tell them apart", self.add.join(" or "))
    }
}

impl std::error::Error for Ambiguity {}

/// Explains an answer whose endpoint or status may be missing, from what the
/// status table can tell: a gateway answer (401, 429, a routing 404) means the
/// same on every endpoint, and many codes belong to one endpoint and status.
/// When the missing part changes the meaning, says which endpoints and
/// statuses it could be and what to add. With both given it is [`explain`].
pub fn explain_partial(
    endpoint: Option<Endpoint>,
    status: Option<u16>,
    body: &[u8],
) -> Result<Explanation, Ambiguity> {
    if let (Some(endpoint), Some(status)) = (endpoint, status) {
        return Ok(explain(endpoint, status, body));
    }
    let endpoints = endpoint.map_or_else(|| Endpoint::ALL.to_vec(), |e| vec![e]);
    // The endpoints and statuses of the rows this body matches.
    let mut candidates: Vec<Candidate> = Vec::new();
    let (code, message) = body_keys(body);
    for rule in StatusTable::get().rules() {
        let matches = match (rule.code(), code, &message) {
            (Some(row), Some(code), _) => row == code,
            (None, None, Some(message)) => rule.text().eq_ignore_ascii_case(message),
            _ => false,
        };
        for &e in endpoints.iter().filter(|_| matches) {
            let candidate = (e, status.or(rule.http_status()));
            if rule.endpoint().is_none_or(|row| row == e) && !candidates.contains(&candidate) {
                candidates.push(candidate);
            }
        }
    }
    // With the status given, an answer no row lists is classified by it alone.
    if let (Some(status), true) = (status, candidates.is_empty()) {
        candidates.extend(endpoints.iter().map(|&e| (e, Some(status))));
    }
    if candidates.is_empty() {
        let mut add = vec!["--status"];
        if endpoint.is_none() {
            add.push("--endpoint");
        }
        return Err(Ambiguity {
            readings: Vec::new(),
            add,
        });
    }
    // Group the candidates by what they mean.
    let mut groups: Vec<(Explanation, Vec<Candidate>)> = Vec::new();
    for (e, s) in candidates {
        let explained = explain(e, s.unwrap_or(STAND_IN_STATUS), body);
        let same = |known: &Explanation| {
            known.resolution == explained.resolution
                && known.form == explained.form
                && (known.row.is_none() && explained.row.is_none()
                    || known.what_happened == explained.what_happened)
        };
        match groups.iter_mut().find(|(known, _)| same(known)) {
            Some((_, members)) => members.push((e, s)),
            None => groups.push((explained, vec![(e, s)])),
        }
    }
    let endpoints_of = |members: &[Candidate]| {
        let mut list: Vec<Endpoint> = Vec::new();
        for (e, _) in members {
            if !list.contains(e) {
                list.push(*e);
            }
        }
        list
    };
    let statuses_of = |members: &[Candidate]| {
        let mut list: Vec<u16> = members.iter().filter_map(|(_, s)| *s).collect();
        list.sort_unstable();
        list.dedup();
        list
    };
    if let [(explained, members)] = groups.as_slice() {
        let mut explained = explained.clone();
        let list = endpoints_of(members);
        let statuses = statuses_of(members);
        explained.endpoint = match list.as_slice() {
            [only] => Some(*only),
            _ => None,
        };
        explained.status = match (status, statuses.as_slice()) {
            (Some(status), _) => Some(status),
            (None, [only]) if members.iter().all(|(_, s)| s.is_some()) => Some(*only),
            _ => None,
        };
        if explained.endpoint.is_none() && explained.row.is_none() {
            explained.what_happened = format!(
                "an answer the status table does not list; classified by the http status{}",
                status.map_or_else(String::new, |s| format!(" ({s})"))
            );
        }
        explained.endpoints = list;
        return Ok(explained);
    }
    let readings: Vec<Reading> = groups
        .iter()
        .map(|(explained, members)| Reading {
            endpoints: endpoints_of(members),
            statuses: statuses_of(members),
            resolution: explained.resolution.unwrap_or(Resolution::DoNotRepeat),
            what_happened: explained.what_happened.clone(),
        })
        .collect();
    let shared_endpoint = readings.iter().enumerate().any(|(i, a)| {
        readings[i + 1..]
            .iter()
            .any(|b| a.endpoints.iter().any(|e| b.endpoints.contains(e)))
    });
    let mut add = Vec::new();
    if endpoint.is_none() {
        add.push("--endpoint");
    }
    if status.is_none() && (shared_endpoint || endpoint.is_some()) {
        add.push("--status");
    }
    Err(Ambiguity { readings, add })
}

/// The code of a service-form body and the message of a gateway-form one.
fn body_keys(body: &[u8]) -> (Option<i64>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None);
    };
    let code = value.get("code").and_then(|code| {
        code.as_i64()
            .or_else(|| code.as_str().and_then(|text| text.trim().parse().ok()))
    });
    let message = value
        .get("message")
        .and_then(serde_json::Value::as_str)
        .map(|text| text.trim().to_owned());
    (code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_answers_need_no_endpoint() {
        for (status, body, resolution) in [
            (
                401,
                r#"{"message":"Unauthorized"}"#,
                Resolution::FixCredentials,
            ),
            (
                429,
                r#"{"message":"API rate limit exceeded"}"#,
                Resolution::ReduceRate,
            ),
            (
                404,
                r#"{"message":"no Route matched with those values"}"#,
                Resolution::FixRequest,
            ),
        ] {
            for given in [Some(status), None] {
                let explained = explain_partial(None, given, body.as_bytes()).unwrap();
                assert_eq!(explained.resolution, Some(resolution), "{body}");
                assert_eq!(explained.endpoint, None);
                assert_eq!(explained.endpoints, Endpoint::ALL);
                assert_eq!(explained.status, Some(status), "{body}");
                assert!(explained.to_string().starts_with("any endpoint answered"));
            }
        }
    }

    #[test]
    fn a_code_of_one_endpoint_needs_neither() {
        let explained = explain_partial(None, None, br#"{"code":435}"#).unwrap();
        assert_eq!(explained.endpoint, Some(Endpoint::Stop));
        assert_eq!(explained.status, Some(206));
        assert_eq!(explained.resolution, Some(Resolution::SuccessNoData));
        let gone = explain_partial(None, Some(404), br#"{"code":404}"#).unwrap();
        assert_eq!(gone.resolution, Some(Resolution::TreatAsGone));
        assert_eq!(gone.endpoint, None);
        assert!(
            gone.to_string()
                .starts_with("query, update, updateLayout or stop answered http 404")
        );
    }

    #[test]
    fn an_ambiguous_answer_names_its_readings_and_what_to_add() {
        let error = explain_partial(None, None, br#"{"code":65}"#).unwrap_err();
        assert_eq!(error.readings.len(), 2, "{error}");
        assert_eq!(error.readings[0].endpoints, [Endpoint::Start]);
        assert_eq!(error.readings[0].resolution, Resolution::RetryThenReacquire);
        assert_eq!(error.readings[1].resolution, Resolution::RetryBackoff);
        assert_eq!(error.add, ["--endpoint"]);
        assert!(error.to_string().contains("add --endpoint"), "{error}");
        // With the endpoint it is clear.
        let start = explain_partial(Some(Endpoint::Start), None, br#"{"code":65}"#).unwrap();
        assert_eq!(start.status, Some(206));
        // A code the table does not know is classified by status alone.
        let unknown = explain_partial(None, None, br#"{"code":9999}"#).unwrap_err();
        assert!(unknown.readings.is_empty());
        assert!(unknown.to_string().contains("--status"), "{unknown}");
        let by_status = explain_partial(None, Some(503), br#"{"code":9999}"#).unwrap();
        assert_eq!(by_status.resolution, Some(Resolution::RetryBackoff));
        assert!(
            !by_status.what_happened.contains("query"),
            "{}",
            by_status.what_happened
        );
    }
}
