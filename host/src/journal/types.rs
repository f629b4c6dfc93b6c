//! The values the journal stores and returns.
//!
//! Times are milliseconds since the Unix epoch (`*_ms`), durations are
//! seconds (`*_s`) or microseconds (`*_us`). Payloads (inputs, results) are
//! JSON text, stored as given.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The current wall-clock time in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A fresh execution ARN for `function`: `arn:lamina:durable:{function}:{uuid}`.
pub fn execution_arn(function: &str) -> String {
    format!("arn:lamina:durable:{function}:{}", uuid::Uuid::new_v4())
}

/// Declares a string-valued enum with `as_str`, `Display` and `FromStr`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value's wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} `{other}` (expected one of: {})",
                        stringify!($name),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

string_enum! {
    /// The status of an execution (AWS `ExecutionStatus`).
    pub enum ExecutionStatus {
        /// Started and not yet ended (possibly hibernating).
        Running = "RUNNING",
        /// Ended with a result.
        Succeeded = "SUCCEEDED",
        /// Ended with an error.
        Failed = "FAILED",
        /// Ended because its execution timeout passed.
        TimedOut = "TIMED_OUT",
        /// Ended because it was stopped through the API.
        Stopped = "STOPPED",
    }
}

impl ExecutionStatus {
    /// Whether the execution has ended (every status but RUNNING).
    pub fn is_terminal(self) -> bool {
        self != ExecutionStatus::Running
    }
}

string_enum! {
    /// The type of an operation (AWS `OperationType`).
    pub enum OperationType {
        /// The execution itself.
        Execution = "EXECUTION",
        /// A child context (run-in-child-context, parallel, map, ...).
        Context = "CONTEXT",
        /// A step.
        Step = "STEP",
        /// A wait.
        Wait = "WAIT",
        /// A callback.
        Callback = "CALLBACK",
        /// An invocation of another durable function.
        ChainedInvoke = "CHAINED_INVOKE",
    }
}

string_enum! {
    /// The status of an operation (AWS `OperationStatus`).
    pub enum OperationStatus {
        /// Started (a step body running, a wait or callback in progress).
        Started = "STARTED",
        /// Waiting for something (a step retry).
        Pending = "PENDING",
        /// Ready to continue (a step retry is due).
        Ready = "READY",
        /// Completed with a result.
        Succeeded = "SUCCEEDED",
        /// Completed with an error.
        Failed = "FAILED",
        /// Cancelled.
        Cancelled = "CANCELLED",
        /// Timed out (a callback).
        TimedOut = "TIMED_OUT",
        /// Stopped (a chained invoke).
        Stopped = "STOPPED",
    }
}

string_enum! {
    /// The type of a history event (AWS `EventType`).
    pub enum EventType {
        /// The execution started.
        ExecutionStarted = "ExecutionStarted",
        /// The execution succeeded.
        ExecutionSucceeded = "ExecutionSucceeded",
        /// The execution failed.
        ExecutionFailed = "ExecutionFailed",
        /// The execution timed out.
        ExecutionTimedOut = "ExecutionTimedOut",
        /// The execution was stopped.
        ExecutionStopped = "ExecutionStopped",
        /// A child context started.
        ContextStarted = "ContextStarted",
        /// A child context succeeded.
        ContextSucceeded = "ContextSucceeded",
        /// A child context failed.
        ContextFailed = "ContextFailed",
        /// A wait started.
        WaitStarted = "WaitStarted",
        /// A wait ended.
        WaitSucceeded = "WaitSucceeded",
        /// A wait was cancelled.
        WaitCancelled = "WaitCancelled",
        /// A step (attempt) started.
        StepStarted = "StepStarted",
        /// A step succeeded.
        StepSucceeded = "StepSucceeded",
        /// A step attempt failed (possibly to be retried).
        StepFailed = "StepFailed",
        /// A chained invoke started.
        ChainedInvokeStarted = "ChainedInvokeStarted",
        /// A chained invoke succeeded.
        ChainedInvokeSucceeded = "ChainedInvokeSucceeded",
        /// A chained invoke failed.
        ChainedInvokeFailed = "ChainedInvokeFailed",
        /// A chained invoke timed out.
        ChainedInvokeTimedOut = "ChainedInvokeTimedOut",
        /// A chained invoke was stopped.
        ChainedInvokeStopped = "ChainedInvokeStopped",
        /// A callback was created.
        CallbackStarted = "CallbackStarted",
        /// A callback was completed with a result.
        CallbackSucceeded = "CallbackSucceeded",
        /// A callback was completed with an error.
        CallbackFailed = "CallbackFailed",
        /// A callback timed out (general or heartbeat timeout).
        CallbackTimedOut = "CallbackTimedOut",
        /// One invocation of the handler ended.
        InvocationCompleted = "InvocationCompleted",
    }
}

