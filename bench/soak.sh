#!/usr/bin/env bash
# `just soak [SECS] [CONC]`: SECS (default 600) at CONC (default 64) against one `edgesim dev` per
# Worker (the Rust course Worker, misbehaving Rust Workers, the JS course Worker, Miniflare's
# worker.mjs, a misbehaving JS Worker) with mixed traffic (see tests/examples/soak.rs); writes
# bench/results/soak-<UTC date>-js.md. The JS Workers need Node.js 18+ and npm (to build them).
# Knobs (env): RESULT_MD, NOTE (a line for the results file).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=${1:-600}
CONC=${2:-64}
RESULT_MD=${RESULT_MD:-$ROOT/bench/results/soak-$(date -u +%F)-js.md}
# `--workspace` keeps the feature set of every other build, so nothing is rebuilt for this.
cargo build --workspace --bins --example soak >&2
command -v node >/dev/null || { echo "soak: the JS Workers need Node.js 18+ and npm on PATH" >&2; exit 1; }
NOTE=${NOTE:-"Run at commit $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'), $(date -u +'%F %H:%M') UTC, on $(nproc) cores; load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."}
exec "${CARGO_TARGET_DIR:-target}/debug/examples/soak" --bin "${CARGO_TARGET_DIR:-target}/debug/edgesim" \
  --secs "$SECS" --conc "$CONC" --out "$RESULT_MD" --note "$NOTE"
