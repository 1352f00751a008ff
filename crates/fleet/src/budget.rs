//! The request budget of an App ID shared by several processes on Redis.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use cloudrec_types::redact::{text as redact_text, url as redact_url};

/// The window the service counts requests in.
const WINDOW: Duration = Duration::from_secs(1);

/// How long one connection attempt or one reply may take.
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// The one script that decides a grant, atomically on the Redis server.
///
/// `KEYS[1]` is the sorted set of the grants of the last second (score: the
/// server time of the grant in microseconds), `ARGV[1]` the rate, `ARGV[2]` a
/// member unique to this request, `ARGV[3]` the window in microseconds and
/// `ARGV[4]` the expiry of the key in milliseconds.
///
/// It answers `{1, grant time in µs}` or `{0, wait in µs}`.
const SCRIPT: &str = r"
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local window_us = tonumber(ARGV[3])
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
-- A grant a full window old no longer counts.
redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now_us - window_us))
local count = redis.call('ZCARD', key)
if count < rate then
  redis.call('ZADD', key, string.format('%.0f', now_us), ARGV[2])
  redis.call('PEXPIRE', key, ARGV[4])
  return {1, now_us}
end
-- Enough grants must leave the window that fewer than rate remain.
local leaving = redis.call('ZRANGE', key, count - rate, count - rate, 'WITHSCORES')
return {0, tonumber(leaving[2]) + window_us - now_us}
";

/// The answer of [`RedisBudget::try_acquire`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BudgetPermit {
    /// Send the request; it counts against the App ID's rate from now on.
    Granted {
        /// The Redis server's clock at the grant, since the Unix epoch.
        server_time: Duration,
    },
    /// Do not send it yet: a grant is possible after this wait, as long as no
    /// other process takes it meanwhile.
    Wait(Duration),
}

/// Why a budget operation failed. No message contains the Redis password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// The URL is not a Redis URL.
    #[error("the request budget's Redis URL {url} is not valid: {detail}")]
    BadUrl {
        /// The URL, its password replaced by `***`.
        url: String,
        /// The cause, its password replaced by `***`.
        detail: String,
    },
    /// Redis could not be reached or refused the connection.
    #[error(
        "cannot connect to the request budget's Redis at {url}: {detail}; check that Redis runs there (`.ci/run` starts one, or `redis-server --daemonize yes --port 6379 --save ''`)"
    )]
    Connect {
        /// The URL, its password replaced by `***`.
        url: String,
        /// The cause, its password replaced by `***`.
        detail: String,
    },
    /// The rate is zero.
    #[error("the request rate of App ID {app_id} must be at least 1")]
    ZeroRate {
        /// The App ID.
        app_id: String,
    },
    /// The budget script failed or Redis could not be reached for it.
    #[error("the request budget of App ID {app_id} on Redis at {url} failed: {detail}")]
    Script {
        /// The App ID.
        app_id: String,
        /// The URL, its password replaced by `***`.
        url: String,
        /// The cause, its password replaced by `***`.
        detail: String,
    },
    /// The script answered something it never answers.
    #[error("the request budget of App ID {app_id} got an unexpected reply from Redis: {reply}")]
    Reply {
        /// The App ID.
        app_id: String,
        /// The reply.
        reply: String,
    },
}

/// The request budget of one App ID, shared through Redis by every process
/// that holds one for the same key prefix and App ID: together they never get
/// more than `rate` grants in any one-second window (sliding), measured on
/// the Redis server's clock.
///
/// Every grant is decided by one Lua script over the sorted set
/// `{prefix}:budget:{app_id}`; see `docs/fleet.md`.
pub struct RedisBudget {
    conn: ConnectionManager,
    script: redis::Script,
    /// The URL as given, kept only to scrub its password from errors.
    url: String,
    key: String,
    app_id: String,
    rate: u32,
    /// Makes the sorted set members unique: random per budget, then counted.
    member_prefix: u64,
    counter: AtomicU64,
}

impl fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBudget")
            .field("url", &redact_url(&self.url))
            .field("key", &self.key)
            .field("app_id", &self.app_id)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl RedisBudget {
    /// Connects to Redis at `url` for the budget of `app_id`: at most `rate`
    /// requests in any one-second window, shared with every process using the
    /// same `key_prefix` and App ID.
    pub async fn connect(
        url: &str,
        key_prefix: &str,
        app_id: &str,
        rate: u32,
    ) -> Result<Self, BudgetError> {
        if rate == 0 {
            return Err(BudgetError::ZeroRate {
                app_id: app_id.to_owned(),
            });
        }
        let client = redis::Client::open(url).map_err(|e| BudgetError::BadUrl {
            url: redact_url(url),
            detail: redact_text(&e.to_string(), url),
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(IO_TIMEOUT))
            .set_response_timeout(Some(IO_TIMEOUT))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| BudgetError::Connect {
                url: redact_url(url),
                detail: redact_text(&e.to_string(), url),
            })?;
        Ok(Self {
            conn,
            script: redis::Script::new(SCRIPT),
            url: url.to_owned(),
            key: format!("{key_prefix}:budget:{app_id}"),
            app_id: app_id.to_owned(),
            rate,
            member_prefix: rand::random(),
            counter: AtomicU64::new(0),
        })
    }

    /// The Redis key of the budget: `{prefix}:budget:{app_id}`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The most requests in any one-second window.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Takes a grant if the App ID has one left in the current window, else
    /// says how long to wait. One round trip, decided atomically by Redis.
    pub async fn try_acquire(&self) -> Result<BudgetPermit, BudgetError> {
        let member = format!(
            "{:016x}-{}",
            self.member_prefix,
            self.counter.fetch_add(1, Ordering::Relaxed)
        );
        let window_us = u64::try_from(WINDOW.as_micros()).unwrap_or(u64::MAX);
        let expiry_ms = u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX);
        let mut conn = self.conn.clone();
        let reply: Vec<i64> = self
            .script
            .key(&self.key)
            .arg(self.rate)
            .arg(member)
            .arg(window_us)
            .arg(expiry_ms)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| BudgetError::Script {
                app_id: self.app_id.clone(),
                url: redact_url(&self.url),
                detail: redact_text(&e.to_string(), &self.url),
            })?;
        let bad_reply = || BudgetError::Reply {
            app_id: self.app_id.clone(),
            reply: format!("{reply:?}"),
        };
        match reply.as_slice() {
            [1, at] => {
                let at = u64::try_from(*at).map_err(|_| bad_reply())?;
                Ok(BudgetPermit::Granted {
                    server_time: Duration::from_micros(at),
                })
            }
            [0, wait] => {
                let wait = u64::try_from(*wait).map_err(|_| bad_reply())?;
                Ok(BudgetPermit::Wait(Duration::from_micros(wait.max(1))))
            }
            _ => Err(bad_reply()),
        }
    }

    /// Waits until a grant is taken, and answers the server time of the grant.
    /// Fails as soon as Redis does: there is no local fallback.
    pub async fn acquire(&self) -> Result<Duration, BudgetError> {
        loop {
            match self.try_acquire().await? {
                BudgetPermit::Granted { server_time } => return Ok(server_time),
                BudgetPermit::Wait(wait) => tokio::time::sleep(wait).await,
            }
        }
    }
}
