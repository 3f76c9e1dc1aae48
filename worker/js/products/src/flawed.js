// The flawed products Worker: the webhook refreshes the list but forgets the item key, and items
// are cached with no expiry, so `/api/products/:id` serves the first version it cached forever.
import { LIST_KEY, fetchAll, route, json } from "./catalogue.js";

async function hook(_payload, env) {
  const rows = await fetchAll(env);
  await env.PRODUCTS.put(LIST_KEY, JSON.stringify({ data: rows, total: rows.length }));
  return json({ ok: true });
}

export default {
  fetch(request, env) {
    return route(request, env, hook, {});
  },
};
