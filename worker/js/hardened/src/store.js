// The hardened Worker's KV discipline: reads with a short cacheTtl, writes with an expiry as a
// safety net, 429/5xx retries with backoff, and writes verified against Supabase until they
// hold (so a concurrent or reordered webhook cannot leave an older value behind).
import { supabase } from "./supabase.js";

/** cacheTtl of every read, in seconds (the minimum KV accepts). */
export const CACHE_TTL = 30;
/** expirationTtl of every write, in seconds: heals a key whose webhook was lost. */
export const EXPIRATION_TTL = 120;
/** Waits before retrying a write that failed with 429 or 5xx, in milliseconds. */
export const BACKOFF_MS = [1000, 2000, 4000, 8000];
/** Waits before asking Supabase again after a failed read, in milliseconds. */
export const SUPABASE_RETRY_MS = [1000, 2000];
/** Write-and-verify rounds per key before leaving the rest to expiry. */
export const MAX_ROUNDS = 4;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a KV error is worth retrying: rate limited or unavailable. */
function retryable(error) {
  return /failed: (429|5\d\d)\b/.test(String(error && error.message));
}

// What Supabase says about a key: { value } to store, { absent: true } when the row is gone,
// { unknown: why } when Supabase could not answer.
function classify({ data, error, status }, single) {
  if (error) {
    if (single && status === 406) return { absent: true };
    return { unknown: error.message || JSON.stringify(error) };
  }
  if (single && data === null) return { absent: true };
  return { value: data };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export class Store {
  constructor(env) {
    this.kv = env.ARTICLES;
    this.db = supabase(env);
  }

  /** The value under `key` (read with cacheTtl), or null when missing or falsy. */
  async read(key) {
    const text = await this.kv.get(key, { type: "text", cacheTtl: CACHE_TTL });
    if (text === null) return null;
    const value = JSON.parse(text);
    return value ? value : null;
  }

  /** Supabase's list of articles, as it is now. */
  async truthAll() {
    return classify(await this.db.from("articles").select("*"), false);
  }

  /** Supabase's row `id`, as it is now. */
  async truthOne(id) {
    return classify(await this.db.from("articles").select("*").match({ id }).single(), true);
  }

  /** One write with the safety-net expiry (the read path never sleeps). */
  async putOnce(key, value) {
    await this.kv.put(key, JSON.stringify(value), { expirationTtl: EXPIRATION_TTL });
  }

  /** A write retried on 429 and 5xx with backoff. */
  async put(key, value) {
    await this.retrying(() => this.putOnce(key, value));
  }

  /** A delete retried on 429 and 5xx with backoff. */
  async delete(key) {
    await this.retrying(() => this.kv.delete(key));
  }

  async retrying(op) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        if (!retryable(e) || attempt >= BACKOFF_MS.length) throw e;
        await sleep(BACKOFF_MS[attempt]);
      }
    }
  }

  /**
   * Makes `key` hold what `truth()` reports, writing again while Supabase changes underneath.
   * Returns the value written last, or null when the key was deleted.
   */
  async sync(key, truth) {
    let current = await truth();
    for (const ms of SUPABASE_RETRY_MS) {
      if (!("unknown" in current)) break;
      await sleep(ms);
      current = await truth();
    }
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if ("value" in current) {
        await this.put(key, current.value);
      } else if (current.absent) {
        await this.delete(key);
      } else {
        // Nothing trustworthy to store: drop the key so the next read asks Supabase.
        await this.delete(key);
        throw new Error(`Supabase did not answer for ${key}: ${current.unknown}`);
      }
      const after = await truth();
      if (same(after, current)) return "value" in current ? current.value : null;
      current = after;
    }
    throw new Error(`${key} kept changing in Supabase over ${MAX_ROUNDS} rounds; expiry will heal it`);
  }
}
