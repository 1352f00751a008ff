//! Exit codes and the one-line error every failed command ends with.

use std::fmt;

use cloudrec_client::CallError;
use cloudrec_core::{Failure, Resolution};

/// The exit codes of `cloudrec`, documented in `docs/cli.md` and `cloudrec --help`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: done; for `record` and `demo`, stopped and the stop answer named files.
    Ok = 0,
    /// 1: an unexpected internal error (please report it).
    Internal = 1,
    /// 2: the command line is wrong (unknown flag, missing argument).
    Usage = 2,
    /// 3: bad input: an unreadable file, bad JSON, or a field the service would refuse.
    Input = 3,
    /// 4: credentials missing, or refused by the service; or the App ID is not enabled.
    Credentials = 4,
    /// 5: no answer: the host is unreachable, refused the connection or timed out.
    Unreachable = 5,
    /// 6: the service answered with an error; the line names its resolution.
    Service = 6,
    /// 10: the recording stopped but no file was named: nothing was recorded
    /// (code 435), or the stop answer listed no file.
    NoData = 10,
    /// 11: the recording failed: it never ran, or could not be stopped.
    Failed = 11,
    /// 12: the task was lost: it disappeared and did not come back within the
    /// recovery window.
    Lost = 12,
    /// 13: with `--require-delivery`, the session ended well but events were not
    /// delivered to RabbitMQ or reached no queue.
    EventsLost = 13,
    /// 130: a second Ctrl-C or SIGTERM aborted `record` or `demo`.
    Aborted = 130,
}

impl Exit {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        self as u8
    }
}

/// Why a command failed: one line naming what is wrong and how to fix it, and the
/// exit code. Never holds a secret.
#[derive(Debug)]
pub(crate) struct Fail {
    pub(crate) exit: Exit,
    pub(crate) message: String,
}

impl Fail {
    pub(crate) fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
        }
    }

    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self::new(Exit::Input, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(Exit::Internal, message)
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the message holds.
        let line: String = self
            .message
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        write!(f, "error: {line}")
    }
}

/// The exit code a classified failure leads to.
pub(crate) fn exit_for_failure(failure: &Failure) -> Exit {
    if failure.transport().is_some() {
        return Exit::Unreachable;
    }
    match failure.resolution() {
        Resolution::FixCredentials | Resolution::FixAccount => Exit::Credentials,
        Resolution::FixRequest => Exit::Input,
        _ => Exit::Service,
    }
}

/// One line for a classified failure: what happened, the resolution and what to
/// do, each said once (the failure's own text ends with the resolution's advice).
pub(crate) fn describe_failure(failure: &Failure) -> String {
    let mut line = failure.to_string();
    if let Some(transport) = failure.transport() {
        line = format!(
            "{} got no answer from {} ({:?}: {}): check the base URL or region and that the host is reachable",
            failure.endpoint(),
            transport.host,
            transport.kind,
            transport.detail,
        );
    }
    if let Some(id) = failure.request_id() {
        line.push_str(&format!(" (request id {id})"));
    }
    line
}

/// A failed client call as a [`Fail`].
pub(crate) fn call_fail(error: &CallError) -> Fail {
    match error {
        CallError::Invalid(invalid) => Fail::input(format!(
            "invalid request, not sent: {invalid}; fix that field and run again"
        )),
        CallError::Unencodable { .. } => Fail::input(format!("{error}")),
        CallError::Failed { failure, attempts } => Fail::new(
            exit_for_failure(failure),
            format!(
                "{} (after {attempts} attempt(s))",
                describe_failure(failure)
            ),
        ),
        CallError::Ambiguous { failure } => Fail::new(
            exit_for_failure(failure),
            format!(
                "{}; the call may have taken effect: query the task before sending it again",
                describe_failure(failure)
            ),
        ),
        CallError::DeadlineExceeded {
            last,
            attempts,
            elapsed,
        } => Fail::new(
            exit_for_failure(last),
            format!(
                "gave up after {:.1} s and {attempts} attempt(s): {}",
                elapsed.as_secs_f64(),
                describe_failure(last)
            ),
        ),
        _ => Fail::new(Exit::Service, error.to_string()),
    }
}
