//! Scheduling through the public [`Sim`] API: scripted SQL at a time, random mutations, and
//! Poisson request streams, each at durations since the start, all from the seed. The scenario
//! runner builds a run from these; a Rust test can build the same runs.

use crate::core::Core;
use crate::events::{Event, EventKind, Origin};
use crate::faults::Override;
use crate::sim::Sim;
use bytes::Bytes;
use edgesim_core::SimRng;
use std::collections::BTreeMap;
use std::time::Duration;

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// Random updates (and inserts and deletes) of the tracked table, for [`Sim::random_mutations`].
#[derive(Clone, Debug, PartialEq)]
pub struct RandomMutations {
    /// Time between mutations (the first after one `every`).
    pub every: Duration,
    /// The last mutation is at or before this (since the start).
    pub until: Duration,
    /// Probability a mutation inserts a row.
    pub insert: f64,
    /// Probability a mutation deletes a row (never the last one).
    pub delete: f64,
    /// The columns an update changes, each to a generated value of the type its current value
    /// has (empty: the course's `title` and `content`). Inserts copy a random row's other
    /// columns (all but `id`) with these changed, and the table's unique columns made fresh.
    pub columns: Vec<String>,
    /// The table mutated (`None`: the tracked table).
    pub table: Option<String>,
    /// Which mutation stream this is (its own draws: `mutations`, then `mutations/1`, ...).
    pub stream: usize,
    /// Write through PostgREST as this role (`anon`, `authenticated`, `service_role`), under
    /// the table's RLS (`None`: SQL as the database owner).
    pub role: Option<String>,
    /// With `role = "authenticated"`: the user's email.
    pub user: Option<String>,
}

/// A SQL literal for `v` (`None` for objects and arrays, which are left out).
fn literal(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    Some(match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        _ => return None,
    })
}

/// A new value of the same type as `old`, from `draw` (a 32-bit number) and the mutation's
/// number `n`: numbers move by a small amount (integers stay integers), text gets a tag,
/// booleans flip, null becomes text.
fn generated(old: Option<&serde_json::Value>, n: u64, draw: u32) -> String {
    use serde_json::Value;
    match old {
        Some(Value::Number(x)) if x.is_i64() || x.is_u64() => {
            let base = x.as_i64().unwrap_or(0);
            (base + 1 + i64::from(draw % 97)).to_string()
        }
        Some(Value::Number(x)) => {
            let base = x.as_f64().unwrap_or(0.0);
            format!("{:.2}", base + 0.01 * f64::from(1 + draw % 997))
        }
        Some(Value::Bool(b)) => (!b).to_string(),
        _ => format!("'edit {n} {draw:08x}'"),
    }
}

/// A value for column `c` that no row holds when `c` is unique: numbers go past the largest
/// (`fresh` holds it), text gets the mutation's tag; otherwise [`generated`].
fn value_for(
    c: &str,
    old: Option<&serde_json::Value>,
    fresh: &BTreeMap<String, i64>,
    n: u64,
    draw: u32,
) -> String {
    match (fresh.get(c), old) {
        (Some(max), Some(serde_json::Value::Number(x))) if x.is_i64() || x.is_u64() => {
            (max + 1 + i64::from(draw % 97)).to_string()
        }
        (Some(_), Some(serde_json::Value::Number(x))) => {
            format!(
                "{:.2}",
                x.as_f64().unwrap_or(0.0) + 1000.0 + n as f64 + 0.01 * f64::from(draw % 97)
            )
        }
        _ => generated(old, n, draw),
    }
}

/// One random write, its values as SQL literals: rendered as SQL (run as the database owner)
/// or as a PostgREST request (run as a role, under RLS).
#[derive(Clone, Debug, PartialEq)]
enum Mutation {
    Update {
        id: String,
        sets: Vec<(String, String)>,
    },
    Insert {
        values: Vec<(String, String)>,
    },
    Delete {
        id: String,
    },
}

