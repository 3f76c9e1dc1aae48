//! The Worker's environment (`env`: variables and KV bindings) and execution context (`ctx`).

use crate::error::{Error, KvError, Result};
use crate::kv::{KvBackend, KvStore};
use crate::request::Request;
use crate::response::Response;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// A boxed, single-threaded future (guests have no threads).
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Opens a KV namespace by binding name.
pub type KvOpener = Box<dyn Fn(&str) -> Result<Rc<dyn KvBackend>, KvError>>;

/// Sends an outgoing request (`fetch`).
pub type Fetcher = Rc<dyn Fn(Request) -> LocalBoxFuture<'static, Result<Response>>>;

/// Sleeps for a number of milliseconds on the Worker's clock.
pub type Sleeper = Rc<dyn Fn(u64) -> LocalBoxFuture<'static, ()>>;

/// Variables, secrets and KV bindings, as `env` in a Cloudflare Worker.
///
/// Variables come from the WASI environment (the host passes `[vars]` and secrets that way).
/// The environment also carries the runtime's `fetch` and `sleep`, so Worker logic can be
/// tested on the host target with fakes. Cloning is cheap; clones share the opened namespaces.
#[derive(Clone)]
pub struct Env {
    inner: Rc<EnvInner>,
}

struct EnvInner {
    vars: BTreeMap<String, String>,
    opener: KvOpener,
    fetcher: Fetcher,
    sleeper: Sleeper,
    opened: RefCell<BTreeMap<String, KvStore>>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.inner.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Env {
    /// An environment with `vars`, KV bindings opened by `opener`, and the runtime's
    /// `fetcher` and `sleeper`.
    pub fn new(
        vars: BTreeMap<String, String>,
        opener: KvOpener,
        fetcher: Fetcher,
        sleeper: Sleeper,
    ) -> Self {
        Env {
            inner: Rc::new(EnvInner {
                vars,
                opener,
                fetcher,
                sleeper,
                opened: RefCell::new(BTreeMap::new()),
            }),
        }
    }

    /// Sends `req` through the runtime (`fetch(request)`).
    pub async fn fetch(&self, req: Request) -> Result<Response> {
        (self.inner.fetcher)(req).await
    }

    /// Sleeps `ms` milliseconds on the Worker's clock (the emulator's clock under edgesim).
    pub async fn sleep_ms(&self, ms: u64) {
        (self.inner.sleeper)(ms).await
    }

    /// The variable or secret `name`; an error naming it when unset.
    pub fn var(&self, name: &str) -> Result<String> {
        self.var_opt(name)
            .map(str::to_owned)
            .ok_or_else(|| Error::Message(format!("Binding `{name}` is undefined.")))
    }

    /// The variable or secret `name`, if set.
    pub fn var_opt(&self, name: &str) -> Option<&str> {
        self.inner.vars.get(name).map(String::as_str)
    }

    /// The KV namespace bound as `binding` (opened once per invocation).
    pub fn kv(&self, binding: &str) -> Result<KvStore> {
        if let Some(store) = self.inner.opened.borrow().get(binding) {
            return Ok(store.clone());
        }
        let backend = (self.inner.opener)(binding)?;
        let store = KvStore::new(binding, backend);
        self.inner
            .opened
            .borrow_mut()
            .insert(binding.to_owned(), store.clone());
        Ok(store)
    }
}

/// Starts a `waitUntil` future.
pub type Spawner = Rc<dyn Fn(LocalBoxFuture<'static, ()>)>;

/// The execution context (`ctx`): work that continues after the response.
#[derive(Clone)]
pub struct Ctx {
    spawner: Spawner,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ctx")
    }
}

impl Ctx {
    /// A context whose `wait_until` hands futures to `spawner`.
    pub fn new(spawner: Spawner) -> Self {
        Ctx { spawner }
    }

    /// A context that queues `wait_until` futures; returns the queue so a test can run them.
    pub fn queued() -> (Self, WaitUntilQueue) {
        let queue = WaitUntilQueue::default();
        let q = queue.clone();
        let ctx = Ctx::new(Rc::new(move |fut| q.0.borrow_mut().push(fut)));
        (ctx, queue)
    }

    /// Keeps the invocation alive until `future` completes, after the response has been sent
    /// (`ctx.waitUntil(promise)`). The host cancels it 30 s after the response.
    pub fn wait_until(&self, future: impl Future<Output = ()> + 'static) {
        (self.spawner)(Box::pin(future));
    }
}

/// `wait_until` futures collected by [`Ctx::queued`].
#[derive(Clone, Default)]
pub struct WaitUntilQueue(Rc<RefCell<Vec<LocalBoxFuture<'static, ()>>>>);

impl WaitUntilQueue {
    /// How many futures are waiting.
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }

    /// Runs the queued futures one after the other, including any they queue in turn.
    pub async fn run_all(&self) {
        loop {
            let next = {
                let mut q = self.0.borrow_mut();
                if q.is_empty() {
                    break;
                }
                q.remove(0)
            };
            next.await;
        }
    }
}
