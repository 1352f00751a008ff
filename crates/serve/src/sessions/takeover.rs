//! Taking recordings over: after a restart, from a dead worker, or from a
//! journal; resumed, started again from a sealed body, or failed with a reason.

use super::*;

impl Sessions {
    /// Takes over what this worker owned before a restart and what no live
    /// worker owns, and supervises it again: tasks named by a journal or the
    /// store are queried, then watched; recordings that never started are
    /// started from their sealed body, or failed when no key sealed it.
    pub async fn resume(self: &Arc<Self>) -> Result<usize, StoreError> {
        let mut journalled: Vec<SessionHandle> = Vec::new();
        for app in &self.apps {
            match app.recorder.recover(RecoveryPolicy::Resume).await {
                Ok(report) => journalled.extend(report.resumed),
                Err(error) => {
                    tracing::error!(app = app.id.as_str(), %error, "the journal could not be read: tasks it named are resumed from the store only");
                }
            }
        }
        self.store.release(&self.config.worker).await?;
        let resumed = self.claim(&mut journalled).await?;
        for orphan in journalled {
            self.settle_orphan(orphan).await;
        }
        Ok(resumed)
    }

    /// A task the journal named that no claimed recording matched: another
    /// worker's now (given up), or nobody's (stopped: nobody asked for it).
    pub(super) async fn settle_orphan(&self, orphan: SessionHandle) {
        let Some(task) = orphan.task() else {
            orphan.abandon();
            return;
        };
        let query = ListQuery {
            limit: crate::api::MAX_PAGE,
            ..ListQuery::default()
        };
        let mut after = None;
        loop {
            let page = match self
                .store
                .list(&ListQuery {
                    after,
                    ..query.clone()
                })
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    // Unknown: leave the task alone rather than stop another worker's.
                    tracing::error!(%error, sid = task.sid.as_str(), "cannot tell whose journalled task this is: left recording");
                    orphan.abandon();
                    return;
                }
            };
            if let Some(row) = page
                .iter()
                .find(|row| row.sid.as_deref() == Some(task.sid.as_str()))
            {
                if !is_terminal(&row.state) {
                    tracing::info!(sid = task.sid.as_str(), owner = ?row.owner, "a journalled task belongs to a recording of another worker: given up");
                    orphan.abandon();
                    return;
                }
                break;
            }
            match page.last() {
                Some(last) if page.len() == query.limit as usize => after = Some(last.id),
                _ => break,
            }
        }
        tracing::warn!(
            sid = task.sid.as_str(),
            "a journalled task belongs to no live recording: it is stopped"
        );
        tokio::spawn(orphan.stop());
    }

    /// Claims unowned or expired recordings and supervises them.
    pub async fn claim(
        self: &Arc<Self>,
        journalled: &mut Vec<SessionHandle>,
    ) -> Result<usize, StoreError> {
        let rows = self
            .store
            .claim(&self.config.worker, self.config.lease, 10_000)
            .await?;
        let count = rows.len();
        self.metrics.took_over(count as u64);
        for row in rows {
            self.metrics.session_moved(None, Some(&row.state));
            self.take(row, journalled).await;
        }
        Ok(count)
    }

    pub(super) async fn take(
        self: &Arc<Self>,
        row: SessionRow,
        journalled: &mut Vec<SessionHandle>,
    ) {
        let Ok(app) = self.app(Some(&row.app_id)).cloned() else {
            self.fail(&row, format!("this service has no credentials for App ID {}: it cannot supervise the recording", row.app_id)).await;
            return;
        };
        let ids = ids_of(&row);
        let found = journalled.iter().position(|handle| {
            let Some(task) = handle.task() else {
                return false;
            };
            match &row.sid {
                Some(sid) => task.sid.as_str() == sid,
                None => ids.as_ref().is_ok_and(|(mode, cname, uid)| {
                    task.mode == *mode && task.cname == *cname && task.uid == *uid
                }),
            }
        });
        if let Some(index) = found {
            let handle = journalled.swap_remove(index);
            self.watch(row, handle);
            return;
        }
        let Ok((mode, cname, uid)) = ids else {
            self.fail(
                &row,
                "the stored recording has an unreadable mode, channel or uid".to_owned(),
            )
            .await;
            return;
        };
        if let (Some(resource_id), Some(sid)) = (&row.resource_id, &row.sid) {
            let (Ok(resource_id), Ok(sid)) = (
                ResourceId::new(resource_id.as_str()),
                Sid::new(sid.as_str()),
            ) else {
                self.fail(
                    &row,
                    "the stored resource id or sid is unreadable".to_owned(),
                )
                .await;
                return;
            };
            let task = TaskRef {
                resource_id,
                sid,
                mode,
                cname,
                uid,
            };
            let handle = app.recorder.resume(&task);
            self.watch(row, handle);
            return;
        }
        let start = row
            .sealed_start
            .as_ref()
            .zip(self.config.store_key.as_ref())
            .and_then(|(sealed, key)| key.open(sealed).ok())
            .and_then(|json| serde_json::from_slice::<StartClientRequest>(&json).ok());
        match start {
            Some(start) => {
                let acquire = row
                    .request
                    .get("acquire")
                    .filter(|value| !value.is_null())
                    .and_then(|value| serde_json::from_value(value.clone()).ok())
                    .unwrap_or_default();
                let spec = SessionSpec::new(mode, cname, uid, start).with_acquire(acquire);
                let handle = app.recorder.start_session(spec);
                self.watch(row, handle);
            }
            None => {
                let why = if row.sealed_start.is_some() {
                    "the sealed start body cannot be opened with this CLOUDREC_STORE_KEY: give the key it was sealed with, or create the recording again"
                } else {
                    "the service restarted before this recording started, and its start body was not kept (no CLOUDREC_STORE_KEY): create it again"
                };
                self.fail(&row, why.to_owned()).await;
            }
        }
    }

    pub(super) async fn fail(&self, row: &SessionRow, why: String) {
        let update = SessionUpdate {
            state: "failed".to_owned(),
            snapshot: row.snapshot.clone(),
            report: serde_json::to_value(Report {
                reason: Some(why),
                ..Report::default()
            })
            .unwrap_or_default(),
            resource_id: None,
            sid: None,
        };
        match self.write(row, &update, true).await {
            Ok(()) => self.metrics.session_moved(Some(&row.state), Some("failed")),
            Err(error) => {
                tracing::error!(recording = %row.id, %error, "could not mark the recording failed")
            }
        }
    }
}

fn ids_of(row: &SessionRow) -> Result<(Mode, Cname, Uid), ()> {
    let cname = Cname::new(row.cname.as_str()).map_err(|_| ())?;
    let uid = row
        .uid
        .parse::<u32>()
        .ok()
        .and_then(|uid| Uid::new(uid).ok())
        .ok_or(())?;
    Ok((Mode::parse(&row.mode), cname, uid))
}
