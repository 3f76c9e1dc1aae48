// Probes: crypto.subtle with fixed keys, IVs and salts (so every output is deterministic), and
// the shape of crypto.getRandomValues / randomUUID. The keys below are throwaway test keys.
import { hex, unhex, worker } from "./lib.js";

const enc = new TextEncoder();
const data = enc.encode("The quick brown fox");
const key16 = unhex("000102030405060708090a0b0c0d0e0f");
const key32 = unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const iv12 = unhex("0f0e0d0c0b0a090807060504");
const iv16 = unhex("0f0e0d0c0b0a09080706050403020100");

const RSA = {
  kty: "RSA",
  n: "vyQ4dFaNZUIuC7bS4t_tZoByU9GTU6EsAH7DWBEgd3gHX23fQqrNhd3wH22X6EOjdGDpG3-48s-E4hj3MXqLfGIp61NKTMXkHeZ0QHsXc4PmHx7spckyz26FV9j2KDfSR75sFNxp3lyJR6enrAVz5HmGTvkShkwPFM-M3v358ks",
  e: "AQAB",
  d: "cn6m1oFWF1aqMFgmQMJz-VdtpGnAf3Lm4bENIH653PZoLDCrcMrRa6PDB4BlYzrI-ZhnahJ63e-SoMDlqZzHWgRjJtRjEgqwD0ngXyG1AqEAPbrVTU5iNrzDlcY6A79jEv3oaXz467JQfyhA66Hap4R9IUVFV9Cl8-i-i27QHoE",
  p: "5QoZPmvHlPRENNUhrNZ2nPfhfVK39VlhAejbUmvYeI20V4CKNgeFKGrt1H2eSiG3sR3UugqDLTRkZCzfrNMwQQ",
  q: "1aQZr8DTp6xI-93piLfW_qLCqxiJLQq-S5K4hWuGgkvlhCbUQgjLwj0iUZHA3l7FdgxtRDzYh_TyMzZJer7_iw",
  dp: "2leCMSt2G92wl90GOUpJ0OHNqDcO_2mxPKzLSAtfVa1g2nnDSDZrDljBWOxX1bvG7aXOgXw8CQAFJCpTIOJDAQ",
  dq: "tmo1nIGStzo93wCt5JTEOAuVGC4NAq6HqVOPxiv3X82aHWpiFjgYcrNsWCWRfs2A4Ljfm0IwyHV3UA7sUqg-3Q",
  qi: "e__Hs1TEEI7Sd_r5ixXsXK_Md2lueY9Xvzh-Ht0Jdw85Ns-4-5vyI3OTntCNXvbY27aFRKN4IzUDHAfPN5LLBg",
};
const ED25519 = {
  kty: "OKP",
  crv: "Ed25519",
  d: "6q18IMp-ueTDB8PrOGvg3enxTE4egIdOjzXUqR9Bo9c",
  x: "Awkeb1ilamvfaljJEFA7SKhm4DBlV3oxyduMhjRPpMc",
};
const P256 = {
  kty: "EC",
  crv: "P-256",
  x: "k3GGIfpFFZyzsK94RQ7DmMfI1IomMuozyiQeJYUURRw",
  y: "AEzAU1QLdvJuok7EAxRVhnR8QncgJ70ub6_dEBBgAJw",
  d: "Y4u5jQXiVGDIWxLkPnQzAHvB8MbS4iO9naP28_jK1BQ",
};

// ECDSA P-256 / SHA-256 signature of `data` by P256 (made with Node's WebCrypto).
const ECDSA_SIG = "621bc85ba8404c0c0e93192d5fc73e7cbfa3990975b220d3c161329800e9b5129cc5863f0918a1fb4067d57f71f50a1da74185dbae68abd73101e79a925bc3a5";

const subtle = () => crypto.subtle;
const unb64url = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
const raw = (bytes, alg, usages) => subtle().importKey("raw", bytes, alg, true, usages);
const publicOf = ({ d, p, q, dp, dq, qi, ...pub }) => pub;

