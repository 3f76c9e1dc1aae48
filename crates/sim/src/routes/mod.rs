//! Declared routes: which of the user's URLs show which rows of a table, and how a served body
//! maps onto them (`[[routes]]` in a scenario, or the project's `edgesim.routes.toml`).
//!
//! A route is a path pattern (`/api/products/{id}`), the SQL that gives its truth
//! (`select * from products where id = {id}`; the supported form is
//! `select <* | columns> from <table> [where id = {param}] [order by <column> [asc|desc]]`),
//! and the mapping of the body: a JSON pointer to the rows (`/product`), `shape` (`row` or
//! `list`), `ordered`, `fields` to compare (default: the SQL's columns, or all) and `ignore`.
//! `kv = "product:{id}"` names the KV key the route reads, for the bounds and witnesses.
//!
//! The course's `[supabase] table = "articles"` is the same as the two routes
//! `/articles` (`select * from articles`, a list) and `/articles/{id}` (one row).

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// One `[[routes]]` entry as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// The path pattern, e.g. `/api/products/{id}`.
    pub path: Spanned<String>,
    /// The truth, e.g. `select * from products where id = {id}`.
    pub sql: Spanned<String>,
    /// JSON pointer to the row or rows in the body (default: the whole body).
    #[serde(default)]
    pub pointer: Option<Spanned<String>>,
    /// `row` or `list` (default: `row` when the SQL filters by a parameter, else `list`).
    #[serde(default)]
    pub shape: Option<Shape>,
    /// Whether a list's order must match the SQL's `order by` (default false).
    #[serde(default)]
    pub ordered: bool,
    /// The fields to compare (default: the SQL's columns; all for `select *`).
    #[serde(default)]
    pub fields: Vec<String>,
    /// Fields never compared (e.g. timestamps the Worker adds).
    #[serde(default)]
    pub ignore: Vec<String>,
    /// The KV key the route reads, e.g. `product:{id}`.
    #[serde(default)]
    pub kv: Option<Spanned<String>>,
}

/// One row or a list of rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// One row (`null`, or a 404, when it does not exist).
    Row,
    /// The rows the SQL selects.
    List,
}

/// The file `edgesim.routes.toml`: `[[routes]]` only.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutesFile {
    /// The routes.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
}

/// The name of the project's routes file, beside its wrangler file.
pub const ROUTES_FILE: &str = "edgesim.routes.toml";

/// One piece of a pattern or key template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Param(String),
}

/// A pattern such as `/api/products/{id}` or `product:{id}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    text: String,
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `text`; `{name}` is a parameter.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Lit(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("{text:?}: `{{` without `}}`"))?;
            let name = &rest[open + 1..open + close];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("{text:?}: bad parameter name {name:?}"));
            }
            if matches!(pieces.last(), Some(Piece::Param(_))) {
                return Err(format!("{text:?}: two parameters need text between them"));
            }
            pieces.push(Piece::Param(name.to_string()));
            rest = &rest[open + close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("{text:?}: `}}` without `{{`"));
        }
        if !rest.is_empty() {
            pieces.push(Piece::Lit(rest.to_string()));
        }
        Ok(Self {
            text: text.to_string(),
            pieces,
        })
    }

    /// The pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parameter names, in order.
    pub fn params(&self) -> Vec<&str> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Param(n) => Some(n.as_str()),
                Piece::Lit(_) => None,
            })
            .collect()
    }

    /// The parameters of `s` when it matches (a parameter is non-empty and, when `stop` is
    /// given, never contains it: `/` for paths).
    pub fn matches(&self, s: &str, stop: Option<char>) -> Option<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let mut rest = s;
        for (i, p) in self.pieces.iter().enumerate() {
            match p {
                Piece::Lit(l) => rest = rest.strip_prefix(l.as_str())?,
                Piece::Param(name) => {
                    let end = match self.pieces.get(i + 1) {
                        Some(Piece::Lit(next)) => rest.find(next.as_str())?,
                        _ => rest.len(),
                    };
                    let v = &rest[..end];
                    if v.is_empty() || stop.is_some_and(|c| v.contains(c)) {
                        return None;
                    }
                    out.insert(name.clone(), v.to_string());
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(out)
    }

    /// The text with each parameter replaced (missing ones stay as `{name}`).
    pub fn fill(&self, params: &BTreeMap<String, String>) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(l) => l.clone(),
                Piece::Param(n) => params.get(n).cloned().unwrap_or_else(|| format!("{{{n}}}")),
            })
            .collect()
    }
}

