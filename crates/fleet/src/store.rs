//! The PostgreSQL session store.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Executor, PgConnection, Row};
use uuid::Uuid;

use crate::schema::{MIGRATION_LOCK, MIGRATIONS, VERSIONS_TABLE};
use cloudrec_client::store::{Fenced, StoreError};
use cloudrec_types::redact::{text as redact_text, url as redact_url};

/// The states in which a session has ended: it is never claimed or renewed
/// again. They are the wire names of cloudrec-core's terminal `SessionState`s.
pub const TERMINAL_STATES: [&str; 4] = ["stopped", "stopped_no_data", "failed", "lost"];

/// The same list, as SQL (and in the claim index of the schema).
const TERMINAL_SQL: &str = "('stopped', 'stopped_no_data', 'failed', 'lost')";

/// The channel [`PgStore::release`] notifies, with the releasing worker as payload.
pub const RELEASED_CHANNEL: &str = "cloudrec_sessions_released";

/// The longest lease accepted.
const MAX_LEASE: Duration = Duration::from_secs(365 * 24 * 3600);

/// The columns of a [`SessionRow`], times as microseconds since the Unix epoch.
const COLUMNS: &str = "id, app_id, mode, cname, uid, resource_id, sid, state, snapshot, owner, \
    epoch, (extract(epoch FROM lease_until) * 1000000)::bigint AS lease_until_us, \
    (extract(epoch FROM created_at) * 1000000)::bigint AS created_us, \
    (extract(epoch FROM updated_at) * 1000000)::bigint AS updated_us";

/// One recording session as stored.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SessionRow {
    /// The session's id (UUID v7: ordered by creation time).
    pub id: Uuid,
    /// The App ID it records on.
    pub app_id: String,
    /// The recording mode (`individual`, `mix`, `web`).
    pub mode: String,
    /// The channel name.
    pub cname: String,
    /// The recording uid.
    pub uid: String,
    /// The resource id, once acquired.
    pub resource_id: Option<String>,
    /// The sid, once started.
    pub sid: Option<String>,
    /// The state (a wire name of cloudrec-core's `SessionState`).
    pub state: String,
    /// What a new owner needs to continue; opaque to the store.
    pub snapshot: serde_json::Value,
    /// The worker that owns the session, if any.
    pub owner: Option<String>,
    /// Until when the owner's lease runs, on the database's clock.
    pub lease_until: Option<SystemTime>,
    /// The fencing epoch: incremented by every claim.
    pub epoch: i64,
    /// When the row was created (database clock).
    pub created_at: SystemTime,
    /// When the row was last written (database clock).
    pub updated_at: SystemTime,
}

/// A session taken by [`PgStore::claim`], with its new owner and epoch.
pub type Claimed = SessionRow;

/// The fields of a session to create.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSession {
    /// The App ID it records on.
    pub app_id: String,
    /// The recording mode.
    pub mode: String,
    /// The channel name.
    pub cname: String,
    /// The recording uid.
    pub uid: String,
    /// The resource id, if already acquired.
    pub resource_id: Option<String>,
    /// The sid, if already started.
    pub sid: Option<String>,
    /// The initial state.
    pub state: String,
    /// The initial snapshot.
    pub snapshot: serde_json::Value,
}

/// What a fenced [`PgStore::write`] changes.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionUpdate {
    /// The new state.
    pub state: String,
    /// The new snapshot (replaces the stored one).
    pub snapshot: serde_json::Value,
    /// A resource id to store; `None` keeps the stored one.
    pub resource_id: Option<String>,
    /// A sid to store; `None` keeps the stored one.
    pub sid: Option<String>,
}

/// A lease renewed by [`PgStore::renew`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The session.
    pub id: Uuid,
    /// Its epoch, unchanged by the renewal.
    pub epoch: i64,
}

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

fn query(op: &'static str, error: &sqlx::Error) -> StoreError {
    StoreError::Query {
        op,
        detail: error.to_string(),
    }
}

fn lease_micros(lease: Duration) -> Result<i64, StoreError> {
    if lease.is_zero() || lease > MAX_LEASE {
        return Err(StoreError::BadLease(lease));
    }
    i64::try_from(lease.as_micros()).map_err(|_| StoreError::BadLease(lease))
}