const probes = {};
for (const alg of ["SHA-1", "SHA-256", "SHA-384", "SHA-512", "MD5"]) {
  probes[`digest ${alg}`] = async () => hex(await subtle().digest(alg, data));
}
Object.assign(probes, {
  "digest empty SHA-256": async () => hex(await subtle().digest("SHA-256", new Uint8Array(0))),
  "digest object form": async () => hex(await subtle().digest({ name: "sha-256" }, data)),
  "digest unknown": async () => subtle().digest("SHA-3", data),
  "digest string input": async () => subtle().digest("SHA-256", "text"),
  "DigestStream": async () => {
    if (typeof crypto.DigestStream !== "function") return "<none>";
    const s = new crypto.DigestStream("SHA-256");
    const w = s.getWriter();
    w.write(data);
    w.close();
    return hex(await s.digest);
  },
  "HMAC SHA-256 sign": async () => {
    const k = await raw(key32, { name: "HMAC", hash: "SHA-256" }, ["sign", "verify"]);
    return hex(await subtle().sign("HMAC", k, data));
  },
  "HMAC SHA-512 sign": async () => {
    const k = await raw(key16, { name: "HMAC", hash: "SHA-512" }, ["sign"]);
    return hex(await subtle().sign({ name: "HMAC" }, k, data));
  },
  "HMAC verify": async () => {
    const k = await raw(key32, { name: "HMAC", hash: "SHA-256" }, ["sign", "verify"]);
    const sig = await subtle().sign("HMAC", k, data);
    return [await subtle().verify("HMAC", k, sig, data), await subtle().verify("HMAC", k, sig, enc.encode("x"))];
  },
  "HMAC key fields": async () => {
    const k = await raw(key16, { name: "HMAC", hash: "SHA-256" }, ["sign"]);
    return [k.type, k.extractable, k.algorithm, k.usages, Object.prototype.toString.call(k)];
  },
  "HMAC export jwk": async () => {
    const k = await raw(key16, { name: "HMAC", hash: "SHA-256" }, ["sign"]);
    return subtle().exportKey("jwk", k);
  },
  "HMAC export raw": async () => hex(await subtle().exportKey("raw", await raw(key16, { name: "HMAC", hash: "SHA-1" }, ["sign"]))),
  "HMAC wrong usage": async () => {
    const k = await raw(key16, { name: "HMAC", hash: "SHA-256" }, ["verify"]);
    return subtle().sign("HMAC", k, data);
  },
  "importKey bad format": async () => subtle().importKey("pem", key16, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]),
  "importKey unknown algorithm": async () => subtle().importKey("raw", key16, { name: "NOPE" }, true, ["sign"]),
  "generateKey HMAC shape": async () => {
    const k = await subtle().generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    return [k.type, k.algorithm, (await subtle().exportKey("raw", k)).byteLength];
  },
  "AES-GCM encrypt": async () => {
    const k = await raw(key16, "AES-GCM", ["encrypt", "decrypt"]);
    return hex(await subtle().encrypt({ name: "AES-GCM", iv: iv12 }, k, data));
  },
  "AES-GCM decrypt": async () => {
    const k = await raw(key32, "AES-GCM", ["encrypt", "decrypt"]);
    const ct = await subtle().encrypt({ name: "AES-GCM", iv: iv12, additionalData: enc.encode("ad") }, k, data);
    return new TextDecoder().decode(await subtle().decrypt({ name: "AES-GCM", iv: iv12, additionalData: enc.encode("ad") }, k, ct));
  },
  "AES-GCM tampered": async () => {
    const k = await raw(key16, "AES-GCM", ["encrypt", "decrypt"]);
    const ct = new Uint8Array(await subtle().encrypt({ name: "AES-GCM", iv: iv12 }, k, data));
    ct[0] ^= 1;
    return subtle().decrypt({ name: "AES-GCM", iv: iv12 }, k, ct);
  },
  "AES-CBC encrypt": async () => {
    const k = await raw(key16, "AES-CBC", ["encrypt", "decrypt"]);
    return hex(await subtle().encrypt({ name: "AES-CBC", iv: iv16 }, k, data));
  },
  "AES-CTR encrypt": async () => {
    const k = await raw(key16, "AES-CTR", ["encrypt"]);
    return hex(await subtle().encrypt({ name: "AES-CTR", counter: iv16, length: 64 }, k, data));
  },
  "AES-KW wrapKey": async () => {
    const kek = await raw(key16, "AES-KW", ["wrapKey", "unwrapKey"]);
    const k = await raw(key32, "AES-GCM", ["encrypt"]);
    return hex(await subtle().wrapKey("raw", k, kek, "AES-KW"));
  },
  "AES-KW unwrapKey": async () => {
    const kek = await raw(key16, "AES-KW", ["wrapKey", "unwrapKey"]);
    const k = await raw(key32, "AES-GCM", ["encrypt"]);
    const wrapped = await subtle().wrapKey("raw", k, kek, "AES-KW");
    const back = await subtle().unwrapKey("raw", wrapped, kek, "AES-KW", "AES-GCM", true, ["encrypt"]);
    return [back.algorithm, hex(await subtle().exportKey("raw", back))];
  },
  "AES bad key length": async () => raw(unhex("0001"), "AES-GCM", ["encrypt"]),
  "PBKDF2 deriveBits": async () => {
    const k = await subtle().importKey("raw", enc.encode("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
    return hex(await subtle().deriveBits({ name: "PBKDF2", salt: enc.encode("salt"), iterations: 1000, hash: "SHA-256" }, k, 256));
  },
  "PBKDF2 deriveKey AES": async () => {
    const k = await subtle().importKey("raw", enc.encode("password"), "PBKDF2", false, ["deriveKey"]);
    const aes = await subtle().deriveKey(
      { name: "PBKDF2", salt: enc.encode("salt"), iterations: 10, hash: "SHA-1" },
      k,
      { name: "AES-GCM", length: 128 },
      true,
      ["encrypt"],
    );
    return [aes.algorithm, hex(await subtle().exportKey("raw", aes))];
  },
  "HKDF deriveBits": async () => {
    const k = await subtle().importKey("raw", key32, "HKDF", false, ["deriveBits"]);
    return hex(await subtle().deriveBits({ name: "HKDF", hash: "SHA-256", salt: key16, info: enc.encode("info") }, k, 128));
  },
  "ECDH deriveBits (P-256, self)": async () => {
    const priv = await subtle().importKey("jwk", P256, { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
    const pub = await subtle().importKey("jwk", publicOf(P256), { name: "ECDH", namedCurve: "P-256" }, false, []);
    return hex(await subtle().deriveBits({ name: "ECDH", public: pub }, priv, 256));
  },
  "ECDSA P-256 sign+verify": async () => {
    const priv = await subtle().importKey("jwk", P256, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    const pub = await subtle().importKey("jwk", publicOf(P256), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    const sig = await subtle().sign({ name: "ECDSA", hash: "SHA-256" }, priv, data);
    return [sig.byteLength, await subtle().verify({ name: "ECDSA", hash: "SHA-256" }, pub, sig, data)];
  },
  "Ed25519 sign": async () => {
    const k = await subtle().importKey("jwk", ED25519, { name: "Ed25519" }, false, ["sign"]);
    return hex(await subtle().sign("Ed25519", k, data));
  },
  "RSASSA-PKCS1-v1_5 sign": async () => {
    const k = await subtle().importKey("jwk", RSA, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
    return hex(await subtle().sign("RSASSA-PKCS1-v1_5", k, data));
  },
  "RSASSA verify": async () => {
    const k = await subtle().importKey("jwk", RSA, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
    const pub = await subtle().importKey("jwk", publicOf(RSA), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
    return subtle().verify("RSASSA-PKCS1-v1_5", pub, await subtle().sign("RSASSA-PKCS1-v1_5", k, data), data);
  },
  "RSA-OAEP round trip": async () => {
    const pub = await subtle().importKey("jwk", publicOf(RSA), { name: "RSA-OAEP", hash: "SHA-256" }, false, ["encrypt"]);
    const priv = await subtle().importKey("jwk", RSA, { name: "RSA-OAEP", hash: "SHA-256" }, false, ["decrypt"]);
    const ct = await subtle().encrypt({ name: "RSA-OAEP" }, pub, data);
    return new TextDecoder().decode(await subtle().decrypt({ name: "RSA-OAEP" }, priv, ct));
  },
  "ECDSA verify known signature": async () => {
    const pub = await subtle().importKey("jwk", publicOf(P256), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    const sig = unhex(ECDSA_SIG);
    const alg = { name: "ECDSA", hash: "SHA-256" };
    return [await subtle().verify(alg, pub, sig, data), await subtle().verify(alg, pub, sig, enc.encode("x")),
      await subtle().verify(alg, pub, sig.slice(1), data)];
  },
  "ECDSA export spki and jwk": async () => {
    const pub = await subtle().importKey("jwk", publicOf(P256), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    return [hex(await subtle().exportKey("spki", pub)), await subtle().exportKey("jwk", pub), pub.algorithm, pub.type];
  },
  "ECDSA generateKey sign+verify": async () => {
    const { publicKey, privateKey } = await subtle().generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, ["sign", "verify"]);
    const alg = { name: "ECDSA", hash: "SHA-384" };
    const sig = await subtle().sign(alg, privateKey, data);
    return [sig.byteLength, await subtle().verify(alg, publicKey, sig, data), publicKey.usages, privateKey.usages,
      privateKey.algorithm, publicKey.extractable];
  },
  "ECDSA verify with private key": async () => {
    const priv = await subtle().importKey("jwk", P256, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    return subtle().verify({ name: "ECDSA", hash: "SHA-256" }, priv, new Uint8Array(64), data);
  },
  "Ed25519 verify": async () => {
    const k = await subtle().importKey("jwk", ED25519, { name: "Ed25519" }, false, ["sign"]);
    const pub = await subtle().importKey("raw", unb64url(ED25519.x), { name: "Ed25519" }, true, ["verify"]);
    const sig = await subtle().sign("Ed25519", k, data);
    return [await subtle().verify("Ed25519", pub, sig, data), await subtle().verify("Ed25519", pub, sig, enc.encode("x")),
      pub.algorithm, pub.type, pub.usages];
  },
  "Ed25519 export formats": async () => {
    const k = await subtle().importKey("jwk", ED25519, { name: "Ed25519" }, true, ["sign"]);
    const pub = await subtle().importKey("jwk", publicOf(ED25519), { name: "Ed25519" }, true, ["verify"]);
    return [hex(await subtle().exportKey("pkcs8", k)), await subtle().exportKey("jwk", k),
      hex(await subtle().exportKey("spki", pub)), hex(await subtle().exportKey("raw", pub))];
  },
  "Ed25519 generateKey round trip": async () => {
    const { publicKey, privateKey } = await subtle().generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
    const sig = await subtle().sign({ name: "Ed25519" }, privateKey, data);
    const raw = await subtle().exportKey("raw", publicKey);
    return [sig.byteLength, raw.byteLength, await subtle().verify("Ed25519", publicKey, sig, data),
      privateKey.algorithm, privateKey.usages, publicKey.usages];
  },
  "Ed25519 bad raw length": async () => subtle().importKey("raw", new Uint8Array(31), { name: "Ed25519" }, true, ["verify"]),
  "NODE-ED25519 sign": async () => {
    const alg = { name: "NODE-ED25519", namedCurve: "NODE-ED25519" };
    const k = await subtle().importKey("jwk", ED25519, alg, false, ["sign"]);
    return [hex(await subtle().sign(alg, k, data)), k.algorithm];
  },
  "RSASSA key fields": async () => {
    const k = await subtle().importKey("jwk", RSA, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["sign"]);
    return [k.type, k.extractable, k.algorithm, k.usages];
  },
  "RSA export jwk": async () => {
    const k = await subtle().importKey("jwk", RSA, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["sign"]);
    return subtle().exportKey("jwk", k);
  },
  "RSA export spki": async () => {
    const pub = await subtle().importKey("jwk", publicOf(RSA), { name: "RSA-PSS", hash: "SHA-256" }, true, ["verify"]);
    return [hex(await subtle().exportKey("spki", pub)), (await subtle().exportKey("jwk", pub)).alg];
  },
  "RSA pkcs8 round trip": async () => {
    const k = await subtle().importKey("jwk", RSA, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-1" }, true, ["sign"]);
    const der = await subtle().exportKey("pkcs8", k);
    const back = await subtle().importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-1" }, false, ["sign"]);
    return hex(await subtle().sign("RSASSA-PKCS1-v1_5", back, data));
  },
  "RSA-PSS sign+verify": async () => {
    const priv = await subtle().importKey("jwk", RSA, { name: "RSA-PSS", hash: "SHA-256" }, false, ["sign"]);
    const pub = await subtle().importKey("jwk", publicOf(RSA), { name: "RSA-PSS", hash: "SHA-256" }, false, ["verify"]);
    const sig = await subtle().sign({ name: "RSA-PSS", saltLength: 32 }, priv, data);
    return [sig.byteLength, await subtle().verify({ name: "RSA-PSS", saltLength: 32 }, pub, sig, data),
      await subtle().verify({ name: "RSA-PSS", saltLength: 32 }, pub, sig, enc.encode("x"))];
  },
  "RSA-OAEP label round trip": async () => {
    const pub = await subtle().importKey("jwk", publicOf(RSA), { name: "RSA-OAEP", hash: "SHA-1" }, false, ["encrypt"]);
    const priv = await subtle().importKey("jwk", RSA, { name: "RSA-OAEP", hash: "SHA-1" }, false, ["decrypt"]);
    const ct = await subtle().encrypt({ name: "RSA-OAEP", label: enc.encode("L") }, pub, data);
    const back = await subtle().decrypt({ name: "RSA-OAEP", label: enc.encode("L") }, priv, ct);
    let wrong;
    try {
      await subtle().decrypt({ name: "RSA-OAEP", label: enc.encode("M") }, priv, ct);
    } catch (e) {
      wrong = e.name;
    }
    return [ct.byteLength, new TextDecoder().decode(back), wrong];
  },
  "RSA-OAEP usage on import": async () =>
    subtle().importKey("jwk", publicOf(RSA), { name: "RSA-OAEP", hash: "SHA-256" }, false, ["decrypt"]).then((k) => k.usages, (e) => e.name),
  "RSA generateKey sign+verify": async () => {
    const { publicKey, privateKey } = await subtle().generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    );
    const sig = await subtle().sign("RSASSA-PKCS1-v1_5", privateKey, data);
    return [sig.byteLength, await subtle().verify("RSASSA-PKCS1-v1_5", publicKey, sig, data), privateKey.algorithm,
      publicKey.usages, privateKey.usages];
  },
  "wrapKey RSA-OAEP": async () => {
    const pub = await subtle().importKey("jwk", publicOf(RSA), { name: "RSA-OAEP", hash: "SHA-256" }, false, ["wrapKey"]);
    const priv = await subtle().importKey("jwk", RSA, { name: "RSA-OAEP", hash: "SHA-256" }, false, ["unwrapKey"]);
    const k = await raw(key16, "AES-GCM", ["encrypt"]);
    const wrapped = await subtle().wrapKey("raw", k, pub, { name: "RSA-OAEP" });
    const back = await subtle().unwrapKey("raw", wrapped, priv, { name: "RSA-OAEP" }, "AES-GCM", true, ["encrypt"]);
    return [wrapped.byteLength, hex(await subtle().exportKey("raw", back))];
  },
  "wrapKey AES-GCM jwk": async () => {
    const kek = await raw(key32, "AES-GCM", ["wrapKey", "unwrapKey"]);
    const k = await raw(key16, { name: "HMAC", hash: "SHA-256" }, ["sign"]);
    const alg = { name: "AES-GCM", iv: iv12 };
    const wrapped = await subtle().wrapKey("jwk", k, kek, alg);
    const back = await subtle().unwrapKey("jwk", wrapped, kek, alg, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    return [hex(wrapped), back.algorithm, hex(await subtle().exportKey("raw", back))];
  },
  "wrapKey AES-KW jwk": async () => {
    const kek = await raw(key16, "AES-KW", ["wrapKey", "unwrapKey"]);
    const k = await raw(key32, "AES-CBC", ["encrypt"]);
    const wrapped = await subtle().wrapKey("jwk", k, kek, "AES-KW");
    const back = await subtle().unwrapKey("jwk", wrapped, kek, "AES-KW", "AES-CBC", true, ["encrypt"]);
    return [wrapped.byteLength, back.algorithm, hex(await subtle().exportKey("raw", back))];
  },
  "HMAC jwk import": async () => {
    const k = await subtle().importKey("jwk", { kty: "oct", k: "AAECAwQFBgcICQoLDA0ODw", alg: "HS256" },
      { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    return [k.algorithm, hex(await subtle().sign("HMAC", k, data))];
  },
  "RSA-PSS missing saltLength": async () => {
    const priv = await subtle().importKey("jwk", RSA, { name: "RSA-PSS", hash: "SHA-256" }, false, ["sign"]);
    return subtle().sign({ name: "RSA-PSS" }, priv, data);
  },
  "RSA importKey raw": async () => subtle().importKey("raw", key16, { name: "RSA-OAEP", hash: "SHA-256" }, false, ["encrypt"]),
  "RSA-OAEP too long": async () => {
    const pub = await subtle().importKey("jwk", publicOf(RSA), { name: "RSA-OAEP", hash: "SHA-256" }, false, ["encrypt"]);
    return subtle().encrypt({ name: "RSA-OAEP" }, pub, new Uint8Array(100));
  },
  "ECDSA generateKey verify only": async () =>
    subtle().generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]),
  "ECDSA bad curve": async () =>
    subtle().generateKey({ name: "ECDSA", namedCurve: "P-999" }, true, ["sign"]),
  "Ed25519 jwk wrong crv": async () =>
    subtle().importKey("jwk", { ...publicOf(ED25519), crv: "X25519" }, { name: "Ed25519" }, true, ["verify"]),
  "Ed25519 export private raw": async () => {
    const k = await subtle().importKey("jwk", ED25519, { name: "Ed25519" }, true, ["sign"]);
    return subtle().exportKey("raw", k);
  },
  "HMAC sign with AES key": async () => {
    const k = await raw(key16, "AES-GCM", ["encrypt"]);
    return subtle().sign("HMAC", k, data);
  },
  "timingSafeEqual lengths differ": () => crypto.subtle.timingSafeEqual(key16, key32),
  "timingSafeEqual": () =>
    typeof crypto.subtle.timingSafeEqual === "function"
      ? [crypto.subtle.timingSafeEqual(key16, key16), crypto.subtle.timingSafeEqual(key16, iv16)]
      : "<none>",
  "getRandomValues shape": () => {
    const a = new Uint8Array(16);
    const r = crypto.getRandomValues(a);
    return [r === a, a.length];
  },
  "getRandomValues too big": () => crypto.getRandomValues(new Uint8Array(65537)),
  "getRandomValues float": () => crypto.getRandomValues(new Float32Array(1)),
  "randomUUID shape": () => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()),
});

export default worker(probes);
