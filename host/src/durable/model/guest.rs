//! Guest transitions: what one `lamina:durable/journal` import asks for,
//! checked against the operation as recorded, turned into one batch.

use super::events::{EventDetails, Payload, RetryDetails, Timestamp, operation_event};
use super::rules::{
    Rules, check_payload, rerun_of_started_attempt, schedule_attempt, started_batch,
};
use super::{MAX_DURATION_S, Plan, Rejection};
use crate::journal::{
    Batch, ChainedInvokeDetails, ContextDetails, ErrorObject, EventType, Operation,
    OperationStatus, OperationType, StepDetails, TimerKind, TimerRef, TimerSpec, WaitDetails,
};

/// Largest result or error payload one operation may journal, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// The version every chained invoke runs.
const EXECUTED_VERSION: &str = "$LATEST";

/// The operation a guest transition is about, as the guest names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpRef {
    /// The operation id.
    pub id: String,
    /// The parent context, if any.
    pub parent_id: Option<String>,
    /// The user-given name, if any.
    pub name: Option<String>,
    /// The SDK-level sub-type.
    pub sub_type: String,
}

/// A transition the guest asks for through one journal import.
#[derive(Debug, Clone, PartialEq)]
pub enum GuestTransition {
    /// An attempt of a step starts.
    StepStarted {
        /// The attempt, from 1 (0 counts as 1).
        attempt: u32,
    },
    /// A step succeeded.
    StepSucceeded {
        /// The attempt.
        attempt: u32,
        /// Its result (JSON text).
        result: String,
    },
    /// A step failed for good.
    StepFailed {
        /// The attempt.
        attempt: u32,
        /// The error.
        error: ErrorObject,
    },
    /// A step attempt failed and is retried after a delay.
    StepRetry {
        /// The attempt that failed.
        attempt: u32,
        /// The error.
        error: ErrorObject,
        /// Seconds before the next attempt (at least 1).
        delay_s: u32,
    },
    /// A condition check recorded its state and is checked again after a delay.
    StepPoll {
        /// The attempt.
        attempt: u32,
        /// The state (JSON text).
        state: String,
        /// Seconds before the next check (at least 1).
        delay_s: u32,
    },
    /// A wait starts.
    WaitStarted {
        /// Its duration, 1 to [`MAX_DURATION_S`] seconds.
        seconds: u64,
    },
    /// A callback is created (or, if it was, its id read back).
    CallbackStarted {
        /// The id to give it if it is new.
        callback_id: String,
        /// Its overall timeout (0: none).
        timeout_s: u64,
        /// Its heartbeat timeout (0: none).
        heartbeat_timeout_s: u64,
    },
    /// A child context starts.
    ContextStarted,
    /// A child context succeeded.
    ContextSucceeded {
        /// Its result (JSON text).
        result: String,
        /// Whether a replay rebuilds the result by re-running the children
        /// (the result was too large to journal).
        replay_children: bool,
    },
    /// A child context failed.
    ContextFailed {
        /// The error.
        error: ErrorObject,
    },
    /// A chained invoke starts.
    InvokeStarted {
        /// The target function's name.
        function: String,
        /// The ARN the invoke reports (the child execution's, for a durable target).
        child_arn: String,
        /// The payload (JSON text).
        payload: String,
        /// The tenant, if any.
        tenant_id: Option<String>,
    },
}

