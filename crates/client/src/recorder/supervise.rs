//! One session's supervisor: performs what the machine asks, publishes its
//! transitions, serves update commands, and reports the end.

use std::sync::Arc;

use cloudrec_types::{
    AcquireRequest, StartRequest, StopClientRequest, StopRequest, UpdateLayoutRequest,
    UpdateRequest,
};

use super::chan::{Raced, Receiver, Sender, race};
use super::status::StatusCell;
use super::{Command, Inner, LeakPolicy, SessionError, SessionId, SessionReport, SessionSpec};
use cloudrec_types::ResourceId;

use crate::{
    Action, Answer, CallError, Clock, End, Entry, Event, EventKind, EventSink, Input, Intent,
    JournalError, Polled, Session, StartOutcome, Started, StopAnswer, StopOutcome, Subject,
    TaskIds, TaskRef, Transport,
};

/// The client's error as the machine's answer.
fn answer<T>(error: CallError) -> Answer<T> {
    match error {
        CallError::Failed { failure, .. } => Answer::Failed(failure),
        CallError::DeadlineExceeded { last, .. } => Answer::Failed(last),
        CallError::Ambiguous { failure } => Answer::Ambiguous(failure),
        invalid @ (CallError::Invalid(_) | CallError::Unencodable { .. }) => {
            Answer::Invalid(invalid.to_string())
        }
    }
}

pub(crate) fn task_ref(spec: &SessionSpec, task: &TaskIds) -> TaskRef {
    TaskRef {
        resource_id: task.resource_id.clone(),
        sid: task.sid.clone(),
        mode: spec.mode.clone(),
        cname: spec.cname.clone(),
        uid: task.uid,
    }
}

/// Everything one session's supervisor owns; boxed once, so that its future
/// stays small while the session waits.
pub(crate) struct Supervisor<T, C, E> {
    inner: Arc<Inner<T, C, E>>,
    id: SessionId,
    spec: SessionSpec,
    session: Session,
    status: Arc<StatusCell>,
    journalled: Vec<TaskRef>,
    /// Resources on which an intent was journalled before start.
    intents: Vec<ResourceId>,
    inbox: Receiver<Command>,
    reports: Sender<SessionReport>,
    pub(crate) admitted: bool,
    /// Given up: another process owns the session now.
    abandoned: bool,
}

impl<T, C, E> Supervisor<T, C, E> {
    pub(crate) fn new(
        inner: Arc<Inner<T, C, E>>,
        id: SessionId,
        spec: SessionSpec,
        session: Session,
        inbox: Receiver<Command>,
        status: Arc<StatusCell>,
        reports: Sender<SessionReport>,
    ) -> Box<Self> {
        Box::new(Self {
            inner,
            id,
            spec,
            session,
            status,
            journalled: Vec::new(),
            intents: Vec::new(),
            inbox,
            reports,
            admitted: false,
            abandoned: false,
        })
    }

    /// Whether the session starts with a task (resumed from the journal).
    pub(crate) fn has_task(&self) -> bool {
        self.session.task().is_some()
    }
}

/// Runs the session to its end, then reports.
pub(crate) async fn run<T, C, E>(mut supervisor: Box<Supervisor<T, C, E>>)
where
    T: Transport,
    C: Clock,
    E: EventSink,
{
    let report = Box::pin(supervisor.drive()).await;
    if supervisor.admitted {
        supervisor.inner.release();
    }
    supervisor.inner.registry().remove(&supervisor.id);
    // Answer updates still queued: the session is over.
    while let Some(command) = supervisor.inbox.try_recv() {
        supervisor.refuse(command);
    }
    supervisor
        .status
        .update(|status| status.report = Some(report.clone()));
    let _ = supervisor.reports.send(report);
}

