//! Cron Triggers in simulation: each due minute of the Worker's `triggers.crons`, on virtual
//! time, runs its `scheduled()` handler (through [`Host::scheduled`]) and logs
//! [`EventKind::Scheduled`]; what the run does to KV is logged like any request's, so the
//! checker judges a Worker that revalidates by cron like one that revalidates on webhooks.

use crate::core::Core;
use crate::events::EventKind;
use edgesim_core::Clock;
use edgesim_host::{CronSchedule, Host};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Spawns, on the sim's paused runtime, the task that runs `schedule` on `host` from now until
/// `until_ms` (ms since the start of the run, inclusive): it sleeps until each due minute and
/// runs what is due then (in the wrangler file's order, one after the other, at the host's
/// default colo), each with `scheduledTime` = that minute. Ends by itself after `until_ms`;
/// abort the handle to stop it sooner.
pub(crate) fn spawn(
    core: Arc<Core>,
    host: Host,
    schedule: CronSchedule,
    until_ms: u64,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let start = core.epoch_ms(0);
        let until = core.epoch_ms(until_ms);
        let mut last = core.clock().now_ms();
        while let Some(next) = schedule.next_after(last) {
            if next > until {
                return;
            }
            tokio::time::sleep_until(core.clock().instant_at(next)).await;
            for (at, cron) in schedule.due(last, next) {
                let outcome = host.scheduled(None, &cron, at).await;
                core.log().push(EventKind::Scheduled {
                    cron,
                    scheduled_ms: at.saturating_sub(start),
                    outcome: outcome.status.as_str().to_string(),
                });
            }
            last = next;
        }
    })
}
