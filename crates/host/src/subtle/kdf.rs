//! PBKDF2 and HKDF `deriveBits` (and so `deriveKey`), on SHA-1 and SHA-2.

use super::{Params, Result, b64, err, op_err};

fn derived_len(p: &Params, alg: &str) -> Result<usize> {
    let bits = p
        .length
        .ok_or_else(|| op_err(format!("{alg} cannot derive a key with null length.")))?;
    if bits % 8 != 0 {
        return Err(op_err(format!(
            "{alg} requires a derived key length that is a multiple of eight (requested {bits})."
        )));
    }
    Ok((bits / 8) as usize)
}

pub(super) fn hash_name(p: &Params) -> Result<&str> {
    match p.hash.as_deref() {
        None => Err(err("TypeError", "Missing field \"hash\" in \"algorithm\".")),
        Some(h @ ("SHA-1" | "SHA-256" | "SHA-384" | "SHA-512")) => Ok(h),
        Some(other) => Err(err(
            "NotSupportedError",
            format!("Unrecognized or unimplemented digest algorithm requested: \"{other}\"."),
        )),
    }
}

pub(super) fn pbkdf2(p: &Params, password: &[u8]) -> Result<Vec<u8>> {
    let hash = hash_name(p)?;
    let salt = b64("salt", &p.salt)?;
    let iterations = p.iterations.ok_or_else(|| {
        err(
            "TypeError",
            "Missing field \"iterations\" in \"algorithm\".",
        )
    })?;
    let len = derived_len(p, "PBKDF2")?;
    if iterations == 0 || iterations > u32::MAX as u64 {
        return Err(op_err(format!(
            "PBKDF2 requires a positive iteration count (requested {iterations})."
        )));
    }
    let rounds = iterations as u32;
    let mut out = vec![0u8; len];
    match hash {
        "SHA-1" => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, &salt, rounds, &mut out),
        "SHA-256" => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &salt, rounds, &mut out),
        "SHA-384" => pbkdf2::pbkdf2_hmac::<sha2::Sha384>(password, &salt, rounds, &mut out),
        _ => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, &salt, rounds, &mut out),
    }
    Ok(out)
}

pub(super) fn hkdf(p: &Params, ikm: &[u8]) -> Result<Vec<u8>> {
    let hash = hash_name(p)?;
    let salt = b64("salt", &p.salt)?;
    let info = b64("info", &p.info)?;
    let len = derived_len(p, "HKDF")?;
    let mut out = vec![0u8; len];
    let ok = match hash {
        "SHA-1" => hkdf::Hkdf::<sha1::Sha1>::new(Some(&salt), ikm)
            .expand(&info, &mut out)
            .is_ok(),
        "SHA-256" => hkdf::Hkdf::<sha2::Sha256>::new(Some(&salt), ikm)
            .expand(&info, &mut out)
            .is_ok(),
        "SHA-384" => hkdf::Hkdf::<sha2::Sha384>::new(Some(&salt), ikm)
            .expand(&info, &mut out)
            .is_ok(),
        _ => hkdf::Hkdf::<sha2::Sha512>::new(Some(&salt), ikm)
            .expand(&info, &mut out)
            .is_ok(),
    };
    if !ok {
        return Err(op_err("HKDF deriveBits failed."));
    }
    Ok(out)
}
