//! The database's history: every committed state of each row and of the whole table, with the
//! DB version (a commit counter) and virtual time at which it became current.
//!
//! The safety checker asks "is this body equal to some committed state at or before `t`?" and
//! the liveness checker "is it the current one?".

use crate::events::Served;
use serde_json::Value;
use std::collections::BTreeMap;

/// One committed state of a row (`None` = the row does not exist) or of the list.
#[derive(Clone, Debug, PartialEq)]
pub struct State<T> {
    /// DB version at which this state became current.
    pub version: u64,
    /// Virtual ms at which it became current.
    pub t_ms: u64,
    /// The state.
    pub value: T,
    /// Its canonical text (what bodies are compared against).
    pub key: String,
}

/// A change found between two table snapshots.
#[derive(Clone, Debug, PartialEq)]
pub struct RowChange {
    /// The row's primary key, as text.
    pub id: String,
    /// `INSERT`, `UPDATE` or `DELETE`.
    pub op: &'static str,
    /// The new row (`None` for a delete).
    pub row: Option<Value>,
}

/// Histories of one table, keyed by row id.
#[derive(Clone, Debug)]
pub struct DbHistory {
    key_column: String,
    start_ms: u64,
    version: u64,
    rows: BTreeMap<String, Vec<State<Option<Value>>>>,
    list: Vec<State<Vec<Value>>>,
    /// The histories of the other tables the routes read, sharing this one's version counter
    /// (so DB versions are one sequence over every tracked table).
    others: BTreeMap<String, DbHistory>,
}

/// A row id as text: numbers and strings alike (`1` and `"1"` both give `1`).
pub fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The canonical text of a JSON value: object keys sorted, so key order never matters.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&m[*k])))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => {
            let inner: Vec<String> = a.iter().map(canonical).collect();
            format!("[{}]", inner.join(","))
        }
        other => other.to_string(),
    }
}

/// The canonical text of a list body: each row's canonical text, sorted (row order never matters).
pub(crate) fn list_key(rows: &[Value]) -> String {
    let mut v: Vec<String> = rows.iter().map(canonical).collect();
    v.sort();
    v.join("\n")
}

/// The canonical text of a row body; empty for an absent row.
pub(crate) fn row_key(row: Option<&Value>) -> String {
    row.map(canonical).unwrap_or_default()
}

impl DbHistory {
    /// A history whose first state (DB version 0, at `t_ms`) is `rows`, keyed by `key_column`.
    pub fn new(key_column: &str, rows: Vec<Value>, t_ms: u64) -> Self {
        let mut h = Self {
            key_column: key_column.to_string(),
            start_ms: t_ms,
            version: 0,
            rows: BTreeMap::new(),
            list: vec![State {
                version: 0,
                t_ms,
                key: list_key(&rows),
                value: rows.clone(),
            }],
            others: BTreeMap::new(),
        };
        for r in rows {
            let id = h.id_of(&r);
            h.rows.insert(
                id,
                vec![State {
                    version: 0,
                    t_ms,
                    key: row_key(Some(&r)),
                    value: Some(r),
                }],
            );
        }
        h
    }

    /// Tracks another table beside this one, from `rows` at this history's start.
    pub fn add_table(&mut self, table: &str, rows: Vec<Value>) {
        let h = DbHistory::new(&self.key_column, rows, self.start_ms);
        self.others.insert(table.to_string(), h);
    }

    /// The history of another tracked table (see [`DbHistory::add_table`]).
    pub fn table(&self, table: &str) -> Option<&DbHistory> {
        self.others.get(table)
    }

    /// The other tracked tables.
    pub fn tables(&self) -> Vec<String> {
        self.others.keys().cloned().collect()
    }

    /// [`DbHistory::apply`] for another tracked table: its commits take the next versions of
    /// the shared sequence. Changes of a table not tracked are ignored.
    pub fn apply_table(
        &mut self,
        table: &str,
        changes: impl IntoIterator<Item = (Option<Value>, Option<Value>)>,
        t_ms: u64,
    ) -> Vec<(u64, RowChange)> {
        let version = self.version;
        let Some(h) = self.others.get_mut(table) else {
            return Vec::new();
        };
        h.version = version;
        let out = h.apply(changes, t_ms);
        self.version = h.version;
        out
    }

