//! The journal of live tasks: what a restarted process needs to find the tasks
//! it had started, and stop or resume them.
//!
//! It stores ids only (resource id, sid, mode, cname, uid), never a token, a
//! storage key or a customer secret: stop needs none of them.

#[cfg(feature = "file-journal")]
mod file;

use std::sync::{Mutex, PoisonError};

use cloudrec_types::Sid;

use crate::TaskRef;

#[cfg(feature = "file-journal")]
pub use file::FileJournal;

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// A file operation failed.
    #[error("journal {op} failed on {path}: check that the directory exists and is writable")]
    Io {
        /// What was being done (open, append, sync, compact).
        op: &'static str,
        /// The journal file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A durable record of the tasks a process started and has not stopped.
///
/// The recorder adds a task once start answered with its sid, and removes it
/// once the task is confirmed stopped; a task the session could not confirm
/// stays, so that a later `recover` looks at it again.
pub trait Journal: Send + Sync {
    /// Records that `task` is live.
    fn add(&self, task: &TaskRef) -> Result<(), JournalError>;
    /// Records that the task with `sid` is stopped.
    fn remove(&self, sid: &Sid) -> Result<(), JournalError>;
    /// The tasks recorded as live, oldest first.
    fn live(&self) -> Result<Vec<TaskRef>, JournalError>;
}

/// A journal in memory, for tests and for processes that do not need to survive
/// a crash.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    tasks: Mutex<Vec<TaskRef>>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Journal for MemoryJournal {
    fn add(&self, task: &TaskRef) -> Result<(), JournalError> {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        if !tasks.iter().any(|t| t.sid == task.sid) {
            tasks.push(task.clone());
        }
        Ok(())
    }

    fn remove(&self, sid: &Sid) -> Result<(), JournalError> {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|t| &t.sid != sid);
        Ok(())
    }

    fn live(&self) -> Result<Vec<TaskRef>, JournalError> {
        Ok(self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone())
    }
}
