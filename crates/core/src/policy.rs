//! The retry decision: what to do after a failure, as a pure function.

use std::time::Duration;

use cloudrec_types::Endpoint;

use crate::{Backoff, Delivery, Failure, FailureKind, PolicyError, Resolution};

/// What the caller does next after a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Next {
    /// Send the same request to the same host after `after`.
    Retry {
        /// How long to wait first.
        after: Duration,
    },
    /// Send the same request to the next host of the
    /// [`FailoverPlan`](crate::FailoverPlan) after `after` (the plan's first step
    /// repeats the primary host once, as documented).
    Failover {
        /// How long to wait first.
        after: Duration,
    },
    /// The request may have taken effect and its answer was lost (a start or stop
    /// that timed out or lost its connection): query the task before deciding,
    /// never resend it blindly.
    Reconcile,
    /// Give up on this resource id: acquire a new one and start again.
    Reacquire,
    /// A task with the same cname and uid already runs: acquire again with another
    /// uid (and look for the leaked task).
    ReacquireWithNewUid,
    /// The task was not found: ask the [`RecoveryWindow`](crate::RecoveryWindow)
    /// whether it is still recovering (poll again later) or gone.
    CheckRecovery,
    /// What the call asked for has already happened (start already running, stop
    /// already exiting, stopped with no data, upload pending): do not send it again.
    AlreadyDone,
    /// Stop trying; the failure is final for this call.
    GiveUp(GiveUpReason),
}

/// Why the policy gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GiveUpReason {
    /// Sending the same request again cannot help (fix the request, the
    /// credentials, the account, or the number of running tasks).
    NotRetryable,
    /// The call used all its attempts.
    AttemptsExhausted,
    /// The next attempt would end after the call's deadline.
    DeadlinePassed,
}

/// Which schedule a retry uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Schedule {
    ServerErrors,
    Failover,
    RateLimited,
}

/// The retry policy of one call: attempts, deadline, back-off schedules and the
/// bound on `Retry-After`. [`RetryPolicy::decide`] is a pure function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    deadline: Duration,
    retry_after_cap: Duration,
    server_errors: Backoff,
    failover: Backoff,
    rate_limited: Backoff,
}

impl Default for RetryPolicy {
    /// 4 attempts (the first and the documented three retries), a 60 s deadline
    /// per call, `Retry-After` clamped to 30 s, and the documented schedules.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            deadline: Duration::from_secs(60),
            retry_after_cap: Duration::from_secs(30),
            server_errors: Backoff::server_errors(),
            failover: Backoff::failover(),
            rate_limited: Backoff::rate_limited(),
        }
    }
}

impl RetryPolicy {
    /// Attempts per call, the first included.
    pub fn with_max_attempts(mut self, attempts: u32) -> Result<Self, PolicyError> {
        if attempts == 0 {
            return Err(PolicyError::ZeroCount {
                setting: "max attempts",
            });
        }
        self.max_attempts = attempts;
        Ok(self)
    }

    /// How long one call may take in total, waits included.
    pub fn with_deadline(mut self, deadline: Duration) -> Result<Self, PolicyError> {
        if deadline.is_zero() {
            return Err(PolicyError::ZeroDuration {
                setting: "call deadline",
            });
        }
        self.deadline = deadline;
        Ok(self)
    }

    /// The longest `Retry-After` obeyed; longer values are shortened to it.
    pub fn with_retry_after_cap(mut self, cap: Duration) -> Self {
        self.retry_after_cap = cap;
        self
    }

    /// The schedule after 5xx answers, code 65 and other `retry_backoff` failures.
    pub fn with_server_error_backoff(mut self, backoff: Backoff) -> Self {
        self.server_errors = backoff;
        self
    }

    /// The schedule between hosts after transport failures.
    pub fn with_failover_backoff(mut self, backoff: Backoff) -> Self {
        self.failover = backoff;
        self
    }