/// The supported truth SQL, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truth {
    /// The table.
    pub table: String,
    /// The selected columns (empty: `*`).
    pub columns: Vec<String>,
    /// `where <column> = {param}`: (column, param).
    pub filter: Option<(String, String)>,
    /// `order by <column> [desc]`: (column, descending).
    pub order_by: Option<(String, bool)>,
}

fn ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

impl Truth {
    /// Parses `select <* | a, b> from <table> [where <col> = {param}] [order by <col> [asc|desc]]`.
    pub fn parse(sql: &str) -> Result<Self, String> {
        const FORM: &str = "the supported form is `select <* | columns> from <table> \
                            [where id = {param}] [order by <column> [asc|desc]]`";
        let sql = sql.trim().trim_end_matches(';').trim();
        let lower = sql.to_ascii_lowercase();
        let bad = |why: &str| format!("{why}: {FORM}");
        let after_select = lower
            .strip_prefix("select ")
            .ok_or_else(|| bad("must start with `select`"))?;
        let from = after_select
            .find(" from ")
            .ok_or_else(|| bad("no `from <table>`"))?;
        let cols_text = sql[7..7 + from].trim();
        let columns: Vec<String> = if cols_text == "*" {
            Vec::new()
        } else {
            cols_text.split(',').map(|c| c.trim().to_string()).collect()
        };
        if let Some(c) = columns.iter().find(|c| !ident(c)) {
            return Err(bad(&format!("column {c:?} is not a plain column name")));
        }
        let rest = &sql[7 + from + 6..];
        let rest_lower = rest.to_ascii_lowercase();
        let (main, order) = match rest_lower.find(" order by ") {
            Some(i) => (&rest[..i], Some(rest[i + 10..].trim())),
            None => (rest, None),
        };
        let main_lower = main.to_ascii_lowercase();
        let (table, filter) = match main_lower.find(" where ") {
            Some(i) => (main[..i].trim(), Some(main[i + 7..].trim())),
            None => (main.trim(), None),
        };
        let table = table.strip_prefix("public.").unwrap_or(table);
        if !ident(table) {
            return Err(bad(&format!("table {table:?} is not a plain table name")));
        }
        let filter = match filter {
            None => None,
            Some(f) => {
                let (col, val) = f
                    .split_once('=')
                    .ok_or_else(|| bad(&format!("`where {f}`")))?;
                let (col, val) = (col.trim(), val.trim());
                let param = val
                    .strip_prefix('{')
                    .and_then(|v| v.strip_suffix('}'))
                    .filter(|p| ident(p))
                    .ok_or_else(|| bad(&format!("`where {f}` must compare with a {{param}}")))?;
                if col != "id" {
                    return Err(bad(&format!(
                        "`where {f}`: only the key column `id` can be filtered on"
                    )));
                }
                Some((col.to_string(), param.to_string()))
            }
        };
        let order_by = match order {
            None => None,
            Some(o) => {
                let mut words = o.split_whitespace();
                let col = words.next().filter(|c| ident(c));
                let dir = words.next().map(str::to_ascii_lowercase);
                match (col, dir.as_deref(), words.next()) {
                    (Some(c), None | Some("asc"), None) => Some((c.to_string(), false)),
                    (Some(c), Some("desc"), None) => Some((c.to_string(), true)),
                    _ => return Err(bad(&format!("`order by {o}`"))),
                }
            }
        };
        Ok(Self {
            table: table.to_string(),
            columns,
            filter,
            order_by,
        })
    }
}

/// A route, checked and compiled.
#[derive(Clone, Debug)]
pub struct Route {
    /// The path pattern.
    pub pattern: Template,
    /// The truth.
    pub truth: Truth,
    /// The JSON pointer to the rows (`""`: the whole body).
    pub pointer: String,
    /// One row or a list.
    pub shape: Shape,
    /// Whether list order is compared.
    pub ordered: bool,
    /// Fields compared (empty: all).
    pub fields: Vec<String>,
    /// Fields never compared.
    pub ignore: Vec<String>,
    /// The KV key template.
    pub kv: Option<Template>,
    /// Where it was declared: `file:line` (for messages).
    pub at: String,
}

