//! The host side of `lamina:durable/journal`: every import turns one
//! operation transition into one journal batch and returns once it is durable.

use super::Durable;
use super::shapes::{event_error, event_result};
use super::wit::{self, lamina::durable::journal};
use crate::journal::{
    Batch, CallbackDetails, CallbackRegistration, ChainedInvokeDetails, ErrorObject, EventType,
    JournalError, NewEvent, Operation, OperationStatus, OperationType, QueuedWrite, StepDetails,
    TimerKind, TimerRef, TimerSpec, WaitDetails, now_ms,
};
use crate::state::{HostState, HostWait};
use super::wit_convert::{error_from_wit, journal_error, op_to_wit};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// Largest result or error payload one operation may journal, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// Longest operation id or name accepted from a guest.
const MAX_ID_LEN: usize = 256;

/// What a durable instance's store knows about the execution it runs.
pub struct DurableInvocation {
    /// The runtime (journal, scheduler wake-up).
    pub runtime: Arc<Durable>,
    /// The execution's ARN.
    pub arn: String,
    /// The function the execution runs under.
    pub function: Arc<str>,
    /// The operations as last read or written by this invocation.
    pub ops: HashMap<String, Operation>,
    /// Writes queued without waiting for their commit (at-least-once step
    /// starts); the next commit of this invocation checks them.
    pub queued: Vec<QueuedWrite>,
    /// Where the time spent waiting for the journal is counted, so that it
    /// does not count against the invocation's `timeout_ms`.
    pub host_wait: Arc<HostWait>,
}

type Answer<T> = wasmtime::Result<Result<T, wit::JournalError>>;

fn invalid<T>(message: impl Into<String>) -> Answer<T> {
    Ok(Err(wit::JournalError::Invalid(message.into())))
}


/// Checks an operation reference from a guest.
fn check_ref(op: &wit::OpRef) -> Result<(), String> {
    if op.id.is_empty() || op.id.len() > MAX_ID_LEN {
        return Err(format!(
            "operation id must be 1 to {MAX_ID_LEN} bytes, got {} bytes",
            op.id.len()
        ));
    }
    if op.name.as_ref().is_some_and(|n| n.len() > MAX_ID_LEN) {
        return Err(format!("operation name longer than {MAX_ID_LEN} bytes"));
    }
    if op.sub_type.is_empty() || op.sub_type.len() > 64 {
        return Err("operation sub-type must be 1 to 64 bytes".into());
    }
    Ok(())
}

fn check_payload(what: &str, text: &str) -> Result<(), String> {
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(format!(
            "{what} is {} bytes; the limit is {MAX_PAYLOAD_BYTES}",
            text.len()
        ));
    }
    Ok(())
}

impl DurableInvocation {
    /// The operation for `op`: the journaled one (checked to be of type `t`)
    /// or a new one started now.
    fn operation(&self, op: &wit::OpRef, t: OperationType) -> Result<Operation, String> {
        check_ref(op)?;
        match self.ops.get(&op.id) {
            Some(existing) if existing.op_type != t => Err(format!(
                "operation {} is a {} in the journal, not a {}",
                op.id,
                existing.op_type.as_str(),
                t.as_str()
            )),
            Some(existing) => Ok(existing.clone()),
            None => {
                let mut new = Operation::new(op.id.clone(), t, OperationStatus::Started, now_ms());
                new.parent_id = op.parent_id.clone();
                new.name = op.name.clone();
                new.sub_type = Some(op.sub_type.clone());
                Ok(new)
            }
        }
    }

    /// A new operation for `op`, which must not be recorded yet.
    fn fresh(&self, op: &wit::OpRef, t: OperationType) -> Result<Operation, String> {
        if self.ops.contains_key(&op.id) {
            return Err(format!(
                "{} {} was already started",
                t.as_str().to_lowercase().replace('_', " "),
                op.id
            ));
        }
        self.operation(op, t)
    }

