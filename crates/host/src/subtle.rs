//! `crypto.subtle` operations the JavaScript engine lacks, computed by the host on RustCrypto
//! crates: AES-GCM, AES-CBC, AES-CTR and AES-KW encryption, PBKDF2 and HKDF derivation, and
//! ECDH (P-256, P-384) key generation, import, export and agreement.
//!
//! StarlingMonkey has `digest`, HMAC/RSASSA/ECDSA `sign`/`verify` and their keys natively; the
//! rest comes here through the internal host (`POST /subtle/<op>`, see [`crate::internal`]),
//! called by the adapter's shim (`crates/js/js/polyfills/subtle.js`), which keeps `CryptoKey`
//! objects, checks usages and algorithms, and turns failures into `DOMException`s. Everything
//! here is a pure function of its input (random bytes, for key generation, come from the
//! guest's `crypto.getRandomValues`, so simulation stays deterministic).
//!
//! Wire format (private to the shim and this module): the request body is one line of JSON
//! parameters (binary fields base64, standard alphabet), a newline, then the data. The answer
//! is one line of JSON, a newline, then the result bytes; a failure answers
//! `{"error": message, "name": "OperationError" | "DataError" | "NotSupportedError" | ...}`,
//! with workerd's messages where it has one.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncrypt, BlockEncryptMut, KeyInit, KeyIvInit};
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::aead::consts::{U12, U16};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Value, json};

/// A failure: the `DOMException` name and its message.
#[derive(Debug, PartialEq)]
pub(crate) struct SubtleError {
    /// `OperationError`, `DataError`, `NotSupportedError`, `InvalidAccessError`, `TypeError`.
    pub name: &'static str,
    /// The message, workerd's where it has one.
    pub message: String,
}

fn err(name: &'static str, message: impl Into<String>) -> SubtleError {
    SubtleError {
        name,
        message: message.into(),
    }
}

fn op_err(message: impl Into<String>) -> SubtleError {
    err("OperationError", message)
}

fn data_err(message: impl Into<String>) -> SubtleError {
    err("DataError", message)
}

type Result<T> = std::result::Result<T, SubtleError>;

/// Parameters of one operation (the fields each uses; binary ones base64).
#[derive(Deserialize, Default, Debug)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Params {
    alg: String,
    key: Option<String>,
    iv: Option<String>,
    additional_data: Option<String>,
    tag_length: Option<u32>,
    counter: Option<String>,
    length: Option<u32>,
    salt: Option<String>,
    info: Option<String>,
    iterations: Option<u64>,
    hash: Option<String>,
    curve: Option<String>,
    format: Option<String>,
    private: Option<String>,
    public: Option<String>,
    jwk: Option<Value>,
}

fn b64(field: &str, v: &Option<String>) -> Result<Vec<u8>> {
    match v {
        None => Err(err(
            "TypeError",
            format!("Missing field \"{field}\" in \"algorithm\"."),
        )),
        Some(s) => STANDARD
            .decode(s)
            .map_err(|e| op_err(format!("edgesim: bad base64 in {field}: {e}"))),
    }
}

fn b64_or_empty(v: &Option<String>) -> Result<Vec<u8>> {
    match v {
        None => Ok(Vec::new()),
        Some(_) => b64("data", v),
    }
}

