// edgesim's build driver, run with node from the installed toolchain directory.
//
//   node driver.mjs bundle <entry> <adapter.js> <out.js>
//       esbuild bundles the adapter and the user's entry (JS or TS) into one ES module.
//       Prints {"ok":true,"inputs":[absolute paths read]} or
//              {"ok":false,"errors":[{"file","line","column","text"}]}.
//   node driver.mjs componentize <bundle.js> <wit dir> <out.wasm>
//       componentize-js turns the bundle into a wasi:http component (world `worker`).
//       Prints {"ok":true} or {"ok":false,"message":...}.

import { rm, writeFile } from "node:fs/promises";
import { resolve, isAbsolute } from "node:path";
import { intlPlugin, regexPlugin, usesIntl } from "./polyfills/rewrite-regex.mjs";
import { leanBindings } from "./bindings.mjs";

const [command, ...args] = process.argv.slice(2);

function print(value) {
  process.stdout.write(JSON.stringify(value) + "\n");
}

// Service-worker syntax (an entry that exports nothing): production evaluates the script with
// its bindings as globals, but wizer would run a top level imported here at build time, before
// any binding exists. So its bundle becomes the body of one function, which the adapter runs
// at the instance's first event after installing the globals (platform.js,
// startServiceWorker). Returns null for module syntax, or when the entry does not build (the
// main build then reports the errors).
const SW_MAIN = "__edgesimServiceWorkerMain";

async function serviceWorker(alone, outFile) {
  if (alone === null) return null;
  const outputs = Object.values(alone.metafile.outputs);
  if (outputs.length !== 1 || outputs[0].exports.length !== 0) return null;
  const path = `${outFile}.service-worker.mjs`;
  const body = alone.outputFiles[0].text;
  await writeFile(path, `export async function ${SW_MAIN}() {\n${body}\n}\n`);
  return { path, inputs: alone.metafile.inputs };
}

/** esbuild's options for a Worker's code: wrangler's (the `workerd` conditions), as ESM. */
const WORKER_BUILD = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  mainFields: ["browser", "module", "main"],
  conditions: ["workerd", "worker", "browser"],
  external: ["wasi:*", "edgesim:*"],
  logLevel: "silent",
  define: { "process.env.NODE_ENV": '"production"' },
};

/**
 * The entry bundled alone (without the runtime, not written), which tells service-worker
 * syntax apart and whether the Worker may use `Intl`; `null` when it does not build (the main
 * build then reports the errors).
 */
async function entryAlone(esbuild, entry, workDir) {
  try {
    return await esbuild.build({
      ...WORKER_BUILD,
      entryPoints: [entry],
      outdir: workDir,
      metafile: true,
      write: false,
      absWorkingDir: workDir,
    });
  } catch {
    return null;
  }
}

async function bundle(entry, adapter, outFile) {
  const esbuild = await import("esbuild");
  const workDir = process.cwd();
  const alone = await entryAlone(esbuild, entry, workDir);
  // `Intl` (about 55 MB of snapshot) only for a Worker whose code or packages may use it (a
  // Worker that does not build counts as one that may).
  const withIntl = alone === null || alone.outputFiles.some((f) => usesIntl(f.text));
  const sw = await serviceWorker(alone, outFile);
  const contents =
    `import { serve } from ${JSON.stringify(adapter)};\n` +
    (sw
      ? `import { ${SW_MAIN} } from ${JSON.stringify(sw.path)};\nconst worker = { ${SW_MAIN} };\n`
      : `import * as worker from ${JSON.stringify(entry)};\n`) +
    `export const incomingHandler = serve(worker);\n`;
  let result;
  try {
    result = await esbuild.build({
      ...WORKER_BUILD,
      stdin: { contents, resolveDir: workDir, sourcefile: "edgesim-entry.js", loader: "js" },
      outfile: outFile,
      metafile: true,
      write: true,
      absWorkingDir: workDir,
      // Regular expressions the engine cannot parse (Unicode property escapes, the `v` flag).
      plugins: [regexPlugin(esbuild), intlPlugin(withIntl)],
    });
  } catch (e) {
    if (sw) await rm(sw.path, { force: true });
    const errors = (e.errors || []).map((m) => ({
      file: m.location ? m.location.file : "",
      line: m.location ? m.location.line : 0,
      // esbuild's own convention (as its CLI prints it): 1-based lines, 0-based columns.
      column: m.location ? m.location.column : 0,
      text: m.text,
    }));
    if (!errors.length) errors.push({ file: "", line: 0, column: 0, text: String(e) });
    print({ ok: false, errors });
    return;
  }
  const adapterPath = resolve(adapter);
  // The runtime's own files and packages (polyfills) are not the Worker's sources.
  const toolchainDir = resolve(adapterPath, "..", "..") + "/";
  if (sw) await rm(sw.path, { force: true });
  const inputs = Object.keys({ ...result.metafile.inputs, ...(sw ? sw.inputs : {}) })
    .filter((p) => !sw || resolve(workDir, p) !== sw.path)
    .filter((p) => p !== "<stdin>" && p !== "edgesim-entry.js" && !p.startsWith("wasi:") && !p.startsWith("edgesim:"))
    .map((p) => (isAbsolute(p) ? p : resolve(workDir, p)))
    .filter((p) => p !== adapterPath && !p.startsWith(toolchainDir));
  print({ ok: true, inputs });
}

async function componentize(bundlePath, witPath, outFile) {
  const { componentize } = await import("@bytecodealliance/componentize-js");
  // The generated glue, leaner (bindings.mjs): componentize-js reads `spliceBindings` from the
  // splicer object it imports, so wrapping it here rewrites the bindings it then snapshots.
  const splicerUrl = new URL(
    "../lib/spidermonkey-embedding-splicer.js",
    import.meta.resolve("@bytecodealliance/componentize-js"),
  );
  const { splicer } = await import(splicerUrl.href);
  const splice = splicer.spliceBindings;
  splicer.spliceBindings = (...spliceArgs) => {
    const spliced = splice(...spliceArgs);
    spliced.jsBindings = leanBindings(spliced.jsBindings);
    return spliced;
  };
  try {
    const { component } = await componentize({
      sourcePath: bundlePath,
      witPath,
      worldName: "worker",
    });
    await writeFile(outFile, component);
    print({ ok: true });
  } catch (e) {
    print({ ok: false, message: String(e && e.stack ? e.stack : e) });
  }
}

if (command === "bundle") await bundle(...args);
else if (command === "componentize") await componentize(...args);
else {
  print({ ok: false, message: `unknown command ${command}` });
  process.exitCode = 2;
}
