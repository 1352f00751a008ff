//! Fault injection: every row of the status table, each fault kind, recovery
//! windows, and the admin HTTP API.

mod common;

use std::time::{Duration, Instant};

use cloudrec_emulator::{EmulatorConfig, FaultRule, TaskSelector};
use cloudrec_types::Endpoint;
use common::{Answer, Client, Task, fast, minimal_start, start};
use serde_json::{Value, json};

const STATUS_TABLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../core/data/status-codes.tsv"
));

fn fake_task(mode: &str) -> Task {
    Task {
        rid: "rid".to_owned(),
        sid: "0123456789abcdef0123456789abcdef".to_owned(),
        mode: mode.to_owned(),
        cname: "room".to_owned(),
        uid: "1".to_owned(),
    }
}

async fn call(client: &Client, endpoint: Endpoint) -> Answer {
    let task = fake_task("mix");
    match endpoint {
        Endpoint::Acquire => client.acquire("room", "1", json!({})).await,
        Endpoint::Start => {
            client
                .start("rid", "mix", "room", "1", &minimal_start("mix"))
                .await
        }
        Endpoint::Query => client.query(&task).await,
        Endpoint::Update => client.post_task(&task, "update", json!({})).await,
        Endpoint::UpdateLayout => client.post_task(&task, "updateLayout", json!({})).await,
        Endpoint::Stop => client.stop(&task, false).await,
        Endpoint::NcsIp => client.send("GET", "/v1/ncs/ip", None).await,
    }
}

#[tokio::test]
async fn every_row_of_the_status_table_can_be_produced() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let mut rows = 0;
    for line in STATUS_TABLE
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
    {
        let columns: Vec<&str> = line.split('\t').collect();
        let [endpoint, http_status, code, text, ..] = columns[..] else {
            panic!("short row: {line}");
        };
        // Rows without a documented HTTP status are produced with 400.
        let status: u16 = http_status.parse().unwrap_or(400);
        let body = match code.parse::<i64>() {
            Ok(code) => json!({"code": code, "reason": text}),
            Err(_) => json!({"message": text}),
        };
        let endpoint: Option<Endpoint> = endpoint.parse().ok();
        emulator.clear_faults();
        emulator.inject(FaultRule::respond(endpoint, status, body.clone()).times(1));
        let targets: Vec<Endpoint> = match endpoint {
            Some(endpoint) => vec![endpoint],
            None => Endpoint::ALL.to_vec(),
        };
        for (n, target) in targets.iter().enumerate() {
            let answer = call(&client, *target).await;
            if n == 0 {
                assert_eq!(answer.status, status, "{line}");
                assert_eq!(answer.body, body, "{line}");
            } else {
                // `times(1)`: the rule fired once; later calls are handled normally.
                assert_ne!(answer.body, body, "{line}");
            }
        }
        rows += 1;
    }
    assert!(rows >= 50, "only {rows} rows read");
}

#[tokio::test]
async fn every_row_fires_on_every_endpoint_for_wildcard_rules() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    emulator.inject(FaultRule::respond(
        None,
        429,
        json!({"message": "API rate limit exceeded"}),
    ));
    for endpoint in Endpoint::ALL {
        let answer = call(&client, endpoint).await;
        assert_eq!(answer.status, 429, "{endpoint}");
    }
}

#[tokio::test]
async fn a_rule_for_the_ncs_address_list_fires_there_only() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let body = json!({"message": "API rate limit exceeded"});
    emulator.inject(FaultRule::respond(Some(Endpoint::NcsIp), 429, body.clone()));
    let answer = call(&client, Endpoint::NcsIp).await;
    assert_eq!((answer.status, answer.body), (429, body));
    assert_eq!(call(&client, Endpoint::Acquire).await.status, 200);
}

#[tokio::test]
async fn delay_then_answer_normally() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    emulator.inject(FaultRule::delay(Some(Endpoint::Acquire), 100));
    let before = Instant::now();
    let answer = client.acquire("room", "1", json!({})).await;
    assert_eq!(answer.status, 200);
    assert!(before.elapsed() >= Duration::from_millis(100));
    let log = emulator.request_log();
    assert_eq!(log.last().unwrap().fault.as_deref(), Some("delay"));
    assert_eq!(log.last().unwrap().status, Some(200));
}

