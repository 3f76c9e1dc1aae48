// `crypto.subtle`, computed by the host, and workerd's extras (`crypto.subtle.timingSafeEqual`,
// `crypto.DigestStream`).
//
// StarlingMonkey has `digest` natively (kept). Every other operation of the algorithms Workers
// have is done here: AES-GCM, AES-CBC, AES-CTR and AES-KW (`encrypt`, `decrypt`, `wrapKey`,
// `unwrapKey`, `generateKey`, `importKey`/`exportKey` in `raw` and `jwk`), HMAC (`sign`,
// `verify`, `generateKey`, `importKey`/`exportKey` in `raw` and `jwk`), PBKDF2 and HKDF
// (`importKey` raw, `deriveBits`, `deriveKey`), ECDH and ECDSA on P-256 and P-384,
// RSASSA-PKCS1-v1_5, RSA-PSS and RSA-OAEP, and Ed25519 (also as workerd's `NODE-ED25519`)
// (`generateKey`, `importKey`/`exportKey` in their formats, `sign`/`verify`, `deriveBits`/
// `deriveKey`, `encrypt`/`decrypt`). `wrapKey`/`unwrapKey` work with AES-KW, the AES
// encryption modes and RSA-OAEP, for any extractable key.
//
// The cipher work is done by the host on RustCrypto crates (crates/host/src/subtle/) over the
// synchronous host link (`hostCall("/subtle/<op>")`, like KV), so no request or stream is made
// per operation; the methods stay async, as workerd's are. Keys of these algorithms are
// `CryptoKey`s whose material stays in this module (a WeakMap); usages and algorithm checks,
// and the errors, follow workerd (DOMException names and messages). Random bytes (key
// generation, PSS salts, OAEP padding) come from `crypto.getRandomValues`, seeded by the host
// (deterministic in simulation). Calls for other algorithms go to the native methods.

import { call as hostCall } from "edgesim:js-worker/link";

const subtle = globalThis.crypto && globalThis.crypto.subtle;
const enc = new TextEncoder();
const dec = new TextDecoder();

const RSA_NAMES = ["RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"];
const OURS = ["AES-GCM", "AES-CBC", "AES-CTR", "AES-KW", "PBKDF2", "HKDF", "ECDH", "ECDSA", "HMAC",
  ...RSA_NAMES, "Ed25519", "NODE-ED25519"];
const KNOWN = [...OURS.map((n) => n.toUpperCase()), "X25519", "SHA-1", "SHA-256", "SHA-384",
  "SHA-512", "MD5"];
const CANONICAL = {
  "RSASSA-PKCS1-V1_5": "RSASSA-PKCS1-v1_5",
  ED25519: "Ed25519",
  X25519: "X25519",
};
const USAGE_ORDER = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
const ALLOWED = {
  "AES-GCM": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-CBC": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-CTR": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-KW": ["wrapKey", "unwrapKey"],
  PBKDF2: ["deriveBits", "deriveKey"],
  HKDF: ["deriveBits", "deriveKey"],
  HMAC: ["sign", "verify"],
};
/** Asymmetric algorithms: the usages of each half. */
const PAIR_USAGES = {
  ECDH: { private: ["deriveKey", "deriveBits"], public: [] },
  ECDSA: { private: ["sign"], public: ["verify"] },
  "RSASSA-PKCS1-v1_5": { private: ["sign"], public: ["verify"] },
  "RSA-PSS": { private: ["sign"], public: ["verify"] },
  "RSA-OAEP": { private: ["decrypt", "unwrapKey"], public: ["encrypt", "wrapKey"] },
  Ed25519: { private: ["sign"], public: ["verify"] },
  "NODE-ED25519": { private: ["sign"], public: ["verify"] },
};

function domError(name, message) {
  if (typeof DOMException === "function") return new DOMException(message, name);
  const e = new Error(message);
  e.name = name;
  return e;
}

/** The algorithm's canonical name (case-insensitive, as WebCrypto normalizes it). */
function algName(alg) {
  const raw = typeof alg === "string" ? alg : alg && alg.name;
  if (typeof raw !== "string") throw new TypeError("Missing field \"name\" in \"algorithm\".");
  const upper = raw.toUpperCase();
  if (KNOWN.includes(upper)) return CANONICAL[upper] || OURS.find((n) => n.toUpperCase() === upper) || upper;
  return raw;
}

function isOurs(alg) {
  try {
    return OURS.includes(algName(alg));
  } catch {
    return false;
  }
}

