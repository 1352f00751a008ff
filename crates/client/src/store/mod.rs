//! Where sessions live when they must outlive the process that supervises them:
//! the [`SessionStore`] interface, beside the [`Journal`](crate::Journal).
//!
//! A journal belongs to one process; a store is shared by every worker of a
//! fleet (PostgreSQL) or kept in one file by a single node (SQLite). Both
//! implementations are in `cloudrec-fleet`. Each session has one owner at a
//! time, through a lease measured on the store's clock, and an epoch that
//! every claim increments: a write that carries an old epoch is refused
//! ([`Fenced`]), so a worker that lost a session can never act on it.

mod command;
mod error;
mod row;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

pub use command::{Command, CommandId, CommandKind, CommandState};
pub use error::{Fenced, StoreError};
pub use row::{Created, Idempotency, Lease, ListQuery, NewSession, SessionRow, SessionUpdate};

/// The states in which a session has ended: it is never claimed or renewed
/// again. They are the wire names of cloudrec-core's terminal `SessionState`s.
pub const TERMINAL_STATES: [&str; 4] = ["stopped", "stopped_no_data", "failed", "lost"];

/// The longest lease a store accepts.
pub const MAX_LEASE: Duration = Duration::from_secs(365 * 24 * 3600);

/// A shared, durable table of recording sessions with leases and fencing.
///
/// Every method is one transaction. Leases are measured on the store's own
/// clock, never compared across workers' clocks.
#[async_trait]
pub trait SessionStore: Send + Sync + fmt::Debug {
    /// Answers when the store can be reached (for readiness checks).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a new session owned by `worker` with a lease of `lease` and
    /// epoch 1. If `new` carries an idempotency key already used on its App ID,
    /// nothing is stored and the answer is the earlier session
    /// ([`Created::existing`] is `true`), for the caller to compare hashes.
    async fn create(
        &self,
        worker: &str,
        lease: Duration,
        new: &NewSession,
    ) -> Result<Created, StoreError>;

    /// Takes up to `limit` sessions that have not ended and have no owner or
    /// an expired lease, never giving one session to two workers. Each gets
    /// `worker` as owner, a lease of `lease` and its epoch incremented.
    async fn claim(
        &self,
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<SessionRow>, StoreError>;

    /// Renews, in one statement, every lease `worker` still holds. A session
    /// the worker thought it owned and that is missing from the answer was
    /// taken over or ended: the worker must drop it at once.
    async fn renew(&self, worker: &str, lease: Duration) -> Result<Vec<Lease>, StoreError>;

    /// Writes session `id` if `worker` owns it at `epoch`; otherwise writes
    /// nothing and answers [`StoreError::Fenced`].
    async fn write(
        &self,
        worker: &str,
        id: Uuid,
        epoch: i64,
        update: &SessionUpdate,
    ) -> Result<(), StoreError>;

    /// Hands over the sessions of `worker` that have not ended (owner and
    /// lease cleared, epoch kept) and wakes the other workers. Answers how
    /// many were released.
    async fn release(&self, worker: &str) -> Result<u64, StoreError>;

    /// The session `id`, if it exists.
    async fn get(&self, id: Uuid) -> Result<Option<SessionRow>, StoreError>;

    /// One page of sessions in creation order, as `query` selects.
    async fn list(&self, query: &ListQuery) -> Result<Vec<SessionRow>, StoreError>;

    /// How many workers hold an unexpired lease on a session that has not
    /// ended: the members of the fleet that supervise something (a worker
    /// with no session is not counted).
    async fn live_workers(&self) -> Result<u64, StoreError>;

    /// The session whose task has `sid` (the latest created, should a sid be
    /// stored twice), if any: for a notification about a task to find its
    /// recording.
    async fn find_by_sid(&self, sid: &str) -> Result<Option<SessionRow>, StoreError>;

    /// Leaves a command for the owner of `session`, whoever it is now or
    /// will be: stored `pending` with `body` (the `clientRequest`, or `null`),
    /// and, on PostgreSQL, announced in the same transaction on the
    /// `cloudrec_commands` channel with the session id as payload. Answers
    /// the command's id, for [`command`](Self::command). The session need
    /// not exist any more; nothing checks it.
    async fn send_command(
        &self,
        session: Uuid,
        kind: CommandKind,
        body: &serde_json::Value,
    ) -> Result<CommandId, StoreError>;

    /// The pending commands of the sessions `worker` owns (whatever their
    /// state), in id order, so in the order they were sent for each session;
    /// at most [`PENDING_BATCH`] (the rest come next time, in order).
    async fn pending_commands(&self, worker: &str) -> Result<Vec<Command>, StoreError>;

    /// Marks command `id` applied: `done` when `ok`, else `failed`, with
    /// `result` (why it failed, or `None`), its body cleared and the time
    /// noted. A command already finished is left as it is.
    async fn finish_command(
        &self,
        id: CommandId,
        ok: bool,
        result: Option<&str>,
    ) -> Result<(), StoreError>;

    /// The command `id`, if it exists: for the worker that sent it to learn
    /// its outcome.
    async fn command(&self, id: CommandId) -> Result<Option<Command>, StoreError>;
}

/// The most commands [`SessionStore::pending_commands`] answers at once.
pub const PENDING_BATCH: u32 = 1000;
