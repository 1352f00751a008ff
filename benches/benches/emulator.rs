//! Query requests per second against the emulator, next to a bare hyper server that
//! answers every request with the same body, in the same run and over the same
//! client: the difference is what routing, authentication, fault matching, the
//! request log and the task state cost.
//!
//! Each iteration sends a batch of concurrent GET requests over keep-alive
//! connections; criterion reports elements (requests) per second.
//!
//! Run with `cargo bench -p cloudrec-benches --bench emulator`; the figures are in
//! `docs/benchmarks.md`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use cloudrec_emulator::{DEFAULT_APP_ID, Emulator, EmulatorConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

/// Requests in flight per iteration.
const BATCH: usize = 32;

type HttpClient = Client<HttpConnector, Empty<Bytes>>;
type PostClient = Client<HttpConnector, Full<Bytes>>;

fn authorization() -> String {
    let pair = format!(
        "{}:{}",
        cloudrec_emulator::DEFAULT_CUSTOMER_ID,
        cloudrec_emulator::DEFAULT_CUSTOMER_SECRET
    );
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

async fn post(client: &PostClient, url: String, body: &Value) -> Value {
    let request = http::Request::post(url)
        .header("authorization", authorization())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let response = client.request(request).await.expect("emulator answers");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("json")
}

/// Starts the emulator with one recording mix task; returns it and the query URL.
async fn emulator_with_task() -> (Emulator, String) {
    let config = EmulatorConfig {
        rate_limit_per_sec: 0,
        time_scale: 1000.0,
        // At 1000× a new mp4 file would begin every 7.2 s, and the answer would
        // outgrow the bare server's copy of it during the run.
        mp4_split: Duration::from_secs(100 * 365 * 24 * 3600),
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).expect("start");
    let client: PostClient = Client::builder(TokioExecutor::new()).build_http();
    let base = format!(
        "{}/v1/apps/{DEFAULT_APP_ID}/cloud_recording",
        emulator.base_url()
    );
    let acquired = post(
        &client,
        format!("{base}/acquire"),
        &json!({"cname": "bench", "uid": "1", "clientRequest": {}}),
    )
    .await;
    let rid = acquired["resourceId"]
        .as_str()
        .expect("resource id")
        .to_owned();
    let started = post(
        &client,
        format!("{base}/resourceid/{rid}/mode/mix/start"),
        &json!({"cname": "bench", "uid": "1", "clientRequest": {
            "recordingConfig": {"channelType": 0},
            "recordingFileConfig": {"avFileType": ["hls", "mp4"]},
            "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "a", "secretKey": "s"}
        }}),
    )
    .await;
    let sid = started["sid"].as_str().expect("sid").to_owned();
    let url = format!("{base}/resourceid/{rid}/sid/{sid}/mode/mix/query");
    (emulator, url)
}

/// A bare hyper server answering every request with `body`.
async fn bare_server(body: Bytes) -> SocketAddr {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_request| {
                    let body = body.clone();
                    async move {
                        let mut response = http::Response::new(Full::new(body));
                        response.headers_mut().insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn get(client: &HttpClient, url: &str, auth: &str) -> Bytes {
    let request = http::Request::get(url)
        .header("authorization", auth)
        .body(Empty::new())
        .expect("request");
    let response = client.request(request).await.expect("answer");
    assert_eq!(response.status(), 200);
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
}

async fn batch(client: &Arc<HttpClient>, url: &Arc<str>, auth: &Arc<str>) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..BATCH {
        let (client, url, auth) = (Arc::clone(client), Arc::clone(url), Arc::clone(auth));
        tasks.spawn(async move { get(&client, &url, &auth).await.len() });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("request task");
    }
}

fn query_throughput(c: &mut Criterion) {
    let runtime: Runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (emulator, emulator_url, bare_url) = runtime.block_on(async {
        let (emulator, url) = emulator_with_task().await;
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        // Let the task record a first slice, so query answers with its file list.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let body = get(&client, &url, &authorization()).await;
        let bare = bare_server(body).await;
        (emulator, url, format!("http://{bare}/query"))
    });
    let client = Arc::new(Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>());
    let auth: Arc<str> = Arc::from(authorization());

    let mut group = c.benchmark_group("query_rps");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.measurement_time(Duration::from_secs(5));
    for (name, url) in [("emulator", emulator_url), ("bare_hyper", bare_url)] {
        let url: Arc<str> = Arc::from(url);
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| batch(&client, &url, &auth));
        });
    }
    group.finish();
    drop(emulator);
}

criterion_group!(benches, query_throughput);
criterion_main!(benches);
