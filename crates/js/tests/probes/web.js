// Probes: fetch, Request, Response, Headers, URL, URLSearchParams, TextEncoder/Decoder, atob/btoa,
// structuredClone, FormData, Blob, AbortController: values and edge cases, with fixed inputs.
import { hex, worker } from "./lib.js";

const enc = new TextEncoder();

const probes = {
  // --- Headers
  "headers: case and order": () => [...new Headers({ B: "2", a: "1", "C-d": "3" })],
  "headers: append joins": () => {
    const h = new Headers();
    h.append("x", "1");
    h.append("X", "2");
    return h.get("x");
  },
  "headers: set-cookie getSetCookie": () => {
    const h = new Headers();
    h.append("set-cookie", "a=1");
    h.append("set-cookie", "b=2");
    return [h.get("set-cookie"), typeof h.getSetCookie === "function" ? h.getSetCookie() : "<none>", [...h]];
  },
  "headers: invalid name": () => new Headers({ "bad name": "x" }),
  "headers: invalid value": () => new Headers({ a: "x\ny" }),
  "headers: trims value": () => new Headers({ a: "  x  " }).get("a"),
  "headers: missing is null": () => new Headers().get("nope"),
  "headers: has/delete": () => {
    const h = new Headers({ a: "1" });
    h.delete("A");
    return h.has("a");
  },
  "headers: from pairs bad": () => new Headers([["a"]]),
  "headers: non-ascii value": () => new Headers({ a: "é" }).get("a"),
  "headers: forEach order": () => {
    const out = [];
    new Headers({ z: "1", a: "2" }).forEach((v, k) => out.push(`${k}=${v}`));
    return out;
  },
  // --- Request
  "request: defaults": () => {
    const r = new Request("https://a.test/p?q=1#frag");
    return [r.method, r.url, r.redirect, r.bodyUsed, r.body, [...r.headers]];
  },
  "request: method normalised": () => new Request("https://a.test/", { method: "post" }).method,
  "request: custom method kept": () => new Request("https://a.test/", { method: "patch" }).method,
  "request: GET with body": () => new Request("https://a.test/", { body: "x" }),
  "request: relative url": () => new Request("/relative"),
  "request: bad url": () => new Request("http://"),
  "request: invalid method": () => new Request("https://a.test/", { method: "bad method" }),
  "request: forbidden method": () => new Request("https://a.test/", { method: "CONNECT" }).method,
  "request: text body": async () => {
    const r = new Request("https://a.test/", { method: "POST", body: "hello" });
    return [r.headers.get("content-type"), await r.text(), r.bodyUsed];
  },
  "request: json body": async () =>
    new Request("https://a.test/", { method: "POST", body: '{"a":[1,2]}' }).json(),
  "request: body used twice": async () => {
    const r = new Request("https://a.test/", { method: "POST", body: "x" });
    await r.text();
    return r.text();
  },
  "request: clone": async () => {
    const r = new Request("https://a.test/", { method: "PUT", body: "abc", headers: { x: "1" } });
    const c = r.clone();
    return [await r.text(), await c.text(), c.method, c.headers.get("x")];
  },
  "request: new Request(req, init)": () => {
    const r = new Request(new Request("https://a.test/a", { headers: { a: "1" } }), { method: "DELETE" });
    return [r.url, r.method, r.headers.get("a")];
  },
  "request: URLSearchParams body": async () => {
    const r = new Request("https://a.test/", { method: "POST", body: new URLSearchParams({ a: "1 2", b: "é" }) });
    return [r.headers.get("content-type"), await r.text()];
  },
  "request: signal": () => typeof new Request("https://a.test/").signal,
  "request: arrayBuffer": async () =>
    hex(await new Request("https://a.test/", { method: "POST", body: new Uint8Array([1, 2, 255]) }).arrayBuffer()),
  "request: incoming method and url": (request) => [request.method, new URL(request.url).pathname],
  // --- Response
  "response: defaults": () => {
    const r = new Response();
    return [r.status, r.statusText, r.ok, r.type, r.redirected, r.url, r.body, [...r.headers]];
  },
  "response: string body content-type": () => new Response("x").headers.get("content-type"),
  "response: json": async () => {
    const r = Response.json({ a: 1 }, { status: 201 });
    return [r.status, r.headers.get("content-type"), await r.text()];
  },
  "response: redirect": () => {
    const r = Response.redirect("https://a.test/x", 301);
    return [r.status, r.headers.get("location"), r.body];
  },
  "response: redirect bad status": () => Response.redirect("https://a.test/", 200),
  "response: error()": () => {
    const r = Response.error();
    return [r.type, r.status];
  },
  "response: status 1000": () => new Response(null, { status: 1000 }),
  "response: status 199": () => new Response(null, { status: 199 }),
  "response: status 204 with body": () => new Response("x", { status: 204 }),
  "response: statusText": () => new Response(null, { status: 418, statusText: "teapot" }).statusText,
  "response: bad statusText": () => new Response(null, { statusText: "a\nb" }),
  "response: Uint8Array body": async () => hex(await new Response(new Uint8Array([0, 1, 2])).arrayBuffer()),
  "response: blob": async () => {
    const b = await new Response("abc", { headers: { "content-type": "text/x" } }).blob();
    return [b.size, b.type, await b.text()];
  },
  "response: body twice": async () => {
    const r = new Response("x");
    await r.text();
    return r.text();
  },
  "response: clone then read": async () => {
    const r = new Response("abc");
    const c = r.clone();
    return [await r.text(), await c.text()];
  },
  "response: json parse error": async () => new Response("{bad").json(),
  "response: headers immutable after redirect": () => {
    const r = Response.redirect("https://a.test/", 302);
    try {
      r.headers.set("x", "1");
    } catch (e) {
      return e.name;
    }
    return r.headers.get("x");
  },
  "response: formData": async () => {
    const r = new Response("a=1&b=%C3%A9", { headers: { "content-type": "application/x-www-form-urlencoded" } });
    return [...(await r.formData())];
  },
  "response: stream body": async () => {
    const body = new ReadableStream({
      start(c) {
        c.enqueue(enc.encode("ab"));
        c.enqueue(enc.encode("cd"));
        c.close();
      },
    });
    return new Response(body).text();
  },
  // --- fetch
  "fetch: upstream json": async () => {
    const r = await fetch("http://supabase.test/rest/v1/articles");
    return [r.status, r.ok, r.headers.get("content-type"), await r.json()];
  },
  "fetch: upstream 404": async () => {
    const r = await fetch("http://supabase.test/nope");
    return [r.status, r.ok, await r.text()];
  },
  "fetch: Request object": async () => {
    const r = await fetch(new Request("http://supabase.test/rest/v1/articles", { headers: { a: "1" } }));
    return r.status;
  },
  "fetch: bad url": async () => fetch("not a url"),
  "fetch: bad scheme": async () => fetch("ftp://supabase.test/"),
  "fetch: aborted signal": async () => {
    const c = new AbortController();
    c.abort();
    return fetch("http://supabase.test/rest/v1/articles", { signal: c.signal });
  },
  "fetch: response url": async () => (await fetch("http://supabase.test/rest/v1/articles")).url,
  // --- URL
  "url: parts": () => {
    const u = new URL("https://user:pw@Example.COM:8080/a/../b/./c?x=1&y=%20#h");
    return [u.href, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, u.origin];
  },
  "url: default port dropped": () => new URL("https://a.test:443/").href,
  "url: relative with base": () => new URL("../x?y#z", "https://a.test/p/q/r").href,
  "url: invalid": () => new URL("nope"),
  "url: canParse": () => (typeof URL.canParse === "function" ? [URL.canParse("https://a"), URL.canParse("x")] : "<none>"),
  "url: parse static": () => (typeof URL.parse === "function" ? String(URL.parse("x")) : "<none>"),
  "url: idn": () => new URL("https://münchen.de/").hostname,
  "url: ipv6": () => new URL("http://[::1]:80/").host,
  "url: ipv4 normalised": () => new URL("http://0x7f.1/").hostname,
  "url: encode path": () => new URL("https://a.test/a b/é?q=a b").href,
  "url: file": () => new URL("file:///tmp/x").href,
  "url: data": () => new URL("data:text/plain,hi").pathname,
  "url: set search": () => {
    const u = new URL("https://a.test/?a=1");
    u.searchParams.append("b", "x y");
    return u.href;
  },
  "url: toJSON": () => JSON.stringify({ u: new URL("https://a.test") }),
  "urlsearchparams: parse": () => [...new URLSearchParams("?a=1&a=2&b=%20+&c")],
  "urlsearchparams: sort and string": () => {
    const p = new URLSearchParams({ b: "2", a: "é&=" });
    p.sort();
    return p.toString();
  },
  "urlsearchparams: getAll/has value": () => {
    const p = new URLSearchParams("a=1&a=2");
    return [p.getAll("a"), p.has("a", "2"), p.size];
  },
  // --- TextEncoder / TextDecoder
  "textencoder: utf8": () => hex(new TextEncoder().encode("aé€😀")),
  "textencoder: encodeInto": () => {
    const out = new Uint8Array(4);
    return new TextEncoder().encodeInto("é€", out);
  },
  "textencoder: lone surrogate": () => hex(new TextEncoder().encode("\ud800")),
  "textdecoder: replacement": () => new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0x62])),
  "textdecoder: fatal": () => new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xff])),
  "textdecoder: bom": () => new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])),
  "textdecoder: latin1": () => new TextDecoder("latin1").decode(new Uint8Array([0xe9])),
  "textdecoder: utf-16le": () => new TextDecoder("utf-16le").decode(new Uint8Array([0x61, 0, 0x62, 0])),
  "textdecoder: unknown label": () => new TextDecoder("nope"),
  "textdecoder: encoding": () => new TextDecoder().encoding,
  "textdecoder: stream": () => {
    const d = new TextDecoder();
    return d.decode(new Uint8Array([0xe2, 0x82]), { stream: true }) + "|" + d.decode(new Uint8Array([0xac]));
  },
  // --- atob / btoa
  "btoa: ascii": () => btoa("hello world"),
  "btoa: latin1": () => btoa("\u00e9\u00ff"),
  "btoa: non-latin1": () => btoa("€"),
  "atob: basic": () => atob("aGVsbG8="),
  "atob: no padding": () => atob("aGVsbG8"),
  "atob: whitespace": () => atob(" aGVs bG8= "),
  "atob: invalid": () => atob("a"),
  "atob: bad char": () => atob("ab*c"),
  // --- structuredClone
  "structuredClone: values": () =>
    structuredClone({ a: [1, "x", null], d: new Date(0), m: new Map([[1, 2]]), s: new Set([3]), r: /x/gi, big: 10n }),
  "structuredClone: cycles": () => {
    const a = { n: 1 };
    a.self = a;
    const b = structuredClone(a);
    return [b.self === b, b !== a];
  },
  "structuredClone: typed array": () => structuredClone(new Uint16Array([1, 65535])),
  "structuredClone: function": () => structuredClone({ f() {} }),
  "structuredClone: symbol": () => structuredClone(Symbol("s")),
  "structuredClone: error": () => {
    const e = structuredClone(new RangeError("r"));
    return [e instanceof RangeError, e.message];
  },
  "structuredClone: class instance": () => {
    class K {
      constructor() {
        this.v = 1;
      }
    }
    const c = structuredClone(new K());
    return [c instanceof K, c.v];
  },
  "structuredClone: transfer": () => {
    const buf = new Uint8Array([1, 2]).buffer;
    const c = structuredClone(buf, { transfer: [buf] });
    return [buf.byteLength, c.byteLength];
  },
  // --- FormData / Blob / File
  "formdata: entries": () => {
    const f = new FormData();
    f.append("a", "1");
    f.append("a", "2");
    f.set("b", "3");
    return [...f];
  },
  "formdata: file": async () => {
    const f = new FormData();
    f.append("f", new Blob(["abc"], { type: "text/plain" }), "x.txt");
    const v = f.get("f");
    return [v.name, v.size, v.type, await v.text()];
  },
  "formdata: multipart round trip": async () => {
    const f = new FormData();
    f.append("a", "1");
    f.append("b", new Blob(["xyz"]), "b.bin");
    const r = new Response(f);
    const back = await r.formData();
    return [r.headers.get("content-type").split(";")[0], back.get("a"), back.get("b").name, await back.get("b").text()];
  },
  "blob: slice and type": async () => {
    const b = new Blob(["hello", new Uint8Array([32]), "world"], { type: "Text/Plain" });
    return [b.size, b.type, await b.slice(3, -2).text()];
  },
  "blob: arrayBuffer": async () => hex(await new Blob([new Uint8Array([1, 2])]).arrayBuffer()),
  "blob: stream": async () => new Response(new Blob(["ab"]).stream()).text(),
  "file: name and lastModified": () => {
    const f = new File(["a"], "a.txt", { lastModified: 1000, type: "text/plain" });
    return [f.name, f.lastModified, f.size, f.type];
  },
  // --- AbortController / events
  "abort: reason": () => {
    const c = new AbortController();
    c.abort();
    return [c.signal.aborted, c.signal.reason?.name, c.signal.reason?.message];
  },
  "abort: custom reason": () => {
    const c = new AbortController();
    c.abort("why");
    return c.signal.reason;
  },
  "abort: throwIfAborted": () => AbortSignal.abort("x").throwIfAborted(),
  "abort: any": () => (typeof AbortSignal.any === "function" ? AbortSignal.any([AbortSignal.abort(1)]).reason : "<none>"),
  "event: dispatch": () => {
    const t = new EventTarget();
    const seen = [];
    t.addEventListener("x", (e) => seen.push([e.type, e.detail ?? null]));
    t.dispatchEvent(new CustomEvent("x", { detail: 5 }));
    t.dispatchEvent(new Event("x"));
    return seen;
  },
  "domexception: fields": () => {
    const e = new DOMException("m", "AbortError");
    return [e.name, e.message, e.code, e instanceof Error];
  },
};

export default worker(probes);
