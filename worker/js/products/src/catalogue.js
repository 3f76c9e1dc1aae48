// The shared part of both variants: PostgREST reads, KV keys, JSON responses.
//   GET /api/products                   -> { "data": [...rows by id], "total": n }  (KV key "products:list")
//   GET /api/products?page=N            -> { "data": [2 rows of page N], "page": N, "total": n }
//                                          (a slice of "products:list")
//   GET /api/products/:id               -> { "product": {...row, "fetched_at": ms} } or 404
//                                          (KV key "product:{id}", value { "product": row | null })
//   GET /api/categories                 -> { "categories": [...rows by slug] }  (KV key "categories:list")
//   GET /api/categories/:slug           -> { "category": row } or 404 (from "categories:list")
//   GET /api/categories/:slug/products  -> { "data": [...rows of that category, by id] }
//                                          (filtered from "products:list")
//   POST /hooks/products                -> the products Database Webhook (the variants differ here)
//   POST /hooks/categories              -> the categories Database Webhook

export const LIST_KEY = "products:list";
export const CATEGORIES_KEY = "categories:list";
export const PAGE_SIZE = 2;
export const itemKey = (id) => `product:${id}`;

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

export function json(body, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/** GETs PostgREST `query` on `table`; throws on a non-2xx answer. */
async function rest(env, table, query) {
  const res = await fetch(`${env.SUPABASE_URL}/rest/v1/${table}?${query}`, {
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

/** The product with `id`, or null. */
export async function fetchRow(env, id) {
  const rows = await rest(env, "products", `select=*&id=eq.${encodeURIComponent(id)}`);
  return rows[0] ?? null;
}

/** Every product, by id. */
export async function fetchAll(env) {
  return rest(env, "products", "select=*&order=id.asc");
}

/** Every category, by slug. */
export async function fetchCategories(env) {
  return rest(env, "categories", "select=*&order=slug.asc");
}

/** The list body from KV, else from the database (then cached with `putOptions`). */
async function cachedList(env, putOptions) {
  let cached = await env.PRODUCTS.get(LIST_KEY, { type: "json" });
  if (cached === null) {
    const rows = await fetchAll(env);
    cached = { data: rows, total: rows.length };
    await env.PRODUCTS.put(LIST_KEY, JSON.stringify(cached), putOptions);
  }
  return cached;
}

/** The whole list, or one page of it when the URL asks for `?page=N` (N from 1). */
export async function list(env, url, putOptions) {
  const cached = await cachedList(env, putOptions);
  const page = url.searchParams.get("page");
  if (page === null) {
    return json(cached);
  }
  const n = Number.parseInt(page, 10);
  if (!(n >= 1)) {
    return json({ error: "page must be 1 or more" }, 400);
  }
  const data = cached.data.slice((n - 1) * PAGE_SIZE, n * PAGE_SIZE);
  return json({ data, page: n, total: cached.total });
}

/** The products of one category, filtered from the cached list. */
export async function inCategory(env, slug, putOptions) {
  const cached = await cachedList(env, putOptions);
  return json({ data: cached.data.filter((p) => p.category === slug) });
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

/** The categories from KV, else from the database (then cached with `putOptions`). */
async function cachedCategories(env, putOptions) {
  let cached = await env.PRODUCTS.get(CATEGORIES_KEY, { type: "json" });
  if (cached === null) {
    cached = { categories: await fetchCategories(env) };
    await env.PRODUCTS.put(CATEGORIES_KEY, JSON.stringify(cached), putOptions);
  }
  return cached;
}

/** The categories webhook (the same in both variants): refetch and rewrite the list. */
async function categoriesHook(env, putOptions) {
  const rows = await fetchCategories(env);
  await env.PRODUCTS.put(CATEGORIES_KEY, JSON.stringify({ categories: rows }), putOptions);
  return json({ ok: true });
}

/** Routes GETs; `hook` handles the products webhook. */
export async function route(request, env, hook, putOptions) {
  const url = new URL(request.url);
  const { pathname } = url;
  try {
    if (request.method === "POST" && pathname === "/hooks/products") {
      return await hook(await request.json(), env);
    }
    if (request.method === "POST" && pathname === "/hooks/categories") {
      return await categoriesHook(env, putOptions);
    }
    if (request.method !== "GET") {
      return new Response("method not allowed", { status: 405 });
    }
    if (pathname === "/api/products") {
      return await list(env, url, putOptions);
    }
    if (pathname === "/api/categories") {
      return json(await cachedCategories(env, putOptions));
    }
    let m = /^\/api\/products\/([^/]+)$/.exec(pathname);
    if (m) {
      return await item(env, decodeURIComponent(m[1]), putOptions);
    }
    m = /^\/api\/categories\/([^/]+)\/products$/.exec(pathname);
    if (m) {
      return await inCategory(env, decodeURIComponent(m[1]), putOptions);
    }
    m = /^\/api\/categories\/([^/]+)$/.exec(pathname);
    if (m) {
      const slug = decodeURIComponent(m[1]);
      const { categories } = await cachedCategories(env, putOptions);
      const category = categories.find((c) => c.slug === slug);
      return category ? json({ category }) : json({ error: "no such category" }, 404);
    }
    return new Response("not found", { status: 404 });
  } catch (e) {
    return json({ error: String(e) }, 503);
  }
}
