# cloudrec tasks. `just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Run every test of the workspace (unit, integration, doc). Needs RabbitMQ on 127.0.0.1:5672
# and PostgreSQL on 127.0.0.1:5432 (the fleet store tests).
test:
    cargo test --workspace
    cargo test -p cloudrec-types --features ncs

# Format check, clippy with warnings denied, the core layering check and the docs.
lint: layering
    cargo fmt --all --check
    cargo run -q -p cloudrec-cli -- explain --table-markdown | diff -u docs/errors.md - || { echo "docs/errors.md is stale: cargo run -p cloudrec-cli -- explain --table-markdown > docs/errors.md" >&2; exit 1; }
    cargo clippy --workspace --all-targets -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# The layers: the core does no I/O (no async runtime, HTTP, TLS, AMQP, not even
# async-trait); the client awaits but, with default features, pulls no HTTP, TLS or AMQP.
layering:
    #!/usr/bin/env bash
    set -euo pipefail
    deps() { cargo tree -p "$1" -e normal --prefix none | awk '{print $1}' | sort -u; }
    bad=$(deps cloudrec-core | grep -xE 'async-trait|tokio|hyper|hyper-util|hyper-rustls|rustls|lapin' || true)
    if [ -n "$bad" ]; then
        echo "cloudrec-core depends on async or I/O crates: $bad" >&2
        exit 1
    fi
    bad=$(deps cloudrec-client | grep -xE 'hyper|hyper-util|hyper-rustls|rustls|lapin' || true)
    if [ -n "$bad" ]; then
        echo "cloudrec-client depends on HTTP, TLS or AMQP crates: $bad" >&2
        exit 1
    fi
    echo "layering ok: cloudrec-core pulls no async-trait, tokio, hyper, rustls or lapin; cloudrec-client no hyper, rustls or lapin"

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
