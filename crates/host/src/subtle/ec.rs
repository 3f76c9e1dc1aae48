//! Elliptic curves P-256 and P-384: key generation, import and export (`raw`, `spki`,
//! `pkcs8`, `jwk`) shared by ECDH and ECDSA, ECDH agreement, and ECDSA signatures (IEEE P1363
//! `r || s`, as WebCrypto encodes them; deterministic nonces, RFC 6979).

use super::keys::{Hash, answer, url};
use super::{Params, Result, b64, data_err, err, op_err};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use serde_json::{Value, json};

/// The curves, as one type per operation.
macro_rules! with_curve {
    ($p:expr, |$c:ident| $body:expr) => {
        match $p.curve.as_deref() {
            Some("P-256") => {
                use p256 as $c;
                $body
            }
            Some("P-384") => {
                use p384 as $c;
                $body
            }
            other => Err(err(
                "NotSupportedError",
                format!(
                    "Unrecognized or unimplemented EC curve \"{}\" requested.",
                    other.unwrap_or("")
                ),
            )),
        }
    };
}

/// A key pair from the guest's random bytes (`seed`, at least 32 bytes for P-256 and 48
/// for P-384; the first window that is a valid scalar is taken).
pub(super) fn generate(p: &Params, seed: &[u8]) -> Result<(Value, Vec<u8>)> {
    with_curve!(p, |c| {
        let n = c::FieldBytes::default().len();
        let key = seed
            .windows(n)
            .step_by(n.max(1))
            .find_map(|w| c::SecretKey::from_slice(w).ok())
            .ok_or_else(|| op_err("edgesim: not enough random bytes to generate an EC key"))?;
        let public = key.public_key().to_sec1_bytes().to_vec();
        answer(Some(key.to_bytes().to_vec()), public)
    })
}

/// Import in `raw` (public point), `spki`, `pkcs8` or `jwk`: the key as scalar and point.
pub(super) fn import(p: &Params, data: &[u8]) -> Result<(Value, Vec<u8>)> {
    let format = p.format.as_deref().unwrap_or("raw");
    with_curve!(p, |c| {
        match format {
            "raw" => {
                let key = c::PublicKey::from_sec1_bytes(data)
                    .map_err(|_| data_err("Invalid raw EC public key."))?;
                answer(None, key.to_sec1_bytes().to_vec())
            }
            "spki" => {
                let key = c::PublicKey::from_public_key_der(data)
                    .map_err(|_| data_err("Invalid SPKI input."))?;
                answer(None, key.to_sec1_bytes().to_vec())
            }
            "pkcs8" => {
                let key = c::SecretKey::from_pkcs8_der(data)
                    .map_err(|_| data_err("Invalid PKCS8 input."))?;
                answer(
                    Some(key.to_bytes().to_vec()),
                    key.public_key().to_sec1_bytes().to_vec(),
                )
            }
            "jwk" => {
                let jwk = p.jwk.clone().unwrap_or(Value::Null);
                if jwk["kty"] != "EC" {
                    return Err(data_err(
                        "Asymmetric \"jwk\" key import requires a JSON Web Key with Key Type \
                         parameter \"kty\" equal to \"EC\".",
                    ));
                }
                if jwk["crv"].as_str() != p.curve.as_deref() {
                    return Err(data_err(
                        "\"crv\" field of the JWK does not match the requested namedCurve.",
                    ));
                }
                if jwk.get("d").is_some_and(|d| !d.is_null()) {
                    let d = url("EC", "d", &jwk)?;
                    let key = c::SecretKey::from_slice(&d)
                        .map_err(|_| data_err("Invalid EC JWK: bad private scalar."))?;
                    answer(
                        Some(key.to_bytes().to_vec()),
                        key.public_key().to_sec1_bytes().to_vec(),
                    )
                } else {
                    let mut point = vec![4u8];
                    point.extend(url("EC", "x", &jwk)?);
                    point.extend(url("EC", "y", &jwk)?);
                    let key = c::PublicKey::from_sec1_bytes(&point)
                        .map_err(|_| data_err("Invalid EC JWK: not a point on the curve."))?;
                    answer(None, key.to_sec1_bytes().to_vec())
                }
            }
            other => Err(err(
                "NotSupportedError",
                format!("Unrecognized key import format \"{other}\"."),
            )),
        }
    })
}

