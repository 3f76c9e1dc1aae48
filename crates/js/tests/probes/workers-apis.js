// Probes: the Workers-only APIs of issue 24's table (Cache API, HTMLRewriter, URLPattern) and
// the service-worker event classes, on fixed inputs.
import { worker } from "./lib.js";

const probes = {
  // --- Cache API (a fresh key per probe file run: the cache starts empty on both sides)
  "caches.default put/match": async () => {
    const url = "https://cache.test/a";
    await caches.default.put(url, new Response("cached", { headers: { "cache-control": "max-age=60", "x-a": "1" } }));
    const hit = await caches.default.match(url);
    return hit ? [hit.status, await hit.text(), hit.headers.get("x-a"), hit.headers.get("cf-cache-status")] : null;
  },
  "caches.default miss": async () => (await caches.default.match("https://cache.test/missing")) ?? "<miss>",
  "caches.default no-store": async () => {
    const url = "https://cache.test/no-store";
    await caches.default.put(url, new Response("x", { headers: { "cache-control": "no-store" } }));
    return (await caches.default.match(url)) ?? "<miss>";
  },
  "caches.default delete": async () => {
    const url = "https://cache.test/del";
    await caches.default.put(url, new Response("x", { headers: { "cache-control": "max-age=60" } }));
    return [await caches.default.delete(url), await caches.default.delete(url)];
  },
  "caches.default POST put": async () =>
    caches.default.put(new Request("https://cache.test/p", { method: "POST" }), new Response("x")),
  "caches.default 206 put": async () =>
    caches.default.put("https://cache.test/206", new Response("x", { status: 206 })),
  "caches.open": async () => {
    const c = await caches.open("named");
    await c.put("https://cache.test/n", new Response("n", { headers: { "cache-control": "max-age=60" } }));
    const hit = await c.match("https://cache.test/n");
    return [typeof c.match, hit ? await hit.text() : null, (await caches.default.match("https://cache.test/n")) ?? "<miss>"];
  },
  "caches.default ignoreMethod": async () => {
    await caches.default.put("https://cache.test/im", new Response("im", { headers: { "cache-control": "max-age=60" } }));
    const hit = await caches.default.match(new Request("https://cache.test/im", { method: "HEAD" }), { ignoreMethod: true });
    return hit ? hit.status : "<miss>";
  },
  "caches.default Set-Cookie not cached": async () => {
    const url = "https://cache.test/cookie";
    await caches.default.put(url, new Response("c", { headers: { "cache-control": "max-age=60", "set-cookie": "a=1" } }));
    return (await caches.default.match(url)) ?? "<miss>";
  },
  "caches.keys": () => typeof caches.keys,
  // --- HTMLRewriter
  "HTMLRewriter element": async () => {
    const res = new HTMLRewriter()
      .on("a", {
        element(e) {
          e.setAttribute("href", e.getAttribute("href").replace("http:", "https:"));
          e.append("!", { html: false });
        },
      })
      .on("p.x", {
        element(e) {
          e.prepend("<b>hi</b> ", { html: true });
        },
      })
      .transform(new Response('<p class="x">text <a href="http://a.test">link</a></p>'));
    return res.text();
  },
  "HTMLRewriter text and comments": async () => {
    const seen = [];
    const res = new HTMLRewriter()
      .on("span", {
        text(t) {
          if (t.text) seen.push(t.text);
        },
        comments(c) {
          c.remove();
        },
      })
      .transform(new Response("<span>one<!-- c -->two</span>"));
    return [await res.text(), seen];
  },
  "HTMLRewriter remove and replace": async () =>
    new HTMLRewriter()
      .on("script", { element: (e) => e.remove() })
      .on("h1", { element: (e) => e.replace("<h2>t</h2>", { html: true }) })
      .transform(new Response("<h1>x</h1><script>1</script><i>k</i>"))
      .text(),
  "HTMLRewriter document end": async () =>
    new HTMLRewriter()
      .onDocument({ end: (end) => end.append("<!-- end -->", { html: true }) })
      .transform(new Response("<p>a</p>"))
      .text(),
  "HTMLRewriter bad selector": () => new HTMLRewriter().on("p[", {}),
  // --- URLPattern
  "URLPattern pathname": () => {
    const p = new URLPattern({ pathname: "/books/:id" });
    return [p.test("https://a.test/books/12"), p.exec("https://a.test/books/12").pathname.groups];
  },
  "URLPattern string": () => new URLPattern("https://*.test/:a/*").exec("https://x.test/one/two/three")?.pathname.groups,
  "URLPattern regexp group": () => new URLPattern({ pathname: "/n/:id(\\d+)" }).test({ pathname: "/n/abc" }),
  "URLPattern optional and wildcard": () => {
    const p = new URLPattern({ pathname: "/files/:name?/*" });
    return [p.test({ pathname: "/files/" }), p.exec({ pathname: "/files/a/b/c" })?.pathname.groups];
  },
  "URLPattern search": () => new URLPattern({ search: "q=:term" }).exec({ search: "q=cats" })?.search.groups,
  "URLPattern fields": () => {
    const p = new URLPattern({ pathname: "/x/:y" });
    return [p.protocol, p.hostname, p.pathname, p.search];
  },
  "URLPattern invalid": () => new URLPattern({ pathname: "/(" }),
  // --- events, sockets
  "WebSocketPair": () => {
    if (typeof WebSocketPair !== "function") return "<none>";
    const pair = new WebSocketPair();
    return Object.keys(pair);
  },
  "new WebSocket to a host": () => {
    try {
      new WebSocket("wss://realtime.test/socket");
      return "opened";
    } catch (e) {
      return e.name;
    }
  },
  "Response with webSocket 101": () => {
    try {
      return new Response(null, { status: 101 }).status;
    } catch (e) {
      return e.name;
    }
  },
};

export default worker(probes);
