//! A token bucket for the request rate quota.

use std::time::Duration;

use crate::{PolicyError, Timestamp};

/// Whether a request may go now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permit {
    /// Send it; a token was taken.
    Granted,
    /// Do not send it yet: a token is available after this wait.
    Wait(Duration),
}

/// A token bucket holding `burst` tokens, refilled at `rate` per second
/// (default 10 and 10: the service's quota per App ID), as plain state updated
/// with the time passed in. Share one per App ID across all sessions.
///
/// Over any interval of length `t` it grants at most `rate × t + burst` requests.
/// It is kept as the theoretical arrival time of the next request (GCRA), which is
/// the same bucket in integer arithmetic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimiter {
    rate: u32,
    burst: u32,
    interval: Duration,
    tolerance: Duration,
    next_free: Timestamp,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::build(10, 10)
    }
}

impl RateLimiter {
    /// A bucket refilled at `rate` tokens per second holding at most `burst`.
    pub fn new(rate: u32, burst: u32) -> Result<Self, PolicyError> {
        if rate == 0 {
            return Err(PolicyError::ZeroCount {
                setting: "request rate",
            });
        }
        if burst == 0 {
            return Err(PolicyError::ZeroCount { setting: "burst" });
        }
        Ok(Self::build(rate, burst))
    }

    fn build(rate: u32, burst: u32) -> Self {
        // Rounded up, so that the rate granted never exceeds the rate asked.
        let interval = Duration::from_nanos(1_000_000_000_u64.div_ceil(u64::from(rate)));
        Self {
            rate,
            burst,
            interval,
            tolerance: interval.saturating_mul(burst - 1),
            next_free: Timestamp::ZERO,
        }
    }

    /// Tokens added per second.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// The most tokens held at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Takes a token at `now` if one is available, else says how long to wait.
    pub fn try_acquire(&mut self, now: Timestamp) -> Permit {
        let next_free = self.next_free.max(now);
        let allowed_from =
            Timestamp::from_origin(next_free.since_origin().saturating_sub(self.tolerance));
        if now >= allowed_from {
            self.next_free = next_free + self.interval;
            Permit::Granted
        } else {
            Permit::Wait(allowed_from - now)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Timestamp {
        Timestamp::from_origin(Duration::from_millis(millis))
    }

    #[test]
    fn a_full_bucket_grants_the_burst_then_one_per_interval() {
        let mut bucket = RateLimiter::default();
        for _ in 0..10 {
            assert_eq!(bucket.try_acquire(ms(0)), Permit::Granted);
        }
        assert_eq!(
            bucket.try_acquire(ms(0)),
            Permit::Wait(Duration::from_millis(100))
        );
        assert_eq!(
            bucket.try_acquire(ms(40)),
            Permit::Wait(Duration::from_millis(60))
        );
        assert_eq!(bucket.try_acquire(ms(100)), Permit::Granted);
        assert!(matches!(bucket.try_acquire(ms(100)), Permit::Wait(_)));
        // After a long pause the bucket is full again, not fuller.
        let granted = (0..20)
            .filter(|_| bucket.try_acquire(ms(60_000)) == Permit::Granted)
            .count();
        assert_eq!(granted, 10);
    }

    #[test]
    fn zero_rate_or_burst_is_refused() {
        assert!(RateLimiter::new(0, 1).is_err());
        assert!(RateLimiter::new(1, 0).is_err());
        let bucket = RateLimiter::new(3, 1).unwrap();
        assert_eq!((bucket.rate(), bucket.burst()), (3, 1));
    }
}
