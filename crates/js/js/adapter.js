// edgesim's runtime adapter for JavaScript Workers, bundled (by esbuild) in front of the
// user's module and turned into a wasi:http component by componentize-js.
//
// It exports `wasi:http/incoming-handler` itself (not componentize-js's fetch-event mode, which
// cannot serve a second request on a reused instance), so one instance serves many requests:
// each call builds a web `Request`, runs the Worker's `fetch(request, env, ctx)` (module
// syntax) or its `fetch` listeners (service-worker syntax), and writes the `Response` back.
//
// Everything the Worker asks of the platform goes to the host through ordinary outgoing
// wasi:http requests to the reserved host `edgesim.internal` (see crates/host/src/internal.rs):
// the engine's event loop awaits them natively, so KV calls never stall the instance. Vars and
// bindings come from the host at the first request of each instance, never at build time
// (wizer snapshots the top level of this module).

import {
  Fields,
  OutgoingBody,
  OutgoingResponse,
  ResponseOutparam,
} from "wasi:http/types@0.2.10";
// The synchronous host link (crates/host/src/js_link.rs): `/config` and KV calls in one call each.
// `hostText` is the same call answering a string (the answer decoded in place); both take the
// body as a string or bytes (js/bindings.mjs writes this glue).
import { call as hostCall, callText as hostText } from "edgesim:js-worker/link";
import { attachCf, platformConfig, requestCf, startServiceWorker } from "./platform.js";
import "./polyfills/index.js"; // what the engine lacks (Intl, crypto.subtle, ...)
import "./cache.js"; // `caches` (the Cache API, answered by the host per colo)
import "./htmlrewriter.js"; // `HTMLRewriter` (lol_html in the host, over the host link)

const INTERNAL = "http://edgesim.internal";
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const nativeFetch = globalThis.fetch;
const nativeSetTimeout = globalThis.setTimeout;

// ---------------------------------------------------------------------------------------------
// Globals the Worker's module may use at its top level (installed before it is evaluated).

const fetchListeners = [];
const scheduledListeners = [];

/**
 * Service-worker syntax: `addEventListener("fetch", (event) => event.respondWith(...))` and
 * `addEventListener("scheduled", (event) => event.waitUntil(...))`.
 */
globalThis.addEventListener = function addEventListener(type, listener) {
  if (typeof listener !== "function") return;
  if (type === "fetch") fetchListeners.push(listener);
  else if (type === "scheduled") scheduledListeners.push(listener);
};

const REALTIME_MESSAGE =
  "WebSocket connections are not available in edgesim: realtime (WebSocket) is not emulated; " +
  "REST calls (for example supabase-js queries) work.";

/**
 * A `WebSocket` class for libraries that check for one (supabase-js v2 creates its realtime
 * client eagerly). Opening a socket throws: realtime is out of edgesim's scope.
 */
class WebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  constructor(url) {
    throw new Error(`${REALTIME_MESSAGE} (tried to open ${url})`);
  }
}
if (typeof globalThis.WebSocket === "undefined") globalThis.WebSocket = WebSocket;

// ---------------------------------------------------------------------------------------------
// The host's per-instance configuration: vars and KV bindings.

let instance = null; // { env, globalsInstalled }

function loadInstance() {
  if (instance) return instance;
  const [status, text] = hostText("/config", "");
  if (status !== 200) throw new Error(`edgesim: the host's configuration failed: ${text}`);
  const config = JSON.parse(text);
  platformConfig(config);
  const env = {};
  for (const [name, value] of Object.entries(config.vars || {})) env[name] = value;
  for (const binding of config.kv || []) env[binding] = new KVNamespace(binding);
  instance = { env };
  return instance;
}

// ---------------------------------------------------------------------------------------------
// Workers KV, answered by the host's KV model.

