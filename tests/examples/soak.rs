//! `just soak`: a long run at fixed concurrency against several `edgesim dev` processes over
//! loopback, one per Worker, recording per Worker the requests, the status mix, transport and
//! spurious errors, p99, and every server's RSS each 10 s, as Markdown.
//!
//! Workers (each its own `edgesim dev`, so RSS is per Worker):
//! - `rust-course`: the embedded Rust course Worker (paid limits), with its mock Supabase;
//! - `rust-trap`, `rust-loop`, `rust-membomb`: misbehaving Rust Workers on the free plan's limits;
//! - `js-course`: `worker/js/course` (itty-router, supabase-js), with its own mock Supabase;
//! - `js-anchor`: `worker/js/anchor` (Miniflare's benchmark `worker.mjs`, unchanged);
//! - `js-misbehaving`: `worker/js/misbehaving` on the free plan's limits, one route per failure
//!   (`/throw`, `/cpu`, `/mem`, `/never`, `/rearm`) and `/ok`.
//!
//! Traffic: each of `--conc` client threads (keep-alive connections) picks per request (percent):
//! 30 Rust course reads across colos, 6 PATCHes on its mock Supabase (firing the webhook into
//! its `POST /revalidate`), 14 Rust course KV routes, 12 JS course (reads and KV routes), 2
//! PATCHes on the JS course's Supabase, 14 JS anchor, 8 misbehaving Rust, 14 misbehaving JS
//! (`/ok` 40 %, `/throw`, `/cpu`, `/mem`, `/never` 15 % each). Two more threads send
//! `/rearm` one at a time and give up after [`REARM_TIMEOUT`] (the client's own timeout).
//!
//! Usage: `cargo run -p edgesim-tests --example soak -- --bin target/debug/edgesim --secs 600
//! --conc 64 --out bench/results/soak-<date>-js.md`

use edgesim_tests::{SERVICE_ROLE_KEY, free_port, npm_ci_if_needed, wait_for_port};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(10);
/// KV's answer to a second write to a key within a second (production's text).
const KV_429: &str = "KV PUT failed: 429 Too Many Requests";
/// The last line of a 1101 page that names no reason.
const THREW: &str = "Worker threw exception";
const COLOS: &[&str] = &["SYD", "FRA", "IAD", "NRT", "GRU"];
/// How long the client waits for `/rearm` before giving up (production answers it never).
const REARM_TIMEOUT: Duration = Duration::from_secs(3);
/// Threads that send `/rearm` (one request at a time each).
const REARM_THREADS: usize = 2;
/// The RSS sample growth is measured from: the one taken at 70 s (after the first 60 s, the
/// warm-up, plus one window); the 2nd sample on runs shorter than 80 s.
const WARM_SAMPLE: usize = 6;

struct Args {
    bin: PathBuf,
    secs: u64,
    conc: usize,
    out: PathBuf,
    note: String,
}