/** A copy of a BufferSource's bytes (by its tag, so buffers the host link made are accepted). */
function bytes(source, what = "data") {
  const tagOf = (x) => Object.prototype.toString.call(x);
  if (tagOf(source) === "[object ArrayBuffer]") return new Uint8Array(new Uint8Array(source));
  if (source !== null && typeof source === "object" && typeof source.byteLength === "number" &&
    tagOf(source.buffer) === "[object ArrayBuffer]") {
    return new Uint8Array(new Uint8Array(source.buffer, source.byteOffset, source.byteLength));
  }
  throw new TypeError(`Failed to execute: ${what} is not a BufferSource.`);
}

function b64(u8) {
  let s = "";
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}

function unb64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function b64url(u8) {
  return b64(u8).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unb64url(s, what) {
  if (typeof s !== "string") throw domError("DataError", `Invalid JWK: missing "${what}".`);
  const t = s.replace(/-/g, "+").replace(/_/g, "/");
  try {
    return unb64(t + "===".slice((t.length + 3) % 4));
  } catch {
    throw domError("DataError", `Invalid JWK: "${what}" is not base64url.`);
  }
}

/** Random bytes for the host (key generation, salts, padding), from the seeded generator. */
function seed(n = 32) {
  return b64(crypto.getRandomValues(new Uint8Array(n)));
}

/**
 * One operation on the host, at once (the synchronous link): params (JSON) and data out;
 * `{meta, bytes}` back, or a throw (the DOMException the host names).
 */
function host(op, params, data = new Uint8Array(0)) {
  const head = enc.encode(JSON.stringify(params) + "\n");
  const body = new Uint8Array(head.length + data.length);
  body.set(head, 0);
  body.set(data, head.length);
  const [status, all] = hostCall(`/subtle/${op}`, body);
  let nl = all.indexOf(10);
  if (nl < 0) nl = all.length;
  const text = dec.decode(all.subarray(0, nl));
  if (status !== 200) throw domError("OperationError", `edgesim: crypto.subtle host call failed: ${text}`);
  const meta = JSON.parse(text);
  if (meta.error !== undefined) {
    if (meta.name === "TypeError") throw new TypeError(meta.error);
    throw domError(meta.name || "OperationError", meta.error);
  }
  // A copy made by this realm's Uint8Array: the link's own arrays are not `instanceof` it.
  return { meta, bytes: new Uint8Array(all.subarray(nl + 1)) };
}

// ---------------------------------------------------------------------------------------------
// Keys

// our CryptoKey -> { raw } (AES, HMAC, KDFs) | { curve?, private?, public } (asymmetric)
const material = new WeakMap();
const KeyProto = typeof CryptoKey === "function" ? CryptoKey.prototype : Object.prototype;

function makeKey(type, extractable, algorithm, usages, secret) {
  const key = Object.create(KeyProto);
  Object.defineProperties(key, {
    type: { value: type, enumerable: true },
    extractable: { value: Boolean(extractable), enumerable: true },
    algorithm: { value: Object.freeze(algorithm), enumerable: true },
    usages: { value: Object.freeze(usages), enumerable: true },
  });
  material.set(key, secret);
  return key;
}

function keyAlgName(key) {
  return key && key.algorithm && key.algorithm.name;
}

/** Usages deduplicated in workerd's order; a usage the algorithm does not allow is a SyntaxError. */
function checkUsages(name, usages, op = "import", allowed = ALLOWED[name]) {
  const list = Array.from(usages || [], String);
  for (const u of list) {
    if (!allowed.includes(u)) {
      throw domError("SyntaxError", `Attempt to ${op} ${name} key with invalid usage "${u}".`);
    }
  }
  return USAGE_ORDER.filter((u) => list.includes(u));
}

/** workerd's validateOperation: the algorithm matches the key's, and the key allows `usage`. */
function validate(key, name, usage) {
  if (!material.has(key)) {
    throw new TypeError("Failed to execute: parameter is not of type 'CryptoKey'.");
  }
  const keyName = keyAlgName(key);
  if (!keyName || String(keyName).toUpperCase() !== String(name).toUpperCase()) {
    throw domError(
      "InvalidAccessError",
      `Requested algorithm "${name}" does not match this CryptoKey's algorithm "${keyName}".`,
    );
  }
  if (!key.usages.includes(usage)) {
    throw domError(
      "InvalidAccessError",
      `Requested key usage "${usage}" does not match any usage listed in this CryptoKey.`,
    );
  }
}

function aesLengthOk(len, verb) {
  if (len !== 128 && len !== 192 && len !== 256) {
    throw domError(
      verb === "Generated" ? "OperationError" : "DataError",
      `${verb} AES key length must be 128, 192, or 256 bits but provided ${len}.`,
    );
  }
}

const CURVES = { "P-256": 32, "P-384": 48 };

function curveOf(alg) {
  const c = alg && alg.namedCurve;
  if (!CURVES[c]) {
    throw domError("NotSupportedError", `Unrecognized or unimplemented EC curve "${c}" requested.`);
  }
  return c;
}

const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];

