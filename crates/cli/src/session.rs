//! Runs one recording session through the client's `Recorder`: waits until it records,
//! plays a script of updates, records for a while or until Ctrl-C, and stops.

use std::sync::Arc;
use std::time::Duration;

use cloudrec_client::{
    FileJournal, Recorder, RecorderConfig, SessionError, SessionHandle, SessionReport, SessionSpec,
};
use cloudrec_client::{TokioClock, TokioSpawn};
use cloudrec_core::{
    Backoff, End, EventSink, Resolution, SessionConfig, SessionState, StopMode, TaskRef,
};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{UpdateClientRequest, UpdateLayoutClientRequest};
use tokio::sync::watch;

use crate::connection::CliClient;
use crate::exit::Fail;

/// The recorder every session command uses.
pub(crate) type CliRecorder<E> = Recorder<HyperTransport, TokioClock, E>;

/// The session timings, as the flags give them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    /// After start, before the first query (documented: about 5 s).
    pub(crate) first_query: Duration,
    /// Between queries while waiting until running and while recovering.
    pub(crate) wait_step: Duration,
    /// Give up waiting for status 4 or 5 (documented: about 90 s).
    pub(crate) running_give_up: Duration,
    /// Between queries while recording.
    pub(crate) poll_interval: Duration,
    /// How long a task 404 counts as a failover.
    pub(crate) recovery_window: Duration,
    /// How stop is sent.
    pub(crate) stop_mode: StopModeFlag,
}

/// `--stop-mode`: how a recording is stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum StopModeFlag {
    /// Stop answers once the files are uploaded (about 20 s).
    #[default]
    Sync,
    /// Stop answers at once; the session then queries until the upload is done.
    Async,
}

/// How long an asynchronous stop waits for the upload before it reports it
/// as unconfirmed.
const UPLOAD_GIVE_UP: Duration = Duration::from_secs(600);

impl Timing {
    /// The documented timings with `poll_interval` and `recovery_window`; a poll
    /// interval under 5 s shortens the waits before running too.
    pub(crate) fn with(poll_interval: Duration, recovery_window: Duration) -> Self {
        let step = poll_interval.min(Duration::from_secs(5));
        Self {
            first_query: step,
            wait_step: step,
            running_give_up: Duration::from_secs(90),
            poll_interval,
            recovery_window,
            stop_mode: StopModeFlag::Sync,
        }
    }

    /// The same timings with `mode` of stop.
    pub(crate) fn with_stop_mode(self, stop_mode: StopModeFlag) -> Self {
        Self { stop_mode, ..self }
    }

    /// Every timing divided by `scale` (for an emulator whose time runs faster).
    pub(crate) fn scaled(self, scale: f64) -> Self {
        Self {
            first_query: self.first_query.div_f64(scale),
            wait_step: self.wait_step.div_f64(scale),
            running_give_up: self.running_give_up.div_f64(scale),
            poll_interval: self.poll_interval.div_f64(scale),
            recovery_window: self.recovery_window.div_f64(scale),
            stop_mode: self.stop_mode,
        }
    }

    pub(crate) fn session_config(self) -> Result<SessionConfig, Fail> {
        let step = self.wait_step;
        let steady = Backoff::new(vec![step, step * 2, step * 3], step * 6)
            .map_err(|error| Fail::input(format!("invalid poll interval: {error}")))?;
        let invalid = |error: cloudrec_core::PolicyError| {
            Fail::input(format!("invalid session timing: {error}"))
        };
        SessionConfig::default()
            .with_first_query_delay(self.first_query)
            .map_err(invalid)?
            .with_waiting_backoff(steady.clone())
            .with_running_give_up(self.running_give_up)
            .map_err(invalid)?
            .with_query_interval(self.poll_interval)
            .map_err(invalid)?
            .with_recovery_window(self.recovery_window)
            .map_err(invalid)?
            .with_recovery_backoff(steady)
            .with_stop_mode(match self.stop_mode {
                StopModeFlag::Sync => StopMode::Sync,
                StopModeFlag::Async => StopMode::Async {
                    poll: step,
                    give_up: UPLOAD_GIVE_UP,
                },
            })
            .map_err(invalid)
    }
}

/// A recorder over `client` with `timing`, journalling live tasks to `journal`.
pub(crate) fn recorder<E: EventSink + 'static>(
    client: CliClient<E>,
    timing: Timing,
    journal: Option<&str>,
) -> Result<CliRecorder<E>, Fail> {
    let config = RecorderConfig::default().with_session(timing.session_config()?);
    let recorder = Recorder::new(client, Arc::new(TokioSpawn), config);
    Ok(match journal {
        Some(path) => {
            let journal = FileJournal::open(path)
                .map_err(|error| Fail::input(format!("cannot use --journal {path}: {error}")))?;
            if let Some(torn) = journal.torn_tail() {
                eprintln!(
                    "warning: journal {path}: its last line ({} byte(s), line {}) was torn by a crash mid-write and was cut off; nothing before it was lost",
                    torn.bytes, torn.line
                );
            }
            recorder.with_journal(Arc::new(journal))
        }
        None => recorder,
    })
}