fn args() -> Args {
    let mut a = Args {
        bin: PathBuf::from("target/debug/edgesim"),
        secs: 600,
        conc: 64,
        out: PathBuf::from("bench/results/soak-js.md"),
        note: String::new(),
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < v.len() {
        match v[i].as_str() {
            "--bin" => a.bin = PathBuf::from(&v[i + 1]),
            "--secs" => a.secs = v[i + 1].parse().expect("--secs N"),
            "--conc" => a.conc = v[i + 1].parse().expect("--conc N"),
            "--out" => a.out = PathBuf::from(&v[i + 1]),
            "--note" => a.note = v[i + 1].clone(),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

/// A server's instances: how many, their linear memory in MB, calls in the background.
type Instances = (u64, f64, u64);

/// One `edgesim dev` process, logging to a file, killed on drop.
struct Dev {
    child: Child,
    port: u16,
    supabase_port: u16,
    log: PathBuf,
}

impl Dev {
    /// Starts `edgesim dev` with state under `state`, in the working directory `cwd` (a JS
    /// project's directory: `edgesim dev` finds its wrangler file and builds it).
    fn start(bin: &Path, state: &Path, cwd: Option<&Path>, extra: &[&str]) -> Dev {
        std::fs::create_dir_all(state).unwrap();
        let bin = std::fs::canonicalize(bin).unwrap_or_else(|_| bin.to_path_buf());
        let (port, supabase_port) = (free_port(), free_port());
        let log = state.join("server.log");
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.arg("dev")
            .args(["--port", &port.to_string()])
            .args(["--supabase-port", &supabase_port.to_string()])
            .arg("--persist-to")
            .arg(state)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let child = cmd.spawn().expect("starting edgesim dev");
        assert!(
            wait_for_port(port, Duration::from_secs(600))
                && wait_for_port(supabase_port, Duration::from_secs(60)),
            "edgesim dev did not start (see {})",
            log.display()
        );
        Dev {
            child,
            port,
            supabase_port,
            log,
        }
    }

    /// From `GET /__edgesim/status`: instances, their linear memory in MB, background calls.
    fn instances(&self) -> Option<Instances> {
        let r = edgesim_tests::request(self.port, "GET", "/__edgesim/status", &[], None).ok()?;
        let v: serde_json::Value = serde_json::from_str(&r.body).ok()?;
        Some((
            v["instances"].as_u64()?,
            v["memory_bytes"].as_f64()? / (1024.0 * 1024.0),
            v["background_calls"].as_u64().unwrap_or(0),
        ))
    }

    fn rss_mb(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response as the soak sees it: the status, its `cf-ray` and, for a 5xx, the start of the body.
struct Answer {
    status: u16,
    ray: String,
    body: String,
}

/// A keep-alive HTTP/1.1 connection to one port (reconnects after an error).
struct Conn {
    port: u16,
    timeout: Duration,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    fn new(port: u16) -> Conn {
        Conn {
            port,
            timeout: Duration::from_secs(60),
            stream: None,
        }
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<Answer> {
        let reused = self.stream.is_some();
        let r = self.send(method, path, headers, body);
        match r {
            // The server closed the kept-alive connection while it was idle (its header-read
            // timeout) before this request reached it: as HTTP clients do, retry once on a
            // fresh connection. Nothing was answered, so nothing ran.
            Err(e) if reused && e.kind() == std::io::ErrorKind::ConnectionAborted => {
                self.send(method, path, headers, body)
            }
            r => r,
        }
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<Answer> {
        if self.stream.is_none() {
            let s = TcpStream::connect(("127.0.0.1", self.port))?;
            s.set_read_timeout(Some(self.timeout))?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::new(s));
        }
        let r = self.exchange(method, path, headers, body);
        if r.is_err() {
            self.stream = None;
        }
        r
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<Answer> {
        let port = self.port;
        let s = self.stream.as_mut().unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(body);
        // A write refused, or end of stream before any byte of a response: the server had
        // closed the connection (reported as `ConnectionAborted`, which `request` retries).
        let stale = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset => {
                std::io::Error::new(std::io::ErrorKind::ConnectionAborted, e)
            }
            _ => e,
        };
        s.get_mut().write_all(head.as_bytes()).map_err(stale)?;
        let mut line = String::new();
        if s.read_line(&mut line).map_err(stale)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "connection closed before a response",
            ));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|x| x.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let (mut len, mut chunked, mut close) = (0usize, false, false);
        let mut ray = String::new();
        loop {
            line.clear();
            if s.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("closed in the head"));
            }
            let l = line.trim_end().to_ascii_lowercase();
            if l.is_empty() {
                break;
            }
            if let Some(v) = l.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            } else if l.starts_with("transfer-encoding:") && l.contains("chunked") {
                chunked = true;
            } else if l.starts_with("connection:") && l.contains("close") {
                close = true;
            } else if l.starts_with("cf-ray:") {
                // The value as sent (the log names the colo in upper case).
                ray = line.trim_end()["cf-ray:".len()..].trim().to_string();
            }
        }
        let mut content = Vec::new();
        if chunked {
            loop {
                line.clear();
                s.read_line(&mut line)?;
                let n = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                    .unwrap_or(0);
                let mut buf = vec![0u8; n + 2];
                s.read_exact(&mut buf)?;
                if n == 0 {
                    break;
                }
                content.extend_from_slice(&buf[..n]);
            }
        } else {
            content.resize(len, 0);
            s.read_exact(&mut content)?;
        }
        if close {
            self.stream = None;
        }
        let body = if status >= 500 {
            let text = String::from_utf8_lossy(&content);
            text.chars().take(300).collect()
        } else {
            String::new()
        };
        Ok(Answer { status, ray, body })
    }
}

/// What a request should get, as production answers it.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// A well-behaved route: its own answer. A 5xx is spurious unless its body names KV's
    /// per-key write limit (`429 Too Many Requests`), which the course Workers do not catch.
    Good,
    /// A misbehaving route: this status with an error page of this Workers error code.
    Error(u16, u16),
    /// No answer: the client gives up after its own timeout.
    ClientTimeout,
}

/// How one request ended, as the report counts it.
enum Outcome {
    /// Answered as expected (or, for a well-behaved route, a 5xx caused by its own logic).
    Fine,
    /// A 5xx on a well-behaved route whose body does not say why (a Rust Worker's panic is
    /// `Worker threw exception` alone): judged after the run from the server's log line with
    /// the response's `cf-ray`.
    Undecided,
    /// A 5xx on a well-behaved route that its logic did not cause.
    Spurious,
    /// A misbehaving route answered other than production would.
    Unexpected,
    /// Connect, write or read failure (other than an expected client timeout).
    Transport,
}

fn judge(expect: Expect, r: &std::io::Result<Answer>) -> Outcome {
    match (expect, r) {
        (Expect::ClientTimeout, Err(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Outcome::Fine
        }
        (_, Err(_)) => Outcome::Transport,
        (Expect::Good, Ok(a)) if a.status >= 500 && a.body.contains(KV_429) => Outcome::Fine,
        (Expect::Good, Ok(a)) if a.status >= 500 && a.body.trim_end().ends_with(THREW) => {
            Outcome::Undecided
        }
        (Expect::Good, Ok(a)) if a.status >= 500 => Outcome::Spurious,
        (Expect::Good, Ok(_)) => Outcome::Fine,
        (Expect::Error(status, code), Ok(a))
            if a.status == status && a.body.starts_with(&format!("error code: {code}")) =>
        {
            Outcome::Fine
        }
        (_, Ok(_)) => Outcome::Unexpected,
    }
}

/// Tallies of one Worker.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    /// `route status` (or `route timeout` / `route transport error`) → count.
    statuses: BTreeMap<String, u64>,
    transport: u64,
    spurious: u64,
    unexpected: u64,
    /// 5xx answers of a well-behaved route that its own logic caused (KV's 429 uncaught).
    logic_5xx: u64,
    /// First lines of the 5xx bodies that were spurious or unexpected → count.
    odd_bodies: BTreeMap<String, u64>,
}

/// A 5xx to judge from the server log after the run.
struct Pending {
    worker: usize,
    route: &'static str,
    status: u16,
    window: usize,
    ray: String,
}

/// Tallies of one 10 s window, all Workers together.
#[derive(Default)]
struct Window {
    requests: u64,
    latencies_us: Vec<u64>,
    transport: u64,
    spurious: u64,
    unexpected: u64,
}

struct Shared {
    started: Instant,
    workers: Vec<Tally>,
    windows: Vec<Window>,
    pending: Vec<Pending>,
}

impl Shared {
    fn record(
        &mut self,
        worker: usize,
        route: &'static str,
        expect: Expect,
        us: u64,
        r: std::io::Result<Answer>,
    ) {
        let w = (self.started.elapsed().as_secs() / WINDOW.as_secs()) as usize;
        while self.windows.len() <= w {
            self.windows.push(Window::default());
        }
        let outcome = judge(expect, &r);
        let (win, t) = (&mut self.windows[w], &mut self.workers[worker]);
        win.requests += 1;
        let key = match &r {
            Ok(a) => format!("{route} {}", a.status),
            Err(_) if matches!(outcome, Outcome::Fine) => format!("{route} client timeout"),
            Err(_) => format!("{route} transport error"),
        };
        *t.statuses.entry(key).or_default() += 1;
        if let Ok(a) = &r {
            t.latencies_us.push(us);
            if expect == Expect::Good {
                win.latencies_us.push(us);
            }
            if matches!(outcome, Outcome::Fine) && expect == Expect::Good && a.status >= 500 {
                t.logic_5xx += 1;
            }
            if matches!(outcome, Outcome::Undecided) {
                self.pending.push(Pending {
                    worker,
                    route,
                    status: a.status,
                    window: w,
                    ray: a.ray.clone(),
                });
            } else if !matches!(outcome, Outcome::Fine) {
                let first = a.body.lines().take(2).collect::<Vec<_>>().join(" / ");
                let first: String = first.chars().take(140).collect();
                *t.odd_bodies
                    .entry(format!("{route} {}: {first}", a.status))
                    .or_default() += 1;
            }
        }
        match outcome {
            Outcome::Fine | Outcome::Undecided => {}
            Outcome::Spurious => {
                t.spurious += 1;
                win.spurious += 1;
            }
            Outcome::Unexpected => {
                t.unexpected += 1;
                win.unexpected += 1;
            }
            Outcome::Transport => {
                t.transport += 1;
                win.transport += 1;
            }
        }
    }
}

/// xorshift for the traffic mix.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn pct(v: &mut [u64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i] as f64 / 1000.0
}

