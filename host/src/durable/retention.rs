//! Retention of ended executions: a sweeper task deletes, every
//! `[durable] retention_sweep_interval_s`, the executions that ended longer
//! ago than their function's retention (`retention_days`, AWS's
//! `DurableConfig.RetentionPeriodInDays`, default 30 days).
//!
//! Each sweep deletes in batches of [`SWEEP_BATCH`] executions, each batch
//! one journal write that goes through group commit like every other, and
//! yields between batches, so requests and invocations keep their turn.
//! A deleted execution is gone from every API (404, not listed); its
//! callback ids become unknown.

use super::Durable;
use crate::config::DurableSettings;
use crate::journal::{Journal, JournalError, now_ms};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Most executions one deletion write removes.
pub const SWEEP_BATCH: usize = 64;

/// How long the ended executions of each function are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    per_function_ms: HashMap<String, u64>,
    default_ms: u64,
}

impl RetentionPolicy {
    /// A policy keeping each `(function, retention in seconds)` as given,
    /// and executions of any other function `default_s` seconds.
    pub fn new(functions: impl IntoIterator<Item = (String, u64)>, default_s: u64) -> Self {
        RetentionPolicy {
            per_function_ms: functions
                .into_iter()
                .map(|(f, s)| (f, s.saturating_mul(1000)))
                .collect(),
            default_ms: default_s.saturating_mul(1000),
        }
    }

    /// Executions of `function` that ended before this time are past
    /// their retention at `now_ms`; `None` if none can be yet.
    pub fn cutoff_ms(&self, function: &str, now_ms: u64) -> Option<u64> {
        let keep = self
            .per_function_ms
            .get(function)
            .copied()
            .unwrap_or(self.default_ms);
        now_ms.checked_sub(keep)
    }
}

/// Deletes every execution past its retention at `now_ms`, in batches;
/// returns how many were deleted.
pub async fn sweep(
    journal: &dyn Journal,
    policy: &RetentionPolicy,
    now_ms: u64,
) -> Result<usize, JournalError> {
    let cutoff = |function: &str| policy.cutoff_ms(function, now_ms);
    let mut total = 0;
    loop {
        let arns = journal.expired_executions(&cutoff, SWEEP_BATCH).await?;
        let found = arns.len();
        if found == 0 {
            break;
        }
        let deleted = journal.delete_executions(arns).await?;
        total += deleted;
        if deleted == 0 || found < SWEEP_BATCH {
            break;
        }
        tokio::task::yield_now().await;
    }
    Ok(total)
}

impl Durable {
    /// Starts the retention sweeper: a sweep now, then one every
    /// `settings.retention_sweep_interval_s`. Functions keep their own
    /// `retention_s`; executions of functions no longer configured keep
    /// the host-wide `settings.retention_s`.
    pub fn start_retention(self: &Arc<Self>, settings: &DurableSettings) {
        let policy = RetentionPolicy::new(
            self.functions()
                .map(|f| (f.name.to_string(), f.config.retention_s)),
            settings.retention_s,
        );
        let interval = Duration::from_secs(settings.retention_sweep_interval_s.max(1));
        let journal = Arc::clone(self.journal());
        tokio::spawn(async move {
            loop {
                match sweep(journal.as_ref(), &policy, now_ms()).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(
                        executions = deleted,
                        "deleted ended durable executions past their retention"
                    ),
                    Err(error) => tracing::warn!(%error, "retention sweep failed; retrying later"),
                }
                tokio::time::sleep(interval).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_follow_each_function_and_the_default() {
        let p = RetentionPolicy::new([("short".to_string(), 2)], 30 * 86_400);
        assert_eq!(p.cutoff_ms("short", 10_000), Some(8_000));
        assert_eq!(p.cutoff_ms("short", 1_000), None);
        let now = 40 * 86_400_000;
        assert_eq!(p.cutoff_ms("gone", now), Some(10 * 86_400_000));
    }
}
