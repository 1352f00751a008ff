//! The recordings this process supervises: each one a session of its App ID's
//! recorder and a watcher that writes every change to the store, fenced by the
//! epoch this process claimed it with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use cloudrec_client::store::{
    Command, CommandId, CommandKind, CommandState, Idempotency, ListQuery, NewSession, SessionRow,
    SessionStore, SessionUpdate, StoreError,
};
use cloudrec_client::{
    RecoveryPolicy, SessionError, SessionHandle, SessionReport, SessionSpec, SessionView,
};
use cloudrec_core::{End, Subject, TaskRef};
use cloudrec_fleet::StoreKey;
use cloudrec_types::{
    Cname, Mode, ResourceId, Sid, StartClientRequest, Uid, UpdateClientRequest,
    UpdateLayoutClientRequest,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::app::App;
use crate::create::{self, Checked};
use crate::metrics::Metrics;
use crate::problem::Problem;
use crate::recording::{Recording, Report, WAITING};

/// How the service ends on SIGTERM or SIGINT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnShutdown {
    /// Release every lease without stopping anything: another worker (or this
    /// one, restarted) takes the recordings over.
    Handoff,
    /// Stop every recording this process supervises, then exit.
    Stop,
}

/// What a caller asks of a live recording.
enum Order {
    Stop,
    /// Another worker owns it now: stop acting on it, without a call.
    Abandon,
    QueryNow,
    Update(
        Box<UpdateClientRequest>,
        oneshot::Sender<Result<(), SessionError>>,
    ),
    UpdateLayout(
        Box<UpdateLayoutClientRequest>,
        oneshot::Sender<Result<(), SessionError>>,
    ),
}

/// What an NCS notification asks of the session that supervises its task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeAction {
    /// Query the task now ([`SessionHandle::query_now`]).
    QueryNow,
    /// Stop the task and collect its files now (the task exited or is failing
    /// for good): the stop's answer decides how the recording ended.
    Stop,
}

/// The settings of the sessions part of the service.
#[derive(Clone, Debug)]
pub struct SessionsConfig {
    /// This worker's name, the owner written in the store.
    pub worker: String,
    /// How long a lease runs without renewal.
    pub lease: Duration,
    /// The key that seals start bodies in the store; without one, start bodies
    /// are not stored and a restarted service cannot start a recording that had
    /// not started yet.
    pub store_key: Option<StoreKey>,
}

/// The recordings of this process, over the shared store.
pub struct Sessions {
    store: Arc<dyn SessionStore>,
    apps: Vec<App>,
    config: SessionsConfig,
    metrics: Metrics,
    live: Mutex<HashMap<Uuid, mpsc::UnboundedSender<Order>>>,
    /// The live recordings by their task's sid, with who events about it name.
    by_sid: Mutex<HashMap<String, (Uuid, Arc<Subject>)>>,
    idle: tokio::sync::Notify,
    /// Woken when a command may be waiting in the store for this worker.
    commands: tokio::sync::Notify,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("worker", &self.config.worker)
            .field("live", &self.live_count())
            .finish_non_exhaustive()
    }
}

/// How often a worker that left a command looks whether it was applied.
pub const COMMAND_POLL: Duration = Duration::from_millis(100);

/// How long an update or updateLayout left for another worker waits for
/// that worker to apply it before the answer is 504 (the command stays
/// queued).
pub const COMMAND_WAIT: Duration = Duration::from_secs(10);

/// The longest wait for the first store write of a recording's end.
const END_WRITE_TRIES: u32 = 20;

fn store_problem(error: &StoreError) -> Problem {
    Problem::unavailable(format!("the session store failed: {error}"))
}

/// The text of a report's end: state, reason, files, upload status.
fn report_of(report: &SessionReport) -> Report {
    let mut out = match &report.end {
        End::Stopped {
            files,
            uploading_status,
            reason,
        } => Report {
            reason: reason.clone(),
            files: files.clone(),
            uploading_status: uploading_status.as_ref().map(|s| s.as_str().to_owned()),
        },
        End::StoppedNoData => Report {
            reason: Some("nothing was recorded".to_owned()),
            ..Report::default()
        },
        End::Failed { why } | End::Lost { why } => Report {
            reason: Some(why.clone()),
            ..Report::default()
        },
    };
    if !report.unconfirmed.is_empty() {
        let sids: Vec<&str> = report.unconfirmed.iter().map(|t| t.sid.as_str()).collect();
        let note = format!(
            "task(s) {} could not be confirmed as stopped and may record until their maxIdleTime",
            sids.join(", ")
        );
        out.reason = Some(match out.reason {
            Some(reason) => format!("{reason}; {note}"),
            None => note,
        });
    }
    out
}