// Worker indices, in report order.
const RUST_COURSE: usize = 0;
const RUST_SUPABASE: usize = 1;
const RUST_TRAP: usize = 2;
const RUST_LOOP: usize = 3;
const RUST_MEMBOMB: usize = 4;
const JS_COURSE: usize = 5;
const JS_SUPABASE: usize = 6;
const JS_ANCHOR: usize = 7;
const JS_BAD: usize = 8;
/// Report rows: name, the process it runs in (index into the servers), what it is.
const ROWS: [(&str, usize, &str); 9] = [
    ("rust-course", 0, "embedded Rust course Worker, paid limits"),
    (
        "rust-course's Supabase",
        0,
        "PATCHes on the mock Supabase of the same process (webhook → POST /revalidate)",
    ),
    ("rust-trap", 1, "worker/fixtures trap.rs, free limits"),
    (
        "rust-loop",
        2,
        "worker/fixtures infinite-loop.rs, free limits",
    ),
    (
        "rust-membomb",
        3,
        "worker/fixtures membomb.rs (`/?mib=512`), free limits",
    ),
    (
        "js-course",
        4,
        "worker/js/course (itty-router, supabase-js), paid limits",
    ),
    (
        "js-course's Supabase",
        4,
        "PATCHes on the JS course's mock Supabase (webhook → its POST /revalidate)",
    ),
    (
        "js-anchor",
        5,
        "worker/js/anchor: Miniflare's worker.mjs unchanged, paid limits",
    ),
    ("js-misbehaving", 6, "worker/js/misbehaving, free limits"),
];
const SERVERS: [&str; 7] = [
    "rust-course",
    "rust-trap",
    "rust-loop",
    "rust-membomb",
    "js-course",
    "js-anchor",
    "js-misbehaving",
];

