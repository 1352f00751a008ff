//! `cloudrec recover --journal PATH`: stops the tasks a crashed process left
//! recording, from its journal.

use std::time::Duration;

use clap::Args;
use cloudrec_core::{Found, NoEvents, RecoveryPolicy, RetryPolicy};

use crate::connection::Connection;
use crate::exit::{Exit, Fail};
use crate::session::{self, SessionEnd, Timing};

/// `recover`.
#[derive(Args, Debug)]
pub(crate) struct RecoverArgs {
    #[command(flatten)]
    connection: Connection,
    /// The journal that `record --journal` kept.
    #[arg(long)]
    journal: String,
}

pub(crate) async fn run(args: &RecoverArgs) -> Result<Exit, Fail> {
    if !std::path::Path::new(&args.journal).is_file() {
        return Err(Fail::input(format!(
            "no journal at {}: give the file that `cloudrec record --journal` wrote",
            args.journal
        )));
    }
    let client = args.connection.client(NoEvents, RetryPolicy::default())?;
    let timing = Timing::with(Duration::from_secs(5), Duration::from_secs(90));
    let recorder = session::recorder(client, timing, Some(&args.journal))?;
    let report = recorder.recover(RecoveryPolicy::Stop).await;
    if report.tasks.is_empty() {
        println!("the journal lists no live task: nothing to recover");
        return Ok(Exit::Ok);
    }
    let mut not_stopped = 0_usize;
    for recovered in &report.tasks {
        let task = &recovered.task;
        let what = match (&recovered.found, &recovered.stopped) {
            (Found::Gone, _) => "had already ended (404); removed from the journal".to_owned(),
            (Found::Unreachable { why }, _) => {
                not_stopped += 1;
                format!("could not be queried, left in the journal: {why}")
            }
            (Found::Alive { status }, Some(stopped)) => {
                let end = SessionEnd::from(stopped.clone());
                if !end.unconfirmed.is_empty() {
                    not_stopped += 1;
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
                not_stopped += 1;
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
    if not_stopped > 0 {
        return Err(Fail::new(
            Exit::Failed,
            format!(
                "{not_stopped} task(s) may still record: run `cloudrec recover --journal {}` again once the service answers",
                args.journal
            ),
        ));
    }
    Ok(Exit::Ok)
}
