//! The full client path (validation, rate limiter, retry loop, events, the hyper
//! transport, classification and typed decoding) against a raw hyper client making
//! the same query calls against the same emulator task, in the same run.
//!
//! Criterion measures concurrent throughput (batches of 32 queries); a second pass
//! then sends 5,000 sequential queries down each path, interleaved, and prints the
//! latency percentiles and the p99 overhead; a third measures throughput again in
//! short alternating blocks (25 batches per path, 60 rounds), which the machine's
//! changes of speed disturb less than criterion's consecutive runs.
//!
//! Run with `cargo bench -p cloudrec-benches --bench client`; the figures are in
//! `docs/benchmarks.md`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudrec_benches::query::{BATCH, Path, QueryPaths};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;

const SEQUENTIAL: usize = 5_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn query_path(c: &mut Criterion) {
    let runtime: Runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let setup = Arc::new(runtime.block_on(QueryPaths::start()));

    let mut group = c.benchmark_group("client_query_rps");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.measurement_time(Duration::from_secs(5));
    for path in Path::ALL {
        group.bench_function(path.bench_name(), |b| {
            b.to_async(&runtime).iter(|| {
                let setup = Arc::clone(&setup);
                async move { setup.batch(path).await }
            });
        });
    }
    group.finish();

    let (raw, full) = runtime.block_on(async {
        let mut raw = Vec::with_capacity(SEQUENTIAL);
        let mut full = Vec::with_capacity(SEQUENTIAL);
        for _ in 0..SEQUENTIAL {
            let started = Instant::now();
            setup.raw().await;
            raw.push(started.elapsed());
            let started = Instant::now();
            setup.client().await;
            full.push(started.elapsed());
        }
        raw.sort();
        full.sort();
        (raw, full)
    });
    for (name, latencies) in [("raw_hyper", &raw), ("cloudrec_client", &full)] {
        println!(
            "sequential query latency {name:>16}: p50 {:>8.1?}  p99 {:>8.1?}",
            percentile(latencies, 0.5),
            percentile(latencies, 0.99)
        );
    }
    let overhead = percentile(&full, 0.99).saturating_sub(percentile(&raw, 0.99));
    println!("p99 overhead of the client path: {overhead:.1?}");

    // Throughput again, in short alternating blocks of batches, so that the
    // machine's changes of speed, which last seconds, fall on every path alike.
    let mut busy = [Duration::ZERO; 3];
    runtime.block_on(async {
        for _ in 0..BLOCK_ROUNDS {
            for (path, total) in Path::ALL.into_iter().zip(&mut busy) {
                let started = Instant::now();
                for _ in 0..BLOCK_BATCHES {
                    setup.batch(path).await;
                }
                *total += started.elapsed();
            }
        }
    });
    let calls = (BLOCK_ROUNDS * BLOCK_BATCHES * BATCH) as f64;
    let rates = busy.map(|busy| calls / busy.as_secs_f64());
    for (path, rate) in Path::ALL.into_iter().zip(rates) {
        println!(
            "interleaved throughput {:>16}: {rate:>8.0} queries/s ({:.3} of raw)",
            path.bench_name(),
            rate / rates[0],
        );
    }

    // CPU time (user and system, every thread of the process: client, emulator,
    // runtime) per sequential query, in alternating blocks: less disturbed by
    // other load on the machine than the throughput above.
    let mut cpu = [Duration::ZERO; 2];
    runtime.block_on(async {
        for _ in 0..CPU_ROUNDS {
            let before = process_cpu_time();
            for _ in 0..SEQUENTIAL {
                setup.raw().await;
            }
            let between = process_cpu_time();
            for _ in 0..SEQUENTIAL {
                setup.client().await;
            }
            let after = process_cpu_time();
            cpu[0] += between.saturating_sub(before);
            cpu[1] += after.saturating_sub(between);
        }
    });
    let calls = u32::try_from(CPU_ROUNDS * SEQUENTIAL).expect("small count");
    let (raw_cpu, client_cpu) = (cpu[0] / calls, cpu[1] / calls);
    println!(
        "CPU per sequential query: raw_hyper {raw_cpu:.2?}, cloudrec_client {client_cpu:.2?} \
         (raw / client = {:.2})",
        raw_cpu.as_secs_f64() / client_cpu.as_secs_f64()
    );
}

const CPU_ROUNDS: usize = 4;

/// Rounds of the interleaved throughput pass, and batches per path in each.
const BLOCK_ROUNDS: usize = 60;
const BLOCK_BATCHES: usize = 25;

/// The CPU time every thread of this process has used so far, from
/// `/proc/self/task/*/schedstat` (nanoseconds on a CPU); zero where unreadable.
fn process_cpu_time() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

criterion_group!(benches, query_path);
criterion_main!(benches);
