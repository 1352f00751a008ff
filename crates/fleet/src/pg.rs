//! The PostgreSQL session store, shared by the workers of a fleet.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Executor, PgConnection, Row};
use uuid::Uuid;

use crate::schema::{MIGRATION_LOCK, MIGRATIONS, VERSIONS_TABLE};
use crate::shared::{TERMINAL_SQL, idempotency, lease_micros, query, time_from_micros};
use cloudrec_client::store::{
    Command, CommandId, CommandKind, Created, Fenced, Lease, ListQuery, NewSession, PENDING_BATCH,
    SessionRow, SessionStore, SessionUpdate, StoreError,
};
use cloudrec_types::redact::{text as redact_text, url as redact_url};

/// The channel [`PgStore::release`] notifies, with the releasing worker as payload.
pub const RELEASED_CHANNEL: &str = "cloudrec_sessions_released";

/// The channel [`PgStore::send_command`](SessionStore::send_command) notifies,
/// with the session id as payload.
pub const COMMANDS_CHANNEL: &str = "cloudrec_commands";

/// The columns of a [`Command`], times as microseconds since the Unix epoch.
const COMMAND_COLUMNS: &str = "id, session_id, kind, body, state, result, \
    (extract(epoch FROM created_at) * 1000000)::bigint AS created_us, \
    (extract(epoch FROM done_at) * 1000000)::bigint AS done_us";

/// The columns of a [`SessionRow`], times as microseconds since the Unix epoch.
const COLUMNS: &str = "id, app_id, mode, cname, uid, resource_id, sid, state, snapshot, report, \
    request, sealed_start, idempotency_key, request_hash, owner, epoch, \
    (extract(epoch FROM lease_until) * 1000000)::bigint AS lease_until_us, \
    (extract(epoch FROM created_at) * 1000000)::bigint AS created_us, \
    (extract(epoch FROM updated_at) * 1000000)::bigint AS updated_us";

/// A notification that a worker released its sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Released {
    /// The worker that released them.
    pub worker: String,
}

/// Receives [`Released`] notifications, from [`PgStore::listen`].
///
/// If its connection drops it reconnects on the next [`recv`](Self::recv);
/// notifications sent meanwhile are lost, so a worker also claims on a timer.
pub struct ReleasedListener {
    inner: PgListener,
}

impl fmt::Debug for ReleasedListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReleasedListener")
            .field("channel", &RELEASED_CHANNEL)
            .finish_non_exhaustive()
    }
}

impl ReleasedListener {
    /// Waits for the next release by any worker.
    pub async fn recv(&mut self) -> Result<Released, StoreError> {
        let notification = self.inner.recv().await.map_err(|e| query("listen", &e))?;
        Ok(Released {
            worker: notification.payload().to_owned(),
        })
    }
}

/// The session store on PostgreSQL. Cloning shares the connection pool.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The URL, its password replaced by `***`.
    url: String,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

fn session_from_row(row: &PgRow) -> Result<SessionRow, sqlx::Error> {
    Ok(SessionRow {
        id: row.try_get("id")?,
        app_id: row.try_get("app_id")?,
        mode: row.try_get("mode")?,
        cname: row.try_get("cname")?,
        uid: row.try_get("uid")?,
        resource_id: row.try_get("resource_id")?,
        sid: row.try_get("sid")?,
        state: row.try_get("state")?,
        snapshot: row.try_get("snapshot")?,
        report: row.try_get("report")?,
        request: row.try_get("request")?,
        sealed_start: row.try_get("sealed_start")?,
        idempotency: idempotency(
            row.try_get("idempotency_key")?,
            row.try_get("request_hash")?,
        ),
        owner: row.try_get("owner")?,
        epoch: row.try_get("epoch")?,
        lease_until: row
            .try_get::<Option<i64>, _>("lease_until_us")?
            .map(time_from_micros),
        created_at: time_from_micros(row.try_get("created_us")?),
        updated_at: time_from_micros(row.try_get("updated_us")?),
    })
}

fn command_from_row(row: &PgRow) -> Result<Command, String> {
    let get = |e: sqlx::Error| e.to_string();
    let kind: String = row.try_get("kind").map_err(get)?;
    let state: String = row.try_get("state").map_err(get)?;
    Ok(Command {
        id: CommandId(row.try_get("id").map_err(get)?),
        session_id: row.try_get("session_id").map_err(get)?,
        kind: CommandKind::parse(&kind).ok_or_else(|| format!("unknown command kind {kind:?}"))?,
        body: row.try_get("body").map_err(get)?,
        state: cloudrec_client::store::CommandState::parse(&state)
            .ok_or_else(|| format!("unknown command state {state:?}"))?,
        result: row.try_get("result").map_err(get)?,
        created_at: time_from_micros(row.try_get("created_us").map_err(get)?),
        done_at: row
            .try_get::<Option<i64>, _>("done_us")
            .map_err(get)?
            .map(time_from_micros),
    })
}

