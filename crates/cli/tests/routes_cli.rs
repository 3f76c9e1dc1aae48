//! A project's declared routes (`edgesim.routes.toml` beside the Worker) from the command line,
//! on the products example (`worker/js/products`, whose URLs, keys and bodies are not the
//! course's): `GET /__edgesim/route?path=P` in `edgesim dev` (the route a path is, its
//! parameters, the KV key it reads and that key's per-colo view), and the shipped scenarios
//! run with `--worker` on it, ported to its routes, judging the correct Worker and its flawed
//! variant with witnesses, JUnit and HTML in its own terms. Needs Node and npm (SKIPPED
//! without them; a failure under `CI=true`).

use edgesim_testkit::require_node;
use edgesim_tests::{DevServer, request, temp_dir};
use std::path::{Path, PathBuf};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `edgesim run <shipped scenario> --worker <dir> --seed 3 --junit .. --report ..`: the exit
/// code, stdout, the JUnit file and the HTML report.
fn run_shipped(scenario: &str, worker: &str, out: &Path) -> (Option<i32>, String, String, String) {
    let junit = out.join(format!("{scenario}.xml"));
    let html = out.join(format!("{scenario}.html"));
    let o = std::process::Command::new(BIN)
        .args([
            "run",
            repo()
                .join("fixtures/scenarios")
                .join(format!("{scenario}.toml"))
                .to_str()
                .unwrap(),
            "--worker",
            repo().join(worker).to_str().unwrap(),
            "--seed",
            "3",
            "--junit",
            junit.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
        ])
        .output()
        .expect("run edgesim");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}\n{text}", p.display()))
    };
    (o.status.code(), text.clone(), read(&junit), read(&html))
}

#[test]
fn shipped_scenarios_run_on_a_project_with_its_own_routes() {
    require_node!();
    let out = temp_dir("routes-cli-run");
    // The correct Worker passes the happy path on its own routes; its flawed variant (no
    // expirationTtl, a list key it never refreshes) fails it on /api/products/<id>.
    let (code, text, junit, _) = run_shipped("course-happy-path", "worker/js/products", &out);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("match no route of the project"),
        "the port is not said:\n{text}"
    );
    assert!(junit.contains("failures=\"0\""), "{junit}");
    let flawed = out.join("flawed");
    std::fs::create_dir_all(&flawed).unwrap();
    let (code, text, junit, html) =
        run_shipped("course-happy-path", "worker/js/products/flawed", &flawed);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("VIOLATED: course-happy-path with the products-js-flawed Worker"),
        "{text}"
    );
    assert!(
        text.contains("/api/products/1 served a stale value"),
        "{text}"
    );
    assert!(text.contains("db_commit v2 products UPDATE id=1"), "{text}");
    assert!(junit.contains("<failure"), "{junit}");
    assert!(
        html.contains("/api/products/1"),
        "the report names the route"
    );
    // A dropped webhook: the scenario's write to articles row 2 reaches products row 2, and
    // the verdict and witness speak of the project's route and the lost webhook.
    let (code, text, _, _) = run_shipped("dropped-webhook", "worker/js/products", &out);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("/api/products/2 did not converge"), "{text}");
    assert!(text.contains("webhook #1 for id=2 dropped"), "{text}");
}

#[test]
fn a_request_path_shows_its_route_and_its_kv_keys_state_per_colo() {
    require_node!();
    let project = repo().join("worker/js/products");
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