/** The hash a parameter names (a string or `{name}`), checked. */
function hashName(h, what = "algorithm") {
  if (h === undefined) throw new TypeError(`Missing field "hash" in "${what}".`);
  const name = algName(h);
  if (!HASHES.includes(name)) {
    throw domError("NotSupportedError", `Unrecognized or unimplemented digest algorithm requested: "${name}".`);
  }
  return name;
}

const RSA_JWK_ALG = {
  "RSASSA-PKCS1-v1_5": { "SHA-1": "RS1", "SHA-256": "RS256", "SHA-384": "RS384", "SHA-512": "RS512" },
  "RSA-PSS": { "SHA-1": "PS1", "SHA-256": "PS256", "SHA-384": "PS384", "SHA-512": "PS512" },
  "RSA-OAEP": { "SHA-1": "RSA-OAEP", "SHA-256": "RSA-OAEP-256", "SHA-384": "RSA-OAEP-384", "SHA-512": "RSA-OAEP-512" },
};

/** The key pair (or one key) the host's material answer describes. */
function asymmetricKey(name, algorithm, meta, extractable, usages, op = "import") {
  const halves = PAIR_USAGES[name];
  const isPrivate = meta.type === "private";
  const list = checkUsages(name, usages, op, isPrivate ? halves.private : halves.public);
  return makeKey(meta.type, isPrivate ? extractable : true, algorithm, list, {
    curve: algorithm.namedCurve,
    private: meta.private,
    public: meta.public,
  });
}

function rsaAlgorithm(name, algorithm, meta) {
  return {
    name,
    modulusLength: meta.modulusLength,
    publicExponent: unb64(meta.publicExponent),
    hash: { name: hashName(algorithm.hash) },
  };
}

function keyFormatData(format, keyData) {
  if (format === "jwk") {
    if (keyData === null || typeof keyData !== "object") throw new TypeError("JWK must be an object.");
    return { params: { format, jwk: keyData }, data: new Uint8Array(0) };
  }
  if (format === "raw" || format === "spki" || format === "pkcs8") {
    return { params: { format }, data: bytes(keyData, "keyData") };
  }
  throw domError("NotSupportedError", `Unrecognized key import format "${format}".`);
}

function importSymmetric(name, format, keyData, algorithm, extractable, usages) {
  const list = checkUsages(name, usages);
  let raw;
  if (format === "raw") {
    raw = bytes(keyData, "keyData");
  } else if (format === "jwk") {
    const jwk = keyData || {};
    if (jwk.kty !== "oct") {
      throw domError("DataError",
        `Symmetric "jwk" key import requires a JSON Web Key with Key Type parameter "kty" equal to "oct" (encountered "${jwk.kty}").`);
    }
    raw = unb64url(jwk.k, "k");
    const expected = name === "HMAC"
      ? `HS${hashName(algorithm.hash).slice(4)}`
      : `A${raw.length * 8}${name.slice(4)}`;
    if (jwk.alg !== undefined && jwk.alg !== expected && (name === "HMAC" || [16, 24, 32].includes(raw.length))) {
      throw domError("DataError",
        `Symmetric "jwk" key contains invalid "alg" value "${jwk.alg}", expected "${expected}".`);
    }
    if (jwk.ext === false && extractable) {
      throw domError("DataError", `JWK ext field for "${name}" is set to false but extractable is true`);
    }
  } else {
    throw domError("NotSupportedError", `Unrecognized key import format "${format}".`);
  }
  if (name === "HMAC") {
    const hash = hashName(algorithm.hash);
    let length = raw.length * 8;
    if (algorithm.length !== undefined) {
      length = Number(algorithm.length);
      if (length > raw.length * 8 || length <= raw.length * 8 - 8) {
        throw domError("DataError", `Imported HMAC key length (${length}) must be a non-zero value up to 7 bits less than, and no greater than, the bit length of the raw key data (${raw.length * 8}).`);
      }
    }
    if (raw.length === 0) throw domError("DataError", "Imported HMAC key length must be a non-zero value.");
    return makeKey("secret", extractable, { name, length, hash: { name: hash } }, list, { raw });
  }
  aesLengthOk(raw.length * 8, "Imported");
  return makeKey("secret", extractable, { name, length: raw.length * 8 }, list, { raw });
}

