use std::sync::{Arc, Mutex, PoisonError};

use crate::{Event, EventKind, EventSink, SessionState};

/// An [`EventSink`] that keeps every event in memory, for assertions.
/// Clones share the same log.
#[derive(Clone, Debug, Default)]
pub struct EventLog(Arc<Mutex<Vec<Event>>>);

impl EventLog {
    /// Every event so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The type of every event so far (`call.attempt`, `session.running`, ...).
    pub fn types(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|event| event.kind.type_suffix())
            .collect()
    }

    /// The states the sessions entered, in order.
    pub fn states(&self) -> Vec<SessionState> {
        self.events()
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::StateChanged { to, .. } => Some(*to),
                _ => None,
            })
            .collect()
    }
}

impl EventSink for EventLog {
    fn emit(&self, event: Event) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }
}
