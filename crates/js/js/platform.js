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

// workerd's global scope is a ServiceWorkerGlobalScope.
if (!Object.getOwnPropertyDescriptor(globalThis, Symbol.toStringTag)) {
  Object.defineProperty(globalThis, Symbol.toStringTag, {
    value: "ServiceWorkerGlobalScope",
    configurable: true,
  });
}

// ---------------------------------------------------------------------------------------------
// Small Web API gaps of the engine that workerd fills (each only where missing).

/** `for await (const chunk of stream)` and `stream.values()`, as workerd has them. */
if (typeof ReadableStream === "function" && !ReadableStream.prototype[Symbol.asyncIterator]) {
  const values = async function* values(options) {
    const reader = this.getReader();
    const preventCancel = Boolean(options && options.preventCancel);
    let finished = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          finished = true;
          return;
        }
        yield value;
      }
    } finally {
      if (!finished && !preventCancel) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  };
  for (const key of ["values", Symbol.asyncIterator]) {
    Object.defineProperty(ReadableStream.prototype, key, {
      value: values,
      writable: true,
      configurable: true,
    });
  }
}

/** `ReadableStream.from(iterable)`: a stream of an iterable's or async iterable's values. */
if (typeof ReadableStream === "function" && typeof ReadableStream.from !== "function") {
  Object.defineProperty(ReadableStream, "from", {
    value: function from(iterable) {
      const it =
        iterable != null && typeof iterable[Symbol.asyncIterator] === "function"
          ? iterable[Symbol.asyncIterator]()
          : iterable != null && typeof iterable[Symbol.iterator] === "function"
            ? iterable[Symbol.iterator]()
            : null;
      if (it === null) throw new TypeError("ReadableStream.from: the argument is not iterable");
      return new ReadableStream({
        async pull(controller) {
          const { value, done } = await it.next();
          if (done) controller.close();
          else controller.enqueue(await value);
        },
        async cancel(reason) {
          if (typeof it.return === "function") await it.return(reason);
        },
      });
    },
    writable: true,
    configurable: true,
  });
}

/** `URL.canParse(url, base)` and `URL.parse(url, base)` (null instead of a throw). */
if (typeof URL === "function") {
  const parse = (url, base) => {
    try {
      return base === undefined ? new URL(url) : new URL(url, base);
    } catch {
      return null;
    }
  };
  if (typeof URL.canParse !== "function") {
    Object.defineProperty(URL, "canParse", {
      value: function canParse(url, base) {
        return parse(url, base) !== null;
      },
      writable: true,
      configurable: true,
    });
  }
  if (typeof URL.parse !== "function") {
    Object.defineProperty(URL, "parse", {
      value: function parse_(url, base) {
        return parse(url, base);
      },
      writable: true,
      configurable: true,
    });
    Object.defineProperty(URL.parse, "name", { value: "parse" });
  }
}

