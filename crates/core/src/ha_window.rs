//! The high-availability window: how long a missing task may still be moving to
//! another server.

use std::time::Duration;

use crate::{PolicyError, Timestamp};

/// What a task 404 means at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The task may be failing over to another server: ask again later.
    Recovering {
        /// How long until the window closes.
        remaining: Duration,
    },
    /// The window has passed since the last good answer: the task has ended.
    Gone,
}

/// The recovery window of one task: a task 404 means "recovering" until `window`
/// (default 90 s, the documented failover time) has passed since the last good
/// answer for that task, and "gone" after that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecoveryWindow {
    window: Duration,
    last_good: Timestamp,
}

impl RecoveryWindow {
    /// The documented upper bound of a task migration.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(90);

    /// A window of the default length whose last good answer was at `last_good`
    /// (the successful start, for a new task).
    pub fn new(last_good: Timestamp) -> Self {
        Self {
            window: Self::DEFAULT_WINDOW,
            last_good,
        }
    }

    /// The same with another window length.
    pub fn with_window(mut self, window: Duration) -> Result<Self, PolicyError> {
        if window.is_zero() {
            return Err(PolicyError::ZeroDuration {
                setting: "recovery window",
            });
        }
        self.window = window;
        Ok(self)
    }

    /// Records a good answer for the task at `at`; an earlier time than the one
    /// recorded is ignored.
    pub fn record_good_answer(&mut self, at: Timestamp) {
        self.last_good = self.last_good.max(at);
    }

    /// When the last good answer came.
    pub fn last_good(&self) -> Timestamp {
        self.last_good
    }

    /// The window's length.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// What a task 404 received at `now` means.
    pub fn judge(&self, now: Timestamp) -> Verdict {
        let waited = now.saturating_since(self.last_good);
        if waited >= self.window {
            Verdict::Gone
        } else {
            Verdict::Recovering {
                remaining: self.window - waited,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> Timestamp {
        Timestamp::from_origin(Duration::from_secs(seconds))
    }

    #[test]
    fn recovering_until_the_window_passes_since_the_last_good_answer() {
        let mut window = RecoveryWindow::new(at(10));
        assert_eq!(
            window.judge(at(40)),
            Verdict::Recovering {
                remaining: Duration::from_secs(60)
            }
        );
        assert_eq!(window.judge(at(100)), Verdict::Gone);
        window.record_good_answer(at(50));
        window.record_good_answer(at(20));
        assert_eq!(window.last_good(), at(50));
        assert!(matches!(window.judge(at(100)), Verdict::Recovering { .. }));
        assert_eq!(window.judge(at(140)), Verdict::Gone);
        // A clock reading before the last good answer is still inside the window.
        assert!(matches!(window.judge(at(0)), Verdict::Recovering { .. }));
    }

    #[test]
    fn the_window_is_configurable_and_not_zero() {
        let window = RecoveryWindow::new(at(0))
            .with_window(Duration::from_secs(5))
            .unwrap();
        assert_eq!(window.judge(at(5)), Verdict::Gone);
        assert!(
            RecoveryWindow::new(at(0))
                .with_window(Duration::ZERO)
                .is_err()
        );
    }
}
