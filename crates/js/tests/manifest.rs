//! A start whose sources are unchanged reuses the last build without running Node; a changed
//! source is bundled again. Its own test binary: it empties `PATH` to prove Node is not run.

mod common;

use edgesim_js::{BuildOptions, JsBuildError};

#[test]
fn unchanged_sources_skip_node_and_a_changed_one_is_bundled_again() {
    if !common::node_or_skip("unchanged_sources_skip_node_and_a_changed_one_is_bundled_again") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("edgesim-js-manifest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("util.js"), "export const word = 'one';\n").unwrap();
    let entry = dir.join("index.js");
    std::fs::write(
        &entry,
        "import { word } from './util.js';\nexport default { fetch() { return new Response(word); } };\n",
    )
    .unwrap();
    let opts = BuildOptions {
        project_dir: Some(dir.clone()),
        quiet: true,
        ..BuildOptions::default()
    };
    let first = edgesim_js::build(&entry, &opts).expect("builds with Node");

    // Without Node on PATH, an unchanged project still builds: from the manifest.
    let path = std::env::var_os("PATH").unwrap_or_default();
    // SAFETY: this test binary has this one test, so no other thread reads the environment.
    unsafe { std::env::set_var("PATH", "") };
    let again = edgesim_js::build(&entry, &opts);
    let changed = {
        std::fs::write(dir.join("util.js"), "export const word = 'two';\n").unwrap();
        edgesim_js::build(&entry, &opts)
    };
    unsafe { std::env::set_var("PATH", &path) };

    let again = again.expect("an unchanged project needs no Node");
    assert!(again.cached);
    assert_eq!(again.hash, first.hash);
    assert_eq!(again.wasm, first.wasm);
    assert_eq!(again.inputs, first.inputs, "the watch list survives");
    // An imported file changed: the build must bundle again, which needs Node.
    match changed {
        Err(JsBuildError::NodeMissing(_)) => {}
        Ok(b) => panic!("a changed import was served from the manifest: {}", b.hash),
        Err(e) => panic!("unexpected error: {e}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
