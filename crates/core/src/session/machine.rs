//! The session state machine: answers and time in, the next action out.

use cloudrec_types::{RecordingStatus, ResourceId, Uid, UploadingStatus};
use std::sync::Arc;

use super::config::{ConflictPolicy, LostPolicy, SessionConfig, StopMode};
use super::io::{Action, Answer, End, Input, Polled, Started, StopAnswer, TaskIds, Transition};
use crate::{Failure, RecoveryWindow, Resolution, SessionState, Timestamp, Verdict};

/// How far a derived uid lies from the one it replaces.
const UID_STEP: u32 = 100_003;

/// What a stop concludes, besides stopping.
#[derive(Clone, Debug, PartialEq, Eq)]
enum AfterStop {
    /// A stop asked for by the caller (or a shutdown).
    Requested,
    /// The session failed for this reason; stop is cleanup.
    Fail(String),
    /// The task exited on its own for this reason; stop collects what remains.
    Exited(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// No resource yet: acquire at `not_before`.
    Idle { not_before: Timestamp },
    /// A resource id; start (again, after an ambiguous start) at `next`.
    Acquired {
        resource_id: ResourceId,
        at: Timestamp,
        resends: u32,
        next: Timestamp,
    },
    /// Started; querying until status 4 or 5.
    Waiting {
        task: TaskIds,
        since: Timestamp,
        polls: u32,
        next: Timestamp,
    },
    /// Recording; querying at the configured cadence.
    Running {
        task: TaskIds,
        failures: u32,
        next: Timestamp,
    },
    /// The task answered 404 inside the recovery window.
    Recovering {
        task: TaskIds,
        waiting_since: Option<Timestamp>,
        polls: u32,
        next: Timestamp,
    },
    /// Stopping the task.
    Stopping {
        task: TaskIds,
        attempts: u32,
        gone_polls: u32,
        maybe_stopped: bool,
        next: Timestamp,
        then: AfterStop,
    },
    /// Stopped with `async_stop`; querying until the upload has finished.
    Draining {
        files: Vec<String>,
        uploading: Option<UploadingStatus>,
        task: TaskIds,
        since: Timestamp,
        polls: u32,
        next: Timestamp,
        then: AfterStop,
    },
    /// Over; see `end`.
    Ended,
}

/// One recording session as a sans-IO state machine.
///
/// The driver feeds it [`Input`]s with the current time and a jitter number in
/// `[0, 1]` and performs the [`Action`] it returns; the machine never reads a
/// clock, draws a random number or performs I/O. It follows the documented
/// lifecycle: acquire, start within the resource's lifetime, query after about
/// 5 s until status 4 or 5 (giving up after about 90 s), query at a cadence
/// while recording, wait out task 404s inside the recovery window, and always
/// end with a stop, or with a report of exactly why it could not stop.
///
/// Every state change is recorded as a [`Transition`]; take them with
/// [`Session::take_transitions`] and publish them.
#[derive(Clone, Debug)]
pub struct Session {
    config: Arc<SessionConfig>,
    uid: Uid,
    phase: Phase,
    stop_requested: bool,
    restarts: u32,
    /// Whether any acquire gave a resource id.
    acquired_once: bool,
    last_good: Timestamp,
    missing_since: Option<Timestamp>,
    last_status: Option<RecordingStatus>,
    reported: Option<SessionState>,
    note: Option<String>,
    transitions: Vec<Transition>,
    unconfirmed: Vec<TaskIds>,
    uncertain: Vec<ResourceId>,
    end: Option<End>,
}

impl Session {
    /// A session that will acquire with `uid`; give it [`Input::Wake`] to begin.
    pub fn new(uid: Uid, config: Arc<SessionConfig>) -> Self {
        Self {
            config,
            uid,
            phase: Phase::Idle {
                not_before: Timestamp::ZERO,
            },
            stop_requested: false,
            restarts: 0,
            acquired_once: false,
            last_good: Timestamp::ZERO,
            missing_since: None,
            last_status: None,
            reported: None,
            note: None,
            transitions: Vec::new(),
            unconfirmed: Vec::new(),
            uncertain: Vec::new(),
            end: None,
        }
    }

    /// A session that supervises a task that already runs (one found in a
    /// journal after a restart), as if it had just answered at `now`.
    pub fn resume(task: TaskIds, config: Arc<SessionConfig>, now: Timestamp) -> Self {
        let mut session = Self::new(task.uid, config);
        session.acquired_once = true;
        session.last_good = now;
        session.phase = Phase::Running {
            task,
            failures: 0,
            next: now,
        };
        session.enter(
            SessionState::Running,
            Some("resumed from the journal".into()),
        );
        session
    }

