//! `record --journal` and `recover` against the emulator, with real crashes
//! (SIGKILL): a task failing over stays in the journal through its recovery
//! window, a start whose answer was lost is found again, a torn tail is cut
//! off, a corrupt line and a second process are refused, a journal that cannot
//! be written stops the start, and refused credentials say so.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cloudrec_emulator::{
    DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_SECRET, Emulator, EmulatorConfig,
    FaultRule, TaskSelector,
};
use cloudrec_types::Endpoint;
use common::{Run, cloudrec, run};

const LIMIT: Duration = Duration::from_secs(120);

struct Setup {
    _runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    client_request: PathBuf,
    journal: PathBuf,
}

fn setup(name: &str) -> Setup {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = {
        let _guard = runtime.enter();
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let config = EmulatorConfig {
            time_scale: 50.0,
            ..EmulatorConfig::default()
        };
        Emulator::start(config, addr).unwrap()
    };
    let dir = std::env::temp_dir().join(format!("cloudrec-cli-journal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let client_request = dir.join(format!("{name}.json"));
    let body = serde_json::json!({
        "recordingConfig": {"channelType": 0, "maxIdleTime": 30},
        "recordingFileConfig": {"avFileType": ["hls", "mp4"]},
        "storageConfig": {
            "vendor": 1, "region": 0, "bucket": "recordings",
            "accessKey": "access-key-id", "secretKey": "storage-secret-key"
        }
    });
    std::fs::write(&client_request, body.to_string()).unwrap();
    let journal = dir.join(format!("{name}.jsonl"));
    let _ = std::fs::remove_file(&journal);
    Setup {
        _runtime: runtime,
        emulator,
        client_request,
        journal,
    }
}

fn credentials(command: &mut std::process::Command) {
    command
        .env("CLOUDREC_APP_ID", DEFAULT_APP_ID)
        .env("CLOUDREC_CUSTOMER_ID", DEFAULT_CUSTOMER_ID)
        .env("CLOUDREC_CUSTOMER_SECRET", DEFAULT_CUSTOMER_SECRET);
}

fn record_args(setup: &Setup) -> Vec<String> {
    [
        "record",
        "--base-url",
        &setup.emulator.base_url(),
        "--channel",
        "room-1",
        "--mode",
        "mix",
        "--poll-interval",
        "100ms",
        "--client-request",
        setup.client_request.to_str().unwrap(),
        "--journal",
        setup.journal.to_str().unwrap(),
    ]
    .map(str::to_owned)
    .to_vec()
}

fn record(setup: &Setup) -> std::process::Command {
    let mut command = cloudrec();
    credentials(&mut command);
    command.args(record_args(setup));
    command
}

fn recover(setup: &Setup, extra: &[&str]) -> std::process::Command {
    let mut command = cloudrec();
    credentials(&mut command);
    command
        .args(["recover", "--base-url", &setup.emulator.base_url()])
        .arg("--journal")
        .arg(&setup.journal)
        .args(extra);
    command
}

/// Spawns `command` and returns it with a channel of its stdout lines.
fn spawn(mut command: std::process::Command) -> (Child, mpsc::Receiver<String>) {
    command.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Waits (bounded) for a line containing `text`.
fn wait_for(rx: &mpsc::Receiver<String>, text: &str) {
    let deadline = Instant::now() + LIMIT;
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if line.contains(text) {
            return;
        }
    }
    panic!("no line with {text:?}");
}

/// Waits (bounded) until `done` holds.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill(mut child: Child) {
    child.kill().unwrap(); // SIGKILL: no chance to stop the task.
    child.wait().unwrap();
}

/// Records until the task records, then crashes.
fn record_and_crash(setup: &Setup) {
    let (child, rx) = spawn(record(setup));
    wait_for(&rx, "status 5 (recording)");
    kill(child);
    assert_eq!(setup.emulator.tasks().len(), 1, "the orphan records");
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn the_part_after<'a>(text: &'a str, marker: &str) -> &'a str {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in {text}"));
    &text[at + marker.len()..]
}

