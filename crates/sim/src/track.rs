//! Which paths the checkers track, and how a response body maps onto the DB history.

use crate::events::Served;
use crate::history::DbHistory;
use serde_json::Value;

/// What a tracked path shows.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    /// The whole table (e.g. `/articles`).
    List,
    /// One row by id (e.g. `/articles/2`).
    Row(String),
}

/// Maps paths to resources: `/<table>` is the list, `/<table>/<id>` a row.
#[derive(Clone, Debug)]
pub struct Tracker {
    list_path: String,
}

impl Tracker {
    /// Tracks `/<table>` and `/<table>/<id>`.
    pub fn new(table: &str) -> Self {
        Self {
            list_path: format!("/{table}"),
        }
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
        let json: Option<Value> = serde_json::from_slice(body).ok();
        match (res, status) {
            (Resource::Row(id), 404) => history.match_row(&id, None, t_ms),
            (Resource::Row(id), 200) => match json {
                Some(Value::Null) => history.match_row(&id, None, t_ms),
                Some(v @ Value::Object(_)) => history.match_row(&id, Some(&v), t_ms),
                _ => Served::Phantom,
            },
            (Resource::List, 200) => match json {
                Some(Value::Array(rows)) => history.match_list(&rows, t_ms),
                _ => Served::Phantom,
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