/// Plans a guest transition of operation `op` at `now`, given the
/// operation as recorded (`None`: not recorded yet). The plan's batch
/// upserts the operation; an empty batch means there is nothing to write.
pub fn plan_guest(
    now: u64,
    recorded: Option<&Operation>,
    op: &OpRef,
    transition: GuestTransition,
) -> Result<Plan, Rejection> {
    let rules = Rules { now, recorded, op };
    match transition {
        GuestTransition::StepStarted { attempt } => {
            let mut o = rules.open(OperationType::Step, None)?;
            let attempt = attempt.max(1);
            if rerun_of_started_attempt(&o, attempt) {
                // An at-least-once attempt interrupted (crash, timeout) and run
                // again: it is on record as started, and AWS records the re-run
                // without a second StepStarted.
                return Ok(Plan::unchanged(o));
            }
            o.status = OperationStatus::Started;
            o.step = Some(StepDetails {
                attempt,
                next_attempt_ms: None,
            });
            let mut b = started_batch();
            b.events.push(operation_event(
                EventType::StepStarted,
                &o,
                &EventDetails::default(),
            ));
            b.clear_timers.push(TimerRef {
                kind: TimerKind::StepRetry,
                op_id: Some(o.id.clone()),
            });
            Ok(Plan::upsert(o, b))
        }
        GuestTransition::StepSucceeded { attempt, result } => {
            let mut o = rules.open(OperationType::Step, Some(("the step result", &result)))?;
            let attempt = attempt.max(1);
            o.status = OperationStatus::Succeeded;
            o.end_ms = Some(now);
            o.step = Some(StepDetails {
                attempt,
                next_attempt_ms: None,
            });
            let details = EventDetails::result(&result).with_retry(RetryDetails {
                current_attempt: attempt,
                next_attempt_delay_seconds: None,
            });
            o.result = Some(result);
            let mut b = Batch::default();
            b.events
                .push(operation_event(EventType::StepSucceeded, &o, &details));
            Ok(Plan::upsert(o, b))
        }
        GuestTransition::StepFailed { attempt, error } => rules.step_failure(attempt, error, None),
        GuestTransition::StepRetry {
            attempt,
            error,
            delay_s,
        } => rules.step_failure(attempt, error, Some(delay_s)),
        GuestTransition::StepPoll {
            attempt,
            state,
            delay_s,
        } => {
            let mut o = rules.open(OperationType::Step, Some(("the condition state", &state)))?;
            let mut b = Batch::default();
            let retry = schedule_attempt(&mut o, &mut b, now, attempt.max(1), delay_s);
            let details = EventDetails::result(&state).with_retry(retry);
            o.result = Some(state);
            b.events
                .push(operation_event(EventType::StepSucceeded, &o, &details));
            Ok(Plan::upsert(o, b))
        }
        GuestTransition::WaitStarted { seconds } => {
            let mut o = rules.fresh(OperationType::Wait)?;
            if seconds == 0 || seconds > MAX_DURATION_S {
                return Err(Rejection::Invalid(format!(
                    "a wait lasts 1 to {MAX_DURATION_S} seconds, not {seconds}"
                )));
            }
            let end = o.start_ms + seconds * 1000;
            o.wait = Some(WaitDetails {
                scheduled_end_ms: end,
            });
            let mut b = started_batch();
            let details = EventDetails {
                duration: Some(seconds),
                scheduled_end_timestamp: Some(Timestamp(end)),
                ..EventDetails::default()
            };
            b.events
                .push(operation_event(EventType::WaitStarted, &o, &details));
            b.set_timers.push(TimerSpec {
                kind: TimerKind::WaitEnd,
                op_id: Some(o.id.clone()),
                due_ms: end,
            });
            Ok(Plan::upsert(o, b))
        }
        GuestTransition::CallbackStarted {
            callback_id,
            timeout_s,
            heartbeat_timeout_s,
        } => rules.callback_started(callback_id, timeout_s, heartbeat_timeout_s),
        GuestTransition::ContextStarted => {
            let o = rules.fresh(OperationType::Context)?;
            let mut b = started_batch();
            b.events.push(operation_event(
                EventType::ContextStarted,
                &o,
                &EventDetails::default(),
            ));
            Ok(Plan::upsert(o, b))
        }
        GuestTransition::ContextSucceeded {
            result,
            replay_children,
        } => {
            let mut o = rules.open(
                OperationType::Context,
                Some(("the context result", &result)),
            )?;
            o.status = OperationStatus::Succeeded;
            o.end_ms = Some(now);
            // As AWS records it: on the operation (ContextDetails), not in
            // the event, whose details keep only the Result. Always set, so
            // that an empty result (a custom serializer's) is not read as
            // the flag.
            o.context = Some(ContextDetails { replay_children });
            let details = EventDetails::result(&result);
            o.result = Some(result);
            let mut b = Batch::default();
            b.events
                .push(operation_event(EventType::ContextSucceeded, &o, &details));
            Ok(Plan::upsert(o, b))
        }
        GuestTransition::ContextFailed { error } => {
            let mut o = rules.open(OperationType::Context, None)?;
            o.status = OperationStatus::Failed;
            o.end_ms = Some(now);
            let details = EventDetails::error(&error);
            o.error = Some(error);
            let mut b = Batch::default();
            b.events
                .push(operation_event(EventType::ContextFailed, &o, &details));
            Ok(Plan::upsert(o, b))
        }
        GuestTransition::InvokeStarted {
            function,
            child_arn,
            payload,
            tenant_id,
        } => {
            let mut o = rules.fresh(OperationType::ChainedInvoke)?;
            check_payload("the invoke payload", &payload)?;
            if serde_json::from_str::<serde::de::IgnoredAny>(&payload).is_err() {
                return Err(Rejection::Invalid(
                    "the invoke payload must be JSON text".into(),
                ));
            }
            let details = EventDetails {
                function_name: Some(function.clone()),
                input: Some(Payload {
                    payload: payload.clone(),
                }),
                executed_version: Some(EXECUTED_VERSION),
                durable_execution_arn: Some(child_arn.clone()),
                tenant_id,
                ..EventDetails::default()
            };
            o.chained_invoke = Some(ChainedInvokeDetails {
                function_name: function,
                input: Some(payload),
                execution_arn: Some(child_arn),
            });
            let mut b = started_batch();
            b.events.push(operation_event(
                EventType::ChainedInvokeStarted,
                &o,
                &details,
            ));
            Ok(Plan::upsert(o, b))
        }
    }
}
