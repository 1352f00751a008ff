//! Recording sessions as a sans-IO state machine.
//!
//! A [`Session`] takes call answers, the current time and a jitter number, and
//! returns the next [`Action`]: acquire, start, query, stop, wait, or done. It
//! reads no clock and sends nothing; the async `Recorder` of `cloudrec-client`
//! (or a test) performs the actions. Every state change is a [`Transition`].

mod config;
mod io;
mod machine;
#[cfg(test)]
mod tests;

pub use config::{ConflictPolicy, LostPolicy, SessionConfig, StopMode};
pub use io::{Action, Answer, End, Input, Polled, Started, StopAnswer, TaskIds, Transition};
pub use machine::Session;
