//! Conversions between the journal's types and the WIT bindings' types.

use super::wit;
use crate::journal::{ErrorObject, JournalError, Operation, OperationStatus, OperationType};

pub(super) fn journal_error(e: JournalError) -> wit::JournalError {
    match e {
        JournalError::ExecutionEnded { .. } | JournalError::ExecutionNotFound { .. } => {
            wit::JournalError::ExecutionEnded(e.to_string())
        }
        JournalError::Invalid(m) => wit::JournalError::Invalid(m),
        other => wit::JournalError::Storage(other.to_string()),
    }
}

/// The error object of the journal from the WIT one.
pub fn error_from_wit(e: wit::ErrorObject) -> ErrorObject {
    ErrorObject {
        error_type: e.error_type,
        error_message: e.error_message,
        error_data: e.error_data,
        stack_trace: if e.stack_trace.is_empty() {
            None
        } else {
            Some(e.stack_trace)
        },
    }
}

fn error_to_wit(e: &ErrorObject) -> wit::ErrorObject {
    wit::ErrorObject {
        error_type: e.error_type.clone(),
        error_message: e.error_message.clone(),
        error_data: e.error_data.clone(),
        stack_trace: e.stack_trace.clone().unwrap_or_default(),
    }
}

fn op_type_to_wit(t: OperationType) -> wit::OperationType {
    match t {
        OperationType::Execution => wit::OperationType::Execution,
        OperationType::Context => wit::OperationType::Context,
        OperationType::Step => wit::OperationType::Step,
        OperationType::Wait => wit::OperationType::Wait,
        OperationType::Callback => wit::OperationType::Callback,
        OperationType::ChainedInvoke => wit::OperationType::ChainedInvoke,
    }
}

fn status_to_wit(s: OperationStatus) -> wit::OperationStatus {
    match s {
        OperationStatus::Started => wit::OperationStatus::Started,
        OperationStatus::Pending => wit::OperationStatus::Pending,
        OperationStatus::Ready => wit::OperationStatus::Ready,
        OperationStatus::Succeeded => wit::OperationStatus::Succeeded,
        OperationStatus::Failed => wit::OperationStatus::Failed,
        OperationStatus::Cancelled => wit::OperationStatus::Cancelled,
        OperationStatus::TimedOut => wit::OperationStatus::TimedOut,
        OperationStatus::Stopped => wit::OperationStatus::Stopped,
    }
}

/// The WIT view of a journal operation.
pub fn op_to_wit(op: &Operation) -> wit::Operation {
    wit::Operation {
        id: op.id.clone(),
        parent_id: op.parent_id.clone(),
        name: op.name.clone(),
        op_type: op_type_to_wit(op.op_type),
        sub_type: op.sub_type.clone(),
        status: status_to_wit(op.status),
        result: op.result.clone(),
        error: op.error.as_ref().map(error_to_wit),
        attempt: op.step.as_ref().map_or(0, |s| s.attempt),
        next_attempt_ms: op.step.as_ref().and_then(|s| s.next_attempt_ms),
        callback_id: op.callback.as_ref().map(|c| c.callback_id.clone()),
        wait_end_ms: op.wait.as_ref().map(|w| w.scheduled_end_ms),
        replay_children: op.replays_children(),
    }
}

impl From<wit::OpRef> for super::model::OpRef {
    fn from(op: wit::OpRef) -> Self {
        super::model::OpRef {
            id: op.id,
            parent_id: op.parent_id,
            name: op.name,
            sub_type: op.sub_type,
        }
    }
}
