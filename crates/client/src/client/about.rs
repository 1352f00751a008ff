use std::sync::Arc;

use cloudrec_types::{AppId, Cname, Mode, ResourceId, Uid};

use crate::Subject;
use crate::TaskRef;

/// Who a call is about, borrowed from the call's arguments: it names the call's
/// tracing span and, only when the event sink takes events, their [`Subject`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum About<'a> {
    /// A call about the App ID's account, on no channel (the NCS address list).
    Account,
    /// An acquire, or a start once a resource id is known.
    Channel {
        mode: &'a Mode,
        cname: &'a Cname,
        uid: Uid,
        resource_id: Option<&'a ResourceId>,
    },
    /// A call on a running task.
    Task(&'a TaskRef),
}

impl About<'_> {
    pub(crate) fn mode(&self) -> Option<&str> {
        match self {
            Self::Account => None,
            Self::Channel { mode, .. } => Some(mode.as_str()),
            Self::Task(task) => Some(task.mode.as_str()),
        }
    }

    pub(crate) fn resource_id(&self) -> Option<&str> {
        match self {
            Self::Account => None,
            Self::Channel { resource_id, .. } => resource_id.map(ResourceId::as_str),
            Self::Task(task) => Some(task.resource_id.as_str()),
        }
    }

    pub(crate) fn sid(&self) -> Option<&str> {
        match self {
            Self::Account | Self::Channel { .. } => None,
            Self::Task(task) => Some(task.sid.as_str()),
        }
    }

    /// The events' subject, shared by every event of the call.
    pub(crate) fn subject(&self, app_id: &AppId) -> Arc<Subject> {
        let subject = match *self {
            Self::Account => Subject::app(app_id.clone()),
            Self::Channel {
                mode,
                cname,
                uid,
                resource_id,
            } => Subject {
                cname: Some(cname.clone()),
                uid: Some(uid),
                mode: Some(mode.clone()),
                resource_id: resource_id.cloned(),
                ..Subject::app(app_id.clone())
            },
            Self::Task(task) => task.subject(app_id),
        };
        Arc::new(subject)
    }
}
