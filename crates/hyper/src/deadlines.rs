//! [`Deadlines`]: the request timeouts of one transport, watched by one thread
//! instead of a runtime timer per request.
//!
//! A tokio timer registered while the workers are busy makes the runtime write
//! to its wakeup descriptor and take its global timer lock: measured on the
//! query path, about one extra `write` per 11 requests and up to 4–5 % more CPU time
//! than with no timer at all (`docs/benchmarks.md`). Here a request waits in a
//! shard of its own thread, so starting, polling and ending it take a lock that
//! no other thread holds; the watchdog thread sleeps until the earliest
//! deadline, and requests wake it only when they carry an earlier one.

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// How many shards the waiting requests are spread over, by thread.
const SHARDS: usize = 8;

/// `next_look` while the watchdog has nothing to wait for, or is looking.
const NOTHING: u64 = u64::MAX;

/// The deadlines of the requests in flight, and the thread that enforces them.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    shared: Arc<Shared>,
    /// Whether the watchdog thread runs: set on first use; `false` if it
    /// could not be started, and tokio's timer is used instead.
    watching: OnceLock<bool>,
}

/// The part the watchdog thread shares.
#[derive(Debug)]
struct Shared {
    shards: [Shard; SHARDS],
    /// When the watchdog will next look, in nanoseconds after `epoch`:
    /// a request with an earlier deadline wakes it.
    next_look: AtomicU64,
    epoch: Instant,
    watch: Mutex<Watch>,
    /// Wakes the watchdog while it sleeps.
    wake: Condvar,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            shards: Default::default(),
            next_look: AtomicU64::new(NOTHING),
            epoch: Instant::now(),
            watch: Mutex::default(),
            wake: Condvar::new(),
        }
    }
}

/// What the watchdog and the requests that wake it share.
#[derive(Debug, Default)]
struct Watch {
    /// A request came with an earlier deadline since the watchdog last looked.
    poked: bool,
    sleeping: bool,
    closed: bool,
}

/// The requests of some threads, on a cache line of their own.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard(Mutex<Slots>);

#[derive(Debug, Default)]
struct Slots {
    slots: Vec<Slot>,
    free: Vec<usize>,
}

#[derive(Debug)]
enum Slot {
    Free,
    Waiting { deadline: Instant, waker: Waker },
    Expired,
}

/// A future that did not finish before its deadline.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Elapsed;

impl Deadlines {
    /// Runs `future` until it finishes or `limit` has passed.
    pub(crate) async fn within<F: Future>(
        &self,
        limit: Duration,
        future: F,
    ) -> Result<F::Output, Elapsed> {
        if !self.watching() {
            return tokio::time::timeout(limit, future)
                .await
                .map_err(|_| Elapsed);
        }
        let Some(deadline) = Instant::now().checked_add(limit) else {
            return Ok(future.await);
        };
        let mut future = pin!(future);
        let mut entry: Option<Entry<'_>> = None;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(Ok(output));
            }
            let expired = match &entry {
                Some(entry) => entry.expired(cx),
                None => {
                    entry = Some(self.register(deadline, cx.waker()));
                    false
                }
            };
            if expired {
                Poll::Ready(Err(Elapsed))
            } else {
                Poll::Pending
            }
        })
        .await
    }

    /// How many requests wait for their deadline now.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        let shards = self.shared.shards.iter().map(|shard| shard.lock());
        shards
            .map(|slots| {
                let waiting = |slot: &&Slot| matches!(slot, Slot::Waiting { .. });
                slots.slots.iter().filter(waiting).count()
            })
            .sum()
    }

    fn watching(&self) -> bool {
        *self.watching.get_or_init(|| {
            let shared = Arc::clone(&self.shared);
            std::thread::Builder::new()
                .name("cloudrec-deadlines".into())
                .spawn(move || shared.watch())
                .is_ok()
        })
    }

    fn register(&self, deadline: Instant, waker: &Waker) -> Entry<'_> {
        let shard = this_threads_shard();
        let mut slots = self.shared.shards[shard].lock();
        let slot = Slot::Waiting {
            deadline,
            waker: waker.clone(),
        };
        let index = match slots.free.pop() {
            Some(index) => {
                slots.slots[index] = slot;
                index
            }
            None => {
                slots.slots.push(slot);
                slots.slots.len() - 1
            }
        };
        drop(slots);
        if self.shared.nanos(deadline) < self.shared.next_look.load(Ordering::SeqCst) {
            self.shared.poke();
        }
        Entry {
            shared: &self.shared,
            shard,
            index,
        }
    }
}

