//! Errors of durable operations: the journaled [`ErrorObject`] and the
//! [`DurableError`] every operation returns.

use std::fmt;

use crate::FunctionError;

/// Error type of a step error made from a plain string.
pub(crate) const STEP_ERROR: &str = "StepError";

/// An error as the journal records it (AWS `ErrorObject`): a
/// machine-readable type, a message, optional data and a stack trace.
///
/// Step bodies return errors that convert into it: strings become
/// `StepError`s, I/O and JSON errors get their own types, and
/// [`ErrorObject::new`] picks any type.
///
/// ```
/// use lamina_sdk::durable::ErrorObject;
///
/// let err = ErrorObject::new("TransientError", "try again");
/// assert_eq!(err.error_type(), Some("TransientError"));
/// assert_eq!(ErrorObject::from("boom").error_type(), Some("StepError"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorObject {
    error_type: Option<String>,
    error_message: Option<String>,
    error_data: Option<String>,
    stack_trace: Vec<String>,
}

impl ErrorObject {
    /// Creates an error with a type and a message.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error_type: Some(error_type.into()),
            error_message: Some(message.into()),
            error_data: None,
            stack_trace: Vec::new(),
        }
    }

    /// Adds extra data (JSON text by convention).
    pub fn with_data(mut self, data: impl Into<String>) -> Self {
        self.error_data = Some(data.into());
        self
    }

    /// Adds stack trace lines.
    pub fn with_stack_trace(mut self, lines: Vec<String>) -> Self {
        self.stack_trace = lines;
        self
    }

    /// The machine-readable type, if any.
    pub fn error_type(&self) -> Option<&str> {
        self.error_type.as_deref()
    }

    /// The human-readable message, if any.
    pub fn message(&self) -> Option<&str> {
        self.error_message.as_deref()
    }

    /// The extra data, if any.
    pub fn data(&self) -> Option<&str> {
        self.error_data.as_deref()
    }

    /// The stack trace lines.
    pub fn stack_trace(&self) -> &[String] {
        &self.stack_trace
    }

    /// Whether the error has exactly this type.
    pub fn is_type(&self, error_type: &str) -> bool {
        self.error_type.as_deref() == Some(error_type)
    }

    /// Builds an error from the parts the journal stores.
    pub(crate) fn from_parts(
        error_type: Option<String>,
        error_message: Option<String>,
        error_data: Option<String>,
        stack_trace: Vec<String>,
    ) -> Self {
        Self {
            error_type,
            error_message,
            error_data,
            stack_trace,
        }
    }

    /// Splits the error into the parts the journal stores.
    pub(crate) fn into_parts(
        self,
    ) -> (Option<String>, Option<String>, Option<String>, Vec<String>) {
        (
            self.error_type,
            self.error_message,
            self.error_data,
            self.stack_trace,
        )
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error_type = self.error_type.as_deref().unwrap_or("Error");
        match &self.error_message {
            Some(message) => write!(f, "{error_type}: {message}"),
            None => f.write_str(error_type),
        }
    }
}

impl std::error::Error for ErrorObject {}

impl From<&str> for ErrorObject {
    fn from(message: &str) -> Self {
        Self::new(STEP_ERROR, message)
    }
}

impl From<String> for ErrorObject {
    fn from(message: String) -> Self {
        Self::new(STEP_ERROR, message)
    }
}

impl From<std::io::Error> for ErrorObject {
    fn from(err: std::io::Error) -> Self {
        Self::new("IoError", err.to_string())
    }
}

impl From<serde_json::Error> for ErrorObject {
    fn from(err: serde_json::Error) -> Self {
        Self::new("SerializationError", err.to_string())
    }
}

impl From<FunctionError> for ErrorObject {
    fn from(err: FunctionError) -> Self {
        Self::new(err.error_type(), err.message())
    }
}

impl From<DurableError> for ErrorObject {
    fn from(err: DurableError) -> Self {
        err.error_object()
    }
}

/// What a step body, a `wait_for_condition` check or a `wait_for_callback`
/// submitter returns when it has no error type of its own: any error that
/// converts into an [`ErrorObject`] passes through `?`.
///
/// Those closures take any `Result<T, E>` with `E: Into<ErrorObject>`, so a
/// body that never fails leaves `E` open (`ctx.step(|_| Ok(1))` does not
/// compile); [`ok`] or a `-> StepResult<_>` annotation fixes it.
///
/// ```
/// use lamina_sdk::durable::{StepResult, ok};
///
/// fn parse(text: &str) -> StepResult<u32> {
///     let n: u32 = serde_json::from_str(text)?;
///     ok(n + 1)
/// }
/// # assert_eq!(parse("1").ok(), Some(2));
/// ```
pub type StepResult<T> = Result<T, ErrorObject>;

/// `Ok(value)` as a [`StepResult`]: a body that cannot fail needs no error
/// type (`ctx.step(|_| ok(42))`).
pub fn ok<T>(value: T) -> StepResult<T> {
    Ok(value)
}

