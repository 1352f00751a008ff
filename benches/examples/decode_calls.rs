//! Calls one decoder N times on one fixture, for instruction counts under
//! callgrind (`docs/benchmarks.md`, "Instructions per call"):
//!
//! ```text
//! cargo build --profile bench -p cloudrec-benches --example decode_calls
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/decode_calls start.response start 200 cloudrec 201
//! ```
//!
//! Arguments: fixture name (without `.json`), endpoint, HTTP status, what to run
//! (`cloudrec`, `value` or `ignored_any`) and how many calls. Instructions per call
//! are the difference between the totals at N = 201 and N = 1, divided by 200.

use std::hint::black_box;

use cloudrec_benches::{fixtures_dir, read_like_cloudrec, received};
use cloudrec_core::{HttpResponse, classify_reply};
use cloudrec_types::Endpoint;
use serde::de::IgnoredAny;
use serde_json::Value;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name, endpoint, status, what, calls] = args.as_slice() else {
        eprintln!("usage: decode_calls FIXTURE ENDPOINT STATUS cloudrec|value|ignored_any CALLS");
        std::process::exit(2);
    };
    let body = std::fs::read(fixtures_dir().join(format!("{name}.json"))).expect("fixture");
    let endpoint: Endpoint = endpoint.parse().expect("endpoint");
    let response = HttpResponse {
        status: status.parse().expect("status"),
        retry_after: None,
        request_id: None,
        body: received(&body),
    };
    let calls: usize = calls.parse().expect("calls");
    let mut kept = 0usize;
    for _ in 0..calls {
        kept += match what.as_str() {
            "cloudrec" => usize::from(
                classify_reply(black_box(endpoint), black_box(&response))
                    .resolution()
                    .is_none(),
            ),
            "value" => serde_json::from_slice::<Value>(black_box(&body))
                .map(|value| read_like_cloudrec(&value))
                .unwrap_or(0),
            "ignored_any" => {
                usize::from(serde_json::from_slice::<IgnoredAny>(black_box(&body)).is_ok())
            }
            other => panic!("unknown decoder {other}"),
        };
    }
    black_box(kept);
}
