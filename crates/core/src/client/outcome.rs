use cloudrec_types::{Sid, StopResponse, UploadingStatus};

/// What a start call came to, when the task is (or already was) recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartOutcome {
    /// The task started; query it after about 5 s to confirm it records.
    Started {
        /// The new session id.
        sid: Sid,
    },
    /// The resource id was already started (201, code 7): keep the existing task.
    AlreadyStarted {
        /// The running task's sid, when the answer carried one.
        sid: Option<Sid>,
    },
}

impl StartOutcome {
    /// The session id, when known.
    pub fn sid(&self) -> Option<&Sid> {
        match self {
            Self::Started { sid } => Some(sid),
            Self::AlreadyStarted { sid } => sid.as_ref(),
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
