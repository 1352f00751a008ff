//! Credentials and the target host, from flags or the environment, and the client
//! built from them.

use std::time::Duration;

use clap::Args;
use cloudrec_client::TokioClock;
use std::sync::Arc;

use cloudrec_client::{Client, RateGate, Transport};
use cloudrec_core::{Backoff, EventSink, FailoverPlan, Host, Region, RetryPolicy, Suffix};
use cloudrec_hyper::HyperTransport;
use cloudrec_types::{AppId, Secret};

use crate::exit::{Exit, Fail};

/// The client every command uses: hyper over loopback or HTTPS, tokio time.
pub(crate) type CliClient<E> = Client<HyperTransport, TokioClock, E>;

/// Who to call the service as, and where.
#[derive(Args, Debug, Clone)]
pub(crate) struct Connection {
    /// The App ID of the project to record.
    #[arg(long, env = "CLOUDREC_APP_ID")]
    pub(crate) app_id: Option<String>,
    /// The RESTful API customer id from the Agora Console.
    #[arg(long, env = "CLOUDREC_CUSTOMER_ID", hide_env_values = true)]
    pub(crate) customer_id: Option<String>,
    /// The RESTful API customer secret from the Agora Console (prefer the
    /// environment variable: command lines are visible to other users).
    #[arg(long, env = "CLOUDREC_CUSTOMER_SECRET", hide_env_values = true)]
    pub(crate) customer_secret: Option<String>,
    /// Send every call to this base URL (an emulator, a proxy), e.g.
    /// http://127.0.0.1:8080, instead of the service's hosts.
    #[arg(
        long,
        env = "CLOUDREC_BASE_URL",
        hide_env_values = true,
        conflicts_with = "region"
    )]
    pub(crate) base_url: Option<String>,
    /// The service region to call first, e.g. eu-west-1 (default: the global host
    /// with failover to the other domain).
    #[arg(long, env = "CLOUDREC_REGION")]
    pub(crate) region: Option<String>,
}

/// Credentials that were all given.
pub(crate) struct Credentials {
    pub(crate) app_id: AppId,
    pub(crate) customer_id: String,
    pub(crate) customer_secret: Secret,
}

impl Credentials {
    /// The credentials every emulator accepts unless told otherwise.
    pub(crate) fn emulator() -> Result<Self, Fail> {
        Ok(Self {
            app_id: AppId::new(cloudrec_emulator::DEFAULT_APP_ID)
                .map_err(|error| Fail::internal(format!("emulator app id: {error}")))?,
            customer_id: cloudrec_emulator::DEFAULT_CUSTOMER_ID.to_owned(),
            customer_secret: Secret::new(cloudrec_emulator::DEFAULT_CUSTOMER_SECRET),
        })
    }
}

impl Connection {
    /// The credentials, or one line that names what is missing.
    pub(crate) fn credentials(&self) -> Result<Credentials, Fail> {
        let missing = |flag: &str, var: &str| {
            Fail::new(
                Exit::Credentials,
                format!(
                    "missing {flag}: pass {flag} or set {var} (the RESTful API credentials are in the Agora Console)"
                ),
            )
        };
        let app_id = self
            .app_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("--app-id", "CLOUDREC_APP_ID"))?;
        let customer_id = self
            .customer_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("--customer-id", "CLOUDREC_CUSTOMER_ID"))?;
        let customer_secret = self
            .customer_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("--customer-secret", "CLOUDREC_CUSTOMER_SECRET"))?;
        let app_id = AppId::new(app_id).map_err(|error| {
            Fail::new(
                Exit::Credentials,
                format!("invalid --app-id: {error}; copy the App ID from the Agora Console"),
            )
        })?;
        Ok(Credentials {
            app_id,
            customer_id: customer_id.to_owned(),
            customer_secret: Secret::new(customer_secret),
        })
    }

    /// Builds a client that reports to `events`.
    pub(crate) fn client<E: EventSink>(
        &self,
        events: E,
        retry: RetryPolicy,
    ) -> Result<CliClient<E>, Fail> {
        let credentials = self.credentials()?;
        let target = Target::of(self.base_url.as_deref(), self.region.as_deref())?;
        build_client(&credentials, &target, events, retry, None)
    }
}

