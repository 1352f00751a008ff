//! The SQLite session store, kept in one file by a single node.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Executor, Row, SqliteConnection};
use uuid::Uuid;

use crate::shared::{TERMINAL_SQL, idempotency, lease_micros, query, time_from_micros};
use cloudrec_client::store::{
    Command, CommandId, CommandKind, CommandState, Created, Fenced, Lease, ListQuery, NewSession,
    PENDING_BATCH, SessionRow, SessionStore, SessionUpdate, StoreError,
};

/// How long a statement waits for another connection's write lock before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The store's clock: microseconds since the Unix epoch, as SQLite reads it
/// (millisecond resolution).
const NOW_US: &str = "CAST(unixepoch('subsec') * 1000000 AS INTEGER)";

/// The migrations, in order: (version, name, statements). A version, once
/// released, is never edited: a change is a new version.
const MIGRATIONS: &[(i64, &str, &[&str])] = &[
    (
        1,
        "sessions",
        &[
            "CREATE TABLE IF NOT EXISTS cloudrec_sessions (
            id BLOB PRIMARY KEY,
            app_id TEXT NOT NULL,
            mode TEXT NOT NULL,
            cname TEXT NOT NULL,
            uid TEXT NOT NULL,
            resource_id TEXT,
            sid TEXT,
            state TEXT NOT NULL,
            snapshot TEXT NOT NULL DEFAULT '{}',
            report TEXT NOT NULL DEFAULT '{}',
            request TEXT NOT NULL DEFAULT '{}',
            sealed_start BLOB,
            idempotency_key TEXT,
            request_hash TEXT,
            owner TEXT,
            lease_until_us INTEGER,
            epoch INTEGER NOT NULL DEFAULT 0,
            created_us INTEGER NOT NULL,
            updated_us INTEGER NOT NULL
        )",
            "CREATE INDEX IF NOT EXISTS cloudrec_sessions_claim
            ON cloudrec_sessions (lease_until_us)
            WHERE state NOT IN ('stopped', 'stopped_no_data', 'failed', 'lost')",
            "CREATE INDEX IF NOT EXISTS cloudrec_sessions_owner
            ON cloudrec_sessions (owner)
            WHERE owner IS NOT NULL",
            "CREATE UNIQUE INDEX IF NOT EXISTS cloudrec_sessions_idempotency
            ON cloudrec_sessions (app_id, idempotency_key)
            WHERE idempotency_key IS NOT NULL",
        ],
    ),
    (
        2,
        "commands",
        &[
            "CREATE TABLE IF NOT EXISTS cloudrec_commands (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                session_id BLOB NOT NULL,
                kind TEXT NOT NULL
                    CHECK (kind IN ('stop', 'update', 'update_layout', 'query_now')),
                body TEXT NOT NULL DEFAULT 'null',
                state TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'done', 'failed')),
                result TEXT,
                created_us INTEGER NOT NULL,
                done_us INTEGER
            )",
            "CREATE INDEX IF NOT EXISTS cloudrec_commands_pending
                ON cloudrec_commands (session_id, id)
                WHERE state = 'pending'",
            "CREATE INDEX IF NOT EXISTS cloudrec_sessions_sid
                ON cloudrec_sessions (sid)
                WHERE sid IS NOT NULL",
        ],
    ),
];

/// The table that records which migrations ran.
const VERSIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS cloudrec_store_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_us INTEGER NOT NULL
)";

/// The columns of a [`SessionRow`].
const COLUMNS: &str = "id, app_id, mode, cname, uid, resource_id, sid, state, snapshot, report, \
    request, sealed_start, idempotency_key, request_hash, owner, epoch, lease_until_us, \
    created_us, updated_us";

/// The session store of a single node, in one SQLite file.
///
/// It has the semantics of [`PgStore`](crate::PgStore) (leases on the store's
/// clock, epochs, fencing, idempotent creation), for the processes of one
/// machine: every transaction that writes starts with `BEGIN IMMEDIATE`, so
/// writes (claims included) run one after the other and two claims never take
/// the same session. There is no `NOTIFY`: a single node has no other worker
/// to wake when it releases its sessions. Cloning shares the connection pool.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn text(row: &SqliteRow, column: &str) -> Result<serde_json::Value, String> {
    let raw: String = row.try_get(column).map_err(|e| e.to_string())?;
    serde_json::from_str(&raw).map_err(|e| format!("column {column} is not JSON: {e}"))
}

