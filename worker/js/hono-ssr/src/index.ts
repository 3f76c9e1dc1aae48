// A Hono 4 + @supabase/ssr Worker, written the way such projects are:
//
// - `env(c)` from `hono/adapter` reads the bindings (it tells the runtime apart by
//   `navigator.userAgent === "Cloudflare-Workers"`, and returns `{}` elsewhere);
// - `createServerClient` from `@supabase/ssr` keeps the user's session in cookies: `POST /login`
//   signs in with Supabase Auth and sets them, `GET /me` and `/notes` read them, so RLS sees the
//   user's own token;
// - `GET /articles` and `/articles/:id` cache public rows in KV, revalidated by the project's Database Webhook
//   (`POST /hooks/articles`), as the course Worker does.
import { Hono, type Context } from "hono";
import { env } from "hono/adapter";
import { getCookie, setCookie } from "hono/cookie";
import { createServerClient, type CookieOptions } from "@supabase/ssr";

type Bindings = {
  CACHE: KVNamespace;
  SUPABASE_URL: string;
  SUPABASE_ANON_KEY: string;
  WEBHOOK_SECRET: string;
};

type Article = { id: number; [column: string]: unknown };

const LIST_KEY = "/articles";
const rowKey = (id: number | string) => `/articles/${id}`;

/** Reads every article again and caches the list (the webhook does this after each change). */
async function refreshList(c: Context<{ Bindings: Bindings }>): Promise<Article[]> {
  const { data, error } = await supabase(c).from("articles").select("*").order("id");
  if (error) throw new Error(`select articles: ${error.message}`);
  await c.env.CACHE.put(LIST_KEY, JSON.stringify(data));
  return data as Article[];
}

/** A Supabase client bound to this request's cookies, as @supabase/ssr's docs write it. */
function supabase(c: Context<{ Bindings: Bindings }>) {
  const { SUPABASE_URL, SUPABASE_ANON_KEY } = env<Bindings>(c);
  if (!SUPABASE_URL || !SUPABASE_ANON_KEY) {
    throw new Error("SUPABASE_URL / SUPABASE_ANON_KEY missing: env(c) found no bindings");
  }
  return createServerClient(SUPABASE_URL, SUPABASE_ANON_KEY, {
    cookies: {
      getAll() {
        return Object.entries(getCookie(c)).map(([name, value]) => ({ name, value }));
      },
      setAll(cookies: { name: string; value: string; options: CookieOptions }[]) {
        for (const { name, value, options } of cookies) {
          setCookie(c, name, value, { ...options, sameSite: "Lax" } as Parameters<typeof setCookie>[3]);
        }
      },
    },
  });
}

const app = new Hono<{ Bindings: Bindings }>();

app.get("/", (c) => c.text("hono-ssr\n"));

// Which runtime hono/adapter believes it runs on, and whether it found the bindings.
app.get("/runtime", (c) => {
  const vars = env<Bindings>(c);
  return c.json({
    userAgent: typeof navigator === "undefined" ? null : navigator.userAgent,
    hasSupabaseUrl: typeof vars.SUPABASE_URL === "string",
  });
});

app.post("/login", async (c) => {
  const { email, password } = await c.req.json<{ email: string; password: string }>();
  const { data, error } = await supabase(c).auth.signInWithPassword({ email, password });
  if (error) return c.json({ error: error.message, code: error.code ?? null }, error.status ?? 400);
  return c.json({ user: data.user.email });
});

app.get("/me", async (c) => {
  const { data, error } = await supabase(c).auth.getUser();
  if (error || !data.user) return c.json({ user: null }, 401);
  return c.json({ user: data.user.email });
});

app.get("/notes", async (c) => {
  const { data, error } = await supabase(c).from("notes").select("body").order("id");
  if (error) return c.json({ error: error.message }, 500);
  return c.json(data);
});

app.post("/notes", async (c) => {
  const { body } = await c.req.json<{ body: string }>();
  const { error } = await supabase(c).from("notes").insert({ body });
  if (error) return c.json({ error: error.message, code: error.code }, 403);
  return c.json({ ok: true }, 201);
});

app.get("/articles", async (c) => {
  const cached = await c.env.CACHE.get<Article[]>(LIST_KEY, "json");
  if (cached) return c.json(cached, 200, { "x-kv": "hit" });
  const { data, error } = await supabase(c).from("articles").select("*").order("id");
  if (error) return c.json({ error: error.message }, 500);
  c.executionCtx.waitUntil(c.env.CACHE.put(LIST_KEY, JSON.stringify(data)));
  return c.json(data, 200, { "x-kv": "miss" });
});

app.get("/articles/:id", async (c) => {
  const id = c.req.param("id");
  const cached = await c.env.CACHE.get<Article>(rowKey(id), "json");
  if (cached) return c.json(cached, 200, { "x-kv": "hit" });
  const { data, error } = await supabase(c).from("articles").select("*").eq("id", id).maybeSingle();
  if (error) return c.json({ error: error.message }, 500);
  if (data) c.executionCtx.waitUntil(c.env.CACHE.put(rowKey(id), JSON.stringify(data)));
  return c.json(data, 200, { "x-kv": "miss" });
});

// The project's Database Webhook (supabase/migrations/..._articles_webhook.sql) posts here.
app.post("/hooks/articles", async (c) => {
  if (c.req.header("x-webhook-secret") !== env<Bindings>(c).WEBHOOK_SECRET) {
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
      await refreshList(c);
    })(),
  );
  return c.json({ received: true, type: payload.type });
});

app.notFound((c) => c.text("Not found", 404));

export default app;
