//! Completions from outside the guest: callbacks (success, failure,
//! heartbeat) and stop, with the stop of child executions.

use super::shapes::{event_error, event_result};
use super::{CallbackCompletion, Durable, DurableError, detached, execution_op};
use crate::journal::{
    Batch, ErrorObject, EventType, ExecutionStatus, NewEvent, OperationStatus, TimerKind,
    TimerRef, TimerSpec, now_ms,
};
use serde_json::json;
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
        if execution.status.is_terminal() {
            return Err(DurableError::Invalid(format!(
                "callback {callback_id} belongs to execution {} which has ended ({})",
                r.arn,
                execution.status.as_str()
            )));
        }
        let Some(mut op) = op else {
            return Err(DurableError::NotFound(format!(
                "callback {callback_id}: its operation {} is not in the journal",
                r.op_id
            )));
        };
        match op.status {
            OperationStatus::Started => {}
            OperationStatus::TimedOut => {
                return Err(DurableError::CallbackTimedOut(format!(
                    "callback {callback_id} has timed out"
                )));
            }
            other => {
                return Err(DurableError::Invalid(format!(
                    "callback {callback_id} is already completed ({})",
                    other.as_str()
                )));
            }
        }
        let now = now_ms();
        let mut b = Batch::default();
        let clear =
            [TimerKind::CallbackTimeout, TimerKind::CallbackHeartbeat].map(|kind| TimerRef {
                kind,
                op_id: Some(op.id.clone()),
            });
        match completion {
            CallbackCompletion::Heartbeat => {
                let Some(hb) = op.callback.as_ref().and_then(|c| c.heartbeat_timeout_s) else {
                    self.metrics.callbacks.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                };
                b.set_timers.push(TimerSpec {
                    kind: TimerKind::CallbackHeartbeat,
                    op_id: Some(op.id.clone()),
                    due_ms: now + hb * 1000,
                });
                self.journal.apply(&r.arn, b).await?;
                self.timers_changed();
                self.metrics.callbacks.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            CallbackCompletion::Success(result) => {
                op.status = OperationStatus::Succeeded;
                op.end_ms = Some(now);
                b.events.push(
                    NewEvent::for_operation(EventType::CallbackSucceeded, &op)
                        .with_details(json!({ "Result": event_result(&result) })),
                );
                op.result = Some(result);
            }
            CallbackCompletion::Failure(error) => {
                op.status = OperationStatus::Failed;
                op.end_ms = Some(now);
                b.events.push(
                    NewEvent::for_operation(EventType::CallbackFailed, &op)
                        .with_details(json!({ "Error": event_error(&error) })),
                );
                op.error = Some(error);
            }
        }
        b.operations.push(op);
        b.clear_timers.extend(clear);
        b.execution.invocation_in_progress = Some(true);
        self.journal.apply(&r.arn, b).await?;
        self.metrics.callbacks.fetch_add(1, Ordering::Relaxed);
        self.schedule(&r.arn);
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
        if e.status.is_terminal() {
            return Err(DurableError::Invalid(format!(
                "execution {arn} has already ended ({})",
                e.status.as_str()
            )));
        }
        let now = now_ms();
        let error = error.unwrap_or_else(|| ErrorObject {
            error_type: Some("ExecutionStopped".into()),
            error_message: Some("stopped through StopDurableExecution".into()),
            ..ErrorObject::default()
        });
        let b = Batch {
            operations: vec![execution_op(e.start_ms, ExecutionStatus::Stopped, now)],
            events: vec![
                NewEvent::new(EventType::ExecutionStopped)
                    .with_details(json!({ "Error": event_error(&error) })),
            ],
            execution: crate::journal::ExecutionUpdate {
                status: Some(ExecutionStatus::Stopped),
                error: Some(error),
                end_ms: Some(now),
                invocation_in_progress: Some(false),
                ..Default::default()
            },
            clear_timers: vec![TimerRef {
                kind: TimerKind::ExecutionTimeout,
                op_id: None,
            }],
            ..Batch::default()
        };
        self.journal.apply(arn, b).await?;
        self.notify_end(arn);
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
                let error = ErrorObject {
                    error_type: Some("ParentStopped".into()),
                    error_message: Some(format!("its parent {arn} was stopped")),
                    ..ErrorObject::default()
                };
                if let Err(e) = Box::pin(self.stop_now(&child, Some(error))).await {
                    tracing::warn!(execution = %child, "stopping a child execution: {e}");
                }
            }
        }
    }
}
