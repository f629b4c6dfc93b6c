//! The rules every guest transition shares: which operation it is about
//! (recorded or new), whether it may still change, payload and id limits,
//! step retries.

use super::events::{EventDetails, RetryDetails, operation_event};
use super::guest::{MAX_PAYLOAD_BYTES, OpRef};
use super::status::is_completed;
use super::{MAX_DURATION_S, Plan, Rejection};
use crate::journal::{
    Batch, CallbackDetails, CallbackRegistration, ErrorObject, EventType, Operation,
    OperationStatus, OperationType, StepDetails, TimerKind, TimerSpec,
};

/// Longest operation id or name accepted from a guest.
const MAX_ID_LEN: usize = 256;

/// The operation rules of one guest transition.
pub(super) struct Rules<'a> {
    /// The time of the transition.
    pub(super) now: u64,
    /// The operation as recorded, if it is.
    pub(super) recorded: Option<&'a Operation>,
    /// The operation as the guest names it.
    pub(super) op: &'a OpRef,
}

impl Rules<'_> {
    /// The operation: the recorded one (checked to be of type `t`) or a new
    /// one started now.
    pub(super) fn operation(&self, t: OperationType) -> Result<Operation, Rejection> {
        check_ref(self.op)?;
        match self.recorded {
            Some(existing) if existing.op_type != t => Err(Rejection::Invalid(format!(
                "operation {} is a {} in the journal, not a {}",
                self.op.id,
                existing.op_type.as_str(),
                t.as_str()
            ))),
            Some(existing) => Ok(existing.clone()),
            None => {
                let mut new =
                    Operation::new(self.op.id.clone(), t, OperationStatus::Started, self.now);
                new.parent_id = self.op.parent_id.clone();
                new.name = self.op.name.clone();
                new.sub_type = Some(self.op.sub_type.clone());
                Ok(new)
            }
        }
    }

    /// A new operation, which must not be recorded yet.
    pub(super) fn fresh(&self, t: OperationType) -> Result<Operation, Rejection> {
        if self.recorded.is_some() {
            return Err(Rejection::Invalid(format!(
                "{} {} was already started",
                t.as_str().to_lowercase().replace('_', " "),
                self.op.id
            )));
        }
        self.operation(t)
    }

    /// Like [`Rules::operation`], for a transition that needs the operation
    /// still open, with an optional payload to size-check.
    pub(super) fn open(
        &self,
        t: OperationType,
        payload: Option<(&str, &str)>,
    ) -> Result<Operation, Rejection> {
        if let Some((what, text)) = payload {
            check_payload(what, text)?;
        }
        let o = self.operation(t)?;
        if is_completed(o.status) {
            return Err(Rejection::Invalid(format!(
                "{} {} has already completed",
                t.as_str().to_lowercase(),
                self.op.id
            )));
        }
        Ok(o)
    }

    /// `step-failed` and `step-retry`: StepFailed, with the next attempt's
    /// delay when it will be retried.
    pub(super) fn step_failure(
        &self,
        attempt: u32,
        error: ErrorObject,
        retry_after_s: Option<u32>,
    ) -> Result<Plan, Rejection> {
        let text = serde_json::to_string(&error).unwrap_or_default();
        let mut o = self.open(OperationType::Step, Some(("the step error", &text)))?;
        let attempt = attempt.max(1);
        let mut b = Batch::default();
        let retry = match retry_after_s {
            Some(delay) => schedule_attempt(&mut o, &mut b, self.now, attempt, delay),
            None => {
                o.status = OperationStatus::Failed;
                o.end_ms = Some(self.now);
                o.step = Some(StepDetails {
                    attempt,
                    next_attempt_ms: None,
                });
                RetryDetails {
                    current_attempt: attempt,
                    next_attempt_delay_seconds: None,
                }
            }
        };
        let details = EventDetails::error(&error).with_retry(retry);
        o.error = Some(error);
        b.events
            .push(operation_event(EventType::StepFailed, &o, &details));
        Ok(Plan::upsert(o, b))
    }

    /// `callback-started`: a new callback with its timers, or the id of the
    /// one recorded.
    pub(super) fn callback_started(
        &self,
        callback_id: String,
        timeout_s: u64,
        heartbeat_timeout_s: u64,
    ) -> Result<Plan, Rejection> {
        let mut o = self.operation(OperationType::Callback)?;
        if o.callback.is_some() {
            return Ok(Plan::unchanged(o));
        }
        for (what, s) in [
            ("timeout", timeout_s),
            ("heartbeat timeout", heartbeat_timeout_s),
        ] {
            if s > MAX_DURATION_S {
                return Err(Rejection::Invalid(format!(
                    "a callback {what} is at most {MAX_DURATION_S} seconds, not {s}"
                )));
            }
        }
        let nonzero = |s: u64| (s > 0).then_some(s);
        o.callback = Some(CallbackDetails {
            callback_id: callback_id.clone(),
            timeout_s: nonzero(timeout_s),
            heartbeat_timeout_s: nonzero(heartbeat_timeout_s),
        });
        let details = EventDetails {
            callback_id: Some(callback_id.clone()),
            timeout: nonzero(timeout_s),
            heartbeat_timeout: nonzero(heartbeat_timeout_s),
            ..EventDetails::default()
        };
        let mut b = started_batch();
        for (kind, s) in [
            (TimerKind::CallbackTimeout, timeout_s),
            (TimerKind::CallbackHeartbeat, heartbeat_timeout_s),
        ] {
            if s > 0 {
                b.set_timers.push(TimerSpec {
                    kind,
                    op_id: Some(o.id.clone()),
                    due_ms: o.start_ms + s * 1000,
                });
            }
        }
        b.events
            .push(operation_event(EventType::CallbackStarted, &o, &details));
        b.add_callbacks.push(CallbackRegistration {
            callback_id,
            op_id: o.id.clone(),
        });
        Ok(Plan::upsert(o, b))
    }
}

