//! Known-answer and round-trip tests of the host operations, through [`run`] as the shim calls them.

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

/// The probe suite's throwaway 1024-bit RSA key (crates/js/tests/probes/crypto.js).
fn rsa_jwk() -> Value {
    json!({
        "kty": "RSA",
        "n": "vyQ4dFaNZUIuC7bS4t_tZoByU9GTU6EsAH7DWBEgd3gHX23fQqrNhd3wH22X6EOjdGDpG3-48s-E4hj3MXqLfGIp61NKTMXkHeZ0QHsXc4PmHx7spckyz26FV9j2KDfSR75sFNxp3lyJR6enrAVz5HmGTvkShkwPFM-M3v358ks",
        "e": "AQAB",
        "d": "cn6m1oFWF1aqMFgmQMJz-VdtpGnAf3Lm4bENIH653PZoLDCrcMrRa6PDB4BlYzrI-ZhnahJ63e-SoMDlqZzHWgRjJtRjEgqwD0ngXyG1AqEAPbrVTU5iNrzDlcY6A79jEv3oaXz467JQfyhA66Hap4R9IUVFV9Cl8-i-i27QHoE",
        "p": "5QoZPmvHlPRENNUhrNZ2nPfhfVK39VlhAejbUmvYeI20V4CKNgeFKGrt1H2eSiG3sR3UugqDLTRkZCzfrNMwQQ",
        "q": "1aQZr8DTp6xI-93piLfW_qLCqxiJLQq-S5K4hWuGgkvlhCbUQgjLwj0iUZHA3l7FdgxtRDzYh_TyMzZJer7_iw",
        "dp": "2leCMSt2G92wl90GOUpJ0OHNqDcO_2mxPKzLSAtfVa1g2nnDSDZrDljBWOxX1bvG7aXOgXw8CQAFJCpTIOJDAQ",
        "dq": "tmo1nIGStzo93wCt5JTEOAuVGC4NAq6HqVOPxiv3X82aHWpiFjgYcrNsWCWRfs2A4Ljfm0IwyHV3UA7sUqg-3Q",
        "qi": "e__Hs1TEEI7Sd_r5ixXsXK_Md2lueY9Xvzh-Ht0Jdw85Ns-4-5vyI3OTntCNXvbY27aFRKN4IzUDHAfPN5LLBg",
    })
}

#[test]
fn rsa_keys_sign_verify_encrypt_and_export_as_they_were_imported() {
    let jwk = rsa_jwk();
    let (key, _) = run(
        "rsaImport",
        &params(json!({"format": "jwk", "jwk": jwk})),
        &[],
    )
    .unwrap();
    assert_eq!(key["type"], "private");
    assert_eq!(key["modulusLength"], 1024);
    assert_eq!(key["publicExponent"], e64(&[1, 0, 1]));
    // The JWK comes back whole, CRT parameters included.
    let ex = params(json!({"format": "jwk", "private": key["private"], "public": key["public"]}));
    let back = run("rsaExport", &ex, &[]).unwrap().0["jwk"].clone();
    for f in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
        assert_eq!(back[f], jwk[f], "{f}");
    }
    for alg in ["RSASSA-PKCS1-v1_5", "RSA-PSS"] {
        let s = params(json!({"alg": alg, "hash": "SHA-256", "saltLength": 32,
            "private": key["private"], "seed": e64(b"salt")}));
        let (_, sig) = run("sign", &s, b"msg").unwrap();
        assert_eq!(sig.len(), 128);
        let v = |data: &[u8], salt: u32| {
            let p = params(json!({"alg": alg, "hash": "SHA-256", "saltLength": salt,
                "public": key["public"], "signature": e64(&sig)}));
            run("verify", &p, data).unwrap().0["ok"].clone()
        };
        assert_eq!(v(b"msg", 32), true, "{alg}");
        assert_eq!(v(b"msh", 32), false, "{alg}");
        if alg == "RSA-PSS" {
            assert_eq!(v(b"msg", 20), false, "a PSS salt length must match");
        }
    }
    // OAEP: round trip, a label must match, and too long a plaintext is refused.
    let enc = |label: &str, data: &[u8]| {
        let p = params(
            json!({"alg": "RSA-OAEP", "hash": "SHA-256", "label": e64(label.as_bytes()),
            "public": key["public"], "seed": e64(b"r")}),
        );
        run("encrypt", &p, data)
    };
    let dec = |label: &str, data: &[u8]| {
        let p = params(
            json!({"alg": "RSA-OAEP", "hash": "SHA-256", "label": e64(label.as_bytes()),
            "private": key["private"]}),
        );
        run("decrypt", &p, data)
    };
    let ct = enc("l", b"secret").unwrap().1;
    assert_eq!(dec("l", &ct).unwrap().1, b"secret");
    assert_eq!(dec("m", &ct).unwrap_err().name, "OperationError");
    assert_eq!(enc("", &[0; 63]).unwrap_err().name, "OperationError");
    assert!(enc("", &[0; 62]).is_ok());
}