/// `id` as a SQL literal: numbers as they are, text quoted.
fn sql_id(id: &str) -> String {
    if id.parse::<i64>().is_ok() {
        id.to_string()
    } else {
        format!("'{}'", id.replace('\'', "''"))
    }
}

/// The JSON value of a SQL literal [`literal`] or [`generated`] printed.
fn json_of(lit: &str) -> serde_json::Value {
    use serde_json::Value;
    match lit {
        "null" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        l if l.starts_with('\'') && l.ends_with('\'') && l.len() >= 2 => {
            Value::String(l[1..l.len() - 1].replace("''", "'"))
        }
        l => serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.to_string())),
    }
}

impl Mutation {
    /// The SQL statement.
    fn sql(&self, table: &str) -> String {
        match self {
            Mutation::Update { id, sets } => {
                let sets: Vec<String> = sets.iter().map(|(c, v)| format!("{c} = {v}")).collect();
                format!(
                    "update {table} set {} where id = {}",
                    sets.join(", "),
                    sql_id(id)
                )
            }
            Mutation::Insert { values } => {
                let cols: Vec<&str> = values.iter().map(|(c, _)| c.as_str()).collect();
                let vals: Vec<&str> = values.iter().map(|(_, v)| v.as_str()).collect();
                format!(
                    "insert into {table} ({}) values ({})",
                    cols.join(", "),
                    vals.join(", ")
                )
            }
            Mutation::Delete { id } => format!("delete from {table} where id = {}", sql_id(id)),
        }
    }

    /// The PostgREST request: method, path with query, JSON body.
    fn rest(&self, table: &str) -> (http::Method, String, Option<serde_json::Value>) {
        let obj = |pairs: &[(String, String)]| {
            serde_json::Value::Object(pairs.iter().map(|(c, v)| (c.clone(), json_of(v))).collect())
        };
        let by_id = |id: &str| {
            format!(
                "/rest/v1/{table}?id=eq.{}",
                crate::routes::pattern::encode(id)
            )
        };
        match self {
            Mutation::Update { id, sets } => (http::Method::PATCH, by_id(id), Some(obj(sets))),
            Mutation::Insert { values } => (
                http::Method::POST,
                format!("/rest/v1/{table}"),
                Some(obj(values)),
            ),
            Mutation::Delete { id } => (http::Method::DELETE, by_id(id), None),
        }
    }
}

/// One random mutation of a table (an update of `pick`'s `columns`, or an insert copied from
/// `pick` with `columns` and the unique columns changed; `fresh` maps each unique column to
/// the largest number it holds, see [`value_for`]), or `None` when the table has no row to
/// start from.
fn column_mutation(
    columns: &[String],
    fresh: &BTreeMap<String, i64>,
    pick: Option<(&str, &serde_json::Value)>,
    insert: bool,
    n: u64,
    draw: u32,
) -> Option<Mutation> {
    let (id, row) = pick?;
    if insert {
        let obj = row.as_object()?;
        let mut values = Vec::new();
        for (k, v) in obj {
            if k == "id" {
                continue;
            }
            let val = if columns.contains(k) || fresh.contains_key(k) {
                value_for(k, Some(v), fresh, n, draw)
            } else {
                let Some(l) = literal(v) else { continue };
                l
            };
            values.push((k.clone(), val));
        }
        return Some(Mutation::Insert { values });
    }
    let sets = columns
        .iter()
        .map(|c| (c.clone(), value_for(c, row.get(c), fresh, n, draw)))
        .collect();
    Some(Mutation::Update {
        id: id.to_string(),
        sets,
    })
}