/// Where calls go.
pub(crate) enum Target {
    /// One base URL.
    BaseUrl(String),
    /// A regional host first, then its failover order.
    Region(Region),
    /// The global host, then the other domain.
    Global,
}

impl Target {
    /// The target a base URL or a region name gives (the global host when neither).
    pub(crate) fn of(base_url: Option<&str>, region: Option<&str>) -> Result<Self, Fail> {
        Ok(match (base_url, region) {
            (Some(url), _) => Self::BaseUrl(url.to_owned()),
            (None, Some(region)) => Self::Region(Region::parse(region).ok_or_else(|| {
                Fail::input(format!(
                    "unknown --region {region:?}: use one of {}",
                    Region::ALL.map(Region::as_str).join(", ")
                ))
            })?),
            (None, None) => Self::Global,
        })
    }
}

/// A client over [`HyperTransport`] for `credentials` and `target`.
pub(crate) fn build_client<E: EventSink>(
    credentials: &Credentials,
    target: &Target,
    events: E,
    retry: RetryPolicy,
    jitter_seed: Option<u64>,
) -> Result<CliClient<E>, Fail> {
    let transport = hyper_transport(credentials, target)?;
    client_over(
        transport,
        credentials,
        target,
        events,
        retry,
        jitter_seed,
        None,
    )
}

/// The HTTPS (or loopback HTTP) transport for `credentials`, its base URL
/// checked when `target` names one.
pub(crate) fn hyper_transport(
    credentials: &Credentials,
    target: &Target,
) -> Result<HyperTransport, Fail> {
    let transport = HyperTransport::builder()
        .credentials(
            credentials.customer_id.clone(),
            credentials.customer_secret.clone(),
        )
        .build()
        .map_err(|error| Fail::new(Exit::Credentials, error.to_string()))?;
    if let Target::BaseUrl(url) = target {
        let invalid = |why: &str| {
            // The URL is echoed only when it cannot hold a password.
            let shown = if url.contains('@') {
                String::new()
            } else {
                format!(" {url:?}")
            };
            Fail::input(format!(
                "invalid --base-url{shown}: {why}; give a scheme and host such as http://127.0.0.1:8080 or https://api.sd-rtn.com"
            ))
        };
        FailoverPlan::fixed(url).map_err(|_| invalid("not a URL"))?;
        transport.check_base_url(url).map_err(invalid)?;
    }
    Ok(transport)
}

/// A client over `transport` for the App ID of `credentials`, calling `target`,
/// its requests granted by `gate` when given (by a bucket of its own otherwise).
pub(crate) fn client_over<T: Transport, E: EventSink>(
    transport: T,
    credentials: &Credentials,
    target: &Target,
    events: E,
    retry: RetryPolicy,
    jitter_seed: Option<u64>,
    gate: Option<Arc<dyn RateGate>>,
) -> Result<Client<T, TokioClock, E>, Fail> {
    let builder = Client::builder(credentials.app_id.clone(), transport, TokioClock::new())
        .retry_policy(retry)
        .events(events);
    let builder = match gate {
        Some(gate) => builder.rate_gate(gate),
        None => builder,
    };
    // A fixed seed repeats a run; the default differs in every process.
    let builder = match jitter_seed {
        Some(seed) => builder.jitter_seed(seed),
        None => builder,
    };
    let builder = match target {
        Target::BaseUrl(url) => builder.base_url(url.clone()),
        Target::Region(region) => builder.failover_plan(
            FailoverPlan::new(Host::regional(*region, Suffix::preferred_for(*region)))
                .with_home_region(*region),
        ),
        Target::Global => builder,
    };
    builder
        .build()
        .map_err(|error| Fail::internal(format!("client settings refused: {error}")))
}

/// A retry policy that waits `scale` times less than the documented one: the
/// demo runs against an emulator whose time runs faster.
pub(crate) fn quick_retry_policy(first: Duration) -> RetryPolicy {
    let steps = vec![first, first * 2, first * 3];
    let cap = first * 10;
    let policy = RetryPolicy::default();
    match Backoff::new(steps, cap) {
        Ok(backoff) => policy
            .with_server_error_backoff(backoff.clone())
            .with_failover_backoff(backoff.clone())
            .with_rate_limited_backoff(backoff)
            .with_retry_after_cap(cap),
        Err(_) => policy,
    }
}
