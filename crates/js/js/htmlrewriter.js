// `HTMLRewriter` for JavaScript Workers, on Cloudflare's own `lol_html` in the host
// (crates/host/src/html_rewriter.rs, over the synchronous host link's `/html/<op>` routes).
//
// `transform(response)` answers at once with a Response whose body is produced when it is
// read: the input body is read whole; a first host call (`scan`) runs lol_html over it with the
// registered selectors and handler kinds and returns every handler invocation in order; the
// handlers here run over that list (awaiting async ones), each recording what it changes; a
// second call (`rewrite`) runs lol_html again and applies those changes to the invocation of
// the same index (lol_html calls handlers in the same order whatever they change, since it never
// parses inserted content). A handler that throws errors the body stream with its error.
//
// Tokens (Element, Text, Comment, Doctype, DocumentEnd, EndTag) keep what earlier handlers
// changed (tag name, attributes, `removed`, comment text), as lol_html's do, and are valid only
// while their handler runs, as in workerd. Messages follow workerd (`Parser error: ...`).

import { call as hostCall } from "edgesim:js-worker/link";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EXPIRED =
  "This content token is no longer valid. Content tokens are only valid during the execution of the relevant content handler.";

/** One `/html/<op>` host call: the answer's bytes, or a workerd-style TypeError. */
function html(op, bytes) {
  const [status, body] = hostCall(`/html/${op}`, bytes);
  if (status !== 200) throw new TypeError(`Parser error: ${decoder.decode(body)}`);
  return body;
}

// The host link does not exist while wizer snapshots the module graph (a call would trap), so a
// rewriter built at a module's top level checks its selectors at its first `transform` instead.
// Module evaluation is synchronous: this job runs after it, before any request is served.
let evaluating = true;
Promise.resolve().then(() => {
  evaluating = false;
});

/** The validity checks lol_html makes on a name or text a handler sets, cached when valid. */
const valid = new Set();
function check(what, value) {
  const key = `${what}\n${value}`;
  if (valid.has(key)) return;
  html("check", encoder.encode(key));
  if (valid.size < 1000) valid.add(key);
}

function lower(name) {
  return name.replace(/[A-Z]+/g, (c) => c.toLowerCase());
}

/** `content` as text: a string, or what becomes one (a Response or stream is read later). */
function contentOf(content) {
  if (content instanceof Response) return content.text();
  if (typeof ReadableStream === "function" && content instanceof ReadableStream) {
    return new Response(content).text();
  }
  return String(content);
}

function insertion(op, content, options) {
  return { op, content: contentOf(content), html: !!(options && options.html) };
}

const TOKEN = Symbol("edgesim.htmlrewriter");
const PUSH = Symbol("push");
const LIVE = Symbol("live");
const EXPIRE = Symbol("expire");

