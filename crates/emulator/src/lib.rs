//! A local Agora Cloud Recording service, for tests, examples and demos.
//!
//! [`Emulator::start`] runs a real HTTP/1.1 server (hyper, tokio) on a loopback
//! port that answers the six Cloud Recording endpoints and `GET /v1/ncs/ip` the way
//! the service documents them: Basic auth, the gateway's route, credential, App ID
//! and rate-limit errors, request validation with `code 2` reasons naming the
//! field, resources that expire after 5 minutes and serve one session, tasks whose
//! `status` advances and whose file lists grow while someone publishes, idle exit
//! after `maxIdleTime`, `resourceExpiredHour`, the 50-task concurrency limit, and
//! stop with its final `serverResponse` (or 206 code 435 when nobody published).
//!
//! Emulator time runs [`EmulatorConfig::time_scale`] times faster than real time,
//! so minutes of recording pass in milliseconds. [`FaultRule`]s inject any status
//! and body of the status table, delays, hung requests, closed connections and
//! high-availability recovery windows.
//!
//! With [`EmulatorConfig::ncs_url`] and [`EmulatorConfig::ncs_secret`] it also
//! POSTs signed NCS notices about its tasks (recorder started, status updates,
//! slice start, file infos, failover, uploaded, web recorder and RTMP events,
//! session exit) from a background task, with a 10 s timeout and up to 3
//! attempts; [`Emulator::ncs_stats`] counts them, and notice [`FaultRule`]s
//! drop, duplicate, delay, reorder or wrongly sign them.
//!
//! It does not record media, talk to Agora or storage, or speak TLS; it listens
//! on loopback addresses for tests on one machine.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cloudrec_emulator::EmulatorError> {
//! use cloudrec_emulator::{Emulator, EmulatorConfig, FaultRule};
//! use cloudrec_types::Endpoint;
//!
//! let config = EmulatorConfig {
//!     time_scale: 100.0,
//!     ..EmulatorConfig::default()
//! };
//! let emulator = Emulator::start(config, "127.0.0.1:0".parse().unwrap())?;
//! println!("service at {}", emulator.base_url());
//! emulator.inject(
//!     FaultRule::respond(
//!         Some(Endpoint::Query),
//!         504,
//!         serde_json::json!({"code": 62, "reason": "request timeout"}),
//!     )
//!     .times(1),
//! );
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Admin HTTP API
//!
//! Under `/_emulator/`, without authentication (the emulator is a local test tool;
//! do not expose it). Bodies and answers are JSON; errors are `{"message": ...}`.
//!
//! | Method and path | Body | Does |
//! |---|---|---|
//! | `GET /_emulator/tasks` | | live tasks as [`TaskView`]s |
//! | `GET /_emulator/requests` | | the request log as [`RequestRecord`]s |
//! | `GET /_emulator/requests?after=N&limit=M` | | one [`RequestLogPage`] |
//! | `GET /_emulator/requests/stats` | | the [`RequestLogStats`] |
//! | `GET /_emulator/connections` | | the [`ConnectionStats`] |
//! | `GET /_emulator/ncs` | | the [`NcsStats`] of the NCS notices |
//! | `GET /_emulator/faults` | | the installed [`FaultRule`]s |
//! | `POST /_emulator/faults` | a rule or an array of rules | adds them after the others |
//! | `DELETE /_emulator/faults` | | removes every rule |
//! | `POST /_emulator/reset` | | forgets resources, tasks, channels, rules and the log |
//! | `POST /_emulator/channel-users` | `{"cname": "room", "users": 0}` | sets who publishes in a channel |
//! | `POST /_emulator/recovery` | `{"seconds": 30, "sid": "…"}` (or `"cname"`, or neither for all) | opens recovery windows |

mod clock;
mod config;
mod connection;
mod error;
mod fault;
mod ncs;
mod server;
mod state;
mod validate;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use config::{DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_SECRET, EmulatorConfig};
pub use connection::ConnectionStats;
pub use error::{EmulatorError, JsonError};
pub use fault::{FaultAction, FaultRule};
pub use ncs::NcsStats;
pub use state::{RequestLogPage, RequestLogStats, RequestRecord, TaskSelector, TaskView};

use connection::{Activity, Watched};
use server::Shared;
use state::State;

/// A running emulator. Dropping it stops the server; [`Emulator::shutdown`]
/// stops it and waits until it has.
pub struct Emulator {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
    /// The NCS timer and delivery tasks, when notices are on.
    ncs: Option<(JoinHandle<()>, JoinHandle<()>)>,
}

