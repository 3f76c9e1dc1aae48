//! The row level security and privilege statements of migrations: `alter table ... enable |
//! disable | force | no force row level security`, `create policy`, `alter policy`, `drop
//! policy [if exists]`, and `grant` / `revoke` of table privileges (also `on all tables in
//! schema public`). Grants of other objects (schemas, sequences, functions) and to roles the
//! mock does not model are accepted and noted.

use super::emit::EmitErr;
use super::{API_ROLES, Cmd, PRIVILEGES, Parsed};
use crate::db::Db;
use crate::migrate::lex::{Tok, render, tokenize};

/// What a statement did, for the load report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Applied with a consequence the user should know (an untranslatable policy denies).
    pub warnings: Vec<String>,
    /// Accepted with no effect on the mock (grants on schemas, roles not modelled, ...).
    pub notes: Vec<String>,
    /// The statement changed nothing the mock models.
    pub noop: bool,
}

impl Outcome {
    fn noop(note: String) -> Outcome {
        Outcome {
            notes: vec![note],
            noop: true,
            ..Outcome::default()
        }
    }
}

/// Whether `stmt` is one of the statements this module applies.
pub fn handles(stmt: &str) -> bool {
    let Ok(t) = tokenize(stmt) else { return false };
    let w = |i: usize| t.get(i).and_then(Tok::name).unwrap_or_default();
    match (w(0).as_str(), w(1).as_str()) {
        ("create" | "alter" | "drop", "policy") | ("grant" | "revoke", _) => true,
        ("alter", "table") => {
            let n = t.len();
            n >= 4 && t[n - 3].is("row") && t[n - 2].is("level") && t[n - 1].is("security")
        }
        _ => false,
    }
}

struct Cur<'a> {
    t: &'a [Tok],
    i: usize,
}

impl<'a> Cur<'a> {
    fn kw(&self, k: &str) -> bool {
        self.t.get(self.i).is_some_and(|t| t.is(k))
    }
    fn eat(&mut self, k: &str) -> bool {
        let y = self.kw(k);
        if y {
            self.i += 1;
        }
        y
    }
    fn eat_p(&mut self, p: &str) -> bool {
        let y = self.t.get(self.i).is_some_and(|t| t.is_p(p));
        if y {
            self.i += 1;
        }
        y
    }
    fn expect(&mut self, k: &str) -> Result<(), String> {
        if self.eat(k) {
            Ok(())
        } else {
            Err(format!("syntax error: expected `{k}` at {}", self.here()))
        }
    }
    fn here(&self) -> String {
        self.t
            .get(self.i)
            .map(|t| format!("`{}`", t.sql()))
            .unwrap_or_else(|| "the end".into())
    }
    fn name(&mut self) -> Result<String, String> {
        let n = self
            .t
            .get(self.i)
            .and_then(Tok::name)
            .ok_or_else(|| format!("syntax error: expected a name at {}", self.here()))?;
        self.i += 1;
        Ok(n)
    }
    /// `[schema.]name` → (schema, name).
    fn qname(&mut self) -> Result<(Option<String>, String), String> {
        let a = self.name()?;
        if self.eat_p(".") {
            return Ok((Some(a), self.name()?));
        }
        Ok((None, a))
    }
    /// A parenthesised expression: its tokens' text.
    fn paren(&mut self) -> Result<String, String> {
        if !self.eat_p("(") {
            return Err(format!("syntax error: expected `(` at {}", self.here()));
        }
        let start = self.i;
        let mut depth = 1;
        while let Some(t) = self.t.get(self.i) {
            if t.is_p("(") {
                depth += 1;
            } else if t.is_p(")") {
                depth -= 1;
                if depth == 0 {
                    let text = render(&self.t[start..self.i]);
                    self.i += 1;
                    return Ok(text);
                }
            }
            self.i += 1;
        }
        Err("unbalanced parentheses".into())
    }
    fn done(&self) -> bool {
        self.i >= self.t.len()
    }
}

