//! RSA: RSASSA-PKCS1-v1_5 and RSA-PSS signatures, RSA-OAEP encryption, and RSA keys
//! (generation from the guest's random bytes; import and export in `spki`, `pkcs8` and `jwk`).
//!
//! Key material travels as DER: a private key as PKCS #8, a public key as SPKI (base64 in the
//! JSON), so each operation parses the key it is given and keeps nothing.

use super::keys::{Hash, answer, b64url, jwk_of, url};
use super::seeded::Seeded;
use super::{Params, Result, b64, b64_or_empty, data_err, err, op_err};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};

/// Runs `$body` with `$h` the digest type of `$hash` ([`Hash`]).
macro_rules! with_hash {
    ($hash:expr, |$h:ident| $body:expr) => {
        match $hash {
            Hash::Sha1 => {
                type $h = sha1::Sha1;
                $body
            }
            Hash::Sha256 => {
                type $h = sha2::Sha256;
                $body
            }
            Hash::Sha384 => {
                type $h = sha2::Sha384;
                $body
            }
            Hash::Sha512 => {
                type $h = sha2::Sha512;
                $body
            }
        }
    };
}

fn private_key(p: &Params) -> Result<RsaPrivateKey> {
    RsaPrivateKey::from_pkcs8_der(&b64("private", &p.private)?)
        .map_err(|_| op_err("edgesim: the RSA private key does not parse."))
}

fn public_key(p: &Params) -> Result<RsaPublicKey> {
    RsaPublicKey::from_public_key_der(&b64("public", &p.public)?)
        .map_err(|_| op_err("edgesim: the RSA public key does not parse."))
}

/// The answer of a generation or import: the key as DER, its modulus length and exponent.
fn key_answer(private: Option<&RsaPrivateKey>, public: &RsaPublicKey) -> Result<(Value, Vec<u8>)> {
    let spki = public
        .to_public_key_der()
        .map_err(|_| op_err("RSA public key encoding failed."))?;
    let pkcs8 = match private {
        Some(k) => Some(
            k.to_pkcs8_der()
                .map_err(|_| op_err("RSA private key encoding failed."))?
                .as_bytes()
                .to_vec(),
        ),
        None => None,
    };
    let (mut meta, _) = answer(pkcs8, spki.as_bytes().to_vec())?;
    meta["modulusLength"] = json!(public.n().bits());
    meta["publicExponent"] = json!(STANDARD.encode(public.e().to_bytes_be()));
    Ok((meta, Vec::new()))
}

/// A key pair of `modulusLength` bits and exponent `publicExponent`, from the guest's random
/// bytes (`seed`).
pub(super) fn generate(p: &Params, seed: &[u8]) -> Result<(Value, Vec<u8>)> {
    let bits = p.modulus_length.ok_or_else(|| {
        err(
            "TypeError",
            "Missing field \"modulusLength\" in \"algorithm\".",
        )
    })?;
    let exponent = BigUint::from_bytes_be(&b64("publicExponent", &p.public_exponent)?);
    if exponent != BigUint::from(3u32) && exponent != BigUint::from(65537u32) {
        return Err(op_err(
            "The \"publicExponent\" must be either 3 or 65537, but got a different value.",
        ));
    }
    if bits < 256 || bits % 8 != 0 || bits > 16384 {
        return Err(op_err(
            "The modulus length must be a multiple of 8 and at least 256.",
        ));
    }
    let mut rng = Seeded::new(seed);
    let key = RsaPrivateKey::new_with_exp(&mut rng, bits as usize, &exponent)
        .map_err(|e| op_err(format!("RSA key generation failed: {e}")))?;
    key_answer(Some(&key), &key.to_public_key())
}

fn big(kty_field: &str, jwk: &Value) -> Result<BigUint> {
    Ok(BigUint::from_bytes_be(&url("RSA", kty_field, jwk)?))
}

/// Import in `spki`, `pkcs8` or `jwk`.
pub(super) fn import(p: &Params, data: &[u8]) -> Result<(Value, Vec<u8>)> {
    match p.format.as_deref().unwrap_or("") {
        "spki" => {
            let key = RsaPublicKey::from_public_key_der(data)
                .map_err(|_| data_err("Invalid RSA SPKI input."))?;
            key_answer(None, &key)
        }
        "pkcs8" => {
            let key = RsaPrivateKey::from_pkcs8_der(data)
                .map_err(|_| data_err("Invalid RSA PKCS8 input."))?;
            key_answer(Some(&key), &key.to_public_key())
        }
        "jwk" => {
            let jwk = jwk_of(p)?;
            if jwk["kty"] != "RSA" {
                return Err(data_err(
                    "RSASSA-PKCS1-v1_5, RSA-PSS and RSA-OAEP \"jwk\" key import requires a JSON \
                     Web Key with Key Type parameter \"kty\" equal to \"RSA\".",
                ));
            }
            let (n, e) = (big("n", jwk)?, big("e", jwk)?);
            if jwk.get("d").is_some_and(|d| !d.is_null()) {
                let d = big("d", jwk)?;
                let primes = match (jwk.get("p"), jwk.get("q")) {
                    (Some(_), Some(_)) => vec![big("p", jwk)?, big("q", jwk)?],
                    _ => Vec::new(),
                };
                let mut key = RsaPrivateKey::from_components(n, e, d, primes)
                    .map_err(|_| data_err("Invalid RSA private key in JWK."))?;
                key.validate()
                    .map_err(|_| data_err("Invalid RSA private key in JWK."))?;
                key.precompute()
                    .map_err(|_| data_err("Invalid RSA private key in JWK."))?;
                key_answer(Some(&key), &key.to_public_key())
            } else {
                let key = RsaPublicKey::new(n, e)
                    .map_err(|_| data_err("Invalid RSA public key in JWK."))?;
                key_answer(None, &key)
            }
        }
        other => Err(err(
            "NotSupportedError",
            format!("Unrecognized key import format \"{other}\"."),
        )),
    }
}

