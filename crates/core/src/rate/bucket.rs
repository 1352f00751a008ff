//! The request rate quota: no one-second window over the rate.

use std::collections::VecDeque;
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

/// The request rate quota of one App ID as plain state updated with the time
/// passed in: at most `rate` requests in any one-second window (sliding, not
/// aligned to the clock: the service counts per second and its seconds are not
/// ours), of which at most `burst` at once (default 10 and 10, the service's
/// quota). Share one per App ID across all sessions.
///
/// Two rules, both of which a grant must pass:
/// - spacing (GCRA): the theoretical arrival time `next_free` moves on by
///   `1 s / rate` per grant, and a request may go once `now` is within
///   `(burst - 1) × 1 s / rate` of it. This alone lets `rate + burst - 1`
///   requests into one second.
/// - the window: the times of the grants of the last second, at most `rate` of
///   them; a request may go only once the oldest is a full second old. With a
///   burst of 1 the spacing alone keeps every window at `rate` or under, so no
///   times are kept.
///
/// A store shared by several processes (Redis) can hold the same state: a
/// theoretical arrival time, and a sorted set of the last second's grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimiter {
    rate: u32,
    burst: u32,
    interval: Duration,
    tolerance: Duration,
    next_free: Timestamp,
    /// The grants of the last second, oldest first; empty with a burst of 1.
    recent: VecDeque<Timestamp>,
}

/// The window the service counts requests in.
const WINDOW: Duration = Duration::from_secs(1);

impl Default for RateLimiter {
    fn default() -> Self {
        Self::build(10, 10)
    }
}

impl RateLimiter {
    /// At most `rate` requests in any second, at most `burst` (1 to `rate`) at once.
    pub fn new(rate: u32, burst: u32) -> Result<Self, PolicyError> {
        if rate == 0 {
            return Err(PolicyError::ZeroCount {
                setting: "request rate",
            });
        }
        if burst == 0 {
            return Err(PolicyError::ZeroCount { setting: "burst" });
        }
        if burst > rate {
            return Err(PolicyError::BurstAboveRate { burst, rate });
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
            recent: VecDeque::new(),
        }
    }

    /// The most requests in any one-second window.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// The most requests at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Takes a token at `now` if one is available, else says how long to wait.
    /// `now` never goes back (a monotonic clock); a wait it is told passes both
    /// rules, as long as no other request is granted meanwhile.
    pub fn try_acquire(&mut self, now: Timestamp) -> Permit {
        let next_free = self.next_free.max(now);
        let spaced_from =
            Timestamp::from_origin(next_free.since_origin().saturating_sub(self.tolerance));
        while self
            .recent
            .front()
            .is_some_and(|&oldest| now.saturating_since(oldest) >= WINDOW)
        {
            self.recent.pop_front();
        }
        let window_from = match self.recent.front() {
            Some(&oldest) if self.recent.len() >= self.rate as usize => oldest + WINDOW,
            _ => now,
        };
        let allowed_from = spaced_from.max(window_from);
        if now < allowed_from {
            return Permit::Wait(allowed_from - now);
        }
        self.next_free = next_free + self.interval;
        if self.burst > 1 {
            self.recent.push_back(now);
        }
        Permit::Granted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Timestamp {
        Timestamp::from_origin(Duration::from_millis(millis))
    }

    #[test]
    fn a_full_bucket_grants_the_burst_then_waits_out_the_second() {
        let mut bucket = RateLimiter::default();
        for _ in 0..10 {
            assert_eq!(bucket.try_acquire(ms(0)), Permit::Granted);
        }
        // The spacing alone would let the next one go at 100 ms; the window
        // holds it until the first ten are a second old.
        assert_eq!(
            bucket.try_acquire(ms(0)),
            Permit::Wait(Duration::from_millis(1000))
        );
        assert_eq!(
            bucket.try_acquire(ms(400)),
            Permit::Wait(Duration::from_millis(600))
        );
        let granted = (0..20)
            .filter(|_| bucket.try_acquire(ms(1000)) == Permit::Granted)
            .count();
        assert_eq!(granted, 10);
        // After a long pause the bucket is full again, not fuller.
        let granted = (0..20)
            .filter(|_| bucket.try_acquire(ms(60_000)) == Permit::Granted)
            .count();
        assert_eq!(granted, 10);
    }

    #[test]
    fn a_burst_of_one_spaces_requests_evenly_and_keeps_no_times() {
        let mut bucket = RateLimiter::new(10, 1).unwrap();
        assert_eq!(bucket.try_acquire(ms(0)), Permit::Granted);
        assert_eq!(
            bucket.try_acquire(ms(40)),
            Permit::Wait(Duration::from_millis(60))
        );
        assert_eq!(bucket.try_acquire(ms(100)), Permit::Granted);
        assert!(bucket.recent.is_empty());
    }

    #[test]
    fn zero_rate_or_burst_is_refused() {
        assert!(RateLimiter::new(0, 1).is_err());
        assert!(RateLimiter::new(1, 0).is_err());
        assert_eq!(
            RateLimiter::new(3, 4),
            Err(PolicyError::BurstAboveRate { burst: 4, rate: 3 })
        );
        let bucket = RateLimiter::new(3, 1).unwrap();
        assert_eq!((bucket.rate(), bucket.burst()), (3, 1));
    }
}
