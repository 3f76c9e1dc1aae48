//! `crypto.subtle` operations the JavaScript engine lacks, computed by the host on RustCrypto
//! crates: AES-GCM, AES-CBC, AES-CTR and AES-KW ([`aes`]), PBKDF2 and HKDF ([`kdf`]), HMAC
//! ([`mac`]), ECDH and ECDSA on P-256 and P-384 ([`ec`]), RSASSA-PKCS1-v1_5, RSA-PSS and
//! RSA-OAEP ([`rsa`]) and Ed25519 ([`ed25519`]).
//!
//! StarlingMonkey has `digest` natively; the shim (`crates/js/js/polyfills/subtle.js`) sends
//! every other operation here over JavaScript Workers' synchronous host link
//! (`/subtle/<op>`, [`crate::js_link`]), keeps the `CryptoKey` objects, checks usages and
//! algorithms, and turns failures into `DOMException`s. Everything here is a pure function of
//! its input: random bytes (key generation, PSS salts, OAEP seeds) come from the guest's
//! `crypto.getRandomValues` ([`seeded`]), so simulation stays deterministic.
//!
//! Wire format (private to the shim and this module): the request body is one line of JSON
//! parameters (binary fields base64, standard alphabet), a newline, then the data. The answer
//! is one line of JSON, a newline, then the result bytes; a failure answers
//! `{"error": message, "name": "OperationError" | "DataError" | "NotSupportedError" | ...}`,
//! with workerd's messages where it has one.

mod aes;
mod ec;
mod ed25519;
mod kdf;
mod keys;
mod mac;
mod rsa;
mod seeded;
#[cfg(test)]
mod tests;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
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

pub(crate) fn err(name: &'static str, message: impl Into<String>) -> SubtleError {
    SubtleError {
        name,
        message: message.into(),
    }
}

pub(crate) fn op_err(message: impl Into<String>) -> SubtleError {
    err("OperationError", message)
}

pub(crate) fn data_err(message: impl Into<String>) -> SubtleError {
    err("DataError", message)
}

pub(crate) type Result<T> = std::result::Result<T, SubtleError>;

/// Parameters of one operation (the fields each uses; binary ones base64).
#[derive(Deserialize, Default, Debug)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Params {
    pub alg: String,
    pub key: Option<String>,
    pub iv: Option<String>,
    pub additional_data: Option<String>,
    pub tag_length: Option<u32>,
    pub counter: Option<String>,
    pub length: Option<u32>,
    pub salt: Option<String>,
    pub info: Option<String>,
    pub iterations: Option<u64>,
    pub hash: Option<String>,
    pub curve: Option<String>,
    pub format: Option<String>,
    pub private: Option<String>,
    pub public: Option<String>,
    pub jwk: Option<Value>,
    /// A signature to verify.
    pub signature: Option<String>,
    /// RSA-PSS salt length in bytes.
    pub salt_length: Option<u32>,
    /// RSA-OAEP label.
    pub label: Option<String>,
    /// RSA key generation: modulus bits and public exponent (big-endian bytes, base64).
    pub modulus_length: Option<u32>,
    pub public_exponent: Option<String>,
    /// Random bytes from the guest (`crypto.getRandomValues`), for operations that need them.
    pub seed: Option<String>,
}

