//! Asking whether a start took effect: start again on the same resource with a
//! body that cannot start a new task, so that only a running task answers (201,
//! code 7, with its sid).

use cloudrec_types::{Cname, Endpoint, Mode, ResourceId, StartResponse, Uid};
use serde::Serialize;

use super::about::About;
use super::{CallError, Client, StartOutcome, path};
use crate::{Clock, EventSink, Transport};

/// A start body with an empty `clientRequest`: no storage, no recording
/// settings. The service refuses it unless a task already runs on the resource.
#[derive(Serialize)]
struct ProbeBody<'a> {
    cname: &'a Cname,
    uid: Uid,
    #[serde(rename = "clientRequest")]
    client_request: serde_json::Map<String, serde_json::Value>,
}

impl<T, C, E> Client<T, C, E>
where
    T: Transport,
    C: Clock,
    E: EventSink,
{
    /// Asks the service whether a start sent earlier on `resource_id` (for
    /// `cname` and `uid` in `mode`) took effect, by starting again with an empty
    /// `clientRequest`: a running task answers [`StartOutcome::AlreadyStarted`]
    /// with its sid; with no task there, the service refuses the body (or the
    /// resource) and the error says so.
    pub async fn probe_start(
        &self,
        resource_id: &ResourceId,
        mode: &Mode,
        cname: &Cname,
        uid: Uid,
    ) -> Result<StartOutcome, CallError> {
        let about = About::Channel {
            mode,
            cname,
            uid,
            resource_id: Some(resource_id),
        };
        let body = ProbeBody {
            cname,
            uid,
            client_request: serde_json::Map::new(),
        };
        let path = path::start(&self.shared.app_id, resource_id, mode);
        let answer = self
            .call::<StartResponse, _>(Endpoint::Start, path, Some(&body), about)
            .await;
        StartOutcome::of(answer, resource_id, mode, cname, uid)
    }
}
