#!/usr/bin/env bash
# edgesim vs Miniflare, side by side, in one run (`just bench`):
#   install what is missing (oha 1.16.0, wrk, the Miniflare harness's npm deps)
#   -> build `target/debug/edgesim` -> edgesim: cold start, load, CPU, peak RSS
#   -> Miniflare: the shared harness (anchors/miniflare/run.sh) with the same settings
#   -> KV model ops/s, simulation virtual/wall ratio, seed-campaign seeds/s and 1->2 jobs scaling
#   (bench/campaign.sh) -> bench/results/<UTC date>.md (also printed).
# Loopback only (127.0.0.1). Every load run is time-bounded. Every server started here is stopped
# by its PID (trap); the harness stops its own Node/workerd pair the same way.
#
# Knobs (env):  DURATION=10  WARMUP=3  CONCS="1 16 64"  ENDPOINTS="/hello /articles"  COLD_RUNS=5
#               OHA_THREADS=1  PORT=8787  SUPABASE_PORT=54321  SIDES="edgesim miniflare" (either alone works)
#               MINIFLARE_SRC=<repo>/../shared/anchors/miniflare  BUILD=1 (0: use the existing binary)
#               EDGESIM=<repo>/target/debug/edgesim  RESULT_MD=bench/results/<UTC date>.md
#               INSTANTIATE=auto (1: build bench/instantiate, a separate wasmtime build of ~5-15 min, and
#               run it; auto: run it when already built; 0: skip)
#               VARIANT=anchor (the Worker edgesim serves for the side-by-side table: `anchor` is the
#               harness's worker.mjs ported to Rust, the same work as Miniflare does)
#               COURSE_CONCS="16" (also load the course Worker's /hello and /articles at these
#               concurrencies, reported apart; empty: skip)
#               JS=1 (0: skip) serve the harness's worker.mjs itself as a JS Worker through a
#               wrangler.toml (edgesim-js; needs Node), JS_CONCS="16 64" its load points
#               FLOOR=1 (0: skip the HTTP-floor and in-process Host::handle measurements)
#               JS_SIM=1 (0: skip) the simulation's JS/Rust ratio (bench/js-sim.sh: the standard
#               scenario with worker/js/course vs the Rust course Worker, JS_SIM_ROUNDS=3 interleaved
#               rounds; needs Node)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONCS=${CONCS:-"1 16 64"}
ENDPOINTS=${ENDPOINTS:-"/hello /articles"}
COLD_RUNS=${COLD_RUNS:-5}
OHA_THREADS=${OHA_THREADS:-1}
PORT=${PORT:-8787}
SUPABASE_PORT=${SUPABASE_PORT:-54321}
SIDES=${SIDES:-"edgesim miniflare"}
VARIANT=${VARIANT:-anchor}
COURSE_CONCS=${COURSE_CONCS-16}
JS=${JS:-1}
FLOOR=${FLOOR:-1}
JS_SIM=${JS_SIM:-1}
JS_SIM_ROUNDS=${JS_SIM_ROUNDS:-3}
JS_CONCS=${JS_CONCS:-"16 64"}
side() { [[ " $SIDES " == *" $1 "* ]]; }
MINIFLARE_SRC=${MINIFLARE_SRC:-$ROOT/../shared/anchors/miniflare}
BUILD=${BUILD:-1}
EDGESIM=${EDGESIM:-$ROOT/target/debug/edgesim}
TOOLS="$ROOT/bench/tools"
OHA="$TOOLS/oha/bin/oha"
MF="$TOOLS/miniflare"
BASE="http://127.0.0.1:${PORT}"
RESULT_MD=${RESULT_MD:-$ROOT/bench/results/$(date -u +%F).md}

OUT="$TOOLS/runs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT/raw"
log() { echo "[bench] $*" | tee -a "$OUT/run.log" >&2; }

# ------------------------------------------------------------------ 1. tools
command -v node >/dev/null && command -v npm >/dev/null \
  || { log "node and npm are needed (Node >= 20, for Miniflare and the report)"; exit 1; }
