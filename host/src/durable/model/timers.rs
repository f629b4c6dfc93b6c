//! The host transition of a due timer: a wait ends, a step retry becomes
//! ready, a callback or the execution times out.

use super::Plan;
use super::errors::ErrorType;
use super::events::{EventDetails, execution_event, operation_event};
use super::host::end_execution;
use super::status::has_ended;
use crate::journal::{
    Batch, EventType, Execution, ExecutionStatus, Operation, OperationStatus, Timer, TimerKind,
    TimerRef,
};

/// Plans timer `t` firing at `now`.
pub(super) fn timer_fired(
    now: u64,
    execution: Option<&Execution>,
    op: Option<&Operation>,
    t: &Timer,
) -> Plan {
    let slot = t.slot();
    let Some(execution) = execution.filter(|e| !has_ended(e.status)) else {
        // Gone or ended: only remove the timer.
        return Plan::write(Batch {
            clear_timers: vec![slot],
            allow_after_end: true,
            ..Batch::default()
        });
    };
    let mut b = Batch {
        clear_timers: vec![slot],
        ..Batch::default()
    };
    let mut plan_ends = None;
    let runnable = match (t.kind, op.cloned()) {
        (TimerKind::ExecutionTimeout, _) => {
            let error = ErrorType::ExecutionTimedOut.error("the execution timeout passed");
            let event = execution_event(EventType::ExecutionTimedOut, &EventDetails::error(&error));
            b.execution.error = Some(error);
            end_execution(
                &mut b,
                now,
                Some(execution),
                ExecutionStatus::TimedOut,
                event,
            );
            plan_ends = Some(ExecutionStatus::TimedOut);
            false
        }
        (TimerKind::WaitEnd, Some(mut op)) if op.status == OperationStatus::Started => {
            let secs = op
                .wait
                .as_ref()
                .map_or(0, |w| w.scheduled_end_ms.saturating_sub(op.start_ms) / 1000);
            op.status = OperationStatus::Succeeded;
            op.end_ms = Some(now);
            let details = EventDetails {
                duration: Some(secs),
                ..EventDetails::default()
            };
            b.events
                .push(operation_event(EventType::WaitSucceeded, &op, &details));
            b.operations.push(op);
            true
        }
        (TimerKind::StepRetry, Some(mut op)) if op.status == OperationStatus::Pending => {
            op.status = OperationStatus::Ready;
            b.operations.push(op);
            true
        }
        (TimerKind::CallbackTimeout | TimerKind::CallbackHeartbeat, Some(mut op))
            if op.status == OperationStatus::Started =>
        {
            let cb = op.callback.clone().unwrap_or_default();
            let error = if t.kind == TimerKind::CallbackTimeout {
                ErrorType::CallbackTimeout.error(format!(
                    "callback timed out after {} s",
                    cb.timeout_s.unwrap_or_default()
                ))
            } else {
                ErrorType::CallbackHeartbeat.error(format!(
                    "no heartbeat within {} s",
                    cb.heartbeat_timeout_s.unwrap_or_default()
                ))
            };
            op.status = OperationStatus::TimedOut;
            op.end_ms = Some(now);
            op.error = Some(error.clone());
            b.events.push(operation_event(
                EventType::CallbackTimedOut,
                &op,
                &EventDetails::error(&error),
            ));
            b.operations.push(op);
            for kind in [TimerKind::CallbackTimeout, TimerKind::CallbackHeartbeat] {
                if kind != t.kind {
                    b.clear_timers.push(TimerRef {
                        kind,
                        op_id: t.op_id.clone(),
                    });
                }
            }
            true
        }
        // The operation moved on (completed, or was retried) before its
        // timer fired: only remove the timer.
        _ => false,
    };
    if runnable {
        b.execution.invocation_in_progress = Some(true);
    }
    Plan {
        runnable,
        ends: plan_ends,
        ..Plan::write(b)
    }
}
