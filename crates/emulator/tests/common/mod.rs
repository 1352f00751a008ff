//! A plain hyper client for the emulator tests.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use cloudrec_emulator::{Emulator, EmulatorConfig};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// Starts an emulator on an ephemeral loopback port.
pub fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config, "127.0.0.1:0".parse().unwrap()).unwrap()
}

/// A config for fast tests: a large time scale, no rate limit, and resources that
/// stay valid for a day of emulator time (so a slow machine cannot expire them
/// between acquire and start).
pub fn fast() -> EmulatorConfig {
    EmulatorConfig {
        time_scale: 1000.0,
        rate_limit_per_sec: 0,
        resource_ttl: Duration::from_secs(86_400),
        ..EmulatorConfig::default()
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// A client speaking to one emulator with the default credentials.
pub struct Client {
    http: HyperClient<HttpConnector, Full<Bytes>>,
    pub base: String,
    pub app: String,
    pub auth: Option<String>,
}

pub fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

impl Client {
    pub fn new(emulator: &Emulator) -> Self {
        Self {
            http: HyperClient::builder(TokioExecutor::new()).build_http(),
            base: emulator.base_url(),
            app: cloudrec_emulator::DEFAULT_APP_ID.to_owned(),
            auth: Some(basic(
                cloudrec_emulator::DEFAULT_CUSTOMER_ID,
                cloudrec_emulator::DEFAULT_CUSTOMER_SECRET,
            )),
        }
    }

    /// Sends a request; `content_type` None sends no Content-Type header.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Answer, hyper_util::client::legacy::Error> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(auth) = &self.auth {
            request = request.header("authorization", auth);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let request = request.body(Full::new(Bytes::from(body))).unwrap();
        let response = self.http.request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Ok(Answer { status, body })
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let bytes = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let content_type = body.map(|_| "application/json;charset=utf-8");
        self.raw(method, path, content_type, bytes).await.unwrap()
    }

    pub fn api(&self, rest: &str) -> String {
        format!("/v1/apps/{}/cloud_recording{rest}", self.app)
    }

    pub async fn acquire(&self, cname: &str, uid: &str, client_request: Value) -> Answer {
        let body = json!({"cname": cname, "uid": uid, "clientRequest": client_request});
        self.send("POST", &self.api("/acquire"), Some(&body)).await
    }

    pub async fn acquire_id(&self, cname: &str, uid: &str, scene: i64) -> String {
        let answer = self.acquire(cname, uid, json!({"scene": scene})).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body["resourceId"].as_str().unwrap().to_owned()
    }

    pub async fn start(
        &self,
        rid: &str,
        mode: &str,
        cname: &str,
        uid: &str,
        client_request: &Value,
    ) -> Answer {
        let body = json!({"cname": cname, "uid": uid, "clientRequest": client_request});
        self.send(
            "POST",
            &self.api(&format!("/resourceid/{rid}/mode/{mode}/start")),
            Some(&body),
        )
        .await
    }

    pub fn task_path(&self, task: &Task, op: &str) -> String {
        self.api(&format!(
            "/resourceid/{}/sid/{}/mode/{}/{op}",
            task.rid, task.sid, task.mode
        ))
    }

    pub async fn query(&self, task: &Task) -> Answer {
        self.send("GET", &self.task_path(task, "query"), None).await
    }

    pub async fn post_task(&self, task: &Task, op: &str, client_request: Value) -> Answer {
        let body = json!({"cname": task.cname, "uid": task.uid, "clientRequest": client_request});
        self.send("POST", &self.task_path(task, op), Some(&body))
            .await
    }

    pub async fn stop(&self, task: &Task, async_stop: bool) -> Answer {
        self.post_task(task, "stop", json!({"async_stop": async_stop}))
            .await
    }

    /// Acquires and starts; panics unless both succeed.
    pub async fn session(
        &self,
        mode: &str,
        cname: &str,
        uid: &str,
        client_request: &Value,
    ) -> Task {
        let scene = i64::from(mode == "web");
        let rid = self.acquire_id(cname, uid, scene).await;
        let answer = self.start(&rid, mode, cname, uid, client_request).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        let sid = answer.body["sid"].as_str().unwrap().to_owned();
        Task {
            rid,
            sid,
            mode: mode.to_owned(),
            cname: cname.to_owned(),
            uid: uid.to_owned(),
        }
    }

    /// Queries until `done` holds for the answer; at most `tries` queries.
    pub async fn query_until(
        &self,
        task: &Task,
        tries: u32,
        done: impl Fn(&Answer) -> bool,
    ) -> Answer {
        for _ in 0..tries {
            let answer = self.query(task).await;
            if done(&answer) {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("condition not reached after {tries} queries");
    }
}

/// A started task.
#[derive(Clone, Debug)]
pub struct Task {
    pub rid: String,
    pub sid: String,
    pub mode: String,
    pub cname: String,
    pub uid: String,
}

/// A start `clientRequest` from the shared fixtures of cloudrec-types.
pub fn fixture_request(name: &str) -> Value {
    let path = format!(
        "{}/../types/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let body: Value = serde_json::from_str(&text).unwrap();
    body["clientRequest"].clone()
}

/// A minimal valid start `clientRequest` for mode `mode`.
pub fn minimal_start(mode: &str) -> Value {
    let storage =
        json!({"vendor": 1, "region": 0, "bucket": "bucket", "accessKey": "ak", "secretKey": "sk"});
    match mode {
        "web" => json!({
            "extensionServiceConfig": {"extensionServices": [{
                "serviceName": "web_recorder_service",
                "serviceParam": {"url": "https://example.com", "audioProfile": 0,
                    "videoWidth": 1280, "videoHeight": 720, "maxRecordingHour": 1}
            }]},
            "storageConfig": storage,
        }),
        _ => json!({
            "recordingConfig": {"channelType": 0, "maxIdleTime": 30},
            "recordingFileConfig": {"avFileType": ["hls"]},
            "storageConfig": storage,
        }),
    }
}
