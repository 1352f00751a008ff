//! What a journal holds once its entries are replayed: the live tasks (with the
//! first 404 `recover` saw of each) and the starts whose answer never arrived.

use std::time::SystemTime;

use cloudrec_types::ResourceId;

use super::entry::{Entry, Intent};
use crate::TaskRef;

/// A live task of the journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalTask {
    /// The task.
    pub task: TaskRef,
    /// When `recover` first saw it answer 404, if it has and it did not answer
    /// again since: the start of its recovery window.
    pub missing_since: Option<SystemTime>,
}

/// The replayed state of a journal, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    tasks: Vec<JournalTask>,
    intents: Vec<Intent>,
}

impl Ledger {
    /// The live tasks.
    pub fn tasks(&self) -> &[JournalTask] {
        &self.tasks
    }

    /// The starts sent (or about to be) whose task is not known.
    pub fn intents(&self) -> &[Intent] {
        &self.intents
    }

    /// Whether the journal holds nothing to recover.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty() && self.intents.is_empty()
    }

    /// Applies `entry`; `false` when it changes nothing (a task already live,
    /// a stop of a task not listed), so that it need not be written.
    pub(crate) fn apply(&mut self, entry: &Entry) -> bool {
        match entry {
            Entry::Intent(intent) => {
                let known = self
                    .intents
                    .iter()
                    .any(|i| i.resource_id == intent.resource_id)
                    || self
                        .tasks
                        .iter()
                        .any(|t| t.task.resource_id == intent.resource_id);
                if !known {
                    self.intents.push(intent.clone());
                }
                !known
            }
            Entry::Live { task } => {
                let resolved = self.drop_intent(&task.resource_id);
                let new = !self.tasks.iter().any(|t| t.task.sid == task.sid);
                if new {
                    self.tasks.push(JournalTask {
                        task: task.clone(),
                        missing_since: None,
                    });
                }
                resolved || new
            }
            Entry::Missing { sid, since } => self
                .tasks
                .iter_mut()
                .find(|t| &t.task.sid == sid && t.missing_since.is_none())
                .map(|t| t.missing_since = Some(*since))
                .is_some(),
            Entry::Answered { sid } => self
                .tasks
                .iter_mut()
                .find(|t| &t.task.sid == sid && t.missing_since.is_some())
                .map(|t| t.missing_since = None)
                .is_some(),
            Entry::Done { sid } => {
                let before = self.tasks.len();
                self.tasks.retain(|t| &t.task.sid != sid);
                self.tasks.len() != before
            }
            Entry::Dropped { resource_id } => self.drop_intent(resource_id),
        }
    }

    fn drop_intent(&mut self, resource_id: &ResourceId) -> bool {
        let before = self.intents.len();
        self.intents.retain(|i| &i.resource_id != resource_id);
        self.intents.len() != before
    }

    /// The fewest entries that rebuild this ledger.
    #[cfg(any(test, feature = "file-journal"))]
    pub(crate) fn entries(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = self.intents.iter().cloned().map(Entry::Intent).collect();
        for task in &self.tasks {
            entries.push(Entry::Live {
                task: task.task.clone(),
            });
            if let Some(since) = task.missing_since {
                entries.push(Entry::Missing {
                    sid: task.task.sid.clone(),
                    since,
                });
            }
        }
        entries
    }

    /// How many entries [`Ledger::entries`] gives.
    #[cfg(any(test, feature = "file-journal"))]
    pub(crate) fn entry_count(&self) -> usize {
        self.intents.len()
            + self
                .tasks
                .iter()
                .map(|t| 1 + usize::from(t.missing_since.is_some()))
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use cloudrec_types::{Cname, Mode, Sid, Uid};

    use super::*;

    fn intent(n: u32) -> Intent {
        Intent {
            resource_id: ResourceId::new(format!("rid{n}")).unwrap(),
            mode: Mode::Mix,
            cname: Cname::new("room").unwrap(),
            uid: Uid::new(n + 1).unwrap(),
            at: UNIX_EPOCH + Duration::from_secs(u64::from(n)),
        }
    }

    fn sid(n: u32) -> Sid {
        Sid::new(format!("sid{n}")).unwrap()
    }

    #[test]
    fn each_entry_changes_the_ledger_once() {
        let mut ledger = Ledger::default();
        let since = UNIX_EPOCH + Duration::from_secs(9);
        let live = Entry::Live {
            task: intent(1).task(sid(1)),
        };
        let steps: [(Entry, bool); 12] = [
            (Entry::Intent(intent(1)), true),
            (Entry::Intent(intent(1)), false),
            (
                Entry::Dropped {
                    resource_id: intent(2).resource_id,
                },
                false,
            ),
            (live.clone(), true),
            (live.clone(), false),
            (Entry::Intent(intent(1)), false),
            (Entry::Answered { sid: sid(1) }, false),
            (Entry::Missing { sid: sid(1), since }, true),
            (
                Entry::Missing {
                    sid: sid(1),
                    since: since + Duration::from_secs(1),
                },
                false,
            ),
            (Entry::Answered { sid: sid(1) }, true),
            (Entry::Done { sid: sid(1) }, true),
            (Entry::Done { sid: sid(1) }, false),
        ];
        for (n, (entry, changes)) in steps.iter().enumerate() {
            assert_eq!(ledger.apply(entry), *changes, "step {n}: {entry:?}");
        }
        assert!(ledger.is_empty());
    }

    #[test]
    fn the_first_404_is_kept_until_the_task_answers() {
        let mut ledger = Ledger::default();
        let first = UNIX_EPOCH + Duration::from_secs(100);
        ledger.apply(&Entry::Live {
            task: intent(1).task(sid(1)),
        });
        ledger.apply(&Entry::Missing {
            sid: sid(1),
            since: first,
        });
        ledger.apply(&Entry::Missing {
            sid: sid(1),
            since: first + Duration::from_secs(50),
        });
        assert_eq!(ledger.tasks()[0].missing_since, Some(first));
    }

    #[test]
    fn its_entries_rebuild_the_same_ledger() {
        let mut ledger = Ledger::default();
        for n in 0..6 {
            ledger.apply(&Entry::Intent(intent(n)));
        }
        for n in 0..3 {
            ledger.apply(&Entry::Live {
                task: intent(n).task(sid(n)),
            });
        }
        ledger.apply(&Entry::Missing {
            sid: sid(1),
            since: UNIX_EPOCH + Duration::from_secs(3),
        });
        ledger.apply(&Entry::Done { sid: sid(2) });
        ledger.apply(&Entry::Dropped {
            resource_id: intent(5).resource_id,
        });
        let entries = ledger.entries();
        assert_eq!(entries.len(), ledger.entry_count());
        let mut rebuilt = Ledger::default();
        for entry in &entries {
            rebuilt.apply(entry);
        }
        assert_eq!(rebuilt, ledger);
        assert_eq!(ledger.intents().len(), 2);
        assert_eq!(ledger.tasks().len(), 2);
    }
}
