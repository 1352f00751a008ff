//! Fault rules: which calls they match and what they do to them.

use cloudrec_types::Endpoint;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{EmulatorError, JsonError};

/// A fault to inject: which calls it matches and what it does to them.
///
/// Rules are data: they serialize to JSON, `POST /_emulator/faults` accepts one
/// rule or an array, and a fault file is an array of them. Rules are tried in the
/// order they were added; the first one that fires decides the answer.
///
/// ```json
/// {"endpoint": "query", "sid": "…", "nth": 2, "times": 1,
///  "action": {"kind": "respond", "status": 404, "body": {"code": 404, "reason": "failed to find worker"}}}
/// ```
///
/// A rule with `"ncs": true` or an `event_type` is a notice rule: it matches the
/// NCS notices the emulator sends (by `event_type`, `sid`, `cname`, counted by
/// `nth`, `times` and `probability` alike) instead of requests, and its action
/// is `drop`, `duplicate`, `delay`, `reorder` or `bad_signature`:
///
/// ```json
/// {"event_type": 40, "times": 1, "action": {"kind": "drop"}}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// The endpoint to match; absent matches every endpoint (and `GET /v1/ncs/ip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
    /// Match NCS notices instead of requests (implied by `event_type`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ncs: bool,
    /// Match only NCS notices of this `eventType` (makes the rule a notice rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<i64>,
    /// Match only calls about the task with this sid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Match only calls about this channel (the body's `cname`, or the task's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    /// Fire from the nth matching call on (1-based); earlier calls pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
    /// Fire with this probability (0..=1) on each matching call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// The seed of the random draws for `probability` (default 0), so runs repeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Fire at most this many times; absent means no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// What happens to a matching call.
    pub action: FaultAction,
}

/// What a firing [`FaultRule`] does to the call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer with this HTTP status and JSON body instead of handling the call.
    Respond {
        /// The HTTP status code.
        status: u16,
        /// The JSON body.
        body: serde_json::Value,
        /// A `Retry-After` header to send, in seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
        /// Send `retry_after` as an HTTP date (IMF-fixdate) that many seconds
        /// after the answer instead of as a number.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        retry_after_as_date: bool,
    },
    /// Wait this many real milliseconds, then handle the call normally.
    Delay {
        /// Real milliseconds (not scaled).
        ms: u64,
    },
    /// Never answer; the connection stays open until the client gives up (or the
    /// configured `hang_limit` passes).
    Hang,
    /// Close the connection without answering.
    Close,
    /// Carry out the call (a start starts its task, a stop stops it), then
    /// close the connection without answering: what a client sees when the
    /// service acted and the answer was lost.
    ApplyThenDrop,
    /// Put the call's task into a high-availability recovery window: for this many
    /// seconds of emulator time query, update, updateLayout and stop answer
    /// 404 code 404 while the task keeps recording. On start it applies to the new
    /// task; on acquire it does nothing.
    RecoveryWindow {
        /// Emulator seconds.
        seconds: f64,
    },
    /// Notice rules only: do not send the notice (counted as dropped).
    Drop,
    /// Notice rules only: send the notice twice, the same body and `noticeId`.
    Duplicate,
    /// Notice rules only: hold the notice back and send it right after the next
    /// notice (or after 2 s of real time if no other notice comes).
    Reorder,
    /// Notice rules only: send the notice with both signature headers made with
    /// another secret, so they do not verify.
    BadSignature,
}

impl FaultAction {
    /// Whether the action applies to NCS notices only.
    const fn notice_only(&self) -> bool {
        matches!(
            self,
            Self::Drop | Self::Duplicate | Self::Reorder | Self::BadSignature
        )
    }

    /// Whether the action applies to NCS notices (`delay` applies to both).
    const fn for_notices(&self) -> bool {
        self.notice_only() || matches!(self, Self::Delay { .. })
    }
}

impl FaultRule {
    /// A rule that fires on every call of `endpoint` with the given action.
    pub fn new(endpoint: Option<Endpoint>, action: FaultAction) -> Self {
        Self {
            endpoint,
            ncs: false,
            event_type: None,
            sid: None,
            cname: None,
            nth: None,
            probability: None,
            seed: None,
            times: None,
            action,
        }
    }

    /// A rule that answers every call of `endpoint` (all endpoints for `None`) with
    /// `status` and `body`, such as a row of the status table.
    pub fn respond(endpoint: Option<Endpoint>, status: u16, body: serde_json::Value) -> Self {
        Self::new(
            endpoint,
            FaultAction::Respond {
                status,
                body,
                retry_after: None,
                retry_after_as_date: false,
            },
        )
    }