/// One step of the script played once the task records.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// Keep recording this long.
    Wait(Duration),
    /// Replace the mix layout.
    UpdateLayout(Box<UpdateLayoutClientRequest>),
    /// Change subscriptions (or other update settings).
    Update(Box<UpdateClientRequest>),
}

/// How a session ended, for the summary and the exit code.
#[derive(Clone, Debug)]
pub(crate) struct SessionEnd {
    pub(crate) state: SessionState,
    pub(crate) reason: Option<String>,
    pub(crate) files: Vec<String>,
    pub(crate) uploading_status: Option<String>,
    pub(crate) task: Option<TaskRef>,
    pub(crate) restarts: u32,
    pub(crate) unconfirmed: Vec<TaskRef>,
}

impl From<SessionReport> for SessionEnd {
    fn from(report: SessionReport) -> Self {
        let state = report.end.state();
        let (reason, files, uploading_status) = match report.end {
            End::Stopped {
                files,
                uploading_status,
                reason,
            } => (
                reason,
                files,
                uploading_status.map(|status| status.as_str().to_owned()),
            ),
            End::StoppedNoData => (Some("nothing was recorded".to_owned()), Vec::new(), None),
            End::Failed { why } | End::Lost { why } => (Some(why), Vec::new(), None),
        };
        Self {
            state,
            reason,
            files,
            uploading_status,
            task: report.last_task,
            restarts: report.restarts,
            unconfirmed: report.unconfirmed,
        }
    }
}

/// What a wait ended on.
enum Waited {
    Elapsed,
    StopAsked,
    Ended,
}

/// Runs `spec`: waits until it records, plays `script`, records `duration` more
/// (until a stop is asked when `None`), then stops. A stop asked at any point
/// (Ctrl-C) stops the task; a session that ends by itself is reported as it ended.
pub(crate) async fn run<E: EventSink + 'static>(
    recorder: &CliRecorder<E>,
    spec: SessionSpec,
    timing: Timing,
    script: Vec<Step>,
    duration: Option<Duration>,
    mut stop: watch::Receiver<bool>,
) -> SessionEnd {
    let handle = recorder.start_session(spec);
    let running = tokio::select! {
        running = handle.running() => running.is_ok(),
        () = stop_asked(&mut stop) => false,
    };
    if !running {
        return handle.stop().await.into();
    }
    for step in script {
        let waited = match step {
            Step::Wait(length) => wait(&handle, length, &mut stop).await,
            Step::UpdateLayout(request) => {
                send(&handle, timing, &mut stop, |h| {
                    h.update_layout((*request).clone())
                })
                .await
            }
            Step::Update(request) => {
                send(&handle, timing, &mut stop, |h| h.update((*request).clone())).await
            }
        };
        match waited {
            Waited::Elapsed => {}
            Waited::StopAsked => return handle.stop().await.into(),
            Waited::Ended => return handle.finished().await.into(),
        }
    }
    let waited = match duration {
        Some(length) => wait(&handle, length, &mut stop).await,
        None => wait(&handle, Duration::MAX, &mut stop).await,
    };
    match waited {
        Waited::Ended => handle.finished().await.into(),
        Waited::Elapsed | Waited::StopAsked => handle.stop().await.into(),
    }
}

/// Sends an update, again after a pause while the task is failing over (404).
async fn send<'h, F, Fut>(
    handle: &'h SessionHandle,
    timing: Timing,
    stop: &mut watch::Receiver<bool>,
    call: F,
) -> Waited
where
    F: Fn(&'h SessionHandle) -> Fut,
    Fut: Future<Output = Result<(), SessionError>> + 'h,
{
    loop {
        let again = match call(handle).await {
            Ok(()) => return Waited::Elapsed,
            Err(SessionError::Call(error)) => error.resolution() == Resolution::TreatAsGone,
            Err(SessionError::NotRunning) => true,
            Err(_) => false,
        };
        if handle.state().is_some_and(SessionState::is_terminal) {
            return Waited::Ended;
        }
        if !again {
            // The failure was published as an event; the recording goes on.
            return Waited::Elapsed;
        }
        tokio::select! {
            () = tokio::time::sleep(timing.wait_step) => {}
            () = stop_asked(stop) => return Waited::StopAsked,
        }
    }
}

/// Waits `length`, or until a stop is asked, or until the session ends.
async fn wait(
    handle: &SessionHandle,
    length: Duration,
    stop: &mut watch::Receiver<bool>,
) -> Waited {
    let deadline = tokio::time::Instant::now().checked_add(length);
    loop {
        if handle.state().is_some_and(SessionState::is_terminal) {
            return Waited::Ended;
        }
        let now = tokio::time::Instant::now();
        let left = deadline.map_or(Duration::from_millis(100), |d| {
            d.saturating_duration_since(now)
        });
        if left.is_zero() {
            return Waited::Elapsed;
        }
        tokio::select! {
            () = tokio::time::sleep(left.min(Duration::from_millis(100))) => {}
            () = stop_asked(stop) => return Waited::StopAsked,
        }
    }
}

/// Completes when a stop is asked; never when nobody can ask any more.
async fn stop_asked(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