/** What every token shares: the operations it records and whether its handler still runs. */
class Token {
  #live = true;
  #ops;
  constructor(token, ops) {
    if (token !== TOKEN) throw new TypeError("Illegal constructor");
    this.#ops = ops;
  }
  /** Records `op` (throws once the handler has returned). */
  [PUSH](op) {
    this[LIVE]();
    this.#ops.push(op);
    return this;
  }
  [LIVE]() {
    if (!this.#live) throw new TypeError(EXPIRED);
  }
  [EXPIRE]() {
    this.#live = false;
  }
}

/**
 * What an element, a text chunk and a comment share: content inserted around them, replacing
 * or removing them, and whether they have been removed.
 */
class ContentToken extends Token {
  #s;
  constructor(token, ops, state) {
    super(token, ops);
    this.#s = state;
  }
  get removed() {
    this[LIVE]();
    return this.#s.removed;
  }
  before(content, options) {
    return this[PUSH](insertion("before", content, options));
  }
  after(content, options) {
    return this[PUSH](insertion("after", content, options));
  }
  replace(content, options) {
    this[PUSH](insertion("replace", content, options));
    this.#s.removed = true;
    return this;
  }
  remove() {
    this[PUSH]({ op: "remove" });
    this.#s.removed = true;
    return this;
  }
}

class Element extends ContentToken {
  #s;
  constructor(token, ops, state) {
    super(token, ops, state);
    this.#s = state;
  }
  get tagName() {
    this[LIVE]();
    return this.#s.tag;
  }
  set tagName(name) {
    this[LIVE]();
    name = String(name);
    check("tag", name);
    this.#s.tag = lower(name);
    this.#s.renamed = true;
    this[PUSH]({ op: "setName", name });
  }
  get namespaceURI() {
    this[LIVE]();
    return this.#s.ns;
  }
  get attributes() {
    this[LIVE]();
    return this.#s.attrs.map(([n, v]) => [n, v])[Symbol.iterator]();
  }
  #find(name) {
    const want = lower(String(name));
    return this.#s.attrs.findIndex(([n]) => n === want);
  }
  getAttribute(name) {
    this[LIVE]();
    const i = this.#find(name);
    return i < 0 ? null : this.#s.attrs[i][1];
  }
  hasAttribute(name) {
    this[LIVE]();
    return this.#find(name) >= 0;
  }
  setAttribute(name, value) {
    this[LIVE]();
    name = String(name);
    value = String(value);
    check("attr", name);
    const i = this.#find(name);
    if (i < 0) this.#s.attrs.push([lower(name), value]);
    else this.#s.attrs[i][1] = value;
    return this[PUSH]({ op: "setAttribute", name, value });
  }
  removeAttribute(name) {
    this[LIVE]();
    name = String(name);
    const i = this.#find(name);
    if (i >= 0) this.#s.attrs.splice(i, 1);
    return this[PUSH]({ op: "removeAttribute", name });
  }
  prepend(content, options) {
    return this[PUSH](insertion("prepend", content, options));
  }
  append(content, options) {
    return this[PUSH](insertion("append", content, options));
  }
  setInnerContent(content, options) {
    return this[PUSH](insertion("setInnerContent", content, options));
  }
  removeAndKeepContent() {
    this[PUSH]({ op: "removeAndKeepContent" });
    this.#s.removed = true;
    return this;
  }
  /** Runs `handler(endTag)` at the element's end tag (a later call replaces it, as in workerd). */
  onEndTag(handler) {
    this[LIVE]();
    if (!this.#s.canHaveContent) throw new TypeError("Parser error: No end tag.");
    if (typeof handler !== "function") {
      throw new TypeError("Failed to execute 'onEndTag' on 'Element': parameter 1 is not of type 'Function'.");
    }
    this.#s.endHandler = handler;
  }
}

class EndTag extends Token {
  #s;
  constructor(token, ops, state) {
    super(token, ops);
    this.#s = state;
  }
  get name() {
    this[LIVE]();
    return this.#s.name;
  }
  set name(name) {
    this[LIVE]();
    name = String(name);
    this.#s.name = lower(name);
    this[PUSH]({ op: "setName", name });
  }
  before(content, options) {
    return this[PUSH](insertion("before", content, options));
  }
  after(content, options) {
    return this[PUSH](insertion("after", content, options));
  }
  remove() {
    return this[PUSH]({ op: "remove" });
  }
}

class Text extends ContentToken {
  #s;
  constructor(token, ops, state) {
    super(token, ops, state);
    this.#s = state;
  }
  get text() {
    this[LIVE]();
    return this.#s.text;
  }
  get lastInTextNode() {
    this[LIVE]();
    return this.#s.last;
  }
}

class Comment extends ContentToken {
  #s;
  constructor(token, ops, state) {
    super(token, ops, state);
    this.#s = state;
  }
  get text() {
    this[LIVE]();
    return this.#s.text;
  }
  set text(text) {
    this[LIVE]();
    text = String(text);
    check("comment", text);
    this.#s.text = text;
    this[PUSH]({ op: "setText", text });
  }
}

class Doctype extends Token {
  #s;
  constructor(token, ops, state) {
    super(token, ops);
    this.#s = state;
  }
  get name() {
    this[LIVE]();
    return this.#s.name;
  }
  get publicId() {
    this[LIVE]();
    return this.#s.publicId;
  }
  get systemId() {
    this[LIVE]();
    return this.#s.systemId;
  }
  get removed() {
    this[LIVE]();
    return this.#s.removed;
  }
  remove() {
    this[PUSH]({ op: "remove" });
    this.#s.removed = true;
    return this;
  }
}

class DocumentEnd extends Token {
  append(content, options) {
    return this[PUSH](insertion("append", content, options));
  }
}

/** The handler functions of one `on()` / `onDocument()` call, read when it is made. */
function handlerSet(handlers, names) {
  const set = { self: handlers };
  for (const name of names) {
    const f = handlers == null ? undefined : handlers[name];
    if (f !== undefined && f !== null) {
      if (typeof f !== "function") {
        throw new TypeError(`Incorrect type for the '${name}' field on 'handlers': the provided value is not of type 'function'.`);
      }
      set[name] = f;
    }
  }
  return set;
}

/** Calls `fn` on `token` (as a method of `self`), awaits it, then expires the token. */
async function invoke(fn, self, token) {
  try {
    const r = fn.call(self, token);
    if (r && typeof r.then === "function") await r;
  } finally {
    token[EXPIRE]();
  }
}

function frame(spec, input) {
  const head = encoder.encode(JSON.stringify(spec) + "\n");
  const out = new Uint8Array(head.length + input.length);
  out.set(head, 0);
  out.set(input, head.length);
  return out;
}

class HTMLRewriter {
  #selectors = [];
  #document = [];
  #unchecked = []; // selectors given while the module graph was evaluated (see `evaluating`)

  constructor() {}