    /// Asks the session to stop its task. Takes effect at the next input: give
    /// [`Input::Wake`] if the driver is waiting. A session with no task yet ends
    /// without starting one.
    pub fn request_stop(&mut self) {
        self.stop_requested = true;
    }

    /// Asks the session to query its task at the next input instead of at the
    /// next poll, as when a notification says the task changed: it learns the
    /// change from the answer, never from the notification. Only a session that
    /// waits for its task to run, records, recovers or drains an async stop
    /// queries; otherwise (acquiring, starting, stopping, ended) it does
    /// nothing. Give [`Input::Wake`] if the driver is waiting.
    pub fn query_now(&mut self, now: Timestamp) {
        match &mut self.phase {
            Phase::Waiting { next, .. }
            | Phase::Running { next, .. }
            | Phase::Recovering { next, .. }
            | Phase::Draining { next, .. } => *next = (*next).min(now),
            Phase::Idle { .. } | Phase::Acquired { .. } | Phase::Stopping { .. } | Phase::Ended => {
            }
        }
    }

    /// Whether a stop was requested.
    pub fn stop_requested(&self) -> bool {
        self.stop_requested
    }

    /// The last reported state; `None` before the first acquire succeeded.
    pub fn state(&self) -> Option<SessionState> {
        self.reported
    }

    /// How the session ended, once it has.
    pub fn end(&self) -> Option<&End> {
        self.end.as_ref()
    }

    /// The task the session supervises now, if any.
    pub fn task(&self) -> Option<&TaskIds> {
        match &self.phase {
            Phase::Waiting { task, .. }
            | Phase::Running { task, .. }
            | Phase::Recovering { task, .. }
            | Phase::Stopping { task, .. }
            | Phase::Draining { task, .. } => Some(task),
            Phase::Idle { .. } | Phase::Acquired { .. } | Phase::Ended => None,
        }
    }

    /// Tasks this session started and could not confirm as stopped (lost, or
    /// stop failed): each is named in the end's reason or in a transition.
    pub fn unconfirmed(&self) -> &[TaskIds] {
        &self.unconfirmed
    }

    /// Resource ids on which a start may have taken effect without the sid ever
    /// arriving (every answer was lost or contradicted): a task may run there
    /// until its `maxIdleTime`.
    pub fn uncertain(&self) -> &[ResourceId] {
        &self.uncertain
    }

    /// The recorder uid in use (it changes after a conflict or a lost task).
    pub fn uid(&self) -> Uid {
        self.uid
    }

    /// How many times the session acquired again.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// The transitions since the last call, oldest first.
    pub fn take_transitions(&mut self) -> Vec<Transition> {
        std::mem::take(&mut self.transitions)
    }

    /// Takes one input at `now` with `jitter` in `[0, 1]` and returns what to do
    /// next. An answer that does not fit the current step (a query answer while
    /// starting) is ignored.
    pub fn handle(&mut self, input: Input, now: Timestamp, jitter: f64) -> Action {
        match input {
            Input::Wake => {}
            Input::Acquired(reply) => self.on_acquired(reply, now),
            Input::Started(reply) => self.on_started(reply, now, jitter),
            Input::Queried(reply) => self.on_queried(reply, now, jitter),
            Input::Stopped(reply) => self.on_stopped(reply, now, jitter),
        }
        self.decide(now)
    }

    // ---- decisions --------------------------------------------------------

