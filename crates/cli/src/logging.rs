//! Diagnostic logs on stderr: `-v` (debug), `-vv` (trace) or `RUST_LOG`, with the
//! tracing spans of every session and call.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// The crates whose logs `-v` shows.
const CRATES: [&str; 7] = [
    "cloudrec_core",
    "cloudrec_client",
    "cloudrec_hyper",
    "cloudrec_events",
    "cloudrec_emulator",
    "cloudrec_types",
    "cloudrec",
];

/// Installs the stderr logger. `RUST_LOG` (the `tracing` filter syntax, e.g.
/// `cloudrec_client=debug`) wins over `-v`; with neither, nothing is logged.
/// Each span is logged when it closes, with its fields (a call's endpoint, host,
/// attempt, resource id and sid; a session's number, cname, mode and uid) and
/// how long it took; events inside a span name the spans they are in.
pub(crate) fn init(verbose: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
        _ if verbose == 0 => return,
        _ => {
            let level = if verbose == 1 { "debug" } else { "trace" };
            let directives: Vec<String> = CRATES
                .iter()
                .map(|name| format!("{name}={level}"))
                .collect();
            EnvFilter::new(format!("warn,{}", directives.join(",")))
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
