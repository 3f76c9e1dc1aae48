#!/usr/bin/env bash
# Profile `edgesim dev` under the benchmark's load: perf (cpu-clock sampling, DWARF call graphs)
# on the server while oha drives one endpoint, then the hottest symbols, flat and inclusive.
#   ./bench/profile.sh [endpoint=/articles] [conc=16] [seconds=8]
# Needs perf (Debian: linux-perf) and bench/tools/oha (bench/run.sh installs it) and a built
# target/debug/edgesim. Loopback only; the server is stopped by PID. Output: bench/tools/runs/<ts>-profile/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
EP=${1:-/articles}
CONC=${2:-16}
SECS=${3:-8}
PORT=${PORT:-8787}
SUPABASE_PORT=${SUPABASE_PORT:-54321}
EDGESIM=${EDGESIM:-$ROOT/target/debug/edgesim}
OHA="$ROOT/bench/tools/oha/bin/oha"
BASE="http://127.0.0.1:$PORT"
OUT="$ROOT/bench/tools/runs/$(date -u +%Y%m%dT%H%M%SZ)-profile"
mkdir -p "$OUT"
command -v perf >/dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 1; }
[ -x "$OHA" ] && [ -x "$EDGESIM" ] || { echo "need $OHA and $EDGESIM (run bench/run.sh once)" >&2; exit 1; }

PID=""
cleanup() { if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi; PID=""; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
RUST_LOG=${RUST_LOG:-warn} "$EDGESIM" dev --port "$PORT" --supabase-port "$SUPABASE_PORT" --persist-to "$OUT/state" --reset > "$OUT/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 1200); do [ "$(curl -s --max-time 1 "$BASE/hello" 2>/dev/null)" = ok ] && break; kill -0 "$PID" || exit 1; sleep 0.05; done
for _ in $(seq 1 50); do curl -s -D - -o /dev/null "$BASE/articles" | grep -qi '^x-kv: hit' && break; sleep 0.1; done
"$OHA" -z 3s -c "$CONC" --worker-threads 1 --no-tui --output-format json "$BASE$EP" > /dev/null 2>&1   # warm-up

timeout $(( SECS + 30 )) "$OHA" -z "$(( SECS + 2 ))"s -c "$CONC" --worker-threads 1 --no-tui --output-format json "$BASE$EP" > "$OUT/oha.json" 2>&1 &
LOAD=$!
sleep 1
perf record -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$PID" -o "$OUT/perf.data" -- sleep "$SECS" 2> "$OUT/perf-record.log"
wait "$LOAD" || true
cleanup

# --no-inline: perf 6.1 resolves inlined frames with addr2line, which takes minutes here.
report() { perf report -i "$OUT/perf.data" --stdio --no-inline -g none "$@" 2>/dev/null | grep '%' | grep -v '^#' || true; }
report --no-children --sort dso > "$OUT/by-dso.txt"
report --no-children --sort dso,sym > "$OUT/flat.txt"
report --children --sort sym > "$OUT/inclusive.txt"
echo "== req/s: $(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(j.summary.requestsPerSec.toFixed(0), "p99 ms", j.metrics.latency_ms.p99.toFixed(2))' "$OUT/oha.json")"
echo "== by DSO";  cat "$OUT/by-dso.txt"
echo "== flat (self time)"; head -40 "$OUT/flat.txt" || true
echo "== inclusive (children)"; head -80 "$OUT/inclusive.txt" || true
echo "profile data: ${OUT#"$ROOT"/}"