string_enum! {
    /// What a timer is for. With the execution and the operation id it names
    /// the timer's slot: an execution has at most one timer per
    /// (kind, operation), and setting it again moves it.
    pub enum TimerKind {
        /// A wait's scheduled end.
        WaitEnd = "wait_end",
        /// A step's next attempt.
        StepRetry = "step_retry",
        /// A callback's overall timeout.
        CallbackTimeout = "callback_timeout",
        /// A callback's heartbeat timeout (moved by every heartbeat).
        CallbackHeartbeat = "callback_heartbeat",
        /// The execution timeout (no operation id).
        ExecutionTimeout = "execution_timeout",
    }
}

/// An error object (AWS `ErrorObject`), serialized with AWS's field names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorObject {
    /// The error type, e.g. `CallbackError`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// The human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Extra data (text, usually JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<String>,
    /// Stack trace lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<Vec<String>>,
}

/// Metering counters of one execution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metering {
    /// Sum of the run times of the execution's invocations, in µs.
    #[serde(default)]
    pub active_compute_us: u64,
    /// Number of invocations (the first one and every replay).
    #[serde(default)]
    pub invocations: u64,
    /// Number of billable durable operations the executor counted.
    #[serde(default)]
    pub operations: u64,
    /// Bytes written to the journal for this execution: its input, and the
    /// encoded operation rows and history events of every batch. Maintained
    /// by the journal itself.
    #[serde(default)]
    pub bytes_journaled: u64,
}

impl Metering {
    /// Adds `other` to these counters (saturating).
    pub fn add(&mut self, other: &Metering) {
        self.active_compute_us = self
            .active_compute_us
            .saturating_add(other.active_compute_us);
        self.invocations = self.invocations.saturating_add(other.invocations);
        self.operations = self.operations.saturating_add(other.operations);
        self.bytes_journaled = self.bytes_journaled.saturating_add(other.bytes_journaled);
    }

    /// Whether every counter is zero.
    pub fn is_zero(&self) -> bool {
        *self == Metering::default()
    }
}

/// A durable execution, as stored (its input is kept apart: see
/// [`super::Journal::execution_input`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    /// The execution's id, `arn:lamina:durable:{function}:{uuid}`.
    pub arn: String,
    /// The durable function it runs.
    pub function: String,
    /// The unique name it was started with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its status.
    pub status: ExecutionStatus,
    /// The result (JSON text) once SUCCEEDED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The error once FAILED (or TIMED_OUT / STOPPED, if one was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// When it started.
    pub start_ms: u64,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
    /// When its execution timeout passes, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// Whether an invocation is running or due to start; a RUNNING execution
    /// with this flag is re-invoked when the host starts (crash recovery).
    #[serde(default)]
    pub invocation_in_progress: bool,
    /// Metering counters.
    #[serde(default)]
    pub metering: Metering,
    /// The id of its last history event (maintained by the journal).
    #[serde(default)]
    pub last_event_id: u64,
    /// The number of distinct operations stored (maintained by the journal).
    #[serde(default)]
    pub operation_count: u64,
    /// The sha256 (hex) of the component the execution started with; `None`
    /// in rows written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_sha256: Option<String>,
    /// Consecutive crashed invocations (trap, timeout, out of memory) since
    /// the last invocation that did not crash; kept so that "fail after N
    /// crashes in a row" survives a restart of the host.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub crashes: u32,
}

/// Whether a counter is zero (its row field is then left out).
fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

impl Execution {
    /// Wall-clock duration in ms: to the end, or to `now_ms` while running.
    pub fn wall_ms(&self, now_ms: u64) -> u64 {
        self.end_ms.unwrap_or(now_ms).saturating_sub(self.start_ms)
    }
}

/// Step details of an operation (AWS `StepDetails`, without result/error).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDetails {
    /// The current attempt, from 1.
    pub attempt: u32,
    /// When the next attempt is due, while a retry is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_ms: Option<u64>,
}

/// Wait details of an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitDetails {
    /// When the wait ends.
    pub scheduled_end_ms: u64,
}