/// What the store should hold for a session that looks like `view`.
fn update_of(view: &SessionView, snapshot: &serde_json::Value) -> SessionUpdate {
    let (state, report) = match &view.report {
        Some(report) => (report.end.state().as_str(), report_of(report)),
        None => (
            view.state.map_or(WAITING, |state| state.as_str()),
            Report::default(),
        ),
    };
    let resource_id = view
        .task
        .as_ref()
        .map(|task| task.resource_id.as_str().to_owned())
        .or_else(|| view.resource_id.as_ref().map(|r| r.as_str().to_owned()));
    SessionUpdate {
        state: state.to_owned(),
        snapshot: snapshot.clone(),
        report: serde_json::to_value(report).unwrap_or_default(),
        resource_id,
        sid: view.task.as_ref().map(|task| task.sid.as_str().to_owned()),
    }
}

impl Sessions {
    /// The recordings of `apps` (the first is the default App ID) over `store`.
    pub fn new(
        store: Arc<dyn SessionStore>,
        apps: Vec<App>,
        config: SessionsConfig,
        metrics: Metrics,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            apps,
            config,
            metrics,
            live: Mutex::default(),
            by_sid: Mutex::default(),
            idle: tokio::sync::Notify::new(),
            commands: tokio::sync::Notify::new(),
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// This worker's name.
    pub fn worker(&self) -> &str {
        &self.config.worker
    }

    /// How many recordings this process supervises now.
    pub fn live_count(&self) -> usize {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The default App ID (the first configured).
    pub fn default_app_id(&self) -> Option<&cloudrec_types::AppId> {
        self.apps.first().map(|app| &app.id)
    }

    /// Hands an NCS notification's `action` to the live recording whose task
    /// has `sid`; answers who the recording's events name, or `None` when no
    /// recording of this process has that sid (then
    /// [`forward_notice`](Self::forward_notice) leaves it for the owner).
    pub fn notice(&self, sid: &str, action: NoticeAction) -> Option<Arc<Subject>> {
        let (id, subject) = self
            .by_sid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sid)
            .cloned()?;
        let orders = self.order(id)?;
        let order = match action {
            NoticeAction::QueryNow => Order::QueryNow,
            NoticeAction::Stop => Order::Stop,
        };
        orders.send(order).ok()?;
        Some(subject)
    }

    /// Leaves an NCS notification's `action` in the store for the worker that
    /// owns the recording whose task has `sid` (a `query_now` or `stop`
    /// command); answers who the recording's events name, or `None` when no
    /// recording that has not ended has that sid (or the store failed).
    pub async fn forward_notice(&self, sid: &str, action: NoticeAction) -> Option<Arc<Subject>> {
        let row = match self.store.find_by_sid(sid).await {
            Ok(row) => row?,
            Err(error) => {
                self.metrics.store_failed("find_by_sid");
                tracing::warn!(%error, sid, "cannot look the notification's recording up");
                return None;
            }
        };
        if is_terminal(&row.state) {
            return None;
        }
        let kind = match action {
            NoticeAction::QueryNow => CommandKind::QueryNow,
            NoticeAction::Stop => CommandKind::Stop,
        };
        if let Err(error) = self
            .store
            .send_command(row.id, kind, &serde_json::Value::Null)
            .await
        {
            self.metrics.store_failed("send_command");
            tracing::warn!(%error, sid, "cannot leave the notification for the recording's owner");
            return None;
        }
        let app_id = cloudrec_types::AppId::new(row.app_id.as_str()).ok()?;
        Some(Arc::new(Subject {
            cname: Cname::new(row.cname.as_str()).ok(),
            uid: row
                .uid
                .parse::<u32>()
                .ok()
                .and_then(|uid| Uid::new(uid).ok()),
            resource_id: row
                .resource_id
                .as_deref()
                .and_then(|r| ResourceId::new(r).ok()),
            sid: Sid::new(sid).ok(),
            ..Subject::app(app_id)
        }))
    }

    /// Who the events of the live recording whose task has `sid` name, if
    /// this process supervises one.
    pub fn subject_of(&self, sid: &str) -> Option<Arc<Subject>> {
        self.by_sid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sid)
            .map(|(_, subject)| Arc::clone(subject))
    }

    fn app(&self, id: Option<&str>) -> Result<&App, Problem> {
        match id {
            None => self
                .apps
                .first()
                .ok_or_else(|| Problem::internal("the service has no App ID configured")),
            Some(id) => self
                .apps
                .iter()
                .find(|app| app.id.as_str() == id)
                .ok_or_else(|| {
                    let known: Vec<&str> = self.apps.iter().map(|app| app.id.as_str()).collect();
                    Problem::invalid(
                        "appId",
                        format!(
                            "this service does not record on App ID {id}; it records on {}",
                            known.join(", ")
                        ),
                    )
                }),
        }
    }

