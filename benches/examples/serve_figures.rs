//! Figures of `cloudrec serve` on its embedded store (docs/benchmarks.md):
//! `GET /v1/recordings/{id}` throughput against a bare axum handler serving
//! the same bytes from memory, in the same run; the time from a `POST
//! /v1/recordings` to its acquire reaching the service; and the memory of
//! `serve` idle and per live recording.
//!
//! The service is a stub in this process that answers at once, so that the
//! figures are cloudrec's own. Run with a release binary:
//!
//! ```text
//! cargo build --release -p cloudrec-cli
//! cargo run --release -p cloudrec-benches --example serve_figures -- target/release/cloudrec
//! ```

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RECORDINGS: usize = 200;
const CONNECTIONS: usize = 16;
const LOAD: Duration = Duration::from_secs(5);

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// Reads one HTTP/1.1 request; `None` at the end of the connection.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((path, body))
}

/// A Cloud Recording service that answers every call at once and notes when
/// each channel's acquire arrived.
fn stub_service(arrivals: Arrivals) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let arrivals = Arc::clone(&arrivals);
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                while let Some((path, body)) = read_request(&mut reader) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let answer = if path.ends_with("/acquire") {
                        let body: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        if let Some(cname) = body["cname"].as_str() {
                            arrivals
                                .lock()
                                .unwrap()
                                .insert(cname.to_owned(), Instant::now());
                        }
                        format!("{{\"resourceId\":\"res-{n}\"}}")
                    } else if path.ends_with("/start") {
                        format!("{{\"resourceId\":\"res-{n}\",\"sid\":\"sid{n:028}\"}}")
                    } else if path.ends_with("/query") {
                        "{\"resourceId\":\"r\",\"sid\":\"s\",\"serverResponse\":{\"status\":5,\"fileList\":[]}}".to_owned()
                    } else {
                        "{\"resourceId\":\"r\",\"sid\":\"s\",\"serverResponse\":{\"uploadingStatus\":\"uploaded\",\"fileList\":[]}}".to_owned()
                    };
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if writer.write_all(reply.as_bytes()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// One request on a fresh connection; the status and body.
fn call(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// GETs `path` on `CONNECTIONS` keep-alive connections for `LOAD`; answers per second.
fn throughput(addr: SocketAddr, path: &str) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (stop, done, path) = (Arc::clone(&stop), Arc::clone(&done), path.to_owned());
            std::thread::spawn(move || {
                let stream = TcpStream::connect(addr).unwrap();
                stream.set_nodelay(true).unwrap();
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
                while !stop.load(Ordering::Relaxed) {
                    writer.write_all(request.as_bytes()).unwrap();
                    let mut length = 0;
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    assert!(line.contains(" 200 "), "{line}");
                    loop {
                        line.clear();
                        reader.read_line(&mut line).unwrap();
                        let header = line.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(LOAD);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / LOAD.as_secs_f64()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let binary = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/release/cloudrec".to_owned());
    let arrivals: Arrivals = Arc::default();
    let service = stub_service(Arc::clone(&arrivals));
    let dir = std::env::temp_dir().join(format!("cloudrec-serve-figures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("cloudrec.toml");
    std::fs::write(
        &config,
        format!(
            "[[app]]\nid = \"0123456789abcdef0123456789abcdef\"\ncustomer_id = \"c\"\ncustomer_secret_env = \"BENCH_SECRET\"\nrate = 100000\ntask_limit = 100000\nbase_url = \"http://{service}\"\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(&binary)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--state-dir",
            dir.to_str().unwrap(),
        ])
        .args(["--config", config.to_str().unwrap()])
        .env("BENCH_SECRET", "s")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {binary}: {e}; build it with cargo build --release -p cloudrec-cli")
        });
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let addr: SocketAddr = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "serve ended before listening"
        );
        if let Some((_, rest)) = line.split_once("listens on http://") {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in stderr.lines() {});
    let serve = Serve(child);
    let pid = serve.0.id();
    std::thread::sleep(Duration::from_secs(1));
    let idle = rss_kib(pid);

    let mut to_acquire = Vec::new();
    let mut to_answer = Vec::new();
    let mut first_id = String::new();
    for n in 0..RECORDINGS {
        let cname = format!("bench-{n}");
        let body = format!(
            "{{\"mode\":\"mix\",\"cname\":\"{cname}\",\"uid\":\"{}\",\"clientRequest\":{{\"recordingConfig\":{{\"channelType\":0}},\"storageConfig\":{{\"vendor\":1,\"region\":0,\"bucket\":\"b\",\"accessKey\":\"a\",\"secretKey\":\"s\"}}}}}}",
            1000 + n
        );
        let sent = Instant::now();
        let (status, answer) = call(addr, "POST", "/v1/recordings", &body);
        to_answer.push(sent.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 201, "{answer}");
        if first_id.is_empty() {
            let recording: serde_json::Value = serde_json::from_str(&answer).unwrap();
            first_id = recording["id"].as_str().unwrap().to_owned();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let arrived = loop {
            if let Some(at) = arrivals.lock().unwrap().get(&cname) {
                break *at;
            }
            assert!(Instant::now() < deadline, "no acquire for {cname}");
            std::thread::sleep(Duration::from_micros(200));
        };
        to_acquire.push(arrived.duration_since(sent).as_secs_f64() * 1000.0);
    }
    std::thread::sleep(Duration::from_secs(3));
    let busy = rss_kib(pid);
    to_acquire.sort_by(f64::total_cmp);
    to_answer.sort_by(f64::total_cmp);

    let path = format!("/v1/recordings/{first_id}");
    let (_, bytes) = call(addr, "GET", &path, "");
    let served = throughput(addr, &path);
    let health = throughput(addr, "/healthz");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bare: SocketAddr = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let bytes = axum::body::Bytes::from(bytes);
        let router = axum::Router::new().route(
            "/v1/recordings/{id}",
            axum::routing::get(move || {
                let bytes = bytes.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        bytes,
                    )
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        addr
    });
    let baseline = throughput(bare, &path);

    println!("cloudrec serve on its embedded store (SQLite), {RECORDINGS} recordings");
    println!(
        "memory idle: {} KiB RSS; with {RECORDINGS} live recordings: {} KiB ({:.1} KiB per recording)",
        idle,
        busy,
        (busy.saturating_sub(idle)) as f64 / RECORDINGS as f64
    );
    println!(
        "POST /v1/recordings answered: p50 {:.2} ms, p99 {:.2} ms; to its acquire at the service: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&to_answer, 0.5),
        percentile(&to_answer, 0.99),
        percentile(&to_acquire, 0.5),
        percentile(&to_acquire, 0.99)
    );
    println!(
        "GET /v1/recordings/{{id}}, {CONNECTIONS} keep-alive connections for {} s: serve {served:.0}/s, bare axum from memory {baseline:.0}/s, ratio {:.2}",
        LOAD.as_secs(),
        served / baseline
    );
    println!("GET /healthz (the same layers, no store read): serve {health:.0}/s");
    drop(serve);
    let _ = std::fs::remove_dir_all(dir);
}