/// How long [`Emulator::shutdown`] lets queued NCS notices go out.
const NCS_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts serving on `addr` (port 0 picks a free port). Must be called from
    /// inside a tokio runtime, which then runs the server.
    pub fn start(config: EmulatorConfig, addr: SocketAddr) -> Result<Self, EmulatorError> {
        config.check()?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| EmulatorError::NoRuntime)?;
        let bind = |source| EmulatorError::Bind { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let local_addr = listener.local_addr().map_err(bind)?;
        let listener = {
            let _guard = runtime.enter();
            TcpListener::from_std(listener).map_err(bind)?
        };
        let ncs_target = match (&config.ncs_url, &config.ncs_secret) {
            (Some(url), Some(secret)) => Some((ncs::parse_url(url)?, secret.clone())),
            _ => None,
        };
        let counters = Arc::new(ncs::Counters::new(ncs_target.is_some()));
        let mut state = State::new(config);
        let mut ncs_rx = None;
        if let Some((uri, secret)) = ncs_target {
            let (outbox, rx) = ncs::Outbox::new(secret, Arc::clone(&counters));
            state.ncs = Some(outbox);
            ncs_rx = Some((uri, rx));
        }
        let shared = Arc::new(Shared::new(state, Arc::clone(&counters)));
        let (stop, stopped) = watch::channel(false);
        let ncs = ncs_rx.map(|(uri, rx)| {
            let delivery = runtime.spawn(ncs::deliver(uri, rx, counters));
            let ticker = runtime.spawn(ncs_ticker(Arc::clone(&shared), stop.subscribe()));
            (ticker, delivery)
        });
        let accept = runtime.spawn(accept_loop(listener, Arc::clone(&shared), stopped));
        tracing::info!(%local_addr, ncs = ncs.is_some(), "cloud recording emulator listening");
        Ok(Self {
            shared,
            local_addr,
            stop,
            accept: Some(accept),
            ncs,
        })
    }

    /// How many NCS notices were made, sent, failed and faulted so far.
    pub fn ncs_stats(&self) -> NcsStats {
        self.shared.ncs.stats()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The base URL to give a client, such as `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Stops accepting, closes every connection and waits until the server ended.
    ///
    /// With NCS on, the notices queued by then are still delivered, for at most
    /// 5 s; those left count as pending in [`Emulator::ncs_stats`].
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
        if let Some((ticker, delivery)) = self.ncs.take() {
            let _ = ticker.await;
            // Closing the queue lets the delivery task send what is left and end.
            self.shared.lock().ncs = None;
            let abort = delivery.abort_handle();
            if tokio::time::timeout(NCS_SHUTDOWN_GRACE, delivery)
                .await
                .is_err()
            {
                abort.abort();
                let left = self.shared.ncs.stats().pending;
                tracing::warn!(left, "NCS notices not delivered before shutdown");
            }
        }
    }

    /// Adds a fault rule after the installed ones.
    pub fn inject(&self, rule: FaultRule) {
        self.shared.lock().inject(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.lock().clear_faults();
    }

    /// The installed fault rules.
    pub fn faults(&self) -> Vec<FaultRule> {
        self.shared.lock().faults()
    }

    /// The live tasks with their state, ordered by sid.
    pub fn tasks(&self) -> Vec<TaskView> {
        self.shared.lock().tasks()
    }

    /// The requests received so far (oldest first, within the log's entry and
    /// byte bounds).
    pub fn request_log(&self) -> Vec<RequestRecord> {
        self.shared.lock().request_log()
    }

    /// The kept requests with a sequence number above `after`, at most `limit`,
    /// oldest first; pass the page's `next_after` to read the next one.
    pub fn request_log_page(&self, after: u64, limit: usize) -> RequestLogPage {
        self.shared.lock().request_log_page(after, limit)
    }

    /// How many connections are open and how many the limits closed or refused.
    pub fn connection_stats(&self) -> ConnectionStats {
        self.shared.connection_stats()
    }

    /// How full the request log is and how much it dropped.
    pub fn request_log_stats(&self) -> RequestLogStats {
        self.shared.lock().request_log_stats()
    }

    /// Forgets resources, tasks, channel users, fault rules and the request log.
    pub fn reset(&self) {
        self.shared.lock().reset();
    }

    /// Sets how many users publish in channel `cname` from now on (0 starts the
    /// idle countdown of its tasks). Channels nobody set have
    /// [`EmulatorConfig::default_channel_users`].
    pub fn set_channel_users(&self, cname: &str, users: u32) {
        self.shared.lock().set_channel_users(cname, users);
    }

    /// Opens a high-availability recovery window of `length` (emulator time) on the
    /// picked live tasks: query, update, updateLayout and stop answer 404 code 404
    /// while they keep recording. Returns the sids of the tasks picked.
    pub fn start_recovery_window(&self, selector: TaskSelector, length: Duration) -> Vec<String> {
        self.shared.lock().start_recovery_window(&selector, length)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        if let Some((ticker, delivery)) = self.ncs.take() {
            ticker.abort();
            delivery.abort();
        }
    }
}

/// Looks for time-driven task events (status steps, slices, idle exit, upload)
/// every [`ncs::TICK`] until the emulator stops.
async fn ncs_ticker(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            () = tokio::time::sleep(ncs::TICK) => shared.lock().observe_ncs(),
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors or similar: let the system recover.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let limits = shared.limits;
                let Some(slot) = shared.connections.admit(limits.max_connections) else {
                    connection::refuse(stream, &shared.connections, &limits);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let activity = Activity::new();
                    let io = TokioIo::new(Watched::new(stream, Arc::clone(&activity)));
                    let handler = {
                        let shared = Arc::clone(&shared);
                        let activity = Arc::clone(&activity);
                        service_fn(move |request| {
                            let handling = activity.begin();
                            let answer = server::handle(Arc::clone(&shared), request);
                            async move {
                                let answer = answer.await;
                                drop(handling);
                                answer
                            }
                        })
                    };
                    let serve = hyper::server::conn::http1::Builder::new().serve_connection(io, handler);
                    tokio::select! {
                        _ = serve => {}
                        why = activity.expired(limits) => Activity::count(&shared.connections, why),
                    }
                    drop(slot);
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}
