//! NCS notices on the wire: the envelope, its signatures, the counters and the
//! background delivery with a timeout and retries.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use cloudrec_types::Secret;
use cloudrec_types::ncs::{EventType, SignatureHeader, sign};
use http::header::CONTENT_TYPE;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::error::EmulatorError;

/// How long one delivery attempt may take, like the service's sender.
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times a notice is tried before it counts as failed.
pub(crate) const ATTEMPTS: u32 = 3;
/// The pause before the second attempt; the third waits twice as long.
const BACKOFF: Duration = Duration::from_millis(100);
/// How long a `reorder` fault holds a notice when no other notice comes.
pub(crate) const HOLD_LIMIT: Duration = Duration::from_secs(2);
/// How often the emulator looks for new events of its tasks (real time).
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// Checks an `ncs_url`: an `http://` URL with a host.
pub(crate) fn parse_url(url: &str) -> Result<http::Uri, EmulatorError> {
    let invalid = |why: &str| {
        EmulatorError::InvalidConfig(format!(
            "ncs_url {why}: give an http:// URL such as http://127.0.0.1:9000/ncs"
        ))
    };
    let uri: http::Uri = url.parse().map_err(|_| invalid("is not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(invalid(
                "is https: the emulator does not speak TLS, receive on a local http:// port",
            ));
        }
        _ => return Err(invalid("must start with http://")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    Ok(uri)
}

/// How many NCS notices the emulator made, sent, lost and faulted, as
/// `GET /_emulator/ncs` and [`Emulator::ncs_stats`](crate::Emulator::ncs_stats)
/// report them.
///
/// Every notice made ends up `dropped` (by a fault), `sent` or `failed`, or is
/// still `pending`; a `duplicate` fault adds one delivery, so
/// `sent + failed + pending == notices - dropped + duplicated`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NcsStats {
    /// Whether the emulator sends notices (`ncs_url` is set).
    pub enabled: bool,
    /// Notices made from the tasks' events.
    pub notices: u64,
    /// Deliveries the receiver answered with a 2xx status.
    pub sent: u64,
    /// Deliveries that failed every attempt (non-2xx, no answer within 10 s,
    /// or no connection); each one is also logged.
    pub failed: u64,
    /// Deliveries waiting, held back or in progress.
    pub pending: u64,
    /// HTTP attempts made, retries included.
    pub attempts: u64,
    /// Notices a `drop` fault kept from being sent.
    pub dropped: u64,
    /// Notices a `duplicate` fault sent twice.
    pub duplicated: u64,
    /// Notices a `delay` fault held back.
    pub delayed: u64,
    /// Notices a `reorder` fault sent after the next one.
    pub reordered: u64,
    /// Notices a `bad_signature` fault signed with another secret.
    pub bad_signatures: u64,
    /// Why the last failed delivery failed (never holds the secret).
    pub last_error: Option<String>,
}

/// The counters behind [`NcsStats`], shared by the state and the delivery task.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    enabled: bool,
    notices: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
    pending: AtomicU64,
    attempts: AtomicU64,
    dropped: AtomicU64,
    duplicated: AtomicU64,
    delayed: AtomicU64,
    reordered: AtomicU64,
    bad_signatures: AtomicU64,
    last_error: Mutex<Option<String>>,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            enabled,
            ..Self::default()
        }
    }

    pub(crate) fn stats(&self) -> NcsStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        NcsStats {
            enabled: self.enabled,
            notices: get(&self.notices),
            sent: get(&self.sent),
            failed: get(&self.failed),
            pending: get(&self.pending),
            attempts: get(&self.attempts),
            dropped: get(&self.dropped),
            duplicated: get(&self.duplicated),
            delayed: get(&self.delayed),
            reordered: get(&self.reordered),
            bad_signatures: get(&self.bad_signatures),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        }
    }

    fn settle(&self, counter: &AtomicU64) {
        bump(counter);
        let _ = self
            .pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1))
            });
    }
}