    /// Like [`DurableInvocation::operation`], for a transition that needs the
    /// operation still open, with an optional payload to size-check.
    fn open(
        &self,
        op: &wit::OpRef,
        t: OperationType,
        payload: Option<(&str, &str)>,
    ) -> Result<Operation, String> {
        if let Some((what, text)) = payload {
            check_payload(what, text)?;
        }
        let o = self.operation(op, t)?;
        if completed(o.status) {
            return Err(format!(
                "{} {} has already completed",
                t.as_str().to_lowercase(),
                op.id
            ));
        }
        Ok(o)
    }

    /// Queues `batch` (which upserts `op`) behind this invocation's earlier
    /// writes without waiting for its commit, and remembers `op`.
    async fn queue(&mut self, op: Operation, mut batch: Batch) -> Result<(), wit::JournalError> {
        batch.operations.push(op.clone());
        let q = self
            .host_wait
            .time(self.runtime.journal.enqueue(&self.arn, batch))
            .await
            .map_err(journal_error)?;
        self.queued.push(q);
        self.ops.insert(op.id.clone(), op);
        Ok(())
    }

    /// Applies `batch` (which upserts `op`) and remembers `op`.
    async fn commit(&mut self, op: Operation, mut batch: Batch) -> Result<(), wit::JournalError> {
        batch.operations.push(op.clone());
        let wake = !batch.set_timers.is_empty();
        self.host_wait
            .time(self.runtime.journal.apply(&self.arn, batch))
            .await
            .map_err(journal_error)?;
        // Queued writes were ahead of this one: they are committed by now.
        for q in std::mem::take(&mut self.queued) {
            self.host_wait
                .time(q.committed())
                .await
                .map_err(journal_error)?;
        }
        if wake {
            self.runtime.timers_changed();
        }
        self.ops.insert(op.id.clone(), op);
        Ok(())
    }
}

fn completed(status: OperationStatus) -> bool {
    matches!(
        status,
        OperationStatus::Succeeded
            | OperationStatus::Failed
            | OperationStatus::Cancelled
            | OperationStatus::TimedOut
            | OperationStatus::Stopped
    )
}

/// Makes a step wait `delay_s` (at least 1) before its next attempt: status
/// PENDING, the next attempt time and a `step_retry` timer in `b`. Returns
/// the `RetryDetails` of its event.
fn schedule_attempt(
    o: &mut Operation,
    b: &mut Batch,
    attempt: u32,
    delay_s: u32,
) -> serde_json::Value {
    let delay = u64::from(delay_s.max(1));
    let due = now_ms() + delay * 1000;
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
    json!({ "CurrentAttempt": attempt, "NextAttemptDelaySeconds": delay })
}

/// Whether `o` is already STARTED for `attempt` (journaled by an
/// invocation that did not finish it).
fn rerun_of_started_attempt(o: &Operation, attempt: u32) -> bool {
    o.status == OperationStatus::Started && o.step.as_ref().is_some_and(|s| s.attempt == attempt)
}

fn started_batch() -> Batch {
    let mut b = Batch::default();
    b.execution.metering.operations = 1;
    b
}

impl HostState {
    fn durable_mut(&mut self) -> wasmtime::Result<&mut DurableInvocation> {
        self.durable.as_deref_mut().ok_or_else(|| {
            wasmtime::Error::msg("lamina:durable/journal used outside a durable execution")
        })
    }
}

impl wit::lamina::durable::types::Host for HostState {}

impl journal::Host for HostState {
    async fn load_state(&mut self) -> wasmtime::Result<wit::ExecutionState> {
        let d = self.durable_mut()?;
        let state = d
            .host_wait
            .time(d.runtime.journal.load_state(&d.arn))
            .await
            .map_err(|e| wasmtime::Error::msg(format!("loading the execution state: {e}")))?;
        d.ops = state
            .operations
            .iter()
            .map(|o| (o.id.clone(), o.clone()))
            .collect();
        Ok(wit::ExecutionState {
            arn: d.arn.clone(),
            function_name: d.function.to_string(),
            input: state.input,
            operations: state.operations.iter().map(op_to_wit).collect(),
            now_ms: now_ms(),
        })
    }

