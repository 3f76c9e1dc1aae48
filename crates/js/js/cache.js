// The Workers Cache API for JavaScript Workers: `caches.default` and `caches.open(name)`.
//
// Arguments are checked here as workerd checks them (the same TypeErrors and messages); each
// operation then goes to the host over the synchronous host link (`hostCall("/cache/<op>")`,
// answered by crates/host/src/cache/ through crates/host/src/js_link.rs), which keeps one cache
// per colo (the colo the request runs at) with production's rules for Cache-Control,
// Set-Cookie, Expires and expiry on the emulator's clock (virtual in simulation). The methods
// stay async, as workerd's are. Installed as globals when the adapter is evaluated; nothing
// here talks to the host before a request.

import { call as hostCall } from "edgesim:js-worker/link";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** One Cache API call: JSON parameters (and a body) out; JSON (and a body) back, or a throw. */
async function cacheCall(op, params, body) {
  const head = encoder.encode(JSON.stringify(params) + "\n");
  let payload = head;
  if (body && body.length) {
    payload = new Uint8Array(head.length + body.length);
    payload.set(head, 0);
    payload.set(body, head.length);
  }
  const [status, bytes] = hostCall(`/cache/${op}`, payload);
  let nl = bytes.indexOf(10);
  if (nl < 0) nl = bytes.length;
  const text = decoder.decode(bytes.subarray(0, nl));
  if (status !== 200) throw new Error(`edgesim: the Cache API call failed: ${text}`);
  const meta = JSON.parse(text);
  if (meta.error !== undefined) {
    throw meta.name === "TypeError" ? new TypeError(meta.error) : new Error(meta.error);
  }
  // A copy made by this realm's Uint8Array (the link's own arrays are not `instanceof` it).
  return { meta, body: new Uint8Array(bytes.subarray(nl + 1)) };
}

/** `Request::coerce`: a Request as it is, anything else as the URL of a new GET Request. */
function coerce(request) {
  return request instanceof Request ? request : new Request(String(request));
}

function headerList(headers) {
  const list = [];
  for (const [name, value] of headers) list.push([name, value]);
  return list;
}

const CONSTRUCTING = Symbol("edgesim.cache");

/** One cache: `caches.default`, or what `caches.open(name)` returns. */
class Cache {
  #name;
  constructor(token, name) {
    if (token !== CONSTRUCTING) throw new TypeError("Illegal constructor");
    this.#name = name;
  }

  /** The stored response for `request`, or `undefined` (a miss, or a non-GET request). */
  async match(request, options) {
    const req = coerce(request);
    if (!(options && options.ignoreMethod) && req.method !== "GET") return undefined;
    const { meta, body } = await cacheCall("match", {
      cache: this.#name,
      url: req.url,
      headers: headerList(req.headers),
    });
    if (!meta.hit) return undefined;
    const nullBody = meta.status === 304 || meta.status === 204 || meta.status === 416;
    return new Response(nullBody ? null : body.slice(), {
      status: meta.status,
      headers: meta.headers,
    });
  }

  /**
   * Stores `response` under `request`. Throws (as workerd does) for a non-GET request, a 206,
   * `Vary: *` and an error response; a 304 is dropped; whatever production's cache would
   * refuse to store (private, no-store, Set-Cookie, ...) resolves without being stored.
   */
  async put(request, response) {
    const req = coerce(request);
    if (!(response instanceof Response)) {
      throw new TypeError(
        "Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'.",
      );
    }
    if (response.type === "error") {
      throw new TypeError("Cache is unable to store an error response");
    }
    if (req.method !== "GET") throw new TypeError("Cannot cache response to non-GET request.");
    if (response.status === 206) {
      throw new TypeError("Cannot cache response to a range request (206 Partial Content).");
    }
    const vary = response.headers.get("vary");
    if (vary !== null && vary.includes("*")) {
      throw new TypeError("Cannot cache response with 'Vary: *' header.");
    }
    if (response.status === 304) return undefined;
    const body = response.body === null ? EMPTY : new Uint8Array(await response.arrayBuffer());
    await cacheCall(
      "put",
      {
        cache: this.#name,
        url: req.url,
        status: response.status,
        headers: headerList(response.headers),
      },
      body,
    );
    return undefined;
  }

  /** Removes the entry for `request`; whether there was one. */
  async delete(request, options) {
    const req = coerce(request);
    if (!(options && options.ignoreMethod) && req.method !== "GET") return false;
    const { meta } = await cacheCall("delete", { cache: this.#name, url: req.url });
    return meta.deleted === true;
  }

  async add() {
    throw new Error("Failed to execute 'add' on 'Cache': the method is not implemented.");
  }

  async addAll() {
    throw new Error("Failed to execute 'addAll' on 'Cache': the method is not implemented.");
  }
}

/** `caches`: the default cache and named ones. */
class CacheStorage {
  #default;
  constructor(token) {
    if (token !== CONSTRUCTING) throw new TypeError("Illegal constructor");
    this.#default = new Cache(CONSTRUCTING, null);
  }

  get default() {
    return this.#default;
  }

  /** The cache named `cacheName` (names under 1024 characters, as workerd requires). */
  async open(cacheName) {
    const name = String(cacheName);
    if (name.length >= 1024) throw new TypeError("Cache name is too long.");
    return new Cache(CONSTRUCTING, name);
  }
}

const caches = new CacheStorage(CONSTRUCTING);
for (const [name, value] of [
  ["caches", caches],
  ["Cache", Cache],
  ["CacheStorage", CacheStorage],
]) {
  Object.defineProperty(globalThis, name, {
    value,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
