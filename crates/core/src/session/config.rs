//! The settings of a session: cadences, give-up times and recovery policies.

use std::time::Duration;

use crate::{Backoff, PolicyError};

/// What a session does when start answers 53 `task conflict` (a task with the same
/// cname and uid already runs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ConflictPolicy {
    /// Acquire again with another uid (the next spare uid, or a derived one).
    #[default]
    NewUid,
    /// End the session as failed, naming the conflicting cname and uid, so that
    /// the caller can find the leaked task.
    Fail,
}

/// What a session does when a task stays missing (404) for the whole recovery
/// window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LostPolicy {
    /// End the session as lost and report the task.
    #[default]
    Report,
    /// Start a replacement task with another uid (the documented advice for
    /// critical recordings); the lost task is still reported.
    RestartWithNewUid,
}

/// How a session stops its task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StopMode {
    /// `async_stop: false`: stop answers once the upload has finished (about 20 s).
    #[default]
    Sync,
    /// `async_stop: true`: stop answers at once; the session then queries every
    /// `poll` until the task reports that every component, the uploader included,
    /// has stopped, for at most `give_up`.
    Async {
        /// Time between upload polls.
        poll: Duration,
        /// How long to poll before reporting the upload as unconfirmed.
        give_up: Duration,
    },
}

/// The settings of a session's state machine. Every duration is checked to be
/// positive when set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    pub(crate) first_query_delay: Duration,
    pub(crate) waiting_backoff: Backoff,
    pub(crate) running_give_up: Duration,
    pub(crate) query_interval: Duration,
    pub(crate) query_spread_percent: u32,
    pub(crate) recovery_window: Duration,
    pub(crate) recovery_backoff: Backoff,
    pub(crate) conflict: ConflictPolicy,
    pub(crate) lost: LostPolicy,
    pub(crate) stop: StopMode,
    pub(crate) max_restarts: u32,
    pub(crate) max_stop_attempts: u32,
    pub(crate) max_start_resends: u32,
    pub(crate) resource_lifetime: Duration,
    pub(crate) stop_backoff: Backoff,
}

fn secs(values: &[u64]) -> Vec<Duration> {
    values.iter().copied().map(Duration::from_secs).collect()
}

fn positive(value: Duration, setting: &'static str) -> Result<Duration, PolicyError> {
    if value.is_zero() {
        return Err(PolicyError::ZeroDuration { setting });
    }
    Ok(value)
}

impl Default for SessionConfig {
    /// The documented timings: first query 5 s after start, then 5 s, 10 s, 15 s
    /// until status 4 or 5, giving up after 90 s; a query every 60 s while
    /// running (jittered by up to 10 %); a 90 s recovery window polled at 5 s,
    /// 10 s, 15 s; a new uid on conflict; lost tasks reported; synchronous stop;
    /// at most 3 re-acquisitions, 5 stop attempts and 3 start resends; a resource
    /// id valid for 5 minutes.
    fn default() -> Self {
        let steady = |steps: &[u64]| {
            Backoff::new(secs(steps), Duration::from_secs(30))
                .map(|b| b.with_growth(1))
                .unwrap_or_else(|_| Backoff::server_errors())
        };
        Self {
            first_query_delay: Duration::from_secs(5),
            waiting_backoff: steady(&[5, 10, 15]),
            running_give_up: Duration::from_secs(90),
            query_interval: Duration::from_secs(60),
            query_spread_percent: 10,
            recovery_window: Duration::from_secs(90),
            recovery_backoff: steady(&[5, 10, 15]),
            conflict: ConflictPolicy::NewUid,
            lost: LostPolicy::Report,
            stop: StopMode::Sync,
            max_restarts: 3,
            max_stop_attempts: 5,
            max_start_resends: 3,
            resource_lifetime: Duration::from_secs(300),
            stop_backoff: Backoff::server_errors(),
        }
    }
}

impl SessionConfig {
    /// How long after a successful start the first query is sent (default 5 s).
    pub fn with_first_query_delay(mut self, delay: Duration) -> Result<Self, PolicyError> {
        self.first_query_delay = positive(delay, "first query delay")?;
        Ok(self)
    }

