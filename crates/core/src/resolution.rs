use std::fmt;

use serde::{Deserialize, Serialize};

/// What the caller should do about an answer, in the vocabulary of the service's
/// status table (`resolution_kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Send the same request again after a back-off (about 3 s, 6 s, 9 s).
    RetryBackoff,
    /// Retry; if it keeps failing, acquire a new resource and start again.
    RetryThenReacquire,
    /// Do not retry with this resource id; acquire a new one and start again.
    ReacquireAndStart,
    /// A task with the same cname and uid exists: take another uid, or find the leak.
    ChangeUidAndReacquire,
    /// The earlier call already succeeded: keep the existing sid.
    DoNotRepeat,
    /// The task is stopping or stopped: treat stop as done and stop polling.
    AlreadyExiting,
    /// The task was not found: it ended, or is moving to another server (up to ~90 s).
    TreatAsGone,
    /// The call completed but nothing was recorded.
    SuccessNoData,
    /// Stop was accepted but the upload is not confirmed yet.
    UploadPending,
    /// The request is wrong (parameters, headers, path, token): fix it, do not resend it unchanged.
    FixRequest,
    /// The Basic auth credentials are missing or wrong.
    FixCredentials,
    /// The App ID is not enabled for cloud recording, or the account is suspended.
    FixAccount,
    /// Over the request rate quota: slow down.
    ReduceRate,
    /// Over the concurrent task quota: wait, and stop leaked tasks.
    ReduceConcurrency,
}

impl Resolution {
    /// Every resolution, in table order.
    pub const ALL: [Self; 14] = [
        Self::RetryBackoff,
        Self::RetryThenReacquire,
        Self::ReacquireAndStart,
        Self::ChangeUidAndReacquire,
        Self::DoNotRepeat,
        Self::AlreadyExiting,
        Self::TreatAsGone,
        Self::SuccessNoData,
        Self::UploadPending,
        Self::FixRequest,
        Self::FixCredentials,
        Self::FixAccount,
        Self::ReduceRate,
        Self::ReduceConcurrency,
    ];

    /// The table's name for it, e.g. `retry_backoff`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RetryBackoff => "retry_backoff",
            Self::RetryThenReacquire => "retry_then_reacquire",
            Self::ReacquireAndStart => "reacquire_and_start",
            Self::ChangeUidAndReacquire => "change_uid_and_reacquire",
            Self::DoNotRepeat => "do_not_repeat",
            Self::AlreadyExiting => "already_exiting",
            Self::TreatAsGone => "treat_as_gone",
            Self::SuccessNoData => "success_no_data",
            Self::UploadPending => "upload_pending",
            Self::FixRequest => "fix_request",
            Self::FixCredentials => "fix_credentials",
            Self::FixAccount => "fix_account",
            Self::ReduceRate => "reduce_rate",
            Self::ReduceConcurrency => "reduce_concurrency",
        }
    }

    /// Parses the table's name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Whether sending the same request again can succeed without changing it.
    pub const fn is_retryable(self) -> bool {
        match self {
            Self::RetryBackoff | Self::RetryThenReacquire | Self::ReduceRate => true,
            Self::ReacquireAndStart
            | Self::ChangeUidAndReacquire
            | Self::DoNotRepeat
            | Self::AlreadyExiting
            | Self::TreatAsGone
            | Self::SuccessNoData
            | Self::UploadPending
            | Self::FixRequest
            | Self::FixCredentials
            | Self::FixAccount
            | Self::ReduceConcurrency => false,
        }
    }

    /// One sentence telling the caller what to do.
    pub const fn advice(self) -> &'static str {
        match self {
            Self::RetryBackoff => {
                "send the same request again after a back-off (about 3 s, 6 s, 9 s)"
            }
            Self::RetryThenReacquire => {
                "retry with back-off; if it keeps failing, acquire a new resource and start again"
            }
            Self::ReacquireAndStart => {
                "do not reuse this resource id: acquire a new one and start again"
            }
            Self::ChangeUidAndReacquire => {
                "a task with this cname and uid already exists: use another uid, or stop the leaked task"
            }
            Self::DoNotRepeat => "the earlier call already succeeded: keep the existing sid",
            Self::AlreadyExiting => "the task is already stopping or stopped: treat stop as done",
            Self::TreatAsGone => {
                "the task was not found: it ended, or is failing over (wait up to ~90 s before declaring it gone)"
            }
            Self::SuccessNoData => {
                "the call completed but nothing was recorded: nobody published a stream"
            }
            Self::UploadPending => {
                "stop was accepted but the upload is not confirmed: query again or watch the upload notifications"
            }
            Self::FixRequest => {
                "the request is invalid: fix the named field, path or header; do not resend it unchanged"
            }
            Self::FixCredentials => {
                "the Basic auth credentials are missing or wrong: check the customer id and secret"
            }
            Self::FixAccount => {
                "the App ID is invalid or cloud recording is not enabled for it: check the project in the Agora Console"
            }
            Self::ReduceRate => "over the request rate quota (10 per second per App ID): slow down",
            Self::ReduceConcurrency => {
                "over the concurrent task quota (50 per App ID): wait, and stop leaked tasks"
            }
        }
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_serialize_as_the_table_spells_them() {
        for resolution in Resolution::ALL {
            assert_eq!(Resolution::parse(resolution.as_str()), Some(resolution));
            let json = serde_json::to_string(&resolution).unwrap();
            assert_eq!(json, format!("\"{}\"", resolution.as_str()));
        }
        assert_eq!(Resolution::parse("retry"), None);
    }
}
