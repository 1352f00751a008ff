//! `POST /v1/ncs`: the receiver of Agora's Notification Center Service.
//!
//! A notification is checked against every configured secret (the signature
//! says nothing of the App ID, and the body names none), decoded, checked
//! against the recent ones, and queued; the sender is answered at once (its
//! timeout is about 10 s). A background task then publishes each one as a
//! CloudEvent `io.cloudrec.ncs.<msgName>` and hands it to the session that
//! supervises its task, which queries (or stops) it (through a command in the
//! store when another worker supervises it): a notification never
//! changes a session's state by itself, since it may be late, repeated, or
//! forged by anyone holding the secret.
//!
//! Answers: 401 for a bad or missing signature (no detail), 400 for a signed
//! body that is not a notification, 200 for a new or a repeated one, 503 with
//! `Retry-After: 1` when the queue is full (the notification was not taken,
//! so that the sender tries again), 413 above 1 MiB (the router's limit).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cloudrec_core::{Event, EventKind, EventSink, Subject};
use cloudrec_types::ncs::{self, Notification};
use cloudrec_types::{AppId, Secret, Sid, Uid};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::metrics::Metrics;
use crate::problem::Problem;
use crate::sessions::{NoticeAction, Sessions};

/// How many notifications wait for the background task at most; one more is
/// answered 503 so that the sender tries again.
pub const NCS_QUEUE: usize = 1024;

/// How many recent notifications are remembered to drop repeats: the last
/// 10 000, by `noticeId` and by `sid` + `sequence`.
pub const DEDUPE_WINDOW: usize = 10_000;

/// One secret notifications may be signed with: the one of `--ncs-secret`
/// (no App ID), or an App ID's from the config file's `ncs_secret_env`.
#[derive(Clone, Debug)]
pub struct NcsSecret {
    /// The App ID whose console settings hold the secret, if known.
    pub app_id: Option<AppId>,
    /// The secret (hidden in `Debug`).
    pub secret: Secret,
}

/// A notification that passed every check, waiting for the background task.
struct Accepted {
    notice: Notification,
    /// The App ID of the secret that verified it, if the secret has one.
    app_id: Option<AppId>,
    /// Its event name, as in the metrics and the CloudEvent type.
    name: String,
}

/// What the recent notifications are remembered by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Notice(String),
    Sequence(String, i64),
}

/// The last [`DEDUPE_WINDOW`] notifications' keys, oldest evicted first.
#[derive(Debug, Default)]
struct Window {
    keys: HashSet<Key>,
    order: VecDeque<Key>,
}

fn keys_of(notice: &Notification) -> Vec<Key> {
    let mut keys = vec![Key::Notice(notice.notice_id.clone())];
    if let (Some(sid), Some(sequence)) = (notice.sid(), notice.payload.sequence) {
        keys.push(Key::Sequence(sid.to_owned(), sequence));
    }
    keys
}

impl Window {
    /// Remembers `notice`; `false` when it (its id, or its sid and sequence)
    /// was seen already.
    fn insert(&mut self, notice: &Notification) -> bool {
        let keys = keys_of(notice);
        if keys.iter().any(|key| self.keys.contains(key)) {
            return false;
        }
        for key in keys {
            self.keys.insert(key.clone());
            self.order.push_back(key);
        }
        // Each notification has at most two keys.
        while self.order.len() > 2 * DEDUPE_WINDOW {
            if let Some(old) = self.order.pop_front() {
                self.keys.remove(&old);
            }
        }
        true
    }

    /// Forgets `notice` (it was not taken after all).
    fn remove(&mut self, notice: &Notification) {
        let keys = keys_of(notice);
        for key in &keys {
            self.keys.remove(key);
        }
        self.order.retain(|key| !keys.contains(key));
    }
}

/// The receiver: the secrets, the recent notifications, and the queue to the
/// background task.
pub struct Ncs {
    secrets: Vec<NcsSecret>,
    window: Mutex<Window>,
    queue: mpsc::Sender<Accepted>,
    metrics: Metrics,
}

impl std::fmt::Debug for Ncs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ncs")
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

/// The event name of `notice`: the documented `msgName` of its type, else the
/// one it sent (lower-case letters, digits and `_`, at most 64), else
/// `event_<code>`.
fn event_name(notice: &Notification) -> String {
    let event_type = notice.event_type();
    if let Some(name) = event_type.msg_name() {
        return name.to_owned();
    }
    let sent = notice.payload.details.msg_name().unwrap_or_default();
    let clean = !sent.is_empty()
        && sent.len() <= 64
        && sent
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if clean {
        sent.to_owned()
    } else {
        format!("event_{}", event_type.code())
    }
}

