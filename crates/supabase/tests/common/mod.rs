//! Shared helpers: the mock served on loopback, a raw HTTP/1.1 client and a webhook receiver.
#![allow(dead_code)]

use edgesim_core::{ManualClock, SharedClock};
use edgesim_supabase::{ANON_KEY, HttpDispatcher, NoopDispatcher, Supabase, WebhookDispatcher};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A response as seen on the wire.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The first header named `name` (any case).
fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// A running mock.
pub struct Server {
    pub addr: SocketAddr,
    pub sb: Supabase,
    pub clock: ManualClock,
}

/// Starts `sb_factory(clock, dispatcher)` on 127.0.0.1 with a real HTTP dispatcher.
pub fn start_with(
    f: impl FnOnce(SharedClock, Arc<dyn WebhookDispatcher>) -> Supabase + Send + 'static,
    http_hooks: bool,
) -> Server {
    let clock = ManualClock::new();
    let shared: SharedClock = Arc::new(clock.clone());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dispatcher: Arc<dyn WebhookDispatcher>;
        let http = HttpDispatcher::new(rt.handle().clone());
        if http_hooks {
            dispatcher = http.clone();
        } else {
            dispatcher = Arc::new(NoopDispatcher);
        }
        let sb = f(shared, dispatcher);
        http.attach(&sb);
        tx.send(sb.clone()).unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            edgesim_supabase::serve(l, sb).await.unwrap();
        });
    });
    let sb = rx.recv().unwrap();
    Server { addr, sb, clock }
}

/// The demo project on loopback.
pub fn demo() -> Server {
    start_with(|c, d| Supabase::demo(c, d).unwrap(), true)
}

impl Server {
    /// Sends a request with the anon key unless `headers` has an `apikey` (use `("apikey", "")` for none).
    pub fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut text = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("apikey"))
        {
            text.push_str(&format!("apikey: {ANON_KEY}\r\n"));
        }
        for (k, v) in headers {
            if !v.is_empty() {
                text.push_str(&format!("{k}: {v}\r\n"));
            }
        }
        if !body.is_empty() || method == "POST" || method == "PATCH" {
            text.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        text.push_str("\r\n");
        text.push_str(body);
        s.write_all(text.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        parse_response(&raw)
    }

    pub fn get(&self, path: &str) -> Resp {
        self.req("GET", path, &[], "")
    }

    pub fn exec(&self, sql: &str) {
        self.sb
            .execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

fn parse_response(raw: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_string(),
    }
}

/// One request received by [`Receiver`].
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// A loopback HTTP endpoint that records webhook requests and answers `status` (after `delay`).
pub struct Receiver {
    pub addr: SocketAddr,
    pub got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub fn start(status: u16, delay: Duration) -> Receiver {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let g = g.clone();
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let n = s.read(&mut chunk).unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).into_owned();
                        if let Some((head, body)) = text.split_once("\r\n\r\n") {
                            let mut lines = head.lines();
                            let first: Vec<String> =
                                lines.next().unwrap().split(' ').map(String::from).collect();
                            let headers: Vec<(String, String)> = lines
                                .filter_map(|l| l.split_once(':'))
                                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                                .collect();
                            let len: usize = headers
                                .iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                                .map(|(_, v)| v.parse().unwrap())
                                .unwrap_or(0);
                            if body.len() < len {
                                continue;
                            }
                            g.lock().unwrap().push(Received {
                                method: first[0].clone(),
                                target: first[1].clone(),
                                headers,
                                body: body.to_string(),
                            });
                            std::thread::sleep(delay);
                            let _ = s.write_all(format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").as_bytes());
                            return;
                        }
                    }
                });
            }
        });
        Receiver { addr, got }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits until `n` requests arrived (or 10 s passed) and returns them.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..1000 {
            if self.got.lock().unwrap().len() >= n {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.got.lock().unwrap().clone()
    }
}

/// Waits until `f` holds (or 10 s passed).
pub fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// A fresh project directory under the system temp dir with the given files.
pub fn project(files: &[(&str, &str)]) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "edgesim-sb-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::fs::create_dir_all(dir.join("supabase")).unwrap();
    dir
}

/// `tests/js` (the supabase-js client and its scripts), with its npm packages installed.
pub fn supabase_js_dir() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/js");
    edgesim_testkit::npm_ci_if_needed(&dir);
    dir
}

/// The project of `files` (see [`project`]) opened in-process, on a manual clock, with webhooks
/// discarded.
pub fn open_project(files: &[(&str, &str)]) -> Supabase {
    let dir = project(files);
    let clock: SharedClock = Arc::new(ManualClock::new());
    Supabase::open(&dir, None, clock, Arc::new(NoopDispatcher)).expect("the project opens")
}

/// One in-process request to `/rest/v1/{path}` as `bearer` (with a `Prefer` header when given):
/// its status and its body as JSON (`null` when the body is not JSON).
pub fn rest(
    sb: &Supabase,
    method: &str,
    path: &str,
    body: &str,
    bearer: &str,
    prefer: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("/rest/v1/{path}"))
        .header("apikey", ANON_KEY)
        .header("Authorization", format!("Bearer {bearer}"))
        .header("Content-Type", "application/json");
    if let Some(prefer) = prefer {
        req = req.header("Prefer", prefer);
    }
    let resp = sb.handle(req.body(bytes::Bytes::from(body.to_string())).unwrap());
    let value = serde_json::from_slice(resp.body()).unwrap_or(serde_json::Value::Null);
    (resp.status().as_u16(), value)
}
