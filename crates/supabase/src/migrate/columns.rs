//! Column definitions and types of `create table` / `alter table add column`: Postgres types
//! and column constraints translated into SQLite's (see `translate` for the accepted list).

use super::lex::split_top_nonempty;
use super::lex::{Tok, render};
use super::translate::{matching, rewrite};
use crate::catalog::Catalog;

pub(super) fn consume_type(toks: &[Tok], mut i: usize) -> Result<(String, usize), String> {
    let Some(first) = toks.get(i).and_then(Tok::name) else {
        return Err("expected a type name".into());
    };
    i += 1;
    let mut name = first.clone();
    // A schema-qualified type: `public.mood`, `extensions.vector`.
    if toks.get(i).is_some_and(|t| t.is_p("."))
        && let Some(second) = toks.get(i + 1).and_then(Tok::name)
    {
        name = if matches!(first.as_str(), "public" | "extensions" | "pg_catalog") {
            second
        } else {
            format!("{first}.{second}")
        };
        i += 2;
    }
    let first = name.clone();
    let peek = |i: usize, w: &str| toks.get(i).is_some_and(|t| t.is(w));
    match first.as_str() {
        "double" if peek(i, "precision") => {
            name = "double precision".into();
            i += 1;
        }
        "character" if peek(i, "varying") => {
            name = "varchar".into();
            i += 1;
        }
        "timestamp" | "time" => {
            if toks.get(i).is_some_and(|t| t.is_p("(")) {
                i = matching(toks, i).ok_or("unbalanced parentheses")? + 1;
            }
            if (peek(i, "with") || peek(i, "without")) && peek(i + 1, "time") && peek(i + 2, "zone")
            {
                if peek(i, "with") && first == "timestamp" {
                    name = "timestamptz".into();
                }
                i += 3;
            }
        }
        _ => {}
    }
    if toks.get(i).is_some_and(|t| t.is_p("(")) {
        let end = matching(toks, i).ok_or("unbalanced parentheses")?;
        name.push_str(&render(&toks[i..=end]).replace(' ', ""));
        i = end + 1;
    }
    // `text[]`, `int[3][]`, `text array`.
    let mut array = false;
    while toks.get(i).is_some_and(|t| t.is_p("[")) {
        array = true;
        i += 1;
        while toks.get(i).is_some_and(|t| !t.is_p("]")) {
            i += 1;
        }
        i += 1;
    }
    if toks.get(i).is_some_and(|t| t.is("array"))
        && !toks.get(i + 1).is_some_and(|t| t.is_p("[") || t.is_p("("))
    {
        array = true;
        i += 1;
    }
    if array {
        name.push_str("[]");
    }
    Ok((name, i.min(toks.len())))
}

/// Postgres types stored as text in the mock (values are not checked).
const AS_TEXT: &[&str] = &[
    "citext", "inet", "cidr", "macaddr", "interval", "time", "timetz", "bytea", "money", "xml",
    "tsvector", "tsquery", "ltree", "name", "bpchar", "bit", "varbit",
];

pub(super) fn column_type_ok(name: &str) -> bool {
    crate::types::is_native_type(name.split('(').next().unwrap_or(""))
}

const COL_KEYWORDS: &[&str] = &[
    "not",
    "null",
    "default",
    "primary",
    "unique",
    "references",
    "check",
    "constraint",
    "generated",
    "collate",
];

/// The columns of a table being created, for the typed translation of its `check` and
/// generated-column expressions ([`crate::pgexpr`]).
pub(super) struct TableEnv<'a> {
    /// The table's SQLite name.
    pub table: String,
    /// Its columns and their types.
    pub cols: Vec<(String, crate::pgexpr::Ty)>,
    /// Enum types.
    pub cat: &'a Catalog,
    /// The project's functions, inlined where the table's expressions call them.
    pub fns: Option<&'a super::genfn::ProjectFns>,
}

impl crate::pgexpr::Env for TableEnv<'_> {
    fn columns(&self, table: &str) -> Option<Vec<(String, crate::pgexpr::Ty)>> {
        (table == self.table).then(|| self.cols.clone())
    }
    fn is_enum(&self, name: &str) -> bool {
        self.cat.enums.contains(name)
    }
    // Functions are resolved by SQLite when the table is written: an unknown one fails there.
    fn has_function(&self, _name: &str) -> bool {
        true
    }
}

