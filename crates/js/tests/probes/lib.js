// The probe runner the probe Workers share: runs each probe in turn and describes its result as
// deterministic JSON, so edgesim's and workerd's answers can be compared probe by probe
// (crates/js/tests/workerd_probes.rs). A probe that throws is described by its error's class
// and message; one that does not settle within a second by "<timeout>".

const TIMEOUT_MS = 1000;

/** A JSON-safe, deterministic description of any value. */
export function show(value, depth = 0) {
  if (value === undefined) return "<undefined>";
  if (value === null) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (Number.isNaN(value)) return "<NaN>";
      if (!Number.isFinite(value)) return value > 0 ? "<Infinity>" : "<-Infinity>";
      if (Object.is(value, -0)) return "<-0>";
      return value;
    case "bigint":
      return `<bigint ${value}>`;
    case "symbol":
      return `<symbol ${value.description}>`;
    case "function":
      return `<function ${value.name}>`;
  }
  if (depth > 5) return "<deep>";
  if (value instanceof Error) return { error: `${value.name}: ${value.message}` };
  if (value instanceof ArrayBuffer) return { ArrayBuffer: hex(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return { [value.constructor.name]: Array.from(value, (x) => show(x)) };
  }
  if (value instanceof Date) {
    return { Date: Number.isNaN(value.getTime()) ? "<invalid>" : value.toISOString() };
  }
  if (value instanceof Map) {
    return { Map: [...value].map(([k, v]) => [show(k, depth + 1), show(v, depth + 1)]) };
  }
  if (value instanceof Set) return { Set: [...value].map((v) => show(v, depth + 1)) };
  if (value instanceof RegExp) return { RegExp: String(value) };
  if (Array.isArray(value)) return value.map((v) => show(v, depth + 1));
  const out = {};
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    out["<class>"] = proto && proto.constructor ? proto.constructor.name : "<anonymous>";
  }
  // Properties whose value is undefined are left out, as JSON leaves them out.
  for (const key of Object.keys(value)) {
    if (value[key] !== undefined) out[key] = show(value[key], depth + 1);
  }
  return out;
}

/** Lower-case hex of bytes. */
export function hex(bytes) {
  return Array.from(new Uint8Array(bytes.buffer || bytes, bytes.byteOffset || 0, bytes.byteLength), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}

/** Bytes of a hex string. */
export function unhex(text) {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** What a throw looks like in a probe's result. */
export function thrown(error) {
  if (error instanceof Error || (error && typeof error.name === "string")) {
    return { threw: `${error.name}: ${error.message}` };
  }
  return { threw: show(error) };
}

/** `{name: result}` for every probe, run one after another. */
export async function run(probes, ...args) {
  const out = {};
  for (const [name, probe] of Object.entries(probes)) {
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve("<timeout>"), TIMEOUT_MS);
    });
    try {
      const result = await Promise.race([
        (async () => show(await probe(...args)))(),
        timeout,
      ]);
      out[name] = result;
    } catch (error) {
      out[name] = thrown(error);
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

/**
 * A probe Worker. `GET /probe` answers every probe's result as JSON; `GET /probe?list` the
 * probes' names; `GET /probe?only=<name>` that probe's result alone (the harnesses fall back to
 * one request per probe when a whole run fails, so one crashing probe hides no other).
 */
export function worker(probes) {
  return {
    async fetch(request, env, ctx) {
      const params = new URL(request.url).searchParams;
      let results;
      if (params.has("list")) {
        results = Object.keys(probes);
      } else if (params.has("only")) {
        const name = params.get("only");
        results = await run({ [name]: probes[name] }, request, env, ctx);
      } else {
        results = await run(probes, request, env, ctx);
      }
      return new Response(JSON.stringify(results), {
        headers: { "content-type": "application/json" },
      });
    },
  };
}

/** What typeof says, or the error reading it raises. */
export function kind(read) {
  try {
    return typeof read();
  } catch (error) {
    return thrown(error);
  }
}

/** Reads a whole stream into text. */
export async function streamText(stream) {
  return new Response(stream).text();
}
