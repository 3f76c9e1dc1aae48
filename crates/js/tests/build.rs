//! The build API: a cached rebuild, esbuild's errors with their locations, the source list.

mod common;

use edgesim_js::{BuildOptions, JsBuildError};

#[test]
fn a_second_build_of_unchanged_sources_comes_from_the_cache() {
    if !common::node_or_skip("a_second_build_of_unchanged_sources_comes_from_the_cache") {
        return;
    }
    let entry = common::fixture("module/index.js");
    let first = edgesim_js::build(&entry, &BuildOptions::default()).expect("builds");
    assert!(first.wasm.starts_with(b"\0asm"), "a wasm component");
    let started = std::time::Instant::now();
    let second = edgesim_js::build(&entry, &BuildOptions::default()).expect("builds");
    assert!(second.cached, "the second build reuses the component");
    assert_eq!(first.hash, second.hash);
    assert_eq!(first.wasm, second.wasm);
    assert!(
        started.elapsed().as_secs() < 5,
        "a cached build runs esbuild only ({:?})",
        started.elapsed()
    );
    // The sources esbuild read: the entry and what it imports, not the adapter.
    let names: Vec<String> = second
        .inputs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"index.js".to_string()), "{names:?}");
    assert!(names.contains(&"kv-suite.js".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n == "adapter.js"), "{names:?}");
    assert!(second.inputs.iter().all(|p| p.is_absolute()));
}

#[test]
fn a_syntax_error_is_reported_with_file_line_and_column() {
    if !common::node_or_skip("a_syntax_error_is_reported_with_file_line_and_column") {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("js-syntax-error");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("src/index.ts"),
        "export default {\n  fetch(): Response { return new Response(\"x\" }\n};\n",
    )
    .unwrap();
    let opts = BuildOptions {
        project_dir: Some(dir.clone()),
        ..BuildOptions::default()
    };
    let err = edgesim_js::build(&dir.join("src/index.ts"), &opts).unwrap_err();
    let JsBuildError::Syntax(diags) = &err else {
        panic!("expected a syntax error, got {err}");
    };
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].file, "src/index.ts");
    assert_eq!(diags[0].line, 2);
    assert_eq!(diags[0].column, 46);
    assert_eq!(
        err.to_string(),
        "src/index.ts:2:46: Expected \")\" but found \"}\""
    );
    // A missing entry and an unresolved import are clear errors too.
    let missing = edgesim_js::build(&dir.join("src/nope.js"), &opts).unwrap_err();
    assert!(matches!(missing, JsBuildError::NoEntry(_)), "{missing}");
    std::fs::write(
        dir.join("src/imports.js"),
        "import x from \"./not-there.js\";\nexport default { fetch() { return x; } };\n",
    )
    .unwrap();
    let unresolved = edgesim_js::build(&dir.join("src/imports.js"), &opts).unwrap_err();
    assert!(
        unresolved
            .to_string()
            .starts_with("src/imports.js:1:14: Could not resolve \"./not-there.js\""),
        "{unresolved}"
    );
}