    /// The same rule, answering with a `Retry-After: seconds` header when its
    /// action is [`FaultAction::Respond`]; other actions are unchanged.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        if let FaultAction::Respond { retry_after, .. } = &mut self.action {
            *retry_after = Some(seconds);
        }
        self
    }

    /// The same rule, answering with `Retry-After` as the HTTP date `seconds`
    /// from now when its action is [`FaultAction::Respond`].
    pub fn with_retry_after_date(mut self, seconds: u64) -> Self {
        if let FaultAction::Respond {
            retry_after,
            retry_after_as_date,
            ..
        } = &mut self.action
        {
            *retry_after = Some(seconds);
            *retry_after_as_date = true;
        }
        self
    }

    /// A rule that delays each call of `endpoint` by `ms` real milliseconds.
    pub fn delay(endpoint: Option<Endpoint>, ms: u64) -> Self {
        Self::new(endpoint, FaultAction::Delay { ms })
    }

    /// A rule that never answers calls of `endpoint`.
    pub fn hang(endpoint: Option<Endpoint>) -> Self {
        Self::new(endpoint, FaultAction::Hang)
    }

    /// A rule that closes the connection of calls of `endpoint`.
    pub fn close(endpoint: Option<Endpoint>) -> Self {
        Self::new(endpoint, FaultAction::Close)
    }

    /// A rule that carries out calls of `endpoint` and then closes the
    /// connection without answering.
    pub fn apply_then_drop(endpoint: Option<Endpoint>) -> Self {
        Self::new(endpoint, FaultAction::ApplyThenDrop)
    }

    /// A rule that opens a recovery window of `seconds` (emulator time) on the
    /// task of a matching call.
    pub fn recovery_window(endpoint: Option<Endpoint>, seconds: f64) -> Self {
        Self::new(endpoint, FaultAction::RecoveryWindow { seconds })
    }

    /// A notice rule with `action` for the NCS notices of `event_type` (all
    /// notices for `None`, which sets `ncs`).
    pub fn notice(event_type: Option<i64>, action: FaultAction) -> Self {
        Self {
            ncs: event_type.is_none(),
            event_type,
            ..Self::new(None, action)
        }
    }

    /// Whether the rule matches NCS notices rather than requests.
    pub const fn is_notice_rule(&self) -> bool {
        self.ncs || self.event_type.is_some()
    }

    /// Only calls about the task with this sid.
    #[must_use]
    pub fn for_sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    /// Only calls about this channel.
    #[must_use]
    pub fn for_cname(mut self, cname: impl Into<String>) -> Self {
        self.cname = Some(cname.into());
        self
    }

    /// Fire from the nth matching call on (1-based).
    #[must_use]
    pub fn nth(mut self, n: u64) -> Self {
        self.nth = Some(n);
        self
    }

    /// Fire at most `n` times.
    #[must_use]
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// Fire with `probability` on each matching call, drawing from `seed`.
    #[must_use]
    pub fn with_probability(mut self, probability: f64, seed: u64) -> Self {
        self.probability = Some(probability);
        self.seed = Some(seed);
        self
    }

    /// Reads one rule or an array of rules from JSON.
    pub fn list_from_json(text: &str) -> Result<Vec<Self>, EmulatorError> {
        let invalid = |error: serde_json::Error| EmulatorError::InvalidJson {
            what: "fault rules",
            source: JsonError::from_serde(&error),
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(invalid)?;
        let rules = if value.is_array() {
            serde_json::from_value::<Vec<Self>>(value).map_err(invalid)?
        } else {
            vec![serde_json::from_value::<Self>(value).map_err(invalid)?]
        };
        for rule in &rules {
            rule.check()?;
        }
        Ok(rules)
    }

    /// Checks the ranges of the values.
    pub(crate) fn check(&self) -> Result<(), EmulatorError> {
        if let Some(p) = self.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(EmulatorError::InvalidConfig(format!(
                "fault probability must be within 0..=1, got {p}"
            )));
        }
        if self.nth == Some(0) {
            return Err(EmulatorError::InvalidConfig(
                "fault nth counts from 1".to_owned(),
            ));
        }
        if self.is_notice_rule() {
            if self.endpoint.is_some() {
                return Err(EmulatorError::InvalidConfig(
                    "a notice rule (ncs or event_type) matches NCS notices: drop its endpoint"
                        .to_owned(),
                ));
            }
            if !self.action.for_notices() {
                return Err(EmulatorError::InvalidConfig(
                    "a notice rule (ncs or event_type) takes the action drop, duplicate, delay, \
                     reorder or bad_signature"
                        .to_owned(),
                ));
            }
        } else if self.action.notice_only() {
            return Err(EmulatorError::InvalidConfig(
                "drop, duplicate, reorder and bad_signature act on NCS notices: add \"ncs\": true \
                 or an \"event_type\" to the rule"
                    .to_owned(),
            ));
        }
        match &self.action {
            FaultAction::Respond { status, .. } if !(100..=999).contains(status) => {
                Err(EmulatorError::InvalidConfig(format!(
                    "fault status must be an HTTP status 100..=999, got {status}"
                )))
            }
            FaultAction::RecoveryWindow { seconds }
                if !(seconds.is_finite() && *seconds >= 0.0) =>
            {
                Err(EmulatorError::InvalidConfig(format!(
                    "recovery window seconds must be a finite number >= 0, got {seconds}"
                )))
            }
            _ => Ok(()),
        }
    }
}

