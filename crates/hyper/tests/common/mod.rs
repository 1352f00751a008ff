//! Small loopback servers that behave in one scripted way each, for the
//! transport's integration tests.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cloudrec_core::HttpRequest;
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{Endpoint, Secret};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub const CUSTOMER_ID: &str = "customer-4a7e";
pub const CUSTOMER_SECRET: &str = "hunter2-s3cr3t-value";

/// What a scripted server does with each connection, after reading one request.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Writes these bytes and closes.
    Respond(Vec<u8>),
    /// Reads the request and then never answers (keeps the socket open).
    Hang,
    /// Accepts the connection but never reads or writes (e.g. stalls a TLS handshake).
    Silent,
    /// Writes these bytes as soon as the connection is accepted, without reading,
    /// then closes (a server that speaks first, or plain text to a TLS client).
    Greet(Vec<u8>),
}

/// A complete HTTP/1.1 answer with `status`, extra header lines and a body.
pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

/// A server on 127.0.0.1 and the raw requests it received (head and body).
pub struct Server {
    pub addr: SocketAddr,
    pub requests: mpsc::UnboundedReceiver<Vec<u8>>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next request received, waiting at most 5 s.
    pub async fn next_request(&mut self) -> String {
        let raw = tokio::time::timeout(Duration::from_secs(5), self.requests.recv())
            .await
            .expect("the server received no request within 5 s")
            .expect("server task ended");
        String::from_utf8(raw).unwrap()
    }
}

/// Starts a plain TCP server behaving as `behaviour` on every connection.
pub async fn start(behaviour: Behaviour) -> Server {
    start_with(behaviour, None).await
}

/// Starts a server, behind TLS when `tls` is given.
pub async fn start_with(behaviour: Behaviour, tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let behaviour = behaviour.clone();
            let tx = tx.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                if matches!(behaviour, Behaviour::Silent) {
                    let _keep = tcp;
                    std::future::pending::<()>().await;
                    return;
                }
                if let Behaviour::Greet(bytes) = &behaviour {
                    let mut tcp = tcp;
                    let _ = tcp.write_all(bytes).await;
                    let _ = tcp.shutdown().await;
                    return;
                }
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(tcp).await {
                            serve(stream, behaviour, tx).await;
                        }
                    }
                    None => serve(tcp, behaviour, tx).await,
                }
            });
        }
    });
    Server { addr, requests: rx }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    behaviour: Behaviour,
    requests: mpsc::UnboundedSender<Vec<u8>>,
) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let _ = requests.send(request);
    match behaviour {
        Behaviour::Respond(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.flush().await;
            let _ = stream.shutdown().await;
        }
        Behaviour::Greet(_) => {}
        Behaviour::Hang | Behaviour::Silent => {
            let _keep = stream;
            std::future::pending::<()>().await;
        }
    }
}

/// Reads one request: the head up to the blank line and `content-length` bytes.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&chunk[..n]);
    }
    Some(data)
}

/// A transport with the test credentials.
pub fn transport() -> HyperTransport {
    HyperTransport::builder()
        .credentials(CUSTOMER_ID, Secret::new(CUSTOMER_SECRET))
        .build()
        .unwrap()
}

/// A request for `endpoint` to `base_url` with a generous caller bound.
pub fn request(endpoint: Endpoint, base_url: &str, body: Option<&str>) -> HttpRequest {
    HttpRequest {
        endpoint,
        base_url: base_url.to_owned(),
        path: format!("/v1/apps/app/cloud_recording/{}", endpoint.as_str()),
        body: body.map(|b| b.as_bytes().to_vec()),
        timeout: Duration::from_secs(30),
    }
}

/// A self-signed certificate for `localhost` and 127.0.0.1: the DER to trust and
/// a TLS acceptor serving it.
pub fn self_signed_tls() -> (Vec<u8>, tokio_rustls::TlsAcceptor) {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_der = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key)
        .unwrap();
    (
        cert_der.to_vec(),
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    )
}
