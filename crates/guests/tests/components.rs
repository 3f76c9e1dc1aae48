//! Every embedded guest is a valid wasm component with the imports and exports the host expects.

use edgesim_guests::{ALL, COURSE, HARDENED, by_name, fixtures};
use wasmparser::{Encoding, Parser, Payload, Validator, WasmFeatures};

/// Names of the top-level imports and exports of a component.
fn top_level(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("component parses") {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(s) if depth == 0 => {
                for i in s {
                    imports.push(i.expect("import").name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(s) if depth == 0 => {
                for e in s {
                    exports.push(e.expect("export").name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

#[test]
fn every_guest_is_a_valid_component() {
    for (name, bytes) in ALL {
        let first = Parser::new(0).parse_all(bytes).next().unwrap().unwrap();
        assert!(
            matches!(
                first,
                Payload::Version {
                    encoding: Encoding::Component,
                    ..
                }
            ),
            "{name} is not a component"
        );
        Validator::new_with_features(WasmFeatures::all())
            .validate_all(bytes)
            .unwrap_or_else(|e| panic!("{name} does not validate: {e}"));
        let (_, exports) = top_level(bytes);
        assert!(
            exports
                .iter()
                .any(|e| e == "wasi:http/incoming-handler@0.2.12"),
            "{name} exports {exports:?}"
        );
    }
}

#[test]
fn course_and_hardened_import_our_kv_interface() {
    for bytes in [COURSE, HARDENED, fixtures::KVOPS] {
        let (imports, _) = top_level(bytes);
        assert!(
            imports.iter().any(|i| i == "edgesim:worker/kv@0.1.0"),
            "imports: {imports:?}"
        );
    }
    for bytes in [COURSE, HARDENED, fixtures::SUBREQUESTS] {
        let (imports, _) = top_level(bytes);
        assert!(
            imports
                .iter()
                .any(|i| i == "wasi:http/outgoing-handler@0.2.12"),
            "imports: {imports:?}"
        );
    }
}

#[test]
fn hello_needs_no_kv() {
    let (imports, _) = top_level(fixtures::HELLO);
    assert!(
        !imports.iter().any(|i| i.starts_with("edgesim:")),
        "{imports:?}"
    );
}

#[test]
fn by_name_finds_each_guest_and_rejects_unknown_names() {
    assert_eq!(by_name("course").map(<[u8]>::len), Some(COURSE.len()));
    assert_eq!(by_name("loop").map(<[u8]>::len), Some(fixtures::LOOP.len()));
    assert!(by_name("nope").is_none());
    assert_eq!(
        by_name("anchor").map(<[u8]>::len),
        Some(fixtures::ANCHOR.len())
    );
    assert_eq!(ALL.len(), 11);
}

/// Interfaces a guest may import: what `edgesim-host` links (WASI CLI/IO/clocks/random,
/// `wasi:http`, our KV). Anything else would fail to instantiate.
const LINKED_PREFIXES: &[&str] = &[
    "wasi:cli/",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:http/types@",
    "wasi:http/outgoing-handler@",
    "edgesim:worker/kv@",
];

#[test]
fn guests_import_only_what_the_host_links() {
    for (name, bytes) in ALL {
        let (imports, _) = top_level(bytes);
        for import in &imports {
            assert!(
                LINKED_PREFIXES.iter().any(|p| import.starts_with(p)),
                "{name} imports {import}"
            );
        }
    }
}
