//! The request log read by `GET /_emulator/requests`: bounded in entries and in
//! bytes, with long paths truncated, and read whole or page by page.

use std::collections::VecDeque;

use cloudrec_types::Endpoint;
use serde::Serialize;

use super::State;

/// One request as recorded in the request log (`GET /_emulator/requests`).
///
/// Headers are not kept, so credentials never appear.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// Sequence number from 1.
    pub seq: u64,
    /// Emulator seconds since start when the request arrived.
    pub at_secs: f64,
    /// The HTTP method.
    pub method: String,
    /// The path (without query string), cut to
    /// [`EmulatorConfig::request_log_max_path`](crate::EmulatorConfig::request_log_max_path) bytes.
    pub path: String,
    /// How many bytes of the path were cut off (0 when it is whole).
    pub path_truncated_bytes: usize,
    /// The endpoint, if the route is one.
    pub endpoint: Option<Endpoint>,
    /// The HTTP status answered; absent when the connection was closed or hung.
    pub status: Option<u16>,
    /// The fault action applied, if a rule fired (`respond`, `delay`, ...).
    pub fault: Option<String>,
}

impl RequestRecord {
    /// What the record counts against the log's byte bound: its fixed size and
    /// the text it holds.
    fn cost(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.method.len()
            + self.path.len()
            + self.fault.as_ref().map_or(0, String::len)
    }
}

/// How full the request log is and what it lost (`GET /_emulator/requests/stats`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RequestLogStats {
    /// Entries kept now.
    pub entries: usize,
    /// Bytes the kept entries count (see [`RequestLogStats::max_bytes`]).
    pub bytes: usize,
    /// The byte bound ([`EmulatorConfig::request_log_max_bytes`](crate::EmulatorConfig::request_log_max_bytes)).
    pub max_bytes: usize,
    /// The entry bound ([`EmulatorConfig::request_log_capacity`](crate::EmulatorConfig::request_log_capacity)).
    pub capacity: usize,
    /// Entries dropped (oldest first) to stay within the bounds, since start.
    pub dropped_entries: u64,
    /// Path bytes cut off by truncation, since start.
    pub truncated_path_bytes: u64,
    /// The sequence number of the latest request (0 before the first).
    pub last_seq: u64,
}

/// One page of the request log (`GET /_emulator/requests?after=N&limit=M`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RequestLogPage {
    /// Entries with a sequence number above `after`, oldest first, at most `limit`.
    pub entries: Vec<RequestRecord>,
    /// The `after` of the next page: the last entry's sequence number, else the
    /// `after` asked for.
    pub next_after: u64,
    /// Whether entries beyond this page are kept now.
    pub more: bool,
    /// Requests after `after` that were dropped from the log before this read.
    pub missed: u64,
    /// The log's fill and losses.
    pub stats: RequestLogStats,
}

/// The kept entries and the counts of what was dropped.
#[derive(Debug, Default)]
pub(super) struct RequestLog {
    entries: VecDeque<RequestRecord>,
    seq: u64,
    bytes: usize,
    dropped_entries: u64,
    truncated_path_bytes: u64,
}

impl RequestLog {
    /// Forgets the entries; sequence numbers and loss counts go on.
    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl State {
    /// Records a request and returns its sequence number.
    pub(crate) fn log_request(
        &mut self,
        method: &str,
        path: &str,
        endpoint: Option<Endpoint>,
    ) -> u64 {
        let log = &mut self.log;
        log.seq += 1;
        let kept = prefix(path, self.config.request_log_max_path);
        let truncated = path.len() - kept.len();
        log.truncated_path_bytes += truncated as u64;
        let record = RequestRecord {
            seq: log.seq,
            at_secs: self.clock.now().as_secs_f64(),
            method: prefix(method, self.config.request_log_max_path).to_owned(),
            path: kept.to_owned(),
            path_truncated_bytes: truncated,
            endpoint,
            status: None,
            fault: None,
        };
        log.bytes += record.cost();
        log.entries.push_back(record);
        self.trim_log();
        self.log.seq
    }

    /// Drops the oldest entries until the log is within its bounds.
    fn trim_log(&mut self) {
        let capacity = self.config.request_log_capacity;
        let max_bytes = self.config.request_log_max_bytes;
        let log = &mut self.log;
        while log.entries.len() > capacity || (log.bytes > max_bytes && !log.entries.is_empty()) {
            if let Some(old) = log.entries.pop_front() {
                log.bytes -= old.cost();
                log.dropped_entries += 1;
            }
        }
    }

    /// Completes the log entry `seq` with its status and fault.
    pub(crate) fn log_outcome(&mut self, seq: u64, status: Option<u16>, fault: Option<&str>) {
        let log = &mut self.log;
        // Entries are in sequence order; search from the back, where recent ones are.
        if let Some(record) = log
            .entries
            .iter_mut()
            .rev()
            .find(|record| record.seq == seq)
        {
            log.bytes -= record.cost();
            record.status = status;
            record.fault = fault.map(str::to_owned);
            log.bytes += record.cost();
        }
        self.trim_log();
    }

    /// Every kept entry, oldest first (bounded by the log's bounds).
    pub(crate) fn request_log(&self) -> Vec<RequestRecord> {
        self.log.entries.iter().cloned().collect()
    }

    /// The kept entries with a sequence number above `after`, at most `limit`.
    pub(crate) fn request_log_page(&self, after: u64, limit: usize) -> RequestLogPage {
        let entries = &self.log.entries;
        let start = entries.partition_point(|record| record.seq <= after);
        let page: Vec<RequestRecord> = entries.iter().skip(start).take(limit).cloned().collect();
        let first_kept = entries
            .get(start)
            .map_or(self.log.seq + 1, |record| record.seq);
        RequestLogPage {
            next_after: page.last().map_or(after, |record| record.seq),
            more: start + page.len() < entries.len(),
            missed: first_kept.saturating_sub(after.saturating_add(1)),
            entries: page,
            stats: self.request_log_stats(),
        }
    }

    /// How full the log is and what it dropped.
    pub(crate) fn request_log_stats(&self) -> RequestLogStats {
        RequestLogStats {
            entries: self.log.entries.len(),
            bytes: self.log.bytes,
            max_bytes: self.config.request_log_max_bytes,
            capacity: self.config.request_log_capacity,
            dropped_entries: self.log.dropped_entries,
            truncated_path_bytes: self.log.truncated_path_bytes,
            last_seq: self.log.seq,
        }
    }
}