/// A route that cannot be used: file, line and key, like a scenario error.
pub type RouteError = crate::scenario::ScenarioError;

fn line_of(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

fn err(file: &str, text: &str, span: std::ops::Range<usize>, key: &str, m: String) -> RouteError {
    let (line, column) = line_of(text, span.start);
    RouteError {
        file: file.to_string(),
        line,
        column,
        key: Some(key.to_string()),
        message: m,
    }
}

impl Route {
    /// The course shorthand: `/<table>` (the list) and `/<table>/{id}` (one row).
    pub fn shorthand(table: &str) -> Vec<Route> {
        let mk = |path: String, sql: String, shape| Route {
            pattern: Template::parse(&path).expect("a plain table name"),
            truth: Truth::parse(&sql).expect("a plain table name"),
            pointer: String::new(),
            shape,
            ordered: false,
            fields: Vec::new(),
            ignore: Vec::new(),
            kv: None,
            at: String::new(),
        };
        vec![
            mk(
                format!("/{table}"),
                format!("select * from {table}"),
                Shape::List,
            ),
            mk(
                format!("/{table}/{{id}}"),
                format!("select * from {table} where id = {{id}}"),
                Shape::Row,
            ),
        ]
    }

    /// Checks and compiles `specs`, read from `text` of `file` (spans point into it).
    pub fn compile_all(
        file: &str,
        text: &str,
        specs: &[RouteSpec],
    ) -> Result<Vec<Route>, RouteError> {
        let mut out: Vec<Route> = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            let key = |k: &str| format!("routes[{i}].{k}");
            let path = s.path.get_ref();
            let pattern = Template::parse(path)
                .map_err(|m| err(file, text, s.path.span(), &key("path"), m))?;
            if !path.starts_with('/') || path.contains('?') {
                return Err(err(
                    file,
                    text,
                    s.path.span(),
                    &key("path"),
                    format!(
                        "{path:?}: a route path starts with / and has no query string \
                         (query parameters are not matched yet)"
                    ),
                ));
            }
            let truth = Truth::parse(s.sql.get_ref())
                .map_err(|m| err(file, text, s.sql.span(), &key("sql"), m))?;
            let params = pattern.params();
            let sql_param = truth.filter.as_ref().map(|f| f.1.as_str());
            if let Some(p) = params.iter().find(|p| Some(**p) != sql_param) {
                return Err(err(
                    file,
                    text,
                    s.sql.span(),
                    &key("sql"),
                    format!("the path's parameter {{{p}}} is not in the SQL"),
                ));
            }
            if let Some(p) = sql_param.filter(|p| !params.contains(p)) {
                return Err(err(
                    file,
                    text,
                    s.sql.span(),
                    &key("sql"),
                    format!("the SQL's parameter {{{p}}} is not in the path {path:?}"),
                ));
            }
            let shape = s.shape.unwrap_or(if truth.filter.is_some() {
                Shape::Row
            } else {
                Shape::List
            });
            if (shape == Shape::Row) != truth.filter.is_some() {
                return Err(err(
                    file,
                    text,
                    s.sql.span(),
                    &key("shape"),
                    match shape {
                        Shape::Row => "shape = \"row\" needs `where id = {param}` in the SQL".into(),
                        Shape::List => {
                            "shape = \"list\" takes the whole table: a filtered list is not supported yet"
                                .into()
                        }
                    },
                ));
            }
            if s.ordered && truth.order_by.is_none() {
                return Err(err(
                    file,
                    text,
                    s.sql.span(),
                    &key("ordered"),
                    "ordered = true needs an `order by` in the SQL".into(),
                ));
            }
            let pointer = match &s.pointer {
                Some(p) if !p.get_ref().is_empty() && !p.get_ref().starts_with('/') => {
                    return Err(err(
                        file,
                        text,
                        p.span(),
                        &key("pointer"),
                        format!("{:?} is not a JSON pointer (it starts with /)", p.get_ref()),
                    ));
                }
                Some(p) => p.get_ref().clone(),
                None => String::new(),
            };
            let kv = match &s.kv {
                None => None,
                Some(k) => {
                    let t = Template::parse(k.get_ref())
                        .map_err(|m| err(file, text, k.span(), &key("kv"), m))?;
                    if let Some(p) = t.params().iter().find(|p| !params.contains(p)) {
                        return Err(err(
                            file,
                            text,
                            k.span(),
                            &key("kv"),
                            format!("the key's parameter {{{p}}} is not in the path {path:?}"),
                        ));
                    }
                    Some(t)
                }
            };
            if let Some(first) = out.first()
                && first.truth.table != truth.table
            {
                return Err(err(
                    file,
                    text,
                    s.sql.span(),
                    &key("sql"),
                    format!(
                        "every route must read the same table (the first reads {:?}): \
                         one table is tracked per run",
                        first.truth.table
                    ),
                ));
            }
            let fields = if s.fields.is_empty() {
                truth.columns.clone()
            } else {
                s.fields.clone()
            };
            let (line, _) = line_of(text, s.path.span().start);
            out.push(Route {
                pattern,
                truth,
                pointer,
                shape,
                ordered: s.ordered,
                fields,
                ignore: s.ignore.clone(),
                kv,
                at: format!("{file}:{line}"),
            });
        }
        Ok(out)
    }

    /// Reads `edgesim.routes.toml` in `dir`, if there is one.
    pub fn load_project(dir: &Path) -> Result<Option<Vec<Route>>, RouteError> {
        let path = dir.join(ROUTES_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let file = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| RouteError {
            file: file.clone(),
            line: 0,
            column: 0,
            key: None,
            message: format!("cannot read: {e}"),
        })?;
        let parsed: RoutesFile = toml::from_str(&text).map_err(|e| {
            let (line, column) = line_of(&text, e.span().map_or(0, |s| s.start));
            RouteError {
                file: file.clone(),
                line,
                column,
                key: None,
                message: e.message().to_string(),
            }
        })?;
        Route::compile_all(&file, &text, &parsed.routes).map(Some)
    }

    /// Every column the route names (SQL and `fields`; `ignore` may name fields the Worker
    /// adds), for checking against the table.
    pub fn columns(&self) -> Vec<(&'static str, &str)> {
        let mut out: Vec<(&'static str, &str)> = Vec::new();
        out.extend(self.truth.columns.iter().map(|c| ("sql", c.as_str())));
        out.extend(self.truth.filter.iter().map(|f| ("sql", f.0.as_str())));
        out.extend(self.truth.order_by.iter().map(|o| ("sql", o.0.as_str())));
        out.extend(self.fields.iter().map(|c| ("fields", c.as_str())));
        out
    }

    /// A row as this route compares it: only `fields` (when given), never `ignore`.
    pub fn project(&self, row: &Value) -> Value {
        match row {
            Value::Object(m) if !self.fields.is_empty() || !self.ignore.is_empty() => {
                Value::Object(
                    m.iter()
                        .filter(|(k, _)| self.fields.is_empty() || self.fields.contains(k))
                        .filter(|(k, _)| !self.ignore.contains(k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )
            }
            other => other.clone(),
        }
    }

    /// Whether rows are compared whole (no projection).
    pub fn whole_rows(&self) -> bool {
        self.fields.is_empty() && self.ignore.is_empty()
    }

    /// The part of `body` the route compares: the value at its pointer, or why there is none.
    pub fn extract<'a>(&self, body: &'a Value) -> Result<&'a Value, String> {
        body.pointer(&self.pointer).ok_or_else(|| {
            format!(
                "the body has nothing at pointer {:?} (the route's `pointer`)",
                self.pointer
            )
        })
    }

    /// The rows of a list state in the route's order (its `order by`, else as stored).
    pub fn order(&self, rows: &[Value]) -> Vec<Value> {
        let mut rows = rows.to_vec();
        if let Some((col, desc)) = &self.truth.order_by {
            rows.sort_by(|a, b| {
                let o = cmp_json(a.get(col), b.get(col));
                if *desc { o.reverse() } else { o }
            });
        }
        rows
    }
}

/// Orders JSON values: null first, then numbers numerically, then text, then the rest as text.
fn cmp_json(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            None | Some(Value::Null) => 0,
            Some(Value::Number(_)) => 1,
            Some(Value::String(_)) => 2,
            _ => 3,
        }
    }
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        _ => rank(a)
            .cmp(&rank(b))
            .then_with(|| a.map(Value::to_string).cmp(&b.map(Value::to_string))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compile(toml_text: &str) -> Result<Vec<Route>, RouteError> {
        let f: RoutesFile = toml::from_str(toml_text).map_err(|e| RouteError {
            file: "r.toml".into(),
            line: 0,
            column: 0,
            key: None,
            message: e.to_string(),
        })?;
        Route::compile_all("r.toml", toml_text, &f.routes)
    }

    #[test]
    fn patterns_match_and_fill() {
        let t = Template::parse("/api/products/{id}").unwrap();
        assert_eq!(t.params(), vec!["id"]);
        let m = t.matches("/api/products/7", Some('/')).unwrap();
        assert_eq!(m["id"], "7");
        assert!(t.matches("/api/products/7/x", Some('/')).is_none());
        assert!(t.matches("/api/products/", Some('/')).is_none());
        assert!(t.matches("/api/product/7", Some('/')).is_none());
        assert_eq!(t.fill(&m), "/api/products/7");
        let k = Template::parse("product:{id}:v2").unwrap();
        assert_eq!(k.matches("product:12:v2", None).unwrap()["id"], "12");
        assert!(k.matches("product:12", None).is_none());
        assert!(Template::parse("/a/{id").is_err());
        assert!(Template::parse("/a/{x}{y}").is_err());
        assert!(Template::parse("/a/{x-y}").is_err());
    }

    #[test]
    fn sql_forms() {
        let t = Truth::parse("SELECT * FROM public.products WHERE id = {id};").unwrap();
        assert_eq!(t.table, "products");
        assert_eq!(t.filter, Some(("id".into(), "id".into())));
        let t = Truth::parse("select id, name from products order by name desc").unwrap();
        assert_eq!(t.columns, vec!["id", "name"]);
        assert_eq!(t.order_by, Some(("name".into(), true)));
        assert!(Truth::parse("delete from products").is_err());
        assert!(Truth::parse("select * from products where sku = {sku}").is_err());
        assert!(Truth::parse("select * from products where id = 7").is_err());
    }

    #[test]
    fn pointers_and_projection() {
        let r = &compile(
            "[[routes]]\npath = \"/api/products/{id}\"\nsql = \"select * from products where id = {id}\"\npointer = \"/product\"\nignore = [\"cached_at\"]\nkv = \"product:{id}\"\n",
        )
        .unwrap()[0];
        assert_eq!(r.shape, Shape::Row);
        let body = json!({"product": {"id": 7, "price": 3, "cached_at": 99}});
        let row = r.extract(&body).unwrap();
        assert_eq!(r.project(row), json!({"id": 7, "price": 3}));
        assert!(
            r.extract(&json!({"item": {}}))
                .unwrap_err()
                .contains("/product")
        );
        assert_eq!(r.at, "r.toml:2");
        let list = &compile(
            "[[routes]]\npath = \"/api/products\"\nsql = \"select id, price from products order by id\"\npointer = \"/data\"\nordered = true\n",
        )
        .unwrap()[0];
        assert_eq!(list.shape, Shape::List);
        assert_eq!(list.fields, vec!["id", "price"]);
        let ordered = list.order(&[json!({"id": 10}), json!({"id": 9})]);
        assert_eq!(ordered, vec![json!({"id": 9}), json!({"id": 10})]);
    }

    #[test]
    fn bad_routes_name_file_line_and_key() {
        let e = compile("[[routes]]\npath = \"/p/{id}\"\nsql = \"select * from p\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (3, Some("routes[0].sql")));
        assert!(e.message.contains("{id} is not in the SQL"), "{e}");
        let e =
            compile("[[routes]]\npath = \"/p\"\nsql = \"select * from p\"\npointer = \"data\"\n")
                .unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (4, Some("routes[0].pointer")));
        let e = compile(
            "[[routes]]\npath = \"/p/{id}\"\nsql = \"select * from p where id = {id}\"\nkv = \"p:{slug}\"\n",
        )
        .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("routes[0].kv"));
        let e = compile("[[routes]]\npath = \"/p\"\nsql = \"select * from p\"\nordered = true\n")
            .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("routes[0].ordered"));
        assert!(e.to_string().starts_with("r.toml:3:"), "{e}");
    }
}
