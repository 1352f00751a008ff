//! `demo --amqp-url` publishes its events to RabbitMQ and `events tail` reads them.
//! Needs RabbitMQ on 127.0.0.1:5672 (guest/guest); `.ci/run` starts it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::{cloudrec, run};

const URL: &str = "amqp://127.0.0.1:5672/%2f";
const LIMIT: Duration = Duration::from_secs(120);

fn require_rabbitmq() {
    assert!(
        std::net::TcpStream::connect("127.0.0.1:5672").is_ok(),
        "this test needs RabbitMQ on 127.0.0.1:5672: start it with `rabbitmq-server -detached` \
         (Debian: `apt-get install rabbitmq-server`), or run `.ci/run`"
    );
}

#[test]
fn demo_events_reach_rabbitmq_and_events_tail_prints_them() {
    require_rabbitmq();
    let mut tail = cloudrec();
    tail.args(["events", "tail", "--amqp-url", URL, "--json"])
        .args(["--routing-key", "session.*", "--count", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut tail = tail.spawn().unwrap();
    // Wait (bounded) until the tail's queue is bound.
    let stderr = tail.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let ready = rx.recv_timeout(LIMIT).unwrap_or_default();
    assert!(ready.starts_with("tailing exchange"), "{ready}");

    let mut demo = cloudrec();
    demo.args([
        "demo",
        "--events",
        "none",
        "--no-faults",
        "--time-scale",
        "50",
    ])
    .args(["--amqp-url", URL]);
    let result = run(demo, LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
    let rabbit = result
        .stdout
        .lines()
        .find(|line| line.trim_start().starts_with("rabbitmq"))
        .expect("the summary says what reached RabbitMQ");
    assert!(rabbit.contains("confirmed by the broker"), "{rabbit}");
    assert!(!rabbit.contains("not all events"), "{rabbit}");

    let deadline = std::time::Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = tail.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "events tail did not get 4 events"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    let mut out = String::new();
    std::io::Read::read_to_string(&mut tail.stdout.take().unwrap(), &mut out).unwrap();
    let types: Vec<String> = out
        .lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).expect("a CloudEvent");
            assert_eq!(event["specversion"], "1.0");
            event["type"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(types.len(), 4, "{out}");
    assert!(
        types.iter().all(|t| t.starts_with("io.cloudrec.session.")),
        "{types:?}"
    );
    assert_eq!(types[0], "io.cloudrec.session.acquired", "{types:?}");
}

#[test]
fn events_tail_without_a_broker_says_how_to_start_one() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut command = cloudrec();
    command.args([
        "events",
        "tail",
        "--amqp-url",
        &format!("amqp://guest:hunter2-secret@127.0.0.1:{port}/%2f"),
    ]);
    let result = run(command, LIMIT);
    assert_eq!(result.code, Some(5), "{}", result.all());
    assert_eq!(result.stderr.lines().count(), 1, "{}", result.stderr);
    assert!(
        result.stderr.contains("rabbitmq-server"),
        "{}",
        result.stderr
    );
    assert!(!result.all().contains("hunter2-secret"), "{}", result.all());
}

/// Declares a private queue bound to every routing key of the events exchange.
async fn bound_queue(connection: &lapin::Connection) -> (lapin::Channel, String) {
    use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
    use lapin::types::FieldTable;
    let channel = connection.create_channel().await.unwrap();
    channel
        .exchange_declare(
            cloudrec_events::DEFAULT_EXCHANGE.into(),
            lapin::ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let name = queue.name().as_str().to_owned();
    channel
        .queue_bind(
            name.as_str().into(),
            cloudrec_events::DEFAULT_EXCHANGE.into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    (channel, name)
}

#[test]
fn jsonl_ids_are_the_amqp_message_ids() {
    use futures_util::StreamExt;
    use lapin::options::BasicConsumeOptions;
    use lapin::types::FieldTable;

    require_rabbitmq();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (connection, channel, queue) = runtime.block_on(async {
        let connection = lapin::Connection::connect(URL, lapin::ConnectionProperties::default())
            .await
            .unwrap();
        let (channel, queue) = bound_queue(&connection).await;
        (connection, channel, queue)
    });

    let mut demo = cloudrec();
    demo.args(["demo", "--events", "jsonl", "--no-faults"])
        .args(["--time-scale", "50", "--amqp-url", URL]);
    let result = run(demo, LIMIT);
    assert_eq!(result.code, Some(0), "{}", result.all());
    let ids: Vec<String> = result
        .stdout
        .lines()
        .filter(|line| line.starts_with('{'))
        .filter_map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).ok()?;
            Some(event["id"].as_str()?.to_owned())
        })
        .collect();
    assert!(ids.len() > 5, "{}", result.stdout);

    // Other runs may publish to the same exchange: look for every id among the
    // message ids received (bounded wait).
    let message_ids = runtime.block_on(async {
        let mut consumer = channel
            .basic_consume(
                queue.as_str().into(),
                "cloudrec-test-ids".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..BasicConsumeOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let mut seen = std::collections::HashSet::new();
        while !ids.iter().all(|id| seen.contains(id)) {
            match tokio::time::timeout(Duration::from_secs(10), consumer.next()).await {
                Ok(Some(Ok(delivery))) => {
                    if let Some(id) = delivery.properties.message_id() {
                        seen.insert(id.as_str().to_owned());
                    }
                }
                _ => break,
            }
        }
        let _ = connection.close(200, "bye".into()).await;
        seen
    });
    let missing: Vec<&String> = ids.iter().filter(|id| !message_ids.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} JSON-lines ids have no AMQP message with that message_id: {missing:?}",
        missing.len(),
        ids.len()
    );
}
