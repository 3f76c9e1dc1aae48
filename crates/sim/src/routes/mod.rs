//! Declared routes: which of the user's URLs show which rows of which table, and how a served
//! body maps onto them (`[[routes]]` in a scenario, or the project's `edgesim.routes.toml`).
//!
//! A route is a path pattern (`/api/products/{id}`, `/api/products?page={page}`:
//! [`pattern`]), the SQL that gives its truth (`select * from products where id = {id}`,
//! `select * from products where category = {slug} order by id limit 10 offset ({page}-1)*10`:
//! [`truth`]), and the mapping of the body: a JSON pointer to the rows (`/product`), `shape`
//! (`row` or `list`), `ordered`, `fields` to compare (default: the SQL's columns, or all) and
//! `ignore`. `kv = "product:{id}"` names the KV key the route reads, for the bounds and
//! witnesses. Routes may read several tables.
//!
//! The course's `[supabase] table = "articles"` is the same as the two routes
//! `/articles` (`select * from articles`, a list) and `/articles/{id}` (one row).

pub mod pattern;
pub mod truth;

pub use pattern::{PathPattern, Template};
pub use truth::{Truth, cmp_json};

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

/// A route, checked and compiled.
#[derive(Clone, Debug)]
pub struct Route {
    /// The path pattern (with its query part, if any).
    pub pattern: PathPattern,
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

/// The route `path` (with its query string) matches among `routes`, with its index and
/// parameters: the one requiring the most query parameters, the first declared among equals.
/// With [`Route::kv_key`] this maps a URL to the KV key it reads (for `edgesim kv` or a dev
/// control endpoint: `/api/products/7` → `product:7`).
pub fn route_for_path<'a>(
    routes: &'a [Route],
    path: &str,
) -> Option<(usize, &'a Route, BTreeMap<String, String>)> {
    let mut best: Option<(usize, &Route, BTreeMap<String, String>)> = None;
    for (i, r) in routes.iter().enumerate() {
        if let Some(m) = r.matches(path)
            && best
                .as_ref()
                .is_none_or(|b| r.pattern.query_len() > b.1.pattern.query_len())
        {
            best = Some((i, r, m));
        }
    }
    best
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
            pattern: PathPattern::parse(&path).expect("a plain table name"),
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
            let pattern = PathPattern::parse(path)
                .map_err(|m| err(file, text, s.path.span(), &key("path"), m))?;
            let truth = Truth::parse(s.sql.get_ref())
                .map_err(|m| err(file, text, s.sql.span(), &key("sql"), m))?;
            let params = pattern.params();
            let sql_params = truth.params();
            if let Some(p) = params.iter().find(|p| !sql_params.contains(p)) {
                return Err(err(
                    file,
                    text,
                    s.sql.span(),
                    &key("sql"),
                    format!("the path's parameter {{{p}}} is not in the SQL"),
                ));
            }
            if let Some(p) = sql_params.iter().find(|p| !params.contains(p)) {
                return Err(err(
                    file,
                    text,
                    s.sql.span(),
                    &key("sql"),
                    format!("the SQL's parameter {{{p}}} is not in the path {path:?}"),
                ));
            }
            let by_id = truth.filters.iter().any(|(c, _)| c == "id");
            let shape = s
                .shape
                .unwrap_or(if by_id { Shape::Row } else { Shape::List });
            if shape == Shape::Row && truth.filters.is_empty() {
                return Err(err(
                    file,
                    text,
                    s.sql.span(),
                    &key("shape"),
                    "shape = \"row\" needs a `where` in the SQL (e.g. `where id = {id}`)".into(),
                ));
            }
            if s.ordered && truth.order_by.is_empty() {
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
        out.extend(self.truth.named_columns().into_iter().map(|c| ("sql", c)));
        out.extend(self.fields.iter().map(|c| ("fields", c.as_str())));
        out
    }

    /// The route's table.
    pub fn table(&self) -> &str {
        &self.truth.table
    }

    /// The parameters of `path` (with its query string) when the route matches it.
    pub fn matches(&self, path: &str) -> Option<BTreeMap<String, String>> {
        self.pattern.matches(path)
    }

    /// The path the route serves for `params`.
    pub fn fill(&self, params: &BTreeMap<String, String>) -> String {
        self.pattern.fill(params)
    }

    /// The KV key the route reads for `params` (`None`: no `kv` declared).
    pub fn kv_key(&self, params: &BTreeMap<String, String>) -> Option<String> {
        self.kv.as_ref().map(|k| k.fill(params))
    }

    /// What the route's body is for `params` over `rows` (a committed state of its table):
    /// the canonical text the served body is compared with (a row's `""` = absent), or `None`
    /// when the SQL is undefined for these values (see [`Truth::eval`]).
    pub fn truth_key(&self, rows: &[Value], params: &BTreeMap<String, String>) -> Option<String> {
        let selected = self.truth.eval(rows, params)?;
        Some(match self.shape {
            Shape::Row => {
                crate::history::row_key(selected.first().map(|r| self.project(r)).as_ref())
            }
            Shape::List => self.list_key(&selected),
        })
    }

    /// The canonical text of a list of rows as this route compares it: rows projected; sorted
    /// unless `ordered`.
    pub fn list_key(&self, rows: &[Value]) -> String {
        if self.ordered {
            rows.iter()
                .map(|v| crate::history::canonical(&self.project(v)))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            let projected: Vec<Value> = rows.iter().map(|v| self.project(v)).collect();
            crate::history::list_key(&projected)
        }
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
        let mut rows = [json!({"id": 10}), json!({"id": 9})];
        list.truth.sort(&mut rows);
        assert_eq!(rows, [json!({"id": 9}), json!({"id": 10})]);
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

    #[test]
    fn query_patterns_filtered_lists_and_several_tables_compile() {
        let routes = compile(
            "[[routes]]\npath = \"/api/products?page={page}\"\nsql = \"select * from products order by id limit 2 offset ({page} - 1) * 2\"\npointer = \"/data\"\nordered = true\nkv = \"products:page:{page}\"\n\
             [[routes]]\npath = \"/api/categories/{slug}/products\"\nsql = \"select id, price from products where category = :slug order by id\"\n\
             [[routes]]\npath = \"/api/categories/{slug}\"\nsql = \"select * from categories where slug = {slug}\"\nshape = \"row\"\n",
        )
        .unwrap();
        assert_eq!(routes[0].shape, Shape::List);
        let p = routes[0].matches("/api/products?page=2").unwrap();
        assert_eq!(routes[0].kv_key(&p).as_deref(), Some("products:page:2"));
        assert_eq!(
            routes[1].shape,
            Shape::List,
            "a filter on a column other than id"
        );
        assert_eq!(routes[2].table(), "categories");
        let rows = [
            json!({"id": 1, "category": "tools", "price": 3}),
            json!({"id": 2, "category": "home", "price": 4}),
            json!({"id": 3, "category": "tools", "price": 5}),
        ];
        let slug = |s: &str| BTreeMap::from([("slug".to_string(), s.to_string())]);
        assert_eq!(
            routes[1].truth_key(&rows, &slug("tools")).unwrap(),
            "{\"id\":1,\"price\":3}\n{\"id\":3,\"price\":5}"
        );
        assert_eq!(routes[1].truth_key(&rows, &slug("none")).unwrap(), "");
        let page = |n: &str| BTreeMap::from([("page".to_string(), n.to_string())]);
        assert!(
            routes[0]
                .truth_key(&rows, &page("2"))
                .unwrap()
                .contains("\"id\":3")
        );
        assert_eq!(routes[0].truth_key(&rows, &page("-1")), None);
        let cats = [json!({"id": 9, "slug": "tools"})];
        assert_eq!(
            routes[2].truth_key(&cats, &slug("tools")).unwrap(),
            "{\"id\":9,\"slug\":\"tools\"}"
        );
        assert_eq!(routes[2].truth_key(&cats, &slug("x")).unwrap(), "");
    }

    #[test]
    fn bad_query_patterns_and_sql_name_the_key() {
        let e = compile("[[routes]]\npath = \"/p?page\"\nsql = \"select * from p\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (2, Some("routes[0].path")));
        assert!(e.message.contains("name={param}"), "{e}");
        let e = compile(
            "[[routes]]\npath = \"/p?page={page}\"\nsql = \"select * from p order by id limit 2\"\n",
        )
        .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("routes[0].sql"));
        assert!(e.message.contains("{page} is not in the SQL"), "{e}");
        let e = compile("[[routes]]\npath = \"/p\"\nsql = \"select * from p where c = :cat\"\n")
            .unwrap_err();
        assert!(e.message.contains("{cat} is not in the path"), "{e}");
        let e = compile("[[routes]]\npath = \"/p\"\nsql = \"select * from p\"\nshape = \"row\"\n")
            .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("routes[0].shape"));
        let e = compile("[[routes]]\npath = \"/p\"\nsql = \"select * from p where a > 1\"\n")
            .unwrap_err();
        assert!(
            e.to_string().starts_with("r.toml:3:") && e.message.contains("supported form"),
            "{e}"
        );
    }
}
