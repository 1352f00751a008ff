//! `cloudrec serve`: the recording service over HTTP, on one node (SQLite in
//! the state directory) or as a member of a fleet (PostgreSQL).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use cloudrec_client::{
    FileJournal, LeakPolicy, LocalGate, RateGate, Recorder, RecorderConfig, TokioSpawn,
};
use cloudrec_core::{RateLimiter, RetryPolicy};
use cloudrec_emulator::{Emulator, EmulatorConfig};
use cloudrec_events::DEFAULT_EXCHANGE;
use cloudrec_fleet::{
    CommandListener, FleetGate, PgStore, RedisBudget, ReleasedListener, SessionStore,
    SoleWriterCache, StoreError,
};
use cloudrec_serve::api::Api;
use cloudrec_serve::{
    App, AppEntry, ConfigFile, MeteredGate, Metrics, MetricsSink, Ncs, NcsSecret, OnShutdown,
    Sessions, SessionsConfig, Timed,
};
use cloudrec_types::{AppId, Secret};

use crate::connection::{Credentials, Target, client_over, hyper_transport};
use crate::events_out::{AmqpContentMode, EventsOut};
use crate::exit::{Exit, Fail};
use crate::session::{StopModeFlag, Timing};

/// `--on-shutdown`: what SIGTERM and SIGINT do to the recordings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ShutdownFlag {
    /// Release the leases without stopping anything; another worker takes over.
    Handoff,
    /// Stop every recording this process supervises.
    Stop,
}

/// `cloudrec serve`.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// The address the API listens on.
    #[arg(long, default_value = "127.0.0.1:8480")]
    listen: SocketAddr,
    /// A TOML file listing App IDs (`[[app]]` with id, customer_id,
    /// customer_secret_env, rate, task_limit, region or base_url, ncs_secret_env).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The PostgreSQL URL of the fleet's session store; absent: SQLite in --state-dir.
    #[arg(long, env = "CLOUDREC_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Where a single node keeps its SQLite store and the journals.
    #[arg(long, default_value = "./cloudrec-state")]
    state_dir: PathBuf,
    /// The Redis URL of the fleet's shared request budget; absent: an in-process budget.
    #[arg(long, env = "CLOUDREC_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// The prefix of the shared budget's Redis keys (`PREFIX:budget:APP_ID`):
    /// fleets that share one Redis use different prefixes.
    #[arg(long, default_value = "cloudrec", requires = "redis_url")]
    redis_prefix: String,
    /// Publish every event to RabbitMQ at this AMQP URL, as `record` does.
    #[arg(long, env = "CLOUDREC_AMQP_URL", hide_env_values = true)]
    amqp_url: Option<String>,
    /// The exchange the events are published to (a durable topic exchange).
    #[arg(long, default_value = DEFAULT_EXCHANGE, requires = "amqp_url")]
    amqp_exchange: String,
    /// How each event is laid out in its AMQP message.
    #[arg(long, value_enum, default_value = "structured", requires = "amqp_url")]
    amqp_content_mode: AmqpContentMode,
    /// Send every call to this base URL (an emulator, a proxy) instead of the service's hosts.
    #[arg(long, env = "CLOUDREC_BASE_URL", hide_env_values = true)]
    base_url: Option<String>,
    /// The service region to call first, e.g. eu-west-1.
    #[arg(long, env = "CLOUDREC_REGION", conflicts_with = "base_url")]
    region: Option<String>,
    /// This worker's name in the store (default: the host name).
    #[arg(long)]
    worker_id: Option<String>,
    /// How long a worker owns a recording without renewing (renewed every third of it).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "15s")]
    lease: Duration,
    /// What SIGTERM and SIGINT do: hand the recordings over, or stop them
    /// (default: handoff in a fleet, stop on a single node).
    #[arg(long, value_enum)]
    on_shutdown: Option<ShutdownFlag>,
    /// The bearer token every route but /healthz needs; required when --listen
    /// is not a loopback address.
    #[arg(long, env = "CLOUDREC_API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    /// Start an embedded emulator and record on it (for trying the service out).
    #[arg(long, conflicts_with_all = ["base_url", "region", "config"])]
    emulator: bool,
    /// Time between two queries while recording.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
    poll_interval: Duration,
    /// How long a task may answer 404 (failing over) before it is declared lost.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "90s")]
    recovery_window: Duration,
    /// How a recording is stopped: `sync` (stop answers once the files are
    /// uploaded) or `async` (stop answers at once; the session queries until the
    /// upload is done).
    #[arg(long, value_enum, default_value = "sync")]
    stop_mode: StopModeFlag,
    /// The App ID (one App ID without --config).
    #[arg(long, env = "CLOUDREC_APP_ID")]
    app_id: Option<String>,
    /// The RESTful API customer id.
    #[arg(long, env = "CLOUDREC_CUSTOMER_ID", hide_env_values = true)]
    customer_id: Option<String>,
    /// The secret of the Agora Console's NCS settings: POST /v1/ncs takes the
    /// notifications signed with it (per App ID: ncs_secret_env in --config).
    /// Without any, /v1/ncs answers 404. Prefer the environment variable.
    #[arg(long, env = "CLOUDREC_NCS_SECRET", hide_env_values = true, value_parser = secret_arg)]
    ncs_secret: Option<Secret>,
}

