//! `GET /__edgesim/route?path=P` in `edgesim dev`: which declared route (`edgesim.routes.toml`
//! beside the Worker) a request path is, its parameters, and the KV key it reads with that
//! key's per-colo view, on the products example (`worker/js/products`). Needs Node and npm
//! (SKIPPED without them; a failure under `CI=true`).

use edgesim_testkit::require_node;
use edgesim_tests::{DevServer, request, temp_dir};
use std::path::{Path, PathBuf};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

#[test]
fn a_request_path_shows_its_route_and_its_kv_keys_state_per_colo() {
    require_node!();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let project = repo.join("worker/js/products");
    let state = temp_dir("dev-routes-state");
    let dev = DevServer::start_in(Path::new(BIN), Some(&project), &state, &["--seed", "2"]);
    assert!(
        dev.output()
            .contains("/__edgesim/route?path=/api/products/{id}"),
        "the banner names the route lookup:\n{}",
        dev.output()
    );
    let lookup = |path: &str| {
        let q = format!(
            "/__edgesim/route?path={}",
            path.replace('?', "%3F").replace('&', "%26")
        );
        request(dev.port, "GET", &q, &[], None).expect("route lookup")
    };
    // Read at FRA, so FRA's cache holds the key once the Worker cached it.
    assert_eq!(dev.get_at("FRA", "/api/products/1").status, 200);
    let mut r = lookup("/api/products/1");
    for _ in 0..50 {
        if !r.json()["view"]["colos"]["FRA"].is_null() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        dev.get_at("FRA", "/api/products/1");
        r = lookup("/api/products/1");
    }
    let v = r.json();
    assert_eq!(v["route"], "/api/products/{id}", "{v:#}");
    assert_eq!(v["params"]["id"], "1", "{v:#}");
    assert_eq!(v["key"], "product:1", "{v:#}");
    assert_eq!(v["binding"], "PRODUCTS", "{v:#}");
    assert!(
        v["at"]
            .as_str()
            .unwrap_or("")
            .contains("edgesim.routes.toml:"),
        "{v:#}"
    );
    assert!(!v["view"]["colos"]["FRA"].is_null(), "{v:#}");
    assert!(v["view"]["colos"]["NRT"].is_null(), "{v:#}");
    // A query-string pattern wins over the bare list when its parameter is present.
    let v = lookup("/api/products?page=2").json();
    assert_eq!(v["route"], "/api/products?page={page}", "{v:#}");
    assert_eq!(v["params"]["page"], "2", "{v:#}");
    assert_eq!(v["key"], "products:list", "{v:#}");
    // No route: a 404 naming the declared ones. A bad binding: the bound ones.
    let none = lookup("/nope");
    assert_eq!(none.status, 404, "{}", none.body);
    assert!(
        none.body.contains("/api/categories/{slug}"),
        "{}",
        none.body
    );
    let bad = request(
        dev.port,
        "GET",
        "/__edgesim/route?path=/api/products/1&binding=NOPE",
        &[],
        None,
    )
    .expect("route lookup");
    assert_eq!(bad.status, 404, "{}", bad.body);
    assert!(bad.body.contains("PRODUCTS"), "{}", bad.body);
}
