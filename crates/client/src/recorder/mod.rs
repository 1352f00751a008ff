//! The async supervisor: many recording sessions over one client, each driven by
//! its [`Session`] state machine, with a registry of live tasks, a leak guard,
//! a journal and a bounded shutdown.
//!
//! It needs no particular runtime: it spawns through [`Spawn`] and waits through
//! the client's [`Clock`].

mod chan;
mod recover;
mod spawn;
mod status;
mod supervise;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use cloudrec_types::{
    AcquireClientRequest, Cname, Mode, ResourceId, StartClientRequest, Uid, UpdateClientRequest,
    UpdateLayoutClientRequest,
};
use tracing::Instrument;

use crate::{
    Admission, CallError, Client, Clock, End, EventSink, Journal, PolicyError, Session,
    SessionConfig, SessionState, TaskLimit, TaskRef, Transport,
};

pub use recover::{
    Found, IntentFound, Recovered, RecoveryPolicy, RecoveryReport, ResolvedIntent, missing_verdict,
};
pub use spawn::Spawn;

use crate::jitter::JitterSource;
use chan::{Receiver, Sender, mailbox};
use status::StatusCell;

/// What happens when a [`SessionHandle`] is dropped while its task records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LeakPolicy {
    /// Stop the task (the default): no task outlives its handle.
    #[default]
    Stop,
    /// Log a warning and keep supervising; [`Recorder::shutdown`] stops it.
    Warn,
}

/// The recorder's settings.
#[derive(Clone, Debug)]
pub struct RecorderConfig {
    session: Arc<SessionConfig>,
    leak: LeakPolicy,
    jitter_seed: u64,
    task_limit: Option<usize>,
    admission_poll: Duration,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            session: Arc::new(SessionConfig::default()),
            leak: LeakPolicy::Stop,
            jitter_seed: crate::jitter::unpredictable_seed(),
            task_limit: Some(TaskLimit::DEFAULT_MAX),
            admission_poll: Duration::from_secs(1),
        }
    }
}

impl RecorderConfig {
    /// The state machine settings every session uses.
    pub fn with_session(mut self, config: SessionConfig) -> Self {
        self.session = Arc::new(config);
        self
    }

    /// What a dropped handle does.
    pub fn with_leak_policy(mut self, policy: LeakPolicy) -> Self {
        self.leak = policy;
        self
    }

    /// Seeds the jitter of the query cadence with a fixed number, which repeats a
    /// simulated run (default: drawn anew for every configuration, so that
    /// recorders in different processes do not query in lockstep).
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = seed;
        self
    }

    /// At most `limit` sessions hold a task at once (default 50, the service's
    /// quota per App ID), so that acquire never meets 406 `vendor_over_load`;
    /// the others wait before acquiring. `None` removes the bound. A session
    /// resumed by [`Recorder::recover`] takes a slot if one is free.
    pub fn with_task_limit(mut self, limit: Option<usize>) -> Result<Self, PolicyError> {
        if limit == Some(0) {
            return Err(PolicyError::ZeroCount {
                setting: "task limit",
            });
        }
        self.task_limit = limit;
        Ok(self)
    }

    /// How often a session waiting for a task slot asks again (default 1 s).
    pub fn with_admission_poll(mut self, poll: Duration) -> Result<Self, PolicyError> {
        if poll.is_zero() {
            return Err(PolicyError::ZeroDuration {
                setting: "admission poll",
            });
        }
        self.admission_poll = poll;
        Ok(self)
    }
}

/// What to record: the channel, the recorder uid, the mode, and the bodies of
/// acquire and start.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionSpec {
    /// The recording mode.
    pub mode: Mode,
    /// The channel (or web task label).
    pub cname: Cname,
    /// The recorder bot's uid; a conflict or a lost task may replace it.
    pub uid: Uid,
    /// The `clientRequest` of acquire.
    pub acquire: AcquireClientRequest,
    /// The `clientRequest` of start; `None` for a session recovered from the
    /// journal, which can stop its task but not start another.
    pub start: Option<StartClientRequest>,
}

impl SessionSpec {
    /// A session recording `cname` in `mode` with the recorder uid `uid`.
    pub fn new(mode: Mode, cname: Cname, uid: Uid, start: StartClientRequest) -> Self {
        Self {
            mode,
            cname,
            uid,
            acquire: AcquireClientRequest::default(),
            start: Some(start),
        }
    }

    /// The same with an acquire `clientRequest` (scene, region, lifetime).
    pub fn with_acquire(mut self, acquire: AcquireClientRequest) -> Self {
        self.acquire = acquire;
        self
    }
}

