// Markdown report of one bench/run.sh run: edgesim's raw figures, Miniflare's (from the shared
// harness, same run), the ratios edgesim/Miniflare and the issue's goals.
// Usage: node bench/report.mjs <edgesim run dir> [<miniflare harness results dir>]
import { readFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";

const [esDir, mfDir] = process.argv.slice(2);
const read = (p) => (existsSync(p) ? readFileSync(p, "utf8") : "");
const haveMf = Boolean(mfDir) && existsSync(join(mfDir, "results.tsv"));

function rows(dir) {
  const [head, ...lines] = read(join(dir, "results.tsv")).trim().split("\n");
  const cols = head.split("\t");
  return lines.filter(Boolean).map((l) => {
    const v = l.split("\t");
    const r = Object.fromEntries(cols.map((c, i) => [c, i > 1 && i !== 0 ? Number(v[i]) : v[i]]));
    r.cpu_pct = r.server_cpu_pct ?? r.workerd_cpu_pct; // the harness names it after workerd
    return r;
  });
}
function cold(dir) {
  const t = read(join(dir, "raw", "coldstart.txt"));
  const s = (k) => {
    const m = new RegExp(`COLDSUMMARY ${k} runs=(\\d+) min=([\\d.]+) median=([\\d.]+) max=([\\d.]+)`).exec(t);
    return m ? { n: +m[1], min: +m[2], median: +m[3], max: +m[4] } : null;
  };
  const runs = t.split("\n").filter((l) => l.startsWith("COLDJSON ")).map((l) => JSON.parse(l.slice(9)));
  return { hello: s("first_hello_ms"), kv: s("first_kv_hit_ms"), runs };
}
const kvNum = (text, re) => { const m = re.exec(text); return m ? Number(m[1]) : null; };
const bodyBytes = (dir) => { const p = join(dir, "raw", "articles_body.json"); return existsSync(p) ? statSync(p).size : null; };

const es = { rows: rows(esDir), cold: cold(esDir), rss: read(join(esDir, "rss.txt")), versions: read(join(esDir, "versions.txt")).trim() };
es.peak = kvNum(es.rss, /peak_rss_kb\(VmHWM\)=(\d+)/);
es.idle = kvNum(es.rss, /idle rss_kb=(\d+)/);
const mf = haveMf ? { rows: rows(mfDir), cold: cold(mfDir), rss: read(join(mfDir, "rss.txt")), versions: read(join(mfDir, "versions.txt")).trim() } : null;
if (mf) {
  mf.peak = kvNum(mf.rss, /final workerd_peak_rss_kb\(VmHWM\)=(\d+)/);
  mf.nodePeak = kvNum(mf.rss, /final .*node_peak_rss_kb\(VmHWM\)=(\d+)/);
  mf.idle = kvNum(mf.rss, /idle workerd_rss_kb=(\d+)/);
}

const f = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? "n/a" : Number(x).toFixed(d));
const ratio = (a, b, d = 2) => (a == null || b == null || !b ? "n/a" : `${(a / b).toFixed(d)}`);
const mib = (kb) => (kb == null ? "n/a" : `${(kb / 1024).toFixed(1)} MiB`);
const find = (side, ep, c) => side?.rows.find((r) => r.tool === "oha" && r.endpoint === ep && r.conc === c) ?? null;
const usPerReq = (r) => (r && r.rps ? ((r.cpu_pct / 100) / r.rps) * 1e6 : null);

const out = [];
const date = /date_utc=(\S+)/.exec(es.versions)?.[1] ?? new Date().toISOString();
out.push(`# edgesim vs Miniflare: ${date.slice(0, 10)}`, "");
out.push("Reproduce: `just bench` (= `./bench/run.sh`; knobs in its header). One run measures edgesim, then Miniflare",
  "through the shared harness (`anchors/miniflare/run.sh` with `TOOLS=oha REPEATS=1`), on the same machine with the",
  "same load: `oha -z 10s -c C --worker-threads 1 --no-tui --output-format json` after a 3 s warm-up, loopback only.",
  "Ratios are edgesim / Miniflare from this one run. CPU % is utime+stime of the server process over the",
  "measurement window (100 % = one core); for Miniflare it is workerd's (the Node parent is not in the request path).",
  "Where the time goes: `./bench/profile.sh /articles 16 8` (perf); findings in `bench/results/*-profile.md`.", "");

