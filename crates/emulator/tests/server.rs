//! Starting, addressing and stopping the server.

mod common;

use std::time::Duration;

use cloudrec_emulator::{Emulator, EmulatorConfig, EmulatorError};
use common::{Client, fast, start};
use tokio::net::TcpStream;

#[test]
fn start_outside_a_runtime_is_an_error() {
    let result = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0".parse().unwrap());
    assert!(matches!(result, Err(EmulatorError::NoRuntime)));
}

#[tokio::test]
async fn a_taken_port_and_a_bad_config_are_errors() {
    let emulator = start(fast());
    let taken = Emulator::start(EmulatorConfig::default(), emulator.local_addr());
    let Err(error) = taken else {
        panic!("a second server bound the same port");
    };
    assert!(matches!(error, EmulatorError::Bind { .. }));
    assert!(
        error
            .to_string()
            .contains(&emulator.local_addr().to_string())
    );
    let config = EmulatorConfig {
        time_scale: 0.0,
        ..EmulatorConfig::default()
    };
    let bad = Emulator::start(config, "127.0.0.1:0".parse().unwrap());
    assert!(matches!(bad, Err(EmulatorError::InvalidConfig(_))));
}

#[tokio::test]
async fn base_url_names_the_loopback_port_and_shutdown_stops_serving() {
    let emulator = start(fast());
    let addr = emulator.local_addr();
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_eq!(emulator.base_url(), format!("http://{addr}"));
    let client = Client::new(&emulator);
    assert_eq!(client.send("GET", "/v1/ncs/ip", None).await.status, 200);
    emulator.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}

#[tokio::test]
async fn dropping_the_emulator_stops_serving() {
    let emulator = start(fast());
    let addr = emulator.local_addr();
    drop(emulator);
    let mut refused = false;
    for _ in 0..200 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(refused, "still accepting after drop");
}
