//! `cloudrec recover --journal PATH`: stops the tasks a crashed process left
//! recording, from its journal.

use std::time::{Duration, SystemTime};

use clap::Args;
use cloudrec_client::{Found, IntentFound, RecoveryPolicy};
use cloudrec_core::{NoEvents, RetryPolicy};

use crate::connection::Connection;
use crate::exit::{Exit, Fail, describe_failure, exit_for_failure};
use crate::session::{self, SessionEnd, Timing};

/// `recover`.
#[derive(Args, Debug)]
pub(crate) struct RecoverArgs {
    #[command(flatten)]
    connection: Connection,
    /// The journal that `record --journal` kept.
    #[arg(long)]
    journal: String,
    /// How long a task may answer 404 (failing over), counted from the first 404
    /// `recover` saw, before it is taken as ended and leaves the journal.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "90s")]
    recovery_window: Duration,
}

fn stamp(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

pub(crate) async fn run(args: &RecoverArgs) -> Result<Exit, Fail> {
    if !std::path::Path::new(&args.journal).is_file() {
        return Err(Fail::input(format!(
            "no journal at {}: give the file that `cloudrec record --journal` wrote",
            args.journal
        )));
    }
    if args.recovery_window.is_zero() {
        return Err(Fail::input(
            "invalid --recovery-window: give a positive duration such as 90s",
        ));
    }
    let client = args.connection.client(NoEvents, RetryPolicy::default())?;
    let timing = Timing::with(Duration::from_secs(5), args.recovery_window);
    let recorder = session::recorder(client, timing, Some(&args.journal))?;
    let report = recorder
        .recover(RecoveryPolicy::Stop)
        .await
        .map_err(|error| Fail::input(format!("cannot read --journal {}: {error}", args.journal)))?;
    for error in &report.journal_errors {
        eprintln!("warning: {error}; the next `cloudrec recover` looks at that task again");
    }
    if report.tasks.is_empty() && report.intents.is_empty() {
        println!("the journal lists no live task: nothing to recover");
        return Ok(Exit::Ok);
    }
    let mut refused = None;
    let mut unresolved = 0_usize;
    let mut recovering: Option<Duration> = None;
    for resolved in &report.intents {
        let intent = &resolved.intent;
        let what = match &resolved.found {
            IntentFound::Started { sid } => {
                format!("had started: the service names task sid {sid}, looked at below")
            }
            IntentFound::NoTask { why } => {
                format!("started no task ({why}); removed from the journal")
            }
            IntentFound::Refused { failure } => {
                refused.get_or_insert_with(|| failure.clone());
                unresolved += 1;
                format!("could not be checked, left in the journal: {failure}")
            }
            IntentFound::Unresolved { why } => {
                unresolved += 1;
                format!("could not be checked, left in the journal: {why}")
            }
        };
        println!(
            "{} {} start on resource id {} sent at {} and never answered: {what}",
            intent.mode.as_str(),
            intent.cname.as_str(),
            intent.resource_id.as_str(),
            stamp(intent.at),
        );
    }
    for recovered in &report.tasks {
        let task = &recovered.task;
        let what = match (&recovered.found, &recovered.stopped) {
            (Found::Gone { since, window }, _) => format!(
                "not found (404) since {} and through the whole {} recovery window: it has ended; removed from the journal",
                stamp(*since),
                humantime::format_duration(*window)
            ),
            (Found::Recovering { since, remaining }, _) => {
                unresolved += 1;
                recovering = Some(recovering.map_or(*remaining, |r| r.max(*remaining)));
                format!(
                    "not found (404) since {}: it may be failing over; {} s left in the recovery window, kept in the journal",
                    stamp(*since),
                    remaining.as_secs().max(1)
                )
            }
            (Found::Refused { failure }, _) => {
                refused.get_or_insert_with(|| failure.clone());
                unresolved += 1;
                format!("could not be queried, left in the journal: {failure}")
            }
            (Found::Unreachable { why }, _) => {
                unresolved += 1;
                format!("could not be queried, left in the journal: {why}")
            }
            (Found::Alive { status }, Some(stopped)) => {
                let end = SessionEnd::from(stopped.clone());
                if !end.unconfirmed.is_empty() {
                    unresolved += 1;
                }
                format!(
                    "was recording (status {}); now {}{}",
                    status.map_or_else(|| "-".to_owned(), |s| s.to_string()),
                    end.state.as_str(),
                    if end.files.is_empty() {
                        String::new()
                    } else {
                        format!(" with {} file(s)", end.files.len())
                    }
                )
            }
            (Found::Alive { status }, None) => {
                unresolved += 1;
                format!(
                    "is recording (status {}) and was not stopped",
                    status.map_or_else(|| "-".to_owned(), |s| s.to_string())
                )
            }
        };
        println!(
            "{} {} sid {}: {what}",
            task.mode.as_str(),
            task.cname.as_str(),
            task.sid.as_str()
        );
    }
    if let Some(failure) = refused {
        return Err(Fail::new(
            exit_for_failure(&failure),
            format!(
                "{unresolved} task(s) may still record and the service refused the request: {}",
                describe_failure(&failure)
            ),
        ));
    }
    if let Some(remaining) = recovering {
        return Err(Fail::new(
            Exit::Failed,
            format!(
                "{unresolved} task(s) may still record: a task that answers 404 may be failing over; run `cloudrec recover --journal {}` again in {} s (the recovery window keeps counting from the first 404)",
                args.journal,
                remaining.as_secs().max(1)
            ),
        ));
    }
    if unresolved > 0 {
        return Err(Fail::new(
            Exit::Failed,
            format!(
                "{unresolved} task(s) may still record: run `cloudrec recover --journal {}` again once the service answers",
                args.journal
            ),
        ));
    }
    Ok(Exit::Ok)
}