/// The expression tokens `expr` (a `check` or a generated column) through the typed
/// translator; a construct it cannot keep faithful refuses the table (never a different
/// answer); one `sqlparser` cannot parse keeps the token rewrite. A generated column's value
/// is converted to the column's type `to`, as Postgres's assignment cast does (a `numeric`
/// into an `int` column rounds); a conversion the translator refuses leaves the value as
/// computed.
fn typed_expr_to(
    expr: &[Tok],
    env: Option<&TableEnv<'_>>,
    to: Option<&crate::pgexpr::Ty>,
) -> Result<Vec<Tok>, String> {
    let Some(env) = env else {
        return rewrite(expr);
    };
    let table = env.table.clone();
    match crate::pgexpr::translate_expr(&render(expr), env, &[table.as_str()]) {
        Ok(t) => {
            let t = match to {
                Some(to) => to_column_type(t.clone(), to).unwrap_or(t),
                None => t,
            };
            super::lex::tokenize(&t.sql)
        }
        Err(crate::pgexpr::PgExprError::Parse(_)) => rewrite(expr),
        Err(e) => Err(format!(
            "`{}` cannot be translated faithfully: {e}",
            render(expr)
        )),
    }
}

/// A value converted to a column's type `to`, as Postgres's assignment cast does.
fn to_column_type(
    t: crate::pgexpr::Typed,
    to: &crate::pgexpr::Ty,
) -> Result<crate::pgexpr::Typed, crate::pgexpr::PgExprError> {
    use crate::pgexpr::Ty;
    if t.ty.known() && to.known() && t.ty != *to && !matches!(to, Ty::Array(_)) {
        crate::pgexpr::cast(t, to)
    } else {
        crate::pgexpr::coerce(t, to)
    }
}

/// `expr` with the project's functions it calls inlined ([`super::genfn`]); `None` when it
/// calls none. `generated` requires them to be `immutable`, as Postgres does.
fn inline_calls(
    expr: &[Tok],
    env: Option<&TableEnv<'_>>,
    generated: bool,
) -> Result<Option<Vec<Tok>>, String> {
    let Some(fns) = env.and_then(|e| e.fns) else {
        return Ok(None);
    };
    if !fns.calls_any(expr) {
        return Ok(None);
    }
    fns.inline(expr, generated)
        .map(Some)
        .map_err(|e| format!("`{}` cannot be translated faithfully: {e}", render(expr)))
}

/// An expression whose project function calls were inlined, through the typed translator
/// only: the token rewrite would drop the casts the inlining wrote, so what the translator
/// cannot parse or keep faithful refuses the table.
fn typed_inlined(
    expr: &[Tok],
    inlined: &[Tok],
    env: Option<&TableEnv<'_>>,
    to: Option<&crate::pgexpr::Ty>,
) -> Result<Vec<Tok>, String> {
    let Some(env) = env else {
        return Err("project functions need the table's columns in scope".into());
    };
    let table = env.table.clone();
    let typed =
        crate::pgexpr::translate_expr(&render(inlined), env, &[table.as_str()]).and_then(|t| {
            match to {
                Some(to) => to_column_type(t, to),
                None => Ok(t),
            }
        });
    match typed {
        Ok(t) => super::lex::tokenize(&t.sql),
        Err(e) => Err(format!(
            "`{}` cannot be translated faithfully: {e}",
            render(expr)
        )),
    }
}

/// Rewrites each `check (...)` and `generated always as (...)` expression of `toks` with
/// [`typed_expr_to`] (project functions they call inlined first).
pub(super) fn typed_checks(toks: &[Tok], env: Option<&TableEnv<'_>>) -> Result<Vec<Tok>, String> {
    typed_checks_col(toks, env, None)
}

