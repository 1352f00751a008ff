use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::envelope::CloudEvent;
use crate::error::{SinkError, SinkErrorKind};
use crate::sink::Sink;

/// Hands events to the application (or a test) through a bounded channel.
///
/// When the receiver lags, delivery waits for room; the pipeline's queue for this
/// sink then fills and the pipeline drops (and counts) what does not fit. Once the
/// receiver is dropped, deliveries fail as closed and count as dropped.
#[derive(Clone, Debug)]
pub struct MemorySink {
    name: String,
    tx: mpsc::Sender<Arc<CloudEvent>>,
}

/// The receiving end of a [`MemorySink`].
#[derive(Debug)]
pub struct MemoryReceiver {
    rx: mpsc::Receiver<Arc<CloudEvent>>,
}

impl MemorySink {
    /// A sink named `memory` and its receiver, holding up to `capacity` events (at least 1).
    pub fn channel(capacity: usize) -> (Self, MemoryReceiver) {
        Self::named("memory", capacity)
    }

    /// Like [`MemorySink::channel`], with a name (for pipelines with several memory sinks).
    pub fn named(name: impl Into<String>, capacity: usize) -> (Self, MemoryReceiver) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            Self {
                name: name.into(),
                tx,
            },
            MemoryReceiver { rx },
        )
    }
}

#[async_trait]
impl Sink for MemorySink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, event: Arc<CloudEvent>) -> Result<(), SinkError> {
        self.tx
            .send(event)
            .await
            .map_err(|_| SinkError::new(SinkErrorKind::Closed))
    }
}

impl MemoryReceiver {
    /// The next event; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<Arc<CloudEvent>> {
        self.rx.recv().await
    }

    /// The next event if one arrives within `timeout`.
    pub async fn recv_timeout(&mut self, timeout: Duration) -> Option<Arc<CloudEvent>> {
        tokio::time::timeout(timeout, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every event already received, without waiting.
    pub fn drain(&mut self) -> Vec<Arc<CloudEvent>> {
        let mut events = Vec::new();
        while let Ok(event) = self.rx.try_recv() {
            events.push(event);
        }
        events
    }
}
