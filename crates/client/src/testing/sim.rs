//! A deterministic single-threaded executor with a simulated clock: time moves
//! only when every task waits for it, straight to the next deadline.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::{Clock, Spawn, Timestamp};

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
struct ClockState {
    now: Duration,
    seq: u64,
    sleepers: BTreeMap<(Duration, u64), Option<Waker>>,
}

/// A [`Clock`] on simulated time. `sleep` completes when the time reaches its
/// deadline; the time moves only through [`SimClock::advance`] (which a [`Sim`]
/// calls whenever all its tasks wait), so minutes of behaviour run in
/// microseconds and every run is the same.
#[derive(Clone, Debug)]
pub struct SimClock {
    state: Arc<Mutex<ClockState>>,
}

impl Default for SimClock {
    fn default() -> Self {
        Self::new()
    }
}

impl SimClock {
    /// A clock at its origin, with the wall clock at the Unix epoch plus the time.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(ClockState {
                now: Duration::ZERO,
                seq: 0,
                sleepers: BTreeMap::new(),
            })),
        }
    }

    /// The simulated time since the origin.
    pub fn elapsed(&self) -> Duration {
        lock(&self.state).now
    }

    /// How many sleeps are waiting.
    pub fn sleepers(&self) -> usize {
        lock(&self.state).sleepers.len()
    }

    /// Moves the time to the earliest pending deadline and wakes every sleep due
    /// by then. Returns `false` when no sleep is pending.
    pub fn advance(&self) -> bool {
        let mut state = lock(&self.state);
        let Some((&(deadline, _), _)) = state.sleepers.iter().next() else {
            return false;
        };
        state.now = state.now.max(deadline);
        let now = state.now;
        let due: Vec<(Duration, u64)> = state
            .sleepers
            .range(..=(now, u64::MAX))
            .map(|(key, _)| *key)
            .collect();
        let mut wakers = Vec::with_capacity(due.len());
        for key in due {
            if let Some(Some(waker)) = state.sleepers.remove(&key) {
                wakers.push(waker);
            }
        }
        drop(state);
        wakers.into_iter().for_each(Waker::wake);
        true
    }

    /// Moves the time forward by `by` and wakes every sleep due by then.
    pub fn advance_by(&self, by: Duration) {
        let target = self.elapsed().saturating_add(by);
        loop {
            let next = lock(&self.state).sleepers.keys().next().map(|key| key.0);
            match next {
                Some(deadline) if deadline <= target => {
                    self.advance();
                }
                _ => break,
            }
        }
        let mut state = lock(&self.state);
        state.now = state.now.max(target);
    }
}

/// A sleep until `deadline` on a [`SimClock`]; dropping it cancels it.
struct SleepUntil {
    clock: SimClock,
    deadline: Duration,
    key: Option<(Duration, u64)>,
}

impl Future for SleepUntil {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.clock.state);
        if state.now >= self.deadline {
            if let Some(key) = self.key {
                state.sleepers.remove(&key);
            }
            drop(state);
            self.key = None;
            return Poll::Ready(());
        }
        let key = match self.key {
            Some(key) => key,
            None => {
                state.seq += 1;
                (self.deadline, state.seq)
            }
        };
        state.sleepers.insert(key, Some(cx.waker().clone()));
        drop(state);
        self.key = Some(key);
        Poll::Pending
    }
}

impl Drop for SleepUntil {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            lock(&self.clock.state).sleepers.remove(&key);
        }
    }
}

#[async_trait]
impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_origin(self.elapsed())
    }

    fn wall(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + self.elapsed()
    }

    async fn sleep(&self, duration: Duration) {
        let deadline = self.elapsed().saturating_add(duration);
        SleepUntil {
            clock: self.clone(),
            deadline,
            key: None,
        }
        .await;
    }
}

#[derive(Default)]
struct Queue {
    ready: VecDeque<usize>,
    queued: HashSet<usize>,
    spawned: Vec<Task>,
}

