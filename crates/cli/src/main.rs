//! `cloudrec`: drive Agora Cloud Recording sessions from the command line.
//!
//! `cloudrec demo` runs a full mix-mode session against an embedded emulator with
//! injected faults; `cloudrec record` runs the same session against the service
//! (or any base URL); the raw calls (`acquire`, `start`, `query`, `update`,
//! `update-layout`, `stop`) send one typed request each; `cloudrec explain` says
//! what any answer means and what to do; `cloudrec emulator` serves a local
//! emulator for tests.
//!
//! It never prints a secret: credentials come from flags or the environment and
//! only the emulator command echoes the secret it was given for itself. Every
//! failure ends with one line naming what is wrong and how to fix it, and an exit
//! code listed in `docs/cli.md`.

mod client_request;
mod connection;
mod demo;
mod emulator_cmd;
mod events_cmd;
mod events_out;
mod exit;
mod explain_cmd;
mod logging;
mod ncs_ips_cmd;
mod raw;
mod record;
mod recover_cmd;
mod report;
mod serve_cmd;
mod session;
mod stop_signal;
mod summary;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::{Exit, Fail};

const EXIT_CODES: &str = "\
Exit codes:
  0   done (record, demo: stopped, and the stop answer named the files)
  1   internal error
  2   wrong command line
  3   bad input: unreadable file, bad JSON, invalid field, plain http to a
      host that is not loopback (nothing sent)
  4   credentials missing or refused, the App ID is not enabled, or RabbitMQ
      refused the --amqp-url login
  5   no answer: host unreachable, connection refused, timeout
  6   the service answered with an error (the line names its resolution)
  10  record, demo: stopped, but no file was named (nothing recorded)
  11  record, demo: failed (never recorded, or could not be stopped);
      recover: a task may still record
  12  record, demo: lost (the task disappeared beyond the recovery window)
  13  record, demo --require-delivery: events not delivered to RabbitMQ
  130 record, demo: a second Ctrl-C or SIGTERM aborted the command";

/// Drive Agora Cloud Recording sessions: a demo, recordings, raw calls,
/// explanations of every answer, and a local emulator.
#[derive(Parser, Debug)]
#[command(name = "cloudrec", version, after_help = EXIT_CODES)]
struct Cli {
    /// Log diagnostics on stderr with the tracing spans of each session and call
    /// (-v debug, -vv trace); `RUST_LOG` sets the filter instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a full mix-mode session against an embedded emulator with injected faults.
    Demo(demo::DemoArgs),
    /// Record a channel: acquire, start, keep it healthy, stop on time or Ctrl-C.
    Record(record::RecordArgs),
    /// Stop the tasks a crashed `record --journal PATH` left recording.
    Recover(recover_cmd::RecoverArgs),
    /// Explain an answer of the service: what happened and what to do.
    Explain(explain_cmd::ExplainArgs),
    /// Serve a local Cloud Recording emulator until Ctrl-C.
    Emulator(emulator_cmd::EmulatorArgs),
    /// Read the events published to RabbitMQ.
    Events {
        #[command(subcommand)]
        command: events_cmd::EventsCommand,
    },
    /// Send one acquire request (JSON body from --body FILE or stdin).
    Acquire(raw::AcquireArgs),
    /// Send one start request.
    Start(raw::StartArgs),
    /// Send one query.
    Query(raw::QueryArgs),
    /// Send one update request.
    Update(raw::TaskBodyArgs),
    /// Send one updateLayout request (mix mode).
    UpdateLayout(raw::TaskBodyArgs),
    /// Send one stop request.
    Stop(raw::TaskBodyArgs),
    /// List the addresses Agora's notification servers (NCS) post from, for an allow-list.
    NcsIps(ncs_ips_cmd::NcsIpsArgs),
    /// Serve the recording API over HTTP until SIGTERM (one node, or a fleet on PostgreSQL).
    Serve(Box<serve_cmd::ServeArgs>),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                Exit::Usage.code()
            } else {
                Exit::Ok.code()
            });
        }
    };
    logging::init(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!(
                "{}",
                Fail::internal(format!("cannot start the async runtime: {error}"))
            );
            return ExitCode::from(Exit::Internal.code());
        }
    };
    let outcome = runtime.block_on(run(cli));
    // Background tasks (sinks, servers) must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match outcome {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(fail) => {
            eprintln!("{fail}");
            ExitCode::from(fail.exit.code())
        }
    }
}

async fn run(cli: Cli) -> Result<Exit, Fail> {
    match cli.command {
        Command::Demo(args) => {
            demo::run(&args, stop_signal::listen("stopping the recording")?).await
        }
        Command::Record(args) => {
            record::run(&args, stop_signal::listen("stopping the recording")?).await
        }
        Command::Recover(args) => recover_cmd::run(&args).await,
        Command::Explain(args) => explain_cmd::run(&args).map(|()| Exit::Ok),
        Command::Emulator(args) => emulator_cmd::run(&args).await,
        Command::Events { command } => events_cmd::run(&command).await,
        Command::Acquire(args) => raw::acquire(&args).await,
        Command::Start(args) => raw::start(&args).await,
        Command::Query(args) => raw::query(&args).await,
        Command::Update(args) => raw::update(&args).await,
        Command::UpdateLayout(args) => raw::update_layout(&args).await,
        Command::Stop(args) => raw::stop(&args).await,
        Command::NcsIps(args) => ncs_ips_cmd::run(&args).await,
        Command::Serve(args) => {
            serve_cmd::run(
                &args,
                stop_signal::listen("shutting down as --on-shutdown says")?,
            )
            .await
        }
    }
}
