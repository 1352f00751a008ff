//! Recovery after a restart: resolve every start of the journal whose answer
//! never arrived, then look at every task, resume or stop it, and wait out the
//! recovery window of a task that answers 404, across runs.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cloudrec_types::Sid;

use super::{Recorder, SessionHandle, SessionReport, SessionSpec};
use crate::{
    CallError, Clock, Entry, EventSink, Failure, Intent, Journal, JournalError, JournalTask,
    RecoveryWindow, Resolution, Session, StartOutcome, TaskIds, TaskRef, Timestamp, Transport,
    Verdict,
};

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
    /// It answered 404 and its recovery window, counted from the first 404
    /// recovery saw (in this run or an earlier one), is still open: it may be
    /// failing over, so it stays in the journal.
    Recovering {
        /// The first 404 seen.
        since: SystemTime,
        /// How long until the window closes.
        remaining: Duration,
    },
    /// It answered 404 through the whole recovery window: it has ended; it left
    /// the journal.
    Gone {
        /// The first 404 seen.
        since: SystemTime,
        /// The window's length.
        window: Duration,
    },
    /// The service refused the credentials or the account: nothing can be
    /// learnt until they are fixed; it stays in the journal.
    Refused {
        /// The refusal.
        failure: Failure,
    },
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

/// What the start sent again on an intent's resource found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntentFound {
    /// The earlier start had taken effect: the service named the running task,
    /// which was journalled and is among [`RecoveryReport::tasks`].
    Started {
        /// The task's sid.
        sid: Sid,
    },
    /// No task runs on the resource (the service refused the start for this
    /// reason); the intent left the journal.
    NoTask {
        /// The service's answer.
        why: String,
    },
    /// The service refused the credentials or the account; the intent stays.
    Refused {
        /// The refusal.
        failure: Failure,
    },
    /// No useful answer (or a task runs but its sid was not given); the intent
    /// stays in the journal.
    Unresolved {
        /// Why.
        why: String,
    },
}

/// One start of the journal whose answer never arrived, and what recovery found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedIntent {
    /// The start, as journalled.
    pub intent: Intent,
    /// What asking again found.
    pub found: IntentFound,
}

/// What [`Recorder::recover`] found and did.
#[derive(Debug, Default)]
pub struct RecoveryReport {
    /// Every start of the journal whose answer never arrived.
    pub intents: Vec<ResolvedIntent>,
    /// Every journalled task (with those the intents turned up).
    pub tasks: Vec<Recovered>,
    /// Sessions resumed under [`RecoveryPolicy::Resume`].
    pub resumed: Vec<SessionHandle>,
    /// Journal writes that failed: what recovery learnt there is not kept, and
    /// the next recovery looks again.
    pub journal_errors: Vec<String>,
}

/// What a task 404 seen at `now` means when the first one was seen at `since`:
/// the recovery window of a live session, counted across runs on the wall clock.
/// A clock that went back counts as no time passed.
pub fn missing_verdict(since: SystemTime, now: SystemTime, window: Duration) -> Verdict {
    let waited = now.duration_since(since).unwrap_or(Duration::ZERO);
    RecoveryWindow::new(Timestamp::ZERO)
        .with_window(window)
        .unwrap_or_else(|_| RecoveryWindow::new(Timestamp::ZERO))
        .judge(Timestamp::from_origin(waited))
}

/// Whether a failure is a refusal of the credentials or the account.
fn refused(failure: &Failure) -> bool {
    matches!(
        failure.resolution(),
        Resolution::FixCredentials | Resolution::FixAccount
    )
}

fn describe(error: &CallError) -> String {
    match error.failure() {
        Some(failure) => failure.to_string(),
        None => error.to_string(),
    }
}

