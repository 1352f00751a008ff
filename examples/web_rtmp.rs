//! Web page recording that also publishes to an RTMP server.
//!
//! Acquires with scene 1 (web), starts the web recorder and an RTMP publishing
//! service, reads the RTMP state from query, moves publishing to another URL with
//! `update`, pauses the recording (`onhold`), and stops. Runs against an embedded
//! emulator.
//!
//! ```text
//! cargo run -p cloudrec-examples --example web_rtmp
//! ```

use std::time::Duration;

use cloudrec_client::Client;
use cloudrec_client::TokioClock;
use cloudrec_emulator::{
    DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_SECRET, Emulator, EmulatorConfig,
};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{
    AcquireClientRequest, AcquireRequest, AppId, Cname, Mode, Secret, StartClientRequest,
    StartRequest, StopRequest, StorageConfig, StorageVendor, Uid, UpdateClientRequest,
    UpdateRequest,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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

    let mode = Mode::Web;
    // In web mode the channel name is only a label of the task.
    let cname = Cname::new("dashboard-stream")?;
    let uid = Uid::new(700_001)?;
    let acquire =
        AcquireRequest::new(cname.clone(), uid).with_client_request(AcquireClientRequest::web());
    let resource = client.acquire(&mode, &acquire).await?;

    let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "my-bucket", "AKIA...", "...");
    let start = StartRequest::new(
        cname.clone(),
        uid,
        StartClientRequest::web("https://example.com/live-dashboard", storage)
            .with_rtmp_publish("rtmp://live.example.com/app/stream-key"),
    );
    let started = client.start(&resource.resource_id, &mode, &start).await?;
    let task = started.into_task().ok_or("start gave no sid")?;

    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = client.query(&task).await?;
    for service in answer
        .server_response
        .extension_service_state
        .iter()
        .flatten()
    {
        println!("{}: {:?}", service.service_name, service.payload.outputs);
    }

    // Move publishing to a backup ingest, then pause the recording.
    let backup = UpdateClientRequest::rtmp("rtmp://backup.example.com/app/stream-key");
    client
        .update(&task, &UpdateRequest::new(cname.clone(), uid, backup))
        .await?;
    client
        .update(
            &task,
            &UpdateRequest::new(cname.clone(), uid, UpdateClientRequest::onhold(true)),
        )
        .await?;
    println!("publishing moved to the backup ingest; recording on hold");

    let stopped = client.stop(&task, &StopRequest::new(cname, uid)).await?;
    println!(
        "stopped: files {:?}, upload {:?}",
        stopped.file_names(),
        stopped.uploading_status()
    );
    emulator.shutdown().await;
    Ok(())
}
