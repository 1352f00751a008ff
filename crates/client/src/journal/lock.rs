//! The exclusive lock that keeps two processes from using one journal: a lock
//! file next to the journal, locked while the journal is open, holding the pid
//! of its holder.

use std::ffi::OsString;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::JournalError;

/// A held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub(crate) struct JournalLock {
    _file: File,
}

/// The lock file of `journal`: its path with `.lock` appended.
pub(crate) fn lock_path(journal: &Path) -> PathBuf {
    let mut name = OsString::from(journal.as_os_str());
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock of `journal`, or says which process holds it.
pub(crate) fn acquire(journal: &Path) -> Result<JournalLock, JournalError> {
    let path = lock_path(journal);
    let io = |source| JournalError::Io {
        op: "lock",
        path: path.display().to_string(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {
            // Best effort: the pid only improves the message a second process
            // gets; a full disk must not refuse the lock.
            let _ = file.set_len(0);
            let _ = file.write_all(std::process::id().to_string().as_bytes());
            Ok(JournalLock { _file: file })
        }
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = match text.trim().parse::<u32>() {
                Ok(pid) => format!("process {pid}"),
                Err(_) => "another process".to_owned(),
            };
            Err(JournalError::Locked {
                path: journal.display().to_string(),
                lock: path.display().to_string(),
                holder,
            })
        }
        Err(TryLockError::Error(source)) => Err(io(source)),
    }
}
