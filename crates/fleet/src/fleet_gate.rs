//! The App ID's request budget for a member of a fleet: the Redis budget all
//! members share, and a local share of the rate while Redis does not answer.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cloudrec_client::RateGate;
use cloudrec_core::{Permit, RateLimiter, Timestamp};

use crate::budget::{BudgetPermit, RedisBudget};

/// How long a gate that lost Redis waits before asking Redis again.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// A [`RateGate`] over a [`RedisBudget`]. While Redis fails, grants come from
/// a local bucket of `rate / workers` per second (at least 1), `workers` being
/// the members of the fleet the caller knows of ([`FleetGate::set_workers`]);
/// Redis is asked again every second, and used again as soon as it answers.
pub struct FleetGate {
    budget: RedisBudget,
    rate: u32,
    workers: AtomicU32,
    local: Mutex<RateLimiter>,
    falling_back: AtomicBool,
    next_probe: Mutex<Option<Instant>>,
    fallbacks: AtomicU64,
}

impl std::fmt::Debug for FleetGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetGate")
            .field("budget", &self.budget)
            .field("workers", &self.workers.load(Ordering::Relaxed))
            .field("falling_back", &self.is_falling_back())
            .finish_non_exhaustive()
    }
}

/// A bucket of `rate / workers` per second, bursts of 1.
fn share(rate: u32, workers: u32) -> RateLimiter {
    let per_worker = (rate / workers.max(1)).max(1);
    RateLimiter::new(per_worker, 1).unwrap_or_else(|_| RateLimiter::default())
}

impl FleetGate {
    /// The gate of `budget`, assuming one member until told otherwise.
    pub fn new(budget: RedisBudget) -> Self {
        let rate = budget.rate();
        Self {
            budget,
            rate,
            workers: AtomicU32::new(1),
            local: Mutex::new(share(rate, 1)),
            falling_back: AtomicBool::new(false),
            next_probe: Mutex::new(None),
            fallbacks: AtomicU64::new(0),
        }
    }

    /// Tells the gate how many members the fleet has now, which sizes the
    /// local share used while Redis is down.
    pub fn set_workers(&self, workers: u32) {
        let workers = workers.max(1);
        if self.workers.swap(workers, Ordering::Relaxed) != workers {
            *self.local.lock().unwrap_or_else(PoisonError::into_inner) = share(self.rate, workers);
        }
    }

    /// Whether grants come from the local share (Redis did not answer).
    pub fn is_falling_back(&self) -> bool {
        self.falling_back.load(Ordering::Relaxed)
    }

    /// How many times the gate fell back to its local share.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    fn local_grant(&self, now: Timestamp) -> Permit {
        self.local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .try_acquire(now)
    }
}

#[async_trait]
impl RateGate for FleetGate {
    async fn try_acquire(&self, now: Timestamp) -> Permit {
        if self.is_falling_back() {
            let mut next = self
                .next_probe
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if next.is_some_and(|at| Instant::now() < at) {
                drop(next);
                return self.local_grant(now);
            }
            *next = Some(Instant::now() + PROBE_EVERY);
        }
        match self.budget.try_acquire().await {
            Ok(permit) => {
                if self.falling_back.swap(false, Ordering::Relaxed) {
                    tracing::info!(
                        key = self.budget.key(),
                        "Redis answers again: the fleet's shared budget is used again"
                    );
                }
                match permit {
                    BudgetPermit::Granted { .. } => Permit::Granted,
                    BudgetPermit::Wait(wait) => Permit::Wait(wait),
                }
            }
            Err(error) => {
                if !self.falling_back.swap(true, Ordering::Relaxed) {
                    self.fallbacks.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        %error,
                        share = (self.rate / self.workers.load(Ordering::Relaxed).max(1)).max(1),
                        "Redis does not answer: this worker sends at most its share of the App ID's rate until it does"
                    );
                    *self
                        .next_probe
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) =
                        Some(Instant::now() + PROBE_EVERY);
                }
                self.local_grant(now)
            }
        }
    }
}
