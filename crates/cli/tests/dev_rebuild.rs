//! `edgesim dev` swaps in a rebuilt Worker when its file changes (as `wrangler dev` does), keeps
//! serving the last good one when the new one does not load, and keeps KV across the swap.
//! Uses component files, so it needs no Node; the JS rebuilds are in `dev_wrangler.rs`.

use edgesim_tests::{DevServer, request, temp_dir};
use std::path::Path;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

fn status_of(dev: &DevServer, path: &str) -> (u16, String) {
    let r = request(dev.port, "GET", path, &[("x-edgesim-colo", "SYD")], None)
        .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", dev.output()));
    (r.status, r.body)
}

fn eventually(dev: &DevServer, path: &str, want: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let (status, body) = status_of(dev, path);
        if status == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: GET {path} is still {status} {body}\n{}",
            dev.output()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_changed_component_is_swapped_in_and_a_broken_one_is_not() {
    let dir = temp_dir("dev-rebuild");
    let wasm = dir.join("worker.wasm");
    std::fs::write(&wasm, edgesim_guests::fixtures::HELLO).unwrap();
    let mut dev = DevServer::start(
        Path::new(BIN),
        &dir.join("state"),
        &["--worker", wasm.to_str().unwrap()],
    );
    assert_eq!(status_of(&dev, "/hello"), (200, "ok".to_string()));
    assert_eq!(status_of(&dev, "/articles").0, 404);

    // A file that is not a component: logged, and the last good Worker serves on.
    std::fs::write(&wasm, b"not a component").unwrap();
    assert!(
        dev.wait_for_output("the rebuilt Worker does not load", Duration::from_secs(60)),
        "{}",
        dev.output()
    );
    assert_eq!(status_of(&dev, "/hello"), (200, "ok".to_string()));

    // The course Worker: swapped in without a restart.
    std::fs::write(&wasm, edgesim_guests::COURSE).unwrap();
    eventually(&dev, "/articles", 200, "the course Worker swapped in");
    assert!(
        dev.output().contains("rebuilt the Worker"),
        "{}",
        dev.output()
    );
}