fn sessions(op: &'static str, rows: &[PgRow]) -> Result<Vec<SessionRow>, StoreError> {
    rows.iter()
        .map(|row| session_from_row(row).map_err(|e| query(op, &e)))
        .collect()
}

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL) and creates or
    /// upgrades the tables. Safe to call from several workers at once: the
    /// migrations run under an advisory lock, and only those not yet applied.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let shown = redact_url(url);
        let connect_error = |detail: String| StoreError::Connect {
            url: shown.clone(),
            detail: redact_text(&detail, url),
        };
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| connect_error(format!("not a valid PostgreSQL URL: {e}")))?;
        // One direct connection first: its error names the cause (refused,
        // unknown host, authentication), where the pool would only time out.
        let probe = PgConnection::connect_with(&options)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        let store = Self { pool, url: shown };
        store.migrate(url).await?;
        Ok(store)
    }

    /// The connection pool, for statements the store does not offer.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn migrate(&self, url: &str) -> Result<(), StoreError> {
        let failed = |step: &'static str, e: sqlx::Error| StoreError::Migrate {
            url: self.url.clone(),
            step,
            detail: redact_text(&e.to_string(), url),
        };
        let mut tx = self.pool.begin().await.map_err(|e| failed("begin", e))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(|e| failed("lock", e))?;
        tx.execute(VERSIONS_TABLE)
            .await
            .map_err(|e| failed("versions table", e))?;
        for (version, name, statements) in MIGRATIONS {
            let done: Option<i32> = sqlx::query_scalar(
                "SELECT version FROM cloudrec_store_migrations WHERE version = $1",
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
            sqlx::query("INSERT INTO cloudrec_store_migrations (version, name) VALUES ($1, $2)")
                .bind(version)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(|e| failed(name, e))?;
        }
        tx.commit().await.map_err(|e| failed("commit", e))
    }

    /// Listens for releases by any worker (`LISTEN` on [`RELEASED_CHANNEL`]).
    pub async fn listen(&self) -> Result<ReleasedListener, StoreError> {
        let mut inner = PgListener::connect_with(&self.pool)
            .await
            .map_err(|e| query("listen", &e))?;
        inner
            .listen(RELEASED_CHANNEL)
            .await
            .map_err(|e| query("listen", &e))?;
        Ok(ReleasedListener { inner })
    }

    /// Listens for commands sent to any session (`LISTEN` on
    /// [`COMMANDS_CHANNEL`]), for the owners to apply them at once.
    pub async fn listen_commands(&self) -> Result<CommandListener, StoreError> {
        let mut inner = PgListener::connect_with(&self.pool)
            .await
            .map_err(|e| query("listen", &e))?;
        inner
            .listen(COMMANDS_CHANNEL)
            .await
            .map_err(|e| query("listen", &e))?;
        Ok(CommandListener { inner })
    }
}

/// Receives the session ids of new commands, from [`PgStore::listen_commands`].
///
/// If its connection drops it reconnects on the next [`recv`](Self::recv);
/// notifications sent meanwhile are lost, so an owner also looks for pending
/// commands on a timer.
pub struct CommandListener {
    inner: PgListener,
}

impl fmt::Debug for CommandListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandListener")
            .field("channel", &COMMANDS_CHANNEL)
            .finish_non_exhaustive()
    }
}

impl CommandListener {
    /// Waits for the next command sent by any worker; answers its session's
    /// id as sent (a UUID in text).
    pub async fn recv(&mut self) -> Result<String, StoreError> {
        let notification = self.inner.recv().await.map_err(|e| query("listen", &e))?;
        Ok(notification.payload().to_owned())
    }
}

