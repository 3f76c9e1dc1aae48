// The shared part of both variants: PostgREST reads, KV keys, JSON responses.
//   GET /api/products      -> { "data": [...rows by id], "total": n }  (KV key "products:list")
//   GET /api/products/:id  -> { "product": {...row, "fetched_at": ms} } or 404
//                             (KV key "product:{id}", value { "product": row | null })
//   POST /hooks/products   -> the Database Webhook (the variants differ here)

export const LIST_KEY = "products:list";
export const itemKey = (id) => `product:${id}`;

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

export function json(body, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/** GETs PostgREST `query` on products; throws on a non-2xx answer. */
async function rest(env, query) {
  const res = await fetch(`${env.SUPABASE_URL}/rest/v1/products?${query}`, {
    headers: {
      apikey: env.SUPABASE_ANON_KEY,
      authorization: `Bearer ${env.SUPABASE_ANON_KEY}`,
    },
  });
  if (!res.ok) {
    throw new Error(`PostgREST ${res.status}`);
  }
  return res.json();
}

/** The row with `id`, or null. */
export async function fetchRow(env, id) {
  const rows = await rest(env, `select=*&id=eq.${encodeURIComponent(id)}`);
  return rows[0] ?? null;
}

/** Every row, by id. */
export async function fetchAll(env) {
  return rest(env, "select=*&order=id.asc");
}

/** The list body from KV, else from the database (then cached with `putOptions`). */
export async function list(env, putOptions) {
  let cached = await env.PRODUCTS.get(LIST_KEY, { type: "json" });
  if (cached === null) {
    const rows = await fetchAll(env);
    cached = { data: rows, total: rows.length };
    await env.PRODUCTS.put(LIST_KEY, JSON.stringify(cached), putOptions);
  }
  return json(cached);
}

/** One product from KV, else from the database (then cached with `putOptions`). */
export async function item(env, id, putOptions) {
  let cached = await env.PRODUCTS.get(itemKey(id), { type: "json" });
  if (cached === null) {
    cached = { product: await fetchRow(env, id) };
    await env.PRODUCTS.put(itemKey(id), JSON.stringify(cached), putOptions);
  }
  if (cached.product === null) {
    return json({ error: "no such product" }, 404);
  }
  return json({ product: { ...cached.product, fetched_at: Date.now() } });
}

/** Routes GETs; `hook` handles the webhook. */
export async function route(request, env, hook, putOptions) {
  const { pathname } = new URL(request.url);
  try {
    if (request.method === "POST" && pathname === "/hooks/products") {
      return await hook(await request.json(), env);
    }
    if (request.method !== "GET") {
      return new Response("method not allowed", { status: 405 });
    }
    if (pathname === "/api/products") {
      return await list(env, putOptions);
    }
    const m = /^\/api\/products\/([^/]+)$/.exec(pathname);
    if (m) {
      return await item(env, decodeURIComponent(m[1]), putOptions);
    }
    return new Response("not found", { status: 404 });
  } catch (e) {
    return json({ error: String(e) }, 503);
  }
}
