//! The operation state machine, pure: no tokio, wasmtime, clock or `json!`.
//!
//! A guest transition ([`GuestTransition`]: what one journal import asks
//! for) or a host transition ([`HostTransition`]: a timer, a callback, a
//! chained invoke's end, an invocation's end, a stop), with the state as
//! recorded and the time, becomes a [`Plan`]: the one journal batch to
//! apply, whether the execution becomes runnable, whether it ends. The
//! callers (`imports` for the guest, the executor, scheduler and
//! completions for the host) read the state, plan, apply and act on the
//! plan; they build no batches of their own.

mod completions;
mod errors;
mod events;
mod guest;
mod host;
mod invocation;
mod rules;
mod status;
#[cfg(test)]
mod tests;
mod timers;

pub use errors::ErrorType;
pub use events::{EventDetails, Payload, RetryDetails, Timestamp};
pub use guest::{GuestTransition, MAX_PAYLOAD_BYTES, OpRef, plan_guest};
pub use host::{
    CallbackCompletion, ExecutionStart, HostTransition, InvocationEnd, InvocationOutcome,
    execution_op, plan_host, plan_start,
};
pub use status::{execution_op_status, has_ended, is_completed, is_waiting};

use crate::journal::{Batch, ExecutionStatus, Operation};
use std::time::Duration;

/// The longest wait, callback timeout or execution timeout: 366 days.
pub const MAX_DURATION_S: u64 = 366 * 24 * 3600;
/// Consecutive crashed invocations (trap, timeout, out of memory) after which
/// the execution fails with the last crash's error.
pub const MAX_CRASHES: u32 = 3;
/// The id of the EXECUTION operation every execution starts with.
pub const EXECUTION_OP_ID: &str = "0";

/// What a transition does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// The one batch to apply (empty: nothing to write).
    pub batch: Batch,
    /// The operation as it is once the batch is applied (guest transitions).
    pub operation: Option<Operation>,
    /// Whether the execution is owed an invocation now.
    pub runnable: bool,
    /// Invoke the execution again after this pause (a crash).
    pub retry_after: Option<Duration>,
    /// The status the execution ends with, if it ends.
    pub ends: Option<ExecutionStatus>,
    /// What to record instead if the execution has ended meanwhile (the
    /// bookkeeping of an invocation that ran while it was stopped).
    pub if_ended: Option<Batch>,
}

impl Plan {
    /// A plan that writes `batch` and nothing more.
    pub fn write(batch: Batch) -> Self {
        Plan {
            batch,
            ..Plan::default()
        }
    }

    /// A plan that upserts `op` with `batch`.
    fn upsert(op: Operation, mut batch: Batch) -> Self {
        batch.operations.push(op.clone());
        Plan {
            batch,
            operation: Some(op),
            ..Plan::default()
        }
    }

    /// A plan that writes nothing: `op` stays as recorded.
    fn unchanged(op: Operation) -> Self {
        Plan {
            operation: Some(op),
            ..Plan::default()
        }
    }

    /// Whether the batch sets a timer (the scheduler must look again).
    pub fn sets_timers(&self) -> bool {
        !self.batch.set_timers.is_empty()
    }
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The transition is not valid in the recorded state.
    #[error("{0}")]
    Invalid(String),
    /// What it is about is not recorded.
    #[error("{0}")]
    NotFound(String),
    /// The callback has already timed out.
    #[error("{0}")]
    CallbackTimedOut(String),
}