impl Drop for Deadlines {
    fn drop(&mut self) {
        let mut watch = self.shared.lock_watch();
        watch.closed = true;
        drop(watch);
        self.shared.wake.notify_one();
    }
}

/// The shard of the calling thread: threads take the shards in turn.
fn this_threads_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: Cell<Option<usize>> = const { Cell::new(None) };
    }
    SHARD.with(|shard| {
        *shard.get().get_or_insert_with(|| {
            let taken = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
            shard.set(Some(taken));
            taken
        })
    })
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Shared {
    fn lock_watch(&self) -> MutexGuard<'_, Watch> {
        self.watch.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `at` in nanoseconds after the epoch, saturating.
    fn nanos(&self, at: Instant) -> u64 {
        let nanos = at.saturating_duration_since(self.epoch).as_nanos();
        u64::try_from(nanos).unwrap_or(NOTHING - 1)
    }

    /// Tells the watchdog to look again: a request carries an earlier deadline
    /// than the one it sleeps until.
    fn poke(&self) {
        let mut watch = self.lock_watch();
        watch.poked = true;
        let sleeping = watch.sleeping;
        drop(watch);
        if sleeping {
            self.wake.notify_one();
        }
    }

    /// The watchdog: marks the slots whose deadline passed and wakes their
    /// requests, then sleeps until the next deadline, or until poked.
    ///
    /// While it looks, `next_look` is [`NOTHING`], so that a request that
    /// registers in a shard it has already looked at pokes it, and it looks
    /// again before it sleeps.
    fn watch(&self) {
        loop {
            let mut watch = self.lock_watch();
            if watch.closed {
                return;
            }
            watch.poked = false;
            drop(watch);
            self.next_look.store(NOTHING, Ordering::SeqCst);
            let now = Instant::now();
            let mut due = Vec::new();
            let mut next: Option<Instant> = None;
            for shard in &self.shards {
                for slot in &mut shard.lock().slots {
                    match slot {
                        Slot::Waiting { deadline, .. } if *deadline <= now => {
                            if let Slot::Waiting { waker, .. } =
                                std::mem::replace(slot, Slot::Expired)
                            {
                                due.push(waker);
                            }
                        }
                        Slot::Waiting { deadline, .. } => {
                            next = Some(next.map_or(*deadline, |next| next.min(*deadline)));
                        }
                        Slot::Free | Slot::Expired => {}
                    }
                }
            }
            for waker in due {
                // A waker that panics must not stop the deadlines of the others.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
            }
            let next_look = next.map_or(NOTHING, |next| self.nanos(next));
            self.next_look.store(next_look, Ordering::SeqCst);
            let mut watch = self.lock_watch();
            if watch.poked {
                continue;
            }
            if watch.closed {
                return;
            }
            watch.sleeping = true;
            watch = match next {
                Some(next) => {
                    let wait = next.saturating_duration_since(Instant::now());
                    self.wake
                        .wait_timeout(watch, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .wake
                    .wait(watch)
                    .unwrap_or_else(PoisonError::into_inner),
            };
            watch.sleeping = false;
        }
    }
}

/// A request's slot, freed when the request ends either way.
struct Entry<'a> {
    shared: &'a Shared,
    shard: usize,
    index: usize,
}

impl Entry<'_> {
    /// Whether the deadline passed; if not, the watchdog will wake `cx`'s waker.
    fn expired(&self, cx: &Context<'_>) -> bool {
        let mut slots = self.shared.shards[self.shard].lock();
        match slots.slots.get_mut(self.index) {
            Some(Slot::Waiting { waker, .. }) => {
                if !waker.will_wake(cx.waker()) {
                    waker.clone_from(cx.waker());
                }
                false
            }
            Some(Slot::Expired) => true,
            Some(Slot::Free) | None => false,
        }
    }
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        let mut slots = self.shared.shards[self.shard].lock();
        if let Some(slot) = slots.slots.get_mut(self.index) {
            *slot = Slot::Free;
            slots.free.push(self.index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_future_that_finishes_in_time_gives_its_output() {
        let deadlines = Deadlines::default();
        let quick = async {
            tokio::task::yield_now().await;
            7
        };
        assert_eq!(
            deadlines.within(Duration::from_secs(60), quick).await,
            Ok(7)
        );
        assert_eq!(deadlines.waiting(), 0);
    }

    #[tokio::test]
    async fn a_future_that_never_finishes_elapses_and_frees_its_slot() {
        let deadlines = Deadlines::default();
        let started = Instant::now();
        let never = std::future::pending::<()>();
        assert_eq!(
            deadlines.within(Duration::from_millis(50), never).await,
            Err(Elapsed)
        );
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(deadlines.waiting(), 0);
    }

    #[tokio::test]
    async fn each_request_keeps_its_own_deadline() {
        let deadlines = Deadlines::default();
        let (sender, receiver) = tokio::sync::oneshot::channel::<u8>();
        let long = deadlines.within(Duration::from_secs(60), receiver);
        let short = deadlines.within(Duration::from_millis(30), std::future::pending::<()>());
        let (long, short) = tokio::join!(long, async {
            let result = short.await;
            let _ = sender.send(3);
            result
        });
        assert_eq!(short, Err(Elapsed));
        assert_eq!(long, Ok(Ok(3)));
    }

    #[tokio::test]
    async fn a_dropped_request_frees_its_slot_for_the_next() {
        let deadlines = Deadlines::default();
        {
            let mut waiting =
                pin!(deadlines.within(Duration::from_secs(60), std::future::pending::<()>()));
            let waker = Waker::noop();
            assert!(
                waiting
                    .as_mut()
                    .poll(&mut Context::from_waker(waker))
                    .is_pending()
            );
            assert_eq!(deadlines.waiting(), 1);
        }
        assert_eq!(deadlines.waiting(), 0);
        let ready = deadlines.within(Duration::from_secs(60), async { 1 }).await;
        assert_eq!(ready, Ok(1));
        assert_eq!(
            deadlines.shared.shards[this_threads_shard()]
                .lock()
                .slots
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn a_waker_that_panics_does_not_stop_the_watchdog() {
        struct Panics;
        impl std::task::Wake for Panics {
            fn wake(self: Arc<Self>) {
                panic!("a waker that panics");
            }
        }
        let deadlines = Deadlines::default();
        let waker = Waker::from(Arc::new(Panics));
        {
            let mut doomed =
                pin!(deadlines.within(Duration::from_millis(1), std::future::pending::<()>()));
            let mut cx = Context::from_waker(&waker);
            assert!(doomed.as_mut().poll(&mut cx).is_pending());
            while deadlines.waiting() > 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert!(doomed.as_mut().poll(&mut cx).is_ready());
        }
        let never = deadlines.within(Duration::from_millis(20), std::future::pending::<()>());
        let guard = tokio::time::timeout(Duration::from_secs(30), never).await;
        assert_eq!(guard, Ok(Err(Elapsed)), "the watchdog died with the waker");
    }

    #[test]
    fn the_watchdog_stops_with_the_transport() {
        let deadlines = Deadlines::default();
        assert!(deadlines.watching());
        let shared = Arc::downgrade(&deadlines.shared);
        drop(deadlines);
        let gone = Instant::now();
        while shared.upgrade().is_some() {
            assert!(
                gone.elapsed() < Duration::from_secs(30),
                "the watchdog kept running"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