#[tokio::test]
async fn hang_never_answers_until_the_client_gives_up() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    emulator.inject(FaultRule::hang(Some(Endpoint::Query)).times(1));
    let task = client
        .session("mix", "room", "1", &minimal_start("mix"))
        .await;
    let gave_up = tokio::time::timeout(Duration::from_millis(300), client.query(&task)).await;
    assert!(gave_up.is_err(), "a hung query answered");
    let hung = emulator.request_log().into_iter().last().unwrap();
    assert_eq!((hung.fault.as_deref(), hung.status), (Some("hang"), None));
    // The server still serves other calls, and the rule fired only once.
    assert_eq!(client.query(&task).await.status, 200);
}

#[tokio::test]
async fn close_drops_the_connection_without_answer() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    emulator.inject(FaultRule::close(Some(Endpoint::Acquire)).times(1));
    let body = serde_json::to_vec(&json!({"cname": "r", "uid": "1", "clientRequest": {}})).unwrap();
    let result = client
        .raw(
            "POST",
            &client.api("/acquire"),
            Some("application/json"),
            body,
        )
        .await;
    assert!(
        result.is_err(),
        "closed connection answered: {:?}",
        result.map(|a| a.status)
    );
    assert_eq!(client.acquire("r", "1", json!({})).await.status, 200);
    let log = emulator.request_log();
    assert_eq!(log[0].fault.as_deref(), Some("close"));
    assert_eq!(log[0].status, None);
}

#[tokio::test]
async fn apply_then_drop_carries_out_start_and_stop_but_never_answers() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let rid = client.acquire_id("room", "1", 0).await;
    emulator.inject(FaultRule::apply_then_drop(Some(Endpoint::Start)).times(1));
    let body = json!({"cname": "room", "uid": "1", "clientRequest": minimal_start("mix")});
    let dropped = client
        .raw(
            "POST",
            &client.api(&format!("/resourceid/{rid}/mode/mix/start")),
            Some("application/json"),
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    assert!(
        dropped.is_err(),
        "the start was answered: {:?}",
        dropped.map(|a| a.status)
    );
    // The start took effect: the task runs, and starting again names it.
    let tasks = emulator.tasks();
    assert_eq!(tasks.len(), 1);
    let again = client.start(&rid, "mix", "room", "1", &json!({})).await;
    assert_eq!((again.status, again.body["code"].as_i64()), (201, Some(7)));
    assert_eq!(again.body["sid"].as_str(), Some(tasks[0].sid.as_str()));
    let task = Task {
        rid,
        sid: tasks[0].sid.clone(),
        mode: "mix".to_owned(),
        cname: "room".to_owned(),
        uid: "1".to_owned(),
    };
    emulator.inject(FaultRule::apply_then_drop(Some(Endpoint::Stop)).times(1));
    let stop = json!({"cname": "room", "uid": "1", "clientRequest": {}});
    let dropped = client
        .raw(
            "POST",
            &client.task_path(&task, "stop"),
            Some("application/json"),
            serde_json::to_vec(&stop).unwrap(),
        )
        .await;
    assert!(dropped.is_err(), "the stop was answered");
    assert!(emulator.tasks().is_empty(), "the stop did not take effect");
    let logged: Vec<_> = emulator
        .request_log()
        .into_iter()
        .filter(|r| r.fault.as_deref() == Some("apply_then_drop"))
        .map(|r| r.status)
        .collect();
    assert_eq!(logged, [Some(200), Some(200)]);
}

