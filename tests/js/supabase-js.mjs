// Drives the official @supabase/supabase-js v2 client against the edgesim mock Supabase.
// Run by crates/supabase/tests/supabase_js.rs with SUPABASE_URL and SUPABASE_ANON_KEY set, after it
// created the `people` table. Every check throws on a mismatch; exit code 0 means all passed.
import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import WebSocket from "ws";
import { check, done } from "./check.mjs";

const url = process.env.SUPABASE_URL;
const key = process.env.SUPABASE_ANON_KEY;
assert.ok(url && key, "SUPABASE_URL and SUPABASE_ANON_KEY must be set");
// Node 20 has no global WebSocket; supabase-js builds its realtime client eagerly.
const options = { realtime: { transport: WebSocket }, auth: { persistSession: false } };
const supabase = createClient(url, key, options);


const people = () => supabase.from("people");

await check("select *", async () => {
  const { data, error, status } = await people().select("*").order("id");
  assert.equal(error, null);
  assert.equal(status, 200);
  assert.equal(data.length, 5);
  assert.deepEqual(Object.keys(data[0]), ["id", "name", "slug", "age", "active"]);
});

await check("select columns + eq", async () => {
  const { data, error } = await people().select("id, name").eq("id", 2);
  assert.equal(error, null);
  assert.deepEqual(data, [{ id: 2, name: "bob" }]);
});

await check("in with quoted values", async () => {
  const { data, error } = await people().select("id").in("name", ["zeta,comma", "Eta (paren)"]).order("id");
  assert.equal(error, null);
  assert.deepEqual(data, [{ id: 4 }, { id: 5 }]);
});

await check("or", async () => {
  const { data, error } = await people().select("id").or("age.lt.18,name.eq.bob").order("id");
  assert.equal(error, null);
  assert.deepEqual(data, [{ id: 2 }, { id: 3 }]);
});

await check("order desc nullsFirst:false", async () => {
  const { data, error } = await people().select("id").order("age", { ascending: false, nullsFirst: false });
  assert.equal(error, null);
  assert.deepEqual(data.map((r) => r.id), [4, 1, 5, 3, 2]);
});

await check("range", async () => {
  const { data, error } = await people().select("id").order("id").range(2, 4);
  assert.equal(error, null);
  assert.deepEqual(data, [{ id: 3 }, { id: 4 }, { id: 5 }]);
});

await check("single", async () => {
  const { data, error } = await people().select("name").eq("id", 1).single();
  assert.equal(error, null);
  assert.deepEqual(data, { name: "Alice" });
  const many = await people().select("name").single();
  assert.equal(many.status, 406);
  assert.equal(many.error.code, "PGRST116");
  assert.equal(many.data, null);
});

await check("maybeSingle", async () => {
  const none = await people().select("name").eq("id", 99).maybeSingle();
  assert.equal(none.error, null);
  assert.equal(none.data, null);
  const one = await people().select("name").eq("id", 2).maybeSingle();
  assert.deepEqual(one.data, { name: "bob" });
});

await check("count with head", async () => {
  const { count, data, error, status } = await people().select("*", { count: "exact", head: true });
  assert.equal(error, null);
  assert.equal(status, 200);
  assert.equal(count, 5);
  assert.equal(data, null);
  const partial = await people().select("id", { count: "exact" }).limit(2);
  assert.equal(partial.status, 206);
  assert.equal(partial.count, 5);
  assert.equal(partial.data.length, 2);
});

await check("insert", async () => {
  const { data, error, status } = await people()
    .insert([{ name: "Gus", slug: "gus", age: 50 }, { name: "Hal", slug: "hal" }], { defaultToNull: false })
    .select("id, name, age, active");
  assert.equal(error, null);
  assert.equal(status, 201);
  assert.deepEqual(data, [
    { id: 6, name: "Gus", age: 50, active: true },
    { id: 7, name: "Hal", age: null, active: true },
  ]);
  const plain = await people().insert({ name: "Ivy", slug: "ivy" });
  assert.equal(plain.error, null);
  assert.equal(plain.status, 201);
  assert.equal(plain.data, null);
});

await check("upsert", async () => {
  const { data, error } = await people().upsert({ name: "Gus II", slug: "gus", age: 51 }, { onConflict: "slug" }).select("id, name, age");
  assert.equal(error, null);
  assert.deepEqual(data, [{ id: 6, name: "Gus II", age: 51 }]);
  const ignored = await people().upsert({ name: "nobody", slug: "hal" }, { onConflict: "slug", ignoreDuplicates: true }).select();
  assert.equal(ignored.error, null);
  assert.deepEqual(ignored.data, []);
});

