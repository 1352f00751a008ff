//! The async client: one method per endpoint, each validating its request,
//! waiting for the App ID's rate limit, retrying and failing over by the core
//! policy within a deadline, and reporting every step as an event.
//!
//! It is generic over the [`Transport`], the [`Clock`] and the [`EventSink`], and
//! needs no particular async runtime.

mod about;
mod builder;
mod error;
mod outcome;
mod path;
mod probe;

use std::sync::Arc;
use std::time::Duration;

use cloudrec_types::ncs::NcsIpResponse;
use cloudrec_types::{
    AcquireRequest, AcquireResponse, AppId, Endpoint, Mode, QueryResponse, ResourceId,
    ResponseBody, StartRequest, StartResponse, StopRequest, StopResponse, Unknown,
    UpdateLayoutRequest, UpdateLayoutResponse, UpdateRequest, UpdateResponse, Validate,
};
use serde::Serialize;
use tracing::Instrument;

pub use builder::{ClientBuilder, ClientConfigError, Timeouts};
pub use error::CallError;
pub use outcome::{StartOutcome, StopOutcome};

use about::About;

use crate::jitter::JitterSource;
use crate::{
    Clock, Event, EventKind, EventSink, FailoverPlan, Failure, GiveUpReason, HttpRequest, Next,
    Permit, RateGate, Resolution, RetryPolicy, Subject, TaskRef, Timestamp, Transport,
    TransportErrorKind, classify_transport, decode,
};

/// The body of a call that sends none (query, a GET).
#[derive(Serialize)]
enum NoBody {}

impl Validate for NoBody {
    fn validate(&self, _mode: &Mode) -> Result<(), cloudrec_types::ValidationError> {
        match *self {}
    }
}

impl Unknown for NoBody {
    fn collect_unknown(&self, _at: &str, _found: &mut Vec<String>) {
        match *self {}
    }
}

/// Validates a request body for `mode` before anything is sent. Members the
/// types do not know are sent as given, with a warning that names them (never
/// their values): the service adds fields often, and a misspelt key shows.
fn check<B: Validate + Unknown>(
    endpoint: Endpoint,
    body: &B,
    mode: &Mode,
) -> Result<(), CallError> {
    body.validate(mode).map_err(CallError::Invalid)?;
    let unknown = body.unknown_fields();
    if !unknown.is_empty() {
        tracing::warn!(
            endpoint = %endpoint.as_str(),
            fields = ?unknown,
            "the request has fields cloudrec does not know; they are sent as given"
        );
    }
    Ok(())
}

/// A Cloud Recording client for one App ID.
///
/// Cloning is cheap and every clone shares the rate limiter, so all sessions of
/// a process stay under the App ID's quota together. Dropping a call's future
/// cancels it and leaves the client unchanged; a start or stop cut short that way
/// may still have reached the service, which is why the session driver
/// reconciles such calls with a query.
pub struct Client<T, C, E> {
    shared: Arc<Shared<T, C, E>>,
}