    async fn step_started(
        &mut self,
        op: wit::OpRef,
        attempt: u32,
        wait_for_commit: bool,
    ) -> Answer<()> {
        let d = self.durable_mut()?;
        let mut o = match d.open(&op, OperationType::Step, None) {
            Ok(o) => o,
            Err(m) => return invalid(m),
        };
        if rerun_of_started_attempt(&o, attempt.max(1)) {
            // An at-least-once attempt interrupted (crash, timeout) and run
            // again: it is on record as started, and AWS records the re-run
            // without a second StepStarted.
            return Ok(Ok(()));
        }
        o.status = OperationStatus::Started;
        o.step = Some(StepDetails {
            attempt: attempt.max(1),
            next_attempt_ms: None,
        });
        let mut b = started_batch();
        b.events
            .push(NewEvent::for_operation(EventType::StepStarted, &o).with_details(json!({})));
        b.clear_timers.push(TimerRef {
            kind: TimerKind::StepRetry,
            op_id: Some(o.id.clone()),
        });
        if wait_for_commit {
            return Ok(d.commit(o, b).await);
        }
        Ok(d.queue(o, b).await)
    }

    async fn step_succeeded(&mut self, op: wit::OpRef, attempt: u32, result: String) -> Answer<()> {
        let d = self.durable_mut()?;
        let mut o = match d.open(&op, OperationType::Step, Some(("the step result", &result))) {
            Ok(o) => o,
            Err(m) => return invalid(m),
        };
        o.status = OperationStatus::Succeeded;
        o.end_ms = Some(now_ms());
        o.step = Some(StepDetails {
            attempt: attempt.max(1),
            next_attempt_ms: None,
        });
        let details = json!({
            "Result": event_result(&result),
            "RetryDetails": { "CurrentAttempt": attempt.max(1) },
        });
        o.result = Some(result);
        let mut b = Batch::default();
        b.events
            .push(NewEvent::for_operation(EventType::StepSucceeded, &o).with_details(details));
        Ok(d.commit(o, b).await)
    }

    async fn step_failed(
        &mut self,
        op: wit::OpRef,
        attempt: u32,
        error: wit::ErrorObject,
    ) -> Answer<()> {
        self.step_failure(op, attempt, error, None).await
    }

    async fn step_retry(
        &mut self,
        op: wit::OpRef,
        attempt: u32,
        error: wit::ErrorObject,
        delay_seconds: u32,
    ) -> Answer<()> {
        self.step_failure(op, attempt, error, Some(delay_seconds))
            .await
    }

    async fn step_poll(
        &mut self,
        op: wit::OpRef,
        attempt: u32,
        state: String,
        delay_seconds: u32,
    ) -> Answer<()> {
        let d = self.durable_mut()?;
        let mut o = match d.open(
            &op,
            OperationType::Step,
            Some(("the condition state", &state)),
        ) {
            Ok(o) => o,
            Err(m) => return invalid(m),
        };
        let mut b = Batch::default();
        let retry = schedule_attempt(&mut o, &mut b, attempt.max(1), delay_seconds);
        let details = json!({ "Result": event_result(&state), "RetryDetails": retry });
        o.result = Some(state);
        b.events
            .push(NewEvent::for_operation(EventType::StepSucceeded, &o).with_details(details));
        Ok(d.commit(o, b).await)
    }

    async fn wait_started(&mut self, op: wit::OpRef, seconds: u64) -> Answer<()> {
        let d = self.durable_mut()?;
        let mut o = match d.fresh(&op, OperationType::Wait) {
            Ok(o) => o,
            Err(m) => return invalid(m),
        };
        if seconds == 0 || seconds > super::MAX_DURATION_S {
            return invalid(format!(
                "a wait lasts 1 to {} seconds, not {seconds}",
                super::MAX_DURATION_S
            ));
        }
        let end = o.start_ms + seconds * 1000;
        o.wait = Some(WaitDetails {
            scheduled_end_ms: end,
        });
        let mut b = started_batch();
        b.events.push(
            NewEvent::for_operation(EventType::WaitStarted, &o).with_details(json!({
                "Duration": seconds,
                "ScheduledEndTimestamp": super::shapes::timestamp(end),
            })),
        );
        b.set_timers.push(TimerSpec {
            kind: TimerKind::WaitEnd,
            op_id: Some(o.id.clone()),
            due_ms: end,
        });
        Ok(d.commit(o, b).await)
    }

