# cloudrec tasks. `just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Run every test of the workspace (unit, integration, doc). Needs RabbitMQ on 127.0.0.1:5672.
test:
    cargo test --workspace
    cargo test -p cloudrec-types --features ncs

# Format check, clippy with warnings denied, the core layering check and the docs.
lint: layering
    cargo fmt --all --check
    cargo run -q -p cloudrec-cli -- explain --table-markdown | diff -u docs/errors.md - || { echo "docs/errors.md is stale: cargo run -p cloudrec-cli -- explain --table-markdown > docs/errors.md" >&2; exit 1; }
    cargo clippy --workspace --all-targets -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# The core must do no I/O: with default features it may not pull an async runtime, HTTP, TLS or AMQP.
layering:
    #!/usr/bin/env bash
    set -euo pipefail
    bad=$(cargo tree -p cloudrec-core -e normal --prefix none | awk '{print $1}' | grep -xE 'tokio|hyper|hyper-util|hyper-rustls|rustls|lapin' | sort -u || true)
    if [ -n "$bad" ]; then
        echo "cloudrec-core depends on I/O crates: $bad" >&2
        exit 1
    fi
    echo "cloudrec-core layering ok: no tokio, hyper, rustls or lapin"

# Criterion benchmarks; figures go to docs/benchmarks.md.
bench *ARGS:
    cargo bench -p cloudrec-benches {{ARGS}}

# Run one cargo-fuzz target for SECONDS (cargo-fuzz needs nightly features: RUSTC_BOOTSTRAP=1 enables them on stable).
fuzz TARGET SECONDS="120":
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run {{TARGET}} -- -max_total_time={{SECONDS}}

# The main job: a full mix-mode recording against the embedded emulator.
demo *ARGS:
    cargo run --release -p cloudrec-cli -- demo {{ARGS}}

# Run every example; they use the embedded emulator, and event_consumer the local RabbitMQ.
examples:
    #!/usr/bin/env bash
    set -euo pipefail
    for example in individual_recording mix_custom_layout web_rtmp recorder testing_with_the_emulator event_plugin; do
        echo "== example $example"
        cargo run -q -p cloudrec-examples --example "$example"
    done
    echo "== example event_consumer --samples"
    cargo run -q -p cloudrec-examples --example event_consumer -- --samples

# What CI runs: the tests, the examples, then the lints.
ci: test examples lint