/**
 * One KV call: JSON parameters (and a value) out, JSON (and a value) back, or a throw. The host
 * runs the operation at once (synchronous link) and says how long the model takes to answer;
 * the call resolves after that long on the guest's clock (virtual under simulation), so other
 * promises, including other KV calls, run meanwhile.
 */
async function kvCall(routes, op, params, value) {
  const head = encoder.encode(JSON.stringify(params) + "\n");
  let body = head;
  if (value && value.length) {
    body = new Uint8Array(head.length + value.length);
    body.set(head, 0);
    body.set(value, head.length);
  }
  const answer = hostCall(routes + op, body);
  const latencyMs = answer[2];
  if (latencyMs > 0) await new Promise((resolve) => nativeSetTimeout(resolve, latencyMs));
  return kvAnswer(answer);
}

/**
 * A KV answer (`[status, "meta JSON\nvalue", latency]`) as its meta object with `value` (the
 * bytes after the meta line), or the throw of the error it carries.
 */
function kvAnswer(answer) {
  const bytes = answer[1];
  let nl = bytes.indexOf(10);
  if (nl < 0) nl = bytes.length;
  const text = decoder.decode(bytes.subarray(0, nl));
  if (answer[0] !== 200) throw new Error(`edgesim: the KV call failed: ${text}`);
  const meta = JSON.parse(text);
  if (meta.error !== undefined) {
    throw meta.name === "TypeError" ? new TypeError(meta.error) : new Error(meta.error);
  }
  meta.value = bytes.subarray(nl + 1);
  return meta;
}

/**
 * `get` of one key, without an `async` frame: the host answers at once, so the promise is made
 * here and settles after the model's latency on the guest's clock (each `async` function and
 * `await` costs the engine a promise, a generator and a saved stack).
 */
function kvGet(path, key, opts) {
  let result;
  let failure;
  let latencyMs = 0;
  try {
    const params = { key: String(key), type: opts.type };
    if (opts.cacheTtl !== undefined) params.cacheTtl = opts.cacheTtl;
    const answer = hostCall(path, JSON.stringify(params));
    latencyMs = answer[2];
    const meta = kvAnswer(answer);
    result = meta.found ? decodeValue(meta.value, opts.type) : null;
  } catch (error) {
    failure = error;
  }
  if (failure !== undefined) {
    return latencyMs > 0
      ? new Promise((resolve, reject) => nativeSetTimeout(reject, latencyMs, failure))
      : Promise.reject(failure);
  }
  return latencyMs > 0
    ? new Promise((resolve) => nativeSetTimeout(resolve, latencyMs, result))
    : Promise.resolve(result);
}

const TEXT = { type: "text" };

/** `type` or `{type, cacheTtl}`, as `get` and `getWithMetadata` take them. */
function readOptions(options) {
  if (options === undefined || options === null) return TEXT;
  if (typeof options === "string") return { type: options };
  const out = { type: options.type === undefined ? "text" : String(options.type) };
  if (options.cacheTtl !== undefined) out.cacheTtl = Number(options.cacheTtl);
  return out;
}

function decodeValue(bytes, type) {
  switch (type) {
    case "json":
      return JSON.parse(decoder.decode(bytes));
    case "arrayBuffer":
      // A copy by this realm's Uint8Array: the host link's arrays (and their slices) are not
      // `instanceof` the Worker's Uint8Array/ArrayBuffer.
      return new Uint8Array(bytes).buffer;
    case "stream":
      return new Response(bytes.slice()).body;
    default:
      return decoder.decode(bytes);
  }
}

async function valueBytes(value) {
  if (typeof value === "string") return encoder.encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).arrayBuffer());
  // Like the runtime, anything else is converted to a string.
  return encoder.encode(String(value));
}

function optionalNumber(v) {
  return v === undefined || v === null ? undefined : Number(v);
}

/** A KV namespace binding (`env.ARTICLES`), with the Workers KV API. */
class KVNamespace {
  /** `/kv/<BINDING>/`: the host's routes for this binding (an operation's name follows). */
  #routes;
  constructor(binding) {
    this.#routes = `/kv/${encodeURIComponent(binding)}/`;
  }

