//! The shared view of one session: its state, its task and, once over, its
//! report; with a change notification.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use cloudrec_types::ResourceId;

use crate::{SessionState, TaskRef};

use super::SessionReport;

#[derive(Debug, Default)]
pub(crate) struct Status {
    pub(crate) state: Option<SessionState>,
    pub(crate) task: Option<TaskRef>,
    pub(crate) resource_id: Option<ResourceId>,
    pub(crate) report: Option<SessionReport>,
    version: u64,
    wakers: Vec<Waker>,
}

impl Status {
    /// How many changes the status has seen.
    pub(crate) fn version(&self) -> u64 {
        self.version
    }
}

/// A session's status, shared by its supervisor, its handle and the registry.
#[derive(Debug, Default)]
pub(crate) struct StatusCell {
    inner: Mutex<Status>,
}

impl StatusCell {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Status> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the status and wakes whoever waits for a change.
    pub(crate) fn update(&self, change: impl FnOnce(&mut Status)) {
        let wakers = {
            let mut status = self.lock();
            change(&mut status);
            status.version += 1;
            std::mem::take(&mut status.wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    pub(crate) fn version(&self) -> u64 {
        self.lock().version
    }

    /// Completes once the version differs from `seen`.
    pub(crate) fn changed(&self, seen: u64) -> Changed<'_> {
        Changed { cell: self, seen }
    }
}

pub(crate) struct Changed<'a> {
    cell: &'a StatusCell,
    seen: u64,
}

impl Future for Changed<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut status = self.cell.lock();
        if status.version != self.seen {
            return Poll::Ready(());
        }
        status.wakers.push(cx.waker().clone());
        Poll::Pending
    }
}