/// The table's unique columns other than `id`, found by trying (and rolling back) inserts that
/// copy `row`: a copy the database refuses with a unique violation (23505) names the columns
/// to make fresh. The mock's schema is not part of its public API, so the database is asked.
fn unique_columns(core: &Core, table: &str, row: &serde_json::Value) -> Vec<String> {
    /// What a rolled-back copy ran into.
    #[derive(PartialEq)]
    enum Probe {
        /// Nothing: the copy would land.
        Lands,
        /// A unique violation, with its message (which names the constraint).
        Unique(String),
        /// Another error (a check constraint the changed value breaks, say).
        Other,
    }
    let candidates: Vec<String> = row
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, v)| *k != "id" && (v.is_number() || v.is_string()))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    let probe = |changed: &[String]| {
        let fresh: BTreeMap<String, i64> = changed
            .iter()
            .map(|c| (c.clone(), i64::from(u32::MAX)))
            .collect();
        let Some(m) = column_mutation(&[], &fresh, Some(("0", row)), true, 0, 0) else {
            return Probe::Other;
        };
        // The second statement always fails, so the transaction never commits.
        let sql = format!("{}; select * from edgesim_probe_rollback", m.sql(table));
        match core.supabase().execute(&sql) {
            Err(e) if e.code == "23505" => Probe::Unique(e.message),
            Err(e) if e.message.contains("edgesim_probe_rollback") => Probe::Lands,
            Err(_) => Probe::Other,
            Ok(_) => Probe::Lands,
        }
    };
    let mut unique: Vec<String> = Vec::new();
    let mut now = probe(&unique);
    while let Probe::Unique(message) = &now {
        // A column whose fresh value lets the copy land, or at least moves the violation to
        // another constraint.
        let next = candidates
            .iter()
            .filter(|c| !unique.contains(c))
            .map(|c| {
                let mut with = unique.clone();
                with.push(c.clone());
                let p = probe(&with);
                (c, p)
            })
            .find(|(_, p)| *p == Probe::Lands || matches!(p, Probe::Unique(m) if m != message));
        let Some((c, p)) = next else { break };
        unique.push(c.clone());
        now = p;
    }
    unique
}

/// The largest integer each of `columns` holds over `rows` (0 when none).
fn largest(columns: &[String], rows: &[serde_json::Value]) -> BTreeMap<String, i64> {
    columns
        .iter()
        .map(|c| {
            let max = rows
                .iter()
                .filter_map(|r| r.get(c).and_then(serde_json::Value::as_f64))
                .fold(0.0f64, f64::max);
            (c.clone(), max.ceil() as i64)
        })
        .collect()
}

/// Whether the database refused a write for what it is (a constraint or a row-level security
/// policy) rather than because the SQL is wrong: such a write changes nothing.
fn refused(e: &edgesim_supabase::DbError) -> bool {
    e.code.starts_with("23") || e.code == "42501"
}

/// The 32-bit draw a mutation's tag was printed from.
fn tag_draw(tag: &str) -> u32 {
    u32::from_str_radix(tag, 16).unwrap_or(0)
}

impl Sim {
    /// Runs `sql` at `at` after the start (its webhooks get `webhooks`); a failure is recorded
    /// for [`Sim::failed_sql`].
    pub fn sql_at(&mut self, at: Duration, sql: &str, webhooks: Override) {
        let core = self.core.clone();
        let when = core.clock().instant_at(core.epoch_ms(ms(at)));
        let sql = sql.to_string();
        let _g = self.rt.enter();
        tokio::spawn(async move {
            tokio::time::sleep_until(when).await;
            if let Err(e) = core.execute(&sql, webhooks) {
                core.sql_failed(e.to_string());
            }
        });
    }

