use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use hyper_util::client::legacy::connect::dns::Name;
use tokio::time::Instant;

/// How long resolved addresses are used before the name is looked up again.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(30);

/// How long one lookup may take before it counts as failed.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Looks a host name up in DNS. [`SystemLookup`] is the real one; tests inject
/// their own to simulate a DNS outage.
#[async_trait]
pub trait Lookup: Send + Sync + 'static {
    /// The addresses `host` resolves to (any port); an error or an empty list
    /// means the name does not resolve now.
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

/// The system resolver, through `tokio::net::lookup_host` (getaddrinfo on a
/// blocking thread).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemLookup;

#[async_trait]
impl Lookup for SystemLookup {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let addrs = tokio::net::lookup_host((host, 0)).await?;
        Ok(addrs.map(|addr| addr.ip()).collect())
    }
}

/// A host name that could not be resolved and had no earlier good addresses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The lookup failed; the source says why.
    #[error("dns lookup of {host} failed: check the host name and the network's DNS")]
    Lookup {
        /// The host name that was looked up.
        host: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// The lookup took longer than [`LOOKUP_TIMEOUT`].
    #[error("dns lookup of {host} timed out: check the network's DNS servers")]
    TimedOut {
        /// The host name that was looked up.
        host: String,
    },
    /// The lookup succeeded but returned no address.
    #[error("dns lookup of {host} returned no address: check the host name")]
    NoAddress {
        /// The host name that was looked up.
        host: String,
    },
}

/// The regional domain pool's name resolver.
///
/// A host name is looked up on first use and again once its addresses are older
/// than the refresh interval (30 s by default). A stale name is served its cached
/// addresses at once while a background task looks it up again, so DNS latency or
/// an outage never delays a request that has addresses to use; a lookup that takes
/// over [`LOOKUP_TIMEOUT`] fails. When a lookup fails, the last good addresses stay
/// in use, so a DNS outage does not break a host that is still reachable;
/// [`resolves`](Self::resolves) still reports the failure, so the failover plan can
/// move to a name that resolves. Cheap to clone: clones share the cache.
#[derive(Clone)]
pub struct RefreshingResolver {
    inner: Arc<Inner>,
}

struct Inner {
    lookup: Box<dyn Lookup>,
    refresh: Duration,
    hosts: Mutex<HashMap<String, Entry>>,
}

#[derive(Clone)]
struct Entry {
    /// The last good addresses, if the name ever resolved.
    addrs: Option<Arc<[IpAddr]>>,
    /// When the name was last looked up.
    checked: Instant,
    /// Whether that last lookup succeeded.
    resolved: bool,
    /// When a background lookup started, while one runs.
    refreshing_since: Option<Instant>,
}

impl RefreshingResolver {
    /// The system resolver with the default 30 s refresh.
    pub fn new() -> Self {
        Self::with_lookup(SystemLookup, DEFAULT_REFRESH)
    }

    /// A resolver over `lookup` that looks a name up again after `refresh`.
    pub fn with_lookup(lookup: impl Lookup, refresh: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                lookup: Box::new(lookup),
                refresh,
                hosts: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The addresses to connect to for `host`: the last good ones if it ever
    /// resolved (starting a background lookup when they are stale), else the result
    /// of a lookup now.
    pub async fn resolve(&self, host: &str) -> Result<Arc<[IpAddr]>, ResolveError> {
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse() {
            return Ok(Arc::from([ip]));
        }
        let key = host.to_ascii_lowercase();
        let Some(entry) = self.entry(&key) else {
            return self.refresh(&key).await;
        };
        match entry.addrs {
            Some(addrs) if entry.checked.elapsed() < self.inner.refresh => Ok(addrs),
            Some(addrs) if self.refresh_in_background(&key) => Ok(addrs),
            _ => self.refresh(&key).await,
        }
    }

    /// Whether `host` currently resolves: the result of the last lookup while it is
    /// fresh, else of a new one. False after a failed lookup even while the last good
    /// addresses are still used for connecting.
    pub async fn resolves(&self, host: &str) -> bool {
        if host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok()
        {
            return true;
        }
        let key = host.to_ascii_lowercase();
        if let Some(entry) = self.fresh_entry(&key) {
            return entry.resolved;
        }
        // A failed refresh may still yield the last good addresses; ask the entry.
        let _ = self.refresh(&key).await;
        self.entry(&key).is_some_and(|entry| entry.resolved)
    }

    /// Starts a background lookup of `key` unless one is running; false when there
    /// is no tokio runtime to run it on.
    fn refresh_in_background(&self, key: &str) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        {
            let mut hosts = self.hosts();
            let Some(entry) = hosts.get_mut(key) else {
                return false;
            };
            // A lookup that outlived its timeout was dropped with its runtime.
            let running = entry
                .refreshing_since
                .is_some_and(|since| since.elapsed() <= LOOKUP_TIMEOUT);
            if running {
                return true;
            }
            entry.refreshing_since = Some(Instant::now());
        }
        let resolver = self.clone();
        let key = key.to_owned();
        runtime.spawn(async move {
            let _ = resolver.refresh(&key).await;
        });
        true
    }

