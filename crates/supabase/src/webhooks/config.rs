//! Webhook declarations: `supabase/webhooks.toml` (or `create trigger ... http_request(...)` SQL).
//!
//! ```toml
//! [[webhook]]
//! name = "articles_revalidate"
//! table = "articles"                      # or "public.articles"
//! events = ["INSERT", "UPDATE", "DELETE"]
//! url = "http://127.0.0.1:8787/revalidate"
//! method = "POST"                         # POST (default) or GET
//! headers = { "Content-Type" = "application/json" }
//! params = {}                             # appended to the URL query string
//! timeout_ms = 5000                       # default 1000, like supabase_functions.http_request
//! ```

use super::PG_NET_VERSION;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One Database Webhook: `AFTER <events> ON <table> FOR EACH ROW` → HTTP request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hook {
    /// Hook (trigger) name.
    pub name: String,
    /// Table in the `public` schema.
    pub table: String,
    /// Subset of `INSERT`, `UPDATE`, `DELETE`.
    pub events: Vec<String>,
    /// Target URL.
    pub url: String,
    /// `POST` or `GET`.
    pub method: String,
    /// Request headers.
    pub headers: BTreeMap<String, String>,
    /// Query-string parameters.
    pub params: BTreeMap<String, String>,
    /// Request timeout.
    pub timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    webhook: Vec<RawHook>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHook {
    name: String,
    table: String,
    events: Vec<String>,
    url: String,
    method: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    params: Option<BTreeMap<String, String>>,
    timeout_ms: Option<u64>,
}

/// jsonb key order (length, then bytes), which is the order pg_net walks a jsonb object.
fn jsonb_order<V>(m: &BTreeMap<String, V>) -> Vec<(&String, &V)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(b.0)));
    v
}

impl Hook {
    /// Validates and normalises a declaration (as `supabase_functions.http_request` would accept it).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        table: &str,
        events: &[String],
        url: &str,
        method: Option<&str>,
        headers: Option<BTreeMap<String, String>>,
        params: Option<BTreeMap<String, String>>,
        timeout_ms: Option<u64>,
    ) -> Result<Hook, String> {
        if name.trim().is_empty() {
            return Err("webhook name must not be empty".into());
        }
        let table = table.strip_prefix("public.").unwrap_or(table).to_string();
        let mut evs = Vec::new();
        for e in events {
            let up = e.trim().to_ascii_uppercase();
            if !["INSERT", "UPDATE", "DELETE"].contains(&up.as_str()) {
                return Err(format!(
                    "webhook {name}: event {e:?} is not INSERT, UPDATE or DELETE"
                ));
            }
            if !evs.contains(&up) {
                evs.push(up);
            }
        }
        if evs.is_empty() {
            return Err(format!(
                "webhook {name}: events must name at least one of INSERT, UPDATE, DELETE"
            ));
        }
        let method = method.unwrap_or("POST").to_ascii_uppercase();
        if method != "POST" && method != "GET" {
            return Err(format!(
                "webhook {name}: method must be GET or POST, not {method}"
            ));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "webhook {name}: url must start with http:// or https://"
            ));
        }
        let headers = headers.unwrap_or_else(|| {
            BTreeMap::from([("Content-Type".into(), "application/json".into())])
        });
        if method == "POST"
            && let Some((_, v)) = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            && !v.trim().eq_ignore_ascii_case("application/json")
        {
            return Err(format!(
                "webhook {name}: Content-Type header must be application/json"
            ));
        }
        let timeout_ms = timeout_ms.unwrap_or(1000);
        if timeout_ms == 0 {
            return Err(format!("webhook {name}: timeout_ms must be positive"));
        }
        Ok(Hook {
            name: name.to_string(),
            table,
            events: evs,
            url: url.to_string(),
            method,
            headers,
            params: params.unwrap_or_default(),
            timeout_ms,
        })
    }

    /// The URL with `params` appended as a query string.
    pub fn full_url(&self) -> String {
        if self.params.is_empty() {
            return self.url.clone();
        }
        let qs: Vec<String> = jsonb_order(&self.params)
            .into_iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, NON_ALPHANUMERIC),
                    utf8_percent_encode(v, NON_ALPHANUMERIC)
                )
            })
            .collect();
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}{}", self.url, qs.join("&"))
    }

    /// Headers as pg_net sends them: configured ones (jsonb order), `Content-Type` for POST
    /// if missing, then `User-Agent: pg_net/<version>`.
    pub fn request_headers(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = jsonb_order(&self.headers)
            .into_iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if self.method == "POST"
            && !out
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            out.push(("Content-Type".into(), "application/json".into()));
        }
        out.push(("User-Agent".into(), format!("pg_net/{PG_NET_VERSION}")));
        out
    }
}

/// Parses a webhooks TOML file.
pub fn parse_toml(text: &str) -> Result<Vec<Hook>, String> {
    let f: File = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out: Vec<Hook> = Vec::new();
    for r in f.webhook {
        let h = Hook::new(
            &r.name,
            &r.table,
            &r.events,
            &r.url,
            r.method.as_deref(),
            r.headers,
            r.params,
            r.timeout_ms,
        )?;
        if out.iter().any(|o| o.name == h.name) {
            return Err(format!("webhook {} is declared twice", h.name));
        }
        out.push(h);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let hooks = parse_toml(
            r#"
[[webhook]]
name = "h"
table = "public.articles"
events = ["insert", "UPDATE"]
url = "http://127.0.0.1:1/x"
params = { b = "2 3", a = "1" }
"#,
        )
        .unwrap();
        let h = &hooks[0];
        assert_eq!(h.table, "articles");
        assert_eq!(h.timeout_ms, 1000);
        assert_eq!(h.full_url(), "http://127.0.0.1:1/x?a=1&b=2%203");
        assert_eq!(
            h.request_headers(),
            vec![
                ("Content-Type".to_string(), "application/json".to_string()),
                ("User-Agent".to_string(), format!("pg_net/{PG_NET_VERSION}")),
            ]
        );
        assert!(
            parse_toml("[[webhook]]\nname='x'\ntable='t'\nevents=['TRUNCATE']\nurl='http://a'")
                .is_err()
        );
        assert!(
            parse_toml("[[webhook]]\nname='x'\ntable='t'\nevents=['INSERT']\nurl='ftp://a'")
                .is_err()
        );
        assert!(parse_toml("[[webhook]]\nnme='x'").is_err());
    }
}
