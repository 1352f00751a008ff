use std::sync::Arc;

use async_trait::async_trait;

use crate::envelope::{CloudEvent, Priority};
use crate::error::SinkError;
use crate::sink::Sink;

/// Logs every event through `tracing` with target `cloudrec::events`: kept and
/// ordinary events at INFO, superseded ones (status polls, call attempts) at DEBUG.
/// Fields: `id`, `type`, `subject`, and `data` as JSON.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingSink;

#[async_trait]
impl Sink for TracingSink {
    fn name(&self) -> &str {
        "tracing"
    }

    async fn deliver(&self, event: Arc<CloudEvent>) -> Result<(), SinkError> {
        let data = event.data().to_string();
        let subject = event.subject().unwrap_or_default();
        if event.priority() == Priority::Superseded {
            tracing::debug!(target: "cloudrec::events", id = event.id(), r#type = %event.event_type(), subject, data, "event");
        } else {
            tracing::info!(target: "cloudrec::events", id = event.id(), r#type = %event.event_type(), subject, data, "event");
        }
        Ok(())
    }
}
