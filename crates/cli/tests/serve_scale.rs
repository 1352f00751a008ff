//! 200 recordings created at once through the API of one `cloudrec serve`:
//! each waits for one of the App ID's 50 task slots, records, and stops; at
//! the end every one has stopped and the emulator holds no task.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::serve::{CUSTOMER_ID, EmulatorProc, ServeProc, is_terminal, mix_body, temp_dir};

const RECORDINGS: u32 = 200;
const CLIENTS: u32 = 20;
const LIMIT: Duration = Duration::from_secs(240);

#[test]
fn two_hundred_recordings_created_at_once_all_end_stopped_and_leave_no_task() {
    // The App ID's 50 tasks at once, as the service allows; a rate above the
    // documented 10/s so that the test runs in seconds.
    let emulator = EmulatorProc::start(&["--rate-limit", "200", "--task-limit", "50"]);
    let dir = temp_dir("serve-scale");
    let config = dir.join("cloudrec.toml");
    std::fs::write(
        &config,
        format!(
            "[[app]]\nid = \"{}\"\ncustomer_id = \"{CUSTOMER_ID}\"\ncustomer_secret_env = \"CLOUDREC_CUSTOMER_SECRET\"\nrate = 200\ntask_limit = 50\nbase_url = \"{}\"\n",
            common::serve::APP_ID,
            emulator.base_url
        ),
    )
    .unwrap();
    let mut command = common::cloudrec();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--poll-interval", "1s"])
        .args([
            "--state-dir",
            dir.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .env("CLOUDREC_CUSTOMER_SECRET", common::serve::CUSTOMER_SECRET);
    let serve = Arc::new(ServeProc::spawn(command));

    let creators: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let serve = Arc::clone(&serve);
            std::thread::spawn(move || {
                (0..RECORDINGS / CLIENTS)
                    .map(|n| {
                        let k = client * (RECORDINGS / CLIENTS) + n;
                        let reply = serve
                            .post("/v1/recordings", &mix_body(&format!("scale-{k}"), 1000 + k));
                        assert_eq!(reply.status, 201, "{}", reply.body);
                        reply.json()["id"].as_str().unwrap().to_owned()
                    })
                    .collect::<Vec<String>>()
            })
        })
        .collect();
    let ids: Vec<String> = creators
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(ids.len(), RECORDINGS as usize);

    // Each recording is stopped once it runs; the next ones take the freed slots.
    let stoppers: Vec<_> = ids
        .chunks(ids.len() / CLIENTS as usize)
        .map(|chunk| {
            let serve = Arc::clone(&serve);
            let chunk = chunk.to_vec();
            std::thread::spawn(move || {
                for id in &chunk {
                    serve.wait_for_recording(id, LIMIT, |r| r["state"] == "running");
                    let stop = serve.post(
                        &format!("/v1/recordings/{id}/stop"),
                        &serde_json::Value::Null,
                    );
                    assert_eq!(stop.status, 202, "{}", stop.body);
                }
                for id in &chunk {
                    let ended = serve.wait_for_recording(id, LIMIT, |r| {
                        is_terminal(r["state"].as_str().unwrap_or(""))
                    });
                    assert!(
                        ended["state"].as_str().unwrap().starts_with("stopped"),
                        "{ended}"
                    );
                }
            })
        })
        .collect();
    for stopper in stoppers {
        stopper.join().unwrap();
    }
    assert!(emulator.live_tasks().is_empty());
    let stopped = serve.get("/v1/recordings?state=stopped&limit=1000").json();
    let no_data = serve
        .get("/v1/recordings?state=stopped_no_data&limit=1000")
        .json();
    let ended = stopped["recordings"].as_array().unwrap().len()
        + no_data["recordings"].as_array().unwrap().len();
    assert_eq!(ended, RECORDINGS as usize);
    let metrics = serve.get("/metrics").body;
    // The task slots and the rate kept every call within the App ID's limits.
    for refused in [
        "resolution=\"reduce_concurrency\"",
        "resolution=\"reduce_rate\"",
    ] {
        assert!(!metrics.contains(refused), "{refused} in\n{metrics}");
    }
    assert!(
        metrics.contains(&format!(
            "cloudrec_call_attempts_total{{endpoint=\"start\"}} {RECORDINGS}"
        )),
        "{metrics}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