  get(key, options) {
    let opts;
    try {
      opts = readOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (Array.isArray(key)) return this.#bulk(key, opts, false);
    return kvGet(this.#routes + "get", key, opts);
  }

  async getWithMetadata(key, options) {
    const opts = readOptions(options);
    if (Array.isArray(key)) return this.#bulk(key, opts, true);
    const r = await kvCall(this.#routes, "getWithMetadata", { key: String(key), ...opts });
    return {
      value: r.found ? decodeValue(r.value, opts.type) : null,
      metadata: r.metadata ?? null,
      cacheStatus: r.cacheStatus ?? null,
    };
  }

  async #bulk(keys, opts, withMetadata) {
    const r = await kvCall(this.#routes, "getBulk", {
      keys: keys.map(String),
      ...opts,
    });
    const out = new Map();
    for (const e of r.entries) {
      const value =
        e.value === null ? null : opts.type === "json" ? JSON.parse(e.value) : e.value;
      out.set(e.key, withMetadata ? { value, metadata: e.metadata ?? null } : value);
    }
    return out;
  }

  async put(key, value, options = {}) {
    const bytes = await valueBytes(value);
    const params = { key: String(key) };
    const o = options || {};
    if (o.expiration !== undefined) params.expiration = optionalNumber(o.expiration);
    if (o.expirationTtl !== undefined) params.expirationTtl = optionalNumber(o.expirationTtl);
    if (o.metadata !== undefined && o.metadata !== null) params.metadata = o.metadata;
    await kvCall(this.#routes, "put", params, bytes);
  }

  async delete(key) {
    await kvCall(this.#routes, "delete", { key: String(key) });
  }

  async list(options = {}) {
    const o = options || {};
    const params = {};
    if (o.prefix !== undefined && o.prefix !== null) params.prefix = String(o.prefix);
    if (o.limit !== undefined && o.limit !== null) params.limit = Number(o.limit);
    if (o.cursor !== undefined && o.cursor !== null) params.cursor = String(o.cursor);
    const r = await kvCall(this.#routes, "list", params);
    const page = { keys: r.keys, list_complete: r.list_complete };
    if (r.cursor !== undefined) page.cursor = r.cursor;
    page.cacheStatus = r.cacheStatus ?? null;
    return page;
  }
}

// ---------------------------------------------------------------------------------------------
// Requests and responses.

/**
 * Response bodies made from a string, kept aside (invisibly: a WeakMap) when the `Response` is
 * constructed, so `writeResponse` sends them as they are instead of reading the body back
 * through its stream (`arrayBuffer()` costs about 50 µs per response in the engine). `Response`
 * stays the engine's own class (same prototype, statics and `instanceof`), behind a Proxy that
 * only observes construction.
 */
const textBodies = new WeakMap();
globalThis.Response = new Proxy(globalThis.Response, {
  construct(target, args, newTarget) {
    const response = Reflect.construct(target, args, newTarget);
    if (typeof args[0] === "string") textBodies.set(response, args[0]);
    return response;
  },
});

/**
 * `Response.prototype.clone()`, which the engine lacks (the usual
 * `ctx.waitUntil(cache.put(request, response.clone()))` needs it). A body kept as a string is
 * shared; any other body is teed: the clone reads one branch, and the original's `body` (and
 * so `text()`, `json()`, `arrayBuffer()`, ... and `writeResponse`) reads the other.
 */
if (typeof Response.prototype.clone !== "function") {
  const proto = Response.prototype;
  const teed = new WeakMap();
  const nativeBody = Object.getOwnPropertyDescriptor(proto, "body")?.get;
  if (nativeBody) {
    Object.defineProperty(proto, "body", {
      configurable: true,
      enumerable: true,
      get() {
        return teed.get(this) ?? nativeBody.call(this);
      },
    });
    for (const name of ["text", "json", "arrayBuffer", "blob", "formData", "bytes"]) {
      const native = proto[name];
      if (typeof native !== "function") continue;
      proto[name] = function (...args) {
        const branch = teed.get(this);
        if (branch === undefined) return native.apply(this, args);
        return new Response(branch, { headers: this.headers })[name](...args);
      };
    }
    proto.clone = function clone() {
      if (this.bodyUsed || this.body?.locked) {
        throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
      }
      const init = { status: this.status, statusText: this.statusText, headers: new Headers(this.headers) };
      const text = textBodies.get(this);
      if (text !== undefined) return new Response(text, init);
      const body = this.body;
      if (body === null) return new Response(null, init);
      const [mine, theirs] = body.tee();
      teed.set(this, mine);
      return new Response(theirs, init);
    };
  }
}

/**
 * `Response.error()`, which the engine lacks: a network error as a `Response` (`type`
 * `"error"`, `status` 0, no body). The engine refuses status 0, so the instance carries its
 * own `type`, `status`, `ok` and `statusText`; `cache.put` refuses it as workerd does.
 */
if (typeof Response.error !== "function") {
  Object.defineProperty(Response, "error", {
    configurable: true,
    writable: true,
    value: function error() {
      const response = new Response(null);
      Object.defineProperties(response, {
        type: { value: "error" },
        status: { value: 0 },
        ok: { value: false },
        statusText: { value: "" },
      });
      return response;
    },
  });
}

/**
 * `blob()` of a `Response` or `Request`: the engine's Blob has an empty `type`; workerd's (and
 * the fetch spec's) is the body's `Content-Type`.
 */
for (const Body of [Response, Request]) {
  const nativeBlob = Body.prototype.blob;
  if (typeof nativeBlob !== "function") continue;
  Body.prototype.blob = async function blob() {
    const b = await nativeBlob.call(this);
    const type = this.headers.get("content-type");
    return b.type || type === null ? b : new Blob([b], { type });
  };
}

/**
 * The request's head in one host call (crates/host/src/js_link.rs, `/request`): method, path
 * with query, authority and the headers as strings. Reading them from the wasi:http resources
 * takes about five calls plus one per header value, each costing the engine far more than the
 * JSON.
 */
function requestHead() {
  // Indexing, not destructuring: the engine interprets this code, and destructuring an array
  // runs the iteration protocol (measured: the hot path's loops and destructuring cost more
  // than building the Request).
  const answer = hostText("/request", "");
  if (answer[0] !== 200) {
    throw new Error(`edgesim: the request's head is missing: ${answer[1]}`);
  }
  const head = JSON.parse(answer[1]);
  return { method: head[0], path: head[1], authority: head[2], headers: head[3] };
}

/** The value of header `name` (lower case) in a `[[name, value], ...]` list, or `undefined`. */
function headerIn(headers, name) {
  for (let i = 0; i < headers.length; i++) {
    if (headers[i][0] === name) return headers[i][1];
  }
  return undefined;
}

/**
 * The whole body. With a `content-length` the loop stops once it has that many bytes; without,
 * it reads until the stream reports closed, which costs a thrown error (about 200 µs here).
 */
function readAll(incomingBody, length) {
  const stream = incomingBody.stream();
  const chunks = [];
  let total = 0;
  while (length === undefined || total < length) {
    let chunk;
    try {
      chunk = stream.blockingRead(65536n);
    } catch (e) {
      break; // closed: the body is complete
    }
    if (chunk.length) {
      chunks.push(chunk);
      total += chunk.length;
    }
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The web `Request` for a wasi:http incoming request, and the facts the adapter needs.
 *
 * Built for speed (each step measured in the guest): the headers go to `Request` as one list
 * (`Headers.append` per header costs several times more), and `request.cf` is built on first
 * read (most Workers never read it).
 */
function toRequest(incoming, head) {
  const method = head.method;
  const headers = head.headers;
  const url = "https://" + (head.authority || "localhost") + head.path;
  const init = { method, headers };
  // A GET or HEAD body is never handed to the Worker (the fetch spec forbids one), so it is
  // not read: most requests skip the body stream entirely.
  if (method !== "GET" && method !== "HEAD") {
    const declared = headerIn(headers, "content-length");
    const length = declared !== undefined && /^[0-9]+$/.test(declared) ? Number(declared) : undefined;
    const body = readAll(incoming.consume(), length);
    if (body.length > 0) init.body = body;
  }
  const request = new Request(url, init);
  attachCf(request, () => {
    // Built on first read: most Workers never read `request.cf`.
    const ray = headerIn(headers, "cf-ray") || "";
    const colo = ray.includes("-") ? ray.slice(ray.lastIndexOf("-") + 1) : "";
    return requestCf(colo, headerIn(headers, "cf-ipcountry") || "", request.headers);
  });
  return { request, url, init };
}

/**
 * Sends `response` through `out` (which that consumes: `sent()` is called right after, so a
 * caller never hands `out` to the host twice) and writes its body.
 */
function writeResponse(response, out, sent = () => {}) {
  // A whole response goes out at once, with no promise to wait on (each `await` costs a turn of
  // the engine's job queue); a streamed body returns the promise of its writing.
  if (!(response instanceof Response)) {
    throw new TypeError(
      "Incorrect type for Promise: the Promise did not resolve to 'Response'.",
    );
  }
  // A body made from a string and not read since (reading disturbs the stream: `bodyUsed`) is
  // sent as that string; any other body is read to its end.
  // (`body` is read only when there is no such string: reading it makes the body's stream.)
  const text = textBodies.get(response);
  const whole = text !== undefined && !response.bodyUsed;
  if (whole || response.body === null) {
    // The whole response in one host call (`/respond`): the head as a JSON line, then the body.
    const list = [];
    for (const entry of response.headers) list.push(entry);
    let payload = JSON.stringify([response.status, list]) + "\n";
    if (whole) payload += text;
    const answer = hostText("/respond", payload);
    if (answer[0] !== 200) throw new TypeError(answer[1]);
    sent();
    return undefined;
  }
  return writeStreamed(response, out, sent);
}

/** Sends `response`'s head through `out`, then its body as it is produced. */
async function writeStreamed(response, out, sent) {
  // Any other body is written as it is produced, after the head (writeChunks), so a streamed
  // body (server-sent events) reaches the client as written.
  const list = [];
  for (const [name, value] of response.headers) list.push([name, encoder.encode(value)]);
  const reader = response.body.getReader();
  const resp = new OutgoingResponse(Fields.fromList(list));
  resp.setStatusCode(response.status);
  const body = resp.body();
  ResponseOutparam.set(out, { tag: "ok", val: resp });
  sent();
  await writeChunks(reader, body);
  OutgoingBody.finish(body, undefined);
}

/** Writes each chunk `reader` yields to `body` as soon as it is read. */
async function writeChunks(reader, body) {
  const stream = body.write();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const bytes =
        value instanceof Uint8Array
          ? value
          : ArrayBuffer.isView(value)
            ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
            : value instanceof ArrayBuffer
              ? new Uint8Array(value)
              : null;
      if (bytes === null) throw new TypeError("This ReadableStream did not return bytes.");
      for (let at = 0; at < bytes.length; at += 4096) {
        stream.blockingWriteAndFlush(bytes.subarray(at, at + 4096));
      }
    }
  } finally {
    stream[Symbol.dispose]?.();
  }
}

/** One readable line for an uncaught error: its message and its stack frames. */
function describe(error) {
  let head;
  try {
    head = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    head = "an unprintable value";
  }
  const stack =
    error && typeof error.stack === "string"
      ? error.stack
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l)
          .join(" < ")
      : "";
  return stack ? `Uncaught ${head} (stack: ${stack})` : `Uncaught ${head}`;
}

// ---------------------------------------------------------------------------------------------
// The handler.

/** Waits for every waitUntil promise, including ones added while waiting; logs failures. */
async function drain(pending) {
  while (pending.length) {
    const batch = pending.splice(0);
    const results = await Promise.allSettled(batch);
    for (const r of results) {
      if (r.status === "rejected") console.error(`${describe(r.reason)} (in waitUntil)`);
    }
  }
}

async function handle(worker, incoming, head, out) {
  const pending = [];
  let passThrough = false;
  let responded = false;
  let original;
  try {
    // No `await` where nothing is pending: each costs a turn of the engine's job queue.
    const env = loadInstance().env;
    const started = startServiceWorker(worker, env);
    if (started !== undefined) await started;
    const { request, url, init } = toRequest(incoming, head);
    original = { url, init };
    const ctx = {
      waitUntil(promise) {
        pending.push(Promise.resolve(promise));
      },
      passThroughOnException() {
        passThrough = true;
      },
      props: {},
    };
    let response;
    const handler = worker.default;
    if (handler && typeof handler.fetch === "function") {
      response = await handler.fetch(request, env, ctx);
    } else if (fetchListeners.length) {
      response = await dispatchFetchEvent(request, env, ctx);
    } else {
      throw new Error(
        "the Worker has no fetch handler: export default { fetch(request, env, ctx) } " +
          'or call addEventListener("fetch", ...)',
      );
    }
    const writing = writeResponse(response, out, () => {
      responded = true;
    });
    if (writing !== undefined) await writing;
  } catch (error) {
    if (!responded) {
      if (passThrough && original) {
        // passThroughOnException: forward the request to its origin, as production does.
        try {
          const response = await nativeFetch(original.url, original.init);
          await writeResponse(response, out, () => {
            responded = true;
          });
        } catch (forwardError) {
          error = new Error(
            `${describe(error)}; passThroughOnException could not reach the origin: ${describe(forwardError)}`,
          );
        }
      }
      if (!responded) {
        ResponseOutparam.set(out, {
          tag: "err",
          val: { tag: "internal-error", val: describe(error) },
        });
        responded = true;
      }
    } else {
      console.error(describe(error));
    }
  }
  if (pending.length) await drain(pending);
}

let globalsInstalled = false;

/** Service-worker syntax sees its bindings and vars as globals. */
function installGlobals(env) {
  if (globalsInstalled) return;
  for (const [name, value] of Object.entries(env)) globalThis[name] = value;
  globalsInstalled = true;
}

async function dispatchFetchEvent(request, env, ctx) {
  installGlobals(env);
  let responded = null;
  const event = {
    type: "fetch",
    request,
    respondWith(response) {
      if (responded) throw new Error("respondWith() was already called");
      responded = Promise.resolve(response);
    },
    waitUntil: ctx.waitUntil,
    passThroughOnException: ctx.passThroughOnException,
  };
  for (const listener of fetchListeners) {
    listener(event);
    if (responded) break;
  }
  if (!responded) {
    throw new Error("no fetch listener called event.respondWith()");
  }
  return responded;
}

// ---------------------------------------------------------------------------------------------
// Scheduled events (Cron Triggers).
//
// The host runs one as a request to itself that carries SCHEDULED_HEADER, a header it strips
// from every client request (crates/host/src/scheduled.rs), with `{cron, scheduledTime}`. The
// answer is `{outcome, noRetry, error}` once the handler and every waitUntil promise have
// settled: workerd treats the handler's promise as one more waitUntil promise and decides the
// event's outcome after all of them.

const SCHEDULED_HEADER = "x-edgesim-scheduled";

/** `controller` of module syntax's `scheduled(controller, env, ctx)`. */
class ScheduledController {
  #noRetry;
  constructor(scheduledTime, cron, noRetry) {
    this.scheduledTime = scheduledTime;
    this.cron = cron;
    this.#noRetry = noRetry;
    Object.freeze(this);
  }
  /** Asks the runtime not to retry this event if it fails. */
  noRetry() {
    this.#noRetry();
  }
}

/** Service-worker syntax's `ScheduledEvent`. */
class ScheduledEvent {
  #noRetry;
  #waitUntil;
  constructor(scheduledTime, cron, noRetry, waitUntil) {
    this.type = "scheduled";
    this.scheduledTime = scheduledTime;
    this.cron = cron;
    this.#noRetry = noRetry;
    this.#waitUntil = waitUntil;
  }
  noRetry() {
    this.#noRetry();
  }
  waitUntil(promise) {
    this.#waitUntil(promise);
  }
}

/** Waits for every promise (including ones added while waiting); returns the rejections. */
async function settle(pending) {
  const failures = [];
  while (pending.length) {
    const batch = pending.splice(0);
    for (const r of await Promise.allSettled(batch)) {
      if (r.status === "rejected") failures.push(r.reason);
    }
  }
  return failures;
}

async function handleScheduled(worker, incoming, head, out) {
  const pending = [];
  let noRetry = false;
  let error;
  let failed = false;
  try {
    const { env } = await loadInstance();
    await startServiceWorker(worker, env);
    let length;
    for (const [name, value] of head.headers) {
      if (name === "content-length") length = Number(value);
    }
    const params = JSON.parse(decoder.decode(readAll(incoming.consume(), length)));
    const cron = String(params.cron ?? "");
    const scheduledTime = Number(params.scheduledTime);
    const setNoRetry = () => {
      noRetry = true;
    };
    const waitUntil = (promise) => {
      pending.push(Promise.resolve(promise));
    };
    const ctx = { waitUntil, passThroughOnException() {}, props: {} };
    const handler = worker.default;
    if (handler !== undefined && handler !== null) {
      // Module syntax: workerd's messages when there is no scheduled() (it also sets noRetry).
      if (typeof handler.scheduled !== "function") {
        console.warn(
          "Received a ScheduledEvent but we lack a handler for ScheduledEvents " +
            "(a.k.a. Cron Triggers). Did you remember to export a scheduled() function?",
        );
        noRetry = true;
        throw new Error("Handler does not export a scheduled() function");
      }
      const controller = new ScheduledController(scheduledTime, cron, setNoRetry);
      pending.push((async () => handler.scheduled(controller, env, ctx))());
    } else {
      if (!scheduledListeners.length) {
        console.warn(
          "Received a ScheduledEvent but we lack an event listener for scheduled events " +
            '(a.k.a. Cron Triggers). Did you remember to call addEventListener("scheduled", ...)?',
        );
        noRetry = true;
        throw new Error("No event listener registered for scheduled events.");
      }
      installGlobals(env);
      const event = new ScheduledEvent(scheduledTime, cron, setNoRetry, waitUntil);
      for (const listener of scheduledListeners) listener(event);
    }
  } catch (e) {
    error = e;
    failed = true;
  }
  const failures = await settle(pending);
  for (const f of failures) {
    if (!failed) {
      error = f;
      failed = true;
    } else {
      console.error(`${describe(f)} (in waitUntil)`);
    }
  }
  const answer = { outcome: failed ? "exception" : "ok", noRetry };
  if (failed) answer.error = describe(error);
  const response = new Response(JSON.stringify(answer), {
    headers: { "content-type": "application/json", [SCHEDULED_HEADER]: "1" },
  });
  await writeResponse(response, out);
}

/** The `wasi:http/incoming-handler` export for `worker` (the user's module namespace). */
export function serve(worker) {
  return {
    // Called by a synchronous export glue (bindings.mjs): a throw becomes a rejection, as it
    // was when the glue awaited this call.
    handle(incoming, out) {
      try {
        const head = requestHead();
        if (headerIn(head.headers, SCHEDULED_HEADER) !== undefined) {
          return handleScheduled(worker, incoming, head, out);
        }
        return handle(worker, incoming, head, out);
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}
