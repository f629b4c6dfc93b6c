//! The error types the host writes (into journals and history events, and
//! for chained invokes and crashes): one enum, one wire-name table, so that
//! no spelling is written twice.

use crate::error::InvokeError;
use crate::journal::ErrorObject;

/// An error type the host (or, for [`ErrorType::StepInterrupted`], the SDK)
/// writes into an `ErrorObject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// The execution timeout passed.
    ExecutionTimedOut,
    /// The execution was stopped through the API.
    ExecutionStopped,
    /// A child execution stopped because its parent was.
    ParentStopped,
    /// The handler returned `pending` with nothing that could resume it.
    SuspendedWithoutWait,
    /// A callback's overall timeout passed.
    CallbackTimeout,
    /// A callback's heartbeat timeout passed.
    CallbackHeartbeat,
    /// A chained invoke could not start or follow its child execution.
    ChainedInvokeError,
    /// A chained invoke's target does not exist.
    ResourceNotFound,
    /// A chained invoke's target cannot be invoked.
    InvalidParameterValue,
    /// A step attempt was interrupted (written by the SDK on replay).
    StepInterrupted,
    /// The guest trapped (or gave no response).
    RuntimeTrap,
    /// The guest called `exit`.
    RuntimeExit,
    /// The invocation ran past its timeout.
    SandboxTimedOut,
    /// The guest ran out of memory.
    RuntimeOutOfMemory,
    /// The environment was recycled under the invocation.
    RuntimeEnvironmentRecycled,
    /// The environment's initialisation failed.
    RuntimeInit,
    /// No instance could be created.
    RuntimeInstantiate,
    /// Any other failure of the runtime.
    Runtime,
}

/// The wire name of every [`ErrorType`].
const WIRE_NAMES: &[(ErrorType, &str)] = &[
    (ErrorType::ExecutionTimedOut, "ExecutionTimedOut"),
    (ErrorType::ExecutionStopped, "ExecutionStopped"),
    (ErrorType::ParentStopped, "ParentStopped"),
    (
        ErrorType::SuspendedWithoutWait,
        "Lamina.SuspendedWithoutWait",
    ),
    (ErrorType::CallbackTimeout, "Callback.Timeout"),
    (ErrorType::CallbackHeartbeat, "Callback.Heartbeat"),
    (ErrorType::ChainedInvokeError, "ChainedInvokeError"),
    (ErrorType::ResourceNotFound, "ResourceNotFoundException"),
    (
        ErrorType::InvalidParameterValue,
        "InvalidParameterValueException",
    ),
    (ErrorType::StepInterrupted, "StepInterruptedError"),
    (ErrorType::RuntimeTrap, "Runtime.Trap"),
    (ErrorType::RuntimeExit, "Runtime.ExitError"),
    (ErrorType::SandboxTimedOut, "Sandbox.Timedout"),
    (ErrorType::RuntimeOutOfMemory, "Runtime.OutOfMemory"),
    (
        ErrorType::RuntimeEnvironmentRecycled,
        "Runtime.EnvironmentRecycled",
    ),
    (ErrorType::RuntimeInit, "Runtime.InitError"),
    (ErrorType::RuntimeInstantiate, "Runtime.InstantiateError"),
    (ErrorType::Runtime, "Runtime.Error"),
];

impl ErrorType {
    /// Every error type.
    pub fn all() -> impl Iterator<Item = ErrorType> {
        WIRE_NAMES.iter().map(|(t, _)| *t)
    }

    /// The wire name (the `ErrorType` field of an `ErrorObject`).
    pub fn as_str(self) -> &'static str {
        WIRE_NAMES
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("Runtime.Error", |(_, name)| name)
    }

    /// The error type with this wire name, if the host writes it.
    pub fn from_wire(name: &str) -> Option<ErrorType> {
        WIRE_NAMES.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }

    /// Lambda's error type for a failed invocation (`Runtime.Trap`,
    /// `Sandbox.Timedout`, ...).
    pub fn of_invoke_error(e: &InvokeError) -> ErrorType {
        match e {
            InvokeError::Trap { .. } | InvokeError::NoResponse { .. } => ErrorType::RuntimeTrap,
            InvokeError::Exited { .. } => ErrorType::RuntimeExit,
            InvokeError::Timeout { .. } => ErrorType::SandboxTimedOut,
            InvokeError::MemoryLimit { .. } => ErrorType::RuntimeOutOfMemory,
            InvokeError::EnvironmentRecycled { .. } => ErrorType::RuntimeEnvironmentRecycled,
            InvokeError::InitFailed { .. } => ErrorType::RuntimeInit,
            InvokeError::Instantiate { .. } => ErrorType::RuntimeInstantiate,
            _ => ErrorType::Runtime,
        }
    }

    /// An error object of this type with `message`.
    pub fn error(self, message: impl Into<String>) -> ErrorObject {
        ErrorObject {
            error_type: Some(self.as_str().to_owned()),
            error_message: Some(message.into()),
            ..ErrorObject::default()
        }
    }
}

impl std::fmt::Display for ErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