    /// The back-off between queries while waiting for status 4 or 5.
    pub fn with_waiting_backoff(mut self, backoff: Backoff) -> Self {
        self.waiting_backoff = backoff;
        self
    }

    /// How long after start the task may take to report status 4 or 5 before the
    /// session stops it and fails (default 90 s).
    pub fn with_running_give_up(mut self, give_up: Duration) -> Result<Self, PolicyError> {
        self.running_give_up = positive(give_up, "running give-up time")?;
        Ok(self)
    }

    /// The time between queries while recording (default 60 s); keep it below the
    /// task's `maxIdleTime` to notice an idle exit early.
    pub fn with_query_interval(mut self, interval: Duration) -> Result<Self, PolicyError> {
        self.query_interval = positive(interval, "query interval")?;
        Ok(self)
    }

    /// How much jitter may lengthen the query interval, in percent (default 10).
    pub fn with_query_spread(mut self, percent: u32) -> Result<Self, PolicyError> {
        if percent > 100 {
            return Err(PolicyError::SpreadTooLarge { percent });
        }
        self.query_spread_percent = percent;
        Ok(self)
    }

    /// How long a task 404 counts as a failover in progress (default 90 s).
    pub fn with_recovery_window(mut self, window: Duration) -> Result<Self, PolicyError> {
        self.recovery_window = positive(window, "recovery window")?;
        Ok(self)
    }

    /// The back-off between queries while a task is recovering.
    pub fn with_recovery_backoff(mut self, backoff: Backoff) -> Self {
        self.recovery_backoff = backoff;
        self
    }

    /// What to do on start's 53 `task conflict`.
    pub fn with_conflict_policy(mut self, policy: ConflictPolicy) -> Self {
        self.conflict = policy;
        self
    }

    /// What to do when a task stays missing for the whole recovery window.
    pub fn with_lost_policy(mut self, policy: LostPolicy) -> Self {
        self.lost = policy;
        self
    }

    /// Synchronous or asynchronous stop.
    pub fn with_stop_mode(mut self, mode: StopMode) -> Result<Self, PolicyError> {
        if let StopMode::Async { poll, give_up } = mode {
            positive(poll, "upload poll interval")?;
            positive(give_up, "upload give-up time")?;
        }
        self.stop = mode;
        Ok(self)
    }

    /// How many times a session may acquire again and start a new task (after a
    /// 502, an expired resource, a conflict or a lost task); default 3.
    pub fn with_max_restarts(mut self, restarts: u32) -> Self {
        self.max_restarts = restarts;
        self
    }

    /// How many stop calls a session sends before it reports that it could not
    /// stop the task (default 5, at least 1).
    pub fn with_max_stop_attempts(mut self, attempts: u32) -> Result<Self, PolicyError> {
        if attempts == 0 {
            return Err(PolicyError::ZeroCount {
                setting: "stop attempts",
            });
        }
        self.max_stop_attempts = attempts;
        Ok(self)
    }

    /// How long a resource id stays usable for start (default 5 minutes).
    pub fn with_resource_lifetime(mut self, lifetime: Duration) -> Result<Self, PolicyError> {
        self.resource_lifetime = positive(lifetime, "resource lifetime")?;
        Ok(self)
    }

    /// The recovery window's length.
    pub fn recovery_window(&self) -> Duration {
        self.recovery_window
    }

    /// The query interval while recording.
    pub fn query_interval(&self) -> Duration {
        self.query_interval
    }

    /// The stop mode.
    pub fn stop_mode(&self) -> StopMode {
        self.stop
    }

    /// The interval while recording, lengthened by `jitter` (in `[0, 1]`) times
    /// the spread.
    pub(crate) fn jittered_interval(&self, jitter: f64) -> Duration {
        let jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        let share = jitter * f64::from(self.query_spread_percent) / 100.0;
        let extra = Duration::try_from_secs_f64(self.query_interval.as_secs_f64() * share)
            .unwrap_or(Duration::ZERO);
        self.query_interval.saturating_add(extra)
    }
}
