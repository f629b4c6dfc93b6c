//! Recovery after a restart: re-invokes every execution that was
//! mid-invocation and resumes the chained invokes that had not completed.

use super::Durable;
use crate::journal::{ExecutionStatus, JournalError, OperationStatus, OperationType};
use std::sync::Arc;

impl Durable {
    /// Schedules what the journal says is owed: every execution flagged
    /// mid-invocation, and the targets of unfinished chained invokes.
    pub(super) async fn recover(self: &Arc<Self>) -> Result<(), JournalError> {
        let owed = self.journal.executions_needing_recovery().await?;
        if !owed.is_empty() {
            tracing::info!(
                executions = owed.len(),
                "recovering executions that were mid-invocation"
            );
        }
        for e in owed {
            self.schedule(&e.arn);
        }
        self.resume_chained_invokes().await?;
        Ok(())
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
                for op in state.operations {
                    if op.op_type == OperationType::ChainedInvoke
                        && op.status == OperationStatus::Started
                        && let Some(c) = op.chained_invoke
                    {
                        tracing::info!(execution = %e.arn, op = %op.id, target = %c.function_name,
                            "resuming a chained invoke");
                        self.spawn_chained(e.arn.clone(), op.id, c);
                    }
                }
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(()),
            }
        }
    }
}
