//! Wasm instantiation cost per request: CPU and wall time of serving one `GET /hello` from a
//! wasi:http component under wasmtime 48, for several instance lifecycles. It mirrors
//! edgesim-host's per-request path (a Store with WASI + wasi:http contexts, fuel with async
//! yields, the pooling allocator sized as in `crates/host/src/engine.rs`) without the HTTP server.
//!
//! usage: edgesim-bench-instantiate <component.wasm> <iterations> <mode>...
//! modes: `pool:<keep_resident_bytes>` (fresh instance per request, pooling allocator),
//!        `ondemand` (fresh instance, on-demand allocator), `reuse:<keep_resident_bytes>` (one
//!        instance, `handle` called again for every request).
//! The component must import only WASI and wasi:http (e.g. the `hello` fixture).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::time::Instant;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Result, Store, format_err,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Warm-up calls before each measurement.
const WARMUP: usize = 200;

struct State {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: [(); 0],
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// The engine edgesim-host builds (fuel, backtrace details, 256-instance pool), with
/// `keep_resident` bytes of linear memory kept resident per slot; `None`: on-demand allocation.
fn engine(keep_resident: Option<usize>) -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.consume_fuel(true);
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
    if let Some(keep) = keep_resident {
        let n = 256;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(n);
        pool.total_core_instances(n * 4);
        pool.total_memories(n * 2);
        pool.total_tables(n * 2);
        pool.max_memory_size(256 << 20);
        pool.max_component_instance_size(10 << 20);
        pool.linear_memory_keep_resident(keep);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&config)
}

fn store(engine: &Engine) -> Result<Store<State>> {
    let mut wasi = WasiCtx::builder();
    wasi.envs(&[
        ("SUPABASE_URL", "http://127.0.0.1:54321"),
        ("SUPABASE_ANON_KEY", "k"),
    ])
    .stdout(MemoryOutputPipe::new(64 << 10))
    .stderr(MemoryOutputPipe::new(64 << 10));
    let state = State {
        table: ResourceTable::new(),
        wasi: wasi.build(),
        http: WasiHttpCtx::new(),
        hooks: [],
    };
    let mut store = Store::new(engine, state);
    store.set_fuel(u64::MAX / 2)?;
    store.fuel_async_yield_interval(Some(1_000_000))?;
    Ok(store)
}

/// One `GET /hello` through `proxy`; checks the body is `ok`.
async fn call(store: &mut Store<State>, proxy: &Proxy) -> Result<()> {
    let req = http::Request::get("https://localhost/hello").body(Full::new(Bytes::new()))?;
    let incoming = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Https, req)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let out = store.data_mut().http().new_response_outparam(tx)?;
    proxy
        .wasi_http_incoming_handler()
        .call_handle(&mut *store, incoming, out)
        .await?;
    let resp = rx
        .await
        .map_err(|_| format_err!("no response"))?
        .map_err(|e| format_err!("{e:?}"))?;
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format_err!("{e:?}"))?;
    let body = body.to_bytes();
    if body.as_ref() != b"ok" {
        return Err(format_err!("unexpected body {body:?}"));
    }
    Ok(())
}

/// A fresh store and instance, one request, then drop (what edgesim-host does per request).
async fn fresh(engine: &Engine, pre: &ProxyPre<State>) -> Result<()> {
    let mut s = store(engine)?;
    let proxy = pre.instantiate_async(&mut s).await?;
    call(&mut s, &proxy).await
}

/// utime + stime of this process, in clock ticks (100 per second on Linux).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

async fn run(bytes: &[u8], n: usize, mode: &str) -> Result<()> {
    let (kind, arg) = mode.split_once(':').unwrap_or((mode, ""));
    let keep: usize = arg.parse().unwrap_or(1 << 20);
    let engine = engine((kind != "ondemand").then_some(keep))?;
    let component = Component::new(&engine, bytes)?;
    let mut linker = Linker::<State>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    let pre = ProxyPre::new(linker.instantiate_pre(&component)?)?;
    let (t0, c0);
    if kind == "reuse" {
        let mut s = store(&engine)?;
        let proxy = pre.instantiate_async(&mut s).await?;
        for _ in 0..WARMUP {
            call(&mut s, &proxy).await?;
        }
        (t0, c0) = (Instant::now(), cpu_ticks());
        for _ in 0..n {
            call(&mut s, &proxy).await?;
        }
    } else {
        for _ in 0..WARMUP {
            fresh(&engine, &pre).await?;
        }
        (t0, c0) = (Instant::now(), cpu_ticks());
        for _ in 0..n {
            fresh(&engine, &pre).await?;
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = (cpu_ticks() - c0) as f64 / 100.0;
    println!(
        "{mode:<16} n={n} cpu {:>6.1} µs/req  wall {:>6.1} µs/req  rss {} kB  hwm {} kB",
        cpu / n as f64 * 1e6,
        wall / n as f64 * 1e6,
        status_kb("VmRSS"),
        status_kb("VmHWM")
    );
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err(format_err!(
            "usage: {} <component.wasm> <iterations> <mode>... (modes: pool:<bytes> ondemand reuse:<bytes>)",
            args[0]
        ));
    }
    let bytes = std::fs::read(&args[1])?;
    let n: usize = args[2].parse()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for mode in &args[3..] {
        if let Err(e) = rt.block_on(run(&bytes, n, mode)) {
            println!("{mode:<16} failed: {e:#}");
        }
    }
    Ok(())
}
