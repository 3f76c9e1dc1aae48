// A Worker that misbehaves on purpose, one route per failure, for `just soak`
// (tests/examples/soak.rs). What production does with each (and what edgesim does) is in the
// soak's results file:
//   GET /ok     -> 200 "ok": the same instance pool still serves after the others
//   GET /throw  -> throws: 1101 "Worker threw exception"
//   GET /cpu    -> loops on the CPU forever: 1102 (CPU limit)
//   GET /mem    -> grows memory past 128 MB (keeps 32 MiB buffers, up to 512 MiB): 1102 (memory)
//   GET /never  -> awaits a promise nothing will settle: 1101 "The script will never generate
//                  a response." in production
//   GET /rearm  -> re-arms a 100 ms timer forever, never answers: the event loop is never
//                  empty, so nothing ends the request but the client giving up
// Nothing runs at top level (componentize-js snapshots the module's top level at build time).

function cpu() {
  let x = 0;
  for (;;) {
    x = (x * 31 + 7) | 0;
  }
}

function mem() {
  const kept = [];
  for (let i = 0; i < 16; i++) {
    kept.push(new ArrayBuffer(32 << 20));
  }
  return new Response(`kept ${kept.length} buffers`, { status: 200 });
}

function never() {
  return new Promise(() => {});
}

function rearm() {
  return new Promise(() => {
    const tick = () => setTimeout(tick, 100);
    tick();
  });
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    switch (pathname) {
      case "/ok":
        return new Response("ok", { headers: { "content-type": "text/plain; charset=utf-8" } });
      case "/throw":
        throw new Error("soak: thrown on purpose");
      case "/cpu":
        return cpu();
      case "/mem":
        return mem();
      case "/never":
        return never();
      case "/rearm":
        return rearm();
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
