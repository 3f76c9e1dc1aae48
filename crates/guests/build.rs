//! Builds the guest Workers in `worker/` for `wasm32-wasip2` (release) and copies the
//! components into `OUT_DIR` for `include_bytes!`.
//!
//! The inner build uses `<root>/target/wasm-guests` as its target directory, so it stays
//! cached across builds of this crate, and it drops the outer cargo's flags (RUSTFLAGS,
//! target dir, clippy's wrapper), which are meant for the host target.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Component file stems (`<stem>.wasm` in the inner target dir) embedded by `src/lib.rs`.
const COMPONENTS: &[&str] = &[
    "course",
    "hardened",
    "hardened-no-webhook",
    "hello",
    "anchor",
    "infinite-loop",
    "membomb",
    "trap",
    "subrequests",
    "kvops",
    "waituntil-forever",
];

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let root = manifest_dir
        .ancestors()
        .nth(2)
        .expect("crates/guests sits two levels below the repository root")
        .to_path_buf();
    let worker = root.join("worker");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_dir = root.join("target").join("wasm-guests");

    for path in [
        "Cargo.toml",
        "Cargo.lock",
        "sdk",
        "course",
        "hardened",
        "fixtures",
    ] {
        println!("cargo:rerun-if-changed={}", worker.join(path).display());
    }
    println!("cargo:rerun-if-changed={}", root.join("wit").display());

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    ensure_target();

    let output = Command::new(&cargo)
        .current_dir(&worker)
        .args(["build", "--release", "--locked", "--target", TARGET])
        .arg("--manifest-path")
        .arg(worker.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .output()
        .unwrap_or_else(|e| panic!("running {cargo:?} to build the guest Workers: {e}"));
    if !output.status.success() {
        panic!(
            "building the guest Workers in {} for {TARGET} failed ({}):\n{}",
            worker.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let built = target_dir.join(TARGET).join("release");
    for stem in COMPONENTS {
        copy_component(&built, &out_dir, stem);
    }
}

/// Installs the wasm target through rustup when it is missing (rustup does not auto-install it
/// on machines with `RUSTUP_AUTO_INSTALL=0`). Without rustup, the build reports what is missing.
fn ensure_target() {
    let Ok(out) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    else {
        return;
    };
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        return;
    }
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        println!(
            "cargo:warning=`rustup target add {TARGET}` failed; the guest build will probably fail too"
        );
    }
}

fn copy_component(built: &Path, out_dir: &Path, stem: &str) {
    let from = built.join(format!("{stem}.wasm"));
    let to = out_dir.join(format!("{stem}.wasm"));
    std::fs::copy(&from, &to)
        .unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
}