/// Why a durable operation (or a durable handler) did not produce a value.
///
/// Handlers return it with `?`: the SDK turns [`DurableError::Suspended`]
/// into a suspension, [`DurableError::NonDeterministic`] into a failed
/// execution of type `NonDeterministicExecution`, and any other error into
/// a failed execution carrying [`DurableError::error_object`].
///
/// Catching an error is fine (a failed step may be answered with a
/// fallback), but suspension and non-determinism cannot be swallowed: once
/// either happened, every later operation returns the same error and the
/// invocation ends that way whatever the handler returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DurableError {
    /// The execution waits (a timer, a retry, a callback): the invocation
    /// ends and the host re-invokes the handler later.
    Suspended,
    /// The code and the journal disagree about an operation; the message
    /// names the operation id and both sides.
    NonDeterministic(String),
    /// A step failed for good (retries exhausted or not retryable).
    StepFailed(ErrorObject),
    /// A callback was completed with a failure.
    CallbackFailed(ErrorObject),
    /// A callback timed out (its timeout or its heartbeat timeout).
    CallbackTimedOut(ErrorObject),
    /// A child context failed (also: a parallel branch or map item, from
    /// [`BatchResult::throw_if_error`](crate::durable::BatchResult::throw_if_error)).
    ChildContextFailed(ErrorObject),
    /// A `wait_for_condition` check (or its wait strategy) failed.
    WaitForConditionFailed(ErrorObject),
    /// A chained invoke's target failed, timed out or was stopped.
    InvokeFailed(ErrorObject),
    /// Another operation (e.g. a cancelled wait) ended without success.
    OperationFailed(ErrorObject),
    /// The host ended the execution (stopped or timed out).
    ExecutionEnded(String),
    /// The journal refused or could not store an update.
    Journal(String),
    /// A value could not be converted to or from JSON.
    Serialization(String),
    /// An operation was called with an invalid argument, or where it may
    /// not run (inside a step).
    InvalidArgument(String),
    /// An error of the user's code.
    Failed(ErrorObject),
}

impl DurableError {
    /// A user error with a type and a message.
    pub fn failed(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Failed(ErrorObject::new(error_type, message))
    }

    /// Whether this is the suspension signal.
    pub fn is_suspended(&self) -> bool {
        matches!(self, Self::Suspended)
    }

    /// Whether this error ends the invocation whatever user code does with
    /// it (suspension, non-determinism, journal trouble).
    pub(crate) fn is_control(&self) -> bool {
        matches!(
            self,
            Self::Suspended
                | Self::NonDeterministic(_)
                | Self::ExecutionEnded(_)
                | Self::Journal(_)
        )
    }

    /// The error as the journal records it.
    pub fn error_object(&self) -> ErrorObject {
        match self {
            Self::Suspended => ErrorObject::new("Suspended", "the execution is suspended"),
            Self::NonDeterministic(message) => {
                ErrorObject::new("NonDeterministicExecution", message.clone())
            }
            Self::StepFailed(err)
            | Self::CallbackFailed(err)
            | Self::CallbackTimedOut(err)
            | Self::ChildContextFailed(err)
            | Self::WaitForConditionFailed(err)
            | Self::InvokeFailed(err)
            | Self::OperationFailed(err)
            | Self::Failed(err) => err.clone(),
            Self::ExecutionEnded(message) => ErrorObject::new("ExecutionEnded", message.clone()),
            Self::Journal(message) => ErrorObject::new("JournalError", message.clone()),
            Self::Serialization(message) => ErrorObject::new("SerializationError", message.clone()),
            Self::InvalidArgument(message) => ErrorObject::new("InvalidArgument", message.clone()),
        }
    }
}

impl fmt::Display for DurableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Suspended => f.write_str("the execution is suspended"),
            Self::NonDeterministic(message) => write!(f, "non-deterministic execution: {message}"),
            Self::StepFailed(err) => write!(f, "step failed: {err}"),
            Self::CallbackFailed(err) => write!(f, "callback failed: {err}"),
            Self::CallbackTimedOut(err) => write!(f, "callback timed out: {err}"),
            Self::ChildContextFailed(err) => write!(f, "child context failed: {err}"),
            Self::WaitForConditionFailed(err) => write!(f, "wait for condition failed: {err}"),
            Self::InvokeFailed(err) => write!(f, "chained invoke failed: {err}"),
            Self::OperationFailed(err) => write!(f, "operation failed: {err}"),
            Self::ExecutionEnded(message) => write!(f, "execution ended: {message}"),
            Self::Journal(message) => write!(f, "journal error: {message}"),
            Self::Serialization(message) => write!(f, "serialization error: {message}"),
            Self::InvalidArgument(message) => write!(f, "invalid argument: {message}"),
            Self::Failed(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for DurableError {}

impl From<ErrorObject> for DurableError {
    fn from(err: ErrorObject) -> Self {
        Self::Failed(err)
    }
}

impl From<FunctionError> for DurableError {
    fn from(err: FunctionError) -> Self {
        Self::Failed(err.into())
    }
}

impl From<serde_json::Error> for DurableError {
    fn from(err: serde_json::Error) -> Self {
        Self::Serialization(err.to_string())
    }
}
