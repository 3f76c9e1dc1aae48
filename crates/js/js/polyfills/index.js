// What the engine (StarlingMonkey: SpiderMonkey for WASI, built without ICU) lacks and
// Workers have, added before the Worker's module is evaluated. Everything here runs at the
// module's top level, so wizer's snapshot holds it: it costs nothing per request.
//
// Order matters: `normalize` must exist before the @formatjs polyfills run.
import "./normalize.js";
import "@edgesim/intl"; // intl.js or intl-none.js: chosen by the build (driver.mjs)
import "./regexp.js";
import "./urlpattern.js";
import "./streams.js";
import "./subtle.js";
