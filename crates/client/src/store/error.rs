//! Why a session store operation failed, and the refusal of a write that is not the writer's.

use uuid::Uuid;

/// Why a store operation failed. No message contains the database password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be reached or refused the connection.
    #[error(
        "cannot connect to the session store at {url}: {detail}; check that the database runs there and accepts this user"
    )]
    Connect {
        /// Where the store is (a database URL with its password replaced by `***`, or a file path).
        url: String,
        /// The cause, its password replaced by `***`.
        detail: String,
    },
    /// A store URL of a kind no store accepts (or that this build leaves out).
    #[error("no session store for {url}: {detail}")]
    Unsupported {
        /// The URL, its password replaced by `***`.
        url: String,
        /// What is accepted instead.
        detail: String,
    },
    /// Creating or upgrading the tables failed.
    #[error("migrating the session store at {url} failed at step {step}: {detail}")]
    Migrate {
        /// Where the store is (a database URL with its password replaced by `***`, or a file path).
        url: String,
        /// The migration step that failed.
        step: &'static str,
        /// The cause, its password replaced by `***`.
        detail: String,
    },
    /// A statement failed.
    #[error("session store {op} failed: {detail}")]
    Query {
        /// The operation (create, claim, renew, write, release, get, list, listen).
        op: &'static str,
        /// The cause, its password replaced by `***`.
        detail: String,
    },
    /// A lease that is zero or longer than a year.
    #[error("a lease must be more than 0 and at most 365 days, not {0:?}")]
    BadLease(std::time::Duration),
    /// A write carried an epoch or an owner that is no longer current.
    #[error(transparent)]
    Fenced(#[from] Fenced),
}

/// A write refused because the session is not the writer's any more: another
/// worker claimed it (a higher epoch), or it was released or removed. The
/// writer must stop acting on that session without calling the service.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not yours: session {id} {}", self.describe())]
pub struct Fenced {
    /// The session.
    pub id: Uuid,
    /// The worker that tried to write.
    pub worker: String,
    /// The epoch the write carried.
    pub epoch: i64,
    /// The session's epoch after the refused write; `None` if it no longer exists.
    pub current_epoch: Option<i64>,
    /// The session's owner after the refused write, if any.
    pub current_owner: Option<String>,
}

impl Fenced {
    fn describe(&self) -> String {
        let Some(current) = self.current_epoch else {
            return "does not exist any more".to_owned();
        };
        let owner = match &self.current_owner {
            Some(owner) if *owner == self.worker => format!("still owned by {owner}"),
            Some(owner) => format!("owned by another worker, {owner}"),
            None => "owned by no worker".to_owned(),
        };
        format!(
            "is at epoch {current} and {owner}; worker {} wrote with epoch {}",
            self.worker, self.epoch
        )
    }
}
