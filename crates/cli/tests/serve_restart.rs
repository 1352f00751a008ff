//! A single-node `cloudrec serve` killed with SIGKILL and started again on the
//! same `--state-dir` takes every recording back from its SQLite store: the
//! same tasks keep recording, none is started twice, and all stop at the end.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::serve::{EmulatorProc, ServeProc, mix_body, temp_dir};

const LIMIT: Duration = Duration::from_secs(90);
const RECORDINGS: u32 = 6;

fn sids(emulator: &EmulatorProc) -> BTreeSet<String> {
    emulator
        .live_tasks()
        .iter()
        .filter_map(|task| task["sid"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_killed_single_node_resumes_every_recording_from_its_state_dir() {
    let emulator = EmulatorProc::start(&[]);
    let dir = temp_dir("serve-restart");
    let state = dir.to_str().unwrap();
    let args = ["--state-dir", state, "--poll-interval", "1s"];
    let mut first = ServeProc::start(&emulator.base_url, &args, &[]);
    let ids: Vec<String> = (0..RECORDINGS)
        .map(|n| {
            let reply = first.post("/v1/recordings", &mix_body(&format!("room-{n}"), 100 + n));
            assert_eq!(reply.status, 201, "{}", reply.body);
            reply.json()["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let mut before = BTreeSet::new();
    for id in &ids {
        let running = first.wait_for_recording(id, LIMIT, |r| r["state"] == "running");
        before.insert(running["sid"].as_str().unwrap().to_owned());
    }
    assert_eq!(sids(&emulator), before);

    first.proc.signal("KILL");
    first.proc.wait(LIMIT);

    let second = ServeProc::start(&emulator.base_url, &args, &[]);
    for id in &ids {
        let recording = second.get(&format!("/v1/recordings/{id}")).json();
        assert_eq!(recording["state"], "running", "{recording}");
        assert!(recording["owner"].is_string(), "{recording}");
    }
    let metrics = second.get("/metrics").body;
    assert!(
        metrics.contains(&format!("cloudrec_takeovers_total {RECORDINGS}")),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "cloudrec_sessions{{state=\"running\"}} {RECORDINGS}"
        )),
        "{metrics}"
    );
    // The same tasks record on: nothing was started again.
    assert_eq!(sids(&emulator), before);
    let requests = common::serve::http(emulator.addr, "GET", "/_emulator/requests", &[], b"").body;
    assert_eq!(
        requests.matches("/start").count(),
        RECORDINGS as usize,
        "every recording started once"
    );

    for id in &ids {
        let stop = second.post(
            &format!("/v1/recordings/{id}/stop"),
            &serde_json::Value::Null,
        );
        assert_eq!(stop.status, 202, "{}", stop.body);
    }
    for id in &ids {
        let ended = second.wait_for_recording(id, LIMIT, |r| {
            common::serve::is_terminal(r["state"].as_str().unwrap_or(""))
        });
        assert!(
            ended["state"].as_str().unwrap().starts_with("stopped"),
            "{ended}"
        );
    }
    assert!(emulator.live_tasks().is_empty());
    let _ = std::fs::remove_dir_all(dir);
}