/// One client thread's pick: the Worker row, the connection to use, method, path, body, and
/// what production answers.
struct Pick {
    worker: usize,
    conn: usize,
    method: &'static str,
    path: String,
    route: &'static str,
    patch: bool,
    expect: Expect,
}

fn pick(rng: &mut Rng) -> Pick {
    let roll = rng.below(100);
    let good = |worker, conn, path: &str, route| Pick {
        worker,
        conn,
        method: "GET",
        path: path.to_string(),
        route,
        patch: false,
        expect: Expect::Good,
    };
    match roll {
        0..30 => {
            let p = ["/articles", "/articles/1", "/articles/2"][rng.below(3) as usize];
            good(RUST_COURSE, 0, p, "read")
        }
        30..36 => Pick {
            method: "PATCH",
            patch: true,
            ..good(RUST_SUPABASE, 1, "", "PATCH")
        },
        36..50 => {
            let p = ["/revalidate", "/write-kv", "/read-kv"][rng.below(3) as usize];
            good(RUST_COURSE, 0, p, "kv")
        }
        50..62 => {
            let k = rng.below(6) as usize;
            let p = [
                "/articles",
                "/articles/1",
                "/articles/2",
                "/articles",
                "/write-kv",
                "/read-kv",
            ][k];
            good(JS_COURSE, 5, p, if k < 4 { "read" } else { "kv" })
        }
        62..64 => Pick {
            method: "PATCH",
            patch: true,
            ..good(JS_SUPABASE, 6, "", "PATCH")
        },
        64..78 => {
            let p = ["/hello", "/articles", "/articles/1", "/articles/2"][rng.below(4) as usize];
            good(
                JS_ANCHOR,
                7,
                p,
                if p == "/hello" { "hello" } else { "read" },
            )
        }
        78..86 => match rng.below(3) {
            0 => Pick {
                expect: Expect::Error(500, 1101),
                ..good(RUST_TRAP, 2, "/", "trap")
            },
            1 => Pick {
                expect: Expect::Error(503, 1102),
                ..good(RUST_LOOP, 3, "/", "loop")
            },
            _ => Pick {
                expect: Expect::Error(503, 1102),
                ..good(RUST_MEMBOMB, 4, "/?mib=512", "membomb")
            },
        },
        _ => {
            let r = rng.below(20);
            let (path, route, expect) = match r {
                0..8 => ("/ok", "/ok", Expect::Good),
                8..11 => ("/throw", "/throw", Expect::Error(500, 1101)),
                11..14 => ("/cpu", "/cpu", Expect::Error(503, 1102)),
                14..17 => ("/mem", "/mem", Expect::Error(503, 1102)),
                _ => ("/never", "/never", Expect::Error(500, 1101)),
            };
            Pick {
                expect,
                ..good(JS_BAD, 8, path, route)
            }
        }
    }
}

/// Judges the 5xx answers that named no reason by the log line carrying their `cf-ray`: KV's
/// 429 is the Worker's own logic; anything else (or no line) is spurious.
fn resolve(sh: &mut Shared, servers: &[Dev]) {
    let mut by_ray: Vec<BTreeMap<String, String>> = Vec::new();
    for d in servers {
        let text = std::fs::read_to_string(&d.log).unwrap_or_default();
        let mut m = BTreeMap::new();
        for l in text.lines() {
            if let Some(at) = l.find("ray=") {
                let ray = l[at + 4..].split_whitespace().next().unwrap_or_default();
                m.entry(ray.to_string()).or_insert_with(|| l.to_string());
            }
        }
        by_ray.push(m);
    }
    for p in std::mem::take(&mut sh.pending) {
        let line = by_ray[ROWS[p.worker].1].get(&p.ray);
        let t = &mut sh.workers[p.worker];
        match line {
            Some(l) if l.contains(KV_429) => t.logic_5xx += 1,
            _ => {
                t.spurious += 1;
                if let Some(w) = sh.windows.get_mut(p.window) {
                    w.spurious += 1;
                }
                let why = line.map_or("(no log line with its cf-ray)".to_string(), |l| {
                    normalize(l)
                });
                *t.odd_bodies
                    .entry(format!("{} {}: {why}", p.route, p.status))
                    .or_default() += 1;
            }
        }
    }
}

