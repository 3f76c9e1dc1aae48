//! Declared routes (`worker/js/products`): the checker judges a Worker whose URLs, KV keys and
//! JSON shapes are not the course's. The correct Worker passes `products-routes`; the flawed one
//! (the webhook forgets `product:{id}`, cached forever) fails with a witness naming
//! `/api/products/<id>`. Plus the bad-input errors. The JS part needs Node.

use edgesim_sim::events::{EventKind, Served};
use edgesim_sim::runner::run_worker;
use edgesim_sim::scenario::Scenario;
use edgesim_sim::{Property, WorkerSpec};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scenario() -> Scenario {
    Scenario::load(&root().join("worker/js/products/products-routes.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_correct_worker_passes_and_the_flawed_one_fails_on_its_own_routes() {
    edgesim_testkit::require_node!();
    let s = scenario();
    assert_eq!(
        s.effective_routes().len(),
        6,
        "the project's edgesim.routes.toml"
    );
    let dir = root().join("worker/js/products");
    let good = WorkerSpec::from_path(&dir)
        .resolve()
        .expect("products Worker");
    let r = run_worker(&s, 1, &good).expect("run");
    assert!(
        r.passed(),
        "the correct Worker must pass: {:#?}",
        r.violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(r.requests > 100);
    // Every kind of route was requested and judged: pages, a category's products, the other
    // table's list and its rows by slug, each per parameter value.
    let served = |prefix: &str| {
        r.events.iter().any(|e| {
            matches!(&e.kind, EventKind::RequestEnd { path, served: Served::Version(_), .. }
                if path.starts_with(prefix))
        })
    };
    for p in [
        "/api/products?page=1",
        "/api/products?page=3",
        "/api/categories/kitchen/products",
        "/api/categories/absent/products",
        "/api/categories",
        "/api/categories/home",
        "/api/categories/absent",
    ] {
        assert!(served(p), "{p} served a committed state");
    }
    // Both tables changed, each commit in one version sequence; every insert copied a product
    // with a fresh unique sku (none refused).
    let commits = |table: &str| {
        r.events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::DbCommit { table: t, .. } if t == table))
            .count()
    };
    assert!(commits("products") >= 4, "{}", commits("products"));
    assert!(commits("categories") >= 2, "{}", commits("categories"));
    assert!(
        r.events.iter().any(
            |e| matches!(&e.kind, EventKind::DbCommit { table, op, .. } if table == "products" && op == "INSERT")
        ),
        "seed 1 inserts a product"
    );
    assert!(
        !r.events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Note { text } if text.contains("refused"))),
        "an insert violated the unique sku"
    );
    let bounds = r.bounds_observed.clone().unwrap_or_default();
    assert!(bounds.contains("product:1"), "bounds per KV key: {bounds}");

    let routes = |d: &std::path::Path| {
        let t = std::fs::read_to_string(d.join("edgesim.routes.toml")).expect("routes file");
        t.lines().skip(1).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(
        routes(&dir),
        routes(&dir.join("flawed")),
        "the variants' routes differ"
    );
    let flawed = WorkerSpec::from_path(&dir.join("flawed"))
        .resolve()
        .expect("flawed products Worker");
    let r = run_worker(&s, 1, &flawed).expect("run");
    assert!(!r.passed(), "the flawed Worker must fail");
    let v = r
        .violations
        .iter()
        .find(|v| v.property == Property::Liveness)
        .unwrap_or_else(|| panic!("a liveness violation: {:?}", r.violations));
    assert!(v.path.starts_with("/api/products/"), "{v}");
    assert!(v.to_string().contains("/api/products/"), "{v}");
    // Only the item key is wrong: the lists, pages, categories and the other table hold.
    for v in &r.violations {
        assert!(
            v.path.starts_with("/api/products/") && !v.path.contains('?'),
            "only /api/products/<id> fails: {v}"
        );
    }
    // The HTML report draws each route beside its KV key.
    let tracker = edgesim_sim::Tracker::with_routes("products", s.effective_routes());
    let html = edgesim_sim::report::html(&r, "products-routes.toml", &tracker);
    assert!(
        html.contains("/api/products/1 · KV key product:1"),
        "report headings"
    );
    assert!(html.contains("<h2>/api/products · KV key products:list</h2>"));
}

fn load_text(name: &str, text: &str) -> Result<Scenario, String> {
    Scenario::parse(name, text).map_err(|e| e.to_string())
}

const BASE: &str = r#"
name = "x"
duration_s = 10
[[colos]]
code = "SYD"
[expect]
converge_within_s = 10
outcome = { course = "pass", hardened = "pass" }
"#;

