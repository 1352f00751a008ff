//! An answer's body keeps only its own bytes: hyper reads into a connection
//! buffer of 8 KiB or more, and a body (and every string decoded from it) that
//! were a slice of that buffer would keep all of it alive.
//!
//! Counted by an allocator that tracks the bytes this test binary has in use.

use std::alloc::System;
use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use cloudrec_client::Transport;
use cloudrec_core::HttpRequest;
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{Endpoint, Secret};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio::net::TcpListener;

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const BODY: &[u8] = br#"{"sid":"38f8e3cfdc474cd56fc1ceba380d7e1a"}"#;

#[tokio::test(flavor = "current_thread")]
async fn a_kept_body_costs_about_its_own_size() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = service_fn(|_request| async {
                    Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(BODY))))
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    let transport = HyperTransport::builder()
        .credentials("customer", Secret::new("secret"))
        .build()
        .unwrap();
    let query = || HttpRequest {
        endpoint: Endpoint::Query,
        base_url: url.clone(),
        path: "/v1/apps/app/cloud_recording/resourceid/r/sid/s/mode/mix/query".to_owned(),
        body: None,
        timeout: Duration::from_secs(10),
    };
    // Warm up: the connection, the pool and the runtime allocate once.
    for _ in 0..10 {
        transport.send(query()).await.unwrap();
    }

    const KEPT: usize = 200;
    let mut bodies = Vec::with_capacity(KEPT);
    let region = Region::new(ALLOCATOR);
    for _ in 0..KEPT {
        bodies.push(transport.send(query()).await.unwrap().body);
    }
    let change = region.change();
    let in_use = change.bytes_allocated as isize - change.bytes_deallocated as isize
        + change.bytes_reallocated;
    let per_body = in_use / KEPT as isize;

    assert!(bodies.iter().all(|body| body == BODY));
    // The body's bytes: well under a kilobyte, where a slice of the connection
    // buffer keeps 8 KiB.
    assert!(
        per_body < 1024,
        "each kept body holds {per_body} bytes in memory for {} bytes of body",
        BODY.len()
    );
}
