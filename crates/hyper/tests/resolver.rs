//! The refreshing resolver: re-resolution after the interval, last good addresses
//! through a DNS outage, and `resolves` telling the truth about the last lookup.

mod common;

use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cloudrec_client::Transport;
use cloudrec_core::{Delivery, TransportErrorKind};
use cloudrec_hyper::{HyperTransport, Lookup, RefreshingResolver, ResolveError};
use cloudrec_types::{Endpoint, Secret};
use common::{Behaviour, CUSTOMER_ID, CUSTOMER_SECRET, request, response, start};

/// A DNS whose answers the test changes, counting lookups.
#[derive(Clone, Default)]
struct ScriptedDns {
    answer: Arc<Mutex<Option<Vec<IpAddr>>>>,
    lookups: Arc<Mutex<Vec<String>>>,
}

impl ScriptedDns {
    fn answer(&self, addrs: Option<Vec<IpAddr>>) {
        *self.answer.lock().unwrap() = addrs;
    }
    fn lookups(&self) -> usize {
        self.lookups.lock().unwrap().len()
    }
}

#[async_trait]
impl Lookup for ScriptedDns {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        self.lookups.lock().unwrap().push(host.to_owned());
        self.answer
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| io::Error::other("SERVFAIL"))
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

const REFRESH: Duration = Duration::from_secs(30);