fn time_from_micros(micros: i64) -> SystemTime {
    let magnitude = Duration::from_micros(micros.unsigned_abs());
    if micros >= 0 {
        UNIX_EPOCH.checked_add(magnitude).unwrap_or(UNIX_EPOCH)
    } else {
        UNIX_EPOCH.checked_sub(magnitude).unwrap_or(UNIX_EPOCH)
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
        owner: row.try_get("owner")?,
        epoch: row.try_get("epoch")?,
        lease_until: row
            .try_get::<Option<i64>, _>("lease_until_us")?
            .map(time_from_micros),
        created_at: time_from_micros(row.try_get("created_us")?),
        updated_at: time_from_micros(row.try_get("updated_us")?),
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

    /// Stores a new session owned by `worker`, with a lease of `lease` from
    /// the database's `now()` and epoch 1.
    pub async fn create(
        &self,
        worker: &str,
        lease: Duration,
        new: &NewSession,
    ) -> Result<SessionRow, StoreError> {
        let lease = lease_micros(lease)?;
        let sql = format!(
            "INSERT INTO cloudrec_sessions \
             (id, app_id, mode, cname, uid, resource_id, sid, state, snapshot, owner, lease_until, epoch) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + $11 * interval '1 microsecond', 1) \
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(Uuid::now_v7())
            .bind(&new.app_id)
            .bind(&new.mode)
            .bind(&new.cname)
            .bind(&new.uid)
            .bind(&new.resource_id)
            .bind(&new.sid)
            .bind(&new.state)
            .bind(&new.snapshot)
            .bind(worker)
            .bind(lease)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| query("create", &e))?;
        session_from_row(&row).map_err(|e| query("create", &e))
    }

    /// Takes up to `limit` sessions that have not ended and have no owner or
    /// an expired lease (on the database's clock), skipping rows another
    /// worker is claiming at the same moment (`FOR UPDATE SKIP LOCKED`), so
    /// that no session is given to two workers. Each gets `worker` as owner,
    /// a lease of `lease` from `now()` and its epoch incremented.
    pub async fn claim(
        &self,
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Claimed>, StoreError> {
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

    /// Renews, in one statement, every lease `worker` still holds (it owns the
    /// session, the lease has not expired, the session has not ended) to
    /// `lease` from the database's `now()`. A session the worker thought it
    /// owned and that is missing from the answer was taken over or ended: the
    /// worker must drop it at once.
    pub async fn renew(&self, worker: &str, lease: Duration) -> Result<Vec<Lease>, StoreError> {
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

    /// Writes the state and snapshot of session `id`, if `worker` owns it at
    /// `epoch`. Otherwise nothing is written and the answer is
    /// [`StoreError::Fenced`], saying who owns it now at which epoch.
    pub async fn write(
        &self,
        worker: &str,
        id: Uuid,
        epoch: i64,
        update: &SessionUpdate,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE cloudrec_sessions SET state = $4, snapshot = $5, \
                resource_id = COALESCE($6, resource_id), sid = COALESCE($7, sid), \
                updated_at = now() \
             WHERE id = $1 AND epoch = $2 AND owner = $3",
        )
        .bind(id)
        .bind(epoch)
        .bind(worker)
        .bind(&update.state)
        .bind(&update.snapshot)
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

    /// Hands over the sessions of `worker` that have not ended: clears their
    /// owner and lease (their epoch stays; the next claim increments it), then
    /// notifies [`RELEASED_CHANNEL`] in the same transaction so that the other
    /// workers claim them at once. Answers how many were released.
    pub async fn release(&self, worker: &str) -> Result<u64, StoreError> {
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

    /// The session `id`, if it exists.
    pub async fn get(&self, id: Uuid) -> Result<Option<SessionRow>, StoreError> {
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

    /// Up to `limit` sessions in creation order, only those in `state` if
    /// given, starting after the session id `after` (the last id of the
    /// previous page).
    pub async fn list(
        &self,
        state: Option<&str>,
        limit: u32,
        after: Option<Uuid>,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM cloudrec_sessions \
             WHERE ($1::text IS NULL OR state = $1) AND ($2::uuid IS NULL OR id > $2) \
             ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(state)
            .bind(after)
            .bind(i64::from(limit))
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
    fn terminal_sql_lists_the_terminal_states() {
        let listed = format!("('{}')", TERMINAL_STATES.join("', '"));
        assert_eq!(listed, TERMINAL_SQL);
        for (_, _, statements) in MIGRATIONS {
            for statement in *statements {
                if statement.contains("cloudrec_sessions_claim") {
                    assert!(statement.contains(TERMINAL_SQL));
                }
            }
        }
    }

    #[test]
    fn leases_out_of_range_are_refused() {
        assert!(matches!(
            lease_micros(Duration::ZERO),
            Err(StoreError::BadLease(_))
        ));
        assert!(lease_micros(MAX_LEASE + Duration::from_secs(1)).is_err());
        assert_eq!(
            lease_micros(Duration::from_millis(1500)).ok(),
            Some(1_500_000)
        );
    }

    #[test]
    fn times_convert_from_micros() {
        assert_eq!(
            time_from_micros(1_000_000),
            UNIX_EPOCH + Duration::from_secs(1)
        );
        assert_eq!(
            time_from_micros(-1_000_000),
            UNIX_EPOCH - Duration::from_secs(1)
        );
    }
}
