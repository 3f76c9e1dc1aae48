# edgesim tasks. `just test` is what CI runs (after scripts/setup.sh).
set shell := ["bash", "-euo", "pipefail", "-c"]

# Format, lint and run every test.
test: setup
    cargo fmt --all --check
    cargo fmt --manifest-path worker/Cargo.toml --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy --manifest-path worker/Cargo.toml --all-targets -- -D warnings
    cargo clippy --manifest-path worker/Cargo.toml --target wasm32-wasip2 -- -D warnings
    rm -f "${CARGO_TARGET_DIR:-target}/edgesim-skips.txt"
    cargo test --workspace
    cargo test --manifest-path worker/Cargo.toml
    @if [ -s "${CARGO_TARGET_DIR:-target}/edgesim-skips.txt" ]; then echo "== tests skipped because a tool is missing (CI=true turns these into failures):"; sort -u "${CARGO_TARGET_DIR:-target}/edgesim-skips.txt"; fi

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
# bench/results/soak-<date>.md (requests, status mix, transport errors, p99 and RSS per 10 s).
soak SECS="600" CONC="64": setup
    ./bench/soak.sh {{SECS}} {{CONC}}
