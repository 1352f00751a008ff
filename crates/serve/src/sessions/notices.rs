//! NCS notifications for the sessions: acting on a live one, or forwarding
//! to the owner through the store.

use super::*;

impl Sessions {
    /// Hands an NCS notification's `action` to the live recording whose task
    /// has `sid`; answers who the recording's events name, or `None` when no
    /// recording of this process has that sid (then
    /// [`forward_notice`](Self::forward_notice) leaves it for the owner).
    pub fn notice(&self, sid: &str, action: NoticeAction) -> Option<Arc<Subject>> {
        let (id, subject) = self
            .by_sid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sid)
            .cloned()?;
        let orders = self.order(id)?;
        let order = match action {
            NoticeAction::QueryNow => Order::QueryNow,
            NoticeAction::Stop => Order::Stop,
        };
        orders.send(order).ok()?;
        Some(subject)
    }

    /// Leaves an NCS notification's `action` in the store for the worker that
    /// owns the recording whose task has `sid` (a `query_now` or `stop`
    /// command); answers who the recording's events name, or `None` when no
    /// recording that has not ended has that sid (or the store failed).
    pub async fn forward_notice(&self, sid: &str, action: NoticeAction) -> Option<Arc<Subject>> {
        let row = match self.store.find_by_sid(sid).await {
            Ok(row) => row?,
            Err(error) => {
                self.metrics.store_failed("find_by_sid");
                tracing::warn!(%error, sid, "cannot look the notification's recording up");
                return None;
            }
        };
        if is_terminal(&row.state) {
            return None;
        }
        let kind = match action {
            NoticeAction::QueryNow => CommandKind::QueryNow,
            NoticeAction::Stop => CommandKind::Stop,
        };
        if let Err(error) = self
            .store
            .send_command(row.id, kind, &serde_json::Value::Null)
            .await
        {
            self.metrics.store_failed("send_command");
            tracing::warn!(%error, sid, "cannot leave the notification for the recording's owner");
            return None;
        }
        let app_id = cloudrec_types::AppId::new(row.app_id.as_str()).ok()?;
        Some(Arc::new(Subject {
            cname: Cname::new(row.cname.as_str()).ok(),
            uid: row
                .uid
                .parse::<u32>()
                .ok()
                .and_then(|uid| Uid::new(uid).ok()),
            resource_id: row
                .resource_id
                .as_deref()
                .and_then(|r| ResourceId::new(r).ok()),
            sid: Sid::new(sid).ok(),
            ..Subject::app(app_id)
        }))
    }

    /// Who the events of the live recording whose task has `sid` name, if
    /// this process supervises one.
    pub fn subject_of(&self, sid: &str) -> Option<Arc<Subject>> {
        self.by_sid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sid)
            .map(|(_, subject)| Arc::clone(subject))
    }
}
