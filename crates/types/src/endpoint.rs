use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the six operations of the Cloud Recording REST API, or the list of the
/// notification servers' addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Endpoint {
    /// `POST .../acquire`: reserve a resource id for one recording session.
    #[serde(rename = "acquire")]
    Acquire,
    /// `POST .../resourceid/{rid}/mode/{mode}/start`: start recording.
    #[serde(rename = "start")]
    Start,
    /// `GET .../sid/{sid}/mode/{mode}/query`: read the task's status and files.
    #[serde(rename = "query")]
    Query,
    /// `POST .../sid/{sid}/mode/{mode}/update`: change subscriptions, web settings or storage.
    #[serde(rename = "update")]
    Update,
    /// `POST .../sid/{sid}/mode/mix/updateLayout`: replace the mix layout.
    #[serde(rename = "updateLayout")]
    UpdateLayout,
    /// `POST .../sid/{sid}/mode/{mode}/stop`: stop recording and upload.
    #[serde(rename = "stop")]
    Stop,
    /// `GET /v1/ncs/ip`: the addresses the notification service (NCS) posts from.
    #[serde(rename = "ncsIp")]
    NcsIp,
}

impl Endpoint {
    /// Every endpoint: the six of a session, in its order, then the NCS address list.
    pub const ALL: [Self; 7] = [
        Self::Acquire,
        Self::Start,
        Self::Query,
        Self::Update,
        Self::UpdateLayout,
        Self::Stop,
        Self::NcsIp,
    ];

    /// The position of the endpoint in [`Endpoint::ALL`], for tables indexed by
    /// endpoint.
    pub const fn index(self) -> usize {
        match self {
            Self::Acquire => 0,
            Self::Start => 1,
            Self::Query => 2,
            Self::Update => 3,
            Self::UpdateLayout => 4,
            Self::Stop => 5,
            Self::NcsIp => 6,
        }
    }

    /// The wire name, as it appears in URLs and in the status table.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Acquire => "acquire",
            Self::Start => "start",
            Self::Query => "query",
            Self::Update => "update",
            Self::UpdateLayout => "updateLayout",
            Self::Stop => "stop",
            Self::NcsIp => "ncsIp",
        }
    }

    /// The HTTP method: `GET` for query and the NCS address list, `POST` for the rest.
    pub const fn method(self) -> &'static str {
        match self {
            Self::Query | Self::NcsIp => "GET",
            _ => "POST",
        }
    }

    /// Whether the call addresses a running task (it carries a sid).
    pub const fn targets_task(self) -> bool {
        matches!(
            self,
            Self::Query | Self::Update | Self::UpdateLayout | Self::Stop
        )
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`Endpoint::from_str`]: the text names no endpoint.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown endpoint `{0}`: expected one of acquire, start, query, update, updateLayout, stop, ncsIp"
)]
pub struct UnknownEndpoint(String);

impl FromStr for Endpoint {
    type Err = UnknownEndpoint;

    /// Accepts the wire name, `update-layout` / `update_layout` for updateLayout,
    /// and `ncs-ip` / `ncs_ip` for ncsIp.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "acquire" => Ok(Self::Acquire),
            "start" => Ok(Self::Start),
            "query" => Ok(Self::Query),
            "update" => Ok(Self::Update),
            "updateLayout" | "update-layout" | "update_layout" => Ok(Self::UpdateLayout),
            "stop" => Ok(Self::Stop),
            "ncsIp" | "ncs-ip" | "ncs_ip" => Ok(Self::NcsIp),
            other => Err(UnknownEndpoint(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_the_position_in_all() {
        for (position, endpoint) in Endpoint::ALL.into_iter().enumerate() {
            assert_eq!(endpoint.index(), position, "{endpoint}");
        }
    }

    #[test]
    fn the_ncs_address_list_is_a_get_on_no_task() {
        assert_eq!(Endpoint::NcsIp.method(), "GET");
        assert!(!Endpoint::NcsIp.targets_task());
        for name in ["ncsIp", "ncs-ip", "ncs_ip"] {
            assert_eq!(name.parse::<Endpoint>(), Ok(Endpoint::NcsIp), "{name}");
        }
    }

    #[test]
    fn wire_names_parse_back() {
        for endpoint in Endpoint::ALL {
            assert_eq!(endpoint.as_str().parse::<Endpoint>(), Ok(endpoint));
        }
        assert!(
            "bogus"
                .parse::<Endpoint>()
                .unwrap_err()
                .to_string()
                .contains("bogus")
        );
    }
}