fn session_from_row(row: &SqliteRow) -> Result<SessionRow, String> {
    let get = |e: sqlx::Error| e.to_string();
    Ok(SessionRow {
        id: row.try_get("id").map_err(get)?,
        app_id: row.try_get("app_id").map_err(get)?,
        mode: row.try_get("mode").map_err(get)?,
        cname: row.try_get("cname").map_err(get)?,
        uid: row.try_get("uid").map_err(get)?,
        resource_id: row.try_get("resource_id").map_err(get)?,
        sid: row.try_get("sid").map_err(get)?,
        state: row.try_get("state").map_err(get)?,
        snapshot: text(row, "snapshot")?,
        report: text(row, "report")?,
        request: text(row, "request")?,
        sealed_start: row.try_get("sealed_start").map_err(get)?,
        idempotency: idempotency(
            row.try_get("idempotency_key").map_err(get)?,
            row.try_get("request_hash").map_err(get)?,
        ),
        owner: row.try_get("owner").map_err(get)?,
        epoch: row.try_get("epoch").map_err(get)?,
        lease_until: row
            .try_get::<Option<i64>, _>("lease_until_us")
            .map_err(get)?
            .map(time_from_micros),
        created_at: time_from_micros(row.try_get("created_us").map_err(get)?),
        updated_at: time_from_micros(row.try_get("updated_us").map_err(get)?),
    })
}

/// The columns of a [`Command`].
const COMMAND_COLUMNS: &str = "id, session_id, kind, body, state, result, created_us, done_us";

fn command_from_row(row: &SqliteRow) -> Result<Command, String> {
    let get = |e: sqlx::Error| e.to_string();
    let kind: String = row.try_get("kind").map_err(get)?;
    let state: String = row.try_get("state").map_err(get)?;
    Ok(Command {
        id: CommandId(row.try_get("id").map_err(get)?),
        session_id: row.try_get("session_id").map_err(get)?,
        kind: CommandKind::parse(&kind).ok_or_else(|| format!("unknown command kind {kind:?}"))?,
        body: text(row, "body")?,
        state: CommandState::parse(&state)
            .ok_or_else(|| format!("unknown command state {state:?}"))?,
        result: row.try_get("result").map_err(get)?,
        created_at: time_from_micros(row.try_get("created_us").map_err(get)?),
        done_at: row
            .try_get::<Option<i64>, _>("done_us")
            .map_err(get)?
            .map(time_from_micros),
    })
}

fn session(op: &'static str, row: &SqliteRow) -> Result<SessionRow, StoreError> {
    session_from_row(row).map_err(|e| query(op, &e))
}

fn sessions(op: &'static str, rows: &[SqliteRow]) -> Result<Vec<SessionRow>, StoreError> {
    rows.iter().map(|row| session(op, row)).collect()
}

