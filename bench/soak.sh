#!/usr/bin/env bash
# `just soak [SECS] [CONC]`: SECS (default 600) at CONC (default 64) against `edgesim dev` with
# mixed traffic (see tests/examples/soak.rs); writes bench/results/soak-<UTC date>.md.
# Knobs (env): RESULT_MD, NOTE (a line for the results file).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=${1:-600}
CONC=${2:-64}
RESULT_MD=${RESULT_MD:-$ROOT/bench/results/soak-$(date -u +%F).md}
# `--workspace` keeps the feature set of every other build, so nothing is rebuilt for this.
cargo build --workspace --bins --example soak >&2
NOTE=${NOTE:-"Run at commit $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'), $(date -u +'%F %H:%M') UTC, on $(nproc) cores."}
exec "${CARGO_TARGET_DIR:-target}/debug/examples/soak" --bin "${CARGO_TARGET_DIR:-target}/debug/edgesim" \
  --secs "$SECS" --conc "$CONC" --out "$RESULT_MD" --note "$NOTE"