/// Callback details of an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackDetails {
    /// The callback id given to the outside world.
    pub callback_id: String,
    /// The overall timeout, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<u64>,
    /// The heartbeat timeout, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_timeout_s: Option<u64>,
}

/// Chained-invoke details of an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainedInvokeDetails {
    /// The function invoked.
    pub function_name: String,
    /// The payload it was invoked with (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The ARN of the execution it started, if it is durable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
}

/// Context details of an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextDetails {
    /// Whether a replay must re-run the children (AWS `ReplayChildren`).
    #[serde(default)]
    pub replay_children: bool,
}

/// One operation of an execution, keyed by (execution, `id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// The operation id (deterministic, from the parent id and a counter).
    pub id: String,
    /// The parent operation (context), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The user-given name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The operation type.
    #[serde(rename = "type")]
    pub op_type: OperationType,
    /// The SDK-level sub-type (`Step`, `Wait`, `RunInChildContext`, `Map`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// The status.
    pub status: OperationStatus,
    /// When it started.
    pub start_ms: u64,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
    /// The result payload (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// Step details (STEP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepDetails>,
    /// Wait details (WAIT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<WaitDetails>,
    /// Callback details (CALLBACK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackDetails>,
    /// Chained-invoke details (CHAINED_INVOKE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chained_invoke: Option<ChainedInvokeDetails>,
    /// Context details (CONTEXT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextDetails>,
    /// The order in which the operation was first recorded in its execution,
    /// from 0. Assigned by the journal; ignored on upsert.
    #[serde(default)]
    pub seq: u64,
}

impl Operation {
    /// An operation with only the required fields set.
    pub fn new(
        id: impl Into<String>,
        op_type: OperationType,
        status: OperationStatus,
        start_ms: u64,
    ) -> Self {
        Operation {
            id: id.into(),
            parent_id: None,
            name: None,
            op_type,
            sub_type: None,
            status,
            start_ms,
            end_ms: None,
            result: None,
            error: None,
            step: None,
            wait: None,
            callback: None,
            chained_invoke: None,
            context: None,
            seq: 0,
        }
    }

    /// Whether a replay rebuilds this context's result from its children
    /// (AWS `ReplayChildren`): its context details say so, or, in rows
    /// written before they were recorded, it succeeded with an empty result
    /// (the former sentinel; no JSON result is empty).
    pub fn replays_children(&self) -> bool {
        match &self.context {
            Some(c) => c.replay_children,
            None => {
                self.op_type == OperationType::Context
                    && self.status == OperationStatus::Succeeded
                    && self.result.as_deref() == Some("")
            }
        }
    }
}

/// A history event to append; the journal assigns its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// The event type.
    pub event_type: EventType,
    /// The event time; `None` means the time the journal writes it.
    pub timestamp_ms: Option<u64>,
    /// The operation id (absent for InvocationCompleted and execution events).
    pub id: Option<String>,
    /// The parent operation id.
    pub parent_id: Option<String>,
    /// The operation name.
    pub name: Option<String>,
    /// The operation sub-type.
    pub sub_type: Option<String>,
    /// The per-type details (e.g. the content of `StepFailedDetails`), shaped
    /// by the caller; `Value::Null` for none.
    pub details: serde_json::Value,
}

impl NewEvent {
    /// An event of this type with no operation fields and no details.
    pub fn new(event_type: EventType) -> Self {
        NewEvent {
            event_type,
            timestamp_ms: None,
            id: None,
            parent_id: None,
            name: None,
            sub_type: None,
            details: serde_json::Value::Null,
        }
    }

    /// An event about `op`: copies its id, parent id, name and sub-type.
    pub fn for_operation(event_type: EventType, op: &Operation) -> Self {
        NewEvent {
            id: Some(op.id.clone()),
            parent_id: op.parent_id.clone(),
            name: op.name.clone(),
            sub_type: op.sub_type.clone(),
            ..NewEvent::new(event_type)
        }
    }

    /// Sets the details.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    /// Sets the timestamp.
    pub fn at(mut self, timestamp_ms: u64) -> Self {
        self.timestamp_ms = Some(timestamp_ms);
        self
    }
}

/// A stored history event, keyed by (execution, `event_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// The event id, from 1, without gaps within an execution.
    pub event_id: u64,
    /// The event type.
    pub event_type: EventType,
    /// The event time.
    pub timestamp_ms: u64,
    /// The operation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The parent operation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The operation name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The operation sub-type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// The per-type details as given.
    #[serde(default)]
    pub details: serde_json::Value,
}

