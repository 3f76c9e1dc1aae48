// The workerd side of the differential probe suite: runs each probe Worker in Miniflare
// (workerd, the runtime production and `wrangler dev` run) and prints one line of JSON,
// `{"<file>": {<probe>: <result>}, ...}`.
//
//   node workerd.mjs [--env '{"vars":{"A":"x"},"kv":["KV"]}'] globals.js web.js ...
//   (from this directory, after `npm ci`)
//
// Each probe Worker answers `GET https://worker.test/probe` with its probes' results. Its
// outgoing fetches to http://supabase.test are answered here the way edgesim's test host
// answers them (crates/js/tests/common: `/rest/v1/articles` gives one article, anything else
// 404), so fetch probes see the same upstream on both sides. No network is used.
import { Miniflare, Log, LogLevel } from "miniflare";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";

/** The date the probe Workers are run at (any recent date: edgesim has no compatibility dates). */
export const COMPATIBILITY_DATE = "2026-04-01";

function upstream(request) {
  const url = new URL(request.url);
  if (url.host === "supabase.test" && url.pathname === "/rest/v1/articles") {
    return new Response('[{"id":1,"title":"first"}]', {
      headers: { "content-type": "application/json" },
    });
  }
  return new Response("{}", { status: 404 });
}

async function runProbe(file, env) {
  const lib = await readFile("lib.js", "utf8");
  const script = await readFile(file, "utf8");
  const mf = new Miniflare({
    modules: [
      { type: "ESModule", path: basename(file), contents: script },
      { type: "ESModule", path: "lib.js", contents: lib },
    ],
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: env.vars,
    kvNamespaces: env.kv,
    cf: false,
    outboundService: upstream,
    log: new Log(LogLevel.WARN),
  });
  const get = async (query) => {
    const response = await mf.dispatchFetch(`https://worker.test/probe${query}`, {
      headers: { "accept-encoding": "gzip" },
      cf: env.cf,
    });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      return { "<response>": `${response.status} ${text.slice(0, 500)}` };
    }
  };
  try {
    const all = await get("");
    if (!("<response>" in all)) return all;
    // The whole run failed: one request per probe.
    const names = await get("?list");
    if (!Array.isArray(names)) return all;
    const out = {};
    for (const name of names) {
      const one = await get(`?only=${encodeURIComponent(name)}`);
      out[name] = "<response>" in one ? one : one[name];
    }
    return out;
  } finally {
    await mf.dispose();
  }
}

// `--env '{"vars": {...}, "kv": [...], "cf": {...}}'`: the bindings edgesim's test host gives
// the probes, and the `request.cf` of its default colo (merged into Miniflare's placeholder).
let args = process.argv.slice(2);
let env = { vars: {}, kv: [] };
if (args[0] === "--env") {
  env = JSON.parse(args[1]);
  args = args.slice(2);
}
const out = {};
for (const file of args) out[file] = await runProbe(file, env);
process.stdout.write(JSON.stringify(out) + "\n");