#[test]
fn a_task_failing_over_stays_in_the_journal_through_its_recovery_window() {
    let setup = setup("failover");
    record_and_crash(&setup);
    // The task fails over for 600 s (emulator time): it answers 404 and records on.
    let sids = setup
        .emulator
        .start_recovery_window(TaskSelector::All, Duration::from_secs(600));
    assert_eq!(sids.len(), 1);

    let first = run(recover(&setup, &[]), LIMIT);
    assert_eq!(first.code, Some(11), "{}", first.all());
    assert!(
        first.stdout.contains("may be failing over")
            && first.stdout.contains("kept in the journal"),
        "{}",
        first.stdout
    );
    assert!(first.stderr.contains("again in"), "{}", first.stderr);
    assert_eq!(setup.emulator.tasks().len(), 1);
    let since = the_part_after(&first.stdout, "not found (404) since ")
        .split(": it may")
        .next()
        .unwrap()
        .to_owned();
    let journalled = lines(&setup.journal);
    assert!(
        journalled
            .iter()
            .any(|l| l["op"] == "missing" && l["sid"] == sids[0].as_str()),
        "{journalled:?}"
    );

    // A second recover continues the count from the first 404.
    let second = run(recover(&setup, &[]), LIMIT);
    assert_eq!(second.code, Some(11), "{}", second.all());
    assert!(
        second
            .stdout
            .contains(&format!("not found (404) since {since}")),
        "{}",
        second.stdout
    );

    // The task is back: recover stops it and the journal is empty.
    setup
        .emulator
        .start_recovery_window(TaskSelector::All, Duration::ZERO);
    let third = run(recover(&setup, &[]), LIMIT);
    assert_eq!(third.code, Some(0), "{}", third.all());
    assert!(third.stdout.contains("now stopped"), "{}", third.stdout);
    assert!(setup.emulator.tasks().is_empty(), "the task still records");
    let last = run(recover(&setup, &[]), LIMIT);
    assert!(last.stdout.contains("nothing to recover"), "{}", last.all());
}

#[test]
fn a_task_missing_past_the_window_counted_from_the_first_404_leaves_the_journal() {
    let setup = setup("gone");
    record_and_crash(&setup);
    setup
        .emulator
        .start_recovery_window(TaskSelector::All, Duration::from_secs(100_000));
    let first = run(recover(&setup, &["--recovery-window", "1h"]), LIMIT);
    assert_eq!(first.code, Some(11), "{}", first.all());
    // Counted from the first 404, a window of 1 ms has passed by the next run.
    std::thread::sleep(Duration::from_millis(5));
    let second = run(recover(&setup, &["--recovery-window", "1ms"]), LIMIT);
    assert_eq!(second.code, Some(0), "{}", second.all());
    assert!(
        second
            .stdout
            .contains("through the whole 1ms recovery window")
            && second.stdout.contains("removed from the journal"),
        "{}",
        second.stdout
    );
    let again = run(recover(&setup, &[]), LIMIT);
    assert!(
        again.stdout.contains("nothing to recover"),
        "{}",
        again.all()
    );
}

