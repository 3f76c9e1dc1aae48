// The `crypto.subtle` operations the engine lacks, computed by the host.
//
// StarlingMonkey has `digest`, and `importKey`/`sign`/`verify` for HMAC, RSASSA-PKCS1-v1_5 and
// ECDSA. Everything else Workers have here is added: AES-GCM, AES-CBC, AES-CTR and AES-KW
// (`encrypt`, `decrypt`, `wrapKey`, `unwrapKey`, `generateKey`, `importKey`/`exportKey` in
// `raw` and `jwk`), PBKDF2 and HKDF (`importKey` raw, `deriveBits`, `deriveKey`), and ECDH on
// P-256 and P-384 (`generateKey`, `importKey`/`exportKey` in raw, spki, pkcs8 and jwk,
// `deriveBits`, `deriveKey`). `wrapKey`/`unwrapKey` also work with AES-GCM/CBC/CTR and with
// keys of the native algorithms (HMAC, ...) as the wrapped key.
//
// The cipher work is done by the host on RustCrypto crates (crates/host/src/subtle.rs) through
// the reserved host `edgesim.internal`, like KV. Keys of these algorithms are `CryptoKey`s whose
// material stays in this module (a WeakMap); usages and algorithm checks, and the errors, follow
// workerd (DOMException names and messages). Calls for other algorithms go to the native
// methods unchanged.

const INTERNAL = "http://edgesim.internal/subtle/";
const subtle = globalThis.crypto && globalThis.crypto.subtle;
const hostFetch = globalThis.fetch;
const enc = new TextEncoder();
const dec = new TextDecoder();

const OURS = ["AES-GCM", "AES-CBC", "AES-CTR", "AES-KW", "PBKDF2", "HKDF", "ECDH"];
const KNOWN = [...OURS, "HMAC", "RSASSA-PKCS1-V1_5", "RSA-PSS", "RSA-OAEP", "ECDSA", "ED25519",
  "X25519", "SHA-1", "SHA-256", "SHA-384", "SHA-512", "MD5"];
const CANONICAL = { "RSASSA-PKCS1-V1_5": "RSASSA-PKCS1-v1_5", ED25519: "Ed25519", X25519: "X25519" };
const USAGE_ORDER = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
const ALLOWED = {
  "AES-GCM": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-CBC": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-CTR": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
  "AES-KW": ["wrapKey", "unwrapKey"],
  PBKDF2: ["deriveBits", "deriveKey"],
  HKDF: ["deriveBits", "deriveKey"],
  ECDH: ["deriveBits", "deriveKey"],
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
  if (KNOWN.includes(upper)) return CANONICAL[upper] || upper;
  return raw;
}

function isOurs(alg) {
  try {
    return OURS.includes(algName(alg));
  } catch {
    return false;
  }
}

function bytes(source, what = "data") {
  if (source instanceof ArrayBuffer) return new Uint8Array(source.slice(0));
  if (ArrayBuffer.isView(source)) {
    return new Uint8Array(source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength));
  }
  throw new TypeError(`Failed to execute: ${what} is not a BufferSource.`);
}

function b64(u8) {
  let s = "";
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}