// ---------------------------------------------------------------- goals
const a16 = find(es, "/articles", 16), m16 = find(mf, "/articles", 16);
const goals = [];
if (mf) {
  const g = (name, e, m, unit, d, r, target, ok) => goals.push(`| ${name} | ${e == null ? "n/a" : f(e, d) + unit} | ${m == null ? "n/a" : f(m, d) + unit} | ${r} | ${target} | ${ok == null ? "n/a" : ok ? "**met**" : "**missed**"} |`);
  const rr = a16 && m16 ? a16.rps / m16.rps : null;
  g("/articles c=16 req/s", a16?.rps, m16?.rps, "", 0, rr == null ? "n/a" : `${rr.toFixed(2)}×`, "≥ 10×", rr == null ? null : rr >= 10);
  const pr = a16 && m16 ? a16.p99_ms / m16.p99_ms : null;
  g("/articles c=16 p99", a16?.p99_ms, m16?.p99_ms, " ms", 2, pr == null ? "n/a" : pr.toFixed(3), "≤ 0.1", pr == null ? null : pr <= 0.1);
  const rs = es.peak && mf.peak ? es.peak / mf.peak : null;
  goals.push(`| peak RSS (VmHWM), edgesim vs workerd | ${mib(es.peak)} | ${mib(mf.peak)} | ${rs == null ? "n/a" : rs.toFixed(3)} | ≤ 0.125 | ${rs == null ? "n/a" : rs <= 0.125 ? "**met**" : "**missed**"} |`);
  const cr = es.cold.hello && mf.cold.hello ? es.cold.hello.median / mf.cold.hello.median : null;
  g("cold start → first 200 /hello (median)", es.cold.hello?.median, mf.cold.hello?.median, " ms", 1, cr == null ? "n/a" : cr.toFixed(3), "≤ 0.1", cr == null ? null : cr <= 0.1);
  out.push("## Goals", "", "| goal | edgesim | Miniflare | ratio | target | |", "|---|---:|---:|---:|---|---|", ...goals, "");
} else {
  out.push("## Goals", "", "Miniflare was not run (SIDES without `miniflare`): no ratios.", "");
}

// ---------------------------------------------------------------- load table
out.push("## Throughput and latency (oha)", "");
out.push("| endpoint | conc | req/s edgesim | req/s Miniflare | ratio | p50 ms edgesim | p50 ms Miniflare | ratio | p99 ms edgesim | p99 ms Miniflare | ratio | server CPU % edgesim | workerd CPU % | errors edgesim / Miniflare |");
out.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
const points = (es.rows.length ? es.rows : mf?.rows ?? []).filter((r) => r.tool === "oha").map((r) => [r.endpoint, r.conc]);
for (const [ep, c] of points) {
  const e = find(es, ep, c) ?? {}, m = find(mf, ep, c);
  out.push(`| ${ep} | ${c} | ${f(e.rps)} | ${f(m?.rps)} | ${ratio(e.rps, m?.rps)}× | ${f(e.p50_ms, 3)} | ${f(m?.p50_ms, 3)} | ${ratio(e.p50_ms, m?.p50_ms, 3)} | ${f(e.p99_ms, 3)} | ${f(m?.p99_ms, 3)} | ${ratio(e.p99_ms, m?.p99_ms, 3)} | ${f(e.cpu_pct)} | ${f(m?.cpu_pct)} | ${e.errors ?? "n/a"} / ${m ? m.errors : "n/a"} |`);
}
out.push("", "oha cancels the requests still in flight at the deadline; those are not counted as errors (as in the harness).", "");
const variant = /variant=(\S+)/.exec(es.versions)?.[1] ?? "course";
if (variant === "anchor") {
  out.push("Both sides run the same Worker: edgesim serves `--variant anchor`, the harness's `worker.mjs` ported to Rust",
    "(`worker/fixtures/src/anchor.rs`: same routes, KV keys, bodies and headers; `/articles` answers the stored text as is).", "");
} else {
  out.push(`edgesim serves \`--variant ${variant}\`, Miniflare the harness's \`worker.mjs\`: the two Workers differ.`, "");
}