    fn decide(&mut self, now: Timestamp) -> Action {
        if self.stop_requested {
            match &self.phase {
                // A start whose answer was lost may have started a task: it is
                // sent again to learn the sid (201 code 7), and then stopped.
                Phase::Acquired { resends, .. } if *resends > 0 => {}
                Phase::Idle { .. } | Phase::Acquired { .. } => {
                    self.finish(End::Failed {
                        why: "stop requested before a task was started; nothing to stop".into(),
                    });
                }
                Phase::Waiting { .. } | Phase::Running { .. } | Phase::Recovering { .. } => {
                    self.begin_stopping(now, AfterStop::Requested);
                }
                Phase::Stopping { .. } | Phase::Draining { .. } | Phase::Ended => {}
            }
        }
        match &self.phase {
            Phase::Idle { not_before } => {
                if now < *not_before {
                    Action::Wait { until: *not_before }
                } else {
                    Action::Acquire { uid: self.uid }
                }
            }
            Phase::Acquired {
                resource_id,
                at,
                next,
                ..
            } => {
                if now.saturating_since(*at) >= self.config.resource_lifetime {
                    if let Phase::Acquired {
                        resource_id,
                        resends: 1..,
                        ..
                    } = &self.phase
                    {
                        self.uncertain.push(resource_id.clone());
                    }
                    let why = "the resource id expired before start (valid 5 minutes)".to_owned();
                    return match self.restart(now, why, false) {
                        Ok(()) => self.decide(now),
                        Err(why) => {
                            self.finish(End::Failed { why });
                            Action::Done
                        }
                    };
                }
                if now < *next {
                    return Action::Wait { until: *next };
                }
                let action = Action::Start {
                    resource_id: resource_id.clone(),
                    uid: self.uid,
                };
                self.enter(SessionState::Starting, None);
                action
            }
            Phase::Waiting { task, next, .. }
            | Phase::Running { task, next, .. }
            | Phase::Recovering { task, next, .. }
            | Phase::Draining { task, next, .. } => {
                if now < *next {
                    Action::Wait { until: *next }
                } else {
                    Action::Query { task: task.clone() }
                }
            }
            Phase::Stopping { task, next, .. } => {
                if now < *next {
                    Action::Wait { until: *next }
                } else {
                    Action::Stop {
                        task: task.clone(),
                        async_stop: matches!(self.config.stop, StopMode::Async { .. }),
                    }
                }
            }
            Phase::Ended => Action::Done,
        }
    }

    fn on_acquired(&mut self, reply: Answer<ResourceId>, now: Timestamp) {
        if !matches!(self.phase, Phase::Idle { .. }) {
            return;
        }
        match reply {
            Answer::Ok(resource_id) => {
                self.acquired_once = true;
                self.phase = Phase::Acquired {
                    resource_id,
                    at: now,
                    resends: 0,
                    next: now,
                };
                let note = self.note.take();
                self.enter(SessionState::Acquired, note);
            }
            Answer::Failed(failure) | Answer::Ambiguous(failure)
                if !failure.unanswered_hosts().is_empty() =>
            {
                // The client already retried across its hosts: acquiring again
                // cannot reach a service that none of them answered for.
                self.finish(End::Failed {
                    why: format!(
                        "no host answered acquire (tried {}; {}); nothing was acquired: check the network, a proxy or firewall, and the base URL or region",
                        failure.unanswered_hosts().join(", "),
                        failure
                            .transport()
                            .map_or_else(String::new, |error| error.detail.clone()),
                    ),
                });
            }
            Answer::Failed(failure) | Answer::Ambiguous(failure) => match failure.resolution() {
                Resolution::RetryBackoff
                | Resolution::RetryThenReacquire
                | Resolution::ReacquireAndStart
                | Resolution::ReduceRate => {
                    let why = format!("acquire failed: {failure}");
                    let delay = self.config.stop_backoff.delay(self.restarts + 1, 0.0);
                    if let Err(why) = self.restart(now + delay, why, false) {
                        self.finish(End::Failed { why });
                    }
                }
                _ => self.finish(End::Failed {
                    why: format!("acquire failed: {failure}"),
                }),
            },
            Answer::Invalid(why) => self.finish(End::Failed {
                why: format!("acquire refused before sending: {why}"),
            }),
        }
    }

    fn on_started(&mut self, reply: Answer<Started>, now: Timestamp, jitter: f64) {
        let Phase::Acquired { resource_id, .. } = &self.phase else {
            return;
        };
        let resource_id = resource_id.clone();
        let started = |sid| TaskIds {
            resource_id: resource_id.clone(),
            sid,
            uid: self.uid,
        };
        match reply {
            Answer::Ok(Started::New(sid)) => {
                let task = started(sid);
                self.begin_waiting(task, now, None);
            }
            Answer::Ok(Started::Already(Some(sid))) => {
                let task = started(sid);
                let why = "start answered already started (201, code 7): keeping the sid";
                self.begin_waiting(task, now, Some(why.into()));
            }
            Answer::Ok(Started::Already(None)) => self.finish(End::Failed {
                why: format!(
                    "start answered already started (201, code 7) without a sid: the task on resource id {resource_id} cannot be queried or stopped; it exits after maxIdleTime"
                ),
            }),
            Answer::Failed(failure) => {
                if failure.resolution() == Resolution::DoNotRepeat
                    && let Some(sid) = failure.sid()
                {
                    let task = started(sid.clone());
                    let why = "start answered already started (201, code 7): keeping the sid";
                    self.begin_waiting(task, now, Some(why.into()));
                    return;
                }
                self.on_start_failure(&failure, now, jitter);
            }
            Answer::Ambiguous(failure) => self.resend_start(&failure, now, jitter),
            Answer::Invalid(why) => self.finish(End::Failed {
                why: format!("start refused before sending: {why}"),
            }),
        }
    }

