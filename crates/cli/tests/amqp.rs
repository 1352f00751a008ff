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

/// Runs `f` with a connection to the local RabbitMQ, on a runtime of its own.
fn with_broker<T>(f: impl AsyncFnOnce(&lapin::Channel) -> T) -> T {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let connection = lapin::Connection::connect(URL, lapin::ConnectionProperties::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let out = f(&channel).await;
        let _ = connection.close(200, "bye".into()).await;
        out
    })
}

fn delete_exchange(name: &str) {
    with_broker(async |channel| {
        let _ = channel
            .exchange_delete(
                name.into(),
                lapin::options::ExchangeDeleteOptions::default(),
            )
            .await;
    });
}

/// A fast demo without faults publishing to `url` (on `exchange` when given).
fn demo(url: &str, exchange: Option<&str>, extra: &[&str]) -> common::Run {
    let mut command = cloudrec();
    command
        .args([
            "demo",
            "--events",
            "none",
            "--no-faults",
            "--time-scale",
            "50",
        ])
        .args(["--amqp-url", url])
        .args(
            exchange
                .map(|name| ["--amqp-exchange", name])
                .iter()
                .flatten(),
        )
        .args(extra);
    run(command, LIMIT)
}

/// The counts of the summary's `rabbitmq` row, by name (`published`, `unroutable`, ...).
fn rabbit_count(result: &common::Run, name: &str) -> u64 {
    let row = result
        .stdout
        .lines()
        .find(|line| line.trim_start().starts_with("rabbitmq"))
        .unwrap_or_else(|| panic!("no rabbitmq row: {}", result.all()));
    let words: Vec<&str> = row.split_whitespace().collect();
    let at = words
        .iter()
        .position(|word| word.trim_end_matches(',') == name)
        .unwrap_or_else(|| panic!("no {name} in {row}"));
    words[at - 1].parse().unwrap()
}

#[test]
fn events_no_queue_is_bound_for_are_reported_as_lost() {
    require_rabbitmq();
    let exchange = format!("cloudrec.test.unbound.{}", std::process::id());
    let result = demo(URL, Some(&exchange), &[]);
    assert_eq!(result.code, Some(0), "{}", result.all());
    let unroutable = rabbit_count(&result, "unroutable");
    assert!(unroutable > 0, "{}", result.all());
    assert_eq!(unroutable, rabbit_count(&result, "confirmed"));
    assert!(
        result
            .stderr
            .contains(&format!("warning: {unroutable} of {unroutable} event(s)")),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("unroutable"), "{}", result.stderr);

    let result = demo(URL, Some(&exchange), &["--require-delivery"]);
    assert_eq!(result.code, Some(13), "{}", result.all());
    let last = result.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: --require-delivery"), "{last}");
    delete_exchange(&exchange);
}

#[test]
fn events_a_closed_port_never_took_are_reported_as_undelivered() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    let result = demo(&url, None, &[]);
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert_eq!(rabbit_count(&result, "published"), 0);
    let undelivered = rabbit_count(&result, "undelivered");
    assert!(undelivered > 0, "{}", result.all());
    assert!(
        result.stderr.contains(&format!(
            "warning: {undelivered} event(s) were not delivered to RabbitMQ"
        )),
        "{}",
        result.stderr
    );

    let result = demo(&url, None, &["--require-delivery"]);
    assert_eq!(result.code, Some(13), "{}", result.all());
}

