//! Cranelift's incremental compilation cache, on disk: compiled functions shared between
//! components.
//!
//! Every JavaScript Worker is the same engine (StarlingMonkey, tens of thousands of functions)
//! with a different snapshot in its data segments, so a new or edited JS Worker compiles the
//! same functions again. With this cache, wasmtime looks each function up by a hash of its
//! Cranelift IR and the target before compiling it, and only new functions are compiled: the
//! first JS Worker pays for the engine, the next ones (and every rebuild in `edgesim dev`) do not.
//!
//! Entries live in the per-user cache (`~/.cache/edgesim/cranelift`), a directory created
//! owner-only and refused when someone else could write to it, because an entry is native code.
//! They are written atomically (never half an entry) but not synced: an entry lost or cut short
//! by a crash fails to decode and the function is compiled again.

use edgesim_core::cache;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::path::PathBuf;

/// A [`wasmtime::CacheStore`] of one file per compiled function.
#[derive(Debug)]
pub(crate) struct FunctionCache {
    dir: PathBuf,
}

impl FunctionCache {
    /// The per-user function cache, or why there is none.
    pub(crate) fn open() -> std::io::Result<Self> {
        Ok(Self {
            dir: cache::cache_dir("cranelift")?,
        })
    }

    fn entry_name(key: &[u8]) -> String {
        let digest = Sha256::digest(key);
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let path = self.dir.join(Self::entry_name(key));
        // Checked like the compiled-Worker cache: a file planted by someone else is not read.
        cache::check_private_file(&path).ok()?;
        std::fs::read(&path).ok().map(Cow::Owned)
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        cache::write_atomic_unsynced(&self.dir, &Self::entry_name(key), &value).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::CacheStore;

    #[test]
    fn an_entry_comes_back_and_a_missing_one_is_none() {
        let dir = std::env::temp_dir().join(format!("edgesim-fncache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = FunctionCache {
            dir: cache::private_dir(&dir).unwrap(),
        };
        assert!(store.get(b"k").is_none());
        assert!(store.insert(b"k", b"compiled".to_vec()));
        assert_eq!(store.get(b"k").as_deref(), Some(&b"compiled"[..]));
        assert!(store.get(b"other").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