    /// At `at`, the write of the tracked table that a shipped scenario's course write
    /// `original` stands for ([`crate::port`]): an update of one column of the same row id (a
    /// text or number column that is not `id`, not unique and not a `*_at` timestamp, given a
    /// new value of its type), a delete of it, or an insert copied from the first row with its
    /// unique columns fresh. Logged as a note naming both statements; a row that is not there
    /// is a note too (nothing is written).
    pub fn ported_write_at(
        &mut self,
        at: Duration,
        write: crate::port::CourseWrite,
        original: &str,
        webhooks: Override,
    ) {
        use crate::port::CourseWrite;
        let core = self.core.clone();
        let when = core.clock().instant_at(core.epoch_ms(ms(at)));
        let original = original.to_string();
        let n = ms(at);
        let _g = self.rt.enter();
        tokio::spawn(async move {
            tokio::time::sleep_until(when).await;
            let table = core.table().to_string();
            let rows: Vec<(String, serde_json::Value)> = {
                let h = core.history();
                h.row_ids()
                    .into_iter()
                    .filter_map(|id| Some((id.clone(), h.current_row(&id)?.clone())))
                    .collect()
            };
            let note = |text: String| core.log().push(EventKind::Note { text });
            let m = match &write {
                CourseWrite::Delete { id } => Mutation::Delete { id: id.clone() },
                CourseWrite::Update { id } => {
                    let Some((_, row)) = rows.iter().find(|(i, _)| i == id) else {
                        note(format!(
                            "ported `{original}`: {table} has no row with id {id}; nothing written"
                        ));
                        return;
                    };
                    let unique = unique_columns(&core, &table, row);
                    let column = row.as_object().and_then(|o| {
                        let usable = |(k, _): &(&String, &serde_json::Value)| {
                            *k != "id" && !k.ends_with("_at") && !unique.contains(k)
                        };
                        o.iter()
                            .filter(|(_, v)| v.is_string())
                            .find(|kv| usable(kv))
                            .or_else(|| {
                                o.iter()
                                    .filter(|(_, v)| v.is_number())
                                    .find(|kv| usable(kv))
                            })
                            .map(|(k, v)| (k.clone(), v.clone()))
                    });
                    let Some((c, old)) = column else {
                        note(format!(
                            "ported `{original}`: {table} has no text or number column to change; nothing written"
                        ));
                        return;
                    };
                    Mutation::Update {
                        id: id.clone(),
                        sets: vec![(c, generated(Some(&old), n, (n % 9973) as u32))],
                    }
                }
                CourseWrite::Insert => {
                    let Some((first_id, first)) = rows.first() else {
                        note(format!(
                            "ported `{original}`: {table} has no row to copy; nothing written"
                        ));
                        return;
                    };
                    let unique = unique_columns(&core, &table, first);
                    let all: Vec<serde_json::Value> = rows.iter().map(|(_, r)| r.clone()).collect();
                    let fresh = largest(&unique, &all);
                    let Some(m) = column_mutation(&[], &fresh, Some((first_id, first)), true, n, 0)
                    else {
                        return;
                    };
                    m
                }
            };
            let sql = m.sql(&table);
            note(format!("ported `{original}` to the project's table: {sql}"));
            if let Err(e) = core.execute(&sql, webhooks) {
                core.sql_failed(format!("{sql} (ported from `{original}`): {e}"));
            }
        });
    }

    /// Scheduled SQL that failed: (when, the database's error).
    pub fn failed_sql(&self) -> Vec<(Duration, String)> {
        self.core
            .failed_sql()
            .into_iter()
            .map(|(t, m)| (Duration::from_millis(t), m))
            .collect()
    }