/// A timer to set in an execution's slot (kind, operation id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerSpec {
    /// What the timer is for.
    pub kind: TimerKind,
    /// The operation, if the timer belongs to one.
    pub op_id: Option<String>,
    /// When it is due.
    pub due_ms: u64,
}

/// A timer slot to clear: (kind, operation id) of one execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerRef {
    /// What the timer is for.
    pub kind: TimerKind,
    /// The operation, if the timer belongs to one.
    pub op_id: Option<String>,
}

/// A stored timer, as returned by [`super::Journal::due_timers`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    /// When it is due.
    pub due_ms: u64,
    /// Its unique sequence number (ties within one `due_ms` fire in this order).
    pub seq: u64,
    /// The execution.
    pub arn: String,
    /// What it is for.
    pub kind: TimerKind,
    /// The operation, if any.
    pub op_id: Option<String>,
}

impl Timer {
    /// The slot of this timer, to clear it in a [`Batch`].
    pub fn slot(&self) -> TimerRef {
        TimerRef {
            kind: self.kind,
            op_id: self.op_id.clone(),
        }
    }
}

/// A callback id to register for an operation of the batch's execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackRegistration {
    /// The callback id.
    pub callback_id: String,
    /// The CALLBACK operation it completes.
    pub op_id: String,
}

/// Where a callback id leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackRef {
    /// The execution.
    pub arn: String,
    /// The CALLBACK operation.
    pub op_id: String,
}

/// Changes to an execution's own fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionUpdate {
    /// A new status. Setting a terminal status also removes every timer of
    /// the execution, takes it off the running set and sets `end_ms` (to
    /// the commit time unless given).
    pub status: Option<ExecutionStatus>,
    /// The result (JSON text).
    pub result: Option<String>,
    /// The error.
    pub error: Option<ErrorObject>,
    /// The end time.
    pub end_ms: Option<u64>,
    /// A new value of the invocation-in-progress flag.
    pub invocation_in_progress: Option<bool>,
    /// Added to the execution's metering counters.
    pub metering: Metering,
    /// A new count of consecutive crashed invocations (see [`Execution::crashes`]).
    #[serde(default)]
    pub crashes: Option<u32>,
    /// Moves the execution to other code (sha256 of the component): a
    /// deployment's replay check found it compatible.
    #[serde(default)]
    pub code_sha256: Option<String>,
}

/// One atomic set of updates to one execution, for [`super::Journal::apply`].
///
/// Applied in this order: operation upserts, events, execution fields,
/// timers cleared, timers set, callbacks removed, callbacks added.
/// Either all of it is stored, or (on an error) none of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Operations to insert or replace whole (their `seq` is kept by the journal).
    pub operations: Vec<Operation>,
    /// Events to append; ids are assigned in order after the last event.
    pub events: Vec<NewEvent>,
    /// Changes to the execution's fields.
    pub execution: ExecutionUpdate,
    /// Timer slots to clear (clearing an empty slot is not an error).
    pub clear_timers: Vec<TimerRef>,
    /// Timers to set (a slot that holds a timer is moved to the new time).
    pub set_timers: Vec<TimerSpec>,
    /// Callback ids to unregister.
    pub remove_callbacks: Vec<String>,
    /// Callback ids to register.
    pub add_callbacks: Vec<CallbackRegistration>,
    /// Accept the batch even if the execution has ended; it may then append
    /// events, upsert operations, update metering and the invocation flag,
    /// and clear timers, but not change the status or set timers or add
    /// callbacks. For the bookkeeping of an invocation that was running when
    /// the execution was stopped. Without it, a batch on an ended execution is
    /// [`super::JournalError::ExecutionEnded`].
    pub allow_after_end: bool,
    /// Optimistic concurrency: apply only if the execution is still in the
    /// expected state, else [`super::JournalError::Conflict`] and nothing is
    /// written. `None` applies unconditionally.
    pub expect: Option<Expect>,
    /// Fencing: the owner (host id) that must hold the execution's lease. A
    /// journal shared by several hosts rejects the batch with
    /// [`super::JournalError::LeaseLost`] when another owner holds it (the
    /// lease was taken over); `None`, and journals of one process, do not check.
    pub fence: Option<String>,
}

/// The state a [`Batch`] expects its execution to be in (see
/// [`super::Journal::apply_expecting`]): its version is its last event id,
/// which every batch that appends an event advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    /// The execution's last event id as the caller last read it.
    pub last_event_id: u64,
}

