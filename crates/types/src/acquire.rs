//! The `acquire` call: request body (spec §3) and response.

use serde::{Deserialize, Serialize};

use crate::UnknownFields;

use crate::lenient::{open_int_enum, open_str_enum};
use crate::start::StartClientRequest;
use crate::{Cname, ResourceId, Text, Uid};

/// The body of `POST .../acquire`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcquireRequest {
    /// The channel to record (individual, mix) or the task label (web).
    pub cname: Cname,
    /// The recorder's own uid; start, update and stop must use the same one.
    pub uid: Uid,
    /// Scene, resource lifetime, region and placement hints; may be empty.
    pub client_request: AcquireClientRequest,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl AcquireRequest {
    /// An acquire body with the service defaults (`clientRequest` `{}`).
    pub fn new(cname: Cname, uid: Uid) -> Self {
        Self {
            unknown: Default::default(),
            cname,
            uid,
            client_request: AcquireClientRequest::default(),
        }
    }

    /// An acquire body with the given `clientRequest`.
    pub fn with_client_request(mut self, client_request: AcquireClientRequest) -> Self {
        self.client_request = client_request;
        self
    }
}

open_int_enum! {
    /// `clientRequest.scene`: what kind of recording the resource is for. Default 0.
    Scene {
        /// `0`: real-time audio and video recording (individual or mix).
        Realtime = 0,
        /// `1`: web page recording; required for web mode.
        WebPage = 1,
        /// `2`: individual recording with postponed transcoding or audio mixing
        /// (removed from the documentation in April 2025).
        PostponedTranscoding = 2,
    }
}

open_str_enum! {
    /// `clientRequest.region`: confines the task to one area. Default: the caller's area.
    Area {
        /// Mainland China.
        China = "CN",
        /// Asia-Pacific.
        AsiaPacific = "AP",
        /// Europe.
        Europe = "EU",
        /// North America.
        NorthAmerica = "NA",
    }
}

/// The `clientRequest` of acquire. Every field is optional; `{}` is valid.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcquireClientRequest {
    /// Real-time (0, default) or web page (1) recording; web mode needs 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<Scene>,
    /// Hours, counted from a successful start, during which query, update,
    /// updateLayout and stop can be called; 1..=720, default 72.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_expired_hour: Option<u32>,
    /// Resource ids of other tasks whose region this one must avoid (redundant
    /// recordings of one channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_resource_ids: Option<Vec<String>>,
    /// Confine the task to one area; the storage region of start must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Area>,
    /// The start `clientRequest` in advance, so the service can place the task; it
    /// must equal the later start body. Bad content fails start, not acquire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_parameter: Option<StartClientRequest>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl AcquireClientRequest {
    /// The `clientRequest` for a web page recording (`scene` 1).
    pub fn web() -> Self {
        Self {
            scene: Some(Scene::WebPage),
            ..Self::default()
        }
    }

    /// Sets how many hours the session's calls stay usable (1..=720).
    pub fn with_resource_expired_hour(mut self, hours: u32) -> Self {
        self.resource_expired_hour = Some(hours);
        self
    }

    /// Announces the start `clientRequest` in advance; pass the very body the
    /// later start will send.
    pub fn with_start_parameter(mut self, start: StartClientRequest) -> Self {
        self.start_parameter = Some(start);
        self
    }

    /// Confines the task to `area`.
    pub fn with_region(mut self, area: Area) -> Self {
        self.region = Some(area);
        self
    }
}

/// The 200 body of acquire. Older revisions carried only `resourceId`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcquireResponse {
    /// The channel name, when echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<Cname>,
    /// The recorder uid, when echoed (kept as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<Text>,
    /// The resource id: valid for 5 minutes and for one start.
    pub resource_id: ResourceId,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

crate::unknown::unknown_members!(AcquireRequest, client_request: "clientRequest");
crate::unknown::unknown_members!(AcquireClientRequest, start_parameter: "startParameter");
crate::unknown::unknown_members!(AcquireResponse);