/// What `event` asks of the session that supervises its task.
fn action_of(event: &ncs::Event) -> Option<NoticeAction> {
    use ncs::Event as E;
    match event {
        // The task ended, or its recorder or web recorder is gone.
        E::SessionExit(_) | E::RecorderLeave(_) | E::WebRecorderStopped(_) => {
            Some(NoticeAction::Stop)
        }
        E::RecordingError(error) if error.is_fatal() => Some(NoticeAction::Stop),
        // Frequent news that says nothing about the task's state.
        E::RecorderSliceStart(_)
        | E::AudioStreamStateChanged(_)
        | E::VideoStreamStateChanged(_)
        | E::SnapshotFile(_)
        | E::UploadingProgress(_)
        | E::VodStarted(_)
        | E::VodTriggered(_)
        | E::TranscoderStarted(_)
        | E::TranscoderCompleted(_)
        | E::PostponeTranscodeFinalResult(_) => None,
        _ => Some(NoticeAction::QueryNow),
    }
}

/// `value` without credentials: credential-named members masked, and in every
/// URL the user info and the query removed, and an RTMP URL's stream key.
fn scrub(value: &mut Value) {
    cloudrec_types::redact::json(value);
    scrub_urls(value);
}

fn scrub_urls(value: &mut Value) {
    match value {
        Value::String(text) if text.contains("://") => *text = scrub_url(text),
        Value::Array(items) => items.iter_mut().for_each(scrub_urls),
        Value::Object(members) => members.values_mut().for_each(scrub_urls),
        _ => {}
    }
}

fn scrub_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let (path_part, tail) = rest.split_at(end);
    let authority_end = path_part.find('/').unwrap_or(path_part.len());
    let (authority, path) = path_part.split_at(authority_end);
    let host = authority.rsplit('@').next().unwrap_or_default();
    let mut path = path.to_owned();
    if scheme.to_ascii_lowercase().starts_with("rtmp")
        && let Some(slash) = path.rfind('/')
        && slash + 1 < path.len()
    {
        path.replace_range(slash + 1.., "***");
    }
    let hidden = if tail.is_empty() { "" } else { "?***" };
    format!("{scheme}://{host}{path}{hidden}")
}

impl Ncs {
    /// A receiver checking against `secrets` (none empty), whose background
    /// task publishes to `events` and hands notifications to `sessions`. Needs
    /// a Tokio runtime.
    pub fn start(
        secrets: Vec<NcsSecret>,
        sessions: Arc<Sessions>,
        events: Box<dyn EventSink>,
        metrics: Metrics,
    ) -> Arc<Self> {
        let (queue, inbox) = mpsc::channel(NCS_QUEUE);
        tokio::spawn(work(inbox, sessions, events, metrics.clone()));
        Arc::new(Self {
            secrets,
            window: Mutex::default(),
            queue,
            metrics,
        })
    }

    /// Answers one `POST /v1/ncs` with raw `body`.
    pub fn receive(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        let pairs = || {
            headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes()))
        };
        let mut missing = false;
        let mut verified = None;
        for secret in &self.secrets {
            match ncs::verify(pairs(), body, &secret.secret) {
                Ok(_) => {
                    verified = Some(secret.app_id.clone());
                    break;
                }
                Err(ncs::VerifyError::Missing) => missing = true,
                Err(_) => {}
            }
        }
        let Some(app_id) = verified else {
            let reason = if missing {
                "missing_signature"
            } else {
                "bad_signature"
            };
            self.metrics.ncs_rejected(reason);
            tracing::debug!(
                reason,
                "refused an NCS notification: its signature is missing or matches no configured secret"
            );
            return Problem::for_status(StatusCode::UNAUTHORIZED).into_response();
        };
        let notice: Notification = match serde_json::from_slice(body) {
            Ok(notice) => notice,
            Err(error) => {
                self.metrics.ncs_rejected("undecodable");
                return Problem::invalid(
                    "",
                    format!(
                        "the body is not an NCS notification (a JSON object with noticeId and eventType): {}",
                        cloudrec_types::redact::serde_message(&error)
                    ),
                )
                .into_response();
            }
        };
        let name = event_name(&notice);
        let new = self
            .window
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(&notice);
        if !new {
            // Answered 200 all the same, or the sender would keep resending it.
            self.metrics.ncs_rejected("duplicate");
            return StatusCode::OK.into_response();
        }
        let accepted = Accepted {
            notice,
            app_id,
            name,
        };
        match self.queue.try_send(accepted) {
            Ok(()) => StatusCode::OK.into_response(),
            Err(
                mpsc::error::TrySendError::Full(accepted)
                | mpsc::error::TrySendError::Closed(accepted),
            ) => {
                self.window
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&accepted.notice);
                self.metrics.ncs_rejected("queue_full");
                let mut response = Problem::unavailable(
                    "too many notifications are waiting: send it again in a second",
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
        }
    }
}

