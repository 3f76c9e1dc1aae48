#!/usr/bin/env bash
# Seed-campaign throughput (part of `just bench`, runnable alone):
#   seeds per second for bench/swarm.toml on one core (-j 1) and on all cores (-j $(nproc)),
#   and the campaign's scaling from 1 to 2 jobs; checks that every seed's event-log digest is
#   the same whatever -j (determinism per seed). Writes <out>/campaign.md and campaign.json.
# Usage: bench/campaign.sh [OUT_DIR]   Knobs: EDGESIM=<binary> CAMPAIGN_SEEDS=24
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/bench/tools/runs/campaign-$(date -u +%Y%m%dT%H%M%SZ)}
EDGESIM=${EDGESIM:-$ROOT/target/debug/edgesim}
SEEDS=${CAMPAIGN_SEEDS:-24}
SCENARIO=$ROOT/bench/swarm.toml
CORES=$(nproc)
mkdir -p "$OUT"
[ -x "$EDGESIM" ] || { echo "[campaign] no edgesim binary at $EDGESIM (cargo build -p edgesim-cli)" >&2; exit 1; }

# Runs the campaign with -j $1; prints wall ms. Exit 1 (a violated seed) still counts as a run.
run_j() {
  local j=$1 t0 t1 rc=0
  t0=$(date +%s%N)
  timeout 1800 "$EDGESIM" run "$SCENARIO" --seeds "1..$((SEEDS + 1))" -j "$j" \
    --jsonl "$OUT/campaign-j$j.jsonl" > "$OUT/campaign-j$j.out" 2> "$OUT/campaign-j$j.err" || rc=$?
  t1=$(date +%s%N)
  [ "$rc" -le 1 ] || { echo "[campaign] edgesim run -j $j failed (exit $rc; see $OUT/campaign-j$j.err)" >&2; exit 1; }
  echo $(( (t1 - t0) / 1000000 ))
}

digests() { grep -o '"digest":"[0-9a-f]*"' "$1" | sort; }

echo "[campaign] $SEEDS seeds of bench/swarm.toml: -j 1, -j 2, -j $CORES" >&2
ms1=$(run_j 1)
ms2=$(run_j 2)
if [ "$CORES" -ne 2 ] && [ "$CORES" -ne 1 ]; then msall=$(run_j "$CORES"); else msall=$ms2; fi
[ "$CORES" -eq 1 ] && msall=$ms1
same=yes
for j in 2 "$CORES"; do
  [ -f "$OUT/campaign-j$j.jsonl" ] || continue
  [ "$(digests "$OUT/campaign-j1.jsonl")" = "$(digests "$OUT/campaign-j$j.jsonl")" ] || same=no
done
rate() { awk -v n="$SEEDS" -v ms="$1" 'BEGIN { printf "%.2f", n * 1000 / ms }'; }
scaling=$(awk -v a="$ms1" -v b="$ms2" 'BEGIN { printf "%.2f", a / b }')
violated=$(grep -c '"passed":false' "$OUT/campaign-j1.jsonl" || true)
cat > "$OUT/campaign.json" <<JSON
{"scenario":"bench/swarm.toml","seeds":$SEEDS,"cores":$CORES,"wall_ms_j1":$ms1,"wall_ms_j2":$ms2,"wall_ms_all":$msall,"seeds_per_s_1_core":$(rate "$ms1"),"seeds_per_s_all_cores":$(rate "$msall"),"scaling_1_to_2_jobs":$scaling,"same_digests_across_jobs":"$same","violated_seeds":$violated}
JSON
cat > "$OUT/campaign.md" <<MD

## Seed campaigns (bench/campaign.sh)

\`edgesim run bench/swarm.toml --seeds 1..$((SEEDS + 1)) -j N\` ($SEEDS seeds; each seed is 230 s of virtual time: a 30 s chaos phase, the 200 s healed phase and the probe; $CORES cores):

| jobs | wall | seeds/s |
|---|---|---|
| 1 (one core) | $ms1 ms | $(rate "$ms1") |
| 2 | $ms2 ms | $(rate "$ms2") |
| $CORES (all cores) | $msall ms | $(rate "$msall") |

Scaling from 1 to 2 jobs: ${scaling}x. Per-seed event-log digests identical across -j: $same. Violated seeds: $violated.
MD
cat "$OUT/campaign.md"
