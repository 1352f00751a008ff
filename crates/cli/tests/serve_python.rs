//! The Python example, examples/python/record.py, run against `cloudrec serve
//! --emulator`: it starts a mix recording, sees it run, stops it and exits 0.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::serve::{ServeProc, temp_dir};

fn python3_found() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

#[test]
fn the_python_example_records_through_the_api_and_exits_0() {
    if !python3_found() {
        println!("skipped: python3 is not installed (apt-get install python3)");
        return;
    }
    let dir = temp_dir("serve-python");
    let mut command = common::cloudrec();
    command.args([
        "serve",
        "--emulator",
        "--listen",
        "127.0.0.1:0",
        "--state-dir",
        dir.to_str().unwrap(),
        "--poll-interval",
        "1s",
    ]);
    let serve = ServeProc::spawn(command);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/python/record.py");
    let mut python = Command::new("python3");
    python
        .arg(&script)
        .args(["--api", &format!("http://{}", serve.addr)])
        .arg("--record-for")
        .arg("1");
    let run = common::run(python, Duration::from_secs(120));
    assert_eq!(
        run.code,
        Some(0),
        "the script failed:\n{}\nserve said:\n{}",
        run.all(),
        serve.proc.output()
    );
    assert!(run.stdout.contains("running"), "{}", run.stdout);
    assert!(run.stdout.contains("ended: stopped"), "{}", run.stdout);
    assert!(
        run.stdout.contains("uploadingStatus: uploaded"),
        "{}",
        run.stdout
    );
    let listed = serve.get("/v1/recordings?state=stopped").json();
    assert_eq!(
        listed["recordings"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    drop(serve);
    let _ = std::fs::remove_dir_all(dir);
}
