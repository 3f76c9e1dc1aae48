// The correct products Worker: the webhook refetches the changed row and the whole list from the
// database (so a late or reordered delivery never writes an old payload) and rewrites both KV
// keys; every cached value also expires after five minutes, as a safety net for lost webhooks.
import { LIST_KEY, fetchAll, fetchRow, itemKey, route, json } from "./catalogue.js";

const PUT = { expirationTtl: 300 };

async function hook(payload, env) {
  const id = (payload.record ?? payload.old_record ?? {}).id;
  if (id !== undefined) {
    const row = await fetchRow(env, id);
    await env.PRODUCTS.put(itemKey(id), JSON.stringify({ product: row }), PUT);
  }
  const rows = await fetchAll(env);
  await env.PRODUCTS.put(LIST_KEY, JSON.stringify({ data: rows, total: rows.length }), PUT);
  return json({ ok: true });
}

export default {
  fetch(request, env) {
    return route(request, env, hook, PUT);
  },
};
