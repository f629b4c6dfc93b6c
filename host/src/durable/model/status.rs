//! The one classifier of operation and execution states: what has ended,
//! what waits for the host.

use crate::journal::{ExecutionStatus, Operation, OperationStatus, OperationType};

/// Whether an operation in `status` has completed (nothing can change it).
pub fn is_completed(status: OperationStatus) -> bool {
    matches!(
        status,
        OperationStatus::Succeeded
            | OperationStatus::Failed
            | OperationStatus::Cancelled
            | OperationStatus::TimedOut
            | OperationStatus::Stopped
    )
}

/// Whether an execution in `status` has ended.
pub fn has_ended(status: ExecutionStatus) -> bool {
    status.is_terminal()
}

/// Whether `op` waits for something the host will complete (a wait's end,
/// a callback, a step retry, a chained invoke's target).
pub fn is_waiting(op: &Operation) -> bool {
    match op.op_type {
        OperationType::Wait | OperationType::Callback | OperationType::ChainedInvoke => {
            op.status == OperationStatus::Started
        }
        OperationType::Step => {
            matches!(op.status, OperationStatus::Pending | OperationStatus::Ready)
        }
        OperationType::Execution | OperationType::Context => false,
    }
}

/// The status of the EXECUTION operation of an execution in `status`.
pub fn execution_op_status(status: ExecutionStatus) -> OperationStatus {
    match status {
        ExecutionStatus::Running => OperationStatus::Started,
        ExecutionStatus::Succeeded => OperationStatus::Succeeded,
        ExecutionStatus::Failed => OperationStatus::Failed,
        ExecutionStatus::TimedOut => OperationStatus::TimedOut,
        ExecutionStatus::Stopped => OperationStatus::Stopped,
    }
}