// ---------------------------------------------------------------- the course Worker, apart
const courseTsv = read(join(esDir, "course.tsv")).trim().split("\n");
if (courseTsv.length > 1) {
  const cols = courseTsv[0].split("\t");
  const course = courseTsv.slice(1).map((l) => {
    const v = l.split("\t");
    const r = Object.fromEntries(cols.map((c, i) => [c, i > 1 ? Number(v[i]) : v[i]]));
    r.cpu_pct = r.server_cpu_pct;
    return r;
  });
  out.push("### The course Worker (not a goal row)", "",
    "The demo Worker (`edgesim dev`'s default) on the same edgesim build, same load. Its `/articles` parses the KV text and",
    "serialises it again, as the course's JavaScript does, and its list is the seeded demo rows; Miniflare's column is the",
    "anchor Worker's figure from the table above, for scale only.", "",
    "| endpoint | conc | req/s course Worker | req/s Miniflare (anchor) | ratio | p99 ms | server CPU % | µs CPU/request | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const r of course) {
    const m = find(mf, r.endpoint, r.conc);
    out.push(`| ${r.endpoint} | ${r.conc} | ${f(r.rps)} | ${f(m?.rps)} | ${ratio(r.rps, m?.rps)}× | ${f(r.p99_ms, 3)} | ${f(r.cpu_pct)} | ${f(usPerReq(r), 1)} | ${r.errors} |`);
  }
  out.push("");
}

