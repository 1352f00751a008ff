//! `cloudrec demo`: a full mix-mode session against the embedded emulator, with
//! injected faults, live progress, every event and a summary.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use cloudrec_client::SessionSpec;
use cloudrec_emulator::{Emulator, EmulatorConfig, FaultRule};
use cloudrec_events::DEFAULT_EXCHANGE;
use cloudrec_types::{
    AudioUidList, Cname, LayoutConfig, Mode, StartClientRequest, StorageConfig, StorageVendor,
    StreamSubscribe, TranscodingConfig, Uid, UpdateClientRequest, UpdateLayoutClientRequest,
    VideoUidList,
};

use crate::connection::{Credentials, Target, build_client, quick_retry_policy};
use crate::events_out::{AmqpContentMode, EventsOut};
use crate::exit::{Exit, Fail};
use crate::report::{EventFormat, Reporter};
use crate::session::{self, Step, Timing};
use crate::summary;

/// Runs the demo.
#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// Also publish every event to RabbitMQ at this AMQP URL, e.g.
    /// amqp://127.0.0.1:5672/%2f.
    #[arg(long)]
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
    /// How many times faster than real time the emulator runs.
    #[arg(long, default_value_t = 20.0)]
    time_scale: f64,
    /// How events are printed.
    #[arg(long, value_enum, default_value = "pretty")]
    events: EventFormat,
    /// Inject no faults.
    #[arg(long)]
    no_faults: bool,
}

/// The demo's emulated recovery window, in emulator seconds.
const RECOVERY_SECONDS: f64 = 30.0;

pub(crate) async fn run(
    args: &DemoArgs,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Exit, Fail> {
    let scale = args.time_scale;
    if !(scale.is_finite() && (1.0..=1000.0).contains(&scale)) {
        return Err(Fail::input(format!(
            "invalid --time-scale {scale}: give a number from 1 to 1000"
        )));
    }
    let faults = if args.no_faults {
        Vec::new()
    } else {
        demo_faults()
    };
    let config = EmulatorConfig {
        time_scale: scale,
        faults: faults.clone(),
        ..EmulatorConfig::default()
    };
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let emulator = Emulator::start(config, addr)
        .map_err(|error| Fail::internal(format!("the embedded emulator did not start: {error}")))?;
    let info = |line: String| {
        if args.events == EventFormat::Jsonl {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    info(format!(
        "cloudrec demo: a mix-mode recording against the embedded emulator at {} (time x{scale})",
        emulator.base_url()
    ));
    if !faults.is_empty() {
        info(format!(
            "injected faults: start answers 206 code 65 once; the 2nd query answers 429; \
             the 4th query opens a {RECOVERY_SECONDS:.0} s recovery window (404 while the task fails over)"
        ));
    }
    let events_out = EventsOut::start(
        args.amqp_url.as_deref(),
        &args.amqp_exchange,
        args.amqp_content_mode,
    )?;
    let reporter = Reporter::start(args.events, true, events_out.pipeline());
    let credentials = Credentials::emulator()?;
    let client = build_client(
        &credentials,
        &Target::BaseUrl(emulator.base_url()),
        reporter.sink(),
        quick_retry_policy(scaled(Duration::from_secs(3), scale)),
        Some(0xDE40),
    )?;
    let spec = demo_spec()?;
    events_out.connected().await?;
    // The documented timings (a query every 10 s here), as fast as emulator time runs.
    let timing = Timing::with(Duration::from_secs(10), Duration::from_secs(90)).scaled(scale);
    let recorder = session::recorder(client, timing, None)?;
    let script = demo_script(scale);
    let end = session::run(&recorder, spec, timing, script, Some(Duration::ZERO), stop).await;
    drop(recorder);
    let (tally, elapsed) = reporter.finish().await;
    let delivery = events_out.finish().await;
    let left = emulator.tasks().len();
    summary::print(
        &summary::table(&end, &tally, elapsed, delivery.as_ref(), Some(left)),
        args.events,
    );
    emulator.shutdown().await;
    summary::warn_lost(delivery.as_ref());
    Ok(summary::delivery_exit(
        summary::exit_for(&end, true),
        delivery.as_ref(),
        args.require_delivery,
    ))
}

fn scaled(real: Duration, scale: f64) -> Duration {
    real.div_f64(scale)
}

/// A 206 code 65 on start, a 429 on a query, and a recovery window while running.
fn demo_faults() -> Vec<FaultRule> {
    use cloudrec_types::Endpoint;
    vec![
        FaultRule::respond(
            Some(Endpoint::Start),
            206,
            serde_json::json!({"code": 65, "reason": "request not completed"}),
        )
        .times(1),
        FaultRule::respond(
            Some(Endpoint::Query),
            429,
            serde_json::json!({"message": "API rate limit exceeded"}),
        )
        .nth(2)
        .times(1),
        FaultRule::recovery_window(Some(Endpoint::Query), RECOVERY_SECONDS)
            .nth(4)
            .times(1),
    ]
}

fn demo_spec() -> Result<SessionSpec, Fail> {
    let cname = Cname::new("cloudrec-demo")
        .map_err(|error| Fail::internal(format!("demo channel: {error}")))?;
    let uid = Uid::new(527_841).map_err(|error| Fail::internal(format!("demo uid: {error}")))?;
    let storage = StorageConfig::new(
        StorageVendor::AmazonS3,
        0,
        "cloudrec-demo-bucket",
        "demo-access-key",
        "demo-secret-key",
    )
    .with_prefix(["cloudrec", "demo"]);
    let start = StartClientRequest::mix(storage)
        .with_transcoding(TranscodingConfig::new(640, 360, 15, 500))
        .with_mp4();
    Ok(SessionSpec::new(Mode::Mix, cname, uid, start))
}

/// While recording: a custom two-window layout, then audio from one user only.
fn demo_script(scale: f64) -> Vec<Step> {
    let layout = UpdateLayoutClientRequest::custom(vec![
        LayoutConfig::new(Some("10001".to_owned()), 0.0, 0.0, 1.0, 1.0),
        LayoutConfig::new(Some("10002".to_owned()), 0.7, 0.7, 0.3, 0.3),
    ]);
    let subscriptions = UpdateClientRequest::subscribe(StreamSubscribe {
        unknown: Default::default(),
        audio_uid_list: Some(AudioUidList {
            subscribe_audio_uids: Some(vec!["10001".to_owned()]),
            ..AudioUidList::default()
        }),
        video_uid_list: Some(VideoUidList {
            subscribe_video_uids: Some(vec!["#allstream#".to_owned()]),
            ..VideoUidList::default()
        }),
    });
    vec![
        Step::Wait(scaled(Duration::from_secs(30), scale)),
        Step::UpdateLayout(Box::new(layout)),
        Step::Wait(scaled(Duration::from_secs(30), scale)),
        Step::Update(Box::new(subscriptions)),
        Step::Wait(scaled(Duration::from_secs(30), scale)),
    ]
}
