//! The full client path (validation, rate limiter, retry loop, events, the hyper
//! transport, classification and typed decoding) against a raw hyper client making
//! the same query calls against the same emulator task, in the same run.
//!
//! Criterion measures concurrent throughput (batches of 32 queries); a second pass
//! then sends 5,000 sequential queries down each path, interleaved, and prints the
//! latency percentiles and the p99 overhead.
//!
//! Run with `cargo bench -p cloudrec-benches --bench client`; the figures are in
//! `docs/benchmarks.md`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use cloudrec_core::{Client, HttpRequest, NoEvents, StartOutcome, TaskRef, Transport};
use cloudrec_emulator::{Emulator, EmulatorConfig};
use cloudrec_hyper::{HyperTransport, TokioClock};
use cloudrec_types::{
    AcquireRequest, Cname, Endpoint, Mode, StartClientRequest, StartRequest, StorageConfig,
    StorageVendor, Uid,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::runtime::Runtime;

const BATCH: usize = 32;
const SEQUENTIAL: usize = 5_000;

type RawClient = hyper_util::client::legacy::Client<HttpConnector, Empty<Bytes>>;
type FullClient = Client<HyperTransport, TokioClock, NoEvents>;

struct Setup {
    _emulator: Emulator,
    client: FullClient,
    transport: HyperTransport,
    base_url: String,
    path: String,
    task: TaskRef,
    raw: RawClient,
    url: String,
    auth: String,
}

async fn setup() -> Setup {
    let config = EmulatorConfig {
        rate_limit_per_sec: 0,
        time_scale: 1000.0,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config.clone(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("emulator starts");
    let transport = HyperTransport::builder()
        .credentials(config.customer_id.clone(), config.customer_secret.clone())
        .build()
        .expect("transport");
    let client = Client::builder(config.app_id.clone(), transport.clone(), TokioClock::new())
        .base_url(emulator.base_url())
        .rate_limit(1_000_000, 1_000)
        .build()
        .expect("client");
    let cname = Cname::new("bench").expect("cname");
    let uid = Uid::new(1).expect("uid");
    let acquired = client
        .acquire(&Mode::Mix, &AcquireRequest::new(cname.clone(), uid))
        .await
        .expect("acquire");
    let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "b", "a", "s");
    let request = StartRequest::new(
        cname.clone(),
        uid,
        StartClientRequest::mix(storage).with_mp4(),
    );
    let StartOutcome::Started { sid } = client
        .start(&acquired.resource_id, &Mode::Mix, &request)
        .await
        .expect("start")
    else {
        panic!("expected a new task");
    };
    let task = TaskRef {
        resource_id: acquired.resource_id,
        sid,
        mode: Mode::Mix,
        cname,
        uid,
    };
    // Let the task record a first slice, so query answers with its file list.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let url = format!(
        "{}/v1/apps/{}/cloud_recording/resourceid/{}/sid/{}/mode/mix/query",
        emulator.base_url(),
        config.app_id,
        task.resource_id,
        task.sid
    );
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            config.customer_id,
            config.customer_secret.expose()
        ))
    );
    let raw = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let base_url = emulator.base_url();
    let path = url[base_url.len()..].to_owned();
    Setup {
        _emulator: emulator,
        client,
        transport,
        base_url,
        path,
        task,
        raw,
        url,
        auth,
    }
}

async fn raw_query(raw: &RawClient, url: &str, auth: &str) -> usize {
    let request = http::Request::get(url)
        .header("authorization", auth)
        .header("user-agent", cloudrec_hyper::USER_AGENT_VALUE)
        .header("accept", "application/json")
        .body(Empty::new())
        .expect("request");
    let response = raw.request(request).await.expect("answer");
    assert_eq!(response.status(), 200);
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .len()
}

async fn transport_query(setup: &Setup) -> usize {
    let request = HttpRequest {
        endpoint: Endpoint::Query,
        base_url: setup.base_url.clone(),
        path: setup.path.clone(),
        body: None,
        timeout: Duration::from_secs(10),
    };
    let response = setup.transport.send(request).await.expect("answer");
    assert_eq!(response.status, 200);
    response.body.len()
}