/// [`typed_checks`] of a column of type `col_ty`: its generated expression's value is
/// converted to that type.
fn typed_checks_col(
    toks: &[Tok],
    env: Option<&TableEnv<'_>>,
    col_ty: Option<&crate::pgexpr::Ty>,
) -> Result<Vec<Tok>, String> {
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let paren = toks.get(i + 1).is_some_and(|x| x.is_p("("));
        let generated =
            t.is("as") && i >= 1 && (toks[i - 1].is("always") || toks[i - 1].is("generated"));
        let open = (paren && (t.is("check") || generated)).then_some(i + 1);
        if let Some(open) = open {
            let close = matching(toks, open).ok_or("unbalanced parentheses")?;
            out.extend(toks[i..=open].iter().cloned());
            let expr = &toks[open + 1..close];
            let to = col_ty.filter(|_| generated);
            match inline_calls(expr, env, generated)? {
                Some(inlined) => out.extend(typed_inlined(expr, &inlined, env, to)?),
                None => out.extend(typed_expr_to(expr, env, to)?),
            }
            out.push(toks[close].clone());
            i = close + 1;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    Ok(out)
}

/// The first construct of `toks` whose meaning the token rewrite ([`rewrite`]) would drop or
/// change: a `::type` cast (dropped), `cast(x as type)` (SQLite's cast truncates and reads type
/// names its own way) or `timezone(...)` (becomes `now()`). `None` when the rewrite keeps the
/// statement's meaning, so falling back to it is safe.
///
/// Kept as harmless: a text cast of a string literal (`'utc'::text`, `'s'::regclass`: the
/// literal is that text either way), and `timezone(..)` / `uuid_generate_v4()` calls, which the
/// rewrite replaces whole (`now()`: the mock's session time zone is UTC, as Supabase's is).
pub(super) fn rewrite_drops(toks: &[Tok]) -> Option<String> {
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let call = toks.get(i + 1).is_some_and(|n| n.is_p("("));
        if call && (t.is("timezone") || t.is("uuid_generate_v4")) {
            i = matching(toks, i + 1)? + 1;
            continue;
        }
        if t.is_p("::") {
            let ty = consume_type(toks, i + 1)
                .map(|(ty, _)| ty)
                .unwrap_or_default();
            let lit = i > 0 && matches!(toks[i - 1], Tok::Str(_));
            let texty = matches!(
                ty.to_ascii_lowercase().as_str(),
                "text" | "varchar" | "character varying" | "regclass"
            );
            if !(lit && texty) {
                return Some(format!("the cast `::{ty}`"));
            }
        } else if call && t.is("cast") {
            return Some("`cast(... as ...)`".to_string());
        }
        i += 1;
    }
    None
}

/// Whether `expr` is a string literal cast to the column's own type (`'{}'::jsonb` on a jsonb
/// column, `'open'::status` on a `status` column): storing it is the same assignment as
/// storing the bare literal, so the token rewrite (which drops the cast) keeps its meaning.
fn literal_cast_to_own_type(expr: &[Tok], col_ty: &str) -> bool {
    let [Tok::Str(_), colons, ..] = expr else {
        return false;
    };
    if !colons.is_p("::") {
        return false;
    }
    match consume_type(expr, 2) {
        Ok((ty, end)) if end == expr.len() => ty.eq_ignore_ascii_case(col_ty),
        _ => false,
    }
}