    fn id_of(&self, row: &Value) -> String {
        row.get(&self.key_column).map(id_text).unwrap_or_default()
    }

    /// The current DB version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Every row id that ever existed, in order.
    pub fn row_ids(&self) -> Vec<String> {
        self.rows.keys().cloned().collect()
    }

    /// Records a new snapshot of the whole table taken at `t_ms`. Each changed row becomes one
    /// commit with its own DB version; returns `(version, change)` per changed row.
    pub fn record(&mut self, rows: Vec<Value>, t_ms: u64) -> Vec<(u64, RowChange)> {
        let mut now: BTreeMap<String, Value> = BTreeMap::new();
        for r in &rows {
            now.insert(self.id_of(r), r.clone());
        }
        let mut changes = Vec::new();
        let ids: Vec<String> = self.rows.keys().chain(now.keys()).cloned().collect();
        let mut seen = std::collections::BTreeSet::new();
        for id in ids {
            if !seen.insert(id.clone()) {
                continue;
            }
            let before = self.current_row(&id).cloned();
            let after = now.get(&id).cloned();
            let same = match (&before, &after) {
                (Some(a), Some(b)) => canonical(a) == canonical(b),
                (None, None) => true,
                _ => false,
            };
            if same {
                continue;
            }
            self.version += 1;
            let op = match (&before, &after) {
                (None, Some(_)) => "INSERT",
                (Some(_), None) => "DELETE",
                _ => "UPDATE",
            };
            let start_ms = self.start_ms;
            self.rows
                .entry(id.clone())
                .or_insert_with(|| {
                    vec![State {
                        version: 0,
                        t_ms: start_ms,
                        value: None,
                        key: String::new(),
                    }]
                })
                .push(State {
                    version: self.version,
                    t_ms,
                    key: row_key(after.as_ref()),
                    value: after.clone(),
                });
            changes.push((self.version, RowChange { id, op, row: after }));
        }
        if !changes.is_empty() {
            self.list.push(State {
                version: self.version,
                t_ms,
                key: list_key(&rows),
                value: rows,
            });
        }
        changes
    }

    /// Records one commit's row changes (each `(old, new)`, as the mock's change hook reports
    /// them) at `t_ms`: the same as [`DbHistory::record`] with the table's new contents, without
    /// re-reading the table.
    pub fn apply(
        &mut self,
        changes: impl IntoIterator<Item = (Option<Value>, Option<Value>)>,
        t_ms: u64,
    ) -> Vec<(u64, RowChange)> {
        let mut now: BTreeMap<String, Value> = self
            .rows
            .iter()
            .filter_map(|(id, h)| Some((id.clone(), h.last()?.value.clone()?)))
            .collect();
        for (old, new) in changes {
            if let Some(o) = old {
                now.remove(&self.id_of(&o));
            }
            if let Some(n) = new {
                now.insert(self.id_of(&n), n);
            }
        }
        self.record(now.into_values().collect(), t_ms)
    }

    /// The current state of row `id` (`None` when it does not exist).
    pub fn current_row(&self, id: &str) -> Option<&Value> {
        self.rows
            .get(id)
            .and_then(|h| h.last())
            .and_then(|s| s.value.as_ref())
    }

    /// The history of row `id`: empty when it never existed; a row inserted later starts with an
    /// absent state at version 0.
    pub fn row_history(&self, id: &str) -> &[State<Option<Value>>] {
        self.rows.get(id).map_or(&[], |v| v.as_slice())
    }

    /// The history of the whole list.
    pub fn list_history(&self) -> &[State<Vec<Value>>] {
        &self.list
    }

    /// The version of the row's current state (0 when it never changed).
    pub fn current_row_version(&self, id: &str) -> u64 {
        self.row_history(id).last().map_or(0, |s| s.version)
    }

    /// The version of the list's current state.
    pub fn current_list_version(&self) -> u64 {
        self.list.last().map_or(0, |s| s.version)
    }

    /// Which committed state of row `id` (at or before `t_ms`) `body` equals; `None` body = absent.
    pub fn match_row(&self, id: &str, body: Option<&Value>, t_ms: u64) -> Served {
        self.match_row_key(id, &row_key(body), t_ms)
    }

