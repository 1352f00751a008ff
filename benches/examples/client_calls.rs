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

use cloudrec_benches::query::{BATCH, Path, QueryPaths};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (which, count, batches) = match args.as_slice() {
        [which, count] => (which, count, false),
        [which, count, flag] if flag == "--batches" => (which, count, true),
        _ => {
            eprintln!("usage: client_calls raw|transport|client COUNT [--batches]");
            std::process::exit(2);
        }
    };
    let Some(path) = Path::from_arg(which) else {
        eprintln!("unknown path {which}: use raw, transport or client");
        std::process::exit(2);
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
                paths.batch(path).await;
            }
            count * BATCH
        } else {
            for _ in 0..count {
                paths.query(path).await;
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
