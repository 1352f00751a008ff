//! `cloudrec emulator`: a local Cloud Recording service for tests, until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use cloudrec_emulator::{
    DEFAULT_APP_ID, DEFAULT_CUSTOMER_ID, DEFAULT_CUSTOMER_SECRET, Emulator, EmulatorConfig,
    FaultRule,
};
use cloudrec_types::{AppId, Secret};

use crate::exit::{Exit, Fail};

/// Serves the emulator.
#[derive(Args, Debug)]
pub(crate) struct EmulatorArgs {
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// The App ID it accepts.
    #[arg(long, default_value = DEFAULT_APP_ID)]
    app_id: String,
    /// The customer id it accepts.
    #[arg(long, default_value = DEFAULT_CUSTOMER_ID)]
    customer_id: String,
    /// The customer secret it accepts (printed at start: choose a throwaway one).
    #[arg(long)]
    customer_secret: Option<String>,
    /// How many times faster than real time emulator time runs.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// A JSON file with fault rules (one rule or an array) to install at start.
    #[arg(long)]
    faults: Option<String>,
    /// Answer 400 code 2 naming any request field the service does not document
    /// (catches misspelt keys, which the service silently ignores).
    #[arg(long)]
    strict_fields: bool,
    /// Seconds a client may take to send a request's headers once it began.
    #[arg(long, default_value_t = 10.0)]
    header_read_timeout: f64,
    /// Seconds a connection may stay open with no request in progress.
    #[arg(long, default_value_t = 60.0)]
    idle_timeout: f64,
    /// The most connections served at once; one more is answered 503 and closed.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// The most bytes the request log holds (oldest entries dropped first).
    #[arg(long, default_value_t = 8 << 20)]
    request_log_bytes: usize,
    /// Requests per second the App ID may send before 429 (the service's default is 10; 0: no limit).
    #[arg(long, default_value_t = 10)]
    rate_limit: u32,
    /// Tasks the App ID may run at once before acquire answers 406 (the service's default is 50; 0: no limit).
    #[arg(long, default_value_t = 50)]
    task_limit: usize,
    /// POST signed NCS notices about the tasks to this http:// URL (needs --ncs-secret).
    #[arg(long)]
    ncs_url: Option<String>,
    /// The secret the NCS notices are signed with (never printed).
    #[arg(long, env = "CLOUDREC_NCS_SECRET", hide_env_values = true)]
    ncs_secret: Option<String>,
}

/// The NCS URL as printed: without user info, query or fragment, which may hold
/// credentials.
fn shown_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}{path}")
}

/// A positive number of seconds given to `flag`, or the error naming it.
fn seconds(flag: &str, value: f64) -> Result<Duration, Fail> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| {
            Fail::input(format!(
                "invalid {flag} {value}: give a number of seconds above 0"
            ))
        })
}