impl<T, C, E> Recorder<T, C, E>
where
    T: Transport + 'static,
    C: Clock + 'static,
    E: EventSink + 'static,
{
    /// Resolves every journalled start whose answer never arrived (by starting
    /// again on its resource: a running task answers with its sid), then queries
    /// every journalled task and, by `policy`, stops it or supervises it again.
    ///
    /// A task that answers 404 is judged by the recovery window of the session
    /// config, counted from the first 404 recovery saw (written to the journal,
    /// so that a later recovery continues the count): inside it the task stays
    /// in the journal ([`Found::Recovering`]); after it, the task leaves
    /// ([`Found::Gone`]). Unreachable tasks stay. Fails only when the journal
    /// cannot be read.
    pub async fn recover(&self, policy: RecoveryPolicy) -> Result<RecoveryReport, JournalError> {
        let mut report = RecoveryReport::default();
        let Some(journal) = self.inner.journal() else {
            return Ok(report);
        };
        let ledger = journal.ledger()?;
        let mut tasks: Vec<JournalTask> = ledger.tasks().to_vec();
        for intent in ledger.intents() {
            let found = self.resolve_intent(intent).await;
            match &found {
                IntentFound::Started { sid } => {
                    let task = intent.task(sid.clone());
                    note(
                        &mut report,
                        journal.write(&Entry::Live { task: task.clone() }),
                    );
                    if !tasks.iter().any(|t| t.task.sid == task.sid) {
                        tasks.push(JournalTask {
                            task,
                            missing_since: None,
                        });
                    }
                }
                IntentFound::NoTask { .. } => note(
                    &mut report,
                    journal.write(&Entry::Dropped {
                        resource_id: intent.resource_id.clone(),
                    }),
                ),
                IntentFound::Refused { .. } | IntentFound::Unresolved { .. } => {}
            }
            report.intents.push(ResolvedIntent {
                intent: intent.clone(),
                found,
            });
        }
        for entry in tasks {
            let found = self.look_at(journal.as_ref(), &entry, &mut report).await;
            let task = entry.task;
            let mut stopped = None;
            if let Found::Alive { .. } = found {
                let handle = self.resume(&task);
                match policy {
                    RecoveryPolicy::Resume => report.resumed.push(handle),
                    RecoveryPolicy::Stop => stopped = Some(handle.stop().await),
                }
            }
            report.tasks.push(Recovered {
                task,
                found,
                stopped,
            });
        }
        Ok(report)
    }

    async fn resolve_intent(&self, intent: &Intent) -> IntentFound {
        let result = self
            .inner
            .client
            .probe_start(&intent.resource_id, &intent.mode, &intent.cname, intent.uid)
            .await;
        match result {
            Ok(
                StartOutcome::Started { task }
                | StartOutcome::AlreadyStarted { task: Some(task) },
            ) => IntentFound::Started { sid: task.sid },
            Ok(StartOutcome::AlreadyStarted { task: None }) => IntentFound::Unresolved {
                why: "a task runs on the resource, but the answer (201, code 7) named no sid: it exits after maxIdleTime".into(),
            },
            Err(CallError::Failed { failure, .. }) if refused(&failure) => {
                IntentFound::Refused { failure }
            }
            Err(CallError::Failed { failure, .. })
                if failure.transport().is_none()
                    && matches!(
                        failure.resolution(),
                        Resolution::FixRequest
                            | Resolution::ReacquireAndStart
                            | Resolution::ChangeUidAndReacquire
                            | Resolution::TreatAsGone
                    ) =>
            {
                IntentFound::NoTask {
                    why: failure.to_string(),
                }
            }
            Err(error) => IntentFound::Unresolved {
                why: describe(&error),
            },
        }
    }

    /// Queries one task and keeps the journal's count of its recovery window.
    async fn look_at(
        &self,
        journal: &dyn Journal,
        entry: &JournalTask,
        report: &mut RecoveryReport,
    ) -> Found {
        let task = &entry.task;
        match self.inner.client.query(task).await {
            Ok(response) => {
                if entry.missing_since.is_some() {
                    note(
                        report,
                        journal.write(&Entry::Answered {
                            sid: task.sid.clone(),
                        }),
                    );
                }
                Found::Alive {
                    status: response.status().map(|s| s.code()),
                }
            }
            Err(error) if error.resolution() == Resolution::TreatAsGone => {
                let now = self.inner.client.clock().wall();
                let since = match entry.missing_since {
                    Some(since) => since,
                    None => {
                        note(
                            report,
                            journal.write(&Entry::Missing {
                                sid: task.sid.clone(),
                                since: now,
                            }),
                        );
                        now
                    }
                };
                let window = self.inner.config.session.recovery_window();
                match missing_verdict(since, now, window) {
                    Verdict::Recovering { remaining } => Found::Recovering { since, remaining },
                    Verdict::Gone => {
                        note(report, journal.remove(&task.sid));
                        Found::Gone { since, window }
                    }
                }
            }
            Err(error) if error.resolution() == Resolution::AlreadyExiting => {
                Found::Alive { status: None }
            }
            Err(CallError::Failed { failure, .. }) if refused(&failure) => {
                Found::Refused { failure }
            }
            Err(error) => Found::Unreachable {
                why: describe(&error),
            },
        }
    }

    /// Supervises again a task whose ids are known (from a store or a
    /// journal): the session first queries it, then goes on as any session
    /// that records. It can stop its task, not start another.
    pub fn resume(&self, task: &TaskRef) -> SessionHandle {
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

/// Keeps a failed journal write in the report.
fn note(report: &mut RecoveryReport, result: Result<(), JournalError>) {
    if let Err(error) = result {
        tracing::error!(error = %error, "could not update the journal");
        report.journal_errors.push(error.to_string());
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn a_404_is_judged_by_the_time_since_the_first_one() {
        let since = UNIX_EPOCH + Duration::from_secs(1_000);
        let window = Duration::from_secs(90);
        let table = [
            (0, Verdict::Recovering { remaining: window }),
            (
                30,
                Verdict::Recovering {
                    remaining: Duration::from_secs(60),
                },
            ),
            (
                89,
                Verdict::Recovering {
                    remaining: Duration::from_secs(1),
                },
            ),
            (90, Verdict::Gone),
            (3_600, Verdict::Gone),
        ];
        for (after, verdict) in table {
            let now = since + Duration::from_secs(after);
            assert_eq!(missing_verdict(since, now, window), verdict, "{after} s");
        }
        // A clock that went back counts as no time passed.
        assert_eq!(
            missing_verdict(since, since - Duration::from_secs(5), window),
            Verdict::Recovering { remaining: window }
        );
    }
}
