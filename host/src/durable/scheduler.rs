//! The scheduler: one task that sleeps until the earliest journaled timer
//! (or a wake-up when a timer is set) and handles the due ones: a wait
//! ends, a step retry becomes ready, a callback or the execution times out.

use super::shapes::event_error;
use super::{Durable, execution_op};
use crate::journal::{
    Batch, ErrorObject, EventType, ExecutionStatus, NewEvent, OperationStatus, Timer, TimerKind,
    TimerRef, now_ms,
};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Durable {
    pub(super) async fn timer_loop(self: Arc<Self>) {
        loop {
            let now = now_ms();
            match self.journal.due_timers(now, 256).await {
                Ok(due) => {
                    let full = due.len() == 256;
                    let fired = due.into_iter().map(|t| {
                        let me = self.clone();
                        async move { me.fire(t).await }
                    });
                    futures::future::join_all(fired).await;
                    if full {
                        continue;
                    }
                }
                Err(e) => {
                    tracing::error!("reading due timers: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
            let next = self.journal.next_timer_due().await.ok().flatten();
            let wait = next.map_or(60_000, |d| d.saturating_sub(now_ms()).min(60_000));
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(wait)) => {}
                () = self.timer_wake.notified() => {}
            }
        }
    }

    /// Handles one due timer in one batch that also removes it.
    async fn fire(self: Arc<Self>, t: Timer) {
        self.metrics.timers_fired.fetch_add(1, Ordering::Relaxed);
        let _g = self.lock_execution(&t.arn).await;
        let slot = t.slot();
        let clear_only = Batch {
            clear_timers: vec![slot.clone()],
            allow_after_end: true,
            ..Batch::default()
        };
        let (execution, op) = match self.execution_and_op(&t.arn, t.op_id.as_deref()).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(execution = %t.arn, "timer for an unreadable execution: {e}");
                let _ = self.journal.apply(&t.arn, clear_only).await;
                return;
            }
        };
        if execution.status.is_terminal() {
            let _ = self.journal.apply(&t.arn, clear_only).await;
            return;
        }
        let now = now_ms();
        let mut b = Batch {
            clear_timers: vec![slot],
            ..Batch::default()
        };
        let mut runnable = true;
        match (t.kind, op) {
            (TimerKind::ExecutionTimeout, _) => {
                let error = ErrorObject {
                    error_type: Some("ExecutionTimedOut".into()),
                    error_message: Some("the execution timeout passed".into()),
                    ..ErrorObject::default()
                };
                b.events.push(
                    NewEvent::new(EventType::ExecutionTimedOut)
                        .with_details(json!({ "Error": event_error(&error) })),
                );
                b.execution.status = Some(ExecutionStatus::TimedOut);
                b.execution.error = Some(error);
                b.execution.end_ms = Some(now);
                b.operations.push(execution_op(
                    execution.start_ms,
                    ExecutionStatus::TimedOut,
                    now,
                ));
                b.execution.invocation_in_progress = Some(false);
                runnable = false;
            }
            (TimerKind::WaitEnd, Some(mut op)) if op.status == OperationStatus::Started => {
                let secs = op
                    .wait
                    .as_ref()
                    .map_or(0, |w| w.scheduled_end_ms.saturating_sub(op.start_ms) / 1000);
                op.status = OperationStatus::Succeeded;
                op.end_ms = Some(now);
                b.events.push(
                    NewEvent::for_operation(EventType::WaitSucceeded, &op)
                        .with_details(json!({ "Duration": secs })),
                );
                b.operations.push(op);
            }
            (TimerKind::StepRetry, Some(mut op)) if op.status == OperationStatus::Pending => {
                op.status = OperationStatus::Ready;
                b.operations.push(op);
            }
            (TimerKind::CallbackTimeout | TimerKind::CallbackHeartbeat, Some(mut op))
                if op.status == OperationStatus::Started =>
            {
                let cb = op.callback.clone().unwrap_or_default();
                let message = if t.kind == TimerKind::CallbackTimeout {
                    format!(
                        "callback timed out after {} s",
                        cb.timeout_s.unwrap_or_default()
                    )
                } else {
                    format!(
                        "no heartbeat within {} s",
                        cb.heartbeat_timeout_s.unwrap_or_default()
                    )
                };
                let error_type = if t.kind == TimerKind::CallbackTimeout {
                    "Callback.Timeout"
                } else {
                    "Callback.Heartbeat"
                };
                let error = ErrorObject {
                    error_type: Some(error_type.into()),
                    error_message: Some(message),
                    ..ErrorObject::default()
                };
                op.status = OperationStatus::TimedOut;
                op.end_ms = Some(now);
                op.error = Some(error.clone());
                b.events.push(
                    NewEvent::for_operation(EventType::CallbackTimedOut, &op)
                        .with_details(json!({ "Error": event_error(&error) })),
                );
                b.operations.push(op);
                for kind in [TimerKind::CallbackTimeout, TimerKind::CallbackHeartbeat] {
                    if kind != t.kind {
                        b.clear_timers.push(TimerRef {
                            kind,
                            op_id: t.op_id.clone(),
                        });
                    }
                }
            }
            _ => {
                // The operation moved on (completed, or was retried) before
                // its timer fired: only remove the timer.
                runnable = false;
            }
        }
        if runnable {
            b.execution.invocation_in_progress = Some(true);
        }
        let ended = b.execution.status.is_some();
        match self.journal.apply(&t.arn, b).await {
            Ok(_) => {
                if runnable {
                    self.schedule(&t.arn);
                }
                if ended {
                    self.notify_end(&t.arn);
                }
            }
            Err(e) => tracing::error!(execution = %t.arn, "handling a {} timer: {e}", t.kind),
        }
    }
}
