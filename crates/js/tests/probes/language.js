// Probes: the language and its built-ins as Workers code uses them: Date on fixed timestamps,
// JSON, regular expressions, error classes and their messages, newer built-in methods.
import { worker } from "./lib.js";

const T = 1710000000123; // 2024-03-09T16:00:00.123Z

const probes = {
  // --- Date (fixed timestamps only)
  "Date toISOString": () => new Date(T).toISOString(),
  "Date toUTCString": () => new Date(T).toUTCString(),
  "Date toJSON": () => JSON.stringify({ d: new Date(T) }),
  "Date UTC fields": () => {
    const d = new Date(T);
    return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCDay(), d.getUTCHours(), d.getUTCMilliseconds()];
  },
  "Date.UTC": () => Date.UTC(2024, 1, 29, 23, 59, 59),
  "Date.parse ISO": () => Date.parse("2024-03-09T16:00:00.123Z"),
  "Date.parse date only (UTC)": () => Date.parse("2024-03-09"),
  "Date.parse local datetime": () => Date.parse("2024-03-09T16:00:00"),
  "Date.parse RFC 2822": () => Date.parse("Sat, 09 Mar 2024 16:00:00 GMT"),
  "Date.parse offset": () => Date.parse("2024-03-09T16:00:00+05:30"),
  "Date.parse loose": () => Date.parse("March 9, 2024 10:00 UTC"),
  "Date.parse slashes": () => Date.parse("2024/03/09"),
  "Date.parse invalid": () => Date.parse("not a date"),
  "Date invalid toISOString": () => new Date(NaN).toISOString(),
  "Date invalid String": () => String(new Date(NaN)),
  "Date max": () => new Date(8.64e15).toISOString(),
  "Date beyond max": () => new Date(8.64e15 + 1).getTime(),
  "Date negative year": () => new Date(Date.UTC(-1, 0, 1)).toISOString(),
  "Date setUTCMonth overflow": () => {
    const d = new Date(Date.UTC(2024, 0, 31));
    d.setUTCMonth(1);
    return d.toISOString();
  },
  "Date now is a number": () => typeof Date.now(),
  // --- JSON
  "JSON stringify specials": () => JSON.stringify({ a: undefined, b: () => 1, c: NaN, d: -0, e: [undefined], f: 1e21, g: "\u2028\ud800" }),
  "JSON stringify indent": () => JSON.stringify({ a: [1, { b: 2 }] }, null, 2),
  "JSON stringify replacer": () => JSON.stringify({ a: 1, b: 2, c: { a: 3 } }, ["a", "c"]),
  "JSON stringify toJSON": () => JSON.stringify({ x: { toJSON: (k) => `key:${k}` } }),
  "JSON stringify bigint": () => JSON.stringify({ n: 1n }),
  "JSON stringify cycle": () => {
    const a = {};
    a.a = a;
    return JSON.stringify(a);
  },
  "JSON parse reviver": () => JSON.parse('{"a":1,"b":[2]}', (k, v) => (typeof v === "number" ? v * 10 : v)),
  "JSON parse big number": () => JSON.parse("12345678901234567890"),
  "JSON parse duplicate keys": () => JSON.parse('{"a":1,"a":2}'),
  "JSON parse error": () => JSON.parse("{bad"),
  "JSON parse trailing comma": () => JSON.parse("[1,]"),
  "JSON parse empty": () => JSON.parse(""),
  "JSON parse __proto__": () => Object.keys(JSON.parse('{"__proto__":1}')),
  "JSON rawJSON": () => (typeof JSON.rawJSON === "function" ? JSON.stringify({ n: JSON.rawJSON("1e1000") }) : "<none>"),
  // --- regular expressions
  "regex named groups": () => "2024-03-09".match(/(?<y>\d{4})-(?<m>\d{2})-(?<d>\d{2})/).groups,
  "regex lookbehind": () => "price: $42, €7".match(/(?<=\$)\d+/g),
  "regex sticky": () => {
    const r = /a/y;
    r.lastIndex = 1;
    return [r.test("ba"), r.lastIndex];
  },
  "regex dotAll": () => /a.b/s.test("a\nb"),
  "regex indices": () => /b(c)/d.exec("abc").indices,
  "regex unicode case": () => /\u{1F600}/u.test("😀"),
  "regex matchAll": () => [..."a1b2".matchAll(/[a-z](\d)/g)].map((m) => [m[0], m[1], m.index]),
  "regex replaceAll fn": () => "a-b-c".replaceAll("-", (m, i) => `[${i}]`),
  "regex split limit": () => "a,b,,c".split(/,/, 3),
  "regex invalid": () => new RegExp("("),
  "regex invalid flags": () => new RegExp("a", "gg"),
  "regex \\p{Lu} constructor": () => "aBcDé".match(new RegExp("\\p{Lu}", "gu")),
  "regex \\p{Emoji}": () => new RegExp("^\\p{Emoji_Presentation}$", "u").test("😀"),
  "regex \\P{ASCII}": () => "aé€".replace(new RegExp("\\P{ASCII}", "gu"), "?"),
  "regex source and flags": () => [/a\/b/gimsuy.source, /a/gimsuy.flags],
  "regex toString": () => String(new RegExp("/", "g")),
  "regex escape": () => (typeof RegExp.escape === "function" ? RegExp.escape("a.b*c") : "<none>"),
  "regex modifiers": () => {
    try {
      return new RegExp("(?i:a)b").test("Ab");
    } catch (e) {
      return e.name;
    }
  },
  "regex duplicate named groups": () => {
    try {
      return new RegExp("(?<x>a)|(?<x>b)").exec("b").groups.x;
    } catch (e) {
      return e.name;
    }
  },
  // --- errors and their messages
  "error: null property": () => null.x,
  "error: undefined call": () => undefined(),
  "error: not a function": () => ({}).foo(),
  "error: undefined variable": () => notDefinedAnywhere, // eslint-disable-line no-undef
  "error: const assignment": () => new Function("const c = 1; c = 2; return c;")(),
  "error: new on arrow": () => new (() => {})(),
  "error: bigint mix": () => 1n + 1,
  "error: invalid array length": () => new Array(-1),
  "error: toFixed range": () => (1).toFixed(101),
  "error: stack overflow": () => {
    const f = () => f();
    return f();
  },
  "error: URIError": () => decodeURIComponent("%"),
  "error: cause": () => {
    const e = new Error("outer", { cause: "inner" });
    return [e.message, e.cause, Object.keys(e)];
  },
  "error: AggregateError": () => {
    const e = new AggregateError([new Error("a")], "many");
    return [e.name, e.message, e.errors.length];
  },
  "error: Promise.any rejects": () => Promise.any([Promise.reject(1)]),
  "error: toString": () => String(new TypeError("x")),
  "error: custom name": () => {
    class MyError extends Error {
      constructor(m) {
        super(m);
        this.name = "MyError";
      }
    }
    const e = new MyError("m");
    return [String(e), e instanceof Error, typeof e.stack];
  },
  "error: stack is a string": () => typeof new Error("s").stack,
  "error: captureStackTrace": () => typeof Error.captureStackTrace,
  "error: stackTraceLimit": () => typeof Error.stackTraceLimit,
  "error: isError": () => (typeof Error.isError === "function" ? Error.isError(new Error()) : "<none>"),
  "error: JSON of error": () => JSON.stringify(new Error("x")),
  // --- newer built-ins
  "Array findLast/toSorted/with": () => [[1, 2, 3].findLast((x) => x < 3), [3, 1, 2].toSorted(), [1, 2].with(0, 9), [1, 2, 3].toReversed()],
  "Array.prototype.at": () => [1, 2, 3].at(-1),
  "Array.fromAsync": async () => (typeof Array.fromAsync === "function" ? Array.fromAsync([Promise.resolve(1), 2]) : "<none>"),
  "Object.groupBy": () => (typeof Object.groupBy === "function" ? Object.groupBy([1, 2, 3], (x) => (x % 2 ? "odd" : "even")) : "<none>"),
  "Map.groupBy": () => (typeof Map.groupBy === "function" ? Map.groupBy([1, 2], (x) => x > 1) : "<none>"),
  "Object.hasOwn": () => Object.hasOwn({ a: 1 }, "a"),
  "Set methods": () =>
    typeof Set.prototype.union === "function" ? [...new Set([1, 2]).union(new Set([3]))] : "<none>",
  "Promise.withResolvers": () => typeof Promise.withResolvers,
  "Promise.try": () => typeof Promise.try,
  "String isWellFormed": () => (typeof "".isWellFormed === "function" ? ["a\ud800".isWellFormed(), "a\ud800".toWellFormed()] : "<none>"),
  "String replaceAll/at/padStart": () => ["aa".replaceAll("a", "b"), "abc".at(-1), "5".padStart(3, "0")],
  "Iterator helpers": () => (typeof Iterator === "function" && Iterator.prototype.map ? [...[1, 2, 3].values().map((x) => x * 2)] : "<none>"),
  "ArrayBuffer resize": () => {
    const b = new ArrayBuffer(2, { maxByteLength: 8 });
    return typeof b.resize === "function" ? (b.resize(4), b.byteLength) : "<none>";
  },
  "ArrayBuffer transfer": () => (typeof ArrayBuffer.prototype.transfer === "function" ? new ArrayBuffer(3).transfer(5).byteLength : "<none>"),
  "Float16Array": () => typeof globalThis.Float16Array,
  "Math.sumPrecise": () => typeof Math.sumPrecise,
  "Uint8Array base64": () => (typeof Uint8Array.prototype.toBase64 === "function" ? new Uint8Array([1, 2, 3]).toBase64() : "<none>"),
  "Number formatting": () => [(0.1 + 0.2).toString(), (123.456).toFixed(1), (1e21).toString(), (255).toString(36), (1.005).toPrecision(3), Number.MAX_SAFE_INTEGER],
  "parseInt/parseFloat": () => [parseInt("0x1f"), parseInt("08"), parseFloat("1e3x"), Number("")],
  "Math fixed": () => [Math.round(-0.5), Math.max(), Math.hypot(3, 4), Math.sign(-3), Math.trunc(-4.7), Math.cbrt(27)],
  "String raw and template": () => String.raw`a\nb${1}`,
  "Symbol description": () => [Symbol("x").description, Symbol.for("y").description],
  "WeakRef deref": () => new WeakRef({ a: 1 }).deref().a,
  "Proxy and Reflect": () => {
    const p = new Proxy({}, { get: (_, k) => `got ${String(k)}` });
    return [p.foo, Reflect.ownKeys({ b: 1, a: 2, 1: 3 })];
  },
  "object key order": () => Object.keys({ b: 1, 2: 1, a: 1, 1: 1, [Symbol("s")]: 1 }),
  "label and sort stability": () => [{ k: 1, v: "a" }, { k: 0, v: "b" }, { k: 1, v: "c" }].sort((x, y) => x.k - y.k).map((x) => x.v),
  "eval": () => eval("1 + 1"),
  "new Function": () => new Function("a", "return a * 2")(21),
  "WebAssembly.compile": async () => {
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    const m = await WebAssembly.compile(bytes);
    return WebAssembly.Module.exports(m);
  },
  "WebAssembly.validate": () => WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])),
  "globalThis own names sample": () => ["Array", "Intl", "Temporal", "Iterator"].map((n) => Object.hasOwn(globalThis, n)),
};

export default worker(probes);
