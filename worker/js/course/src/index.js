// Articles from Supabase, cached in Workers KV, refreshed by Supabase Database Webhooks.
//
// GET  /articles        the list: from KV, else from Supabase (then stored in KV)
// GET  /articles/:id    one row, the same way
// GET  /revalidate      refetch the list into KV
// POST /revalidate      a Database Webhook: answered at once, the KV work runs in waitUntil
// GET  /read-kv         the stored list, as is
// GET  /write-kv        store a fixed two-item list
import { Router } from "itty-router";
import { readFrom, writeTo } from "./kv.js";
import { supabase } from "./supabase.js";

const LIST_KEY = "/articles";
const rowKey = (id) => `/articles/${id}`;

function json(value, kvStatus) {
  const headers = { "content-type": "application/json" };
  if (kvStatus) headers["x-kv"] = kvStatus;
  return new Response(JSON.stringify(value), { headers });
}

async function fetchAll(env) {
  const { data } = await supabase(env).from("articles").select("*");
  await writeTo(env.ARTICLES, LIST_KEY, data);
  return data;
}

async function applyWebhook(env, body) {
  const { type, record, old_record } = JSON.parse(body);
  if (type === "INSERT" || type === "UPDATE") {
    await writeTo(env.ARTICLES, rowKey(record.id), record);
  } else if (type === "DELETE") {
    await env.ARTICLES.delete(rowKey(old_record.id));
  }
  await fetchAll(env);
}

const router = Router();

router.get("/hello", () => new Response("ok"));

router.get("/articles", async (request, env) => {
  const cached = await readFrom(env.ARTICLES, LIST_KEY);
  if (cached) return json(cached, "hit");
  return json(await fetchAll(env), "miss");
});

router.get("/articles/:id", async ({ params }, env) => {
  const key = rowKey(params.id);
  const cached = await readFrom(env.ARTICLES, key);
  if (cached) return json(cached, "hit");
  const { data } = await supabase(env)
    .from("articles")
    .select("*")
    .match({ id: params.id })
    .single();
  await writeTo(env.ARTICLES, key, data);
  return json(data, "miss");
});

router.get("/revalidate", async (request, env) => {
  await fetchAll(env);
  return json({ received: true });
});

router.post("/revalidate", async (request, env, ctx) => {
  const body = await request.text();
  ctx.waitUntil(applyWebhook(env, body));
  return json({ received: true });
});

router.get("/read-kv", async (request, env) => json(await readFrom(env.ARTICLES, LIST_KEY)));

router.get("/write-kv", async (request, env) => {
  const sample = [
    { id: 1, title: "first blog" },
    { id: 2, title: "second blog" },
  ];
  await writeTo(env.ARTICLES, LIST_KEY, sample);
  return json(sample);
});

router.all("*", () => new Response("Not found", { status: 404 }));

export default {
  fetch: (request, env, ctx) => router.handle(request, env, ctx),
};