/// A session's number within its recorder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session-{}", self.0)
    }
}

/// How a session ended, with every task it could not confirm as stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionReport {
    /// The session.
    pub id: SessionId,
    /// How it ended.
    pub end: End,
    /// The last task it supervised, if it started one.
    pub last_task: Option<TaskRef>,
    /// Tasks it started and could not confirm as stopped (lost, or stop failed);
    /// they stay in the journal.
    pub unconfirmed: Vec<TaskRef>,
    /// Resource ids on which a start may have taken effect without the sid
    /// ever arriving: a task may run there until its `maxIdleTime`.
    pub uncertain: Vec<ResourceId>,
    /// How many times it acquired again.
    pub restarts: u32,
}

/// Why a session operation did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session has ended; start a new one.
    #[error("the session has ended: start a new session")]
    Ended,
    /// The task does not run yet (or any more): wait until the session reports
    /// running.
    #[error("no task is running for this session: wait until it reports running")]
    NotRunning,
    /// The call failed.
    #[error("the call failed")]
    Call(#[source] CallError),
}

/// Where a session stands at the end of a [`Recorder::shutdown`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unstopped {
    /// The session.
    pub session: SessionId,
    /// The task that may still record, if one is known.
    pub task: Option<TaskRef>,
    /// Why it is not known to be stopped.
    pub why: String,
}

/// What [`Recorder::shutdown`] achieved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Sessions that ended with every task stopped.
    pub stopped: Vec<SessionReport>,
    /// Tasks that may still record, and why.
    pub not_stopped: Vec<Unstopped>,
}

pub(crate) enum Command {
    Stop,
    Abandon,
    QueryNow,
    HandleDropped,
    Update(Box<UpdateClientRequest>, Sender<Result<(), SessionError>>),
    UpdateLayout(
        Box<UpdateLayoutClientRequest>,
        Sender<Result<(), SessionError>>,
    ),
}

struct Entry {
    commands: Sender<Command>,
    status: Arc<StatusCell>,
}

pub(crate) struct Inner<T, C, E> {
    client: Client<T, C, E>,
    spawner: Arc<dyn Spawn>,
    journal: Mutex<Option<Arc<dyn Journal>>>,
    config: RecorderConfig,
    registry: Mutex<HashMap<SessionId, Entry>>,
    tasks: Option<Mutex<TaskLimit>>,
    next_id: AtomicU64,
    jitter: JitterSource,
}

impl<T, C, E> Inner<T, C, E> {
    /// The journal, if one was given.
    pub(crate) fn journal(&self) -> Option<Arc<dyn Journal>> {
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Takes a task slot; `true` when admitted (or unbounded).
    pub(crate) fn admit(&self) -> bool {
        match &self.tasks {
            None => true,
            Some(tasks) => matches!(
                tasks
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .try_admit(),
                Admission::Admitted
            ),
        }
    }

    /// Gives a task slot back.
    pub(crate) fn release(&self) {
        if let Some(tasks) = &self.tasks {
            tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .release();
        }
    }

    fn registry(&self) -> MutexGuard<'_, HashMap<SessionId, Entry>> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next jitter number in `[0, 1)`.
    pub(crate) fn jitter(&self) -> f64 {
        self.jitter.next()
    }
}

/// Supervises recording sessions over one [`Client`].
///
/// Each session runs in its own spawned supervisor, which performs what its
/// [`Session`] machine asks, serializes update and updateLayout, polls query with
/// jitter, and always ends with a stop or a report of why it could not stop.
/// Live tasks are kept in a registry (and in the [`Journal`], if one is given) so
/// that [`Recorder::shutdown`] can stop them all and a restarted process can
/// [`Recorder::recover`] them.
pub struct Recorder<T, C, E> {
    inner: Arc<Inner<T, C, E>>,
}

impl<T, C, E> Clone for Recorder<T, C, E> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T, C, E> fmt::Debug for Recorder<T, C, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("live_sessions", &self.inner.registry().len())
            .finish()
    }
}

