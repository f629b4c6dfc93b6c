//! The scheduler: one task that sleeps until the earliest journaled timer
//! (or a wake-up when a timer is set) and handles the due ones: a wait
//! ends, a step retry becomes ready, a callback or the execution times out.
//! Time comes from an injected [`Clock`]; due timers are claimed from the
//! journal for this host ([`crate::journal::Journal::claim_due_timers`]).

use super::Durable;
use super::model::{HostTransition, plan_host};
use crate::journal::{JournalError, Timer};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Most timers one tick claims.
const TICK_LIMIT: usize = 256;
/// How long a claimed timer is this host's to handle.
const TIMER_LEASE: Duration = Duration::from_secs(60);
/// The longest the scheduler sleeps without looking at the journal.
const MAX_SLEEP_MS: u64 = 60_000;

/// Where the scheduler and the host-side transitions get the time.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        crate::journal::now_ms()
    }
}

impl Durable {
    pub(super) async fn timer_loop(self: Arc<Self>) {
        loop {
            match self.tick(self.clock.now_ms()).await {
                Ok(n) if n == TICK_LIMIT => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!("reading due timers: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
            let next = self.journal.next_timer_due().await.ok().flatten();
            // On a shared journal other hosts set timers too: look again soon.
            let most = if self.journal.is_shared() {
                super::shared::POLL_EVERY.as_millis() as u64
            } else {
                MAX_SLEEP_MS
            };
            let wait = next.map_or(most, |d| d.saturating_sub(self.clock.now_ms()).min(most));
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(wait)) => {}
                () = self.timer_wake.notified() => {}
            }
        }
    }

    /// How long a claimed timer is this host's: on a shared journal, as
    /// long as an execution lease (a dead host's timers move on soon).
    fn timer_lease(&self) -> Duration {
        if self.journal.is_shared() {
            super::shared::SHARED_LEASE
        } else {
            TIMER_LEASE
        }
    }

    /// Claims the timers due at `now` (at most [`TICK_LIMIT`]) and handles
    /// them as of `now`; returns how many were claimed.
    pub async fn tick(self: &Arc<Self>, now: u64) -> Result<usize, JournalError> {
        let due = self
            .journal
            .claim_due_timers(&self.owner, now, self.timer_lease(), TICK_LIMIT)
            .await?;
        let claimed = due.len();
        let fired = due.into_iter().map(|claim| {
            let me = self.clone();
            async move { me.fire(claim.item, now).await }
        });
        futures::future::join_all(fired).await;
        Ok(claimed)
    }

    /// Handles one due timer at `now` in one batch that also removes it.
    async fn fire(self: Arc<Self>, t: Timer, now: u64) {
        self.metrics.timers_fired.fetch_add(1, Ordering::Relaxed);
        let _g = self.lock_execution(&t.arn).await;
        let (execution, op) = match self.execution_and_op(&t.arn, t.op_id.as_deref()).await {
            Ok((execution, op)) => (Some(execution), op),
            Err(e) => {
                tracing::warn!(execution = %t.arn, "timer for an unreadable execution: {e}");
                (None, None)
            }
        };
        let transition = HostTransition::TimerFired(t.clone());
        let plan = match plan_host(now, execution.as_ref(), op.as_ref(), transition) {
            Ok(plan) => plan,
            Err(e) => {
                tracing::error!(execution = %t.arn, "planning a {} timer: {e}", t.kind);
                return;
            }
        };
        let (runnable, ends) = (plan.runnable, plan.ends.is_some());
        match self.journal.apply(&t.arn, plan.batch).await {
            Ok(_) => {
                if runnable {
                    self.schedule(&t.arn);
                }
                if ends {
                    self.notify_end(&t.arn, execution.as_ref().map(|e| e.function.as_str()));
                }
            }
            Err(e) => tracing::error!(execution = %t.arn, "handling a {} timer: {e}", t.kind),
        }
    }
}