/// The SQLite table a Postgres name refers to (`public.t`, `t`, `auth.users`).
fn table_name(db: &Db, schema: Option<&str>, name: &str) -> Result<String, String> {
    let candidates = match schema {
        None | Some("public") => vec![name.to_string()],
        Some(s) => vec![format!("{s}.{name}"), format!("{s}_{name}")],
    };
    for c in &candidates {
        let exists: bool = db
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [c],
                |r| r.get(0),
            )
            .map_err(|e| e.to_string())?;
        if exists {
            return Ok(c.clone());
        }
    }
    let full = schema.map(|s| format!("{s}.{name}")).unwrap_or(name.into());
    Err(format!("relation \"{full}\" does not exist"))
}

/// The SQLSTATE of an [`apply`] error message.
pub fn error_code(message: &str) -> &'static str {
    if message.starts_with("relation") && message.ends_with("does not exist") {
        "42P01"
    } else if message.ends_with("does not exist") {
        "42704"
    } else if message.ends_with("already exists") {
        "42710"
    } else if message.starts_with("syntax error") {
        "42601"
    } else if message.starts_with("invalid input value for enum") {
        "22P02"
    } else {
        "0A000"
    }
}

/// Applies one statement (for which [`handles`] is true) as the database owner.
pub fn apply(db: &mut Db, stmt: &str) -> Result<Outcome, String> {
    apply_tokens(db, &tokenize(stmt)?)
}

/// Like [`apply`], on the statement's tokens.
pub fn apply_tokens(db: &mut Db, toks: &[Tok]) -> Result<Outcome, String> {
    let mut c = Cur { t: toks, i: 0 };
    let out = if c.eat("grant") {
        grant(db, &mut c, true)?
    } else if c.eat("revoke") {
        grant(db, &mut c, false)?
    } else if c.eat("create") {
        c.expect("policy")?;
        create_policy(db, &mut c)?
    } else if c.eat("drop") {
        c.expect("policy")?;
        drop_policy(db, &mut c)?
    } else {
        c.expect("alter")?;
        if c.eat("policy") {
            alter_policy(db, &mut c)?
        } else {
            c.expect("table")?;
            alter_table(db, &mut c)?
        }
    };
    db.reload_rls().map_err(|e| e.to_string())?;
    Ok(out)
}

