//! The raw calls: one typed request each, the typed result or the classified
//! error with its resolution.

use std::io::{IsTerminal, Read};

use clap::Args;
use cloudrec_client::{StartOutcome, StopOutcome};
use cloudrec_core::{NoEvents, RetryPolicy, TaskRef};
use cloudrec_types::{
    AcquireRequest, Cname, Mode, ResourceId, Sid, StartRequest, StopRequest, Uid, Unknown,
    UpdateLayoutRequest, UpdateRequest,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::connection::{CliClient, Connection};
use crate::exit::{Exit, Fail, call_fail};

/// `acquire`.
#[derive(Args, Debug)]
pub(crate) struct AcquireArgs {
    #[command(flatten)]
    connection: Connection,
    /// The recording mode the start will use: individual, mix or web.
    #[arg(long, default_value = "mix")]
    mode: String,
    /// The JSON body ({"cname", "uid", "clientRequest"}) in this file; `-` or
    /// absent reads stdin.
    #[arg(long)]
    body: Option<String>,
}

/// `start`.
#[derive(Args, Debug)]
pub(crate) struct StartArgs {
    #[command(flatten)]
    connection: Connection,
    /// The resource id from acquire (it may start with `-`).
    #[arg(long, allow_hyphen_values = true)]
    resource_id: String,
    /// The recording mode: individual, mix or web.
    #[arg(long, default_value = "mix")]
    mode: String,
    /// The JSON body in this file; `-` or absent reads stdin.
    #[arg(long)]
    body: Option<String>,
}

/// `query`.
#[derive(Args, Debug)]
pub(crate) struct QueryArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    task: TaskArgs,
    /// The channel name (labels events only).
    #[arg(long, default_value = "query")]
    cname: String,
    /// The recorder's uid (labels events only).
    #[arg(long, default_value_t = 1)]
    uid: u32,
}

/// The task a call is about.
#[derive(Args, Debug)]
pub(crate) struct TaskArgs {
    /// The resource id from acquire (it may start with `-`).
    #[arg(long, allow_hyphen_values = true)]
    resource_id: String,
    /// The session id from start (it may start with `-`).
    #[arg(long, allow_hyphen_values = true)]
    sid: String,
    /// The recording mode: individual, mix or web.
    #[arg(long, default_value = "mix")]
    mode: String,
}

/// `update`, `update-layout` and `stop`.
#[derive(Args, Debug)]
pub(crate) struct TaskBodyArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    task: TaskArgs,
    /// The JSON body in this file; `-` or absent reads stdin.
    #[arg(long)]
    body: Option<String>,
}

pub(crate) async fn acquire(args: &AcquireArgs) -> Result<Exit, Fail> {
    let mode = parse_mode(&args.mode)?;
    let request: AcquireRequest = read_body(args.body.as_deref(), "acquire")?;
    let client = client(&args.connection)?;
    let response = client
        .acquire(&mode, &request)
        .await
        .map_err(|e| call_fail(&e))?;
    print_json(&response)
}

pub(crate) async fn start(args: &StartArgs) -> Result<Exit, Fail> {
    let mode = parse_mode(&args.mode)?;
    let resource_id = ResourceId::new(args.resource_id.as_str())
        .map_err(|error| Fail::input(format!("invalid --resource-id: {error}")))?;
    let request: StartRequest = read_body(args.body.as_deref(), "start")?;
    let client = client(&args.connection)?;
    let outcome = client
        .start(&resource_id, &mode, &request)
        .await
        .map_err(|e| call_fail(&e))?;
    let value = match outcome {
        StartOutcome::Started { task } => {
            json!({"outcome": "started", "resourceId": resource_id, "sid": task.sid})
        }
        StartOutcome::AlreadyStarted { task } => {
            json!({"outcome": "already_started", "resourceId": resource_id, "sid": task.map(|task| task.sid)})
        }
    };
    print_json(&value)
}

pub(crate) async fn query(args: &QueryArgs) -> Result<Exit, Fail> {
    let cname = Cname::new(args.cname.as_str())
        .map_err(|error| Fail::input(format!("invalid --cname: {error}")))?;
    let uid = Uid::new(args.uid).map_err(|error| Fail::input(format!("invalid --uid: {error}")))?;
    let task = task_ref(&args.task, cname, uid)?;
    let client = client(&args.connection)?;
    let response = client.query(&task).await.map_err(|e| call_fail(&e))?;
    print_json(&response)
}

