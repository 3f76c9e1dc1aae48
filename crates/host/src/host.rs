//! [`Host`]: the compiled Worker, its linker, the pool of reusable instances, and everything an
//! instance's store is built from.

use crate::capture::Capture;
use crate::config::HostConfig;
use crate::kv::{HasKv, KvCtx, KvView};
use crate::observer::{NoopObserver, SharedObserver};
use crate::outbound::{OutboundHooks, Upstream, authority_of};
use crate::pool::{Census, Instance, InstanceStatus, Pool, Slot, StatusLimits};
use crate::state::{
    GuestRng, InvocationStats, Limiter, SimWallClock, StoreState, TokioMonotonicClock,
};
use edgesim_core::{SharedClock, SimRng};
use edgesim_kv::{KvStore, OpBudget};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use wasmtime::Store;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::error::Context as _;
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::WasiHttpCtx;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// Bytes of guest stdout/stderr kept per request (logged when the request ends). Allocated
/// as written; a guest that prints more sees its stdout/stderr fail.
const GUEST_OUTPUT_BYTES: usize = 1 << 20;

/// Runs one Worker component from one pre-instantiated component: each request gets an idle
/// instance from the pool (see [`InstancePolicy`](crate::InstancePolicy)) or a fresh one.
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Host {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub pre: ProxyPre<StoreState>,
    pub config: HostConfig,
    pub kv: KvStore,
    pub upstream: Arc<dyn Upstream>,
    pub clock: SharedClock,
    pub rng: Mutex<SimRng>,
    pub observer: SharedObserver,
    pub allowed: Arc<Vec<String>>,
    pub bindings: Arc<Vec<String>>,
    pub colo_codes: Vec<String>,
    /// The Worker's environment (`vars`), built once.
    pub env: Vec<(String, String)>,
    /// The internal host's `/config` answer (vars and KV bindings), built once.
    pub internal_config: bytes::Bytes,
    pub pool: Pool,
    /// Bounds requests producing a response at once (`InstancePolicy::max_live`).
    pub live: Option<Arc<tokio::sync::Semaphore>>,
    /// Requests, background calls and instances right now.
    pub census: Arc<Census>,
    /// The Cache API's entries, per colo (`crate::cache`).
    pub cache: crate::cache::CacheStore,
    /// Whether the Worker imports the synchronous host link (a JavaScript Worker's adapter),
    /// so each call hands it a [`crate::js_link::Exchange`].
    pub uses_link: bool,
}

/// What one invocation's state is built with.
pub(crate) struct StoreParts {
    pub colo: String,
    pub ray: String,
    pub guest_seed: u64,
    /// The fuel the invocation starts with (its CPU limit).
    pub fuel: u64,
    pub stats: Arc<InvocationStats>,
}

impl Host {
    /// Compiles (or loads from `cache_dir`) `component` and links it against WASI, wasi:http,
    /// our KV and `wasi:keyvalue/store`.
    ///
    /// `clock` is the emulator's clock (WASI wall clock, waitUntil deadline); `rng` seeds
    /// `cf-ray` ids and the guest's randomness (pass a fork, e.g. `root.fork("host")`).
    /// Fails when a configured colo is not one of the KV model's, when the component does not
    /// compile, imports something the host does not offer, or does not export
    /// `wasi:http/incoming-handler`.
    pub fn new(
        component: &[u8],
        config: HostConfig,
        kv: KvStore,
        upstream: Arc<dyn Upstream>,
        clock: SharedClock,
        rng: SimRng,
        cache_dir: Option<&Path>,
    ) -> anyhow::Result<Host> {
        if config.colo(&config.default_colo).is_none() {
            anyhow::bail!(
                "the default colo {} is not among the configured colos",
                config.default_colo
            );
        }
        let kv_colos = kv.colos();
        let missing: Vec<&str> = config
            .colos
            .iter()
            .map(|c| c.code.as_str())
            .filter(|c| !kv_colos.iter().any(|k| k == c))
            .collect();
        if !missing.is_empty() {
            anyhow::bail!(
                "colos {} are not in the KV model (its colos: {})",
                missing.join(", "),
                kv_colos.join(", ")
            );
        }
        Self::build(component, config, kv, upstream, clock, rng, cache_dir).map_err(to_anyhow)
    }

