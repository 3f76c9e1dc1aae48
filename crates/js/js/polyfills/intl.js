// `Intl`, evaluated at build (wizer's snapshot) when the Worker may use it.
//
// The build (driver.mjs) resolves `@edgesim/intl` in index.js to this file when the Worker's
// bundle (its code and packages) mentions `Intl`, `toLocaleString`, `toLocaleDateString`,
// `toLocaleTimeString` or `localeCompare`, and to intl-none.js otherwise. The @formatjs code and
// data make the component about 40 MB larger (13 MB to 54 MB), so a Worker that never formats
// does not carry them; one that does gets them snapshotted, ready at the first request (loading
// them at run time instead took 5 to 10 s of the first request of each instance).
import "./intl-global.js";
import "./intl-load.js";
