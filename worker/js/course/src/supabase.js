// One supabase-js v2 client per (URL, key), made on first use: vars are read at request time,
// never at module load (a build may snapshot the module's top level).
import { createClient } from "@supabase/supabase-js";

let client = null;
let clientFor = "";

/** The Supabase client for this Worker's SUPABASE_URL and SUPABASE_ANON_KEY. */
export function supabase(env) {
  const id = `${env.SUPABASE_URL} ${env.SUPABASE_ANON_KEY}`;
  if (client === null || clientFor !== id) {
    client = createClient(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, {
      // A Worker has no session to keep and must not leave refresh timers running.
      auth: { persistSession: false, autoRefreshToken: false },
    });
    clientFor = id;
  }
  return client;
}