pub(crate) async fn update(args: &TaskBodyArgs) -> Result<Exit, Fail> {
    let request: UpdateRequest = read_body(args.body.as_deref(), "update")?;
    let task = task_ref(&args.task, request.cname.clone(), request.uid)?;
    let client = client(&args.connection)?;
    let response = client
        .update(&task, &request)
        .await
        .map_err(|e| call_fail(&e))?;
    print_json(&response)
}

pub(crate) async fn update_layout(args: &TaskBodyArgs) -> Result<Exit, Fail> {
    let request: UpdateLayoutRequest = read_body(args.body.as_deref(), "updateLayout")?;
    let task = task_ref(&args.task, request.cname.clone(), request.uid)?;
    let client = client(&args.connection)?;
    let response = client
        .update_layout(&task, &request)
        .await
        .map_err(|e| call_fail(&e))?;
    print_json(&response)
}

pub(crate) async fn stop(args: &TaskBodyArgs) -> Result<Exit, Fail> {
    let request: StopRequest = read_body(args.body.as_deref(), "stop")?;
    let task = task_ref(&args.task, request.cname.clone(), request.uid)?;
    let client = client(&args.connection)?;
    let outcome = client
        .stop(&task, &request)
        .await
        .map_err(|e| call_fail(&e))?;
    let value = match outcome {
        StopOutcome::Stopped { response } => json!({"outcome": "stopped", "response": response}),
        StopOutcome::NoRecordedData => json!({"outcome": "no_recorded_data"}),
        StopOutcome::AlreadyExiting => json!({"outcome": "already_exiting"}),
        StopOutcome::UploadPending => json!({"outcome": "upload_pending"}),
        StopOutcome::Gone => json!({"outcome": "gone"}),
    };
    print_json(&value)
}

fn client(connection: &Connection) -> Result<CliClient<NoEvents>, Fail> {
    connection.client(NoEvents, RetryPolicy::default())
}

pub(crate) fn parse_mode(text: &str) -> Result<Mode, Fail> {
    match text {
        "individual" | "mix" | "web" => Ok(Mode::parse(text)),
        other => Err(Fail::input(format!(
            "invalid --mode {other:?}: use individual, mix or web"
        ))),
    }
}

fn task_ref(args: &TaskArgs, cname: Cname, uid: Uid) -> Result<TaskRef, Fail> {
    Ok(TaskRef {
        resource_id: ResourceId::new(args.resource_id.as_str())
            .map_err(|error| Fail::input(format!("invalid --resource-id: {error}")))?,
        sid: Sid::new(args.sid.as_str())
            .map_err(|error| Fail::input(format!("invalid --sid: {error}")))?,
        mode: parse_mode(&args.mode)?,
        cname,
        uid,
    })
}

/// Reads a JSON body from `path` (`-` or `None`: stdin) and decodes it.
pub(crate) fn read_body<T: DeserializeOwned + Unknown>(
    path: Option<&str>,
    what: &str,
) -> Result<T, Fail> {
    let (text, from) = match path {
        Some(path) if path != "-" => (
            std::fs::read_to_string(path)
                .map_err(|error| Fail::input(format!("cannot read --body {path}: {error}")))?,
            path.to_owned(),
        ),
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(Fail::input(format!(
                    "no {what} body: pass --body FILE or pipe the JSON on stdin"
                )));
            }
            let mut text = String::new();
            stdin
                .lock()
                .read_to_string(&mut text)
                .map_err(|error| Fail::input(format!("cannot read stdin: {error}")))?;
            (text, "stdin".to_owned())
        }
    };
    decode_json(&text, what, &from)
}

/// Decodes `text` as the JSON of `what`, with one line naming where it is wrong.
///
/// Members the request type does not know are kept and sent; each one gets a
/// warning on stderr naming its path (never its value), so a misspelt key is seen.
pub(crate) fn decode_json<T: DeserializeOwned + Unknown>(
    text: &str,
    what: &str,
    from: &str,
) -> Result<T, Fail> {
    let body: T = serde_json::from_str(text).map_err(|error| {
        let kind = if error.is_syntax() || error.is_eof() {
            "is not valid JSON"
        } else {
            "does not fit the request's schema"
        };
        Fail::input(format!(
            "the {what} body from {from} {kind}: {} at line {} column {}; fix it and run again",
            cloudrec_types::redact::serde_message(&error),
            error.line(),
            error.column()
        ))
    })?;
    for path in body.unknown_fields() {
        eprintln!(
            "warning: `{path}` in the {what} body from {from} is not a field cloudrec knows; it is sent as given (check its spelling)"
        );
    }
    Ok(body)
}

fn print_json<T: Serialize>(value: &T) -> Result<Exit, Fail> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| Fail::internal(format!("cannot print the result: {error}")))?;
    println!("{text}");
    Ok(Exit::Ok)
}
