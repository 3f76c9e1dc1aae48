// Probes: Intl and locale-sensitive methods, on a fixed instant and fixed numbers, in a few
// locales and time zones; String.prototype.normalize.
import { worker } from "./lib.js";

const when = new Date(Date.UTC(2024, 2, 9, 14, 5, 7, 123)); // 2024-03-09T14:05:07.123Z
const LOCALES = ["en-US", "de-DE", "ja-JP", "fr-FR", "pt-BR"];
const ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"];

const probes = {};
for (const locale of LOCALES) {
  probes[`DateTimeFormat ${locale} default`] = () => new Intl.DateTimeFormat(locale, { timeZone: "UTC" }).format(when);
  probes[`DateTimeFormat ${locale} full`] = () =>
    new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "long", timeZone: "Europe/Berlin" }).format(when);
  probes[`NumberFormat ${locale}`] = () => new Intl.NumberFormat(locale).format(1234567.891);
  probes[`NumberFormat ${locale} EUR`] = () =>
    new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" }).format(-1234.5);
  probes[`toLocaleString ${locale}`] = () => when.toLocaleString(locale, { timeZone: "UTC" });
  probes[`number toLocaleString ${locale}`] = () => (9876.54321).toLocaleString(locale);
}
for (const zone of ZONES) {
  probes[`DateTimeFormat en-US ${zone}`] = () =>
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "short",
    }).format(when);
}
Object.assign(probes, {
  "toLocaleDateString default": () => when.toLocaleDateString(),
  "toLocaleTimeString default": () => when.toLocaleTimeString(),
  "toLocaleString default": () => when.toLocaleString(),
  "number toLocaleString default": () => (1234.5).toLocaleString(),
  "formatToParts": () => new Intl.DateTimeFormat("en-US", { timeZone: "UTC", month: "long", day: "numeric" }).formatToParts(when),
  "resolvedOptions": () => {
    const o = new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Tokyo" }).resolvedOptions();
    return [o.locale, o.calendar, o.numberingSystem, o.timeZone];
  },
  "default time zone": () => new Intl.DateTimeFormat().resolvedOptions().timeZone,
  "default locale": () => new Intl.NumberFormat().resolvedOptions().locale,
  "invalid time zone": () => new Intl.DateTimeFormat("en-US", { timeZone: "Mars/Base" }),
  "NumberFormat percent": () => new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 }).format(0.1234),
  "NumberFormat compact": () => new Intl.NumberFormat("en-US", { notation: "compact" }).format(1234567),
  "NumberFormat unit": () => new Intl.NumberFormat("en-US", { style: "unit", unit: "kilometer-per-hour" }).format(50),
  "NumberFormat JPY": () => new Intl.NumberFormat("ja-JP", { style: "currency", currency: "JPY" }).format(5000),
  "NumberFormat bigint": () => new Intl.NumberFormat("en-US").format(12345678901234567890n),
  "NumberFormat signDisplay": () => new Intl.NumberFormat("en-US", { signDisplay: "always" }).format(5),
  "Collator compare de": () => ["z", "ä", "a"].sort(new Intl.Collator("de").compare),
  "Collator compare sv": () => ["z", "ä", "a"].sort(new Intl.Collator("sv").compare),
  "Collator numeric": () => ["10", "9", "1"].sort(new Intl.Collator("en", { numeric: true }).compare),
  "localeCompare": () => ["é", "e", "f"].sort((a, b) => a.localeCompare(b)),
  "localeCompare base": () => "a".localeCompare("A", "en", { sensitivity: "base" }),
  "PluralRules en": () => [0, 1, 2].map((n) => new Intl.PluralRules("en-US").select(n)),
  "PluralRules ordinal": () => [1, 2, 3, 4].map((n) => new Intl.PluralRules("en-US", { type: "ordinal" }).select(n)),
  "PluralRules ar": () => [0, 1, 2, 5, 11, 100].map((n) => new Intl.PluralRules("ar").select(n)),
  "RelativeTimeFormat": () => new Intl.RelativeTimeFormat("en", { numeric: "auto" }).format(-1, "day"),
  "RelativeTimeFormat de": () => new Intl.RelativeTimeFormat("de").format(3, "hour"),
  "ListFormat": () => new Intl.ListFormat("en", { type: "conjunction" }).format(["a", "b", "c"]),
  "Segmenter graphemes": () => [...new Intl.Segmenter("en", { granularity: "grapheme" }).segment("e\u0301👍🏽")].map((s) => s.segment),
  "Segmenter words": () =>
    [...new Intl.Segmenter("en", { granularity: "word" }).segment("Hello, world!")].filter((s) => s.isWordLike).map((s) => s.segment),
  "DisplayNames": () => new Intl.DisplayNames(["en"], { type: "region" }).of("DE"),
  "Locale": () => {
    const l = new Intl.Locale("en-Latn-US", { hourCycle: "h12" });
    return [l.baseName, l.language, l.region, l.hourCycle, l.toString()];
  },
  "getCanonicalLocales": () => Intl.getCanonicalLocales(["EN-us", "de-de"]),
  "supportedLocalesOf": () => Intl.DateTimeFormat.supportedLocalesOf(["de-DE", "xx-XX"]),
  "supportedValuesOf currency count>100": () => Intl.supportedValuesOf("currency").length > 100,
  "toLocaleUpperCase tr": () => "i".toLocaleUpperCase("tr-TR"),
  "toLocaleLowerCase tr": () => "I".toLocaleLowerCase("tr-TR"),
  "toUpperCase ß": () => "ß".toUpperCase(),
  "normalize NFC": () => escape("e\u0301".normalize("NFC")),
  "normalize NFD": () => escape("é".normalize("NFD")),
  "normalize NFKC": () => escape("ﬁ①".normalize("NFKC")),
  "normalize NFKD": () => escape("Å".normalize("NFKD")),
  "normalize default": () => escape("a\u030a".normalize()),
  "normalize bad form": () => "a".normalize("NFX"),
  "slugify via NFD": () =>
    "Crème Brûlée à la mode".normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/\s+/g, "-"),
  "Date toString (UTC zone)": () => when.toString(),
  "Date toTimeString": () => when.toTimeString(),
  "Date toDateString": () => when.toDateString(),
  "getTimezoneOffset": () => when.getTimezoneOffset(),
  "getHours local": () => when.getHours(),
});

export default worker(probes);
