//! Reads with `cacheTtl`, writes with `expirationTtl`, 429 retries and write verification.

use edgesim_worker::kv::KvStore;
use edgesim_worker::supabase::{QueryResult, Supabase};
use edgesim_worker::{Env, Error, Result};
use serde_json::Value;

/// `cacheTtl` of every read, in seconds (the minimum KV accepts).
pub const CACHE_TTL: u32 = 30;
/// `expirationTtl` of every write, in seconds: the safety net for lost webhooks.
pub const EXPIRATION_TTL: u64 = 120;
/// Delays before the retries of a write that got a 429 or a 5xx, in milliseconds.
pub const BACKOFF_MS: [u64; 4] = [1_000, 2_000, 4_000, 8_000];
/// Delays before refetching from Supabase after a failed read, in milliseconds.
pub const SUPABASE_RETRY_MS: [u64; 2] = [1_000, 2_000];
/// Fetch-write-verify rounds per key before giving up (expiry heals what is left).
pub const MAX_ROUNDS: usize = 4;

/// What Supabase says about one key's source of truth.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    /// The value to store.
    Value(Value),
    /// The row does not exist: the key should not exist either.
    Absent,
    /// Supabase could not answer; the message says why.
    Unknown(String),
}

/// The `ARTICLES` namespace, the Supabase project and the runtime (for backoff sleeps).
pub struct Store {
    pub(crate) env: Env,
    pub(crate) kv: KvStore,
    pub(crate) supabase: Supabase,
}

impl Store {
    /// Opens `ARTICLES` and reads the Supabase variables.
    pub fn from_env(env: &Env) -> Result<Self> {
        Ok(Store {
            env: env.clone(),
            kv: env.kv("ARTICLES")?,
            supabase: Supabase::from_env(env)?,
        })
    }

    /// Reads `key` with `cacheTtl`; `None` when missing or falsy (as the course treats it).
    pub async fn read(&self, key: &str) -> Result<Option<Value>> {
        let Some(text) = self.kv.get(key).cache_ttl(CACHE_TTL).text().await? else {
            return Ok(None);
        };
        let value: Value = serde_json::from_str(&text)?;
        Ok(course::logic::truthy(&value).then_some(value))
    }

    /// All rows, as Supabase has them now.
    pub async fn truth_all(&self) -> Result<Truth> {
        Ok(classify(self.supabase.select_all("articles").await?, false))
    }

    /// Row `id`, as Supabase has it now.
    pub async fn truth_one(&self, id: &str) -> Result<Truth> {
        Ok(classify(
            self.supabase.select_single("articles", "id", id).await?,
            true,
        ))
    }

    /// Writes `value` once with the safety-net expiry (the read path: no sleeping).
    pub async fn put_once(&self, key: &str, value: &Value) -> Result<()> {
        self.kv
            .put_json(key, value)?
            .expiration_ttl(EXPIRATION_TTL)
            .execute()
            .await
    }

    /// Writes `value` with the safety-net expiry, retrying 429s and 5xx with backoff.
    pub async fn put(&self, key: &str, value: &Value) -> Result<()> {
        self.retrying(|| self.put_once(key, value)).await
    }

    /// Deletes `key`, retrying 429s and 5xx with backoff.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.retrying(|| self.kv.delete(key)).await
    }

    async fn retrying<F, Fut>(&self, op: F) -> Result<()>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let mut delays = BACKOFF_MS.iter();
        loop {
            match op().await {
                Err(Error::Kv(e))
                    if matches!(
                        e,
                        edgesim_worker::KvError::TooManyRequests(_)
                            | edgesim_worker::KvError::Unavailable(_)
                    ) =>
                {
                    let Some(ms) = delays.next() else {
                        return Err(Error::Kv(e));
                    };
                    self.env.sleep_ms(*ms).await;
                }
                other => return other,
            }
        }
    }

    /// Makes `key` match what `truth` reports, writing again while Supabase changes under us.
    /// Returns the value written last (`None` when the key was deleted or nothing was known).
    pub async fn sync<F, Fut>(&self, key: &str, truth: F) -> Result<Option<Value>>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Truth>>,
    {
        let mut current = truth().await?;
        for ms in SUPABASE_RETRY_MS {
            if !matches!(current, Truth::Unknown(_)) {
                break;
            }
            self.env.sleep_ms(ms).await;
            current = truth().await?;
        }
        for _ in 0..MAX_ROUNDS {
            match &current {
                Truth::Value(v) => self.put(key, v).await?,
                Truth::Absent => self.delete(key).await?,
                // Nothing trustworthy to write: drop the key so the next read refetches.
                Truth::Unknown(why) => {
                    self.delete(key).await?;
                    return Err(Error::Fetch(why.clone()));
                }
            }
            let after = truth().await?;
            if after == current {
                return Ok(match current {
                    Truth::Value(v) => Some(v),
                    _ => None,
                });
            }
            current = after;
        }
        Err(Error::msg(format!(
            "{key} kept changing in Supabase over {MAX_ROUNDS} rounds; expiry will heal it"
        )))
    }
}

/// Reads a supabase-js style result: for a single-object query a 406 means "no such row".
fn classify(result: QueryResult, single: bool) -> Truth {
    match (result.status, result.error) {
        (Some(406), Some(_)) if single => Truth::Absent,
        (_, Some(error)) => Truth::Unknown(error),
        (_, None) if result.data.is_null() && single => Truth::Absent,
        (_, None) => Truth::Value(result.data),
    }
}
