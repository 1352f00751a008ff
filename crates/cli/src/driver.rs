//! A small session driver over the client: acquire, start, wait until running,
//! run a script of updates while polling, and always end with stop. Every state
//! change is an event.
//!
//! Recovery follows the status table: a start that keeps failing with
//! `retry_then_reacquire` or `reacquire_and_start` acquires again; a task 404 is
//! `recovering` until the recovery window has passed since the last good answer,
//! then `lost`.

use std::time::Duration;

use cloudrec_core::{
    CallError, Clock, Event, EventKind, EventSink, RecoveryWindow, Resolution, SessionState,
    StartOutcome, StopOutcome, Subject, TaskRef, Verdict,
};
use cloudrec_types::{
    AcquireClientRequest, AcquireRequest, Cname, Mode, StartClientRequest, StartRequest,
    StopRequest, Uid, UpdateClientRequest, UpdateLayoutClientRequest, UpdateLayoutRequest,
    UpdateRequest,
};
use tokio::sync::watch;

use crate::connection::CliClient;

/// What to record.
#[derive(Clone, Debug)]
pub(crate) struct SessionSpec {
    pub(crate) mode: Mode,
    pub(crate) cname: Cname,
    pub(crate) uid: Uid,
    pub(crate) acquire: AcquireClientRequest,
    pub(crate) start: StartClientRequest,
}

/// The driver's pace.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    /// Wait after start before the first query (documented: about 5 s).
    pub(crate) first_query: Duration,
    /// Between two queries.
    pub(crate) poll_interval: Duration,
    /// Give up waiting for status 4 or 5 after this long (documented: about 90 s).
    pub(crate) running_timeout: Duration,
    /// How long a task may answer 404 before it is declared lost.
    pub(crate) recovery_window: Duration,
    /// How many times a failed start may acquire and start again.
    pub(crate) max_restarts: u32,
    /// Record this long once running; `None` until asked to stop.
    pub(crate) duration: Option<Duration>,
}

/// One step of the script run once the task records.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// Keep polling this long.
    Wait(Duration),
    /// Replace the mix layout.
    UpdateLayout(UpdateLayoutClientRequest),
    /// Change subscriptions (or other update settings).
    Update(UpdateClientRequest),
}

/// How a session ended.
#[derive(Clone, Debug)]
pub(crate) struct SessionEnd {
    pub(crate) state: SessionState,
    pub(crate) reason: Option<String>,
    pub(crate) files: Vec<String>,
    pub(crate) uploading_status: Option<String>,
    pub(crate) task: Option<TaskRef>,
    pub(crate) restarts: u32,
}

/// Runs one session to its end. `stop` turning `true` (Ctrl-C) ends the
/// recording with a stop, whatever state it is in.
pub(crate) async fn run<E: EventSink + Clone>(
    client: &CliClient<E>,
    spec: &SessionSpec,
    timing: Timing,
    script: Vec<Step>,
    stop: watch::Receiver<bool>,
) -> SessionEnd {
    let mut driver = Driver {
        client,
        spec,
        timing,
        stop,
        state: None,
        task: None,
        restarts: 0,
        last_files: Vec::new(),
        window: None,
    };
    driver.drive(script).await
}

struct Driver<'a, E> {
    client: &'a CliClient<E>,
    spec: &'a SessionSpec,
    timing: Timing,
    stop: watch::Receiver<bool>,
    state: Option<SessionState>,
    task: Option<TaskRef>,
    restarts: u32,
    last_files: Vec<String>,
    window: Option<RecoveryWindow>,
}

/// What a query while recording came to.
enum Poll {
    Good,
    Finished,
    Recovering,
    Lost,
    Failed,
}

