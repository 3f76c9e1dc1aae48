// JSON in KV, as the course stores it: a value is written as its JSON text and read back
// with JSON.parse (a missing key reads as null).

/** The value stored under `key`, or null when there is none. */
export async function readFrom(namespace, key) {
  const text = await namespace.get(key);
  return JSON.parse(text);
}

/** Stores `value` under `key` as JSON text (no expiry, no metadata). */
export async function writeTo(namespace, key, value) {
  await namespace.put(key, JSON.stringify(value));
}
