//! The `updateLayout` call (mix mode only, spec §6): request body and response.

use serde::{Deserialize, Serialize};

use crate::UnknownFields;

use crate::start::{BackgroundConfig, LayoutConfig, MixedVideoLayout};
use crate::update::UpdateResponse;
use crate::{Cname, Uid};

/// The body of `POST .../sid/{sid}/mode/mix/updateLayout`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateLayoutRequest {
    /// The channel name used in acquire.
    pub cname: Cname,
    /// The recorder uid used in acquire.
    pub uid: Uid,
    /// The new layout.
    pub client_request: UpdateLayoutClientRequest,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl UpdateLayoutRequest {
    /// An updateLayout body.
    pub fn new(cname: Cname, uid: Uid, client_request: UpdateLayoutClientRequest) -> Self {
        Self {
            unknown: Default::default(),
            cname,
            uid,
            client_request,
        }
    }
}

/// The `clientRequest` of updateLayout. Each call replaces the whole layout:
/// omitted fields revert to their defaults (e.g. the background to `#000000`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateLayoutClientRequest {
    /// The layout, default floating (0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mixed_video_layout: Option<MixedVideoLayout>,
    /// The uid in the big window; required for the vertical layout (2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resolution_uid: Option<String>,
    /// Canvas colour `#RRGGBB`, default `#000000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// URL of a canvas background image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_image: Option<String>,
    /// URL of the image shown when a user's video has stopped for more than 3.5 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_user_background_image: Option<String>,
    /// Windows of the custom layout (3); at most 17.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout_config: Option<Vec<LayoutConfig>>,
    /// Per-uid placeholder images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_config: Option<Vec<BackgroundConfig>>,
    /// Members this crate does not know, kept as they came and sent as given.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl UpdateLayoutClientRequest {
    /// A layout of the given kind with every other field at its default.
    pub fn layout(layout: MixedVideoLayout) -> Self {
        Self {
            mixed_video_layout: Some(layout),
            ..Self::default()
        }
    }

    /// The custom layout (3) with these windows.
    pub fn custom(windows: Vec<LayoutConfig>) -> Self {
        Self {
            mixed_video_layout: Some(MixedVideoLayout::Custom),
            layout_config: Some(windows),
            ..Self::default()
        }
    }

    /// The vertical layout (2) with `uid` in the big window.
    pub fn vertical(uid: impl Into<String>) -> Self {
        Self {
            mixed_video_layout: Some(MixedVideoLayout::Vertical),
            max_resolution_uid: Some(uid.into()),
            ..Self::default()
        }
    }
}

/// The 200 body of updateLayout (same shape as update's; older revisions carry
/// only `resourceId` and `sid`).
pub type UpdateLayoutResponse = UpdateResponse;

crate::unknown::unknown_members!(UpdateLayoutRequest, client_request: "clientRequest");
crate::unknown::unknown_members!(
    UpdateLayoutClientRequest,
    layout_config: "layoutConfig",
    background_config: "backgroundConfig",
);
