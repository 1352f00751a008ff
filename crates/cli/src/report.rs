//! What a session shows while it runs: every event (pretty or JSON lines), live
//! progress (a spinner line on a terminal, plain lines otherwise), and the counts
//! the final summary needs.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use cloudrec_core::{Event, EventKind, EventSink, FailureReport, Resolution, SessionState};
use cloudrec_events::{CloudEvent, DEFAULT_SOURCE, Pipeline};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use crate::exit::Exit;

/// How events are printed to stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum EventFormat {
    /// CloudEvents 1.0 JSON, one per line.
    Jsonl,
    /// One readable line per event.
    Pretty,
    /// No events; progress and the summary only.
    None,
}

/// The event sink handed to the client and the session driver: every event goes
/// to the reporter, and to the AMQP pipeline when one is configured. Never blocks.
#[derive(Clone)]
pub(crate) struct CliSink {
    tx: mpsc::UnboundedSender<Msg>,
    pipeline: Option<Pipeline>,
}

impl EventSink for CliSink {
    fn emit(&self, event: Event) {
        // The envelope the pipeline publishes is the one printed: one id everywhere.
        let envelope = self
            .pipeline
            .as_ref()
            .and_then(|pipeline| pipeline.publish(event.clone()));
        let _ = self.tx.send(Msg::Event(Box::new(event), envelope));
    }
}

/// What the printing task receives.
enum Msg {
    /// The event, and its envelope when a pipeline published it.
    Event(Box<Event>, Option<Arc<CloudEvent>>),
    /// Everything sent before was printed: answer and stop.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Counts kept from the events, for the progress line and the summary.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    pub(crate) state: Option<SessionState>,
    pub(crate) status: Option<i64>,
    pub(crate) files: usize,
    pub(crate) retries: u32,
    pub(crate) failures: u32,
    pub(crate) recoveries: u32,
    pub(crate) events: u64,
    /// Whether the service ever gave a resource id.
    pub(crate) acquired: bool,
    /// The last classified failure.
    pub(crate) last_failure: Option<FailureReport>,
    /// Whether start was withheld because the journal could not record it.
    pub(crate) start_withheld: bool,
}