    /// Sends start again on the same resource after an answer that leaves open
    /// whether it took effect: it starts the task, or answers 201 code 7 with
    /// the sid. When the resends run out, the resource is reported as uncertain.
    fn resend_start(&mut self, failure: &Failure, now: Timestamp, jitter: f64) {
        let Phase::Acquired {
            resource_id,
            at,
            resends,
            ..
        } = &self.phase
        else {
            return;
        };
        let (resource_id, at, resends) = (resource_id.clone(), *at, *resends + 1);
        if resends > self.config.max_start_resends {
            self.uncertain.push(resource_id.clone());
            let why = format!(
                "start may have taken effect but no usable answer came after {resends} tries ({failure}); a task may run on resource id {resource_id} until maxIdleTime"
            );
            if failure.resolution() == Resolution::RetryThenReacquire
                && let Ok(()) = self.restart(now, why.clone(), false)
            {
                return;
            }
            return self.finish(End::Failed { why });
        }
        let delay = self.config.stop_backoff.delay(resends, jitter);
        self.phase = Phase::Acquired {
            resource_id,
            at,
            resends,
            next: now + delay,
        };
    }

    fn on_start_failure(&mut self, failure: &Failure, now: Timestamp, jitter: f64) {
        let Phase::Acquired {
            resource_id,
            resends,
            ..
        } = &self.phase
        else {
            return;
        };
        let (resource_id, maybe_started) = (resource_id.clone(), *resends > 0);
        let outcome = match failure.resolution() {
            // The backend may have been reached (65, 62, 5xx): ask again on the
            // same resource before abandoning it.
            Resolution::RetryThenReacquire | Resolution::RetryBackoff => {
                return self.resend_start(failure, now, jitter);
            }
            Resolution::ReacquireAndStart | Resolution::ReduceRate => self.restart(
                now,
                format!("start failed, acquiring again: {failure}"),
                false,
            ),
            Resolution::ChangeUidAndReacquire => match self.config.conflict {
                ConflictPolicy::NewUid => self.restart(
                    now,
                    format!(
                        "task conflict with uid {}: acquiring again with another uid ({failure})",
                        self.uid
                    ),
                    true,
                ),
                ConflictPolicy::Fail => Err(format!(
                    "task conflict (53): a task with this cname and uid {} already runs; stop the leaked task or use another uid",
                    self.uid
                )),
            },
            Resolution::DoNotRepeat
            | Resolution::AlreadyExiting
            | Resolution::TreatAsGone
            | Resolution::SuccessNoData
            | Resolution::UploadPending
            | Resolution::FixRequest
            | Resolution::FixCredentials
            | Resolution::FixAccount
            | Resolution::ReduceConcurrency => Err(format!(
                "start on resource id {resource_id} failed: {failure}"
            )),
        };
        if maybe_started {
            self.uncertain.push(resource_id);
        }
        if let Err(why) = outcome {
            self.finish(End::Failed { why });
        }
    }

    fn begin_waiting(&mut self, task: TaskIds, now: Timestamp, reason: Option<String>) {
        self.last_good = now;
        self.last_status = None;
        self.phase = Phase::Waiting {
            task,
            since: now,
            polls: 0,
            next: now + self.config.first_query_delay,
        };
        self.enter(SessionState::WaitingUntilRunning, reason);
    }

    fn on_queried(&mut self, reply: Answer<Polled>, now: Timestamp, jitter: f64) {
        match &self.phase {
            Phase::Waiting { .. } | Phase::Running { .. } | Phase::Recovering { .. } => {}
            Phase::Draining { .. } => return self.on_drain_answer(reply, now, jitter),
            Phase::Idle { .. } | Phase::Acquired { .. } | Phase::Stopping { .. } | Phase::Ended => {
                return;
            }
        }
        match reply {
            Answer::Ok(polled) => self.on_status(polled, now, jitter),
            Answer::Failed(failure) | Answer::Ambiguous(failure) => {
                self.on_query_failure(&failure, now, jitter)
            }
            Answer::Invalid(why) => self.begin_stopping(
                now,
                AfterStop::Fail(format!("query refused before sending: {why}")),
            ),
        }
    }