impl SqliteStore {
    /// Opens the store in the file at `path`, creating the file and its parent
    /// directory if needed, and creates or upgrades the tables (only the
    /// migrations not yet recorded run, so opening again does nothing).
    ///
    /// The file is in WAL mode, with a busy timeout of 10 s.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let connect_error = |detail: String| StoreError::Connect {
            url: shown.clone(),
            detail,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await.map_err(|e| {
                connect_error(format!("cannot create directory {}: {e}", parent.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        let store = Self {
            pool,
            path: path.to_owned(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The file the store is kept in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection pool, for statements the store does not offer.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let failed = |step: &'static str, e: sqlx::Error| StoreError::Migrate {
            url: self.path.display().to_string(),
            step,
            detail: e.to_string(),
        };
        // BEGIN IMMEDIATE: two processes opening the file together migrate one
        // after the other.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| failed("begin", e))?;
        tx.execute(VERSIONS_TABLE)
            .await
            .map_err(|e| failed("versions table", e))?;
        for (version, name, statements) in MIGRATIONS {
            let done: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM cloudrec_store_migrations WHERE version = ?1",
            )
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| failed(name, e))?;
            if done.is_some() {
                continue;
            }
            for statement in *statements {
                tx.execute(*statement).await.map_err(|e| failed(name, e))?;
            }
            sqlx::query(&format!(
                "INSERT INTO cloudrec_store_migrations (version, name, applied_us) \
                 VALUES (?1, ?2, {NOW_US})"
            ))
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(|e| failed(name, e))?;
        }
        tx.commit().await.map_err(|e| failed("commit", e))
    }

    async fn immediate(
        &self,
        op: &'static str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.query(op, &e))
    }

    /// A failed statement, naming the file.
    fn query(&self, op: &'static str, error: &impl fmt::Display) -> StoreError {
        query(op, &format!("{error} (in {})", self.path.display()))
    }
}

async fn earlier_session(
    conn: &mut SqliteConnection,
    app_id: &str,
    key: &str,
) -> Result<Option<SqliteRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM cloudrec_sessions WHERE app_id = ?1 AND idempotency_key = ?2"
    ))
    .bind(app_id)
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// Leases run from SQLite's own clock (`unixepoch('subsec')`); every write
/// is a `BEGIN IMMEDIATE` transaction or a single statement; `release`
/// notifies no one.
#[async_trait]
impl SessionStore for SqliteStore {
    async fn live_workers(&self) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT count(DISTINCT owner) FROM cloudrec_sessions \
             WHERE owner IS NOT NULL AND lease_until_us > {NOW_US} AND state NOT IN {TERMINAL_SQL}"
        );
        let count: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.query("live_workers", &e))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| self.query("ping", &e))?;
        Ok(())
    }

    /// The insert and the look-up of an earlier session with the same
    /// idempotency key are one `BEGIN IMMEDIATE` transaction.
    async fn create(
        &self,
        worker: &str,
        lease: Duration,
        new: &NewSession,
    ) -> Result<Created, StoreError> {
        let lease = lease_micros(lease)?;
        let (key, hash) = match &new.idempotency {
            Some(idempotency) => (
                Some(idempotency.key.as_str()),
                Some(idempotency.request_hash.as_str()),
            ),
            None => (None, None),
        };
        let mut tx = self.immediate("create").await?;
        let sql = format!(
            "INSERT INTO cloudrec_sessions \
             (id, app_id, mode, cname, uid, state, snapshot, request, sealed_start, \
              idempotency_key, request_hash, owner, lease_until_us, epoch, created_us, updated_us) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, {NOW_US} + ?13, 1, \
                     {NOW_US}, {NOW_US}) \
             ON CONFLICT (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
             RETURNING {COLUMNS}"
        );
        let inserted = sqlx::query(&sql)
            .bind(Uuid::now_v7())
            .bind(&new.app_id)
            .bind(&new.mode)
            .bind(&new.cname)
            .bind(&new.uid)
            .bind(&new.state)
            .bind(new.snapshot.to_string())
            .bind(new.request.to_string())
            .bind(&new.sealed_start)
            .bind(key)
            .bind(hash)
            .bind(worker)
            .bind(lease)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.query("create", &e))?;
        let created = match (inserted, key) {
            (Some(row), _) => Created {
                row: session("create", &row)?,
                existing: false,
            },
            (None, Some(key)) => {
                let row = earlier_session(&mut tx, &new.app_id, key)
                    .await
                    .map_err(|e| self.query("create", &e))?
                    .ok_or_else(|| {
                        self.query(
                            "create",
                            &"the idempotency key conflicted, but no session holds it",
                        )
                    })?;
                Created {
                    row: session("create", &row)?,
                    existing: true,
                }
            }
            (None, None) => {
                return Err(self.query("create", &"the insert stored no row"));
            }
        };
        tx.commit().await.map_err(|e| self.query("create", &e))?;
        Ok(created)
    }

    /// One `BEGIN IMMEDIATE` transaction: SQLite has no `SKIP LOCKED`, but it
    /// runs one write transaction at a time, so concurrent claims take
    /// different sessions.
    async fn claim(
        &self,
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let lease = lease_micros(lease)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.immediate("claim").await?;
        let sql = format!(
            "UPDATE cloudrec_sessions SET owner = ?1, lease_until_us = {NOW_US} + ?2, \
                epoch = epoch + 1, updated_us = {NOW_US} \
             WHERE id IN ( \
                SELECT id FROM cloudrec_sessions \
                WHERE state NOT IN {TERMINAL_SQL} \
                  AND (owner IS NULL OR lease_until_us IS NULL OR lease_until_us <= {NOW_US}) \
                ORDER BY lease_until_us IS NOT NULL, lease_until_us, id \
                LIMIT ?3 \
             ) \
             RETURNING {COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(lease)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| self.query("claim", &e))?;
        let claimed = sessions("claim", &rows)?;
        tx.commit().await.map_err(|e| self.query("claim", &e))?;
        Ok(claimed)
    }

    async fn renew(&self, worker: &str, lease: Duration) -> Result<Vec<Lease>, StoreError> {
        let lease = lease_micros(lease)?;
        let sql = format!(
            "UPDATE cloudrec_sessions SET lease_until_us = {NOW_US} + ?2 \
             WHERE owner = ?1 AND lease_until_us > {NOW_US} AND state NOT IN {TERMINAL_SQL} \
             RETURNING id, epoch"
        );
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(lease)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.query("renew", &e))?;
        rows.iter()
            .map(|row| {
                Ok(Lease {
                    id: row.try_get("id")?,
                    epoch: row.try_get("epoch")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.query("renew", &e))
    }

    async fn write(
        &self,
        worker: &str,
        id: Uuid,
        epoch: i64,
        update: &SessionUpdate,
    ) -> Result<(), StoreError> {
        let mut tx = self.immediate("write").await?;
        let done = sqlx::query(&format!(
            "UPDATE cloudrec_sessions SET state = ?4, snapshot = ?5, report = ?6, \
                resource_id = COALESCE(?7, resource_id), sid = COALESCE(?8, sid), \
                updated_us = {NOW_US} \
             WHERE id = ?1 AND epoch = ?2 AND owner = ?3"
        ))
        .bind(id)
        .bind(epoch)
        .bind(worker)
        .bind(&update.state)
        .bind(update.snapshot.to_string())
        .bind(update.report.to_string())
        .bind(&update.resource_id)
        .bind(&update.sid)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.query("write", &e))?;
        if done.rows_affected() > 0 {
            return tx.commit().await.map_err(|e| self.query("write", &e));
        }
        let current = sqlx::query("SELECT epoch, owner FROM cloudrec_sessions WHERE id = ?1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.query("write", &e))?;
        let (current_epoch, current_owner) = match current {
            Some(row) => (
                Some(row.try_get("epoch").map_err(|e| self.query("write", &e))?),
                row.try_get("owner").map_err(|e| self.query("write", &e))?,
            ),
            None => (None, None),
        };
        tx.rollback().await.map_err(|e| self.query("write", &e))?;
        Err(Fenced {
            id,
            worker: worker.to_owned(),
            epoch,
            current_epoch,
            current_owner,
        }
        .into())
    }

    /// No notification: on a single node there is no other worker to wake.
    async fn release(&self, worker: &str) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE cloudrec_sessions SET owner = NULL, lease_until_us = NULL, \
                updated_us = {NOW_US} \
             WHERE owner = ?1 AND state NOT IN {TERMINAL_SQL}"
        );
        let done = sqlx::query(&sql)
            .bind(worker)
            .execute(&self.pool)
            .await
            .map_err(|e| self.query("release", &e))?;
        Ok(done.rows_affected())
    }

    async fn find_by_sid(&self, sid: &str) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM cloudrec_sessions WHERE sid = ?1 ORDER BY id DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(sid)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.query("find_by_sid", &e))?;
        row.as_ref()
            .map(|row| session("find_by_sid", row))
            .transpose()
    }

    /// One insert; nobody is notified (the single node polls).
    async fn send_command(
        &self,
        session: Uuid,
        kind: CommandKind,
        body: &serde_json::Value,
    ) -> Result<CommandId, StoreError> {
        let id: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO cloudrec_commands (session_id, kind, body, created_us) \
             VALUES (?1, ?2, ?3, {NOW_US}) RETURNING id"
        ))
        .bind(session)
        .bind(kind.as_str())
        .bind(body.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.query("send_command", &e))?;
        Ok(CommandId(id))
    }

    async fn pending_commands(&self, worker: &str) -> Result<Vec<Command>, StoreError> {
        let sql = format!(
            "SELECT {COMMAND_COLUMNS} FROM cloudrec_commands \
             WHERE state = 'pending' \
               AND session_id IN (SELECT id FROM cloudrec_sessions WHERE owner = ?1) \
             ORDER BY id LIMIT ?2"
        );
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(i64::from(PENDING_BATCH))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.query("pending_commands", &e))?;
        rows.iter()
            .map(|row| command_from_row(row).map_err(|e| self.query("pending_commands", &e)))
            .collect()
    }

    async fn finish_command(
        &self,
        id: CommandId,
        ok: bool,
        result: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "UPDATE cloudrec_commands SET state = ?2, result = ?3, body = 'null', \
                done_us = {NOW_US} \
             WHERE id = ?1 AND state = 'pending'"
        ))
        .bind(id.0)
        .bind(if ok { "done" } else { "failed" })
        .bind(result)
        .execute(&self.pool)
        .await
        .map_err(|e| self.query("finish_command", &e))?;
        Ok(())
    }

    async fn command(&self, id: CommandId) -> Result<Option<Command>, StoreError> {
        let sql = format!("SELECT {COMMAND_COLUMNS} FROM cloudrec_commands WHERE id = ?1");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.query("command", &e))?;
        row.as_ref()
            .map(|row| command_from_row(row).map_err(|e| self.query("command", &e)))
            .transpose()
    }

    async fn get(&self, id: Uuid) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM cloudrec_sessions WHERE id = ?1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.query("get", &e))?;
        row.as_ref().map(|row| session("get", row)).transpose()
    }

    async fn list(&self, list: &ListQuery) -> Result<Vec<SessionRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM cloudrec_sessions \
             WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR app_id = ?2) \
               AND (?3 IS NULL OR id > ?3) \
             ORDER BY id LIMIT ?4"
        );
        let rows = sqlx::query(&sql)
            .bind(&list.state)
            .bind(&list.app_id)
            .bind(list.after)
            .bind(i64::from(list.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.query("list", &e))?;
        sessions("list", &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_index_lists_the_terminal_states() {
        assert!(
            MIGRATIONS[0]
                .2
                .iter()
                .any(|statement| statement.contains("cloudrec_sessions_claim")
                    && statement.contains(TERMINAL_SQL))
        );
    }
}
