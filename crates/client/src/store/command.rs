//! The commands one worker leaves in the store for the owner of a session.

use std::fmt;
use std::time::SystemTime;

use uuid::Uuid;

/// The id of a stored command: increasing in the order commands were sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommandId(pub i64);

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a command asks of the session's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandKind {
    /// Stop the recording.
    Stop,
    /// Send the body (an update `clientRequest`) as an update.
    Update,
    /// Send the body (an updateLayout `clientRequest`) as an updateLayout.
    UpdateLayout,
    /// Query the task now (an NCS notification reached another worker).
    QueryNow,
}

impl CommandKind {
    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Update => "update",
            Self::UpdateLayout => "update_layout",
            Self::QueryNow => "query_now",
        }
    }

    /// The kind stored as `name`, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "stop" => Some(Self::Stop),
            "update" => Some(Self::Update),
            "update_layout" => Some(Self::UpdateLayout),
            "query_now" => Some(Self::QueryNow),
            _ => None,
        }
    }
}

/// Where a command is: waiting for the owner, or applied with its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandState {
    /// Not applied yet.
    Pending,
    /// Applied, and it succeeded.
    Done,
    /// Applied, and it failed (the result says why).
    Failed,
}

impl CommandState {
    /// The name stored in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// The state stored as `name`, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "pending" => Some(Self::Pending),
            "done" => Some(Self::Done),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One command as stored.
///
/// `body` is the `clientRequest` to send (an update's may hold storage
/// credentials): it is kept until the command is finished, then cleared to
/// `null`. `Debug` never shows it.
#[derive(Clone, PartialEq)]
pub struct Command {
    /// The command's id.
    pub id: CommandId,
    /// The session it is for.
    pub session_id: Uuid,
    /// What it asks.
    pub kind: CommandKind,
    /// The `clientRequest`, or `null` (a stop or query, or once finished).
    pub body: serde_json::Value,
    /// Pending, done or failed.
    pub state: CommandState,
    /// What the owner answered: for a failure, why (the applier's words, for
    /// example a problem detail as JSON); otherwise usually `None`.
    pub result: Option<String>,
    /// When it was sent (store clock).
    pub created_at: SystemTime,
    /// When it was finished (store clock), if it was.
    pub done_at: Option<SystemTime>,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("id", &self.id)
            .field("session_id", &self.session_id)
            .field("kind", &self.kind)
            .field(
                "body",
                &if self.body.is_null() {
                    "null"
                } else {
                    "<hidden>"
                },
            )
            .field("state", &self.state)
            .field("result", &self.result)
            .field("created_at", &self.created_at)
            .field("done_at", &self.done_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_states_round_trip_their_names() {
        for kind in [
            CommandKind::Stop,
            CommandKind::Update,
            CommandKind::UpdateLayout,
            CommandKind::QueryNow,
        ] {
            assert_eq!(CommandKind::parse(kind.as_str()), Some(kind));
        }
        for state in [
            CommandState::Pending,
            CommandState::Done,
            CommandState::Failed,
        ] {
            assert_eq!(CommandState::parse(state.as_str()), Some(state));
        }
        assert_eq!(CommandKind::parse("restart"), None);
    }

    #[test]
    fn debug_hides_the_body() {
        let command = Command {
            id: CommandId(1),
            session_id: Uuid::nil(),
            kind: CommandKind::Update,
            body: serde_json::json!({"storageConfig": {"secretKey": "SK-hidden"}}),
            state: CommandState::Pending,
            result: None,
            created_at: SystemTime::UNIX_EPOCH,
            done_at: None,
        };
        assert!(!format!("{command:?}").contains("SK-hidden"));
    }
}