pub(crate) async fn run(args: &EmulatorArgs) -> Result<Exit, Fail> {
    let addr: SocketAddr = args.listen.parse().map_err(|_| {
        Fail::input(format!(
            "invalid --listen {:?}: give an address and port such as 127.0.0.1:8080",
            args.listen
        ))
    })?;
    let app_id = AppId::new(args.app_id.as_str())
        .map_err(|error| Fail::input(format!("invalid --app-id: {error}")))?;
    if args.customer_id.is_empty() || args.customer_id.contains(':') {
        return Err(Fail::input(
            "invalid --customer-id: give a non-empty id without ':'",
        ));
    }
    let secret = args
        .customer_secret
        .clone()
        .unwrap_or_else(|| DEFAULT_CUSTOMER_SECRET.to_owned());
    if secret.is_empty() {
        return Err(Fail::input(
            "invalid --customer-secret: give a non-empty secret",
        ));
    }
    let faults = match &args.faults {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| Fail::input(format!("cannot read --faults {path}: {error}")))?;
            FaultRule::list_from_json(&text)
                .map_err(|error| Fail::input(format!("invalid --faults {path}: {error}")))?
        }
        None => Vec::new(),
    };
    let header_read_timeout = seconds("--header-read-timeout", args.header_read_timeout)?;
    let idle_timeout = seconds("--idle-timeout", args.idle_timeout)?;
    if args.max_connections == 0 {
        return Err(Fail::input("invalid --max-connections 0: give at least 1"));
    }
    let (ncs_url, ncs_secret) = match (&args.ncs_url, &args.ncs_secret) {
        (None, None) => (None, None),
        (Some(_), None) => {
            return Err(Fail::input(
                "--ncs-url needs --ncs-secret (or CLOUDREC_NCS_SECRET): notices are signed with it",
            ));
        }
        (None, Some(_)) => {
            return Err(Fail::input(
                "--ncs-secret needs --ncs-url: the http:// URL to send the notices to",
            ));
        }
        (Some(_), Some(secret)) if secret.is_empty() => {
            return Err(Fail::input("invalid --ncs-secret: give a non-empty secret"));
        }
        (Some(url), Some(secret)) => {
            let check = EmulatorConfig {
                ncs_url: Some(url.clone()),
                ncs_secret: Some(Secret::new(secret.clone())),
                ..EmulatorConfig::default()
            };
            check
                .validate()
                .map_err(|error| Fail::input(format!("invalid --ncs-url: {error}")))?;
            (Some(url.clone()), Some(Secret::new(secret.clone())))
        }
    };
    let ncs_line = ncs_url.as_deref().map_or_else(
        || "off".to_owned(),
        |url| {
            format!(
                "on, POST to {} (signed; the secret is not shown)",
                shown_url(url)
            )
        },
    );
    let config = EmulatorConfig {
        app_id,
        ncs_url,
        ncs_secret,
        customer_id: args.customer_id.clone(),
        customer_secret: Secret::new(secret.clone()),
        time_scale: args.time_scale,
        rate_limit_per_sec: args.rate_limit,
        concurrency_limit: args.task_limit,
        faults,
        strict_fields: args.strict_fields,
        header_read_timeout,
        idle_timeout,
        max_connections: args.max_connections,
        request_log_max_bytes: args.request_log_bytes,
        ..EmulatorConfig::default()
    };
    let fault_count = config.faults.len();
    let emulator = Emulator::start(config, addr).map_err(|error| {
        Fail::new(
            Exit::Input,
            format!("the emulator did not start on {addr}: {error}; pick another --listen address"),
        )
    })?;
    // Listen for Ctrl-C before saying so: a signal right after the banner must
    // stop the server cleanly, not kill the process.
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let _ = futures_util::poll!(&mut ctrl_c);
    let base_url = emulator.base_url();
    println!(
        "cloudrec emulator listening at {base_url} (time x{})",
        args.time_scale
    );
    println!("  app id:          {}", args.app_id);
    println!("  customer id:     {}", args.customer_id);
    // The secret is the one chosen for this local emulator (or the documented
    // default), so echoing it here reveals nothing.
    println!("  customer secret: {secret}");
    println!("  fault rules:     {fault_count}");
    println!("  strict fields:   {}", args.strict_fields);
    println!("  ncs notices:     {ncs_line}");
    println!(
        "  admin api:       {base_url}/_emulator/tasks, /_emulator/faults, /_emulator/requests, /_emulator/connections, /_emulator/ncs"
    );
    println!(
        "use it with: export CLOUDREC_BASE_URL={base_url} CLOUDREC_APP_ID={} CLOUDREC_CUSTOMER_ID={} CLOUDREC_CUSTOMER_SECRET=...",
        args.app_id, args.customer_id
    );
    println!("Ctrl-C stops it.");
    let _ = ctrl_c.await;
    emulator.shutdown().await;
    println!("emulator stopped");
    Ok(Exit::Ok)
}
