//! The pinned JavaScript toolchain: Node.js checks, the per-user cache directory, and the
//! `npm ci` install of the embedded `package.json` + lockfile.
//!
//! Layout under [`cache_root`] (`$XDG_CACHE_HOME/edgesim` or `~/.cache/edgesim`, mode 0700):
//! - `js/toolchain-<lock hash>/`: `package.json`, `package-lock.json`, `node_modules/`, the
//!   WIT of the target world (`wit/`), and `runtime-<hash>/` with the adapter and the driver
//!   script. Installed into a temporary directory and renamed into place, so concurrent first
//!   uses (parallel tests, two terminals) never see a half-installed toolchain.
//! - `js/components/<hash>.wasm` (and the bundle it came from, `<hash>.js`): built Workers.

use crate::error::JsBuildError;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The oldest Node.js major version the toolchain runs on.
pub const MIN_NODE_MAJOR: u32 = 18;

const PACKAGE_JSON: &str = include_str!("../toolchain/package.json");
const PACKAGE_LOCK: &str = include_str!("../toolchain/package-lock.json");
const WORLD_WIT: &str = include_str!("../wit/world.wit");
const DRIVER: &str = include_str!("../js/driver.mjs");

/// WASI packages of jco's WIT (0.2.12) that the target world needs, renamed to 0.2.10.
const WASI_PACKAGES: &[&str] = &[
    "wasi-cli",
    "wasi-clocks",
    "wasi-filesystem",
    "wasi-http",
    "wasi-io",
    "wasi-random",
    "wasi-sockets",
];

const INSTALL_HINT: &str = "JavaScript Workers need Node.js 18 or newer and npm (only to build \
them). Install Node.js 18+ with npm, e.g. `apt-get install nodejs npm`, `brew install node`, or \
from https://nodejs.org, and make sure `node` and `npm` are on PATH.";

/// The installed toolchain.
#[derive(Clone, Debug)]
pub struct Toolchain {
    /// `js/toolchain-<hash>`: `node_modules`, `wit/`.
    pub dir: PathBuf,
    /// The adapter and driver of this edgesim version (inside `dir`).
    pub runtime: PathBuf,
    /// Hash of everything that shapes a build besides the user's sources (lockfile, WIT,
    /// adapter, driver); part of each component's cache key.
    pub key: String,
    /// Where built components are cached.
    pub components: PathBuf,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn sha256(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex(&h.finalize())
}

/// `$XDG_CACHE_HOME/edgesim`, else `~/.cache/edgesim`; created owner-only (0700).
pub fn cache_root() -> Result<PathBuf, JsBuildError> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".cache"),
            None => {
                return Err(JsBuildError::Io(
                    "neither XDG_CACHE_HOME nor HOME is set: no place for edgesim's cache".into(),
                ));
            }
        },
    };
    let root = base.join("edgesim");
    create_private_dir(&root)?;
    Ok(root)
}

/// Where compiled (wasmtime) components conventionally go: `<cache_root>/compiled`, to pass as
/// `Host::new`'s `cache_dir`.
pub fn compiled_cache_dir() -> Result<PathBuf, JsBuildError> {
    let dir = cache_root()?.join("compiled");
    std::fs::create_dir_all(&dir).map_err(|e| JsBuildError::io(dir.display(), e))?;
    Ok(dir)
}

fn create_private_dir(dir: &Path) -> Result<(), JsBuildError> {
    if dir.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(|e| JsBuildError::io(parent.display(), e))?;
        }
        match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => Ok(()),
            Err(_) if dir.is_dir() => Ok(()),
            Err(e) => Err(JsBuildError::io(format!("creating {}", dir.display()), e)),
        }
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir).map_err(|e| JsBuildError::io(dir.display(), e))
    }
}

/// The installed Node.js version `(major, minor, patch)`, or the error saying what to install
/// when `node` is missing, older than [`MIN_NODE_MAJOR`], or `npm` is missing.
pub fn node_version() -> Result<(u32, u32, u32), JsBuildError> {
    let out = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| {
            JsBuildError::NodeMissing(format!("`node` could not be run ({e}). {INSTALL_HINT}"))
        })?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let mut nums = text
        .trim_start_matches('v')
        .split('.')
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let version = (
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
    );
    if !out.status.success() || version.0 < MIN_NODE_MAJOR {
        return Err(JsBuildError::NodeMissing(format!(
            "Node.js {text} is too old (or did not report a version). {INSTALL_HINT}"
        )));
    }
    let npm = Command::new("npm").arg("--version").output();
    if !npm.as_ref().is_ok_and(|o| o.status.success()) {
        return Err(JsBuildError::NodeMissing(format!(
            "Node.js {text} is installed but `npm` could not be run. {INSTALL_HINT}"
        )));
    }
    Ok(version)
}

