//! API-gateway authentication: the `apikey` check (hosted Kong behaviour) and HS256 JWT
//! verification of `Authorization: Bearer` (PostgREST behaviour) with the CLI's secret.

use crate::keys::{ANON_KEY, JWT_SECRET, PUBLISHABLE_KEY, SECRET_KEY, SERVICE_ROLE_KEY};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// The database role a request runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `anon` (anon key, publishable key).
    Anon,
    /// `authenticated` (a user's access token).
    Authenticated,
    /// `service_role` (service key, secret key).
    ServiceRole,
}

/// A rejected request: status, body and an optional `WWW-Authenticate` value.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthError {
    /// HTTP status (401).
    pub status: u16,
    /// JSON body.
    pub body: Value,
    /// `WWW-Authenticate` header.
    pub www_authenticate: Option<String>,
}

fn pgrst(code: &str, message: &str) -> AuthError {
    AuthError {
        status: 401,
        body: json!({"code": code, "details": null, "hint": null, "message": message}),
        www_authenticate: Some(format!(
            "Bearer error=\"invalid_token\", error_description=\"{message}\""
        )),
    }
}

fn key_role(key: &str) -> Option<Role> {
    match key {
        ANON_KEY | PUBLISHABLE_KEY => Some(Role::Anon),
        SERVICE_ROLE_KEY | SECRET_KEY => Some(Role::ServiceRole),
        _ => None,
    }
}

/// An authenticated caller: the role PostgREST switches to and the JWT claims it exposes as
/// `request.jwt.claims` (those of the bearer token, else of the key the gateway forwards).
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    /// The database role.
    pub role: Role,
    /// The verified claims (a JSON object).
    pub claims: Value,
}

/// Authenticates a request from its `apikey` (header or query) and `Authorization` header.
pub fn authenticate(
    apikey: Option<&str>,
    authorization: Option<&str>,
    now_secs: u64,
) -> Result<Role, AuthError> {
    principal(apikey, authorization, now_secs).map(|p| p.role)
}

/// Like [`authenticate`], with the claims the request runs with.
pub fn principal(
    apikey: Option<&str>,
    authorization: Option<&str>,
    now_secs: u64,
) -> Result<Principal, AuthError> {
    let Some(key) = apikey else {
        return Err(AuthError {
            status: 401,
            body: json!({"message": "No API key found in request", "hint": "No `apikey` request header or url param was found."}),
            www_authenticate: None,
        });
    };
    let Some(key_role) = key_role(key) else {
        return Err(AuthError {
            status: 401,
            body: json!({"message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key."}),
            www_authenticate: None,
        });
    };
    let bearer = authorization.and_then(|a| {
        let (scheme, rest) = a.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    });
    // Without a bearer token (or with an `sb_` key in it) the gateway forwards the legacy key
    // JWT of the apikey's role, so the request runs with that key's claims.
    let key_jwt = match key_role {
        Role::ServiceRole => SERVICE_ROLE_KEY,
        _ => ANON_KEY,
    };
    let token = match bearer {
        Some(t) if !t.starts_with("sb_") => t,
        _ if key.starts_with("sb_") => key_jwt,
        _ => key,
    };
    let (role, claims) = verify_claims(token, JWT_SECRET.as_bytes(), now_secs)?;
    Ok(Principal { role, claims })
}

/// Verifies an HS256 JWT and maps its `role` claim.
pub fn verify_jwt(token: &str, secret: &[u8], now_secs: u64) -> Result<Role, AuthError> {
    verify_claims(token, secret, now_secs).map(|(role, _)| role)
}