async function importOurs(format, keyData, algorithm, extractable, usages) {
  const name = algName(algorithm);
  if (name.startsWith("AES-") || name === "HMAC") {
    return importSymmetric(name, format, keyData, algorithm, extractable, usages);
  }
  if (name === "PBKDF2" || name === "HKDF") {
    if (extractable) throw domError("SyntaxError", `${name} key cannot be extractable.`);
    if (format !== "raw") {
      throw domError("NotSupportedError",
        `${name} key must be imported in "raw" format (requested "${format}").`);
    }
    const list = checkUsages(name, usages);
    return makeKey("secret", false, { name }, list, { raw: bytes(keyData, "keyData") });
  }
  if (name === "ECDH" || name === "ECDSA") {
    const curve = curveOf(algorithm);
    const { params, data } = keyFormatData(format, keyData);
    const { meta } = host("ecImport", { ...params, curve }, data);
    return asymmetricKey(name, { name, namedCurve: curve }, meta, extractable, usages);
  }
  if (RSA_NAMES.includes(name)) {
    hashName(algorithm.hash);
    if (format === "raw") {
      throw domError("NotSupportedError", 'Unrecognized key import format "raw".');
    }
    const { params, data } = keyFormatData(format, keyData);
    const { meta } = host("rsaImport", params, data);
    return asymmetricKey(name, rsaAlgorithm(name, algorithm, meta), meta, extractable, usages);
  }
  // Ed25519 and NODE-ED25519
  const { params, data } = keyFormatData(format, keyData);
  const { meta } = host("edImport", params, data);
  const alg = name === "NODE-ED25519" ? { name, namedCurve: "NODE-ED25519" } : { name };
  return asymmetricKey(name, alg, meta, extractable, usages);
}

/**
 * An exported JWK in workerd's member order (which `wrapKey` in "jwk" format encrypts as it
 * is): `kty`, `key_ops`, `alg`, `ext`, then the key's own members.
 */
function jwkOut(fields, key, alg) {
  const out = { kty: fields.kty, key_ops: [...key.usages] };
  if (alg !== undefined) out.alg = alg;
  out.ext = true;
  for (const [k, v] of Object.entries(fields)) if (k !== "kty") out[k] = v;
  return out;
}

async function exportOurs(format, key) {
  const name = key.algorithm.name;
  if (!key.extractable) {
    throw domError("InvalidAccessError", `Attempt to export non-extractable ${name} key.`);
  }
  const m = material.get(key);
  if (m.raw !== undefined) {
    if (format === "raw") return m.raw.slice().buffer;
    if (format === "jwk") {
      const alg = name === "HMAC"
        ? `HS${key.algorithm.hash.name.slice(4)}`
        : `A${m.raw.length * 8}${name.slice(4)}`;
      return jwkOut({ kty: "oct", k: b64url(m.raw) }, key, alg);
    }
    throw domError("NotSupportedError",
      `${name} key only supports exporting "raw" & "jwk", not "${format}".`);
  }
  if (!["raw", "spki", "pkcs8", "jwk"].includes(format)) {
    throw domError("NotSupportedError", `Unrecognized key export format "${format}".`);
  }
  const params = { format, public: m.public };
  if (key.type === "private") params.private = m.private;
  let op = "edExport";
  if (name === "ECDH" || name === "ECDSA") {
    op = "ecExport";
    params.curve = m.curve;
  } else if (RSA_NAMES.includes(name)) {
    op = "rsaExport";
  }
  if (format === "raw" && key.type === "private") {
    throw domError("InvalidAccessError", op === "edExport"
      ? `Raw export of ${name} keys is only allowed for public keys.`
      : `Cannot export "${name}" in "raw" format for a private key.`);
  }
  const { meta, bytes: out } = host(op, params);
  if (format === "jwk") {
    let alg;
    if (op === "rsaExport") alg = RSA_JWK_ALG[name][key.algorithm.hash.name];
    if (op === "edExport") alg = "EdDSA";
    return jwkOut(meta.jwk, key, alg);
  }
  return out.buffer;
}