  /** Handlers for elements matching `selector` (throws at once for a bad selector). */
  on(selector, handlers) {
    selector = String(selector);
    const set = handlerSet(handlers, ["element", "comments", "text"]);
    if (evaluating) this.#unchecked.push(selector);
    else html("selector", encoder.encode(selector));
    this.#selectors.push({ selector, set });
    return this;
  }

  /** Handlers for the whole document: doctype, comments, text and its end. */
  onDocument(handlers) {
    this.#document.push(handlerSet(handlers, ["doctype", "comments", "text", "end"]));
    return this;
  }

  /** `response` with its body rewritten as it is read; status and headers are kept. */
  transform(response) {
    if (!(response instanceof Response)) {
      throw new TypeError("Failed to execute 'transform' on 'HTMLRewriter': parameter 1 is not of type 'Response'.");
    }
    while (this.#unchecked.length) {
      html("selector", encoder.encode(this.#unchecked[0]));
      this.#unchecked.shift();
    }
    // The input's Content-Length would cut the rewritten body short (see crates/js/README.md).
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    const init = { status: response.status, statusText: response.statusText, headers };
    if (response.body === null) return new Response(null, init);
    const selectors = this.#selectors.slice();
    const documents = this.#document.slice();
    let done = false;
    const body = new ReadableStream(
      {
        async pull(controller) {
          if (done) return;
          done = true;
          try {
            const input = new Uint8Array(await response.arrayBuffer());
            const out = await rewrite(selectors, documents, input);
            if (out.length) controller.enqueue(out);
            controller.close();
          } catch (error) {
            controller.error(error);
          }
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, init);
  }
}

/** Both passes over `input`: the rewritten bytes. */
async function rewrite(selectors, documents, input) {
  const spec = {
    selectors: selectors.map(({ selector, set }) => ({
      selector,
      element: !!set.element,
      comments: !!set.comments,
      text: !!set.text,
    })),
    document: documents.map((set) => ({
      doctype: !!set.doctype,
      comments: !!set.comments,
      text: !!set.text,
      end: !!set.end,
    })),
  };
  const events = JSON.parse(decoder.decode(html("scan", frame(spec, input))));
  const mutations = [];
  const elements = new Map(); // unit -> element state, until its end tag
  let last = { unit: -1, state: null };
  const stateOf = (ev, make) => {
    if (last.unit !== ev.unit) last = { unit: ev.unit, state: make() };
    return last.state;
  };
  for (let i = 0; i < events.length; i++) {
    const ev = events[i];
    const ops = [];
    switch (ev.kind) {
      case "element": {
        let state = elements.get(ev.unit);
        if (!state) {
          state = {
            tag: ev.tag,
            ns: ev.ns,
            attrs: ev.attrs,
            removed: false,
            canHaveContent: ev.canHaveContent,
            endHandler: null,
          };
          if (ev.canHaveContent) elements.set(ev.unit, state);
        }
        last = { unit: ev.unit, state };
        const set = selectors[ev.handler].set;
        const element = new Element(TOKEN, ops, state);
        await invoke(set.element, set.self, element);
        break;
      }
      case "endTag": {
        const state = elements.get(ev.unit);
        elements.delete(ev.unit);
        last = { unit: -1, state: null };
        if (state && state.endHandler) {
          const end = new EndTag(TOKEN, ops, { name: state.renamed ? state.tag : ev.name });
          await invoke(state.endHandler, undefined, end);
        }
        break;
      }
      case "text": {
        const state = stateOf(ev, () => ({ text: ev.text, last: ev.last, removed: false }));
        const set = ev.document ? documents[ev.handler] : selectors[ev.handler].set;
        await invoke(set.text, set.self, new Text(TOKEN, ops, state));
        break;
      }
      case "comment": {
        const state = stateOf(ev, () => ({ text: ev.text, removed: false }));
        const set = ev.document ? documents[ev.handler] : selectors[ev.handler].set;
        await invoke(set.comments, set.self, new Comment(TOKEN, ops, state));
        break;
      }
      case "doctype": {
        const state = stateOf(ev, () => ({
          name: ev.name ?? null,
          publicId: ev.publicId ?? null,
          systemId: ev.systemId ?? null,
          removed: false,
        }));
        const set = documents[ev.handler];
        await invoke(set.doctype, set.self, new Doctype(TOKEN, ops, state));
        break;
      }
      case "end": {
        last = { unit: -1, state: null };
        const set = documents[ev.handler];
        await invoke(set.end, set.self, new DocumentEnd(TOKEN, ops));
        break;
      }
    }
    if (ops.length) {
      for (const op of ops) {
        if (op.content !== undefined && typeof op.content !== "string") op.content = await op.content;
      }
      mutations.push([i, ops]);
    }
  }
  if (mutations.length === 0) return input;
  return html("rewrite", frame({ ...spec, mutations }, input));
}

Object.defineProperty(globalThis, "HTMLRewriter", {
  value: HTMLRewriter,
  writable: true,
  configurable: true,
  enumerable: false,
});
