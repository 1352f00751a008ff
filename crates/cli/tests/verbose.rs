//! `-v` and `RUST_LOG` log the tracing spans of each session and call on stderr.

mod common;

use std::time::Duration;

use common::{cloudrec, run};

const LIMIT: Duration = Duration::from_secs(120);

fn demo(extra: &[&str], rust_log: Option<&str>) -> common::Run {
    let mut command = cloudrec();
    command.env_remove("RUST_LOG");
    if let Some(filter) = rust_log {
        command.env("RUST_LOG", filter);
    }
    command
        .args([
            "demo",
            "--events",
            "none",
            "--no-faults",
            "--time-scale",
            "50",
        ])
        .args(extra);
    let result = run(command, LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
    result
}

/// The lines of `log` that show the span `name` with every one of `fields`.
fn span_lines<'a>(log: &'a str, name: &str, fields: &[&str]) -> Vec<&'a str> {
    log.lines()
        .filter(|line| line.contains(&format!("{name}{{")))
        .filter(|line| fields.iter().all(|field| line.contains(field)))
        .collect()
}

#[test]
fn verbose_shows_the_session_and_call_spans() {
    let result = demo(&["-v"], None);
    let log = &result.stderr;
    let sessions = span_lines(
        log,
        "cloudrec.session",
        &["session=1", "cname=\"cloudrec-demo\"", "mode=\"mix\""],
    );
    assert!(!sessions.is_empty(), "no session span in:\n{log}");
    let acquire = span_lines(log, "cloudrec.call", &["endpoint=\"acquire\""]);
    assert!(!acquire.is_empty(), "no acquire call span in:\n{log}");
    let queries = span_lines(log, "cloudrec.call", &["endpoint=\"query\"", "sid="]);
    assert!(
        !queries.is_empty(),
        "no query call span with its sid in:\n{log}"
    );
    // Calls run inside their session's span.
    assert!(
        queries
            .iter()
            .all(|line| line.contains("cloudrec.session{")),
        "{queries:?}"
    );
}

#[test]
fn rust_log_sets_the_filter_and_quiet_is_the_default() {
    let filtered = demo(&[], Some("cloudrec_client=debug"));
    assert!(
        !span_lines(&filtered.stderr, "cloudrec.call", &["endpoint=\"stop\""]).is_empty(),
        "RUST_LOG=cloudrec_client=debug shows the call spans:\n{}",
        filtered.stderr
    );
    let quiet = demo(&[], None);
    assert!(
        !quiet.stderr.contains("cloudrec.call{"),
        "without -v nothing is logged:\n{}",
        quiet.stderr
    );
}
