//! Host-target test doubles for Worker logic (not compiled for wasm): an in-memory KV namespace
//! with scripted failures, an environment builder with fake `fetch` and `sleep`, and `block_on`.
//!
//! [`MemoryKv`] is a single strongly consistent map: no colos, no `cacheTtl`, no expiry. It
//! checks logic, not the KV model (that is `crates/kv`).

use crate::env::{Ctx, Env, Fetcher, LocalBoxFuture, Sleeper, WaitUntilQueue};
use crate::error::{Error, KvError, Result};
use crate::kv::{
    BulkEntry, CacheStatus, GetOptions, KvBackend, ListKey, ListOptions, ListResult, PutOptions,
    RawWithMetadata,
};
use crate::request::Request;
use crate::response::Response;
use crate::router::Router;
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A stored entry of [`MemoryKv`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The value.
    pub value: Vec<u8>,
    /// The options of the `put` that wrote it.
    pub options: PutOptions,
}

/// An in-memory KV namespace that records every operation and can fail chosen ones.
#[derive(Debug, Default)]
pub struct MemoryKv {
    entries: RefCell<BTreeMap<String, Entry>>,
    log: RefCell<Vec<String>>,
    failures: RefCell<VecDeque<(&'static str, KvError)>>,
}

impl MemoryKv {
    /// An empty namespace.
    pub fn new() -> Rc<Self> {
        Rc::new(MemoryKv::default())
    }

    /// Makes the next `op` (`get`, `put`, `delete`, `list`, `get_bulk`, `get_with_metadata`)
    /// fail with `error`; queued failures are used in order.
    pub fn fail_next(&self, op: &'static str, error: KvError) {
        self.failures.borrow_mut().push_back((op, error));
    }

    /// Operations so far, e.g. `put /articles/2` or `get /articles cacheTtl=30`.
    pub fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }

    /// The entry under `key`.
    pub fn entry(&self, key: &str) -> Option<Entry> {
        self.entries.borrow().get(key).cloned()
    }

    /// The value under `key` as text.
    pub fn text(&self, key: &str) -> Option<String> {
        self.entry(key)
            .map(|e| String::from_utf8_lossy(&e.value).into_owned())
    }

    /// Stores `value` under `key` without logging (test setup).
    pub fn seed(&self, key: &str, value: &str) {
        self.entries.borrow_mut().insert(
            key.to_owned(),
            Entry {
                value: value.as_bytes().to_vec(),
                options: PutOptions::default(),
            },
        );
    }

    fn begin(&self, op: &'static str, detail: &str) -> Result<(), KvError> {
        self.log.borrow_mut().push(format!("{op} {detail}"));
        let mut failures = self.failures.borrow_mut();
        match failures.iter().position(|(o, _)| *o == op) {
            Some(i) => Err(failures.remove(i).expect("position is in range").1),
            None => Ok(()),
        }
    }
}

impl KvBackend for MemoryKv {
    fn get(&self, key: &str, options: GetOptions) -> Result<Option<Vec<u8>>, KvError> {
        match options.cache_ttl {
            Some(ttl) => self.begin("get", &format!("{key} cacheTtl={ttl}"))?,
            None => self.begin("get", key)?,
        }
        Ok(self.entries.borrow().get(key).map(|e| e.value.clone()))
    }

    fn get_with_metadata(
        &self,
        key: &str,
        _options: GetOptions,
    ) -> Result<RawWithMetadata, KvError> {
        self.begin("get_with_metadata", key)?;
        let entry = self.entries.borrow().get(key).cloned();
        Ok(RawWithMetadata {
            value: entry.as_ref().map(|e| e.value.clone()),
            metadata: entry.and_then(|e| e.options.metadata),
            cache_status: CacheStatus::Miss,
        })
    }

    fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<(), KvError> {
        self.begin("put", key)?;
        self.entries.borrow_mut().insert(
            key.to_owned(),
            Entry {
                value: value.to_vec(),
                options: options.clone(),
            },
        );
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), KvError> {
        self.begin("delete", key)?;
        self.entries.borrow_mut().remove(key);
        Ok(())
    }

