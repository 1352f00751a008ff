//! The pooled client: sequential requests reuse one kept-alive connection, and
//! clones of one transport share the pool under concurrency.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
use tokio::net::TcpListener;

/// A keep-alive hyper server answering 200 to everything; returns its base URL
/// and the number of connections it accepted.
async fn keep_alive_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let service = service_fn(|_request| async {
                    Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(
                        b"{\"code\":0}",
                    ))))
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    (url, accepted)
}

fn transport() -> HyperTransport {
    HyperTransport::builder()
        .credentials("customer", Secret::new("secret"))
        .build()
        .unwrap()
}

fn query(base_url: &str) -> HttpRequest {
    HttpRequest {
        endpoint: Endpoint::Query,
        base_url: base_url.to_owned(),
        path: "/v1/apps/app/cloud_recording/resourceid/r/sid/s/mode/mix/query".to_owned(),
        body: None,
        timeout: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let (url, accepted) = keep_alive_server().await;
    let transport = transport();
    for _ in 0..5 {
        let answer = transport.send(query(&url)).await.unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, &b"{\"code\":0}"[..]);
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn clones_share_the_pool_under_concurrency() {
    let (url, accepted) = keep_alive_server().await;
    let transport = transport();
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let transport = transport.clone();
            let url = url.clone();
            tokio::spawn(async move { transport.send(query(&url)).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().status, 200);
    }
    let opened = accepted.load(Ordering::SeqCst);
    assert!((1..=16).contains(&opened), "{opened} connections");
    // Afterwards the idle connections serve new calls without opening more.
    for _ in 0..4 {
        transport.send(query(&url)).await.unwrap();
    }
    assert_eq!(accepted.load(Ordering::SeqCst), opened);
}