/// A log line without its timestamp, ray, colo and JS stack, for grouping.
fn normalize(line: &str) -> String {
    let mut l = line.trim();
    if let Some(at) = l.find(" ERROR ").or_else(|| l.find(" WARN ")) {
        l = l[at + 1..].trim();
    }
    let l = l.split(" (stack:").next().unwrap_or(l);
    let l = l.split(" colo=").next().unwrap_or(l);
    let l = l.split(" ray=").next().unwrap_or(l);
    l.chars().take(160).collect()
}

/// The ERROR and WARN lines of a server log, grouped after [`normalize`], most frequent first.
fn group_log(path: &Path) -> Vec<(String, usize)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut m: BTreeMap<String, usize> = BTreeMap::new();
    for l in text.lines() {
        if l.contains(" ERROR ") || l.contains(" WARN ") {
            *m.entry(normalize(l)).or_default() += 1;
        }
    }
    let mut v: Vec<(String, usize)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Counts of interesting lines in a server log.
fn scan_log(path: &Path) -> [usize; 5] {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut n = [0; 5];
    for l in text.lines() {
        let lower = l.to_ascii_lowercase();
        n[0] += lower.contains("unknown handle index") as usize;
        n[1] += lower.contains("threw exception") as usize;
        n[2] += lower.contains("error 1101") as usize;
        n[3] += lower.contains("error 1102") as usize;
        n[4] += (lower.contains(" error ") || lower.contains(" warn ")) as usize;
    }
    n
}

