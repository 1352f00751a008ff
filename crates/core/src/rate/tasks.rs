//! The bound on concurrently running recording tasks.

use crate::PolicyError;

/// Whether a new task may start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Admission {
    /// Start it; it counts as live until released.
    Admitted,
    /// The limit is reached: wait for a task to end (or stop a leaked one).
    Full {
        /// The limit.
        max: usize,
    },
}

/// Counts live recording tasks against the service's concurrency quota (default
/// 50 per App ID), so that the client avoids acquire's 406 `vendor_over_load`
/// rather than reacting to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskLimit {
    max: usize,
    live: usize,
}

impl Default for TaskLimit {
    fn default() -> Self {
        Self {
            max: Self::DEFAULT_MAX,
            live: 0,
        }
    }
}

impl TaskLimit {
    /// The service's default quota.
    pub const DEFAULT_MAX: usize = 50;

    /// A bound of `max` live tasks.
    pub fn new(max: usize) -> Result<Self, PolicyError> {
        if max == 0 {
            return Err(PolicyError::ZeroCount {
                setting: "task limit",
            });
        }
        Ok(Self { max, live: 0 })
    }

    /// Counts one more live task if the limit allows it.
    pub fn try_admit(&mut self) -> Admission {
        if self.live >= self.max {
            return Admission::Full { max: self.max };
        }
        self.live += 1;
        Admission::Admitted
    }

    /// Counts one task as ended (stopped, failed or gone); never below zero.
    pub fn release(&mut self) {
        self.live = self.live.saturating_sub(1);
    }

    /// How many tasks are live.
    pub fn live(&self) -> usize {
        self.live
    }

    /// The limit.
    pub fn max(&self) -> usize {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_limit_and_again_after_a_release() {
        let mut limit = TaskLimit::new(2).unwrap();
        assert_eq!(limit.try_admit(), Admission::Admitted);
        assert_eq!(limit.try_admit(), Admission::Admitted);
        assert_eq!(limit.try_admit(), Admission::Full { max: 2 });
        limit.release();
        assert_eq!(limit.live(), 1);
        assert_eq!(limit.try_admit(), Admission::Admitted);
        limit.release();
        limit.release();
        limit.release();
        assert_eq!(limit.live(), 0);
        assert_eq!(TaskLimit::default().max(), 50);
        assert!(TaskLimit::new(0).is_err());
    }
}
