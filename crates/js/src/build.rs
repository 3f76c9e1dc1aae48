//! [`build`]: a Worker's entry to a wasi:http component (esbuild, then componentize-js), cached
//! by content hash.

use crate::error::{Diagnostic, JsBuildError};
use crate::manifest::Manifest;
use crate::toolchain::{Toolchain, sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How to build.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// The cache root (toolchain and components); default [`cache_root`](crate::cache_root).
    pub cache_dir: Option<PathBuf>,
    /// The project directory: esbuild's working directory, so error locations are relative to
    /// it. Default: the entry's directory.
    pub project_dir: Option<PathBuf>,
    /// No progress line on stderr when componentize-js runs.
    pub quiet: bool,
}

/// A built Worker.
#[derive(Clone, Debug)]
pub struct BuiltComponent {
    /// The component's bytes (pass to `Host::new`).
    pub wasm: Vec<u8>,
    /// Where the component is cached (`<hash>.wasm`; the bundle is beside it as `<hash>.js`).
    pub path: PathBuf,
    /// The content hash (bundle and toolchain) the component is cached under.
    pub hash: String,
    /// Every source file esbuild read (absolute paths; the user's files and the packages they
    /// import, not the adapter): what to watch for rebuilds.
    pub inputs: Vec<PathBuf>,
    /// Whether the component came from the cache (no componentize-js run).
    pub cached: bool,
}

/// Builds the Worker whose entry is `entry` (`.js`, `.mjs`, `.ts`, ...): esbuild bundles it
/// with edgesim's adapter into one ES module, and componentize-js turns that into a wasi:http
/// component, unless a component for the same bundle and toolchain is already cached.
///
/// Installs the toolchain on first use. Blocking (runs node); in async code, call it on a
/// blocking thread. Builds within one process run one at a time.
pub fn build(entry: &Path, opts: &BuildOptions) -> Result<BuiltComponent, JsBuildError> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !entry.is_file() {
        return Err(JsBuildError::NoEntry(entry.to_path_buf()));
    }
    let entry = std::fs::canonicalize(entry).map_err(|e| JsBuildError::io(entry.display(), e))?;
    let project = match &opts.project_dir {
        Some(p) => std::fs::canonicalize(p).map_err(|e| JsBuildError::io(p.display(), e))?,
        None => entry.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let toolchain = Toolchain::ensure(opts.cache_dir.as_deref())?;

    // 0. Nothing the last build read has changed: its component, without running Node.
    let manifest = Manifest::path(&toolchain.components, &toolchain.key, &entry, &project);
    if let Some(m) = Manifest::still_valid(&manifest) {
        let path = toolchain.components.join(format!("{}.wasm", m.hash));
        if let Ok(wasm) = std::fs::read(&path) {
            return Ok(BuiltComponent {
                wasm,
                path,
                hash: m.hash,
                inputs: m.inputs,
                cached: true,
            });
        }
    }

    // 1. Bundle (its output is what the component's cache key covers).
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let bundle = toolchain.components.join(format!(
        "bundle-{}-{}.tmp.js",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let adapter = toolchain.runtime.join("adapter.js");
    let answer = toolchain.driver(
        &project,
        &[
            "bundle".as_ref(),
            entry.as_os_str(),
            adapter.as_os_str(),
            bundle.as_os_str(),
        ],
    )?;
    if answer["ok"] != true {
        let _ = std::fs::remove_file(&bundle);
        return Err(JsBuildError::Syntax(diagnostics(&answer)));
    }
    let inputs: Vec<PathBuf> = answer["inputs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(PathBuf::from))
                .collect()
        })
        .unwrap_or_default();
    let source = std::fs::read(&bundle).map_err(|e| JsBuildError::io(bundle.display(), e))?;
    let hash = sha256(&[toolchain.key.as_bytes(), &source]);
    let path = toolchain.components.join(format!("{hash}.wasm"));
    let kept_bundle = toolchain.components.join(format!("{hash}.js"));
    let _ = std::fs::rename(&bundle, &kept_bundle);

    // 2. Componentize, unless cached.
    if let Ok(wasm) = std::fs::read(&path) {
        Manifest::record(&manifest, &hash, &inputs, &project);
        return Ok(BuiltComponent {
            wasm,
            path,
            hash,
            inputs,
            cached: true,
        });
    }
    if !opts.quiet {
        eprintln!(
            "edgesim: building the JavaScript Worker {} with componentize-js (5-15 s)...",
            entry.display()
        );
    }
    let tmp = toolchain
        .components
        .join(format!("{hash}.wasm.tmp{}", std::process::id()));
    let answer = toolchain.driver(
        &project,
        &[
            "componentize".as_ref(),
            kept_bundle.as_os_str(),
            toolchain.wit_dir().as_os_str(),
            tmp.as_os_str(),
        ],
    )?;
    if answer["ok"] != true {
        let _ = std::fs::remove_file(&tmp);
        let message = answer["message"]
            .as_str()
            .unwrap_or("no message")
            .to_string();
        return Err(JsBuildError::Componentize(message));
    }
    std::fs::rename(&tmp, &path).map_err(|e| JsBuildError::io(path.display(), e))?;
    let wasm = std::fs::read(&path).map_err(|e| JsBuildError::io(path.display(), e))?;
    Manifest::record(&manifest, &hash, &inputs, &project);
    Ok(BuiltComponent {
        wasm,
        path,
        hash,
        inputs,
        cached: false,
    })
}

fn diagnostics(answer: &serde_json::Value) -> Vec<Diagnostic> {
    let list = answer["errors"].as_array().cloned().unwrap_or_default();
    let mut out: Vec<Diagnostic> = list
        .iter()
        .map(|e| Diagnostic {
            file: e["file"].as_str().unwrap_or_default().to_string(),
            line: e["line"].as_u64().unwrap_or(0) as u32,
            column: e["column"].as_u64().unwrap_or(0) as u32,
            message: e["text"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    if out.is_empty() {
        out.push(Diagnostic {
            file: String::new(),
            line: 0,
            column: 0,
            message: format!("esbuild failed: {answer}"),
        });
    }
    out
}
