//! The request log read by `GET /_emulator/requests`.

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
    /// The path (without query string).
    pub path: String,
    /// The endpoint, if the route is one.
    pub endpoint: Option<Endpoint>,
    /// The HTTP status answered; absent when the connection was closed or hung.
    pub status: Option<u16>,
    /// The fault action applied, if a rule fired (`respond`, `delay`, ...).
    pub fault: Option<String>,
}

impl State {
    /// Records a request and returns its sequence number.
    pub(crate) fn log_request(
        &mut self,
        method: &str,
        path: &str,
        endpoint: Option<Endpoint>,
    ) -> u64 {
        self.seq += 1;
        let record = RequestRecord {
            seq: self.seq,
            at_secs: self.clock.now().as_secs_f64(),
            method: method.to_owned(),
            path: path.to_owned(),
            endpoint,
            status: None,
            fault: None,
        };
        if self.config.request_log_capacity > 0 {
            while self.log.len() >= self.config.request_log_capacity {
                self.log.pop_front();
            }
            self.log.push_back(record);
        }
        self.seq
    }

    /// Completes the log entry `seq` with its status and fault.
    pub(crate) fn log_outcome(&mut self, seq: u64, status: Option<u16>, fault: Option<&str>) {
        // Entries are in sequence order; search from the back, where recent ones are.
        if let Some(record) = self.log.iter_mut().rev().find(|record| record.seq == seq) {
            record.status = status;
            record.fault = fault.map(str::to_owned);
        }
    }

    pub(crate) fn request_log(&self) -> Vec<RequestRecord> {
        self.log.iter().cloned().collect()
    }
}
