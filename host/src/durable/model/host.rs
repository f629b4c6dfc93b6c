//! Host transitions: what the host completes on its own (timers, callbacks
//! from outside, chained invokes, the end of an invocation, stop), checked
//! against the execution and operation as recorded, turned into one batch.

use super::events::{EventDetails, execution_event};
use super::status::execution_op_status;
use super::{EXECUTION_OP_ID, Plan, Rejection, completions, invocation, timers};
use crate::journal::{
    Batch, ErrorObject, EventType, Execution, ExecutionStatus, NewEvent, NewExecution, Operation,
    OperationStatus, OperationType, Timer,
};

/// How an external system completes a callback.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackCompletion {
    /// Success with a result (JSON text).
    Success(String),
    /// Failure with an error.
    Failure(ErrorObject),
    /// Still working: moves the heartbeat timeout.
    Heartbeat,
}

/// How one invocation of the handler ended.
#[derive(Debug, Clone, PartialEq)]
pub enum InvocationOutcome {
    /// The handler returned `succeeded` with this result.
    Succeeded(String),
    /// The handler returned `failed` with this error.
    Failed(ErrorObject),
    /// The handler returned `pending`.
    Pending,
    /// The invocation crashed (trap, timeout, out of memory, exit).
    Crashed(ErrorObject),
}

/// The end of one invocation, as the executor saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct InvocationEnd {
    /// What the handler did.
    pub outcome: InvocationOutcome,
    /// When it started.
    pub start_ms: u64,
    /// When it ended.
    pub end_ms: u64,
    /// How long the guest ran, in µs.
    pub run_us: u64,
    /// Its request id.
    pub request_id: String,
    /// Whether the journal, as the invocation left it, holds an operation
    /// that will make the execution runnable again.
    pub waiting: bool,
    /// Whether something completed while it ran (another invocation is owed).
    pub again: bool,
}

impl InvocationEnd {
    /// Whether planning it needs the execution as recorded (its start time,
    /// its crash count): not for a `pending` that leaves it running.
    pub fn needs_execution(&self) -> bool {
        !matches!(self.outcome, InvocationOutcome::Pending) || !(self.waiting || self.again)
    }
}

/// A transition the host makes on its own.
#[derive(Debug, Clone, PartialEq)]
pub enum HostTransition {
    /// A timer is due.
    TimerFired(Timer),
    /// A callback was completed (or heartbeated) from outside.
    CallbackCompleted {
        /// The callback id (for messages).
        callback_id: String,
        /// The CALLBACK operation it completes (for messages).
        op_id: String,
        /// How.
        completion: CallbackCompletion,
    },
    /// A chained invoke's target ended.
    InvokeEnded(Result<String, ErrorObject>),
    /// An invocation of the handler ended.
    InvocationEnded(InvocationEnd),
    /// The execution is stopped through the API (or because its parent was).
    Stopped(Option<ErrorObject>),
}

/// Plans a host transition at `now`, given the execution as recorded and
/// (for transitions of one operation) the operation as recorded. The plan
/// of [`HostTransition::InvocationEnded`] without the execution (see
/// [`InvocationEnd::needs_execution`]) assumes no crash before it.
pub fn plan_host(
    now: u64,
    execution: Option<&Execution>,
    op: Option<&Operation>,
    transition: HostTransition,
) -> Result<Plan, Rejection> {
    match transition {
        HostTransition::TimerFired(timer) => Ok(timers::timer_fired(now, execution, op, &timer)),
        HostTransition::CallbackCompleted {
            callback_id,
            op_id,
            completion,
        } => {
            completions::callback_completed(now, execution, op, (&callback_id, &op_id), completion)
        }
        HostTransition::InvokeEnded(outcome) => {
            Ok(completions::invoke_ended(now, execution, op, outcome))
        }
        HostTransition::InvocationEnded(end) => {
            Ok(invocation::invocation_ended(now, execution, end))
        }
        HostTransition::Stopped(error) => completions::stopped(now, execution, error),
    }
}

/// The new execution `arn` of `function`, started at `now` with `input`.
pub struct ExecutionStart {
    /// Its ARN.
    pub arn: String,
    /// The durable function.
    pub function: String,
    /// Its unique name.
    pub name: String,
    /// Its input (JSON text).
    pub input: String,
    /// Its execution timeout, in seconds.
    pub timeout_s: u64,
    /// The sha256 of the component it starts with.
    pub code_sha256: Option<String>,
}

/// What the journal creates for a new execution: the EXECUTION operation,
/// ExecutionStarted, the execution timeout.
pub fn plan_start(now: u64, s: ExecutionStart) -> NewExecution {
    let details = EventDetails {
        execution_timeout: Some(s.timeout_s),
        ..EventDetails::input(&s.input)
    };
    NewExecution {
        arn: s.arn,
        function: s.function,
        name: Some(s.name),
        input: s.input,
        start_ms: now,
        deadline_ms: Some(now + s.timeout_s * 1000),
        invocation_in_progress: true,
        code_sha256: s.code_sha256,
        operations: vec![Operation::new(
            EXECUTION_OP_ID,
            OperationType::Execution,
            OperationStatus::Started,
            now,
        )],
        events: vec![execution_event(EventType::ExecutionStarted, &details)],
    }
}

/// The EXECUTION operation of an execution that ended with `status` at `end_ms`.
pub fn execution_op(start_ms: u64, status: ExecutionStatus, end_ms: u64) -> Operation {
    let mut op = Operation::new(
        EXECUTION_OP_ID,
        OperationType::Execution,
        execution_op_status(status),
        start_ms,
    );
    op.end_ms = Some(end_ms);
    op
}

/// Ends the execution in `b`: its status, error, end time, EXECUTION
/// operation (when the execution was read) and event, no invocation owed,
/// no execution timeout.
pub(super) fn end_execution(
    b: &mut Batch,
    now: u64,
    execution: Option<&Execution>,
    status: ExecutionStatus,
    event: NewEvent,
) {
    if let Some(e) = execution {
        b.operations.push(execution_op(e.start_ms, status, now));
    }
    b.events.push(event);
    b.execution.status = Some(status);
    b.execution.end_ms = Some(now);
    b.execution.invocation_in_progress = Some(false);
}
