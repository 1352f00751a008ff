//! Decoding, validating and encoding cost of typical bodies, from the fixtures.
//!
//! `cargo bench -p cloudrec-types --bench codec`

use std::hint::black_box;
use std::path::Path;

use cloudrec_types::{Mode, QueryResponse, StartRequest, StopResponse, UpdateRequest, Validate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(path).expect("fixture present")
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for name in [
        "query.response.mix.hls-mp4.json",
        "query.response.legacy-strings.json",
        "query.response.web-rtmp.json",
    ] {
        let bytes = fixture(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| serde_json::from_slice::<QueryResponse>(black_box(&bytes)).is_ok())
        });
    }
    for name in [
        "stop.response.individual.json",
        "stop.response.web-full.json",
    ] {
        let bytes = fixture(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| serde_json::from_slice::<StopResponse>(black_box(&bytes)).is_ok())
        });
    }
    group.finish();
}

fn requests(c: &mut Criterion) {
    let mut group = c.benchmark_group("request");
    let bytes = fixture("start.mix.custom-layout.request.json");
    let start: StartRequest = serde_json::from_slice(&bytes).expect("fixture decodes");
    group.bench_function("start.mix.custom-layout/decode+validate", |b| {
        b.iter(|| {
            let body: StartRequest = serde_json::from_slice(black_box(&bytes)).expect("decodes");
            body.validate(&Mode::Mix).is_ok()
        })
    });
    group.bench_function("start.mix.custom-layout/validate", |b| {
        b.iter(|| black_box(&start).validate(&Mode::Mix).is_ok())
    });
    group.bench_function("start.mix.custom-layout/encode", |b| {
        b.iter(|| serde_json::to_vec(black_box(&start)).map(|v| v.len()))
    });
    let update = fixture("update.request.subscribe.json");
    group.bench_function("update.subscribe/decode+validate", |b| {
        b.iter(|| {
            let body: UpdateRequest = serde_json::from_slice(black_box(&update)).expect("decodes");
            body.validate(&Mode::Individual).is_ok()
        })
    });
    group.finish();
}

criterion_group!(benches, decode, requests);
criterion_main!(benches);
