use cloudrec_types::{AppId, Cname, Mode, ResourceId, Sid, Uid};

use crate::Subject;

/// Everything that names one running recording task: what query, update,
/// updateLayout and stop need in their path and body.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRef {
    /// The resource id from acquire.
    pub resource_id: ResourceId,
    /// The session id from start.
    pub sid: Sid,
    /// The recording mode the task was started with.
    pub mode: Mode,
    /// The channel name.
    pub cname: Cname,
    /// The recorder bot's uid.
    pub uid: Uid,
}

impl TaskRef {
    /// The event subject of this task under `app_id`.
    pub fn subject(&self, app_id: &AppId) -> Subject {
        Subject {
            app_id: app_id.clone(),
            cname: Some(self.cname.clone()),
            uid: Some(self.uid),
            mode: Some(self.mode.clone()),
            resource_id: Some(self.resource_id.clone()),
            sid: Some(self.sid.clone()),
        }
    }
}
