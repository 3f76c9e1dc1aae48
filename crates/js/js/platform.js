// What the Workers platform itself provides to every Worker, as workerd has it: `navigator`,
// `request.cf`, and the deferred top level of a service-worker script (so it sees its bindings
// as globals, as in production). Imported by adapter.js; the differential probe suite
// (crates/js/tests/workerd_probes.rs) checks these against workerd.

// ---------------------------------------------------------------------------------------------
// navigator

/**
 * workerd's `Navigator` (compatibility dates from 2025 on): own, read-only, enumerable data
 * properties `languages`, `language`, `platform`, `hardwareConcurrency`, `userAgent`, and
 * `sendBeacon` on the prototype (which edgesim cannot deliver anywhere, so it returns false).
 */
class Navigator {
  constructor() {
    const define = (name, value) =>
      Object.defineProperty(this, name, {
        value,
        enumerable: true,
        configurable: true,
        writable: false,
      });
    define("languages", Object.freeze(["en"]));
    define("language", "en");
    define("platform", "");
    define("hardwareConcurrency", 1);
    define("userAgent", "Cloudflare-Workers");
  }

  /** Beacons need a network path edgesim does not model: nothing is queued (false). */
  sendBeacon() {
    return false;
  }
}
// workerd defines toStringTag on the prototype as a plain value, not an accessor.
Object.defineProperty(Navigator.prototype, Symbol.toStringTag, {
  value: "Navigator",
  configurable: true,
});

if (typeof globalThis.navigator === "undefined") {
  Object.defineProperty(globalThis, "Navigator", {
    value: Navigator,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  Object.defineProperty(globalThis, "navigator", {
    value: new Navigator(),
    writable: true,
    configurable: true,
    enumerable: true,
  });
}

// ---------------------------------------------------------------------------------------------
// request.cf

/** Per colo, the static `cf` fields the host sends in `/config` (crates/host/src/cf.rs). */
let cfTable = {};

/** Takes the host's per-instance configuration (`GET /config`): its `cf` table per colo. */
export function platformConfig(config) {
  if (config && config.cf && typeof config.cf === "object") cfTable = config.cf;
}

/**
 * `request.cf` for a request at `colo`: the colo's row of the host's table (the client's
 * location near the colo, its network, the connection's TLS facts) with the request's own
 * `Accept-Encoding`. `country` (from `cf-ipcountry`) wins over the table's.
 */
export function requestCf(colo, country, headers) {
  const row = cfTable[colo];
  const cf = row ? copy(row) : { colo };
  cf.colo = colo;
  if (country) cf.country = country;
  const encoding = headers && typeof headers.get === "function" ? headers.get("accept-encoding") : null;
  if (encoding !== null && encoding !== undefined) cf.clientAcceptEncoding = encoding;
  return cf;
}

/** A fresh copy (a Worker may change its `request.cf` without touching the next request's). */
function copy(value) {
  if (Array.isArray(value)) return value.map(copy);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const k in value) out[k] = copy(value[k]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Service-worker syntax: the script's top level, run once per instance with its bindings.

/** The key of the deferred top level in the worker object the build hands `serve()`. */
export const SERVICE_WORKER_MAIN = "__edgesimServiceWorkerMain";

let topLevel = null; // the top level's promise, once started

/**
 * A service-worker script's top level (the build wraps it in a function, because wizer would
 * otherwise run it at build time, before bindings exist): runs it once per instance, at the
 * first event, after installing `env`'s bindings and vars as globals, as production evaluates
 * the script with them present. Every event waits for it; an exception there fails this and
 * every later event of the instance, like a script that fails to start. Module syntax: does
 * nothing.
 */
export function startServiceWorker(worker, env) {
  const main = worker && worker[SERVICE_WORKER_MAIN];
  if (typeof main !== "function") return undefined;
  if (topLevel === null) {
    for (const [name, value] of Object.entries(env || {})) globalThis[name] = value;
    topLevel = main.call(globalThis);
  }
  return topLevel;
}
