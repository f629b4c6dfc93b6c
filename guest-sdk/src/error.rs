//! The error a function returns to its caller.

use std::fmt;

use crate::bindings::lamina::function::types::FunctionError as WitFunctionError;

/// An error a function chose to return, as opposed to a trap.
///
/// The host reports it to the caller as a typed error: a short,
/// machine-readable `error_type` (for example `ValidationError`) and a
/// human-readable message.
///
/// ```
/// use lamina_sdk::FunctionError;
///
/// let err = FunctionError::new("ValidationError", "name must not be empty");
/// assert_eq!(err.error_type(), "ValidationError");
/// assert_eq!(err.message(), "name must not be empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    error_type: String,
    message: String,
}

impl FunctionError {
    /// Creates an error with a machine-readable type and a human-readable
    /// message.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.into(),
            message: message.into(),
        }
    }

    /// The short, machine-readable error type.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The human-readable explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for FunctionError {}

impl From<FunctionError> for WitFunctionError {
    fn from(err: FunctionError) -> Self {
        WitFunctionError {
            error_type: err.error_type,
            error_message: err.message,
        }
    }
}
