//! A small unbounded mailbox and a race between a timer and a message, so that
//! the recorder needs no runtime's channels.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

#[derive(Debug)]
struct Shared<T> {
    queue: VecDeque<T>,
    senders: usize,
    receiver_alive: bool,
    waker: Option<Waker>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The sending side; cloneable.
#[derive(Debug)]
pub(crate) struct Sender<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

/// The receiving side.
#[derive(Debug)]
pub(crate) struct Receiver<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

pub(crate) fn mailbox<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(Shared {
        queue: VecDeque::new(),
        senders: 1,
        receiver_alive: true,
        waker: None,
    }));
    (
        Sender {
            shared: Arc::clone(&shared),
        },
        Receiver { shared },
    )
}

impl<T> Sender<T> {
    /// Sends `value`; returns it back when the receiver is gone.
    pub(crate) fn send(&self, value: T) -> Result<(), T> {
        let mut shared = lock(&self.shared);
        if !shared.receiver_alive {
            return Err(value);
        }
        shared.queue.push_back(value);
        let waker = shared.waker.take();
        drop(shared);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        lock(&self.shared).senders += 1;
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut shared = lock(&self.shared);
        shared.senders -= 1;
        let waker = if shared.senders == 0 {
            shared.waker.take()
        } else {
            None
        };
        drop(shared);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut shared = lock(&self.shared);
        shared.receiver_alive = false;
        shared.queue.clear();
    }
}

impl<T> Receiver<T> {
    /// The next message; `None` once every sender is gone and the queue is empty.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut shared = lock(&self.shared);
        if let Some(value) = shared.queue.pop_front() {
            return Poll::Ready(Some(value));
        }
        if shared.senders == 0 {
            return Poll::Ready(None);
        }
        shared.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Waits for the next message.
    pub(crate) fn recv(&self) -> Recv<'_, T> {
        Recv { receiver: self }
    }

    /// The next message if one is queued.
    pub(crate) fn try_recv(&self) -> Option<T> {
        lock(&self.shared).queue.pop_front()
    }
}

/// The future of [`Receiver::recv`].
pub(crate) struct Recv<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.receiver.poll_recv(cx)
    }
}

/// What ended a [`race`].
pub(crate) enum Raced<T> {
    /// The timer fired.
    Timer,
    /// A message arrived (`None`: every sender is gone).
    Message(Option<T>),
}

/// Waits for `timer` or a message on `receiver`, whichever comes first; a
/// queued message wins.
pub(crate) async fn race<T>(
    timer: Pin<Box<dyn Future<Output = ()> + Send + '_>>,
    receiver: &Receiver<T>,
) -> Raced<T> {
    Race { timer, receiver }.await
}

struct Race<'a, T> {
    timer: Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
    receiver: &'a Receiver<T>,
}

impl<T> Future for Race<'_, T> {
    type Output = Raced<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Raced<T>> {
        if let Poll::Ready(message) = self.receiver.poll_recv(cx) {
            return Poll::Ready(Raced::Message(message));
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Raced::Timer),
            Poll::Pending => Poll::Pending,
        }
    }
}