    /// Creates a recording from a raw `POST /v1/recordings` body: `Ok((recording,
    /// true))` when it is new, `Ok((recording, false))` for a repeat of an
    /// earlier request with the same idempotency key and body.
    pub async fn create(
        self: &Arc<Self>,
        body: &[u8],
        idempotency_key: Option<&str>,
    ) -> Result<(Recording, bool), Problem> {
        let checked: Checked = create::check(body)?;
        let app = self.app(checked.app_id.as_deref())?.clone();
        let idempotency = match idempotency_key {
            None => None,
            Some(key) => {
                if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(Problem::invalid(
                        "Idempotency-Key",
                        "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
                    ));
                }
                Some(Idempotency {
                    key: key.to_owned(),
                    request_hash: create::request_hash(body),
                })
            }
        };
        let spec = checked.spec;
        let new = NewSession {
            app_id: app.id.as_str().to_owned(),
            mode: spec.mode.as_str().to_owned(),
            cname: spec.cname.as_str().to_owned(),
            uid: spec.uid.get().to_string(),
            state: WAITING.to_owned(),
            snapshot: serde_json::json!({}),
            request: checked.shown,
            sealed_start: self
                .config
                .store_key
                .as_ref()
                .map(|key| key.seal(&checked.start_json)),
            idempotency: idempotency.clone(),
        };
        let created = self
            .store
            .create(&self.config.worker, self.config.lease, &new)
            .await
            .map_err(|error| {
                self.metrics.store_failed("create");
                store_problem(&error)
            })?;
        if created.existing {
            let same = created.row.idempotency.as_ref().map(|i| &i.request_hash)
                == idempotency.as_ref().map(|i| &i.request_hash);
            if !same {
                return Err(Problem::conflict(
                    "this Idempotency-Key was used with another body: use a new key for a new recording",
                ));
            }
            return Ok((Recording::from(&created.row), false));
        }
        self.metrics.session_moved(None, Some(WAITING));
        let handle = app.recorder.start_session(spec);
        let recording = Recording::from(&created.row);
        self.watch(created.row, handle);
        Ok((recording, true))
    }

    /// The recording `id`.
    pub async fn get(&self, id: Uuid) -> Result<Recording, Problem> {
        match self.store.get(id).await {
            Ok(Some(row)) => Ok(Recording::from(&row)),
            Ok(None) => Err(Problem::not_found(format!("no recording has the id {id}"))),
            Err(error) => {
                self.metrics.store_failed("get");
                Err(store_problem(&error))
            }
        }
    }

    /// One page of recordings.
    pub async fn list(&self, query: &ListQuery) -> Result<Vec<Recording>, Problem> {
        self.store
            .list(query)
            .await
            .map(|rows| rows.iter().map(Recording::from).collect())
            .map_err(|error| {
                self.metrics.store_failed("list");
                store_problem(&error)
            })
    }

    fn order(&self, id: Uuid) -> Option<mpsc::UnboundedSender<Order>> {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    /// Asks recording `id` to stop; answers it as it is now. Stopping a
    /// recording that has ended is not an error. A recording another worker
    /// supervises (or that is being taken over) gets a stop command in the
    /// store, which its owner applies.
    pub async fn stop(&self, id: Uuid) -> Result<Recording, Problem> {
        let recording = self.get(id).await?;
        if let Some(orders) = self.order(id) {
            let _ = orders.send(Order::Stop);
            return Ok(recording);
        }
        if is_terminal(&recording.state) {
            return Ok(recording);
        }
        self.send_command(id, CommandKind::Stop, &serde_json::Value::Null)
            .await?;
        Ok(recording)
    }

    /// Sends an update to recording `id` and waits for the service's answer.
    pub async fn update(&self, id: Uuid, body: &[u8]) -> Result<Recording, Problem> {
        let request: UpdateClientRequest = client_request_of(body)?;
        let recording = self.get(id).await?;
        if self.elsewhere(&recording) {
            let body = serde_json::to_value(&request)
                .map_err(|error| Problem::internal(error.to_string()))?;
            return self.forward(recording, CommandKind::Update, &body).await;
        }
        let (reply, answer) = oneshot::channel();
        self.send(&recording, Order::Update(Box::new(request), reply))?;
        finish(answer.await, recording)
    }

    /// Whether `recording` has not ended and no watcher of this process
    /// supervises it: another worker does (or will, once it is taken over).
    fn elsewhere(&self, recording: &Recording) -> bool {
        !is_terminal(&recording.state) && self.order(recording.id).is_none()
    }

    async fn send_command(
        &self,
        id: Uuid,
        kind: CommandKind,
        body: &serde_json::Value,
    ) -> Result<CommandId, Problem> {
        let sent = self.store.send_command(id, kind, body).await;
        sent.map_err(|error| {
            self.metrics.store_failed("send_command");
            store_problem(&error)
        })
    }

    /// Leaves a command for the owner of `recording` and waits, looking every
    /// [`COMMAND_POLL`] for up to [`COMMAND_WAIT`], for its outcome: the
    /// recording when it was applied, the owner's problem when it failed, 504
    /// when it was not applied in time (it stays queued).
    async fn forward(
        &self,
        recording: Recording,
        kind: CommandKind,
        body: &serde_json::Value,
    ) -> Result<Recording, Problem> {
        let id = self.send_command(recording.id, kind, body).await?;
        let until = tokio::time::Instant::now() + COMMAND_WAIT;
        loop {
            tokio::time::sleep(COMMAND_POLL).await;
            match self.store.command(id).await {
                Ok(Some(Command {
                    state: CommandState::Done,
                    ..
                })) => return Ok(recording),
                Ok(Some(Command {
                    state: CommandState::Failed,
                    result,
                    ..
                })) => return Err(problem_of(result.as_deref())),
                Ok(_) => {}
                Err(error) => {
                    self.metrics.store_failed("command");
                    tracing::warn!(%error, command = %id, "cannot read the outcome of a command");
                }
            }
            if tokio::time::Instant::now() >= until {
                let owner = recording.owner.as_deref().map_or_else(
                    || "no worker owns the recording right now".to_owned(),
                    |owner| format!("worker {owner} owns the recording"),
                );
                return Err(Problem::not_applied(format!(
                    "the command ({id}) was not applied within {}s ({owner}); it stays queued and its owner applies it when it can: look at the recording before sending it again",
                    COMMAND_WAIT.as_secs()
                )));
            }
        }
    }

    /// Wakes the task that applies this worker's commands: one may be waiting
    /// in the store (a notification, a takeover).
    pub fn commands_arrived(&self) {
        self.commands.notify_one();
    }

    /// Waits until [`commands_arrived`](Self::commands_arrived) is called
    /// (at once if it was called since the last wait).
    pub async fn commands_waiting(&self) {
        self.commands.notified().await;
    }

    /// Applies the commands other workers left for the recordings this worker
    /// owns: each session's in the order they were sent, sessions side by
    /// side. A command is finished in the store once applied (an update once
    /// the service answered), with the problem the asker is to answer when it
    /// failed. A command for a recording this process does not supervise
    /// stays pending for its next owner, unless the recording has ended.
    /// Answers how many were applied.
    pub async fn apply_commands(self: &Arc<Self>) -> Result<usize, StoreError> {
        let commands = self.store.pending_commands(&self.config.worker).await?;
        let mut by_session: Vec<(Uuid, Vec<Command>)> = Vec::new();
        for command in commands {
            match by_session
                .iter_mut()
                .find(|(id, _)| *id == command.session_id)
            {
                Some((_, queue)) => queue.push(command),
                None => by_session.push((command.session_id, vec![command])),
            }
        }
        let mut runs = tokio::task::JoinSet::new();
        for (id, queue) in by_session {
            let sessions = Arc::clone(self);
            runs.spawn(async move { sessions.apply_queue(id, queue).await });
        }
        let mut applied = 0;
        while let Some(done) = runs.join_next().await {
            applied += done.unwrap_or(0);
        }
        Ok(applied)
    }

    async fn apply_queue(&self, id: Uuid, queue: Vec<Command>) -> usize {
        let mut applied = 0;
        for command in queue {
            let outcome = match self.order(id) {
                Some(orders) => self.apply(&orders, &command).await,
                None => match self.store.get(id).await {
                    Ok(Some(row)) if is_terminal(&row.state) => match command.kind {
                        CommandKind::Update | CommandKind::UpdateLayout => Err(Problem::conflict(
                            format!("the recording has ended ({}): create a new one", row.state),
                        )),
                        _ => Ok(()),
                    },
                    // Not supervised here: the next owner applies it.
                    _ => return applied,
                },
            };
            let result = outcome
                .as_ref()
                .err()
                .map(|problem| serde_json::to_string(problem).unwrap_or_default());
            if let Err(error) = self
                .store
                .finish_command(command.id, outcome.is_ok(), result.as_deref())
                .await
            {
                self.metrics.store_failed("finish_command");
                tracing::error!(%error, command = %command.id, recording = %id, "applied a command but could not mark it done: it may be applied again");
                return applied;
            }
            tracing::info!(command = %command.id, recording = %id, kind = command.kind.as_str(), ok = outcome.is_ok(), "applied a command from another worker");
            applied += 1;
        }
        applied
    }

    async fn apply(
        &self,
        orders: &mpsc::UnboundedSender<Order>,
        command: &Command,
    ) -> Result<(), Problem> {
        let ended = || Problem::conflict("the recording has ended: create a new one");
        match command.kind {
            // Stopping a recording that has just ended is not an error.
            CommandKind::Stop => {
                let _ = orders.send(Order::Stop);
                Ok(())
            }
            CommandKind::QueryNow => {
                let _ = orders.send(Order::QueryNow);
                Ok(())
            }
            CommandKind::Update => {
                let request: UpdateClientRequest = serde_json::from_value(command.body.clone())
                    .map_err(|error| {
                        Problem::invalid(
                            "clientRequest",
                            format!(
                                "the stored update does not fit the REST API's schema: {}",
                                cloudrec_types::redact::serde_message(&error)
                            ),
                        )
                    })?;
                let (reply, answer) = oneshot::channel();
                orders
                    .send(Order::Update(Box::new(request), reply))
                    .map_err(|_| ended())?;
                outcome(answer.await)
            }
            CommandKind::UpdateLayout => {
                let request: UpdateLayoutClientRequest =
                    serde_json::from_value(command.body.clone()).map_err(|error| {
                        Problem::invalid(
                            "clientRequest",
                            format!(
                                "the stored updateLayout does not fit the REST API's schema: {}",
                                cloudrec_types::redact::serde_message(&error)
                            ),
                        )
                    })?;
                let (reply, answer) = oneshot::channel();
                orders
                    .send(Order::UpdateLayout(Box::new(request), reply))
                    .map_err(|_| ended())?;
                outcome(answer.await)
            }
            _ => Err(Problem::internal(format!(
                "this worker cannot apply a {} command",
                command.kind.as_str()
            ))),
        }
    }

    /// Sends an updateLayout to recording `id` (mix mode only).
    pub async fn update_layout(&self, id: Uuid, body: &[u8]) -> Result<Recording, Problem> {
        let request: UpdateLayoutClientRequest = client_request_of(body)?;
        let recording = self.get(id).await?;
        if recording.mode != "mix" {
            return Err(Problem::conflict(format!(
                "updateLayout applies to mix recordings; this one is {}",
                recording.mode
            )));
        }
        if self.elsewhere(&recording) {
            let body = serde_json::to_value(&request)
                .map_err(|error| Problem::internal(error.to_string()))?;
            return self
                .forward(recording, CommandKind::UpdateLayout, &body)
                .await;
        }
        let (reply, answer) = oneshot::channel();
        self.send(&recording, Order::UpdateLayout(Box::new(request), reply))?;
        finish(answer.await, recording)
    }

    fn send(&self, recording: &Recording, order: Order) -> Result<(), Problem> {
        if is_terminal(&recording.state) {
            return Err(Problem::conflict(format!(
                "the recording has ended ({}): create a new one",
                recording.state
            )));
        }
        match self.order(recording.id) {
            Some(orders) => orders
                .send(order)
                .map_err(|_| Problem::conflict("the recording ended while the request arrived")),
            None => Err(not_here()),
        }
    }

    /// Supervises `row` through `handle` until it ends, writing every change.
    fn watch(self: &Arc<Self>, row: SessionRow, handle: SessionHandle) {
        let (orders, inbox) = mpsc::unbounded_channel();
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(row.id, orders);
        let sessions = Arc::clone(self);
        tokio::spawn(async move {
            let id = row.id;
            sessions.follow(row, handle, inbox).await;
            sessions
                .by_sid
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, (owner, _)| *owner != id);
            sessions
                .live
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
            sessions.idle.notify_waiters();
        });
    }

    async fn follow(
        &self,
        row: SessionRow,
        handle: SessionHandle,
        mut inbox: mpsc::UnboundedReceiver<Order>,
    ) {
        let mut stored = row.state.clone();
        let mut view = handle.view();
        let mut orders_open = true;
        let mut known_sid: Option<String> = None;
        loop {
            self.learn_sid(&row, &view, &mut known_sid);
            let ended = view.report.is_some();
            let update = update_of(&view, &row.snapshot);
            if update.state != stored || ended {
                match self.write(&row, &update, ended).await {
                    Ok(()) => {
                        self.metrics
                            .session_moved(Some(&stored), Some(&update.state));
                        stored = update.state;
                    }
                    Err(StoreError::Fenced(fenced)) => {
                        tracing::warn!(recording = %row.id, %fenced, "the recording is not this worker's any more: it stops acting on it");
                        self.metrics.session_moved(Some(&stored), None);
                        return;
                    }
                    Err(error) => {
                        tracing::error!(recording = %row.id, %error, "could not write the recording's state");
                    }
                }
            }
            if ended {
                if !is_terminal(&stored) {
                    self.metrics.session_moved(Some(&stored), None);
                }
                return;
            }
            tokio::select! {
                next = handle.changed(&view) => view = next,
                order = inbox.recv(), if orders_open => match order {
                    Some(Order::Stop) => handle.request_stop(),
                    Some(Order::Abandon) => {
                        handle.abandon();
                        self.metrics.session_moved(Some(&stored), None);
                        return;
                    }
                    Some(Order::QueryNow) => handle.query_now(),
                    Some(Order::Update(request, reply)) => {
                        let _ = reply.send(handle.update(*request).await);
                    }
                    Some(Order::UpdateLayout(request, reply)) => {
                        let _ = reply.send(handle.update_layout(*request).await);
                    }
                    None => orders_open = false,
                },
            }
        }
    }

    /// Files the recording under its task's sid once the task is known (and
    /// again when a restart gave it another task), so that notifications
    /// about the task reach it.
    fn learn_sid(&self, row: &SessionRow, view: &SessionView, known: &mut Option<String>) {
        let Some(task) = &view.task else {
            return;
        };
        if known.as_deref() == Some(task.sid.as_str()) {
            return;
        }
        let Some(app) = self.apps.iter().find(|app| app.id.as_str() == row.app_id) else {
            return;
        };
        let subject = Subject {
            cname: Some(task.cname.clone()),
            uid: Some(task.uid),
            mode: Some(task.mode.clone()),
            resource_id: Some(task.resource_id.clone()),
            sid: Some(task.sid.clone()),
            ..Subject::app(app.id.clone())
        };
        let mut by_sid = self.by_sid.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = known.take() {
            by_sid.remove(&old);
        }
        by_sid.insert(task.sid.as_str().to_owned(), (row.id, Arc::new(subject)));
        *known = Some(task.sid.as_str().to_owned());
    }

    /// Writes `update`; the end of a recording is tried again while the store
    /// fails, so that it is not left looking alive.
    async fn write(
        &self,
        row: &SessionRow,
        update: &SessionUpdate,
        ended: bool,
    ) -> Result<(), StoreError> {
        let mut tries = 0;
        loop {
            let result = self
                .store
                .write(&self.config.worker, row.id, row.epoch, update)
                .await;
            match result {
                Err(StoreError::Fenced(_)) | Ok(()) => return result,
                Err(error) => {
                    self.metrics.store_failed("write");
                    tries += 1;
                    if !ended || tries >= END_WRITE_TRIES {
                        return Err(error);
                    }
                    tokio::time::sleep(Duration::from_millis(250 * u64::from(tries.min(8)))).await;
                }
            }
        }
    }

    /// Takes over what this worker owned before a restart and what no live
    /// worker owns, and supervises it again: tasks named by a journal or the
    /// store are queried, then watched; recordings that never started are
    /// started from their sealed body, or failed when no key sealed it.
    pub async fn resume(self: &Arc<Self>) -> Result<usize, StoreError> {
        let mut journalled: Vec<SessionHandle> = Vec::new();
        for app in &self.apps {
            match app.recorder.recover(RecoveryPolicy::Resume).await {
                Ok(report) => journalled.extend(report.resumed),
                Err(error) => {
                    tracing::error!(app = app.id.as_str(), %error, "the journal could not be read: tasks it named are resumed from the store only");
                }
            }
        }
        self.store.release(&self.config.worker).await?;
        let resumed = self.claim(&mut journalled).await?;
        for orphan in journalled {
            self.settle_orphan(orphan).await;
        }
        Ok(resumed)
    }

    /// A task the journal named that no claimed recording matched: another
    /// worker's now (given up), or nobody's (stopped: nobody asked for it).
    async fn settle_orphan(&self, orphan: SessionHandle) {
        let Some(task) = orphan.task() else {
            orphan.abandon();
            return;
        };
        let query = ListQuery {
            limit: crate::api::MAX_PAGE,
            ..ListQuery::default()
        };
        let mut after = None;
        loop {
            let page = match self
                .store
                .list(&ListQuery {
                    after,
                    ..query.clone()
                })
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    // Unknown: leave the task alone rather than stop another worker's.
                    tracing::error!(%error, sid = task.sid.as_str(), "cannot tell whose journalled task this is: left recording");
                    orphan.abandon();
                    return;
                }
            };
            if let Some(row) = page
                .iter()
                .find(|row| row.sid.as_deref() == Some(task.sid.as_str()))
            {
                if !is_terminal(&row.state) {
                    tracing::info!(sid = task.sid.as_str(), owner = ?row.owner, "a journalled task belongs to a recording of another worker: given up");
                    orphan.abandon();
                    return;
                }
                break;
            }
            match page.last() {
                Some(last) if page.len() == query.limit as usize => after = Some(last.id),
                _ => break,
            }
        }
        tracing::warn!(
            sid = task.sid.as_str(),
            "a journalled task belongs to no live recording: it is stopped"
        );
        tokio::spawn(orphan.stop());
    }

    /// Claims unowned or expired recordings and supervises them.
    pub async fn claim(
        self: &Arc<Self>,
        journalled: &mut Vec<SessionHandle>,
    ) -> Result<usize, StoreError> {
        let rows = self
            .store
            .claim(&self.config.worker, self.config.lease, 10_000)
            .await?;
        let count = rows.len();
        self.metrics.took_over(count as u64);
        for row in rows {
            self.metrics.session_moved(None, Some(&row.state));
            self.take(row, journalled).await;
        }
        Ok(count)
    }

    async fn take(self: &Arc<Self>, row: SessionRow, journalled: &mut Vec<SessionHandle>) {
        let Ok(app) = self.app(Some(&row.app_id)).cloned() else {
            self.fail(&row, format!("this service has no credentials for App ID {}: it cannot supervise the recording", row.app_id)).await;
            return;
        };
        let ids = ids_of(&row);
        let found = journalled.iter().position(|handle| {
            let Some(task) = handle.task() else {
                return false;
            };
            match &row.sid {
                Some(sid) => task.sid.as_str() == sid,
                None => ids.as_ref().is_ok_and(|(mode, cname, uid)| {
                    task.mode == *mode && task.cname == *cname && task.uid == *uid
                }),
            }
        });
        if let Some(index) = found {
            let handle = journalled.swap_remove(index);
            self.watch(row, handle);
            return;
        }
        let Ok((mode, cname, uid)) = ids else {
            self.fail(
                &row,
                "the stored recording has an unreadable mode, channel or uid".to_owned(),
            )
            .await;
            return;
        };
        if let (Some(resource_id), Some(sid)) = (&row.resource_id, &row.sid) {
            let (Ok(resource_id), Ok(sid)) = (
                ResourceId::new(resource_id.as_str()),
                Sid::new(sid.as_str()),
            ) else {
                self.fail(
                    &row,
                    "the stored resource id or sid is unreadable".to_owned(),
                )
                .await;
                return;
            };
            let task = TaskRef {
                resource_id,
                sid,
                mode,
                cname,
                uid,
            };
            let handle = app.recorder.resume(&task);
            self.watch(row, handle);
            return;
        }
        let start = row
            .sealed_start
            .as_ref()
            .zip(self.config.store_key.as_ref())
            .and_then(|(sealed, key)| key.open(sealed).ok())
            .and_then(|json| serde_json::from_slice::<StartClientRequest>(&json).ok());
        match start {
            Some(start) => {
                let acquire = row
                    .request
                    .get("acquire")
                    .filter(|value| !value.is_null())
                    .and_then(|value| serde_json::from_value(value.clone()).ok())
                    .unwrap_or_default();
                let spec = SessionSpec::new(mode, cname, uid, start).with_acquire(acquire);
                let handle = app.recorder.start_session(spec);
                self.watch(row, handle);
            }
            None => {
                let why = if row.sealed_start.is_some() {
                    "the sealed start body cannot be opened with this CLOUDREC_STORE_KEY: give the key it was sealed with, or create the recording again"
                } else {
                    "the service restarted before this recording started, and its start body was not kept (no CLOUDREC_STORE_KEY): create it again"
                };
                self.fail(&row, why.to_owned()).await;
            }
        }
    }

    async fn fail(&self, row: &SessionRow, why: String) {
        let update = SessionUpdate {
            state: "failed".to_owned(),
            snapshot: row.snapshot.clone(),
            report: serde_json::to_value(Report {
                reason: Some(why),
                ..Report::default()
            })
            .unwrap_or_default(),
            resource_id: None,
            sid: None,
        };
        match self.write(row, &update, true).await {
            Ok(()) => self.metrics.session_moved(Some(&row.state), Some("failed")),
            Err(error) => {
                tracing::error!(recording = %row.id, %error, "could not mark the recording failed")
            }
        }
    }

    /// Renews this worker's leases; a recording missing from the renewal was
    /// taken over (or ended) and is given up at once, with no further call.
    /// Answers how many leases were renewed.
    pub async fn renew(&self) -> Result<usize, StoreError> {
        let leases = self
            .store
            .renew(&self.config.worker, self.config.lease)
            .await?;
        let kept: std::collections::HashSet<Uuid> = leases.iter().map(|lease| lease.id).collect();
        let lost: Vec<(Uuid, mpsc::UnboundedSender<Order>)> = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(id, _)| !kept.contains(id))
            .map(|(id, orders)| (*id, orders.clone()))
            .collect();
        for (id, orders) in lost {
            // A recording that ended since its last write is missing too: its
            // watcher has already finished, and the order goes nowhere.
            tracing::warn!(recording = %id, "the lease was not renewed: another worker took the recording over");
            let _ = orders.send(Order::Abandon);
        }
        Ok(leases.len())
    }

    /// Tells the shared request budgets how many workers the fleet has now,
    /// from the store (at least this one).
    pub async fn count_workers(&self) -> Result<u64, StoreError> {
        let workers = self.store.live_workers().await?.max(1);
        for app in &self.apps {
            if let Some(budget) = &app.shared_budget {
                budget.set_workers(u32::try_from(workers).unwrap_or(u32::MAX));
            }
        }
        Ok(workers)
    }

    /// Where each App ID's grants come from now, for readiness: `redis`, or
    /// the local share while Redis does not answer; `None` without a shared
    /// budget.
    pub fn budget(&self) -> Option<String> {
        let shared: Vec<String> = self
            .apps
            .iter()
            .filter_map(|app| {
                app.shared_budget.as_ref().map(|budget| {
                    if budget.is_falling_back() {
                        format!("{}: local share (Redis does not answer)", app.id.as_str())
                    } else {
                        format!("{}: redis", app.id.as_str())
                    }
                })
            })
            .collect();
        (!shared.is_empty()).then(|| shared.join(", "))
    }

    /// Gives up every live recording without a call: this worker's leases may
    /// have run out (it could not renew them in time), so another worker may
    /// own them already.
    pub fn abandon_all(&self) -> usize {
        let orders: Vec<_> = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for order in &orders {
            let _ = order.send(Order::Abandon);
        }
        orders.len()
    }

    /// Asks every live recording to stop and waits until they all ended, or
    /// until `deadline`; answers how many are still live.
    pub async fn stop_all(&self, deadline: Duration) -> usize {
        let orders: Vec<_> = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for order in orders {
            let _ = order.send(Order::Stop);
        }
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let notified = self.idle.notified();
            if self.live_count() == 0 {
                return 0;
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return self.live_count();
            }
        }
    }

    /// Hands every recording of this worker over (owner cleared, nothing
    /// stopped); answers how many.
    pub async fn release(&self) -> Result<u64, StoreError> {
        self.store.release(&self.config.worker).await
    }
}