fn exec(db: &Db, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<(), String> {
    db.execute(sql, params)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn alter_table(db: &mut Db, c: &mut Cur<'_>) -> Result<Outcome, String> {
    let if_exists = c.eat("if") && c.eat("exists");
    c.eat("only");
    let (schema, name) = c.qname()?;
    let table = match table_name(db, schema.as_deref(), &name) {
        Ok(t) => t,
        Err(_) if if_exists => {
            return Ok(Outcome::noop(format!(
                "table {name} does not exist, skipping"
            )));
        }
        Err(e) => return Err(e),
    };
    exec(
        db,
        "INSERT OR IGNORE INTO _edgesim_rls (tbl, enabled, forced) VALUES (?1, 0, 0)",
        &[&table],
    )?;
    let (col, val) = if c.eat("enable") {
        ("enabled", 1)
    } else if c.eat("disable") {
        ("enabled", 0)
    } else if c.eat("force") {
        ("forced", 1)
    } else if c.eat("no") {
        c.expect("force")?;
        ("forced", 0)
    } else {
        return Err(format!("syntax error at {}", c.here()));
    };
    for k in ["row", "level", "security"] {
        c.expect(k)?;
    }
    if !c.done() {
        return Err(format!("syntax error at {}", c.here()));
    }
    exec(
        db,
        &format!("UPDATE _edgesim_rls SET {col} = ?1 WHERE tbl = ?2"),
        &[&val, &table],
    )?;
    let mut out = Outcome::default();
    if col == "forced" {
        out.notes.push(format!(
            "{table}: force row level security only concerns the table owner; requests run as anon, authenticated or service_role"
        ));
    }
    Ok(out)
}

fn roles_list(c: &mut Cur<'_>) -> Result<Vec<String>, String> {
    let mut roles = Vec::new();
    loop {
        c.eat("group");
        let r = c.name()?;
        roles.push(match r.as_str() {
            "current_user" | "session_user" | "current_role" => "postgres".to_string(),
            _ => r,
        });
        if !c.eat_p(",") {
            return Ok(roles);
        }
    }
}

fn role_note(roles: &[String]) -> Vec<String> {
    roles
        .iter()
        .filter(|r| *r != "public" && !API_ROLES.contains(&r.as_str()))
        .map(|r| {
            format!(
                "role {r} is not modelled (requests run as anon, authenticated or service_role)"
            )
        })
        .collect()
}

/// Checks that `text` translates; a warning with the consequence when it does not.
fn validate(
    db: &Db,
    table: &str,
    policy: &str,
    clause: &str,
    p: &Parsed,
    roles: &[String],
    cmd: Cmd,
) -> Option<String> {
    let who = roles.join(", ");
    let what = match cmd {
        Cmd::All => "reads or writes",
        Cmd::Select => "reads",
        Cmd::Insert => "inserts",
        Cmd::Update => "updates",
        Cmd::Delete => "deletes",
    };
    let consequence = format!(
        "the policy denies: it grants {who} no {what} of `{table}` (it is never translated into an allow)"
    );
    let reason = match &p.expr {
        Err(e) => e.clone(),
        Ok(e) => {
            let t = db
                .schema
                .tables
                .get(table)
                .or_else(|| db.schema.hidden.get(table))?;
            let cx = super::emit_context(db);
            match cx
                .emitter(None)
                .policy_expr(e, t, &crate::sql::ident(table))
            {
                Ok(_) => {
                    if p.text.contains("request.jwt.claim.") {
                        return Some(format!(
                            "policy `{policy}` on `{table}`: its {clause} reads a legacy `request.jwt.claim.*` setting, which PostgREST 12+ no longer sets (NULL); use auth.uid() or current_setting('request.jwt.claims', true)::json ->> '...'"
                        ));
                    }
                    return None;
                }
                Err(EmitErr::Untranslatable(r)) => r,
                Err(EmitErr::Api(e)) => e.message,
            }
        }
    };
    Some(format!(
        "policy `{policy}` on `{table}`: {clause} ({}) cannot be translated ({reason}); {consequence}",
        p.text
    ))
}

/// Postgres's 22P02 `invalid input value for enum lvl: "x"` when the policy's `text` compares
/// or casts a literal to an enum type that lacks it: Postgres coerces such literals when it
/// parses `create policy`/`alter policy` and refuses the statement (the mock's translation
/// would answer that error on every request instead).
fn invalid_enum_literal(db: &Db, table: &str, text: &str) -> Result<(), String> {
    static LABEL: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Ok(e) = Parsed::new(text).expr else {
        return Ok(());
    };
    let Some(t) = db
        .schema
        .tables
        .get(table)
        .or_else(|| db.schema.hidden.get(table))
    else {
        return Ok(());
    };
    let cx = super::emit_context(db);
    let Ok(sql) = cx
        .emitter(None)
        .policy_expr(&e, t, &crate::sql::ident(table))
    else {
        return Ok(());
    };
    // A literal read as a label is written `pg_enum_check('lvl', 'x')` (a cast or comparison)
    // or `pg_enum_ord('lvl', 'x')` (an ordering) by the typed translator.
    let re = LABEL.get_or_init(|| {
        regex::Regex::new(r"pg_enum_(?:check|ord)\('((?:[^']|'')+)', '((?:[^']|'')*)'\)").ok()
    });
    let Some(re) = re else { return Ok(()) };
    for c in re.captures_iter(&sql) {
        let (ty, label) = (c[1].replace("''", "'"), c[2].replace("''", "'"));
        if !db.catalog.enums.accepts(&ty, &label) {
            return Err(format!("invalid input value for enum {ty}: \"{label}\""));
        }
    }
    Ok(())
}

fn create_policy(db: &mut Db, c: &mut Cur<'_>) -> Result<Outcome, String> {
    let name = c.name()?;
    c.expect("on")?;
    let (schema, tname) = c.qname()?;
    let table = table_name(db, schema.as_deref(), &tname)?;
    let mut permissive = true;
    let mut cmd = Cmd::All;
    let mut roles = vec!["public".to_string()];
    let mut using = None;
    let mut check = None;
    if c.eat("as") {
        if c.eat("restrictive") {
            permissive = false;
        } else {
            c.expect("permissive")?;
        }
    }
    if c.eat("for") {
        let w = c.name()?;
        cmd = Cmd::parse(&w).ok_or_else(|| format!("syntax error at `{w}`"))?;
    }
    if c.eat("to") {
        roles = roles_list(c)?;
    }
    if c.eat("using") {
        using = Some(c.paren()?);
    }
    if c.eat("with") {
        c.expect("check")?;
        check = Some(c.paren()?);
    }
    if !c.done() {
        return Err(format!("syntax error at {}", c.here()));
    }
    if cmd == Cmd::Insert && using.is_some() {
        return Err("only WITH CHECK expression allowed for INSERT".into());
    }
    if matches!(cmd, Cmd::Select | Cmd::Delete) && check.is_some() {
        return Err("WITH CHECK cannot be applied to SELECT or DELETE".into());
    }
    let exists: bool = db
        .query_row(
            "SELECT count(*) > 0 FROM _edgesim_policies WHERE tbl = ?1 AND name = ?2",
            [&table, &name],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    if exists {
        return Err(format!(
            "policy \"{name}\" for table \"{table}\" already exists"
        ));
    }
    for text in [&using, &check].into_iter().flatten() {
        invalid_enum_literal(db, &table, text)?;
    }
    exec(
        db,
        "INSERT INTO _edgesim_policies (tbl, name, permissive, cmd, roles, using_expr, check_expr) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            &table,
            &name,
            &i64::from(permissive),
            &cmd.as_str(),
            &roles.join(","),
            &using,
            &check,
        ],
    )?;
    Ok(policy_outcome(
        db, &table, &name, &using, &check, &roles, cmd,
    ))
}

fn policy_outcome(
    db: &Db,
    table: &str,
    name: &str,
    using: &Option<String>,
    check: &Option<String>,
    roles: &[String],
    cmd: Cmd,
) -> Outcome {
    let mut out = Outcome {
        notes: role_note(roles),
        ..Outcome::default()
    };
    for (clause, text) in [("using", using), ("with check", check)] {
        if let Some(text) = text
            && let Some(w) = validate(db, table, name, clause, &Parsed::new(text), roles, cmd)
        {
            out.warnings.push(w);
        }
    }
    out
}

fn drop_policy(db: &mut Db, c: &mut Cur<'_>) -> Result<Outcome, String> {
    let if_exists = c.eat("if") && c.eat("exists");
    let name = c.name()?;
    c.expect("on")?;
    let (schema, tname) = c.qname()?;
    c.eat("cascade");
    c.eat("restrict");
    let table = match table_name(db, schema.as_deref(), &tname) {
        Ok(t) => t,
        Err(_) if if_exists => {
            return Ok(Outcome::noop(format!(
                "relation {tname} does not exist, skipping"
            )));
        }
        Err(e) => return Err(e),
    };
    let n = db
        .execute(
            "DELETE FROM _edgesim_policies WHERE tbl = ?1 AND name = ?2",
            [&table, &name],
        )
        .map_err(|e| e.to_string())?;
    if n == 0 {
        if !if_exists {
            return Err(format!(
                "policy \"{name}\" for table \"{table}\" does not exist"
            ));
        }
        return Ok(Outcome::noop(format!(
            "policy \"{name}\" for table \"{table}\" does not exist, skipping"
        )));
    }
    Ok(Outcome::default())
}

fn alter_policy(db: &mut Db, c: &mut Cur<'_>) -> Result<Outcome, String> {
    let name = c.name()?;
    c.expect("on")?;
    let (schema, tname) = c.qname()?;
    let table = table_name(db, schema.as_deref(), &tname)?;
    type Row = (String, String, Option<String>, Option<String>);
    let row: Option<Row> = db
        .query_row(
            "SELECT cmd, roles, using_expr, check_expr FROM _edgesim_policies WHERE tbl = ?1 AND name = ?2",
            [&table, &name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .ok();
    let Some((cmd, roles, mut using, mut check)) = row else {
        return Err(format!(
            "policy \"{name}\" for table \"{table}\" does not exist"
        ));
    };
    let cmd = Cmd::parse(&cmd).unwrap_or(Cmd::All);
    if c.eat("rename") {
        c.expect("to")?;
        let new = c.name()?;
        exec(
            db,
            "UPDATE _edgesim_policies SET name = ?1 WHERE tbl = ?2 AND name = ?3",
            &[&new, &table, &name],
        )?;
        return Ok(Outcome::default());
    }
    let mut roles: Vec<String> = roles.split(',').map(str::to_string).collect();
    if c.eat("to") {
        roles = roles_list(c)?;
    }
    if c.eat("using") {
        using = Some(c.paren()?);
    }
    if c.eat("with") {
        c.expect("check")?;
        check = Some(c.paren()?);
    }
    if !c.done() {
        return Err(format!("syntax error at {}", c.here()));
    }
    for text in [&using, &check].into_iter().flatten() {
        invalid_enum_literal(db, &table, text)?;
    }
    exec(
        db,
        "UPDATE _edgesim_policies SET roles = ?1, using_expr = ?2, check_expr = ?3 WHERE tbl = ?4 AND name = ?5",
        &[&roles.join(","), &using, &check, &table, &name],
    )?;
    Ok(policy_outcome(
        db, &table, &name, &using, &check, &roles, cmd,
    ))
}

/// `grant privs on ... to roles` (`is_grant`) or `revoke [grant option for] privs on ... from roles`.
fn grant(db: &mut Db, c: &mut Cur<'_>, is_grant: bool) -> Result<Outcome, String> {
    let mut out = Outcome::default();
    let text = render(c.t);
    if !is_grant && c.eat("grant") {
        c.expect("option")?;
        c.expect("for")?;
        return Ok(Outcome::noop("grant options are not modelled".into()));
    }
    // Privileges up to `on`.
    let mut privs: Vec<String> = Vec::new();
    let mut columns = false;
    while !c.kw("on") {
        if c.done() {
            // `grant role to role` (role membership).
            return Ok(Outcome::noop(format!(
                "role memberships are not modelled: {text}"
            )));
        }
        if c.eat_p(",") {
            continue;
        }
        if c.t.get(c.i).is_some_and(|t| t.is_p("(")) {
            c.paren()?;
            columns = true;
            continue;
        }
        let w = c.name()?;
        match w.as_str() {
            "all" => {
                c.eat("privileges");
                privs.extend(PRIVILEGES.iter().map(|p| p.to_string()));
            }
            p if PRIVILEGES.contains(&p) => privs.push(w),
            _ => {
                return Ok(Outcome::noop(format!(
                    "only table privileges are modelled: {text}"
                )));
            }
        }
    }
    c.expect("on")?;
    let mut tables = Vec::new();
    if c.eat("all") {
        if !c.eat("tables") {
            return Ok(Outcome::noop(format!(
                "only table privileges are modelled: {text}"
            )));
        }
        c.expect("in")?;
        c.expect("schema")?;
        loop {
            let s = c.name()?;
            if s == "public" {
                tables.extend(db.schema.tables.keys().cloned());
            } else {
                out.notes.push(format!(
                    "privileges on tables of schema {s} are not modelled"
                ));
            }
            if !c.eat_p(",") {
                break;
            }
        }
    } else {
        let is_table = c.eat("table");
        if !is_table
            && [
                "sequence",
                "schema",
                "function",
                "procedure",
                "routine",
                "database",
                "type",
                "domain",
                "language",
                "foreign",
                "large",
                "tablespace",
            ]
            .iter()
            .any(|k| c.kw(k))
        {
            return Ok(Outcome::noop(format!(
                "only table privileges are modelled: {text}"
            )));
        }
        loop {
            let (schema, name) = c.qname()?;
            tables.push(table_name(db, schema.as_deref(), &name)?);
            if !c.eat_p(",") {
                break;
            }
        }
    }
    if is_grant {
        c.expect("to")?;
    } else {
        c.expect("from")?;
    }
    let roles = roles_list(c)?;
    if columns {
        out.warnings.push(format!(
            "column privileges are not modelled, so `{text}` is ignored: the table-level privileges stay as they were"
        ));
        return Ok(out);
    }
    out.notes.extend(role_note(&roles));
    let mut targets: Vec<&str> = Vec::new();
    for r in &roles {
        if API_ROLES.contains(&r.as_str()) {
            targets.push(r);
        } else if r == "public" && is_grant {
            targets.extend(API_ROLES);
        }
    }
    out.noop = targets.is_empty() || tables.is_empty();
    for t in &tables {
        for r in &targets {
            for p in &privs {
                let sql = if is_grant {
                    "DELETE FROM _edgesim_revoked WHERE tbl = ?1 AND role = ?2 AND privilege = ?3"
                } else {
                    "INSERT OR IGNORE INTO _edgesim_revoked (tbl, role, privilege) VALUES (?1, ?2, ?3)"
                };
                exec(db, sql, &[t, r, p])?;
            }
        }
    }
    Ok(out)
}