    fn on_status(&mut self, polled: Polled, now: Timestamp, jitter: f64) {
        self.last_good = now;
        self.missing_since = None;
        self.last_status = polled.status;
        let status = polled.status;
        if let Some(status) = status.filter(|s| s.is_finished()) {
            let code = status_code(status);
            let then = if self.ever_ran() {
                AfterStop::Exited(format!(
                    "the task exited on its own (status {code}): idle for maxIdleTime, or the bot was removed"
                ))
            } else {
                AfterStop::Fail(format!(
                    "the task exited (status {code}) before it reported recording"
                ))
            };
            return self.begin_stopping(now, then);
        }
        let running = status.is_some_and(RecordingStatus::is_running);
        let phase = std::mem::replace(&mut self.phase, Phase::Ended);
        match phase {
            Phase::Waiting {
                task, since, polls, ..
            }
            | Phase::Recovering {
                task,
                waiting_since: Some(since),
                polls,
                ..
            } if !running => {
                let was_recovering = matches!(self.reported, Some(SessionState::Recovering));
                let polls = polls + 1;
                let deadline = since + self.config.running_give_up;
                if now >= deadline {
                    self.phase = Phase::Waiting {
                        task,
                        since,
                        polls,
                        next: now,
                    };
                    let last =
                        status.map_or_else(|| "none".to_owned(), |s| status_code(s).to_string());
                    return self.begin_stopping(
                        now,
                        AfterStop::Fail(format!(
                            "the task did not report status 4 or 5 within {} s of start (last status {last})",
                            self.config.running_give_up.as_secs()
                        )),
                    );
                }
                let next = (now + self.config.waiting_backoff.delay(polls, jitter)).min(deadline);
                self.phase = Phase::Waiting {
                    task,
                    since,
                    polls,
                    next,
                };
                if was_recovering {
                    self.enter(
                        SessionState::WaitingUntilRunning,
                        Some("the task answered again".into()),
                    );
                }
            }
            Phase::Waiting { task, .. }
            | Phase::Running { task, .. }
            | Phase::Recovering { task, .. } => {
                let reason = match self.reported {
                    Some(SessionState::Recovering) => Some("the task answered again".to_owned()),
                    _ => None,
                };
                self.phase = Phase::Running {
                    task,
                    failures: 0,
                    next: now + self.config.jittered_interval(jitter),
                };
                self.enter(SessionState::Running, reason);
            }
            other => self.phase = other,
        }
    }

    fn on_query_failure(&mut self, failure: &Failure, now: Timestamp, jitter: f64) {
        match failure.resolution() {
            Resolution::TreatAsGone => self.on_task_missing(now, jitter),
            Resolution::AlreadyExiting => self.begin_stopping(
                now,
                AfterStop::Exited(format!("the task is exiting ({failure})")),
            ),
            Resolution::FixRequest | Resolution::FixCredentials | Resolution::FixAccount => self
                .begin_stopping(
                    now,
                    AfterStop::Fail(format!("query failed and cannot succeed: {failure}")),
                ),
            Resolution::RetryBackoff
            | Resolution::RetryThenReacquire
            | Resolution::ReacquireAndStart
            | Resolution::ChangeUidAndReacquire
            | Resolution::DoNotRepeat
            | Resolution::SuccessNoData
            | Resolution::UploadPending
            | Resolution::ReduceRate
            | Resolution::ReduceConcurrency => {
                // No news about the task: ask again later.
                let config = Arc::clone(&self.config);
                match &mut self.phase {
                    Phase::Waiting {
                        since, polls, next, ..
                    } => {
                        *polls += 1;
                        let deadline = *since + config.running_give_up;
                        if now >= deadline {
                            let why = format!(
                                "the task did not report status 4 or 5 within {} s of start (last query: {failure})",
                                config.running_give_up.as_secs()
                            );
                            self.begin_stopping(now, AfterStop::Fail(why));
                        } else {
                            *next =
                                (now + config.waiting_backoff.delay(*polls, jitter)).min(deadline);
                        }
                    }
                    Phase::Running { failures, next, .. } => {
                        *failures += 1;
                        let delay = config
                            .stop_backoff
                            .delay(*failures, jitter)
                            .min(config.query_interval);
                        *next = now + delay;
                    }
                    Phase::Recovering { polls, next, .. } => {
                        *polls += 1;
                        *next = now + config.recovery_backoff.delay(*polls, jitter);
                    }
                    _ => {}
                }
            }
        }
    }

