//! Helpers the key modules share: JWK fields, key-material answers, hash names, and digests.

use super::{Params, Result, data_err, err};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::Digest as _;

/// The base64url field `field` of a JWK of key type `kty` (for the message).
pub(super) fn url(kty: &str, field: &str, jwk: &Value) -> Result<Vec<u8>> {
    let s = jwk[field].as_str().ok_or_else(|| {
        data_err(format!(
            "Invalid {kty} JWK: missing or invalid \"{field}\"."
        ))
    })?;
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| data_err(format!("Invalid {kty} JWK: \"{field}\" is not base64url.")))
}

/// Base64url without padding, as JWKs encode their fields.
pub(super) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The answer of a key generation or import: `{type, private?, public}` (material base64).
pub(super) fn answer(private: Option<Vec<u8>>, public: Vec<u8>) -> Result<(Value, Vec<u8>)> {
    let mut v = json!({"public": STANDARD.encode(public)});
    if let Some(d) = private {
        v["private"] = json!(STANDARD.encode(d));
        v["type"] = json!("private");
    } else {
        v["type"] = json!("public");
    }
    Ok((v, Vec::new()))
}

/// The JWK parameter of an import, which must be an object.
pub(super) fn jwk_of(p: &Params) -> Result<&Value> {
    match &p.jwk {
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Err(data_err("Invalid JWK: expected a JSON Web Key object.")),
    }
}

/// A SHA hash WebCrypto names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The hash of the `hash` parameter.
    pub(super) fn of(p: &Params) -> Result<Hash> {
        match p.hash.as_deref() {
            None => Err(err("TypeError", "Missing field \"hash\" in \"algorithm\".")),
            Some("SHA-1") => Ok(Hash::Sha1),
            Some("SHA-256") => Ok(Hash::Sha256),
            Some("SHA-384") => Ok(Hash::Sha384),
            Some("SHA-512") => Ok(Hash::Sha512),
            Some(other) => Err(err(
                "NotSupportedError",
                format!("Unrecognized or unimplemented digest algorithm requested: \"{other}\"."),
            )),
        }
    }

    /// The digest of `data`.
    pub(super) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// The digest's length in bytes.
    pub(super) fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}
