//! The result of classifying one answer: the typed success, or a classified failure.

use cloudrec_types::{
    AcquireResponse, Endpoint, QueryResponse, StartResponse, StopResponse, UpdateLayoutResponse,
    UpdateResponse,
};

use cloudrec_types::ncs::NcsIpResponse;

use crate::{Failure, HttpResponse, Resolution, classify_failure, decode};

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

/// The typed success of any endpoint, for callers that pick the endpoint at run
/// time (the CLI, fuzzing, benchmarks). Typed callers use
/// [`decode`](crate::decode) with the response type instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The answer to acquire.
    Acquire(AcquireResponse),
    /// The answer to start.
    Start(StartResponse),
    /// The answer to query.
    Query(QueryResponse),
    /// The answer to update.
    Update(UpdateResponse),
    /// The answer to updateLayout.
    UpdateLayout(UpdateLayoutResponse),
    /// The answer to stop.
    Stop(StopResponse),
    /// The answer to `GET /v1/ncs/ip`.
    NcsIp(NcsIpResponse),
}

impl Reply {
    /// The endpoint that answered.
    pub fn endpoint(&self) -> Endpoint {
        match self {
            Self::Acquire(_) => Endpoint::Acquire,
            Self::Start(_) => Endpoint::Start,
            Self::Query(_) => Endpoint::Query,
            Self::Update(_) => Endpoint::Update,
            Self::UpdateLayout(_) => Endpoint::UpdateLayout,
            Self::Stop(_) => Endpoint::Stop,
            Self::NcsIp(_) => Endpoint::NcsIp,
        }
    }
}

/// Classifies the answer to a call of `endpoint`, decoding a success into the
/// endpoint's response type.
pub fn classify_reply(endpoint: Endpoint, response: &HttpResponse) -> Outcome<Reply> {
    // Only a 200 can be a success: build any other failure in place, without
    // moving it through the `Result` of each response type.
    if response.status != 200 {
        return Outcome::Failure(classify_failure(endpoint, response));
    }
    let decoded = match endpoint {
        Endpoint::Acquire => decode(endpoint, response).map(Reply::Acquire),
        Endpoint::Start => decode(endpoint, response).map(Reply::Start),
        Endpoint::Query => decode(endpoint, response).map(Reply::Query),
        Endpoint::Update => decode(endpoint, response).map(Reply::Update),
        Endpoint::UpdateLayout => decode(endpoint, response).map(Reply::UpdateLayout),
        Endpoint::Stop => decode(endpoint, response).map(Reply::Stop),
        Endpoint::NcsIp => decode(endpoint, response).map(Reply::NcsIp),
    };
    decoded.into()
}