    fn on_task_missing(&mut self, now: Timestamp, jitter: f64) {
        let window = self.recovery_window(now);
        let phase = std::mem::replace(&mut self.phase, Phase::Ended);
        let (task, waiting_since, polls) = match phase {
            Phase::Waiting { task, since, .. } => (task, Some(since), 0),
            Phase::Running { task, .. } => (task, None, 0),
            Phase::Recovering {
                task,
                waiting_since,
                polls,
                ..
            } => (task, waiting_since, polls),
            other => {
                self.phase = other;
                return;
            }
        };
        match window.judge(now) {
            Verdict::Recovering { remaining } => {
                let polls = polls + 1;
                let delay = self
                    .config
                    .recovery_backoff
                    .delay(polls, jitter)
                    .min(remaining);
                self.phase = Phase::Recovering {
                    task,
                    waiting_since,
                    polls,
                    next: now + delay,
                };
                self.enter(
                    SessionState::Recovering,
                    Some(format!(
                        "task not found (404): it may be failing over; {} s left in the recovery window",
                        remaining.as_secs()
                    )),
                );
            }
            Verdict::Gone => self.lost(task, now),
        }
    }

    /// The recovery window of the current outage: it opens at the first task 404
    /// since the last good answer (the documented rule: keep polling for about
    /// 90 s after a 404 before declaring the task dead).
    fn recovery_window(&mut self, now: Timestamp) -> RecoveryWindow {
        let since = *self.missing_since.get_or_insert(now);
        RecoveryWindow::new(since)
            .with_window(self.config.recovery_window)
            .unwrap_or_else(|_| RecoveryWindow::new(since))
    }

    fn lost(&mut self, task: TaskIds, now: Timestamp) {
        let why = format!(
            "task sid {} not found (404) for the whole {} s recovery window",
            task.sid,
            self.config.recovery_window.as_secs()
        );
        self.unconfirmed.push(task);
        if self.config.lost == LostPolicy::RestartWithNewUid && !self.stop_requested {
            let note = format!("{why}; starting a replacement with another uid");
            match self.restart(now, note, true) {
                Ok(()) => return,
                Err(exhausted) => {
                    self.finish(End::Lost { why: exhausted });
                    return;
                }
            }
        }
        self.finish(End::Lost { why });
    }

    fn begin_stopping(&mut self, now: Timestamp, then: AfterStop) {
        let phase = std::mem::replace(&mut self.phase, Phase::Ended);
        let task = match phase {
            Phase::Waiting { task, .. }
            | Phase::Running { task, .. }
            | Phase::Recovering { task, .. } => task,
            other => {
                self.phase = other;
                return;
            }
        };
        let reason = match &then {
            AfterStop::Requested => "stop requested".to_owned(),
            AfterStop::Fail(why) | AfterStop::Exited(why) => why.clone(),
        };
        self.phase = Phase::Stopping {
            task,
            attempts: 0,
            gone_polls: 0,
            maybe_stopped: false,
            next: now,
            then,
        };
        self.enter(SessionState::Stopping, Some(reason));
    }