/// Export in `raw` (public point), `spki`, `pkcs8` or `jwk` (`{"jwk": ...}`).
pub(super) fn export(p: &Params) -> Result<(Value, Vec<u8>)> {
    let format = p.format.as_deref().unwrap_or("raw");
    let public = b64("public", &p.public)?;
    let private = match &p.private {
        Some(_) => Some(b64("private", &p.private)?),
        None => None,
    };
    with_curve!(p, |c| {
        let pk = c::PublicKey::from_sec1_bytes(&public)
            .map_err(|_| op_err("Public key export failed."))?;
        match (format, &private) {
            ("raw", None) => Ok((json!({}), pk.to_sec1_bytes().to_vec())),
            ("spki", None) => Ok((
                json!({}),
                pk.to_public_key_der()
                    .map_err(|_| op_err("Public key export failed."))?
                    .as_bytes()
                    .to_vec(),
            )),
            ("pkcs8", Some(d)) => {
                let sk = c::SecretKey::from_slice(d)
                    .map_err(|_| op_err("Private key export failed."))?;
                let der = sk
                    .to_pkcs8_der()
                    .map_err(|_| op_err("Private key export failed."))?;
                Ok((json!({}), der.as_bytes().to_vec()))
            }
            ("jwk", _) => {
                let point = pk.to_sec1_bytes();
                let n = (point.len() - 1) / 2;
                let mut jwk = json!({
                    "kty": "EC",
                    "crv": p.curve,
                    "x": URL_SAFE_NO_PAD.encode(&point[1..1 + n]),
                    "y": URL_SAFE_NO_PAD.encode(&point[1 + n..]),
                });
                if let Some(d) = &private {
                    jwk["d"] = json!(URL_SAFE_NO_PAD.encode(d));
                }
                Ok((json!({"jwk": jwk}), Vec::new()))
            }
            (f, _) => Err(err(
                "InvalidAccessError",
                format!("Cannot export \"ECDH\" in \"{f}\" format for this key type."),
            )),
        }
    })
}

/// The shared secret of `private` and `public`, cut to `length` bits (all of it if none).
pub(super) fn derive(p: &Params) -> Result<Vec<u8>> {
    let private = b64("private", &p.private)?;
    let public = b64("public", &p.public)?;
    let mut secret = with_curve!(p, |c| {
        let sk = c::SecretKey::from_slice(&private)
            .map_err(|_| op_err("Failed to derive shared secret."))?;
        let pk = c::PublicKey::from_sec1_bytes(&public)
            .map_err(|_| op_err("Failed to derive shared secret."))?;
        let shared = c::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
        Ok(shared.raw_secret_bytes().to_vec())
    })?;
    if let Some(bits) = p.length {
        let bits = bits as usize;
        if bits > secret.len() * 8 {
            return Err(op_err(format!(
                "Derived key length ({bits} bits) is too long (should be at most {} bits).",
                secret.len() * 8
            )));
        }
        secret.truncate(bits.div_ceil(8));
        if !bits.is_multiple_of(8)
            && let Some(last) = secret.last_mut()
        {
            *last &= 0xffu8 << (8 - bits % 8);
        }
    }
    Ok(secret)
}

/// ECDSA: the signature (`r || s`) of `data` hashed with `hash`, by `private` (the scalar).
pub(super) fn sign(p: &Params, data: &[u8]) -> Result<Vec<u8>> {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    let digest = Hash::of(p)?.digest(data);
    let private = b64("private", &p.private)?;
    with_curve!(p, |c| {
        let key = c::ecdsa::SigningKey::from_slice(&private)
            .map_err(|_| op_err("ECDSA signing failed: bad private key."))?;
        let sig: c::ecdsa::Signature = key
            .sign_prehash(&digest)
            .map_err(|_| op_err("ECDSA signing failed."))?;
        Ok(sig.to_bytes().to_vec())
    })
}

/// ECDSA: whether `signature` (`r || s`) signs `data` hashed with `hash` for `public`. A
/// signature of the wrong length is `false`, as in workerd.
pub(super) fn verify(p: &Params, data: &[u8]) -> Result<bool> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let digest = Hash::of(p)?.digest(data);
    let public = b64("public", &p.public)?;
    let signature = b64("signature", &p.signature)?;
    with_curve!(p, |c| {
        let key = c::ecdsa::VerifyingKey::from_sec1_bytes(&public)
            .map_err(|_| op_err("ECDSA verification failed: bad public key."))?;
        let Ok(sig) = c::ecdsa::Signature::from_slice(&signature) else {
            return Ok(false);
        };
        Ok(key.verify_prehash(&digest, &sig).is_ok())
    })
}
