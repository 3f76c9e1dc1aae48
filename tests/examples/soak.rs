//! `just soak`: a long run at fixed concurrency against `edgesim dev` over loopback, recording
//! requests, the status mix, transport errors, p50/p99 per 10 s window and the servers' RSS every
//! 10 s, as Markdown.
//!
//! Traffic (each of `--conc` client threads, keep-alive connections, picks per request):
//! - 55 % reads across colos: `GET /articles`, `/articles/1`, `/articles/2` with a random
//!   `x-edgesim-colo`;
//! - 10 % `PATCH /rest/v1/articles?id=eq.{1,2}` on the mock Supabase, firing the webhook into the
//!   Worker's `POST /revalidate`;
//! - 25 % KV-heavy routes: `GET /revalidate` (select all, put), `/write-kv`, `/read-kv`;
//! - 10 % misbehaving Workers, each its own `edgesim dev` on the free plan's limits: a trap
//!   (1101), a CPU loop (1102) and a memory bomb (1102).
//!
//! Usage: `cargo run -p edgesim-tests --example soak -- --bin target/debug/edgesim --secs 600
//! --conc 64 --out bench/results/soak-<date>.md`

use edgesim_tests::{free_port, wait_for_port};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";
const WINDOW: Duration = Duration::from_secs(10);
const COLOS: &[&str] = &["SYD", "FRA", "IAD", "NRT", "GRU"];

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
        out: PathBuf::from("bench/results/soak.md"),
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

/// One `edgesim dev` process, logging to a file, killed on drop.
struct Dev {
    child: Child,
    port: u16,
    supabase_port: u16,
}

impl Dev {
    fn start(bin: &Path, dir: &Path, extra: &[&str]) -> Dev {
        std::fs::create_dir_all(dir).unwrap();
        let (port, supabase_port) = (free_port(), free_port());
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let child = Command::new(bin)
            .arg("dev")
            .args(["--port", &port.to_string()])
            .args(["--supabase-port", &supabase_port.to_string()])
            .arg("--persist-to")
            .arg(dir)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting edgesim dev");
        assert!(
            wait_for_port(port, Duration::from_secs(300))
                && wait_for_port(supabase_port, Duration::from_secs(60)),
            "edgesim dev did not start (see {})",
            dir.join("server.log").display()
        );
        Dev {
            child,
            port,
            supabase_port,
        }
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

/// A keep-alive HTTP/1.1 connection to one port (reconnects after an error).
struct Conn {
    port: u16,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<u16> {
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
    ) -> std::io::Result<u16> {
        if self.stream.is_none() {
            let s = TcpStream::connect(("127.0.0.1", self.port))?;
            s.set_read_timeout(Some(Duration::from_secs(60)))?;
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
    ) -> std::io::Result<u16> {
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
            }
        }
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
            }
        } else {
            let mut buf = vec![0u8; len];
            s.read_exact(&mut buf)?;
        }
        if close {
            self.stream = None;
        }
        Ok(status)
    }
}

