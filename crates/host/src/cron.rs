//! Driving Cron Triggers on the emulator clock: [`CronSchedule`] (a Worker's `triggers.crons`),
//! [`run_due`] (every run due in a window, in time order, each with its own `scheduledTime`)
//! and [`spawn_dev_cron`] (the `edgesim dev` task that fires them as the clock passes each
//! due minute, including when `POST /__edgesim/time/advance` jumps it).
//!
//! Production starts a Cron Trigger at (or shortly after) each due minute, UTC; edgesim starts
//! it when the emulator clock passes the minute, with `controller.scheduledTime` = that minute.
//! A jump of the clock over several due minutes fires each of them once, oldest first, each
//! with its own `scheduledTime` (the Worker's `Date.now()` is then the clock's, later, time).
//! Runs are sequential: one run ends before the next starts.

use crate::host::Host;
use crate::scheduled::ScheduledOutcome;
use crate::serve::HostSlot;
use edgesim_core::SharedClock;
use edgesim_core::cron::{CronError, CronExpr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How often the dev task re-reads the clock when nothing is due sooner (it also wakes at
/// once on [`DevCron::notify_advanced`]).
pub const DEV_CLOCK_POLL: Duration = Duration::from_millis(250);

/// A Worker's Cron Triggers: each expression as written (`controller.cron`) and parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CronSchedule {
    /// `(as written, parsed)`, in the wrangler file's order.
    pub crons: Vec<(String, CronExpr)>,
}

impl CronSchedule {
    /// A schedule of already-parsed expressions.
    pub fn new(crons: Vec<(String, CronExpr)>) -> Self {
        Self { crons }
    }

    /// Parses each expression; on the first bad one, its index in `exprs` and why (the caller
    /// names the file and line).
    pub fn parse<S: AsRef<str>>(exprs: &[S]) -> Result<Self, (usize, CronError)> {
        let mut crons = Vec::with_capacity(exprs.len());
        for (i, e) in exprs.iter().enumerate() {
            let text = e.as_ref();
            crons.push((
                text.to_string(),
                CronExpr::parse(text).map_err(|err| (i, err))?,
            ));
        }
        Ok(Self { crons })
    }

    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.crons.is_empty()
    }

    /// The earliest run of any expression strictly after `epoch_ms`.
    pub fn next_after(&self, epoch_ms: u64) -> Option<u64> {
        self.crons
            .iter()
            .filter_map(|(_, e)| e.next_after(epoch_ms))
            .min()
    }

    /// Every run due in `(from_ms, to_ms]`: `(scheduledTime, cron as written)`, by time, and
    /// in the file's order at the same minute.
    pub fn due(&self, from_ms: u64, to_ms: u64) -> Vec<(u64, String)> {
        let mut runs: Vec<(u64, usize)> = self
            .crons
            .iter()
            .enumerate()
            .flat_map(|(i, (_, e))| e.fires_between(from_ms, to_ms).map(move |t| (t, i)))
            .collect();
        runs.sort_unstable();
        runs.into_iter()
            .map(|(t, i)| (t, self.crons[i].0.clone()))
            .collect()
    }
}

/// Runs, one after the other, every scheduled event `schedule` has due in `(from_ms, to_ms]`
/// on `host` (at its default colo), each with its own `scheduledTime`; returns their outcomes
/// in that order.
pub async fn run_due(
    host: &Host,
    schedule: &CronSchedule,
    from_ms: u64,
    to_ms: u64,
) -> Vec<ScheduledOutcome> {
    let mut out = Vec::new();
    for (time, cron) in schedule.due(from_ms, to_ms) {
        out.push(host.scheduled(None, &cron, time).await);
    }
    out
}

/// The running `edgesim dev` cron task (see [`spawn_dev_cron`]).
#[must_use = "dropping a DevCron stops its task"]
pub struct DevCron {
    /// The task; abort it to stop firing (e.g. before a new schedule is spawned).
    pub handle: JoinHandle<()>,
    notify: Arc<Notify>,
    shared: Arc<DevShared>,
}

/// What the task and [`DevCron::advance`] share: the schedule, where the Worker is, and the
/// clock time up to which every due run has fired (locked while runs fire, so none fires
/// twice).
struct DevShared {
    slot: HostSlot,
    clock: SharedClock,
    schedule: CronSchedule,
    fired_to: tokio::sync::Mutex<u64>,
}

impl DevShared {
    /// Runs everything due in `(from, to]` on the Worker in the slot (skipped, with a warning,
    /// when no Worker is built yet).
    async fn fire(&self, from: u64, to: u64) {
        match self.slot.host() {
            Some(host) => {
                run_due(&host, &self.schedule, from, to).await;
            }
            None => {
                for (t, cron) in self.schedule.due(from, to) {
                    tracing::warn!(
                        target: "edgesim::scheduled",
                        "{cron:?} @ {} skipped: no Worker is built yet",
                        edgesim_core::cron::iso8601(t)
                    );
                }
            }
        }
    }
}