/// The running reporter: its sink, its counts and the task that prints.
pub(crate) struct Reporter {
    sink: CliSink,
    tally: Arc<Mutex<Tally>>,
    task: tokio::task::JoinHandle<()>,
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Reporter {
    /// Starts printing events in `format`; with `progress`, a spinner line on a
    /// terminal (plain lines otherwise). Events also go to `pipeline`.
    pub(crate) fn start(format: EventFormat, progress: bool, pipeline: Option<Pipeline>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
        let tally = Arc::new(Mutex::new(Tally::default()));
        let started = Instant::now();
        let bar = (progress && std::io::stdout().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner:.green} {msg} | elapsed {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        // JSON lines stay pure: progress then shows on a terminal only.
        let plain_progress = progress && bar.is_none() && format != EventFormat::Jsonl;
        let task = {
            let tally = Arc::clone(&tally);
            let bar = bar.clone();
            tokio::spawn(async move {
                while let Some(msg) = rx.recv().await {
                    let (event, envelope) = match msg {
                        Msg::Event(event, envelope) => (event, envelope),
                        Msg::Flush(done) => {
                            let _ = done.send(());
                            break;
                        }
                    };
                    if let EventKind::JournalFailed { error, .. } = &event.kind {
                        // Whatever the event format: a task may be missing from
                        // the journal after a crash.
                        eprintln!(
                            "warning: {error}; after a crash, `cloudrec recover` may not know of this task"
                        );
                    }
                    let snapshot = {
                        let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
                        count(&mut tally, &event);
                        tally.clone()
                    };
                    let line = match format {
                        EventFormat::Jsonl => Some(jsonl(&event, envelope.as_deref())),
                        EventFormat::Pretty => Some(pretty(&event, started)),
                        EventFormat::None => None,
                    };
                    let progress_line = progress_text(&snapshot, Some(started.elapsed()));
                    match &bar {
                        Some(bar) => {
                            if let Some(line) = line {
                                bar.println(line);
                            }
                            bar.set_message(progress_text(&snapshot, None));
                        }
                        None => {
                            let mut out = std::io::stdout().lock();
                            if let Some(line) = line {
                                let _ = writeln!(out, "{line}");
                            }
                            let changes_progress = matches!(
                                event.kind,
                                EventKind::StateChanged { .. } | EventKind::StatusPolled { .. }
                            );
                            if plain_progress && changes_progress {
                                let _ = writeln!(out, "progress: {progress_line}");
                            }
                        }
                    }
                }
            })
        };
        Self {
            sink: CliSink { tx, pipeline },
            tally,
            task,
            bar,
            started,
        }
    }

    /// The sink to give the client.
    pub(crate) fn sink(&self) -> CliSink {
        self.sink.clone()
    }

    /// Stops printing once every event sent so far is printed, and returns the counts.
    pub(crate) async fn finish(self) -> (Tally, Duration) {
        let Self {
            sink,
            tally,
            task,
            bar,
            started,
        } = self;
        let (done, flushed) = tokio::sync::oneshot::channel();
        let _ = sink.tx.send(Msg::Flush(done));
        // The printing task answers once it printed everything sent before.
        let _ = tokio::time::timeout(Duration::from_secs(5), flushed).await;
        task.abort();
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let tally = tally.lock().unwrap_or_else(PoisonError::into_inner).clone();
        (tally, started.elapsed())
    }
}

fn count(tally: &mut Tally, event: &Event) {
    tally.events += 1;
    match &event.kind {
        EventKind::CallRetry { .. } => tally.retries += 1,
        EventKind::CallFailed(report) => {
            tally.failures += 1;
            tally.last_failure = Some(report.clone());
        }
        EventKind::StateChanged { to, .. } => {
            if *to == SessionState::Recovering {
                tally.recoveries += 1;
            }
            if *to == SessionState::Acquired {
                tally.acquired = true;
            }
            tally.state = Some(*to);
        }
        EventKind::StatusPolled { status, files } => {
            tally.status = Some(*status);
            tally.files = *files;
        }
        EventKind::JournalFailed { start_withheld, .. } => {
            tally.start_withheld |= *start_withheld;
        }
        _ => {}
    }
}

fn progress_text(tally: &Tally, elapsed: Option<Duration>) -> String {
    let mut text = format!(
        "state {} | recording status {} | retries {} | recoveries {} | files {}",
        tally.state.map_or("-", SessionState::as_str),
        tally
            .status
            .map_or_else(|| "-".to_owned(), |s| format!("{s} ({})", status_name(s))),
        tally.retries,
        tally.recoveries,
        tally.files,
    );
    if let Some(elapsed) = elapsed {
        text.push_str(&format!(" | elapsed {:.1} s", elapsed.as_secs_f64()));
    }
    text
}

/// The documented meaning of a query `status`.
pub(crate) fn status_name(status: i64) -> &'static str {
    match status {
        0 => "not started",
        1 => "initialised",
        2 => "starting",
        3 => "partly ready",
        4 => "ready",
        5 => "recording",
        6 => "stop requested",
        7 => "stopped",
        8 => "exited",
        20 => "exited abnormally",
        _ => "unknown",
    }
}

/// The event's CloudEvents JSON: the published envelope (same id as on the
/// broker), or a new one when nothing is published.
fn jsonl(event: &Event, published: Option<&CloudEvent>) -> String {
    let json = match published {
        Some(envelope) => envelope.to_json(),
        None => CloudEvent::from_event(event, DEFAULT_SOURCE).to_json(),
    };
    String::from_utf8_lossy(&json).into_owned()
}

/// One readable line: time since start, type, and the details that matter.
pub(crate) fn pretty(event: &Event, started: Instant) -> String {
    let at = started.elapsed().as_secs_f64();
    let kind = &event.kind;
    let detail = match kind {
        EventKind::CallAttempt {
            endpoint,
            attempt,
            host,
        } => format!("{endpoint} attempt {attempt} to {host}"),
        EventKind::CallRetry {
            endpoint,
            attempt,
            delay,
            resolution,
        } => format!(
            "{endpoint} again (attempt {attempt}) in {} ms: {resolution}",
            delay.as_millis()
        ),
        EventKind::CallFailover { endpoint, from, to } => {
            format!("{endpoint} fails over from {from} to {to}")
        }
        EventKind::CallFailed(report) => {
            let mut text = format!("{}", report.endpoint);
            if let Some(status) = report.http_status {
                text.push_str(&format!(" http {status}"));
            }
            if let Some(code) = report.code {
                text.push_str(&format!(" code {code}"));
            }
            if let Some(reason) = &report.text {
                text.push_str(&format!(" {reason:?}"));
            }
            if let Some(transport) = report.transport {
                text.push_str(&format!(" no answer ({transport:?})"));
            }
            format!("{text} -> {}", report.resolution)
        }
        EventKind::StateChanged { from, to, reason } => {
            let mut text = match from {
                Some(from) => format!("{} -> {}", from.as_str(), to.as_str()),
                None => to.as_str().to_owned(),
            };
            if let Some(reason) = reason {
                text.push_str(&format!(": {reason}"));
            }
            text
        }
        EventKind::StatusPolled { status, files } => {
            format!(
                "status {status} ({}), {files} file(s)",
                status_name(*status)
            )
        }
        EventKind::JournalFailed {
            entry,
            start_withheld,
            error,
        } => {
            let then = if *start_withheld {
                "; start was not sent"
            } else {
                ""
            };
            format!("{entry} entry not written: {error}{then}")
        }
        _ => String::new(),
    };
    let sid = event
        .subject
        .sid
        .as_ref()
        .map(|sid| format!(" sid={}", sid.as_str()))
        .unwrap_or_default();
    format!(
        "{at:>7.2}s  {:<28} {detail}{sid}",
        format!("{}{}", cloudrec_events::TYPE_PREFIX, kind.type_suffix())
    )
}

impl Tally {
    /// The exit code of a session that failed before the service gave it a
    /// resource: what the last failure says (no answer, credentials, request);
    /// or whose start was withheld because the journal could not record it
    /// (bad input: the journal path).
    pub(crate) fn exit_before_acquired(&self) -> Option<Exit> {
        if self.start_withheld {
            return Some(Exit::Input);
        }
        if self.acquired {
            return None;
        }
        let report = self.last_failure.as_ref()?;
        if report.transport.is_some() {
            return Some(Exit::Unreachable);
        }
        match report.resolution {
            Resolution::FixCredentials | Resolution::FixAccount => Some(Exit::Credentials),
            Resolution::FixRequest => Some(Exit::Input),
            _ => None,
        }
    }
}
