//! Individual recording: one file set per user, against an embedded emulator.
//!
//! Acquire, start with a subscription list, wait until the task records, read the
//! files it reports, stop. Against the real service, replace the base URL with a
//! region (`FailoverPlan`) and use your own credentials and storage.
//!
//! ```text
//! cargo run -p cloudrec-examples --example individual_recording
//! ```

use std::time::Duration;

use cloudrec_client::TokioClock;
use cloudrec_client::{Client, StopOutcome};
use cloudrec_emulator::{
    DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_SECRET, Emulator, EmulatorConfig,
};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{
    AcquireRequest, AppId, AvFileType, Cname, Mode, RecordingConfig, Secret, StartClientRequest,
    StartRequest, StopRequest, StorageConfig, StorageVendor, Uid,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A local service whose time runs 50 times faster.
    let emulator = Emulator::start(
        EmulatorConfig {
            time_scale: 50.0,
            ..EmulatorConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )?;
    let transport = HyperTransport::builder()
        .credentials(DEFAULT_CUSTOMER_ID, Secret::new(DEFAULT_CUSTOMER_SECRET))
        .build()?;
    let client = Client::builder(AppId::new(DEFAULT_APP_ID)?, transport, TokioClock::new())
        .base_url(emulator.base_url())
        .build()?;

    let mode = Mode::Individual;
    let cname = Cname::new("support-call-42")?;
    let uid = Uid::new(527_841)?;
    let resource = client
        .acquire(&mode, &AcquireRequest::new(cname.clone(), uid))
        .await?;

    // Record the audio and video of two users (group 0 covers up to 2 uids).
    let recording = RecordingConfig {
        subscribe_audio_uids: Some(vec!["10001".into(), "10002".into()]),
        subscribe_video_uids: Some(vec!["10001".into(), "10002".into()]),
        subscribe_uid_group: Some(0),
        max_idle_time: Some(120),
        ..RecordingConfig::default()
    };
    let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "my-bucket", "AKIA...", "...")
        .with_prefix(["calls", "support"]);
    let start = StartRequest::new(
        cname.clone(),
        uid,
        StartClientRequest::individual(storage)
            .with_recording_config(recording)
            .with_file_types(vec![AvFileType::Hls]),
    );
    let started = client.start(&resource.resource_id, &mode, &start).await?;
    let task = started.into_task().ok_or("start gave no sid")?;
    println!("recording, sid {}", task.sid.as_str());

    // The documentation asks for a first query about 5 s after start (here 0.1 s
    // of real time), then polling with back-off until status 4 or 5.
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answer = client.query(&task).await?;
        if answer.is_running() && !answer.file_names().is_empty() {
            println!("files so far: {:?}", answer.file_names());
            break;
        }
    }

    match client.stop(&task, &StopRequest::new(cname, uid)).await? {
        StopOutcome::Stopped { response } => {
            println!("stopped; upload {:?}", response.uploading_status());
            for file in response.file_names() {
                println!("  {file}");
            }
        }
        other => println!("stopped: {other:?}"),
    }
    emulator.shutdown().await;
    Ok(())
}