fn main() {
    let a = args();
    let repo = std::env::current_dir().unwrap();
    let root = std::env::temp_dir().join(format!("edgesim-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let free = root.join("free.toml");
    std::fs::write(&free, "[limits]\nprofile = \"free\"\n").unwrap();
    let mut servers: Vec<Dev> = Vec::new();
    eprintln!("soak: starting rust-course");
    servers.push(Dev::start(&a.bin, &root.join("rust-course"), None, &[]));
    for (name, bytes) in [
        ("rust-trap", edgesim_guests::fixtures::TRAP),
        ("rust-loop", edgesim_guests::fixtures::LOOP),
        ("rust-membomb", edgesim_guests::fixtures::MEMBOMB),
    ] {
        eprintln!("soak: starting {name}");
        let wasm = root.join(format!("{name}.wasm"));
        std::fs::write(&wasm, bytes).unwrap();
        servers.push(Dev::start(
            &a.bin,
            &root.join(name),
            None,
            &[
                "--worker",
                wasm.to_str().unwrap(),
                "--config",
                free.to_str().unwrap(),
            ],
        ));
    }
    for (name, dir) in [
        ("js-course", "worker/js/course"),
        ("js-anchor", "worker/js/anchor"),
        ("js-misbehaving", "worker/js/misbehaving"),
    ] {
        let dir = repo.join(dir);
        if std::fs::read_to_string(dir.join("package.json"))
            .is_ok_and(|p| p.contains("\"dependencies\""))
        {
            npm_ci_if_needed(&dir);
        }
        eprintln!("soak: starting {name} (builds the JS Worker when not cached)");
        servers.push(Dev::start(&a.bin, &root.join(name), Some(&dir), &[]));
    }
    // Every Worker answers once before the clock starts (a JS build may end after the port opens).
    for (i, d) in servers.iter().enumerate() {
        let path = if SERVERS[i] == "js-misbehaving" {
            "/ok"
        } else {
            "/hello"
        };
        let mut c = Conn::new(d.port);
        c.timeout = Duration::from_secs(600);
        let _ = c.request("GET", path, &[], "");
    }
    let ports: Vec<u16> = {
        let s = &servers;
        vec![
            s[0].port,
            s[0].supabase_port,
            s[1].port,
            s[2].port,
            s[3].port,
            s[4].port,
            s[4].supabase_port,
            s[5].port,
            s[6].port,
        ]
    };
    eprintln!(
        "soak: {} s at c={} (+{REARM_THREADS} /rearm threads); ports {ports:?}",
        a.secs, a.conc
    );

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let shared = Arc::new(Mutex::new(Shared {
        started,
        workers: (0..ROWS.len()).map(|_| Tally::default()).collect(),
        windows: Vec::new(),
        pending: Vec::new(),
    }));
    let mut threads = Vec::new();
    for t in 0..a.conc {
        let (stop, shared, ports) = (stop.clone(), shared.clone(), ports.clone());
        threads.push(std::thread::spawn(move || {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1));
            let mut conns: Vec<Conn> = ports.iter().map(|&p| Conn::new(p)).collect();
            let auth = format!("Bearer {SERVICE_ROLE_KEY}");
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let colo = COLOS[rng.below(COLOS.len() as u64) as usize];
                let p = pick(&mut rng);
                let t0 = Instant::now();
                let r = if p.patch {
                    let id = 1 + rng.below(2);
                    let body = format!(r#"{{"title":"soak {t} {n}"}}"#);
                    conns[p.conn].request(
                        "PATCH",
                        &format!("/rest/v1/articles?id=eq.{id}"),
                        &[
                            ("apikey", SERVICE_ROLE_KEY),
                            ("authorization", &auth),
                            ("content-type", "application/json"),
                        ],
                        &body,
                    )
                } else {
                    conns[p.conn].request(p.method, &p.path, &[("x-edgesim-colo", colo)], "")
                };
                let us = t0.elapsed().as_micros() as u64;
                shared
                    .lock()
                    .unwrap()
                    .record(p.worker, p.route, p.expect, us, r);
            }
        }));
    }
    for _ in 0..REARM_THREADS {
        let (stop, shared, port) = (stop.clone(), shared.clone(), ports[JS_BAD]);
        threads.push(std::thread::spawn(move || {
            let mut conn = Conn::new(port);
            conn.timeout = REARM_TIMEOUT;
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                let r = conn.request("GET", "/rearm", &[], "");
                let us = t0.elapsed().as_micros() as u64;
                shared
                    .lock()
                    .unwrap()
                    .record(JS_BAD, "/rearm", Expect::ClientTimeout, us, r);
            }
        }));
    }
    let mut rss: Vec<Vec<f64>> = Vec::new();
    let mut inst: Vec<Vec<Option<Instances>>> = Vec::new();
    while started.elapsed() < Duration::from_secs(a.secs) {
        std::thread::sleep(
            WINDOW
                .min(Duration::from_secs(a.secs).saturating_sub(started.elapsed()))
                .max(Duration::from_millis(1)),
        );
        rss.push(servers.iter().map(Dev::rss_mb).collect());
        inst.push(servers.iter().map(Dev::instances).collect());
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let wall = started.elapsed().as_secs_f64();
    let logs: Vec<[usize; 5]> = servers.iter().map(|d| scan_log(&d.log)).collect();
    let mut sh = std::mem::take(&mut *shared.lock().unwrap());
    resolve(&mut sh, &servers);
    sh.windows.truncate(rss.len());
    let grouped: Vec<Vec<(String, usize)>> = servers.iter().map(|d| group_log(&d.log)).collect();
    let md = report(&a, wall, &mut sh, &rss, &inst, &logs, &grouped);
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&a.out, &md).unwrap();
    println!("{md}");
    drop(servers);
    // SOAK_KEEP=1 keeps the servers' state and logs (under the temporary directory) to read.
    if std::env::var_os("SOAK_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&root);
    } else {
        eprintln!("soak: kept {}", root.display());
    }
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            started: Instant::now(),
            workers: Vec::new(),
            windows: Vec::new(),
            pending: Vec::new(),
        }
    }
}

/// What production answers each misbehaving Worker, and what edgesim answers (the soak counts
/// anything else as unexpected).
const OUTCOMES: &str = "
## Misbehaving Workers: production's outcome

Production's outcomes from Cloudflare's Workers limits and errors pages (1101 Worker threw \
exception, HTTP 500; 1102 Worker exceeded resource limits, HTTP 503, outcome `exceededCpu` or \
`exceededMemory`; 1101 with `The script will never generate a response.` when the event loop is \
empty and no response was returned). The soak expects the status and the `error code:` line.

| Worker, route | production | edgesim (what this soak expects) |
|---|---|---|
| rust-trap `/` | 1101, 500 | 1101, 500 |
| rust-loop `/` | 1102 `exceededCpu`, 503 | 1102 (CPU: fuel in simulation, epoch ticks in `edgesim dev`), 503 |
| rust-membomb `/?mib=512` | 1102 `exceededMemory`, 503 | 1102, 503, but for CPU: on the Free plan's 10 ms the fixture's page touching uses up the CPU time before 128 MB (the log says `exceeded CPU time limit`) |
| js-misbehaving `/throw` | 1101, 500 | 1101, 500; the page names the exception |
| js-misbehaving `/cpu` | 1102 `exceededCpu`, 503 | 1102 (CPU: fuel in simulation, epoch ticks in `edgesim dev`), 503 |
| js-misbehaving `/mem` (32 MiB `ArrayBuffer`s, up to 512 MiB) | 1102 `exceededMemory`, 503 | 1102, 503, but for CPU: on the Free plan's 10 ms, zeroing the buffers uses up the CPU time before 128 MB is reached. Deviation seen by hand with `cpu_ms = 200`: SpiderMonkey turns the refused `memory.grow` into a JS `out of memory` exception and edgesim answers 1101 `Uncaught out of memory` (500) where production answers 1102 |
| js-misbehaving `/never` (awaits a promise nothing settles) | 1101 `The script will never generate a response.`, 500 | 1101, 500 with the reason `Worker threw exception` (log: `event loop error, but no exception is pending`): code and status match, the message does not |
| js-misbehaving `/rearm` (re-arms a 100 ms timer, never answers) | no answer: the event loop is never empty, each tick's CPU is far under the limit and an HTTP request has no wall-clock limit while the client is connected, so the client's own timeout ends it | no answer; the client gives up after 3 s (`client timeout` below) |
";