    fn entry(&self, key: &str) -> Option<Entry> {
        self.hosts().get(key).cloned()
    }

    fn fresh_entry(&self, key: &str) -> Option<Entry> {
        self.entry(key)
            .filter(|entry| entry.checked.elapsed() < self.inner.refresh)
    }

    fn hosts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // The map holds plain data; a panic elsewhere cannot leave it inconsistent.
        self.inner
            .hosts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn refresh(&self, key: &str) -> Result<Arc<[IpAddr]>, ResolveError> {
        let lookup = tokio::time::timeout(LOOKUP_TIMEOUT, self.inner.lookup.lookup(key));
        let outcome = match lookup.await {
            Ok(Ok(addrs)) if addrs.is_empty() => Err(ResolveError::NoAddress {
                host: key.to_owned(),
            }),
            Ok(Ok(addrs)) => Ok(Arc::<[IpAddr]>::from(addrs)),
            Ok(Err(source)) => Err(ResolveError::Lookup {
                host: key.to_owned(),
                source,
            }),
            Err(_elapsed) => Err(ResolveError::TimedOut {
                host: key.to_owned(),
            }),
        };
        let now = Instant::now();
        let mut hosts = self.hosts();
        match outcome {
            Ok(addrs) => {
                tracing::trace!(host = key, count = addrs.len(), "resolved");
                hosts.insert(
                    key.to_owned(),
                    Entry {
                        addrs: Some(Arc::clone(&addrs)),
                        checked: now,
                        resolved: true,
                        refreshing_since: None,
                    },
                );
                Ok(addrs)
            }
            Err(error) => {
                let last_good = hosts.get(key).and_then(|entry| entry.addrs.clone());
                hosts.insert(
                    key.to_owned(),
                    Entry {
                        addrs: last_good.clone(),
                        checked: now,
                        resolved: false,
                        refreshing_since: None,
                    },
                );
                match last_good {
                    Some(addrs) => {
                        tracing::debug!(host = key, error = %error, "dns lookup failed, keeping the last good addresses");
                        Ok(addrs)
                    }
                    None => Err(error),
                }
            }
        }
    }
}

impl Default for RefreshingResolver {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RefreshingResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshingResolver")
            .field("refresh", &self.inner.refresh)
            .field("hosts", &self.hosts().len())
            .finish_non_exhaustive()
    }
}

/// The resolver as hyper-util's `HttpConnector` wants it: a service from a name to
/// socket addresses (the connector sets the port).
#[derive(Clone, Debug)]
pub(crate) struct ConnectorResolver(pub(crate) RefreshingResolver);

type AddrsFuture =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, ResolveError>> + Send>>;

impl tower_service::Service<Name> for ConnectorResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = ResolveError;
    type Future = AddrsFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let resolver = self.0.clone();
        Box::pin(async move {
            let addrs = resolver.resolve(name.as_str()).await?;
            Ok(addrs
                .iter()
                .map(|ip| SocketAddr::new(*ip, 0))
                .collect::<Vec<_>>()
                .into_iter())
        })
    }
}