impl<E: EventSink + Clone> Driver<'_, E> {
    async fn drive(&mut self, script: Vec<Step>) -> SessionEnd {
        let task = match self.acquire_and_start().await {
            Ok(task) => task,
            Err(reason) => return self.end(SessionState::Failed, Some(reason)),
        };
        self.task = Some(task);
        self.window = RecoveryWindow::new(self.now())
            .with_window(self.timing.recovery_window)
            .ok();
        self.set_state(SessionState::WaitingUntilRunning, None);
        if let Some(end) = self.wait_until_running().await {
            return end;
        }
        if let Some(end) = self.record(script).await {
            return end;
        }
        self.stop_task().await
    }

    /// Acquires and starts, acquiring again where the table says so.
    async fn acquire_and_start(&mut self) -> Result<TaskRef, String> {
        let spec = self.spec;
        loop {
            if self.stop_requested() {
                return Err("stopped before the recording started".to_owned());
            }
            let acquire = AcquireRequest::new(spec.cname.clone(), spec.uid)
                .with_client_request(spec.acquire.clone());
            let resource_id = match self.client.acquire(&spec.mode, &acquire).await {
                Ok(response) => response.resource_id,
                Err(error) => return Err(format!("acquire failed: {error}")),
            };
            self.set_state(SessionState::Acquired, None);
            self.set_state(SessionState::Starting, None);
            let start = StartRequest::new(spec.cname.clone(), spec.uid, spec.start.clone());
            let error = match self.client.start(&resource_id, &spec.mode, &start).await {
                Ok(StartOutcome::Started { sid })
                | Ok(StartOutcome::AlreadyStarted { sid: Some(sid) }) => {
                    return Ok(TaskRef {
                        resource_id,
                        sid,
                        mode: spec.mode.clone(),
                        cname: spec.cname.clone(),
                        uid: spec.uid,
                    });
                }
                Ok(_) => {
                    return Err(
                        "start answered that the resource was already started but gave no sid: find the task with query or stop it from the console"
                            .to_owned(),
                    );
                }
                Err(error) => error,
            };
            let again = matches!(
                error.resolution(),
                Resolution::RetryThenReacquire | Resolution::ReacquireAndStart
            ) && !error.is_ambiguous();
            if again && self.restarts < self.timing.max_restarts {
                self.restarts += 1;
                self.set_state(
                    SessionState::Failed,
                    Some(format!(
                        "start failed ({}), acquiring again",
                        error.resolution()
                    )),
                );
                self.state = None;
                continue;
            }
            return Err(match error {
                CallError::Ambiguous { .. } => format!(
                    "start may have taken effect but its answer was lost: {error}; check the channel for a leaked task"
                ),
                _ => format!("start failed: {error}"),
            });
        }
    }

    /// Polls until status 4 or 5; `Some` when the session ended meanwhile.
    async fn wait_until_running(&mut self) -> Option<SessionEnd> {
        let since = self.now();
        let mut delay = self.timing.first_query;
        loop {
            if self.pause(delay).await {
                return Some(self.stop_task().await);
            }
            delay = self.timing.poll_interval;
            match self.poll().await {
                Poll::Good if self.state == Some(SessionState::Running) => return None,
                Poll::Good | Poll::Recovering => {}
                Poll::Finished => return Some(self.stop_task().await),
                Poll::Lost => return Some(self.lost().await),
                Poll::Failed => {}
            }
            if self.now().saturating_since(since) > self.timing.running_timeout {
                let reason = format!(
                    "the task did not report status 4 or 5 within {} s",
                    self.timing.running_timeout.as_secs()
                );
                let mut end = self.stop_task().await;
                if end.state != SessionState::Lost {
                    end.state = SessionState::Failed;
                    end.reason = Some(reason.clone());
                    self.set_state(SessionState::Failed, Some(reason));
                }
                return Some(end);
            }
        }
    }

    /// Runs the script, then keeps polling until the duration passed or a stop
    /// is asked for; `Some` when the session ended meanwhile.
    async fn record(&mut self, script: Vec<Step>) -> Option<SessionEnd> {
        let started = self.now();
        for step in script {
            match step {
                Step::Wait(length) => {
                    if let Some(end) = self.poll_for(length).await {
                        return end;
                    }
                }
                Step::UpdateLayout(request) => {
                    if let Some(end) = self.update_layout(request).await {
                        return Some(end);
                    }
                }
                Step::Update(request) => {
                    if let Some(end) = self.update(request).await {
                        return Some(end);
                    }
                }
            }
            if self.stop_requested() {
                return None;
            }
        }
        loop {
            let left = match self.timing.duration {
                Some(duration) => {
                    let elapsed = self.now().saturating_since(started);
                    if elapsed >= duration {
                        return None;
                    }
                    duration - elapsed
                }
                None => self.timing.poll_interval,
            };
            if let Some(end) = self.poll_for(left.min(self.timing.poll_interval)).await {
                return end;
            }
        }
    }

    /// Waits `length` and polls once; `Some(None)` when a stop was asked for,
    /// `Some(Some(end))` when the session ended.
    async fn poll_for(&mut self, length: Duration) -> Option<Option<SessionEnd>> {
        let mut left = length;
        while !left.is_zero() {
            let step = left.min(self.timing.poll_interval);
            left -= step;
            if self.pause(step).await {
                return Some(None);
            }
            match self.poll().await {
                Poll::Good | Poll::Recovering | Poll::Failed => {}
                Poll::Finished => return Some(Some(self.stop_task().await)),
                Poll::Lost => return Some(Some(self.lost().await)),
            }
        }
        None
    }

    /// One query, with the recovery window's verdict on a 404.
    async fn poll(&mut self) -> Poll {
        let Some(task) = self.task.clone() else {
            return Poll::Failed;
        };
        match self.client.query(&task).await {
            Ok(response) => {
                let now = self.now();
                if let Some(window) = &mut self.window {
                    window.record_good_answer(now);
                }
                self.last_files = response
                    .file_names()
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                let status = response.status();
                self.emit(EventKind::StatusPolled {
                    status: status.map_or(-1, |s| s.code()),
                    files: self.last_files.len(),
                });
                if status.is_some_and(|s| s.is_finished()) {
                    return Poll::Finished;
                }
                match self.state {
                    Some(SessionState::Recovering) => self.set_state(
                        SessionState::Running,
                        Some("the task answered again after failing over".to_owned()),
                    ),
                    Some(SessionState::WaitingUntilRunning) if response.is_running() => {
                        self.set_state(SessionState::Running, None);
                    }
                    _ => {}
                }
                Poll::Good
            }
            Err(error) if error.resolution() == Resolution::TreatAsGone => self.gone(),
            Err(_) => Poll::Failed,
        }
    }

    /// A task 404: recovering inside the window, lost after it.
    fn gone(&mut self) -> Poll {
        let now = self.now();
        let verdict = self.window.as_ref().map(|window| window.judge(now));
        match verdict {
            Some(Verdict::Recovering { .. }) => {
                self.set_state(
                    SessionState::Recovering,
                    Some("the task answered 404: it may be moving to another server".to_owned()),
                );
                Poll::Recovering
            }
            _ => Poll::Lost,
        }
    }

    async fn update_layout(&mut self, request: UpdateLayoutClientRequest) -> Option<SessionEnd> {
        let task = self.task.clone()?;
        let request = UpdateLayoutRequest::new(task.cname.clone(), task.uid, request);
        loop {
            match self.client.update_layout(&task, &request).await {
                Err(error) if error.resolution() == Resolution::TreatAsGone => {
                    if let Some(end) = self.ride_out_recovery().await {
                        return Some(end);
                    }
                }
                _ => return None,
            }
        }
    }

    async fn update(&mut self, request: UpdateClientRequest) -> Option<SessionEnd> {
        let task = self.task.clone()?;
        let request = UpdateRequest::new(task.cname.clone(), task.uid, request);
        loop {
            match self.client.update(&task, &request).await {
                Err(error) if error.resolution() == Resolution::TreatAsGone => {
                    if let Some(end) = self.ride_out_recovery().await {
                        return Some(end);
                    }
                }
                _ => return None,
            }
        }
    }

    /// After a 404: polls until the task answers again (`None`) or the session ends.
    async fn ride_out_recovery(&mut self) -> Option<SessionEnd> {
        if let Poll::Lost = self.gone() {
            return Some(self.lost().await);
        }
        loop {
            if self.pause(self.timing.poll_interval).await {
                return Some(self.stop_task().await);
            }
            match self.poll().await {
                Poll::Good => return None,
                Poll::Recovering | Poll::Failed => {}
                Poll::Finished => return Some(self.stop_task().await),
                Poll::Lost => return Some(self.lost().await),
            }
        }
    }

    /// The recovery window passed: try one stop in case it answers, else lost.
    async fn lost(&mut self) -> SessionEnd {
        let reason = format!(
            "the task answered 404 for longer than the {} s recovery window",
            self.timing.recovery_window.as_secs()
        );
        let mut end = self.stop_once().await;
        if matches!(end.state, SessionState::Lost | SessionState::Failed) {
            end = self.end(SessionState::Lost, Some(reason));
        }
        end
    }

    /// Stops the task; a 404 inside the recovery window is waited out.
    async fn stop_task(&mut self) -> SessionEnd {
        loop {
            let end = self.stop_once().await;
            if end.state != SessionState::Lost {
                return end;
            }
            let now = self.now();
            match self.window.as_ref().map(|window| window.judge(now)) {
                Some(Verdict::Recovering { .. }) => {
                    self.set_state(
                        SessionState::Recovering,
                        Some("stop answered 404: waiting for the task to fail over".to_owned()),
                    );
                    tokio::time::sleep(self.timing.poll_interval).await;
                }
                _ => return self.end(SessionState::Lost, end.reason),
            }
        }
    }

    /// One stop call and what it means for the session.
    async fn stop_once(&mut self) -> SessionEnd {
        let Some(task) = self.task.clone() else {
            return self.end(SessionState::Failed, Some("no task to stop".to_owned()));
        };
        self.set_state(SessionState::Stopping, None);
        let request = StopRequest::new(task.cname.clone(), task.uid);
        match self.client.stop(&task, &request).await {
            Ok(StopOutcome::Stopped { response }) => {
                self.last_files = response
                    .file_names()
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                let uploading = response.uploading_status().map(|s| s.as_str().to_owned());
                let (state, reason) = if self.last_files.is_empty() {
                    (
                        SessionState::StoppedNoData,
                        Some("stop listed no files".to_owned()),
                    )
                } else {
                    (SessionState::Stopped, None)
                };
                let mut end = self.end(state, reason);
                end.uploading_status = uploading;
                end
            }
            Ok(StopOutcome::NoRecordedData) => self.end(
                SessionState::StoppedNoData,
                Some("nobody published a stream (206, code 435)".to_owned()),
            ),
            Ok(StopOutcome::AlreadyExiting) => {
                let state = if self.last_files.is_empty() {
                    SessionState::StoppedNoData
                } else {
                    SessionState::Stopped
                };
                self.end(
                    state,
                    Some(
                        "the task had already exited (idle channel or an earlier stop)".to_owned(),
                    ),
                )
            }
            Ok(StopOutcome::UploadPending) => {
                let mut end = self.end(
                    SessionState::Stopped,
                    Some("stopped; the upload was not confirmed within the synchronous stop (code 50)".to_owned()),
                );
                end.uploading_status = Some("pending".to_owned());
                end
            }
            Ok(StopOutcome::Gone) => SessionEnd {
                state: SessionState::Lost,
                reason: Some("stop answered 404: the task was not found".to_owned()),
                files: self.last_files.clone(),
                uploading_status: None,
                task: Some(task),
                restarts: self.restarts,
            },
            Err(error) => self.end(
                SessionState::Failed,
                Some(format!("stop failed, the task may still record: {error}")),
            ),
        }
    }

    fn now(&self) -> cloudrec_core::Timestamp {
        self.client.clock().now()
    }

    fn stop_requested(&self) -> bool {
        *self.stop.borrow()
    }

    /// Sleeps `duration`, or less when a stop is requested; says whether it was.
    async fn pause(&mut self, duration: Duration) -> bool {
        if self.stop_requested() {
            return true;
        }
        let sleep = tokio::time::sleep(duration);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return self.stop_requested(),
                changed = self.stop.changed() => {
                    if changed.is_err() {
                        // Nobody can ask for a stop any more: just wait.
                        (&mut sleep).await;
                        return self.stop_requested();
                    }
                    if self.stop_requested() {
                        return true;
                    }
                }
            }
        }
    }

    fn subject(&self) -> Subject {
        match &self.task {
            Some(task) => task.subject(self.client.app_id()),
            None => Subject {
                cname: Some(self.spec.cname.clone()),
                uid: Some(self.spec.uid),
                mode: Some(self.spec.mode.clone()),
                ..Subject::app(self.client.app_id().clone())
            },
        }
    }

    fn emit(&self, kind: EventKind) {
        self.client.events().emit(Event {
            time: self.client.clock().wall(),
            subject: self.subject(),
            kind,
        });
    }

    fn set_state(&mut self, to: SessionState, reason: Option<String>) {
        let from = self.state.replace(to);
        if from == Some(to) {
            return;
        }
        self.emit(EventKind::StateChanged { from, to, reason });
    }

    fn end(&mut self, state: SessionState, reason: Option<String>) -> SessionEnd {
        self.set_state(state, reason.clone());
        SessionEnd {
            state,
            reason,
            files: self.last_files.clone(),
            uploading_status: None,
            task: self.task.clone(),
            restarts: self.restarts,
        }
    }
}
