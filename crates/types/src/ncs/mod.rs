//! Notification Center Service (NCS, spec §14): the webhook notifications the
//! service POSTs to your URL, typed; checking their signatures (feature `ncs`);
//! and the answer of `GET /v1/ncs/ip`.
//!
//! - [`Notification`] decodes a notification's raw body: the envelope, the
//!   [`Payload`] with the session's ids, `sequence`, `sendts` and
//!   [`ServiceType`], and the `details` typed by `eventType` as an [`Event`].
//!   Every event type of the documentation has its variant and details type;
//!   an unknown event type decodes as [`Event::Unknown`] and unknown fields are
//!   kept (`extra`), so a new revision of the service never breaks a decode.
//! - `verify` (feature `ncs`) checks the `Agora-Signature-V2` (HMAC-SHA256) or
//!   `Agora-Signature` (HMAC-SHA1) header against the raw body in constant time:
//!   call it before decoding, with the body exactly as received.
//! - [`NcsIpResponse`] lists the addresses the notifications come from.
//!
//! A receiver in your own web server: verify, decode, answer 200 at once, then
//! act (deduplicated by `noticeId`, and by `sid` + `sequence`; a notification
//! can be late, repeated or reordered, so confirm with `query`).
//!
//! ```
//! # #[cfg(feature = "ncs")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cloudrec_types::Secret;
//! use cloudrec_types::ncs::{Event, Notification, SignatureHeader, sign, verify};
//!
//! let secret = Secret::new("the secret of the console's NCS settings");
//! let body = br#"{"noticeId":"n1","productId":3,"eventType":41,"notifyMs":1619172931089,
//!   "payload":{"cname":"room1","uid":"527841","sid":"38f8e3cfdc474cd56fc1ceba380d7e1a",
//!   "sequence":2,"sendts":1619172930089,"serviceType":1,
//!   "details":{"msgName":"recorder_leave","leaveCode":4}}}"#;
//! let headers = [("agora-signature-v2", sign(SignatureHeader::V2, body, &secret))];
//!
//! // In a web framework: pass `request.headers()` (an `&http::HeaderMap`) and the body bytes.
//! verify(headers, body, &secret)?;
//! let notice: Notification = serde_json::from_slice(body)?;
//! assert_eq!(notice.sid(), Some("38f8e3cfdc474cd56fc1ceba380d7e1a"));
//! match notice.event() {
//!     Event::RecorderLeave(leave) => assert!(leave.leave_code.is_some_and(|code| code.idle())),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "ncs"))]
//! # fn main() {}
//! ```

mod details;
mod envelope;
mod event;
mod ip;
#[cfg(feature = "ncs")]
mod verify;

pub use details::*;
pub use envelope::{Notification, Payload, ServiceType};
pub use event::{Details, Event, EventType};
pub use ip::{NcsHost, NcsIpData, NcsIpResponse, NcsIpService};
#[cfg(feature = "ncs")]
pub use verify::{SignatureHeader, VerifyError, sign, verify};
