//! What goes into the session machine (answers, wake-ups) and what comes out
//! (the next action, transitions, the end).

use std::fmt;

use cloudrec_types::{RecordingStatus, ResourceId, Sid, Uid, UploadingStatus};

use crate::{EventKind, Failure, SessionState, Timestamp};

/// The ids of one task a session started: with the session's cname and mode,
/// everything query, update, updateLayout and stop need.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskIds {
    /// The resource id from acquire.
    pub resource_id: ResourceId,
    /// The session id from start.
    pub sid: Sid,
    /// The recorder uid the task was started with.
    pub uid: Uid,
}

/// What the driver does next for a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Call acquire for the session's cname with `uid`.
    Acquire {
        /// The recorder uid to acquire with.
        uid: Uid,
    },
    /// Call start on `resource_id` with `uid` and the session's start body.
    Start {
        /// The resource id from acquire.
        resource_id: ResourceId,
        /// The recorder uid, the one given to acquire.
        uid: Uid,
    },
    /// Query the task.
    Query {
        /// The task.
        task: TaskIds,
    },
    /// Stop the task.
    Stop {
        /// The task.
        task: TaskIds,
        /// Whether to send `async_stop: true`.
        async_stop: bool,
    },
    /// Nothing to send before `until` (or before a stop is requested): then hand
    /// [`Input::Wake`] to the machine.
    Wait {
        /// When to wake.
        until: Timestamp,
    },
    /// The session has ended; [`Session::end`](crate::Session::end) says how.
    Done,
}

/// The result of one call, as the driver hands it to the machine: what the
/// client returned after its own retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer<T> {
    /// The call did what it was asked.
    Ok(T),
    /// The call failed; the failure's resolution says what it means.
    Failed(Failure),
    /// A start or stop may have taken effect but its answer was lost.
    Ambiguous(Failure),
    /// The request was refused locally (invalid) and never sent; the text says why.
    Invalid(String),
}

/// A successful start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Started {
    /// A new task runs with this sid.
    New(Sid),
    /// The resource id already runs a task (201, code 7): keep its sid, when the
    /// answer carried one.
    Already(Option<Sid>),
}

/// What a query reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Polled {
    /// The task's status, when the answer carried one.
    pub status: Option<RecordingStatus>,
    /// How many files the task lists.
    pub files: usize,
}

/// What a stop came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopAnswer {
    /// Stopped, with the files and where they are.
    Stopped {
        /// The file names.
        files: Vec<String>,
        /// The upload state stop reported.
        uploading_status: Option<UploadingStatus>,
    },
    /// Stopped with nothing recorded (206, code 435).
    NoRecordedData,
    /// The task was already exiting (400, code 49).
    AlreadyExiting,
    /// Stop accepted, upload not confirmed (code 50).
    UploadPending,
    /// No such task (404, code 404).
    Gone,
}

/// Something the machine is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A [`Action::Wait`] ended, or the driver wants the next action (also the
    /// first input of a session, and the one to give after
    /// [`Session::request_stop`](crate::Session::request_stop)).
    Wake,
    /// The answer to [`Action::Acquire`].
    Acquired(Answer<ResourceId>),
    /// The answer to [`Action::Start`].
    Started(Answer<Started>),
    /// The answer to [`Action::Query`].
    Queried(Answer<Polled>),
    /// The answer to [`Action::Stop`].
    Stopped(Answer<StopAnswer>),
}

/// One change of state, to be published as an [`EventKind::StateChanged`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The state left; `None` for the session's first state.
    pub from: Option<SessionState>,
    /// The state entered.
    pub to: SessionState,
    /// Why, in plain words.
    pub reason: Option<String>,
}

impl Transition {
    /// The event this transition is published as.
    pub fn event_kind(&self) -> EventKind {
        EventKind::StateChanged {
            from: self.from,
            to: self.to,
            reason: self.reason.clone(),
        }
    }
}

/// How a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// The task was stopped (or had stopped by itself); `reason` says how, when it
    /// was not a plain stop.
    Stopped {
        /// The recorded file names, as stop reported them.
        files: Vec<String>,
        /// Where the files are.
        uploading_status: Option<UploadingStatus>,
        /// How it stopped, when not by a plain stop.
        reason: Option<String>,
    },
    /// The task was stopped and nothing was recorded.
    StoppedNoData,
    /// The session did not record, or could not go on; `why` names the cause.
    Failed {
        /// What went wrong and what to do.
        why: String,
    },
    /// The task disappeared (404) for the whole recovery window.
    Lost {
        /// What was seen.
        why: String,
    },
}

impl End {
    /// The state this end is reported as.
    pub fn state(&self) -> SessionState {
        match self {
            Self::Stopped { .. } => SessionState::Stopped,
            Self::StoppedNoData => SessionState::StoppedNoData,
            Self::Failed { .. } => SessionState::Failed,
            Self::Lost { .. } => SessionState::Lost,
        }
    }
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stopped {
                files,
                uploading_status,
                reason,
            } => {
                write!(f, "stopped with {} file(s)", files.len())?;
                if let Some(status) = uploading_status {
                    write!(f, ", upload {status:?}")?;
                }
                if let Some(reason) = reason {
                    write!(f, ": {reason}")?;
                }
                Ok(())
            }
            Self::StoppedNoData => f.write_str("stopped, nothing was recorded"),
            Self::Failed { why } => write!(f, "failed: {why}"),
            Self::Lost { why } => write!(f, "lost: {why}"),
        }
    }
}
