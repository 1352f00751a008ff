//! The status page of `cloudrec serve`, rendered by headless Chromium: a running
//! recording shows as a row with `data-state="running"` and its id.
//!
//! Needs Chromium (`apt-get install chromium chromium-driver`; `CLOUDREC_CHROMIUM`
//! names another binary). Without it the test fails, unless
//! `CLOUDREC_SKIP_BROWSER=1` is set.

mod common;

use std::process::Command;
use std::time::Duration;

use common::serve::{ServeProc, mix_body, temp_dir};

fn chromium() -> String {
    std::env::var("CLOUDREC_CHROMIUM")
        .ok()
        .filter(|bin| !bin.is_empty())
        .unwrap_or_else(|| "chromium".to_owned())
}

fn found(bin: &str) -> bool {
    Command::new(bin)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// The opening tags of the table rows in `dom`.
fn rows(dom: &str) -> Vec<&str> {
    dom.match_indices("<tr")
        .filter_map(|(at, _)| dom[at..].find('>').map(|end| &dom[at..=at + end]))
        .collect()
}

#[test]
fn the_status_page_shows_a_running_recording_in_a_browser() {
    let bin = chromium();
    if !found(&bin) {
        if std::env::var("CLOUDREC_SKIP_BROWSER").as_deref() == Ok("1") {
            println!("skipped: {bin} is not installed and CLOUDREC_SKIP_BROWSER=1");
            return;
        }
        panic!(
            "{bin} is not installed: install it (apt-get install chromium chromium-driver), \
             name another binary in CLOUDREC_CHROMIUM, or set CLOUDREC_SKIP_BROWSER=1 to skip this test"
        );
    }
    let dir = temp_dir("serve-page");
    let mut command = common::cloudrec();
    command.args([
        "serve",
        "--emulator",
        "--listen",
        "127.0.0.1:0",
        "--state-dir",
        dir.join("state").to_str().unwrap(),
        "--poll-interval",
        "1s",
    ]);
    let serve = ServeProc::spawn(command);
    let created = serve.post("/v1/recordings", &mix_body("room-page", 4242));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    serve.wait_for_recording(&id, Duration::from_secs(60), |r| r["state"] == "running");

    let mut browser = Command::new(&bin);
    browser
        .args(["--headless", "--no-sandbox", "--disable-gpu"])
        .arg(format!(
            "--user-data-dir={}",
            dir.join("chromium").display()
        ))
        .arg("--dump-dom")
        .arg(format!("http://{}/", serve.addr));
    let run = common::run(browser, Duration::from_secs(120));
    assert_eq!(run.code, Some(0), "{bin} failed:\n{}", run.stderr);
    let dom = &run.stdout;
    assert!(
        dom.contains("<table id=\"recordings\""),
        "no recordings table in the page:\n{dom}"
    );
    let row = rows(dom)
        .into_iter()
        .find(|tag| tag.contains(&format!("data-id=\"{id}\"")))
        .unwrap_or_else(|| panic!("no row for {id} in the page:\n{dom}"));
    assert!(row.contains("data-state=\"running\""), "{row}\n{dom}");
    assert!(dom.contains("room-page"), "{dom}");
    let stop = serve.post(
        &format!("/v1/recordings/{id}/stop"),
        &serde_json::Value::Null,
    );
    assert_eq!(stop.status, 202, "{}", stop.body);
    drop(serve);
    let _ = std::fs::remove_dir_all(dir);
}
