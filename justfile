# edgesim tasks. `just test` is what CI runs (after scripts/setup.sh).
set shell := ["bash", "-euo", "pipefail", "-c"]

# Format, lint and run every test. The guest workspace (worker/, its own target dir) is linted and
# tested in the background while the main workspace builds, whose long dependency chains leave a
# core idle; its output is printed at the end.
test: setup
    #!/usr/bin/env bash
    set -euo pipefail
    cargo fmt --all --check
    cargo fmt --manifest-path worker/Cargo.toml --all --check
    guest_log=$(mktemp)
    trap 'rm -f "$guest_log"' EXIT
    ( cargo clippy --manifest-path worker/Cargo.toml --all-targets -- -D warnings \
      && cargo clippy --manifest-path worker/Cargo.toml --target wasm32-wasip2 -- -D warnings \
      && cargo test --manifest-path worker/Cargo.toml ) > "$guest_log" 2>&1 &
    guest=$!
    main_status=0
    cargo clippy --workspace --all-targets -- -D warnings || main_status=$?
    skips="${CARGO_TARGET_DIR:-target}/edgesim-skips.txt"
    rm -f "$skips"
    if [ "$main_status" = 0 ]; then cargo test --workspace || main_status=$?; fi
    guest_status=0
    wait "$guest" || guest_status=$?
    echo "== the guest workspace (worker/): clippy and cargo test (exit $guest_status)"
    cat "$guest_log"
    if [ -s "$skips" ]; then echo "== tests skipped because a tool is missing (CI=true turns these into failures):"; sort -u "$skips"; fi
    [ "$main_status" = 0 ] && [ "$guest_status" = 0 ]

# Install the wasm target, just and the other tools the build needs.
setup:
    ./scripts/setup.sh

# Serve the demo Worker, the multi-region KV and the mock Supabase (see README).
dev *ARGS:
    cargo run -p edgesim-cli -- dev {{ARGS}}

# Format the tree.
fmt:
    cargo fmt --all

# edgesim vs Miniflare side by side (oha load, CPU, peak RSS, cold start), KV ops/s and the
# simulation's virtual-to-wall ratio; writes bench/results/<date>.md. Knobs: see bench/run.sh.
bench: setup
    ./bench/run.sh

# Fuzz the parsers and loaders for MINUTES in all (stable toolchain; corpora in fuzz/corpus/);
# writes bench/results/fuzz-<date>.md. Not part of `just test` (which replays the corpora).
fuzz MINUTES="10": setup
    ./bench/fuzz.sh {{MINUTES}}

# Soak `edgesim dev`: SECS at CONC with mixed and misbehaving traffic; writes
# bench/results/soak-<date>-js.md (per Worker, Rust and JS: requests, status mix, transport and
# spurious errors, p99 and RSS per 10 s).
soak SECS="600" CONC="64": setup
    ./bench/soak.sh {{SECS}} {{CONC}}