/// Leases run from the database's `now()`; claims skip rows another worker is
/// claiming at the same moment (`FOR UPDATE SKIP LOCKED`); `release` notifies
/// [`RELEASED_CHANNEL`] in its transaction.
#[async_trait]
impl SessionStore for PgStore {
    async fn live_workers(&self) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT count(DISTINCT owner) FROM cloudrec_sessions \
             WHERE owner IS NOT NULL AND lease_until > now() AND state NOT IN {TERMINAL_SQL}"
        );
        let count: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| query("live_workers", &e))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| query("ping", &e))?;
        Ok(())
    }

    /// With an idempotency key, `INSERT … ON CONFLICT DO NOTHING` on the unique
    /// index (app_id, idempotency_key), then a `SELECT` of the earlier row: the
    /// conflicting insert waits for the other transaction to commit, so two
    /// concurrent creates with one key store one row.
    async fn create(
        &self,
        worker: &str,
        lease: Duration,
        new: &NewSession,
    ) -> Result<Created, StoreError> {
        let lease = lease_micros(lease)?;
        let sql = format!(
            "INSERT INTO cloudrec_sessions \
             (id, app_id, mode, cname, uid, state, snapshot, request, sealed_start, \
              idempotency_key, request_hash, owner, lease_until, epoch) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
                     now() + $13 * interval '1 microsecond', 1) \
             ON CONFLICT (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
             RETURNING {COLUMNS}"
        );
        let (key, hash) = match &new.idempotency {
            Some(idempotency) => (
                Some(idempotency.key.as_str()),
                Some(idempotency.request_hash.as_str()),
            ),
            None => (None, None),
        };
        let inserted = sqlx::query(&sql)
            .bind(Uuid::now_v7())
            .bind(&new.app_id)
            .bind(&new.mode)
            .bind(&new.cname)
            .bind(&new.uid)
            .bind(&new.state)
            .bind(&new.snapshot)
            .bind(&new.request)
            .bind(&new.sealed_start)
            .bind(key)
            .bind(hash)
            .bind(worker)
            .bind(lease)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| query("create", &e))?;
        if let Some(row) = inserted {
            return Ok(Created {
                row: session_from_row(&row).map_err(|e| query("create", &e))?,
                existing: false,
            });
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM cloudrec_sessions WHERE app_id = $1 AND idempotency_key = $2"
        );
        let earlier = sqlx::query(&sql)
            .bind(&new.app_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| query("create", &e))?
            .ok_or_else(|| StoreError::Query {
                op: "create",
                detail: "the idempotency key conflicted, but no session holds it".to_owned(),
            })?;
        Ok(Created {
            row: session_from_row(&earlier).map_err(|e| query("create", &e))?,
            existing: true,
        })
    }

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
        let sql = format!(
            "WITH picked AS ( \
                SELECT id AS picked_id FROM cloudrec_sessions \
                WHERE state NOT IN {TERMINAL_SQL} \
                  AND (owner IS NULL OR lease_until IS NULL OR lease_until <= now()) \
                ORDER BY lease_until NULLS FIRST, id \
                LIMIT $3 \
                FOR UPDATE SKIP LOCKED \
             ) \
             UPDATE cloudrec_sessions SET owner = $1, \
                lease_until = now() + $2 * interval '1 microsecond', \
                epoch = epoch + 1, updated_at = now() \
             FROM picked WHERE id = picked_id \
             RETURNING {COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(lease)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| query("claim", &e))?;
        sessions("claim", &rows)
    }

    async fn renew(&self, worker: &str, lease: Duration) -> Result<Vec<Lease>, StoreError> {
        let lease = lease_micros(lease)?;
        let sql = format!(
            "UPDATE cloudrec_sessions SET lease_until = now() + $2 * interval '1 microsecond' \
             WHERE owner = $1 AND lease_until > now() AND state NOT IN {TERMINAL_SQL} \
             RETURNING id, epoch"
        );
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(lease)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| query("renew", &e))?;
        rows.iter()
            .map(|row| {
                Ok(Lease {
                    id: row.try_get("id")?,
                    epoch: row.try_get("epoch")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| query("renew", &e))
    }

    async fn write(
        &self,
        worker: &str,
        id: Uuid,
        epoch: i64,
        update: &SessionUpdate,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE cloudrec_sessions SET state = $4, snapshot = $5, report = $6, \
                resource_id = COALESCE($7, resource_id), sid = COALESCE($8, sid), \
                updated_at = now() \
             WHERE id = $1 AND epoch = $2 AND owner = $3",
        )
        .bind(id)
        .bind(epoch)
        .bind(worker)
        .bind(&update.state)
        .bind(&update.snapshot)
        .bind(&update.report)
        .bind(&update.resource_id)
        .bind(&update.sid)
        .execute(&self.pool)
        .await
        .map_err(|e| query("write", &e))?;
        if done.rows_affected() > 0 {
            return Ok(());
        }
        let current = sqlx::query("SELECT epoch, owner FROM cloudrec_sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| query("write", &e))?;
        let (current_epoch, current_owner) = match current {
            Some(row) => (
                Some(row.try_get("epoch").map_err(|e| query("write", &e))?),
                row.try_get("owner").map_err(|e| query("write", &e))?,
            ),
            None => (None, None),
        };
        Err(Fenced {
            id,
            worker: worker.to_owned(),
            epoch,
            current_epoch,
            current_owner,
        }
        .into())
    }

    /// Also notifies [`RELEASED_CHANNEL`] in the same transaction, so that the
    /// workers waiting on [`PgStore::listen`] claim at once.
    async fn release(&self, worker: &str) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| query("release", &e))?;
        let sql = format!(
            "UPDATE cloudrec_sessions SET owner = NULL, lease_until = NULL, updated_at = now() \
             WHERE owner = $1 AND state NOT IN {TERMINAL_SQL}"
        );
        let released = sqlx::query(&sql)
            .bind(worker)
            .execute(&mut *tx)
            .await
            .map_err(|e| query("release", &e))?
            .rows_affected();
        if released > 0 {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(RELEASED_CHANNEL)
                .bind(worker)
                .execute(&mut *tx)
                .await
                .map_err(|e| query("release", &e))?;
        }
        tx.commit().await.map_err(|e| query("release", &e))?;
        Ok(released)
    }

    async fn find_by_sid(&self, sid: &str) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM cloudrec_sessions WHERE sid = $1 ORDER BY id DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(sid)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| query("find_by_sid", &e))?;
        row.as_ref()
            .map(session_from_row)
            .transpose()
            .map_err(|e| query("find_by_sid", &e))
    }

    /// The insert and the `pg_notify` on [`COMMANDS_CHANNEL`] are one
    /// transaction: the owner is woken once the command can be read.
    async fn send_command(
        &self,
        session: Uuid,
        kind: CommandKind,
        body: &serde_json::Value,
    ) -> Result<CommandId, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| query("send_command", &e))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO cloudrec_commands (session_id, kind, body) VALUES ($1, $2, $3) \
             RETURNING id",
        )
        .bind(session)
        .bind(kind.as_str())
        .bind(body)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| query("send_command", &e))?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(COMMANDS_CHANNEL)
            .bind(session.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| query("send_command", &e))?;
        tx.commit().await.map_err(|e| query("send_command", &e))?;
        Ok(CommandId(id))
    }

    async fn pending_commands(&self, worker: &str) -> Result<Vec<Command>, StoreError> {
        let sql = format!(
            "SELECT {COMMAND_COLUMNS} FROM cloudrec_commands \
             WHERE state = 'pending' \
               AND session_id IN (SELECT id FROM cloudrec_sessions WHERE owner = $1) \
             ORDER BY id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(i64::from(PENDING_BATCH))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| query("pending_commands", &e))?;
        rows.iter()
            .map(|row| command_from_row(row).map_err(|e| query("pending_commands", &e)))
            .collect()
    }

    async fn finish_command(
        &self,
        id: CommandId,
        ok: bool,
        result: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE cloudrec_commands SET state = $2, result = $3, body = 'null'::jsonb, \
                done_at = now() \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id.0)
        .bind(if ok { "done" } else { "failed" })
        .bind(result)
        .execute(&self.pool)
        .await
        .map_err(|e| query("finish_command", &e))?;
        Ok(())
    }

    async fn command(&self, id: CommandId) -> Result<Option<Command>, StoreError> {
        let sql = format!("SELECT {COMMAND_COLUMNS} FROM cloudrec_commands WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| query("command", &e))?;
        row.as_ref()
            .map(|row| command_from_row(row).map_err(|e| query("command", &e)))
            .transpose()
    }

    async fn get(&self, id: Uuid) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM cloudrec_sessions WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| query("get", &e))?;
        row.as_ref()
            .map(session_from_row)
            .transpose()
            .map_err(|e| query("get", &e))
    }

    async fn list(&self, list: &ListQuery) -> Result<Vec<SessionRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM cloudrec_sessions \
             WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR app_id = $2) \
               AND ($3::uuid IS NULL OR id > $3) \
             ORDER BY id LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(&list.state)
            .bind(&list.app_id)
            .bind(list.after)
            .bind(i64::from(list.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| query("list", &e))?;
        sessions("list", &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_index_lists_the_terminal_states() {
        let mut found = false;
        for (_, _, statements) in MIGRATIONS {
            for statement in *statements {
                if statement.contains("cloudrec_sessions_claim") {
                    assert!(statement.contains(TERMINAL_SQL));
                    found = true;
                }
            }
        }
        assert!(found);
    }
}
