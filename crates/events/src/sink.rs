use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use crate::envelope::CloudEvent;
use crate::error::SinkError;

/// A destination for events: a log, a channel, a file, a message broker.
///
/// The pipeline gives each sink its own bounded queue and task, and calls
/// [`Sink::deliver`] for one event at a time, in order. A slow sink therefore never
/// slows recording control or the other sinks: when its queue is full, events for
/// it are dropped, counted, and reported to it later in a gap event.
#[async_trait]
pub trait Sink: Send + Sync + 'static {
    /// A short unique name, used in counters and gap events (e.g. `amqp`, `jsonl`).
    fn name(&self) -> &str;

    /// **When:** for each event, in emit order, on the sink's own task.
    /// **Sees:** the final envelope, shared with the other sinks.
    /// **Error:** a retryable error makes the pipeline try again (counted as
    /// retried, with a short back-off, up to its retry limit); after that, or for a
    /// non-retryable error, the event is counted as dropped for this sink.
    async fn deliver(&self, event: Arc<CloudEvent>) -> Result<(), SinkError>;

    /// **When:** on [`Pipeline::flush`](crate::Pipeline::flush) and
    /// [`Pipeline::shutdown`](crate::Pipeline::shutdown), after every event queued
    /// before the call was delivered.
    /// **Does:** pushes out what the sink still holds (buffers, unconfirmed
    /// messages) before `deadline`; a timeout error if it could not.
    async fn flush(&self, deadline: Instant) -> Result<(), SinkError> {
        let _ = deadline;
        Ok(())
    }
}