/// RSS at the warm-up sample, at the end, growth in percent and the maximum after warm-up.
fn growth(rss: &[Vec<f64>], server: usize) -> (f64, f64, f64, f64) {
    let warm = if rss.len() > WARM_SAMPLE + 1 {
        WARM_SAMPLE
    } else {
        1.min(rss.len().saturating_sub(1))
    };
    let at = |i: usize| rss.get(i).map_or(0.0, |r| r[server]);
    let (r0, r1) = (at(warm), rss.last().map_or(0.0, |r| r[server]));
    let max = rss.iter().skip(warm).map(|r| r[server]).fold(0.0, f64::max);
    let g = if r0 > 0.0 {
        (r1 - r0) / r0 * 100.0
    } else {
        0.0
    };
    (r0, r1, g, max)
}

fn report(
    a: &Args,
    wall: f64,
    sh: &mut Shared,
    rss: &[Vec<f64>],
    inst: &[Vec<Option<Instances>>],
    logs: &[[usize; 5]],
    grouped: &[Vec<(String, usize)>],
) -> String {
    let mut md = String::new();
    let requests: u64 = sh.windows.iter().map(|w| w.requests).sum();
    let transport: u64 = sh.workers.iter().map(|t| t.transport).sum();
    let spurious: u64 = sh.workers.iter().map(|t| t.spurious).sum();
    let unexpected: u64 = sh.workers.iter().map(|t| t.unexpected).sum();
    let warm_at = if rss.len() > WARM_SAMPLE + 1 {
        (WARM_SAMPLE + 1) * 10
    } else {
        20
    };
    md.push_str(&format!(
        "# Soak: edgesim dev, Rust and JS Workers, {} s at c={}\n\n{}\n\n\
         Command: `just soak {} {}` (`target/debug/examples/soak --bin {} --secs {} --conc {}`), \
         binary built in the dev profile. Loopback only; every server was started by the run and \
         stopped by it, each Worker in its own `edgesim dev` process.\n\n",
        a.secs,
        a.conc,
        a.note,
        a.secs,
        a.conc,
        a.bin.display(),
        a.secs,
        a.conc
    ));
    md.push_str(&format!(
        "- Requests: **{requests}** in {wall:.0} s ({:.0}/s); transport errors: **{transport}**; \
         spurious errors: **{spurious}**; misbehaving routes answered other than production: \
         **{unexpected}**\n\
         - RSS growth after warm-up (RSS at {warm_at} s → at the end), well-behaved Workers: {}\n\n",
        requests as f64 / wall,
        [0usize, 4, 5]
            .iter()
            .map(|&s| {
                let (r0, r1, g, _) = growth(rss, s);
                format!("{} {r0:.1} → {r1:.1} MB (**{g:+.1} %**)", SERVERS[s])
            })
            .collect::<Vec<_>>()
            .join(", ")
    ));
    md.push_str(
        "Definitions:\n\n\
         - **Transport error**: connect, write or read failure, or a malformed response (a `/rearm` \
         that the client gives up on after its own timeout is its expected outcome, not an error). \
         A kept-alive connection the server closed while idle is retried once, as HTTP clients do.\n\
         - **Spurious error**: a 5xx on a well-behaved route (every route of `rust-course`, \
         `js-course`, `js-anchor`, their Supabase, and `/ok` of `js-misbehaving`) that the Worker's \
         logic did not cause: an edgesim error page (1101 such as `unknown handle index`, 1102 such \
         as too many instances) or any other 5xx, except one the Worker's own code raised by not \
         catching KV's `KV PUT failed: 429 Too Many Requests` (one write per second per key under \
         64 clients writing the same few keys; production answers the same 1101). A JS Worker's \
         1101 page names the error; a Rust Worker's panic gives only `Worker threw exception`, so \
         those are judged by the server's log line with the response's `cf-ray`. Counted in the \
         column \"5xx from its logic\", not as spurious.\n\
         - **Unexpected**: a misbehaving route answered with anything but production's outcome \
         (table below).\n\
         - **Warm-up**: the first 60 s; growth compares the RSS sample taken at 70 s (the 2nd \
         sample on runs under 80 s) with the last one.\n\n",
    );

    md.push_str("## Per Worker\n\n| Worker | what | requests | transport errors | spurious | unexpected | 5xx from its logic | p99 ms | RSS at warm-up → end MB | growth | max RSS after warm-up MB |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (i, (name, server, what)) in ROWS.iter().enumerate() {
        let t = &mut sh.workers[i];
        let n: u64 = t.statuses.values().sum();
        let p99 = pct(&mut t.latencies_us, 0.99);
        let (r0, r1, g, max) = growth(rss, *server);
        let shared_proc = i == RUST_SUPABASE || i == JS_SUPABASE;
        let rss_cols = if shared_proc {
            "(same process as above) | | ".to_string()
        } else {
            format!("{r0:.1} → {r1:.1} | {g:+.1} % | {max:.1}")
        };
        md.push_str(&format!(
            "| {name} | {what} | {n} | {} | {} | {} | {} | {p99:.1} | {rss_cols} |\n",
            t.transport, t.spurious, t.unexpected, t.logic_5xx
        ));
    }

    md.push_str(OUTCOMES);
    md.push_str(
        "\n## Status mix per Worker\n\n| Worker | route and status | count |\n|---|---|---|\n",
    );
    for (i, (name, _, _)) in ROWS.iter().enumerate() {
        for (k, v) in &sh.workers[i].statuses {
            md.push_str(&format!("| {name} | {k} | {v} |\n"));
        }
    }
    let odd: Vec<String> = ROWS
        .iter()
        .enumerate()
        .flat_map(|(i, (name, _, _))| {
            sh.workers[i]
                .odd_bodies
                .iter()
                .map(move |(k, v)| format!("| {name} | {} | {v} |\n", k.replace('|', "\\|")))
        })
        .collect();
    if !odd.is_empty() {
        md.push_str("\n### Spurious or unexpected answers (first lines of the body)\n\n| Worker | route, status: body | count |\n|---|---|---|\n");
        for l in odd {
            md.push_str(&l);
        }
    }

    md.push_str("\n## Server logs\n\nLines in each `edgesim dev`'s log (RUST_LOG=warn).\n\n| server | `unknown handle index` | `threw exception` | `error 1101` | `error 1102` | all ERROR/WARN lines |\n|---|---|---|---|---|---|\n");
    for (s, n) in logs.iter().enumerate() {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            SERVERS[s], n[0], n[1], n[2], n[3], n[4]
        ));
    }

    md.push_str("\n### Log lines by kind (ERROR/WARN, timestamp, ray, colo and JS stack removed)\n\n| server | line | count |\n|---|---|---|\n");
    for (s, g) in grouped.iter().enumerate() {
        for (line, n) in g.iter().take(8) {
            md.push_str(&format!(
                "| {} | {} | {n} |\n",
                SERVERS[s],
                line.replace('|', "\\|")
            ));
        }
        if g.len() > 8 {
            md.push_str(&format!(
                "| {} | ({} more kinds) | {} |\n",
                SERVERS[s],
                g.len() - 8,
                g.iter().skip(8).map(|x| x.1).sum::<usize>()
            ));
        }
    }

    md.push_str("\n## Over time (10 s windows)\n\n");
    md.push_str(&format!(
        "p50/p99 over the well-behaved routes. RSS in MB per server: {}. Instances of the JS \
         Workers (from `GET /__edgesim/status` at the end of the window): live instances, their \
         linear memory in MB and calls running in the background, for {}.\n\n",
        SERVERS.join(" / "),
        SERVERS[4..].join(" / ")
    ));
    md.push_str("| window | requests | req/s | p50 ms | p99 ms | transport errors | spurious | unexpected | RSS MB | JS instances (n, MB, background) |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (i, w) in sh.windows.iter_mut().enumerate() {
        let (p50, p99) = (
            pct(&mut w.latencies_us, 0.5),
            pct(&mut w.latencies_us, 0.99),
        );
        let r = rss
            .get(i)
            .map(|r| {
                r.iter()
                    .map(|x| format!("{x:.0}"))
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
            .unwrap_or_default();
        let js = inst
            .get(i)
            .map(|v| {
                v[4..]
                    .iter()
                    .map(|x| match x {
                        Some((n, mb, bg)) => format!("{n}, {mb:.0}, {bg}"),
                        None => "?".to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
            .unwrap_or_default();
        md.push_str(&format!(
            "| {}–{} s | {} | {:.0} | {p50:.1} | {p99:.1} | {} | {} | {} | {r} | {js} |\n",
            i * 10,
            i * 10 + 10,
            w.requests,
            w.requests as f64 / 10.0,
            w.transport,
            w.spurious,
            w.unexpected
        ));
    }
    md
}
