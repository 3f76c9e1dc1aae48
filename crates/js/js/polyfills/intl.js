// `Intl`, loaded on first use.
//
// The @formatjs polyfills and their locale and time-zone data (intl-load.js) make a snapshot
// about 25 MB larger when evaluated at build time, and most Workers never touch `Intl`. So
// `Intl`'s members, `Date.prototype.toLocale*String`, `Number.prototype.toLocaleString`,
// `BigInt.prototype.toLocaleString` and `String.prototype.localeCompare` start as stubs that
// evaluate intl-load.js once per instance and then hand over to the real functions. A Worker
// that uses `Intl` at its top level triggers the load during wizer's snapshot, so it is paid at
// build time there; otherwise the first use in each instance pays it once (measured in
// crates/js/README.md), and every later call costs nothing extra.

const Intl = globalThis.Intl;

const MEMBERS = [
  "getCanonicalLocales",
  "supportedValuesOf",
  "Locale",
  "PluralRules",
  "NumberFormat",
  "DateTimeFormat",
  "RelativeTimeFormat",
  "ListFormat",
  "Collator",
  "Segmenter",
];

const STUBBED = [
  [Date.prototype, "toLocaleString"],
  [Date.prototype, "toLocaleDateString"],
  [Date.prototype, "toLocaleTimeString"],
  [Number.prototype, "toLocaleString"],
  [BigInt.prototype, "toLocaleString"],
  [String.prototype, "localeCompare"],
];

let loaded = false;

/** Evaluates the polyfills (once): the stubs below are replaced by the real members. */
function load() {
  if (loaded) return;
  loaded = true;
  for (const name of MEMBERS) delete Intl[name];
  for (const [proto, name] of STUBBED) delete proto[name];
  // Restore what the engine had, so the polyfills see the same starting point as at build.
  for (const [proto, name, original] of originals) {
    if (original) Object.defineProperty(proto, name, original);
  }
  require("./intl-load.js");
}

const originals = STUBBED.map(([proto, name]) => [
  proto,
  name,
  Object.getOwnPropertyDescriptor(proto, name),
]);

for (const name of MEMBERS) {
  if (Object.prototype.hasOwnProperty.call(Intl, name)) continue;
  Object.defineProperty(Intl, name, {
    get() {
      load();
      return Intl[name];
    },
    set(value) {
      load();
      Object.defineProperty(Intl, name, { value, writable: true, configurable: true });
    },
    configurable: true,
    enumerable: false,
  });
}

for (const [proto, name] of STUBBED) {
  Object.defineProperty(proto, name, {
    value: {
      [name](...args) {
        load();
        return proto[name].apply(this, args);
      },
    }[name],
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
