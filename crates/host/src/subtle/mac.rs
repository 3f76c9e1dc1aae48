//! HMAC `sign` and `verify` (SHA-1 and SHA-2); keys are raw bytes the shim keeps.

use super::keys::Hash;
use super::{Params, Result, b64, op_err};
use hmac::{Hmac, Mac};

/// The HMAC of `data` with `key` under `hash`.
pub(super) fn sign(p: &Params, data: &[u8]) -> Result<Vec<u8>> {
    let key = b64("key", &p.key)?;
    macro_rules! mac {
        ($h:ty) => {{
            let mut m = <Hmac<$h> as Mac>::new_from_slice(&key)
                .map_err(|_| op_err("HMAC key is not usable."))?;
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }};
    }
    Ok(match Hash::of(p)? {
        Hash::Sha1 => mac!(sha1::Sha1),
        Hash::Sha256 => mac!(sha2::Sha256),
        Hash::Sha384 => mac!(sha2::Sha384),
        Hash::Sha512 => mac!(sha2::Sha512),
    })
}

/// Whether `signature` is the HMAC of `data` (compared in constant time).
pub(super) fn verify(p: &Params, data: &[u8]) -> Result<bool> {
    let expected = sign(p, data)?;
    let given = b64("signature", &p.signature)?;
    if given.len() != expected.len() {
        return Ok(false);
    }
    Ok(expected
        .iter()
        .zip(&given)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0)
}
