//! A fleet of `cloudrec serve` workers on one PostgreSQL store and one
//! emulator: a worker killed with SIGKILL, a rolling deploy with SIGTERM, and a
//! worker paused with SIGSTOP past its lease. In each, every recording keeps
//! its task (no restart, no second task), is supervised by exactly one live
//! worker, and stops only when asked. Also: commands (update, update-layout,
//! stop, an NCS exit) asked on a worker that does not own the recording reach
//! the service once, through its owner.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

use common::serve::{EmulatorProc, ServeProc, http, is_terminal, mix_body, temp_dir};

const LIMIT: Duration = Duration::from_secs(120);

/// A throwaway database on the machine's PostgreSQL, dropped at the end.
struct Database {
    name: String,
    url: String,
}

fn psql(sql: &str) {
    let host = std::env::var("CLOUDREC_TEST_PGHOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let output = Command::new("psql")
        .args([
            "-h",
            &host,
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .expect("psql runs (install postgresql-client)");
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Database {
    fn create(name: &str) -> Self {
        let name = format!("cloudrec_{name}_{}", std::process::id());
        psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        psql(&format!("CREATE DATABASE {name}"));
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        Self { name, url }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

struct Fleet {
    emulator: EmulatorProc,
    database: Database,
    dir: std::path::PathBuf,
    workers: BTreeMap<String, ServeProc>,
    extra: Vec<String>,
}

impl Fleet {
    fn new(name: &str, workers: usize) -> Self {
        // Room for 60 tasks at once: the fleet-wide task limit is not built,
        // and each worker alone admits 50.
        Self::with(
            name,
            workers,
            &["--rate-limit", "100", "--task-limit", "100"],
            &[],
        )
    }

    fn with(name: &str, workers: usize, emulator: &[&str], extra: &[&str]) -> Self {
        let mut fleet = Self {
            emulator: EmulatorProc::start(emulator),
            database: Database::create(name),
            dir: temp_dir(name),
            workers: BTreeMap::new(),
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        };
        for n in 0..workers {
            fleet.start(&format!("w{n}"));
        }
        fleet
    }

    fn start(&mut self, worker: &str) {
        let mut extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        if !extra.contains(&"--lease") {
            // Short leases keep the tests short.
            extra.extend(["--lease", "3s"]);
        }
        let state = self.dir.join(worker);
        let serve = ServeProc::start(
            &self.emulator.base_url,
            &[
                "--database-url",
                &self.database.url,
                "--worker-id",
                worker,
                "--state-dir",
                state.to_str().unwrap(),
                "--poll-interval",
                "1s",
            ]
            .into_iter()
            .chain(extra)
            .collect::<Vec<_>>(),
            &[],
        );
        self.workers.insert(worker.to_owned(), serve);
    }

    fn any(&self) -> &ServeProc {
        self.workers.values().next_back().expect("a live worker")
    }

    fn recordings(&self) -> Vec<serde_json::Value> {
        let page = self.any().get("/v1/recordings?limit=1000").json();
        page["recordings"].as_array().unwrap().clone()
    }

    /// Waits until every recording runs, owned by a live worker; answers
    /// each recording's sid.
    fn all_running_on_live_workers(&self) -> BTreeMap<String, String> {
        let deadline = Instant::now() + LIMIT;
        loop {
            let recordings = self.recordings();
            let settled = recordings.iter().all(|r| {
                r["state"] == "running"
                    && r["owner"]
                        .as_str()
                        .is_some_and(|o| self.workers.contains_key(o))
            });
            if settled {
                return recordings
                    .iter()
                    .map(|r| {
                        (
                            r["id"].as_str().unwrap().to_owned(),
                            r["sid"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect();
            }
            assert!(
                Instant::now() < deadline,
                "not all running on live workers: {recordings:#?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn create(&self, count: u32) -> Vec<String> {
        let workers: Vec<&ServeProc> = self.workers.values().collect();
        (0..count)
            .map(|n| {
                let serve = workers[n as usize % workers.len()];
                let reply =
                    serve.post("/v1/recordings", &mix_body(&format!("fleet-{n}"), 2000 + n));
                assert_eq!(reply.status, 201, "{}", reply.body);
                reply.json()["id"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    fn live_sids(&self) -> BTreeSet<String> {
        self.emulator
            .live_tasks()
            .iter()
            .filter_map(|task| task["sid"].as_str().map(str::to_owned))
            .collect()
    }

    fn starts(&self) -> usize {
        http(self.emulator.addr, "GET", "/_emulator/requests", &[], b"")
            .body
            .matches("/start")
            .count()
    }

    /// How many calls the emulator saw whose path ends with `/{endpoint}`.
    fn calls(&self, endpoint: &str) -> usize {
        let log = http(self.emulator.addr, "GET", "/_emulator/requests", &[], b"").json();
        let suffix = format!("/{endpoint}");
        log.as_array()
            .expect("the request log is an array")
            .iter()
            .filter(|record| {
                record["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(&suffix))
            })
            .count()
    }

    /// Stops every recording through its owner and waits until all stopped.
    fn stop_all(&self) {
        for recording in self.recordings() {
            let owner = recording["owner"].as_str().unwrap();
            let id = recording["id"].as_str().unwrap();
            let stop = self.workers[owner].post(
                &format!("/v1/recordings/{id}/stop"),
                &serde_json::Value::Null,
            );
            assert_eq!(stop.status, 202, "{}", stop.body);
        }
        for recording in self.recordings() {
            let id = recording["id"].as_str().unwrap();
            let ended = self.any().wait_for_recording(id, LIMIT, |r| {
                is_terminal(r["state"].as_str().unwrap_or(""))
            });
            assert!(
                ended["state"].as_str().unwrap().starts_with("stopped"),
                "{ended}"
            );
        }
        assert!(
            self.emulator.live_tasks().is_empty(),
            "tasks left: {:?}",
            self.emulator.live_tasks()
        );
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.workers.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_worker_killed_with_sigkill_has_its_recordings_taken_over_and_none_restarted() {
    let mut fleet = Fleet::new("fleet_kill", 3);
    fleet.create(60);
    let sids = fleet.all_running_on_live_workers();
    assert_eq!(sids.len(), 60);
    let before: BTreeSet<String> = sids.values().cloned().collect();
    assert_eq!(fleet.live_sids(), before);
    let victims = fleet
        .recordings()
        .iter()
        .filter(|r| r["owner"] == "w0")
        .count();
    assert!(victims > 0);

    let mut dead = fleet.workers.remove("w0").unwrap();
    dead.proc.signal("KILL");
    dead.proc.wait(LIMIT);

    let after = fleet.all_running_on_live_workers();
    assert_eq!(after, sids, "every recording kept its task");
    assert_eq!(fleet.live_sids(), before, "no task was added or lost");
    assert_eq!(fleet.starts(), 60, "no recording was started twice");
    let taken: usize = fleet
        .workers
        .values()
        .map(|w| {
            let metrics = w.get("/metrics").body;
            metrics
                .lines()
                .find_map(|l| l.strip_prefix("cloudrec_takeovers_total "))
                .and_then(|n| n.trim().parse::<usize>().ok())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(
        taken, victims,
        "the dead worker's recordings were claimed once each"
    );
    fleet.stop_all();
}

#[test]
fn a_rolling_deploy_hands_every_recording_over_and_stops_none() {
    let mut fleet = Fleet::new("fleet_deploy", 3);
    fleet.create(30);
    let sids = fleet.all_running_on_live_workers();
    for worker in ["w0", "w1", "w2"] {
        let mut old = fleet.workers.remove(worker).unwrap();
        old.proc.signal("TERM");
        assert_eq!(old.proc.wait(LIMIT), Some(0), "{}", old.proc.output());
        assert!(
            old.proc.output().contains("handed"),
            "{}",
            old.proc.output()
        );
        fleet.all_running_on_live_workers();
        fleet.start(worker);
    }
    let after = fleet.all_running_on_live_workers();
    assert_eq!(
        after, sids,
        "every recording kept its task through the deploy"
    );
    assert_eq!(fleet.live_sids(), sids.values().cloned().collect());
    assert_eq!(fleet.starts(), 30, "no recording was started twice");
    let stops = http(fleet.emulator.addr, "GET", "/_emulator/requests", &[], b"")
        .body
        .matches("/stop")
        .count();
    assert_eq!(stops, 0, "nothing was stopped by the deploy");
    fleet.stop_all();
}

#[test]
fn a_worker_paused_past_its_lease_gives_its_recordings_up_and_does_not_act_on_them() {
    let fleet = Fleet::new("fleet_pause", 2);
    let w0 = &fleet.workers["w0"];
    let ids: Vec<String> = (0..8)
        .map(|n| {
            let reply = w0.post("/v1/recordings", &mix_body(&format!("pause-{n}"), 3000 + n));
            reply.json()["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let sids = fleet.all_running_on_live_workers();
    assert_eq!(sids.len(), ids.len());
    fleet.workers["w0"].proc.signal("STOP");
    // w1 takes every recording once w0's leases expire on the database's clock.
    let deadline = Instant::now() + LIMIT;
    while !fleet
        .recordings()
        .iter()
        .all(|r| r["owner"] == "w1" && r["state"] == "running")
    {
        assert!(
            Instant::now() < deadline,
            "w1 did not take over: {:#?}",
            fleet.recordings()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let stops_before = http(fleet.emulator.addr, "GET", "/_emulator/requests", &[], b"")
        .body
        .matches("/stop")
        .count();
    fleet.workers["w0"].proc.signal("CONT");
    // w0 wakes, finds its leases gone, and gives every recording up.
    let deadline = Instant::now() + LIMIT;
    loop {
        let metrics = fleet.workers["w0"].get("/metrics").body;
        if metrics.contains("cloudrec_sessions{state=\"running\"} 0") {
            break;
        }
        assert!(Instant::now() < deadline, "w0 still supervises:\n{metrics}");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    let after = fleet.all_running_on_live_workers();
    assert_eq!(after, sids);
    assert!(fleet.recordings().iter().all(|r| r["owner"] == "w1"));
    assert_eq!(fleet.live_sids(), sids.values().cloned().collect());
    let stops_after = http(fleet.emulator.addr, "GET", "/_emulator/requests", &[], b"")
        .body
        .matches("/stop")
        .count();
    assert_eq!(
        stops_after, stops_before,
        "the paused worker stopped nothing"
    );
    assert_eq!(fleet.starts(), ids.len());
    fleet.stop_all();
}

#[test]
fn commands_asked_on_another_worker_reach_the_owner_once() {
    let fleet = Fleet::new("fleet_commands", 2);
    let (w0, w1) = (&fleet.workers["w0"], &fleet.workers["w1"]);
    let created = w0.post("/v1/recordings", &mix_body("commands", 4000));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    fleet.all_running_on_live_workers();
    assert_eq!(
        w1.get(&format!("/v1/recordings/{id}")).json()["owner"],
        "w0"
    );

    let layout = w1.post(
        &format!("/v1/recordings/{id}/update-layout"),
        &serde_json::json!({"clientRequest": {"mixedVideoLayout": 1}}),
    );
    assert_eq!(layout.status, 202, "{}", layout.body);
    assert_eq!(fleet.calls("updateLayout"), 1, "the owner sent it once");
    let update = w1.post(
        &format!("/v1/recordings/{id}/update"),
        &serde_json::json!({"clientRequest": {"streamSubscribe": {"audioUidList": {"subscribeAudioUids": ["#allstream#"]}}}}),
    );
    assert_eq!(update.status, 202, "{}", update.body);
    assert_eq!(fleet.calls("update"), 1);

    let stop = w1.post(
        &format!("/v1/recordings/{id}/stop"),
        &serde_json::Value::Null,
    );
    assert_eq!(stop.status, 202, "{}", stop.body);
    let ended = w1.wait_for_recording(&id, LIMIT, |r| {
        is_terminal(r["state"].as_str().unwrap_or(""))
    });
    assert!(
        ended["state"].as_str().unwrap().starts_with("stopped"),
        "{ended}"
    );
    assert_eq!(ended["owner"], "w0", "the owner stopped it");
    // A second stop asked after the end changes nothing.
    let again = w1.post(
        &format!("/v1/recordings/{id}/stop"),
        &serde_json::Value::Null,
    );
    assert_eq!(again.status, 202, "{}", again.body);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fleet.calls("stop"), 1, "one stop reached the service");
    assert!(fleet.emulator.live_tasks().is_empty());
    // An update after the end is refused at once, by the asker.
    let late = w1.post(
        &format!("/v1/recordings/{id}/update-layout"),
        &serde_json::json!({"clientRequest": {"mixedVideoLayout": 1}}),
    );
    assert_eq!(late.status, 409, "{}", late.body);
}

#[test]
fn a_command_for_a_paused_owner_is_applied_by_the_next_owner() {
    let fleet = Fleet::new("fleet_next_owner", 2);
    let (w0, w1) = (&fleet.workers["w0"], &fleet.workers["w1"]);
    let created = w0.post("/v1/recordings", &mix_body("next-owner", 4200));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    w0.wait_for_recording(&id, LIMIT, |r| r["state"] == "running");
    w0.proc.signal("STOP");
    // w0 cannot apply them; w1 takes the recording over once w0's lease ran
    // out (3 s) and applies what was left for it, in order.
    let layout = w1.post(
        &format!("/v1/recordings/{id}/update-layout"),
        &serde_json::json!({"clientRequest": {"mixedVideoLayout": 1}}),
    );
    assert_eq!(layout.status, 202, "{}", layout.body);
    assert_eq!(fleet.calls("updateLayout"), 1);
    let stop = w1.post(
        &format!("/v1/recordings/{id}/stop"),
        &serde_json::Value::Null,
    );
    assert_eq!(stop.status, 202, "{}", stop.body);
    let ended = w1.wait_for_recording(&id, LIMIT, |r| {
        is_terminal(r["state"].as_str().unwrap_or(""))
    });
    assert!(
        ended["state"].as_str().unwrap().starts_with("stopped"),
        "{ended}"
    );
    assert_eq!(ended["owner"], "w1", "{ended}");
    w0.proc.signal("CONT");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(fleet.calls("stop"), 1, "stopped once, by the next owner");
    assert!(fleet.emulator.live_tasks().is_empty());
}

#[test]
fn an_ncs_exit_that_reaches_another_worker_stops_the_recording_through_its_owner() {
    const SECRET: &str = "fleet-ncs-secret";
    let fleet = Fleet::with(
        "fleet_ncs",
        2,
        &["--rate-limit", "100", "--task-limit", "100"],
        &["--ncs-secret", SECRET],
    );
    let (w0, w1) = (&fleet.workers["w0"], &fleet.workers["w1"]);
    let created = w0.post("/v1/recordings", &mix_body("ncs-exit", 4100));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let running = w0.wait_for_recording(&id, LIMIT, |r| r["state"] == "running");
    let sid = running["sid"].as_str().unwrap().to_owned();
    assert_eq!(running["owner"], "w0");

    let notice = serde_json::to_vec(&serde_json::json!({
        "noticeId": "fleet-exit-1", "productId": 3, "eventType": 11,
        "notifyMs": 1_700_000_000_000_i64,
        "payload": {"cname": "ncs-exit", "uid": "4100", "sid": sid, "sequence": 1,
                    "sendts": 1_700_000_000_000_i64, "serviceType": 0,
                    "details": {"msgName": "session_exit", "exitStatus": 0}}
    }))
    .unwrap();
    let signature = cloudrec_types::ncs::sign(
        cloudrec_types::ncs::SignatureHeader::V2,
        &notice,
        &cloudrec_types::Secret::new(SECRET),
    );
    let reply = http(
        w1.addr,
        "POST",
        "/v1/ncs",
        &[("Agora-Signature-V2", signature.as_str())],
        &notice,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let ended = w1.wait_for_recording(&id, LIMIT, |r| {
        is_terminal(r["state"].as_str().unwrap_or(""))
    });
    assert!(
        ended["state"].as_str().unwrap().starts_with("stopped"),
        "{ended}"
    );
    assert_eq!(fleet.calls("stop"), 1, "the owner stopped it once");
    assert!(
        w1.get("/metrics")
            .body
            .contains("cloudrec_ncs_actions_total{action=\"stop_forwarded\"} 1"),
        "w1 left the exit for w0"
    );
}

/// The sum over the workers of a counter's series whose line starts with `prefix`.
fn sum_of(fleet: &Fleet, prefix: &str) -> f64 {
    fleet
        .workers
        .values()
        .flat_map(|w| {
            w.get("/metrics")
                .body
                .lines()
                .filter(|l| l.starts_with(prefix))
                .filter_map(|l| l.rsplit(' ').next().and_then(|n| n.parse::<f64>().ok()))
                .collect::<Vec<_>>()
        })
        .sum()
}

#[test]
fn three_workers_on_one_redis_budget_stay_under_the_app_ids_rate() {
    let prefix = format!("cloudrec_test_{}", std::process::id());
    // The service's own limit: 10 requests per second per App ID.
    let fleet = Fleet::with(
        "fleet_budget",
        3,
        &["--rate-limit", "10", "--task-limit", "100"],
        &[
            "--redis-url",
            "redis://127.0.0.1:6379",
            "--redis-prefix",
            &prefix,
        ],
    );
    // 30 sessions querying every second ask for about 30 requests a second.
    fleet.create(30);
    fleet.all_running_on_live_workers();
    std::thread::sleep(Duration::from_secs(5));
    let limited = fleet
        .workers
        .values()
        .filter(|w| {
            w.get("/metrics")
                .body
                .contains("resolution=\"reduce_rate\"")
        })
        .count();
    assert_eq!(limited, 0, "a request met the App ID's rate limit (429)");
    assert!(
        sum_of(&fleet, "cloudrec_budget_waits_total") > 0.0,
        "the shared budget made requests wait"
    );
    for worker in fleet.workers.values() {
        let ready = worker.get("/readyz").json();
        assert!(
            ready["checks"]["budget"]
                .as_str()
                .unwrap()
                .ends_with("redis"),
            "{ready}"
        );
    }
    fleet.stop_all();
}

/// Waits until no recording is owned by `gone`; answers how long it took.
fn time_until_taken_from(fleet: &Fleet, gone: &str, since: Instant) -> Duration {
    loop {
        let recordings = fleet.recordings();
        if recordings
            .iter()
            .all(|r| r["owner"] != gone && r["state"] == "running")
        {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < LIMIT,
            "{gone}'s recordings were not taken over"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The figures of docs/benchmarks.md: takeover after SIGKILL and handoff after
/// SIGTERM, with the default 15 s lease (`--lease` from the environment
/// `CLOUDREC_BENCH_LEASE` otherwise). Run with
/// `cargo test -p cloudrec-cli --test serve_fleet -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement: prints the takeover and handoff times"]
fn measure_takeover_and_handoff() {
    let lease = std::env::var("CLOUDREC_BENCH_LEASE").unwrap_or_else(|_| "15s".to_owned());
    let mut fleet = Fleet::with(
        "fleet_figures",
        0,
        &["--rate-limit", "100", "--task-limit", "100"],
        &["--lease", &lease],
    );
    for worker in ["w0", "w1", "w2"] {
        fleet.start(worker);
    }
    fleet.create(30);
    fleet.all_running_on_live_workers();
    let mut dead = fleet.workers.remove("w0").unwrap();
    let killed = Instant::now();
    dead.proc.signal("KILL");
    let takeover = time_until_taken_from(&fleet, "w0", killed);
    dead.proc.wait(LIMIT);
    let mut leaving = fleet.workers.remove("w1").unwrap();
    let signalled = Instant::now();
    leaving.proc.signal("TERM");
    let handoff = time_until_taken_from(&fleet, "w1", signalled);
    leaving.proc.wait(LIMIT);
    println!(
        "lease {lease}: takeover after SIGKILL {:.2} s, handoff after SIGTERM {:.2} s",
        takeover.as_secs_f64(),
        handoff.as_secs_f64()
    );
    fleet.stop_all();
}
