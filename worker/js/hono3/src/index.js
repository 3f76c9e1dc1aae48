// A Hono 3 Worker with the course's routes over KV (revalidated by its Database Webhook) and a
// slug helper as blogs write it: `normalize("NFKD")`, then regex Unicode property escapes.
import { Hono } from "hono";

const LIST_KEY = "/articles";
const rowKey = (id) => `/articles/${id}`;

/** "Crème Brûlée à Zürich!" -> "creme-brulee-a-zurich" */
export function slugify(title) {
  return title
    .normalize("NFKD")
    .replace(/\p{Diacritic}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "");
}

function rest(env, query) {
  return fetch(`${env.SUPABASE_URL}/rest/v1/articles?${query}`, {
    headers: { apikey: env.SUPABASE_ANON_KEY, authorization: `Bearer ${env.SUPABASE_ANON_KEY}` },
  }).then(async (r) => {
    if (!r.ok) throw new Error(`PostgREST answered ${r.status}: ${await r.text()}`);
    return r.json();
  });
}

const app = new Hono();

app.get("/", (c) => c.text("hono3\n"));

app.get("/slug/:title", (c) => c.json({ slug: slugify(decodeURIComponent(c.req.param("title"))) }));

app.get("/articles", async (c) => {
  const cached = await c.env.CACHE.get(LIST_KEY, "json");
  if (cached) return c.json(cached, 200, { "x-kv": "hit" });
  const rows = await rest(c.env, "select=*&order=id");
  c.executionCtx.waitUntil(c.env.CACHE.put(LIST_KEY, JSON.stringify(rows)));
  return c.json(rows, 200, { "x-kv": "miss" });
});

app.get("/articles/:id{[0-9]+}", async (c) => {
  const id = c.req.param("id");
  const cached = await c.env.CACHE.get(rowKey(id), "json");
  if (cached) return c.json(cached, 200, { "x-kv": "hit" });
  const [row] = await rest(c.env, `select=*&id=eq.${id}`);
  if (row) c.executionCtx.waitUntil(c.env.CACHE.put(rowKey(id), JSON.stringify(row)));
  return c.json(row ?? null, 200, { "x-kv": "miss" });
});

app.post("/hooks/articles", async (c) => {
  if (c.req.header("x-webhook-secret") !== c.env.WEBHOOK_SECRET) {
    return c.json({ error: "bad secret" }, 401);
  }
  const payload = await c.req.json();
  c.executionCtx.waitUntil(
    (async () => {
      if (payload.type === "DELETE" && payload.old_record) {
        await c.env.CACHE.delete(rowKey(payload.old_record.id));
      } else if (payload.record) {
        await c.env.CACHE.put(rowKey(payload.record.id), JSON.stringify(payload.record));
      }
      await c.env.CACHE.put(LIST_KEY, JSON.stringify(await rest(c.env, "select=*&order=id")));
    })(),
  );
  return c.json({ received: true, type: payload.type });
});

app.notFound((c) => c.text("Not found", 404));

export default app;
