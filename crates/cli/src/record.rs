//! `cloudrec record`: one recording session against the service or any base URL.

use std::time::Duration;

use clap::Args;
use cloudrec_core::{RetryPolicy, SessionSpec};
use cloudrec_types::{AcquireClientRequest, Cname, StartClientRequest, Uid};

use crate::connection::Connection;
use crate::events_out::EventsOut;
use crate::exit::{Exit, Fail};
use crate::raw::{decode_json, parse_mode};
use crate::report::{EventFormat, Reporter};
use crate::session::{self, Timing};
use crate::summary;

/// Records one channel.
#[derive(Args, Debug)]
pub(crate) struct RecordArgs {
    #[command(flatten)]
    connection: Connection,
    /// The recording mode: individual, mix or web.
    #[arg(long, default_value = "mix")]
    mode: String,
    /// The channel to record (for web mode: a label of the task).
    #[arg(long)]
    channel: String,
    /// The recorder bot's uid: an integer no user of the channel has.
    #[arg(long, default_value_t = 527_841)]
    uid: u32,
    /// The RTC token of the recorder (when the App Certificate is on).
    #[arg(long, env = "CLOUDREC_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The start clientRequest as JSON (recordingConfig, recordingFileConfig,
    /// storageConfig, extensionServiceConfig, ...).
    #[arg(long)]
    client_request: String,
    /// How long to record once running, e.g. 90s or 10m; absent: until Ctrl-C.
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// How events are printed to stdout.
    #[arg(long, value_enum, default_value = "pretty")]
    events: EventFormat,
    /// Time between two queries while recording (keep it below maxIdleTime).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
    poll_interval: Duration,
    /// How long a task may answer 404 (failing over) before it is declared lost.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "90s")]
    recovery_window: Duration,
    /// Keep the live task in this journal file (JSON lines, fsynced), so that
    /// `cloudrec recover --journal PATH` can stop it after a crash.
    #[arg(long)]
    journal: Option<String>,
    /// Also publish every event to RabbitMQ at this AMQP URL.
    #[arg(long, env = "CLOUDREC_AMQP_URL")]
    amqp_url: Option<String>,
}

pub(crate) async fn run(
    args: &RecordArgs,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Exit, Fail> {
    let mode = parse_mode(&args.mode)?;
    let cname = Cname::new(args.channel.as_str())
        .map_err(|error| Fail::input(format!("invalid --channel: {error}")))?;
    let uid = Uid::new(args.uid).map_err(|error| Fail::input(format!("invalid --uid: {error}")))?;
    let text = std::fs::read_to_string(&args.client_request).map_err(|error| {
        Fail::input(format!(
            "cannot read --client-request {}: {error}",
            args.client_request
        ))
    })?;
    let mut start: StartClientRequest =
        decode_json(&text, "start clientRequest", &args.client_request)?;
    if let Some(token) = &args.token {
        start = start.with_token(token.as_str());
    }
    for (name, value) in [
        ("--poll-interval", args.poll_interval),
        ("--recovery-window", args.recovery_window),
    ] {
        if value.is_zero() {
            return Err(Fail::input(format!(
                "invalid {name}: give a positive duration such as 30s"
            )));
        }
    }
    let acquire = if mode.as_str() == "web" {
        AcquireClientRequest::web()
    } else {
        AcquireClientRequest::default()
    };
    let spec = SessionSpec::new(mode, cname, uid, start).with_acquire(acquire);
    let events_out = EventsOut::start(args.amqp_url.as_deref())?;
    let reporter = Reporter::start(args.events, true, events_out.pipeline());
    let client = args
        .connection
        .client(reporter.sink(), RetryPolicy::default())?;
    let timing = Timing::with(args.poll_interval, args.recovery_window);
    let recorder = session::recorder(client, timing, args.journal.as_deref())?;
    let end = session::run(&recorder, spec, timing, Vec::new(), args.duration, stop).await;
    drop(recorder);
    let (tally, elapsed) = reporter.finish().await;
    let published = events_out.finish().await;
    summary::print(
        &summary::table(&end, &tally, elapsed, published.as_deref(), None),
        args.events,
    );
    let mut exit = summary::exit_for(end.state);
    if exit == Exit::Failed
        && let Some(before) = tally.exit_before_acquired()
    {
        exit = before;
    }
    if exit != Exit::Ok {
        let reason = end.reason.as_deref().unwrap_or("no reason given");
        eprintln!(
            "{}",
            Fail::new(
                exit,
                format!("the session ended {}: {reason}", end.state.as_str())
            )
        );
    }
    Ok(exit)
}
