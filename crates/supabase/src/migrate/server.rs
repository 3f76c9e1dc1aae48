//! Statements that only matter to a Postgres server: accepted and recorded in the report.

use super::dispatch::{Ctx, Kind, Stmt, name_index};
use super::lex::Tok;

/// `comment on`, `set`, `alter default privileges`, publications, roles, owners, sequences,
/// `analyze`, `notify`..., and transaction control (each file already runs in one transaction).
pub fn handle(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let words: Vec<String> = st.toks.iter().take(3).filter_map(Tok::name).collect();
    let object = format!("`{}`", words.join(" "));
    let note = if st.kind == Kind::Transaction {
        "each migration file runs in one transaction"
    } else {
        "only matters to a Postgres server"
    };
    cx.accepted(st, object, note);
    Ok(())
}

/// `create schema`: `public` is the exposed schema; `auth`, `storage` and `extensions` are
/// the platform's; tables of any other schema are skipped when created (PostgREST exposes
/// only `public` by default).
pub fn create_schema(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let name = st
        .toks
        .get(name_index(st, "schema"))
        .and_then(Tok::name)
        .unwrap_or_default();
    if matches!(name.as_str(), "public" | "extensions" | "") {
        cx.accepted(st, format!("schema `{name}`"), "it already exists");
        return Ok(());
    }
    cx.db.catalog.schemas.insert(name.clone());
    cx.emulated(
        st,
        format!("schema `{name}`"),
        format!(
            "its tables are kept as `{name}.<table>`, not exposed over REST (only `public` is)"
        ),
    );
    Ok(())
}

/// `create extension`: accepted; what the mock provides of it is in the note.
pub fn create_extension(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let name = st
        .toks
        .get(name_index(st, "extension"))
        .and_then(Tok::name)
        .unwrap_or_default();
    let note = match name.as_str() {
        "uuid-ossp" | "pgcrypto" => "gen_random_uuid() and uuid_generate_v4() are built in",
        "vector" => "vector(n) columns are stored; similarity operators are not emulated",
        "pg_trgm" => "trigram indexes become plain indexes; similarity operators are not emulated",
        "pg_net" | "http" => "Database Webhooks are emulated; other pg_net calls are not",
        _ => "the mock provides none of its functions",
    };
    cx.accepted(st, format!("extension `{name}`"), note);
    Ok(())
}