#[test]
fn events_a_bound_queue_took_give_no_warning() {
    require_rabbitmq();
    let exchange = format!("cloudrec.test.bound.{}", std::process::id());
    let queue = format!("{exchange}.all");
    with_broker(async |channel| {
        channel
            .exchange_declare(
                exchange.as_str().into(),
                lapin::ExchangeKind::Topic,
                lapin::options::ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_declare(
                queue.as_str().into(),
                lapin::options::QueueDeclareOptions::default(),
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_bind(
                queue.as_str().into(),
                exchange.as_str().into(),
                "#".into(),
                lapin::options::QueueBindOptions::default(),
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap();
    });
    let result = demo(URL, Some(&exchange), &["--require-delivery"]);
    let in_queue = with_broker(async |channel| {
        let declared = channel
            .queue_declare(
                queue.as_str().into(),
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap();
        let count = u64::from(declared.message_count());
        let _ = channel
            .queue_delete(
                queue.as_str().into(),
                lapin::options::QueueDeleteOptions::default(),
            )
            .await;
        count
    });
    delete_exchange(&exchange);
    assert_eq!(result.code, Some(0), "{}", result.all());
    assert!(!result.all().contains("warning"), "{}", result.all());
    assert!(!result.all().contains("not all events"), "{}", result.all());
    assert_eq!(rabbit_count(&result, "unroutable"), 0);
    assert_eq!(rabbit_count(&result, "undelivered"), 0);
    assert_eq!(rabbit_count(&result, "confirmed"), in_queue);
}

#[test]
fn a_refused_amqp_login_is_a_credentials_error_before_anything_is_sent() {
    require_rabbitmq();
    let url = "amqp://guest:wrong-hunter2@127.0.0.1:5672/%2f";
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = {
        let _guard = runtime.enter();
        let addr: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        cloudrec_emulator::Emulator::start(cloudrec_emulator::EmulatorConfig::default(), addr)
            .unwrap()
    };
    let client_request = serde_json::json!({
        "recordingConfig": {"channelType": 0, "maxIdleTime": 30},
        "recordingFileConfig": {"avFileType": ["hls"]},
        "storageConfig": {
            "vendor": 1, "region": 0, "bucket": "b", "accessKey": "a", "secretKey": "s"
        }
    });
    let file = std::env::temp_dir().join(format!("cloudrec-cli-amqp-{}.json", std::process::id()));
    std::fs::write(&file, client_request.to_string()).unwrap();
    let mut command = cloudrec();
    command
        .env("CLOUDREC_APP_ID", cloudrec_emulator::DEFAULT_APP_ID)
        .env(
            "CLOUDREC_CUSTOMER_ID",
            cloudrec_emulator::DEFAULT_CUSTOMER_ID,
        )
        .env(
            "CLOUDREC_CUSTOMER_SECRET",
            cloudrec_emulator::DEFAULT_CUSTOMER_SECRET,
        )
        .env("CLOUDREC_AMQP_URL", url)
        .args(["record", "--base-url", &emulator.base_url()])
        .args([
            "--channel",
            "room-amqp",
            "--duration",
            "1s",
            "--client-request",
        ])
        .arg(&file);
    let result = run(command, LIMIT);
    assert_eq!(result.code, Some(4), "{}", result.all());
    assert_eq!(result.stderr.lines().count(), 1, "{}", result.stderr);
    assert!(
        result.stderr.contains("refused the login"),
        "{}",
        result.stderr
    );
    assert!(
        !result.stderr.contains("is RabbitMQ running"),
        "{}",
        result.stderr
    );
    assert!(!result.all().contains("wrong-hunter2"), "{}", result.all());
    assert!(
        emulator.request_log().is_empty(),
        "the recording service was called: {:?}",
        emulator.request_log()
    );

    let mut command = cloudrec();
    command.args(["events", "tail", "--amqp-url", url]);
    let result = run(command, LIMIT);
    assert_eq!(result.code, Some(4), "{}", result.all());
    assert_eq!(result.stderr.lines().count(), 1, "{}", result.stderr);
    assert!(
        result.stderr.contains("refused the login"),
        "{}",
        result.stderr
    );
    assert!(!result.all().contains("wrong-hunter2"), "{}", result.all());
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

#[test]
fn events_tail_gives_up_on_a_port_that_answers_tcp_but_not_amqp() {
    // Accepts every connection and holds it open without a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().map_while(Result::ok) {
            held.push(stream);
        }
    });
    let url = format!("amqp://guest:hunter2-secret@127.0.0.1:{port}/%2f");
    for (extra, limit) in [
        (None, Duration::from_secs(5)),
        (Some("1s"), Duration::from_secs(1)),
    ] {
        let mut command = cloudrec();
        command.args(["events", "tail", "--amqp-url", &url]);
        if let Some(timeout) = extra {
            command.args(["--connect-timeout", timeout]);
        }
        let started = std::time::Instant::now();
        // A hang is killed after 30 s and fails here with no exit code.
        let result = run(command, Duration::from_secs(30));
        let took = started.elapsed();
        assert_eq!(result.code, Some(5), "{extra:?}: {}", result.all());
        assert!(
            took >= limit && took < limit + Duration::from_secs(8),
            "{extra:?}: took {took:?}"
        );
        assert_eq!(result.stderr.lines().count(), 1, "{}", result.stderr);
        let shown = format!("amqp://guest:***@127.0.0.1:{port}/%2f");
        assert!(result.stderr.contains(&shown), "{}", result.stderr);
        assert!(
            result.stderr.contains("did not speak AMQP"),
            "{}",
            result.stderr
        );
        assert!(!result.all().contains("hunter2-secret"), "{}", result.all());
    }
}

#[test]
fn events_tail_on_an_exchange_of_another_type_is_a_configuration_error() {
    require_rabbitmq();
    let exchange = format!("cloudrec.test.direct.{}", std::process::id());
    with_broker(async |channel| {
        channel
            .exchange_declare(
                exchange.as_str().into(),
                lapin::ExchangeKind::Direct,
                lapin::options::ExchangeDeclareOptions::default(),
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap();
    });
    let mut command = cloudrec();
    command.args(["events", "tail", "--amqp-url", URL, "--exchange", &exchange]);
    let result = run(command, LIMIT);
    delete_exchange(&exchange);
    assert_eq!(result.code, Some(3), "{}", result.all());
    assert_eq!(result.stderr.lines().count(), 1, "{}", result.stderr);
    for needle in [
        exchange.as_str(),
        "exists with another type",
        "another --exchange",
        "delete",
    ] {
        assert!(
            result.stderr.contains(needle),
            "{needle}: {}",
            result.stderr
        );
    }
    assert!(
        !result.stderr.contains("is RabbitMQ running"),
        "{}",
        result.stderr
    );
}

#[test]
fn demo_publishes_binary_mode_and_events_tail_decodes_it() {
    use futures_util::StreamExt;
    use lapin::options::{BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions};
    use lapin::types::{AMQPValue, FieldTable};

    require_rabbitmq();
    let exchange = format!("cloudrec.test.binary.{}", std::process::id());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (connection, channel, queue) = runtime.block_on(async {
        let connection = lapin::Connection::connect(URL, lapin::ConnectionProperties::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel
            .exchange_declare(
                exchange.as_str().into(),
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
                lapin::options::QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let queue = queue.name().as_str().to_owned();
        channel
            .queue_bind(
                queue.as_str().into(),
                exchange.as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        (connection, channel, queue)
    });

    let mut tail = cloudrec();
    tail.args(["events", "tail", "--amqp-url", URL, "--json"])
        .args(["--exchange", &exchange])
        .args(["--routing-key", "session.*", "--count", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut tail = tail.spawn().unwrap();
    let stderr = tail.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let ready = rx.recv_timeout(LIMIT).unwrap_or_default();
    assert!(ready.starts_with("tailing exchange"), "{ready}");

    let result = demo(
        URL,
        Some(&exchange),
        &["--amqp-content-mode", "binary", "--require-delivery"],
    );
    assert_eq!(result.code, Some(0), "{}", result.all());

    let deadline = std::time::Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = tail.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = tail.kill();
            panic!("events tail did not decode 4 binary-mode events");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let skipped: Vec<String> = rx.try_iter().collect();
    assert!(status.success(), "{skipped:?}");
    assert!(skipped.is_empty(), "{skipped:?}");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut tail.stdout.take().unwrap(), &mut out).unwrap();
    let tailed: Vec<serde_json::Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).expect("a CloudEvent"))
        .collect();
    assert_eq!(tailed.len(), 4, "{out}");
    assert_eq!(tailed[0]["type"], "io.cloudrec.session.acquired", "{out}");

    // What the broker carried: binary mode, the attributes in ce- headers.
    let deliveries = runtime.block_on(async {
        let mut consumer = channel
            .basic_consume(
                queue.as_str().into(),
                "cloudrec-test-binary".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..BasicConsumeOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let mut got = Vec::new();
        while let Ok(Some(Ok(delivery))) =
            tokio::time::timeout(Duration::from_secs(3), consumer.next()).await
        {
            got.push(delivery);
        }
        let _ = connection.close(200, "bye".into()).await;
        got
    });
    delete_exchange(&exchange);
    assert!(deliveries.len() > 4, "{}", deliveries.len());
    let text = |delivery: &lapin::message::Delivery, name: &str| match delivery
        .properties
        .headers()
        .as_ref()?
        .inner()
        .get(name)?
    {
        AMQPValue::LongString(text) => Some(String::from_utf8_lossy(text.as_bytes()).into_owned()),
        _ => None,
    };
    for delivery in &deliveries {
        let props = &delivery.properties;
        assert_eq!(
            props.content_type().as_ref().map(|c| c.as_str()),
            Some("application/json")
        );
        let id = props.message_id().as_ref().unwrap().as_str().to_owned();
        assert_eq!(text(delivery, "ce-id"), Some(id));
        assert_eq!(text(delivery, "ce-specversion").as_deref(), Some("1.0"));
        let data: serde_json::Value = serde_json::from_slice(&delivery.data).unwrap();
        assert!(data.get("specversion").is_none(), "{data}");
    }
    let tailed_ids: Vec<&str> = tailed.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let carried: Vec<String> = deliveries.iter().filter_map(|d| text(d, "ce-id")).collect();
    for id in tailed_ids {
        assert!(
            carried.iter().any(|c| c == id),
            "{id} not among {carried:?}"
        );
    }
}