    async fn callback_started(
        &mut self,
        op: wit::OpRef,
        timeout_seconds: u64,
        heartbeat_timeout_seconds: u64,
    ) -> Answer<String> {
        let d = self.durable_mut()?;
        let mut o = match d.operation(&op, OperationType::Callback) {
            Ok(o) => o,
            Err(m) => return invalid(m),
        };
        if let Some(c) = &o.callback {
            return Ok(Ok(c.callback_id.clone()));
        }
        for (what, s) in [
            ("timeout", timeout_seconds),
            ("heartbeat timeout", heartbeat_timeout_seconds),
        ] {
            if s > super::MAX_DURATION_S {
                return invalid(format!(
                    "a callback {what} is at most {} seconds, not {s}",
                    super::MAX_DURATION_S
                ));
            }
        }
        let callback_id = super::new_callback_id();
        let nonzero = |s: u64| (s > 0).then_some(s);
        o.callback = Some(CallbackDetails {
            callback_id: callback_id.clone(),
            timeout_s: nonzero(timeout_seconds),
            heartbeat_timeout_s: nonzero(heartbeat_timeout_seconds),
        });
        let mut details = json!({ "CallbackId": callback_id });
        let mut b = started_batch();
        if timeout_seconds > 0 {
            details["Timeout"] = timeout_seconds.into();
            b.set_timers.push(TimerSpec {
                kind: TimerKind::CallbackTimeout,
                op_id: Some(o.id.clone()),
                due_ms: o.start_ms + timeout_seconds * 1000,
            });
        }
        if heartbeat_timeout_seconds > 0 {
            details["HeartbeatTimeout"] = heartbeat_timeout_seconds.into();
            b.set_timers.push(TimerSpec {
                kind: TimerKind::CallbackHeartbeat,
                op_id: Some(o.id.clone()),
                due_ms: o.start_ms + heartbeat_timeout_seconds * 1000,
            });
        }
        b.events
            .push(NewEvent::for_operation(EventType::CallbackStarted, &o).with_details(details));
        b.add_callbacks.push(CallbackRegistration {
            callback_id: callback_id.clone(),
            op_id: o.id.clone(),
        });
        Ok(d.commit(o, b).await.map(|()| callback_id))
    }

    async fn context_started(&mut self, op: wit::OpRef) -> Answer<()> {
        let d = self.durable_mut()?;
        let o = match d.fresh(&op, OperationType::Context) {
            Ok(o) => o,
            Err(m) => return invalid(m),
        };
        let mut b = started_batch();
        b.events
            .push(NewEvent::for_operation(EventType::ContextStarted, &o).with_details(json!({})));
        Ok(d.commit(o, b).await)
    }

    async fn context_succeeded(&mut self, op: wit::OpRef, result: String) -> Answer<()> {
        let d = self.durable_mut()?;
        let mut o = match d.open(
            &op,
            OperationType::Context,
            Some(("the context result", &result)),
        ) {
            Ok(o) => o,
            Err(m) => return invalid(m),
        };
        o.status = OperationStatus::Succeeded;
        o.end_ms = Some(now_ms());
        let details = json!({ "Result": event_result(&result) });
        o.result = Some(result);
        let mut b = Batch::default();
        b.events
            .push(NewEvent::for_operation(EventType::ContextSucceeded, &o).with_details(details));
        Ok(d.commit(o, b).await)
    }

    async fn context_failed(&mut self, op: wit::OpRef, error: wit::ErrorObject) -> Answer<()> {
        let d = self.durable_mut()?;
        let mut o = match d.open(&op, OperationType::Context, None) {
            Ok(o) => o,
            Err(m) => return invalid(m),
        };
        let error = error_from_wit(error);
        o.status = OperationStatus::Failed;
        o.end_ms = Some(now_ms());
        let details = json!({ "Error": event_error(&error) });
        o.error = Some(error);
        let mut b = Batch::default();
        b.events
            .push(NewEvent::for_operation(EventType::ContextFailed, &o).with_details(details));
        Ok(d.commit(o, b).await)
    }

