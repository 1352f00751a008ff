//! Measures what `HyperTransport` adds over a bare hyper-util client: both send the
//! same query GET (same headers) to the same local hyper server over one kept-alive connection,
//! in alternating rounds, and the per-request latencies are compared.
//!
//! Run with `cargo run --release -p cloudrec-hyper --example transport_overhead [requests]`.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cloudrec_client::Transport;
use cloudrec_core::HttpRequest;
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{Endpoint, Secret};
use http_body_util::{BodyExt as _, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

const BODY: &str = r#"{"resourceId":"JyvK8nXHuV1BE64GDkAaBGEscvtHW7v8BrQoRPCHxmeVxwY22-x-kv4GdPcjZeMzoCBUCOr9q-k6wBWMC7SaAkZ_4nO3JLqYwM1bL1n6wKnnD9EC9waxJboci9KUz2WZ4YJrmcJmA7xWkzs_L3AnNwdtcI1kr_u1cWFmi9BWAWAlNd7S7gfoGuH0tGi6CNaOomvr7-ILjPXdCYwgty1hwT6tbAuaW1eqR0kOYTO0Z1SobpBxu1czSFh1GbzGvTZG","sid":"38f8e3cfdc474cd56fc1ceba380d7e1a","serverResponse":{"status":5,"fileList":[]}}"#;

async fn serve() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = service_fn(|_request| async {
                    Ok::<_, Infallible>(
                        http::Response::builder()
                            .header("content-type", "application/json")
                            .header("x-request-id", "bench")
                            .body(Full::new(Bytes::from_static(BODY.as_bytes())))
                            .unwrap(),
                    )
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// Prints the figures of one client and returns its p50 and p99.
fn report(name: &str, mut samples: Vec<Duration>, total: Duration) -> (Duration, Duration) {
    samples.sort();
    let rate = samples.len() as f64 / total.as_secs_f64();
    let (p50, p90, p99) = (
        percentile(&samples, 0.50),
        percentile(&samples, 0.90),
        percentile(&samples, 0.99),
    );
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{name:>10}: {rate:>7.0} req/s (wall)  p50 {:>6.1} µs  p90 {:>6.1} µs  p99 {:>6.1} µs",
        micros(p50),
        micros(p90),
        micros(p99),
    );
    (p50, p99)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let requests: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let addr = serve().await;
    let base_url = format!("http://{addr}");
    let path = "/v1/apps/app/cloud_recording/resourceid/r/sid/s/mode/mix/query";

    let transport = HyperTransport::builder()
        .credentials("customer", Secret::new("secret"))
        .build()
        .unwrap();
    let raw: Client<_, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let uri: http::Uri = format!("{base_url}{path}").parse().unwrap();

    let send_transport = || {
        transport.send(HttpRequest {
            endpoint: Endpoint::Query,
            base_url: base_url.clone(),
            path: path.to_owned(),
            body: None,
            timeout: Duration::from_secs(10),
        })
    };
    let send_raw = || {
        let request = http::Request::get(uri.clone())
            .header("authorization", "Basic Y3VzdG9tZXI6c2VjcmV0")
            .header("user-agent", "cloudrec/0.1.0")
            .header("accept", "application/json")
            .body(Full::default())
            .unwrap();
        let raw = raw.clone();
        async move {
            let response = raw.request(request).await.unwrap();
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, body.to_vec())
        }
    };

    // Warm up both connections.
    for _ in 0..500 {
        assert_eq!(send_transport().await.unwrap().status, 200);
        assert_eq!(send_raw().await.0, 200);
    }

    let rounds = 20;
    let per_round = requests / rounds;
    let (mut t_samples, mut r_samples) = (Vec::new(), Vec::new());
    let (mut t_total, mut r_total) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..per_round {
            let at = Instant::now();
            let response = send_raw().await;
            r_samples.push(at.elapsed());
            assert_eq!(response.1.len(), BODY.len());
        }
        r_total += start.elapsed();
        let start = Instant::now();
        for _ in 0..per_round {
            let at = Instant::now();
            let response = send_transport().await.unwrap();
            t_samples.push(at.elapsed());
            assert_eq!(response.body.len(), BODY.len());
        }
        t_total += start.elapsed();
    }
    let wall_ratio = (t_samples.len() as f64 / t_total.as_secs_f64())
        / (r_samples.len() as f64 / r_total.as_secs_f64());
    println!(
        "{} sequential query GETs each, one connection, current-thread runtime",
        per_round * rounds
    );
    let (r50, r99) = report("raw hyper", r_samples, r_total);
    let (t50, t99) = report("transport", t_samples, t_total);
    let micros = |d: f64| d * 1e6;
    println!(
        "transport/raw: wall throughput {wall_ratio:.3}, median-latency throughput {:.3}; \
         overhead p50 {:.1} µs, p99 {:.1} µs",
        r50.as_secs_f64() / t50.as_secs_f64(),
        micros(t50.as_secs_f64() - r50.as_secs_f64()),
        micros(t99.as_secs_f64() - r99.as_secs_f64()),
    );
}
