//! Real processes for the service tests: `cloudrec emulator` and `cloudrec
//! serve` started on free loopback ports, and a small blocking HTTP/1.1 client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::cloudrec;

/// The emulator's App ID, customer id and secret (its defaults).
pub const APP_ID: &str = "0123456789abcdef0123456789abcdef";
pub const CUSTOMER_ID: &str = "cloudrec-emulator";
pub const CUSTOMER_SECRET: &str = "emulator-secret";

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {} {}", self.status, self.body))
    }
}

/// Sends one request (`Connection: close`) and reads the whole answer.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // A refused large body may close the connection before it is all written.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse(&raw)
}

fn parse(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

/// A child process whose output lines are collected as they come.
pub struct Proc {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn spawn(mut command: std::process::Command) -> Self {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("the binary starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Self { child, lines }
    }

    pub fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits for a line containing `marker`; answers the text after it.
    fn wait_for(&mut self, marker: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(rest) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find_map(|line| line.split_once(marker).map(|(_, rest)| rest.to_owned()))
            {
                return rest;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the process ended ({status}) before saying {marker:?}:\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {marker:?} within {limit:?}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (e.g. libc's SIGTERM number, via `kill`).
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the process to end; its exit code.
    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the process did not end within {limit:?}:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `cloudrec emulator` process.
pub struct EmulatorProc {
    pub proc: Proc,
    pub base_url: String,
    pub addr: SocketAddr,
}

impl EmulatorProc {
    pub fn start(extra: &[&str]) -> Self {
        let mut command = cloudrec();
        command
            .args(["emulator", "--listen", "127.0.0.1:0"])
            .args(extra);
        let mut proc = Proc::spawn(command);
        let rest = proc.wait_for("listening at ", Duration::from_secs(30));
        let base_url = rest.split_whitespace().next().unwrap().to_owned();
        let addr = base_url.trim_start_matches("http://").parse().unwrap();
        Self {
            proc,
            base_url,
            addr,
        }
    }

    /// The tasks the emulator still runs (ended ones are not listed).
    pub fn live_tasks(&self) -> Vec<serde_json::Value> {
        let reply = http(self.addr, "GET", "/_emulator/tasks", &[], b"");
        reply.json().as_array().cloned().unwrap_or_default()
    }
}

/// A `cloudrec serve` process.
pub struct ServeProc {
    pub proc: Proc,
    pub addr: SocketAddr,
}

impl ServeProc {
    /// `cloudrec serve --listen 127.0.0.1:0` with `args`, recording on the
    /// emulator at `base_url` with its default credentials.
    pub fn start(base_url: &str, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut command = cloudrec();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--base-url", base_url])
            .args(args)
            .env("CLOUDREC_APP_ID", APP_ID)
            .env("CLOUDREC_CUSTOMER_ID", CUSTOMER_ID)
            .env("CLOUDREC_CUSTOMER_SECRET", CUSTOMER_SECRET);
        for (key, value) in envs {
            command.env(key, value);
        }
        Self::spawn(command)
    }

    /// `cloudrec serve` with exactly `args`.
    pub fn spawn(command: std::process::Command) -> Self {
        let mut proc = Proc::spawn(command);
        let rest = proc.wait_for("listens on http://", Duration::from_secs(60));
        let addr = rest.split_whitespace().next().unwrap().parse().unwrap();
        Self { proc, addr }
    }

    pub fn get(&self, path: &str) -> Reply {
        http(self.addr, "GET", path, &[], b"")
    }

    pub fn post(&self, path: &str, body: &serde_json::Value) -> Reply {
        let body = if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(body).unwrap()
        };
        http(self.addr, "POST", path, &[], &body)
    }

    /// Polls recording `id` until `done` holds for it; answers it.
    pub fn wait_for_recording(
        &self,
        id: &str,
        limit: Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + limit;
        loop {
            let recording = self.get(&format!("/v1/recordings/{id}")).json();
            if done(&recording) {
                return recording;
            }
            assert!(
                Instant::now() < deadline,
                "recording {id} did not get there within {limit:?}: {recording}\n{}",
                self.proc.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A mix recording body for channel `cname`.
pub fn mix_body(cname: &str, uid: u32) -> serde_json::Value {
    serde_json::json!({
        "mode": "mix",
        "cname": cname,
        "uid": uid.to_string(),
        "clientRequest": {
            "recordingConfig": {"channelType": 0},
            "storageConfig": {"vendor": 1, "region": 0, "bucket": "bucket",
                              "accessKey": "AK-NEVER-SHOWN", "secretKey": "SK-NEVER-SHOWN"}
        }
    })
}

/// A fresh directory under the temp dir, removed by the caller.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "cloudrec-{name}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether `state` names an end.
pub fn is_terminal(state: &str) -> bool {
    matches!(state, "stopped" | "stopped_no_data" | "failed" | "lost")
}

/// One `cloudrec emulator` and one single-node `cloudrec serve` recording on
/// it, with a state dir of their own that is removed at the end.
pub struct SingleNode {
    pub serve: ServeProc,
    pub emulator: EmulatorProc,
    pub dir: std::path::PathBuf,
}

impl SingleNode {
    /// A fresh emulator, and `serve` on it with `args` and `envs`.
    pub fn start(name: &str, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let emulator = EmulatorProc::start(&[]);
        let dir = temp_dir(name);
        let state = dir.to_str().unwrap().to_owned();
        let args: Vec<&str> = ["--state-dir", state.as_str()]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        let serve = ServeProc::start(&emulator.base_url, &args, envs);
        Self {
            serve,
            emulator,
            dir,
        }
    }
}

impl Drop for SingleNode {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
