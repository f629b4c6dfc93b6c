//! Host transitions of completions from outside the guest: a callback
//! completed or heartbeated, a chained invoke's target ended, a stop.

use super::errors::ErrorType;
use super::events::{EventDetails, execution_event, operation_event};
use super::host::{CallbackCompletion, execution_op};
use super::status::has_ended;
use super::{Plan, Rejection};
use crate::journal::{
    Batch, ErrorObject, EventType, Execution, ExecutionStatus, ExecutionUpdate, Operation,
    OperationStatus, TimerKind, TimerRef, TimerSpec,
};

/// Plans the completion of a callback.
pub(super) fn callback_completed(
    now: u64,
    execution: Option<&Execution>,
    op: Option<&Operation>,
    (callback_id, op_id): (&str, &str),
    completion: CallbackCompletion,
) -> Result<Plan, Rejection> {
    let Some(execution) = execution else {
        return Err(Rejection::NotFound(format!(
            "no callback with id {callback_id}"
        )));
    };
    if has_ended(execution.status) {
        return Err(Rejection::Invalid(format!(
            "callback {callback_id} belongs to execution {} which has ended ({})",
            execution.arn,
            execution.status.as_str()
        )));
    }
    let Some(mut op) = op.cloned() else {
        return Err(Rejection::NotFound(format!(
            "callback {callback_id}: its operation {op_id} is not in the journal"
        )));
    };
    match op.status {
        OperationStatus::Started => {}
        OperationStatus::TimedOut => {
            return Err(Rejection::CallbackTimedOut(format!(
                "callback {callback_id} has timed out"
            )));
        }
        other => {
            return Err(Rejection::Invalid(format!(
                "callback {callback_id} is already completed ({})",
                other.as_str()
            )));
        }
    }
    let mut b = Batch::default();
    let clear = [TimerKind::CallbackTimeout, TimerKind::CallbackHeartbeat].map(|kind| TimerRef {
        kind,
        op_id: Some(op.id.clone()),
    });
    match completion {
        CallbackCompletion::Heartbeat => {
            if let Some(hb) = op.callback.as_ref().and_then(|c| c.heartbeat_timeout_s) {
                b.set_timers.push(TimerSpec {
                    kind: TimerKind::CallbackHeartbeat,
                    op_id: Some(op.id.clone()),
                    due_ms: now + hb * 1000,
                });
            }
            return Ok(Plan::write(b));
        }
        CallbackCompletion::Success(result) => {
            op.status = OperationStatus::Succeeded;
            op.end_ms = Some(now);
            b.events.push(operation_event(
                EventType::CallbackSucceeded,
                &op,
                &EventDetails::result(&result),
            ));
            op.result = Some(result);
        }
        CallbackCompletion::Failure(error) => {
            op.status = OperationStatus::Failed;
            op.end_ms = Some(now);
            b.events.push(operation_event(
                EventType::CallbackFailed,
                &op,
                &EventDetails::error(&error),
            ));
            op.error = Some(error);
        }
    }
    b.operations.push(op);
    b.clear_timers.extend(clear);
    b.execution.invocation_in_progress = Some(true);
    Ok(Plan {
        runnable: true,
        ..Plan::write(b)
    })
}

/// Plans the end of a chained invoke's target.
pub(super) fn invoke_ended(
    now: u64,
    execution: Option<&Execution>,
    op: Option<&Operation>,
    outcome: Result<String, ErrorObject>,
) -> Plan {
    let open = execution.is_some_and(|e| !has_ended(e.status));
    let Some(mut op) = op
        .filter(|o| open && o.status == OperationStatus::Started)
        .cloned()
    else {
        return Plan::write(Batch::default());
    };
    op.end_ms = Some(now);
    let mut b = Batch::default();
    match outcome {
        Ok(result) => {
            op.status = OperationStatus::Succeeded;
            b.events.push(operation_event(
                EventType::ChainedInvokeSucceeded,
                &op,
                &EventDetails::result(&result),
            ));
            op.result = Some(result);
        }
        Err(error) => {
            op.status = OperationStatus::Failed;
            b.events.push(operation_event(
                EventType::ChainedInvokeFailed,
                &op,
                &EventDetails::error(&error),
            ));
            op.error = Some(error);
        }
    }
    b.operations.push(op);
    b.execution.invocation_in_progress = Some(true);
    Plan {
        runnable: true,
        ..Plan::write(b)
    }
}

/// Plans a stop.
pub(super) fn stopped(
    now: u64,
    execution: Option<&Execution>,
    error: Option<ErrorObject>,
) -> Result<Plan, Rejection> {
    let Some(e) = execution else {
        return Err(Rejection::NotFound("no such durable execution".into()));
    };
    if has_ended(e.status) {
        return Err(Rejection::Invalid(format!(
            "execution {} has already ended ({})",
            e.arn,
            e.status.as_str()
        )));
    }
    let error = error.unwrap_or_else(|| {
        ErrorType::ExecutionStopped.error("stopped through StopDurableExecution")
    });
    let b = Batch {
        operations: vec![execution_op(e.start_ms, ExecutionStatus::Stopped, now)],
        events: vec![execution_event(
            EventType::ExecutionStopped,
            &EventDetails::error(&error),
        )],
        execution: ExecutionUpdate {
            status: Some(ExecutionStatus::Stopped),
            error: Some(error),
            end_ms: Some(now),
            invocation_in_progress: Some(false),
            ..ExecutionUpdate::default()
        },
        clear_timers: vec![TimerRef {
            kind: TimerKind::ExecutionTimeout,
            op_id: None,
        }],
        ..Batch::default()
    };
    Ok(Plan {
        ends: Some(ExecutionStatus::Stopped),
        ..Plan::write(b)
    })
}
