use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cloudrec_types::{AppId, Cname, Endpoint, Mode, ResourceId, Sid, Uid};
use serde::Serialize;

use crate::{Resolution, TransportErrorKind};

/// The state of a recording session, as reported in events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// A resource id was acquired; start must follow within 5 minutes.
    Acquired,
    /// Start was sent.
    Starting,
    /// Start succeeded; waiting for the task to report status 4 or 5.
    WaitingUntilRunning,
    /// The task is recording.
    Running,
    /// The task answered 404 inside the high-availability window: it is moving to
    /// another server.
    Recovering,
    /// Stop was sent.
    Stopping,
    /// Stopped with files.
    Stopped,
    /// Stopped, and nothing was recorded.
    StoppedNoData,
    /// Ended without recording, for the reason given.
    Failed,
    /// The task disappeared and could not be found again.
    Lost,
}

impl SessionState {
    /// The wire name, used in event types and routing keys (`session.<name>`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Acquired => "acquired",
            Self::Starting => "starting",
            Self::WaitingUntilRunning => "waiting_until_running",
            Self::Running => "running",
            Self::Recovering => "recovering",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::StoppedNoData => "stopped_no_data",
            Self::Failed => "failed",
            Self::Lost => "lost",
        }
    }

    /// Whether the session has ended.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Stopped | Self::StoppedNoData | Self::Failed | Self::Lost
        )
    }
}

/// Who an event is about. Fields that are not known yet (no sid before start) are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// The App ID.
    pub app_id: AppId,
    /// The channel name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cname: Option<Cname>,
    /// The recorder bot's uid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<Uid>,
    /// The recording mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// The resource id from acquire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<ResourceId>,
    /// The session id from start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<Sid>,
}

impl Subject {
    /// A subject that names only the App ID.
    pub fn app(app_id: AppId) -> Self {
        Self {
            app_id,
            cname: None,
            uid: None,
            mode: None,
            resource_id: None,
            sid: None,
        }
    }
}

/// A classified failure as carried by an event: everything a consumer needs to
/// alert or count, and no credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureReport {
    /// The operation that failed.
    pub endpoint: Endpoint,
    /// The HTTP status, when an answer arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The service error code, when the body had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// The service's reason or the gateway's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The transport failure, when no answer arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportErrorKind>,
    /// What to do about it.
    pub resolution: Resolution,
    /// The request id the service gave, for support tickets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A request is about to be sent.
    CallAttempt {
        /// The operation.
        endpoint: Endpoint,
        /// 1 for the first try.
        attempt: u32,
        /// The base URL it goes to.
        host: String,
    },
    /// A failed request will be sent again after `delay`.
    CallRetry {
        /// The operation.
        endpoint: Endpoint,
        /// The attempt that will follow.
        attempt: u32,
        /// How long the driver waits first.
        #[serde(with = "millis")]
        delay: Duration,
        /// Why it retries.
        resolution: Resolution,
    },
    /// The next attempt goes to another host.
    CallFailover {
        /// The operation.
        endpoint: Endpoint,
        /// The host that failed.
        from: String,
        /// The host tried next.
        to: String,
    },
    /// An answer or a transport failure was classified as a failure.
    CallFailed(FailureReport),
    /// The session moved to another state.
    StateChanged {
        /// The state it left, `None` for the first.
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<SessionState>,
        /// The state it entered.
        to: SessionState,
        /// Why, in plain words.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A periodic query answered; consumers may coalesce these.
    StatusPolled {
        /// The task's status number (see the query reference; 5 = recording).
        status: i64,
        /// How many files the task has reported so far.
        files: usize,
    },
    /// The journal could not be written: after a crash, `recover` may not know
    /// of this session's task.
    JournalFailed {
        /// The entry that was not written (`intent`, `live`, `done`, `dropped`).
        entry: &'static str,
        /// Whether start was withheld because of it (the session ends without a
        /// task).
        start_withheld: bool,
        /// What failed.
        error: String,
    },
    /// A verified, new notification of Agora's Notification Center Service
    /// (NCS) about a task. It is news, not truth: a session that supervises
    /// the task queries it (or stops it) and changes state on the answer only.
    Notice {
        /// The notification's `noticeId`.
        notice_id: String,
        /// The `eventType` code, e.g. 41.
        event_type: i64,
        /// The event's name: the `msgName` sent, else the documented one, else
        /// `event_<code>`; lower-case letters, digits and `_` only.
        msg_name: String,
        /// The session's `sequence` number of the notification, when sent.
        #[serde(skip_serializing_if = "Option::is_none")]
        sequence: Option<i64>,
        /// The `details` object as sent (without `msgName`), without
        /// credentials: the producer removes them (cloudrec serve masks
        /// credential-named members, URL user info and queries, and RTMP
        /// stream keys).
        details: serde_json::Value,
    },
}

impl EventKind {
    /// The dotted event type after the `io.cloudrec.` prefix, e.g.
    /// `session.running` or `error.retry_backoff`.
    pub fn type_suffix(&self) -> String {
        match self {
            Self::CallAttempt { .. } => "call.attempt".to_owned(),
            Self::CallRetry { .. } => "call.retry".to_owned(),
            Self::CallFailover { .. } => "call.failover".to_owned(),
            Self::CallFailed(report) => format!("error.{}", report.resolution.as_str()),
            Self::StateChanged { to, .. } => format!("session.{}", to.as_str()),
            Self::StatusPolled { .. } => "session.status".to_owned(),
            Self::JournalFailed { .. } => "journal.failed".to_owned(),
            Self::Notice { msg_name, .. } => format!("ncs.{msg_name}"),
        }
    }

    /// Whether losing this event loses information that a later one does not repeat.
    /// Status polls and call attempts are superseded by the next ones; transitions
    /// and failures are not.
    pub fn is_essential(&self) -> bool {
        !matches!(self, Self::StatusPolled { .. } | Self::CallAttempt { .. })
    }
}

/// One thing that happened to a session or a call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// When it happened, on the wall clock.
    pub time: SystemTime,
    /// Who it happened to; shared by the events of one call or session.
    pub subject: Arc<Subject>,
    /// What happened.
    pub kind: EventKind,
}

/// Receives events from the client and the session driver.
///
/// `emit` is called on the control path and must not block: queue, count, or drop
/// (and count what was dropped).
pub trait EventSink: Send + Sync {
    /// Takes one event.
    fn emit(&self, event: Event);

    /// Whether this sink takes events at all; `false` lets callers skip building
    /// them. Sinks that keep or forward events leave the default, `true`.
    fn enabled(&self) -> bool {
        true
    }
}

/// A sink that discards every event, for callers that want none.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: Event) {}

    fn enabled(&self) -> bool {
        false
    }
}

mod millis {
    use std::time::Duration;

    use serde::Serializer;

    pub(super) fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }
}
