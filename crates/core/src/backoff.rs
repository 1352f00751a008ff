//! Back-off delays as a pure function of the retry number and a jitter input.

use std::time::Duration;

use crate::PolicyError;

/// A back-off schedule: the documented first delays, then growth by a factor,
/// never above a cap, lengthened by up to `spread` percent of jitter.
///
/// The jitter is an input in `[0, 1]` (values outside are clamped, NaN counts as
/// 0), so tests pass a fixed number and production passes a random one. At a fixed
/// jitter the delay never decreases with the retry number, and it always lies in
/// `[0, cap]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    steps: Vec<Duration>,
    growth: u32,
    cap: Duration,
    spread_percent: u32,
}

impl Backoff {
    /// A schedule with these first delays (non-empty, non-decreasing), doubling
    /// after the last one, capped at `cap`, with 20 % jitter spread.
    pub fn new(steps: impl Into<Vec<Duration>>, cap: Duration) -> Result<Self, PolicyError> {
        let steps = steps.into();
        if steps.is_empty() {
            return Err(PolicyError::EmptySchedule);
        }
        if let Some(index) = steps.windows(2).position(|pair| pair[1] < pair[0]) {
            return Err(PolicyError::DecreasingSchedule { step: index + 2 });
        }
        if cap.is_zero() {
            return Err(PolicyError::ZeroDuration {
                setting: "back-off cap",
            });
        }
        Ok(Self {
            steps,
            growth: 2,
            cap,
            spread_percent: 20,
        })
    }

    /// The documented schedule for server errors and code 65: 3 s, 6 s, 9 s, then
    /// doubling, capped at 30 s.
    pub fn server_errors() -> Self {
        Self::preset(&[3, 6, 9])
    }

    /// The documented schedule between domain failover tries: 1 s, 3 s, 6 s, then
    /// doubling, capped at 30 s.
    pub fn failover() -> Self {
        Self::preset(&[1, 3, 6])
    }

    /// The schedule after a rate-limit answer without `Retry-After`: 1 s, 2 s,
    /// 4 s, then doubling, capped at 30 s.
    pub fn rate_limited() -> Self {
        Self::preset(&[1, 2, 4])
    }

    fn preset(seconds: &[u64]) -> Self {
        Self {
            steps: seconds.iter().copied().map(Duration::from_secs).collect(),
            growth: 2,
            cap: Duration::from_secs(30),
            spread_percent: 20,
        }
    }

    /// The factor applied per retry after the listed steps (1 repeats the last
    /// step; 0 counts as 1).
    pub fn with_growth(mut self, growth: u32) -> Self {
        self.growth = growth.max(1);
        self
    }

    /// How much the jitter may lengthen a delay, in percent (0 turns jitter off).
    pub fn with_spread(mut self, percent: u32) -> Result<Self, PolicyError> {
        if percent > 100 {
            return Err(PolicyError::SpreadTooLarge { percent });
        }
        self.spread_percent = percent;
        Ok(self)
    }

    /// The longest delay this schedule gives.
    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// The delay before retry number `retry` (1 for the first retry; 0 counts as 1)
    /// with `jitter` in `[0, 1]`: the scheduled delay plus `jitter × spread`,
    /// capped.
    pub fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let base = self.base(retry);
        let jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        let share = jitter * f64::from(self.spread_percent) / 100.0;
        let extra =
            Duration::try_from_secs_f64(base.as_secs_f64() * share).unwrap_or(Duration::MAX);
        base.saturating_add(extra).min(self.cap)
    }

    fn base(&self, retry: u32) -> Duration {
        let index = usize::try_from(retry.max(1) - 1).unwrap_or(usize::MAX);
        let last = self.steps.len() - 1;
        let scheduled = match self.steps.get(index) {
            Some(step) => *step,
            None => {
                let beyond = u32::try_from(index - last).unwrap_or(u32::MAX);
                let factor = self.growth.checked_pow(beyond).unwrap_or(u32::MAX);
                self.steps[last].saturating_mul(factor)
            }
        };
        scheduled.min(self.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_schedules_without_jitter() {
        let server = Backoff::server_errors();
        let delays: Vec<u64> = (1..=6).map(|n| server.delay(n, 0.0).as_secs()).collect();
        assert_eq!(delays, [3, 6, 9, 18, 30, 30]);
        let failover = Backoff::failover();
        let delays: Vec<u64> = (1..=3).map(|n| failover.delay(n, 0.0).as_secs()).collect();
        assert_eq!(delays, [1, 3, 6]);
    }

    #[test]
    fn jitter_lengthens_by_at_most_the_spread() {
        let server = Backoff::server_errors();
        assert_eq!(server.delay(1, 1.0), Duration::from_millis(3600));
        assert_eq!(server.delay(1, 0.5), Duration::from_millis(3300));
        assert_eq!(server.delay(1, f64::NAN), Duration::from_secs(3));
        assert_eq!(server.delay(1, 7.0), Duration::from_millis(3600));
        assert_eq!(server.delay(9, 1.0), Duration::from_secs(30));
    }

    #[test]
    fn invalid_schedules_are_refused() {
        assert_eq!(
            Backoff::new(vec![], Duration::from_secs(1)),
            Err(PolicyError::EmptySchedule)
        );
        let decreasing = vec![Duration::from_secs(3), Duration::from_secs(1)];
        assert_eq!(
            Backoff::new(decreasing, Duration::from_secs(9)),
            Err(PolicyError::DecreasingSchedule { step: 2 })
        );
        assert!(Backoff::new(vec![Duration::from_secs(1)], Duration::ZERO).is_err());
        assert!(Backoff::failover().with_spread(101).is_err());
    }
}
