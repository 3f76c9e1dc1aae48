// The glue componentize-js generates between the engine and the component's imports and exports,
// made leaner before it is snapshotted (run by driver.mjs on the splicer's `jsBindings`).
//
// That glue is JavaScript, interpreted like the Worker itself: every statement costs the engine
// hundreds of wasm instructions. Three rewrites, each measured with the host's guest-fuel counter
// (`GET /__edgesim/status`, course Worker, `/articles/1` served from KV: 1,402,000 instructions
// per request before, 1,060,000 after):
//
// 1. `_debugLog(...)` calls go: each builds an object literal and reads
//    `globalThis?.process?.env?.JCO_DEBUG`, which is never set inside the engine (about 30,000
//    instructions per link call and per export call).
// 2. The host link's import (`edgesim:js-worker/link` `call`, used for every KV call and for the
//    request's head and the response) gets a glue of a few statements: the path and a string
//    body encoded straight into the guest's memory (the generated glue counts a string's UTF-8
//    length character by character first, and takes bytes only), bytes copied with one `set`,
//    the answer read with one `DataView`; `callText` decodes the answer in place. About 60,000
//    instructions less per call, and no `TextEncoder`/`TextDecoder` round trip in the adapter.
// 3. The `wasi:http/incoming-handler` export returns the adapter's promise instead of awaiting
//    it in an `async` wrapper (one promise, one generator and one job less per request; the
//    engine runs its event loop until that promise settles either way).
//
// The toolchain is pinned by edgesim's lockfile, so each pattern is known; if one is not found
// (a different componentize-js), the build fails naming the rewrite rather than shipping glue
// that was not checked.

const LINK_CALL = "function import_edgesim_js_worker_link$call(";
const EXPORT_HANDLE = "async function export_incomingHandler_0_2_10$handle(";
const AWAIT_HANDLE = "ret = await incomingHandler0210Handle(rsc0, rsc2);";

/**
 * The link import's glue, as two functions of the builtin module: `call(path, body)` answers
 * `[status, Uint8Array, latency-ms]`, `callText(path, body)` answers `[status, string,
 * latency-ms]` (the answer decoded as UTF-8 in place, without a copy). `body` is a string
 * (encoded straight into the guest's memory) or bytes.
 */
const LEAN_LINK_CALL = `function import_edgesim_js_worker_link$lower(path, body) {
  const max0 = path.length * 3;
  const ptr0 = max0 === 0 ? 1 : $realloc(0, 0, 1, max0);
  const len0 = max0 === 0 ? 0 : TEXT_ENCODER_UTF8.encodeInto(path, new Uint8Array($memory.buffer, ptr0, max0)).written;
  let ptr1 = 1;
  let len1 = 0;
  if (typeof body === "string") {
    const max1 = body.length * 3;
    if (max1 !== 0) {
      ptr1 = $realloc(0, 0, 1, max1);
      len1 = TEXT_ENCODER_UTF8.encodeInto(body, new Uint8Array($memory.buffer, ptr1, max1)).written;
    }
  } else if (body.length !== 0) {
    len1 = body.length;
    ptr1 = $realloc(0, 0, 1, len1);
    new Uint8Array($memory.buffer, ptr1, len1).set(body);
  }
  return $import_edgesim_js_worker_link$call(ptr0, len0, ptr1, len1);
}
function import_edgesim_js_worker_link$lift(ret, text) {
  const view = dataView($memory);
  const ptr2 = view.getUint32(ret + 4, true);
  const len2 = view.getUint32(ret + 8, true);
  let body;
  if (text) {
    body = len2 === 0 ? "" : TEXT_DECODER_UTF8.decode(new Uint8Array($memory.buffer, ptr2, len2));
  } else {
    body = new Uint8Array($memory.buffer.slice(ptr2, ptr2 + len2));
  }
  if (len2 !== 0) $dealloc(ptr2, len2, 1);
  const answer = [view.getUint16(ret, true), body, view.getInt32(ret + 12, true) >>> 0];
  $dealloc(ret);
  return answer;
}
function import_edgesim_js_worker_link$call(arg0, arg1) {
  return import_edgesim_js_worker_link$lift(import_edgesim_js_worker_link$lower(arg0, arg1), false);
}
function import_edgesim_js_worker_link$callText(arg0, arg1) {
  return import_edgesim_js_worker_link$lift(import_edgesim_js_worker_link$lower(arg0, arg1), true);
}
`;

const LINK_MODULE = "  call: import_edgesim_js_worker_link$call\n});";

function fail(step) {
  throw new Error(
    `edgesim: componentize-js's generated bindings do not have the shape edgesim expects (${step}); ` +
      "the toolchain must be the one edgesim's lockfile pins",
  );
}

/** `source` (the generated bindings) with the three rewrites above. */
export function leanBindings(source) {
  // 1. Debug logging: every call is `_debugLog('<text>')` or `_debugLog('<text>', { ... })` with
  //    a flat object literal.
  const before = source.length;
  let out = source.replace(/_debugLog\('[^'\n]*'(,\s*\{[^{}]*\})?\);/g, "");
  if (out.length === before) fail("no _debugLog calls");

  // 2. The link import.
  const start = out.indexOf(LINK_CALL);
  if (start < 0) fail("no glue for edgesim:js-worker/link call");
  const end = out.indexOf("\nfunction ", start + LINK_CALL.length);
  if (end < 0) fail("the link call's glue has no end");
  out = out.slice(0, start) + LEAN_LINK_CALL + out.slice(end + 1);
  const module = out.indexOf(LINK_MODULE);
  if (module < 0) fail("no builtin module for edgesim:js-worker/link");
  out =
    out.slice(0, module) +
    "  call: import_edgesim_js_worker_link$call,\n  callText: import_edgesim_js_worker_link$callText\n});" +
    out.slice(module + LINK_MODULE.length);

  // 3. The incoming-handler export, synchronous.
  const exp = out.indexOf(EXPORT_HANDLE);
  if (exp < 0) fail("no glue for the wasi:http/incoming-handler export");
  const call = out.indexOf(AWAIT_HANDLE, exp);
  const close = out.indexOf("\n}\n", exp);
  if (call < 0 || close < call) fail("the incoming-handler export does not await the handler");
  out =
    out.slice(0, exp) +
    out.slice(exp + "async ".length, call) +
    "return incomingHandler0210Handle(rsc0, rsc2);" +
    out.slice(call + AWAIT_HANDLE.length);
  return out;
}
