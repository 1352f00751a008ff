use std::time::Duration;

use cloudrec_types::{Endpoint, ValidationError};

use crate::{Failure, Resolution};

/// Why a client call did not give its typed result.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The request breaks a rule of the service; it was not sent. Fix the named field.
    #[error("invalid request, not sent: {0}")]
    Invalid(#[source] ValidationError),
    /// The request body could not be encoded as JSON; it was not sent.
    #[error("{endpoint} request could not be encoded as JSON: {detail}")]
    Unencodable {
        /// The operation.
        endpoint: Endpoint,
        /// What the encoder reported.
        detail: String,
    },
    /// The call failed and retrying it as it is cannot help, or its retries ran
    /// out; the failure's resolution says what to do.
    #[error("{endpoint} failed after {attempts} attempt(s): {failure}", endpoint = failure.endpoint())]
    Failed {
        /// The last classified failure.
        failure: Failure,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A start or stop may have taken effect but its answer was lost: query the
    /// task before deciding; do not resend it blindly.
    #[error("{endpoint} may or may not have taken effect, query the task before deciding: {failure}", endpoint = failure.endpoint())]
    Ambiguous {
        /// The failure that made it ambiguous.
        failure: Failure,
    },
    /// The call's deadline passed before an attempt succeeded.
    #[error("{endpoint} gave up after {elapsed:?} and {attempts} attempt(s), the call's deadline: {last}", endpoint = last.endpoint())]
    DeadlineExceeded {
        /// The last classified failure.
        last: Failure,
        /// How many attempts were made.
        attempts: u32,
        /// How long the call ran.
        elapsed: Duration,
    },
}

impl CallError {
    /// The last classified failure, when a request was sent.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Self::Invalid(_) | Self::Unencodable { .. } => None,
            Self::Failed { failure, .. } | Self::Ambiguous { failure } => Some(failure),
            Self::DeadlineExceeded { last, .. } => Some(last),
        }
    }

    /// What to do about it, in the status table's vocabulary; an invalid request
    /// is [`Resolution::FixRequest`].
    pub fn resolution(&self) -> Resolution {
        self.failure()
            .map_or(Resolution::FixRequest, Failure::resolution)
    }

    /// Whether a start or stop may have taken effect without an answer.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Self::Ambiguous { .. })
    }
}