await check("update", async () => {
  const { data, error, status } = await people().update({ name: "cool bob" }).eq("id", 2).select("id, name");
  assert.equal(error, null);
  assert.equal(status, 200);
  assert.deepEqual(data, [{ id: 2, name: "cool bob" }]);
  const unfiltered = await people().update({ name: "x" });
  assert.equal(unfiltered.status, 400);
  assert.equal(unfiltered.error.code, "21000");
  assert.equal(unfiltered.error.message, "UPDATE requires a WHERE clause");
});

await check("delete", async () => {
  const { error, status } = await people().delete().eq("slug", "ivy");
  assert.equal(error, null);
  assert.equal(status, 204);
  const gone = await people().select("id").eq("slug", "ivy");
  assert.deepEqual(gone.data, []);
});

await check("errors: unknown table and column", async () => {
  const t = await supabase.from("peoples").select("*");
  assert.equal(t.status, 404);
  assert.equal(t.error.code, "PGRST205");
  assert.equal(t.error.hint, "Perhaps you meant the table 'public.people'");
  const c = await people().select("nope");
  assert.equal(c.status, 400);
  assert.equal(c.error.code, "42703");
});

await check("auth failure", async () => {
  const bad = createClient(url, "not-a-key", options);
  const { data, error, status } = await bad.from("people").select("*");
  assert.equal(status, 401);
  assert.equal(data, null);
  assert.equal(error.message, "Invalid API key");
  const forged = createClient(url, key, { ...options, global: { headers: { Authorization: "Bearer a.b.c" } } });
  const f = await forged.from("people").select("*");
  assert.equal(f.status, 401);
  assert.equal(f.error.code, "PGRST301");
});

// --- Row level security: anon and an authenticated user on the same table (`rls_notes`, created
// by supabase_js.rs with SUPABASE_USER_JWT / SUPABASE_USER_ID / SUPABASE_OTHER_ID set).
{
  const userId = process.env.SUPABASE_USER_ID;
  const otherId = process.env.SUPABASE_OTHER_ID;
  const asUser = createClient(url, key, {
    ...options,
    global: { headers: { Authorization: `Bearer ${process.env.SUPABASE_USER_JWT}` } },
  });
  const rlsDenied = 'new row violates row-level security policy for table "rls_notes"';

  await check("rls: anon reads only published rows", async () => {
    const { data, error } = await supabase.from("rls_notes").select("id").order("id");
    assert.equal(error, null);
    assert.deepEqual(data, [{ id: 1 }]);
  });

  await check("rls: a signed-in user also reads their own drafts", async () => {
    const { data, error } = await asUser.from("rls_notes").select("id, owner").order("id");
    assert.equal(error, null);
    assert.deepEqual(data, [{ id: 1, owner: userId }, { id: 2, owner: userId }]);
  });

  await check("rls: anon writes are refused with 401 42501", async () => {
    const { data, error, status } = await supabase.from("rls_notes").insert({ body: "anon" });
    assert.equal(status, 401);
    assert.equal(data, null);
    assert.equal(error.code, "42501");
    assert.equal(error.message, rlsDenied);
  });

  await check("rls: a user inserts their own row and reads it back", async () => {
    const { data, error, status } = await asUser.from("rls_notes").insert({ body: "mine" }).select("owner, body");
    assert.equal(error, null);
    assert.equal(status, 201);
    assert.deepEqual(data, [{ owner: userId, body: "mine" }]);
    const forged = await asUser.from("rls_notes").insert({ body: "theirs", owner: otherId });
    assert.equal(forged.status, 403);
    assert.equal(forged.error.code, "42501");
    assert.equal(forged.error.message, rlsDenied);
  });

  await check("rls: updates reach only the user's rows", async () => {
    const other = await asUser.from("rls_notes").update({ published: true }).eq("id", 3).select("id");
    assert.equal(other.error, null);
    assert.deepEqual(other.data, []);
    const own = await asUser.from("rls_notes").update({ published: true }).eq("id", 2).select("id, published");
    assert.equal(own.error, null);
    assert.deepEqual(own.data, [{ id: 2, published: true }]);
    const { data } = await supabase.from("rls_notes").select("id").order("id");
    assert.deepEqual(data, [{ id: 1 }, { id: 2 }]);
  });
}

// ---- Resource embedding (books, authors, genres; created by supabase_js.rs EMBED_SCHEMA) ----

