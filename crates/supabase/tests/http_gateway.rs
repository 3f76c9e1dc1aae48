//! Gateway behaviour over loopback HTTP: apikey, JWT verification, routing, profiles, CORS.

mod common;

use edgesim_supabase::gateway::auth::sign_jwt;
use edgesim_supabase::{ANON_KEY, JWT_SECRET, PUBLISHABLE_KEY, SECRET_KEY, SERVICE_ROLE_KEY};
use serde_json::json;

#[test]
fn missing_and_wrong_api_keys_are_401_with_kong_bodies() {
    let s = common::demo();
    let r = s.req("GET", "/rest/v1/articles", &[("apikey", "")], "");
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        r.json(),
        json!({"message": "No API key found in request", "hint": "No `apikey` request header or url param was found."})
    );
    let r = s.req("GET", "/rest/v1/articles", &[("apikey", "not-a-key")], "");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["message"], "Invalid API key");
    assert_eq!(
        r.json()["hint"],
        "Double check your Supabase `anon` or `service_role` API key."
    );
}

#[test]
fn every_cli_key_is_accepted_in_header_or_query() {
    let s = common::demo();
    for key in [ANON_KEY, SERVICE_ROLE_KEY, PUBLISHABLE_KEY, SECRET_KEY] {
        let r = s.req(
            "GET",
            "/rest/v1/articles?select=id&id=eq.1",
            &[("apikey", key)],
            "",
        );
        assert_eq!(r.status, 200, "{key}: {}", r.body);
        assert_eq!(r.json(), json!([{"id": 1}]));
        let r = s.req(
            "GET",
            &format!("/rest/v1/articles?select=id&id=eq.1&apikey={key}"),
            &[("apikey", "")],
            "",
        );
        assert_eq!(r.status, 200, "query key {key}: {}", r.body);
        assert_eq!(r.json(), json!([{"id": 1}]));
    }
    // supabase-js sends the key as Bearer too; sb_ keys as Bearer are replaced by the gateway.
    let r = s.req(
        "GET",
        "/rest/v1/articles?select=id&limit=1",
        &[
            ("apikey", PUBLISHABLE_KEY),
            ("authorization", &format!("Bearer {PUBLISHABLE_KEY}")),
        ],
        "",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn bearer_tokens_are_verified_with_the_cli_secret() {
    let s = common::demo();
    let now = s.clock_now_secs();
    let r = s.req(
        "GET",
        "/rest/v1/articles",
        &[("authorization", "Bearer abc")],
        "",
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"code": "PGRST301", "details": null, "hint": null, "message": "Expected 3 parts in JWT; got 1"})
    );
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            "Bearer error=\"invalid_token\", error_description=\"Expected 3 parts in JWT; got 1\""
        )
    );

    let forged = sign_jwt(
        &json!({"role": "service_role"}),
        b"another-secret-another-secret-another",
    );
    let r = s.req(
        "GET",
        "/rest/v1/articles",
        &[("authorization", &format!("Bearer {forged}"))],
        "",
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "PGRST301");
    assert_eq!(r.json()["message"], "JWT cryptographic operation failed");

    let expired = sign_jwt(
        &json!({"role": "authenticated", "exp": now - 3600}),
        JWT_SECRET.as_bytes(),
    );
    let r = s.req(
        "GET",
        "/rest/v1/articles",
        &[("authorization", &format!("Bearer {expired}"))],
        "",
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"code": "PGRST303", "details": null, "hint": null, "message": "JWT expired"})
    );
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\", error_description=\"JWT expired\"")
    );

    let user = sign_jwt(
        &json!({"role": "authenticated", "sub": "u1", "exp": now + 3600}),
        JWT_SECRET.as_bytes(),
    );
    let r = s.req(
        "GET",
        "/rest/v1/articles?select=id&id=eq.3",
        &[("authorization", &format!("Bearer {user}"))],
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!([{"id": 3}]));
}

#[test]
fn routing_profiles_and_cors() {
    let s = common::demo();
    let r = s.get("/storage/v1/bucket");
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"message": "no Route matched with those values"})
    );

    let r = s.req(
        "GET",
        "/rest/v1/articles",
        &[("accept-profile", "private")],
        "",
    );
    assert_eq!(r.status, 406);
    assert_eq!(
        r.json(),
        json!({"code": "PGRST106", "details": null, "hint": "Only the following schemas are exposed: public, graphql_public", "message": "Invalid schema: private"})
    );
    let r = s.req(
        "GET",
        "/rest/v1/articles?select=id&id=eq.1",
        &[("accept-profile", "public")],
        "",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));

    let r = s.req(
        "OPTIONS",
        "/rest/v1/articles",
        &[
            ("apikey", ""),
            ("origin", "http://x"),
            ("access-control-request-method", "GET"),
        ],
        "",
    );
    assert_eq!(r.status, 200);
    assert!(
        r.header("access-control-allow-headers")
            .unwrap()
            .contains("apikey")
    );

    let r = s.get("/rest/v1/rpc/hello");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["code"], "PGRST202");

    let r = s.get("/rest/v1/");
    assert_eq!(r.status, 200);
    assert!(r.json()["paths"].get("/articles").is_some());
}

trait NowSecs {
    fn clock_now_secs(&self) -> u64;
}

impl NowSecs for common::Server {
    fn clock_now_secs(&self) -> u64 {
        use edgesim_core::Clock;
        self.clock.now_secs()
    }
}
