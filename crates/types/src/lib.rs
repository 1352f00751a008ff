//! Wire types of the Agora Cloud Recording REST API.
//!
//! This crate holds what travels on the wire: identifiers, request bodies for
//! `acquire`, `start`, `query`, `update`, `updateLayout` and `stop`, their response
//! bodies, the two error body forms, and the validation rules the service applies
//! before it accepts a request.
//!
//! It does not speak HTTP, does not retry and does not decide what a failure means:
//! that is `cloudrec-core`. Decoding is lenient where the service's shapes vary
//! (numbers sent as strings, alternative key spellings, unknown enum values), so a
//! response from any documented revision of the service decodes.
//!
//! - One module per endpoint ([`acquire`], [`start`], [`update`], [`update_layout`],
//!   [`query`], [`stop`]) with its request body, `clientRequest` and 200 body; every
//!   type is also re-exported at the crate root. [`ncs`] types the webhook
//!   notifications of every documented event and, with feature `ncs`, checks
//!   their signatures.
//! - [`ResponseBody::from_json`] decodes a 200 body: a hand-written reader for the
//!   documented shapes first, the derived serde decoder for anything else, with
//!   the same result either way. [`json`] is that reader, which `cloudrec-core`
//!   also uses for error bodies.
//! - [`Validate`] checks a request for the mode it is sent with and names the
//!   field and the rule it breaks ([`ValidationError`]).
//! - Credentials are [`Secret`]s: they serialize for the wire but print as `***`.
//! - Where the service spells a key two ways, both decode and one is written:
//!   `unSubscribeAudioUids`/`unSubscribeVideoUids` (also read: `unsubscribe…`),
//!   `payload` (also read: `playload`), `fileName` in [`FileInfo`] and `filename`
//!   in [`WebFileInfo`] (each also reads the other).
//! - Feature `legacy`: the scene-2 blocks `appsCollection` and `transcodeOptions`.
//! - Feature `ncs`: `ncs::verify` and `ncs::sign`, the HMAC signatures of
//!   notifications.
//!
//! A mix-mode start body, checked before sending:
//!
//! ```
//! use cloudrec_types::{Mode, StartClientRequest, StartRequest, StorageConfig, StorageVendor, Validate};
//! let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "bucket", "access", "secret")
//!     .with_prefix(["recordings", "room1"]);
//! let body = StartRequest::new("room1".parse()?, "527841".parse()?, StartClientRequest::mix(storage));
//! body.validate(&Mode::Mix)?;
//! assert!(serde_json::to_string(&body)?.contains(r#""fileNamePrefix":["recordings","room1"]"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod acquire;
mod body;
mod endpoint;
mod error_body;
mod error_body_ref;
mod ids;
pub mod json;
#[cfg(feature = "legacy")]
pub mod legacy;
mod lenient;
mod mode;
pub mod ncs;
pub mod query;
pub mod redact;
mod rules;
mod secret;
pub mod start;
pub mod stop;
mod text;
pub mod unknown;
pub mod update;
pub mod update_layout;
pub mod validate;

pub use endpoint::{Endpoint, UnknownEndpoint};
pub use error_body::ErrorBody;
pub use error_body_ref::ErrorBodyRef;
pub use ids::{AppId, Cname, IdError, ResourceId, Sid, Uid};
pub use mode::Mode;
pub use secret::Secret;
pub use text::Text;
pub use unknown::{Unknown, UnknownFields};

/// The buffer a response body arrives in; decoded strings share it ([`Text`]).
pub use bytes::Bytes;

pub use body::ResponseBody;

pub use acquire::{AcquireClientRequest, AcquireRequest, AcquireResponse, Area, Scene};
pub use query::{
    FileInfo, FileList, FileListMode, QueryResponse, QueryServerResponse, RecordingStatus,
    RtmpOutputState, RtmpStatus, ServicePayload, ServiceRunState, ServiceState, TrackType,
    WebFileInfo,
};
pub use start::{
    ALL_STREAMS, AudioProfile, AvFileType, BackgroundConfig, ChannelType, DecryptionMode,
    ErrorHandlePolicy, ExtensionParams, ExtensionService, ExtensionServiceConfig, LayoutConfig,
    MixedVideoLayout, RecordingConfig, RecordingFileConfig, RenderMode, RtmpOutput,
    RtmpPublishParams, ServerSideEncryption, ServiceName, ServiceParam, SnapshotConfig,
    SnapshotFileType, StartClientRequest, StartRequest, StartResponse, StorageConfig,
    StorageVendor, StreamMode, StreamTypes, TranscodingConfig, VideoStreamType, WebRecorderParams,
};
pub use stop::{StopClientRequest, StopRequest, StopResponse, StopServerResponse, UploadingStatus};
pub use update::{
    AudioUidList, RtmpPublishConfig, StreamSubscribe, UpdateClientRequest, UpdateRequest,
    UpdateResponse, VideoUidList, WebRecordingConfig,
};
pub use update_layout::{UpdateLayoutClientRequest, UpdateLayoutRequest, UpdateLayoutResponse};
pub use validate::{Rule, Validate, ValidationError};
