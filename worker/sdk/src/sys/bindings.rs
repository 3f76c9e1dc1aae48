//! Bindings of the `kv-imports` world from `wit/kv.wit`.

wit_bindgen::generate!({
    path: "../../wit",
    world: "edgesim:worker/kv-imports",
});