// ---------------------------------------------------------------- the JS Worker (worker.mjs itself)
const jsTsv = read(join(esDir, "js.tsv")).trim().split("\n");
if (jsTsv.length > 1) {
  const cols = jsTsv[0].split("\t");
  const js = { rows: jsTsv.slice(1).map((l) => {
    const v = l.split("\t");
    const r = Object.fromEntries(cols.map((c, i) => [c, i > 1 ? Number(v[i]) : v[i]]));
    r.cpu_pct = r.server_cpu_pct;
    return r;
  }) };
  const jsRss = read(join(esDir, "js_rss.txt"));
  js.peak = kvNum(jsRss, /peak_rss_kb\(VmHWM\)=(\d+)/);
  js.cold = (() => {
    const t = read(join(esDir, "raw", "js_coldstart.txt"));
    const m = /COLDSUMMARY first_hello_ms runs=(\d+) min=([\d.]+) median=([\d.]+) max=([\d.]+)/.exec(t);
    return m ? { n: +m[1], min: +m[2], median: +m[3], max: +m[4] } : null;
  })();
  const mfWhole = mf ? mf.peak + (mf.nodePeak ?? 0) : null;
  const verdict = (ok) => (ok == null ? "n/a" : ok ? "**met**" : "**missed**");
  out.push("## JavaScript Worker: the harness's `worker.mjs` itself", "",
    "The same file Miniflare serves, unchanged, named by a generated `wrangler.toml` (`main` = the harness's `worker.mjs`,",
    "one KV binding `ARTICLES`), built by edgesim-js (esbuild, then componentize-js / StarlingMonkey) and served by",
    "`edgesim dev --config`. Same load as above; Miniflare's figures are from this run's harness pass.", "");
  const rows = [];
  for (const ep of ["/hello", "/articles"]) {
    const e = js.rows.find((r) => r.endpoint === ep && r.conc === 16), m = find(mf, ep, 16);
    const rr = e && m ? e.rps / m.rps : null, pr = e && m ? e.p99_ms / m.p99_ms : null;
    rows.push(`| ${ep} c=16 req/s | ${f(e?.rps)} | ${f(m?.rps)} | ${rr == null ? "n/a" : rr.toFixed(2) + "×"} | ≥ 1.5× | ${verdict(rr == null ? null : rr >= 1.5)} |`);
    rows.push(`| ${ep} c=16 p99 | ${f(e?.p99_ms, 2)} ms | ${f(m?.p99_ms, 2)} ms | ${pr == null ? "n/a" : pr.toFixed(3)} | ≤ 0.25 | ${verdict(pr == null ? null : pr <= 0.25)} |`);
  }
  const rs = js.peak && mfWhole ? js.peak / mfWhole : null;
  rows.push(`| peak RSS (VmHWM) vs Miniflare (node + workerd) | ${mib(js.peak)} | ${mfWhole == null ? "n/a" : mib(mfWhole)} | ${rs == null ? "n/a" : rs.toFixed(3)} | ≤ 1 | ${verdict(rs == null ? null : rs <= 1)} |`);
  const cr = js.cold && mf?.cold.hello ? js.cold.median / mf.cold.hello.median : null;
  rows.push(`| cold start → first 200 /hello, compiled component cached (median) | ${f(js.cold?.median, 1)} ms | ${f(mf?.cold.hello?.median, 1)} ms | ${cr == null ? "n/a" : cr.toFixed(3)} | ≤ 0.1 | ${verdict(cr == null ? null : cr <= 0.1)} |`);
  out.push("| goal (JS Worker) | edgesim | Miniflare | ratio | target | |", "|---|---:|---:|---:|---|---|", ...rows, "");
  out.push("| endpoint | conc | req/s | p50 ms | p99 ms | server CPU % | µs CPU/request | errors |", "|---|---:|---:|---:|---:|---:|---:|---|");
  for (const r of js.rows) out.push(`| ${r.endpoint} | ${r.conc} | ${f(r.rps)} | ${f(r.p50_ms, 3)} | ${f(r.p99_ms, 3)} | ${f(r.cpu_pct)} | ${f(usPerReq(r), 1)} | ${r.errors} |`);
  out.push("");
}

// ---------------------------------------------------------------- memory + cold start
const cs = (c) => (c ? `${f(c.median, 1)} (${f(c.min, 1)}–${f(c.max, 1)}, n=${c.n})` : "n/a");
out.push("## Memory and cold start", "");
out.push("| | edgesim | Miniflare | ratio |", "|---|---:|---:|---:|");
out.push(`| idle RSS after warm-up (workerd for Miniflare) | ${mib(es.idle)} | ${mib(mf?.idle)} | ${ratio(es.idle, mf?.idle, 3)} |`);
out.push(`| peak RSS, VmHWM (workerd for Miniflare) | ${mib(es.peak)} | ${mib(mf?.peak)} | ${ratio(es.peak, mf?.peak, 3)} |`);
out.push(`| peak RSS, whole server (workerd + Node parent) | ${mib(es.peak)} | ${mf ? mib(mf.peak + (mf.nodePeak ?? 0)) : "n/a"} | ${ratio(es.peak, mf ? mf.peak + (mf.nodePeak ?? 0) : null, 3)} |`);
out.push(`| cold start → first 200 /hello, ms median (min–max) | ${cs(es.cold.hello)} | ${cs(mf?.cold.hello)} | ${ratio(es.cold.hello?.median, mf?.cold.hello?.median, 3)} |`);
out.push(`| cold start → first KV hit /articles, ms median (min–max) | ${cs(es.cold.kv)} | ${cs(mf?.cold.kv)} | ${ratio(es.cold.kv?.median, mf?.cold.kv?.median, 3)} |`);
const esFirst = es.cold.runs.find((r) => r.tag === "warmup");
out.push("", `Cold start: spawn → first 200 "ok" on /hello, polled every 5 ms, 1 discarded run then ${es.cold.hello?.n ?? "n/a"} measured runs, each a new process.`,
  `edgesim runs \`edgesim dev --reset --persist-to <dir>\`: the discarded first run compiles the Worker with Cranelift and caches it under \`<dir>/cache\`${esFirst ? ` (${f(esFirst.first_hello_ms, 0)} ms to the first 200)` : ""}; the measured runs load the precompiled component.`,
  variant === "anchor"
    ? "edgesim starts from empty KV, so its first /articles is a miss on which the Worker writes the list (as `worker.mjs` does on a miss); Miniflare's start.mjs seeds KV itself. That miss pays the KV model's modelled latency from the default colo (SYD, 150 ms to central) twice, for the read and for the write: about 300 ms of this row is the model, by design, not start-up."
    : "edgesim starts from empty KV, so its first /articles is a miss that the Worker fills from the mock Supabase; Miniflare's start.mjs seeds KV itself.", "");

