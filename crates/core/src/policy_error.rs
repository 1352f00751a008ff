//! The error of building a policy from invalid settings.

/// A policy setting that cannot work, with what to change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A back-off schedule has no step.
    #[error("empty back-off schedule: give at least one delay")]
    EmptySchedule,
    /// A back-off schedule gets shorter from one step to the next.
    #[error(
        "back-off schedule decreases at step {step}: make every delay at least the previous one"
    )]
    DecreasingSchedule {
        /// The 1-based step that is shorter than the one before it.
        step: usize,
    },
    /// A back-off cap, per-call deadline or recovery window of zero.
    #[error("{setting} is zero: give a positive duration")]
    ZeroDuration {
        /// The setting's name.
        setting: &'static str,
    },
    /// A rate, burst, attempt count or task limit of zero.
    #[error("{setting} is zero: give a positive number")]
    ZeroCount {
        /// The setting's name.
        setting: &'static str,
    },
    /// A burst larger than the rate: a one-second window would hold more than the rate.
    #[error(
        "burst {burst} is above the rate of {rate} per second: no second may hold more than the rate, give a burst of 1 to {rate}"
    )]
    BurstAboveRate {
        /// The burst given.
        burst: u32,
        /// The rate given.
        rate: u32,
    },
    /// A jitter spread above 100 %.
    #[error("jitter spread {percent}% is over 100%: give 0 to 100")]
    SpreadTooLarge {
        /// The rejected percentage.
        percent: u32,
    },
    /// A base URL override that is not `http://` or `https://` followed by a host.
    #[error("base url `{url}` is not http(s)://host[:port]: give a scheme and a host, no path")]
    InvalidBaseUrl {
        /// The rejected text.
        url: String,
    },
}
