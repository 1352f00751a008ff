//! The source of time of the async driver.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use cloudrec_core::Timestamp;

/// The source of time for the async driver: a real clock in production
/// (`TokioClock`, feature `tokio`), a simulated one in tests.
#[async_trait]
pub trait Clock: Send + Sync {
    /// The current point on the monotonic clock.
    fn now(&self) -> Timestamp;

    /// The current wall-clock time, used only to stamp events.
    fn wall(&self) -> SystemTime;

    /// Completes once `duration` has passed on this clock.
    async fn sleep(&self, duration: Duration);
}
