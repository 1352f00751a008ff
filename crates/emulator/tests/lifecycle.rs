//! Resources, limits, task conflicts, stop semantics, idle exit and expiry.

mod common;

use std::time::Duration;

use cloudrec_emulator::EmulatorConfig;
use common::{Client, fast, minimal_start, start};
use serde_json::json;

#[tokio::test]
async fn a_resource_serves_one_session() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let request = minimal_start("mix");

    let task = client.session("mix", "room", "1", &request).await;
    // A duplicate start of a recording resource: 201 code 7, with the sid.
    let again = client.start(&task.rid, "mix", "room", "1", &request).await;
    assert_eq!(again.status, 201, "{again:?}");
    assert_eq!(again.body["code"], 7);
    assert_eq!(again.body["sid"], task.sid.as_str());
    // Once the task ended, the used resource cannot start another session.
    assert_eq!(client.stop(&task, true).await.status, 200);
    let used = client.start(&task.rid, "mix", "room", "1", &request).await;
    assert_eq!((used.status, used.body["code"].clone()), (400, json!(1005)));

    // Another uid for the same channel is fine; the same uid while live is a conflict.
    let first = client.session("mix", "room2", "1", &request).await;
    let rid = client.acquire_id("room2", "1", 0).await;
    let conflict = client.start(&rid, "mix", "room2", "1", &request).await;
    assert_eq!(conflict.status, 400);
    assert_eq!(conflict.body["code"], 53);
    client.session("mix", "room2", "2", &request).await;
    assert_eq!(client.stop(&first, true).await.status, 200);
}

#[tokio::test]
async fn an_old_resource_answers_code_433() {
    let config = EmulatorConfig {
        time_scale: 100_000.0,
        rate_limit_per_sec: 0,
        ..EmulatorConfig::default()
    };
    let emulator = start(config);
    let client = Client::new(&emulator);
    let rid = client.acquire_id("room", "1", 0).await;
    // 5 minutes of emulator time pass in 3 ms; wait for more than that.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let answer = client
        .start(&rid, "mix", "room", "1", &minimal_start("mix"))
        .await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.body["code"], 433);
    let unknown = client
        .start("nope", "mix", "room", "1", &minimal_start("mix"))
        .await;
    assert_eq!(
        (unknown.status, unknown.body["code"].clone()),
        (400, json!(1001))
    );
}

#[tokio::test]
async fn the_concurrency_limit_is_reached_by_real_traffic() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    let request = minimal_start("mix");
    for n in 0..50 {
        client
            .session("mix", &format!("room{n}"), "1", &request)
            .await;
    }
    assert_eq!(emulator.tasks().len(), 50);
    let answer = client.acquire("room50", "1", json!({})).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body,
        json!({"code": 406, "reason": "vendor_over_load"})
    );
}

#[tokio::test]
async fn stop_without_publisher_answers_435_and_a_second_stop_49_then_404() {
    let config = EmulatorConfig {
        default_channel_users: 0,
        exit_linger: Duration::from_secs(100_000_000),
        ..fast()
    };
    let emulator = start(config);
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "empty", "1", &minimal_start("mix"))
        .await;
    let stop = client.stop(&task, false).await;
    assert_eq!(stop.status, 206, "{stop:?}");
    assert_eq!(stop.body["code"], 435);
    let again = client.stop(&task, false).await;
    assert_eq!((again.status, again.body["code"].clone()), (400, json!(49)));
    let query = client.query(&task).await;
    assert_eq!(query.status, 404);
    assert_eq!(query.body["code"], 404);

    // With a short linger the second stop soon answers 404.
    let config = EmulatorConfig {
        exit_linger: Duration::from_secs(1),
        ..fast()
    };
    let emulator = start(config);
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "room", "1", &minimal_start("mix"))
        .await;
    assert_eq!(client.stop(&task, true).await.status, 200);
    let mut last = 0;
    for _ in 0..2000 {
        let answer = client.stop(&task, true).await;
        last = answer.status;
        if last == 404 {
            assert_eq!(answer.body["code"], 404);
            break;
        }
        assert_eq!(answer.body["code"], 49);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(last, 404);
}

#[tokio::test]
async fn a_task_exits_after_max_idle_time_without_users() {
    let emulator = start(EmulatorConfig {
        exit_linger: Duration::from_secs(100_000_000),
        ..fast()
    });
    let client = Client::new(&emulator);
    let task = client
        .session("mix", "room", "1", &minimal_start("mix"))
        .await;
    let other = client
        .session("mix", "busy", "1", &minimal_start("mix"))
        .await;
    emulator.set_channel_users("room", 0);
    // maxIdleTime 30 s is 30 ms of real time here.
    let gone = client.query_until(&task, 4000, |a| a.status == 404).await;
    assert_eq!(gone.body["code"], 404);
    let stop = client.stop(&task, false).await;
    assert_eq!((stop.status, stop.body["code"].clone()), (400, json!(49)));
    // The busy channel's task keeps running.
    assert_eq!(client.query(&other).await.status, 200);
    let views = emulator.tasks();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].sid, other.sid);

    // Users coming back before maxIdleTime keep a task alive: with a huge
    // maxIdleTime the task survives a pause and records again afterwards.
    let mut long_idle = minimal_start("mix");
    long_idle["recordingConfig"]["maxIdleTime"] = json!(2_592_000);
    let task = client.session("mix", "pause", "1", &long_idle).await;
    emulator.set_channel_users("pause", 0);
    let recorded = emulator
        .tasks()
        .iter()
        .find(|t| t.sid == task.sid)
        .unwrap()
        .recorded_secs;
    emulator.set_channel_users("pause", 3);
    let answer = client
        .query_until(&task, 4000, |a| a.body["serverResponse"]["status"] == 5)
        .await;
    assert_eq!(answer.status, 200);
    let view = emulator
        .tasks()
        .into_iter()
        .find(|t| t.sid == task.sid)
        .unwrap();
    assert!(view.recorded_secs > recorded);
    assert_eq!(view.channel_users, 3);
}

#[tokio::test]
async fn resource_expired_hour_ends_the_task() {
    let emulator = start(EmulatorConfig {
        time_scale: 100_000.0,
        rate_limit_per_sec: 0,
        exit_linger: Duration::from_secs(1_000_000),
        resource_ttl: Duration::from_secs(1_000_000_000),
        ..EmulatorConfig::default()
    });
    let client = Client::new(&emulator);
    let answer = client
        .acquire("room", "1", json!({"resourceExpiredHour": 1}))
        .await;
    let rid = answer.body["resourceId"].as_str().unwrap().to_owned();
    let mut request = minimal_start("mix");
    request["recordingConfig"]["maxIdleTime"] = json!(2_592_000);
    let start = client.start(&rid, "mix", "room", "1", &request).await;
    assert_eq!(start.status, 200);
    let task = common::Task {
        rid,
        sid: start.body["sid"].as_str().unwrap().to_owned(),
        mode: "mix".to_owned(),
        cname: "room".to_owned(),
        uid: "1".to_owned(),
    };
    // One hour is 36 ms of real time here.
    let gone = client.query_until(&task, 4000, |a| a.status == 404).await;
    assert_eq!(gone.body["code"], 404);
    assert!(emulator.tasks().is_empty());
}