async fn client_query(client: &FullClient, task: &TaskRef) -> usize {
    client.query(task).await.expect("query").file_names().len()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn query_path(c: &mut Criterion) {
    let runtime: Runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let setup = Arc::new(runtime.block_on(setup()));

    let mut group = c.benchmark_group("client_query_rps");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("raw_hyper", |b| {
        b.to_async(&runtime).iter(|| {
            let setup = Arc::clone(&setup);
            async move {
                let mut calls = tokio::task::JoinSet::new();
                for _ in 0..BATCH {
                    let setup = Arc::clone(&setup);
                    calls
                        .spawn(async move { raw_query(&setup.raw, &setup.url, &setup.auth).await });
                }
                while let Some(done) = calls.join_next().await {
                    done.expect("call");
                }
            }
        });
    });
    group.bench_function("hyper_transport", |b| {
        b.to_async(&runtime).iter(|| {
            let setup = Arc::clone(&setup);
            async move {
                let mut calls = tokio::task::JoinSet::new();
                for _ in 0..BATCH {
                    let setup = Arc::clone(&setup);
                    calls.spawn(async move { transport_query(&setup).await });
                }
                while let Some(done) = calls.join_next().await {
                    done.expect("call");
                }
            }
        });
    });
    group.bench_function("cloudrec_client", |b| {
        b.to_async(&runtime).iter(|| {
            let setup = Arc::clone(&setup);
            async move {
                let mut calls = tokio::task::JoinSet::new();
                for _ in 0..BATCH {
                    let setup = Arc::clone(&setup);
                    calls.spawn(async move { client_query(&setup.client, &setup.task).await });
                }
                while let Some(done) = calls.join_next().await {
                    done.expect("call");
                }
            }
        });
    });
    group.finish();

    let (raw, full) = runtime.block_on(async {
        let mut raw = Vec::with_capacity(SEQUENTIAL);
        let mut full = Vec::with_capacity(SEQUENTIAL);
        for _ in 0..SEQUENTIAL {
            let started = Instant::now();
            raw_query(&setup.raw, &setup.url, &setup.auth).await;
            raw.push(started.elapsed());
            let started = Instant::now();
            client_query(&setup.client, &setup.task).await;
            full.push(started.elapsed());
        }
        raw.sort();
        full.sort();
        (raw, full)
    });
    for (name, latencies) in [("raw_hyper", &raw), ("cloudrec_client", &full)] {
        println!(
            "sequential query latency {name:>16}: p50 {:>8.1?}  p99 {:>8.1?}",
            percentile(latencies, 0.5),
            percentile(latencies, 0.99)
        );
    }
    let overhead = percentile(&full, 0.99).saturating_sub(percentile(&raw, 0.99));
    println!("p99 overhead of the client path: {overhead:.1?}");

    // CPU time (user and system, every thread of the process: client, emulator,
    // runtime) per sequential query, in alternating blocks: less disturbed by
    // other load on the machine than the throughput above.
    let mut cpu = [Duration::ZERO; 2];
    runtime.block_on(async {
        for _ in 0..CPU_ROUNDS {
            let before = process_cpu_time();
            for _ in 0..SEQUENTIAL {
                raw_query(&setup.raw, &setup.url, &setup.auth).await;
            }
            let between = process_cpu_time();
            for _ in 0..SEQUENTIAL {
                client_query(&setup.client, &setup.task).await;
            }
            let after = process_cpu_time();
            cpu[0] += between.saturating_sub(before);
            cpu[1] += after.saturating_sub(between);
        }
    });
    let calls = u32::try_from(CPU_ROUNDS * SEQUENTIAL).expect("small count");
    let (raw_cpu, client_cpu) = (cpu[0] / calls, cpu[1] / calls);
    println!(
        "CPU per sequential query: raw_hyper {raw_cpu:.2?}, cloudrec_client {client_cpu:.2?} \
         (raw / client = {:.2})",
        raw_cpu.as_secs_f64() / client_cpu.as_secs_f64()
    );
}

const CPU_ROUNDS: usize = 4;

/// The CPU time every thread of this process has used so far, from
/// `/proc/self/task/*/schedstat` (nanoseconds on a CPU); zero where unreadable.
fn process_cpu_time() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

criterion_group!(benches, query_path);
criterion_main!(benches);
