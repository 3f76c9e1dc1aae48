// `Intl` from the @formatjs polyfills (versions pinned in crates/js/toolchain/package.json),
// with the locale data of en (en-US), en-GB, de, fr, es and ja and every IANA time zone.
// Imported by intl.js (after intl-global.js) when the build finds the Worker may use `Intl`. `Date.prototype.toLocale*String`
// and `Number.prototype.toLocaleString` are replaced by the polyfills to honour the locale and
// `timeZone`, as workerd does. The default locale is `en-US` and the default time zone `UTC`,
// as in production. `Intl.Collator` and `Intl.Segmenter` are small fallbacks (see below).
//
// Locale data for another locale: add its imports below (every @formatjs package ships
// `locale-data/<tag>.js`); each locale costs about 400 KB of bundle.

import "@formatjs/intl-getcanonicallocales/polyfill-force.js";
import "@formatjs/intl-locale/polyfill-force.js";
import "@formatjs/intl-pluralrules/polyfill-force.js";
import "@formatjs/intl-numberformat/polyfill-force.js";
import "@formatjs/intl-datetimeformat/polyfill-force.js";
import "@formatjs/intl-relativetimeformat/polyfill-force.js";
import "@formatjs/intl-listformat/polyfill-force.js";

import "@formatjs/intl-datetimeformat/add-all-tz.js";

import "@formatjs/intl-pluralrules/locale-data/en.js";
import "@formatjs/intl-pluralrules/locale-data/de.js";
import "@formatjs/intl-pluralrules/locale-data/fr.js";
import "@formatjs/intl-pluralrules/locale-data/es.js";
import "@formatjs/intl-pluralrules/locale-data/ja.js";

import "@formatjs/intl-numberformat/locale-data/en.js";
import "@formatjs/intl-numberformat/locale-data/en-GB.js";
import "@formatjs/intl-numberformat/locale-data/de.js";
import "@formatjs/intl-numberformat/locale-data/fr.js";
import "@formatjs/intl-numberformat/locale-data/es.js";
import "@formatjs/intl-numberformat/locale-data/ja.js";

import "@formatjs/intl-datetimeformat/locale-data/en.js";
import "@formatjs/intl-datetimeformat/locale-data/en-GB.js";
import "@formatjs/intl-datetimeformat/locale-data/de.js";
import "@formatjs/intl-datetimeformat/locale-data/fr.js";
import "@formatjs/intl-datetimeformat/locale-data/es.js";
import "@formatjs/intl-datetimeformat/locale-data/ja.js";

import "@formatjs/intl-relativetimeformat/locale-data/en.js";
import "@formatjs/intl-relativetimeformat/locale-data/en-GB.js";
import "@formatjs/intl-relativetimeformat/locale-data/de.js";
import "@formatjs/intl-relativetimeformat/locale-data/fr.js";
import "@formatjs/intl-relativetimeformat/locale-data/es.js";
import "@formatjs/intl-relativetimeformat/locale-data/ja.js";

import "@formatjs/intl-listformat/locale-data/en.js";
import "@formatjs/intl-listformat/locale-data/en-GB.js";
import "@formatjs/intl-listformat/locale-data/de.js";
import "@formatjs/intl-listformat/locale-data/fr.js";
import "@formatjs/intl-listformat/locale-data/es.js";
import "@formatjs/intl-listformat/locale-data/ja.js";

import "./intl-extra.js";
