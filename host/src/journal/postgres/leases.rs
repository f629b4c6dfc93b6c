//! Claims and leases of the PostgreSQL journal.
//!
//! A running execution's lease is (owner, lease_until_ms) on its
//! `running_executions` row; a timer's on its `timers` row. A claim takes
//! rows nobody holds, rows the claimant holds already (a renewal) and rows
//! whose lease has ended, and skips rows another claimant is taking at the
//! same moment (`FOR UPDATE SKIP LOCKED`), so two hosts never get the same
//! row from concurrent claims.

use std::time::Duration;

use super::super::{Claim, Execution, Result, Timer, now_ms};
use super::reads::timer_row;
use super::{PgJournal, int, lease_until, uint};

impl PgJournal {
    /// `claim_runnable`.
    pub(super) async fn claim_runnable_now(
        &self,
        owner: &str,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claim<Execution>>> {
        let until = lease_until(lease);
        let now = int(now_ms());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .read(
                "WITH claimed AS (
                     UPDATE running_executions SET owner = $1, lease_until_ms = $2
                     WHERE arn IN (
                         SELECT arn FROM running_executions
                         WHERE in_progress AND (owner IS NULL OR owner = $1 OR lease_until_ms < $3)
                         ORDER BY arn LIMIT $4
                         FOR UPDATE SKIP LOCKED)
                     RETURNING arn)
                 SELECT e.arn, e.row FROM claimed c JOIN executions e ON e.arn = c.arn
                 ORDER BY e.arn",
                &[&owner, &until, &now, &limit],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let arn: &str = row.get(0);
                let exec: Execution =
                    super::super::tables::decode(row.get(1), "executions", || arn.to_owned())?;
                Ok(Claim::new(owner, uint(until), exec))
            })
            .collect()
    }

    /// `claim_due_timers`.
    pub(super) async fn claim_due_timers_now(
        &self,
        owner: &str,
        now_ms: u64,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claim<Timer>>> {
        let until = int(super::super::lease_end(now_ms, lease));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .read(
                "UPDATE timers SET owner = $1, lease_until_ms = $2
                 WHERE (arn, kind, op_id) IN (
                     SELECT arn, kind, op_id FROM timers
                     WHERE due_ms <= $3 AND (owner IS NULL OR owner = $1 OR lease_until_ms < $3)
                     ORDER BY due_ms, seq LIMIT $4
                     FOR UPDATE SKIP LOCKED)
                 RETURNING due_ms, seq, arn, kind, op_id",
                &[&owner, &until, &int(now_ms), &limit],
            )
            .await?;
        let mut timers = rows.iter().map(timer_row).collect::<Result<Vec<_>>>()?;
        timers.sort_by_key(|t| (t.due_ms, t.seq));
        Ok(timers
            .into_iter()
            .map(|t| Claim::new(owner, uint(until), t))
            .collect())
    }

    /// `lease_execution`.
    pub(super) async fn lease_execution_now(
        &self,
        owner: &str,
        arn: &str,
        lease: Duration,
    ) -> Result<bool> {
        let rows = self
            .read(
                "UPDATE running_executions SET owner = $1, lease_until_ms = $3
                 WHERE arn = $2 AND (owner IS NULL OR owner = $1 OR lease_until_ms < $4)
                 RETURNING arn",
                &[&owner, &arn, &lease_until(lease), &int(now_ms())],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// `release_execution`.
    pub(super) async fn release_execution_now(&self, owner: &str, arn: &str) -> Result<()> {
        self.read(
            "UPDATE running_executions SET owner = NULL, lease_until_ms = 0
             WHERE arn = $2 AND owner = $1 RETURNING arn",
            &[&owner, &arn],
        )
        .await
        .map(drop)
    }
}
