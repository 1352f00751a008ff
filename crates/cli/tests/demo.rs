//! `cloudrec demo` against its embedded emulator, as the README runs it.

mod common;

use std::time::Duration;

use common::{cloudrec, run};

#[test]
fn the_demo_records_through_the_faults_and_ends_stopped_with_files() {
    let mut command = cloudrec();
    command.arg("demo");
    let result = run(command, Duration::from_secs(180));
    let out = &result.stdout;
    assert_eq!(result.code, Some(0), "{}", result.all());
    // The faults happened and were handled.
    assert!(out.contains("start http 206 code 65"), "{out}");
    assert!(out.contains("query http 429"), "{out}");
    assert!(out.contains("running -> recovering"), "{out}");
    assert!(out.contains("recovering -> running"), "{out}");
    // Every step of the session ran.
    for step in ["updateLayout attempt", "update attempt", "stop attempt"] {
        assert!(out.contains(step), "{step}: {out}");
    }
    // Without a terminal, progress comes as plain lines.
    assert!(out.contains("progress: state running"), "{out}");
    // The summary.
    let summary = out.split("summary\n").nth(1).expect("a summary table");
    let field = |name: &str| {
        summary
            .lines()
            .find_map(|line| line.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("no {name} in {summary}"))
    };
    assert_eq!(field("session"), "stopped");
    assert!(field("files").parse::<usize>().unwrap() >= 1);
    assert!(summary.contains(".m3u8"), "{summary}");
    assert_eq!(field("uploading status"), "uploaded");
    assert!(field("retries").parse::<u32>().unwrap() >= 2);
    assert!(field("recoveries").parse::<u32>().unwrap() >= 1);
    assert_eq!(field("tasks left running"), "0");
    assert!(field("time").ends_with(" s"));
    // No secret of the emulator or the storage is printed.
    for secret in ["emulator-secret", "demo-secret-key", "demo-access-key"] {
        assert!(!result.all().contains(secret), "{secret} printed");
    }
}

#[test]
fn the_demo_prints_cloudevents_as_json_lines() {
    let mut command = cloudrec();
    command.args([
        "demo",
        "--events",
        "jsonl",
        "--no-faults",
        "--time-scale",
        "50",
    ]);
    let result = run(command, Duration::from_secs(180));
    assert_eq!(result.code, Some(0), "{}", result.all());
    let events: Vec<serde_json::Value> = result
        .stdout
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).expect("each event line is JSON"))
        .collect();
    assert!(events.len() > 5);
    for event in &events {
        assert_eq!(event["specversion"], "1.0");
        assert!(event["id"].as_str().is_some_and(|id| !id.is_empty()));
    }
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    for expected in [
        "io.cloudrec.session.acquired",
        "io.cloudrec.session.running",
        "io.cloudrec.session.stopped",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
}