/// One event of a task, ready to become a notice.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) sid: String,
    pub(crate) cname: String,
    pub(crate) uid: String,
    pub(crate) sequence: i64,
    pub(crate) event_type: i64,
    pub(crate) service_type: i64,
    /// When it happened, unix milliseconds of emulator time.
    pub(crate) sendts: i64,
    /// The `details` fields besides `msgName`.
    pub(crate) details: Value,
}

/// What a notice fault asks of the delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    Once,
    Twice,
    Delay(Duration),
    Reorder,
}

/// A signed notice on its way.
#[derive(Debug)]
pub(crate) struct Outgoing {
    notice_id: String,
    sid: String,
    event_type: i64,
    body: Bytes,
    v1: String,
    v2: String,
    plan: Plan,
}

/// The state's end of the delivery queue.
pub(crate) struct Outbox {
    tx: mpsc::UnboundedSender<Outgoing>,
    secret: Secret,
    counters: Arc<Counters>,
    run: u32,
    next: u64,
}

impl Outbox {
    pub(crate) fn new(
        secret: Secret,
        counters: Arc<Counters>,
    ) -> (Self, mpsc::UnboundedReceiver<Outgoing>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let outbox = Self {
            tx,
            secret,
            counters,
            run: rand::random(),
            next: 0,
        };
        (outbox, rx)
    }