/// The background task: each accepted notification is counted, handed to its
/// session, and published.
async fn work(
    mut inbox: mpsc::Receiver<Accepted>,
    sessions: Arc<Sessions>,
    events: Box<dyn EventSink>,
    metrics: Metrics,
) {
    while let Some(accepted) = inbox.recv().await {
        let Accepted {
            notice,
            app_id,
            name,
        } = accepted;
        metrics.ncs_notice(&name);
        let action = action_of(notice.event());
        let mut owner = notice.sid().and_then(|sid| match action {
            Some(action) => sessions.notice(sid, action),
            None => sessions.subject_of(sid),
        });
        let mut forwarded = false;
        // Not supervised here: left in the store for the worker that is.
        if owner.is_none()
            && let (Some(sid), Some(action)) = (notice.sid(), action)
        {
            owner = sessions.forward_notice(sid, action).await;
            forwarded = owner.is_some();
        }
        let counted = match (&owner, action) {
            (None, _) => "unknown_sid",
            (Some(_), None) => "none",
            (Some(_), Some(NoticeAction::QueryNow)) if forwarded => "query_now_forwarded",
            (Some(_), Some(NoticeAction::Stop)) if forwarded => "stop_forwarded",
            (Some(_), Some(NoticeAction::QueryNow)) => "query_now",
            (Some(_), Some(NoticeAction::Stop)) => "stop",
        };
        metrics.ncs_action(counted);
        tracing::debug!(
            event = %name,
            sid = notice.sid().unwrap_or_default(),
            action = counted,
            "NCS notification"
        );
        let subject = match owner {
            Some(subject) => subject,
            None => {
                let Some(app_id) = app_id.or_else(|| sessions.default_app_id().cloned()) else {
                    continue;
                };
                Arc::new(Subject {
                    cname: notice
                        .payload
                        .cname
                        .as_deref()
                        .and_then(|cname| cloudrec_types::Cname::new(cname).ok()),
                    uid: notice
                        .payload
                        .uid
                        .as_deref()
                        .and_then(|uid| uid.parse::<u32>().ok())
                        .and_then(|uid| Uid::new(uid).ok()),
                    sid: notice.sid().and_then(|sid| Sid::new(sid).ok()),
                    ..Subject::app(app_id)
                })
            }
        };
        if !events.enabled() {
            continue;
        }
        let mut details = serde_json::to_value(notice.event()).unwrap_or(Value::Null);
        scrub(&mut details);
        events.emit(Event {
            time: SystemTime::now(),
            subject,
            kind: EventKind::Notice {
                notice_id: notice.notice_id.clone(),
                event_type: notice.event_type().code(),
                msg_name: name,
                sequence: notice.payload.sequence,
                details,
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(id: &str, sid: &str, sequence: i64) -> Notification {
        serde_json::from_value(serde_json::json!({
            "noticeId": id, "productId": 3, "eventType": 41,
            "payload": {"sid": sid, "sequence": sequence, "details": {"msgName": "recorder_leave", "leaveCode": 4}}
        }))
        .unwrap()
    }

    #[test]
    fn a_notification_counts_once_by_id_and_by_sid_and_sequence_in_any_order() {
        let mut window = Window::default();
        assert!(window.insert(&notice("n2", "s", 2)));
        assert!(window.insert(&notice("n1", "s", 1)), "an older one is new");
        assert!(!window.insert(&notice("n2", "s", 2)));
        assert!(!window.insert(&notice("n2", "s", 9)), "same id");
        assert!(
            !window.insert(&notice("n3", "s", 1)),
            "same sid and sequence"
        );
        assert!(window.insert(&notice("n3", "t", 1)));
        window.remove(&notice("n3", "t", 1));
        assert!(
            window.insert(&notice("n3", "t", 1)),
            "forgotten when not taken"
        );
    }

    #[test]
    fn the_window_keeps_the_last_ten_thousand() {
        let mut window = Window::default();
        for n in 0..=DEDUPE_WINDOW {
            assert!(window.insert(&notice(&format!("n{n}"), "s", n as i64)));
        }
        assert!(
            window.insert(&notice("n0", "s", 0)),
            "the oldest was evicted"
        );
        assert!(!window.insert(&notice("n5000", "s", 5000)));
    }

    #[test]
    fn names_and_actions_follow_the_event() {
        assert_eq!(event_name(&notice("n", "s", 1)), "recorder_leave");
        let unknown: Notification = serde_json::from_value(serde_json::json!({
            "noticeId": "n", "eventType": 999, "payload": {"details": {"msgName": "Bad Name!"}}
        }))
        .unwrap();
        assert_eq!(event_name(&unknown), "event_999");
        assert_eq!(
            action_of(notice("n", "s", 1).event()),
            Some(NoticeAction::Stop)
        );
        assert_eq!(action_of(unknown.event()), Some(NoticeAction::QueryNow));
    }

    #[test]
    fn urls_lose_their_credentials_and_stream_keys() {
        let mut details = serde_json::json!({
            "rtmpUrl": "rtmp://push.example.com/live/sk-streamkey",
            "url": "https://user:pw@example.com/page?token=abc",
            "fileList": [{"fileName": "a.m3u8"}],
            "accessKey": "AK"
        });
        scrub(&mut details);
        let text = details.to_string();
        for secret in ["sk-streamkey", "pw", "abc", "AK"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert_eq!(details["rtmpUrl"], "rtmp://push.example.com/live/***");
        assert_eq!(details["url"], "https://example.com/page?***");
        assert_eq!(details["fileList"][0]["fileName"], "a.m3u8");
    }
}
