// The check runner the supabase-js scripts share: each check prints `ok - name`, a failing one
// prints its stack and exits 1; `done()` prints how many passed.
let checks = 0;

export async function check(name, fn) {
  try {
    await fn();
    checks += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    console.error(`FAILED - ${name}\n${e.stack ?? e}`);
    process.exit(1);
  }
}

export function done() {
  console.log(`all ${checks} checks passed`);
}
