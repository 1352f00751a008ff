//! The three query paths the client benchmark compares, against one emulator task:
//! a raw hyper-util client, the `HyperTransport` alone, and the full `Client`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use cloudrec_client::TokioClock;
use cloudrec_client::{Client, StartOutcome, Transport};
use cloudrec_core::{HttpRequest, NoEvents, TaskRef};
use cloudrec_emulator::{Emulator, EmulatorConfig};
use cloudrec_hyper::{HyperTransport, USER_AGENT_VALUE};
use cloudrec_types::{
    AcquireRequest, Cname, Endpoint, FileList, Mode, StartClientRequest, StartRequest,
    StorageConfig, StorageVendor, Uid,
};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The raw reference: hyper-util's pooled client over plain TCP.
pub type RawClient = hyper_util::client::legacy::Client<HttpConnector, Empty<Bytes>>;

/// The full client path as measured: no events.
pub type FullClient = Client<HyperTransport, TokioClock, NoEvents>;

/// One of the three ways to send the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// hyper-util's client, the transport's headers, the body collected.
    Raw,
    /// `HyperTransport::send` of a built request.
    Transport,
    /// `Client::query`: limiter, retry loop, transport, typed decoding.
    Client,
}

impl Path {
    /// Every path, in the order the bench runs them.
    pub const ALL: [Self; 3] = [Self::Raw, Self::Transport, Self::Client];

    /// The path's benchmark name.
    pub fn bench_name(self) -> &'static str {
        match self {
            Self::Raw => "raw_hyper",
            Self::Transport => "hyper_transport",
            Self::Client => "cloudrec_client",
        }
    }

    /// The path named `raw`, `transport` or `client`.
    pub fn from_arg(name: &str) -> Option<Self> {
        match name {
            "raw" => Some(Self::Raw),
            "transport" => Some(Self::Transport),
            "client" => Some(Self::Client),
            _ => None,
        }
    }
}

/// How many queries a batch sends at once.
pub const BATCH: usize = 32;

/// A running emulator with one recording mix task (hls + mp4, files listed: the
/// same 773-byte answer for the whole run), and the three ways to query it. Each
/// query panics on anything but a 200 answer.
pub struct QueryPaths {
    _emulator: Emulator,
    client: FullClient,
    transport: HyperTransport,
    raw: RawClient,
    task: TaskRef,
    base_url: String,
    path: String,
    url: String,
    auth: String,
}

impl QueryPaths {
    /// Starts the emulator (no rate limit, time 1000x faster), acquires and starts
    /// a task through the client, and waits until the task lists its files.
    pub async fn start() -> Self {
        let config = EmulatorConfig {
            rate_limit_per_sec: 0,
            time_scale: 1000.0,
            // At 1000× the task would start a new mp4 file every 7.2 s and the
            // answer would grow through the run; keep it at its two files.
            mp4_split: Duration::from_secs(100 * 365 * 24 * 3600),
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
        let StartOutcome::Started { task } = client
            .start(&acquired.resource_id, &Mode::Mix, &request)
            .await
            .expect("start")
        else {
            panic!("expected a new task");
        };
        // Let the task record a first slice, so query answers with its file list.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let base_url = emulator.base_url();
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
        Self {
            url: format!("{base_url}{path}"),
            base_url,
            path,
            auth,
            _emulator: emulator,
            client,
            transport,
            raw: hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http(),
            task,
        }
    }

    /// One query down `path`; returns what that path's method returns.
    pub async fn query(&self, path: Path) -> usize {
        match path {
            Path::Raw => self.raw().await,
            Path::Transport => self.transport().await,
            Path::Client => self.client().await,
        }
    }

    /// [`BATCH`] concurrent queries down `path`, each a task of the current
    /// runtime; returns when all have answered.
    pub async fn batch(self: &Arc<Self>, path: Path) {
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..BATCH {
            let paths = Arc::clone(self);
            calls.spawn(async move { paths.query(path).await });
        }
        while let Some(done) = calls.join_next().await {
            done.expect("call");
        }
    }

    /// One query by the raw client, with the transport's headers; the body is
    /// collected, not decoded. Returns its length.
    pub async fn raw(&self) -> usize {
        let request = http::Request::get(&self.url)
            .header("authorization", &self.auth)
            .header("user-agent", USER_AGENT_VALUE)
            .header("accept", "application/json")
            .body(Empty::new())
            .expect("request");
        let response = self.raw.request(request).await.expect("answer");
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.expect("body");
        body.to_bytes().len()
    }

    /// One query by `Transport::send` of a built request. Returns the body length.
    pub async fn transport(&self) -> usize {
        let request = HttpRequest {
            endpoint: Endpoint::Query,
            base_url: self.base_url.clone(),
            path: self.path.clone(),
            body: None,
            timeout: Duration::from_secs(10),
        };
        let response = self.transport.send(request).await.expect("answer");
        assert_eq!(response.status, 200);
        response.body.len()
    }

    /// One `Client::query`. Returns how many files the answer lists (counted
    /// without collecting their names, as the other paths count bytes).
    pub async fn client(&self) -> usize {
        let response = self.client.query(&self.task).await.expect("query");
        match &response.server_response.file_list {
            Some(FileList::Json(files)) => files.len(),
            Some(FileList::Text(_)) => 1,
            None => 0,
        }
    }
}