impl DevCron {
    /// Tells the task the clock has jumped, so runs now due fire at once instead of at the
    /// next poll (call from the `time/advance` hook after moving the clock).
    pub fn notify_advanced(&self) {
        self.notify.notify_one();
    }

    /// A handle for [`DevCron::notify_advanced`] that can move into a closure.
    pub fn notifier(&self) -> impl Fn() + Send + Sync + 'static {
        let notify = self.notify.clone();
        move || notify.notify_one()
    }

    /// Moves the clock `by` forward with `advance`, stopping at each due minute on the way to
    /// run what falls due there, so every run happens at its own virtual time (its
    /// `Date.now()`, its KV writes a minute apart, as in production) rather than all at the
    /// end of the jump. Returns once the clock is at the target and those runs (with their
    /// waitUntil work) have finished.
    pub async fn advance(&self, by: Duration, advance: impl Fn(Duration)) {
        let sh = &self.shared;
        let mut fired_to = sh.fired_to.lock().await;
        let target = sh.clock.now_ms().saturating_add(by.as_millis() as u64);
        let mut stops: Vec<u64> = sh
            .schedule
            .due(*fired_to, target)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        stops.dedup();
        for t in stops {
            let now = sh.clock.now_ms();
            if t > now {
                advance(Duration::from_millis(t - now));
            }
            sh.fire(*fired_to, t).await;
            *fired_to = t;
        }
        let now = sh.clock.now_ms();
        if target > now {
            advance(Duration::from_millis(target - now));
        }
        *fired_to = (*fired_to).max(target);
    }
}

impl Drop for DevCron {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// Starts the `edgesim dev` cron task: from the clock's time now on, whenever the clock
/// (wall clock plus `time/advance` jumps) passes due minutes, it runs each of them once, in
/// order, on the Worker in `slot` at the time (a rebuilt Worker takes the next runs). It wakes
/// at the next due minute, every [`DEV_CLOCK_POLL`], and on [`DevCron::notify_advanced`];
/// [`DevCron::advance`] moves the clock through each due minute itself.
/// With no Worker in the slot (a failed first build) due runs are skipped with a warning.
/// Dropping the returned [`DevCron`] stops the task.
pub fn spawn_dev_cron(slot: HostSlot, clock: SharedClock, schedule: CronSchedule) -> DevCron {
    let notify = Arc::new(Notify::new());
    let wake = notify.clone();
    let shared = Arc::new(DevShared {
        fired_to: tokio::sync::Mutex::new(clock.now_ms()),
        slot,
        clock,
        schedule,
    });
    let sh = shared.clone();
    let handle = tokio::spawn(async move {
        if sh.schedule.is_empty() {
            return;
        }
        loop {
            {
                let mut fired_to = sh.fired_to.lock().await;
                let now = sh.clock.now_ms();
                if now > *fired_to {
                    if sh.schedule.next_after(*fired_to).is_some_and(|t| t <= now) {
                        sh.fire(*fired_to, now).await;
                    }
                    *fired_to = now;
                }
            }
            let wait = match sh.schedule.next_after(sh.clock.now_ms()) {
                Some(t) => Duration::from_millis(t.saturating_sub(sh.clock.now_ms())),
                None => return,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait.min(DEV_CLOCK_POLL)) => {}
                _ = wake.notified() => {}
            }
        }
    });
    DevCron {
        handle,
        notify,
        shared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_runs_are_in_time_order_then_file_order() {
        let s = CronSchedule::parse(&["*/2 * * * *", "* * * * *"]).unwrap();
        let t0 = edgesim_core::VIRTUAL_EPOCH_MS;
        let due = s.due(t0, t0 + 4 * 60_000);
        let want: Vec<(u64, String)> = vec![
            (t0 + 60_000, "* * * * *".into()),
            (t0 + 120_000, "*/2 * * * *".into()),
            (t0 + 120_000, "* * * * *".into()),
            (t0 + 180_000, "* * * * *".into()),
            (t0 + 240_000, "*/2 * * * *".into()),
            (t0 + 240_000, "* * * * *".into()),
        ];
        assert_eq!(due, want);
        assert_eq!(s.next_after(t0), Some(t0 + 60_000));
        assert!(s.due(t0, t0 + 59_999).is_empty());
        let err = CronSchedule::parse(&["* * * * *", "0 0 * * 0"]).unwrap_err();
        assert_eq!(err.0, 1);
        assert!(err.1.to_string().contains("day-of-week"));
        assert!(CronSchedule::default().is_empty());
    }
}