/** `atob`/`btoa` throw workerd's `InvalidCharacterError` DOMException, not a RangeError. */
for (const [name, message] of [
  [
    "atob",
    "atob() called with invalid base64-encoded data. (Only whitespace, '+', '/', alphanumeric " +
      "ASCII, and up to two terminal '=' signs when the input data length is divisible by 4 are allowed.)",
  ],
  ["btoa", "btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range."],
]) {
  const native = globalThis[name];
  if (typeof native !== "function" || typeof DOMException !== "function") continue;
  const wrapped = {
    [name](data) {
      try {
        return native(data);
      } catch (error) {
        if (error instanceof RangeError) throw new DOMException(message, "InvalidCharacterError");
        throw error;
      }
    },
  }[name];
  Object.defineProperty(globalThis, name, { value: wrapped, writable: true, configurable: true, enumerable: true });
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

/**
 * `request.cf` lives where workerd has it: an accessor on `Request.prototype` (not an own
 * property), a frozen object, kept by `request.clone()` and `new Request(request, init)`, and
 * set by `new Request(url, { cf })`. Requests the Worker builds itself otherwise have none.
 */
const cfOf = new WeakMap(); // request -> cf object, or a function computing it on first read

/** Gives `request` its `cf`: an object, or a function that computes it on first read. */
export function attachCf(request, cf) {
  cfOf.set(request, cf);
}

function cfFor(request) {
  let cf = cfOf.get(request);
  if (typeof cf === "function") {
    cf = Object.freeze(cf());
    cfOf.set(request, cf);
  }
  return cf;
}

const NativeRequest = globalThis.Request;
if (typeof NativeRequest === "function" && !Object.getOwnPropertyDescriptor(NativeRequest.prototype, "cf")) {
  Object.defineProperty(NativeRequest.prototype, "cf", {
    get() {
      return cfFor(this);
    },
    enumerable: true,
    configurable: true,
  });
  const nativeClone = NativeRequest.prototype.clone;
  Object.defineProperty(NativeRequest.prototype, "clone", {
    value: function clone() {
      const copy = nativeClone.call(this);
      const cf = cfOf.get(this);
      if (cf !== undefined) cfOf.set(copy, cf);
      return copy;
    },
    writable: true,
    configurable: true,
  });
  /** `Request`, which also carries `cf` over from a request or from `init.cf`. */
  const Request = function Request(input, init) {
    if (new.target === undefined) {
      throw new TypeError("Failed to construct 'Request': Please use the 'new' operator.");
    }
    const request = Reflect.construct(NativeRequest, [input, init], new.target);
    let cf;
    if (init !== null && typeof init === "object" && init.cf !== undefined) cf = init.cf;
    else if (input instanceof NativeRequest) cf = cfOf.get(input);
    if (cf !== undefined) cfOf.set(request, cf);
    return request;
  };
  Request.prototype = NativeRequest.prototype;
  Object.defineProperty(NativeRequest.prototype, "constructor", {
    value: Request,
    writable: true,
    configurable: true,
  });
  Object.setPrototypeOf(Request, Object.getPrototypeOf(NativeRequest));
  Object.defineProperty(globalThis, "Request", {
    value: Request,
    writable: true,
    configurable: true,
    enumerable: false,
  });
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
  if (typeof main !== "function") {
    blockCodeGeneration();
    return undefined;
  }
  if (topLevel === null) {
    for (const [name, value] of Object.entries(env || {})) globalThis[name] = value;
    topLevel = (async () => {
      try {
        await main.call(globalThis);
      } finally {
        blockCodeGeneration();
      }
    })();
  }
  return topLevel;
}

// ---------------------------------------------------------------------------------------------
// No code generation from strings while serving events.

let codeGenerationBlocked = false;

/**
 * Workers may not generate code from strings: `eval`, `new Function` (and the async and
 * generator function constructors) throw workerd's EvalError once the script has started
 * (workerd allows them only while the script's top level is evaluated, with compatibility dates
 * from 2025-06-01). Called at the instance's first event, after a service-worker script's top
 * level ran; a module's top level ran at build time. Without this a Worker relying on `eval`
 * would work in edgesim and fail in production.
 */
function blockCodeGeneration() {
  if (codeGenerationBlocked) return;
  codeGenerationBlocked = true;
  const message = "Code generation from strings disallowed for this context";
  const refuse = (name) => {
    // A plain function, so `new Function(...)` reaches the EvalError too.
    const f = function () {
      throw new EvalError(message);
    };
    Object.defineProperty(f, "name", { value: name });
    return f;
  };
  Object.defineProperty(globalThis, "eval", {
    value: refuse("eval"),
    writable: true,
    configurable: true,
    enumerable: false,
  });
  const prototypes = [
    Function.prototype,
    Object.getPrototypeOf(async function () {}),
    Object.getPrototypeOf(function* () {}),
    Object.getPrototypeOf(async function* () {}),
  ];
  for (const proto of prototypes) {
    const native = proto.constructor;
    const refused = refuse(native.name);
    Object.defineProperty(refused, "prototype", { value: proto });
    Object.defineProperty(proto, "constructor", {
      value: refused,
      writable: true,
      configurable: true,
    });
    if (native === globalThis.Function) {
      Object.defineProperty(globalThis, "Function", {
        value: refused,
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
  }
}
