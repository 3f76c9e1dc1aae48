//! What a build read, so an unchanged project skips esbuild (and Node) on the next start.
//!
//! After a bundle, [`Manifest::record`] stores the component's hash and the content hash of
//! every file esbuild read, plus the project's `package.json`, `package-lock.json` and
//! `tsconfig.json` (an `npm install` that changes which file a package resolves to changes one
//! of those). [`Manifest::still_valid`] re-hashes those files: only when every one is
//! byte-identical and the component is still cached does the build skip the bundler. A file
//! that appeared where none was (say a new module that would shadow another in resolution) is
//! not seen unless one of the recorded files changed too; saving any source file rebuilds.

use crate::toolchain::sha256;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Project files outside the bundle's inputs whose change may change module resolution.
const PROJECT_FILES: [&str; 3] = ["package.json", "package-lock.json", "tsconfig.json"];

#[derive(Serialize, Deserialize)]
struct Entry {
    path: PathBuf,
    /// The file's sha256, or `None` when it did not exist.
    sha256: Option<String>,
}

/// The inputs of one build of one entry.
#[derive(Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// The component's cache hash.
    pub hash: String,
    /// The bundle's inputs (what a rebuild watches).
    pub inputs: Vec<PathBuf>,
    files: Vec<Entry>,
}

fn file_hash(p: &Path) -> Option<String> {
    std::fs::read(p).ok().map(|b| sha256(&[&b]))
}

impl Manifest {
    /// Where the manifest for `entry` built in `project` with toolchain `key` lives.
    pub fn path(components: &Path, key: &str, entry: &Path, project: &Path) -> PathBuf {
        let id = sha256(&[
            key.as_bytes(),
            entry.as_os_str().as_encoded_bytes(),
            project.as_os_str().as_encoded_bytes(),
        ]);
        components.join(format!("entry-{}.json", &id[..32]))
    }

    /// The manifest at `path` when every file it names is unchanged, else `None`.
    pub fn still_valid(path: &Path) -> Option<Manifest> {
        let text = std::fs::read(path).ok()?;
        let m: Manifest = serde_json::from_slice(&text).ok()?;
        m.files
            .iter()
            .all(|f| file_hash(&f.path) == f.sha256)
            .then_some(m)
    }

    /// Records what a build read (best effort: a manifest that cannot be written only costs
    /// the next start a bundle).
    pub fn record(path: &Path, hash: &str, inputs: &[PathBuf], project: &Path) {
        let mut files: Vec<Entry> = inputs
            .iter()
            .map(|p| Entry {
                path: p.clone(),
                sha256: file_hash(p),
            })
            .collect();
        for name in PROJECT_FILES {
            let p = project.join(name);
            files.push(Entry {
                sha256: file_hash(&p),
                path: p,
            });
        }
        let m = Manifest {
            hash: hash.to_string(),
            inputs: inputs.to_vec(),
            files,
        };
        let Ok(text) = serde_json::to_vec(&m) else {
            return;
        };
        let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}