if [ ! -x "$OHA" ]; then
  log "building oha 1.16.0 into bench/tools/oha (cargo install --locked; ~5-10 min on 2 cores)"
  timeout 1800 cargo install oha --version 1.16.0 --locked --root "$TOOLS/oha" > "$OUT/oha-build.log" 2>&1 \
    || { log "oha build failed (see $OUT/oha-build.log)"; exit 1; }
fi
if ! command -v wrk >/dev/null; then
  log "installing wrk from Debian"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk || log "could not install wrk (only oha is used here)"
fi
if side miniflare; then
  [ -f "$MINIFLARE_SRC/run.sh" ] || { log "Miniflare harness not found at $MINIFLARE_SRC (set MINIFLARE_SRC, or SIDES=edgesim)"; exit 1; }
  # A writable copy of the harness (the shared one stays untouched); node_modules and results persist.
  mkdir -p "$MF/tools"
  for f in "$MINIFLARE_SRC"/* "$MINIFLARE_SRC"/.gitignore; do
    name=$(basename "$f")
    case "$name" in node_modules|results|tools) continue ;; esac
    rm -rf "${MF:?}/$name"
    cp -r "$f" "$MF/$name"
  done
  chmod -R u+w "$MF"
  ln -sfn ../../oha "$MF/tools/oha"      # the harness looks for tools/oha/bin/oha: share ours
  if [ ! -x "$MF/node_modules/@cloudflare/workerd-linux-64/bin/workerd" ] || [ ! -d "$MF/node_modules/miniflare" ]; then
    log "installing the Miniflare harness's npm deps (npm ci)"
    (cd "$MF" && npm ci --no-audit --no-fund) > "$OUT/npm-ci.log" 2>&1 \
      || { log "npm ci failed (see $OUT/npm-ci.log)"; exit 1; }
  fi
fi
if side edgesim && [ "$BUILD" = 1 ]; then
  log "building edgesim (cargo build -p edgesim-cli; the dev profile optimises the hot crates)"
  cargo build -p edgesim-cli > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; log "cargo build failed (see $OUT/build.log)"; exit 1; }
fi
if side edgesim && [ ! -x "$EDGESIM" ]; then log "no edgesim binary at $EDGESIM"; exit 1; fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT" "$SUPABASE_PORT"; do
  if port_busy "$p"; then log "port $p already in use -- refusing to run"; exit 1; fi
done

CLK_TCK=$(getconf CLK_TCK)
{
  echo "date_utc=$(date -u +%FT%TZ)"
  echo "host=$(uname -srm) cpus=$(nproc) mem_total_kb=$(awk '/MemTotal/{print $2}' /proc/meminfo)"
  echo "cpu_model=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "edgesim=$("$EDGESIM" --version 2>/dev/null | head -1) git=$(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD -- crates worker 2>/dev/null || echo +dirty)"
  echo "edgesim_binary=${EDGESIM#"$ROOT"/} ($(du -k "$EDGESIM" 2>/dev/null | cut -f1) kB)"
  echo "oha=$("$OHA" --version 2>&1 | head -1)"
  echo "node=$(node --version)"
  echo "loadavg_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "duration_s=$DURATION warmup_s=$WARMUP concs=\"$CONCS\" endpoints=\"$ENDPOINTS\" cold_runs=$COLD_RUNS oha_worker_threads=$OHA_THREADS variant=$VARIANT course_concs=\"$COURSE_CONCS\""
} > "$OUT/versions.txt"
cat "$OUT/versions.txt" >&2

# ------------------------------------------------------------------ 2. edgesim cold start
PID=""; SAMPLER=""
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
cleanup() {
  set +e
  if [ -n "$SAMPLER" ] && alive "$SAMPLER"; then kill -TERM "$SAMPLER"; wait "$SAMPLER" 2>/dev/null; fi
  if [ -n "$PID" ] && alive "$PID"; then
    kill -TERM "$PID"
    for _ in $(seq 1 100); do alive "$PID" || break; sleep 0.05; done
    alive "$PID" && kill -KILL "$PID"
    wait "$PID" 2>/dev/null
  fi
  PID=""; SAMPLER=""
  set -e
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
if side edgesim; then
STATE="$OUT/state"
SERVER=("$EDGESIM" dev --variant "$VARIANT" --port "$PORT" --supabase-port "$SUPABASE_PORT" --persist-to "$STATE" --reset)
export RUST_LOG=${RUST_LOG:-warn}        # no per-request log lines on the measured path
log "edgesim cold start: $COLD_RUNS measured runs (+1 discarded run, which compiles and caches the Worker)"
timeout 600 node bench/coldstart.mjs "$COLD_RUNS" 1 "$PORT" -- "${SERVER[@]}" | tee "$OUT/raw/coldstart.txt" >&2

# ------------------------------------------------------------------ 3. edgesim server
rss_kb()  { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
hwm_kb()  { awk '/^VmHWM/{print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
start_server() { # command...: start it, wait for /hello, warm /articles into a KV hit
  log "starting: $*"
  "$@" > "$OUT/${TAG:-}server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 1200); do
    [ "$(curl -s --max-time 1 "$BASE/hello" 2>/dev/null)" = ok ] && break
    alive "$PID" || break; sleep 0.05
  done
  [ "$(curl -s --max-time 5 "$BASE/hello")" = ok ] || { log "/hello sanity failed"; cat "$OUT/server.log" >&2; exit 1; }
  # The first request after --reset is a miss that fills KV.
  local hit=0
  for _ in $(seq 1 100); do
    if curl -s --max-time 5 -D - -o /dev/null "$BASE/articles" | grep -qi '^x-kv: hit'; then hit=1; break; fi
    sleep 0.1
  done
  [ "$hit" = 1 ] || { log "/articles never became a KV hit"; curl -s -D - "$BASE/articles" >&2; exit 1; }
}
start_server "${SERVER[@]}"
curl -s --max-time 5 "$BASE/articles" > "$OUT/raw/articles_body.json"
echo "idle rss_kb=$(rss_kb "$PID") threads=$(ls "/proc/$PID/task" | wc -l)" > "$OUT/rss.txt"
log "sanity ok (/hello=ok, /articles x-kv: hit, $(wc -c < "$OUT/raw/articles_body.json") bytes), pid $PID"

( for _ in $(seq 1 3600); do
    alive "$PID" || break
    echo "$(date +%s) $(awk '/^VmRSS/{print $2}' "/proc/$PID/status" 2>/dev/null)"
    sleep 1
  done ) > "$OUT/raw/rss_series.txt" &
SAMPLER=$!

printf 'tool\tendpoint\tconc\tpass\trps\tp50_ms\tp99_ms\trequests\terrors\tserver_cpu_pct\tloadgen_cpu_pct\tserver_cpu_s\n' > "$OUT/results.tsv"
run_oha() { # endpoint conc seconds outfile
  timeout $(( $3 + 30 )) "$OHA" -z "$3"s -c "$2" --worker-threads "$OHA_THREADS" --no-tui --output-format json "$BASE$1" > "$4" 2>&1
}
measure() { # endpoint conc
  local ep=$1 c=$2 name f tf c0 c1 t0 t1
  local TIMEFORMAT='%U %S'
  name="${TAG:-}oha_$(echo "$ep" | tr -c 'a-zA-Z0-9\n' '_')_c${c}_p1"
  f="$OUT/raw/$name.txt"; tf="$OUT/raw/$name.time"
  run_oha "$ep" "$c" "$WARMUP" "$OUT/raw/$name.warmup.txt"
  c0=$(cpu_ticks "$PID"); t0=$(date +%s%N)
  { time run_oha "$ep" "$c" "$DURATION" "$f" ; } 2> "$tf"
  c1=$(cpu_ticks "$PID"); t1=$(date +%s%N)
  node bench/parse.mjs oha "$f" "$tf" "$ep" "$c" 1 "$(( c1 - c0 ))" "$CLK_TCK" "$(( (t1 - t0) / 1000000 ))" >> "$OUT/results.tsv"
  tail -1 "$OUT/results.tsv" | tee -a "$OUT/run.log" >&2
}
log "load: oha -z ${DURATION}s after a ${WARMUP}s warm-up, c in {$CONCS}, endpoints $ENDPOINTS"
for ep in $ENDPOINTS; do
  for c in $CONCS; do measure "$ep" "$c"; done
done
curl -s --max-time 5 -D - -o /dev/null "$BASE/articles" | grep -qi '^x-kv: hit' || log "WARNING: /articles is no longer a KV hit after the load"
echo "final peak_rss_kb(VmHWM)=$(hwm_kb "$PID") rss_kb=$(rss_kb "$PID") threads=$(ls "/proc/$PID/task" | wc -l)" >> "$OUT/rss.txt"
log "stopping edgesim: kill -TERM $PID"
STOPPED=$PID
cleanup
sleep 0.2
if alive "$STOPPED"; then log "WARNING: edgesim $STOPPED is still alive"; fi
fi  # side edgesim

# ------------------------------------------------------------------ 3a. the course Worker (reported apart)
# The demo Worker parses the KV text and serialises it again (as the course's JS does); the
# side-by-side table above runs the anchor's Worker, which does what Miniflare's does.
if side edgesim && [ -n "$COURSE_CONCS" ]; then
  TAG=course_
  start_server "$EDGESIM" dev --variant course --port "$PORT" --supabase-port "$SUPABASE_PORT" --persist-to "$OUT/state-course" --reset
  MAIN_TSV="$OUT/results.tsv"
  head -1 "$MAIN_TSV" > "$OUT/course.tsv"
  for ep in $ENDPOINTS; do
    for c in $COURSE_CONCS; do
      measure "$ep" "$c"
      tail -1 "$MAIN_TSV" >> "$OUT/course.tsv"
      sed -i '$d' "$MAIN_TSV"
    done
  done
  cleanup
  TAG=""
fi

# ------------------------------------------------------------------ 3b. the harness's worker.mjs itself, as a JS Worker
# The Miniflare harness's `worker.mjs`, unchanged, through a wrangler.toml that names it, built by
# edgesim-js (esbuild + componentize-js) and served by `edgesim dev --config`: cold start with the
# compiled component cached, the same load at JS_CONCS, peak RSS. Reported against Miniflare on
# the same file in the same run (section "JavaScript Worker" of the report).
if side edgesim && [ "$JS" = 1 ]; then
  JS_DIR="$OUT/js-anchor"
  mkdir -p "$JS_DIR"
  printf 'name = "anchor-js"\nmain = "%s"\ncompatibility_date = "2024-09-23"\n\n[[kv_namespaces]]\nbinding = "ARTICLES"\nid = "local"\n' \
    "$MINIFLARE_SRC/worker.mjs" > "$JS_DIR/wrangler.toml"
  JS_SERVER=("$EDGESIM" dev --config "$JS_DIR/wrangler.toml" --port "$PORT" --supabase-port "$SUPABASE_PORT" --persist-to "$OUT/state-js" --reset)
  log "JS Worker ($MINIFLARE_SRC/worker.mjs via wrangler.toml) cold start: $COLD_RUNS measured runs (+1 discarded run, which builds the component and caches it)"
  COLD_TIMEOUT_MS=600000 timeout 1200 node bench/coldstart.mjs "$COLD_RUNS" 1 "$PORT" -- "${JS_SERVER[@]}" | tee "$OUT/raw/js_coldstart.txt" >&2
  TAG=js_
  start_server "${JS_SERVER[@]}"
  echo "idle rss_kb=$(rss_kb "$PID") threads=$(ls "/proc/$PID/task" | wc -l)" > "$OUT/js_rss.txt"
  MAIN_TSV="$OUT/results.tsv"
  head -1 "$MAIN_TSV" > "$OUT/js.tsv"
  for ep in $ENDPOINTS; do
    for c in $JS_CONCS; do
      measure "$ep" "$c"
      tail -1 "$MAIN_TSV" >> "$OUT/js.tsv"
      sed -i '$d' "$MAIN_TSV"
    done
  done
  echo "final peak_rss_kb(VmHWM)=$(hwm_kb "$PID") rss_kb=$(rss_kb "$PID") threads=$(ls "/proc/$PID/task" | wc -l)" >> "$OUT/js_rss.txt"
  cleanup
  TAG=""
fi

# ------------------------------------------------------------------ 3c. what HTTP alone costs, what the host alone costs
# The HTTP floor: plain hyper on the same runtime shape, no wasm (crates/host/examples/http_floor.rs),
# loaded like edgesim at c=16; and Host::handle in process, no sockets (examples/handle_cost.rs).
if side edgesim && [ "$FLOOR" = 1 ]; then
  if timeout 900 cargo build -q -p edgesim-host --example http_floor --example handle_cost > "$OUT/examples-build.log" 2>&1; then
    FLOOR_BIN="$ROOT/target/debug/examples/http_floor"
    "$FLOOR_BIN" "$PORT" > "$OUT/floor.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 200); do [ "$(curl -s --max-time 1 "$BASE/" 2>/dev/null)" = ok ] && break; sleep 0.05; done
    MAIN_TSV="$OUT/results.tsv"
    head -1 "$MAIN_TSV" > "$OUT/floor.tsv"
    measure / 16
    tail -1 "$MAIN_TSV" >> "$OUT/floor.tsv"
    sed -i '$d' "$MAIN_TSV"
    cleanup
    log "in-process Host::handle cost (examples/handle_cost)"
    WORKER="$VARIANT" timeout 600 "$ROOT/target/debug/examples/handle_cost" 20000 > "$OUT/handle_cost.txt" 2>&1 \
      || log "handle_cost failed (see $OUT/handle_cost.txt)"
    cat "$OUT/handle_cost.txt" >&2
  else
    log "building the examples failed (see $OUT/examples-build.log)"
  fi
fi

# ------------------------------------------------------------------ 4. Miniflare (shared harness)
MF_DIR=""
if side miniflare; then
  log "Miniflare: harness run.sh with TOOLS=oha REPEATS=1 and the same settings"
  echo "loadavg_at_start=$(cut -d' ' -f1-3 /proc/loadavg)" > "$OUT/miniflare-load.txt"
  before=$(ls -1 "$MF/results" 2>/dev/null | sort | tail -1 || true)
  ( cd "$MF" && DURATION=$DURATION WARMUP=$WARMUP REPEATS=1 CONCS="$CONCS" ENDPOINTS="$ENDPOINTS" \
      COLD_RUNS=$COLD_RUNS OHA_THREADS=$OHA_THREADS TOOLS=oha BUILD_OHA=0 timeout 1800 ./run.sh ) \
      > "$OUT/miniflare.log" 2>&1 || { log "the Miniflare harness failed (see $OUT/miniflare.log)"; tail -20 "$OUT/miniflare.log" >&2; exit 1; }
  after=$(ls -1 "$MF/results" | sort | tail -1)
  [ -n "$after" ] && [ "$after" != "$before" ] || { log "the harness wrote no new results"; exit 1; }
  MF_DIR="$MF/results/$after"
  log "Miniflare results in $MF_DIR"
fi

# ------------------------------------------------------------------ 5. extras
log "KV model operations per second (cargo run -p edgesim-kv --example kv_ops)"
if ! side edgesim; then
  : > "$OUT/kv_ops.json"; echo "edgesim was not run (SIDES=$SIDES)" > "$OUT/kv_ops.note"
elif timeout 900 cargo run -q -p edgesim-kv --example kv_ops > "$OUT/kv_ops.json" 2> "$OUT/kv_ops.err"; then
  cat "$OUT/kv_ops.json" >&2
else
  log "kv_ops failed (see $OUT/kv_ops.err)"; : > "$OUT/kv_ops.json"
fi
INSTANTIATE=${INSTANTIATE:-auto}
INST_TARGET="$TOOLS/instantiate-target"
INST_BIN="$INST_TARGET/debug/edgesim-bench-instantiate"
HELLO_WASM=$(ls -t worker/target/wasm32-wasip2/release/hello.wasm target/debug/build/edgesim-guests-*/out/hello.wasm 2>/dev/null | head -1 || true)
if [ "$INSTANTIATE" = 1 ] && [ ! -x "$INST_BIN" ]; then
  log "building bench/instantiate (its own wasmtime build)"
  (cd bench/instantiate && CARGO_TARGET_DIR="$INST_TARGET" timeout 1800 cargo build) > "$OUT/instantiate-build.log" 2>&1 \
    || log "bench/instantiate build failed (see $OUT/instantiate-build.log)"
