//! Completions from outside the guest: callbacks (success, failure,
//! heartbeat) and stop, with the stop of child executions. Each reads the
//! execution and operation, lets the model plan, and applies the plan.

use super::model::{ErrorType, HostTransition, plan_host};
use super::{CallbackCompletion, Durable, DurableError, detached};
use crate::journal::{ErrorObject, OperationStatus};
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl Durable {
    /// Completes (or heartbeats) the callback `callback_id`. The work runs
    /// in its own task (see [`detached`]): a committed completion is
    /// scheduled even if the caller goes away.
    pub async fn complete_callback(
        self: &Arc<Self>,
        callback_id: &str,
        completion: CallbackCompletion,
    ) -> Result<(), DurableError> {
        let (me, id) = (self.clone(), callback_id.to_string());
        detached(async move { me.complete_callback_now(&id, completion).await }).await
    }

    async fn complete_callback_now(
        self: &Arc<Self>,
        callback_id: &str,
        completion: CallbackCompletion,
    ) -> Result<(), DurableError> {
        let Some(r) = self.journal.callback(callback_id).await? else {
            return Err(DurableError::NotFound(format!(
                "no callback with id {callback_id}"
            )));
        };
        let _g = self.lock_execution(&r.arn).await;
        let (execution, op) = self.execution_and_op(&r.arn, Some(&r.op_id)).await?;
        let transition = HostTransition::CallbackCompleted {
            callback_id: callback_id.to_string(),
            op_id: r.op_id.clone(),
            completion,
        };
        let plan = plan_host(
            self.clock.now_ms(),
            Some(&execution),
            op.as_ref(),
            transition,
        )?;
        let wake = plan.sets_timers();
        if !plan.batch.is_empty() {
            self.journal.apply(&r.arn, plan.batch).await?;
        }
        if wake {
            self.timers_changed();
        }
        self.metrics.callbacks.fetch_add(1, Ordering::Relaxed);
        if plan.runnable {
            self.schedule(&r.arn);
        }
        Ok(())
    }

    /// Stops a running execution; returns the stop time (ms). The work runs
    /// in its own task (see [`detached`]): once the stop is committed, its
    /// waiters are told and its children stopped even if the caller goes away.
    pub async fn stop(
        self: &Arc<Self>,
        arn: &str,
        error: Option<ErrorObject>,
    ) -> Result<u64, DurableError> {
        let (me, arn) = (self.clone(), arn.to_string());
        detached(async move { me.stop_now(&arn, error).await }).await
    }

    async fn stop_now(&self, arn: &str, error: Option<ErrorObject>) -> Result<u64, DurableError> {
        let _g = self.lock_execution(arn).await;
        let e = self.get(arn).await?;
        let now = self.clock.now_ms();
        let plan = plan_host(now, Some(&e), None, HostTransition::Stopped(error))?;
        self.journal.apply(arn, plan.batch).await?;
        self.notify_end(arn, Some(&e.function));
        drop(_g);
        self.stop_children(arn).await;
        Ok(now)
    }

    /// Stops the child executions of chained invokes that had not ended
    /// when their parent was stopped.
    async fn stop_children(&self, arn: &str) {
        let Ok(state) = self.journal.load_state(arn).await else {
            return;
        };
        for op in state.operations {
            let child = op.chained_invoke.and_then(|c| c.execution_arn);
            if op.status == OperationStatus::Started
                && let Some(child) = child
                && matches!(self.journal.get_execution(&child).await, Ok(Some(e)) if !e.status.is_terminal())
            {
                let error = ErrorType::ParentStopped.error(format!("its parent {arn} was stopped"));
                if let Err(e) = Box::pin(self.stop_now(&child, Some(error))).await {
                    tracing::warn!(execution = %child, "stopping a child execution: {e}");
                }
            }
        }
    }
}