impl<T, C, E> Clone for Client<T, C, E> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T, C, E> std::fmt::Debug for Client<T, C, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("app_id", &self.shared.app_id)
            .field("hosts", &self.shared.plan.hosts().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

struct Shared<T, C, E> {
    app_id: AppId,
    transport: T,
    clock: C,
    events: E,
    retry: RetryPolicy,
    plan: FailoverPlan,
    gate: Arc<dyn RateGate>,
    jitter: JitterSource,
    timeouts: Timeouts,
}

impl<T, C> Client<T, C, crate::NoEvents>
where
    T: Transport,
    C: Clock,
{
    /// Starts building a client for `app_id` over `transport`, timed by `clock`.
    pub fn builder(app_id: AppId, transport: T, clock: C) -> ClientBuilder<T, C, crate::NoEvents> {
        ClientBuilder::new(app_id, transport, clock)
    }
}

impl<T, C, E> Client<T, C, E>
where
    T: Transport,
    C: Clock,
    E: EventSink,
{
    /// The App ID every call is made for.
    pub fn app_id(&self) -> &AppId {
        &self.shared.app_id
    }

    /// The clock the client waits with.
    pub fn clock(&self) -> &C {
        &self.shared.clock
    }

    /// The sink that receives the client's events.
    pub fn events(&self) -> &E {
        &self.shared.events
    }

    /// Reserves a resource id for one recording session in `mode` (the mode the
    /// start will use; it decides the channel name rules). Start must follow within
    /// 5 minutes, best within 2 seconds.
    pub async fn acquire(
        &self,
        mode: &Mode,
        request: &AcquireRequest,
    ) -> Result<AcquireResponse, CallError> {
        check(Endpoint::Acquire, request, mode)?;
        let about = About::Channel {
            mode,
            cname: &request.cname,
            uid: request.uid,
            resource_id: None,
        };
        let path = path::acquire(&self.shared.app_id);
        self.call(Endpoint::Acquire, path, Some(request), about)
            .await
    }

    /// Starts recording with `resource_id` in `mode`.
    ///
    /// A duplicate start (201, code 7) is not an error: it gives
    /// [`StartOutcome::AlreadyStarted`] with the running task when the answer
    /// named its sid. The outcome carries the [`TaskRef`] that query, update,
    /// update_layout and stop take.
    pub async fn start(
        &self,
        resource_id: &ResourceId,
        mode: &Mode,
        request: &StartRequest,
    ) -> Result<StartOutcome, CallError> {
        check(Endpoint::Start, request, mode)?;
        let about = About::Channel {
            mode,
            cname: &request.cname,
            uid: request.uid,
            resource_id: Some(resource_id),
        };
        let path = path::start(&self.shared.app_id, resource_id, mode);
        let answer = self
            .call::<StartResponse, _>(Endpoint::Start, path, Some(request), about)
            .await;
        StartOutcome::of(answer, resource_id, mode, &request.cname, request.uid)
    }

    /// Reads the task's status and files.
    ///
    /// A task that was not found gives [`CallError::Failed`] with
    /// [`Resolution::TreatAsGone`]: the session driver's recovery window decides
    /// whether it is failing over or gone.
    pub async fn query(&self, task: &TaskRef) -> Result<QueryResponse, CallError> {
        self.task_call::<QueryResponse, NoBody>(Endpoint::Query, task, None)
            .await
    }

    /// Changes subscriptions (individual, mix), web recording or RTMP settings
    /// (web), or rotates storage credentials. Wait for each answer before sending
    /// the next update of the same task.
    pub async fn update(
        &self,
        task: &TaskRef,
        request: &UpdateRequest,
    ) -> Result<UpdateResponse, CallError> {
        self.task_call(Endpoint::Update, task, Some(request)).await
    }

    /// Replaces the whole mix layout (mix mode only): fields left out return to
    /// their defaults.
    pub async fn update_layout(
        &self,
        task: &TaskRef,
        request: &UpdateLayoutRequest,
    ) -> Result<UpdateLayoutResponse, CallError> {
        self.task_call(Endpoint::UpdateLayout, task, Some(request))
            .await
    }

    /// Stops recording. A synchronous stop (the default) answers once the upload
    /// finished, within about 20 s; with `async_stop` it answers at once.
    ///
    /// Every documented way a stop can end is an [`Ok`]: with files, with no data
    /// (206, code 435), already exiting (400, code 49), upload pending (code 50),
    /// or gone (404).
    pub async fn stop(
        &self,
        task: &TaskRef,
        request: &StopRequest,
    ) -> Result<StopOutcome, CallError> {
        match self
            .task_call::<StopResponse, _>(Endpoint::Stop, task, Some(request))
            .await
        {
            Ok(response) => Ok(StopOutcome::Stopped {
                response: Box::new(response),
            }),
            Err(CallError::Failed { failure, attempts }) => match failure.resolution() {
                Resolution::SuccessNoData => Ok(StopOutcome::NoRecordedData),
                Resolution::AlreadyExiting => Ok(StopOutcome::AlreadyExiting),
                Resolution::UploadPending => Ok(StopOutcome::UploadPending),
                Resolution::TreatAsGone => Ok(StopOutcome::Gone),
                _ => Err(CallError::Failed { failure, attempts }),
            },
            Err(other) => Err(other),
        }
    }

    /// Lists the addresses the Notification Center Service (NCS) posts webhook
    /// notifications from (`GET /v1/ncs/ip`), for an allow-list. They change:
    /// fetch them at least daily. Retried and failed over like every call.
    pub async fn ncs_ips(&self) -> Result<NcsIpResponse, CallError> {
        self.call::<NcsIpResponse, NoBody>(
            Endpoint::NcsIp,
            path::NCS_IP.to_owned(),
            None,
            About::Account,
        )
        .await
    }

    /// A call on a running task: validated for the task's mode, sent to the
    /// task's path.
    async fn task_call<R, B>(
        &self,
        endpoint: Endpoint,
        task: &TaskRef,
        request: Option<&B>,
    ) -> Result<R, CallError>
    where
        R: ResponseBody,
        B: Validate + Unknown + Serialize,
    {
        if let Some(request) = request {
            check(endpoint, request, &task.mode)?;
        }
        let path = path::task(
            &self.shared.app_id,
            &task.resource_id,
            &task.sid,
            &task.mode,
            endpoint,
        );
        self.call(endpoint, path, request, About::Task(task)).await
    }

    /// One call with its retries and failovers.
    async fn call<R, B>(
        &self,
        endpoint: Endpoint,
        path: String,
        body: Option<&B>,
        about: About<'_>,
    ) -> Result<R, CallError>
    where
        R: ResponseBody,
        B: Serialize + ?Sized,
    {
        let body = match body {
            Some(body) => {
                Some(
                    serde_json::to_vec(body).map_err(|error| CallError::Unencodable {
                        endpoint,
                        detail: error.to_string(),
                    })?,
                )
            }
            None => None,
        };
        let span = tracing::debug_span!(
            "cloudrec.call",
            endpoint = endpoint.as_str(),
            mode = about.mode(),
            resource_id = about.resource_id(),
            sid = about.sid(),
            host = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        let subject = self
            .shared
            .events
            .enabled()
            .then(|| about.subject(&self.shared.app_id));
        self.attempts(endpoint, &path, body.as_deref(), subject.as_ref(), &span)
            .instrument(span.clone())
            .await
    }

    async fn attempts<R: ResponseBody>(
        &self,
        endpoint: Endpoint,
        path: &str,
        body: Option<&[u8]>,
        subject: Option<&Arc<Subject>>,
        span: &tracing::Span,
    ) -> Result<R, CallError> {
        let shared = &*self.shared;
        let started = shared.clock.now();
        let plan = &shared.plan;
        let mut step = 0;
        let mut attempt = 0_u32;
        // Which hosts were tried while no attempt has been answered yet.
        let mut unanswered: Option<Vec<String>> = Some(Vec::new());
        loop {
            attempt = attempt.saturating_add(1);
            let now = if attempt == 1 {
                started
            } else {
                shared.clock.now()
            };
            self.take_token(now).await;
            let host = plan.at(step);
            span.record("host", host);
            span.record("attempt", attempt);
            self.emit(subject, || EventKind::CallAttempt {
                endpoint,
                attempt,
                host: host.to_owned(),
            });
            let request = HttpRequest {
                endpoint,
                base_url: host.to_owned(),
                path: path.to_owned(),
                body: body.map(<[u8]>::to_vec),
                timeout: shared.timeouts.get(endpoint),
            };
            let failure = match shared.transport.send(request).await {
                Ok(response) => match decode::<R>(endpoint, &response) {
                    Ok(value) => {
                        tracing::debug!(status = response.status, "call succeeded");
                        return Ok(value);
                    }
                    Err(failure) => failure,
                },
                Err(error) => classify_transport(endpoint, &error),
            };
            unanswered = match (unanswered, failure.transport()) {
                (Some(mut hosts), Some(_)) => {
                    if !hosts.iter().any(|tried| tried == host) {
                        hosts.push(host.to_owned());
                    }
                    Some(hosts)
                }
                _ => None,
            };
            let final_failure =
                |failure: Failure, unanswered: &Option<Vec<String>>| match unanswered {
                    Some(hosts) => failure.with_unanswered_hosts(hosts.clone()),
                    None => failure,
                };
            tracing::debug!(
                status = failure.http_status(),
                code = failure.code(),
                resolution = failure.resolution().as_str(),
                "call failed"
            );
            self.emit(subject, || EventKind::CallFailed(failure.report()));
            let elapsed = shared.clock.now().saturating_since(started);
            let next = shared
                .retry
                .decide(&failure, attempt, elapsed, shared.jitter.next());
            let after = match next {
                Next::Retry { after } => after,
                Next::Failover { after } => {
                    let failed = failure
                        .transport()
                        .map_or(TransportErrorKind::Connect, |error| error.kind);
                    let Some(next) = plan.after(step, failed) else {
                        return Err(CallError::Failed {
                            failure: final_failure(failure, &unanswered),
                            attempts: attempt,
                        });
                    };
                    let (host, next_host) = (plan.at(step), plan.at(next));
                    if next_host != host {
                        self.emit(subject, || EventKind::CallFailover {
                            endpoint,
                            from: host.to_owned(),
                            to: next_host.to_owned(),
                        });
                    }
                    step = next;
                    after
                }
                Next::Reconcile => return Err(CallError::Ambiguous { failure }),
                Next::GiveUp(GiveUpReason::DeadlinePassed) => {
                    return Err(CallError::DeadlineExceeded {
                        last: final_failure(failure, &unanswered),
                        attempts: attempt,
                        elapsed,
                    });
                }
                _ => {
                    return Err(CallError::Failed {
                        failure: final_failure(failure, &unanswered),
                        attempts: attempt,
                    });
                }
            };
            self.emit(subject, || EventKind::CallRetry {
                endpoint,
                attempt: attempt.saturating_add(1),
                delay: after,
                resolution: failure.resolution(),
            });
            shared.clock.sleep(after).await;
        }
    }

    /// Waits until the App ID's rate limiter grants a request, asking it
    /// first at `now`.
    async fn take_token(&self, mut now: Timestamp) {
        loop {
            let permit = self.shared.gate.try_acquire(now).await;
            match permit {
                Permit::Granted => return,
                Permit::Wait(wait) => {
                    self.shared
                        .clock
                        .sleep(wait.max(Duration::from_millis(1)))
                        .await;
                    now = self.shared.clock.now();
                }
            }
        }
    }

    /// Sends an event about the call to `subject`; without one (the sink takes no
    /// events) nothing is built.
    fn emit(&self, subject: Option<&Arc<Subject>>, kind: impl FnOnce() -> EventKind) {
        if let Some(subject) = subject {
            self.shared.events.emit(Event {
                time: self.shared.clock.wall(),
                subject: Arc::clone(subject),
                kind: kind(),
            });
        }
    }
}