/// Checks an operation reference from a guest.
fn check_ref(op: &OpRef) -> Result<(), Rejection> {
    if op.id.is_empty() || op.id.len() > MAX_ID_LEN {
        return Err(Rejection::Invalid(format!(
            "operation id must be 1 to {MAX_ID_LEN} bytes, got {} bytes",
            op.id.len()
        )));
    }
    if op.name.as_ref().is_some_and(|n| n.len() > MAX_ID_LEN) {
        return Err(Rejection::Invalid(format!(
            "operation name longer than {MAX_ID_LEN} bytes"
        )));
    }
    if op.sub_type.is_empty() || op.sub_type.len() > 64 {
        return Err(Rejection::Invalid(
            "operation sub-type must be 1 to 64 bytes".into(),
        ));
    }
    Ok(())
}

pub(super) fn check_payload(what: &str, text: &str) -> Result<(), Rejection> {
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(Rejection::Invalid(format!(
            "{what} is {} bytes; the limit is {MAX_PAYLOAD_BYTES}",
            text.len()
        )));
    }
    Ok(())
}

/// Makes a step wait `delay_s` (at least 1) before its next attempt: status
/// PENDING, the next attempt time and a `step_retry` timer in `b`. Returns
/// the `RetryDetails` of its event.
pub(super) fn schedule_attempt(
    o: &mut Operation,
    b: &mut Batch,
    now: u64,
    attempt: u32,
    delay_s: u32,
) -> RetryDetails {
    let delay = u64::from(delay_s.max(1));
    let due = now + delay * 1000;
    o.status = OperationStatus::Pending;
    o.step = Some(StepDetails {
        attempt,
        next_attempt_ms: Some(due),
    });
    b.set_timers.push(TimerSpec {
        kind: TimerKind::StepRetry,
        op_id: Some(o.id.clone()),
        due_ms: due,
    });
    RetryDetails {
        current_attempt: attempt,
        next_attempt_delay_seconds: Some(delay),
    }
}

/// Whether `o` is already STARTED for `attempt` (journaled by an
/// invocation that did not finish it).
pub(super) fn rerun_of_started_attempt(o: &Operation, attempt: u32) -> bool {
    o.status == OperationStatus::Started && o.step.as_ref().is_some_and(|s| s.attempt == attempt)
}

/// A batch that starts an operation (one billable operation).
pub(super) fn started_batch() -> Batch {
    let mut b = Batch::default();
    b.execution.metering.operations = 1;
    b
}
