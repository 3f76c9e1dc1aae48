//! What edgesim adds to the JavaScript engine (`crates/js/js/polyfills`, `crates/host/src/
//! subtle.rs`), checked in a Worker on the host: regex Unicode property escapes (literals
//! rewritten at build, run-time patterns through the `RegExp` wrapper), `Intl` with locales and
//! time zones, `String.prototype.normalize`, `URLPattern`, `TextEncoderStream` /
//! `TextDecoderStream`, `scheduler.wait`, the `crypto.subtle` operations the engine lacks
//! (against RFC vectors and Node's webcrypto), and a Hono 3 + zod Worker.

mod common;

use common::{TestHost, body, json, request};
use serde_json::{Value, json};
use std::process::Command;

const PLATFORM: &str = "platform/index.js";

macro_rules! skip_without_node {
    ($name:expr) => {
        if !common::node_or_skip($name) {
            return;
        }
    };
}

async fn route(path: &str) -> Value {
    let t = TestHost::new(&common::component(PLATFORM), |_| {});
    let inv = t.get(path).await;
    assert_eq!(inv.response.status(), 200, "{path}: {}", body(&inv));
    json(&inv)
}

#[tokio::test(start_paused = true)]
async fn regex_property_escapes_work_in_literals_and_at_run_time() {
    skip_without_node!("regex_property_escapes_work_in_literals_and_at_run_time");
    let v = route("/regex").await;
    assert_eq!(v["letters"], true, "{v}");
    assert_eq!(v["letterMatch"], json!(["héllo", "wörld"]));
    assert_eq!(v["stripNumbers"], "ab");
    assert_eq!(v["notLetter"], "abc");
    assert_eq!(v["script"], true);
    assert_eq!(v["vFlag"], true);
    assert_eq!(v["dynamic"], true);
    assert_eq!(v["dynamicInstance"], true);
    assert_eq!(v["dynamicNegated"], true);
    assert_eq!(v["plain"], true);
    assert_eq!(v["constantOgham"], true);
    // A property outside the run-time table still throws, as the engine did.
    assert!(
        v["unknownDynamic"]
            .as_str()
            .is_some_and(|s| s.starts_with("SyntaxError")),
        "{v}"
    );
}

#[tokio::test(start_paused = true)]
async fn intl_formats_with_locale_and_time_zone() {
    skip_without_node!("intl_formats_with_locale_and_time_zone");
    let v = route("/intl").await;
    let nnbsp = '\u{202f}';
    let nbsp = '\u{a0}';
    assert_eq!(v["typeofIntl"], "object");
    assert_eq!(
        v["dtfEnUS"],
        format!("Monday, January 15, 2024 at 1:05:09{nnbsp}PM UTC"),
        "{v}"
    );
    assert_eq!(v["dtfDeBerlin"], "15.01.2024, 14:05");
    assert_eq!(v["dtfJaTokyo"], "2024年1月15日 22:05");
    assert_eq!(v["dtfFrNewYork"], "15/01/2024 08:05");
    assert_eq!(v["defaultTimeZone"], "UTC");
    assert_eq!(v["defaultLocale"], "en-US");
    assert_eq!(v["toLocaleString"], format!("1/15/2024, 5:05:09{nnbsp}AM"));
    assert_eq!(v["toLocaleDateString"], "15.1.2024");
    assert_eq!(v["toLocaleTimeString"], format!("1:05:09{nnbsp}PM"));
    assert_eq!(
        v["toLocaleStringDefault"],
        format!("1/15/2024, 1:05:09{nnbsp}PM")
    );
    assert_eq!(v["nfEnUS"], "1,234,567.891");
    assert_eq!(v["nfDe"], format!("1.234,50{nbsp}€"));
    assert_eq!(v["nfJa"], "￥1,234");
    assert_eq!(v["nfFr"], format!("1{nnbsp}234{nnbsp}567,891"));
    assert_eq!(v["nfPercent"], "26%");
    assert_eq!(v["nfCompact"], "1.2M");
    assert_eq!(v["numberToLocale"], "1,234.5");
    assert_eq!(v["numberToLocaleDe"], "1.234,5");
    assert_eq!(
        v["plural"],
        json!([["other", "one", "other"], ["one", "one", "other"]])
    );
    assert_eq!(v["ordinal"], json!(["one", "two", "few", "other"]));
    assert_eq!(v["rtf"], "yesterday");
    assert_eq!(v["rtfDe"], "in 3 Stunden");
    assert_eq!(v["list"], "a, b, and c");
    assert_eq!(v["collator"], json!(["a", "á", "b", "C"]));
    assert_eq!(v["localeCompare"], -1);
    assert_eq!(v["segmenter"], 2);
    assert_eq!(v["canonical"], json!(["en-US", "de-DE"]));
    assert_eq!(v["locale"], "en");
}

