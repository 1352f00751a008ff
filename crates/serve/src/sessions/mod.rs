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

mod commands;
mod leases;
mod notices;
mod report;
mod takeover;
mod watch;

use report::update_of;

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
    /// Woken when another worker released recordings (a handoff).
    releases: tokio::sync::Notify,
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
            releases: tokio::sync::Notify::new(),
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