    /// The schedule after a rate-limit answer without `Retry-After`.
    pub fn with_rate_limited_backoff(mut self, backoff: Backoff) -> Self {
        self.rate_limited = backoff;
        self
    }

    /// Attempts per call, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// How long one call may take in total.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Decides what follows `failure`.
    ///
    /// - `attempt`: how many attempts of this call were made, the failed one
    ///   included (1 after the first).
    /// - `elapsed`: time since the call's first attempt began.
    /// - `jitter`: a number in `[0, 1]`, random in production, fixed in tests.
    pub fn decide(&self, failure: &Failure, attempt: u32, elapsed: Duration, jitter: f64) -> Next {
        let settles_state = matches!(failure.endpoint(), Endpoint::Start | Endpoint::Stop);
        match failure.kind() {
            FailureKind::NoAnswer { delivery, .. } => {
                if settles_state && delivery == Delivery::MaybeSent {
                    return Next::Reconcile;
                }
                let exhausted = Next::GiveUp(GiveUpReason::AttemptsExhausted);
                return self.again(
                    Schedule::Failover,
                    failure,
                    attempt,
                    elapsed,
                    jitter,
                    exhausted,
                );
            }
            FailureKind::UnreadableSuccess if settles_state => return Next::Reconcile,
            FailureKind::UnreadableSuccess
            | FailureKind::Service
            | FailureKind::Gateway
            | FailureKind::UnreadableError => {}
        }
        match failure.resolution() {
            Resolution::RetryBackoff => {
                let exhausted = Next::GiveUp(GiveUpReason::AttemptsExhausted);
                self.again(
                    Schedule::ServerErrors,
                    failure,
                    attempt,
                    elapsed,
                    jitter,
                    exhausted,
                )
            }
            Resolution::RetryThenReacquire => self.again(
                Schedule::ServerErrors,
                failure,
                attempt,
                elapsed,
                jitter,
                Next::Reacquire,
            ),
            Resolution::ReduceRate => {
                let exhausted = Next::GiveUp(GiveUpReason::AttemptsExhausted);
                self.again(
                    Schedule::RateLimited,
                    failure,
                    attempt,
                    elapsed,
                    jitter,
                    exhausted,
                )
            }
            Resolution::ReacquireAndStart => Next::Reacquire,
            Resolution::ChangeUidAndReacquire => Next::ReacquireWithNewUid,
            Resolution::TreatAsGone => Next::CheckRecovery,
            Resolution::DoNotRepeat
            | Resolution::AlreadyExiting
            | Resolution::SuccessNoData
            | Resolution::UploadPending => Next::AlreadyDone,
            Resolution::FixRequest
            | Resolution::FixCredentials
            | Resolution::FixAccount
            | Resolution::ReduceConcurrency => Next::GiveUp(GiveUpReason::NotRetryable),
        }
    }

    /// Another attempt after the schedule's delay (or the server's `Retry-After`,
    /// clamped), unless attempts or the deadline run out: then `exhausted`, or
    /// giving up on the deadline when `exhausted` is itself a give-up.
    fn again(
        &self,
        schedule: Schedule,
        failure: &Failure,
        attempt: u32,
        elapsed: Duration,
        jitter: f64,
        exhausted: Next,
    ) -> Next {
        if attempt >= self.max_attempts {
            return exhausted;
        }
        let backoff = match schedule {
            Schedule::ServerErrors => &self.server_errors,
            Schedule::Failover => &self.failover,
            Schedule::RateLimited => &self.rate_limited,
        };
        let after = match failure.retry_after() {
            Some(asked) => asked.min(self.retry_after_cap),
            None => backoff.delay(attempt, jitter),
        };
        if elapsed.saturating_add(after) > self.deadline {
            return match exhausted {
                Next::GiveUp(_) => Next::GiveUp(GiveUpReason::DeadlinePassed),
                other => other,
            };
        }
        match schedule {
            Schedule::Failover => Next::Failover { after },
            Schedule::ServerErrors | Schedule::RateLimited => Next::Retry { after },
        }
    }
}
