//! JavaScript Workers for edgesim: the pinned toolchain and the build of a Worker's entry into a
//! wasi:http component that [`edgesim_host`](../edgesim_host/index.html) runs like any other.
//!
//! [`build`] bundles the user's entry (JS or TS, module or service-worker syntax) together with
//! edgesim's runtime adapter using esbuild, then turns the bundle into a component with
//! componentize-js. Both tools come from a `package.json` and lockfile embedded in this crate,
//! installed with `npm ci` into a per-user cache directory on first use ([`Toolchain`]). Node.js
//! 18 or newer and npm are needed only for this; without them the error says what to install.
//!
//! Components are cached by content hash (the bundle, which contains the adapter, plus the
//! toolchain's version), so rebuilding unchanged sources costs one esbuild run (~0.1 s) instead
//! of componentize-js (5–15 s). Compiling the component with wasmtime is cached separately by
//! the host (`Host::new`'s `cache_dir`; [`compiled_cache_dir`] is the conventional place).
//!
//! ```no_run
//! let built = edgesim_js::build(
//!     std::path::Path::new("my-worker/src/index.js"),
//!     &edgesim_js::BuildOptions::default(),
//! )?;
//! println!("{} bytes, {} source files", built.wasm.len(), built.inputs.len());
//! # Ok::<(), edgesim_js::JsBuildError>(())
//! ```
//!
//! The adapter (`js/adapter.js`) is what a Worker's `env`, `ctx`, `request.cf`, `console`,
//! uncaught exceptions and the `WebSocket` global behave like; see the crate README.

#![deny(missing_docs)]

mod build;
mod error;
mod manifest;
mod toolchain;

pub use build::{BuildOptions, BuiltComponent, build};
pub use error::{Diagnostic, JsBuildError};
pub use toolchain::{MIN_NODE_MAJOR, Toolchain, cache_root, compiled_cache_dir, node_version};

/// edgesim's runtime adapter (JavaScript), bundled in front of every JS Worker.
pub const ADAPTER_JS: &str = include_str!("../js/adapter.js");

/// Every file of the runtime, written beside `adapter.js` (which imports the others by relative
/// path): `(file name, contents)`. Part of each component's cache key.
pub const RUNTIME_JS: &[(&str, &str)] = &[
    ("adapter.js", ADAPTER_JS),
    // The leaner glue between the engine and the component (driver.mjs applies it).
    ("bindings.mjs", include_str!("../js/bindings.mjs")),
    // `navigator` and `request.cf` as workerd has them.
    ("platform.js", include_str!("../js/platform.js")),
    // What the engine lacks (Intl, normalize, URLPattern, crypto.subtle, ...), snapshotted at
    // build (`js/polyfills/`).
    (
        "polyfills/index.js",
        include_str!("../js/polyfills/index.js"),
    ),
    (
        "polyfills/normalize.js",
        include_str!("../js/polyfills/normalize.js"),
    ),
    (
        "polyfills/intl-global.js",
        include_str!("../js/polyfills/intl-global.js"),
    ),
    ("polyfills/intl.js", include_str!("../js/polyfills/intl.js")),
    (
        "polyfills/intl-none.js",
        include_str!("../js/polyfills/intl-none.js"),
    ),
    (
        "polyfills/intl-load.js",
        include_str!("../js/polyfills/intl-load.js"),
    ),
    (
        "polyfills/intl-extra.js",
        include_str!("../js/polyfills/intl-extra.js"),
    ),
    (
        "polyfills/regexp.js",
        include_str!("../js/polyfills/regexp.js"),
    ),
    (
        "polyfills/urlpattern.js",
        include_str!("../js/polyfills/urlpattern.js"),
    ),
    (
        "polyfills/streams.js",
        include_str!("../js/polyfills/streams.js"),
    ),
    (
        "polyfills/subtle.js",
        include_str!("../js/polyfills/subtle.js"),
    ),
    // `caches`: the Cache API, answered by the host per colo (crates/host/src/cache/).
    ("cache.js", include_str!("../js/cache.js")),
    // `HTMLRewriter`: lol_html in the host (crates/host/src/html_rewriter.rs).
    ("htmlrewriter.js", include_str!("../js/htmlrewriter.js")),
    // Build time (Node): regular expressions the engine cannot parse, rewritten.
    (
        "polyfills/rewrite-regex.mjs",
        include_str!("../js/polyfills/rewrite-regex.mjs"),
    ),
];