    fn on_stopped(&mut self, reply: Answer<StopAnswer>, now: Timestamp, jitter: f64) {
        if !matches!(self.phase, Phase::Stopping { .. }) {
            return;
        }
        let answer = match reply {
            Answer::Ok(answer) => answer,
            Answer::Failed(failure) => match failure.resolution() {
                Resolution::AlreadyExiting => StopAnswer::AlreadyExiting,
                Resolution::SuccessNoData => StopAnswer::NoRecordedData,
                Resolution::UploadPending => StopAnswer::UploadPending,
                Resolution::TreatAsGone => StopAnswer::Gone,
                Resolution::FixRequest | Resolution::FixCredentials | Resolution::FixAccount => {
                    return self.stop_failed(format!("stop failed and cannot succeed: {failure}"));
                }
                Resolution::RetryBackoff
                | Resolution::RetryThenReacquire
                | Resolution::ReacquireAndStart
                | Resolution::ChangeUidAndReacquire
                | Resolution::DoNotRepeat
                | Resolution::ReduceRate
                | Resolution::ReduceConcurrency => {
                    return self.stop_again(&failure, false, now, jitter);
                }
            },
            Answer::Ambiguous(failure) => return self.stop_again(&failure, true, now, jitter),
            Answer::Invalid(why) => {
                return self.stop_failed(format!("stop refused before sending: {why}"));
            }
        };
        let Phase::Stopping {
            task,
            gone_polls,
            maybe_stopped,
            then,
            ..
        } = std::mem::replace(&mut self.phase, Phase::Ended)
        else {
            return;
        };
        match answer {
            StopAnswer::Stopped {
                files,
                uploading_status,
            } => {
                let settled = matches!(
                    uploading_status,
                    Some(UploadingStatus::Uploaded | UploadingStatus::Backuped)
                );
                if let (StopMode::Async { .. }, false) = (self.config.stop, settled) {
                    return self.drain(task, files, uploading_status, then, now);
                }
                self.finish_stop(then, files, uploading_status, None);
            }
            StopAnswer::NoRecordedData => match then {
                AfterStop::Fail(why) => self.finish(End::Failed { why }),
                AfterStop::Requested | AfterStop::Exited(_) => self.finish(End::StoppedNoData),
            },
            StopAnswer::AlreadyExiting => self.finish_stop(
                then,
                Vec::new(),
                None,
                Some(
                    "the task was already exiting (code 49): idle for maxIdleTime, the bot was removed, or it was stopped twice"
                        .into(),
                ),
            ),
            StopAnswer::UploadPending => {
                if let StopMode::Async { .. } = self.config.stop {
                    return self.drain(task, Vec::new(), None, then, now);
                }
                self.finish_stop(
                    then,
                    Vec::new(),
                    None,
                    Some("stop accepted but the upload was not confirmed in time (code 50): watch the upload notifications".into()),
                );
            }
            StopAnswer::Gone => {
                if self.last_status.is_some_and(RecordingStatus::is_finished) {
                    return self.finish_stop(
                        then,
                        Vec::new(),
                        None,
                        Some("the task had already exited on its own".into()),
                    );
                }
                let window = self.recovery_window(now);
                match window.judge(now) {
                    Verdict::Recovering { remaining } => {
                        let gone_polls = gone_polls + 1;
                        let delay = self
                            .config
                            .recovery_backoff
                            .delay(gone_polls, jitter)
                            .min(remaining);
                        self.phase = Phase::Stopping {
                            task,
                            attempts: 0,
                            gone_polls,
                            maybe_stopped,
                            next: now + delay,
                            then,
                        };
                    }
                    Verdict::Gone => {
                        let cause = if maybe_stopped {
                            "an earlier stop whose answer was lost took effect"
                        } else {
                            "it had exited on its own (idle exit after maxIdleTime)"
                        };
                        let reason = format!(
                            "task sid {} not found (404) through the {} s recovery window: {cause}, or it was lost",
                            task.sid,
                            self.config.recovery_window.as_secs()
                        );
                        self.unconfirmed.push(task);
                        self.finish_stop(then, Vec::new(), None, Some(reason));
                    }
                }
            }
        }
    }

    fn stop_again(&mut self, failure: &Failure, ambiguous: bool, now: Timestamp, jitter: f64) {
        let max = self.config.max_stop_attempts;
        let Phase::Stopping {
            attempts,
            maybe_stopped,
            next,
            ..
        } = &mut self.phase
        else {
            return;
        };
        *attempts += 1;
        *maybe_stopped |= ambiguous;
        if *attempts >= max {
            let attempts = *attempts;
            return self.stop_failed(format!(
                "could not stop the task after {attempts} attempt(s): {failure}"
            ));
        }
        *next = now + self.config.stop_backoff.delay(*attempts, jitter);
    }

    fn stop_failed(&mut self, why: String) {
        let Phase::Stopping { task, .. } = std::mem::replace(&mut self.phase, Phase::Ended) else {
            return;
        };
        let why = format!(
            "{why}; task sid {} on resource id {} may still run",
            task.sid, task.resource_id
        );
        self.unconfirmed.push(task);
        self.finish(End::Failed { why });
    }

    fn drain(
        &mut self,
        task: TaskIds,
        files: Vec<String>,
        uploading: Option<UploadingStatus>,
        then: AfterStop,
        now: Timestamp,
    ) {
        let StopMode::Async { poll, .. } = self.config.stop else {
            return self.finish_stop(then, files, uploading, None);
        };
        self.phase = Phase::Draining {
            files,
            uploading,
            task,
            since: now,
            polls: 0,
            next: now + poll,
            then,
        };
    }

