use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::json;

use crate::envelope::{CloudEvent, GAP_TYPE_SUFFIX};

/// A count of the events a sink lost, by type, until the next gap event reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LossTally {
    total: u64,
    by_type: BTreeMap<String, u64>,
    first: Option<SystemTime>,
    last: Option<SystemTime>,
}

impl LossTally {
    /// Counts one lost event.
    pub(crate) fn record(&mut self, event: &CloudEvent) {
        self.total += 1;
        *self
            .by_type
            .entry(event.type_suffix().to_owned())
            .or_default() += 1;
        let time = event.time();
        self.first = Some(self.first.map_or(time, |first| first.min(time)));
        self.last = Some(self.last.map_or(time, |last| last.max(time)));
    }

    /// How many events were lost since the last gap event.
    #[cfg_attr(not(feature = "amqp"), allow(dead_code))]
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// The gap event that reports the losses, and an empty tally; `None` when nothing was lost.
    ///
    /// `data` is `{"lost": N, "byType": {"session.status": n, ...}, "firstLostTime": ..,
    /// "lastLostTime": .., "sink": name}`.
    pub(crate) fn take_gap(&mut self, source: &str, sink: &str) -> Option<CloudEvent> {
        if self.total == 0 {
            return None;
        }
        let tally = std::mem::take(self);
        let fmt = |time: Option<SystemTime>| {
            time.map(|t| humantime::format_rfc3339_micros(t).to_string())
        };
        let data = json!({
            "lost": tally.total,
            "byType": tally.by_type,
            "firstLostTime": fmt(tally.first),
            "lastLostTime": fmt(tally.last),
            "sink": sink,
        });
        Some(CloudEvent::new(
            source,
            GAP_TYPE_SUFFIX,
            SystemTime::now(),
            data,
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn gap_reports_counts_by_type_and_resets() {
        let mut tally = LossTally::default();
        assert!(tally.take_gap("/s", "k").is_none());
        let t0 = UNIX_EPOCH + Duration::from_secs(10);
        let t1 = UNIX_EPOCH + Duration::from_secs(20);
        tally.record(&CloudEvent::new("/s", "session.status", t1, json!({})));
        tally.record(&CloudEvent::new("/s", "session.status", t0, json!({})));
        tally.record(&CloudEvent::new("/s", "call.retry", t1, json!({})));
        assert_eq!(tally.total(), 3);
        let gap = tally.take_gap("/s", "amqp").unwrap();
        assert_eq!(gap.event_type(), "io.cloudrec.events.gap");
        assert_eq!(gap.data()["lost"], 3);
        assert_eq!(gap.data()["byType"]["session.status"], 2);
        assert_eq!(gap.data()["byType"]["call.retry"], 1);
        assert_eq!(gap.data()["firstLostTime"], "1970-01-01T00:00:10.000000Z");
        assert_eq!(gap.data()["lastLostTime"], "1970-01-01T00:00:20.000000Z");
        assert_eq!(gap.data()["sink"], "amqp");
        assert_eq!(tally.total(), 0);
        assert!(tally.take_gap("/s", "k").is_none());
    }
}
