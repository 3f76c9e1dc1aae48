//! Polling for source changes while `edgesim dev` runs (as `wrangler dev` rebuilds on save):
//! a fingerprint of every file's path, size and modification time under the project, skipping
//! `node_modules`, hidden directories, edgesim's state directory and `*.log` files (a log
//! written into the project, `edgesim dev > dev.log`, would otherwise rebuild on every line).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// Files looked at per poll, at most (a project bigger than this is fingerprinted in part).
const MAX_FILES: usize = 20_000;

/// What is watched.
#[derive(Clone, Debug)]
pub struct Watched {
    /// A directory walked recursively, or one file.
    pub root: Option<PathBuf>,
    /// Further files (a JS bundle's sources outside the root, `.dev.vars`).
    pub files: Vec<PathBuf>,
    /// A directory never walked (edgesim's state directory).
    pub skip: Option<PathBuf>,
}

impl Watched {
    /// The fingerprint of everything watched now; changes when any file is added, removed,
    /// resized or touched.
    pub fn fingerprint(&self) -> u64 {
        let mut entries: Vec<(PathBuf, u64, Option<std::time::SystemTime>)> = Vec::new();
        if let Some(root) = &self.root {
            walk(root, self.skip.as_deref(), &mut entries);
        }
        for f in &self.files {
            push(f, &mut entries);
        }
        entries.sort();
        entries.dedup();
        let mut h = DefaultHasher::new();
        entries.hash(&mut h);
        h.finish()
    }
}

fn push(path: &Path, out: &mut Vec<(PathBuf, u64, Option<std::time::SystemTime>)>) {
    match std::fs::metadata(path) {
        Ok(m) => out.push((path.to_path_buf(), m.len(), m.modified().ok())),
        Err(_) => out.push((path.to_path_buf(), u64::MAX, None)),
    }
}

fn walk(
    dir: &Path,
    skip: Option<&Path>,
    out: &mut Vec<(PathBuf, u64, Option<std::time::SystemTime>)>,
) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if out.len() >= MAX_FILES {
            return;
        }
        let Ok(read) = std::fs::read_dir(&d) else {
            // A file root, or a directory that vanished.
            push(&d, out);
            continue;
        };
        for entry in read.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                let hidden = name.starts_with('.');
                if hidden || name == "node_modules" || skip.is_some_and(|s| same(s, &path)) {
                    continue;
                }
                stack.push(path);
            } else if (!name.starts_with('.') || name == ".dev.vars") && !name.ends_with(".log") {
                push(&path, out);
            }
        }
    }
}

fn same(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_move_the_fingerprint() {
        let dir = std::env::temp_dir().join(format!("edgesim-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::create_dir_all(dir.join("node_modules/x")).unwrap();
        std::fs::write(dir.join("src/index.js"), "a").unwrap();
        let w = Watched {
            root: Some(dir.clone()),
            files: vec![],
            skip: None,
        };
        let a = w.fingerprint();
        assert_eq!(a, w.fingerprint());
        std::fs::write(dir.join("node_modules/x/y.js"), "ignored").unwrap();
        std::fs::write(dir.join("dev.log"), "ignored too").unwrap();
        assert_eq!(a, w.fingerprint());
        std::fs::write(dir.join("src/index.js"), "ab").unwrap();
        let b = w.fingerprint();
        assert_ne!(a, b);
        std::fs::write(dir.join(".dev.vars"), "A=1").unwrap();
        assert_ne!(b, w.fingerprint());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
