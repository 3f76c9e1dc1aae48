// A whole project's Worker: Hono routes over a KV cache of Supabase rows, revalidated by the
// project's own Database Webhook (`/hooks/articles`) and refreshed by a Cron Trigger, plus a
// third-party API (exchange rates) that edgesim answers from an outbound rule.
import { Hono } from "hono";
import { createClient } from "@supabase/supabase-js";

type Env = {
  CACHE: KVNamespace;
  SUPABASE_URL: string;
  SUPABASE_SERVICE_ROLE_KEY: string;
  WEBHOOK_SECRET: string;
  CACHE_TTL: number;
  FEATURES: { rates: boolean };
  ENVIRONMENT: string;
  RATES_URL: string;
};

type Article = { id: number; [column: string]: unknown };

const LIST_KEY = "/articles";
const rowKey = (id: number | string) => `/articles/${id}`;

function db(env: Env) {
  return createClient(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY, {
    auth: { persistSession: false },
  });
}

async function allArticles(env: Env): Promise<Article[]> {
  const { data, error } = await db(env).from("articles").select("*").order("id");
  if (error) throw new Error(`select articles: ${error.message}`);
  return data as Article[];
}

async function oneArticle(env: Env, id: string): Promise<Article | null> {
  const { data, error } = await db(env).from("articles").select("*").eq("id", id).maybeSingle();
  if (error) throw new Error(`select article ${id}: ${error.message}`);
  return data as Article | null;
}

/** Reads the whole table again and caches it (the webhook and the cron both do this). */
async function refreshList(env: Env): Promise<Article[]> {
  const rows = await allArticles(env);
  await env.CACHE.put(LIST_KEY, JSON.stringify(rows));
  return rows;
}

const app = new Hono<{ Bindings: Env }>();

app.get("/articles", async (c) => {
  const cached = await c.env.CACHE.get<Article[]>(LIST_KEY, { type: "json", cacheTtl: c.env.CACHE_TTL });
  if (cached) return c.json(cached, 200, { "x-kv": "hit" });
  const rows = await allArticles(c.env);
  c.executionCtx.waitUntil(c.env.CACHE.put(LIST_KEY, JSON.stringify(rows)));
  return c.json(rows, 200, { "x-kv": "miss" });
});

app.get("/articles/:id", async (c) => {
  const id = c.req.param("id");
  const cached = await c.env.CACHE.get<Article>(rowKey(id), { type: "json", cacheTtl: c.env.CACHE_TTL });
  if (cached) return c.json(cached, 200, { "x-kv": "hit" });
  const row = await oneArticle(c.env, id);
  if (row) c.executionCtx.waitUntil(c.env.CACHE.put(rowKey(id), JSON.stringify(row)));
  return c.json(row, 200, { "x-kv": "miss" });
});

// The project's Database Webhook (supabase/migrations/..._webhook.sql) posts here.
app.post("/hooks/articles", async (c) => {
  if (c.req.header("x-webhook-secret") !== c.env.WEBHOOK_SECRET) {
    return c.json({ error: "bad secret" }, 401);
  }
  const payload = await c.req.json<{ type: string; record: Article | null; old_record: Article | null }>();
  c.executionCtx.waitUntil(
    (async () => {
      if (payload.type === "DELETE" && payload.old_record) {
        await c.env.CACHE.delete(rowKey(payload.old_record.id));
      } else if (payload.record) {
        await c.env.CACHE.put(rowKey(payload.record.id), JSON.stringify(payload.record));
      }
      await refreshList(c.env);
    })(),
  );
  return c.json({ received: true, type: payload.type });
});

// A third-party API: edgesim answers it from the [[outbound]] rule in edgesim.toml.
app.get("/rates", async (c) => {
  if (!c.env.FEATURES.rates) return c.json({ error: "rates are off" }, 404);
  const resp = await fetch(c.env.RATES_URL);
  if (!resp.ok) return c.json({ error: `rates API answered ${resp.status}` }, 502);
  return c.json(await resp.json());
});

// What the Worker was configured with (vars keep their JSON types, as in production).
app.get("/config", (c) =>
  c.json({
    environment: c.env.ENVIRONMENT,
    cacheTtl: c.env.CACHE_TTL,
    cacheTtlType: typeof c.env.CACHE_TTL,
    features: c.env.FEATURES,
  }),
);

app.get("/cron/last", async (c) => c.json(await c.env.CACHE.get("cron:last", { type: "json" })));

app.notFound((c) => c.text("Not found", 404));

export default {
  fetch: app.fetch,
  // The Cron Trigger in wrangler.toml: refresh the cached list and say when it ran.
  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(
      (async () => {
        const rows = await refreshList(env);
        await env.CACHE.put(
          "cron:last",
          JSON.stringify({ cron: controller.cron, scheduledTime: controller.scheduledTime, rows: rows.length }),
        );
      })(),
    );
  },
};