/// Verifies an HS256 JWT; returns its role and claims.
pub fn verify_claims(
    token: &str,
    secret: &[u8],
    now_secs: u64,
) -> Result<(Role, Value), AuthError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(pgrst(
            "PGRST301",
            &format!("Expected 3 parts in JWT; got {}", parts.len()),
        ));
    }
    let crypto = || pgrst("PGRST301", "JWT cryptographic operation failed");
    let header: Value = URL_SAFE_NO_PAD
        .decode(parts[0])
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(crypto)?;
    match header.get("alg").and_then(Value::as_str) {
        Some("HS256") => {}
        Some("none") => return Err(pgrst("PGRST301", "Wrong or unsupported encoding algorithm")),
        _ => return Err(pgrst("PGRST301", "No suitable key or wrong key type")),
    }
    let sig = URL_SAFE_NO_PAD.decode(parts[2]).map_err(|_| crypto())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| crypto())?;
    mac.update(parts[0].as_bytes());
    mac.update(b".");
    mac.update(parts[1].as_bytes());
    mac.verify_slice(&sig).map_err(|_| crypto())?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(parts[1])
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(Value::is_object)
        .ok_or_else(|| pgrst("PGRST303", "Parsing claims failed"))?;
    let skew = 30;
    let num = |k: &str| claims.get(k).and_then(Value::as_f64);
    if let Some(exp) = num("exp")
        && now_secs as f64 > exp + skew as f64
    {
        return Err(pgrst("PGRST303", "JWT expired"));
    }
    if let Some(nbf) = num("nbf")
        && ((now_secs + skew) as f64) < nbf
    {
        return Err(pgrst("PGRST303", "JWT not yet valid"));
    }
    if let Some(iat) = num("iat")
        && ((now_secs + skew) as f64) < iat
    {
        return Err(pgrst("PGRST303", "JWT issued at future"));
    }
    let role = match claims.get("role").and_then(Value::as_str) {
        None | Some("anon") => Role::Anon,
        Some("authenticated") => Role::Authenticated,
        Some("service_role") => Role::ServiceRole,
        Some(other) => {
            return Err(AuthError {
                status: 401,
                body: json!({"code": "22023", "details": null, "hint": null, "message": format!("role \"{other}\" does not exist")}),
                www_authenticate: None,
            });
        }
    };
    Ok((role, claims))
}

/// Signs claims with HS256 (for tests and tools that need a user token).
pub fn sign_jwt(claims: &Value, secret: &[u8]) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac takes any key length");
    mac.update(format!("{h}.{c}").as_bytes());
    let s = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{h}.{c}.{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_keys_verify_and_map_roles() {
        let now = 1_767_225_600;
        assert_eq!(
            verify_jwt(ANON_KEY, JWT_SECRET.as_bytes(), now),
            Ok(Role::Anon)
        );
        assert_eq!(
            verify_jwt(SERVICE_ROLE_KEY, JWT_SECRET.as_bytes(), now),
            Ok(Role::ServiceRole)
        );
        assert_eq!(
            authenticate(Some(PUBLISHABLE_KEY), Some("Bearer sb_publishable_x"), now),
            Ok(Role::Anon)
        );
        let e = authenticate(Some(ANON_KEY), Some("Bearer abc"), now).unwrap_err();
        assert_eq!(e.body["message"], "Expected 3 parts in JWT; got 1");
        let expired = sign_jwt(
            &json!({"role": "authenticated", "exp": now - 100}),
            JWT_SECRET.as_bytes(),
        );
        let e = authenticate(Some(ANON_KEY), Some(&format!("Bearer {expired}")), now).unwrap_err();
        assert_eq!(e.body["code"], "PGRST303");
        let ok = sign_jwt(
            &json!({"role": "authenticated", "exp": now + 100}),
            JWT_SECRET.as_bytes(),
        );
        assert_eq!(
            authenticate(Some(ANON_KEY), Some(&format!("Bearer {ok}")), now),
            Ok(Role::Authenticated)
        );
        let forged = sign_jwt(
            &json!({"role": "service_role"}),
            b"wrong-secret-wrong-secret-wrong-secret",
        );
        assert_eq!(
            authenticate(Some(ANON_KEY), Some(&format!("Bearer {forged}")), now)
                .unwrap_err()
                .body["message"],
            "JWT cryptographic operation failed"
        );
        assert_eq!(
            authenticate(Some("nope"), None, now).unwrap_err().body["message"],
            "Invalid API key"
        );
        assert_eq!(
            authenticate(None, None, now).unwrap_err().body["message"],
            "No API key found in request"
        );
    }
}
