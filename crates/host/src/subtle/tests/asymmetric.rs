//! Key-pair algorithms: ECDH, ECDSA, RSA and Ed25519.

use super::super::*;
use super::{e64, hex, params, unhex};

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
