// Service-worker syntax, as older Workers are written: bindings are globals, read at the top
// level of the script to build a client once, and the Worker answers the course's routes
// (`/articles`, `/articles/:id`, cached in KV) and revalidates on its Database Webhook.

class RestClient {
  constructor(url, key) {
    if (typeof url !== "string" || typeof key !== "string") {
      throw new Error("RestClient: url and key must be strings");
    }
    this.base = `${url}/rest/v1`;
    this.headers = { apikey: key, authorization: `Bearer ${key}` };
  }

  async rows(query) {
    const resp = await fetch(`${this.base}/articles?${query}`, { headers: this.headers });
    if (!resp.ok) throw new Error(`PostgREST answered ${resp.status}: ${await resp.text()}`);
    return resp.json();
  }
}

// Built once, when the script is evaluated, from the binding globals.
const db = new RestClient(SUPABASE_URL, SUPABASE_ANON_KEY);
const cache = CACHE;
const LIST_KEY = "/articles";
const rowKey = (id) => `/articles/${id}`;

const json = (value, headers = {}) =>
  new Response(JSON.stringify(value), {
    headers: { "content-type": "application/json", ...headers },
  });

async function refreshList() {
  const rows = await db.rows("select=*&order=id");
  await cache.put(LIST_KEY, JSON.stringify(rows));
}

async function handle(event) {
  const url = new URL(event.request.url);
  if (url.pathname === "/") return new Response(`sw-global: ${db.base}\n`);
  if (url.pathname === "/articles") {
    const cached = await cache.get(LIST_KEY, "json");
    if (cached) return json(cached, { "x-kv": "hit" });
    const rows = await db.rows("select=*&order=id");
    event.waitUntil(cache.put(LIST_KEY, JSON.stringify(rows)));
    return json(rows, { "x-kv": "miss" });
  }
  const m = url.pathname.match(/^\/articles\/(\d+)$/);
  if (m) {
    const cached = await cache.get(rowKey(m[1]), "json");
    if (cached) return json(cached, { "x-kv": "hit" });
    const [row] = await db.rows(`select=*&id=eq.${m[1]}`);
    if (row) event.waitUntil(cache.put(rowKey(m[1]), JSON.stringify(row)));
    return json(row ?? null, { "x-kv": "miss" });
  }
  if (url.pathname === "/hooks/articles" && event.request.method === "POST") {
    if (event.request.headers.get("x-webhook-secret") !== WEBHOOK_SECRET) {
      return new Response(JSON.stringify({ error: "bad secret" }), { status: 401 });
    }
    const payload = await event.request.json();
    event.waitUntil(
      (async () => {
        if (payload.type === "DELETE" && payload.old_record) {
          await cache.delete(rowKey(payload.old_record.id));
        } else if (payload.record) {
          await cache.put(rowKey(payload.record.id), JSON.stringify(payload.record));
        }
        await refreshList();
      })(),
    );
    return json({ received: true, type: payload.type });
  }
  return new Response("Not found", { status: 404 });
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