#[test]
fn rsa_generation_is_a_function_of_the_guest_seed() {
    let p = params(json!({"modulusLength": 512, "publicExponent": e64(&[1, 0, 1])}));
    let a = run("rsaGenerate", &p, b"seed-a").unwrap().0;
    assert_eq!(a, run("rsaGenerate", &p, b"seed-a").unwrap().0);
    assert_ne!(
        a["private"],
        run("rsaGenerate", &p, b"seed-b").unwrap().0["private"]
    );
    assert_eq!(a["modulusLength"], 512);
    let bad = params(json!({"modulusLength": 512, "publicExponent": e64(&[5])}));
    assert_eq!(
        run("rsaGenerate", &bad, b"s").unwrap_err().name,
        "OperationError"
    );
}

#[test]
fn ed25519_matches_rfc8032_test_1() {
    let secret = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    let public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let (key, _) = run("edGenerate", &params(json!({})), &secret).unwrap();
    assert_eq!(
        hex(&STANDARD.decode(key["public"].as_str().unwrap()).unwrap()),
        public
    );
    let (_, sig) = run(
        "sign",
        &params(json!({"alg": "Ed25519", "private": key["private"]})),
        b"",
    )
    .unwrap();
    assert_eq!(
        hex(&sig),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
    let v = |sig: &[u8], data: &[u8]| {
        let p = params(json!({"alg": "Ed25519", "public": key["public"], "signature": e64(sig)}));
        run("verify", &p, data).unwrap().0["ok"].clone()
    };
    assert_eq!(v(&sig, b""), true);
    assert_eq!(v(&sig, b"x"), false);
    assert_eq!(v(&sig[..10], b""), false);
    // spki, pkcs8 and jwk round trips.
    for (format, private) in [
        ("spki", false),
        ("pkcs8", true),
        ("jwk", true),
        ("raw", false),
    ] {
        let mut ex = json!({"format": format, "public": key["public"]});
        if private {
            ex["private"] = key["private"].clone();
        }
        let (meta, der) = run("edExport", &params(ex), &[]).unwrap();
        let im = json!({"format": format, "jwk": meta["jwk"]});
        let (back, _) = run("edImport", &params(im), &der).unwrap();
        assert_eq!(back["public"], key["public"], "{format}");
        if private {
            assert_eq!(back["private"], key["private"], "{format}");
        }
    }
}

#[test]
fn ecdsa_signs_and_verifies_on_both_curves() {
    for curve in ["P-256", "P-384"] {
        let (key, _) = run("ecGenerate", &params(json!({"curve": curve})), &[7; 144]).unwrap();
        let s = params(json!({"alg": "ECDSA", "curve": curve, "hash": "SHA-256",
            "private": key["private"]}));
        let (_, sig) = run("sign", &s, b"msg").unwrap();
        assert_eq!(sig.len(), if curve == "P-256" { 64 } else { 96 });
        let v = |data: &[u8], sig: &[u8]| {
            let p = params(json!({"alg": "ECDSA", "curve": curve, "hash": "SHA-256",
                "public": key["public"], "signature": e64(sig)}));
            run("verify", &p, data).unwrap().0["ok"].clone()
        };
        assert_eq!(v(b"msg", &sig), true);
        assert_eq!(v(b"msh", &sig), false);
        assert_eq!(v(b"msg", &sig[1..]), false);
    }
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
