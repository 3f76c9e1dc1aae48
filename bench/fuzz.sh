#!/usr/bin/env bash
# `just fuzz [MINUTES]`: every fuzz target (edgesim_testkit::fuzz, stable toolchain) for MINUTES in
# all (default 10), split evenly; corpora grow in fuzz/corpus/, crashing inputs land in
# fuzz/crashes/; the figures go to bench/results/fuzz-<UTC date>.md (also printed).
# Knobs (env): EDGESIM_FUZZ_SEED (mutation seed), RESULT_MD.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MINUTES=${1:-10}
TARGETS=7   # supabase: 4, sim: 1, kv: 1, cli: 1
PER=$(awk -v m="$MINUTES" -v t="$TARGETS" 'BEGIN { printf "%.1f", m * 60 / t }')
RESULT_MD=${RESULT_MD:-$ROOT/bench/results/fuzz-$(date -u +%F).md}
ROWS=$(mktemp)
trap 'rm -f "$ROWS"' EXIT
echo "[fuzz] $MINUTES min in all: $PER s per target" >&2
# The dev profile (edgesim's crates optimised, as `edgesim dev` runs them), not the test profile's
# unoptimised build; `--workspace` keeps one feature set, so nothing else is rebuilt.
FUZZ=(cargo test --workspace --profile dev)
"${FUZZ[@]}" --no-run --test fuzz --bin edgesim >&2
export EDGESIM_FUZZ_SECS=$PER EDGESIM_FUZZ_REPORT=$ROWS
status=0
# The `fuzz` targets of edgesim-supabase (4 targets), edgesim-sim and edgesim-kv, one after another.
"${FUZZ[@]}" --test fuzz -- --ignored --exact fuzz_campaign --nocapture >&2 || status=1
"${FUZZ[@]}" --bin edgesim -- --ignored --exact dev::config::fuzz::fuzz_campaign --nocapture >&2 || status=1
{
  echo "# Fuzzing: $MINUTES min ($(date -u +'%F %H:%M') UTC)"
  echo
  echo "Command: \`just fuzz $MINUTES\` (bench/fuzz.sh) at commit $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')."
  echo "Engine: edgesim_testkit::fuzz (mutation fuzzing on the stable toolchain, guided by new outcome"
  echo "classes; cargo-fuzz needs nightly). $PER s per target, seed ${EDGESIM_FUZZ_SEED:-default}."
  echo
  echo "| target | executions | exec/s | crashes | corpus before | new entries | outcome classes | time |"
  echo "|---|---|---|---|---|---|---|---|"
  cat "$ROWS"
  echo
  if [ "$status" = 0 ]; then echo "No target crashed."; else echo "**A target crashed or failed**: see fuzz/crashes/."; fi
} > "$RESULT_MD"
cat "$RESULT_MD"
exit $status