fi
if [ "$INSTANTIATE" != 0 ] && [ -x "$INST_BIN" ] && [ -n "$HELLO_WASM" ]; then
  log "instantiation microbench: $HELLO_WASM"
  timeout 600 "$INST_BIN" "$HELLO_WASM" 5000 pool:1048576 pool:65536 pool:0 ondemand reuse:1048576 > "$OUT/instantiate.txt" 2>&1 \
    || log "instantiation microbench failed (see $OUT/instantiate.txt)"
  cat "$OUT/instantiate.txt" >&2
else
  echo "not run (INSTANTIATE=$INSTANTIATE; binary $( [ -x "$INST_BIN" ] && echo present || echo absent ), hello fixture ${HELLO_WASM:-absent}); enable with INSTANTIATE=1" > "$OUT/instantiate.note"
fi
SCENARIO=fixtures/scenarios/standard.toml
if ! side edgesim; then
  echo "edgesim was not run (SIDES=$SIDES)" > "$OUT/sim.note"
elif [ -f "$SCENARIO" ]; then
  log "simulation: edgesim run $SCENARIO --json"
  t0=$(date +%s%N)
  if timeout 900 "$EDGESIM" run "$SCENARIO" --json > "$OUT/sim.json" 2> "$OUT/sim.err"; then
    t1=$(date +%s%N); echo "$(( (t1 - t0) / 1000000 ))" > "$OUT/sim.process_ms"
  else
    log "edgesim run failed (exit $?; see $OUT/sim.err)"; echo "failed: $(tail -1 "$OUT/sim.err")" > "$OUT/sim.note"
  fi