/// Runs operation `op` on `data`: the answer's JSON and bytes.
pub(crate) fn run(op: &str, p: &Params, data: &[u8]) -> Result<(Value, Vec<u8>)> {
    let bytes = |out: Vec<u8>| Ok((json!({}), out));
    match op {
        "encrypt" | "decrypt" => {
            let key = b64("key", &p.key)?;
            let encrypt = op == "encrypt";
            match p.alg.as_str() {
                "AES-GCM" => bytes(aes_gcm(encrypt, &key, p, data)?),
                "AES-CBC" => bytes(aes_cbc(encrypt, &key, p, data)?),
                "AES-CTR" => bytes(aes_ctr(&key, p, data)?),
                other => Err(err(
                    "NotSupportedError",
                    format!("Unrecognized algorithm \"{other}\" for {op}."),
                )),
            }
        }
        "wrapKw" => bytes(aes_kw(true, &b64("key", &p.key)?, data)?),
        "unwrapKw" => bytes(aes_kw(false, &b64("key", &p.key)?, data)?),
        "deriveBits" => match p.alg.as_str() {
            "PBKDF2" => bytes(pbkdf2(p, &b64("key", &p.key)?)?),
            "HKDF" => bytes(hkdf(p, &b64("key", &p.key)?)?),
            "ECDH" => bytes(ec::derive(p)?),
            other => Err(err(
                "NotSupportedError",
                format!("Unrecognized algorithm \"{other}\" for deriveBits."),
            )),
        },
        "ecGenerate" => ec::generate(p, data),
        "ecImport" => ec::import(p, data),
        "ecExport" => ec::export(p),
        other => Err(err(
            "NotSupportedError",
            format!("edgesim.internal: unknown crypto.subtle operation {other}"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// AES

fn aes_key_len(key: &[u8]) -> Result<()> {
    match key.len() {
        16 | 24 | 32 => Ok(()),
        n => Err(data_err(format!(
            "Imported AES key length must be 128, 192, or 256 bits but provided {}.",
            n * 8
        ))),
    }
}

fn decrypt_failed(input: usize, alg: &str) -> SubtleError {
    op_err(format!(
        "Decryption failed. This could be due to a ciphertext authentication failure, bad \
         padding, incorrect CryptoKey, or another algorithm-specific reason. Input length was \
         {input}, output length expected to be {input} for {alg}"
    ))
}

/// AES-GCM with `C` (AES-128/192/256) and nonce size `N`. The tag is computed whole and then
/// truncated to `tag_len` bytes; decryption recovers the plaintext with the same keystream and
/// recomputes the tag, comparing its first `tag_len` bytes.
fn gcm_with<C, N>(
    encrypt: bool,
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    tag_len: usize,
    data: &[u8],
) -> Result<Vec<u8>>
where
    C: aes::cipher::BlockCipher
        + aes::cipher::BlockSizeUser<BlockSize = U16>
        + BlockEncrypt
        + KeyInit,
    N: aes::cipher::ArrayLength<u8>,
{
    let cipher = aes_gcm::AesGcm::<C, N>::new_from_slice(key)
        .map_err(|_| op_err("Error doing AES-GCM encrypt/decrypt."))?;
    let nonce = aes_gcm::aead::generic_array::GenericArray::<u8, N>::from_slice(iv);
    if encrypt {
        let mut buf = data.to_vec();
        let tag = cipher
            .encrypt_in_place_detached(nonce, aad, &mut buf)
            .map_err(|_| op_err("Error doing AES-GCM encrypt/decrypt."))?;
        buf.extend_from_slice(&tag[..tag_len]);
        Ok(buf)
    } else {
        if data.len() < tag_len {
            return Err(op_err(format!(
                "Ciphertext length of {} bits must be greater than or equal to the size of the \
                 AES-GCM tag length of {} bits.",
                data.len() * 8,
                tag_len * 8
            )));
        }
        let (body, tag) = data.split_at(data.len() - tag_len);
        // The keystream is the same both ways: "encrypting" the ciphertext yields the plaintext.
        let mut plain = body.to_vec();
        cipher
            .encrypt_in_place_detached(nonce, aad, &mut plain)
            .map_err(|_| decrypt_failed(data.len(), "AES-GCM"))?;
        let mut again = plain.clone();
        let full = cipher
            .encrypt_in_place_detached(nonce, aad, &mut again)
            .map_err(|_| decrypt_failed(data.len(), "AES-GCM"))?;
        let diff = full[..tag_len]
            .iter()
            .zip(tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 {
            return Err(decrypt_failed(data.len(), "AES-GCM"));
        }
        Ok(plain)
    }
}

fn aes_gcm(encrypt: bool, key: &[u8], p: &Params, data: &[u8]) -> Result<Vec<u8>> {
    aes_key_len(key)?;
    let iv = b64("iv", &p.iv)?;
    if iv.is_empty() {
        return Err(op_err("AES-GCM IV must not be empty."));
    }
    let aad = b64_or_empty(&p.additional_data)?;
    let tag_bits = p.tag_length.unwrap_or(128);
    if ![32, 64, 96, 104, 112, 120, 128].contains(&tag_bits) {
        return Err(op_err(format!("Invalid AES-GCM tag length {tag_bits}.")));
    }
    let t = (tag_bits / 8) as usize;
    macro_rules! by_key {
        ($n:ty) => {
            match key.len() {
                16 => gcm_with::<Aes128, $n>(encrypt, key, &iv, &aad, t, data),
                24 => gcm_with::<Aes192, $n>(encrypt, key, &iv, &aad, t, data),
                _ => gcm_with::<Aes256, $n>(encrypt, key, &iv, &aad, t, data),
            }
        };
    }
    match iv.len() {
        12 => by_key!(U12),
        16 => by_key!(U16),
        n => Err(err(
            "NotSupportedError",
            format!(
                "edgesim supports AES-GCM IVs of 12 or 16 bytes (provided {n} bytes); workerd \
                 accepts any non-empty length"
            ),
        )),
    }
}

fn aes_cbc(encrypt: bool, key: &[u8], p: &Params, data: &[u8]) -> Result<Vec<u8>> {
    aes_key_len(key)?;
    let iv = b64("iv", &p.iv)?;
    if iv.len() != 16 {
        return Err(op_err(if encrypt {
            format!(
                "AES-CBC IV must be 16 bytes long (provided {} bytes).",
                iv.len()
            )
        } else {
            format!("AES-CBC IV must be 16 bytes long (provided {}).", iv.len())
        }));
    }
    macro_rules! run_cbc {
        ($c:ty) => {
            if encrypt {
                Ok(cbc::Encryptor::<$c>::new_from_slices(key, &iv)
                    .map_err(|_| op_err("Error doing AES-CBC encrypt/decrypt"))?
                    .encrypt_padded_vec_mut::<Pkcs7>(data))
            } else {
                cbc::Decryptor::<$c>::new_from_slices(key, &iv)
                    .map_err(|_| op_err("Error doing AES-CBC encrypt/decrypt"))?
                    .decrypt_padded_vec_mut::<Pkcs7>(data)
                    .map_err(|_| decrypt_failed(data.len(), "AES-CBC"))
            }
        };
    }
    match key.len() {
        16 => run_cbc!(Aes128),
        24 => run_cbc!(Aes192),
        _ => run_cbc!(Aes256),
    }
}

/// AES-CTR as WebCrypto defines it: only the rightmost `length` bits of the counter block
/// increment (and wrap); the rest stay fixed.
fn aes_ctr(key: &[u8], p: &Params, data: &[u8]) -> Result<Vec<u8>> {
    aes_key_len(key)?;
    let counter = match &p.counter {
        None => {
            return Err(err(
                "TypeError",
                "Missing \"counter\" member in \"algorithm\".",
            ));
        }
        Some(_) => b64("counter", &p.counter)?,
    };
    if counter.len() != 16 {
        return Err(op_err(format!(
            "Counter must have length of 16 bytes (provided {}).",
            counter.len()
        )));
    }
    let bits = p
        .length
        .ok_or_else(|| err("TypeError", "Missing \"length\" member in \"algorithm\"."))?;
    if bits == 0 || bits > 128 {
        return Err(op_err(format!(
            "Invalid counter of {bits} bits length provided."
        )));
    }
    let blocks = data.len().div_ceil(16) as u128;
    if bits < 128 && blocks > (1u128 << bits) {
        return Err(op_err("Counter block values will repeat"));
    }
    let start = u128::from_be_bytes(counter.as_slice().try_into().unwrap_or([0; 16]));
    let mask = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    let fixed = start & !mask;
    let mut out = Vec::with_capacity(data.len());
    macro_rules! run_ctr {
        ($c:ty) => {{
            let cipher = <$c>::new_from_slice(key)
                .map_err(|_| op_err("Error doing AES-CTR encrypt/decrypt"))?;
            for (i, chunk) in data.chunks(16).enumerate() {
                let ctr = fixed | (start.wrapping_add(i as u128) & mask);
                let mut block = aes::Block::from(ctr.to_be_bytes());
                cipher.encrypt_block(&mut block);
                out.extend(chunk.iter().zip(block.iter()).map(|(a, b)| a ^ b));
            }
        }};
    }
    match key.len() {
        16 => run_ctr!(Aes128),
        24 => run_ctr!(Aes192),
        _ => run_ctr!(Aes256),
    }
    Ok(out)
}

/// AES-KW (RFC 3394) wrapping (`wrap`) or unwrapping of `data` with `key`.
fn aes_kw(wrap: bool, key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    aes_key_len(key)?;
    if wrap {
        if !data.len().is_multiple_of(8) {
            return Err(op_err(format!(
                "Unwrapped key bit length must be a multiple of 64 bits but unwrapped key has a \
                 length of {} bits.",
                data.len() * 8
            )));
        }
        if data.len() < 16 {
            return Err(op_err(format!(
                "Unwrapped key has length {} bytes but it should be greater than or equal to 16 \
                 and less than or equal to {}",
                data.len(),
                usize::MAX - 8
            )));
        }
    } else {
        if !data.len().is_multiple_of(8) {
            return Err(op_err(format!(
                "Provided a wrapped key to unwrap that is {} bits which isn't a multiple of 64 \
                 bits.",
                data.len() * 8
            )));
        }
        if data.len() < 24 {
            return Err(op_err(format!(
                "Provided a wrapped key to unwrap this is {} bits that is less than the minimal \
                 length of 192 bits.",
                data.len() * 8
            )));
        }
    }
    macro_rules! run_kw {
        ($k:ty) => {{
            let kek = <$k>::try_from(key).map_err(|_| op_err("AES-KW key wrapping failed"))?;
            if wrap {
                kek.wrap_vec(data)
                    .map_err(|_| op_err("AES-KW key wrapping failed"))
            } else {
                kek.unwrap_vec(data)
                    .map_err(|_| op_err("AES-KW key unwrapping failed"))
            }
        }};
    }
    match key.len() {
        16 => run_kw!(aes_kw::KekAes128),
        24 => run_kw!(aes_kw::KekAes192),
        _ => run_kw!(aes_kw::KekAes256),
    }
}

// ---------------------------------------------------------------------------------------------
// PBKDF2 and HKDF

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

fn hash_name(p: &Params) -> Result<&str> {
    match p.hash.as_deref() {
        None => Err(err("TypeError", "Missing field \"hash\" in \"algorithm\".")),
        Some(h @ ("SHA-1" | "SHA-256" | "SHA-384" | "SHA-512")) => Ok(h),
        Some(other) => Err(err(
            "NotSupportedError",
            format!("Unrecognized or unimplemented digest algorithm requested: \"{other}\"."),
        )),
    }
}

fn pbkdf2(p: &Params, password: &[u8]) -> Result<Vec<u8>> {
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

fn hkdf(p: &Params, ikm: &[u8]) -> Result<Vec<u8>> {
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

// ---------------------------------------------------------------------------------------------
// ECDH

mod ec {
    use super::*;
    use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};

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

    fn url(field: &str, jwk: &Value) -> Result<Vec<u8>> {
        let s = jwk[field]
            .as_str()
            .ok_or_else(|| data_err(format!("Invalid EC JWK: missing or invalid \"{field}\".")))?;
        URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| data_err(format!("Invalid EC JWK: \"{field}\" is not base64url.")))
    }

    fn answer(private: Option<Vec<u8>>, public: Vec<u8>) -> Result<(Value, Vec<u8>)> {
        let mut v = json!({"public": STANDARD.encode(public)});
        if let Some(d) = private {
            v["private"] = json!(STANDARD.encode(d));
            v["type"] = json!("private");
        } else {
            v["type"] = json!("public");
        }
        Ok((v, Vec::new()))
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
                        let d = url("d", &jwk)?;
                        let key = c::SecretKey::from_slice(&d)
                            .map_err(|_| data_err("Invalid EC JWK: bad private scalar."))?;
                        answer(
                            Some(key.to_bytes().to_vec()),
                            key.public_key().to_sec1_bytes().to_vec(),
                        )
                    } else {
                        let mut point = vec![4u8];
                        point.extend(url("x", &jwk)?);
                        point.extend(url("y", &jwk)?);
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
}

/// Serves `POST /subtle/<op>`: parameters, newline, data in; JSON, newline, bytes out.
pub(crate) fn serve(op: &str, body: &[u8]) -> (Value, Vec<u8>) {
    let (head, data) = match body.iter().position(|&b| b == b'\n') {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, &[][..]),
    };
    let params: Params = match serde_json::from_slice(head) {
        Ok(p) => p,
        Err(e) => {
            return (
                json!({"error": format!("edgesim.internal: bad crypto.subtle parameters: {e}"), "name": "OperationError"}),
                Vec::new(),
            );
        }
    };
    match run(op, &params, data) {
        Ok(answer) => answer,
        Err(e) => (json!({"error": e.message, "name": e.name}), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn params(v: Value) -> Params {
        serde_json::from_value(v).unwrap()
    }

    fn e64(b: &[u8]) -> String {
        STANDARD.encode(b)
    }

    #[test]
    fn aes_gcm_matches_the_nist_vector_and_round_trips() {
        // NIST GCM test case 3 (AES-128, 96-bit IV, no AAD).
        let key = unhex("feffe9928665731c6d6a8f9467308308");
        let iv = unhex("cafebabefacedbaddecaf888");
        let pt = unhex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
        );
        let p = params(json!({"alg": "AES-GCM", "key": e64(&key), "iv": e64(&iv)}));
        let (_, ct) = run("encrypt", &p, &pt).unwrap();
        assert_eq!(
            hex(&ct),
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f59854d5c2af327cd64a62cf35abd2ba6fab4"
        );
        let (_, back) = run("decrypt", &p, &ct).unwrap();
        assert_eq!(back, pt);
        let mut bad = ct.clone();
        bad[3] ^= 1;
        let e = run("decrypt", &p, &bad).unwrap_err();
        assert_eq!(e.name, "OperationError");
        assert!(e.message.starts_with("Decryption failed."), "{}", e.message);
        // A truncated tag verifies its prefix.
        let p96 =
            params(json!({"alg": "AES-GCM", "key": e64(&key), "iv": e64(&iv), "tagLength": 96}));
        let (_, ct96) = run("encrypt", &p96, &pt).unwrap();
        assert_eq!(&ct96[..], &ct[..ct.len() - 4]);
        assert_eq!(run("decrypt", &p96, &ct96).unwrap().1, pt);
        let bad_tag =
            params(json!({"alg": "AES-GCM", "key": e64(&key), "iv": e64(&iv), "tagLength": 100}));
        assert_eq!(
            run("encrypt", &bad_tag, &pt).unwrap_err().message,
            "Invalid AES-GCM tag length 100."
        );
    }

    #[test]
    fn aes_cbc_matches_sp800_38a_and_rejects_bad_padding() {
        // SP 800-38A F.2.1, first block, plus the PKCS#7 padding block.
        let key = unhex("2b7e151628aed2a6abf7158809cf4f3c");
        let iv = unhex("000102030405060708090a0b0c0d0e0f");
        let p = params(json!({"alg": "AES-CBC", "key": e64(&key), "iv": e64(&iv)}));
        let (_, ct) = run("encrypt", &p, &unhex("6bc1bee22e409f96e93d7e117393172a")).unwrap();
        assert_eq!(ct.len(), 32);
        assert_eq!(hex(&ct[..16]), "7649abac8119b246cee98e9b12e9197d");
        let (_, back) = run("decrypt", &p, &ct).unwrap();
        assert_eq!(hex(&back), "6bc1bee22e409f96e93d7e117393172a");
        let e = run("decrypt", &p, &ct[..16]).unwrap_err();
        assert_eq!(e.name, "OperationError");
        let short = params(json!({"alg": "AES-CBC", "key": e64(&key), "iv": e64(&iv[..8])}));
        assert_eq!(
            run("encrypt", &short, b"x").unwrap_err().message,
            "AES-CBC IV must be 16 bytes long (provided 8 bytes)."
        );
    }

    #[test]
    fn aes_ctr_matches_sp800_38a_and_wraps_only_the_counter_bits() {
        // SP 800-38A F.5.1 (AES-128 CTR), two blocks.
        let key = unhex("2b7e151628aed2a6abf7158809cf4f3c");
        let ctr = unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        let p = params(
            json!({"alg": "AES-CTR", "key": e64(&key), "counter": e64(&ctr), "length": 128}),
        );
        let pt = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        let (_, ct) = run("encrypt", &p, &pt).unwrap();
        assert_eq!(
            hex(&ct),
            "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
        );
        // With an 8-bit counter, 0xff wraps to 0x00 and the upper bytes stay.
        let p8 =
            params(json!({"alg": "AES-CTR", "key": e64(&key), "counter": e64(&ctr), "length": 8}));
        let (_, ct8) = run("encrypt", &p8, &pt).unwrap();
        assert_eq!(&ct8[..16], &ct[..16]);
        assert_ne!(&ct8[16..], &ct[16..]);
        let p1 =
            params(json!({"alg": "AES-CTR", "key": e64(&key), "counter": e64(&ctr), "length": 1}));
        assert_eq!(
            run("encrypt", &p1, &[0u8; 48]).unwrap_err().message,
            "Counter block values will repeat"
        );
    }

    #[test]
    fn aes_kw_matches_rfc3394() {
        let kek = unhex("000102030405060708090a0b0c0d0e0f");
        let p = params(json!({"key": e64(&kek)}));
        let (_, w) = run("wrapKw", &p, &unhex("00112233445566778899aabbccddeeff")).unwrap();
        assert_eq!(hex(&w), "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
        let (_, u) = run("unwrapKw", &p, &w).unwrap();
        assert_eq!(hex(&u), "00112233445566778899aabbccddeeff");
        let mut bad = w.clone();
        bad[0] ^= 1;
        assert_eq!(
            run("unwrapKw", &p, &bad).unwrap_err().name,
            "OperationError"
        );
    }

    #[test]
    fn pbkdf2_and_hkdf_match_their_rfc_vectors() {
        // RFC 6070, test 2.
        let p = params(
            json!({"alg": "PBKDF2", "key": e64(b"password"), "salt": e64(b"salt"),
            "iterations": 2, "hash": "SHA-1", "length": 160}),
        );
        assert_eq!(
            hex(&run("deriveBits", &p, &[]).unwrap().1),
            "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"
        );
        let zero = params(json!({"alg": "PBKDF2", "key": e64(b"p"), "salt": e64(b"s"),
            "iterations": 0, "hash": "SHA-256", "length": 256}));
        assert_eq!(
            run("deriveBits", &zero, &[]).unwrap_err().message,
            "PBKDF2 requires a positive iteration count (requested 0)."
        );
        // RFC 5869, test case 1.
        let h = params(json!({"alg": "HKDF", "key": e64(&[0x0b; 22]),
            "salt": e64(&unhex("000102030405060708090a0b0c")),
            "info": e64(&unhex("f0f1f2f3f4f5f6f7f8f9")), "hash": "SHA-256", "length": 336}));
        assert_eq!(
            hex(&run("deriveBits", &h, &[]).unwrap().1),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
        let odd = params(
            json!({"alg": "HKDF", "key": e64(b"k"), "salt": e64(b""), "info": e64(b""),
            "hash": "SHA-256", "length": 12}),
        );
        assert_eq!(
            run("deriveBits", &odd, &[]).unwrap_err().name,
            "OperationError"
        );
    }

    #[test]
    fn ecdh_agrees_and_keys_survive_export_and_import() {
        for curve in ["P-256", "P-384"] {
            let make = |seed: u8| {
                let p = params(json!({"curve": curve}));
                run("ecGenerate", &p, &[seed; 96]).unwrap().0
            };
            let (a, b) = (make(1), make(2));
            let derive = |mine: &Value, theirs: &Value| {
                let p = params(json!({"alg": "ECDH", "curve": curve,
                    "private": mine["private"], "public": theirs["public"]}));
                run("deriveBits", &p, &[]).unwrap().1
            };
            assert_eq!(derive(&a, &b), derive(&b, &a));
            // pkcs8 and jwk round trips.
            let ex = params(json!({"curve": curve, "format": "pkcs8",
                "private": a["private"], "public": a["public"]}));
            let (_, der) = run("ecExport", &ex, &[]).unwrap();
            let im = params(json!({"curve": curve, "format": "pkcs8"}));
            assert_eq!(
                run("ecImport", &im, &der).unwrap().0["private"],
                a["private"]
            );
            let ex = params(json!({"curve": curve, "format": "jwk", "public": b["public"]}));
            let jwk = run("ecExport", &ex, &[]).unwrap().0["jwk"].clone();
            let im = params(json!({"curve": curve, "format": "jwk", "jwk": jwk}));
            assert_eq!(run("ecImport", &im, &[]).unwrap().0["public"], b["public"]);
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for op in [
            "encrypt",
            "decrypt",
            "wrapKw",
            "unwrapKw",
            "deriveBits",
            "ecGenerate",
            "ecImport",
            "ecExport",
            "nope",
        ] {
            for alg in [
                "AES-GCM", "AES-CBC", "AES-CTR", "PBKDF2", "HKDF", "ECDH", "",
            ] {
                let p =
                    params(json!({"alg": alg, "key": e64(&[1; 5]), "iv": "!!", "curve": "P-256"}));
                let _ = run(op, &p, b"data");
            }
        }
        let (v, _) = serve("encrypt", b"not json");
        assert_eq!(v["name"], "OperationError");
    }
}
