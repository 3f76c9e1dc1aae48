// Cold start of any server command: wall time from spawn to
//   (a) the first GET /hello answered 200 "ok",
//   (b) the first GET /articles answered 200 with `x-kv: hit`.
// Same method as the Miniflare harness (anchors/miniflare/bench/coldstart.mjs): poll every 5 ms,
// 1+ discarded runs first, then N measured runs, each against a new process, stopped by PID.
// Loopback only; every run is bounded by TIMEOUT_MS.
// Usage: node bench/coldstart.mjs <runs> <warmupRuns> <port> -- <command> [args...]
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import net from "node:net";

const sep = process.argv.indexOf("--");
if (sep < 0 || sep + 1 >= process.argv.length) {
  console.error("usage: node bench/coldstart.mjs <runs> <warmupRuns> <port> -- <command> [args...]");
  process.exit(2);
}
const [RUNS, WARMUP, PORT] = process.argv.slice(2, sep).map(Number);
const [cmd, ...args] = process.argv.slice(sep + 1);
const BASE = `http://127.0.0.1:${PORT}`;
const POLL_MS = 5;
const TIMEOUT_MS = Number(process.env.COLD_TIMEOUT_MS ?? 120_000); // the discarded run may compile

const now = () => Number(process.hrtime.bigint()) / 1e6;

function portOpen() {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port: PORT });
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}

async function pollUntil(pred, deadline, child) {
  while (now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited (${child.exitCode ?? child.signalCode})`);
    try { if (await pred()) return now(); } catch { /* not up yet */ }
    await sleep(POLL_MS);
  }
  throw new Error("timeout");
}

async function once() {
  if (await portOpen()) throw new Error(`port ${PORT} already in use; refusing to measure`);
  const t0 = now();
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise((r) => child.once("exit", () => r()));
  const deadline = t0 + TIMEOUT_MS;
  try {
    const tHello = await pollUntil(async () => {
      const r = await fetch(`${BASE}/hello`);
      return r.status === 200 && (await r.text()) === "ok";
    }, deadline, child);
    const tKv = await pollUntil(async () => {
      const r = await fetch(`${BASE}/articles`);
      await r.arrayBuffer();
      return r.status === 200 && r.headers.get("x-kv") === "hit";
    }, deadline, child);
    return { first_hello_ms: +(tHello - t0).toFixed(1), first_kv_hit_ms: +(tKv - t0).toFixed(1), pid: child.pid };
  } finally {
    child.kill("SIGTERM"); // by PID (child.pid)
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) { child.kill("SIGKILL"); await Promise.race([exited, sleep(2000)]); }
    const d2 = now() + 5000;
    while (now() < d2 && (await portOpen())) await sleep(20);
  }
}

const results = [];
for (let i = 0; i < WARMUP + RUNS; i++) {
  const r = await once();
  const tag = i < WARMUP ? "warmup" : "run";
  console.log(`COLDJSON ${JSON.stringify({ tag, i, ...r })}`);
  if (i >= WARMUP) results.push(r);
  await sleep(300);
}
const med = (k) => { const v = results.map((r) => r[k]).sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
const min = (k) => Math.min(...results.map((r) => r[k]));
const max = (k) => Math.max(...results.map((r) => r[k]));
for (const k of ["first_hello_ms", "first_kv_hit_ms"]) {
  console.log(`COLDSUMMARY ${k} runs=${results.length} min=${min(k)} median=${med(k)} max=${max(k)}`);
}
