//! The shared request budget against the Redis of `.ci/run`.

use std::time::Duration;

use cloudrec_fleet::{BudgetPermit, RedisBudget};

/// Where the tests find Redis, unless `CLOUDREC_TEST_REDIS_URL` says otherwise.
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

fn redis_url() -> String {
    std::env::var("CLOUDREC_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
}

/// The URL's host part only, so a message never shows a password.
fn shown(url: &str) -> &str {
    url.rsplit_once('@').map_or(url, |(_, host)| host)
}

/// A key prefix of one test; its keys are deleted when the guard is dropped
/// (also when the test panics).
struct Keys {
    prefix: String,
    url: String,
}

impl Keys {
    fn new() -> Self {
        Self {
            prefix: format!("cloudrec_test_{:016x}", rand::random::<u64>()),
            url: redis_url(),
        }
    }

    async fn budget(&self, app_id: &str, rate: u32) -> RedisBudget {
        RedisBudget::connect(&self.url, &self.prefix, app_id, rate)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "Redis is not reachable at {} ({e}). Start it with `.ci/run`, or \
                     `redis-server --daemonize yes --port 6379 --save ''`, or set \
                     CLOUDREC_TEST_REDIS_URL",
                    shown(&self.url)
                )
            })
    }

    fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .and_then(|client| client.get_connection())
            .unwrap_or_else(|e| panic!("Redis is not reachable at {}: {e}", shown(&self.url)))
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        // The synchronous client: Drop may run inside the test's runtime.
        let Ok(mut conn) =
            redis::Client::open(self.url.as_str()).and_then(|client| client.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&keys).query(&mut conn);
        }
    }
}

fn granted(permit: BudgetPermit) -> bool {
    matches!(permit, BudgetPermit::Granted { .. })
}

#[tokio::test]
async fn a_budget_grants_its_rate_then_says_how_long_to_wait() {
    let keys = Keys::new();
    let budget = keys.budget("app-one", 10).await;
    assert_eq!(budget.key(), format!("{}:budget:app-one", keys.prefix));
    for i in 0..10 {
        let permit = budget.try_acquire().await.unwrap();
        assert!(granted(permit), "grant {i} refused: {permit:?}");
    }
    match budget.try_acquire().await.unwrap() {
        BudgetPermit::Wait(wait) => assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "the 11th waits {wait:?}"
        ),
        permit => panic!("the 11th was {permit:?}"),
    }
}

/// Takes every grant it can until `end`, and answers their server times.
async fn hammer(budget: &RedisBudget, end: tokio::time::Instant) -> Vec<Duration> {
    let mut grants = Vec::new();
    while tokio::time::Instant::now() < end {
        match budget.try_acquire().await.unwrap() {
            BudgetPermit::Granted { server_time } => grants.push(server_time),
            BudgetPermit::Wait(wait) => {
                tokio::time::sleep_until(end.min(tokio::time::Instant::now() + wait)).await;
            }
        }
    }
    grants
}

/// The most grants in any one-second window `[t, t + 1 s)`.
fn busiest_second(mut grants: Vec<Duration>) -> usize {
    grants.sort();
    let mut most = 0;
    let mut first = 0;
    for last in 0..grants.len() {
        while grants[last] - grants[first] >= Duration::from_secs(1) {
            first += 1;
        }
        most = most.max(last - first + 1);
    }
    most
}

