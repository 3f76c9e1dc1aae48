// One oha (or wrk) output file -> one TSV row of bench results (same rules as the Miniflare
// harness's bench/parse.mjs, so both sides are read identically).
// args: tool outFile timeFile endpoint conc pass serverTicks clkTck wallMs
// columns: tool endpoint conc pass rps p50_ms p99_ms requests errors server_cpu_pct loadgen_cpu_pct server_cpu_s
import { readFileSync } from "node:fs";

const [tool, outFile, timeFile, ep, conc, pass, ticks, clkTck, wallMs] = process.argv.slice(2);
const text = readFileSync(outFile, "utf8");
const wallS = Number(wallMs) / 1000;
const [u, s] = readFileSync(timeFile, "utf8").trim().split(/\s+/).slice(-2).map(Number);
const serverCpuS = Number(ticks) / Number(clkTck);

let rps, p50, p99, requests, errors;
if (tool === "oha") {
  const j = JSON.parse(text.slice(text.indexOf("{")));
  rps = j.summary.requestsPerSec; p50 = j.metrics.latency_ms.p50; p99 = j.metrics.latency_ms.p99;
  const codes = j.statusCodeDistribution ?? {};
  requests = Object.values(codes).reduce((a, b) => a + b, 0);
  const non2xx = Object.entries(codes).filter(([k]) => !k.startsWith("2")).reduce((a, [, v]) => a + v, 0);
  // oha cancels the requests in flight at the deadline ("aborted due to deadline"): not server errors.
  const errs = Object.entries(j.errorDistribution ?? {}).filter(([k]) => !/deadline/i.test(k));
  errors = non2xx + errs.reduce((a, [, v]) => a + v, 0);
} else if (tool === "wrk") {
  const line = text.split("\n").find((l) => l.startsWith("WRKJSON "));
  if (!line) throw new Error(`no WRKJSON line in ${outFile}`);
  const j = JSON.parse(line.slice(8));
  rps = j.rps; p50 = j.lat_p50_us / 1000; p99 = j.lat_p99_us / 1000; requests = j.requests;
  errors = j.err_connect + j.err_read + j.err_write + j.err_status + j.err_timeout;
} else throw new Error(`unknown tool ${tool}`);

const f = (x, d) => Number(x).toFixed(d);
console.log([tool, ep, conc, pass, f(rps, 0), f(p50, 3), f(p99, 3), requests, errors,
  f((serverCpuS / wallS) * 100, 0), f(((u + s) / wallS) * 100, 0), f(serverCpuS, 2)].join("\t"));
