// Build-time pass (an esbuild plugin run by driver.mjs, in Node): rewrites regular
// expressions the engine cannot parse into ones it can.
//
// StarlingMonkey's SpiderMonkey is built without ICU, so a Unicode property escape (`\p{L}`,
// `\P{Script=Greek}`) is a SyntaxError when the bundle is parsed (at wizer's snapshot), and so
// is the `v` flag (ES2024 set notation). regexpu-core expands each property escape into the
// explicit code point ranges of the Unicode version it ships, and set notation into plain `u`
// classes. Literals (`/\p{L}+/u`) and `RegExp("...", "...")` / `new RegExp(...)` calls whose
// arguments are string literals are rewritten; patterns built at run time go through the
// `RegExp` wrapper in `regexp.js`.
//
// Each source file is checked as esbuild loads it: only a file whose text contains `\p{`,
// `\P{` or something like a `v` flag is parsed (acorn), so a build pays for the few files that
// need it. TypeScript and JSX files that need it are transformed to JS by esbuild first.

import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const MEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), ".regex-memo");

/** Whether a pattern or its flags need the rewrite. */
function needsRewrite(pattern, flags) {
  return /\\[pP]\{/.test(pattern) || flags.includes("v");
}

/** The pattern and flags the engine can parse (property escapes and `v` expanded). */
export function rewritePattern(pattern, flags) {
  const rewrite = require("regexpu-core");
  const out = rewrite(pattern, flags, {
    unicodePropertyEscapes: "transform",
    unicodeSetsFlag: "transform",
  });
  return { pattern: out, flags: flags.replace("v", "u") };
}

/** Every node of an acorn AST, depth first. */
function* nodes(node) {
  if (!node || typeof node.type !== "string") return;
  yield node;
  for (const key of Object.keys(node)) {
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c.type === "string") yield* nodes(c);
    } else if (v && typeof v.type === "string") {
      yield* nodes(v);
    }
  }
}

function isString(node) {
  return node && node.type === "Literal" && typeof node.value === "string";
}

/** Whether `source` may contain a regular expression the engine cannot parse. */
export function mayNeedRewrite(source) {
  return /\\[pP]\{/.test(source) || /\/[dgimsuy]*v[dgimsuy]*\b|["']v["']/.test(source);
}

function parse(source) {
  const acorn = require("acorn");
  const options = { ecmaVersion: "latest", allowHashBang: true, allowReturnOutsideFunction: true };
  try {
    return acorn.parse(source, { ...options, sourceType: "module" });
  } catch (moduleError) {
    try {
      return acorn.parse(source, { ...options, sourceType: "script" });
    } catch {
      throw moduleError;
    }
  }
}

/** `source` with every rewritable regular expression rewritten (unchanged when none). */
export function rewriteSource(source) {
  if (!mayNeedRewrite(source)) return source;
  const ast = parse(source);
  const edits = [];
  for (const node of nodes(ast)) {
    if (node.type === "Literal" && node.regex) {
      const { pattern, flags } = node.regex;
      if (!needsRewrite(pattern, flags)) continue;
      const r = rewritePattern(pattern, flags);
      edits.push([node.start, node.end, `/${r.pattern.replace(/\//g, "\\/")}/${r.flags}`]);
    } else if (
      (node.type === "NewExpression" || node.type === "CallExpression") &&
      node.callee.type === "Identifier" &&
      node.callee.name === "RegExp" &&
      isString(node.arguments[0]) &&
      (node.arguments.length === 1 || (node.arguments.length === 2 && isString(node.arguments[1])))
    ) {
      const pattern = node.arguments[0].value;
      const flags = node.arguments[1] ? node.arguments[1].value : "";
      if (!needsRewrite(pattern, flags)) continue;
      const r = rewritePattern(pattern, flags);
      const args = `${JSON.stringify(r.pattern)}, ${JSON.stringify(r.flags)}`;
      edits.push([node.arguments[0].start, node.arguments[node.arguments.length - 1].end, args]);
    }
  }
  if (!edits.length) return source;
  edits.sort((a, b) => b[0] - a[0]);
  let out = source;
  for (const [start, end, text] of edits) out = out.slice(0, start) + text + out.slice(end);
  return out;
}

const JS = /\.(m?js|cjs)$/;

/**
 * The esbuild plugin: JS, TS and JSX files whose text may need it are rewritten as they load
 * (`esbuild`: the module, to transform TypeScript and JSX first). A file that cannot be
 * rewritten is an error naming the file.
 */
export function regexPlugin(esbuild) {
  return {
    name: "edgesim-regex-rewrite",
    setup(build) {
      build.onLoad({ filter: /\.(m?js|cjs|jsx|tsx?|mts|cts)$/ }, async (args) => {
        const source = await readFile(args.path, "utf8");
        if (!mayNeedRewrite(source)) return undefined;
        let js = source;
        if (!JS.test(args.path)) {
          const loader = /x$/.test(args.path) ? (/tsx$/.test(args.path) ? "tsx" : "jsx") : "ts";
          js = (await esbuild.transform(source, { loader, sourcefile: args.path })).code;
        }
        // Rewrites are memoized on disk by content (the runtime's own files, urlpattern-polyfill
        // and the property table in regexp.js, would otherwise cost about half a second a build).
        const memo = join(MEMO_DIR, `${createHash("sha256").update(js).digest("hex")}.js`);
        try {
          const contents = await readFile(memo, "utf8");
          return { contents, loader: "js", resolveDir: dirname(args.path) };
        } catch {
          // not memoized yet
        }
        let out;
        try {
          out = rewriteSource(js);
        } catch (e) {
          // Not parseable here (esbuild will report real syntax errors itself): leave it.
          if (e instanceof SyntaxError && !/regexpu|property/i.test(e.message)) return undefined;
          throw new Error(`${args.path}: rewriting its regular expressions: ${e.message}`);
        }
        if (out === js) return undefined;
        try {
          await mkdir(MEMO_DIR, { recursive: true });
          const tmp = `${memo}.tmp-${process.pid}`;
          await writeFile(tmp, out);
          await rename(tmp, memo);
        } catch {
          // a read-only cache only costs the rewrite next time
        }
        return { contents: out, loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
}

const INTL_USE = /\bIntl\b|\btoLocale(?:Date|Time)?String\b|\blocaleCompare\b/;

/** Whether bundled Worker code `text` may use `Intl` (or the methods that format with it). */
export function usesIntl(text) {
  return INTL_USE.test(text);
}

/** Resolves `@edgesim/intl` (polyfills/index.js) to intl.js or intl-none.js. */
export function intlPlugin(withIntl) {
  const HERE = dirname(fileURLToPath(import.meta.url));
  return {
    name: "edgesim-intl",
    setup(build) {
      build.onResolve({ filter: /^@edgesim\/intl$/ }, () => ({
        path: `${HERE}/${withIntl ? "intl.js" : "intl-none.js"}`,
      }));
    },
  };
}