    fn on_drain_answer(&mut self, reply: Answer<Polled>, now: Timestamp, _jitter: f64) {
        let StopMode::Async { poll, give_up } = self.config.stop else {
            return;
        };
        let Phase::Draining {
            files,
            uploading,
            task,
            since,
            polls,
            then,
            ..
        } = std::mem::replace(&mut self.phase, Phase::Ended)
        else {
            return;
        };
        let settled: Option<(Option<UploadingStatus>, Option<String>)> = match &reply {
            Answer::Ok(Polled {
                status: Some(RecordingStatus::Stopped | RecordingStatus::Exited),
                ..
            }) => Some((Some(UploadingStatus::Uploaded), None)),
            Answer::Ok(Polled {
                status: Some(RecordingStatus::ExitedAbnormally),
                ..
            }) => Some((
                uploading.clone(),
                Some("the task exited abnormally (status 20) after stop".into()),
            )),
            Answer::Failed(failure)
                if matches!(
                    failure.resolution(),
                    Resolution::TreatAsGone | Resolution::AlreadyExiting
                ) =>
            {
                Some((
                    uploading.clone(),
                    Some(
                        "the task has exited after stop; the upload finished or went to backup"
                            .into(),
                    ),
                ))
            }
            _ => None,
        };
        if let Some((uploading, reason)) = settled {
            return self.finish_stop(then, files, uploading, reason);
        }
        if now.saturating_since(since) >= give_up {
            let reason = format!(
                "upload not confirmed within {} s of stop",
                give_up.as_secs()
            );
            return self.finish_stop(then, files, uploading, Some(reason));
        }
        self.phase = Phase::Draining {
            files,
            uploading,
            task,
            since,
            polls: polls + 1,
            next: now + poll,
            then,
        };
    }

    fn finish_stop(
        &mut self,
        then: AfterStop,
        files: Vec<String>,
        uploading_status: Option<UploadingStatus>,
        reason: Option<String>,
    ) {
        let end = match then {
            AfterStop::Fail(why) => End::Failed { why },
            AfterStop::Requested => End::Stopped {
                files,
                uploading_status,
                reason,
            },
            AfterStop::Exited(why) => End::Stopped {
                files,
                uploading_status,
                reason: Some(match reason {
                    Some(more) => format!("{why}; {more}"),
                    None => why,
                }),
            },
        };
        self.finish(end);
    }

    /// Goes back to acquiring (with a new uid when `new_uid`), if the restart
    /// budget allows; otherwise returns why the session must fail.
    fn restart(&mut self, not_before: Timestamp, why: String, new_uid: bool) -> Result<(), String> {
        if self.restarts >= self.config.max_restarts {
            return Err(if self.acquired_once {
                format!("{why}; gave up after {} re-acquisition(s)", self.restarts)
            } else {
                format!(
                    "{why}; gave up after {} acquire call(s), none of which gave a resource id",
                    self.restarts + 1
                )
            });
        }
        self.restarts += 1;
        if new_uid {
            self.uid = derive_uid(self.uid);
        }
        self.phase = Phase::Idle { not_before };
        self.note = Some(why);
        Ok(())
    }

    fn ever_ran(&self) -> bool {
        matches!(
            self.phase,
            Phase::Running { .. }
                | Phase::Recovering {
                    waiting_since: None,
                    ..
                }
        )
    }

    fn finish(&mut self, end: End) {
        let state = end.state();
        let reason = match &end {
            End::Stopped { reason, .. } => reason.clone(),
            End::StoppedNoData => Some("nothing was recorded: nobody published a stream".into()),
            End::Failed { why } | End::Lost { why } => Some(why.clone()),
        };
        self.phase = Phase::Ended;
        self.end = Some(end);
        self.enter(state, reason);
    }

    fn enter(&mut self, to: SessionState, reason: Option<String>) {
        if self.reported == Some(to) {
            return;
        }
        self.transitions.push(Transition {
            from: self.reported,
            to,
            reason,
        });
        self.reported = Some(to);
    }
}

/// Another uid for a replacement task: `UID_STEP` further, wrapping, never 0.
fn derive_uid(uid: Uid) -> Uid {
    let next = uid.get().wrapping_add(UID_STEP);
    Uid::new(next).or_else(|_| Uid::new(1)).unwrap_or(uid)
}

fn status_code(status: RecordingStatus) -> i64 {
    status.code()
}
