//! The fleet's request gate against a Redis server of its own, killed and
//! started again during the test: it falls back to its local share, then
//! returns to the shared budget.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cloudrec_client::RateGate;
use cloudrec_core::{Permit, Timestamp};
use cloudrec_fleet::{FleetGate, RedisBudget};

/// A `redis-server` on `port`, keeping nothing on disk, killed on drop.
struct Redis(Child);

impl Redis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (apt-get install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self(child)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn now(origin: Instant) -> Timestamp {
    Timestamp::from_origin(origin.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_means_the_local_share_and_redis_back_means_the_shared_budget() {
    let port = free_port();
    let redis = Redis::start(port);
    let url = format!("redis://127.0.0.1:{port}");
    let budget = RedisBudget::connect(&url, "cloudrec_gate_test", "app", 10)
        .await
        .unwrap();
    let gate = FleetGate::new(budget);
    gate.set_workers(2);
    let origin = Instant::now();
    assert_eq!(gate.try_acquire(now(origin)).await, Permit::Granted);
    assert!(!gate.is_falling_back());

    drop(redis);
    // Down: grants come from the local share of 10 / 2 = 5 per second.
    let first = gate.try_acquire(now(origin)).await;
    assert!(gate.is_falling_back());
    assert_eq!(gate.fallbacks(), 1);
    assert_eq!(first, Permit::Granted);
    match gate.try_acquire(now(origin)).await {
        Permit::Wait(wait) => assert!(
            wait > Duration::from_millis(100) && wait <= Duration::from_millis(200),
            "the share spaces grants 200 ms apart: {wait:?}"
        ),
        Permit::Granted => panic!("the local share let two grants through at once"),
    }

    let _redis = Redis::start(port);
    let deadline = Instant::now() + Duration::from_secs(20);
    while gate.is_falling_back() {
        assert!(
            Instant::now() < deadline,
            "the gate did not return to Redis"
        );
        let _ = gate.try_acquire(now(origin)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(gate.fallbacks(), 1);
}