fn ids_of(row: &SessionRow) -> Result<(Mode, Cname, Uid), ()> {
    let cname = Cname::new(row.cname.as_str()).map_err(|_| ())?;
    let uid = row
        .uid
        .parse::<u32>()
        .ok()
        .and_then(|uid| Uid::new(uid).ok())
        .ok_or(())?;
    Ok((Mode::parse(&row.mode), cname, uid))
}

/// Whether `state` names an end.
pub fn is_terminal(state: &str) -> bool {
    cloudrec_client::store::TERMINAL_STATES.contains(&state)
}

/// The recording stopped being supervised here between the look-up and the
/// order (it ended or was handed over): nothing was sent.
fn not_here() -> Problem {
    Problem::unavailable(
        "the recording was handed over to another worker while the request arrived; nothing was sent: send it again",
    )
}

fn client_request_of<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        client_request: serde_json::Value,
    }
    let body: Body = serde_json::from_slice(body).map_err(|error| {
        Problem::invalid(
            "",
            format!(
                "the body must be {{\"clientRequest\": {{...}}}}: {}",
                cloudrec_types::redact::serde_message(&error)
            ),
        )
    })?;
    serde_json::from_value(body.client_request).map_err(|error| {
        Problem::invalid(
            "clientRequest",
            format!(
                "clientRequest does not fit the REST API's schema: {}",
                cloudrec_types::redact::serde_message(&error)
            ),
        )
    })
}