struct TaskWaker {
    id: usize,
    queue: Arc<Mutex<Queue>>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut queue = lock(&self.queue);
        if queue.queued.insert(self.id) {
            queue.ready.push_back(self.id);
        }
    }
}

/// A deterministic executor over a [`SimClock`]: it polls ready tasks in the
/// order they were woken, and when none is ready it advances the clock to the
/// next deadline. It implements [`Spawn`], so a
/// [`Recorder`](crate::Recorder) can run on it.
#[derive(Clone)]
pub struct Sim {
    clock: SimClock,
    queue: Arc<Mutex<Queue>>,
    tasks: Arc<Mutex<Vec<Option<Task>>>>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("elapsed", &self.clock.elapsed())
            .field("live_tasks", &self.live_tasks())
            .finish()
    }
}

impl Default for Sim {
    fn default() -> Self {
        Self::new()
    }
}

impl Sim {
    /// An executor with a fresh clock.
    pub fn new() -> Self {
        Self::with_clock(SimClock::new())
    }

    /// An executor on an existing clock: a second "process" that shares the
    /// simulated time (and the fake service) of a first one.
    pub fn with_clock(clock: SimClock) -> Self {
        Self {
            clock,
            queue: Arc::default(),
            tasks: Arc::default(),
        }
    }

    /// The executor's clock.
    pub fn clock(&self) -> SimClock {
        self.clock.clone()
    }

    /// How many spawned tasks have not completed.
    pub fn live_tasks(&self) -> usize {
        let pending = lock(&self.queue).spawned.len();
        pending + lock(&self.tasks).iter().filter(|t| t.is_some()).count()
    }

    /// Runs `future` and every spawned task until `future` completes; `None` if
    /// it can never complete (no task is ready and no sleep is pending).
    pub fn run<T, F>(&self, future: F) -> Option<T>
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let out: Arc<Mutex<Option<T>>> = Arc::default();
        let slot = Arc::clone(&out);
        self.spawn(Box::pin(async move {
            let value = future.await;
            *lock(&slot) = Some(value);
        }));
        loop {
            if let Some(value) = lock(&out).take() {
                return Some(value);
            }
            if !self.step() && !self.clock.advance() {
                return lock(&out).take();
            }
        }
    }

    /// Runs every task until none is ready and no sleep is pending, or until the
    /// clock passes `limit`.
    pub fn run_until_idle(&self, limit: Duration) {
        loop {
            if self.step() {
                continue;
            }
            if self.clock.elapsed() >= limit || !self.clock.advance() {
                return;
            }
        }
    }

    /// Polls one ready task; `false` when none is ready.
    fn step(&self) -> bool {
        let next = {
            let mut queue = lock(&self.queue);
            let spawned = std::mem::take(&mut queue.spawned);
            if !spawned.is_empty() {
                let mut tasks = lock(&self.tasks);
                for task in spawned {
                    let id = tasks.len();
                    tasks.push(Some(task));
                    if queue.queued.insert(id) {
                        queue.ready.push_back(id);
                    }
                }
            }
            let id = queue.ready.pop_front();
            if let Some(id) = id {
                queue.queued.remove(&id);
            }
            id
        };
        let Some(id) = next else {
            return false;
        };
        let task = lock(&self.tasks).get_mut(id).and_then(Option::take);
        let Some(mut task) = task else {
            return true;
        };
        let waker = Waker::from(Arc::new(TaskWaker {
            id,
            queue: Arc::clone(&self.queue),
        }));
        let mut cx = Context::from_waker(&waker);
        if task.as_mut().poll(&mut cx).is_pending()
            && let Some(slot) = lock(&self.tasks).get_mut(id)
        {
            *slot = Some(task);
        }
        true
    }
}

impl Spawn for Sim {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        lock(&self.queue).spawned.push(future);
    }
}
