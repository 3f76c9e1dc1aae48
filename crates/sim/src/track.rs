//! Which paths the checkers track, and how a response body maps onto the DB history.

use crate::events::Served;
use crate::history::{DbHistory, list_key, row_key};
use crate::routes::{Route, Shape};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How many distinct bodies [`Tracker`] remembers before it starts over.
const BODY_MEMO_CAP: usize = 4096;

/// What a tracked path shows, as far as versions go: which commits can change it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    /// The tracked table, or any view of it (e.g. `/articles`, a filtered or paginated list,
    /// a row found by another column): every commit to the table may change it.
    List,
    /// One row of the tracked table by id (e.g. `/articles/2`).
    Row(String),
    /// Any view of another table a route reads (routes may read several tables): every
    /// commit to that table may change it.
    Table(String),
}

/// Maps paths to resources: `/<table>` is the list, `/<table>/<id>` a row.
///
/// A run serves the same few bodies many times, so the canonical text of each 200 body is
/// remembered by its exact bytes: the JSON is parsed once per distinct body, not per request.
/// (A `BTreeMap`, like every map on a simulation path: no randomly seeded hashing.)
#[derive(Debug)]
pub struct Tracker {
    list_path: String,
    /// Per [`BodyKind`]: body bytes → canonical text (`None`: not of that shape).
    bodies: Mutex<[BodyKeys; 2]>,
    /// Declared routes (`None`: the `/<table>` shorthand, read by the code above).
    routes: Option<Vec<Route>>,
    /// (route, body bytes) → the canonical text of what it shows, or why it cannot be mapped.
    mapped: Mutex<RouteBodies>,
    /// Per route pattern: the first body that could not be mapped (path, why) and how many.
    unmapped: Mutex<BTreeMap<String, (String, String, u64)>>,
}

type BodyKeys = BTreeMap<Vec<u8>, Option<Arc<str>>>;

/// (route, body bytes) → canonical text, or why the body cannot be mapped.
type RouteBodies = BTreeMap<(usize, Vec<u8>), Result<Arc<str>, String>>;

/// Which canonical form a 200 body is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyKind {
    Row = 0,
    List = 1,
}

impl Clone for Tracker {
    fn clone(&self) -> Self {
        match &self.routes {
            Some(r) => Self::with_routes(&self.list_path[1..], r.clone()),
            None => Self::new(&self.list_path[1..]),
        }
    }
}

impl Tracker {
    /// Tracks `/<table>` and `/<table>/<id>`.
    pub fn new(table: &str) -> Self {
        Self {
            list_path: format!("/{table}"),
            bodies: Mutex::default(),
            routes: None,
            mapped: Mutex::default(),
            unmapped: Mutex::default(),
        }
    }

    /// Tracks the declared `routes` of `table` (empty: the `/<table>` shorthand).
    pub fn with_routes(table: &str, routes: Vec<Route>) -> Self {
        let mut t = Self::new(table);
        if !routes.is_empty() {
            t.routes = Some(routes);
        }
        t
    }

    /// The declared routes (the shorthand's two when none were declared).
    pub fn routes(&self) -> Vec<Route> {
        match &self.routes {
            Some(r) => r.clone(),
            None => Route::shorthand(&self.list_path[1..]),
        }
    }

    /// The route `path` (with its query string) matches, with its parameters: the one that
    /// requires the most query parameters, the first declared among equals.
    pub fn route_of(&self, path: &str) -> Option<(usize, &Route, BTreeMap<String, String>)> {
        crate::routes::route_for_path(self.routes.as_ref()?, path)
    }

    /// The tracked table (the first route's, or the shorthand's).
    pub fn table(&self) -> &str {
        &self.list_path[1..]
    }

    /// The other tables the routes read, in order of first mention.
    pub fn other_tables(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in self.routes.iter().flatten() {
            if r.table() != self.table() && !out.iter().any(|t| t == r.table()) {
                out.push(r.table().to_string());
            }
        }
        out
    }