/// The base64 field `field`, which must be present.
pub(crate) fn b64(field: &str, v: &Option<String>) -> Result<Vec<u8>> {
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

/// The base64 field `field`, or no bytes when absent.
pub(crate) fn b64_or_empty(field: &str, v: &Option<String>) -> Result<Vec<u8>> {
    match v {
        None => Ok(Vec::new()),
        Some(_) => b64(field, v),
    }
}

/// Runs operation `op` on `data`: the answer's JSON and bytes.
pub(crate) fn run(op: &str, p: &Params, data: &[u8]) -> Result<(Value, Vec<u8>)> {
    let bytes = |out: Vec<u8>| Ok((json!({}), out));
    match op {
        "encrypt" | "decrypt" => {
            let encrypt = op == "encrypt";
            match p.alg.as_str() {
                "AES-GCM" => bytes(aes::gcm(encrypt, &b64("key", &p.key)?, p, data)?),
                "AES-CBC" => bytes(aes::cbc(encrypt, &b64("key", &p.key)?, p, data)?),
                "AES-CTR" => bytes(aes::ctr(&b64("key", &p.key)?, p, data)?),
                "RSA-OAEP" => bytes(rsa::oaep(encrypt, p, data)?),
                other => Err(err(
                    "NotSupportedError",
                    format!("Unrecognized algorithm \"{other}\" for {op}."),
                )),
            }
        }
        "wrapKw" => bytes(aes::kw(true, &b64("key", &p.key)?, data)?),
        "unwrapKw" => bytes(aes::kw(false, &b64("key", &p.key)?, data)?),
        "deriveBits" => match p.alg.as_str() {
            "PBKDF2" => bytes(kdf::pbkdf2(p, &b64("key", &p.key)?)?),
            "HKDF" => bytes(kdf::hkdf(p, &b64("key", &p.key)?)?),
            "ECDH" => bytes(ec::derive(p)?),
            other => Err(err(
                "NotSupportedError",
                format!("Unrecognized algorithm \"{other}\" for deriveBits."),
            )),
        },
        "sign" => match p.alg.as_str() {
            "HMAC" => bytes(mac::sign(p, data)?),
            "ECDSA" => bytes(ec::sign(p, data)?),
            "RSASSA-PKCS1-v1_5" | "RSA-PSS" => bytes(rsa::sign(p, data)?),
            "Ed25519" => bytes(ed25519::sign(p, data)?),
            other => Err(err(
                "NotSupportedError",
                format!("Unrecognized algorithm \"{other}\" for sign."),
            )),
        },
        "verify" => {
            let ok = match p.alg.as_str() {
                "HMAC" => mac::verify(p, data)?,
                "ECDSA" => ec::verify(p, data)?,
                "RSASSA-PKCS1-v1_5" | "RSA-PSS" => rsa::verify(p, data)?,
                "Ed25519" => ed25519::verify(p, data)?,
                other => {
                    return Err(err(
                        "NotSupportedError",
                        format!("Unrecognized algorithm \"{other}\" for verify."),
                    ));
                }
            };
            Ok((json!({ "ok": ok }), Vec::new()))
        }
        "ecGenerate" => ec::generate(p, data),
        "ecImport" => ec::import(p, data),
        "ecExport" => ec::export(p),
        "rsaGenerate" => rsa::generate(p, data),
        "rsaImport" => rsa::import(p, data),
        "rsaExport" => rsa::export(p),
        "edGenerate" => ed25519::generate(data),
        "edImport" => ed25519::import(p, data),
        "edExport" => ed25519::export(p),
        other => Err(err(
            "NotSupportedError",
            format!("edgesim.internal: unknown crypto.subtle operation {other}"),
        )),
    }
}

/// Answers `/subtle/<op>`: parameters, newline, data in; JSON, newline, bytes out (a failure
/// is `{"error", "name"}` in the JSON).
pub(crate) fn serve(op: &str, body: &[u8]) -> Vec<u8> {
    let (head, data) = match body.iter().position(|&b| b == b'\n') {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, &[][..]),
    };
    let (meta, bytes) = match serde_json::from_slice::<Params>(head) {
        Ok(params) => match run(op, &params, data) {
            Ok(answer) => answer,
            Err(e) => (json!({"error": e.message, "name": e.name}), Vec::new()),
        },
        Err(e) => (
            json!({"error": format!("edgesim.internal: bad crypto.subtle parameters: {e}"),
                "name": "OperationError"}),
            Vec::new(),
        ),
    };
    let head = meta.to_string();
    let mut out = Vec::with_capacity(head.len() + 1 + bytes.len());
    out.extend_from_slice(head.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&bytes);
    out
}