#[test]
fn bad_routes_are_errors_naming_file_line_and_key() {
    let e = load_text(
        "s.toml",
        &format!("{BASE}\n[[routes]]\npath = \"/p/{{id}}\"\nsql = \"select * from products\"\n"),
    )
    .unwrap_err();
    assert!(
        e.starts_with("s.toml:12:") && e.contains("routes[0].sql"),
        "{e}"
    );
    assert!(e.contains("{id} is not in the SQL"), "{e}");
    let e = load_text(
        "s.toml",
        &format!(
            "{BASE}\n[[routes]]\npath = \"/p\"\nsql = \"select * from p\"\n[[workload]]\ncolo = \"*\"\nrate_per_s = 1\nroutes = [\"/q\"]\n"
        ),
    )
    .unwrap_err();
    assert!(e.contains("no [[routes]] entry has the path \"/q\""), "{e}");
    assert!(e.contains("key `routes`"), "{e}");
}

#[test]
fn unknown_tables_and_columns_stop_the_run_naming_the_route() {
    let run = |routes: &str| {
        let mut s = Scenario::parse(
            "s.toml",
            &format!("{BASE}\n[[workload]]\ncolo = \"*\"\nrate_per_s = 1\nroutes = true\n{routes}"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        s.duration_s = 1.0;
        edgesim_sim::run(&s, 1, None)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let e = run("[[routes]]\npath = \"/p\"\nsql = \"select * from nope\"\n");
    assert!(
        e.contains("s.toml:15") && e.contains("unknown table \"nope\""),
        "{e}"
    );
    let e = run(
        "[[routes]]\npath = \"/a/{id}\"\nsql = \"select * from articles where id = {id}\"\nfields = [\"title\", \"colour\"]\n",
    );
    assert!(
        e.contains("key `fields`") && e.contains("no column \"colour\""),
        "{e}"
    );
}

#[test]
fn a_route_no_request_reaches_is_a_warning_and_bodies_that_do_not_map_are_reported_per_route() {
    // The course Worker serves /articles as a bare array: a pointer into an object finds nothing.
    let s = Scenario::parse(
        "s.toml",
        &format!(
            "{BASE}\n[[workload]]\ncolo = \"*\"\nrate_per_s = 2\npaths = [\"/articles\"]\n\
             [[routes]]\npath = \"/articles\"\nsql = \"select * from articles\"\npointer = \"/data\"\n\
             [[routes]]\npath = \"/articles/{{id}}\"\nsql = \"select * from articles where id = {{id}}\"\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = edgesim_sim::run(&s, 1, None).expect("run");
    assert!(!r.passed());
    let unmapped: Vec<String> = r
        .violations
        .iter()
        .filter(|v| v.property == Property::Phantom && v.colo == "*")
        .map(ToString::to_string)
        .collect();
    assert_eq!(unmapped.len(), 1, "{unmapped:?}");
    assert!(unmapped[0].contains("route /articles:"), "{unmapped:?}");
    assert!(unmapped[0].contains("pointer \"/data\""), "{unmapped:?}");
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(
        r.warnings[0].contains("s.toml:19") && r.warnings[0].contains("/articles/{id}"),
        "{:?}",
        r.warnings
    );
}

/// Builds the Rust twin of the products Worker (`worker/products`, a member of the guest
/// workspace) as `build.rs` of edgesim-guests builds the others, and returns its component.
fn rust_twin(bin: &str) -> edgesim_sim::Worker {
    let worker = root().join("worker");
    let target_dir = root().join("target/wasm-guests");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .current_dir(&worker)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
        ])
        .args(["-p", "products", "--bin", bin])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .output()
        .expect("running cargo");
    assert!(
        out.status.success(),
        "building worker/products: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wasm = target_dir.join(format!("wasm32-wasip2/release/{bin}.wasm"));
    let mut w = WorkerSpec::from_path(&wasm)
        .resolve()
        .unwrap_or_else(|e| panic!("{e}"));
    w.kv_bindings = vec!["PRODUCTS".into()];
    w
}

#[test]
fn the_rust_twin_passes_the_same_scenario_and_its_flawed_variant_fails() {
    let s = scenario();
    let r = run_worker(&s, 1, &rust_twin("products")).expect("run");
    assert!(
        r.passed(),
        "the correct Rust Worker must pass: {:#?}",
        r.violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(r.requests > 100);
    let r = run_worker(&s, 1, &rust_twin("products-flawed")).expect("run");
    assert!(!r.passed(), "the flawed Rust Worker must fail");
    assert!(
        r.violations
            .iter()
            .any(|v| v.property == Property::Liveness && v.path.starts_with("/api/products/")),
        "{:?}",
        r.violations
    );
    for v in &r.violations {
        assert!(
            v.path.starts_with("/api/products/") && !v.path.contains('?'),
            "only /api/products/<id> fails: {v}"
        );
    }
}
