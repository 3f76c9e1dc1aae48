//! Requests the edge refuses before any Worker runs (no or bad `Host`), the memory limit at its
//! boundary for the whole instance, and how a Worker exception is logged.

mod common;

use bytes::Bytes;
use common::{body, get, host};
use edgesim_guests::fixtures;
use edgesim_host::Limits;
use std::sync::{Arc, Mutex};

fn without_authority(host_header: Option<&str>) -> http::Request<Bytes> {
    let mut b = http::Request::get("/hello");
    if let Some(h) = host_header {
        b = b.header(http::header::HOST, h);
    }
    b.body(Bytes::new()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_request_without_a_usable_host_gets_400_before_any_worker_runs() {
    let t = host(fixtures::HELLO, Limits::paid());
    for h in [None, Some(""), Some("bad host"), Some("x@y")] {
        let inv = t.host.handle(without_authority(h)).await;
        assert_eq!(inv.response.status(), 400, "Host {h:?}: {}", body(&inv));
        assert!(inv.ray.is_none(), "no Worker ran for Host {h:?}");
    }
    assert!(t.events.events().is_empty(), "{:?}", t.events.events());
    let inv = t
        .host
        .handle(without_authority(Some("example.com:8787")))
        .await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
}

/// The memory limit counts the instance's whole footprint: a bomb that stops just under 128 MiB
/// with its initial memory passes; one just over gets 1102.
#[tokio::test(start_paused = true)]
async fn the_memory_limit_holds_at_its_boundary() {
    let t = host(fixtures::MEMBOMB, Limits::paid());
    let under = t.host.handle(get("/?mib=120", &[])).await;
    assert_eq!(under.response.status(), 200, "{}", body(&under));
    assert_eq!(body(&under), "allocated 120 MiB");
    let over = t.host.handle(get("/?mib=127", &[])).await;
    assert_eq!(over.response.status(), 503, "{}", body(&over));
    assert_eq!(
        body(&over),
        "error code: 1102\nWorker exceeded memory limit.\n"
    );
}

/// A `tracing` writer collecting everything logged.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

#[tokio::test(start_paused = true)]
async fn an_exception_is_logged_as_one_line_with_the_guests_message() {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let t = host(fixtures::TRAP, Limits::paid());
    let inv = t.host.handle(get("/", &[])).await;
    assert_eq!(inv.response.status(), 500);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let errors: Vec<&str> = text.lines().filter(|l| l.contains("error 1101")).collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(
        !text.contains("wasm backtrace") && !text.contains("0x"),
        "the backtrace is logged at debug only:\n{text}"
    );
    assert!(
        errors[0].contains("Worker threw exception: trap fixture: deliberate panic at /"),
        "{text}"
    );
    assert!(
        text.lines().count() <= 3,
        "one line per failed request (plus the request line):\n{text}"
    );
}