    /// Whether route `r` shows one row of the tracked table by id (versions per row).
    fn is_row_route(&self, r: &Route) -> bool {
        r.shape == Shape::Row && r.table() == self.table() && r.truth.key_param().is_some()
    }

    /// The resource route `r` shows for `params`.
    fn route_resource(&self, r: &Route, params: &BTreeMap<String, String>) -> Resource {
        if r.table() != self.table() {
            return Resource::Table(r.table().to_string());
        }
        match r.truth.key_param() {
            Some(p) if self.is_row_route(r) => {
                Resource::Row(params.get(p).cloned().unwrap_or_default())
            }
            _ => Resource::List,
        }
    }

    /// The history of `table`: `history` for the tracked one, else the one kept beside it.
    fn history_of<'h>(&self, history: &'h DbHistory, table: &str) -> Option<&'h DbHistory> {
        if table == self.table() {
            Some(history)
        } else {
            history.table(table)
        }
    }

    /// The KV key `path` reads: its route's `kv` filled in, else the path itself without its
    /// query string (the course Worker's keys are its paths).
    pub fn kv_key(&self, path: &str) -> String {
        let bare = path.split('?').next().unwrap_or(path);
        match self.route_of(path) {
            Some((_, r, m)) => r.kv_key(&m).unwrap_or_else(|| bare.to_string()),
            None => bare.to_string(),
        }
    }

    /// The resource a KV key holds: a declared route's `kv` template, else the key as a path.
    pub fn resource_of_key(&self, key: &str) -> Option<Resource> {
        if let Some(routes) = &self.routes {
            for r in routes {
                let Some(t) = &r.kv else { continue };
                if let Some(m) = t.matches(key, None) {
                    return Some(match self.route_resource(r, &m) {
                        // A key without the row's id holds more than that row.
                        Resource::Row(id) if id.is_empty() => Resource::List,
                        res => res,
                    });
                }
            }
        }
        self.resource(key)
    }

    /// The paths a probe requests after a run: each route for the parameter values its table
    /// ever held (see [`Tracker::route_paths`]), the shorthand's list and every row otherwise.
    pub fn probe_paths(&self, history: &DbHistory) -> Vec<String> {
        let Some(routes) = &self.routes else {
            let mut paths = vec![self.list_path.clone()];
            paths.extend(history.row_ids().iter().map(|id| self.row_path(id)));
            return paths;
        };
        routes
            .iter()
            .flat_map(|r| self.route_paths(r, history, true))
            .collect()
    }

    /// The paths of route `r` for its parameters' values: a parameter compared with a column
    /// takes each value the column holds (`ever`: in any committed state, else now) and one it
    /// does not; a page parameter (only in `limit`/`offset`) takes 1, 2, ... up to the first
    /// empty page. At most [`MAX_PATHS_PER_ROUTE`] combinations.
    pub fn route_paths(&self, r: &Route, history: &DbHistory, ever: bool) -> Vec<String> {
        let rows: Vec<Value> = match self.history_of(history, r.table()) {
            None => Vec::new(),
            Some(h) if ever => h
                .list_history()
                .iter()
                .flat_map(|s| s.value.iter().cloned())
                .collect(),
            Some(h) => h
                .list_history()
                .last()
                .map(|s| s.value.clone())
                .unwrap_or_default(),
        };
        let largest: Vec<Value> = self
            .history_of(history, r.table())
            .and_then(|h| h.list_history().iter().max_by_key(|s| s.value.len()))
            .map(|s| s.value.clone())
            .unwrap_or_default();
        let params = r.pattern.params();
        let mut combos: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
        for p in &params {
            let values = param_values(r, p, &rows, &largest);
            combos = combos
                .iter()
                .flat_map(|c| {
                    values.iter().map(move |v| {
                        let mut c = c.clone();
                        c.insert(p.to_string(), v.clone());
                        c
                    })
                })
                .take(MAX_PATHS_PER_ROUTE)
                .collect();
        }
        combos.iter().map(|c| r.fill(c)).collect()
    }

    /// A path that shows `res`: the first declared route of its kind (the shorthand's paths
    /// without routes).
    pub fn path_of(&self, res: &Resource) -> String {
        let fallback = || match res {
            Resource::List | Resource::Table(_) => self.list_path.clone(),
            Resource::Row(id) => self.row_path(id),
        };
        let Some(routes) = &self.routes else {
            return fallback();
        };
        routes
            .iter()
            .find_map(|r| match res {
                Resource::Row(id) if self.is_row_route(r) => {
                    let p = r.truth.key_param()?.to_string();
                    Some(r.fill(&BTreeMap::from([(p, id.clone())])))
                }
                Resource::List if r.table() == self.table() && !self.is_row_route(r) => {
                    Some(r.pattern.text().to_string())
                }
                Resource::Table(t) if r.table() == t => Some(r.pattern.text().to_string()),
                _ => None,
            })
            .unwrap_or_else(fallback)
    }

    /// Routes whose bodies could not be mapped: (pattern, first path, why, how many bodies).
    pub fn unmapped(&self) -> Vec<(String, String, String, u64)> {
        let u = self.unmapped.lock().unwrap_or_else(|e| e.into_inner());
        u.iter()
            .map(|(k, (p, w, n))| (k.clone(), p.clone(), w.clone(), *n))
            .collect()
    }

    /// What the tracker follows, for messages: `/articles or /articles/<id>`, or the patterns.
    pub fn describe(&self) -> String {
        match &self.routes {
            None => format!("{0} or {0}/<id>", self.list_path),
            Some(r) => r
                .iter()
                .map(|r| r.pattern.text().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The canonical text of what `body` shows for route `i` (a row's `""` = absent).
    fn route_body_key(&self, i: usize, r: &Route, body: &[u8]) -> Result<Arc<str>, String> {
        let mut memo = self.mapped.lock().unwrap_or_else(|e| e.into_inner());
        let k = (i, body.to_vec());
        if let Some(v) = memo.get(&k) {
            return v.clone();
        }
        let key = match serde_json::from_slice::<Value>(body) {
            Err(_) => Err("the body is not JSON".to_string()),
            Ok(v) => r.extract(&v).and_then(|x| match (r.shape, x) {
                (Shape::Row, Value::Null) => Ok(row_key(None).into()),
                (Shape::Row, v @ Value::Object(_)) => Ok(row_key(Some(&r.project(v))).into()),
                (Shape::List, Value::Array(rows)) => Ok(r.list_key(rows).into()),
                (Shape::Row, _) => Err(format!(
                    "the value at pointer {:?} is not an object (shape = \"row\")",
                    r.pointer
                )),
                (Shape::List, _) => Err(format!(
                    "the value at pointer {:?} is not an array (shape = \"list\")",
                    r.pointer
                )),
            }),
        };
        if memo.len() >= BODY_MEMO_CAP {
            memo.clear();
        }
        memo.insert(k, key.clone());
        key
    }

    /// [`Tracker::classify`] for a declared route.
    fn classify_route(
        &self,
        history: &DbHistory,
        path: &str,
        status: u16,
        body: &[u8],
        t_ms: u64,
    ) -> Served {
        let Some((i, r, params)) = self.route_of(path) else {
            return Served::Untracked;
        };
        let want: Arc<str> = match (r.shape, status) {
            (Shape::Row, 404) => "".into(),
            (_, 200) => match self.route_body_key(i, r, body) {
                Ok(k) => k,
                Err(why) => {
                    let mut u = self.unmapped.lock().unwrap_or_else(|e| e.into_inner());
                    u.entry(r.pattern.text().to_string())
                        .or_insert_with(|| (path.to_string(), why, 0))
                        .2 += 1;
                    return Served::Phantom;
                }
            },
            _ => return Served::Error,
        };
        let Some(h) = self.history_of(history, r.table()) else {
            return Served::Untracked;
        };
        if self.is_row_route(r) {
            let id = r
                .truth
                .key_param()
                .and_then(|p| params.get(p).cloned())
                .unwrap_or_default();
            if r.whole_rows() {
                return h.match_row_key(&id, &want, t_ms);
            }
            let hist = h.row_history(&id);
            if hist.is_empty() {
                return if want.is_empty() {
                    Served::Version(0)
                } else {
                    Served::Phantom
                };
            }
            return hist
                .iter()
                .rev()
                .filter(|s| s.t_ms <= t_ms)
                .find(|s| row_key(s.value.as_ref().map(|v| r.project(v)).as_ref()) == *want)
                .map_or(Served::Phantom, |s| Served::Version(s.version));
        }
        let plain =
            r.truth.filters.is_empty() && r.truth.limit.is_none() && r.truth.offset.is_none();
        if plain && r.shape == Shape::List && r.whole_rows() && !r.ordered {
            return h.match_list_key(&want, t_ms);
        }
        // A view: the newest committed state of its table whose view equals the body.
        for s in h.list_history().iter().rev().filter(|s| s.t_ms <= t_ms) {
            match r.truth_key(&s.value, &params) {
                None => return Served::Untracked,
                Some(k) if *k == *want => return Served::Version(s.version),
                Some(_) => {}
            }
        }
        Served::Phantom
    }

    /// The canonical text of a 200 `body` read as `kind` (`""` = a row's JSON `null`, i.e.
    /// absent), or `None` when it is not of that shape (not JSON, or the wrong kind of value).
    fn body_key(&self, kind: BodyKind, body: &[u8]) -> Option<Arc<str>> {
        let mut memo = self.bodies.lock().unwrap_or_else(|e| e.into_inner());
        let memo = &mut memo[kind as usize];
        if let Some(key) = memo.get(body) {
            return key.clone();
        }
        let key: Option<Arc<str>> = match (kind, serde_json::from_slice(body).ok()) {
            (BodyKind::Row, Some(Value::Null)) => Some(row_key(None).into()),
            (BodyKind::Row, Some(v @ Value::Object(_))) => Some(row_key(Some(&v)).into()),
            (BodyKind::List, Some(Value::Array(rows))) => Some(list_key(&rows).into()),
            _ => None,
        };
        if memo.len() >= BODY_MEMO_CAP {
            memo.clear();
        }
        memo.insert(body.to_vec(), key.clone());
        key
    }

    /// The list path, e.g. `/articles`.
    pub fn list_path(&self) -> &str {
        &self.list_path
    }

    /// The path of row `id`.
    pub fn row_path(&self, id: &str) -> String {
        format!("{}/{id}", self.list_path)
    }

    /// The resource `path` shows, if tracked (the query string is ignored).
    pub fn resource(&self, path: &str) -> Option<Resource> {
        if self.routes.is_some() {
            let (_, r, m) = self.route_of(path)?;
            return Some(self.route_resource(r, &m));
        }
        let path = path.split('?').next().unwrap_or(path);
        if path == self.list_path {
            return Some(Resource::List);
        }
        let id = path.strip_prefix(&self.list_path)?.strip_prefix('/')?;
        (!id.is_empty() && !id.contains('/')).then(|| Resource::Row(id.to_string()))
    }

    /// Classifies a response at `t_ms`: the DB version whose state it equals, a phantom, or an error.
    pub fn classify(
        &self,
        history: &DbHistory,
        path: &str,
        status: u16,
        body: &[u8],
        t_ms: u64,
    ) -> Served {
        if self.routes.is_some() {
            return self.classify_route(history, path, status, body, t_ms);
        }
        let Some(res) = self.resource(path) else {
            return Served::Untracked;
        };
        match (res, status) {
            (Resource::Row(id), 404) => history.match_row_key(&id, "", t_ms),
            (Resource::Row(id), 200) => match self.body_key(BodyKind::Row, body) {
                Some(key) => history.match_row_key(&id, &key, t_ms),
                None => Served::Phantom,
            },
            (Resource::List, 200) => match self.body_key(BodyKind::List, body) {
                Some(key) => history.match_list_key(&key, t_ms),
                None => Served::Phantom,
            },
            _ => Served::Error,
        }
    }

    /// The version current at `t_ms` for `res`.
    pub fn current_at(&self, history: &DbHistory, res: &Resource, t_ms: u64) -> u64 {
        match res {
            Resource::List => history
                .list_history()
                .iter()
                .rev()
                .find(|s| s.t_ms <= t_ms)
                .map_or(0, |s| s.version),
            Resource::Row(id) => history
                .row_history(id)
                .iter()
                .rev()
                .find(|s| s.t_ms <= t_ms)
                .map_or(0, |s| s.version),
            Resource::Table(t) => history
                .table(t)
                .map_or(0, |h| self.current_at(h, &Resource::List, t_ms)),
        }
    }

    /// When the state at `version` of `res` stopped being current.
    pub fn superseded_at(&self, history: &DbHistory, res: &Resource, version: u64) -> Option<u64> {
        match res {
            Resource::List => history.list_superseded_at(version),
            Resource::Row(id) => history.row_superseded_at(id, version),
            Resource::Table(t) => history.table(t)?.list_superseded_at(version),
        }
    }
}

/// The most paths [`Tracker::route_paths`] gives one route.
pub const MAX_PATHS_PER_ROUTE: usize = 64;

/// The values route `r` takes for parameter `p`: those its column holds in `rows`, or pages
/// over `largest` (the table's largest state) (see [`Tracker::route_paths`]).
fn param_values(r: &Route, p: &str, rows: &[Value], largest: &[Value]) -> Vec<String> {
    let Some(col) = r.truth.column_of(p) else {
        // A page parameter: 1, 2, ... up to the first page with no rows (filters aside).
        let mut pages = crate::routes::Truth {
            filters: Vec::new(),
            ..r.truth.clone()
        };
        pages.columns.clear();
        let mut out = Vec::new();
        for n in 1..=20u32 {
            let v = n.to_string();
            let got = pages.eval(largest, &BTreeMap::from([(p.to_string(), v.clone())]));
            out.push(v);
            if got.is_some_and(|g| g.is_empty()) {
                break;
            }
        }
        return out;
    };
    let mut values: Vec<String> = rows
        .iter()
        .filter_map(|row| row.get(col))
        .filter(|v| !v.is_null())
        .map(crate::history::id_text)
        .collect();
    values.sort();
    values.dedup();
    let absent = if !values.is_empty() && values.iter().all(|v| v.parse::<i64>().is_ok()) {
        values
            .iter()
            .filter_map(|v| v.parse::<i64>().ok())
            .max()
            .map_or(1000, |m| m + 1000)
            .to_string()
    } else {
        let mut a = "absent".to_string();
        while values.contains(&a) {
            a.push('_');
        }
        a
    };
    values.push(absent);
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_bodies() {
        let t = Tracker::new("articles");
        assert_eq!(t.resource("/articles"), Some(Resource::List));
        assert_eq!(
            t.resource("/articles/2?x=1"),
            Some(Resource::Row("2".into()))
        );
        assert_eq!(t.resource("/articlesx"), None);
        assert_eq!(t.resource("/articles/2/x"), None);
        let mut h = DbHistory::new("id", vec![json!({"id":2,"title":"a"})], 0);
        h.record(vec![json!({"id":2,"title":"b"})], 10);
        let row = |b: &str| t.classify(&h, "/articles/2", 200, b.as_bytes(), 20);
        assert_eq!(row(r#"{"id":2,"title":"a"}"#), Served::Version(0));
        assert_eq!(row(r#"{"id":2,"title":"b"}"#), Served::Version(1));
        assert_eq!(row(r#"{"id":2,"title":"c"}"#), Served::Phantom);
        // A remembered body gives the same answer (and key order still does not matter).
        assert_eq!(row(r#"{"id":2,"title":"b"}"#), Served::Version(1));
        assert_eq!(row(r#"{"title":"b","id":2}"#), Served::Version(1));
        assert_eq!(
            t.classify(&h, "/articles/2", 200, br#"{"id":2,"title":"b"}"#, 5),
            Served::Phantom
        );
        assert_eq!(row("null"), Served::Phantom);
        assert_eq!(row("not json"), Served::Phantom);
        assert_eq!(t.classify(&h, "/articles/2", 503, b"", 20), Served::Error);
        assert_eq!(
            t.classify(&h, "/articles/9", 404, b"", 20),
            Served::Version(0)
        );
        assert_eq!(
            t.classify(&h, "/articles", 200, b"null", 20),
            Served::Phantom
        );
        assert_eq!(t.classify(&h, "/hello", 200, b"hi", 20), Served::Untracked);
        assert_eq!(t.current_at(&h, &Resource::Row("2".into()), 5), 0);
        assert_eq!(t.current_at(&h, &Resource::Row("2".into()), 10), 1);
        assert_eq!(t.superseded_at(&h, &Resource::List, 0), Some(10));
    }

    fn products() -> Tracker {
        let text = "[[routes]]\npath = \"/api/products/{id}\"\nsql = \"select * from products where id = {id}\"\npointer = \"/product\"\nignore = [\"fetched_at\"]\nkv = \"product:{id}\"\n\n[[routes]]\npath = \"/api/products\"\nsql = \"select id, price from products order by price desc\"\npointer = \"/data\"\nordered = true\n";
        let f: crate::routes::RoutesFile = toml::from_str(text).unwrap();
        let routes = Route::compile_all("r.toml", text, &f.routes).unwrap();
        Tracker::with_routes("products", routes)
    }

    #[test]
    fn declared_routes_map_bodies_through_pointers_projections_and_order() {
        let t = products();
        let mut h = DbHistory::new(
            "id",
            vec![
                json!({"id":1,"price":5,"name":"a"}),
                json!({"id":2,"price":9,"name":"b"}),
            ],
            0,
        );
        h.record(
            vec![
                json!({"id":1,"price":7,"name":"a"}),
                json!({"id":2,"price":9,"name":"b"}),
            ],
            10,
        );
        assert_eq!(
            t.resource("/api/products/1?x"),
            Some(Resource::Row("1".into()))
        );
        assert_eq!(t.resource("/api/products"), Some(Resource::List));
        assert_eq!(t.resource("/products/1"), None);
        assert_eq!(t.kv_key("/api/products/1"), "product:1");
        assert_eq!(t.kv_key("/api/products"), "/api/products");
        assert_eq!(
            t.resource_of_key("product:2"),
            Some(Resource::Row("2".into()))
        );
        assert_eq!(t.path_of(&Resource::Row("2".into())), "/api/products/2");
        let row = |b: &str, at| t.classify(&h, "/api/products/1", 200, b.as_bytes(), at);
        // The Worker's own field is ignored; the rest must equal a committed state.
        let v0 = r#"{"product":{"id":1,"price":5,"name":"a","fetched_at":123}}"#;
        assert_eq!(row(v0, 20), Served::Version(0));
        assert_eq!(
            row(r#"{"product":{"id":1,"price":7,"name":"a"}}"#, 20),
            Served::Version(1)
        );
        assert_eq!(
            row(r#"{"product":{"id":1,"price":6,"name":"a"}}"#, 20),
            Served::Phantom
        );
        assert_eq!(
            t.classify(&h, "/api/products/9", 404, b"", 20),
            Served::Version(0)
        );
        assert_eq!(row(r#"{"product":null}"#, 20), Served::Phantom);
        // Lists: only id and price compared, in `order by price desc` order.
        let list = |b: &str| t.classify(&h, "/api/products", 200, b.as_bytes(), 20);
        assert_eq!(
            list(r#"{"data":[{"id":2,"price":9,"x":1},{"id":1,"price":7}],"total":2}"#),
            Served::Version(1)
        );
        assert_eq!(
            list(r#"{"data":[{"id":1,"price":7},{"id":2,"price":9}],"total":2}"#),
            Served::Phantom,
            "ordered = true: the wrong order is no committed state"
        );
        assert!(t.unmapped().is_empty());
        // Bodies that cannot be mapped are phantoms, noted once per route with the reason.
        assert_eq!(list("[]"), Served::Phantom);
        assert_eq!(list("not json"), Served::Phantom);
        assert_eq!(row(r#"{"item":{}}"#, 20), Served::Phantom);
        let u = t.unmapped();
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].0, "/api/products");
        assert_eq!(u[0].3, 2);
        assert!(u[0].2.contains("pointer \"/data\""), "{u:?}");
        assert!(u[1].2.contains("pointer \"/product\""), "{u:?}");
        assert_eq!(
            t.probe_paths(&h),
            vec![
                "/api/products/1",
                "/api/products/2",
                "/api/products/1002",
                "/api/products"
            ]
        );
    }

    fn shop() -> Tracker {
        let text = "[[routes]]\npath = \"/p/{id}\"\nsql = \"select * from products where id = {id}\"\n\
            [[routes]]\npath = \"/p\"\nsql = \"select * from products order by id\"\nordered = true\n\
            [[routes]]\npath = \"/p?page={page}\"\nsql = \"select * from products order by id limit 2 offset ({page} - 1) * 2\"\npointer = \"/data\"\nordered = true\nkv = \"p:list\"\n\
            [[routes]]\npath = \"/c/{slug}/p\"\nsql = \"select id, price from products where cat = {slug}\"\n\
            [[routes]]\npath = \"/c/{slug}\"\nsql = \"select * from cats where slug = {slug}\"\nshape = \"row\"\nkv = \"cats\"\n";
        let f: crate::routes::RoutesFile = toml::from_str(text).unwrap();
        Tracker::with_routes(
            "products",
            Route::compile_all("r.toml", text, &f.routes).unwrap(),
        )
    }

    #[test]
    fn views_are_judged_per_parameter_value_over_several_tables() {
        let t = shop();
        assert_eq!(t.other_tables(), vec!["cats"]);
        let mut h = DbHistory::new(
            "id",
            vec![
                json!({"id":1,"cat":"a","price":5}),
                json!({"id":2,"cat":"b","price":6}),
                json!({"id":3,"cat":"a","price":7}),
            ],
            0,
        );
        h.add_table("cats", vec![json!({"id":1,"slug":"a","name":"A"})]);
        // v1: product 2 moves to a; v2: the category is renamed (the shared version sequence).
        let c = h.apply([(None, Some(json!({"id":2,"cat":"a","price":6})))], 10);
        assert_eq!(c[0].0, 1);
        let c = h.apply_table(
            "cats",
            [(None, Some(json!({"id":1,"slug":"a","name":"AA"})))],
            20,
        );
        assert_eq!(c[0].0, 2);
        assert_eq!(h.version(), 2);
        // Resources: the page and the filtered list are views of the tracked table; the
        // category is a view of the other one.
        assert_eq!(t.resource("/p?page=2"), Some(Resource::List));
        assert_eq!(t.resource("/p?x=1"), Some(Resource::List));
        assert_eq!(
            t.route_of("/p?page=2").unwrap().0,
            2,
            "the query pattern is more specific"
        );
        assert_eq!(t.route_of("/p?x=1").unwrap().0, 1);
        assert_eq!(t.resource("/c/a"), Some(Resource::Table("cats".into())));
        assert_eq!(t.kv_key("/p?page=2"), "p:list");
        assert_eq!(
            t.resource_of_key("cats"),
            Some(Resource::Table("cats".into()))
        );
        let at = |path: &str, body: &str, t_ms| t.classify(&h, path, 200, body.as_bytes(), t_ms);
        // Page 1 is ids 1, 2 before and after v1: the newest state it equals is v2.
        assert_eq!(
            at(
                "/p?page=1",
                r#"{"data":[{"id":1,"cat":"a","price":5},{"id":2,"cat":"b","price":6}]}"#,
                5
            ),
            Served::Version(0)
        );
        assert_eq!(
            at(
                "/p?page=1",
                r#"{"data":[{"id":1,"cat":"a","price":5},{"id":2,"cat":"b","price":6}]}"#,
                30
            ),
            Served::Version(0)
        );
        assert_eq!(
            at(
                "/p?page=1",
                r#"{"data":[{"id":1,"cat":"a","price":5},{"id":2,"cat":"a","price":6}]}"#,
                30
            ),
            Served::Version(1)
        );
        assert_eq!(
            at(
                "/p?page=1",
                r#"{"data":[{"id":2,"cat":"a","price":6},{"id":1,"cat":"a","price":5}]}"#,
                30
            ),
            Served::Phantom,
            "ordered"
        );
        assert_eq!(
            at(
                "/p?page=2",
                r#"{"data":[{"id":3,"cat":"a","price":7}]}"#,
                30
            ),
            Served::Version(1)
        );
        assert_eq!(at("/p?page=3", r#"{"data":[]}"#, 30), Served::Version(1));
        assert_eq!(
            at("/p?page=0", r#"{"data":[]}"#, 30),
            Served::Untracked,
            "no truth for page 0"
        );
        // Category a before v1 held 1 and 3; after it 1, 2 and 3 (any order, id and price only).
        assert_eq!(
            at("/c/a/p", r#"[{"id":3,"price":7},{"id":1,"price":5}]"#, 5),
            Served::Version(0)
        );
        assert_eq!(
            at("/c/a/p", r#"[{"id":3,"price":7},{"id":1,"price":5}]"#, 15),
            Served::Version(0)
        );
        assert_eq!(t.superseded_at(&h, &Resource::List, 0), Some(10));
        assert_eq!(
            at(
                "/c/a/p",
                r#"[{"id":1,"price":5},{"id":2,"price":6},{"id":3,"price":7}]"#,
                15
            ),
            Served::Version(1)
        );
        assert_eq!(at("/c/b/p", "[]", 15), Served::Version(1));
        assert_eq!(
            at("/c/b/p", r#"[{"id":2,"price":6}]"#, 15),
            Served::Version(0)
        );
        // The other table: its own states, the shared versions.
        assert_eq!(
            at("/c/a", r#"{"id":1,"slug":"a","name":"A"}"#, 25),
            Served::Version(0)
        );
        assert_eq!(
            at("/c/a", r#"{"id":1,"slug":"a","name":"AA"}"#, 25),
            Served::Version(2)
        );
        assert_eq!(
            at("/c/a", r#"{"id":1,"slug":"a","name":"AA"}"#, 15),
            Served::Phantom
        );
        assert_eq!(t.classify(&h, "/c/zz", 404, b"", 25), Served::Version(2));
        let cats = Resource::Table("cats".into());
        assert_eq!(t.current_at(&h, &cats, 25), 2);
        assert_eq!(t.superseded_at(&h, &cats, 0), Some(20));
        // Probes: each value a parameter's column ever held and one it never did; pages up to
        // the first empty one.
        let paths = t.probe_paths(&h);
        for p in [
            "/p/1",
            "/p/3",
            "/p/1003",
            "/p",
            "/p?page=1",
            "/p?page=2",
            "/c/a/p",
            "/c/b/p",
            "/c/absent/p",
            "/c/a",
            "/c/absent",
        ] {
            assert!(paths.contains(&p.to_string()), "{p} in {paths:?}");
        }
        assert!(
            paths.contains(&"/p?page=3".to_string()),
            "the first empty page: {paths:?}"
        );
        assert!(!paths.contains(&"/p?page=4".to_string()), "{paths:?}");
    }
}