await check("embed: many-to-one with hint and alias, one-to-many", async () => {
  const { data, error } = await supabase.from("books").select("title, author:authors!author_id(name)").order("id");
  assert.equal(error, null);
  assert.deepEqual(data, [
    { title: "Dune", author: { name: "Herbert" } },
    { title: "Emma", author: { name: "Austen" } },
    { title: "Anonymous", author: null },
  ]);
  const many = await supabase.from("authors").select("name, books!author_id(title)").order("id").order("id", { referencedTable: "books" });
  assert.equal(many.error, null);
  assert.deepEqual(many.data, [
    { name: "Herbert", books: [{ title: "Dune" }] },
    { name: "Austen", books: [{ title: "Emma" }] },
  ]);
});

await check("embed: many-to-many, !inner, referenced filters/order/limit", async () => {
  const { data, error } = await supabase
    .from("books")
    .select("title, genres!inner(name)")
    .eq("genres.name", "classic")
    .order("id");
  assert.equal(error, null);
  assert.deepEqual(data, [{ title: "Emma", genres: [{ name: "classic" }] }]);
  const limited = await supabase
    .from("books")
    .select("title, genres(name)")
    .order("name", { referencedTable: "genres", ascending: false })
    .limit(1, { referencedTable: "genres" })
    .eq("id", 1);
  assert.equal(limited.error, null);
  assert.deepEqual(limited.data, [{ title: "Dune", genres: [{ name: "space" }] }]);
});

await check("embed: spread and nesting", async () => {
  const { data, error } = await supabase.from("book_genres").select("...books(title), genres(name)").eq("book_id", 2).single();
  assert.equal(error, null);
  assert.deepEqual(data, { title: "Emma", genres: { name: "classic" } });
});

await check("embed: PGRST200 and PGRST201 errors", async () => {
  const missing = await supabase.from("books").select("*, publishers(*)");
  assert.equal(missing.status, 400);
  assert.equal(missing.error.code, "PGRST200");
  const ambiguous = await supabase.from("books").select("*, authors(*)");
  assert.equal(ambiguous.status, 300);
  assert.equal(ambiguous.error.code, "PGRST201");
  assert.equal(ambiguous.error.details.length, 2);
});

await check("embed: a write's representation embeds (insert/delete .select with a relation)", async () => {
  const ins = await supabase
    .from("books")
    .insert({ title: "Persuasion", author_id: 2 })
    .select("title, author:authors!author_id(name), genres(name)")
    .single();
  assert.equal(ins.error, null);
  assert.equal(ins.status, 201);
  assert.deepEqual(ins.data, { title: "Persuasion", author: { name: "Austen" }, genres: [] });
  const del = await supabase.from("books").delete().eq("title", "Persuasion").select("title, authors!author_id(name)");
  assert.equal(del.error, null);
  assert.deepEqual(del.data, [{ title: "Persuasion", authors: { name: "Austen" } }]);
});

// ---- end of resource embedding ----

// --- rpc and an error raised by a trigger (functions, PL/pgSQL, triggers) ---
await check("rpc: scalar, setof with filters, GET, PGRST202", async () => {
  const sum = await supabase.rpc("add_them", { a: 20, b: 22 });
  assert.equal(sum.error, null);
  assert.equal(sum.data, 42);
  const older = await supabase.rpc("people_older_than", { min_age: 20 }).select("name").lt("age", 40).order("age");
  assert.equal(older.error, null);
  assert.deepEqual(older.data, [{ name: "Eta (paren)" }, { name: "Alice" }]);
  const viaGet = await supabase.rpc("add_them", { a: 1, b: 2 }, { get: true });
  assert.equal(viaGet.error, null);
  assert.equal(viaGet.data, 3);
  const missing = await supabase.rpc("no_such_fn", { x: 1 });
  assert.equal(missing.status, 404);
  assert.equal(missing.error.code, "PGRST202");
  assert.equal(missing.error.message, "Could not find the function public.no_such_fn(x) in the schema cache");
});

await check("error from a trigger rolls the insert back", async () => {
  const { data, error, status } = await people().insert({ name: "forbidden", slug: "nope" }).select();
  assert.equal(status, 400);
  assert.equal(data, null);
  assert.equal(error.code, "P0001");
  assert.equal(error.message, "name forbidden is not allowed");
  assert.equal(error.hint, "pick another name");
  const none = await people().select("id").eq("slug", "nope");
  assert.equal(none.error, null);
  assert.deepEqual(none.data, []);
});
// --- end of rpc and trigger checks ---

done();
