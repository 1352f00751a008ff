use std::sync::Arc;
use std::time::Duration;

use cloudrec_types::{AppId, Endpoint};

use super::{Client, Shared};
use crate::{
    Clock, EventSink, FailoverPlan, Host, PolicyError, RateLimiter, RetryPolicy, Suffix, Transport,
};
use crate::{LocalGate, RateGate};

/// The longest each attempt of a call may take, per endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    default: Duration,
    stop: Duration,
}

impl Default for Timeouts {
    /// 10 s per attempt, and 25 s for stop: a synchronous stop waits for the
    /// upload, which takes up to 20 s.
    fn default() -> Self {
        Self {
            default: Duration::from_secs(10),
            stop: Duration::from_secs(25),
        }
    }
}

impl Timeouts {
    /// The smallest stop timeout accepted: a synchronous stop may take 20 s.
    pub const MIN_STOP: Duration = Duration::from_secs(25);

    /// Sets the timeout of every endpoint but stop.
    pub fn with_default(mut self, timeout: Duration) -> Result<Self, ClientConfigError> {
        if timeout.is_zero() {
            return Err(ClientConfigError::ZeroTimeout);
        }
        self.default = timeout;
        Ok(self)
    }

    /// Sets the stop timeout; at least [`Timeouts::MIN_STOP`].
    pub fn with_stop(mut self, timeout: Duration) -> Result<Self, ClientConfigError> {
        if timeout < Self::MIN_STOP {
            return Err(ClientConfigError::StopTimeoutTooShort { timeout });
        }
        self.stop = timeout;
        Ok(self)
    }

    /// The timeout of one attempt of `endpoint`.
    pub fn get(&self, endpoint: Endpoint) -> Duration {
        match endpoint {
            Endpoint::Stop => self.stop,
            Endpoint::Acquire
            | Endpoint::Start
            | Endpoint::Query
            | Endpoint::Update
            | Endpoint::UpdateLayout
            | Endpoint::NcsIp => self.default,
        }
    }
}

/// A client setting that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientConfigError {
    /// A policy setting is out of range.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A timeout of zero would fail every call.
    #[error("a request timeout of zero would fail every call: give a positive duration")]
    ZeroTimeout,
    /// The stop timeout is shorter than a synchronous stop may take.
    #[error(
        "stop timeout {timeout:?} is too short: a synchronous stop may take 20 s, give at least 25 s"
    )]
    StopTimeoutTooShort {
        /// The timeout given.
        timeout: Duration,
    },
}

/// Builds a [`Client`]; every setting has a documented default.
pub struct ClientBuilder<T, C, E> {
    app_id: AppId,
    transport: T,
    clock: C,
    events: E,
    retry: RetryPolicy,
    plan: FailoverPlan,
    rate: (u32, u32),
    jitter_seed: u64,
    timeouts: Timeouts,
    base_url: Option<String>,
    gate: Option<Arc<dyn RateGate>>,
}

impl<T, C> ClientBuilder<T, C, crate::NoEvents>
where
    T: Transport,
    C: Clock,
{
    pub(super) fn new(app_id: AppId, transport: T, clock: C) -> Self {
        Self {
            app_id,
            transport,
            clock,
            events: crate::NoEvents,
            retry: RetryPolicy::default(),
            plan: FailoverPlan::new(Host::global(Suffix::AgoraIo)),
            rate: (10, 1),
            jitter_seed: crate::jitter::unpredictable_seed(),
            timeouts: Timeouts::default(),
            base_url: None,
            gate: None,
        }
    }
}

impl<T, C, E> ClientBuilder<T, C, E>
where
    T: Transport,
    C: Clock,
    E: EventSink,
{
    /// Sends events to `events` instead of discarding them.
    pub fn events<E2: EventSink>(self, events: E2) -> ClientBuilder<T, C, E2> {
        ClientBuilder {
            app_id: self.app_id,
            transport: self.transport,
            clock: self.clock,
            events,
            retry: self.retry,
            plan: self.plan,
            rate: self.rate,
            jitter_seed: self.jitter_seed,
            timeouts: self.timeouts,
            base_url: self.base_url,
            gate: self.gate,
        }
    }

    /// Sends every call to one base URL (a proxy, the emulator) instead of the
    /// regional hosts, e.g. `http://127.0.0.1:8080`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The hosts and their failover order (default: the global host, then its
    /// other suffix).
    pub fn failover_plan(mut self, plan: FailoverPlan) -> Self {
        self.plan = plan;
        self.base_url = None;
        self
    }

    /// The retry policy of each call (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The request rate shared by every call of this client: at most
    /// `per_second` requests in any one-second window, with bursts of up to
    /// `burst`, 1 to `per_second` (default 10 per second, bursts of 1: evenly
    /// spaced, 100 ms apart). See [`RateLimiter`].
    pub fn rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.rate = (per_second, burst);
        self
    }

    /// Takes the App ID's grants from `gate` instead of a bucket of this
    /// client's own: a budget several processes share. [`rate_limit`](Self::rate_limit)
    /// then has no effect.
    pub fn rate_gate(mut self, gate: Arc<dyn RateGate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// The per-attempt timeouts (default: [`Timeouts::default`]).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Seeds the jitter added to back-off delays with a fixed number, which makes
    /// a simulated run repeatable. The default seed is drawn anew for every
    /// client (from the operating system's randomness, through the standard
    /// library), so that processes and clients that fail together do not retry
    /// in lockstep.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = seed;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client<T, C, E>, ClientConfigError> {
        let gate: Arc<dyn RateGate> = match self.gate {
            Some(gate) => gate,
            None => Arc::new(LocalGate::new(RateLimiter::new(self.rate.0, self.rate.1)?)),
        };
        let plan = match &self.base_url {
            Some(url) => FailoverPlan::fixed(url)?,
            None => self.plan,
        };
        Ok(Client {
            shared: std::sync::Arc::new(Shared {
                app_id: self.app_id,
                transport: self.transport,
                clock: self.clock,
                events: self.events,
                retry: self.retry,
                plan,
                gate,
                jitter: super::JitterSource::new(self.jitter_seed),
                timeouts: self.timeouts,
            }),
        })
    }
}