#[tokio::test(start_paused = true)]
async fn normalize_urlpattern_text_streams_and_scheduler_wait() {
    skip_without_node!("normalize_urlpattern_text_streams_and_scheduler_wait");
    let v = route("/text").await;
    assert_eq!(v["nfc"], true, "{v}");
    assert_eq!(v["nfd"], 2);
    assert_eq!(v["nfkc"], "fi");
    assert_eq!(v["slug"], "creme-brulee");
    assert_eq!(
        v["badForm"],
        "RangeError: The normalization form should be one of NFC, NFD, NFKC, NFKD."
    );
    assert_eq!(v["encodedBytes"], "68c3a96c6c6f");
    assert_eq!(v["decoded"], "hé");
    assert_eq!(v["waitedAtLeast250"], true);
    assert_eq!(v["urlPatternId"], "42");
    assert_eq!(v["urlPatternTest"], false);
    assert_eq!(v["urlPatternProto"], true);
}

/// The same operations in Node's webcrypto, as hex strings (the reference for the guest's).
fn node_webcrypto() -> Value {
    let script = r#"
const s = globalThis.crypto.subtle;
const hex = (b) => Buffer.from(b).toString("hex");
const unhex = (h) => Uint8Array.from(Buffer.from(h, "hex"));
const utf8 = (t) => new TextEncoder().encode(t);
(async () => {
  const out = {};
  const k = await s.importKey("raw", unhex("000102030405060708090a0b0c0d0e0f"), "AES-GCM", true, ["encrypt", "decrypt"]);
  const iv = unhex("000000000000000000000001");
  out.gcm = hex(await s.encrypt({ name: "AES-GCM", iv, additionalData: utf8("aad") }, k, utf8("hello gcm")));
  out.gcmTag96 = hex(await s.encrypt({ name: "AES-GCM", iv, tagLength: 96 }, k, utf8("x")));
  const cbc = await s.importKey("raw", unhex("000102030405060708090a0b0c0d0e0f"), "AES-CBC", true, ["encrypt"]);
  out.cbc = hex(await s.encrypt({ name: "AES-CBC", iv: unhex("0f0e0d0c0b0a09080706050403020100") }, cbc, utf8("hello cbc, padded")));
  const ctr = await s.importKey("raw", unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"), "AES-CTR", true, ["encrypt"]);
  out.ctr = hex(await s.encrypt({ name: "AES-CTR", counter: unhex("00000000000000000000000000000001"), length: 64 }, ctr, utf8("hello ctr")));
  const pw = await s.importKey("raw", utf8("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
  out.pbkdf2Sha256 = hex(await s.deriveBits({ name: "PBKDF2", salt: utf8("salt"), iterations: 1000, hash: "SHA-256" }, pw, 256));
  const d = await s.deriveKey({ name: "PBKDF2", salt: utf8("salt"), iterations: 1000, hash: "SHA-256" }, pw, { name: "AES-GCM", length: 256 }, true, ["encrypt"]);
  out.derivedRaw = hex(await s.exportKey("raw", d));
  out.jwk = await s.exportKey("jwk", k);
  console.log(JSON.stringify(out));
})();
"#;
    let out = Command::new("node")
        .args(["-e", script])
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("node printed JSON")
}

#[tokio::test(start_paused = true)]
async fn subtle_crypto_matches_rfc_vectors_and_node_webcrypto() {
    skip_without_node!("subtle_crypto_matches_rfc_vectors_and_node_webcrypto");
    let v = route("/subtle").await;
    let node = node_webcrypto();
    for field in [
        "gcm",
        "gcmTag96",
        "cbc",
        "ctr",
        "pbkdf2Sha256",
        "derivedRaw",
    ] {
        assert_eq!(v[field], node[field], "{field}: {v}");
    }
    // JWK export: the same members as Node's (workerd orders them its own way).
    for member in ["kty", "alg", "k", "ext", "key_ops"] {
        assert_eq!(v["jwk"][member], node["jwk"][member], "jwk.{member}");
    }
    assert_eq!(v["gcmBack"], "hello gcm");
    assert_eq!(v["cbcBack"], "hello cbc, padded");
    assert_eq!(v["gcmTampered"], "OperationError");
    // RFC 6070 (PBKDF2-HMAC-SHA1, c = 2), RFC 5869 test 1 (HKDF-SHA256), RFC 3394 4.1 (AES-KW).
    assert_eq!(v["pbkdf2Sha1"], "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    assert_eq!(
        v["hkdf"],
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    );
    assert_eq!(
        v["aesKw"],
        "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5"
    );
    assert_eq!(v["aesKwBack"], "00112233445566778899aabbccddeeff");
    assert_eq!(v["gcmWrapBack"], "00112233445566778899aabbccddeeff");
    assert_eq!(v["derivedAlg"], json!({"name": "AES-GCM", "length": 256}));
    assert_eq!(v["derivedUsages"], json!(["encrypt"]));
    assert_eq!(v["derivedType"], "secret");
    assert_eq!(v["derivedIsCryptoKey"], true);
    assert_eq!(v["ecdhAgree"], true);
    assert_eq!(v["ecdhPublicRawLength"], 65);
    // workerd's DOMException names.
    assert_eq!(v["badKeyLength"], "DataError");
    assert_eq!(v["wrongUsage"], "InvalidAccessError");
    assert_eq!(v["unknownAlg"], "InvalidAccessError");
    // The native operations still work.
    assert_eq!(
        v["digest"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        v["hmac"],
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hono3_worker_with_zod_builds_and_serves() {
    skip_without_node!("a_hono3_worker_with_zod_builds_and_serves");
    edgesim_testkit::npm_ci_if_needed(&common::fixture("hono3"));
    let t = TestHost::new(&common::component("hono3/src/index.js"), |_| {});
    let inv = t.get("/").await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    assert_eq!(body(&inv), "hello from hono 3");
    assert_eq!(inv.response.headers()["x-powered-by"], "hono3");
    let v = json(
        &t.get("/slug/Cr%C3%A8me%20Br%C3%BBl%C3%A9e%20%C3%A0%20Z%C3%BCrich")
            .await,
    );
    assert_eq!(v["slug"], "creme-brulee-a-zurich");
    let inv = t
        .host
        .handle(request(
            "POST",
            "/react",
            &[("content-type", "application/json")],
            r#"{"emoji":"🎉","name":"party"}"#,
        ))
        .await;
    assert_eq!(inv.response.status(), 201, "{}", body(&inv));
    assert_eq!(json(&inv)["emoji"], "🎉");
    let inv = t
        .host
        .handle(request(
            "POST",
            "/react",
            &[("content-type", "application/json")],
            r#"{"emoji":"no","name":"party"}"#,
        ))
        .await;
    assert_eq!(inv.response.status(), 400, "{}", body(&inv));
    let v = json(&t.get("/price").await);
    assert_eq!(v["price"], "12,50\u{a0}€");
}

/// Measurement, not a check (`cargo test -p edgesim-js --test platform_apis -- --ignored
/// --nocapture measure`): two components of the same Worker, `EDGESIM_MEASURE_A` and
/// `EDGESIM_MEASURE_B` (paths to `.wasm` files), each serving `EDGESIM_MEASURE_PATH` (default
/// `/hello`) `EDGESIM_MEASURE_N` (default 1000) times on one instance, in interleaved rounds; prints the first request's wall
/// time (instance creation included) and the median per-request wall time of each.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
#[ignore = "a measurement; needs EDGESIM_MEASURE_A and EDGESIM_MEASURE_B"]
async fn measure_per_request_cost() {
    let (Ok(a), Ok(b)) = (
        std::env::var("EDGESIM_MEASURE_A"),
        std::env::var("EDGESIM_MEASURE_B"),
    ) else {
        eprintln!("set EDGESIM_MEASURE_A and EDGESIM_MEASURE_B to two component files");
        return;
    };
    let path = std::env::var("EDGESIM_MEASURE_PATH").unwrap_or_else(|_| "/hello".into());
    let wasm = [std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap()];
    let mut per_request: [Vec<f64>; 2] = Default::default();
    let mut first: [Vec<f64>; 2] = Default::default();
    for round in 0..3 {
        for (i, w) in wasm.iter().enumerate() {
            let t = TestHost::new(w, |_| {});
            let start = std::time::Instant::now();
            let inv = t.get(&path).await;
            assert_eq!(inv.response.status(), 200, "{}", body(&inv));
            first[i].push(start.elapsed().as_secs_f64() * 1e3);
            let n: u32 = std::env::var("EDGESIM_MEASURE_N")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1000);
            let start = std::time::Instant::now();
            for _ in 0..n {
                t.get(&path).await;
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
            per_request[i].push(us);
            eprintln!(
                "round {round} {}: first request {:.1} ms, then {us:.0} us per request",
                if i == 0 { "A" } else { "B" },
                first[i].last().unwrap()
            );
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|x, y| x.total_cmp(y));
        v[v.len() / 2]
    };
    for i in 0..2 {
        eprintln!(
            "{}: median first request {:.1} ms, median {:.0} us per request",
            if i == 0 { "A" } else { "B" },
            median(&mut first[i]),
            median(&mut per_request[i])
        );
    }
}
