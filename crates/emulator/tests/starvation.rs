//! Slow, idle and too many clients cannot starve the emulator, and its request log
//! stays bounded in bytes and reads page by page: real sockets over loopback.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use cloudrec_emulator::{ConnectionStats, Emulator, EmulatorConfig, FaultRule};
use common::{Client, fast, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest any test waits for something that must happen.
const GENEROUS: Duration = Duration::from_secs(30);

fn limits(header: Duration, idle: Duration, max_connections: usize) -> EmulatorConfig {
    EmulatorConfig {
        header_read_timeout: header,
        idle_timeout: idle,
        max_connections,
        ..fast()
    }
}

/// Reads until the server closes the connection; panics if it stays open.
async fn closed_by_server(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(GENEROUS, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the emulator kept the connection open");
    seen
}

/// Waits until `done` holds for the emulator's connection stats.
async fn stats_until(
    emulator: &Emulator,
    done: impl Fn(&ConnectionStats) -> bool,
) -> ConnectionStats {
    let wait = tokio::time::timeout(GENEROUS, async {
        loop {
            let stats = emulator.connection_stats();
            if done(&stats) {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    wait.unwrap_or_else(|_| panic!("stats never reached: {:?}", emulator.connection_stats()))
}

async fn ncs_ip_status(emulator: &Emulator) -> u16 {
    Client::new(emulator)
        .send("GET", "/v1/ncs/ip", None)
        .await
        .status
}

#[tokio::test]
async fn slowloris_connections_are_closed_after_the_header_timeout() {
    // The idle timeout is far away: only the header timeout can close them.
    let emulator = start(limits(
        Duration::from_millis(200),
        Duration::from_secs(3600),
        1000,
    ));
    let mut streams = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(emulator.local_addr()).await.unwrap();
        stream
            .write_all(b"GET /v1/ncs/ip HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .await
            .unwrap();
        streams.push(stream);
    }
    for stream in &mut streams {
        closed_by_server(stream).await;
    }
    let stats = stats_until(&emulator, |s| s.closed_slow_headers == 200 && s.open == 0).await;
    assert_eq!(stats.closed_idle, 0);
    // The emulator still serves.
    assert_eq!(ncs_ip_status(&emulator).await, 200);
}

#[tokio::test]
async fn idle_connections_are_closed_but_a_request_in_progress_is_not() {
    let config = EmulatorConfig {
        faults: vec![FaultRule::delay(None, 1000).times(1)],
        ..limits(Duration::from_secs(3600), Duration::from_millis(200), 1000)
    };
    let emulator = start(config);
    // A request that takes longer than the idle timeout is answered.
    assert_eq!(ncs_ip_status(&emulator).await, 200);

    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(TcpStream::connect(emulator.local_addr()).await.unwrap());
    }
    // A keep-alive connection after one answered request (no credentials: 401).
    let mut kept = TcpStream::connect(emulator.local_addr()).await.unwrap();
    kept.write_all(b"GET /v1/ncs/ip HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let answer = closed_by_server(&mut kept).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 401"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    for stream in &mut silent {
        closed_by_server(stream).await;
    }
    let stats = stats_until(&emulator, |s| s.open == 0).await;
    assert!(stats.closed_idle >= 51, "{stats:?}");
    assert_eq!(stats.closed_slow_headers, 0);
}

#[tokio::test]
async fn a_connection_over_the_cap_is_answered_503_naming_the_limit() {
    let emulator = start(limits(
        Duration::from_secs(3600),
        Duration::from_secs(3600),
        3,
    ));
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(emulator.local_addr()).await.unwrap());
    }
    stats_until(&emulator, |s| s.open == 3).await;

    let mut extra = TcpStream::connect(emulator.local_addr()).await.unwrap();
    extra
        .write_all(b"GET /v1/ncs/ip HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let answer = String::from_utf8(closed_by_server(&mut extra).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("maximum of 3 connections (max_connections)"),
        "{answer}"
    );
    let stats = emulator.connection_stats();
    assert_eq!((stats.refused_over_limit, stats.open), (1, 3));

    // A freed slot serves again.
    drop(held.pop());
    stats_until(&emulator, |s| s.open == 2).await;
    assert_eq!(ncs_ip_status(&emulator).await, 200);
}

#[tokio::test]
async fn the_request_log_stays_within_its_byte_bound_and_counts_what_it_dropped() {
    let max_bytes = 128 * 1024;
    let config = EmulatorConfig {
        request_log_max_bytes: max_bytes,
        request_log_max_path: 1024,
        ..fast()
    };
    let emulator = start(config);
    let client = Client::new(&emulator);
    let path = format!("/{}", "a".repeat(60_000));
    let mut last_dropped = 0;
    for round in 1..=3u64 {
        for _ in 0..200 {
            let answer = client.send("GET", &path, None).await;
            assert_eq!(answer.status, 404);
        }
        let stats = emulator.request_log_stats();
        assert!(stats.bytes <= max_bytes, "{stats:?}");
        assert_eq!(stats.last_seq, round * 200);
        assert_eq!(stats.dropped_entries, stats.last_seq - stats.entries as u64);
        assert!(stats.dropped_entries > last_dropped, "{stats:?}");
        last_dropped = stats.dropped_entries;
        assert_eq!(stats.truncated_path_bytes, round * 200 * (60_001 - 1024));
    }
    let log = emulator.request_log();
    assert!(
        log.iter()
            .all(|r| r.path.len() == 1024 && r.path_truncated_bytes == 60_001 - 1024)
    );

    // The unpaginated answer is bounded by the log's bound too.
    let whole = client
        .raw("GET", "/_emulator/requests", None, Vec::new())
        .await
        .unwrap();
    let text = serde_json::to_vec(&whole.body).unwrap();
    assert_eq!(whole.body.as_array().unwrap().len(), log.len());
    assert!(text.len() < 2 * max_bytes, "{} bytes", text.len());
}

#[tokio::test]
async fn pages_return_every_entry_exactly_once_and_count_what_was_missed() {
    let emulator = start(fast());
    let client = Client::new(&emulator);
    for n in 0..250 {
        client.send("GET", &format!("/page/{n}"), None).await;
    }
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let answer = client
            .send(
                "GET",
                &format!("/_emulator/requests?after={after}&limit=7"),
                None,
            )
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        let entries = answer.body["entries"].as_array().unwrap();
        assert!(entries.len() <= 7);
        seen.extend(entries.iter().map(|e| e["seq"].as_u64().unwrap()));
        assert_eq!(answer.body["missed"], 0);
        after = answer.body["next_after"].as_u64().unwrap();
        if answer.body["more"] == false {
            break;
        }
    }
    assert_eq!(seen, (1..=250).collect::<Vec<u64>>());

    let bad = client
        .send("GET", "/_emulator/requests?after=0&limit=0", None)
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["message"].as_str().unwrap().starts_with("limit: "));
}

#[tokio::test]
async fn a_reader_behind_a_dropping_log_sees_each_kept_entry_once_and_counts_the_rest() {
    let config = EmulatorConfig {
        request_log_capacity: 20,
        ..fast()
    };
    let emulator = start(config);
    let client = Client::new(&emulator);
    let mut seen = BTreeSet::new();
    let mut missed = 0;
    let mut after = 0;
    for round in 0..10 {
        for n in 0..15 {
            client.send("GET", &format!("/r/{round}/{n}"), None).await;
        }
        let page = emulator.request_log_page(after, 5);
        missed += page.missed;
        for entry in &page.entries {
            assert!(seen.insert(entry.seq), "seq {} twice", entry.seq);
        }
        after = page.next_after;
    }
    // Drain what is left.
    loop {
        let page = emulator.request_log_page(after, 5);
        missed += page.missed;
        for entry in &page.entries {
            assert!(seen.insert(entry.seq), "seq {} twice", entry.seq);
        }
        after = page.next_after;
        if !page.more {
            break;
        }
    }
    assert!(missed > 0);
    assert_eq!(seen.len() as u64 + missed, 150);
}
