//! Recovery after a restart: look at every task of the journal, resume or stop it.

use std::sync::Arc;

use super::{Recorder, SessionHandle, SessionReport, SessionSpec};
use crate::{CallError, Clock, EventSink, Resolution, Session, TaskIds, TaskRef, Transport};

/// What [`Recorder::recover`] does with a journalled task that still records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RecoveryPolicy {
    /// Stop it (the default): the process that wanted it is gone.
    #[default]
    Stop,
    /// Supervise it again; the handles are in the report.
    Resume,
}

/// What a query found about a journalled task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// It answered with this status code (5 = recording).
    Alive {
        /// The status code, when the answer had one.
        status: Option<i64>,
    },
    /// It answered 404: it ended while no process watched it.
    Gone,
    /// It did not answer usefully; it stays in the journal.
    Unreachable {
        /// Why.
        why: String,
    },
}

/// One journalled task and what recovery did with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// The task.
    pub task: TaskRef,
    /// What the query found.
    pub found: Found,
    /// The stop's report, when recovery stopped it.
    pub stopped: Option<SessionReport>,
}

/// What [`Recorder::recover`] found and did.
#[derive(Debug, Default)]
pub struct RecoveryReport {
    /// Every journalled task.
    pub tasks: Vec<Recovered>,
    /// Sessions resumed under [`RecoveryPolicy::Resume`].
    pub resumed: Vec<SessionHandle>,
}

impl<T, C, E> Recorder<T, C, E>
where
    T: Transport + 'static,
    C: Clock + 'static,
    E: EventSink + 'static,
{
    /// Queries every task in the journal and, by `policy`, stops it or supervises
    /// it again. Gone tasks leave the journal; unreachable ones stay.
    pub async fn recover(&self, policy: RecoveryPolicy) -> RecoveryReport {
        let mut report = RecoveryReport::default();
        let Some(journal) = self.inner.journal() else {
            return report;
        };
        let tasks = match journal.live() {
            Ok(tasks) => tasks,
            Err(error) => {
                tracing::error!(error = %error, "could not read the journal");
                return report;
            }
        };
        for task in tasks {
            let found = match self.inner.client.query(&task).await {
                Ok(response) => Found::Alive {
                    status: response.status().map(|s| s.code()),
                },
                Err(error) if error.resolution() == Resolution::TreatAsGone => Found::Gone,
                Err(error) if error.resolution() == Resolution::AlreadyExiting => {
                    Found::Alive { status: None }
                }
                Err(error) => Found::Unreachable {
                    why: describe(&error),
                },
            };
            let mut stopped = None;
            match &found {
                Found::Gone => {
                    if let Err(error) = journal.remove(&task.sid) {
                        tracing::error!(error = %error, "could not update the journal");
                    }
                }
                Found::Unreachable { .. } => {}
                Found::Alive { .. } => {
                    let handle = self.resume(&task);
                    match policy {
                        RecoveryPolicy::Resume => report.resumed.push(handle),
                        RecoveryPolicy::Stop => stopped = Some(handle.stop().await),
                    }
                }
            }
            report.tasks.push(Recovered {
                task,
                found,
                stopped,
            });
        }
        report
    }

    fn resume(&self, task: &TaskRef) -> SessionHandle {
        let now = self.inner.client.clock().now();
        let ids = TaskIds {
            resource_id: task.resource_id.clone(),
            sid: task.sid.clone(),
            uid: task.uid,
        };
        let session = Session::resume(ids, Arc::clone(&self.inner.config.session), now);
        let spec = SessionSpec {
            mode: task.mode.clone(),
            cname: task.cname.clone(),
            uid: task.uid,
            acquire: Default::default(),
            start: None,
        };
        self.supervise(spec, session)
    }
}

fn describe(error: &CallError) -> String {
    match error.failure() {
        Some(failure) => failure.to_string(),
        None => error.to_string(),
    }
}
