//! Testing your own code against the emulator.
//!
//! `record_briefly` stands for your application's code. The checks below run it
//! against an emulator with injected faults and use the emulator's view (tasks,
//! request log) to check what your code did: that a start answering 206 code 65
//! is retried, that a task failing over (404 inside a recovery window) is waited
//! out, and that no task is left running. Put the same in `#[tokio::test]`s.
//!
//! ```text
//! cargo run -p cloudrec-examples --example testing_with_the_emulator
//! ```

use std::time::Duration;

use cloudrec_client::TokioClock;
use cloudrec_client::{CallError, Client, StopOutcome};
use cloudrec_core::Resolution;
use cloudrec_emulator::{
    DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_SECRET, Emulator, EmulatorConfig,
    FaultRule,
};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{
    AcquireRequest, AppId, Cname, Endpoint, Mode, Secret, StartClientRequest, StartRequest,
    StopRequest, StorageConfig, StorageVendor, Uid,
};

type MyClient = Client<HyperTransport, TokioClock, cloudrec_core::NoEvents>;

/// Your code: records a channel for a moment and returns the files. It waits out
/// a task 404 (failover) for up to `patience` before giving up.
async fn record_briefly(
    client: &MyClient,
    channel: &str,
    patience: Duration,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let (mode, cname, uid) = (Mode::Mix, Cname::new(channel)?, Uid::new(4242)?);
    let resource = client
        .acquire(&mode, &AcquireRequest::new(cname.clone(), uid))
        .await?;
    let storage = StorageConfig::new(StorageVendor::AmazonS3, 0, "bucket", "ak", "sk");
    let start = StartRequest::new(cname.clone(), uid, StartClientRequest::mix(storage));
    let started = client.start(&resource.resource_id, &mode, &start).await?;
    let task = started.into_task().ok_or("no sid")?;
    let since = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        match client.query(&task).await {
            Ok(answer) if !answer.file_names().is_empty() => break,
            Ok(_) => {}
            Err(CallError::Failed { failure, .. })
                if failure.resolution() == Resolution::TreatAsGone
                    && since.elapsed() < patience => {}
            Err(other) => return Err(other.into()),
        }
    }
    match client.stop(&task, &StopRequest::new(cname, uid)).await? {
        StopOutcome::Stopped { response } => Ok(response
            .file_names()
            .into_iter()
            .map(str::to_owned)
            .collect()),
        other => Err(format!("stop ended {other:?}").into()),
    }
}

fn client_for(emulator: &Emulator) -> Result<MyClient, Box<dyn std::error::Error>> {
    let transport = HyperTransport::builder()
        .credentials(DEFAULT_CUSTOMER_ID, Secret::new(DEFAULT_CUSTOMER_SECRET))
        .build()?;
    Ok(
        Client::builder(AppId::new(DEFAULT_APP_ID)?, transport, TokioClock::new())
            .base_url(emulator.base_url())
            .build()?,
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(
        EmulatorConfig {
            time_scale: 50.0,
            ..EmulatorConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )?;
    let client = client_for(&emulator)?;

    // 1. The happy path records files and leaves no task behind.
    let files = record_briefly(&client, "happy", Duration::from_secs(5)).await?;
    assert!(!files.is_empty());
    assert!(emulator.tasks().is_empty(), "a task was left running");
    println!("ok: happy path, {} files", files.len());

    // 2. A start answering 206 code 65 is retried by the client (a second start
    //    call reaches the emulator).
    emulator.reset();
    emulator.inject(
        FaultRule::respond(
            Some(Endpoint::Start),
            206,
            serde_json::json!({"code": 65, "reason": "request not completed"}),
        )
        .times(1),
    );
    record_briefly(&client, "retried", Duration::from_secs(5)).await?;
    let starts = emulator
        .request_log()
        .iter()
        .filter(|r| r.endpoint == Some(Endpoint::Start))
        .count();
    assert_eq!(starts, 2, "the start was retried once");
    println!("ok: start retried after 206 code 65");

    // 3. A failover (404 for 20 emulator seconds) is waited out.
    emulator.reset();
    emulator.inject(FaultRule::recovery_window(Some(Endpoint::Query), 20.0).times(1));
    record_briefly(&client, "failover", Duration::from_secs(5)).await?;
    assert!(emulator.tasks().is_empty());
    println!("ok: failover waited out");

    // 4. Credentials the service refuses fail at once with fix_credentials.
    let transport = HyperTransport::builder()
        .credentials(DEFAULT_CUSTOMER_ID, Secret::new("wrong"))
        .build()?;
    let wrong = Client::builder(AppId::new(DEFAULT_APP_ID)?, transport, TokioClock::new())
        .base_url(emulator.base_url())
        .build()?;
    let error = record_briefly(&wrong, "denied", Duration::from_secs(1))
        .await
        .expect_err("refused");
    println!("ok: refused credentials: {error}");

    emulator.shutdown().await;
    Ok(())
}
