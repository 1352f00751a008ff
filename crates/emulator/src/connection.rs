//! Connection limits: a header-read timeout, an idle timeout and a cap on open
//! connections, so slow or idle clients cannot starve the emulator.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The limits, copied from the config.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
}

/// What the connections did (`GET /_emulator/connections`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Connections served now.
    pub open: usize,
    /// The cap ([`EmulatorConfig::max_connections`](crate::EmulatorConfig::max_connections)).
    pub max_connections: usize,
    /// Connections accepted and served, since start.
    pub accepted: u64,
    /// Connections closed because their headers did not arrive within
    /// [`EmulatorConfig::header_read_timeout`](crate::EmulatorConfig::header_read_timeout).
    pub closed_slow_headers: u64,
    /// Connections closed after [`EmulatorConfig::idle_timeout`](crate::EmulatorConfig::idle_timeout)
    /// without a request in progress.
    pub closed_idle: u64,
    /// Connections refused with 503 because `max_connections` were open.
    pub refused_over_limit: u64,
}

/// Counters shared by the accept loop and the admin API.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    open: AtomicUsize,
    accepted: AtomicU64,
    closed_slow_headers: AtomicU64,
    closed_idle: AtomicU64,
    refused_over_limit: AtomicU64,
    refusing: AtomicUsize,
}

impl Counters {
    pub(crate) fn stats(&self, limits: &Limits) -> ConnectionStats {
        ConnectionStats {
            open: self.open.load(Ordering::Relaxed),
            max_connections: limits.max_connections,
            accepted: self.accepted.load(Ordering::Relaxed),
            closed_slow_headers: self.closed_slow_headers.load(Ordering::Relaxed),
            closed_idle: self.closed_idle.load(Ordering::Relaxed),
            refused_over_limit: self.refused_over_limit.load(Ordering::Relaxed),
        }
    }

    /// Takes a connection slot, or None when `max` are open.
    pub(crate) fn admit(self: &Arc<Self>, max: usize) -> Option<Slot> {
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .is_ok();
        if taken {
            self.accepted.fetch_add(1, Ordering::Relaxed);
            Some(Slot(Arc::clone(self)))
        } else {
            None
        }
    }
}

/// An open connection's place under the cap; freed when dropped.
pub(crate) struct Slot(Arc<Counters>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Where a connection is between requests.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// No request in progress and no byte of the next one, since then.
    Idle(Instant),
    /// The first byte of a request's headers arrived then; the handler has not started.
    ReadingHead(Instant),
    /// This many requests are being handled.
    Handling(u32),
}

/// A connection's phase and the wake-up of its watchdog.
#[derive(Debug)]
pub(crate) struct Activity {
    phase: Mutex<Phase>,
    changed: Notify,
}

/// Why the watchdog closed a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expired {
    SlowHeaders,
    Idle,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            phase: Mutex::new(Phase::Idle(Instant::now())),
            changed: Notify::new(),
        })
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bytes arrived: while idle, they begin the next request's headers.
    fn on_read(&self) {
        let mut phase = self.phase();
        if let Phase::Idle(_) = *phase {
            *phase = Phase::ReadingHead(Instant::now());
            drop(phase);
            self.changed.notify_one();
        }
    }

    /// A request reached the handler; the guard ends it when dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> Handling {
        {
            let mut phase = self.phase();
            *phase = match *phase {
                Phase::Handling(n) => Phase::Handling(n + 1),
                _ => Phase::Handling(1),
            };
        }
        self.changed.notify_one();
        Handling(Arc::clone(self))
    }

    /// The deadline now in force, and what passing it means.
    fn deadline(&self, limits: &Limits) -> Option<(Instant, Expired)> {
        match *self.phase() {
            Phase::Idle(since) => Some((since + limits.idle_timeout, Expired::Idle)),
            Phase::ReadingHead(since) => {
                Some((since + limits.header_read_timeout, Expired::SlowHeaders))
            }
            Phase::Handling(_) => None,
        }
    }

    /// Returns once the connection passed a deadline.
    pub(crate) async fn expired(&self, limits: Limits) -> Expired {
        loop {
            match self.deadline(&limits) {
                None => self.changed.notified().await,
                Some((at, _)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {
                            // The phase may have moved on while the timer ran.
                            if let Some((at, why)) = self.deadline(&limits)
                                && at <= Instant::now()
                            {
                                return why;
                            }
                        }
                        () = self.changed.notified() => {}
                    }
                }
            }
        }
    }

    /// Counts a closing by the watchdog.
    pub(crate) fn count(counters: &Counters, why: Expired) {
        let counter = match why {
            Expired::SlowHeaders => &counters.closed_slow_headers,
            Expired::Idle => &counters.closed_idle,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A request in the handler; the connection is idle again once none is.
pub(crate) struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        {
            let mut phase = self.0.phase();
            *phase = match *phase {
                Phase::Handling(n) if n > 1 => Phase::Handling(n - 1),
                _ => Phase::Idle(Instant::now()),
            };
        }
        self.0.changed.notify_one();
    }
}

/// A stream that tells its [`Activity`] when bytes arrive.
pub(crate) struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl Watched {
    pub(crate) fn new(stream: TcpStream, activity: Arc<Activity>) -> Self {
        Self { stream, activity }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.on_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// The most over-the-cap connections given their 503 at once; beyond, they are
/// closed without an answer, so refusing holds few descriptors.
const MAX_REFUSING: usize = 64;

/// How long a refused connection is kept to let the client read its 503.
const REFUSE_LINGER: Duration = Duration::from_secs(1);

/// Answers a connection over the cap with 503 and closes it.
pub(crate) fn refuse(mut stream: TcpStream, counters: &Arc<Counters>, limits: &Limits) {
    counters.refused_over_limit.fetch_add(1, Ordering::Relaxed);
    let refusing = counters.refusing.fetch_add(1, Ordering::AcqRel);
    if refusing >= MAX_REFUSING {
        counters.refusing.fetch_sub(1, Ordering::AcqRel);
        return;
    }
    let body = serde_json::json!({
        "message": format!(
            "the emulator is serving its maximum of {} connections (max_connections); \
             close idle connections or raise --max-connections",
            limits.max_connections
        ),
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let counters = Arc::clone(counters);
    tokio::spawn(async move {
        let _ = tokio::time::timeout(REFUSE_LINGER, async {
            stream.write_all(answer.as_bytes()).await?;
            stream.shutdown().await?;
            // Read what the client sent until it closes, so closing our side does
            // not reset the connection before the client read the answer.
            let mut sink = [0u8; 4096];
            while tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await? > 0 {}
            Ok::<(), io::Error>(())
        })
        .await;
        counters.refusing.fetch_sub(1, Ordering::AcqRel);
    });
}