#[tokio::test]
async fn nth_times_and_task_filters_pick_the_calls() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let a = client
        .session("mix", "room-a", "1", &minimal_start("mix"))
        .await;
    let b = client
        .session("mix", "room-b", "1", &minimal_start("mix"))
        .await;
    let timeout = json!({"code": 62, "reason": "request timeout"});
    emulator.inject(
        FaultRule::respond(Some(Endpoint::Query), 504, timeout.clone())
            .for_sid(a.sid.clone())
            .nth(3)
            .times(2),
    );
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(client.query(&a).await.status);
        assert_eq!(client.query(&b).await.status, 200);
    }
    assert_eq!(statuses, [200, 200, 504, 504, 200, 200]);

    emulator.clear_faults();
    emulator.inject(FaultRule::respond(None, 504, timeout).for_cname("room-b"));
    assert_eq!(client.query(&a).await.status, 200);
    assert_eq!(client.query(&b).await.status, 504);
    assert_eq!(client.post_task(&b, "update", json!({})).await.status, 504);
}

#[tokio::test]
async fn seeded_probability_repeats_across_runs() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let emulator = start(fast());
        let client = Client::new(&emulator);
        emulator.inject(
            FaultRule::respond(
                Some(Endpoint::Acquire),
                500,
                json!({"code": 500, "reason": "internal_error"}),
            )
            .with_probability(0.5, 42),
        );
        let mut statuses = Vec::new();
        for n in 0..40 {
            statuses.push(
                client
                    .acquire(&format!("r{n}"), "1", json!({}))
                    .await
                    .status,
            );
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&500) && runs[0].contains(&200),
        "{:?}",
        runs[0]
    );
}

async fn assert_recovering(client: &Client, task: &Task) {
    let answer = client.query(task).await;
    assert_eq!(
        (answer.status, answer.body["code"].clone()),
        (404, json!(404))
    );
    for op in ["update", "updateLayout"] {
        let answer = client.post_task(task, op, json!({})).await;
        assert_eq!(
            (answer.status, answer.body["code"].clone()),
            (404, json!(404)),
            "{op}"
        );
    }
    let answer = client.stop(task, true).await;
    assert_eq!(
        (answer.status, answer.body["code"].clone()),
        (404, json!(404))
    );
}

#[tokio::test]
async fn recovery_window_answers_404_while_the_task_keeps_recording() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "room", "1", &minimal_start("mix"))
        .await;
    emulator.inject(FaultRule::recovery_window(Some(Endpoint::Query), 1e8).times(1));
    assert_recovering(&client, &task).await;
    let view = &emulator.tasks()[0];
    assert_eq!(view.state, "recovering");
    let recorded = view.recorded_secs;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        emulator.tasks()[0].recorded_secs > recorded,
        "recording paused"
    );

    // A window from Rust of 2 s (real) ends by itself; then the task answers again.
    let other = client
        .session("mix", "room2", "1", &minimal_start("mix"))
        .await;
    let picked = emulator.start_recovery_window(
        TaskSelector::Sid(other.sid.clone()),
        Duration::from_secs(2000),
    );
    assert_eq!(picked, vec![other.sid.clone()]);
    assert_eq!(client.query(&other).await.status, 404);
    let back = client.query_until(&other, 4000, |a| a.status == 200).await;
    assert_eq!(back.body["serverResponse"]["status"], 5);
    assert_eq!(client.stop(&other, true).await.status, 200);
}

#[tokio::test]
async fn recovery_window_on_start_applies_to_the_new_task() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    emulator.inject(FaultRule::recovery_window(Some(Endpoint::Start), 1e8).times(1));
    let task = client
        .session("mix", "room", "1", &minimal_start("mix"))
        .await;
    assert_recovering(&client, &task).await;
}

async fn admin(client: &Client, method: &str, path: &str, body: Option<Value>) -> Answer {
    client
        .send(method, &format!("/_emulator/{path}"), body.as_ref())
        .await
}

