//! The answer of `GET /v1/ncs/ip`: the addresses notifications are sent from.

use serde::{Deserialize, Serialize};

use crate::ResponseBody;

/// The answer of `GET /v1/ncs/ip`: the addresses the notification servers post
/// from, for an allow-list. They change; fetch them at least daily.
///
/// `data.service.hosts` must be present (it may be empty): a 200 answer without
/// it is not this answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcsIpResponse {
    /// The wrapper object.
    pub data: NcsIpData,
}

impl NcsIpResponse {
    /// The notification servers' addresses, in the order sent.
    pub fn primary_ips(&self) -> Vec<&str> {
        self.data
            .service
            .hosts
            .iter()
            .map(|host| host.primary_ip.as_str())
            .collect()
    }
}

impl ResponseBody for NcsIpResponse {}

/// `data` of [`NcsIpResponse`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcsIpData {
    /// The service entry.
    pub service: NcsIpService,
}

/// `data.service` of [`NcsIpResponse`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcsIpService {
    /// The hosts.
    pub hosts: Vec<NcsHost>,
}

/// One notification server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcsHost {
    /// Its IP address.
    #[serde(rename = "primaryIP")]
    pub primary_ip: String,
}
