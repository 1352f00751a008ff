//! Who grants the App ID's requests: the [`RateGate`] interface, and the
//! in-process bucket behind it. A fleet shares one budget instead
//! (`cloudrec-fleet`'s Redis gate), so that all its processes together stay
//! under the App ID's rate.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use crate::{Permit, RateLimiter, Timestamp};

/// Grants requests at the App ID's rate.
#[async_trait]
pub trait RateGate: Send + Sync {
    /// Takes a grant at `now` (the client's clock), or answers how long to
    /// wait before asking again.
    async fn try_acquire(&self, now: Timestamp) -> Permit;
}

/// The App ID's rate in this process alone: a [`RateLimiter`] under a lock.
#[derive(Debug)]
pub struct LocalGate {
    limiter: Mutex<RateLimiter>,
}

impl LocalGate {
    /// A gate over `limiter`.
    pub fn new(limiter: RateLimiter) -> Self {
        Self {
            limiter: Mutex::new(limiter),
        }
    }
}

#[async_trait]
impl RateGate for LocalGate {
    async fn try_acquire(&self, now: Timestamp) -> Permit {
        self.limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .try_acquire(now)
    }
}