/// Export in `spki` (public keys), `pkcs8` (private keys) or `jwk` (`{"jwk": ...}`, without
/// `alg`, `key_ops` and `ext`, which the shim adds).
pub(super) fn export(p: &Params) -> Result<(Value, Vec<u8>)> {
    let private = match p.private {
        Some(_) => Some(private_key(p)?),
        None => None,
    };
    let public = match &private {
        Some(k) => k.to_public_key(),
        None => public_key(p)?,
    };
    match (p.format.as_deref().unwrap_or(""), &private) {
        ("spki", None) => Ok((json!({}), b64("public", &p.public)?)),
        ("pkcs8", Some(_)) => Ok((json!({}), b64("private", &p.private)?)),
        ("jwk", _) => {
            let mut jwk = json!({
                "kty": "RSA",
                "n": b64url(&public.n().to_bytes_be()),
                "e": b64url(&public.e().to_bytes_be()),
            });
            if let Some(k) = &private {
                let primes = k.primes();
                jwk["d"] = json!(b64url(&k.d().to_bytes_be()));
                if let [pp, q] = primes {
                    let one = BigUint::from(1u32);
                    jwk["p"] = json!(b64url(&pp.to_bytes_be()));
                    jwk["q"] = json!(b64url(&q.to_bytes_be()));
                    let dp = k.d() % (pp - &one);
                    let dq = k.d() % (q - &one);
                    jwk["dp"] = json!(b64url(&dp.to_bytes_be()));
                    jwk["dq"] = json!(b64url(&dq.to_bytes_be()));
                    if let Some(qi) = k.crt_coefficient() {
                        jwk["qi"] = json!(b64url(&qi.to_bytes_be()));
                    }
                }
            }
            Ok((json!({ "jwk": jwk }), Vec::new()))
        }
        (f, _) => Err(err(
            "InvalidAccessError",
            format!(
                "Cannot export an RSA {} key in \"{f}\" format.",
                if private.is_some() {
                    "private"
                } else {
                    "public"
                }
            ),
        )),
    }
}

fn salt_length(p: &Params) -> Result<usize> {
    p.salt_length.map(|n| n as usize).ok_or_else(|| {
        err(
            "TypeError",
            "Missing field \"saltLength\" in \"algorithm\".",
        )
    })
}

/// RSASSA-PKCS1-v1_5 or RSA-PSS (by `alg`): the signature of `data` hashed with `hash`.
pub(super) fn sign(p: &Params, data: &[u8]) -> Result<Vec<u8>> {
    let hash = Hash::of(p)?;
    let digest = hash.digest(data);
    let key = private_key(p)?;
    let signed = if p.alg == "RSA-PSS" {
        let salt = salt_length(p)?;
        let mut rng = Seeded::new(&b64_or_empty("seed", &p.seed)?);
        with_hash!(hash, |H| key.sign_with_rng(
            &mut rng,
            Pss::new_with_salt::<H>(salt),
            &digest
        ))
    } else {
        with_hash!(hash, |H| key.sign(Pkcs1v15Sign::new::<H>(), &digest))
    };
    signed.map_err(|e| op_err(format!("RSA signing failed: {e}")))
}

/// RSASSA-PKCS1-v1_5 or RSA-PSS: whether `signature` signs `data` for `public`.
pub(super) fn verify(p: &Params, data: &[u8]) -> Result<bool> {
    let hash = Hash::of(p)?;
    let digest = hash.digest(data);
    let key = public_key(p)?;
    let signature = b64("signature", &p.signature)?;
    let checked = if p.alg == "RSA-PSS" {
        let salt = salt_length(p)?;
        with_hash!(hash, |H| key.verify(
            Pss::new_with_salt::<H>(salt),
            &digest,
            &signature
        ))
    } else {
        with_hash!(hash, |H| key.verify(
            Pkcs1v15Sign::new::<H>(),
            &digest,
            &signature
        ))
    };
    Ok(checked.is_ok())
}

/// workerd's message for any RSA-OAEP failure (too long a plaintext, a bad ciphertext or label).
const OAEP_FAILED: &str = "RSA-OAEP failed encrypt/decrypt.";

/// RSA-OAEP with `hash` and an optional `label`: encryption (by `public`, padding drawn from
/// `seed`) or decryption (by `private`).
pub(super) fn oaep(encrypt: bool, p: &Params, data: &[u8]) -> Result<Vec<u8>> {
    let hash = Hash::of(p)?;
    let label = match &p.label {
        None => None,
        Some(_) => {
            let bytes = b64("label", &p.label)?;
            let text = String::from_utf8(bytes).map_err(|_| {
                err(
                    "NotSupportedError",
                    "edgesim supports RSA-OAEP labels that are UTF-8 text only.",
                )
            })?;
            (!text.is_empty()).then_some(text)
        }
    };
    let padding = || {
        with_hash!(hash, |H| match &label {
            Some(l) => Oaep::new_with_label::<H, _>(l.clone()),
            None => Oaep::new::<H>(),
        })
    };
    if encrypt {
        let key = public_key(p)?;
        let max = key.size().saturating_sub(2 * hash.len() + 2);
        if data.len() > max {
            return Err(op_err(OAEP_FAILED));
        }
        let mut rng = Seeded::new(&b64_or_empty("seed", &p.seed)?);
        key.encrypt(&mut rng, padding(), data)
            .map_err(|_| op_err(OAEP_FAILED))
    } else {
        private_key(p)?
            .decrypt(padding(), data)
            .map_err(|_| op_err(OAEP_FAILED))
    }
}
