//! The rows of the session store and what is written into them.

use std::time::SystemTime;

use uuid::Uuid;

/// One recording session as stored.
///
/// No field holds a secret in clear: `request` is the creation request with
/// its storage keys removed, and `sealed_start` is the start `clientRequest`
/// encrypted with the store key (absent when no key is configured).
///
/// Not `#[non_exhaustive]`: the stores, in another crate, build it.
#[derive(Clone, Debug, PartialEq)]
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
    /// What the session reports to its callers (last reason, files, upload
    /// status); opaque to the store.
    pub report: serde_json::Value,
    /// The request that created the session, without secrets.
    pub request: serde_json::Value,
    /// The start `clientRequest`, sealed with the store key; `None` when the
    /// store has no key (a new owner can then query and stop, not start).
    pub sealed_start: Option<Vec<u8>>,
    /// The idempotency key it was created with, if any.
    pub idempotency: Option<Idempotency>,
    /// The worker that owns the session, if any.
    pub owner: Option<String>,
    /// Until when the owner's lease runs, on the store's clock.
    pub lease_until: Option<SystemTime>,
    /// The fencing epoch: incremented by every claim.
    pub epoch: i64,
    /// When the row was created (store clock).
    pub created_at: SystemTime,
    /// When the row was last written (store clock).
    pub updated_at: SystemTime,
}

/// The key a caller gave to make a creation safe to repeat, with a hash of
/// the request it came with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Idempotency {
    /// The caller's key, unique per App ID.
    pub key: String,
    /// A hash of the request body, to tell a repeat from a different request.
    pub request_hash: String,
}

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
    /// The initial state.
    pub state: String,
    /// The initial snapshot.
    pub snapshot: serde_json::Value,
    /// The request, without secrets.
    pub request: serde_json::Value,
    /// The start `clientRequest`, sealed, if the store has a key.
    pub sealed_start: Option<Vec<u8>>,
    /// The idempotency key and request hash, if the caller gave a key.
    pub idempotency: Option<Idempotency>,
}

/// What [`SessionStore::create`](super::SessionStore::create) answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Created {
    /// The session: the new one, or the earlier one with the same key.
    pub row: SessionRow,
    /// `true` when the idempotency key was already used and nothing was stored.
    pub existing: bool,
}

/// What a fenced [`SessionStore::write`](super::SessionStore::write) changes.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionUpdate {
    /// The new state.
    pub state: String,
    /// The new snapshot (replaces the stored one).
    pub snapshot: serde_json::Value,
    /// The new report (replaces the stored one).
    pub report: serde_json::Value,
    /// A resource id to store; `None` keeps the stored one.
    pub resource_id: Option<String>,
    /// A sid to store; `None` keeps the stored one.
    pub sid: Option<String>,
}

/// A lease renewed by [`SessionStore::renew`](super::SessionStore::renew).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The session.
    pub id: Uuid,
    /// Its epoch, unchanged by the renewal.
    pub epoch: i64,
}

/// Which sessions [`SessionStore::list`](super::SessionStore::list) answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// Only sessions in this state.
    pub state: Option<String>,
    /// Only sessions of this App ID.
    pub app_id: Option<String>,
    /// Only sessions created after this one (the last id of the previous page).
    pub after: Option<Uuid>,
    /// At most this many.
    pub limit: u32,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            state: None,
            app_id: None,
            after: None,
            limit: 100,
        }
    }
}
