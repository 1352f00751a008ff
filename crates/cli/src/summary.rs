//! The table printed when a session ends, and the exit code it leads to.

use std::fmt::Write as _;
use std::time::Duration;

use cloudrec_core::SessionState;

use crate::events_out::Delivery;
use crate::exit::{Exit, Fail};
use crate::report::Tally;
use crate::session::SessionEnd;

/// The exit code of a session that ended as `end` says: 0 for a stop whose answer
/// named files, or for one whose answer never lists them (`stop_lists_files` false:
/// screenshots only, whose stop answer carries just the upload status).
pub(crate) fn exit_for(end: &SessionEnd, stop_lists_files: bool) -> Exit {
    match end.state {
        SessionState::Stopped if stop_lists_files && end.files.is_empty() => Exit::NoData,
        SessionState::Stopped => Exit::Ok,
        SessionState::StoppedNoData => Exit::NoData,
        SessionState::Lost => Exit::Lost,
        _ => Exit::Failed,
    }
}

/// Prints a warning on stderr for each kind of event lost on the way to RabbitMQ.
pub(crate) fn warn_lost(delivery: Option<&Delivery>) {
    for line in delivery.map(Delivery::warnings).unwrap_or_default() {
        eprintln!("{line}");
    }
}

/// The exit code once the events' delivery is known: `exit`, or
/// [`Exit::EventsLost`] (with its error line) when `exit` is 0, events were lost
/// and `required` (`--require-delivery`).
pub(crate) fn delivery_exit(exit: Exit, delivery: Option<&Delivery>, required: bool) -> Exit {
    let Some(delivery) = delivery else {
        return exit;
    };
    if !(required && delivery.lost() && exit == Exit::Ok) {
        return exit;
    }
    let lost = Fail::new(
        Exit::EventsLost,
        format!(
            "--require-delivery: {} event(s) undelivered and {} unroutable at RabbitMQ {}; fix what the warnings above say, or run without --require-delivery to accept the loss",
            delivery.undelivered, delivery.unroutable, delivery.shown
        ),
    );
    eprintln!("{lost}");
    lost.exit
}

/// The summary table: end state, files, upload status, retries, recoveries, time.
pub(crate) fn table(
    end: &SessionEnd,
    tally: &Tally,
    elapsed: Duration,
    delivery: Option<&Delivery>,
    tasks_left: Option<usize>,
) -> String {
    let mut rows: Vec<(&str, String)> = vec![("session", end.state.as_str().to_owned())];
    if let Some(reason) = &end.reason {
        rows.push(("reason", reason.clone()));
    }
    if let Some(task) = &end.task {
        rows.push(("channel", task.cname.as_str().to_owned()));
        rows.push(("sid", task.sid.as_str().to_owned()));
    }
    rows.push(("files", end.files.len().to_string()));
    for file in &end.files {
        rows.push(("", file.clone()));
    }
    rows.push((
        "uploading status",
        end.uploading_status
            .clone()
            .unwrap_or_else(|| "-".to_owned()),
    ));
    rows.push(("retries", tally.retries.to_string()));
    rows.push(("classified failures", tally.failures.to_string()));
    rows.push(("recoveries", tally.recoveries.to_string()));
    rows.push(("restarts", end.restarts.to_string()));
    rows.push(("events", tally.events.to_string()));
    if let Some(delivery) = delivery {
        rows.push(("rabbitmq", delivery.summary()));
    }
    for task in &end.unconfirmed {
        rows.push((
            "not confirmed stopped",
            format!(
                "sid {} (resource {})",
                task.sid.as_str(),
                task.resource_id.as_str()
            ),
        ));
    }
    if let Some(left) = tasks_left {
        rows.push(("tasks left running", left.to_string()));
    }
    rows.push(("time", format!("{:.1} s", elapsed.as_secs_f64())));
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::from("summary\n");
    for (key, value) in rows {
        let _ = writeln!(out, "  {key:<width$}  {value}");
    }
    out
}

/// Prints the summary: to stdout, or to stderr when stdout carries JSON lines.
pub(crate) fn print(text: &str, format: crate::report::EventFormat) {
    if format == crate::report::EventFormat::Jsonl {
        eprint!("{text}");
    } else {
        println!();
        print!("{text}");
    }
}
