// The Cache API as Workers use it: `GET /quote` answers from `caches.default` when this data
// center has the answer cached (max-age 30 s), else asks the quotes API and caches its answer
// after the response (`ctx.waitUntil(cache.put(...))`). `POST /quote/purge` deletes it here.
// `/articles` and `/articles/:id` are the course's KV cache, revalidated by the project's
// Database Webhook.

const LIST_KEY = "/articles";
const rowKey = (id) => `/articles/${id}`;

const json = (value, init = {}) =>
  new Response(JSON.stringify(value), {
    ...init,
    headers: { "content-type": "application/json", ...(init.headers ?? {}) },
  });

function rest(env, query) {
  return fetch(`${env.SUPABASE_URL}/rest/v1/articles?${query}`, {
    headers: { apikey: env.SUPABASE_ANON_KEY, authorization: `Bearer ${env.SUPABASE_ANON_KEY}` },
  }).then(async (r) => {
    if (!r.ok) throw new Error(`PostgREST answered ${r.status}: ${await r.text()}`);
    return r.json();
  });
}

async function quote(request, ctx, env) {
  const cache = caches.default;
  const key = new Request(new URL("/quote", request.url).toString());
  const hit = await cache.match(key);
  const colo = request.cf?.colo ?? "unknown";
  if (hit) {
    const body = await hit.json();
    return json({ ...body, colo, cache: "hit" }, { headers: { "x-cache": "hit" } });
  }
  const upstream = await fetch(env.QUOTE_URL);
  if (!upstream.ok) return json({ error: `quotes API answered ${upstream.status}` }, { status: 502 });
  // Cache the API's answer for 30 s here, after the response, with the usual clone().
  const fresh = new Response(upstream.body, {
    headers: { "content-type": "application/json", "cache-control": "public, max-age=30" },
  });
  ctx.waitUntil(cache.put(key, fresh.clone()));
  const body = await fresh.json();
  return json({ ...body, colo, cache: "miss" }, { headers: { "x-cache": "miss" } });
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/quote") return quote(request, ctx, env);
    if (url.pathname === "/quote/purge" && request.method === "POST") {
      const deleted = await caches.default.delete(new URL("/quote", request.url).toString());
      return json({ deleted });
    }
    if (url.pathname === "/articles") {
      const cached = await env.CACHE.get(LIST_KEY, "json");
      if (cached) return json(cached, { headers: { "x-kv": "hit" } });
      const rows = await rest(env, "select=*&order=id");
      ctx.waitUntil(env.CACHE.put(LIST_KEY, JSON.stringify(rows)));
      return json(rows, { headers: { "x-kv": "miss" } });
    }
    const m = url.pathname.match(/^\/articles\/(\d+)$/);
    if (m) {
      const cached = await env.CACHE.get(rowKey(m[1]), "json");
      if (cached) return json(cached, { headers: { "x-kv": "hit" } });
      const [row] = await rest(env, `select=*&id=eq.${m[1]}`);
      if (row) ctx.waitUntil(env.CACHE.put(rowKey(m[1]), JSON.stringify(row)));
      return json(row ?? null, { headers: { "x-kv": "miss" } });
    }
    if (url.pathname === "/hooks/articles" && request.method === "POST") {
      if (request.headers.get("x-webhook-secret") !== env.WEBHOOK_SECRET) {
        return json({ error: "bad secret" }, { status: 401 });
      }
      const payload = await request.json();
      ctx.waitUntil(
        (async () => {
          if (payload.type === "DELETE" && payload.old_record) {
            await env.CACHE.delete(rowKey(payload.old_record.id));
          } else if (payload.record) {
            await env.CACHE.put(rowKey(payload.record.id), JSON.stringify(payload.record));
          }
          await env.CACHE.put(LIST_KEY, JSON.stringify(await rest(env, "select=*&order=id")));
        })(),
      );
      return json({ received: true, type: payload.type });
    }
    return new Response("Not found", { status: 404 });
  },
};