    /// [`DbHistory::match_row`] for a body already in canonical text (empty = absent).
    pub(crate) fn match_row_key(&self, id: &str, want: &str, t_ms: u64) -> Served {
        let hist = self.row_history(id);
        if hist.is_empty() {
            return if want.is_empty() {
                Served::Version(0)
            } else {
                Served::Phantom
            };
        }
        for s in hist.iter().rev().filter(|s| s.t_ms <= t_ms) {
            if s.key == want {
                return Served::Version(s.version);
            }
        }
        Served::Phantom
    }

    /// Which committed state of the list (at or before `t_ms`) `body` equals, ignoring row order.
    pub fn match_list(&self, body: &[Value], t_ms: u64) -> Served {
        self.match_list_key(&list_key(body), t_ms)
    }

    /// [`DbHistory::match_list`] for a body already in canonical text.
    pub(crate) fn match_list_key(&self, want: &str, t_ms: u64) -> Served {
        for s in self.list.iter().rev().filter(|s| s.t_ms <= t_ms) {
            if s.key == want {
                return Served::Version(s.version);
            }
        }
        Served::Phantom
    }

    /// When the state at `version` of row `id` stopped being current (`None`: still current).
    pub fn row_superseded_at(&self, id: &str, version: u64) -> Option<u64> {
        let hist = self.row_history(id);
        let i = hist.iter().position(|s| s.version == version)?;
        hist.get(i + 1).map(|s| s.t_ms)
    }

    /// When the list state at `version` stopped being current (`None`: still current).
    pub fn list_superseded_at(&self, version: u64) -> Option<u64> {
        let i = self.list.iter().position(|s| s.version == version)?;
        self.list.get(i + 1).map(|s| s.t_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_changes_and_matches_bodies() {
        let mut h = DbHistory::new("id", vec![json!({"id":1,"title":"a"})], 0);
        let ch = h.record(
            vec![json!({"id":1,"title":"b"}), json!({"id":2,"title":"c"})],
            1_000,
        );
        assert_eq!(ch.len(), 2);
        assert_eq!(ch[0].0, 1);
        assert_eq!(ch[0].1.op, "UPDATE");
        assert_eq!(ch[1].1.op, "INSERT");
        assert_eq!(h.version(), 2);
        // Key order does not matter; time does.
        assert_eq!(
            h.match_row("1", Some(&json!({"title":"b","id":1})), 1_000),
            Served::Version(1)
        );
        assert_eq!(
            h.match_row("1", Some(&json!({"id":1,"title":"b"})), 999),
            Served::Phantom
        );
        assert_eq!(
            h.match_row("1", Some(&json!({"id":1,"title":"a"})), 5_000),
            Served::Version(0)
        );
        assert_eq!(
            h.match_row("1", Some(&json!({"id":1,"title":"zzz"})), 5_000),
            Served::Phantom
        );
        assert_eq!(h.match_row("2", None, 10), Served::Version(0));
        assert_eq!(h.match_row("9", None, 10), Served::Version(0));
        assert_eq!(h.row_superseded_at("1", 0), Some(1_000));
        assert_eq!(h.row_superseded_at("2", 0), Some(1_000));
        assert_eq!(h.row_superseded_at("1", 1), None);
        let list = vec![json!({"id":2,"title":"c"}), json!({"id":1,"title":"b"})];
        assert_eq!(h.match_list(&list, 2_000), Served::Version(2));
        assert_eq!(h.match_list(&list[..1], 2_000), Served::Phantom);
        assert_eq!(h.list_superseded_at(0), Some(1_000));
        assert!(h.record(list, 3_000).is_empty());
        // Change-hook commits give the same history as snapshots.
        let mut a = DbHistory::new("id", vec![json!({"id":1,"title":"a"})], 0);
        let mut b = a.clone();
        let snap = a.record(vec![json!({"id":2,"title":"c"})], 10);
        let hooked = b.apply(
            [
                (None, Some(json!({"id":2,"title":"x"}))),
                (
                    Some(json!({"id":2,"title":"x"})),
                    Some(json!({"id":2,"title":"c"})),
                ),
                (Some(json!({"id":1,"title":"a"})), None),
            ],
            10,
        );
        assert_eq!(snap, hooked);
        assert_eq!(a.list_history(), b.list_history());
    }
}
