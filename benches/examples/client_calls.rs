//! Sends N query calls down one path of the `client` bench, for counts that the
//! machine's load does not disturb (`docs/benchmarks.md`, "Client path"):
//!
//! ```text
//! cargo build --profile bench -p cloudrec-benches --example client_calls
//! # instructions per call: (total at N = 201 - total at N = 1) / 200
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/client_calls client 201
//! # CPU time (user + system, every thread) per call, 32 calls at a time
//! perf stat -e task-clock target/release/examples/client_calls client 3000 --batches
//! ```
//!
//! Arguments: the path (`raw`, `transport` or `client`, as in the bench) and how
//! many calls; with `--batches`, how many batches of 32 concurrent calls on two
//! worker threads instead of sequential calls on one thread.

use std::sync::Arc;
use std::time::Instant;

use cloudrec_benches::query::QueryPaths;

const BATCH: usize = 32;

/// One query down the path named `which`.
async fn call(paths: &QueryPaths, which: &str) -> usize {
    match which {
        "raw" => paths.raw().await,
        "transport" => paths.transport().await,
        "client" => paths.client().await,
        other => panic!("unknown path {other}: use raw, transport or client"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (which, count, batches) = match args.as_slice() {
        [which, count] => (which.clone(), count, false),
        [which, count, flag] if flag == "--batches" => (which.clone(), count, true),
        _ => {
            eprintln!("usage: client_calls raw|transport|client COUNT [--batches]");
            std::process::exit(2);
        }
    };
    let count: usize = count.parse().expect("COUNT is a number");
    let runtime = if batches {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .expect("runtime");
    runtime.block_on(async move {
        let paths = Arc::new(QueryPaths::start().await);
        let started = Instant::now();
        let calls = if batches {
            for _ in 0..count {
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..BATCH {
                    let paths = Arc::clone(&paths);
                    let which = which.clone();
                    set.spawn(async move { call(&paths, &which).await });
                }
                while let Some(done) = set.join_next().await {
                    done.expect("call");
                }
            }
            count * BATCH
        } else {
            for _ in 0..count {
                call(&paths, &which).await;
            }
            count
        };
        let elapsed = started.elapsed();
        println!(
            "{which}: {calls} calls in {elapsed:.2?} ({:.0} calls/s)",
            calls as f64 / elapsed.as_secs_f64()
        );
    });
}