    async fn invoke_started(
        &mut self,
        op: wit::OpRef,
        function: String,
        payload: String,
        tenant_id: Option<String>,
    ) -> Answer<()> {
        let d = self.durable_mut()?;
        let mut o = match d.fresh(&op, OperationType::ChainedInvoke) {
            Ok(o) => o,
            Err(m) => return invalid(m),
        };
        if let Err(m) = check_payload("the invoke payload", &payload) {
            return invalid(m);
        }
        if serde_json::from_str::<serde::de::IgnoredAny>(&payload).is_err() {
            return invalid("the invoke payload must be JSON text");
        }
        let target = crate::api::lambda::function_name(&function);
        let child_arn = d.runtime.chained_execution_arn(&target);
        o.chained_invoke = Some(ChainedInvokeDetails {
            function_name: target.clone(),
            input: Some(payload.clone()),
            execution_arn: Some(child_arn.clone()),
        });
        let mut details = json!({
            "FunctionName": target,
            "Input": super::shapes::event_input(&payload),
            "ExecutedVersion": "$LATEST",
            "DurableExecutionArn": child_arn,
        });
        if let Some(t) = &tenant_id {
            details["TenantId"] = json!(t);
        }
        let mut b = started_batch();
        b.events.push(
            NewEvent::for_operation(EventType::ChainedInvokeStarted, &o).with_details(details),
        );
        let (arn, op_id) = (d.arn.clone(), o.id.clone());
        let chained = o.chained_invoke.clone().unwrap_or_default();
        if let Err(e) = d.commit(o, b).await {
            return Ok(Err(e));
        }
        d.runtime.spawn_chained(arn, op_id, chained);
        Ok(Ok(()))
    }

    async fn log(&mut self, level: wit::LogLevel, message: String) -> wasmtime::Result<()> {
        let d = self.durable_mut()?;
        let (function, execution) = (&*d.function, d.arn.as_str());
        match level {
            wit::LogLevel::Debug => {
                tracing::debug!(target: "lamina::durable::guest", function, execution, "{message}");
            }
            wit::LogLevel::Info => {
                tracing::info!(target: "lamina::durable::guest", function, execution, "{message}");
            }
            wit::LogLevel::Warn => {
                tracing::warn!(target: "lamina::durable::guest", function, execution, "{message}");
            }
            wit::LogLevel::Error => {
                tracing::error!(target: "lamina::durable::guest", function, execution, "{message}");
            }
        }
        Ok(())
    }
}

impl HostState {
    /// `step-failed` and `step-retry`: StepFailed, with the next attempt's
    /// delay when it will be retried.
    async fn step_failure(
        &mut self,
        op: wit::OpRef,
        attempt: u32,
        error: wit::ErrorObject,
        retry_after_s: Option<u32>,
    ) -> Answer<()> {
        let error = error_from_wit(error);
        let text = serde_json::to_string(&error).unwrap_or_default();
        let d = self.durable_mut()?;
        let mut o = match d.open(&op, OperationType::Step, Some(("the step error", &text))) {
            Ok(o) => o,
            Err(m) => return invalid(m),
        };
        let attempt = attempt.max(1);
        let mut b = Batch::default();
        let retry = match retry_after_s {
            Some(delay) => schedule_attempt(&mut o, &mut b, attempt, delay),
            None => {
                o.status = OperationStatus::Failed;
                o.end_ms = Some(now_ms());
                o.step = Some(StepDetails {
                    attempt,
                    next_attempt_ms: None,
                });
                json!({ "CurrentAttempt": attempt })
            }
        };
        let details = json!({ "Error": event_error(&error), "RetryDetails": retry });
        o.error = Some(error);
        b.events
            .push(NewEvent::for_operation(EventType::StepFailed, &o).with_details(details));
        Ok(d.commit(o, b).await)
    }
}
