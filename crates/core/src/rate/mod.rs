//! The service's quotas, kept on the client side: request rate and live tasks.

mod bucket;
mod tasks;

pub use bucket::{Permit, RateLimiter};
pub use tasks::{Admission, TaskLimit};
