//! Following one live recording: its changes written to the store, fenced
//! by its epoch, and the orders of callers handed to its session.

use super::*;

impl Sessions {
    /// Supervises `row` through `handle` until it ends, writing every change.
    pub(super) fn watch(self: &Arc<Self>, row: SessionRow, handle: SessionHandle) {
        let (orders, inbox) = mpsc::unbounded_channel();
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(row.id, orders);
        let sessions = Arc::clone(self);
        tokio::spawn(async move {
            let id = row.id;
            sessions.follow(row, handle, inbox).await;
            sessions
                .by_sid
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, (owner, _)| *owner != id);
            sessions
                .live
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
            sessions.idle.notify_waiters();
        });
    }

    pub(super) async fn follow(
        &self,
        row: SessionRow,
        handle: SessionHandle,
        mut inbox: mpsc::UnboundedReceiver<Order>,
    ) {
        let mut stored = row.state.clone();
        let mut view = handle.view();
        let mut orders_open = true;
        let mut known_sid: Option<String> = None;
        loop {
            self.learn_sid(&row, &view, &mut known_sid);
            let ended = view.report.is_some();
            let update = update_of(&view, &row.snapshot);
            if update.state != stored || ended {
                match self.write(&row, &update, ended).await {
                    Ok(()) => {
                        self.metrics
                            .session_moved(Some(&stored), Some(&update.state));
                        stored = update.state;
                    }
                    Err(StoreError::Fenced(fenced)) => {
                        tracing::warn!(recording = %row.id, %fenced, "the recording is not this worker's any more: it stops acting on it");
                        self.metrics.session_moved(Some(&stored), None);
                        return;
                    }
                    Err(error) => {
                        tracing::error!(recording = %row.id, %error, "could not write the recording's state");
                    }
                }
            }
            if ended {
                if !is_terminal(&stored) {
                    self.metrics.session_moved(Some(&stored), None);
                }
                return;
            }
            tokio::select! {
                next = handle.changed(&view) => view = next,
                order = inbox.recv(), if orders_open => match order {
                    Some(Order::Stop) => handle.request_stop(),
                    Some(Order::Abandon) => {
                        handle.abandon();
                        self.metrics.session_moved(Some(&stored), None);
                        return;
                    }
                    Some(Order::QueryNow) => handle.query_now(),
                    Some(Order::Update(request, reply)) => {
                        let _ = reply.send(handle.update(*request).await);
                    }
                    Some(Order::UpdateLayout(request, reply)) => {
                        let _ = reply.send(handle.update_layout(*request).await);
                    }
                    None => orders_open = false,
                },
            }
        }
    }

    /// Files the recording under its task's sid once the task is known (and
    /// again when a restart gave it another task), so that notifications
    /// about the task reach it.
    pub(super) fn learn_sid(
        &self,
        row: &SessionRow,
        view: &SessionView,
        known: &mut Option<String>,
    ) {
        let Some(task) = &view.task else {
            return;
        };
        if known.as_deref() == Some(task.sid.as_str()) {
            return;
        }
        let Some(app) = self.apps.iter().find(|app| app.id.as_str() == row.app_id) else {
            return;
        };
        let subject = Subject {
            cname: Some(task.cname.clone()),
            uid: Some(task.uid),
            mode: Some(task.mode.clone()),
            resource_id: Some(task.resource_id.clone()),
            sid: Some(task.sid.clone()),
            ..Subject::app(app.id.clone())
        };
        let mut by_sid = self.by_sid.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = known.take() {
            by_sid.remove(&old);
        }
        by_sid.insert(task.sid.as_str().to_owned(), (row.id, Arc::new(subject)));
        *known = Some(task.sid.as_str().to_owned());
    }

    /// Writes `update`; the end of a recording is tried again while the store
    /// fails, so that it is not left looking alive.
    pub(super) async fn write(
        &self,
        row: &SessionRow,
        update: &SessionUpdate,
        ended: bool,
    ) -> Result<(), StoreError> {
        let mut tries = 0;
        loop {
            let result = self
                .store
                .write(&self.config.worker, row.id, row.epoch, update)
                .await;
            match result {
                Err(StoreError::Fenced(_)) | Ok(()) => return result,
                Err(error) => {
                    self.metrics.store_failed("write");
                    tries += 1;
                    if !ended || tries >= END_WRITE_TRIES {
                        return Err(error);
                    }
                    tokio::time::sleep(Duration::from_millis(250 * u64::from(tries.min(8)))).await;
                }
            }
        }
    }
}