    /// Random mutations of the tracked table (an update of a random existing row unless the
    /// draw says insert or delete), drawn from the seed's `mutations` fork.
    pub fn random_mutations(&mut self, r: RandomMutations) {
        let core = self.core.clone();
        let every = ms(r.every).max(1);
        let until = ms(r.until);
        let table = r.table.clone().unwrap_or_else(|| core.table().to_string());
        let tracked = table == core.table();
        let fork = match r.stream {
            0 => "mutations".to_string(),
            i => format!("mutations/{i}"),
        };
        let mut rng = SimRng::from_seed(self.seed()).fork(&fork);
        let _g = self.rt.enter();
        tokio::spawn(async move {
            let mut t = every;
            let mut n = 0u64;
            let mut unique: Option<Vec<String>> = None;
            while t <= until {
                tokio::time::sleep_until(core.clock().instant_at(core.epoch_ms(t))).await;
                n += 1;
                // The table's current rows, by id, as the DB history holds them.
                let current: Vec<(String, serde_json::Value)> = {
                    let h = core.history();
                    let h = if tracked { Some(&*h) } else { h.table(&table) };
                    h.map(|h| {
                        h.row_ids()
                            .into_iter()
                            .filter_map(|id| Some((id.clone(), h.current_row(&id)?.clone())))
                            .collect()
                    })
                    .unwrap_or_default()
                };
                let ids: Vec<&String> = current.iter().map(|(id, _)| id).collect();
                let u = rng.unit();
                let tag = format!("{:08x}", rng.next_u64() as u32);
                let pick = ids
                    .get(rng.range_u64(0, ids.len().max(1) as u64 - 1) as usize)
                    .map(|id| id.to_string());
                let row = pick
                    .as_ref()
                    .and_then(|id| current.iter().find(|(i, _)| i == id))
                    .map(|(_, r)| r.clone());
                let custom = (!r.columns.is_empty()).then(|| {
                    let insert = u >= r.delete && u < r.delete + r.insert;
                    let unique = match (&unique, &row) {
                        (Some(u), _) => u.clone(),
                        (None, Some(row)) => {
                            unique.insert(unique_columns(&core, &table, row)).clone()
                        }
                        (None, None) => Vec::new(),
                    };
                    let rows: Vec<serde_json::Value> =
                        current.iter().map(|(_, r)| r.clone()).collect();
                    let fresh = largest(&unique, &rows);
                    column_mutation(
                        &r.columns,
                        &fresh,
                        pick.as_deref().zip(row.as_ref()),
                        insert,
                        n,
                        tag_draw(&tag),
                    )
                });
                let m = match (custom, pick) {
                    (Some(Some(m)), Some(_)) if !(u < r.delete && ids.len() > 1) => m,
                    (Some(None), _) => {
                        t += every;
                        continue;
                    }
                    (_, Some(id)) if u < r.delete && ids.len() > 1 => Mutation::Delete { id },
                    (_, Some(id)) if u >= r.delete + r.insert => Mutation::Update {
                        id,
                        sets: vec![
                            ("title".into(), format!("'edit {n} {tag}'")),
                            ("content".into(), format!("'content {tag}'")),
                        ],
                    },
                    _ => Mutation::Insert {
                        values: vec![
                            ("title".into(), format!("'new {n} {tag}'")),
                            ("content".into(), format!("'content {tag}'")),
                        ],
                    },
                };
                match &r.role {
                    None => {
                        let sql = m.sql(&table);
                        match core.execute(&sql, Override::default()) {
                            // A write the database refuses changes nothing: logged, not a failure.
                            Err(e) if refused(&e) => core.log().push(EventKind::Note {
                                text: format!(
                                    "random mutation refused ({}): {sql}: {}",
                                    e.code, e.message
                                ),
                            }),
                            Err(e) => core.sql_failed(format!("{sql}: {e}")),
                            Ok(_) => {}
                        }
                    }
                    Some(role) => {
                        let (method, path, body) = m.rest(&table);
                        let what = format!("{method} {path} as {role}");
                        match core.write_as(role, r.user.as_deref(), method, &path, body) {
                            Ok(None) => {}
                            Ok(Some(why)) => core.log().push(EventKind::Note {
                                text: format!("random mutation refused ({why}): {what}"),
                            }),
                            Err(e) => core.sql_failed(format!("{what}: {e}")),
                        }
                    }
                }
                t += every;
            }
        });
    }

