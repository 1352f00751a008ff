//! Test helpers (feature `test-util`): an in-process fake of the service below
//! the [`Transport`](crate::Transport) trait, and a deterministic executor with a
//! simulated [`Clock`](crate::Clock), so that sessions, recorders and clients run
//! minutes of behaviour in microseconds, the same way every time.

mod events;
mod fake;
mod sim;

pub use events::EventLog;
pub use fake::{FakeConfig, FakeService, FakeTask, Fault, Trigger};
pub use sim::{Sim, SimClock};
