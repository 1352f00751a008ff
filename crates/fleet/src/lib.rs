//! cloudrec-fleet: several cloudrec processes acting as one recorder.
//!
//! This first layer is the PostgreSQL session store, [`PgStore`]: one row per
//! recording session, owned by one worker at a time through a lease measured
//! on the database's clock, and fenced by an epoch that every claim increments.
//!
//! - [`PgStore::claim`] takes unowned or expired sessions with
//!   `FOR UPDATE SKIP LOCKED`, so two workers never get the same session;
//! - [`PgStore::renew`] renews every lease of a worker in one statement;
//! - [`PgStore::write`] succeeds only with the current epoch and owner, and
//!   otherwise answers [`StoreError::Fenced`];
//! - [`PgStore::release`] hands a worker's sessions over and wakes the others
//!   (`NOTIFY`), who wait on [`PgStore::listen`].
//!
//! The second is [`RedisBudget`]: the request budget of an App ID shared by
//! several processes through Redis, so that together they never send more than
//! the App ID's rate in any one-second window.
//!
//! `docs/fleet.md` describes the model and what is not built yet.

mod budget;
mod schema;
mod store;

pub use budget::{BudgetError, BudgetPermit, RedisBudget};
pub use cloudrec_client::store::{Fenced, StoreError};
pub use store::{
    Claimed, Lease, NewSession, PgStore, RELEASED_CHANNEL, Released, ReleasedListener, SessionRow,
    SessionUpdate, TERMINAL_STATES,
};