    fn build(
        component: &[u8],
        config: HostConfig,
        kv: KvStore,
        upstream: Arc<dyn Upstream>,
        clock: SharedClock,
        rng: SimRng,
        cache_dir: Option<&Path>,
    ) -> wasmtime::Result<Host> {
        // This host counts its rules' `times` apart from other hosts built from the config.
        let mut config = config;
        config.outbound = config.outbound.fresh();
        let engine = crate::engine::engine(config.limits.memory_bytes, config.cpu_meter)?;
        let component = crate::engine::component(&engine, component, cache_dir)?;
        let uses_link = component
            .component_type()
            .imports(&engine)
            .any(|(name, _)| name.starts_with(crate::js_link::INTERFACE));
        let mut linker = Linker::<StoreState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        let kv_view: fn(&mut StoreState) -> KvView<'_> = |s| KvView {
            ctx: &mut s.kv,
            table: &mut s.table,
        };
        crate::kv::add_to_linker::<StoreState, HasKv>(&mut linker, kv_view)?;
        crate::keyvalue::add_to_linker(&mut linker, kv_view)?;
        crate::js_link::add_to_linker(&mut linker)?;
        let pre = linker
            .instantiate_pre(&component)
            .context("linking the Worker (does it import something edgesim does not offer?)")?;
        let pre =
            ProxyPre::new(pre).context("the Worker does not export wasi:http/incoming-handler")?;
        let mut allowed = vec![authority_of(&config.supabase_url)];
        allowed.extend(config.allowlist.iter().map(|a| authority_of(a)));
        let colo_codes = config.colos.iter().map(|c| c.code.clone()).collect();
        let env = config
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let pool = Pool::new(&config.instances);
        let live = config
            .instances
            .max_live
            .map(|n| Arc::new(tokio::sync::Semaphore::new(n.max(1))));
        let internal_config = crate::internal::config_json(&config);
        Ok(Host {
            inner: Arc::new(Inner {
                pre,
                bindings: Arc::new(config.kv_bindings.clone()),
                config,
                kv,
                upstream,
                clock,
                rng: Mutex::new(rng),
                observer: Arc::new(NoopObserver),
                allowed: Arc::new(allowed),
                colo_codes,
                env,
                internal_config,
                pool,
                live,
                census: Arc::new(Census::default()),
                cache: crate::cache::CacheStore::new(),
                uses_link,
            }),
        })
    }

    /// This host reporting to `observer` (call before cloning the host).
    pub fn with_observer(self, observer: SharedObserver) -> Host {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.observer = observer;
                Host {
                    inner: Arc::new(inner),
                }
            }
            Err(shared) => {
                tracing::warn!("with_observer on a shared Host; the observer is ignored");
                Host { inner: shared }
            }
        }
    }

    /// This host keeping its Cache API entries in `cache` (call before cloning the host), so
    /// a rebuilt Worker in `edgesim dev` finds what the previous one cached, as production's
    /// cache outlives deployments.
    pub fn with_cache(self, cache: crate::cache::CacheStore) -> Host {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.cache = cache;
                Host {
                    inner: Arc::new(inner),
                }
            }
            Err(shared) => {
                tracing::warn!("with_cache on a shared Host; the cache is ignored");
                Host { inner: shared }
            }
        }
    }

    /// The Cache API's entries (every colo).
    pub fn cache(&self) -> &crate::cache::CacheStore {
        &self.inner.cache
    }

    /// The configuration the host runs with.
    pub fn config(&self) -> &HostConfig {
        &self.inner.config
    }

    /// The KV model the Worker's bindings use.
    pub fn kv(&self) -> &KvStore {
        &self.inner.kv
    }

    /// The emulator's clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// Where one invocation's instance comes from: the most recently returned idle one when
    /// reuse is on, else room for a new one; `None` when
    /// [`InstancePolicy::max_instances`](crate::InstancePolicy) left no room within `limit`.
    pub(crate) async fn slot(&self, limit: std::time::Duration) -> Option<Slot> {
        self.inner
            .pool
            .slot(self.inner.config.instances.reuse, limit)
            .await
    }

    /// The instance for one invocation from `slot`: the idle one (with its per-invocation
    /// state reset), else a new one.
    pub(crate) async fn checkout(
        &self,
        slot: Slot,
        parts: &StoreParts,
    ) -> wasmtime::Result<Instance> {
        let room = match slot {
            Slot::Idle(mut instance) => {
                self.reset(&mut instance, parts)?;
                instance.uses += 1;
                self.note(&instance, false);
                return Ok(instance);
            }
            Slot::New(room) => room,
        };
        let mut instance = self.new_instance(parts, room).await?;
        instance.uses = 1;
        self.note(&instance, false);
        Ok(instance)
    }

    /// Returns `instance` to the pool after a call that ended `result`, if it may serve again:
    /// reuse is on, the call returned cleanly, no limit was hit and it has uses left.
    pub(crate) fn checkin(
        &self,
        instance: Instance,
        result: &wasmtime::Result<()>,
        stats: &InvocationStats,
    ) {
        let policy = &self.inner.config.instances;
        let limits = &self.inner.config.limits;
        let clean = result.is_ok()
            && !stats.memory_exceeded.load(Ordering::Relaxed)
            && stats.subrequests.load(Ordering::Relaxed) <= limits.subrequests
            && stats.kv_ops.load(Ordering::Relaxed) <= limits.kv_ops;
        if policy.reuse && clean && instance.uses < policy.max_uses {
            self.note(&instance, true);
            self.inner.pool.push(instance);
        }
    }

    /// Records `instance`'s state, calls and memory in the census.
    fn note(&self, instance: &Instance, idle: bool) {
        let memory = instance.store.data().limiter.used();
        self.inner
            .census
            .update(&instance.ticket, idle, instance.uses, memory);
    }

    /// The Worker's instances right now: requests producing a response, calls running after
    /// their response, every instance with its memory, and the limits in force (what
    /// `GET /__edgesim/status` answers).
    ///
    /// What bounds them: at most [`InstancePolicy::max_live`](crate::InstancePolicy) requests
    /// hold an instance while they produce a response, at most
    /// [`InstancePolicy::max_idle`](crate::InstancePolicy) instances wait idle in the pool,
    /// and a call running after its response (waitUntil work, or a request whose client went
    /// away) holds its instance at most [`Limits::wait_until`](crate::Limits) longer.
    pub fn status(&self) -> InstanceStatus {
        let config = &self.inner.config;
        self.inner.census.snapshot(
            self.inner.pool.idle(),
            StatusLimits {
                reuse: config.instances.reuse,
                max_live: config.instances.max_live,
                max_idle: config.instances.max_idle,
                max_uses: config.instances.max_uses,
                max_instances: config.instances.max_instances,
                memory_bytes_per_instance: config.limits.memory_bytes,
                cpu_meter: match config.cpu_meter {
                    crate::CpuMeter::Fuel => "fuel",
                    crate::CpuMeter::Epoch => "epoch",
                },
            },
        )
    }

    /// Idle instances in the pool (for tests).
    pub fn idle_instances(&self) -> usize {
        self.inner.pool.idle()
    }

    /// A new store and instance, with fuel, memory limits and the invocation's contexts.
    async fn new_instance(
        &self,
        parts: &StoreParts,
        room: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> wasmtime::Result<Instance> {
        let inner = &self.inner;
        let stdout = Capture::new(GUEST_OUTPUT_BYTES);
        let stderr = Capture::new(GUEST_OUTPUT_BYTES);
        let insecure = GuestRng::new(parts.guest_seed, "insecure");
        let secure = GuestRng::new(parts.guest_seed, "secure");
        let mut seed = SimRng::from_seed(parts.guest_seed);
        let mut wasi = WasiCtx::builder();
        wasi.envs(&inner.env)
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(SimWallClock(inner.clock.clone()))
            .monotonic_clock(TokioMonotonicClock(tokio::time::Instant::now()))
            .insecure_random_seed(u128::from(seed.next_u64()) << 64 | u128::from(seed.next_u64()))
            .insecure_random(insecure.clone())
            .secure_random(secure.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let (hooks, kv) = self.invocation_state(parts);
        let state = StoreState {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            hooks,
            kv,
            limiter: Limiter::new(inner.config.limits.memory_bytes, parts.stats.clone()),
            link: None,
            epoch: Default::default(),
        };
        let mut store = Store::new(inner.pre.engine(), state);
        store.limiter(|s| &mut s.limiter);
        crate::cpu::arm(&mut store, inner.config.cpu_meter, parts.fuel)?;
        let proxy = inner.pre.instantiate_async(&mut store).await?;
        let ticket = inner.census.register(store.data().limiter.used());
        Ok(Instance {
            ticket,
            _room: room,
            store,
            proxy,
            stdout,
            stderr,
            insecure,
            secure,
            uses: 0,
        })
    }

    /// Fresh per-invocation state on a reused instance: full fuel, new KV and subrequest
    /// budgets, the request's colo and ray, new stats, the guest's randomness reseeded and
    /// empty stdout/stderr.
    fn reset(&self, instance: &mut Instance, parts: &StoreParts) -> wasmtime::Result<()> {
        instance.insecure.reseed(parts.guest_seed);
        instance.secure.reseed(parts.guest_seed);
        instance.stdout.take();
        instance.stderr.take();
        let (hooks, kv) = self.invocation_state(parts);
        let state = instance.store.data_mut();
        state.hooks = hooks;
        state.kv = kv;
        state.http = WasiHttpCtx::new();
        state.limiter.stats = parts.stats.clone();
        crate::cpu::arm(&mut instance.store, self.inner.config.cpu_meter, parts.fuel)
    }

    /// The outbound hooks and KV context of one invocation.
    fn invocation_state(&self, parts: &StoreParts) -> (OutboundHooks, KvCtx) {
        let inner = &self.inner;
        let kv = KvCtx {
            store: inner.kv.clone(),
            colo: parts.colo.clone(),
            ray: parts.ray.clone(),
            bindings: inner.bindings.clone(),
            budget: Arc::new(Mutex::new(OpBudget::new(inner.config.limits.kv_ops))),
            stats: parts.stats.clone(),
            observer: inner.observer.clone(),
        };
        let hooks = OutboundHooks {
            upstream: inner.upstream.clone(),
            allowed: inner.allowed.clone(),
            subrequest_limit: inner.config.limits.subrequests,
            stats: parts.stats.clone(),
            observer: inner.observer.clone(),
            colo: parts.colo.clone(),
            ray: parts.ray.clone(),
            kv: kv.clone(),
            internal_config: inner.internal_config.clone(),
            rules: inner.config.outbound.clone(),
            cache: crate::cache::CacheCtx {
                store: inner.cache.clone(),
                colo: parts.colo.clone(),
                ray: parts.ray.clone(),
                observer: inner.observer.clone(),
                clock: inner.clock.clone(),
            },
            rng_seed: parts.guest_seed,
            rng: None,
        };
        (hooks, kv)
    }

    /// Draws a `cf-ray` id for `colo` and a seed for the guest's randomness.
    pub(crate) fn draw_ray(&self, colo: &str) -> (String, u64) {
        let mut rng = self.inner.rng.lock().unwrap_or_else(|e| e.into_inner());
        let ray = format!("{:016x}-{colo}", rng.next_u64());
        (ray, rng.next_u64())
    }
}

/// A wasmtime error as an `anyhow` error, keeping its chain of causes in the message.
pub(crate) fn to_anyhow(e: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}
