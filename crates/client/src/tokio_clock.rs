use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use cloudrec_core::Timestamp;

use crate::Clock;
use tokio::time::Instant;

/// The real [`Clock`] for the async client: monotonic time since the clock was
/// made, the system wall clock, and tokio's timer for sleeping.
///
/// It reads tokio's clock, so a test runtime with paused time drives it too.
/// Sleeping needs a tokio runtime with the time driver enabled.
#[derive(Clone, Copy, Debug)]
pub struct TokioClock {
    origin: Instant,
}

impl TokioClock {
    /// A clock whose origin ([`Timestamp::ZERO`]) is now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_origin(Instant::now().saturating_duration_since(self.origin))
    }

    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn now_advances_by_exactly_the_time_slept() {
        let clock = TokioClock::new();
        assert_eq!(clock.now(), Timestamp::ZERO);
        clock.sleep(Duration::from_secs(90)).await;
        assert_eq!(clock.now(), Timestamp::from_origin(Duration::from_secs(90)));
    }

    #[tokio::test(start_paused = true)]
    async fn copies_share_the_origin() {
        let clock = TokioClock::new();
        tokio::time::advance(Duration::from_secs(5)).await;
        let copy = clock;
        assert_eq!(copy.now(), clock.now());
        assert_eq!(copy.now(), Timestamp::from_origin(Duration::from_secs(5)));
    }
}
