use std::collections::VecDeque;
use std::sync::Arc;

use crate::envelope::{CloudEvent, Priority};
use crate::gap::LossTally;

/// What happened to an event pushed into a full buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// There was room.
    Stored,
    /// It replaced an older status poll of the same session.
    Coalesced,
    /// It was stored after an older, less valuable event was shed.
    ShedOlder,
    /// Everything buffered was at least as valuable, so the new event was dropped.
    DroppedNew,
}

/// The AMQP sink's bounded buffer of events not yet published, with shedding.
///
/// When full: a status poll replaces the buffered status poll of the same session;
/// otherwise the oldest event of the lowest priority that is lower than the new
/// event's is shed; if there is none, the new event is dropped. Every shed or dropped
/// event is tallied for the next gap event.
#[derive(Debug)]
pub(crate) struct Buffer {
    items: VecDeque<Arc<CloudEvent>>,
    capacity: usize,
    losses: LossTally,
    by_priority: [usize; 3],
}

fn rank(priority: Priority) -> usize {
    match priority {
        Priority::Superseded => 0,
        Priority::Ordinary => 1,
        Priority::Kept => 2,
    }
}

impl Buffer {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            items: VecDeque::new(),
            capacity: capacity.max(1),
            losses: LossTally::default(),
            by_priority: [0; 3],
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn push(&mut self, event: Arc<CloudEvent>) -> Pushed {
        if self.items.len() < self.capacity {
            self.insert_back(event);
            return Pushed::Stored;
        }
        if let Some(key) = event.coalesce_key()
            && let Some(pos) = self
                .items
                .iter()
                .position(|old| old.coalesce_key() == Some(key))
        {
            self.remove_at(pos);
            self.insert_back(event);
            return Pushed::Coalesced;
        }
        let new_rank = rank(event.priority());
        let victim_rank = (0..new_rank).find(|&r| self.by_priority[r] > 0);
        match victim_rank {
            Some(r) => {
                let pos = self.items.iter().position(|old| rank(old.priority()) == r);
                if let Some(pos) = pos {
                    self.remove_at(pos);
                }
                self.insert_back(event);
                Pushed::ShedOlder
            }
            None => {
                self.losses.record(&event);
                Pushed::DroppedNew
            }
        }
    }

    /// Puts events back at the front, keeping their order (in-flight messages after a
    /// connection error). They may exceed the capacity by at most the confirm window.
    pub(crate) fn requeue_front(
        &mut self,
        events: impl DoubleEndedIterator<Item = Arc<CloudEvent>>,
    ) {
        for event in events.rev() {
            self.by_priority[rank(event.priority())] += 1;
            self.items.push_front(event);
        }
    }

    pub(crate) fn pop(&mut self) -> Option<Arc<CloudEvent>> {
        let event = self.items.pop_front()?;
        self.by_priority[rank(event.priority())] -= 1;
        Some(event)
    }

    /// The gap event for what was shed since the last one, if anything was.
    pub(crate) fn take_gap(&mut self, source: &str, sink: &str) -> Option<CloudEvent> {
        self.losses.take_gap(source, sink)
    }

    /// How many events were lost and not yet reported in a gap event.
    pub(crate) fn unreported_losses(&self) -> u64 {
        self.losses.total()
    }

    fn insert_back(&mut self, event: Arc<CloudEvent>) {
        self.by_priority[rank(event.priority())] += 1;
        self.items.push_back(event);
    }

    fn remove_at(&mut self, pos: usize) {
        if let Some(old) = self.items.remove(pos) {
            self.by_priority[rank(old.priority())] -= 1;
            self.losses.record(&old);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use serde_json::json;

    use super::*;

    fn ev(suffix: &str) -> Arc<CloudEvent> {
        Arc::new(CloudEvent::new("/t", suffix, SystemTime::now(), json!({})))
    }

    fn types(buffer: &mut Buffer) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(e) = buffer.pop() {
            out.push(e.type_suffix().to_owned());
        }
        out
    }

    #[test]
    fn stores_while_there_is_room() {
        let mut b = Buffer::new(3);
        assert_eq!(b.push(ev("session.status")), Pushed::Stored);
        assert_eq!(b.push(ev("call.retry")), Pushed::Stored);
        assert_eq!(b.len(), 2);
        assert_eq!(b.unreported_losses(), 0);
    }

    #[test]
    fn status_polls_coalesce_when_full() {
        let mut b = Buffer::new(2);
        b.push(ev("session.status"));
        b.push(ev("session.running"));
        let newer = ev("session.status");
        assert_eq!(b.push(Arc::clone(&newer)), Pushed::Coalesced);
        assert_eq!(b.len(), 2);
        assert_eq!(b.pop().unwrap().type_suffix(), "session.running");
        assert_eq!(b.pop().unwrap().id(), newer.id());
        assert_eq!(b.unreported_losses(), 1);
    }

    #[test]
    fn sheds_the_oldest_least_valuable_first() {
        let mut b = Buffer::new(4);
        b.push(ev("call.retry"));
        b.push(ev("call.attempt"));
        b.push(ev("session.running"));
        b.push(ev("call.attempt"));
        assert_eq!(b.push(ev("session.stopped")), Pushed::ShedOlder);
        assert_eq!(b.push(ev("error.fix_request")), Pushed::ShedOlder);
        // Both call attempts went first; then an ordinary event displaces nothing
        // of its own rank.
        assert_eq!(b.push(ev("call.failover")), Pushed::DroppedNew);
        assert_eq!(b.push(ev("session.failed")), Pushed::ShedOlder);
        assert_eq!(
            types(&mut b),
            [
                "session.running",
                "session.stopped",
                "error.fix_request",
                "session.failed"
            ]
        );
        let gap = b.take_gap("/t", "amqp").unwrap();
        assert_eq!(gap.data()["lost"], 4);
        assert_eq!(gap.data()["byType"]["call.attempt"], 2);
        assert_eq!(gap.data()["byType"]["call.retry"], 1);
        assert_eq!(gap.data()["byType"]["call.failover"], 1);
    }

    #[test]
    fn kept_events_are_never_displaced() {
        let mut b = Buffer::new(2);
        b.push(ev("session.acquired"));
        b.push(ev("session.running"));
        assert_eq!(b.push(ev("session.lost")), Pushed::DroppedNew);
        assert_eq!(b.push(ev("session.status")), Pushed::DroppedNew);
        assert_eq!(types(&mut b), ["session.acquired", "session.running"]);
        assert_eq!(b.unreported_losses(), 2);
    }

    #[test]
    fn requeued_events_go_first_in_order() {
        let mut b = Buffer::new(10);
        b.push(ev("session.stopping"));
        b.requeue_front(vec![ev("session.acquired"), ev("session.starting")].into_iter());
        assert_eq!(
            types(&mut b),
            ["session.acquired", "session.starting", "session.stopping"]
        );
        assert!(b.is_empty());
    }
}