// ---------------------------------------------------------------- per-request cost
out.push("## Server CPU per request (wasm instantiation cost)", "");
out.push("Server CPU seconds in the window / requests served: the whole per-request cost (HTTP, instance, guest, KV). With a fresh",
  "instance per request, /hello's figure bounds the instantiation cost from above; with instance reuse (edgesim-host's default",
  "`InstancePolicy`) most requests skip instantiation, and the microbench below isolates what it costs.", "");
out.push("| endpoint | conc | edgesim µs CPU/request | Miniflare (workerd) µs CPU/request | ratio |", "|---|---:|---:|---:|---:|");
for (const [ep, c] of points) {
  const e = find(es, ep, c), m = find(mf, ep, c);
  out.push(`| ${ep} | ${c} | ${f(usPerReq(e), 1)} | ${f(usPerReq(m), 1)} | ${ratio(usPerReq(e), usPerReq(m), 3)} |`);
}
out.push("", "For reference (`reference/verified-here.md`): stock `wasmtime serve` 48 spends about 190 µs of CPU per hello request.", "");
const inst = read(join(esDir, "instantiate.txt")).trim();
out.push("In-process microbench (`bench/instantiate`: the `hello` fixture, one request = fresh Store + instantiate + `handle` + drop, as",
  "edgesim-host does it, no HTTP; `pool:<bytes>` = pooling allocator with that `linear_memory_keep_resident`,",
  "`reuse` = one instance whose `handle` is called again per request):", "");
out.push(inst ? ["```", inst, "```"].join("\n") : `Not run: ${read(join(esDir, "instantiate.note")).trim() || "no output"}.`, "");

// ---------------------------------------------------------------- HTTP floor and in-process cost
const floorTsv = read(join(esDir, "floor.tsv")).trim().split("\n");
const handleCost = read(join(esDir, "handle_cost.txt")).trim();
if (floorTsv.length > 1 || handleCost) {
  out.push("Where edgesim's per-request CPU goes, measured in the same run:", "");
  if (floorTsv.length > 1) {
    const cols = floorTsv[0].split("\t"), v = floorTsv[1].split("\t");
    const r = Object.fromEntries(cols.map((c, i) => [c, i > 1 ? Number(v[i]) : v[i]]));
    r.cpu_pct = r.server_cpu_pct;
    out.push(`- HTTP floor (\`crates/host/examples/http_floor.rs\`: plain hyper answering \`ok\` on the same 2-worker runtime, no wasm), oha c=16: ${f(r.rps)} req/s at ${f(usPerReq(r), 1)} µs CPU/request.`);
  }
  if (handleCost) {
    out.push(`- \`Host::handle\` in process, no sockets (\`crates/host/examples/handle_cost.rs\`: the ${variant} Worker on a reused instance):`, "", "```", handleCost, "```");
  }
  out.push("");
}