impl<T, C, E> Recorder<T, C, E>
where
    T: Transport + 'static,
    C: Clock + 'static,
    E: EventSink + 'static,
{
    /// A recorder over `client`, spawning supervisors with `spawner`.
    pub fn new(client: Client<T, C, E>, spawner: Arc<dyn Spawn>, config: RecorderConfig) -> Self {
        let jitter = JitterSource::new(config.jitter_seed);
        let tasks = config
            .task_limit
            .and_then(|max| TaskLimit::new(max).ok())
            .map(Mutex::new);
        Self {
            inner: Arc::new(Inner {
                client,
                spawner,
                journal: Mutex::new(None),
                config,
                registry: Mutex::default(),
                tasks,
                next_id: AtomicU64::new(1),
                jitter,
            }),
        }
    }

    /// The same recorder writing live tasks to `journal`. Sessions started
    /// before this call are not journalled.
    pub fn with_journal(self, journal: Arc<dyn Journal>) -> Self {
        *self
            .inner
            .journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(journal);
        self
    }

    /// How many sessions are being supervised.
    pub fn live_sessions(&self) -> usize {
        self.inner.registry().len()
    }

    /// Starts a session: acquire, start, supervise. Returns at once; the handle
    /// reports progress, sends updates and stops.
    pub fn start_session(&self, spec: SessionSpec) -> SessionHandle {
        let session = Session::new(spec.uid, Arc::clone(&self.inner.config.session));
        self.supervise(spec, session)
    }

    pub(crate) fn supervise(&self, spec: SessionSpec, session: Session) -> SessionHandle {
        let id = SessionId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let (commands, inbox) = mailbox();
        let (report_tx, reports) = mailbox();
        let status = Arc::new(StatusCell::default());
        let state = session.state();
        let task = session.task().map(|task| supervise::task_ref(&spec, task));
        status.update(|status| {
            status.state = state;
            status.task = task;
        });
        self.inner.registry().insert(
            id,
            Entry {
                commands: commands.clone(),
                status: Arc::clone(&status),
            },
        );
        let inner = Arc::clone(&self.inner);
        let task_status = Arc::clone(&status);
        // Every call of the session runs inside it, so logs name the session.
        let span = tracing::info_span!(
            "cloudrec.session",
            session = id.0,
            cname = spec.cname.as_str(),
            mode = spec.mode.as_str(),
            uid = spec.uid.get(),
        );
        let mut supervisor =
            supervise::Supervisor::new(inner, id, spec, session, inbox, task_status, report_tx);
        // A resumed session already has its task: it takes a slot if one is free
        // (it cannot wait for one).
        if supervisor.has_task() {
            supervisor.admitted = self.inner.admit();
        }
        self.inner
            .spawner
            .spawn(Box::pin(supervise::run(supervisor).instrument(span)));
        SessionHandle {
            id,
            commands,
            status,
            reports,
            finished: false,
        }
    }

    /// Stops every live task, waiting at most `deadline`, and reports the tasks
    /// it could not stop (stop failed, lost, or still stopping at the deadline).
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let clock = self.inner.client.clock();
        let end = clock.now() + deadline;
        let entries: Vec<(SessionId, Arc<StatusCell>)> = {
            let registry = self.inner.registry();
            for entry in registry.values() {
                let _ = entry.commands.send(Command::Stop);
            }
            registry
                .iter()
                .map(|(id, entry)| (*id, Arc::clone(&entry.status)))
                .collect()
        };
        loop {
            let now = clock.now();
            if self.inner.registry().is_empty() || now >= end {
                break;
            }
            let step = end.saturating_since(now).min(Duration::from_millis(250));
            clock.sleep(step).await;
        }
        let mut report = ShutdownReport::default();
        let mut entries = entries;
        entries.sort_by_key(|(id, _)| *id);
        for (id, cell) in entries {
            let status = cell.lock();
            match &status.report {
                Some(done) => {
                    for task in &done.unconfirmed {
                        report.not_stopped.push(Unstopped {
                            session: id,
                            task: Some(task.clone()),
                            why: done.end.to_string(),
                        });
                    }
                    if done.unconfirmed.is_empty() {
                        report.stopped.push(done.clone());
                    }
                }
                None => report.not_stopped.push(Unstopped {
                    session: id,
                    task: status.task.clone(),
                    why: format!(
                        "still {} when the shutdown deadline of {} s passed",
                        status.state.map_or("starting", SessionState::as_str),
                        deadline.as_secs()
                    ),
                }),
            }
        }
        report
    }
}

/// One session's status at one moment, from [`SessionHandle::view`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionView {
    /// The last reported state; `None` before the first step.
    pub state: Option<SessionState>,
    /// The task, once start answered.
    pub task: Option<TaskRef>,
    /// The resource the last start was sent on, once one was.
    pub resource_id: Option<ResourceId>,
    /// How the session ended, once it did.
    pub report: Option<SessionReport>,
    version: u64,
}