/// A secret flag's value, kept out of `Debug`.
fn secret_arg(value: &str) -> Result<Secret, String> {
    Ok(Secret::new(value))
}

/// Requests per second of an App ID whose config gives no rate (the service's default).
const DEFAULT_RATE: u32 = 10;

/// The environment variable holding the customer secret of the one App ID.
const SECRET_ENV: &str = "CLOUDREC_CUSTOMER_SECRET";

/// The key that seals start bodies in the store.
const STORE_KEY_ENV: &str = "CLOUDREC_STORE_KEY";

fn env_secret(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "cloudrec".to_owned())
}

/// One App ID's credentials and settings, resolved.
struct AppSettings {
    credentials: Credentials,
    target: Target,
    rate: Option<u32>,
    task_limit: Option<usize>,
    ncs_secret: Option<Secret>,
}

fn apps(args: &ServeArgs, emulator: Option<&Emulator>) -> Result<Vec<AppSettings>, Fail> {
    if let Some(emulator) = emulator {
        return Ok(vec![AppSettings {
            credentials: Credentials::emulator()?,
            target: Target::BaseUrl(emulator.base_url()),
            rate: None,
            task_limit: None,
            ncs_secret: None,
        }]);
    }
    let Some(path) = &args.config else {
        let missing = |what: &str, var: &str| {
            Fail::new(
                Exit::Credentials,
                format!(
                    "missing {what}: set {var}, or list App IDs in --config (the RESTful API credentials are in the Agora Console)"
                ),
            )
        };
        let app_id = args
            .app_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("the App ID", "CLOUDREC_APP_ID"))?;
        let customer_id = args
            .customer_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("the customer id", "CLOUDREC_CUSTOMER_ID"))?;
        let secret =
            env_secret(SECRET_ENV).ok_or_else(|| missing("the customer secret", SECRET_ENV))?;
        return Ok(vec![AppSettings {
            credentials: Credentials {
                app_id: AppId::new(app_id).map_err(|error| {
                    Fail::new(
                        Exit::Credentials,
                        format!("invalid CLOUDREC_APP_ID: {error}"),
                    )
                })?,
                customer_id: customer_id.to_owned(),
                customer_secret: Secret::new(secret),
            },
            target: Target::of(args.base_url.as_deref(), args.region.as_deref())?,
            rate: None,
            task_limit: None,
            ncs_secret: None,
        }]);
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|error| Fail::input(format!("cannot read --config {shown}: {error}")))?;
    let file = ConfigFile::parse(&text, &shown).map_err(|error| Fail::input(error.to_string()))?;
    if file.app.is_empty() {
        return Err(Fail::input(format!(
            "invalid config {shown}: it lists no [[app]]: add one with id, customer_id and customer_secret_env"
        )));
    }
    file.app
        .iter()
        .enumerate()
        .map(|(index, entry)| app_of(entry, index, &shown, args))
        .collect()
}

