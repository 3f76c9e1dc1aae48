//! Test helpers shared by edgesim's crates (a dev-dependency only).
//!
//! # Visible skips
//!
//! Some tests need a tool the Rust toolchain does not bring (Node, npm, PostgreSQL). When the tool
//! is missing such a test must not pass silently: libtest hides the stderr of passing tests, so an
//! `eprintln!("SKIPPED ...")` is never seen. [`require_tool`] (or the [`require_tool!`] macro)
//! instead
//!
//! - under `CI=true` (or `CI=1`) **panics**, so the test fails and says what to install;
//! - otherwise appends one line to the skip log (`<target>/edgesim-skips.txt`, or the file named by
//!   `EDGESIM_SKIP_LOG`), which `just test` prints after the test run, and returns `false` so the
//!   test can return early.
//!
//! ```no_run
//! use edgesim_testkit::{command_succeeds, require_tool};
//!
//! #[test]
//! fn talks_to_node() {
//!     require_tool!("node", command_succeeds("node", &["--version"]), "install Node.js 18+ (apt-get install nodejs)");
//!     // ... the test proper ...
//! }
//! ```

pub mod fuzz;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The environment variable naming the skip log explicitly (default: `<target>/edgesim-skips.txt`).
pub const SKIP_LOG_ENV: &str = "EDGESIM_SKIP_LOG";

/// The skip log's file name inside the cargo target directory.
pub const SKIP_LOG_NAME: &str = "edgesim-skips.txt";

/// True when running under CI (`CI=true` or `CI=1`): a missing tool is then a failure.
pub fn on_ci() -> bool {
    matches!(
        std::env::var("CI")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Ok("true" | "1")
    )
}

/// True when `program args...` starts and exits successfully (output discarded): a probe for
/// [`require_tool`].
pub fn command_succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Where skip lines go: `$EDGESIM_SKIP_LOG`, else `<target>/edgesim-skips.txt` found from the
/// running test binary (`<target>/<profile>/deps/<test>`), else `None`.
pub fn skip_log_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(SKIP_LOG_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let deps = exe
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "deps"))?;
    // deps -> <profile> -> <target> (or <target>/<triple>; the triple's parent holds no
    // profile dirs, but writing next to the profile dir is still inside the target dir).
    Some(deps.parent()?.parent()?.join(SKIP_LOG_NAME))
}

/// Checks that a tool a test needs is there. `test` names the test, `tool` the tool, `available`
/// is the probe's result and `install` says how to get the tool.
///
/// Returns `true` when the tool is available. When it is not: under CI panics with the install
/// hint; otherwise records a skip line (see the crate docs) and returns `false`, and the caller
/// returns early.
pub fn require_tool(test: &str, tool: &str, available: bool, install: &str) -> bool {
    if available {
        return true;
    }
    if on_ci() {
        panic!("{test}: `{tool}` is missing and CI=true forbids skipping; {install}");
    }
    let line = format!("SKIPPED {test}: `{tool}` is missing ({install})\n");
    eprint!("{line}");
    if let Some(path) = skip_log_path() {
        // One write of one short line with O_APPEND: concurrent test binaries don't interleave.
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!(
                "edgesim-testkit: could not record the skip in {}: {e}",
                path.display()
            );
        }
    }
    false
}

/// The name of the running test: libtest names each test's thread after it.
pub fn current_test_name(fallback: &str) -> String {
    match std::thread::current().name() {
        Some(n) if n != "main" => n.to_string(),
        _ => fallback.to_string(),
    }
}

/// `require_tool!(tool, probe, install)`: returns from the calling test (recording a visible
/// skip) when `probe` is false, or fails it under CI. See [`require_tool`].
#[macro_export]
macro_rules! require_tool {
    ($tool:expr, $probe:expr, $install:expr $(,)?) => {
        if !$crate::require_tool(
            &$crate::current_test_name(module_path!()),
            $tool,
            $probe,
            $install,
        ) {
            return;
        }
    };
}

/// Node.js and npm (what JavaScript Workers need), or a visible skip (a failure under
/// `CI=true`). Use at the top of a test: `edgesim_testkit::require_node!();`.
#[macro_export]
macro_rules! require_node {
    () => {
        $crate::require_tool!(
            "node",
            $crate::command_succeeds("node", &["--version"])
                && $crate::command_succeeds("npm", &["--version"]),
            "JavaScript Workers need Node.js 18+ and npm (apt-get install nodejs npm)"
        );
    };
}

/// Runs `npm ci` in `dir` unless its lockfile's packages are installed (a fresh clone).
pub fn npm_ci_if_needed(dir: &std::path::Path) {
    if dir.join("node_modules/.package-lock.json").is_file() {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("npm ci in {}: {e}", dir.display()));
    assert!(
        out.status.success(),
        "npm ci in {} failed:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_available_tool_is_not_a_skip() {
        assert!(require_tool("t", "sh", true, "n/a"));
    }

    #[test]
    fn probes_report_missing_programs() {
        assert!(!command_succeeds("edgesim-no-such-program-xyz", &[]));
        assert!(command_succeeds("sh", &["-c", "exit 0"]));
        assert!(!command_succeeds("sh", &["-c", "exit 3"]));
    }

    #[test]
    fn the_skip_log_lives_in_the_target_dir() {
        if std::env::var_os(SKIP_LOG_ENV).is_some() {
            return;
        }
        let p = skip_log_path().expect("a test binary runs from <target>/<profile>/deps");
        assert_eq!(p.file_name().unwrap(), SKIP_LOG_NAME);
        assert!(p.parent().unwrap().is_dir());
    }

    /// Runs this test binary again, only `tests::missing_tool_child`, with the given environment.
    fn run_child(ci: &str, log: &std::path::Path) -> std::process::Output {
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::missing_tool_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("EDGESIM_TESTKIT_CHILD", "1")
            .env("CI", ci)
            .env(SKIP_LOG_ENV, log)
            .output()
            .unwrap()
    }

    /// The child half of `missing_tools_skip_visibly_or_fail_on_ci` (does nothing on its own).
    #[test]
    fn missing_tool_child() {
        if std::env::var_os("EDGESIM_TESTKIT_CHILD").is_none() {
            return;
        }
        require_tool!("edgesim-no-such-tool", false, "install it from nowhere");
        panic!("require_tool! did not return on a missing tool");
    }

    #[test]
    fn missing_tools_skip_visibly_or_fail_on_ci() {
        let dir = std::env::temp_dir().join(format!("edgesim-testkit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("skips.txt");
        let _ = std::fs::remove_file(&log);

        let out = run_child("", &log);
        assert!(out.status.success(), "{out:?}");
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.starts_with("SKIPPED tests::missing_tool_child: `edgesim-no-such-tool`"),
            "{text}"
        );
        assert!(text.contains("install it from nowhere"), "{text}");

        let out = run_child("true", &log);
        assert!(
            !out.status.success(),
            "under CI a missing tool must fail the test"
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(
            stderr.contains("CI=true forbids skipping; install it from nowhere"),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            text,
            "a CI failure is not logged as a skip"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn test_names_come_from_the_test_thread() {
        let n = current_test_name("fallback");
        assert!(n.ends_with("test_names_come_from_the_test_thread") || n == "fallback");
    }
}
