// What @formatjs does not provide, after its polyfills are installed (intl.js):
// - production's defaults: locale `en-US`, time zone `UTC`;
// - `Intl.Collator`: compares by code point after optional case/accent folding (no locale
//   tailoring: `sensitivity`, `numeric` and `ignorePunctuation` are honoured, the locale is
//   only reported back);
// - `String.prototype.localeCompare` through that collator;
// - `Intl.Segmenter` by grapheme (code point plus combining marks), word and sentence, ASCII
//   rules only.

const Intl = globalThis.Intl;

for (const name of ["NumberFormat", "DateTimeFormat", "PluralRules", "RelativeTimeFormat", "ListFormat"]) {
  const C = Intl[name];
  if (C && "__defaultLocale" in C) {
    try {
      C.__defaultLocale = "en-US";
    } catch {
      // not settable in this version
    }
  }
}
if (Intl.DateTimeFormat && typeof Intl.DateTimeFormat.__setDefaultTimeZone === "function") {
  Intl.DateTimeFormat.__setDefaultTimeZone("UTC");
}

function fold(s, sensitivity) {
  let out = String(s);
  if (sensitivity === "base" || sensitivity === "accent") out = out.toLowerCase();
  if (sensitivity === "base" || sensitivity === "case") {
    out = out.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }
  return out;
}

function compareNumeric(a, b) {
  const pa = a.match(/\d+|\D+/g) || [];
  const pb = b.match(/\d+|\D+/g) || [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const d = Number(x) - Number(y);
      if (d) return d < 0 ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return pa.length === pb.length ? 0 : pa.length < pb.length ? -1 : 1;
}

if (typeof Intl.Collator === "undefined") {
  class Collator {
    #options;
    constructor(locales, options = {}) {
      const locale =
        (Intl.getCanonicalLocales ? Intl.getCanonicalLocales(locales ?? [])[0] : undefined) ||
        "en-US";
      const usage = options.usage ?? "sort";
      const sensitivity = options.sensitivity ?? "variant";
      this.#options = {
        locale,
        usage,
        sensitivity,
        ignorePunctuation: Boolean(options.ignorePunctuation),
        collation: "default",
        numeric: Boolean(options.numeric),
        caseFirst: options.caseFirst ?? "false",
      };
      this.compare = this.compare.bind(this);
    }
    compare(a, b) {
      const o = this.#options;
      let x = fold(a, o.sensitivity);
      let y = fold(b, o.sensitivity);
      if (o.ignorePunctuation) {
        x = x.replace(/[\s!-/:-@[-`{-~]/g, "");
        y = y.replace(/[\s!-/:-@[-`{-~]/g, "");
      }
      if (o.numeric) return compareNumeric(x, y);
      // Three levels, as ICU's root collation: base letters, then accents (unaccented
      // first), then case (lower case first). `sensitivity` drops the levels it ignores.
      const px = fold(x, "base");
      const py = fold(y, "base");
      if (px !== py) return px < py ? -1 : 1;
      if (o.sensitivity === "base") return 0;
      const ax = x.toLowerCase();
      const ay = y.toLowerCase();
      if (ax !== ay && o.sensitivity !== "case") return ax < ay ? -1 : 1;
      if (o.sensitivity === "accent" || x === y) return 0;
      const swap = (s) => s.replace(/[a-zA-Z]/g, (c) => (c < "a" ? c.toLowerCase() : c.toUpperCase()));
      return swap(x) < swap(y) ? -1 : swap(x) > swap(y) ? 1 : 0;
    }
    resolvedOptions() {
      return { ...this.#options };
    }
    static supportedLocalesOf(locales) {
      return Intl.getCanonicalLocales ? Intl.getCanonicalLocales(locales ?? []) : [];
    }
  }
  Object.defineProperty(Collator.prototype, Symbol.toStringTag, {
    value: "Intl.Collator",
    configurable: true,
  });
  Intl.Collator = Collator;
  const collators = new Map();
  Object.defineProperty(String.prototype, "localeCompare", {
    value: function localeCompare(that, locales, options) {
      if (options === undefined && (locales === undefined || typeof locales === "string")) {
        const key = locales ?? "";
        let c = collators.get(key);
        if (!c) collators.set(key, (c = new Collator(locales)));
        return c.compare(String(this), String(that));
      }
      return new Collator(locales, options).compare(String(this), String(that));
    },
    writable: true,
    configurable: true,
  });
}

if (typeof Intl.Segmenter === "undefined") {
  const COMBINING = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u200d\ufe0f]/;
  class Segmenter {
    #locale;
    #granularity;
    constructor(locales, options = {}) {
      this.#locale =
        (Intl.getCanonicalLocales ? Intl.getCanonicalLocales(locales ?? [])[0] : undefined) ||
        "en-US";
      this.#granularity = options.granularity ?? "grapheme";
    }
    segment(input) {
      const text = String(input);
      const granularity = this.#granularity;
      const out = [];
      if (granularity === "grapheme") {
        let at = 0;
        for (const ch of text) {
          if (out.length && COMBINING.test(ch)) {
            out[out.length - 1].segment += ch;
          } else {
            out.push({ segment: ch, index: at, input: text });
          }
          at += ch.length;
        }
      } else {
        const re = granularity === "word" ? /\w+|\s+|[^\w\s]/g : /[^.!?]+[.!?]*\s*/g;
        let m;
        while ((m = re.exec(text))) {
          const seg = { segment: m[0], index: m.index, input: text };
          if (granularity === "word") seg.isWordLike = /\w/.test(m[0]);
          out.push(seg);
        }
      }
      const segments = {
        [Symbol.iterator]: () => out[Symbol.iterator](),
        containing(index = 0) {
          return out.find((s) => index >= s.index && index < s.index + s.segment.length);
        },
      };
      return segments;
    }
    resolvedOptions() {
      return { locale: this.#locale, granularity: this.#granularity };
    }
  }
  Intl.Segmenter = Segmenter;
}
