//! One wasmtime [`Engine`] per process and configuration, and compiled components cached on disk.
//!
//! Compiling a Worker with Cranelift takes seconds; a restart must not pay that again. The
//! compiled artifact is written to `cache_dir/<sha256>.cwasm`, where the key covers the component
//! bytes, the wasmtime version and the engine's compatibility hash, so a different engine
//! configuration never loads a stale artifact. Within one process both the engine and the
//! compiled components are also kept in memory, so a simulation that builds many hosts compiles
//! once. Below that, single functions are cached too ([`crate::function_cache`]), so components
//! that share most of their code (every JS Worker) compile only what is new.

use crate::config::CpuMeter;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use wasmtime::Result;
use wasmtime::component::Component;
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Instances the pooling allocator keeps slots for: requests in flight, including those whose
/// waitUntil work still runs (each holds its instance for up to 30 s), and the idle instances
/// kept for reuse (`InstancePolicy::max_idle`). Only address space is
/// reserved up front (as Spin's default of 1000 does); when that fails, allocation is on demand.
const POOL_INSTANCES: u32 = 1000;

/// Bytes of linear memory a freed slot keeps resident (zeroed on reuse) instead of decommitting.
const KEEP_RESIDENT: usize = 128 << 10;

/// Freed slots the pooling allocator keeps warm (its default is 100).
const WARM_SLOTS: u32 = 16;

/// The engine for instances limited to `memory_bytes` of linear memory whose CPU is measured
/// by `meter`.
///
/// Fuel or epoch interruption is on (the CPU limit, [`CpuMeter`]), and so are wasm backtraces
/// with details (traps are logged with them). The pooling allocator is used when the machine
/// can reserve its address space; otherwise instances are allocated on demand. An epoch engine
/// gets a thread that advances its epoch every [`EPOCH_TICK`].
pub(crate) fn engine(memory_bytes: usize, meter: CpuMeter) -> Result<Engine> {
    static ENGINES: OnceLock<Mutex<BTreeMap<(usize, CpuMeter), Engine>>> = OnceLock::new();
    let engines = ENGINES.get_or_init(Default::default);
    let mut engines = engines.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(engine) = engines.get(&(memory_bytes, meter)) {
        return Ok(engine.clone());
    }
    let engine = match Engine::new(&config(memory_bytes, true, meter)) {
        Ok(engine) => engine,
        Err(err) => {
            tracing::debug!("pooling allocator unavailable ({err}); allocating on demand");
            Engine::new(&config(memory_bytes, false, meter))
                .context("creating the wasmtime engine")?
        }
    };
    if meter == CpuMeter::Epoch {
        start_epoch_ticker(&engine)?;
    }
    engines.insert((memory_bytes, meter), engine.clone());
    Ok(engine)
}

/// How often an epoch engine's epoch advances: the granularity of [`CpuMeter::Epoch`].
pub(crate) const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(1);

/// A thread that advances `engine`'s epoch every [`EPOCH_TICK`] while the engine lives.
fn start_epoch_ticker(engine: &Engine) -> Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("edgesim-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .context("starting the epoch thread")?;
    Ok(())
}

/// `EDGESIM_PROFILE=perfmap` writes `/tmp/perf-<pid>.map`, so `perf record` and `perf report`
/// name the guest's functions (as far as its name section does). Unset: no profiler.
fn profiler_from_env() -> Option<wasmtime::ProfilingStrategy> {
    match std::env::var("EDGESIM_PROFILE").ok()?.as_str() {
        "perfmap" => Some(wasmtime::ProfilingStrategy::PerfMap),
        other => {
            tracing::warn!("EDGESIM_PROFILE={other:?} is not \"perfmap\"; ignored");
            None
        }
    }
}

fn config(memory_bytes: usize, pooling: bool, meter: CpuMeter) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.consume_fuel(meter == CpuMeter::Fuel);
    config.epoch_interruption(meter == CpuMeter::Epoch);
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
    if let Some(strategy) = profiler_from_env() {
        config.profiler(strategy);
    }
    match crate::function_cache::FunctionCache::open() {
        Ok(store) => {
            // Infallible: it only stores the handle (the compiler is enabled).
            let _ = config.enable_incremental_compilation(std::sync::Arc::new(store));
        }
        Err(err) => tracing::debug!("no compiled-function cache: {err}"),
    }
    if pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(POOL_INSTANCES);
        pool.total_core_instances(POOL_INSTANCES * 4);
        pool.total_memories(POOL_INSTANCES * 2);
        pool.total_tables(POOL_INSTANCES * 2);
        // Room above the limit so a guest asking for more gets a clean limiter refusal.
        pool.max_memory_size(memory_bytes.saturating_mul(2).max(1 << 20));
        pool.max_component_instance_size(10 << 20);
        // Memory a freed slot keeps resident and zeroes with memset (the rest is returned with
        // madvise). The guests touch a few pages of it per request; 1 MiB cost ≈ 25 µs per teardown.
        pool.linear_memory_keep_resident(KEEP_RESIDENT);
        // Warm slots kept for reuse by new instances; the instance pool keeps its own idle ones.
        pool.max_unused_warm_slots(WARM_SLOTS);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// The compiled `bytes`: from memory, else from `cache_dir`, else compiled (and then cached).
