//! Mix recording with a custom layout, changed while recording.
//!
//! Starts a 1280x720 mix with a picture-in-picture layout (layout 3, custom
//! windows), switches to the vertical layout with `updateLayout`, and stops with
//! HLS and MP4 files. Runs against an embedded emulator.
//!
//! ```text
//! cargo run -p cloudrec-examples --example mix_custom_layout
//! ```

use std::time::Duration;

use cloudrec_client::Client;
use cloudrec_client::TokioClock;
use cloudrec_emulator::{
    DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_SECRET, Emulator, EmulatorConfig,
};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{
    AcquireRequest, AppId, Cname, LayoutConfig, Mode, Secret, StartClientRequest, StartRequest,
    StopRequest, StorageConfig, StorageVendor, TranscodingConfig, Uid, UpdateLayoutClientRequest,
    UpdateLayoutRequest,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(
        EmulatorConfig {
            time_scale: 50.0,
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

    let mode = Mode::Mix;
    let cname = Cname::new("town-hall")?;
    let uid = Uid::new(900_001)?;
    let resource = client
        .acquire(&mode, &AcquireRequest::new(cname.clone(), uid))
        .await?;

    // The speaker fills the canvas; the host sits in the bottom-right corner.
    let picture_in_picture = vec![
        LayoutConfig::new(Some("10001".into()), 0.0, 0.0, 1.0, 1.0),
        LayoutConfig::new(Some("10002".into()), 0.72, 0.72, 0.25, 0.25),
    ];
    let canvas = TranscodingConfig::new(1280, 720, 15, 1130).with_custom_layout(picture_in_picture);
    let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "my-bucket", "AKIA...", "...");
    let start = StartRequest::new(
        cname.clone(),
        uid,
        StartClientRequest::mix(storage)
            .with_transcoding(canvas)
            .with_mp4(),
    );
    let started = client.start(&resource.resource_id, &mode, &start).await?;
    let task = started.into_task().ok_or("start gave no sid")?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // updateLayout replaces the whole layout: fields left out return to defaults.
    let vertical = UpdateLayoutRequest::new(
        cname.clone(),
        uid,
        UpdateLayoutClientRequest::vertical("10002"),
    );
    client.update_layout(&task, &vertical).await?;
    println!("layout switched to vertical with 10002 in the big window");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let stopped = client.stop(&task, &StopRequest::new(cname, uid)).await?;
    println!("files: {:?}", stopped.file_names());
    emulator.shutdown().await;
    Ok(())
}