#[test]
fn a_start_carried_out_whose_answer_was_lost_is_found_and_stopped_by_recover() {
    let setup = setup("intent");
    // Every start is carried out and never answered.
    setup
        .emulator
        .inject(FaultRule::apply_then_drop(Some(Endpoint::Start)));
    let (child, _rx) = spawn(record(&setup));
    wait_until("the start was carried out", || {
        !setup.emulator.tasks().is_empty()
    });
    kill(child);
    setup.emulator.clear_faults();
    let journalled = lines(&setup.journal);
    assert!(
        journalled.iter().all(|l| l["op"] == "intent"),
        "{journalled:?}"
    );
    let sid = setup.emulator.tasks()[0].sid.clone();

    let result = run(recover(&setup, &[]), LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert!(
        result.stdout.contains("never answered: had started")
            && result.stdout.contains(&sid)
            && result.stdout.contains("now stopped"),
        "{}",
        result.stdout
    );
    assert!(setup.emulator.tasks().is_empty(), "the task still records");
    let again = run(recover(&setup, &[]), LIMIT);
    assert!(
        again.stdout.contains("nothing to recover"),
        "{}",
        again.all()
    );
}

#[test]
fn an_intent_on_which_no_task_runs_leaves_the_journal() {
    let setup = setup("no-task");
    // The resource exists, but start never reached the service.
    setup
        .emulator
        .inject(FaultRule::close(Some(Endpoint::Start)));
    let (child, _rx) = spawn(record(&setup));
    wait_until("start was sent", || {
        setup
            .emulator
            .request_log()
            .iter()
            .any(|r| r.endpoint == Some(Endpoint::Start))
    });
    kill(child);
    setup.emulator.clear_faults();
    assert!(setup.emulator.tasks().is_empty());
    let result = run(recover(&setup, &[]), LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert!(
        result.stdout.contains("started no task")
            && result.stdout.contains("removed from the journal"),
        "{}",
        result.stdout
    );
    assert!(
        setup.emulator.tasks().is_empty(),
        "the probe started a task"
    );
}

#[test]
fn a_torn_tail_is_cut_off_so_the_next_task_stays_visible() {
    let setup = setup("torn");
    // What a crash in the middle of a write leaves.
    std::fs::write(&setup.journal, "{\"op\":\"live\",\"resourceId\":\"abc").unwrap();
    let mut command = record(&setup);
    command.stderr(Stdio::piped());
    command.stdout(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let warning = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
            .join("\n")
    });
    wait_for(&rx, "status 5 (recording)");
    kill(child);
    let warning = warning.join().unwrap();
    assert!(warning.contains("torn"), "{warning}");

    let result = run(recover(&setup, &[]), LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert!(result.stdout.contains("now stopped"), "{}", result.stdout);
    assert!(setup.emulator.tasks().is_empty(), "the task still records");
}

#[test]
fn a_corrupt_line_is_refused_and_the_file_left_untouched() {
    let setup = setup("corrupt");
    let text =
        "{\"op\":\"done\",\"sid\":\"a\"}\nnot a journal line\n{\"op\":\"done\",\"sid\":\"b\"}\n";
    std::fs::write(&setup.journal, text).unwrap();
    let result = run(recover(&setup, &[]), LIMIT);
    assert_eq!(result.code, Some(3), "{}", result.all());
    assert!(
        result.stderr.contains(setup.journal.to_str().unwrap()) && result.stderr.contains("line 2"),
        "{}",
        result.stderr
    );
    assert!(!result.stdout.contains("nothing to recover"));
    assert_eq!(std::fs::read_to_string(&setup.journal).unwrap(), text);
}

#[test]
fn a_second_process_on_one_journal_is_refused_with_the_holders_pid() {
    let setup = setup("locked");
    let (child, rx) = spawn(record(&setup));
    wait_for(&rx, "status 5 (recording)");
    let pid = child.id();
    let result = run(recover(&setup, &[]), LIMIT);
    kill(child);
    assert_eq!(result.code, Some(3), "{}", result.all());
    assert!(
        result.stderr.contains(&format!("in use by process {pid}")),
        "{}",
        result.stderr
    );
    // The task was not stopped by the refused process; it is for the next one.
    assert_eq!(setup.emulator.tasks().len(), 1);
    let result = run(recover(&setup, &[]), LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
}

/// `record` with file writes limited to `blocks` of 512 bytes (SIGXFSZ
/// ignored, so that a write past the limit fails with EFBIG, as on a full disk).
fn record_with_file_limit(setup: &Setup, blocks: u32) -> std::process::Command {
    let mut command = std::process::Command::new("sh");
    credentials(&mut command);
    command
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_cloudrec"))
        .args(record_args(setup))
        .args(["--duration", "500ms"])
        .stdin(Stdio::null());
    command
}

#[test]
fn a_journal_that_cannot_be_written_stops_the_start() {
    let setup = setup("full");
    let result: Run = run(record_with_file_limit(&setup, 0), LIMIT);
    assert_eq!(result.code, Some(3), "{}", result.all());
    assert!(result.stderr.contains("journal"), "{}", result.stderr);
    assert!(setup.emulator.tasks().is_empty(), "a task was started");
    let starts = setup
        .emulator
        .request_log()
        .into_iter()
        .filter(|r| r.endpoint == Some(Endpoint::Start))
        .count();
    assert_eq!(starts, 0, "start was sent");
}

#[test]
fn a_journal_write_that_fails_later_is_a_warning_and_the_recording_goes_on() {
    // Room for the intent entry and not much more: padding fills the file so
    // that the live entry crosses the limit. A first run measures the entry.
    let intent_len = {
        let probe = setup("full-probe");
        let (child, rx) = spawn(record(&probe));
        wait_for(&rx, "status 5 (recording)");
        kill(child);
        let text = std::fs::read_to_string(&probe.journal).unwrap();
        text.lines().next().unwrap().len() + 1
    };
    let setup = setup("full-later");
    let pad = 512 - intent_len - 20;
    let entry = r#"{"op":"done","sid":"x"}"#;
    let padding = format!("{entry}{}\n", " ".repeat(pad - entry.len() - 1));
    assert_eq!(padding.len(), pad);
    std::fs::write(&setup.journal, padding).unwrap();
    let result = run(record_with_file_limit(&setup, 1), LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert!(
        result.stderr.contains("warning:") && result.stderr.contains("journal append failed"),
        "{}",
        result.stderr
    );
    assert!(
        setup.emulator.tasks().is_empty(),
        "the task was not stopped"
    );
}

#[test]
fn recover_with_refused_credentials_exits_with_the_credentials_code() {
    let setup = setup("credentials");
    record_and_crash(&setup);
    let mut command = recover(&setup, &[]);
    command.env("CLOUDREC_CUSTOMER_SECRET", "wrong-secret-never-printed");
    let result = run(command, LIMIT);
    assert_eq!(result.code, Some(4), "{}", result.all());
    assert!(
        result.stderr.contains("fix_credentials"),
        "{}",
        result.stderr
    );
    assert!(
        !result.stderr.contains("once the service answers"),
        "{}",
        result.stderr
    );
    assert!(!result.all().contains("wrong-secret-never-printed"));
    assert_eq!(setup.emulator.tasks().len(), 1, "the task was kept");
    let result = run(recover(&setup, &[]), LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
}
