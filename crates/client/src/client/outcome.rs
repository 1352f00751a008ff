use cloudrec_types::{
    Cname, Mode, ResourceId, Sid, StartResponse, StopResponse, Uid, UploadingStatus,
};

use crate::{CallError, Resolution, TaskRef};

/// What a start call came to, when the task is (or already was) recording.
///
/// It carries the [`TaskRef`] that [`Client::query`](crate::Client::query),
/// `update`, `update_layout` and `stop` take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartOutcome {
    /// The task started; query it after about 5 s to confirm it records.
    Started {
        /// The new task.
        task: TaskRef,
    },
    /// The resource id was already started (201, code 7): keep the existing task.
    AlreadyStarted {
        /// The running task, when the answer named its sid.
        task: Option<TaskRef>,
    },
}

impl StartOutcome {
    /// The task, when its sid is known.
    pub fn task(&self) -> Option<&TaskRef> {
        match self {
            Self::Started { task } => Some(task),
            Self::AlreadyStarted { task } => task.as_ref(),
        }
    }

    /// The task, when its sid is known, by value.
    pub fn into_task(self) -> Option<TaskRef> {
        match self {
            Self::Started { task } => Some(task),
            Self::AlreadyStarted { task } => task,
        }
    }

    /// The session id, when known.
    pub fn sid(&self) -> Option<&Sid> {
        self.task().map(|task| &task.sid)
    }
}

impl StartOutcome {
    /// What the answer to a start of `cname`/`uid` in `mode` on `resource_id`
    /// came to: a duplicate start (201, code 7) is not an error.
    pub(crate) fn of(
        answer: Result<StartResponse, CallError>,
        resource_id: &ResourceId,
        mode: &Mode,
        cname: &Cname,
        uid: Uid,
    ) -> Result<Self, CallError> {
        let task = |sid: Sid| TaskRef {
            resource_id: resource_id.clone(),
            sid,
            mode: mode.clone(),
            cname: cname.clone(),
            uid,
        };
        match answer {
            Ok(response) => Ok(Self::Started {
                task: task(response.sid),
            }),
            Err(CallError::Failed { failure, .. })
                if failure.resolution() == Resolution::DoNotRepeat =>
            {
                Ok(Self::AlreadyStarted {
                    task: failure.sid().cloned().map(task),
                })
            }
            Err(other) => Err(other),
        }
    }
}

/// What a stop call came to. Every variant means the task no longer records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopOutcome {
    /// Stopped; the answer lists the files and where they are.
    Stopped {
        /// The full answer.
        response: Box<StopResponse>,
    },
    /// Stopped, and nothing was recorded: nobody published a stream (206, code 435).
    NoRecordedData,
    /// The task was already exiting: a second stop, the bot was kicked, or the
    /// channel was idle for `maxIdleTime` (400, code 49).
    AlreadyExiting,
    /// Stop was accepted but the upload did not finish within the synchronous
    /// stop's time (code 50): watch the upload notifications or query again.
    UploadPending,
    /// The task was not found (404, code 404). It ended earlier, or it is failing
    /// over: the session driver decides which with its recovery window.
    Gone,
}

impl StopOutcome {
    /// The recorded file names, for a stop with files.
    pub fn file_names(&self) -> Vec<&str> {
        match self {
            Self::Stopped { response } => response.file_names(),
            Self::NoRecordedData | Self::AlreadyExiting | Self::UploadPending | Self::Gone => {
                Vec::new()
            }
        }
    }

    /// The upload state, for a stop with files.
    pub fn uploading_status(&self) -> Option<&UploadingStatus> {
        match self {
            Self::Stopped { response } => response.uploading_status(),
            Self::NoRecordedData | Self::AlreadyExiting | Self::UploadPending | Self::Gone => None,
        }
    }
}
