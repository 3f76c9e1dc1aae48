// `String.prototype.normalize` (NFC, NFD, NFKC, NFKD) from `unorm` (pinned in
// crates/js/toolchain/package.json; Unicode 8 data), installed when the engine lacks it or has
// one that does not normalize (the engine is built without ICU). unorm's tables are evaluated
// on the first call in each instance (about 5 MB of snapshot otherwise).

function works() {
  try {
    return "\u0065\u0301".normalize("NFC") === "\u00e9";
  } catch {
    return false;
  }
}

if (typeof String.prototype.normalize !== "function" || !works()) {
  let forms;
  Object.defineProperty(String.prototype, "normalize", {
    value: function normalize(form = "NFC") {
      if (this === null || this === undefined) {
        throw new TypeError("String.prototype.normalize called on null or undefined");
      }
      if (!forms) {
        const unorm = require("unorm");
        forms = { NFC: unorm.nfc, NFD: unorm.nfd, NFKC: unorm.nfkc, NFKD: unorm.nfkd };
      }
      const f = forms[String(form)];
      if (!f) throw new RangeError("The normalization form should be one of NFC, NFD, NFKC, NFKD.");
      return f(String(this));
    },
    writable: true,
    configurable: true,
  });
}