/// Lets background lookups run until `dns` has seen `count` lookups (bounded).
async fn settle(dns: &ScriptedDns, count: usize) {
    for _ in 0..1000 {
        if dns.lookups() >= count {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("only {} of {count} lookups happened", dns.lookups());
}

#[tokio::test(start_paused = true)]
async fn addresses_are_cached_until_the_refresh_interval() {
    let dns = ScriptedDns::default();
    dns.answer(Some(vec![ip("192.0.2.1")]));
    let resolver = RefreshingResolver::with_lookup(dns.clone(), REFRESH);
    assert_eq!(
        &*resolver.resolve("api.agora.io").await.unwrap(),
        &[ip("192.0.2.1")]
    );
    dns.answer(Some(vec![ip("192.0.2.2")]));
    tokio::time::advance(REFRESH - Duration::from_secs(1)).await;
    assert_eq!(
        &*resolver.resolve("api.agora.io").await.unwrap(),
        &[ip("192.0.2.1")]
    );
    assert_eq!(dns.lookups(), 1);
    tokio::time::advance(Duration::from_secs(1)).await;
    // Stale: served at once while a background lookup runs.
    assert_eq!(
        &*resolver.resolve("api.agora.io").await.unwrap(),
        &[ip("192.0.2.1")]
    );
    settle(&dns, 2).await;
    assert_eq!(
        &*resolver.resolve("api.agora.io").await.unwrap(),
        &[ip("192.0.2.2")]
    );
    assert_eq!(dns.lookups(), 2);
}

#[tokio::test(start_paused = true)]
async fn one_background_lookup_at_a_time() {
    /// Answers the first lookup, then never answers; counts lookups.
    struct SlowAfterFirst(Arc<Mutex<usize>>);
    #[async_trait]
    impl Lookup for SlowAfterFirst {
        async fn lookup(&self, _host: &str) -> io::Result<Vec<IpAddr>> {
            let count = {
                let mut count = self.0.lock().unwrap();
                *count += 1;
                *count
            };
            if count > 1 {
                std::future::pending::<()>().await;
            }
            Ok(vec![ip("192.0.2.4")])
        }
    }
    let lookups = Arc::new(Mutex::new(0));
    let resolver = RefreshingResolver::with_lookup(SlowAfterFirst(Arc::clone(&lookups)), REFRESH);
    resolver.resolve("api.agora.io").await.unwrap();
    tokio::time::advance(REFRESH).await;
    for _ in 0..3 {
        assert_eq!(
            &*resolver.resolve("api.agora.io").await.unwrap(),
            &[ip("192.0.2.4")]
        );
        tokio::task::yield_now().await;
    }
    assert_eq!(*lookups.lock().unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_failed_refresh_keeps_the_last_good_addresses_but_resolves_says_no() {
    let dns = ScriptedDns::default();
    dns.answer(Some(vec![ip("192.0.2.7")]));
    let resolver = RefreshingResolver::with_lookup(dns.clone(), REFRESH);
    assert!(resolver.resolves("api.sd-rtn.com").await);

    dns.answer(None);
    tokio::time::advance(REFRESH).await;
    assert_eq!(
        &*resolver.resolve("api.sd-rtn.com").await.unwrap(),
        &[ip("192.0.2.7")]
    );
    settle(&dns, 2).await;
    assert_eq!(
        &*resolver.resolve("api.sd-rtn.com").await.unwrap(),
        &[ip("192.0.2.7")]
    );
    assert!(!resolver.resolves("api.sd-rtn.com").await);
    // The failed lookup is not repeated on every call before the interval.
    assert_eq!(dns.lookups(), 2);

    dns.answer(Some(vec![ip("192.0.2.8")]));
    tokio::time::advance(REFRESH).await;
    assert!(resolver.resolves("api.sd-rtn.com").await);
    assert_eq!(
        &*resolver.resolve("api.sd-rtn.com").await.unwrap(),
        &[ip("192.0.2.8")]
    );
}

#[tokio::test(start_paused = true)]
async fn a_name_that_never_resolved_is_an_error() {
    let dns = ScriptedDns::default();
    let resolver = RefreshingResolver::with_lookup(dns.clone(), REFRESH);
    let error = resolver.resolve("api.agora.io").await.unwrap_err();
    assert!(matches!(error, ResolveError::Lookup { ref host, .. } if host == "api.agora.io"));
    assert!(!resolver.resolves("api.agora.io").await);

    dns.answer(Some(Vec::new()));
    tokio::time::advance(REFRESH).await;
    let error = resolver.resolve("api.agora.io").await.unwrap_err();
    assert!(matches!(error, ResolveError::NoAddress { .. }), "{error}");
}

#[tokio::test(start_paused = true)]
async fn ip_literals_resolve_without_a_lookup() {
    let dns = ScriptedDns::default();
    let resolver = RefreshingResolver::with_lookup(dns.clone(), REFRESH);
    assert!(resolver.resolves("127.0.0.1").await);
    assert!(resolver.resolves("[::1]").await);
    assert_eq!(
        &*resolver.resolve("10.1.2.3").await.unwrap(),
        &[ip("10.1.2.3")]
    );
    assert_eq!(dns.lookups(), 0);
}

#[tokio::test(start_paused = true)]
async fn names_are_case_insensitive() {
    let dns = ScriptedDns::default();
    dns.answer(Some(vec![ip("192.0.2.1")]));
    let resolver = RefreshingResolver::with_lookup(dns.clone(), REFRESH);
    resolver.resolve("API.Agora.IO").await.unwrap();
    resolver.resolve("api.agora.io").await.unwrap();
    assert_eq!(dns.lookups(), 1);
}

/// The transport connects through the resolver: a name that stops resolving
/// still reaches the server at its last good address.
#[tokio::test]
async fn the_transport_connects_to_the_last_good_address_during_an_outage() {
    let server = start(Behaviour::Respond(response(200, &[], "{}"))).await;
    let dns = ScriptedDns::default();
    dns.answer(Some(vec![ip("127.0.0.1")]));
    // A zero interval makes every connection look the name up again (in the background).
    let resolver = RefreshingResolver::with_lookup(dns.clone(), Duration::ZERO);
    let transport = HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .allow_plain_http(true)
        .resolver(resolver)
        .build()
        .unwrap();
    let url = format!("http://recording.example:{}", server.addr.port());
    let answer = transport
        .send(request(Endpoint::Acquire, &url, Some("{}")))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);

    dns.answer(None);
    // The server closes each connection, so this one connects (and resolves) again.
    let answer = transport
        .send(request(Endpoint::Acquire, &url, Some("{}")))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    settle(&dns, 2).await;
    assert!(!transport.resolves("recording.example").await);
}

#[tokio::test]
async fn a_name_that_never_resolved_fails_the_request_as_dns() {
    let dns = ScriptedDns::default();
    let transport = HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .resolver(RefreshingResolver::with_lookup(dns, REFRESH))
        .build()
        .unwrap();
    let error = transport
        .send(request(Endpoint::Query, "https://api.agora.io", None))
        .await
        .unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Dns, "{error}");
    assert_eq!(error.delivery, Delivery::NotSent);
}

#[tokio::test(start_paused = true)]
async fn first_resolving_skips_base_urls_whose_names_do_not_resolve() {
    /// Resolves only names under sd-rtn.com.
    struct OnlySdRtn;
    #[async_trait]
    impl Lookup for OnlySdRtn {
        async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
            if host.ends_with(".sd-rtn.com") {
                Ok(vec![ip("192.0.2.9")])
            } else {
                Err(io::Error::other("NXDOMAIN"))
            }
        }
    }
    let transport = HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .resolver(RefreshingResolver::with_lookup(OnlySdRtn, REFRESH))
        .build()
        .unwrap();
    let plan = [
        "https://api.agora.io",
        "not a url",
        "https://api.sd-rtn.com",
        "https://api-eu-west-1.sd-rtn.com",
    ];
    assert_eq!(
        transport.first_resolving(plan).await,
        Some("https://api.sd-rtn.com")
    );
    assert_eq!(
        transport.first_resolving(["https://api.agora.io"]).await,
        None
    );
}

#[tokio::test(start_paused = true)]
async fn first_resolving_follows_the_core_failover_plan() {
    use cloudrec_core::{FailoverPlan, Host, Region, Suffix};
    /// Resolves only the eu-west-1 regional names.
    struct OnlyEuWest;
    #[async_trait]
    impl Lookup for OnlyEuWest {
        async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
            if host.starts_with("api-eu-west-1.") {
                Ok(vec![ip("192.0.2.10")])
            } else {
                Err(io::Error::other("NXDOMAIN"))
            }
        }
    }
    let transport = HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .resolver(RefreshingResolver::with_lookup(OnlyEuWest, REFRESH))
        .build()
        .unwrap();
    let plan = FailoverPlan::new(Host::regional(Region::EuCentral1, Suffix::AgoraIo));
    assert_eq!(
        transport.first_resolving(plan.hosts()).await,
        Some("https://api-eu-west-1.agora.io")
    );
}