impl<T, C, E> Supervisor<T, C, E>
where
    T: Transport,
    C: Clock,
    E: EventSink,
{
    async fn drive(&mut self) -> SessionReport {
        let client = self.inner.client.clone();
        let clock = client.clock();
        let mut input = Input::Wake;
        loop {
            if self.abandoned {
                return self.handed_over();
            }
            let now = clock.now();
            let action = self.session.handle(input, now, self.inner.jitter());
            self.publish();
            input = match action {
                Action::Acquire { uid } => {
                    if !self.admitted {
                        self.admitted = self.inner.admit();
                    }
                    if !self.admitted {
                        // Every task slot is taken: ask again later; a stop
                        // request meanwhile ends the session before it starts.
                        let sleep = clock.sleep(self.inner.config.admission_poll);
                        match race(sleep, &self.inbox).await {
                            Raced::Timer => {}
                            Raced::Message(Some(command)) => Box::pin(self.command(command)).await,
                            Raced::Message(None) => self.session.request_stop(),
                        }
                        input = Input::Wake;
                        continue;
                    }
                    let request = AcquireRequest::new(self.spec.cname.clone(), uid)
                        .with_client_request(self.spec.acquire.clone());
                    let result = Box::pin(client.acquire(&self.spec.mode, &request)).await;
                    Input::Acquired(match result {
                        Ok(response) => Answer::Ok(response.resource_id),
                        Err(error) => answer(error),
                    })
                }
                Action::Start { resource_id, uid } => {
                    let Some(body) = self.spec.start.clone() else {
                        let why = "no start body: a session recovered from the journal cannot start a new task";
                        input = Input::Started(Answer::Invalid(why.into()));
                        continue;
                    };
                    if let Err(error) = self.journal_intent(&resource_id, uid) {
                        // The task would be invisible to `recover` after a crash.
                        let why = format!("the journal could not record it: {error}");
                        input = Input::Started(Answer::Invalid(why));
                        continue;
                    }
                    self.status
                        .update(|status| status.resource_id = Some(resource_id.clone()));
                    let request = StartRequest::new(self.spec.cname.clone(), uid, body);
                    let result =
                        Box::pin(client.start(&resource_id, &self.spec.mode, &request)).await;
                    Input::Started(match result {
                        Ok(StartOutcome::Started { task }) => Answer::Ok(Started::New(task.sid)),
                        Ok(StartOutcome::AlreadyStarted { task }) => {
                            Answer::Ok(Started::Already(task.map(|task| task.sid)))
                        }
                        // An earlier attempt of this call (a 65, a 62, a timeout)
                        // may have started the task: the machine asks again.
                        Err(
                            CallError::Failed {
                                failure, attempts, ..
                            }
                            | CallError::DeadlineExceeded {
                                last: failure,
                                attempts,
                                ..
                            },
                        ) if attempts > 1 => Answer::Ambiguous(failure),
                        Err(error) => answer(error),
                    })
                }
                Action::Query { task } => {
                    let task = task_ref(&self.spec, &task);
                    let result = Box::pin(client.query(&task)).await;
                    Input::Queried(match result {
                        Ok(response) => {
                            let polled = Polled {
                                status: response.status(),
                                files: response.file_names().len(),
                            };
                            if let Some(status) = polled.status {
                                self.emit(EventKind::StatusPolled {
                                    status: status.code(),
                                    files: polled.files,
                                });
                            }
                            Answer::Ok(polled)
                        }
                        Err(error) => answer(error),
                    })
                }
                Action::Stop { task, async_stop } => {
                    let task = task_ref(&self.spec, &task);
                    let mut request = StopRequest::new(task.cname.clone(), task.uid);
                    if async_stop {
                        request.client_request = StopClientRequest::async_stop();
                    }
                    let result = Box::pin(client.stop(&task, &request)).await;
                    Input::Stopped(match result {
                        Ok(StopOutcome::Stopped { response }) => Answer::Ok(StopAnswer::Stopped {
                            files: response
                                .file_names()
                                .into_iter()
                                .map(str::to_owned)
                                .collect(),
                            uploading_status: response.uploading_status().cloned(),
                        }),
                        Ok(StopOutcome::NoRecordedData) => Answer::Ok(StopAnswer::NoRecordedData),
                        Ok(StopOutcome::AlreadyExiting) => Answer::Ok(StopAnswer::AlreadyExiting),
                        Ok(StopOutcome::UploadPending) => Answer::Ok(StopAnswer::UploadPending),
                        Ok(StopOutcome::Gone) => Answer::Ok(StopAnswer::Gone),
                        Err(error) => answer(error),
                    })
                }
                Action::Wait { until } => {
                    let sleep = clock.sleep(until.saturating_since(now));
                    match race(sleep, &self.inbox).await {
                        Raced::Timer => {}
                        Raced::Message(Some(command)) => Box::pin(self.command(command)).await,
                        Raced::Message(None) => self.session.request_stop(),
                    }
                    Input::Wake
                }
                Action::Done => break,
            };
            // Commands that arrived during a call take effect before the next step.
            while let Some(command) = self.inbox.try_recv() {
                Box::pin(self.command(command)).await;
            }
        }
        self.finish()
    }

    async fn command(&mut self, command: Command) {
        match command {
            Command::Stop => self.session.request_stop(),
            Command::Abandon => self.abandoned = true,
            Command::QueryNow => {
                let now = self.inner.client.clock().now();
                self.session.query_now(now);
            }
            Command::HandleDropped => match self.inner.config.leak {
                LeakPolicy::Stop => self.session.request_stop(),
                LeakPolicy::Warn => tracing::warn!(
                    session = %self.id,
                    "session handle dropped without stop: the task keeps recording until the recorder shuts down"
                ),
            },
            Command::Update(body, reply) => {
                let result = match self.running_task() {
                    Some(task) => {
                        let request = UpdateRequest::new(task.cname.clone(), task.uid, *body);
                        self.inner
                            .client
                            .update(&task, &request)
                            .await
                            .map(|_| ())
                            .map_err(SessionError::Call)
                    }
                    None => Err(self.not_running()),
                };
                let _ = reply.send(result);
            }
            Command::UpdateLayout(body, reply) => {
                let result = match self.running_task() {
                    Some(task) => {
                        let request = UpdateLayoutRequest::new(task.cname.clone(), task.uid, *body);
                        self.inner
                            .client
                            .update_layout(&task, &request)
                            .await
                            .map(|_| ())
                            .map_err(SessionError::Call)
                    }
                    None => Err(self.not_running()),
                };
                let _ = reply.send(result);
            }
        }
    }

    fn refuse(&self, command: Command) {
        match command {
            Command::Update(_, reply) | Command::UpdateLayout(_, reply) => {
                let _ = reply.send(Err(SessionError::Ended));
            }
            Command::Stop | Command::Abandon | Command::QueryNow | Command::HandleDropped => {}
        }
    }

    fn not_running(&self) -> SessionError {
        if self.session.end().is_some() {
            SessionError::Ended
        } else {
            SessionError::NotRunning
        }
    }

    /// The task, while the session is waiting for it or recording.
    fn running_task(&self) -> Option<TaskRef> {
        match self.session.state() {
            Some(
                crate::SessionState::Running
                | crate::SessionState::WaitingUntilRunning
                | crate::SessionState::Recovering,
            ) => self.session.task().map(|task| task_ref(&self.spec, task)),
            _ => None,
        }
    }

    /// Journals that start is about to be sent on `resource_id`; an error means
    /// start must not be sent.
    fn journal_intent(
        &mut self,
        resource_id: &ResourceId,
        uid: cloudrec_types::Uid,
    ) -> Result<(), JournalError> {
        let Some(journal) = self.inner.journal() else {
            return Ok(());
        };
        let intent = Intent {
            resource_id: resource_id.clone(),
            mode: self.spec.mode.clone(),
            cname: self.spec.cname.clone(),
            uid,
            at: self.inner.client.clock().wall(),
        };
        match journal.write(&Entry::Intent(intent)) {
            Ok(()) => {
                if !self.intents.contains(resource_id) {
                    self.intents.push(resource_id.clone());
                }
                Ok(())
            }
            Err(error) => {
                self.journal_failed("intent", &error, true);
                Err(error)
            }
        }
    }

    /// Reports a journal write that failed, as a log line and an event.
    fn journal_failed(&self, entry: &'static str, error: &JournalError, start_withheld: bool) {
        tracing::error!(session = %self.id, entry, error = %error, "could not write the journal");
        self.emit(EventKind::JournalFailed {
            entry,
            start_withheld,
            error: error.to_string(),
        });
    }

    /// Publishes transitions as events, updates the shared status, and
    /// journals a newly started task.
    fn publish(&mut self) {
        let transitions = self.session.take_transitions();
        let task = self.session.task().map(|task| task_ref(&self.spec, task));
        if let Some(task) = &task
            && !self.journalled.iter().any(|t| t.sid == task.sid)
        {
            if let Some(journal) = self.inner.journal()
                && let Err(error) = journal.add(task)
            {
                self.journal_failed("live", &error, false);
            }
            self.journalled.push(task.clone());
        }
        if transitions.is_empty() {
            return;
        }
        for transition in &transitions {
            self.emit(transition.event_kind());
        }
        let state = self.session.state();
        self.status.update(|status| {
            status.state = state;
            if task.is_some() {
                status.task = task;
            }
        });
    }

    fn emit(&self, kind: EventKind) {
        if !self.inner.client.events().enabled() {
            return;
        }
        let clock = self.inner.client.clock();
        let task = self.session.task();
        let subject = Subject {
            cname: Some(self.spec.cname.clone()),
            uid: Some(self.session.uid()),
            mode: Some(self.spec.mode.clone()),
            resource_id: task.map(|t| t.resource_id.clone()),
            sid: task.map(|t| t.sid.clone()),
            ..Subject::app(self.inner.client.app_id().clone())
        };
        self.inner.client.events().emit(Event {
            time: clock.wall(),
            subject: Arc::new(subject),
            kind,
        });
    }

    /// The report of a session given up to another owner: its tasks and
    /// intents leave this recorder's journal (the new owner answers for them)
    /// and none counts as unconfirmed here.
    fn handed_over(&mut self) -> SessionReport {
        if let Some(journal) = self.inner.journal() {
            for task in &self.journalled {
                if let Err(error) = journal.remove(&task.sid) {
                    self.journal_failed("done", &error, false);
                }
            }
            for resource_id in &self.intents {
                let entry = Entry::Dropped {
                    resource_id: resource_id.clone(),
                };
                if let Err(error) = journal.write(&entry) {
                    self.journal_failed("dropped", &error, false);
                }
            }
        }
        SessionReport {
            id: self.id,
            end: End::Failed {
                why: "handed over: another process supervises this session now".into(),
            },
            last_task: self
                .session
                .task()
                .map(|task| task_ref(&self.spec, task))
                .or_else(|| self.journalled.last().cloned()),
            unconfirmed: Vec::new(),
            uncertain: Vec::new(),
            restarts: self.session.restarts(),
        }
    }

    /// The final report; confirmed tasks leave the journal.
    fn finish(&mut self) -> SessionReport {
        self.publish();
        let unconfirmed: Vec<TaskRef> = self
            .session
            .unconfirmed()
            .iter()
            .map(|task| task_ref(&self.spec, task))
            .collect();
        if let Some(journal) = self.inner.journal() {
            for task in &self.journalled {
                if !unconfirmed.iter().any(|t| t.sid == task.sid)
                    && let Err(error) = journal.remove(&task.sid)
                {
                    self.journal_failed("done", &error, false);
                }
            }
            // An intent stays only where a task may run that the journal does
            // not name: a start whose every answer was lost.
            let uncertain = self.session.uncertain();
            for resource_id in &self.intents {
                if !uncertain.contains(resource_id)
                    && !unconfirmed.iter().any(|t| &t.resource_id == resource_id)
                    && let Err(error) = journal.write(&Entry::Dropped {
                        resource_id: resource_id.clone(),
                    })
                {
                    self.journal_failed("dropped", &error, false);
                }
            }
        }
        let end = self.session.end().cloned().unwrap_or(End::Failed {
            why: "the session ended without a reason".into(),
        });
        SessionReport {
            id: self.id,
            end,
            last_task: self.journalled.last().cloned(),
            unconfirmed,
            uncertain: self.session.uncertain().to_vec(),
            restarts: self.session.restarts(),
        }
    }
}
