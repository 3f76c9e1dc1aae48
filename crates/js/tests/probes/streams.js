// Probes: Web streams (ReadableStream, WritableStream, TransformStream, pipes, tee, BYOB), the
// encoding and compression streams, all on fixed inputs.
import { hex, streamText, worker } from "./lib.js";

const enc = new TextEncoder();

function chunks(...parts) {
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(typeof p === "string" ? enc.encode(p) : p);
      c.close();
    },
  });
}

async function collect(stream) {
  const out = [];
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

const probes = {
  "readable: read values": async () => {
    const s = new ReadableStream({
      start(c) {
        c.enqueue("a");
        c.enqueue(1);
        c.close();
      },
    });
    return collect(s);
  },
  "readable: pull": async () => {
    let n = 0;
    const s = new ReadableStream({
      pull(c) {
        n < 3 ? c.enqueue(n++) : c.close();
      },
    });
    return collect(s);
  },
  "readable: error": async () => {
    const s = new ReadableStream({
      start(c) {
        c.error(new TypeError("bad chunk"));
      },
    });
    return s.getReader().read();
  },
  "readable: cancel reason": async () => {
    let reason;
    const s = new ReadableStream({
      cancel(r) {
        reason = r;
      },
    });
    await s.cancel("stop");
    return reason;
  },
  "readable: locked": () => {
    const s = new ReadableStream();
    s.getReader();
    return [s.locked, (() => { try { s.getReader(); } catch (e) { return e.name; } })()];
  },
  "readable: tee": async () => {
    const [a, b] = chunks("x", "y").tee();
    return [await streamText(a), await streamText(b)];
  },
  "readable: async iterator": async () => {
    const out = [];
    for await (const c of chunks("p", "q")) out.push(hex(c));
    return out;
  },
  "readable: from": async () =>
    typeof ReadableStream.from === "function" ? collect(ReadableStream.from(["a", "b"])) : "<none>",
  "readable: byob": async () => {
    const s = new ReadableStream({
      type: "bytes",
      start(c) {
        c.enqueue(new Uint8Array([1, 2, 3, 4]));
        c.close();
      },
    });
    const r = s.getReader({ mode: "byob" });
    const { value } = await r.read(new Uint8Array(2));
    return hex(value);
  },
  "readable: highWaterMark desiredSize": () => {
    let d;
    new ReadableStream({ start(c) { d = c.desiredSize; } }, { highWaterMark: 3 });
    return d;
  },
  "writable: write and close": async () => {
    const got = [];
    const w = new WritableStream({
      write(chunk) {
        got.push(chunk);
      },
      close() {
        got.push("closed");
      },
    });
    const writer = w.getWriter();
    await writer.write("a");
    await writer.write("b");
    await writer.close();
    return got;
  },
  "writable: abort": async () => {
    let reason;
    const w = new WritableStream({ abort(r) { reason = r; } });
    await w.abort("gone");
    return reason;
  },
  "transform: upper": async () => {
    const t = new TransformStream({
      transform(chunk, c) {
        c.enqueue(chunk.toUpperCase());
      },
    });
    const w = t.writable.getWriter();
    w.write("ab");
    w.write("cd");
    w.close();
    return collect(t.readable);
  },
  "transform: identity bytes": async () => {
    const t = new TransformStream();
    chunks("he", "llo").pipeTo(t.writable);
    return streamText(t.readable);
  },
  "pipeThrough": async () =>
    streamText(
      chunks("abc").pipeThrough(
        new TransformStream({
          transform(c, ctl) {
            ctl.enqueue(enc.encode(hex(c)));
          },
        }),
      ),
    ),
  "pipeTo: error propagates": async () => {
    const s = new ReadableStream({ start(c) { c.error(new Error("src")); } });
    return s.pipeTo(new WritableStream());
  },
  "TextEncoderStream": async () => {
    const s = new ReadableStream({ start(c) { c.enqueue("é"); c.enqueue("x"); c.close(); } });
    return (await collect(s.pipeThrough(new TextEncoderStream()))).map(hex);
  },
  "TextDecoderStream": async () =>
    collect(chunks(new Uint8Array([0xe2, 0x82]), new Uint8Array([0xac, 0x61])).pipeThrough(new TextDecoderStream())),
  "CompressionStream gzip round trip": async () => {
    const z = chunks("hello hello hello").pipeThrough(new CompressionStream("gzip"));
    const bytes = new Uint8Array(await new Response(z).arrayBuffer());
    const back = new Response(new Response(bytes).body.pipeThrough(new DecompressionStream("gzip")));
    return [hex(bytes.slice(0, 3)), await back.text()];
  },
  "CompressionStream deflate-raw round trip": async () => {
    const z = chunks("abcabcabc").pipeThrough(new CompressionStream("deflate-raw"));
    return streamText(z.pipeThrough(new DecompressionStream("deflate-raw")));
  },
  "CompressionStream bad format": () => new CompressionStream("zip"),
  "DecompressionStream bad data": async () =>
    streamText(chunks(new Uint8Array([1, 2, 3, 4])).pipeThrough(new DecompressionStream("gzip"))),
  "IdentityTransformStream": async () => {
    if (typeof IdentityTransformStream !== "function") return "<none>";
    const t = new IdentityTransformStream();
    chunks("id").pipeTo(t.writable);
    return streamText(t.readable);
  },
  "FixedLengthStream": async () => {
    if (typeof FixedLengthStream !== "function") return "<none>";
    const t = new FixedLengthStream(3);
    chunks("abc").pipeTo(t.writable);
    return streamText(t.readable);
  },
  "CountQueuingStrategy": () => new CountQueuingStrategy({ highWaterMark: 2 }).highWaterMark,
  "ByteLengthQueuingStrategy size": () => new ByteLengthQueuingStrategy({ highWaterMark: 8 }).size(new Uint8Array(5)),
};

export default worker(probes);
