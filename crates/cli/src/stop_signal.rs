//! The signals that stop a recording: Ctrl-C (SIGINT) and SIGTERM, which
//! `docker stop`, systemd and Kubernetes send. A second one aborts.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::exit::{Exit, Fail};

/// A flag that turns `true` on the first SIGINT or SIGTERM, which is said on
/// stderr as `doing`; a second one exits with [`Exit::Aborted`] at once. The handlers are installed before this
/// returns, so an early signal still stops cleanly.
pub(crate) fn listen(doing: &'static str) -> Result<watch::Receiver<bool>, Fail> {
    let install = |kind: SignalKind, name: &str| {
        signal(kind).map_err(|error| Fail::internal(format!("cannot listen for {name}: {error}")))
    };
    let mut interrupt = install(SignalKind::interrupt(), "Ctrl-C")?;
    let mut terminate = install(SignalKind::terminate(), "SIGTERM")?;
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = interrupt.recv() => "Ctrl-C",
            _ = terminate.recv() => "SIGTERM",
        };
        eprintln!("{name}: {doing} (Ctrl-C or SIGTERM again to abort)");
        let _ = tx.send(true);
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        std::process::exit(i32::from(Exit::Aborted.code()));
    });
    Ok(rx)
}