    /// GETs of `paths` (picked uniformly) at `colo`, Poisson arrivals at `rate_per_s`, until
    /// `until` after the start; drawn from the seed's `workload/<stream>/<colo>` fork.
    pub fn poisson_workload(
        &mut self,
        stream: &str,
        colo: &str,
        rate_per_s: f64,
        paths: Vec<String>,
        until: Duration,
    ) {
        if paths.is_empty() || rate_per_s <= 0.0 {
            return;
        }
        let core = self.core.clone();
        let colo = colo.to_string();
        let until_ms = ms(until);
        let mut rng = SimRng::from_seed(self.seed()).fork(&format!("workload/{stream}/{colo}"));
        let _g = self.rt.enter();
        tokio::spawn(async move {
            let mut t = 0.0f64;
            loop {
                let u = rng.unit();
                t += -(1.0 - u).ln() / rate_per_s * 1000.0;
                let at = t.round() as u64;
                if at >= until_ms {
                    break;
                }
                let path = paths[rng.range_u64(0, paths.len() as u64 - 1) as usize].clone();
                tokio::time::sleep_until(core.clock().instant_at(core.epoch_ms(at))).await;
                let core = core.clone();
                let colo = colo.clone();
                tokio::spawn(async move {
                    let req = http::Request::get(format!("https://worker.sim{path}"))
                        .body(Bytes::new())
                        .expect("a path");
                    core.request(&colo, req, Origin::Workload).await;
                });
            }
        });
    }

    /// Makes room for `additional` more events (a hint for long runs).
    pub fn reserve_events(&self, additional: usize) {
        self.core.log().reserve(additional);
    }

    /// Moves every event out of the log (for a run that is over).
    pub fn take_events(&mut self) -> Vec<Event> {
        self.core.log().take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn column_mutations_follow_the_columns_types() {
        let row = json!({"id": 7, "name": "o'clock", "price": 250, "ratio": 0.5, "on": true});
        let cols = vec!["price".to_string(), "on".to_string(), "ratio".to_string()];
        let none = BTreeMap::new();
        let up = column_mutation(&cols, &none, Some(("7", &row)), false, 3, 5)
            .unwrap()
            .sql("products");
        assert_eq!(
            up,
            "update products set price = 256, on = false, ratio = 0.56 where id = 7"
        );
        let ins = column_mutation(&cols, &none, Some(("7", &row)), true, 3, 5).unwrap();
        let (method, path, body) = ins.rest("products");
        assert_eq!(
            (method, path.as_str()),
            (http::Method::POST, "/rest/v1/products")
        );
        assert_eq!(
            body.unwrap(),
            json!({"name": "o'clock", "price": 256, "ratio": 0.56, "on": false})
        );
        let ins = ins.sql("products");
        assert_eq!(
            ins,
            "insert into products (name, price, ratio, on) values ('o''clock', 256, 0.56, false)"
        );
        let text = column_mutation(&["name".into()], &none, Some(("a", &row)), false, 3, 255);
        let text = text.unwrap();
        assert_eq!(
            text.sql("t"),
            "update t set name = 'edit 3 000000ff' where id = 'a'"
        );
        assert_eq!(
            text.rest("t"),
            (
                http::Method::PATCH,
                "/rest/v1/t?id=eq.a".to_string(),
                Some(json!({"name": "edit 3 000000ff"}))
            )
        );
        assert_eq!(column_mutation(&cols, &none, None, false, 1, 1), None);
        assert_eq!(
            Mutation::Delete { id: "7".into() }.rest("t").1,
            "/rest/v1/t?id=eq.7"
        );
        // Unique columns are made fresh in inserts: numbers past the largest, text tagged.
        let fresh = BTreeMap::from([("sku".to_string(), 0), ("code".to_string(), 900)]);
        let row = json!({"id": 1, "sku": "k-1", "code": 900, "price": 5});
        let ins = column_mutation(&["price".into()], &fresh, Some(("1", &row)), true, 4, 2)
            .unwrap()
            .sql("p");
        assert_eq!(
            ins,
            "insert into p (sku, code, price) values ('edit 4 00000002', 903, 8)"
        );
    }
}
