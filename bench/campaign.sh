#!/usr/bin/env bash
# Seed-campaign throughput (part of `just bench`, runnable alone):
#   seeds per second for bench/swarm.toml on one core (-j 1) and on all cores (-j $(nproc)),
#   and the campaign's scaling from 1 to 2 jobs; checks that every seed's event-log digest is
#   the same whatever -j (determinism per seed). Records CPU time and load average, since on a
#   shared machine the wall-clock scaling depends on free cores. Writes <out>/campaign.md, .json.
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

# Runs the campaign with -j $1; prints "wall_ms cpu_ms" (cpu: the process's user + sys time).
# Exit 1 (a violated seed) still counts as a run.
run_j() {
  local j=$1 rc=0 real user sys
  local TIMEFORMAT='%R %U %S'
  { time timeout 1800 "$EDGESIM" run "$SCENARIO" --seeds "1..$((SEEDS + 1))" -j "$j" \
      --jsonl "$OUT/campaign-j$j.jsonl" > "$OUT/campaign-j$j.out" 2> "$OUT/campaign-j$j.err" || rc=$?; } \
    2> "$OUT/campaign-j$j.time"
  [ "$rc" -le 1 ] || { echo "[campaign] edgesim run -j $j failed (exit $rc; see $OUT/campaign-j$j.err)" >&2; exit 1; }
  read -r real user sys < "$OUT/campaign-j$j.time"
  awk -v r="$real" -v u="$user" -v s="$sys" 'BEGIN { printf "%d %d\n", r * 1000, (u + s) * 1000 }'
}

digests() { grep -o '"digest":"[0-9a-f]*"' "$1" | sort; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
echo "[campaign] $SEEDS seeds of bench/swarm.toml: -j 1, -j 2, -j $CORES (load average before: $LOAD_BEFORE)" >&2
read -r ms1 cpu1 < <(run_j 1)
read -r ms2 cpu2 < <(run_j 2)
if [ "$CORES" -gt 2 ]; then read -r msall cpuall < <(run_j "$CORES"); else msall=$ms2; cpuall=$cpu2; fi
[ "$CORES" -eq 1 ] && { msall=$ms1; cpuall=$cpu1; }
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
same=yes
for j in 2 "$CORES"; do
  [ -f "$OUT/campaign-j$j.jsonl" ] || continue
  [ "$(digests "$OUT/campaign-j1.jsonl")" = "$(digests "$OUT/campaign-j$j.jsonl")" ] || same=no
done
rate() { awk -v n="$SEEDS" -v ms="$1" 'BEGIN { printf "%.2f", n * 1000 / ms }'; }
cores() { awk -v c="$1" -v w="$2" 'BEGIN { printf "%.2f", c / w }'; }
scaling=$(awk -v a="$ms1" -v b="$ms2" 'BEGIN { printf "%.2f", a / b }')
# What 2 jobs would give with two free cores: the per-seed CPU cost at -j 2 against -j 1.
cpu_scaling=$(awk -v a="$cpu1" -v b="$cpu2" 'BEGIN { printf "%.2f", 2 * a / b }')
violated=$(grep -c '"passed":false' "$OUT/campaign-j1.jsonl" || true)
cat > "$OUT/campaign.json" <<JSON
{"scenario":"bench/swarm.toml","seeds":$SEEDS,"cores":$CORES,"load_before":"$LOAD_BEFORE","load_after":"$LOAD_AFTER","wall_ms_j1":$ms1,"wall_ms_j2":$ms2,"wall_ms_all":$msall,"cpu_ms_j1":$cpu1,"cpu_ms_j2":$cpu2,"cpu_ms_all":$cpuall,"seeds_per_s_1_core":$(rate "$ms1"),"seeds_per_s_all_cores":$(rate "$msall"),"seeds_per_cpu_s_j1":$(rate "$cpu1"),"seeds_per_cpu_s_j2":$(rate "$cpu2"),"scaling_1_to_2_jobs":$scaling,"cpu_bound_scaling_1_to_2_jobs":$cpu_scaling,"same_digests_across_jobs":"$same","violated_seeds":$violated}
JSON
cat > "$OUT/campaign.md" <<MD

## Seed campaigns (bench/campaign.sh)

\`edgesim run bench/swarm.toml --seeds 1..$((SEEDS + 1)) -j N\` ($SEEDS seeds; each seed is 230 s of virtual time: a 30 s chaos phase, the 200 s healed phase and the probe; $CORES cores; load average $LOAD_BEFORE before, $LOAD_AFTER after):

| jobs | wall | seeds/s (wall) | CPU (user+sys) | cores obtained | seeds per CPU-second |
|---|---|---|---|---|---|
| 1 (one core) | $ms1 ms | $(rate "$ms1") | $cpu1 ms | $(cores "$cpu1" "$ms1") | $(rate "$cpu1") |
| 2 | $ms2 ms | $(rate "$ms2") | $cpu2 ms | $(cores "$cpu2" "$ms2") | $(rate "$cpu2") |
| $CORES (all cores) | $msall ms | $(rate "$msall") | $cpuall ms | $(cores "$cpuall" "$msall") | $(rate "$cpuall") |

Scaling from 1 to 2 jobs: ${scaling}x in wall time; ${cpu_scaling}x if two cores were free (2 x the
per-seed CPU cost at -j 1 / at -j 2). "Cores obtained" is CPU time / wall time: below the job count,
the machine was busy with other work. Per-seed event-log digests identical across -j: $same.
Violated seeds: $violated.
MD
cat "$OUT/campaign.md"
