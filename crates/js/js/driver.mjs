// edgesim's build driver, run with node from the installed toolchain directory.
//
//   node driver.mjs bundle <entry> <adapter.js> <out.js>
//       esbuild bundles the adapter and the user's entry (JS or TS) into one ES module.
//       Prints {"ok":true,"inputs":[absolute paths read]} or
//              {"ok":false,"errors":[{"file","line","column","text"}]}.
//   node driver.mjs componentize <bundle.js> <wit dir> <out.wasm>
//       componentize-js turns the bundle into a wasi:http component (world `worker`).
//       Prints {"ok":true} or {"ok":false,"message":...}.

import { writeFile } from "node:fs/promises";
import { resolve, isAbsolute } from "node:path";

const [command, ...args] = process.argv.slice(2);

function print(value) {
  process.stdout.write(JSON.stringify(value) + "\n");
}

async function bundle(entry, adapter, outFile) {
  const esbuild = await import("esbuild");
  const workDir = process.cwd();
  const contents =
    `import { serve } from ${JSON.stringify(adapter)};\n` +
    `import * as worker from ${JSON.stringify(entry)};\n` +
    `export const incomingHandler = serve(worker);\n`;
  let result;
  try {
    result = await esbuild.build({
      stdin: { contents, resolveDir: workDir, sourcefile: "edgesim-entry.js", loader: "js" },
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      mainFields: ["browser", "module", "main"],
      conditions: ["workerd", "worker", "browser"],
      external: ["wasi:*"],
      outfile: outFile,
      metafile: true,
      write: true,
      logLevel: "silent",
      absWorkingDir: workDir,
      define: { "process.env.NODE_ENV": '"production"' },
    });
  } catch (e) {
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
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => p !== "<stdin>" && p !== "edgesim-entry.js" && !p.startsWith("wasi:"))
    .map((p) => (isAbsolute(p) ? p : resolve(workDir, p)))
    .filter((p) => p !== adapterPath);
  print({ ok: true, inputs });
}

async function componentize(bundlePath, witPath, outFile) {
  const { componentize } = await import("@bytecodealliance/componentize-js");
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
