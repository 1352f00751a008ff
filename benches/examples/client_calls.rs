//! Sends N query calls down one path of the `client` bench, for counts that the
//! machine's load does not disturb (`docs/benchmarks.md`, "Client path"):
//!
//! ```text
//! cargo build --profile bench -p cloudrec-benches --example client_calls
//! # instructions per call: (total at N = 201 - total at N = 1) / 200
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/client_calls client 201
//! # CPU time (user + system, every thread) per call, 32 calls at a time
//! perf stat -e task-clock target/release/examples/client_calls client 3000 --batches
//! ```
//!
//! Arguments: the path (`raw`, `transport` or `client`, as in the bench) and how
//! many calls; with `--batches`, how many batches of 32 concurrent calls on two
//! worker threads instead of sequential calls on one thread.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use cloudrec_core::{Client, HttpRequest, NoEvents, StartOutcome, TaskRef, Transport};
use cloudrec_emulator::{Emulator, EmulatorConfig};
use cloudrec_hyper::{HyperTransport, TokioClock, USER_AGENT_VALUE};
use cloudrec_types::{
    AcquireRequest, Cname, Endpoint, Mode, StartClientRequest, StartRequest, StorageConfig,
    StorageVendor, Uid,
};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

const BATCH: usize = 32;

type RawClient = hyper_util::client::legacy::Client<HttpConnector, Empty<Bytes>>;

struct Paths {
    _emulator: Emulator,
    client: Client<HyperTransport, TokioClock, NoEvents>,
    transport: HyperTransport,
    raw: RawClient,
    task: TaskRef,
    base_url: String,
    path: String,
    url: String,
    auth: String,
}

impl Paths {
    async fn call(&self, which: &str) -> usize {
        match which {
            "raw" => {
                let request = http::Request::get(&self.url)
                    .header("authorization", &self.auth)
                    .header("user-agent", USER_AGENT_VALUE)
                    .header("accept", "application/json")
                    .body(Empty::new())
                    .expect("request");
                let response = self.raw.request(request).await.expect("answer");
                let body = response.into_body().collect().await.expect("body");
                body.to_bytes().len()
            }
            "transport" => {
                let request = HttpRequest {
                    endpoint: Endpoint::Query,
                    base_url: self.base_url.clone(),
                    path: self.path.clone(),
                    body: None,
                    timeout: Duration::from_secs(10),
                };
                self.transport
                    .send(request)
                    .await
                    .expect("answer")
                    .body
                    .len()
            }
            "client" => self
                .client
                .query(&self.task)
                .await
                .expect("query")
                .file_names()
                .len(),
            other => panic!("unknown path {other}: use raw, transport or client"),
        }
    }
}

async fn paths() -> Paths {
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
    let path = format!(
        "/v1/apps/{}/cloud_recording/resourceid/{}/sid/{}/mode/mix/query",
        config.app_id, task.resource_id, task.sid
    );
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            config.customer_id,
            config.customer_secret.expose()
        ))
    );
    Paths {
        url: format!("{}{path}", emulator.base_url()),
        base_url: emulator.base_url(),
        _emulator: emulator,
        client,
        transport,
        raw: hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http(),
        task,
        path,
        auth,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (which, count, batches) = match args.as_slice() {
        [which, count] => (which.clone(), count, false),
        [which, count, flag] if flag == "--batches" => (which.clone(), count, true),
        _ => {
            eprintln!("usage: client_calls raw|transport|client COUNT [--batches]");
            std::process::exit(2);
        }
    };
    let count: usize = count.parse().expect("COUNT is a number");
    let runtime = if batches {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .expect("runtime");
    runtime.block_on(async move {
        let paths = Arc::new(paths().await);
        let started = Instant::now();
        let calls = if batches {
            for _ in 0..count {
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..BATCH {
                    let paths = Arc::clone(&paths);
                    let which = which.clone();
                    set.spawn(async move { paths.call(&which).await });
                }
                while let Some(done) = set.join_next().await {
                    done.expect("call");
                }
            }
            count * BATCH
        } else {
            for _ in 0..count {
                paths.call(&which).await;
            }
            count
        };
        let elapsed = started.elapsed();
        println!(
            "{which}: {calls} calls in {elapsed:.2?} ({:.0} calls/s)",
            calls as f64 / elapsed.as_secs_f64()
        );
    });
}