#[tokio::test]
async fn the_admin_api_controls_and_inspects_the_emulator() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "room", "1", &minimal_start("mix"))
        .await;

    let tasks = admin(&client, "GET", "tasks", None).await;
    assert_eq!(tasks.status, 200);
    assert_eq!(tasks.body[0]["sid"], task.sid.as_str());
    assert_eq!(tasks.body[0]["state"], "running");

    let rules = json!([
        {"endpoint": "acquire", "times": 1,
         "action": {"kind": "respond", "status": 500, "body": {"code": 501, "reason": "no_worker_manager_available"}}},
        {"endpoint": "update", "action": {"kind": "close"}}
    ]);
    let added = admin(&client, "POST", "faults", Some(rules)).await;
    assert_eq!((added.status, added.body["added"].clone()), (200, json!(2)));
    assert_eq!(
        admin(&client, "GET", "faults", None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(client.acquire("r", "1", json!({})).await.status, 500);
    let bad = admin(
        &client,
        "POST",
        "faults",
        Some(json!({"action": {"kind": "explode"}})),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(admin(&client, "DELETE", "faults", None).await.status, 200);
    assert!(emulator.faults().is_empty());
    assert_eq!(
        client.post_task(&task, "update", json!({})).await.status,
        200
    );

    let users = admin(
        &client,
        "POST",
        "channel-users",
        Some(json!({"cname": "room", "users": 4})),
    )
    .await;
    assert_eq!(users.status, 200);
    assert_eq!(emulator.tasks()[0].channel_users, 4);

    let window = admin(
        &client,
        "POST",
        "recovery",
        Some(json!({"cname": "room", "seconds": 1e8})),
    )
    .await;
    assert_eq!(window.body["sids"], json!([task.sid]));
    assert_recovering(&client, &task).await;

    // Extreme values neither overflow nor allocate without bound.
    let huge = admin(
        &client,
        "POST",
        "channel-users",
        Some(json!({"cname": "room", "users": u32::MAX})),
    )
    .await;
    assert_eq!(huge.status, 200);
    let long = admin(
        &client,
        "POST",
        "recovery",
        Some(json!({"sid": task.sid, "seconds": 1e18})),
    )
    .await;
    assert_eq!(long.status, 200);
    let bad = admin(&client, "POST", "recovery", Some(json!({"seconds": -1}))).await;
    assert_eq!(bad.status, 400);
    assert_recovering(&client, &task).await;

    let log = admin(&client, "GET", "requests", None).await;
    let entries = log.body.as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["endpoint"] == "start" && e["status"] == 200)
    );
    assert!(
        !log.body.to_string().contains("Basic"),
        "credentials in the log"
    );
    // Admin calls are not logged.
    assert!(
        entries
            .iter()
            .all(|e| !e["path"].as_str().unwrap().starts_with("/_emulator"))
    );

    assert_eq!(admin(&client, "POST", "reset", None).await.status, 200);
    assert!(emulator.tasks().is_empty());
    assert!(emulator.request_log().is_empty());
    assert_eq!(admin(&client, "GET", "nothing", None).await.status, 404);
}

#[test]
fn config_and_fault_files_read_from_json_and_hide_the_secret() {
    let config = EmulatorConfig::from_json(
        r#"{"time_scale": 60, "customer_secret": "s3cr3t-value", "resource_ttl": 1.5,
            "faults": [{"endpoint": "stop", "action": {"kind": "hang"}}]}"#,
    )
    .unwrap();
    assert_eq!(config.time_scale, 60.0);
    assert_eq!(config.resource_ttl, Duration::from_millis(1500));
    assert_eq!(config.faults, vec![FaultRule::hang(Some(Endpoint::Stop))]);
    assert!(!format!("{config:?}").contains("s3cr3t-value"));
    assert!(EmulatorConfig::from_json(r#"{"time_scale": 0}"#).is_err());
    assert!(EmulatorConfig::from_json(r#"{"unknown": 1}"#).is_err());
}

#[tokio::test]
async fn faults_from_the_config_are_installed_at_start() {
    let mut config = fast();
    config.faults = vec![FaultRule::respond(
        Some(Endpoint::Acquire),
        500,
        json!({"code": 504, "reason": "allocate_timeout"}),
    )];
    let emulator = start(config);
    let client = Client::new(&emulator);
    assert_eq!(client.acquire("r", "1", json!({})).await.status, 500);
}
