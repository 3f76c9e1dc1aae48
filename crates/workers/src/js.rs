//! Building a JavaScript or TypeScript entry into a Worker component.
//!
//! The build itself (esbuild, then componentize-js, with a content-hash cache) belongs to the
//! `edgesim-js` crate; this module is the one place the Worker resolution calls it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A built JS Worker.
pub struct BuiltJs {
    /// The component's bytes.
    pub component: Arc<[u8]>,
    /// Every source file the bundle read (what a rebuild watches).
    pub sources: Vec<PathBuf>,
}

/// Builds `entry`. Until `edgesim-js` is part of the workspace this fails with a message
/// saying so.
pub fn build(entry: &Path) -> Result<BuiltJs, String> {
    Err(format!(
        "{}: this edgesim build cannot build JavaScript Workers yet (the edgesim-js toolchain is missing)",
        entry.display()
    ))
}