impl Batch {
    /// Whether the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
            && self.events.is_empty()
            && self.execution == ExecutionUpdate::default()
            && self.clear_timers.is_empty()
            && self.set_timers.is_empty()
            && self.remove_callbacks.is_empty()
            && self.add_callbacks.is_empty()
    }
}

/// A new execution for [`super::Journal::create_execution`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewExecution {
    /// Its ARN (see [`execution_arn`]).
    pub arn: String,
    /// The durable function.
    pub function: String,
    /// The unique name for idempotency, if any.
    pub name: Option<String>,
    /// The input (JSON text).
    pub input: String,
    /// When it starts.
    pub start_ms: u64,
    /// When its execution timeout passes; an `execution_timeout` timer is set for it.
    pub deadline_ms: Option<u64>,
    /// Whether the first invocation starts right away (see [`Execution::invocation_in_progress`]).
    pub invocation_in_progress: bool,
    /// Initial operations (e.g. the EXECUTION operation).
    pub operations: Vec<Operation>,
    /// Initial history events (e.g. ExecutionStarted); ids from 1.
    pub events: Vec<NewEvent>,
    /// The sha256 (hex) of the component it starts with.
    pub code_sha256: Option<String>,
}

/// The result of [`super::Journal::create_execution`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// The execution was created.
    Created(Execution),
    /// An execution with the same function, name and input exists; nothing was written.
    Existing(Execution),
    /// An execution with the same function and name but another input exists;
    /// nothing was written.
    NameConflict(Execution),
}

/// What [`super::Journal::load_state`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionState {
    /// The execution.
    pub execution: Execution,
    /// Its input (JSON text).
    pub input: String,
    /// Its operations, in the order they were first recorded (`seq`).
    pub operations: Vec<Operation>,
}

/// A position in a listing: the key of the last execution returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCursor {
    /// Its function.
    pub function: String,
    /// Its start time.
    pub start_ms: u64,
    /// Its ARN.
    pub arn: String,
}

/// A query for [`super::Journal::list_executions`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Only executions of this function.
    pub function: Option<String>,
    /// Only executions with one of these statuses (empty: any).
    pub statuses: Vec<ExecutionStatus>,
    /// Only executions started at or after this time.
    pub started_after_ms: Option<u64>,
    /// Only executions started before this time.
    pub started_before_ms: Option<u64>,
    /// Newest first (within a function) instead of oldest first.
    pub reverse: bool,
    /// The page size; 0 returns an empty page.
    pub limit: usize,
    /// Continue after this position (the previous page's `next`).
    pub after: Option<ListCursor>,
}

/// A page of executions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionPage {
    /// The executions.
    pub executions: Vec<Execution>,
    /// Where the next page starts, if more executions match.
    pub next: Option<ListCursor>,
}

/// Counters of the write path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalStats {
    /// Write transactions run (one per group; a failed commit counts too).
    pub commits: u64,
    /// Write requests answered (creates and batches, accepted or rejected).
    pub requests: u64,
    /// The most requests committed in one transaction.
    pub largest_group: u64,
    /// Total time spent committing (fsync included), in µs.
    pub commit_us: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(json: &str) -> Operation {
        match serde_json::from_str(json) {
            Ok(op) => op,
            Err(e) => panic!("{json}: {e}"),
        }
    }

    #[test]
    fn replay_children_comes_from_the_context_details_or_an_old_rows_empty_result() {
        // Written before `context` was recorded: the empty result was the flag.
        let old =
            row(r#"{"id":"1","type":"CONTEXT","status":"SUCCEEDED","start_ms":1,"result":""}"#);
        assert!(old.replays_children());
        let old_json =
            row(r#"{"id":"1","type":"CONTEXT","status":"SUCCEEDED","start_ms":1,"result":"7"}"#);
        assert!(!old_json.replays_children());
        // Recorded: an empty result (a custom serializer's) is a result.
        let empty = row(
            r#"{"id":"1","type":"CONTEXT","status":"SUCCEEDED","start_ms":1,"result":"","context":{"replay_children":false}}"#,
        );
        assert!(!empty.replays_children());
        let flagged = row(
            r#"{"id":"1","type":"CONTEXT","status":"SUCCEEDED","start_ms":1,"result":"","context":{"replay_children":true}}"#,
        );
        assert!(flagged.replays_children());
        let step = row(r#"{"id":"1","type":"STEP","status":"SUCCEEDED","start_ms":1,"result":""}"#);
        assert!(!step.replays_children());
    }
}