/// The caller's side of one supervised session.
///
/// Dropping it without [`SessionHandle::stop`] or [`SessionHandle::finished`]
/// triggers the recorder's [`LeakPolicy`]: by default the task is stopped.
pub struct SessionHandle {
    id: SessionId,
    commands: Sender<Command>,
    status: Arc<StatusCell>,
    reports: Receiver<SessionReport>,
    finished: bool,
}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionHandle")
            .field("id", &self.id)
            .field("state", &self.state())
            .finish()
    }
}

impl SessionHandle {
    /// The session's number.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The session's last reported state.
    pub fn state(&self) -> Option<SessionState> {
        self.status.lock().state
    }

    /// The task being supervised, once start answered.
    pub fn task(&self) -> Option<TaskRef> {
        self.status.lock().task.clone()
    }

    /// Waits until the task records (status 4 or 5): its ids; or the session's
    /// end if it ended first.
    pub async fn running(&self) -> Result<TaskRef, End> {
        loop {
            let seen = self.status.version();
            {
                let status = self.status.lock();
                if let Some(report) = &status.report {
                    return Err(report.end.clone());
                }
                if status.state == Some(SessionState::Running)
                    && let Some(task) = &status.task
                {
                    return Ok(task.clone());
                }
            }
            self.status.changed(seen).await;
        }
    }

    /// The session as it is now: state, task, the resource start was sent on,
    /// and the report once it ended.
    pub fn view(&self) -> SessionView {
        let status = self.status.lock();
        SessionView {
            state: status.state,
            task: status.task.clone(),
            resource_id: status.resource_id.clone(),
            report: status.report.clone(),
            version: status.version(),
        }
    }

    /// Waits until the session changes from `seen` (at once if it already
    /// has), and answers the new view.
    pub async fn changed(&self, seen: &SessionView) -> SessionView {
        self.status.changed(seen.version).await;
        self.view()
    }

    /// Asks the session to stop its task without waiting; the end arrives in
    /// [`view`](Self::view), [`changed`](Self::changed) and
    /// [`finished`](Self::finished).
    pub fn request_stop(&self) {
        let _ = self.commands.send(Command::Stop);
    }

    /// Gives the session up without another call: the supervisor ends at its
    /// next step, its task keeps recording and leaves this recorder's journal.
    /// For a session another process now owns (taken over in a fleet); the
    /// report says it was handed over.
    pub fn abandon(&self) {
        let _ = self.commands.send(Command::Abandon);
    }

    /// Asks the session to query its task now instead of at the next poll,
    /// without waiting: for news that the task may have changed, such as an NCS
    /// notification. The session changes state on the query's answer only
    /// (the news may be late, repeated or forged), so a wrong poke costs one
    /// query. It does nothing before the task started, while stopping, or once
    /// ended; pokes that arrive together give one query.
    pub fn query_now(&self) {
        let _ = self.commands.send(Command::QueryNow);
    }

    /// Sends an update (subscriptions, web recording, RTMP, storage credentials)
    /// to the running task, after any earlier update of this session.
    pub async fn update(&self, request: UpdateClientRequest) -> Result<(), SessionError> {
        let (reply, answer) = mailbox();
        self.commands
            .send(Command::Update(Box::new(request), reply))
            .map_err(|_| SessionError::Ended)?;
        answer.recv().await.unwrap_or(Err(SessionError::Ended))
    }

    /// Replaces the mix layout of the running task, after any earlier update of
    /// this session.
    pub async fn update_layout(
        &self,
        request: UpdateLayoutClientRequest,
    ) -> Result<(), SessionError> {
        let (reply, answer) = mailbox();
        self.commands
            .send(Command::UpdateLayout(Box::new(request), reply))
            .map_err(|_| SessionError::Ended)?;
        answer.recv().await.unwrap_or(Err(SessionError::Ended))
    }

    /// Stops the session's task and waits for the session's end.
    pub async fn stop(mut self) -> SessionReport {
        let _ = self.commands.send(Command::Stop);
        self.wait().await
    }

    /// Waits for the session to end on its own (lost, failed, idle exit) without
    /// stopping it.
    pub async fn finished(mut self) -> SessionReport {
        self.wait().await
    }

    async fn wait(&mut self) -> SessionReport {
        let report = self.reports.recv().await;
        self.finished = true;
        match report {
            Some(report) => report,
            None => SessionReport {
                id: self.id,
                end: End::Failed {
                    why: "the supervisor ended without a report: its runtime was shut down".into(),
                },
                last_task: self.task(),
                unconfirmed: self.task().into_iter().collect(),
                uncertain: Vec::new(),
                restarts: 0,
            },
        }
    }
}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.commands.send(Command::HandleDropped);
        }
    }
}