fn app_of(
    entry: &AppEntry,
    index: usize,
    shown: &str,
    args: &ServeArgs,
) -> Result<AppSettings, Fail> {
    let at = |key: &str, why: String| {
        Fail::input(format!(
            "invalid config {shown}, key `app[{index}].{key}`: {why}"
        ))
    };
    let app_id = AppId::new(entry.id.as_str()).map_err(|error| at("id", error.to_string()))?;
    let secret = env_secret(&entry.customer_secret_env).ok_or_else(|| {
        at(
            "customer_secret_env",
            format!(
                "the environment variable {} is not set",
                entry.customer_secret_env
            ),
        )
    })?;
    let ncs_secret = match &entry.ncs_secret_env {
        None => None,
        Some(name) => Some(Secret::new(env_secret(name).ok_or_else(|| {
            at(
                "ncs_secret_env",
                format!("the environment variable {name} is not set"),
            )
        })?)),
    };
    let base_url = entry.base_url.as_deref().or(args.base_url.as_deref());
    let region = entry.region.as_deref().or(args.region.as_deref());
    Ok(AppSettings {
        credentials: Credentials {
            app_id,
            customer_id: entry.customer_id.clone(),
            customer_secret: Secret::new(secret),
        },
        target: Target::of(base_url, region).map_err(|fail| at("region", fail.message))?,
        rate: entry.rate,
        task_limit: entry.task_limit,
        ncs_secret,
    })
}

