//! Known-answer and round-trip tests of the host operations, through [`run`] as the shim calls
//! them: the symmetric ones here, the key pairs in [`asymmetric`].

mod asymmetric;

use super::*;

pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(super) fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub(super) fn params(v: Value) -> Params {
    serde_json::from_value(v).unwrap()
}

pub(super) fn e64(b: &[u8]) -> String {
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
    let p96 = params(json!({"alg": "AES-GCM", "key": e64(&key), "iv": e64(&iv), "tagLength": 96}));
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
    let p =
        params(json!({"alg": "AES-CTR", "key": e64(&key), "counter": e64(&ctr), "length": 128}));
    let pt = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    let (_, ct) = run("encrypt", &p, &pt).unwrap();
    assert_eq!(
        hex(&ct),
        "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
    );
    // With an 8-bit counter, 0xff wraps to 0x00 and the upper bytes stay.
    let p8 = params(json!({"alg": "AES-CTR", "key": e64(&key), "counter": e64(&ctr), "length": 8}));
    let (_, ct8) = run("encrypt", &p8, &pt).unwrap();
    assert_eq!(&ct8[..16], &ct[..16]);
    assert_ne!(&ct8[16..], &ct[16..]);
    let p1 = params(json!({"alg": "AES-CTR", "key": e64(&key), "counter": e64(&ctr), "length": 1}));
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
        "sign",
        "verify",
        "rsaGenerate",
        "rsaImport",
        "rsaExport",
        "edGenerate",
        "edImport",
        "edExport",
        "nope",
    ] {
        for alg in [
            "AES-GCM",
            "AES-CBC",
            "AES-CTR",
            "PBKDF2",
            "HKDF",
            "ECDH",
            "ECDSA",
            "HMAC",
            "RSA-OAEP",
            "RSA-PSS",
            "RSASSA-PKCS1-v1_5",
            "Ed25519",
            "",
        ] {
            let p = params(
                json!({"alg": alg, "key": e64(&[1; 5]), "iv": "!!", "curve": "P-256",
                "hash": "SHA-256", "private": e64(&[2; 7]), "public": e64(&[3; 9]),
                "signature": e64(&[4; 3]), "format": "jwk", "jwk": {"kty": "RSA", "n": "AQ"},
                "modulusLength": 7, "publicExponent": "AQAB", "saltLength": 5}),
            );
            let _ = run(op, &p, b"data");
        }
    }
    let out = serve("encrypt", b"not json");
    let head = &out[..out.iter().position(|&b| b == b'\n').unwrap()];
    let v: Value = serde_json::from_slice(head).unwrap();
    assert_eq!(v["name"], "OperationError");
}

#[test]
fn hmac_matches_rfc4231_case_2() {
    let p = params(json!({"alg": "HMAC", "hash": "SHA-256", "key": e64(b"Jefe")}));
    let (_, mac) = run("sign", &p, b"what do ya want for nothing?").unwrap();
    assert_eq!(
        hex(&mac),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    let v = params(
        json!({"alg": "HMAC", "hash": "SHA-256", "key": e64(b"Jefe"),
        "signature": e64(&mac)}),
    );
    assert_eq!(
        run("verify", &v, b"what do ya want for nothing?")
            .unwrap()
            .0["ok"],
        true
    );
    assert_eq!(
        run("verify", &v, b"what do ya want for nothing!")
            .unwrap()
            .0["ok"],
        false
    );
}
