//! `cloudrec ncs-ips`: the addresses Agora's Notification Center Service posts
//! webhook notifications from, for a firewall allow-list.

use clap::Args;
use cloudrec_core::{NoEvents, RetryPolicy};

use crate::connection::Connection;
use crate::exit::{Exit, Fail, call_fail};

/// Lists the NCS addresses.
#[derive(Args, Debug)]
pub(crate) struct NcsIpsArgs {
    #[command(flatten)]
    connection: Connection,
    /// Print a JSON array of the addresses instead of one address per line.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: &NcsIpsArgs) -> Result<Exit, Fail> {
    let client = args.connection.client(NoEvents, RetryPolicy::default())?;
    let response = client.ncs_ips().await.map_err(|e| call_fail(&e))?;
    let ips = response.primary_ips();
    if ips.is_empty() {
        return Err(Fail::new(
            Exit::Service,
            "the service listed no NCS address: keep the allow-list you have and try again later",
        ));
    }
    if args.json {
        let text = serde_json::to_string_pretty(&ips)
            .map_err(|error| Fail::internal(format!("cannot print the addresses: {error}")))?;
        println!("{text}");
    } else {
        for ip in ips {
            println!("{ip}");
        }
    }
    Ok(Exit::Ok)
}