thread_local! {
    /// Defaults left off columns by [`column_def_typed`] (column, reason), for the `create
    /// table` handler to report ([`take_dropped_defaults`]).
    static DROPPED_DEFAULTS: std::cell::RefCell<Vec<(String, String)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

thread_local! {
    /// Identity and serial columns (not the primary key) of the table [`column_def_typed`]
    /// translated, for the `create table` handler to create their sequences
    /// ([`take_identities`]).
    static IDENTITIES: std::cell::RefCell<Vec<super::identity::Identity>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The identity columns [`column_def_typed`] translated since the last call.
pub(super) fn take_identities() -> Vec<super::identity::Identity> {
    IDENTITIES.with(|d| std::mem::take(&mut *d.borrow_mut()))
}

/// Records that the default `expr` of `col` is left off, and why.
fn drop_default(col: &str, expr: &[Tok], why: &str) {
    let why = format!(
        "default `{}` of column `{col}`: {why}, so the mock cannot store Postgres's value",
        render(expr)
    );
    DROPPED_DEFAULTS.with(|d| d.borrow_mut().push((col.to_string(), why)));
}

/// The defaults [`column_def_typed`] left off since the last call: (column, why).
pub(super) fn take_dropped_defaults() -> Vec<(String, String)> {
    DROPPED_DEFAULTS.with(|d| std::mem::take(&mut *d.borrow_mut()))
}

/// A default the typed translator refused, through the token rewrite when that keeps its
/// meaning; otherwise `None` (the column gets no default: recorded for the report when the
/// table's columns are in scope, an error without them).
fn fallback_default(
    expr: &[Tok],
    col: &str,
    col_ty: &str,
    env: Option<&TableEnv<'_>>,
) -> Result<Option<Vec<Tok>>, String> {
    match rewrite_drops(expr) {
        Some(what) if !literal_cast_to_own_type(expr, col_ty) => {
            let why = format!(
                "default `{}` of column `{col}`: the typed translator does not handle it and \
                 the mock's fallback would drop {what}, storing a different value than \
                 Postgres",
                render(expr)
            );
            if env.is_none() {
                return Err(why);
            }
            DROPPED_DEFAULTS.with(|d| d.borrow_mut().push((col.to_string(), why)));
            Ok(None)
        }
        _ => rewrite(expr).map(Some),
    }
}

/// A literal default of a number or boolean column, converted as Postgres's assignment cast
/// does when it stores it (`int default 7.9` stores 8, `boolean default 'yes'` stores true);
/// `None` for other defaults, which keep the token rewrite.
fn literal_default(expr: &[Tok], col_ty: &str) -> Option<Vec<Tok>> {
    use crate::pgexpr::Ty;
    let ty = Ty::from_decl(col_ty);
    if !(ty.is_number() || ty == Ty::Bool) {
        return None;
    }
    let [lit] = expr else { return None };
    let (sql, from) = match lit {
        Tok::Num(n) if n.contains(['.', 'e', 'E']) => (n.clone(), "numeric"),
        Tok::Str(s) => (s.clone(), "text"),
        _ => return None,
    };
    Some(vec![Tok::Word(format!(
        "pg_cast({sql}, '{from}', '{}')",
        ty.decl()
    ))])
}

/// A default that is an expression (`(date '2024-01-01' + 30)`, `now() + interval '1 day'`)
/// through the typed translator, converted to the column's type as Postgres's assignment cast
/// does; `None` (the token rewrite) for a literal, a cast literal or what the translator
/// refuses.
fn typed_default(expr: &[Tok], col_ty: &str, env: Option<&TableEnv<'_>>) -> Option<Vec<Tok>> {
    use crate::pgexpr::Ty;
    let env = env?;
    // A lone literal, or a cast literal (`'{}'::jsonb`), keeps the token rewrite.
    if expr.len() < 2 || (expr.len() <= 4 && matches!(expr[0], Tok::Str(_))) {
        return None;
    }
    let t = crate::pgexpr::translate_expr(&render(expr), env, &[]).ok()?;
    let to = match env.cat.enums.contains(col_ty) {
        true => Ty::Enum(col_ty.to_string()),
        false => Ty::from_decl(col_ty),
    };
    let t = if t.ty.known() && to.known() && t.ty != to && !matches!(to, Ty::Array(_)) {
        crate::pgexpr::cast(t, &to).ok()?
    } else {
        crate::pgexpr::coerce(t, &to).ok()?
    };
    super::lex::tokenize(&t.sql).ok()
}

/// A translated column definition; `pk_pending` when it is an identity column whose primary
/// key is declared at table level.
pub(super) fn column_def(
    item: &[Tok],
    table_pk: Option<&str>,
    cat: &Catalog,
) -> Result<(String, bool), String> {
    column_def_typed(item, table_pk, cat, None)
}

/// [`column_def`] with the table's columns in scope for its `check` and generated expressions.
pub(super) fn column_def_typed(
    item: &[Tok],
    table_pk: Option<&str>,
    cat: &Catalog,
    env: Option<&TableEnv<'_>>,
) -> Result<(String, bool), String> {
    let name = item
        .first()
        .and_then(Tok::name)
        .ok_or("expected a column name")?;
    let (mut ty, mut i) = consume_type(item, 1)?;
    let qcol = Tok::QIdent(name.clone());
    let mut rest: Vec<Tok> = Vec::new();
    // Domains: the base type, plus the domain's default, not null and checks.
    if let Some(d) = cat.domains.get(&ty) {
        let (base, _) = consume_type(&d.base, 0)?;
        ty = base;
        if d.notnull {
            rest.extend([Tok::Word("NOT".into()), Tok::Word("NULL".into())]);
        }
        for (cname, expr) in &d.checks {
            rest.push(Tok::Word("CONSTRAINT".into()));
            rest.push(Tok::QIdent(cname.clone()));
            rest.push(Tok::Word("CHECK".into()));
            rest.push(Tok::Punct("(".into()));
            rest.extend(expr.iter().map(|t| {
                if t.is("value") {
                    qcol.clone()
                } else {
                    t.clone()
                }
            }));
            rest.push(Tok::Punct(")".into()));
        }
        if let Some(def) = &d.default
            && !item.iter().any(|t| t.is("default"))
            && let Some(def) = fallback_default(def, &name, &ty, env)?
        {
            rest.push(Tok::Word("DEFAULT".into()));
            rest.push(Tok::Punct("(".into()));
            rest.extend(def);
            rest.push(Tok::Punct(")".into()));
        }
    }
    // The declared type (after a domain's base), as a cast to it would name it.
    let decl_ty = ty.clone();
    if let Some(base) = ty.strip_suffix("[]") {
        // Arrays are stored as JSON arrays (declared `<base>[]`, read back as JSON).
        let base = base.rsplit('.').next().unwrap_or(base);
        ty = format!("{base}[]");
    } else if cat.enums.contains(&ty) {
        rest.extend([
            Tok::Word("CHECK".into()),
            Tok::Punct("(".into()),
            Tok::Word("pg_enum_check".into()),
            Tok::Punct("(".into()),
            Tok::Str(format!("'{}'", ty.replace('\'', "''"))),
            Tok::Punct(",".into()),
            qcol.clone(),
            Tok::Punct(")".into()),
            Tok::Punct(")".into()),
        ]);
        ty = "text".into();
    } else if cat.composites.contains(&ty) {
        ty = "jsonb".into();
    } else if ty.starts_with("vector(") || ty == "vector" || ty.starts_with("halfvec") {
        // pgvector: stored as its text form `[1,2,3]` (similarity operators not emulated).
        ty = ty.replacen("halfvec", "vector", 1);
    } else if AS_TEXT.contains(&ty.split('(').next().unwrap_or("")) {
        ty = "text".into();
    }
    let mut identity = matches!(
        ty.as_str(),
        "serial" | "serial4" | "bigserial" | "serial8" | "smallserial"
    );
    let ok = column_type_ok(&ty) || ty.ends_with("[]") || ty.starts_with("vector");
    if !identity && !ok {
        return Err(format!(
            "type {ty} of column {name} is not supported by the mock (use text, varchar, uuid, boolean, integer types, real/double precision/numeric, json/jsonb, date, timestamp/timestamptz, arrays, enums, domains)"
        ));
    }
    let mut pk = false;
    // `generated always` (explicit values refused) and the identity's sequence options.
    let mut always = false;
    let mut seq_opts: Vec<Tok> = Vec::new();
    while i < item.len() {
        let t = &item[i];
        if t.is("generated")
            && item
                .get(i + 1)
                .is_some_and(|x| x.is("by") || x.is("always"))
        {
            let mut j = i + 1;
            while j < item.len() && !item[j].is("identity") && !item[j].is_p("(") {
                j += 1;
            }
            if item.get(j).is_some_and(|x| x.is("identity")) {
                identity = true;
                always = item[i + 1].is("always");
                i = j + 1;
                if item.get(i).is_some_and(|x| x.is_p("(")) {
                    let close = matching(item, i).ok_or("unbalanced parentheses")?;
                    seq_opts = item[i + 1..close].to_vec();
                    i = close + 1;
                }
                continue;
            }
        }
        if t.is("primary") && item.get(i + 1).is_some_and(|x| x.is("key")) {
            pk = true;
            i += 2;
            continue;
        }
        if t.is("default") {
            let mut j = i + 1;
            let mut depth = 0;
            while j < item.len() {
                let x = &item[j];
                if x.is_p("(") {
                    depth += 1;
                } else if x.is_p(")") {
                    depth -= 1;
                } else if depth == 0 && COL_KEYWORDS.iter().any(|k| x.is(k)) {
                    break;
                }
                j += 1;
            }
            // `default null`: `null` is also a column keyword.
            if j == i + 1 && item.get(j).is_some_and(|x| x.is("null")) {
                j += 1;
            }
            let given = &item[i + 1..j];
            let expr = match literal_default(given, &ty) {
                Some(toks) => Some(toks),
                None => match inline_calls(given, env, false) {
                    // Project functions inlined: the typed translator or no default.
                    Ok(Some(inlined)) => match typed_default(&inlined, &ty, env) {
                        Some(toks) => Some(toks),
                        None => {
                            drop_default(
                                &name,
                                given,
                                "the typed translator cannot translate the functions it calls",
                            );
                            None
                        }
                    },
                    Err(why) => {
                        drop_default(&name, given, &why);
                        None
                    }
                    Ok(None) => match typed_default(given, &ty, env) {
                        Some(toks) => Some(toks),
                        None => fallback_default(given, &name, &decl_ty, env)?,
                    },
                },
            };
            let Some(mut expr) = expr else {
                i = j;
                continue;
            };
            if ty.ends_with("[]") {
                expr = expr
                    .into_iter()
                    .map(|t| array_literal_to_json_typed(t, &ty))
                    .collect();
            }
            rest.push(Tok::Word("DEFAULT".into()));
            rest.push(Tok::Punct("(".into()));
            rest.extend(expr);
            rest.push(Tok::Punct(")".into()));
            i = j;
            continue;
        }
        rest.push(t.clone());
        i += 1;
    }
    let col_ty = env.and_then(|e| e.cols.iter().find(|(c, _)| *c == name).map(|(_, t)| t));
    let rest = render(&rewrite(&typed_checks_col(&rest, env, col_ty)?)?);
    let qname = qcol.sql();
    if identity {
        // The primary key without sequence options: SQLite's own rowid sequence. With
        // options (`start with 100`), a sequence as for other columns.
        if (pk || table_pk == Some(name.as_str())) && (seq_opts.is_empty() || env.is_none()) {
            return Ok((
                format!("{qname} INTEGER PRIMARY KEY AUTOINCREMENT {rest}")
                    .trim()
                    .to_string(),
                pk,
            ));
        }
        // A sequence of its own (`super::identity`).
        let Some(env) = env else {
            return Err(format!(
                "adding the identity/serial column {name} with `alter table` is not supported by the mock"
            ));
        };
        let spec = super::identity::spec(&ty, &seq_opts)?;
        let sqlite_ty = match ty.as_str() {
            "smallint" | "int2" | "smallserial" | "serial2" => "int2",
            "int" | "integer" | "int4" | "serial" | "serial4" => "int4",
            _ => "int8",
        };
        IDENTITIES.with(|d| {
            d.borrow_mut().push(super::identity::Identity {
                col: name.clone(),
                spec,
                always,
            })
        });
        let default = super::identity::default_sql(&env.table, &name);
        let pk_sql = if pk { " PRIMARY KEY" } else { "" };
        return Ok((
            format!("{qname} {sqlite_ty}{pk_sql} NOT NULL DEFAULT ({default}) {rest}")
                .trim()
                .to_string(),
            pk,
        ));
    }
    let ty = match ty.as_str() {
        // SQLite reports `integer` as `INTEGER`, which marks bigint identity columns.
        "int" | "int4" | "integer" => "int4".to_string(),
        other => other.to_string(),
    };
    let pk_sql = if pk { " PRIMARY KEY NOT NULL" } else { "" };
    Ok((
        format!("{qname} {ty}{pk_sql} {rest}").trim().to_string(),
        pk,
    ))
}

pub(super) fn table_pk_column(items: &[Vec<Tok>]) -> Option<(usize, String)> {
    for (n, item) in items.iter().enumerate() {
        let mut i = 0;
        if item[0].is("constraint") {
            i = 2;
        }
        if item.get(i).is_some_and(|t| t.is("primary"))
            && item.get(i + 1).is_some_and(|t| t.is("key"))
        {
            let cols = split_top_nonempty(&item[i + 3..item.len().saturating_sub(1)]);
            if cols.len() == 1 && cols[0].len() == 1 {
                return cols[0][0].name().map(|c| (n, c));
            }
        }
    }
    None
}

/// A Postgres array literal string (`'{a,b}'`) as a JSON array string (`'["a","b"]'`);
/// other tokens unchanged.
///
/// For an array column declared `decl` (`int[]`), number and boolean elements become JSON
/// numbers and booleans, as PostgREST renders them.
pub(super) fn array_literal_to_json_typed(t: Tok, decl: &str) -> Tok {
    let Tok::Str(s) = &t else { return t };
    let raw = s[1..s.len() - 1].replace("''", "'");
    if !raw.trim_start().starts_with('{') {
        return t;
    }
    let ety = match crate::pgexpr::Ty::from_decl(decl) {
        crate::pgexpr::Ty::Array(e) => *e,
        _ => crate::pgexpr::Ty::Text,
    };
    match crate::query::filter::pg_array(&raw) {
        Ok(items) => {
            let items: Option<Vec<serde_json::Value>> = items
                .into_iter()
                .map(|v| crate::pgexpr::array_element_json(v, &ety))
                .collect();
            let Some(items) = items else { return t };
            let json = serde_json::Value::Array(items);
            Tok::Str(format!("'{}'", json.to_string().replace('\'', "''")))
        }
        Err(_) => t,
    }
}
