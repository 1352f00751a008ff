//! The sinks that need no broker: tracing, an in-memory channel and JSON lines.

mod jsonl;
mod memory;
mod tracing_sink;

pub use jsonl::JsonLinesSink;
pub use memory::{MemoryReceiver, MemorySink};
pub use tracing_sink::TracingSink;