async function generateOurs(algorithm, extractable, usages) {
  const name = algName(algorithm);
  if (name.startsWith("AES-")) {
    if (algorithm.length === undefined) throw new TypeError('Missing field "length" in "algorithm".');
    const len = Number(algorithm.length);
    aesLengthOk(len, "Generated");
    const list = checkUsages(name, usages, "generate");
    const raw = crypto.getRandomValues(new Uint8Array(len / 8));
    return makeKey("secret", extractable, { name, length: len }, list, { raw });
  }
  if (name === "HMAC") {
    const hash = hashName(algorithm.hash);
    const list = checkUsages(name, usages, "generate");
    let length = hash === "SHA-384" || hash === "SHA-512" ? 1024 : 512;
    if (algorithm.length !== undefined) {
      length = Number(algorithm.length);
      if (!(length > 0)) throw domError("OperationError", "HMAC key length must be a non-zero unsigned long integer.");
    }
    const raw = crypto.getRandomValues(new Uint8Array(Math.ceil(length / 8)));
    if (length % 8) raw[raw.length - 1] &= 0xff << (8 - (length % 8));
    return makeKey("secret", extractable, { name, length, hash: { name: hash } }, list, { raw });
  }
  if (name === "PBKDF2" || name === "HKDF") {
    throw domError("NotSupportedError", `Unrecognized key generation algorithm "${name}" requested.`);
  }
  const halves = PAIR_USAGES[name];
  const wanted = Array.from(usages || [], String);
  for (const u of wanted) {
    if (!halves.private.includes(u) && !halves.public.includes(u)) {
      throw domError("SyntaxError", `Attempt to generate ${name} key with invalid usage "${u}".`);
    }
  }
  let meta;
  let alg;
  if (name === "ECDH" || name === "ECDSA") {
    const curve = curveOf(algorithm);
    alg = { name, namedCurve: curve };
    meta = host("ecGenerate", { curve }, crypto.getRandomValues(new Uint8Array(CURVES[curve] * 3))).meta;
  } else if (RSA_NAMES.includes(name)) {
    hashName(algorithm.hash);
    if (algorithm.modulusLength === undefined) throw new TypeError('Missing field "modulusLength" in "algorithm".');
    if (algorithm.publicExponent === undefined) throw new TypeError('Missing field "publicExponent" in "algorithm".');
    const params = {
      modulusLength: Number(algorithm.modulusLength),
      publicExponent: b64(bytes(algorithm.publicExponent, "publicExponent")),
    };
    meta = host("rsaGenerate", params, crypto.getRandomValues(new Uint8Array(32))).meta;
    alg = rsaAlgorithm(name, algorithm, meta);
  } else {
    alg = name === "NODE-ED25519" ? { name, namedCurve: "NODE-ED25519" } : { name };
    meta = host("edGenerate", {}, crypto.getRandomValues(new Uint8Array(32))).meta;
  }
  const privateUsages = USAGE_ORDER.filter((u) => wanted.includes(u) && halves.private.includes(u));
  const publicUsages = USAGE_ORDER.filter((u) => wanted.includes(u) && halves.public.includes(u));
  if (!privateUsages.length) {
    throw domError("SyntaxError", "Attempt to generate asymmetric keys with no valid private key usages.");
  }
  const curve = alg.namedCurve;
  return {
    publicKey: makeKey("public", true, alg, publicUsages, { curve, public: meta.public }),
    privateKey: makeKey("private", extractable, alg, privateUsages, {
      curve,
      private: meta.private,
      public: meta.public,
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Operations

function cipherParams(name, algorithm, key) {
  const m = material.get(key);
  if (name === "RSA-OAEP") {
    const p = { alg: name, hash: key.algorithm.hash.name };
    if (key.type === "private") p.private = m.private;
    else p.public = m.public;
    if (algorithm.label !== undefined) p.label = b64(bytes(algorithm.label, "label"));
    p.seed = seed();
    return p;
  }
  const p = { alg: name, key: b64(m.raw) };
  if (algorithm.iv !== undefined) p.iv = b64(bytes(algorithm.iv, "iv"));
  if (algorithm.additionalData !== undefined) p.additionalData = b64(bytes(algorithm.additionalData, "additionalData"));
  if (algorithm.tagLength !== undefined) p.tagLength = Number(algorithm.tagLength);
  if (algorithm.counter !== undefined) p.counter = b64(bytes(algorithm.counter, "counter"));
  if (algorithm.length !== undefined) p.length = Number(algorithm.length);
  return p;
}

/** encrypt/decrypt of `data` with a key already validated for the operation. */
function cipherWith(op, name, algorithm, key, data) {
  if (name === "AES-KW") {
    throw domError("NotSupportedError", `Unrecognized or unimplemented ${op} for AES-KW.`);
  }
  if ((name === "AES-GCM" || name === "AES-CBC") && (typeof algorithm !== "object" || algorithm.iv === undefined)) {
    throw new TypeError('Missing field "iv" in "algorithm".');
  }
  const alg = typeof algorithm === "object" ? algorithm : {};
  return host(op, cipherParams(name, alg, key), data).bytes.buffer;
}

function signParams(name, algorithm, key) {
  const m = material.get(key);
  const p = { alg: name === "NODE-ED25519" ? "Ed25519" : name };
  if (key.type === "private") p.private = m.private;
  else p.public = m.public;
  if (name === "HMAC") {
    p.key = b64(m.raw);
    p.hash = key.algorithm.hash.name;
  } else if (name === "ECDSA") {
    p.curve = m.curve;
    p.hash = hashName(typeof algorithm === "object" ? algorithm.hash : undefined);
  } else if (RSA_NAMES.includes(name)) {
    p.hash = key.algorithm.hash.name;
    if (name === "RSA-PSS") {
      if (typeof algorithm !== "object" || algorithm.saltLength === undefined) {
        throw domError("DataError", "Failed to provide salt for RSA-PSS key operation which requires a salt");
      }
      p.saltLength = Number(algorithm.saltLength);
      p.seed = seed();
    }
  }
  return p;
}

async function deriveBitsOurs(algorithm, key, length) {
  const name = algName(algorithm);
  const m = material.get(key);
  const p = { alg: name };
  if (length !== undefined && length !== null) p.length = Number(length);
  if (name === "PBKDF2" || name === "HKDF") {
    p.key = b64(m.raw);
    p.hash = hashName(algorithm.hash);
    if (algorithm.salt === undefined) throw new TypeError('Missing field "salt" in "algorithm".');
    p.salt = b64(bytes(algorithm.salt, "salt"));
    if (name === "PBKDF2") {
      if (algorithm.iterations === undefined) throw new TypeError('Missing field "iterations" in "algorithm".');
      p.iterations = Number(algorithm.iterations);
    } else {
      if (algorithm.info === undefined) throw new TypeError('Missing field "info" in "algorithm".');
      p.info = b64(bytes(algorithm.info, "info"));
    }
  } else {
    const pub = algorithm.public;
    if (!pub || !material.has(pub) || pub.algorithm.name !== "ECDH") {
      throw domError("InvalidAccessError", "ECDH public key must be an ECDH CryptoKey.");
    }
    if (pub.type !== "public") {
      throw domError("InvalidAccessError", "The provided key is not a public key.");
    }
    if (pub.algorithm.namedCurve !== key.algorithm.namedCurve) {
      throw domError("InvalidAccessError", "The public and private keys are not on the same curve.");
    }
    p.curve = m.curve;
    p.private = m.private;
    p.public = material.get(pub).public;
  }
  return host("deriveBits", p).bytes.buffer;
}

/** The length deriveKey asks of deriveBits for `derived` (workerd's getKeyLength). */
function keyLength(derived) {
  const name = algName(derived);
  if (name.startsWith("AES-")) {
    if (derived.length === undefined) throw new TypeError('Missing field "length" in "derivedKeyParams".');
    const len = Number(derived.length);
    if (len !== 128 && len !== 192 && len !== 256) {
      throw domError("OperationError",
        `Derived AES key must be 128, 192, or 256 bits in length but provided ${len}.`);
    }
    return len;
  }
  if (name === "HMAC") {
    if (derived.length !== undefined) {
      if (Number(derived.length) > 0) return Number(derived.length);
      throw new TypeError("HMAC key length must be a non-zero unsigned long integer.");
    }
    const h = hashName(derived.hash, "derivedKeyParams");
    return h === "SHA-384" || h === "SHA-512" ? 1024 : 512;
  }
  if (name === "HKDF" || name === "PBKDF2") return null;
  throw domError("NotSupportedError", `Unrecognized derived key type "${name}" requested.`);
}

function pad8(u8) {
  const out = new Uint8Array(Math.ceil(u8.length / 8) * 8).fill(0x20);
  out.set(u8);
  return out;
}

/** workerd's `crypto.subtle.timingSafeEqual(a, b)`: equal bytes, compared in constant time. */
function timingSafeEqual(a, b) {
  const x = bytes(a, "a");
  const y = bytes(b, "b");
  if (x.length !== y.length) {
    throw new TypeError("Input buffers must have the same byte length.");
  }
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

// ---------------------------------------------------------------------------------------------
// The wrapped methods

if (subtle) {
  const native = {};
  for (const m of ["digest", "importKey", "exportKey", "generateKey", "encrypt", "decrypt", "sign", "verify",
    "deriveBits", "deriveKey", "wrapKey", "unwrapKey"]) {
    native[m] = typeof subtle[m] === "function" ? subtle[m].bind(subtle) : undefined;
  }
  const missing = (m) => async () => {
    throw domError("NotSupportedError", `crypto.subtle.${m} is not supported for this algorithm.`);
  };
  for (const m of Object.keys(native)) if (!native[m]) native[m] = missing(m);

  const methods = {
    async digest(algorithm, data) {
      const name = algName(algorithm);
      if (![...HASHES, "MD5"].includes(name)) {
        throw domError("NotSupportedError", "Unrecognized or unimplemented digest algorithm requested.");
      }
      const tag = Object.prototype.toString.call(data);
      if (tag !== "[object ArrayBuffer]" && !ArrayBuffer.isView(data)) {
        throw new TypeError("Failed to execute 'digest' on 'SubtleCrypto': parameter 2 is not of type 'Array'.");
      }
      return native.digest(algorithm, data);
    },
    async importKey(format, keyData, algorithm, extractable, usages) {
      if (!isOurs(algorithm)) {
        const name = algName(algorithm);
        throw domError("NotSupportedError", `Unrecognized key import algorithm "${name}" requested.`);
      }
      return importOurs(format, keyData, algorithm, extractable, usages);
    },
    async exportKey(format, key) {
      if (!material.has(key)) return native.exportKey(format, key);
      return exportOurs(format, key);
    },
    async generateKey(algorithm, extractable, usages) {
      if (!isOurs(algorithm)) return native.generateKey(algorithm, extractable, usages);
      return generateOurs(algorithm, extractable, usages);
    },
    async encrypt(algorithm, key, data) {
      if (!material.has(key)) return native.encrypt(algorithm, key, data);
      const name = algName(algorithm);
      validate(key, name, "encrypt");
      return cipherWith("encrypt", name, algorithm, key, bytes(data));
    },
    async decrypt(algorithm, key, data) {
      if (!material.has(key)) return native.decrypt(algorithm, key, data);
      const name = algName(algorithm);
      validate(key, name, "decrypt");
      return cipherWith("decrypt", name, algorithm, key, bytes(data));
    },
    async sign(algorithm, key, data) {
      if (!material.has(key)) return native.sign(algorithm, key, data);
      const name = algName(algorithm);
      validate(key, name, "sign");
      return host("sign", signParams(name, algorithm, key), bytes(data)).bytes.buffer;
    },
    async verify(algorithm, key, signature, data) {
      if (!material.has(key)) return native.verify(algorithm, key, signature, data);
      const name = algName(algorithm);
      validate(key, name, "verify");
      const p = signParams(name, algorithm, key);
      p.signature = b64(bytes(signature, "signature"));
      return host("verify", p, bytes(data)).meta.ok === true;
    },
    async deriveBits(algorithm, key, length) {
      if (!material.has(key)) return native.deriveBits(algorithm, key, length);
      validate(key, algName(algorithm), "deriveBits");
      return deriveBitsOurs(algorithm, key, length);
    },
    async deriveKey(algorithm, key, derived, extractable, usages) {
      if (!material.has(key)) return native.deriveKey(algorithm, key, derived, extractable, usages);
      validate(key, algName(algorithm), "deriveKey");
      const length = keyLength(derived);
      const secret = await deriveBitsOurs(algorithm, key, length);
      return methods.importKey("raw", secret, derived, extractable, usages);
    },
    async wrapKey(format, key, wrappingKey, algorithm) {
      if (!material.has(wrappingKey)) return native.wrapKey(format, key, wrappingKey, algorithm);
      const name = algName(algorithm);
      validate(wrappingKey, name, "wrapKey");
      if (!key.extractable) {
        throw domError("InvalidAccessError", `Attempt to export non-extractable ${keyAlgName(key)} key.`);
      }
      const exported = await methods.exportKey(format, key);
      let data = format === "jwk" ? enc.encode(JSON.stringify(exported)) : new Uint8Array(exported);
      if (name === "AES-KW") {
        if (format === "jwk") data = pad8(data);
        return host("wrapKw", { key: b64(material.get(wrappingKey).raw) }, data).bytes.buffer;
      }
      return cipherWith("encrypt", name, algorithm, wrappingKey, data);
    },
    async unwrapKey(format, wrapped, unwrappingKey, algorithm, unwrappedAlg, extractable, usages) {
      if (!material.has(unwrappingKey)) {
        return native.unwrapKey(format, wrapped, unwrappingKey, algorithm, unwrappedAlg, extractable, usages);
      }
      const name = algName(algorithm);
      validate(unwrappingKey, name, "unwrapKey");
      const plain = new Uint8Array(
        name === "AES-KW"
          ? host("unwrapKw", { key: b64(material.get(unwrappingKey).raw) }, bytes(wrapped)).bytes.buffer
          : cipherWith("decrypt", name, algorithm, unwrappingKey, bytes(wrapped)),
      );
      let keyData = plain.buffer;
      if (format === "jwk") {
        try {
          keyData = JSON.parse(dec.decode(plain));
        } catch {
          throw domError("DataError", 'Missing "kty" field or corrupt JSON unwrapping key?');
        }
      }
      return methods.importKey(format, keyData, unwrappedAlg, extractable, usages);
    },
    timingSafeEqual,
  };

  // On SubtleCrypto's prototype (every `crypto.subtle` sees them); as own properties if the
  // prototype refuses.
  const proto = Object.getPrototypeOf(subtle) || subtle;
  for (const [m, f] of Object.entries(methods)) {
    const d = { value: f, writable: true, configurable: true, enumerable: false };
    try {
      Object.defineProperty(proto, m, d);
    } catch {
      Object.defineProperty(subtle, m, d);
    }
  }
}

// `crypto.getRandomValues` with workerd's checks and messages in front of the engine's.
if (globalThis.crypto && typeof globalThis.crypto.getRandomValues === "function") {
  const target = Object.getPrototypeOf(globalThis.crypto) || globalThis.crypto;
  const nativeGetRandomValues = globalThis.crypto.getRandomValues;
  const INTEGER_VIEW = /^\[object (Int8|Uint8|Uint8Clamped|Int16|Uint16|Int32|Uint32|BigInt64|BigUint64)Array\]$/;
  const getRandomValues = function getRandomValues(array) {
    if (ArrayBuffer.isView(array)) {
      if (!INTEGER_VIEW.test(Object.prototype.toString.call(array))) {
        throw domError("TypeMismatchError", "ArrayBufferView argument to getRandomValues() must be an integer-typed view.");
      }
      if (array.byteLength > 65536) {
        throw domError("QuotaExceededError",
          `getRandomValues() only accepts buffers of size <= 64K but provided ${array.byteLength} bytes.`);
      }
    }
    return nativeGetRandomValues.call(this, array);
  };
  const d = { value: getRandomValues, writable: true, configurable: true, enumerable: true };
  try {
    Object.defineProperty(target, "getRandomValues", d);
  } catch {
    Object.defineProperty(globalThis.crypto, "getRandomValues", d);
  }
}

// `crypto.DigestStream(algorithm)`: a WritableStream whose `digest` promise resolves to the
// digest of everything written, once it is closed (workerd's extra).
if (globalThis.crypto && typeof globalThis.crypto.DigestStream !== "function" &&
  typeof WritableStream === "function") {
  class DigestStream extends WritableStream {
    constructor(algorithm) {
      const chunks = [];
      let resolve;
      let reject;
      const digest = new Promise((res, rej) => {
        resolve = res;
        reject = rej;
      });
      super({
        write(chunk) {
          chunks.push(typeof chunk === "string" ? enc.encode(chunk) : bytes(chunk, "chunk"));
        },
        async close() {
          const size = chunks.reduce((n, c) => n + c.length, 0);
          const all = new Uint8Array(size);
          let at = 0;
          for (const c of chunks) {
            all.set(c, at);
            at += c.length;
          }
          try {
            resolve(await subtle.digest(algorithm, all));
          } catch (e) {
            reject(e);
          }
        },
        abort(reason) {
          reject(reason);
        },
      });
      Object.defineProperty(this, "digest", { value: digest, enumerable: true });
    }
  }
  Object.defineProperty(globalThis.crypto, "DigestStream", {
    value: DigestStream,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
