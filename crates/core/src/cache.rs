//! Per-user cache directories, safe against other local users.
//!
//! edgesim caches native code (compiled Worker components, loaded with wasmtime's unchecked
//! deserialisation) and JS builds. Whoever can write such a file can run code as the user who
//! loads it, so caches live in a per-user directory — `$XDG_CACHE_HOME/edgesim` when
//! `XDG_CACHE_HOME` is an absolute path, else `~/.cache/edgesim` — created owner-only (0700), and
//! a directory or entry owned by someone else, or writable by group or others, is refused.
//! Entries are written atomically (a private temporary file renamed into place), so a reader
//! never sees half an entry.
//!
//! ```no_run
//! let dir = edgesim_core::cache::cache_dir("workers")?;
//! let path = edgesim_core::cache::write_atomic(&dir, "abc.cwasm", b"...")?;
//! edgesim_core::cache::check_private_file(&path)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The root of edgesim's caches for this user (not created): `$XDG_CACHE_HOME/edgesim`, else
/// `$HOME/.cache/edgesim`. An error when neither variable gives an absolute path.
pub fn user_cache_root() -> io::Result<PathBuf> {
    let abs = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").and_then(abs) {
        return Ok(x.join("edgesim"));
    }
    if let Some(h) = std::env::var_os("HOME").and_then(abs) {
        return Ok(h.join(".cache").join("edgesim"));
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "no cache directory: neither XDG_CACHE_HOME nor HOME is an absolute path",
    ))
}

/// `<user cache root>/<name>`, created owner-only (with the root) when missing and checked with
/// [`private_dir`].
pub fn cache_dir(name: &str) -> io::Result<PathBuf> {
    let root = private_dir(&user_cache_root()?)?;
    private_dir(&root.join(name))
}

/// Creates `dir` (mode 0700; missing parents get the default mode) unless it exists, then checks
/// that it is a directory owned by this user and not writable by group or others.
pub fn private_dir(dir: &Path) -> io::Result<PathBuf> {
    if !dir.exists() {
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        match b.create(dir) {
            Ok(()) => {}
            // Created meanwhile by another process: checked below like any existing directory.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(refused(dir, "is not a directory"));
    }
    check_owner_and_mode(dir, &meta)?;
    Ok(dir.to_path_buf())
}

/// Checks that the cache entry `path` is a regular file owned by this user and not writable by
/// group or others (so nobody else could have planted or changed it).
pub fn check_private_file(path: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.file_type().is_file() {
        return Err(refused(path, "is not a regular file"));
    }
    check_owner_and_mode(path, &meta)
}

/// Writes `bytes` to `dir/name` atomically: a new owner-only temporary file in `dir`, synced,
/// then renamed over `name`. Returns the entry's path.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    write_entry(dir, name, bytes, true)
}

/// [`write_atomic`] without the sync, for many small entries that are cheap to lose: readers
/// never see half an entry, but a crash may leave an empty or short one.
pub fn write_atomic_unsynced(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    write_entry(dir, name, bytes, false)
}

fn write_entry(dir: &Path, name: &str, bytes: &[u8], sync: bool) -> io::Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let path = dir.join(name);
    let tmp = dir.join(format!(
        ".{name}.tmp.{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| path)
}

fn refused(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("refusing cache path {}: it {why}", path.display()),
    )
}

#[cfg(unix)]
fn check_owner_and_mode(path: &Path, meta: &std::fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(refused(
            path,
            &format!(
                "is owned by uid {}, not by this user (uid {me})",
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(refused(
            path,
            &format!(
                "is writable by group or others (mode {:o})",
                meta.mode() & 0o777
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_and_mode(_path: &Path, _meta: &std::fs::Metadata) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("edgesim-core-cache-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_directories_are_owner_only() {
        let d = scratch("new").join("a");
        private_dir(&d).unwrap();
        assert_eq!(mode(&d), 0o700);
        // Existing and fine: accepted as it is.
        private_dir(&d).unwrap();
        std::fs::remove_dir_all(d.parent().unwrap()).unwrap();
    }

    #[test]
    fn directories_and_files_writable_by_others_are_refused() {
        let d = scratch("open");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = private_dir(&d).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("writable by group or others"), "{e}");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        let f = write_atomic(&d, "entry", b"data").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"data");
        assert_eq!(mode(&f), 0o600);
        check_private_file(&f).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(check_private_file(&f).is_err());
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["entry"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_file_is_not_a_cache_directory_and_a_symlink_is_not_an_entry() {
        let d = scratch("kinds");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("f"), b"x").unwrap();
        assert!(private_dir(&d.join("f")).is_err());
        std::os::unix::fs::symlink(d.join("f"), d.join("link")).unwrap();
        assert!(check_private_file(&d.join("link")).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn directories_owned_by_someone_else_are_refused() {
        // `/` belongs to root: refused for anyone else; as root, a directory given to nobody.
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            let e = private_dir(Path::new("/")).unwrap_err();
            assert!(e.to_string().contains("is owned by uid 0"), "{e}");
            return;
        }
        let d = scratch("other");
        std::fs::create_dir_all(&d).unwrap();
        std::os::unix::fs::chown(&d, Some(65534), Some(65534)).unwrap();
        let e = private_dir(&d).unwrap_err();
        assert!(e.to_string().contains("is owned by uid 65534"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_root_follows_xdg_then_home() {
        // Read-only: the environment is the process's, shared by the tests.
        let root = user_cache_root();
        if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| Path::new(x).is_absolute()) {
            assert_eq!(root.unwrap(), PathBuf::from(x).join("edgesim"));
        } else if let Some(h) = std::env::var_os("HOME").filter(|h| Path::new(h).is_absolute()) {
            assert_eq!(root.unwrap(), PathBuf::from(h).join(".cache/edgesim"));
        }
    }
}