/// Tallies of one 10 s window.
#[derive(Default)]
struct Window {
    latencies_us: Vec<u64>,
    statuses: BTreeMap<String, u64>,
    errors: u64,
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

fn main() {
    let a = args();
    let root = std::env::temp_dir().join(format!("edgesim-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let free = root.join("free.toml");
    std::fs::write(&free, "[limits]\nprofile = \"free\"\n").unwrap();
    let main_dev = Dev::start(&a.bin, &root.join("main"), &[]);
    let mut bad = Vec::new();
    for (name, bytes) in [
        ("trap", edgesim_guests::fixtures::TRAP),
        ("loop", edgesim_guests::fixtures::LOOP),
        ("membomb", edgesim_guests::fixtures::MEMBOMB),
    ] {
        let wasm = root.join(format!("{name}.wasm"));
        std::fs::write(&wasm, bytes).unwrap();
        let dev = Dev::start(
            &a.bin,
            &root.join(name),
            &[
                "--worker",
                wasm.to_str().unwrap(),
                "--config",
                free.to_str().unwrap(),
            ],
        );
        bad.push((name, dev));
    }
    eprintln!(
        "soak: {} s at c={} (main Worker :{}, Supabase :{})",
        a.secs, a.conc, main_dev.port, main_dev.supabase_port
    );

    let stop = Arc::new(AtomicBool::new(false));
    let windows: Arc<Mutex<Vec<Window>>> = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let ports: Vec<u16> = bad.iter().map(|(_, d)| d.port).collect();
    let mut threads = Vec::new();
    for t in 0..a.conc {
        let (stop, windows, ports) = (stop.clone(), windows.clone(), ports.clone());
        let (wport, sport) = (main_dev.port, main_dev.supabase_port);
        threads.push(std::thread::spawn(move || {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1));
            let mut worker = Conn {
                port: wport,
                stream: None,
            };
            let mut supabase = Conn {
                port: sport,
                stream: None,
            };
            let mut bad: Vec<Conn> = ports
                .iter()
                .map(|&p| Conn {
                    port: p,
                    stream: None,
                })
                .collect();
            let auth = format!("Bearer {SERVICE_ROLE_KEY}");
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let colo = COLOS[rng.below(COLOS.len() as u64) as usize];
                let roll = rng.below(100);
                let t0 = Instant::now();
                let (kind, r) = if roll < 55 {
                    let path = ["/articles", "/articles/1", "/articles/2"][rng.below(3) as usize];
                    (
                        "read",
                        worker.request("GET", path, &[("x-edgesim-colo", colo)], ""),
                    )
                } else if roll < 65 {
                    let id = 1 + rng.below(2);
                    let body = format!(r#"{{"title":"soak {t} {n}"}}"#);
                    (
                        "patch",
                        supabase.request(
                            "PATCH",
                            &format!("/rest/v1/articles?id=eq.{id}"),
                            &[
                                ("apikey", SERVICE_ROLE_KEY),
                                ("authorization", &auth),
                                ("content-type", "application/json"),
                            ],
                            &body,
                        ),
                    )
                } else if roll < 90 {
                    let path = ["/revalidate", "/write-kv", "/read-kv"][rng.below(3) as usize];
                    (
                        "kv",
                        worker.request("GET", path, &[("x-edgesim-colo", colo)], ""),
                    )
                } else {
                    let i = rng.below(bad.len() as u64) as usize;
                    let path = if i == 2 { "/?mib=512" } else { "/" };
                    ("misbehaving", bad[i].request("GET", path, &[], ""))
                };
                let us = t0.elapsed().as_micros() as u64;
                let w = (started.elapsed().as_secs() / WINDOW.as_secs()) as usize;
                let mut ws = windows.lock().unwrap();
                while ws.len() <= w {
                    ws.push(Window::default());
                }
                let win = &mut ws[w];
                match r {
                    Ok(status) => {
                        *win.statuses.entry(format!("{kind} {status}")).or_default() += 1;
                        if kind != "misbehaving" {
                            win.latencies_us.push(us);
                        }
                    }
                    Err(_) => win.errors += 1,
                }
            }
        }));
    }
    let mut rss: Vec<(f64, Vec<f64>)> = Vec::new();
    while started.elapsed() < Duration::from_secs(a.secs) {
        std::thread::sleep(
            WINDOW
                .min(Duration::from_secs(a.secs).saturating_sub(started.elapsed()))
                .max(Duration::from_millis(1)),
        );
        rss.push((
            main_dev.rss_mb(),
            bad.iter().map(|(_, d)| d.rss_mb()).collect(),
        ));
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let wall = started.elapsed().as_secs_f64();
    let mut ws = std::mem::take(&mut *windows.lock().unwrap());
    ws.truncate(rss.len());

    // Report.
    let mut total: BTreeMap<String, u64> = BTreeMap::new();
    let (mut requests, mut errors) = (0u64, 0u64);
    let mut rows = Vec::new();
    let mut all_lat = Vec::new();
    for (i, w) in ws.iter_mut().enumerate() {
        let n: u64 = w.statuses.values().sum();
        requests += n;
        errors += w.errors;
        for (k, v) in &w.statuses {
            *total.entry(k.clone()).or_default() += v;
        }
        all_lat.extend_from_slice(&w.latencies_us);
        let (p50, p99) = (
            pct(&mut w.latencies_us, 0.5),
            pct(&mut w.latencies_us, 0.99),
        );
        let (main_rss, others) = rss.get(i).cloned().unwrap_or_default();
        rows.push(format!(
            "| {}–{} s | {} | {:.0} | {:.1} | {:.1} | {} | {:.1} | {} |",
            i * 10,
            i * 10 + 10,
            n,
            n as f64 / 10.0,
            p50,
            p99,
            w.errors,
            main_rss,
            others
                .iter()
                .map(|r| format!("{r:.1}"))
                .collect::<Vec<_>>()
                .join(" / ")
        ));
    }
    // RSS growth after warm-up: the first window past 60 s (or the 2nd of a short run) vs the last.
    let warm = if rss.len() > 7 {
        6
    } else {
        1.min(rss.len().saturating_sub(1))
    };
    let growth = match (rss.get(warm), rss.last()) {
        (Some((a0, _)), Some((a1, _))) if *a0 > 0.0 => (a1 - a0) / a0 * 100.0,
        _ => 0.0,
    };
    let p99_all = pct(&mut all_lat, 0.99);
    let mut md = String::new();
    md.push_str(&format!(
        "# Soak: edgesim dev, {} s at c={}\n\n{}\n\nCommand: `just soak` (`target/debug/examples/soak --bin {} --secs {} --conc {}`), \
         binary built in the dev profile. Loopback only; all servers started by the run were stopped by it.\n\n",
        a.secs, a.conc, a.note, a.bin.display(), a.secs, a.conc
    ));
    md.push_str(&format!(
        "- Requests: **{requests}** in {wall:.0} s ({:.0}/s); transport errors: **{errors}**\n\
         - p99 latency (all non-misbehaving requests): **{p99_all:.1} ms**\n\
         - RSS of the main `edgesim dev`: {:.1} MB after warm-up (window {}), {:.1} MB at the end: **{growth:+.1} %**\n\n",
        requests as f64 / wall,
        rss.get(warm).map_or(0.0, |r| r.0),
        warm + 1,
        rss.last().map_or(0.0, |r| r.0),
    ));
    md.push_str("## Status mix\n\n| route kind and status | count |\n|---|---|\n");
    for (k, v) in &total {
        md.push_str(&format!("| {k} | {v} |\n"));
    }
    md.push_str("\n## Over time (10 s windows)\n\n| window | requests | req/s | p50 ms | p99 ms | transport errors | RSS main MB | RSS trap / loop / membomb MB |\n|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        md.push_str(&r);
        md.push('\n');
    }
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&a.out, &md).unwrap();
    println!("{md}");
    drop(bad);
    drop(main_dev);
    let _ = std::fs::remove_dir_all(&root);
}
