//! The `Recorder`: start a supervised session, wait until it records, change the
//! layout, stop it, and shut the recorder down.
//!
//! The recorder drives acquire, start, the query cadence, recovery and stop for
//! every session it starts; the [`SessionHandle`] is all the caller keeps. Runs
//! against an embedded emulator 50 times faster than real time, with the
//! session timings shrunk the same way.
//!
//! ```text
//! cargo run -p cloudrec-examples --example recorder
//! ```

use std::sync::Arc;
use std::time::Duration;

use cloudrec_client::{Client, Recorder, RecorderConfig, SessionHandle, SessionSpec};
use cloudrec_client::{TokioClock, TokioSpawn};
use cloudrec_core::{Backoff, End, SessionConfig};
use cloudrec_emulator::{
    DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_SECRET, Emulator, EmulatorConfig,
};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{
    AppId, Cname, Mode, Secret, StartClientRequest, StorageConfig, StorageVendor, Uid,
    UpdateLayoutClientRequest,
};

/// How much faster than real time the emulator runs.
const SCALE: f64 = 50.0;

/// A documented duration, shrunk by the time scale.
fn scaled(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds / SCALE)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(
        EmulatorConfig {
            time_scale: SCALE,
            default_channel_users: 2,
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

    // The documented cadence (first query after 5 s, then every 10 s, give up
    // waiting for status 4 or 5 after 90 s), at the emulator's speed.
    let step = scaled(2.0);
    let session = SessionConfig::default()
        .with_first_query_delay(scaled(5.0))?
        .with_waiting_backoff(Backoff::new(vec![step], step)?)
        .with_running_give_up(scaled(90.0))?
        .with_query_interval(scaled(10.0))?
        .with_recovery_window(scaled(90.0))?;
    let recorder = Recorder::new(
        client,
        Arc::new(TokioSpawn),
        RecorderConfig::default().with_session(session),
    );

    let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "my-bucket", "AKIA...", "...");
    let spec = SessionSpec::new(
        Mode::Mix,
        Cname::new("weekly-review")?,
        Uid::new(900_042)?,
        StartClientRequest::mix(storage).with_mp4(),
    );
    let handle: SessionHandle = recorder.start_session(spec);
    println!("{} started", handle.id());

    // The handle knows its task once it records: no ids to keep by hand.
    let task = match handle.running().await {
        Ok(task) => task,
        Err(end) => return Err(format!("the session ended before recording: {end}").into()),
    };
    println!("recording: resource {} sid {}", task.resource_id, task.sid);

    // updateLayout replaces the whole layout; the recorder serializes it with
    // any other update of this session.
    handle
        .update_layout(UpdateLayoutClientRequest::vertical("10002"))
        .await?;
    println!("layout switched to vertical with 10002 in the big window");
    tokio::time::sleep(scaled(30.0)).await;

    let report = handle.stop().await;
    match &report.end {
        End::Stopped { files, .. } if !files.is_empty() => {
            println!("stopped with {} file(s): {files:?}", files.len());
        }
        other => return Err(format!("expected a stop with files, got: {other}").into()),
    }
    if !report.unconfirmed.is_empty() {
        return Err(format!("tasks not confirmed stopped: {:?}", report.unconfirmed).into());
    }

    // Stops whatever is still live (nothing here) within the deadline.
    let shutdown = recorder.shutdown(Duration::from_secs(10)).await;
    if !shutdown.not_stopped.is_empty() {
        return Err(format!("left recording: {:?}", shutdown.not_stopped).into());
    }
    println!(
        "recorder shut down: {} session(s) left",
        recorder.live_sessions()
    );
    emulator.shutdown().await;
    Ok(())
}
