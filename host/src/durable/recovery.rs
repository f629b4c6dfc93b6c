//! Recovery after a restart: claims the executions that were
//! mid-invocation (RUNNING with `invocation_in_progress` set) for this host
//! and re-invokes them, and resumes the chained invokes that had not
//! completed.

use super::Durable;
use crate::journal::{ExecutionStatus, JournalError, OperationStatus, OperationType};
use std::sync::Arc;
use std::time::Duration;

/// How long recovered executions are this host's before another may claim them.
const RECOVERY_LEASE: Duration = Duration::from_secs(60);

impl Durable {
    /// Schedules what the journal says is owed: every execution flagged
    /// mid-invocation, and the targets of unfinished chained invokes.
    pub(super) async fn recover(self: &Arc<Self>) -> Result<(), JournalError> {
        // The redb and in-memory journals grant every claim to their one
        // process, so one claim without a limit takes all that is owed.
        // On a shared journal the claim skips what live hosts hold, and the
        // lease is short: it is renewed while this host runs the execution.
        let shared = self.journal.is_shared();
        let lease = if shared {
            super::shared::SHARED_LEASE
        } else {
            RECOVERY_LEASE
        };
        let owed = self
            .journal
            .claim_runnable(&self.owner, lease, usize::MAX)
            .await?;
        if !owed.is_empty() {
            tracing::info!(
                executions = owed.len(),
                "recovering executions that were mid-invocation"
            );
        }
        let claimed: Vec<String> = owed.iter().map(|c| c.item.arn.clone()).collect();
        for claim in owed {
            self.schedule(&claim.item.arn);
        }
        if shared {
            // Other hosts may be running the rest: only what this host claimed.
            self.resume_chained_invokes_of(&claimed).await?;
        } else {
            self.resume_chained_invokes().await?;
        }
        Ok(())
    }

    /// [`Durable::resume_chained_invokes`] for these executions only.
    async fn resume_chained_invokes_of(
        self: &Arc<Self>,
        arns: &[String],
    ) -> Result<(), JournalError> {
        for arn in arns {
            let state = self.journal.load_state(arn).await?;
            self.resume_chained_of(arn, state.operations);
        }
        Ok(())
    }

    /// Spawns the unfinished chained invokes among `ops` of `arn`.
    fn resume_chained_of(self: &Arc<Self>, arn: &str, ops: Vec<crate::journal::Operation>) {
        for op in ops {
            if op.op_type == OperationType::ChainedInvoke
                && op.status == OperationStatus::Started
                && let Some(c) = op.chained_invoke
            {
                tracing::info!(execution = %arn, op = %op.id, target = %c.function_name,
                    "resuming a chained invoke");
                self.spawn_chained(arn.to_string(), op.id, c);
            }
        }
    }

    /// After a restart: runs again (or finds, for durable targets) the
    /// targets of chained invokes that had not completed.
    async fn resume_chained_invokes(self: &Arc<Self>) -> Result<(), JournalError> {
        let mut after = None;
        loop {
            let page = self
                .journal
                .list_executions(crate::journal::ListQuery {
                    statuses: vec![ExecutionStatus::Running],
                    limit: 500,
                    after: after.take(),
                    ..Default::default()
                })
                .await?;
            for e in &page.executions {
                let state = self.journal.load_state(&e.arn).await?;
                self.resume_chained_of(&e.arn, state.operations);
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(()),
            }
        }
    }
}