    fn list(&self, options: &ListOptions) -> Result<ListResult, KvError> {
        self.begin("list", options.prefix.as_deref().unwrap_or(""))?;
        let limit = options.limit.unwrap_or(1000) as usize;
        let prefix = options.prefix.as_deref().unwrap_or("");
        let entries = self.entries.borrow();
        let mut matching = entries
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .filter(|(k, _)| options.cursor.as_deref().is_none_or(|c| k.as_str() > c));
        let keys: Vec<ListKey> = matching
            .by_ref()
            .take(limit)
            .map(|(k, e)| ListKey {
                name: k.clone(),
                expiration: e.options.expiration,
                metadata: e.options.metadata.clone(),
            })
            .collect();
        let complete = matching.next().is_none();
        Ok(ListResult {
            cursor: (!complete).then(|| keys.last().map(|k| k.name.clone()).unwrap_or_default()),
            keys,
            list_complete: complete,
            cache_status: CacheStatus::Miss,
        })
    }

    fn get_bulk(&self, keys: &[String], _options: GetOptions) -> Result<Vec<BulkEntry>, KvError> {
        self.begin("get_bulk", &keys.join(","))?;
        let entries = self.entries.borrow();
        Ok(keys
            .iter()
            .map(|k| BulkEntry {
                key: k.clone(),
                value: entries.get(k).map(|e| e.value.clone()),
                metadata: entries.get(k).and_then(|e| e.options.metadata.clone()),
            })
            .collect())
    }
}

/// Builds an [`Env`] for host tests.
#[derive(Default)]
pub struct TestEnv {
    vars: BTreeMap<String, String>,
    kvs: BTreeMap<String, Rc<MemoryKv>>,
    fetcher: Option<Fetcher>,
    sleeps: Rc<RefCell<Vec<u64>>>,
}

impl TestEnv {
    /// An environment with no variables, bindings or network.
    pub fn new() -> Self {
        TestEnv::default()
    }

    /// Sets variable `name`.
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Binds `kv` as `binding`.
    pub fn kv(mut self, binding: &str, kv: Rc<MemoryKv>) -> Self {
        self.kvs.insert(binding.to_owned(), kv);
        self
    }

    /// Answers `fetch` with `f` (without it, every fetch fails).
    pub fn fetch_with(mut self, f: impl Fn(Request) -> Result<Response> + 'static) -> Self {
        let f = Rc::new(f);
        self.fetcher = Some(Rc::new(move |req| {
            let f = f.clone();
            Box::pin(async move { f(req) }) as LocalBoxFuture<'static, Result<Response>>
        }));
        self
    }

    /// The sleeps (ms) requested so far; sleeping returns at once.
    pub fn sleeps(&self) -> Rc<RefCell<Vec<u64>>> {
        self.sleeps.clone()
    }

    /// The environment.
    pub fn build(self) -> Env {
        let kvs = self.kvs;
        let sleeps = self.sleeps;
        let sleeper: Sleeper = Rc::new(move |ms| {
            sleeps.borrow_mut().push(ms);
            Box::pin(async {})
        });
        let fetcher = self.fetcher.unwrap_or_else(|| {
            Rc::new(|req: Request| {
                let url = req.url().to_owned();
                Box::pin(
                    async move { Err(Error::Fetch(format!("no network in this test: {url}"))) },
                )
            })
        });
        Env::new(
            self.vars,
            Box::new(move |binding| match kvs.get(binding) {
                Some(kv) => Ok(kv.clone() as Rc<dyn KvBackend>),
                None => Err(KvError::NoSuchBinding(format!(
                    "no KV namespace is bound as {binding}"
                ))),
            }),
            fetcher,
            sleeper,
        )
    }
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `fut` to completion on the current thread.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// Runs `router` on `req` with a clone of `env` and a queued [`Ctx`], to completion: the
/// response and the `waitUntil` futures it left (not yet run). Panics if the router errs.
pub fn dispatch(router: &Router, env: &Env, req: Request) -> (Response, WaitUntilQueue) {
    let (ctx, queue) = Ctx::queued();
    let resp = block_on(router.run(req, env.clone(), ctx)).unwrap();
    (resp, queue)
}