// ---------------------------------------------------------------- KV model
out.push("## KV model operations per second", "");
const kvText = read(join(esDir, "kv_ops.json")).trim();
if (kvText) {
  try {
    const k = JSON.parse(kvText.split("\n").pop());
    out.push("`cargo run -p edgesim-kv --example kv_ops` (in process, one thread, no HTTP, no wasm):", "");
    out.push("| operation | ops | colo cache hits | ops/s | µs/op |", "|---|---:|---:|---:|---:|");
    for (const op of k.ops) out.push(`| ${op.name} | ${op.count} | ${op.hits ?? "–"} | ${f(op.ops_per_s)} | ${f(1e6 / op.ops_per_s, 2)} |`);
    if (k.note) out.push("", k.note);
  } catch (err) { out.push(`kv_ops output unreadable: ${err.message}`); }
} else out.push(`Not measured: ${read(join(esDir, "kv_ops.note")).trim() || "the kv_ops example failed (see the run's kv_ops.err)"}.`);
out.push("");

// ---------------------------------------------------------------- simulation
out.push("## Simulation: virtual time / wall time", "");
const simJson = read(join(esDir, "sim.json")).trim();
const simNote = read(join(esDir, "sim.note")).trim();
if (simJson) {
  let j = null;
  try { j = JSON.parse(simJson); } catch { try { j = JSON.parse(simJson.split("\n").filter(Boolean).pop()); } catch { j = null; } }
  const nums = {};
  const walk = (o, p) => { for (const [k, v] of Object.entries(o ?? {})) { if (typeof v === "number") nums[p + k] = v; else if (v && typeof v === "object" && !Array.isArray(v)) walk(v, p + k + "."); } };
  walk(j, "");
  const vk = Object.keys(nums).find((k) => /virtual/i.test(k));
  const wk = Object.keys(nums).find((k) => /wall/i.test(k));
  const procMs = Number(read(join(esDir, "sim.process_ms")).trim()) || null;
  if (vk && wk && nums[wk] > 0) {
    const unitV = /_s$|secs?$/.test(vk) ? 1000 : 1, unitW = /_s$|secs?$/.test(wk) ? 1000 : 1;
    out.push(`\`edgesim run fixtures/scenarios/standard.toml --json\`: ${vk} = ${nums[vk]}, ${wk} = ${nums[wk]} → virtual/wall = **${f((nums[vk] * unitV) / (nums[wk] * unitW), 1)}×**${procMs ? ` (whole process, including start-up: ${procMs} ms)` : ""}.`);
  } else {
    out.push(`\`edgesim run ... --json\` printed no virtual/wall fields I could read; numeric fields: ${Object.entries(nums).slice(0, 12).map(([k, v]) => `${k}=${v}`).join(", ") || "none"}.`);
  }
} else out.push(`Not measured: ${simNote || "no output"}.`);
out.push("");

// ---------------------------------------------------------------- setup
out.push("## Setup and caveats", "");
const eb = bodyBytes(esDir), mb = mf ? bodyBytes(mfDir) : null;
out.push(`- /articles body: edgesim ${eb ?? "n/a"} bytes, Miniflare ${mb ?? "n/a"} bytes (both a KV hit: \`x-kv: hit\` checked before the load).`);
out.push(`- Load average at the start: edgesim ${/loadavg_at_start=(.*)/.exec(es.versions)?.[1] ?? "n/a"}, Miniflare ${/loadavg_at_start=(.*)/.exec(read(join(esDir, "miniflare-load.txt")))?.[1] ?? "n/a"}. The machine has 2 cores shared by the server and oha; compare ratios, not absolutes.`);
out.push("- One pass per point (the harness's RESULTS.md has 4 samples per point: oha req/s within ±10 % of the median).", "");
out.push("edgesim run:", "```", es.versions, "```");
if (mf) out.push("", "Miniflare run (harness versions.txt):", "```", mf.versions, "```");
console.log(out.join("\n"));
