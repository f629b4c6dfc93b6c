//! The host transition at the end of an invocation: InvocationCompleted,
//! the end of the execution when the handler finished it, and the crash
//! policy (retry after a pause, fail after [`MAX_CRASHES`] in a row).

use super::errors::ErrorType;
use super::events::{EventDetails, Timestamp, execution_event};
use super::host::{InvocationEnd, InvocationOutcome, end_execution};
use super::{MAX_CRASHES, Plan};
use crate::journal::{
    Batch, EventType, Execution, ExecutionStatus, ExecutionUpdate, NewEvent, TimerKind, TimerRef,
};
use std::time::Duration;

/// Plans the end of an invocation.
pub(super) fn invocation_ended(
    now: u64,
    execution: Option<&Execution>,
    inv: InvocationEnd,
) -> Plan {
    let mut completed = EventDetails {
        start_timestamp: Some(Timestamp(inv.start_ms)),
        end_timestamp: Some(Timestamp(inv.end_ms)),
        request_id: Some(inv.request_id),
        ..EventDetails::default()
    };
    let mut b = Batch::default();
    b.execution.metering.active_compute_us = inv.run_us;
    b.execution.metering.invocations = 1;
    let mut end: Option<(ExecutionStatus, NewEvent)> = None;
    let mut retry_after = None;
    match inv.outcome {
        InvocationOutcome::Succeeded(result) => {
            let event = execution_event(
                EventType::ExecutionSucceeded,
                &EventDetails::result(&result),
            );
            b.execution.result = Some(result);
            end = Some((ExecutionStatus::Succeeded, event));
        }
        InvocationOutcome::Failed(error) => {
            let event = execution_event(EventType::ExecutionFailed, &EventDetails::error(&error));
            b.execution.error = Some(error);
            end = Some((ExecutionStatus::Failed, event));
        }
        InvocationOutcome::Pending if !inv.waiting && !inv.again => {
            // Suspended with nothing that could ever resume it: fail now
            // rather than hang until the execution timeout.
            let error = ErrorType::SuspendedWithoutWait.error(
                "the handler returned `pending` but no wait, callback, step retry or \
                 invoke is outstanding, so nothing would ever resume the execution",
            );
            let event = execution_event(EventType::ExecutionFailed, &EventDetails::error(&error));
            b.execution.error = Some(error);
            end = Some((ExecutionStatus::Failed, event));
        }
        InvocationOutcome::Pending => {
            // Not a crash: the count of crashes in a row starts again.
            b.execution.crashes = Some(0);
            b.execution.invocation_in_progress = Some(inv.again);
        }
        InvocationOutcome::Crashed(error) => {
            completed.error = EventDetails::error(&error).error;
            // The count lives on the execution row, so a restart of the
            // host between crashes does not reset it.
            let crashes = execution.map_or(0, |e| e.crashes).saturating_add(1);
            b.execution.crashes = Some(crashes);
            if crashes >= MAX_CRASHES {
                let event =
                    execution_event(EventType::ExecutionFailed, &EventDetails::error(&error));
                b.execution.error = Some(error);
                end = Some((ExecutionStatus::Failed, event));
            } else if !inv.again {
                retry_after = Some(Duration::from_millis(500 * u64::from(crashes)));
            }
        }
    }
    b.events
        .push(execution_event(EventType::InvocationCompleted, &completed));
    let bookkeeping = Batch {
        events: vec![b.events[0].clone()],
        execution: ExecutionUpdate {
            metering: b.execution.metering,
            invocation_in_progress: Some(false),
            ..ExecutionUpdate::default()
        },
        allow_after_end: true,
        ..Batch::default()
    };
    let ends = end.as_ref().map(|(status, _)| *status);
    if let Some((status, event)) = end {
        end_execution(&mut b, now, execution, status, event);
        b.clear_timers.push(TimerRef {
            kind: TimerKind::ExecutionTimeout,
            op_id: None,
        });
        retry_after = None;
    }
    Plan {
        runnable: inv.again && ends.is_none(),
        retry_after,
        ends,
        if_ended: Some(bookkeeping),
        ..Plan::write(b)
    }
}
