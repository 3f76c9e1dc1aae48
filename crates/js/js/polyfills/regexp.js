// Unicode property escapes in patterns built at run time (`new RegExp("\\p{L}+", "u")`).
//
// The engine (no ICU) throws a SyntaxError on `\p{...}`. Literals and constant `RegExp(...)`
// calls are rewritten at build time (rewrite-regex.mjs); for the rest, `RegExp` is wrapped: when
// the engine refuses a `u`/`v` pattern containing `\p{` or `\P{`, each escape whose property is
// in TABLE is replaced by its code point class and the pattern is tried again. TABLE's entries
// are written as `\p` literals below, which the build-time pass expands, so the table costs
// nothing to compute. A property outside TABLE, `\P{...}` inside a class, and `v`-flag set
// operations (`--`, `&&`) in run-time patterns still throw, as before.
//
// Only a pattern the engine refused goes through this path: a pattern it accepts costs one
// extra function call per `new RegExp`.

const TABLE = {
  L: /[\p{L}]/u,
  Lu: /[\p{Lu}]/u,
  Ll: /[\p{Ll}]/u,
  Lt: /[\p{Lt}]/u,
  Lm: /[\p{Lm}]/u,
  Lo: /[\p{Lo}]/u,
  M: /[\p{M}]/u,
  Mn: /[\p{Mn}]/u,
  N: /[\p{N}]/u,
  Nd: /[\p{Nd}]/u,
  Nl: /[\p{Nl}]/u,
  No: /[\p{No}]/u,
  P: /[\p{P}]/u,
  S: /[\p{S}]/u,
  Sm: /[\p{Sm}]/u,
  Sc: /[\p{Sc}]/u,
  Z: /[\p{Z}]/u,
  Zs: /[\p{Zs}]/u,
  Alphabetic: /[\p{Alphabetic}]/u,
  White_Space: /[\p{White_Space}]/u,
  ID_Start: /[\p{ID_Start}]/u,
  ID_Continue: /[\p{ID_Continue}]/u,
  Uppercase: /[\p{Uppercase}]/u,
  Lowercase: /[\p{Lowercase}]/u,
  Emoji: /[\p{Emoji}]/u,
  Emoji_Presentation: /[\p{Emoji_Presentation}]/u,
  Extended_Pictographic: /[\p{Extended_Pictographic}]/u,
  Emoji_Component: /[\p{Emoji_Component}]/u,
  "Script=Latin": /[\p{Script=Latin}]/u,
  "Script=Greek": /[\p{Script=Greek}]/u,
  "Script=Cyrillic": /[\p{Script=Cyrillic}]/u,
  "Script=Han": /[\p{Script=Han}]/u,
  "Script=Hiragana": /[\p{Script=Hiragana}]/u,
  "Script=Katakana": /[\p{Script=Katakana}]/u,
  "Script=Hangul": /[\p{Script=Hangul}]/u,
  "Script=Arabic": /[\p{Script=Arabic}]/u,
  "Script=Hebrew": /[\p{Script=Hebrew}]/u,
};

const ALIASES = {
  Letter: "L",
  Uppercase_Letter: "Lu",
  Lowercase_Letter: "Ll",
  Titlecase_Letter: "Lt",
  Modifier_Letter: "Lm",
  Other_Letter: "Lo",
  Mark: "M",
  Combining_Mark: "M",
  Nonspacing_Mark: "Mn",
  Number: "N",
  Decimal_Number: "Nd",
  digit: "Nd",
  Letter_Number: "Nl",
  Other_Number: "No",
  Punctuation: "P",
  punct: "P",
  Symbol: "S",
  Math_Symbol: "Sm",
  Currency_Symbol: "Sc",
  Separator: "Z",
  Space_Separator: "Zs",
  Alpha: "Alphabetic",
  space: "White_Space",
  IDS: "ID_Start",
  IDC: "ID_Continue",
  Upper: "Uppercase",
  Lower: "Lowercase",
  ExtPict: "Extended_Pictographic",
};

/** The class body (without brackets) of property `name`, or undefined. */
function classBody(name) {
  let key = name.replace(/^(General_Category|gc)=/, "");
  key = key.replace(/^(Script|sc|Script_Extensions|scx)=/, "Script=");
  key = ALIASES[key] ?? key;
  const re = TABLE[key];
  return re ? re.source.slice(1, -1) : undefined;
}

/** `pattern` with its property escapes expanded, or undefined if one cannot be. */
export function expandPropertyEscapes(pattern) {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[i + 1];
      if ((next === "p" || next === "P") && pattern[i + 2] === "{") {
        const end = pattern.indexOf("}", i + 3);
        if (end < 0) return undefined;
        const body = classBody(pattern.slice(i + 3, end));
        if (body === undefined) return undefined;
        if (next === "p") out += inClass ? body : `[${body}]`;
        else if (inClass) return undefined;
        else out += `[^${body}]`;
        i = end;
        continue;
      }
      out += c + (next ?? "");
      i++;
      continue;
    }
    if (c === "[" && !inClass) inClass = true;
    else if (c === "]" && inClass) inClass = false;
    out += c;
  }
  return out;
}

const NativeRegExp = globalThis.RegExp;

function retry(error, pattern, flags) {
  if (
    !(error instanceof SyntaxError) ||
    typeof pattern !== "string" ||
    typeof flags !== "string" ||
    !/[uv]/.test(flags) ||
    !/\\[pP]\{/.test(pattern)
  ) {
    return undefined;
  }
  const expanded = expandPropertyEscapes(pattern);
  if (expanded === undefined) return undefined;
  // Without set operations, a `v` pattern means what the same `u` pattern means.
  const f = flags.includes("v") && !/--|&&/.test(expanded) ? flags.replace("v", "u") : flags;
  return [expanded, f];
}

let works = true;
try {
  new NativeRegExp("\\p{L}", "u");
} catch {
  works = false;
}

if (!works) {
  globalThis.RegExp = new Proxy(NativeRegExp, {
    construct(target, args, newTarget) {
      const nt = newTarget === globalThis.RegExp ? target : newTarget;
      try {
        return Reflect.construct(target, args, nt);
      } catch (error) {
        const flags = args[1] === undefined ? "" : args[1];
        const again = retry(error, args[0], flags);
        if (!again) throw error;
        return Reflect.construct(target, again, nt);
      }
    },
    apply(target, thisArg, args) {
      try {
        return Reflect.apply(target, thisArg, args);
      } catch (error) {
        const flags = args[1] === undefined ? "" : args[1];
        const again = retry(error, args[0], flags);
        if (!again) throw error;
        return Reflect.apply(target, thisArg, again);
      }
    },
  });
}
