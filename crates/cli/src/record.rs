//! `cloudrec record`: one recording session against the service or any base URL.

use std::time::Duration;

use clap::Args;
use cloudrec_client::SessionSpec;
use cloudrec_core::{RetryPolicy, SessionState};
use cloudrec_events::DEFAULT_EXCHANGE;
use cloudrec_types::{
    AcquireClientRequest, AcquireRequest, Cname, StartClientRequest, StartRequest, Uid, Validate,
    ValidationError,
};

use crate::client_request;
use crate::connection::Connection;
use crate::events_out::{AmqpContentMode, EventsOut};
use crate::exit::{Exit, Fail};
use crate::raw::{decode_json, parse_mode};
use crate::report::{EventFormat, Reporter};
use crate::session::{self, StopModeFlag, Timing};
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
    /// The start clientRequest (recordingConfig, recordingFileConfig,
    /// storageConfig, extensionServiceConfig, ...): a JSON file, `-` for stdin, or
    /// the JSON itself when it starts with `{` (a file keeps storage keys out of
    /// the process list).
    #[arg(long, allow_hyphen_values = true)]
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
    /// How a recording is stopped: `sync` (stop answers once the files are
    /// uploaded) or `async` (stop answers at once; the session queries until the
    /// upload is done).
    #[arg(long, value_enum, default_value = "sync")]
    stop_mode: StopModeFlag,
    /// Keep the live task in this journal file (JSON lines, fsynced), so that
    /// `cloudrec recover --journal PATH` can stop it after a crash.
    #[arg(long)]
    journal: Option<String>,
    /// Also publish every event to RabbitMQ at this AMQP URL.
    #[arg(long, env = "CLOUDREC_AMQP_URL", hide_env_values = true)]
    amqp_url: Option<String>,
    /// The exchange the events are published to (a durable topic exchange).
    #[arg(long, default_value = DEFAULT_EXCHANGE, requires = "amqp_url")]
    amqp_exchange: String,
    /// How each event is laid out in its AMQP message: `structured` (the CloudEvent
    /// JSON in the body) or `binary` (the attributes as `ce-` headers, `data` alone
    /// in the body).
    #[arg(long, value_enum, default_value = "structured", requires = "amqp_url")]
    amqp_content_mode: AmqpContentMode,
    /// Exit 13 when an event was not delivered to RabbitMQ or reached no queue
    /// (the loss is reported on stderr either way).
    #[arg(long, requires = "amqp_url")]
    require_delivery: bool,
}

pub(crate) async fn run(
    args: &RecordArgs,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Exit, Fail> {
    let spec = spec(args)?;
    let stop_lists_files = spec.start.as_ref().is_none_or(lists_files);
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
    let events_out = EventsOut::start(
        args.amqp_url.as_deref(),
        &args.amqp_exchange,
        args.amqp_content_mode,
    )?;
    let reporter = Reporter::start(args.events, true, events_out.pipeline());
    let client = args
        .connection
        .client(reporter.sink(), RetryPolicy::default())?;
    let timing =
        Timing::with(args.poll_interval, args.recovery_window).with_stop_mode(args.stop_mode);
    let recorder = session::recorder(client, timing, args.journal.as_deref())?;
    events_out.connected().await?;
    let end = session::run(&recorder, spec, timing, Vec::new(), args.duration, stop).await;
    drop(recorder);
    let (tally, elapsed) = reporter.finish().await;
    let delivery = events_out.finish().await;
    summary::print(
        &summary::table(&end, &tally, elapsed, delivery.as_ref(), None),
        args.events,
    );
    summary::warn_lost(delivery.as_ref());
    let mut exit = summary::exit_for(&end, stop_lists_files);
    if exit == Exit::Failed
        && let Some(before) = tally.exit_before_acquired()
    {
        exit = before;
    }
    if exit != Exit::Ok {
        let reason = match &end.reason {
            Some(reason) => reason.as_str(),
            None if end.state == SessionState::Stopped => {
                "the stop answer named no file: check the storage and the recording's subscriptions"
            }
            None => "no reason given",
        };
        eprintln!(
            "{}",
            Fail::new(
                exit,
                format!("the session ended {}: {reason}", end.state.as_str())
            )
        );
    }
    Ok(summary::delivery_exit(
        exit,
        delivery.as_ref(),
        args.require_delivery,
    ))
}

/// Whether the stop answer of a task started with `start` lists its files: a
/// screenshot-only task's answer carries its upload status alone.
fn lists_files(start: &StartClientRequest) -> bool {
    start.recording_file_config.is_some() || start.snapshot_config.is_none()
}

/// The session `args` describe. Both request bodies, the channel and the uid are
/// checked as the service would check them: when one is wrong, nothing is sent.
fn spec(args: &RecordArgs) -> Result<SessionSpec, Fail> {
    let mode = parse_mode(&args.mode)?;
    let cname = Cname::new(args.channel.as_str())
        .map_err(|error| Fail::input(format!("invalid --channel: {error}")))?;
    let uid = Uid::new(args.uid).map_err(|error| Fail::input(format!("invalid --uid: {error}")))?;
    let (text, from) = client_request::read(&args.client_request)?;
    let mut start: StartClientRequest = decode_json(&text, "start clientRequest", &from)?;
    if let Some(token) = &args.token {
        start = start.with_token(token.as_str());
    }
    let acquire = if mode.as_str() == "web" {
        AcquireClientRequest::web()
    } else {
        AcquireClientRequest::default()
    };
    let not_sent = |error: ValidationError| {
        let flag = if error.field() == "cname" {
            "--channel"
        } else {
            "--client-request"
        };
        Fail::input(format!(
            "invalid {flag}, nothing sent: {error}; fix it and run again"
        ))
    };
    AcquireRequest::new(cname.clone(), uid)
        .with_client_request(acquire.clone())
        .validate(&mode)
        .map_err(not_sent)?;
    StartRequest::new(cname.clone(), uid, start.clone())
        .validate(&mode)
        .map_err(not_sent)?;
    Ok(SessionSpec::new(mode, cname, uid, start).with_acquire(acquire))
}
