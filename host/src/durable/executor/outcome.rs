//! The end of an invocation: the model plans what it records
//! (InvocationCompleted, the end of the execution) and the crash policy
//! (retry after a pause, fail after [`super::super::MAX_CRASHES`] in a
//! row); this applies the plan and tells the run loop what next.

use super::super::model::{HostTransition, InvocationEnd, InvocationOutcome, plan_host};
use super::super::{Durable, lock, wit, wit_convert};
use super::Next;
use super::invocation::Invoked;
use crate::journal::{ErrorObject, JournalError, now_ms};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Durable {
    /// Records the end of an invocation (InvocationCompleted, and the end of
    /// the execution when the handler finished it) and decides what next.
    pub(super) async fn finish(self: &Arc<Self>, arn: &str, inv: Invoked) -> Next {
        let _g = self.lock_execution(arn).await;
        let mut again = lock(&self.active)
            .get_mut(arn)
            .map(std::mem::take)
            .unwrap_or(false);
        // On a shared journal another host may have completed what this
        // invocation waits on; the end is then written only if nothing moved
        // since that check (else the invocation runs again).
        let mut expect = None;
        if self.journal.is_shared() && !again {
            match self.moved_elsewhere(arn, &inv.waited).await {
                Ok((moved, version)) => {
                    again = moved;
                    expect = Some(version);
                }
                Err(e) => {
                    tracing::warn!(execution = %arn, "re-reading before the end of an invocation: {e}");
                    return Next::RetryAfter(Duration::from_secs(1));
                }
            }
        }
        let outcome = match inv.outcome {
            Ok(wit::Outcome::Succeeded(result)) => InvocationOutcome::Succeeded(result),
            Ok(wit::Outcome::Failed(error)) => {
                InvocationOutcome::Failed(wit_convert::error_from_wit(error))
            }
            Ok(wit::Outcome::Pending) => InvocationOutcome::Pending,
            Err((e, error_type)) => {
                self.metrics.crashes.fetch_add(1, Ordering::Relaxed);
                InvocationOutcome::Crashed(ErrorObject {
                    error_type: Some(error_type.to_string()),
                    error_message: Some(e.to_string()),
                    ..ErrorObject::default()
                })
            }
        };
        let end = InvocationEnd {
            outcome,
            start_ms: inv.start_ms,
            end_ms: inv.end_ms,
            run_us: u64::try_from(inv.run.as_micros()).unwrap_or(0),
            request_id: inv.request_id,
            waiting: inv.waiting,
            again,
        };
        let crash = match &end.outcome {
            InvocationOutcome::Crashed(e) => e.error_message.clone(),
            _ => None,
        };
        // Read only when the plan needs it (its start time, its crash
        // count): a `pending` that leaves the execution running reads nothing.
        let execution = if end.needs_execution() {
            self.journal.get_execution(arn).await.ok().flatten()
        } else {
            None
        };
        let transition = HostTransition::InvocationEnded(end);
        let plan = match plan_host(now_ms(), execution.as_ref(), None, transition) {
            Ok(plan) => plan,
            Err(e) => {
                tracing::error!(execution = %arn, "planning the end of an invocation: {e}");
                lock(&self.active).remove(arn);
                return Next::Done;
            }
        };
        if let Some(message) = crash {
            let crashes = plan.batch.execution.crashes.unwrap_or_default();
            tracing::warn!(execution = %arn, crashes, "durable invocation crashed: {message}");
        }
        let ends = plan.ends.is_some();
        let mut next = match (ends, plan.runnable, plan.retry_after) {
            (true, _, _) => Next::Done,
            (false, true, _) => Next::Again,
            (false, false, Some(pause)) => Next::RetryAfter(pause),
            (false, false, None) => Next::Done,
        };
        let mut batch = plan.batch;
        batch.fence = self.fence();
        batch.expect = expect;
        match self.journal.apply(arn, batch).await {
            Ok(_) => {
                if ends {
                    tracing::info!(execution = %arn, "execution ended");
                    self.notify_end(arn, execution.as_ref().map(|e| e.function.as_str()));
                }
            }
            Err(JournalError::ExecutionEnded { .. }) => {
                // Stopped or timed out while this invocation ran.
                if let Some(bookkeeping) = plan.if_ended
                    && let Err(e) = self.journal.apply(arn, bookkeeping).await
                {
                    tracing::warn!(execution = %arn, "recording the last invocation: {e}");
                }
                next = Next::Done;
            }
            Err(JournalError::Conflict { .. }) => {
                // Another host completed something meanwhile: run again.
                next = Next::Again;
            }
            Err(e @ JournalError::LeaseLost { .. }) => {
                tracing::warn!(execution = %arn, "{e}");
                next = Next::Done;
            }
            Err(e) => {
                tracing::error!(execution = %arn, "recording the end of an invocation: {e}");
                next = Next::RetryAfter(Duration::from_secs(1));
            }
        }
        if next == Next::Done {
            lock(&self.active).remove(arn);
        }
        next
    }
}
