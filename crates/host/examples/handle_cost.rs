//! CPU per request of [`Host::handle`] in process (no HTTP, no sockets): an embedded Worker
//! (the course Worker unless `WORKER` names another) on a reused instance, `/hello` and `/articles` (a KV hit after the first request).
//! Read against the served figure of `just bench`, it separates the host and guest from HTTP.
//!
//! `cargo run -p edgesim-host --example handle_cost -- [requests=20000] [path...]` (default
//! paths: `/hello /articles`; `WORKER=anchor` runs another embedded Worker)
use bytes::Bytes;
use edgesim_core::{OffsetWallClock, SharedClock, SimRng};
use edgesim_host::{Host, HostConfig, InProcessUpstream};
use edgesim_kv::{KvConfig, KvStore};
use std::sync::Arc;

const SUPABASE: &str = "http://supabase.test";

fn rows(_req: http::Request<Bytes>) -> http::Response<Bytes> {
    http::Response::new(Bytes::from_static(
        br#"[{"id":1,"title":"first blog","content":"hello","created_at":"2026-01-01T00:00:00Z"},{"id":2,"title":"second blog","content":"more","created_at":"2026-01-02T00:00:00Z"}]"#,
    ))
}

fn main() -> anyhow::Result<()> {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(20_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let clock: SharedClock = Arc::new(OffsetWallClock::new());
        let rng = SimRng::from_seed(7);
        let kv = KvStore::new(KvConfig::default(), clock.clone(), rng.fork("kv"));
        let mut config = HostConfig::new(SUPABASE);
        config.colos = HostConfig::colos_from_codes(&kv.colos());
        config.default_colo = config.colos[0].code.clone();
        config
            .vars
            .insert("SUPABASE_ANON_KEY".into(), "anon-key".into());
        let upstream = Arc::new(InProcessUpstream::new(SUPABASE, Arc::new(rows)));
        let worker = std::env::var("WORKER").unwrap_or_else(|_| "course".into());
        let component = edgesim_guests::by_name(&worker)
            .ok_or_else(|| anyhow::anyhow!("WORKER={worker}: no such embedded component"))?;
        let host = Host::new(
            component,
            config,
            kv,
            upstream,
            clock,
            rng.fork("host"),
            None,
        )?;
        let mut paths: Vec<String> = std::env::args().skip(2).collect();
        if paths.is_empty() {
            paths = vec!["/hello".into(), "/articles".into()];
        }
        for path in &paths {
            let path = path.as_str();
            let request = || {
                http::Request::get(path)
                    .header("host", "127.0.0.1:8787")
                    .header("user-agent", "oha/1.16.0")
                    .header("accept", "*/*")
                    .body(Bytes::new())
            };
            for _ in 0..1000 {
                let status = host.handle(request()?).await.response.status();
                anyhow::ensure!(status == 200, "{path} answered {status}");
            }
            let before = cpu_seconds()?;
            for _ in 0..n {
                std::hint::black_box(host.handle(request()?).await.response);
            }
            let per_request = (cpu_seconds()? - before) / f64::from(n) * 1e6;
            println!("{path}: {per_request:.1} µs CPU per request ({n} requests)");
        }
        Ok(())
    })
}

/// utime + stime of this process, from /proc (Linux).
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| -> anyhow::Result<f64> { Ok(fields.get(i).unwrap_or(&"0").parse()?) };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}
