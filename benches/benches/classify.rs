//! Decoding and classification of every fixture, side by side with two references
//! on the same bytes:
//!
//! - `value`: parse into `serde_json::Value` and read the same fields (the naive path);
//! - `ignored_any`: a validating scan into `serde::de::IgnoredAny` (the floor of any
//!   serde_json-based decoder).
//!
//! Run with `cargo bench -p cloudrec-benches --bench classify`; the figures are in
//! `docs/benchmarks.md`.

use std::hint::black_box;
use std::time::Duration;

use cloudrec_benches::{fixtures, fixtures_dir, read_like_cloudrec, received};
use cloudrec_core::{HttpResponse, Outcome, classify_reply};
use cloudrec_types::Endpoint;
use criterion::{Criterion, criterion_group, criterion_main};
use serde::de::IgnoredAny;
use serde_json::Value;

/// One fixture to measure: which endpoint answers it, with which status.
struct Case {
    name: String,
    endpoint: Endpoint,
    status: u16,
    body: Vec<u8>,
}

/// The response and error fixtures of the six endpoints, with the endpoint and
/// status of the fixture index (the first one where it lists several).
fn cases() -> Vec<Case> {
    let index = std::fs::read_to_string(fixtures_dir().join("INDEX.tsv")).unwrap_or_default();
    let mut cases = Vec::new();
    for (name, body) in fixtures() {
        let Some(line) = index
            .lines()
            .find(|l| l.split('\t').next() == Some(name.as_str()))
        else {
            continue;
        };
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 5 || !matches!(cols[1], "response" | "error") {
            continue;
        }
        let first = cols[2].split('|').next().unwrap_or("*");
        let first = first.split('(').next().unwrap_or(first);
        let endpoint = match first {
            "*" => Endpoint::Query,
            other => match other.parse() {
                Ok(endpoint) => endpoint,
                Err(_) => continue,
            },
        };
        let Some(Ok(status)) = cols[4].split('|').next().map(str::parse) else {
            continue;
        };
        cases.push(Case {
            name: name.trim_end_matches(".json").to_owned(),
            endpoint,
            status,
            body,
        });
    }
    cases
}

fn bench(c: &mut Criterion) {
    for case in cases() {
        let response = HttpResponse {
            status: case.status,
            retry_after: None,
            request_id: None,
            body: received(&case.body),
        };
        // A fixture that does not classify as its index says is not worth timing.
        let is_success = matches!(
            classify_reply(case.endpoint, &response),
            Outcome::Success(_)
        );
        if is_success != (case.status == 200) {
            eprintln!("skipping {}: unexpected outcome", case.name);
            continue;
        }
        let mut group = c.benchmark_group(format!("classify/{}", case.name));
        group.bench_function("cloudrec", |b| {
            b.iter(|| classify_reply(black_box(case.endpoint), black_box(&response)));
        });
        group.bench_function("value", |b| {
            b.iter(|| {
                serde_json::from_slice::<Value>(black_box(&case.body))
                    .map(|value| read_like_cloudrec(&value))
            });
        });
        group.bench_function("ignored_any", |b| {
            b.iter(|| serde_json::from_slice::<IgnoredAny>(black_box(&case.body)).is_ok());
        });
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1200))
        .sample_size(40)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench
}
criterion_main!(benches);
