//! Optional SQLite persistence of central's records and of writes in flight (`edgesim dev`).
//!
//! Colo caches are not persisted: after a restart every colo starts cold.

use crate::cache::{Pending, Record};
use crate::limits::KvError;
use crate::model::{Landed, NsState};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv_central (
  namespace TEXT NOT NULL, key TEXT NOT NULL, value BLOB, metadata TEXT,
  expiration INTEGER, version INTEGER NOT NULL, PRIMARY KEY (namespace, key));
CREATE TABLE IF NOT EXISTS kv_pending (
  namespace TEXT NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL, value BLOB,
  metadata TEXT, expiration INTEGER, origin TEXT NOT NULL, issued_ms INTEGER NOT NULL,
  arrival_ms INTEGER NOT NULL, PRIMARY KEY (namespace, version));
CREATE TABLE IF NOT EXISTS kv_versions (namespace TEXT PRIMARY KEY, next_version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kv_namespaces (namespace TEXT PRIMARY KEY);
";

/// The SQLite file behind central.
#[derive(Debug)]
pub(crate) struct Db {
    conn: Connection,
}

fn err(e: impl std::fmt::Display) -> KvError {
    KvError::Unavailable(format!("KV storage failed: {e}"))
}

fn meta_text(m: &Option<Arc<serde_json::Value>>) -> Option<String> {
    m.as_ref().map(|v| v.to_string())
}

fn meta_parse(s: Option<String>) -> Result<Option<Arc<serde_json::Value>>, KvError> {
    s.map(|t| serde_json::from_str(&t).map(Arc::new).map_err(err))
        .transpose()
}

fn as_i64(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

/// `key, value, metadata, expiration, version`: the leading columns of both tables' selects.
struct StoredRecord {
    key: String,
    value: Option<Vec<u8>>,
    meta: Option<String>,
    exp: Option<i64>,
    version: i64,
}

impl StoredRecord {
    /// Reads columns 0 to 4 of `r`.
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            key: r.get(0)?,
            value: r.get(1)?,
            meta: r.get(2)?,
            exp: r.get(3)?,
            version: r.get(4)?,
        })
    }

    /// The key and its record (the metadata JSON parsed).
    fn into_record(self) -> Result<(String, Record), KvError> {
        let record = Record {
            value: self.value.map(Arc::new),
            metadata: meta_parse(self.meta)?,
            expiration: self.exp.map(|e| e as u64),
            version: self.version as u64,
        };
        Ok((self.key, record))
    }
}

impl Db {
    /// Opens (or creates) the file and its tables.
    pub fn open(path: &Path) -> Result<Self, KvError> {
        let conn = Connection::open(path)
            .map_err(|e| err(format!("cannot open {}: {e}", path.display())))?;
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA journal_mode=WAL;")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self { conn })
    }

    /// Moves the write-ahead log into the database file and truncates it (clean shutdown).
    pub fn checkpoint(&self) -> Result<(), KvError> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(err)
    }

    /// Loads namespace `ns`'s central records, writes in flight and version counter.
    /// Writes from colos no longer configured are attributed to the first colo.
    pub fn load(
        &self,
        ns: &str,
        state: &mut NsState,
        colo_index: &BTreeMap<String, usize>,
    ) -> Result<(), KvError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, value, metadata, expiration, version FROM kv_central WHERE namespace = ?1")
            .map_err(err)?;
        let rows = stmt.query_map([ns], StoredRecord::read).map_err(err)?;
        for row in rows {
            let (key, record) = row.map_err(err)?.into_record()?;
            state.central.insert(key, record);
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT key, value, metadata, expiration, version, origin, issued_ms, arrival_ms \
                 FROM kv_pending WHERE namespace = ?1",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([ns], |r| {
                Ok((
                    StoredRecord::read(r)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })
            .map_err(err)?;
        for row in rows {
            let (stored, origin, issued, arrival) = row.map_err(err)?;
            let (key, record) = stored.into_record()?;
            let version = record.version;
            let p = Pending {
                key,
                record,
                origin: colo_index.get(&origin).copied().unwrap_or(0),
                issued_ms: issued as u64,
                arrival_ms: arrival as u64,
            };
            state.pending.insert((p.arrival_ms, version), p);
        }
        let next: Option<i64> = self
            .conn
            .query_row(
                "SELECT next_version FROM kv_versions WHERE namespace = ?1",
                [ns],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        if let Some(n) = next {
            state.next_version = state.next_version.max(n as u64);
        }
        Ok(())
    }

    /// Records a write in flight and the namespace's next version.
    pub fn save_pending(
        &self,
        ns: &str,
        origin: &str,
        p: &Pending,
        next_version: u64,
    ) -> Result<(), KvError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO kv_pending \
                 (namespace, version, key, value, metadata, expiration, origin, issued_ms, arrival_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    ns,
                    as_i64(p.record.version),
                    p.key,
                    p.record.value.as_deref(),
                    meta_text(&p.record.metadata),
                    p.record.expiration.map(as_i64),
                    origin,
                    as_i64(p.issued_ms),
                    as_i64(p.arrival_ms),
                ],
            )
            .map_err(err)?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO kv_versions (namespace, next_version) VALUES (?1, ?2)",
                params![ns, as_i64(next_version)],
            )
            .map_err(err)?;
        Ok(())
    }

    /// Records the bindings a store was opened with, so tools outside `edgesim dev` (`edgesim kv`)
    /// know which namespaces the file belongs to.
    pub fn record_namespaces(&self, names: &[String]) -> Result<(), KvError> {
        for n in names {
            self.conn
                .execute(
                    "INSERT OR IGNORE INTO kv_namespaces (namespace) VALUES (?1)",
                    [n],
                )
                .map_err(err)?;
        }
        Ok(())
    }

    /// Every namespace the file knows: recorded bindings and any namespace with data.
    pub fn namespaces(&self) -> Result<Vec<String>, KvError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT namespace FROM kv_namespaces UNION SELECT namespace FROM kv_central \
                 UNION SELECT namespace FROM kv_pending UNION SELECT namespace FROM kv_versions \
                 ORDER BY namespace",
            )
            .map_err(err)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// Stores a write made straight at central (no colo, nothing in flight) and the namespace's
    /// next version.
    pub fn save_central(
        &self,
        ns: &str,
        key: &str,
        record: &Record,
        next_version: u64,
    ) -> Result<(), KvError> {
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        tx.execute(
            "INSERT OR REPLACE INTO kv_central (namespace, key, value, metadata, expiration, version) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                ns,
                key,
                record.value.as_deref(),
                meta_text(&record.metadata),
                record.expiration.map(as_i64),
                as_i64(record.version),
            ],
        )
        .map_err(err)?;
        tx.execute(
            "INSERT OR REPLACE INTO kv_versions (namespace, next_version) VALUES (?1, ?2)",
            params![ns, as_i64(next_version)],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Moves landed writes from in flight to central, in landing order.
    pub fn land(&self, ns: &str, landed: &Landed) -> Result<(), KvError> {
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        for (version, p) in landed {
            tx.execute(
                "INSERT OR REPLACE INTO kv_central (namespace, key, value, metadata, expiration, version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    ns,
                    p.key,
                    p.record.value.as_deref(),
                    meta_text(&p.record.metadata),
                    p.record.expiration.map(as_i64),
                    as_i64(*version),
                ],
            )
            .map_err(err)?;
            tx.execute(
                "DELETE FROM kv_pending WHERE namespace = ?1 AND version = ?2",
                params![ns, as_i64(*version)],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }
}