pub(crate) fn component(
    engine: &Engine,
    bytes: &[u8],
    cache_dir: Option<&Path>,
) -> Result<Component> {
    static COMPONENTS: OnceLock<Mutex<BTreeMap<String, Component>>> = OnceLock::new();
    let key = cache_key(engine, bytes);
    let components = COMPONENTS.get_or_init(Default::default);
    if let Some(c) = components
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return Ok(c.clone());
    }
    let component = load_or_compile(engine, bytes, &key, cache_dir)?;
    components
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, component.clone());
    Ok(component)
}

fn load_or_compile(
    engine: &Engine,
    bytes: &[u8],
    key: &str,
    cache_dir: Option<&Path>,
) -> Result<Component> {
    // A cache directory owned by someone else, or writable by others, could hold planted
    // native code: it is neither read nor written.
    let dir = match cache_dir.map(edgesim_core::cache::private_dir) {
        None => None,
        Some(Ok(dir)) => Some(dir),
        Some(Err(err)) => {
            tracing::warn!("not using the compiled-Worker cache: {err}");
            None
        }
    };
    let Some(dir) = dir else {
        return Component::new(engine, bytes).context("compiling the Worker component");
    };
    let name = format!("{key}.cwasm");
    let path = dir.join(&name);
    if path.exists() {
        match edgesim_core::cache::check_private_file(&path) {
            // SAFETY: the entry is a regular file owned by this user and writable by nobody
            // else, in a directory with the same guarantees, so it was written by
            // `Component::serialize` below (atomically: never half a file), under a name that
            // includes the engine's compatibility hash; wasmtime re-checks the header on load.
            Ok(()) => match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => {
                    tracing::info!("loaded the compiled Worker from cache {}", path.display());
                    return Ok(c);
                }
                Err(err) => {
                    tracing::warn!(path = %path.display(), "ignoring a bad cache entry: {err}")
                }
            },
            Err(err) => tracing::warn!("ignoring a cache entry: {err}"),
        }
    }
    let started = std::time::Instant::now();
    let component = Component::new(engine, bytes).context("compiling the Worker component")?;
    let compile_s = started.elapsed().as_secs_f64();
    let write = || -> Result<()> {
        edgesim_core::cache::write_atomic(&dir, &name, &component.serialize()?)?;
        Ok(())
    };
    match write() {
        Ok(()) => tracing::info!(
            "compiled the Worker in {compile_s:.1} s and cached it at {}",
            path.display()
        ),
        Err(err) => tracing::warn!(
            "could not cache the compiled Worker in {}: {err}",
            dir.display()
        ),
    }
    Ok(component)
}

/// Hex SHA-256 over the component bytes, the wasmtime version and the engine's compatibility hash.
pub(crate) fn cache_key(engine: &Engine, bytes: &[u8]) -> String {
    let mut compat = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let mut h = Sha256::new();
    h.update(bytes);
    h.update(b"wasmtime-48");
    h.update(compat.finish().to_le_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a compiled artifact for `bytes` is already in `cache_dir`, for a fuel-metered host
/// (tests).
pub fn is_cached(bytes: &[u8], memory_bytes: usize, cache_dir: &Path) -> anyhow::Result<bool> {
    let engine = engine(memory_bytes, CpuMeter::Fuel).map_err(crate::host::to_anyhow)?;
    Ok(cache_dir
        .join(format!("{}.cwasm", cache_key(&engine, bytes)))
        .exists())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn set_mode(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn caches_others_can_write_are_neither_read_nor_written() {
        let engine = engine(128 << 20, CpuMeter::Fuel).unwrap();
        let bytes = edgesim_guests::fixtures::HELLO;
        let key = cache_key(&engine, bytes);
        let dir = std::env::temp_dir().join(format!("edgesim-engine-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let entry = dir.join(format!("{key}.cwasm"));

        // A directory anyone can write: compiled in memory, nothing written there.
        set_mode(&dir, 0o777);
        load_or_compile(&engine, bytes, &key, Some(&dir)).unwrap();
        assert!(!entry.exists());

        // A private directory: the entry is written owner-only, with no temporary left over.
        set_mode(&dir, 0o700);
        load_or_compile(&engine, bytes, &key, Some(&dir)).unwrap();
        assert_eq!(mode(&entry), 0o600);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

        // An entry others could have changed is not loaded: it is compiled again and replaced.
        set_mode(&entry, 0o666);
        load_or_compile(&engine, bytes, &key, Some(&dir)).unwrap();
        assert_eq!(mode(&entry), 0o600);

        // A missing cache directory is created owner-only.
        let fresh = dir.join("fresh");
        load_or_compile(&engine, bytes, &key, Some(&fresh)).unwrap();
        assert_eq!(mode(&fresh), 0o700);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
