//! The result of classifying one answer: the typed success, or a classified failure.

use crate::{Failure, Resolution};

/// What one call came to: the typed response of an HTTP 200, or a [`Failure`]
/// that says what happened and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<T> {
    /// HTTP 200 with the documented body, decoded.
    Success(T),
    /// Anything else, classified.
    Failure(Failure),
}

impl<T> Outcome<T> {
    /// The outcome as a `Result`, for `?`.
    pub fn into_result(self) -> Result<T, Failure> {
        match self {
            Self::Success(value) => Ok(value),
            Self::Failure(failure) => Err(failure),
        }
    }

    /// The failure's resolution; `None` for a success.
    pub fn resolution(&self) -> Option<Resolution> {
        match self {
            Self::Success(_) => None,
            Self::Failure(failure) => Some(failure.resolution()),
        }
    }
}

impl<T> From<Outcome<T>> for Result<T, Failure> {
    fn from(outcome: Outcome<T>) -> Self {
        outcome.into_result()
    }
}

impl<T> From<Result<T, Failure>> for Outcome<T> {
    fn from(result: Result<T, Failure>) -> Self {
        match result {
            Ok(value) => Self::Success(value),
            Err(failure) => Self::Failure(failure),
        }
    }
}
