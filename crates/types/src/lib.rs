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

mod endpoint;
mod error_body;
mod ids;
mod mode;
mod secret;

pub use endpoint::{Endpoint, UnknownEndpoint};
pub use error_body::ErrorBody;
pub use ids::{AppId, Cname, IdError, ResourceId, Sid, Uid};
pub use mode::Mode;
pub use secret::Secret;
