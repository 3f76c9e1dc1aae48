//! AES: GCM, CBC, CTR (WebCrypto's counter rules) and KW (RFC 3394), for `encrypt`,
//! `decrypt`, `wrapKey` and `unwrapKey`.

use super::{Params, Result, SubtleError, b64, b64_or_empty, data_err, err, op_err};
use ::aes::cipher::block_padding::Pkcs7;
use ::aes::cipher::{BlockDecryptMut, BlockEncrypt, BlockEncryptMut, KeyInit, KeyIvInit};
use ::aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::aead::consts::{U12, U16};

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
    C: ::aes::cipher::BlockCipher
        + ::aes::cipher::BlockSizeUser<BlockSize = U16>
        + BlockEncrypt
        + KeyInit,
    N: ::aes::cipher::ArrayLength<u8>,
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
            .map_err(|_| decrypt_failed(data.len() - tag_len, "AES-GCM"))?;
        let mut again = plain.clone();
        let full = cipher
            .encrypt_in_place_detached(nonce, aad, &mut again)
            .map_err(|_| decrypt_failed(data.len() - tag_len, "AES-GCM"))?;
        let diff = full[..tag_len]
            .iter()
            .zip(tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 {
            return Err(decrypt_failed(data.len() - tag_len, "AES-GCM"));
        }
        Ok(plain)
    }
}

pub(super) fn gcm(encrypt: bool, key: &[u8], p: &Params, data: &[u8]) -> Result<Vec<u8>> {
    aes_key_len(key)?;
    let iv = b64("iv", &p.iv)?;
    if iv.is_empty() {
        return Err(op_err("AES-GCM IV must not be empty."));
    }
    let aad = b64_or_empty("additionalData", &p.additional_data)?;
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

pub(super) fn cbc(encrypt: bool, key: &[u8], p: &Params, data: &[u8]) -> Result<Vec<u8>> {
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
pub(super) fn ctr(key: &[u8], p: &Params, data: &[u8]) -> Result<Vec<u8>> {
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
                let mut block = ::aes::Block::from(ctr.to_be_bytes());
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
pub(super) fn kw(wrap: bool, key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
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
