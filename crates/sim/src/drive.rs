//! Scheduling through the public [`Sim`] API: scripted SQL at a time, random mutations, and
//! Poisson request streams, each at durations since the start, all from the seed. The scenario
//! runner builds a run from these; a Rust test can build the same runs.

use crate::events::{Event, Origin};
use crate::faults::Override;
use crate::sim::Sim;
use bytes::Bytes;
use edgesim_core::SimRng;
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
        let table = core.table().to_string();
        let mut rng = SimRng::from_seed(self.seed()).fork("mutations");
        let _g = self.rt.enter();
        tokio::spawn(async move {
            let mut t = every;
            let mut n = 0u64;
            while t <= until {
                tokio::time::sleep_until(core.clock().instant_at(core.epoch_ms(t))).await;
                n += 1;
                let ids: Vec<String> = {
                    let h = core.history();
                    h.row_ids()
                        .into_iter()
                        .filter(|id| h.current_row(id).is_some())
                        .collect()
                };
                let u = rng.unit();
                let tag = format!("{:08x}", rng.next_u64() as u32);
                let pick = ids
                    .get(rng.range_u64(0, ids.len().max(1) as u64 - 1) as usize)
                    .cloned();
                let sql = match pick {
                    Some(id) if u < r.delete && ids.len() > 1 => {
                        format!("delete from {table} where id = {id}")
                    }
                    Some(id) if u >= r.delete + r.insert => format!(
                        "update {table} set title = 'edit {n} {tag}', content = 'content {tag}' where id = {id}"
                    ),
                    _ => format!(
                        "insert into {table} (title, content) values ('new {n} {tag}', 'content {tag}')"
                    ),
                };
                if let Err(e) = core.execute(&sql, Override::default()) {
                    core.sql_failed(format!("{sql}: {e}"));
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