/// What a request looks like to the fault matcher.
pub(crate) struct CallInfo<'a> {
    /// The notice's `eventType` when this is an NCS notice, `None` for a request.
    pub(crate) notice: Option<i64>,
    pub(crate) endpoint: Option<Endpoint>,
    pub(crate) sid: Option<&'a str>,
    pub(crate) cname: Option<&'a str>,
}

/// An installed rule with its counters.
pub(crate) struct ActiveRule {
    pub(crate) rule: FaultRule,
    matched: u64,
    fired: u64,
    rng: StdRng,
}

impl ActiveRule {
    pub(crate) fn new(rule: FaultRule) -> Self {
        let rng = StdRng::seed_from_u64(rule.seed.unwrap_or(0));
        Self {
            rule,
            matched: 0,
            fired: 0,
            rng,
        }
    }

    /// Counts the call if it matches, and says whether the rule fires.
    pub(crate) fn fires(&mut self, call: &CallInfo<'_>) -> bool {
        let rule = &self.rule;
        if rule.is_notice_rule() != call.notice.is_some() {
            return false;
        }
        if rule.event_type.is_some() && rule.event_type != call.notice {
            return false;
        }
        if rule.endpoint.is_some() && rule.endpoint != call.endpoint {
            return false;
        }
        if rule.sid.is_some() && rule.sid.as_deref() != call.sid {
            return false;
        }
        if rule.cname.is_some() && rule.cname.as_deref() != call.cname {
            return false;
        }
        if rule.times.is_some_and(|times| self.fired >= times) {
            return false;
        }
        self.matched += 1;
        if rule.nth.is_some_and(|nth| self.matched < nth) {
            return false;
        }
        if let Some(p) = rule.probability
            && !self.rng.random_bool(p)
        {
            return false;
        }
        self.fired += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(endpoint: Endpoint) -> CallInfo<'static> {
        CallInfo {
            notice: None,
            endpoint: Some(endpoint),
            sid: Some("s1"),
            cname: Some("room"),
        }
    }

    #[test]
    fn nth_and_times_select_the_calls() {
        let mut rule = ActiveRule::new(FaultRule::close(Some(Endpoint::Query)).nth(2).times(2));
        let fired: Vec<bool> = (0..5).map(|_| rule.fires(&call(Endpoint::Query))).collect();
        assert_eq!(fired, [false, true, true, false, false]);
        assert!(!rule.fires(&call(Endpoint::Stop)));
    }

    #[test]
    fn task_filters_and_seeded_probability_repeat() {
        let mut other = ActiveRule::new(FaultRule::hang(None).for_sid("s2"));
        assert!(!other.fires(&call(Endpoint::Query)));
        let draws = |seed| {
            let mut rule = ActiveRule::new(FaultRule::hang(None).with_probability(0.5, seed));
            (0..64)
                .map(|_| rule.fires(&call(Endpoint::Query)))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        let fired = draws(7).iter().filter(|f| **f).count();
        assert!(fired > 0 && fired < 64);
    }

    #[test]
    fn rules_round_trip_through_json_and_bad_values_are_refused() {
        let rule = FaultRule::respond(
            Some(Endpoint::Stop),
            206,
            serde_json::json!({"code": 435, "reason": "no recorded data"}),
        )
        .for_cname("room")
        .times(1);
        let text = serde_json::to_string(&rule).unwrap();
        assert_eq!(
            FaultRule::list_from_json(&text).unwrap(),
            vec![rule.clone()]
        );
        let list = format!("[{text},{text}]");
        assert_eq!(FaultRule::list_from_json(&list).unwrap().len(), 2);
        assert!(FaultRule::list_from_json(r#"{"action":{"kind":"explode"}}"#).is_err());
        assert_eq!(
            FaultRule::list_from_json(
                r#"{"endpoint":"start","action":{"kind":"apply_then_drop"}}"#
            )
            .unwrap(),
            vec![FaultRule::apply_then_drop(Some(Endpoint::Start))]
        );
        assert!(
            FaultRule::list_from_json(r#"{"probability":2,"action":{"kind":"hang"}}"#).is_err()
        );
    }
}