#[tokio::test(start_paused = true)]
async fn a_hung_lookup_fails_after_the_lookup_timeout_and_keeps_the_last_good() {
    /// Answers once, then hangs forever.
    #[derive(Default)]
    struct AnswersOnce(Mutex<bool>);
    #[async_trait]
    impl Lookup for AnswersOnce {
        async fn lookup(&self, _host: &str) -> io::Result<Vec<IpAddr>> {
            let answered = std::mem::replace(&mut *self.0.lock().unwrap(), true);
            if answered {
                std::future::pending::<()>().await;
            }
            Ok(vec![ip("192.0.2.3")])
        }
    }
    let resolver = RefreshingResolver::with_lookup(AnswersOnce::default(), REFRESH);
    assert!(resolver.resolves("api.agora.io").await);
    tokio::time::advance(REFRESH).await;
    // Paused time jumps over the lookup timeout once everything is idle.
    assert!(!resolver.resolves("api.agora.io").await);
    assert_eq!(
        &*resolver.resolve("api.agora.io").await.unwrap(),
        &[ip("192.0.2.3")]
    );

    let fresh = RefreshingResolver::with_lookup(AnswersOnce(Mutex::new(true)), REFRESH);
    let error = fresh.resolve("api.agora.io").await.unwrap_err();
    assert!(matches!(error, ResolveError::TimedOut { .. }), "{error}");
}
