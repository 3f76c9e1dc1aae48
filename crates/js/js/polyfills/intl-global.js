// The engine is built without ICU and has no `Intl` at all: an empty namespace for the
// @formatjs polyfills (intl.js) to install into. Imported first (module imports are hoisted).
if (typeof globalThis.Intl === "undefined") {
  const Intl = {};
  Object.defineProperty(Intl, Symbol.toStringTag, { value: "Intl", configurable: true });
  Object.defineProperty(globalThis, "Intl", {
    value: Intl,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
