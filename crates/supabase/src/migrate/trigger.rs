//! Database Webhook declarations written as SQL, as the Dashboard creates them:
//! `create trigger "name" after insert or update or delete on "public"."t" for each row execute
//! function "supabase_functions"."http_request"('url', 'POST', '{headers}', '{params}', '1000')`.

use super::dispatch::{Ctx, Stmt};
use super::lex::Tok;
use super::lex::split_top_nonempty;
use super::translate::{matching, rewrite};
use crate::webhooks::Hook;

/// `create trigger`: a Database Webhook declaration is emulated; other triggers go to
/// `pending::trigger`.
pub fn handle(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let is_webhook = st.toks.windows(3).any(|w| {
        w[0].name().as_deref() == Some("supabase_functions")
            && w[1].is_p(".")
            && w[2].name().as_deref() == Some("http_request")
    });
    if !is_webhook {
        return crate::routines::statement::dispatch_trigger(cx, st);
    }
    let t = rewrite(&st.toks)?;
    match create_trigger(&t) {
        Ok(h) => {
            let object = format!("trigger `{}` on `{}`", h.name, h.table);
            let note = format!("Database Webhook ({} {})", h.method, h.url);
            cx.hooks.retain(|o| o.name != h.name);
            cx.hooks.push(h);
            cx.emulated(st, object, note);
        }
        Err(e) => cx.skipped(
            st,
            "Database Webhook trigger",
            format!("no deliveries: {e}"),
        ),
    }
    Ok(())
}

fn unquote(s: &Tok) -> Result<String, String> {
    match s {
        Tok::Str(s) => Ok(s[1..s.len() - 1].replace("''", "'")),
        Tok::Word(w) if w.eq_ignore_ascii_case("null") => Ok(String::new()),
        other => Err(format!("expected a string literal, found {}", other.sql())),
    }
}

/// `create [or replace] trigger name after insert or update or delete on t for each row
/// execute function supabase_functions.http_request('url','POST','{headers}','{params}','1000')`.
pub fn create_trigger(t: &[Tok]) -> Result<Hook, String> {
    let mut i = 1;
    if t.get(1).is_some_and(|x| x.is("or")) {
        i = 3;
    }
    if !t.get(i).is_some_and(|x| x.is("trigger")) {
        return Err(String::new());
    }
    let name = t
        .get(i + 1)
        .and_then(Tok::name)
        .ok_or("expected a trigger name")?;
    if !t.get(i + 2).is_some_and(|x| x.is("after")) {
        return Err("only AFTER triggers (Database Webhooks) are supported by the mock".into());
    }
    let mut j = i + 3;
    let mut events = Vec::new();
    while let Some(x) = t.get(j) {
        if x.is("on") {
            break;
        }
        if !x.is("or") {
            events.push(x.name().unwrap_or_default().to_ascii_uppercase());
        }
        j += 1;
    }
    let table = t
        .get(j + 1)
        .and_then(Tok::name)
        .ok_or("expected a table name")?;
    let fpos = t
        .windows(3)
        .position(|w| w[0].name().as_deref() == Some("supabase_functions") && w[1].is_p(".") && w[2].name().as_deref() == Some("http_request"))
        .ok_or("only Database Webhook triggers (supabase_functions.http_request) are supported by the mock")?;
    if !t.iter().any(|x| x.is("row")) {
        return Err("Database Webhook triggers must be FOR EACH ROW".into());
    }
    let open = fpos + 3;
    let close = matching(t, open).ok_or("unbalanced parentheses")?;
    let args: Vec<String> = split_top_nonempty(&t[open + 1..close])
        .iter()
        .map(|a| unquote(&a[0]))
        .collect::<Result<_, _>>()?;
    let arg = |k: usize| args.get(k).cloned().filter(|s| !s.is_empty());
    let json_map =
        |k: usize| -> Result<Option<std::collections::BTreeMap<String, String>>, String> {
            match arg(k) {
                None => Ok(None),
                Some(s) => {
                    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&s)
                        .map_err(|e| format!("argument {} is not a JSON object: {e}", k + 1))?;
                    Ok(Some(
                        v.into_iter()
                            .map(|(k, v)| {
                                (
                                    k,
                                    v.as_str()
                                        .map(String::from)
                                        .unwrap_or_else(|| v.to_string()),
                                )
                            })
                            .collect(),
                    ))
                }
            }
        };
    let url = arg(0).ok_or("http_request needs a url")?;
    let timeout = match arg(4) {
        None => None,
        Some(s) => Some(
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("timeout {s:?} is not a number of milliseconds"))?,
        ),
    };
    let hook = Hook::new(
        &name,
        &table,
        &events,
        &url,
        arg(1).as_deref(),
        json_map(2)?,
        json_map(3)?,
        timeout,
    )?;
    Ok(hook)
}
