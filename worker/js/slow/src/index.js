// A Worker that takes its time, so a client can go away mid-request:
//
// - GET /kv?key=K      reads K from KV, waits 1.5 s, answers with the value.
// - GET /stream        a body streamed in 6 chunks, 300 ms apart.
// - GET /wait?key=K&after=MS
//                      registers waitUntil work that writes K = "done" to KV 2 s later, then
//                      answers after MS milliseconds (default 0).
// - GET /rearm         re-arms a 100 ms timer forever and never answers.
// - GET /              "ok".

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const key = url.searchParams.get("key") || "key";
    switch (url.pathname) {
      case "/kv": {
        const value = await env.KV.get(key);
        await sleep(1500);
        return new Response(`value: ${value}\n`);
      }
      case "/stream": {
        let sent = 0;
        const body = new ReadableStream({
          async pull(controller) {
            if (sent === 6) {
              controller.close();
              return;
            }
            await sleep(300);
            controller.enqueue(new TextEncoder().encode(`chunk ${sent}\n`));
            sent += 1;
          },
        });
        return new Response(body, { headers: { "content-type": "text/plain" } });
      }
      case "/wait": {
        ctx.waitUntil(
          (async () => {
            await sleep(2000);
            await env.KV.put(key, "done");
          })(),
        );
        const after = Number(url.searchParams.get("after") || "0");
        if (after > 0) await sleep(after);
        return new Response("registered\n");
      }
      case "/rearm":
        return new Promise(() => {
          const tick = () => setTimeout(tick, 100);
          tick();
        });
      case "/":
        return new Response("ok\n");
      default:
        return new Response("not found\n", { status: 404 });
    }
  },
};
