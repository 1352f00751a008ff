//! This worker's leases: renewal, giving recordings up, releasing them, and
//! the shutdown that stops them all.

use super::*;

impl Sessions {
    /// Renews this worker's leases; a recording missing from the renewal was
    /// taken over (or ended) and is given up at once, with no further call.
    /// Answers how many leases were renewed.
    pub async fn renew(&self) -> Result<usize, StoreError> {
        let leases = self
            .store
            .renew(&self.config.worker, self.config.lease)
            .await?;
        let kept: std::collections::HashSet<Uuid> = leases.iter().map(|lease| lease.id).collect();
        let lost: Vec<(Uuid, mpsc::UnboundedSender<Order>)> = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(id, _)| !kept.contains(id))
            .map(|(id, orders)| (*id, orders.clone()))
            .collect();
        for (id, orders) in lost {
            // A recording that ended since its last write is missing too: its
            // watcher has already finished, and the order goes nowhere.
            tracing::warn!(recording = %id, "the lease was not renewed: another worker took the recording over");
            let _ = orders.send(Order::Abandon);
        }
        Ok(leases.len())
    }

    /// Tells the shared request budgets how many workers the fleet has now,
    /// from the store (at least this one).
    pub async fn count_workers(&self) -> Result<u64, StoreError> {
        let workers = self.store.live_workers().await?.max(1);
        for app in &self.apps {
            if let Some(budget) = &app.shared_budget {
                budget.set_workers(u32::try_from(workers).unwrap_or(u32::MAX));
            }
        }
        Ok(workers)
    }

    /// Where each App ID's grants come from now, for readiness: `redis`, or
    /// the local share while Redis does not answer; `None` without a shared
    /// budget.
    pub fn budget(&self) -> Option<String> {
        let shared: Vec<String> = self
            .apps
            .iter()
            .filter_map(|app| {
                app.shared_budget.as_ref().map(|budget| {
                    if budget.is_falling_back() {
                        format!("{}: local share (Redis does not answer)", app.id.as_str())
                    } else {
                        format!("{}: redis", app.id.as_str())
                    }
                })
            })
            .collect();
        (!shared.is_empty()).then(|| shared.join(", "))
    }

    /// Gives up every live recording without a call: this worker's leases may
    /// have run out (it could not renew them in time), so another worker may
    /// own them already.
    pub fn abandon_all(&self) -> usize {
        let orders: Vec<_> = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for order in &orders {
            let _ = order.send(Order::Abandon);
        }
        orders.len()
    }

    /// Asks every live recording to stop and waits until they all ended, or
    /// until `deadline`; answers how many are still live.
    pub async fn stop_all(&self, deadline: Duration) -> usize {
        let orders: Vec<_> = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for order in orders {
            let _ = order.send(Order::Stop);
        }
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let notified = self.idle.notified();
            if self.live_count() == 0 {
                return 0;
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return self.live_count();
            }
        }
    }

    /// Hands every recording of this worker over (owner cleared, nothing
    /// stopped); answers how many.
    pub async fn release(&self) -> Result<u64, StoreError> {
        self.store.release(&self.config.worker).await
    }

    /// Says that `worker` released its recordings (a handoff): unless it is
    /// this worker, the others claim them at once instead of on their next
    /// tick.
    pub fn releases_arrived(&self, worker: &str) {
        if worker != self.config.worker {
            self.releases.notify_one();
        }
    }

    /// Waits until [`releases_arrived`](Self::releases_arrived) names another
    /// worker (at once if it did since the last wait).
    pub async fn releases_waiting(&self) {
        self.releases.notified().await;
    }
}
