//! Which paths the checkers track, and how a response body maps onto the DB history.

use crate::events::Served;
use crate::history::{DbHistory, list_key, row_key};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How many distinct bodies [`Tracker`] remembers before it starts over.
const BODY_MEMO_CAP: usize = 4096;

/// What a tracked path shows.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    /// The whole table (e.g. `/articles`).
    List,
    /// One row by id (e.g. `/articles/2`).
    Row(String),
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
}

type BodyKeys = BTreeMap<Vec<u8>, Option<Arc<str>>>;

/// Which canonical form a 200 body is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyKind {
    Row = 0,
    List = 1,
}

impl Clone for Tracker {
    fn clone(&self) -> Self {
        Self::new(&self.list_path[1..])
    }
}

impl Tracker {
    /// Tracks `/<table>` and `/<table>/<id>`.
    pub fn new(table: &str) -> Self {
        Self {
            list_path: format!("/{table}"),
            bodies: Mutex::default(),
        }
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
        }
    }

    /// When the state at `version` of `res` stopped being current.
    pub fn superseded_at(&self, history: &DbHistory, res: &Resource, version: u64) -> Option<u64> {
        match res {
            Resource::List => history.list_superseded_at(version),
            Resource::Row(id) => history.row_superseded_at(id, version),
        }
    }
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
}
