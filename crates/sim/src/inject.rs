//! Fault injection through the public [`Sim`] API: KV, partition, webhook and Supabase faults,
//! each over a window given as durations since the start of the run (one time unit for all).
//! The scenario runner installs a scenario file's faults with these same methods, so a Rust
//! test can inject every fault a scenario can.

use crate::core::WebhookPlan;
use crate::events::EventKind;
use crate::faults::{KvFault, SupabaseFault, webhook_faults_name};
use crate::scenario::WebhookFaults;
use crate::sim::Sim;
use crate::upstream::SupabaseFaultRule;
use std::time::Duration;

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl Sim {
    /// KV fails (429 or 503) or slows down as `fault` says, from `from` to `to` after the start
    /// (logged as a fault window).
    pub fn kv_fault(&mut self, fault: KvFault, from: Duration, to: Duration) {
        let rule = fault.rule(self.core.epoch_ms(ms(from)), self.core.epoch_ms(ms(to)));
        self.core.kv().faults().fail(rule);
        self.mark_window(fault.name(), from, to);
    }

    /// Cuts `colo` from KV central from `from` to `to` after the start (logged as a fault
    /// window): its reads serve only its cache, its writes fail.
    pub fn partition_between(&mut self, colo: &str, from: Duration, to: Duration) {
        let (a, b) = (self.core.epoch_ms(ms(from)), self.core.epoch_ms(ms(to)));
        self.core.kv().faults().partition(colo, a, b);
        self.mark_window(format!("partition {colo} from KV central"), from, to);
    }

    /// Cuts `colo` from KV central for `duration` from now.
    pub fn partition(&mut self, colo: &str, duration: Duration) {
        let now = self.now();
        self.partition_between(colo, now, now + duration);
    }

    /// The Worker's fetches to Supabase fail (or slow down) as `fault` says, from `from` to
    /// `to` after the start (logged as a fault window).
    pub fn supabase_fault(&mut self, fault: SupabaseFault, from: Duration, to: Duration) {
        self.core.upstream_faults().add(SupabaseFaultRule {
            kind: fault.kind,
            rate: fault.rate,
            status: fault.failure_status(),
            latency_ms: fault.latency_ms,
            from_ms: ms(from),
            to_ms: ms(to),
        });
        self.mark_window(fault.name(), from, to);
    }

    /// Random webhook faults (drop, duplicate, reorder) for deliveries sent from `from` to `to`
    /// after the start; `faults.delay_ms` is every delivery's network delay, in the window or
    /// not. Replaces earlier webhook faults. Logged as a fault window when any fault can happen.
    pub fn webhook_faults_between(&mut self, faults: WebhookFaults, from: Duration, to: Duration) {
        let name = webhook_faults_name(&faults);
        let active = faults.drop > 0.0 || faults.duplicate > 0.0 || faults.reorder > 0.0;
        self.core.set_webhook_plan(WebhookPlan {
            faults,
            window: (ms(from), ms(to)),
        });
        if active {
            self.mark_window(name, from, to);
        }
    }

    /// Random webhook faults for deliveries sent during the next `duration`.
    pub fn webhook_faults(&mut self, faults: WebhookFaults, duration: Duration) {
        let now = self.now();
        self.webhook_faults_between(faults, now, now + duration);
    }

    /// Logs `FaultStart` at `from` and `FaultEnd` at `to` (after the start).
    fn mark_window(&mut self, name: String, from: Duration, to: Duration) {
        let core = self.core.clone();
        let (from, to) = (
            core.clock().instant_at(core.epoch_ms(ms(from))),
            core.clock().instant_at(core.epoch_ms(ms(to))),
        );
        let _g = self.rt.enter();
        tokio::spawn(async move {
            tokio::time::sleep_until(from).await;
            core.log().push(EventKind::FaultStart {
                fault: name.clone(),
            });
            tokio::time::sleep_until(to).await;
            core.log().push(EventKind::FaultEnd { fault: name });
        });
    }
}
