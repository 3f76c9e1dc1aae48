#!/usr/bin/env bash
# The simulation's JS/Rust ratio (issue 24: at most 6x): `edgesim run` of the standard scenario
# with the Rust course Worker and with the JS course Worker (worker/js/course), same seed, in
# interleaved rounds (Rust, then JS, ROUNDS times). Per run: the run's own wall_ms (the JSON
# report's, so the JS build before it is not counted) and the process's CPU (user + sys). Prints
# a markdown section with every round and the medians of the per-round ratios, and the load
# average before each run (this machine is shared: read ratios, not absolute times).
#
# Usage: bench/js-sim.sh [OUT_DIR]      (`just bench` runs it from bench/run.sh)
# Knobs (env): EDGESIM=<repo>/target/release/edgesim (else target/debug/edgesim)  ROUNDS=3  SEED=3
#              SCENARIO=fixtures/scenarios/standard.toml  JS_WORKER=worker/js/course
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${1:-$(mktemp -d)}
mkdir -p "$OUT"
if [ -z "${EDGESIM:-}" ]; then
  EDGESIM=$ROOT/target/release/edgesim
  [ -x "$EDGESIM" ] || EDGESIM=$ROOT/target/debug/edgesim
fi
ROUNDS=${ROUNDS:-3}
SEED=${SEED:-3}
SCENARIO=${SCENARIO:-fixtures/scenarios/standard.toml}
JS_WORKER=${JS_WORKER:-worker/js/course}
[ -x "$EDGESIM" ] || { echo "no edgesim binary at $EDGESIM" >&2; exit 1; }

# Build (and compile) the JS Worker once, outside the timed runs: a 2-second copy of the scenario.
WARM="$OUT/js-sim-warmup.toml"
sed -e 's/^duration_s = .*/duration_s = 2/' -e 's/converge_within_s = .*/converge_within_s = 5/' "$SCENARIO" > "$WARM"
echo "[js-sim] building $JS_WORKER (warm-up run)" >&2
"$EDGESIM" run "$WARM" --seed "$SEED" --worker "$JS_WORKER" --json > /dev/null 2> "$OUT/js-sim-warmup.err" \
  || { echo "[js-sim] the warm-up run failed (see $OUT/js-sim-warmup.err)" >&2; exit 1; }

# One timed run: prints "wall_ms cpu_s loadavg violated".
run() {
  local worker=$1 json="$OUT/js-sim-$2.json" load cpu
  load=$(cut -d' ' -f1 /proc/loadavg)
  local TIMEFORMAT="%U %S"
  { time "$EDGESIM" run "$SCENARIO" --seed "$SEED" --worker "$worker" --json > "$json" 2> "$OUT/js-sim-$2.err"; } 2> "$OUT/js-sim-$2.time"
  cpu=$(tail -1 "$OUT/js-sim-$2.time" | awk '{printf "%.2f", $1 + $2}')
  echo "$(grep -m1 '"wall_ms"' "$json" | tr -dc 0-9) $cpu $load $(grep -m1 '"violated"' "$json" | tr -dc 0-9)"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

rows=""
: > "$OUT/js-sim-wall-ratios"; : > "$OUT/js-sim-cpu-ratios"
for r in $(seq 1 "$ROUNDS"); do
  echo "[js-sim] round $r/$ROUNDS: Rust course Worker" >&2
  read -r rw rc rl rv <<< "$(run course "rust-$r")"
  echo "[js-sim] round $r/$ROUNDS: $JS_WORKER" >&2
  read -r jw jc jl jv <<< "$(run "$JS_WORKER" "js-$r")"
  wr=$(awk -v j="$jw" -v r="$rw" 'BEGIN {printf "%.1f", j / r}')
  cr=$(awk -v j="$jc" -v r="$rc" 'BEGIN {printf "%.1f", j / r}')
  echo "$wr" >> "$OUT/js-sim-wall-ratios"; echo "$cr" >> "$OUT/js-sim-cpu-ratios"
  rows+="| $r | $rw ms / ${rc} s (load $rl) | $jw ms / ${jc} s (load $jl) | ${wr}x | ${cr}x | $rv / $jv |"$'\n'
done
wm=$(median < "$OUT/js-sim-wall-ratios")
cm=$(median < "$OUT/js-sim-cpu-ratios")
cat <<EOF
## Simulation: JS Worker vs Rust Worker (issue 24 goal: at most 6x)

\`edgesim run $SCENARIO --seed $SEED\`, \`--worker course\` vs \`--worker $JS_WORKER\`, $ROUNDS interleaved rounds ($("$EDGESIM" --version 2>/dev/null | head -1), ${EDGESIM#"$ROOT"/}).
Wall is the run's own \`wall_ms\` (the JS build is done before, in a warm-up run); CPU is the process's user + sys.

| round | Rust: wall / CPU | JS: wall / CPU | wall ratio | CPU ratio | violated (Rust / JS) |
|---:|---:|---:|---:|---:|---|
${rows}
**Median JS/Rust ratio: ${wm}x wall, ${cm}x CPU.**
EOF
echo "js_sim_wall_ratio=$wm js_sim_cpu_ratio=$cm" > "$OUT/js-sim.summary"
