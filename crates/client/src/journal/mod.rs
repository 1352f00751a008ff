//! The journal of live tasks: what a restarted process needs to find the tasks
//! it had started (or was starting), and stop or resume them.
//!
//! It stores ids and times only (resource id, sid, mode, cname, uid), never a
//! token, a storage key or a customer secret: stop needs none of them.

mod entry;
#[cfg(feature = "file-journal")]
mod file;
mod ledger;
#[cfg(feature = "file-journal")]
mod lock;

use std::sync::{Mutex, PoisonError};

use cloudrec_types::Sid;

use crate::TaskRef;

pub use entry::{Entry, Intent};
#[cfg(feature = "file-journal")]
pub use file::{FileJournal, TornTail};
pub use ledger::{JournalTask, Ledger};

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// A file operation failed.
    #[error(
        "journal {op} failed on {path}: {source}; check that the directory exists, is writable and has free space"
    )]
    Io {
        /// What was being done (open, read, append, sync, repair, compact, lock).
        op: &'static str,
        /// The journal file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line that is not the last one is not a journal entry: the file was
    /// left as it is.
    #[error(
        "journal {path} line {line} is not a journal entry ({detail}); the file was left untouched: repair or remove that line (only a torn last line, left by a crash mid-write, is skipped)"
    )]
    Corrupt {
        /// The journal file.
        path: String,
        /// The line, counted from 1.
        line: usize,
        /// What is wrong with it.
        detail: String,
    },
    /// Another process has the journal open.
    #[error(
        "journal {path} is in use by {holder} (lock file {lock}): let it end first, or give another journal"
    )]
    Locked {
        /// The journal file.
        path: String,
        /// The lock file next to it.
        lock: String,
        /// `process PID`, or `another process` when its pid is not known.
        holder: String,
    },
    /// The path is not a regular file.
    #[error("journal {path} is not a regular file: give the path of a file")]
    NotAFile {
        /// The journal path.
        path: String,
    },
}

/// A durable record of the tasks a process started and has not stopped.
///
/// The recorder writes an [`Entry::Intent`] before it sends start, an
/// [`Entry::Live`] once start answered with the sid, and an [`Entry::Done`] once
/// the task is confirmed stopped; a task the session could not confirm stays, so
/// that a later `recover` looks at it again.
pub trait Journal: Send + Sync {
    /// Makes `entry` durable before returning; an entry that changes nothing
    /// (a task already live, a stop of a task not listed) need not be written.
    fn write(&self, entry: &Entry) -> Result<(), JournalError>;

    /// The tasks and intents the journal holds now.
    fn ledger(&self) -> Result<Ledger, JournalError>;

    /// Records that `task` is live.
    fn add(&self, task: &TaskRef) -> Result<(), JournalError> {
        self.write(&Entry::Live { task: task.clone() })
    }

    /// Records that the task with `sid` is stopped.
    fn remove(&self, sid: &Sid) -> Result<(), JournalError> {
        self.write(&Entry::Done { sid: sid.clone() })
    }

    /// The tasks recorded as live, oldest first.
    fn live(&self) -> Result<Vec<TaskRef>, JournalError> {
        Ok(self
            .ledger()?
            .tasks()
            .iter()
            .map(|t| t.task.clone())
            .collect())
    }
}

/// A journal in memory, for tests and for processes that do not need to survive
/// a crash.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    ledger: Mutex<Ledger>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Journal for MemoryJournal {
    fn write(&self, entry: &Entry) -> Result<(), JournalError> {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .apply(entry);
        Ok(())
    }

    fn ledger(&self) -> Result<Ledger, JournalError> {
        Ok(self
            .ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone())
    }
}