pub(crate) async fn run(
    args: &ServeArgs,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Exit, Fail> {
    for (name, value) in [
        ("--poll-interval", args.poll_interval),
        ("--recovery-window", args.recovery_window),
        ("--lease", args.lease),
    ] {
        if value.is_zero() {
            return Err(Fail::input(format!(
                "invalid {name}: give a positive duration such as 30s"
            )));
        }
    }
    let token = args
        .api_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(Secret::new);
    if token.is_none() && !args.listen.ip().is_loopback() {
        return Err(Fail::input(format!(
            "--listen {} is not a loopback address: set --api-token or CLOUDREC_API_TOKEN so that only your backend can start recordings",
            args.listen
        )));
    }
    let store_key = match env_secret(STORE_KEY_ENV) {
        Some(text) => Some(
            cloudrec_fleet::StoreKey::from_base64(&text)
                .map_err(|error| Fail::input(error.to_string()))?,
        ),
        None => None,
    };
    let emulator = if args.emulator {
        let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
        let emulator = Emulator::start(EmulatorConfig::default(), addr).map_err(|error| {
            Fail::internal(format!("the embedded emulator did not start: {error}"))
        })?;
        eprintln!(
            "cloudrec serve: the embedded emulator listens at {}",
            emulator.base_url()
        );
        Some(emulator)
    } else {
        None
    };
    let settings = apps(args, emulator.as_ref())?;
    std::fs::create_dir_all(&args.state_dir).map_err(|error| {
        Fail::input(format!(
            "cannot create --state-dir {}: {error}",
            args.state_dir.display()
        ))
    })?;
    let (store, postgres) = open_store(args).await?;
    let fleet = args.database_url.is_some();
    let on_shutdown = match args.on_shutdown {
        Some(ShutdownFlag::Handoff) => OnShutdown::Handoff,
        Some(ShutdownFlag::Stop) => OnShutdown::Stop,
        None if fleet => OnShutdown::Handoff,
        None => OnShutdown::Stop,
    };
    let events_out = EventsOut::start(
        args.amqp_url.as_deref(),
        &args.amqp_exchange,
        args.amqp_content_mode,
    )?;
    let metrics = Metrics::new();
    let timing =
        Timing::with(args.poll_interval, args.recovery_window).with_stop_mode(args.stop_mode);
    let mut ncs_secrets: Vec<NcsSecret> = args
        .ncs_secret
        .as_ref()
        .filter(|secret| !secret.is_empty())
        .map(|secret| NcsSecret {
            app_id: None,
            secret: secret.clone(),
        })
        .into_iter()
        .collect();
    let mut apps = Vec::new();
    for app in settings {
        if let Some(secret) = &app.ncs_secret {
            ncs_secrets.push(NcsSecret {
                app_id: Some(app.credentials.app_id.clone()),
                secret: secret.clone(),
            });
        }
        let transport = Timed::new(
            hyper_transport(&app.credentials, &app.target)?,
            metrics.clone(),
        );
        let sink = MetricsSink::new(metrics.clone(), events_out.pipeline());
        let rate = app.rate.unwrap_or(DEFAULT_RATE);
        let (gate, shared_budget): (Arc<dyn RateGate>, _) = match &args.redis_url {
            Some(url) => {
                let budget = RedisBudget::connect(
                    url,
                    &args.redis_prefix,
                    app.credentials.app_id.as_str(),
                    rate,
                )
                .await
                .map_err(|error| Fail::input(format!("--redis-url: {error}")))?;
                let gate = Arc::new(FleetGate::new(budget));
                (gate.clone(), Some(gate))
            }
            None => {
                let limiter = RateLimiter::new(rate, 1)
                    .map_err(|error| Fail::input(format!("invalid rate: {error}")))?;
                (Arc::new(LocalGate::new(limiter)), None)
            }
        };
        let gate: Arc<dyn RateGate> = Arc::new(MeteredGate::new(gate, metrics.clone()));
        let client = client_over(
            transport,
            &app.credentials,
            &app.target,
            sink,
            RetryPolicy::default(),
            None,
            Some(gate),
        )?;
        let config = RecorderConfig::default()
            .with_session(timing.session_config()?)
            .with_leak_policy(LeakPolicy::Warn)
            .with_task_limit(
                app.task_limit
                    .or(Some(cloudrec_core::TaskLimit::DEFAULT_MAX)),
            )
            .map_err(|error| Fail::input(format!("invalid task limit: {error}")))?;
        let journal_path = args
            .state_dir
            .join(format!("journal-{}.jsonl", app.credentials.app_id.as_str()));
        let journal = FileJournal::open(&journal_path).map_err(|error| {
            Fail::input(format!(
                "cannot use the journal {}: {error}",
                journal_path.display()
            ))
        })?;
        let recorder =
            Recorder::new(client, Arc::new(TokioSpawn), config).with_journal(Arc::new(journal));
        apps.push(App {
            id: app.credentials.app_id.clone(),
            recorder,
            shared_budget,
        });
    }
    let worker = args.worker_id.clone().unwrap_or_else(host_name);
    let sessions = Sessions::new(
        store,
        apps,
        SessionsConfig {
            worker: worker.clone(),
            lease: args.lease,
            store_key,
        },
        metrics.clone(),
    );
    if let Some(postgres) = postgres {
        let listener = postgres
            .listen_commands()
            .await
            .map_err(|error| Fail::input(format!("cannot listen for commands: {error}")))?;
        tokio::spawn(wake_on_commands(listener, Arc::clone(&sessions)));
        let releases = postgres
            .listen()
            .await
            .map_err(|error| Fail::input(format!("cannot listen for handoffs: {error}")))?;
        tokio::spawn(claim_on_handoff(releases, Arc::clone(&sessions)));
    }
    let ncs = (!ncs_secrets.is_empty()).then(|| {
        Ncs::start(
            ncs_secrets,
            Arc::clone(&sessions),
            Box::new(MetricsSink::new(metrics.clone(), events_out.pipeline())),
            metrics.clone(),
        )
    });
    let ncs_enabled = ncs.is_some();
    let api = Api {
        sessions,
        metrics,
        broker: events_out.broker(),
        ncs,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|error| Fail::input(format!("cannot listen on {}: {error}", args.listen)))?;
    let local = listener
        .local_addr()
        .map_err(|error| Fail::internal(error.to_string()))?;
    eprintln!(
        "cloudrec serve: worker {worker} listens on http://{local} ({}; on shutdown: {}; NCS notifications: {})",
        if fleet { "fleet store" } else { "single node" },
        match on_shutdown {
            OnShutdown::Handoff => "hand over",
            OnShutdown::Stop => "stop every recording",
        },
        if ncs_enabled { "POST /v1/ncs" } else { "off" },
    );
    let shutdown = async move {
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    };
    let ended = cloudrec_serve::run(listener, api, token, args.lease, on_shutdown, shutdown)
        .await
        .map_err(|error| Fail::input(error.to_string()))?;
    let _ = events_out.finish().await;
    match on_shutdown {
        OnShutdown::Handoff => eprintln!(
            "cloudrec serve: handed {} recording(s) over",
            ended.released
        ),
        OnShutdown::Stop if ended.not_stopped > 0 => eprintln!(
            "cloudrec serve: {} recording(s) were still stopping at the deadline; the store keeps them for the next start",
            ended.not_stopped
        ),
        OnShutdown::Stop => eprintln!("cloudrec serve: every recording stopped"),
    }
    drop(emulator);
    Ok(Exit::Ok)
}

/// Opens the session store; with PostgreSQL, also answers the store itself,
/// whose notifications wake this worker for the commands left for it.
async fn open_store(args: &ServeArgs) -> Result<(Arc<dyn SessionStore>, Option<PgStore>), Fail> {
    let failed = |error: StoreError| Fail::input(format!("cannot open the session store: {error}"));
    let postgres = args.database_url.as_deref().filter(|url| {
        url.split_once("://").is_some_and(|(scheme, _)| {
            scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql")
        })
    });
    if let Some(url) = postgres {
        let store = PgStore::connect(url).await.map_err(failed)?;
        return Ok((Arc::new(store.clone()), Some(store)));
    }
    let store = cloudrec_fleet::open_store(args.database_url.as_deref(), &args.state_dir)
        .await
        .map_err(failed)?;
    if args.database_url.is_some() {
        return Ok((store, None));
    }
    // A single node's SQLite file has one writer, this process (its journals
    // are locked to it): its rows can be read from memory.
    Ok((Arc::new(SoleWriterCache::new(store)), None))
}

/// Tells the worker each time another one hands its recordings over, so that
/// it claims them at once. Notifications lost while the connection is down
/// are made up for by the lease timer.
async fn claim_on_handoff(mut listener: ReleasedListener, sessions: Arc<Sessions>) {
    loop {
        match listener.recv().await {
            Ok(released) => sessions.releases_arrived(&released.worker),
            Err(error) => {
                eprintln!(
                    "cloudrec serve: the store's handoff notifications stopped ({error}): handed-over recordings are claimed on the lease timer"
                );
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

/// Wakes the worker's command applier on every command any worker sends (the
/// applier finds whether it is for one of its recordings). Notifications
/// lost while the connection is down are made up for by the applier's timer.
async fn wake_on_commands(mut listener: CommandListener, sessions: Arc<Sessions>) {
    loop {
        match listener.recv().await {
            Ok(_) => sessions.commands_arrived(),
            Err(error) => {
                eprintln!(
                    "cloudrec serve: the store's command notifications stopped ({error}): commands are looked for on a timer until they come back"
                );
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                sessions.commands_arrived();
            }
        }
    }
}
