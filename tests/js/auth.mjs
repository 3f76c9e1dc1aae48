// Drives supabase-js v2's Auth client (@supabase/auth-js) against the edgesim mock's /auth/v1.
// Run by crates/supabase/tests/supabase_js_auth.rs with SUPABASE_URL, SUPABASE_ANON_KEY and
// SUPABASE_SERVICE_ROLE_KEY set, after it created `profiles` (filled by a handle_new_user trigger
// on auth.users) and `notes` (RLS: auth.uid() = user_id). Exit code 0 means every check passed.
import assert from "node:assert/strict";
import { createClient, AuthApiError, AuthWeakPasswordError } from "@supabase/supabase-js";
import WebSocket from "ws";
import { check, done } from "./check.mjs";

const url = process.env.SUPABASE_URL;
const key = process.env.SUPABASE_ANON_KEY;
const serviceKey = process.env.SUPABASE_SERVICE_ROLE_KEY;
assert.ok(url && key && serviceKey, "SUPABASE_URL, SUPABASE_ANON_KEY and SUPABASE_SERVICE_ROLE_KEY must be set");
const options = {
  realtime: { transport: WebSocket },
  auth: { persistSession: false, autoRefreshToken: false },
};
const supabase = createClient(url, key, options);
const admin = createClient(url, serviceKey, options);


const decode = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
let userId;

await check("signUp returns a session at once", async () => {
  const { data, error } = await supabase.auth.signUp({
    email: "ann@example.com",
    password: "secret123",
    options: { data: { username: "ann" } },
  });
  assert.equal(error, null);
  assert.ok(data.session, "a session (confirmations are off)");
  assert.equal(data.user.email, "ann@example.com");
  assert.equal(data.user.user_metadata.username, "ann");
  userId = data.user.id;
  const claims = decode(data.session.access_token);
  assert.equal(claims.sub, userId);
  assert.equal(claims.role, "authenticated");
  assert.equal(claims.exp - claims.iat, 3600);
});

await check("handle_new_user made the profile; RLS sees the user", async () => {
  const { data, error } = await supabase.from("profiles").select("id, username");
  assert.equal(error, null);
  assert.deepEqual(data, [{ id: userId, username: "ann" }]);
  const ins = await supabase.from("notes").insert({ body: "mine" }).select("user_id, body");
  assert.equal(ins.error, null);
  assert.deepEqual(ins.data, [{ user_id: userId, body: "mine" }]);
});

await check("signUp with a taken email: AuthApiError user_already_exists", async () => {
  const { data, error } = await supabase.auth.signUp({ email: "ann@example.com", password: "secret123" });
  assert.ok(error instanceof AuthApiError, String(error));
  assert.equal(error.status, 422);
  assert.equal(error.code, "user_already_exists");
  assert.equal(error.message, "User already registered");
  assert.equal(data.user, null);
});

await check("signUp with a short password: AuthWeakPasswordError", async () => {
  const { error } = await supabase.auth.signUp({ email: "bob@example.com", password: "123" });
  assert.ok(error instanceof AuthWeakPasswordError, String(error));
  assert.equal(error.status, 422);
  assert.equal(error.code, "weak_password");
  assert.deepEqual(error.reasons, ["length"]);
});

await check("signOut, then signInWithPassword", async () => {
  const out = await supabase.auth.signOut();
  assert.equal(out.error, null);
  const { data, error } = await supabase.auth.signInWithPassword({ email: "ann@example.com", password: "secret123" });
  assert.equal(error, null);
  assert.equal(data.user.id, userId);
  assert.equal(data.session.token_type, "bearer");
});

await check("wrong password: AuthApiError 400 invalid_credentials", async () => {
  const { data, error } = await createClient(url, key, options).auth.signInWithPassword({
    email: "ann@example.com",
    password: "wrong-password",
  });
  assert.ok(error instanceof AuthApiError, String(error));
  assert.equal(error.status, 400);
  assert.equal(error.code, "invalid_credentials");
  assert.equal(error.message, "Invalid login credentials");
  assert.equal(data.session, null);
});

await check("getUser", async () => {
  const { data, error } = await supabase.auth.getUser();
  assert.equal(error, null);
  assert.equal(data.user.id, userId);
  assert.equal(data.user.email, "ann@example.com");
});

await check("updateUser merges user_metadata", async () => {
  const { data, error } = await supabase.auth.updateUser({ data: { theme: "dark" } });
  assert.equal(error, null);
  assert.equal(data.user.user_metadata.theme, "dark");
  assert.equal(data.user.user_metadata.username, "ann");
});

await check("refreshSession rotates the refresh token", async () => {
  const before = (await supabase.auth.getSession()).data.session;
  const { data, error } = await supabase.auth.refreshSession();
  assert.equal(error, null);
  assert.notEqual(data.session.refresh_token, before.refresh_token);
  assert.equal(decode(data.session.access_token).session_id, decode(before.access_token).session_id);
});

await check("admin.createUser with email_confirm, then sign in", async () => {
  const { data, error } = await admin.auth.admin.createUser({
    email: "carol@example.com",
    password: "secret123",
    email_confirm: true,
    user_metadata: { username: "carol" },
  });
  assert.equal(error, null);
  assert.ok(data.user.email_confirmed_at);
  const signIn = await createClient(url, key, options).auth.signInWithPassword({
    email: "carol@example.com",
    password: "secret123",
  });
  assert.equal(signIn.error, null);
});

await check("admin.listUsers pages", async () => {
  const { data, error } = await admin.auth.admin.listUsers({ page: 1, perPage: 1 });
  assert.equal(error, null);
  assert.equal(data.users.length, 1);
  assert.equal(data.total, 2);
  assert.equal(data.nextPage, 2);
  assert.equal(data.lastPage, 2);
  const all = await admin.auth.admin.listUsers();
  assert.deepEqual(all.data.users.map((u) => u.email).sort(), ["ann@example.com", "carol@example.com"]);
});

await check("admin with the anon key: AuthApiError not_admin", async () => {
  const { error } = await createClient(url, key, options).auth.admin.listUsers();
  assert.ok(error instanceof AuthApiError, String(error));
  assert.equal(error.status, 403);
  assert.equal(error.code, "not_admin");
});

await check("admin.deleteUser cascades to profiles and notes", async () => {
  const { error } = await admin.auth.admin.deleteUser(userId);
  assert.equal(error, null);
  const profiles = await admin.from("profiles").select("username");
  assert.deepEqual(profiles.data, [{ username: "carol" }]);
  const notes = await admin.from("notes").select("id");
  assert.deepEqual(notes.data, []);
  const gone = await admin.auth.admin.getUserById(userId);
  assert.ok(gone.error instanceof AuthApiError, String(gone.error));
  assert.equal(gone.error.status, 404);
  assert.equal(gone.error.code, "user_not_found");
});

done();
