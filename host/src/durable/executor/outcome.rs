//! The end of an invocation: what it recorded (InvocationCompleted, the end
//! of the execution) and what the run loop does next; the crash policy
//! (retry after a pause, fail after [`MAX_CRASHES`] in a row).

use super::super::shapes::{event_error, event_result, timestamp};
use super::super::{Durable, MAX_CRASHES, execution_op, lock, wit, wit_convert};
use super::Next;
use super::invocation::Invoked;
use crate::journal::{
    Batch, ErrorObject, EventType, ExecutionStatus, JournalError, NewEvent, TimerKind, TimerRef,
    now_ms,
};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Durable {
    /// Records the end of an invocation (InvocationCompleted, and the end of
    /// the execution when the handler finished it) and decides what next.
    pub(super) async fn finish(self: &Arc<Self>, arn: &str, inv: Invoked) -> Next {
        let _g = self.lock_execution(arn).await;
        let again = lock(&self.active)
            .get_mut(arn)
            .map(std::mem::take)
            .unwrap_or(false);
        let mut completed = json!({
            "StartTimestamp": timestamp(inv.start_ms),
            "EndTimestamp": timestamp(inv.end_ms),
            "RequestId": inv.request_id,
        });
        let mut b = Batch::default();
        b.execution.metering.active_compute_us = u64::try_from(inv.run.as_micros()).unwrap_or(0);
        b.execution.metering.invocations = 1;
        let mut end: Option<(ExecutionStatus, NewEvent)> = None;
        let mut next = if again { Next::Again } else { Next::Done };
        match inv.outcome {
            Ok(wit::Outcome::Succeeded(result)) => {
                b.execution.result = Some(result.clone());
                end = Some((
                    ExecutionStatus::Succeeded,
                    NewEvent::new(EventType::ExecutionSucceeded)
                        .with_details(json!({ "Result": event_result(&result) })),
                ));
            }
            Ok(wit::Outcome::Failed(error)) => {
                let error = wit_convert::error_from_wit(error);
                end = Some((
                    ExecutionStatus::Failed,
                    NewEvent::new(EventType::ExecutionFailed)
                        .with_details(json!({ "Error": event_error(&error) })),
                ));
                b.execution.error = Some(error);
            }
            Ok(wit::Outcome::Pending) if !inv.waiting && !again => {
                // Suspended with nothing that could ever resume it: fail
                // now rather than hang until the execution timeout.
                let error = ErrorObject {
                    error_type: Some("Lamina.SuspendedWithoutWait".into()),
                    error_message: Some(
                        "the handler returned `pending` but no wait, callback, step retry or \
                         invoke is outstanding, so nothing would ever resume the execution"
                            .into(),
                    ),
                    ..ErrorObject::default()
                };
                end = Some((
                    ExecutionStatus::Failed,
                    NewEvent::new(EventType::ExecutionFailed)
                        .with_details(json!({ "Error": event_error(&error) })),
                ));
                b.execution.error = Some(error);
            }
            Ok(wit::Outcome::Pending) => {
                // Not a crash: the count of crashes in a row starts again.
                b.execution.crashes = Some(0);
                b.execution.invocation_in_progress = Some(again);
            }
            Err((e, error_type)) => {
                self.metrics.crashes.fetch_add(1, Ordering::Relaxed);
                let error = ErrorObject {
                    error_type: Some(error_type.to_string()),
                    error_message: Some(e.to_string()),
                    ..ErrorObject::default()
                };
                completed["Error"] = event_error(&error);
                // The count lives on the execution row, so a restart of the
                // host between crashes does not reset it.
                let before = match self.journal.get_execution(arn).await {
                    Ok(Some(e)) => e.crashes,
                    _ => 0,
                };
                let crashes = before.saturating_add(1);
                b.execution.crashes = Some(crashes);
                tracing::warn!(execution = %arn, crashes, "durable invocation crashed: {e}");
                if crashes >= MAX_CRASHES {
                    end = Some((
                        ExecutionStatus::Failed,
                        NewEvent::new(EventType::ExecutionFailed)
                            .with_details(json!({ "Error": event_error(&error) })),
                    ));
                    b.execution.error = Some(error);
                } else if !again {
                    next = Next::RetryAfter(Duration::from_millis(500 * u64::from(crashes)));
                }
            }
        }
        b.events
            .push(NewEvent::new(EventType::InvocationCompleted).with_details(completed));
        let ended = end.is_some();
        if let Some((status, event)) = end {
            let now = now_ms();
            if let Ok(Some(e)) = self.journal.get_execution(arn).await {
                b.operations.push(execution_op(e.start_ms, status, now));
            }
            b.events.push(event);
            b.execution.status = Some(status);
            b.execution.end_ms = Some(now);
            b.execution.invocation_in_progress = Some(false);
            b.clear_timers.push(TimerRef {
                kind: TimerKind::ExecutionTimeout,
                op_id: None,
            });
            next = Next::Done;
        }
        let bookkeeping = Batch {
            events: vec![b.events[0].clone()],
            execution: crate::journal::ExecutionUpdate {
                metering: b.execution.metering,
                invocation_in_progress: Some(false),
                ..Default::default()
            },
            allow_after_end: true,
            ..Batch::default()
        };
        match self.journal.apply(arn, b).await {
            Ok(_) => {
                if ended {
                    tracing::info!(execution = %arn, "execution ended");
                    self.notify_end(arn);
                }
            }
            Err(JournalError::ExecutionEnded { .. }) => {
                // Stopped or timed out while this invocation ran.
                if let Err(e) = self.journal.apply(arn, bookkeeping).await {
                    tracing::warn!(execution = %arn, "recording the last invocation: {e}");
                }
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
