// `Intl`, evaluated at build (wizer's snapshot) when the Worker may use it.
//
// The build (driver.mjs) resolves `@edgesim/intl` in index.js to this file when the Worker's
// bundle (its code and packages) mentions `Intl`, `toLocaleString`, `toLocaleDateString`,
// `toLocaleTimeString` or `localeCompare`, and to intl-none.js otherwise. The @formatjs code and
// data make the component about 55 MB larger with the warm-up below (13 MB to 69 MB), so a
// Worker that never formats does not carry them; one that does gets them snapshotted, ready at
// the first request (loading them at run time instead took 5 to 10 s of the first request of
// each instance).
import "./intl-global.js";
import "./intl-load.js";

// Warm-up at the snapshot: the first format in a locale or time zone fills @formatjs caches
// (parsed patterns, resolved locale data, a zone's transitions) that would otherwise cost the
// first request of every instance.
for (const locale of ["en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP"]) {
  for (const timeZone of ["UTC", "America/New_York", "America/Los_Angeles", "Europe/London",
    "Europe/Berlin", "Europe/Paris", "Asia/Tokyo"]) {
    new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "long", timeZone }).format(0);
  }
  new Intl.DateTimeFormat(locale).format(0);
  new Date(0).toLocaleString(locale);
  new Intl.NumberFormat(locale).format(1234.5);
  new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" }).format(1);
  new Intl.NumberFormat(locale, { style: "percent" }).format(0.5);
  (1234.5).toLocaleString(locale);
  new Intl.PluralRules(locale).select(1);
  new Intl.RelativeTimeFormat(locale).format(-1, "day");
  new Intl.ListFormat(locale).format(["a", "b"]);
}