#[test]
fn busiest_second_counts_a_sliding_window() {
    let ms = Duration::from_millis;
    assert_eq!(busiest_second(vec![]), 0);
    assert_eq!(busiest_second(vec![ms(0), ms(999), ms(1000), ms(1998)]), 3);
    assert_eq!(busiest_second(vec![ms(500), ms(0), ms(1000)]), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_together_never_exceed_the_rate_in_any_second() {
    const RATE: u32 = 10;
    let keys = Keys::new();
    let (a, b, c) = (
        keys.budget("app-shared", RATE).await,
        keys.budget("app-shared", RATE).await,
        keys.budget("app-shared", RATE).await,
    );
    let end = tokio::time::Instant::now() + Duration::from_millis(2500);
    let (ga, gb, gc) = tokio::join!(hammer(&a, end), hammer(&b, end), hammer(&c, end));
    let counts = [ga.len(), gb.len(), gc.len()];
    let grants: Vec<Duration> = ga.into_iter().chain(gb).chain(gc).collect();
    let total = grants.len();
    let most = busiest_second(grants);
    assert!(
        most <= RATE as usize,
        "{most} grants in one second (each budget got {counts:?})"
    );
    assert!(total > RATE as usize, "only {total} grants: {counts:?}");
}

#[tokio::test]
async fn different_app_ids_do_not_share_a_budget() {
    let keys = Keys::new();
    let first = keys.budget("app-a", 2).await;
    let second = keys.budget("app-b", 2).await;
    for _ in 0..2 {
        assert!(granted(first.try_acquire().await.unwrap()));
    }
    assert!(!granted(first.try_acquire().await.unwrap()));
    for _ in 0..2 {
        assert!(granted(second.try_acquire().await.unwrap()));
    }
    assert!(!granted(second.try_acquire().await.unwrap()));
}

#[tokio::test]
async fn the_key_expires_once_idle() {
    let keys = Keys::new();
    let budget = keys.budget("app-idle", 5).await;
    assert!(granted(budget.try_acquire().await.unwrap()));
    let mut conn = keys.connection();
    let pttl: i64 = redis::cmd("PTTL")
        .arg(budget.key())
        .query(&mut conn)
        .unwrap();
    assert!(
        pttl > 0 && pttl <= 1000,
        "PTTL of {} is {pttl}",
        budget.key()
    );
    let members: i64 = redis::cmd("ZCARD")
        .arg(budget.key())
        .query(&mut conn)
        .unwrap();
    assert_eq!(members, 1);
}

#[tokio::test]
async fn acquire_waits_for_a_grant() {
    let keys = Keys::new();
    let budget = keys.budget("app-wait", 1).await;
    let first = budget.acquire().await.unwrap();
    let second = budget.acquire().await.unwrap();
    assert!(
        second - first >= Duration::from_secs(1),
        "{first:?} then {second:?}"
    );
}

#[tokio::test]
async fn errors_never_show_the_password() {
    let secret = "hunter2-not-shown";
    // Nothing listens on port 1.
    let url = format!("redis://user:{secret}@127.0.0.1:1/");
    let err = RedisBudget::connect(&url, "cloudrec_test", "app", 10)
        .await
        .unwrap_err();
    let (text, debug) = (err.to_string(), format!("{err:?}"));
    assert!(
        !text.contains(secret) && !debug.contains(secret),
        "{text} / {debug}"
    );
    assert!(
        text.contains("redis-server"),
        "no hint how to start Redis: {text}"
    );

    // A password the server does not expect: the connection or a later call fails,
    // or (a server without passwords) the budget works; none shows the password.
    let keys = Keys::new();
    let url = keys
        .url
        .replacen("redis://", &format!("redis://default:{secret}@"), 1);
    match RedisBudget::connect(&url, &keys.prefix, "app", 10).await {
        Ok(budget) => {
            let debug = format!("{budget:?}");
            assert!(!debug.contains(secret), "{debug}");
            if let Err(e) = budget.try_acquire().await {
                assert!(!e.to_string().contains(secret) && !format!("{e:?}").contains(secret));
            }
        }
        Err(e) => {
            assert!(!e.to_string().contains(secret), "{e}");
            assert!(!format!("{e:?}").contains(secret), "{e:?}");
        }
    }

    let err = RedisBudget::connect(&format!("nonsense://u:{secret}@h"), "p", "app", 10)
        .await
        .unwrap_err();
    assert!(!err.to_string().contains(secret) && !format!("{err:?}").contains(secret));
    assert!(
        RedisBudget::connect(&keys.url, &keys.prefix, "app", 0)
            .await
            .is_err()
    );
}
