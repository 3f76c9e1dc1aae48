//! The delivery log behind `GET /__edgesim/deliveries`: every delivery and its outcome, kept
//! the way pg_net keeps `net._http_response` rows, so a long `edgesim dev` session stays bounded.
//!
//! pg_net deletes response rows older than `pg_net.ttl` (default 6 hours). The log does the same
//! on the emulator clock and also keeps at most [`DeliveryLog::capacity`] records (default
//! [`DEFAULT_CAPACITY`]): at 40 webhooks a second a 6-hour window would hold 900,000 payloads.
//! Nothing leaves silently: the count of evicted records is kept, served in the
//! `x-edgesim-deliveries-evicted` header, and the first eviction is logged once.
//!
//! ```
//! use edgesim_supabase::webhooks::log::DeliveryLog;
//! let mut log = DeliveryLog::new(2, 1_000);
//! for id in 1..=3 {
//!     log.push(edgesim_supabase::webhooks::log::tests_delivery(id, 0), 0);
//! }
//! assert_eq!(log.records().map(|r| r.delivery.id).collect::<Vec<_>>(), [2, 3]);
//! assert_eq!(log.evicted(), 1);
//! ```

use super::{DeliveryOutcome, DeliveryRecord, WebhookDelivery};
use std::collections::VecDeque;

/// Records the log keeps by default.
pub const DEFAULT_CAPACITY: usize = 2_000;

/// pg_net's default `pg_net.ttl`: response rows older than this are deleted.
pub const PG_NET_TTL_MS: u64 = 6 * 60 * 60 * 1000;

/// The response header that says how many records were evicted so far.
pub const EVICTED_HEADER: &str = "x-edgesim-deliveries-evicted";

/// Deliveries in id order (ids only grow), bounded by age and count.
#[derive(Debug)]
pub struct DeliveryLog {
    records: VecDeque<DeliveryRecord>,
    capacity: usize,
    ttl_ms: u64,
    evicted: u64,
}

impl Default for DeliveryLog {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY, PG_NET_TTL_MS)
    }
}

impl DeliveryLog {
    /// A log keeping at most `capacity` records (at least one), none older than `ttl_ms`.
    pub fn new(capacity: usize, ttl_ms: u64) -> Self {
        Self {
            records: VecDeque::new(),
            capacity: capacity.max(1),
            ttl_ms,
            evicted: 0,
        }
    }

    /// The most records kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Appends `delivery` (without an outcome yet), then evicts what is past the ttl at
    /// `now_ms` or over capacity, oldest first.
    pub fn push(&mut self, delivery: WebhookDelivery, now_ms: u64) {
        self.records.push_back(DeliveryRecord {
            delivery,
            outcome: None,
        });
        let horizon = now_ms.saturating_sub(self.ttl_ms);
        while let Some(oldest) = self.records.front() {
            let expired = oldest.delivery.committed_at_ms < horizon;
            if !expired && self.records.len() <= self.capacity {
                break;
            }
            self.records.pop_front();
            if self.evicted == 0 {
                tracing::info!(
                    "the webhook delivery log keeps the newest {} deliveries of the last {} h \
                     (pg_net keeps responses {} h); older ones are evicted and counted in the \
                     {EVICTED_HEADER} header of GET /__edgesim/deliveries",
                    self.capacity,
                    self.ttl_ms / 3_600_000,
                    PG_NET_TTL_MS / 3_600_000,
                );
            }
            self.evicted += 1;
        }
    }

    /// Sets the outcome of delivery `id` (the latest report wins); false when it is no longer
    /// (or never was) in the log.
    pub fn record_outcome(&mut self, id: u64, outcome: DeliveryOutcome) -> bool {
        match self.records.binary_search_by_key(&id, |r| r.delivery.id) {
            Ok(i) => {
                self.records[i].outcome = Some(outcome);
                true
            }
            Err(_) => false,
        }
    }

    /// The kept records, oldest first.
    pub fn records(&self) -> impl Iterator<Item = &DeliveryRecord> {
        self.records.iter()
    }

    /// Records evicted so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}

/// A minimal delivery for examples and tests: id `id`, committed at `at_ms`.
#[doc(hidden)]
pub fn tests_delivery(id: u64, at_ms: u64) -> WebhookDelivery {
    WebhookDelivery {
        id,
        hook: "h".into(),
        table: "t".into(),
        event: "INSERT".into(),
        url: "http://127.0.0.1/".into(),
        method: "POST".into(),
        headers: Vec::new(),
        body: bytes::Bytes::new(),
        timeout_ms: 1000,
        committed_at_ms: at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_up_to_capacity_and_counts_the_rest() {
        let mut log = DeliveryLog::new(3, PG_NET_TTL_MS);
        for id in 1..=5 {
            log.push(tests_delivery(id, 0), 0);
        }
        let ids: Vec<u64> = log.records().map(|r| r.delivery.id).collect();
        assert_eq!(ids, [3, 4, 5]);
        assert_eq!(log.evicted(), 2);
    }

    #[test]
    fn evicts_what_is_older_than_the_ttl_on_the_emulator_clock() {
        let mut log = DeliveryLog::new(100, 1_000);
        log.push(tests_delivery(1, 0), 0);
        log.push(tests_delivery(2, 700), 700);
        log.push(tests_delivery(3, 1_600), 1_600);
        let ids: Vec<u64> = log.records().map(|r| r.delivery.id).collect();
        assert_eq!(ids, [2, 3], "1 is 1.6 s old, past the 1 s ttl; 2 is not");
        assert_eq!(log.evicted(), 1);
    }

    #[test]
    fn outcomes_find_their_delivery_and_late_ones_are_refused() {
        let mut log = DeliveryLog::new(2, PG_NET_TTL_MS);
        for id in 1..=3 {
            log.push(tests_delivery(id, 0), 0);
        }
        let ok = DeliveryOutcome {
            status: Some(200),
            ..Default::default()
        };
        assert!(log.record_outcome(3, ok.clone()));
        assert!(!log.record_outcome(1, ok.clone()), "evicted");
        assert!(!log.record_outcome(9, ok), "never existed");
        let third = log.records().last().unwrap();
        assert_eq!(third.outcome.as_ref().unwrap().status, Some(200));
    }
}