    /// Makes the notice of `event` at `notify_ms`, signs it and queues it, as
    /// `fault` (a notice fault that fired, if any) says.
    pub(crate) fn send(
        &mut self,
        event: Event,
        notify_ms: i64,
        fault: Option<&crate::FaultAction>,
    ) {
        use crate::FaultAction;
        self.next += 1;
        bump(&self.counters.notices);
        let notice_id = format!("emu-{:08x}-{}", self.run, self.next);
        let event_type = EventType::from_code(event.event_type);
        let mut details = match event.details {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        if let Some(name) = event_type.msg_name() {
            details.insert("msgName".to_owned(), json!(name));
        }
        let body = json!({
            "noticeId": notice_id,
            "productId": 3,
            "eventType": event.event_type,
            "notifyMs": notify_ms,
            "payload": {
                "cname": event.cname,
                "uid": event.uid,
                "sid": event.sid,
                "sequence": event.sequence,
                "sendts": event.sendts,
                "serviceType": event.service_type,
                "details": details,
            },
        });
        let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
        let mut plan = Plan::Once;
        let mut key_of_other_secret = None;
        match fault {
            Some(FaultAction::Drop) => {
                bump(&self.counters.dropped);
                tracing::info!(%notice_id, sid = %event.sid, event_type = event.event_type,
                    "NCS notice dropped by a fault rule");
                return;
            }
            Some(FaultAction::Duplicate) => {
                bump(&self.counters.duplicated);
                plan = Plan::Twice;
            }
            Some(FaultAction::Delay { ms }) => {
                bump(&self.counters.delayed);
                plan = Plan::Delay(Duration::from_millis(*ms));
            }
            Some(FaultAction::Reorder) => {
                bump(&self.counters.reordered);
                plan = Plan::Reorder;
            }
            Some(FaultAction::BadSignature) => {
                bump(&self.counters.bad_signatures);
                // Longer than the secret, so never the secret itself.
                key_of_other_secret = Some(Secret::new(format!("{}-wrong", self.secret.expose())));
            }
            _ => {}
        }
        let key = key_of_other_secret.as_ref().unwrap_or(&self.secret);
        let outgoing = Outgoing {
            v1: sign(SignatureHeader::V1, &body, key),
            v2: sign(SignatureHeader::V2, &body, key),
            notice_id,
            sid: event.sid,
            event_type: event.event_type,
            body,
            plan,
        };
        let deliveries = if plan == Plan::Twice { 2 } else { 1 };
        self.counters
            .pending
            .fetch_add(deliveries, Ordering::Relaxed);
        if let Err(mpsc::error::SendError(lost)) = self.tx.send(outgoing) {
            // The delivery task ended (the emulator is shutting down).
            for _ in 0..deliveries {
                self.counters.settle(&self.counters.failed);
            }
            self.counters
                .note_failure(&lost, "the emulator is shutting down");
        }
    }
}

impl Counters {
    fn note_failure(&self, notice: &Outgoing, why: &str) {
        tracing::warn!(
            notice_id = %notice.notice_id,
            sid = %notice.sid,
            event_type = notice.event_type,
            error = %why,
            "NCS notice not delivered"
        );
        *self
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(format!(
            "notice {} (eventType {}): {why}",
            notice.notice_id, notice.event_type
        ));
    }
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Sends the queued notices to `uri` in order until the queue closes, then
/// sends what is held back or delayed.
pub(crate) async fn deliver(
    uri: http::Uri,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    counters: Arc<Counters>,
) {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let uri = Arc::new(uri);
    let mut held: Option<Outgoing> = None;
    let mut delayed = JoinSet::new();
    loop {
        while delayed.try_join_next().is_some() {}
        let next = if held.is_some() {
            match tokio::time::timeout(HOLD_LIMIT, rx.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    if let Some(notice) = held.take() {
                        post(&client, &uri, &notice, &counters).await;
                    }
                    continue;
                }
            }
        } else {
            rx.recv().await
        };
        let Some(notice) = next else { break };
        match notice.plan {
            Plan::Reorder if held.is_none() => {
                held = Some(notice);
                continue;
            }
            Plan::Delay(wait) => {
                let client = client.clone();
                let uri = Arc::clone(&uri);
                let counters = Arc::clone(&counters);
                delayed.spawn(async move {
                    tokio::time::sleep(wait).await;
                    post(&client, &uri, &notice, &counters).await;
                });
            }
            Plan::Twice => {
                post(&client, &uri, &notice, &counters).await;
                post(&client, &uri, &notice, &counters).await;
            }
            Plan::Once | Plan::Reorder => post(&client, &uri, &notice, &counters).await,
        }
        if let Some(notice) = held.take() {
            post(&client, &uri, &notice, &counters).await;
        }
    }
    if let Some(notice) = held.take() {
        post(&client, &uri, &notice, &counters).await;
    }
    while delayed.join_next().await.is_some() {}
}

/// One delivery: up to [`ATTEMPTS`] POSTs, each within [`ATTEMPT_TIMEOUT`].
async fn post(client: &HttpClient, uri: &http::Uri, notice: &Outgoing, counters: &Counters) {
    let mut why = String::new();
    for attempt in 1..=ATTEMPTS {
        bump(&counters.attempts);
        let request = http::Request::post(uri.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(SignatureHeader::V1.name(), notice.v1.as_str())
            .header(SignatureHeader::V2.name(), notice.v2.as_str())
            .body(Full::new(notice.body.clone()));
        let request = match request {
            Ok(request) => request,
            Err(error) => {
                why = format!("cannot build the request: {error}");
                break;
            }
        };
        let exchange = async {
            let response = client.request(request).await?;
            let status = response.status();
            // Read the answer so the connection can be reused.
            let _ = response.into_body().collect().await;
            Ok::<_, hyper_util::client::legacy::Error>(status)
        };
        match tokio::time::timeout(ATTEMPT_TIMEOUT, exchange).await {
            Ok(Ok(status)) if status.is_success() => {
                counters.settle(&counters.sent);
                return;
            }
            Ok(Ok(status)) => why = format!("the receiver answered HTTP {}", status.as_u16()),
            Ok(Err(error)) => why = format!("no answer: {}", error_chain(&error)),
            Err(_) => {
                why = format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs());
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(BACKOFF * attempt).await;
        }
    }
    counters.settle(&counters.failed);
    counters.note_failure(notice, &format!("{why} (after {ATTEMPTS} attempts)"));
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
