//! One journal entry: what a process wrote down about a task, as the JSON line
//! a file journal stores.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cloudrec_types::{Cname, Mode, ResourceId, Sid, Uid};
use serde::{Deserialize, Serialize};

use crate::TaskRef;

/// A start about to be sent: written (and made durable) before the request
/// leaves, so that a crash before its answer arrives still leaves a trace of
/// the task it may have started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Intent {
    /// The resource id start is sent with.
    pub resource_id: ResourceId,
    /// The recording mode.
    pub mode: Mode,
    /// The channel.
    pub cname: Cname,
    /// The recorder uid.
    pub uid: Uid,
    /// When start was about to be sent (wall clock, milliseconds in the file).
    #[serde(with = "unix_ms")]
    pub at: SystemTime,
}

impl Intent {
    /// The task this start created, once its sid is known.
    pub fn task(&self, sid: Sid) -> TaskRef {
        TaskRef {
            resource_id: self.resource_id.clone(),
            sid,
            mode: self.mode.clone(),
            cname: self.cname.clone(),
            uid: self.uid,
        }
    }
}

/// One line of the journal. Entries only ever hold ids and times, never a token,
/// a storage key or a customer secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Entry {
    /// Start is about to be sent on a resource.
    Intent(Intent),
    /// Start answered with the task's sid: the task is live (and the intent on
    /// its resource is resolved).
    Live {
        /// The task.
        #[serde(flatten)]
        task: TaskRef,
    },
    /// `recover` saw the task answer 404 for the first time at `since`: its
    /// recovery window counts from then, across runs.
    Missing {
        /// The task.
        sid: Sid,
        /// The first 404 seen (wall clock, milliseconds in the file).
        #[serde(with = "unix_ms")]
        since: SystemTime,
    },
    /// The task answered again after a 404: its recovery window is closed.
    Answered {
        /// The task.
        sid: Sid,
    },
    /// The task is stopped (or known to have ended).
    Done {
        /// The task.
        sid: Sid,
    },
    /// No task came of the start on this resource.
    Dropped {
        /// The resource of the intent.
        #[serde(rename = "resourceId")]
        resource_id: ResourceId,
    },
}

impl Entry {
    /// The entry's kind as the file names it (`intent`, `live`, ...).
    pub fn op(&self) -> &'static str {
        match self {
            Self::Intent(_) => "intent",
            Self::Live { .. } => "live",
            Self::Missing { .. } => "missing",
            Self::Answered { .. } => "answered",
            Self::Done { .. } => "done",
            Self::Dropped { .. } => "dropped",
        }
    }
}

/// A wall-clock time as whole milliseconds since the Unix epoch.
mod unix_ms {
    use super::{Deserialize, Duration, SystemTime, UNIX_EPOCH};

    pub(super) fn serialize<S: serde::Serializer>(
        time: &SystemTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let ms = time.duration_since(UNIX_EPOCH).map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        });
        serializer.serialize_u64(ms)
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<SystemTime, D::Error> {
        let ms = u64::deserialize(deserializer)?;
        UNIX_EPOCH
            .checked_add(Duration::from_millis(ms))
            .ok_or_else(|| serde::de::Error::custom("time out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent() -> Intent {
        Intent {
            resource_id: ResourceId::new("rid").unwrap(),
            mode: Mode::Mix,
            cname: Cname::new("room").unwrap(),
            uid: Uid::new(7).unwrap(),
            at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
        }
    }

    #[test]
    fn every_entry_round_trips_through_its_line() {
        let sid = Sid::new("sid").unwrap();
        let entries = [
            Entry::Intent(intent()),
            Entry::Live {
                task: intent().task(sid.clone()),
            },
            Entry::Missing {
                sid: sid.clone(),
                since: UNIX_EPOCH + Duration::from_millis(5),
            },
            Entry::Answered { sid: sid.clone() },
            Entry::Done { sid },
            Entry::Dropped {
                resource_id: ResourceId::new("rid").unwrap(),
            },
        ];
        for entry in entries {
            let line = serde_json::to_string(&entry).unwrap();
            assert!(
                line.contains(&format!("\"op\":\"{}\"", entry.op())),
                "{line}"
            );
            assert_eq!(serde_json::from_str::<Entry>(&line).unwrap(), entry);
        }
    }

    #[test]
    fn an_intent_line_holds_ids_and_the_time_in_milliseconds() {
        let line = serde_json::to_string(&Entry::Intent(intent())).unwrap();
        assert_eq!(
            line,
            r#"{"op":"intent","resourceId":"rid","mode":"mix","cname":"room","uid":"7","at":1700000000123}"#
        );
    }
}
