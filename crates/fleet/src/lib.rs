//! cloudrec-fleet: where sessions outlive the process that supervises them.
//!
//! Both stores implement [`SessionStore`] (the interface lives in
//! cloudrec-client): one row per recording session, owned by one worker at a
//! time through a lease measured on the store's clock, and fenced by an epoch
//! that every claim increments.
//!
//! - [`PgStore`] (feature `postgres`) is shared by the workers of a fleet:
//!   claims use `FOR UPDATE SKIP LOCKED`, so two workers never get the same
//!   session, and [`release`](SessionStore::release) wakes the other workers
//!   (`NOTIFY`), who wait on [`PgStore::listen`];
//! - [`SqliteStore`] (feature `sqlite`) is the single-node store in one file:
//!   the same semantics, with writes serialised by `BEGIN IMMEDIATE`
//!   transactions and no notification;
//! - [`open_store`] picks one from an optional database URL.
//!
//! In both, [`write`](SessionStore::write) succeeds only with the current epoch
//! and owner, and otherwise answers [`StoreError::Fenced`]; a
//! [`create`](SessionStore::create) with an idempotency key already used on
//! its App ID stores nothing and answers the earlier session.
//!
//! [`StoreKey`] seals the start `clientRequest` (ChaCha20-Poly1305, key in
//! `CLOUDREC_STORE_KEY`) before it is stored, so the store never holds it in clear.
//!
//! [`RedisBudget`] is the request budget of an App ID shared by several
//! processes through Redis, so that together they never send more than the
//! App ID's rate in any one-second window.
//!
//! `docs/fleet.md` describes the model and what is not built yet.

mod budget;
mod fleet_gate;
#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "postgres")]
mod schema;
mod seal;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod shared;
mod sole_writer_cache;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::path::Path;
use std::sync::Arc;

pub use budget::{BudgetError, BudgetPermit, RedisBudget};
pub use cloudrec_client::store::{
    Command, CommandId, CommandKind, CommandState, Created, Fenced, Idempotency, Lease, ListQuery,
    MAX_LEASE, NewSession, PENDING_BATCH, SessionRow, SessionStore, SessionUpdate, StoreError,
    TERMINAL_STATES,
};
pub use fleet_gate::FleetGate;
#[cfg(feature = "postgres")]
pub use pg::{
    COMMANDS_CHANNEL, CommandListener, PgStore, RELEASED_CHANNEL, Released, ReleasedListener,
};
pub use seal::{KeyError, STORE_KEY_ENV, SealError, StoreKey};
pub use sole_writer_cache::SoleWriterCache;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The file of the SQLite store in the state directory.
pub const SQLITE_FILE: &str = "sessions.sqlite3";

/// Opens the session store: [`PgStore`] for a `postgres://` or
/// `postgresql://` URL, [`SqliteStore`] in `state_dir/sessions.sqlite3`
/// ([`SQLITE_FILE`]) when there is no URL. Any other URL is refused with
/// [`StoreError::Unsupported`], which names it (password replaced by `***`)
/// and the schemes accepted; so is a backend this build leaves out.
pub async fn open_store(
    database_url: Option<&str>,
    state_dir: &Path,
) -> Result<Arc<dyn SessionStore>, StoreError> {
    match database_url {
        Some(url) => {
            let scheme = url.split_once("://").map(|(scheme, _)| scheme);
            let postgres = scheme.is_some_and(|scheme| {
                scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql")
            });
            if !postgres {
                return Err(StoreError::Unsupported {
                    url: cloudrec_types::redact::url(url),
                    detail: format!(
                        "the accepted schemes are postgres:// and postgresql:// (PostgreSQL); \
                         with no database URL the store is SQLite in {}",
                        state_dir.join(SQLITE_FILE).display()
                    ),
                });
            }
            open_postgres(url).await
        }
        None => open_sqlite(&state_dir.join(SQLITE_FILE)).await,
    }
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> Result<Arc<dyn SessionStore>, StoreError> {
    Ok(Arc::new(PgStore::connect(url).await?))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(url: &str) -> Result<Arc<dyn SessionStore>, StoreError> {
    Err(StoreError::Unsupported {
        url: cloudrec_types::redact::url(url),
        detail: "this build of cloudrec-fleet has no PostgreSQL store (feature `postgres`)"
            .to_owned(),
    })
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(path: &Path) -> Result<Arc<dyn SessionStore>, StoreError> {
    Ok(Arc::new(SqliteStore::open(path).await?))
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(path: &Path) -> Result<Arc<dyn SessionStore>, StoreError> {
    Err(StoreError::Unsupported {
        url: path.display().to_string(),
        detail: "this build of cloudrec-fleet has no SQLite store (feature `sqlite`); \
                 give a postgres:// database URL"
            .to_owned(),
    })
}
