//! Building a JavaScript or TypeScript entry into a Worker component, with `edgesim-js`
//! (esbuild, then componentize-js, cached by content hash).

use crate::WorkerError;
use edgesim_js::{BuildOptions, JsBuildError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A built JS Worker.
pub struct BuiltJs {
    /// The component's bytes.
    pub component: Arc<[u8]>,
    /// Every source file the bundle read (what a rebuild watches).
    pub sources: Vec<PathBuf>,
}

/// Builds `entry`; `project` (the wrangler file's directory) is where esbuild runs, so its
/// messages name files relative to it. A missing Node or toolchain is a configuration error
/// (nothing to retry on save); a syntax error or a failed componentize-js is a build error.
pub fn build(entry: &Path, project: Option<&Path>) -> Result<BuiltJs, WorkerError> {
    let opts = BuildOptions {
        project_dir: project.map(Path::to_path_buf),
        ..BuildOptions::default()
    };
    match edgesim_js::build(entry, &opts) {
        Ok(b) => Ok(BuiltJs {
            component: b.wasm.into(),
            sources: b.inputs,
        }),
        Err(e @ (JsBuildError::NodeMissing(_) | JsBuildError::Install(_))) => {
            Err(WorkerError::Config(e.to_string()))
        }
        Err(e @ JsBuildError::NoEntry(_)) => Err(WorkerError::Config(e.to_string())),
        Err(e) => Err(WorkerError::Build(e.to_string())),
    }
}