else
  echo "absent: $SCENARIO does not exist yet" > "$OUT/sim.note"
fi

if side edgesim; then
  log "seed campaigns: seeds/s for bench/swarm.toml on 1 core and all cores, 1 -> 2 jobs scaling (bench/campaign.sh)"
  EDGESIM="$EDGESIM" ./bench/campaign.sh "$OUT" > /dev/null 2> "$OUT/campaign.err" \
    || { log "bench/campaign.sh failed (see $OUT/campaign.err)"; echo "campaign benchmark failed: $(tail -1 "$OUT/campaign.err")" > "$OUT/campaign.md"; }
fi

if side edgesim && [ "$JS" = 1 ] && [ "$JS_SIM" = 1 ]; then
  log "simulation JS/Rust ratio: standard scenario, worker/js/course vs course, $JS_SIM_ROUNDS interleaved rounds (bench/js-sim.sh)"
  EDGESIM="$EDGESIM" ROUNDS="$JS_SIM_ROUNDS" ./bench/js-sim.sh "$OUT" > "$OUT/js-sim.md" 2> "$OUT/js-sim.err" \
    || { log "bench/js-sim.sh failed (see $OUT/js-sim.err)"; echo "JS simulation benchmark failed: $(tail -1 "$OUT/js-sim.err")" > "$OUT/js-sim.md"; }
fi

# ------------------------------------------------------------------ 6. report
mkdir -p "$(dirname "$RESULT_MD")"
node bench/report.mjs "$OUT" "$MF_DIR" > "$RESULT_MD"
[ -f "$OUT/campaign.md" ] && cat "$OUT/campaign.md" >> "$RESULT_MD"
[ -f "$OUT/js-sim.md" ] && { echo; cat "$OUT/js-sim.md"; } >> "$RESULT_MD"
cat "$RESULT_MD"
log "report: ${RESULT_MD#"$ROOT"/}; raw data: ${OUT#"$ROOT"/}${MF_DIR:+ and ${MF_DIR#"$ROOT"/}}"