fn finish(
    answer: Result<Result<(), SessionError>, oneshot::error::RecvError>,
    recording: Recording,
) -> Result<Recording, Problem> {
    outcome(answer).map(|()| recording)
}

/// The problem a worker stored as a failed command's result; a result that
/// is not one is the service's failure in words.
fn problem_of(result: Option<&str>) -> Problem {
    let Some(result) = result else {
        return Problem::upstream("the worker that owns the recording failed the command");
    };
    serde_json::from_str(result).unwrap_or_else(|_| Problem::upstream(result))
}

fn outcome(
    answer: Result<Result<(), SessionError>, oneshot::error::RecvError>,
) -> Result<(), Problem> {
    match answer {
        Ok(Ok(())) => Ok(()),
        Ok(Err(SessionError::NotRunning)) => Err(Problem::conflict(
            "the recording's task does not run yet (or any more): wait until its state is running",
        )),
        Ok(Err(SessionError::Call(error))) => Err(Problem::upstream(error.to_string())),
        Ok(Err(_)) | Err(_) => Err(Problem::conflict(
            "the recording has ended: create a new one",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_problem_comes_back_as_the_owner_gave_it() {
        for problem in [
            Problem::conflict("the task does not run"),
            Problem::upstream("code 2: invalid parameter"),
        ] {
            let stored = serde_json::to_string(&problem).unwrap();
            assert_eq!(problem_of(Some(&stored)), problem);
        }
        assert_eq!(problem_of(Some("not json")).status, 502);
        assert_eq!(problem_of(None).status, 502);
        assert_eq!(Problem::not_applied("queued").status, 504);
    }
}