function b64url(u8) {
  return b64(u8).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unb64url(s, what) {
  if (typeof s !== "string") throw domError("DataError", `Invalid JWK: missing "${what}".`);
  const t = s.replace(/-/g, "+").replace(/_/g, "/");
  let bin;
  try {
    bin = atob(t + "===".slice((t.length + 3) % 4));
  } catch {
    throw domError("DataError", `Invalid JWK: "${what}" is not base64url.`);
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** One operation on the host: params (JSON) and data out; `{meta, bytes}` back, or a throw. */
async function host(op, params, data = new Uint8Array(0)) {
  const head = enc.encode(JSON.stringify(params) + "\n");
  const body = new Uint8Array(head.length + data.length);
  body.set(head, 0);
  body.set(data, head.length);
  const resp = await hostFetch(INTERNAL + op, { method: "POST", body });
  const all = new Uint8Array(await resp.arrayBuffer());
  let nl = all.indexOf(10);
  if (nl < 0) nl = all.length;
  const meta = JSON.parse(dec.decode(all.subarray(0, nl)));
  if (meta.error !== undefined) {
    if (meta.name === "TypeError") throw new TypeError(meta.error);
    throw domError(meta.name || "OperationError", meta.error);
  }
  return { meta, bytes: all.slice(nl + 1) };
}

// ---------------------------------------------------------------------------------------------
// Keys

const material = new WeakMap(); // our CryptoKey -> { raw } | { private, public, curve }
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
  if (material.has(key)) return key.algorithm.name;
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

async function importOurs(format, keyData, algorithm, extractable, usages) {
  const name = algName(algorithm);
  if (name.startsWith("AES-")) {
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
      const expected = `A${raw.length * 8}${name.slice(4)}`;
      if (jwk.alg !== undefined && jwk.alg !== expected && [16, 24, 32].includes(raw.length)) {
        throw domError("DataError",
          `Symmetric "jwk" key contains invalid "alg" value "${jwk.alg}", expected "${expected}".`);
      }
      if (jwk.ext === false && extractable) {
        throw domError("DataError", `JWK ext field for "${name}" is set to false but extractable is true`);
      }
    } else {
      throw domError("NotSupportedError", `Unrecognized key import format "${format}".`);
    }
    aesLengthOk(raw.length * 8, "Imported");
    return makeKey("secret", extractable, { name, length: raw.length * 8 }, list, { raw });
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
  // ECDH
  const curve = curveOf(algorithm);
  const params = { curve, format };
  let data = new Uint8Array(0);
  if (format === "jwk") params.jwk = keyData;
  else if (format === "raw" || format === "spki" || format === "pkcs8") data = bytes(keyData, "keyData");
  else throw domError("NotSupportedError", `Unrecognized key import format "${format}".`);
  const { meta } = await host("ecImport", params, data);
  const isPrivate = meta.type === "private";
  const list = checkUsages(name, usages, "import", isPrivate ? ALLOWED.ECDH : []);
  return makeKey(meta.type, isPrivate ? extractable : true, { name, namedCurve: curve }, list, {
    curve,
    private: meta.private,
    public: meta.public,
  });
}

function jwkOps(key) {
  return [...key.usages];
}

async function exportOurs(format, key) {
  const name = key.algorithm.name;
  if (!key.extractable) {
    throw domError("InvalidAccessError", `Attempt to export non-extractable ${name} key.`);
  }
  const m = material.get(key);
  if (name.startsWith("AES-")) {
    if (format === "raw") return m.raw.slice().buffer;
    if (format === "jwk") {
      return {
        kty: "oct",
        key_ops: jwkOps(key),
        alg: `A${m.raw.length * 8}${name.slice(4)}`,
        ext: true,
        k: b64url(m.raw),
      };
    }
    throw domError("NotSupportedError",
      `${name} key only supports exporting "raw" & "jwk", not "${format}".`);
  }
  if (name === "ECDH") {
    const params = { curve: m.curve, format, public: m.public };
    if (key.type === "private") params.private = m.private;
    if (format === "raw" && key.type === "private") {
      throw domError("InvalidAccessError", `Cannot export "ECDH" in "raw" format for a private key.`);
    }
    const { meta, bytes: out } = await host("ecExport", params);
    if (format === "jwk") return { ...meta.jwk, key_ops: jwkOps(key), ext: true };
    return out.buffer;
  }
  throw domError("NotSupportedError", `Unrecognized key export format "${format}".`);
}

// ---------------------------------------------------------------------------------------------
// Operations

function cipherParams(name, algorithm, m) {
  const p = { alg: name, key: b64(m.raw) };
  if (algorithm.iv !== undefined) p.iv = b64(bytes(algorithm.iv, "iv"));
  if (algorithm.additionalData !== undefined) p.additionalData = b64(bytes(algorithm.additionalData, "additionalData"));
  if (algorithm.tagLength !== undefined) p.tagLength = Number(algorithm.tagLength);
  if (algorithm.counter !== undefined) p.counter = b64(bytes(algorithm.counter, "counter"));
  if (algorithm.length !== undefined) p.length = Number(algorithm.length);
  return p;
}

async function cipher(op, algorithm, key, data) {
  const name = algName(algorithm);
  validate(key, name, op);
  if (name === "AES-KW") {
    throw domError("NotSupportedError", `Unrecognized or unimplemented ${op} for AES-KW.`);
  }
  if (typeof algorithm === "object" && name === "AES-GCM" && algorithm.iv === undefined) {
    throw new TypeError('Missing field "iv" in "algorithm".');
  }
  if (name === "AES-CBC" && algorithm.iv === undefined) {
    throw new TypeError('Missing field "iv" in "algorithm".');
  }
  const { bytes: out } = await host(op, cipherParams(name, algorithm, material.get(key)), bytes(data));
  return out.buffer;
}

const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];

function hashName(h) {
  if (h === undefined) throw new TypeError('Missing field "hash" in "algorithm".');
  return algName(h);
}

async function deriveBitsOurs(algorithm, key, length) {
  const name = algName(algorithm);
  const m = material.get(key);
  const p = { alg: name };
  if (length !== undefined && length !== null) p.length = Number(length);
  if (name === "PBKDF2" || name === "HKDF") {
    p.key = b64(m.raw);
    p.hash = hashName(algorithm.hash);
    if (!HASHES.includes(p.hash)) {
      throw domError("NotSupportedError", `Unrecognized or unimplemented digest algorithm requested: "${p.hash}".`);
    }
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
  const { bytes: out } = await host("deriveBits", p);
  return out.buffer;
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
    const h = hashName(derived.hash);
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

// ---------------------------------------------------------------------------------------------
// The wrapped methods

if (subtle) {
  const native = {};
  for (const m of ["importKey", "exportKey", "generateKey", "encrypt", "decrypt", "deriveBits",
    "deriveKey", "wrapKey", "unwrapKey"]) {
    native[m] = typeof subtle[m] === "function" ? subtle[m].bind(subtle) : undefined;
  }
  const missing = (m) => async () => {
    throw domError("NotSupportedError", `crypto.subtle.${m} is not supported for this algorithm.`);
  };
  for (const m of Object.keys(native)) if (!native[m]) native[m] = missing(m);

  const methods = {
    async importKey(format, keyData, algorithm, extractable, usages) {
      if (!isOurs(algorithm)) return native.importKey(format, keyData, algorithm, extractable, usages);
      return importOurs(format, keyData, algorithm, extractable, usages);
    },
    async exportKey(format, key) {
      if (!material.has(key)) return native.exportKey(format, key);
      return exportOurs(format, key);
    },
    async generateKey(algorithm, extractable, usages) {
      if (!isOurs(algorithm)) return native.generateKey(algorithm, extractable, usages);
      const name = algName(algorithm);
      if (name.startsWith("AES-")) {
        if (algorithm.length === undefined) throw new TypeError('Missing field "length" in "algorithm".');
        const len = Number(algorithm.length);
        aesLengthOk(len, "Generated");
        const list = checkUsages(name, usages, "generate");
        const raw = crypto.getRandomValues(new Uint8Array(len / 8));
        return makeKey("secret", extractable, { name, length: len }, list, { raw });
      }
      if (name === "ECDH") {
        const curve = curveOf(algorithm);
        const list = checkUsages(name, usages, "generate");
        if (!list.length) {
          throw domError("SyntaxError", "Attempt to generate asymmetric keys with no valid private key usages.");
        }
        const seed = crypto.getRandomValues(new Uint8Array(CURVES[curve] * 3));
        const { meta } = await host("ecGenerate", { curve }, seed);
        const alg = { name, namedCurve: curve };
        const secret = { curve, private: meta.private, public: meta.public };
        return {
          publicKey: makeKey("public", true, alg, [], { curve, public: meta.public }),
          privateKey: makeKey("private", extractable, alg, list, secret),
        };
      }
      throw domError("NotSupportedError", `${name} key generation not supported.`);
    },
    async encrypt(algorithm, key, data) {
      if (!material.has(key)) return native.encrypt(algorithm, key, data);
      return cipher("encrypt", algorithm, key, data);
    },
    async decrypt(algorithm, key, data) {
      if (!material.has(key)) return native.decrypt(algorithm, key, data);
      return cipher("decrypt", algorithm, key, data);
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
        const { bytes: out } = await host("wrapKw", { key: b64(material.get(wrappingKey).raw) }, data);
        return out.buffer;
      }
      const { bytes: out } = await host("encrypt", cipherParams(name, algorithm, material.get(wrappingKey)), data);
      return out.buffer;
    },
    async unwrapKey(format, wrapped, unwrappingKey, algorithm, unwrappedAlg, extractable, usages) {
      if (!material.has(unwrappingKey)) {
        return native.unwrapKey(format, wrapped, unwrappingKey, algorithm, unwrappedAlg, extractable, usages);
      }
      const name = algName(algorithm);
      validate(unwrappingKey, name, "unwrapKey");
      const m = material.get(unwrappingKey);
      const { bytes: plain } =
        name === "AES-KW"
          ? await host("unwrapKw", { key: b64(m.raw) }, bytes(wrapped))
          : await host("decrypt", cipherParams(name, algorithm, m), bytes(wrapped));
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