impl Toolchain {
    /// The toolchain under `root` (default [`cache_root`]), installed with `npm ci` first if
    /// needed, with a progress line on stderr.
    pub fn ensure(root: Option<&Path>) -> Result<Toolchain, JsBuildError> {
        static INSTALL: Mutex<()> = Mutex::new(());
        let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
        let root = match root {
            Some(r) => {
                create_private_dir(r)?;
                r.to_path_buf()
            }
            None => cache_root()?,
        };
        let js = root.join("js");
        std::fs::create_dir_all(&js).map_err(|e| JsBuildError::io(js.display(), e))?;
        let lock_key = sha256(&[
            PACKAGE_JSON.as_bytes(),
            PACKAGE_LOCK.as_bytes(),
            WORLD_WIT.as_bytes(),
        ]);
        let dir = js.join(format!("toolchain-{}", &lock_key[..16]));
        if !dir.join(".edgesim-installed").is_file() {
            node_version()?;
            install(&js, &dir)?;
        }
        let mut key_parts: Vec<&[u8]> = vec![lock_key.as_bytes(), DRIVER.as_bytes()];
        for (name, text) in crate::RUNTIME_JS {
            key_parts.push(name.as_bytes());
            key_parts.push(text.as_bytes());
        }
        let runtime_key = sha256(&key_parts);
        let runtime = dir.join(format!("runtime-{}", &runtime_key[..16]));
        if !runtime.join("driver.mjs").is_file() {
            let tmp = dir.join(format!("runtime.tmp-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(&tmp).map_err(|e| JsBuildError::io(tmp.display(), e))?;
            for (name, text) in crate::RUNTIME_JS {
                let path = tmp.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| JsBuildError::io(parent.display(), e))?;
                }
                write(&path, text)?;
            }
            write(&tmp.join("driver.mjs"), DRIVER)?;
            if std::fs::rename(&tmp, &runtime).is_err() {
                // Another process put it there first.
                let _ = std::fs::remove_dir_all(&tmp);
            }
        }
        let components = js.join("components");
        std::fs::create_dir_all(&components)
            .map_err(|e| JsBuildError::io(components.display(), e))?;
        Ok(Toolchain {
            dir,
            runtime,
            key: runtime_key,
            components,
        })
    }

    /// The target world's WIT directory.
    pub fn wit_dir(&self) -> PathBuf {
        self.dir.join("wit")
    }

    /// Runs the driver script with `args` in `cwd`, returning its one line of JSON.
    pub(crate) fn driver(
        &self,
        cwd: &Path,
        args: &[&std::ffi::OsStr],
    ) -> Result<serde_json::Value, JsBuildError> {
        let out = Command::new("node")
            .arg(self.runtime.join("driver.mjs"))
            .args(args)
            .current_dir(cwd)
            .output()
            .map_err(|e| {
                JsBuildError::NodeMissing(format!("`node` could not be run ({e}). {INSTALL_HINT}"))
            })?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().rev().find(|l| l.starts_with('{'));
        match line.and_then(|l| serde_json::from_str(l).ok()) {
            Some(v) => Ok(v),
            None => Err(JsBuildError::Io(format!(
                "the build driver failed ({}):\n{}\n{}",
                out.status,
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))),
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), JsBuildError> {
    std::fs::write(path, text).map_err(|e| JsBuildError::io(path.display(), e))
}

/// `npm ci` into a temporary directory next to `dir`, then renamed to `dir`.
fn install(js: &Path, dir: &Path) -> Result<(), JsBuildError> {
    let tmp = js.join(format!(
        "{}.tmp-{}",
        dir.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("toolchain"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| JsBuildError::io(tmp.display(), e))?;
    write(&tmp.join("package.json"), PACKAGE_JSON)?;
    write(&tmp.join("package-lock.json"), PACKAGE_LOCK)?;
    eprintln!(
        "edgesim: installing the JavaScript Worker toolchain (esbuild, componentize-js) with \
         `npm ci` into {} (first use only; about 150 MB)...",
        dir.display()
    );
    let started = std::time::Instant::now();
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&tmp)
        .output()
        .map_err(|e| {
            JsBuildError::NodeMissing(format!("`npm` could not be run ({e}). {INSTALL_HINT}"))
        })?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(JsBuildError::Install(format!(
            "`npm ci` exited with {}:\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    // The target world and its WASI dependencies.
    let builtin = tmp.join("node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12");
    let wit = tmp.join("wit");
    for package in WASI_PACKAGES {
        let src = builtin.join(package).join("package.wit");
        let text = std::fs::read_to_string(&src).map_err(|e| {
            JsBuildError::Install(format!("jco's WIT is missing {}: {e}", src.display()))
        })?;
        let dst = wit.join("deps").join(package);
        std::fs::create_dir_all(&dst).map_err(|e| JsBuildError::io(dst.display(), e))?;
        write(
            &dst.join("package.wit"),
            &text.replace("@0.2.12", "@0.2.10"),
        )?;
    }
    write(&wit.join("world.wit"), WORLD_WIT)?;
    write(&tmp.join(".edgesim-installed"), "")?;
    if dir.is_dir() && !dir.join(".edgesim-installed").is_file() {
        // A leftover without its completion marker.
        let _ = std::fs::remove_dir_all(dir);
    }
    if std::fs::rename(&tmp, dir).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        if !dir.join(".edgesim-installed").is_file() {
            return Err(JsBuildError::Install(format!(
                "could not move the toolchain into {}",
                dir.display()
            )));
        }
    }
    eprintln!(
        "edgesim: JavaScript Worker toolchain installed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
