//! Rows kept in memory in front of a store that this process alone writes:
//! a single node's SQLite file, which its journal lock keeps to one process.
//! Reads of one session are then answered without the database.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use cloudrec_client::store::{
    Command, CommandId, CommandKind, Created, Lease, ListQuery, NewSession, SessionRow,
    SessionStore, SessionUpdate, StoreError,
};
use uuid::Uuid;

/// The most rows kept; beyond it the cache starts again empty (reads then
/// fill it from the store).
const MAX_ROWS: usize = 100_000;

/// A [`SessionStore`] whose [`get`](SessionStore::get) is served from memory.
///
/// Correct only while no other process writes the store: every write goes
/// through this cache, which then reads the row back once, and a renewal
/// drops the rows it renewed, to be read again when asked.
pub struct SoleWriterCache {
    inner: Arc<dyn SessionStore>,
    rows: RwLock<HashMap<Uuid, SessionRow>>,
}

impl std::fmt::Debug for SoleWriterCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoleWriterCache")
            .field("inner", &self.inner)
            .field(
                "rows",
                &self
                    .rows
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .len(),
            )
            .finish()
    }
}

impl SoleWriterCache {
    /// `inner` with its rows kept in memory.
    pub fn new(inner: Arc<dyn SessionStore>) -> Self {
        Self {
            inner,
            rows: RwLock::default(),
        }
    }

    fn keep(&self, rows: impl IntoIterator<Item = SessionRow>) {
        let mut cached = self.rows.write().unwrap_or_else(PoisonError::into_inner);
        for row in rows {
            if cached.len() >= MAX_ROWS && !cached.contains_key(&row.id) {
                cached.clear();
            }
            cached.insert(row.id, row);
        }
    }

    fn forget(&self, id: Option<Uuid>) {
        let mut cached = self.rows.write().unwrap_or_else(PoisonError::into_inner);
        match id {
            Some(id) => {
                cached.remove(&id);
            }
            None => cached.clear(),
        }
    }
}

#[async_trait]
impl SessionStore for SoleWriterCache {
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn create(
        &self,
        worker: &str,
        lease: Duration,
        new: &NewSession,
    ) -> Result<Created, StoreError> {
        let created = self.inner.create(worker, lease, new).await?;
        self.keep([created.row.clone()]);
        Ok(created)
    }

    async fn claim(
        &self,
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let rows = self.inner.claim(worker, lease, limit).await?;
        self.keep(rows.iter().cloned());
        Ok(rows)
    }

    async fn renew(&self, worker: &str, lease: Duration) -> Result<Vec<Lease>, StoreError> {
        let leases = self.inner.renew(worker, lease).await?;
        // Their lease moved on: read them again when asked.
        let mut cached = self.rows.write().unwrap_or_else(PoisonError::into_inner);
        for lease in &leases {
            cached.remove(&lease.id);
        }
        Ok(leases)
    }

    async fn write(
        &self,
        worker: &str,
        id: Uuid,
        epoch: i64,
        update: &SessionUpdate,
    ) -> Result<(), StoreError> {
        let written = self.inner.write(worker, id, epoch, update).await;
        self.forget(Some(id));
        written?;
        if let Some(row) = self.inner.get(id).await? {
            self.keep([row]);
        }
        Ok(())
    }

    async fn release(&self, worker: &str) -> Result<u64, StoreError> {
        let released = self.inner.release(worker).await;
        self.forget(None);
        released
    }

    async fn get(&self, id: Uuid) -> Result<Option<SessionRow>, StoreError> {
        let cached = self
            .rows
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned();
        if let Some(row) = cached {
            return Ok(Some(row));
        }
        let row = self.inner.get(id).await?;
        if let Some(row) = &row {
            self.keep([row.clone()]);
        }
        Ok(row)
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<SessionRow>, StoreError> {
        self.inner.list(query).await
    }

    async fn live_workers(&self) -> Result<u64, StoreError> {
        self.inner.live_workers().await
    }

    async fn find_by_sid(&self, sid: &str) -> Result<Option<SessionRow>, StoreError> {
        self.inner.find_by_sid(sid).await
    }

    async fn send_command(
        &self,
        session: Uuid,
        kind: CommandKind,
        body: &serde_json::Value,
    ) -> Result<CommandId, StoreError> {
        self.inner.send_command(session, kind, body).await
    }

    async fn pending_commands(&self, worker: &str) -> Result<Vec<Command>, StoreError> {
        self.inner.pending_commands(worker).await
    }

    async fn finish_command(
        &self,
        id: CommandId,
        ok: bool,
        result: Option<&str>,
    ) -> Result<(), StoreError> {
        self.inner.finish_command(id, ok, result).await
    }

    async fn command(&self, id: CommandId) -> Result<Option<Command>, StoreError> {
        self.inner.command(id).await
    }
}
