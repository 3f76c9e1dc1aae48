//! Ed25519 (workerd's `Ed25519` and `NODE-ED25519`): key generation from the guest's random
//! bytes, import and export (`raw` public keys, `spki`, `pkcs8`, `jwk`), signatures.
//!
//! Key material: the 32-byte private seed and the 32-byte public key.

use super::keys::{answer, b64url, jwk_of, url};
use super::{Params, Result, b64, data_err, err, op_err};
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde_json::{Value, json};

/// The DER of a version-1 PKCS #8 Ed25519 key before its 32-byte seed.
const PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn signing_key(seed: &[u8]) -> Result<SigningKey> {
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| data_err("Ed25519 private key must be 32 bytes."))?;
    Ok(SigningKey::from_bytes(&seed))
}

fn verifying_key(public: &[u8]) -> Result<VerifyingKey> {
    let bytes: [u8; 32] = public.try_into().map_err(|_| {
        data_err(format!(
            "Ed25519 raw keys must be exactly 32-bytes (provided {}).",
            public.len()
        ))
    })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| data_err("Invalid Ed25519 public key."))
}

fn pair(key: &SigningKey) -> Result<(Value, Vec<u8>)> {
    answer(
        Some(key.to_bytes().to_vec()),
        key.verifying_key().to_bytes().to_vec(),
    )
}

/// A key pair from the guest's 32 random bytes.
pub(super) fn generate(seed: &[u8]) -> Result<(Value, Vec<u8>)> {
    pair(&signing_key(seed.get(..32).unwrap_or(seed))?)
}

/// Import in `raw` (the public key), `spki`, `pkcs8` or `jwk`.
pub(super) fn import(p: &Params, data: &[u8]) -> Result<(Value, Vec<u8>)> {
    match p.format.as_deref().unwrap_or("") {
        "raw" => answer(None, verifying_key(data)?.to_bytes().to_vec()),
        "spki" => {
            let key = VerifyingKey::from_public_key_der(data)
                .map_err(|_| data_err("Invalid Ed25519 SPKI input."))?;
            answer(None, key.to_bytes().to_vec())
        }
        "pkcs8" => pair(
            &SigningKey::from_pkcs8_der(data)
                .map_err(|_| data_err("Invalid Ed25519 PKCS8 input."))?,
        ),
        "jwk" => {
            let jwk = jwk_of(p)?;
            if jwk["kty"] != "OKP" {
                return Err(data_err(
                    "Ed25519 \"jwk\" key imports requires a JSON Web Key with Key Type \
                     parameter \"kty\" equal to \"OKP\".",
                ));
            }
            if jwk["crv"] != "Ed25519" {
                let crv = jwk["crv"].as_str().unwrap_or_default();
                return Err(err(
                    "NotSupportedError",
                    format!("Only Ed25519 is supported but \"{crv}\" was requested."),
                ));
            }
            let x = url("Ed25519", "x", jwk)?;
            if jwk.get("d").is_some_and(|d| !d.is_null()) {
                let key = signing_key(&url("Ed25519", "d", jwk)?)?;
                if key.verifying_key().to_bytes()[..] != x[..] {
                    return Err(data_err(
                        "Ed25519 JWK: the public key \"x\" does not match the private key \"d\".",
                    ));
                }
                pair(&key)
            } else {
                answer(None, verifying_key(&x)?.to_bytes().to_vec())
            }
        }
        other => Err(err(
            "NotSupportedError",
            format!("Unrecognized key import format \"{other}\"."),
        )),
    }
}

/// Export in `raw` and `spki` (public keys), `pkcs8` (private keys) or `jwk`.
pub(super) fn export(p: &Params) -> Result<(Value, Vec<u8>)> {
    let public = verifying_key(&b64("public", &p.public)?)?;
    let private = match &p.private {
        Some(_) => Some(signing_key(&b64("private", &p.private)?)?),
        None => None,
    };
    match (p.format.as_deref().unwrap_or(""), &private) {
        ("raw", None) => Ok((json!({}), public.to_bytes().to_vec())),
        ("spki", None) => Ok((
            json!({}),
            public
                .to_public_key_der()
                .map_err(|_| op_err("Ed25519 export failed."))?
                .as_bytes()
                .to_vec(),
        )),
        ("pkcs8", Some(k)) => {
            // Version 1 (RFC 8410), without the public key, as workerd (BoringSSL) writes it.
            let mut der = PKCS8_V1_PREFIX.to_vec();
            der.extend_from_slice(&k.to_bytes());
            Ok((json!({}), der))
        }
        ("jwk", _) => {
            let mut jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(public.as_bytes())});
            if let Some(k) = &private {
                jwk["d"] = json!(b64url(&k.to_bytes()));
            }
            Ok((json!({ "jwk": jwk }), Vec::new()))
        }
        (f, _) => Err(err(
            "InvalidAccessError",
            format!(
                "Asymmetric {} key export in \"{f}\" format is not supported.",
                if private.is_some() {
                    "private"
                } else {
                    "public"
                }
            ),
        )),
    }
}

/// The signature of `data` by `private`.
pub(super) fn sign(p: &Params, data: &[u8]) -> Result<Vec<u8>> {
    let key = signing_key(&b64("private", &p.private)?)?;
    Ok(key.sign(data).to_bytes().to_vec())
}

/// Whether `signature` signs `data` for `public` (a signature of the wrong length is `false`).
pub(super) fn verify(p: &Params, data: &[u8]) -> Result<bool> {
    let key = verifying_key(&b64("public", &p.public)?)?;
    let signature = b64("signature", &p.signature)?;
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&signature) else {
        return Ok(false);
    };
    Ok(key.verify_strict(data, &sig).is_ok())
}
