//! What the transport puts on the wire and what it takes from the answer.

mod common;

use base64::Engine as _;
use cloudrec_client::Transport;
use cloudrec_hyper::{JSON_CONTENT_TYPE, USER_AGENT_VALUE};
use cloudrec_types::Endpoint;
use common::{Behaviour, CUSTOMER_ID, CUSTOMER_SECRET, request, response, start, transport};

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[tokio::test]
async fn post_carries_auth_user_agent_content_type_and_the_body() {
    let mut server = start(Behaviour::Respond(response(200, &[], "{}"))).await;
    let body = r#"{"cname":"c","uid":"1","clientRequest":{}}"#;
    let answer = transport()
        .send(request(Endpoint::Acquire, &server.url(), Some(body)))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, &b"{}"[..]);

    let raw = server.next_request().await;
    assert!(
        raw.starts_with("POST /v1/apps/app/cloud_recording/acquire HTTP/1.1\r\n"),
        "{raw}"
    );
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{CUSTOMER_ID}:{CUSTOMER_SECRET}"))
    );
    assert_eq!(header(&raw, "authorization"), Some(expected_auth.as_str()));
    assert_eq!(header(&raw, "user-agent"), Some(USER_AGENT_VALUE));
    assert_eq!(
        USER_AGENT_VALUE,
        concat!("cloudrec/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(header(&raw, "content-type"), Some(JSON_CONTENT_TYPE));
    assert_eq!(header(&raw, "host"), Some(server.addr.to_string().as_str()));
    assert!(raw.ends_with(body), "{raw}");
}

#[tokio::test]
async fn query_is_a_get_without_content_type() {
    let mut server = start(Behaviour::Respond(response(200, &[], "{}"))).await;
    transport()
        .send(request(Endpoint::Query, &server.url(), None))
        .await
        .unwrap();
    let raw = server.next_request().await;
    assert!(raw.starts_with("GET /v1/apps/app/cloud_recording/query HTTP/1.1\r\n"));
    assert_eq!(header(&raw, "content-type"), None);
    assert!(header(&raw, "authorization").is_some());
}

#[tokio::test]
async fn a_trailing_slash_on_the_base_url_is_not_doubled() {
    let mut server = start(Behaviour::Respond(response(200, &[], ""))).await;
    let url = format!("{}/", server.url());
    transport()
        .send(request(Endpoint::Query, &url, None))
        .await
        .unwrap();
    assert!(server.next_request().await.starts_with("GET /v1/apps/"));
}

#[tokio::test]
async fn error_statuses_are_answers_with_request_id_and_retry_after() {
    let server = start(Behaviour::Respond(response(
        429,
        &[("X-Request-ID", "req-123"), ("Retry-After", "7")],
        r#"{"message":"API rate limit exceeded"}"#,
    )))
    .await;
    let answer = transport()
        .send(request(Endpoint::Start, &server.url(), Some("{}")))
        .await
        .unwrap();
    assert_eq!(answer.status, 429);
    assert_eq!(answer.request_id.as_deref(), Some("req-123"));
    assert_eq!(answer.retry_after.as_deref(), Some("7"));
    assert_eq!(
        answer.body,
        &br#"{"message":"API rate limit exceeded"}"#[..]
    );
}

#[tokio::test]
async fn a_retry_after_date_becomes_seconds_and_other_request_id_headers_are_read() {
    let retry_at = "Wed, 21 Oct 2026 07:28:09 GMT";
    let sent = "Wed, 21 Oct 2026 07:28:00 GMT";
    for (name, id) in [("request-id", "r-1"), ("X-Agora-Request-Id", "r-2")] {
        let server = start(Behaviour::Respond(response(
            503,
            &[(name, id), ("retry-after", retry_at), ("date", sent)],
            "",
        )))
        .await;
        let answer = transport()
            .send(request(Endpoint::Stop, &server.url(), Some("{}")))
            .await
            .unwrap();
        assert_eq!(answer.status, 503);
        assert_eq!(answer.request_id.as_deref(), Some(id), "{name}");
        assert_eq!(answer.retry_after.as_deref(), Some("9"));
    }
}

#[tokio::test]
async fn no_request_id_and_no_retry_after_are_none() {
    let server = start(Behaviour::Respond(response(200, &[], "{}"))).await;
    let answer = transport()
        .send(request(Endpoint::Query, &server.url(), None))
        .await
        .unwrap();
    assert_eq!(answer.request_id, None);
    assert_eq!(answer.retry_after, None);
}

#[tokio::test]
async fn debug_output_shows_no_secret() {
    let transport = transport();
    let text = format!("{transport:?}");
    assert!(text.contains(CUSTOMER_ID));
    assert!(!text.contains(CUSTOMER_SECRET), "{text}");
    let clone = transport.clone();
    assert!(!format!("{clone:?}").contains(CUSTOMER_SECRET));
}

#[tokio::test]
async fn plain_http_to_localhost_and_ipv6_loopback_is_allowed() {
    let mut server = start(Behaviour::Respond(response(200, &[], "{}"))).await;
    let url = format!("http://localhost:{}", server.addr.port());
    let answer = transport()
        .send(request(Endpoint::Query, &url, None))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert!(server.next_request().await.starts_with("GET "));

    let listener = tokio::net::TcpListener::bind("[::1]:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = tokio::io::AsyncReadExt::read(&mut tcp, &mut buf).await;
        let reply = response(204, &[], "");
        tokio::io::AsyncWriteExt::write_all(&mut tcp, &reply)
            .await
            .unwrap();
    });
    let answer = transport()
        .send(request(
            Endpoint::Query,
            &format!("http://[::1]:{port}"),
            None,
        ))
        .await
        .unwrap();
    assert_eq!(answer.status, 204);
}
