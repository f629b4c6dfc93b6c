//! Callbacks: an external system completes the operation by its callback
//! id, with a result or a failure.

use std::rc::Rc;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::durable::state::Execution;
use crate::durable::step::recorded_error;
use crate::durable::wait::whole_seconds;
use crate::durable::{DurableContext, DurableError, ErrorObject, Serdes};
use crate::durable_bindings::lamina::durable::types::{
    ErrorObject as WitErrorObject, JournalError, OperationStatus, OperationType,
};

/// Sub-type of callbacks.
pub(crate) const SUB_TYPE_CALLBACK: &str = "Callback";

/// Error type of a timed-out callback whose journal entry names none.
pub const CALLBACK_TIMEOUT: &str = "CallbackTimeoutError";

/// Timeouts of a callback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallbackConfig {
    /// The callback times out if not completed within this (whole seconds,
    /// rounded up; `None`: never).
    pub timeout: Option<Duration>,
    /// The callback times out if no heartbeat or completion arrives within
    /// this (`None`: no heartbeat needed).
    pub heartbeat_timeout: Option<Duration>,
}

impl CallbackConfig {
    /// No timeouts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Times the callback out if not completed within `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Times the callback out if no heartbeat or completion arrives within
    /// `timeout`.
    pub fn with_heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = Some(timeout);
        self
    }
}

/// Where a callback stood when the invocation loaded the journal.
enum CallbackState {
    Waiting,
    Succeeded(String),
    Failed(ErrorObject),
    TimedOut(ErrorObject),
}

/// A created callback: hand [`Callback::callback_id`] to the system that
/// will complete it, then ask for [`Callback::result`].
pub struct Callback {
    exec: Rc<Execution>,
    callback_id: String,
    state: CallbackState,
}

impl Callback {
    /// The id an external system completes the callback with.
    pub fn callback_id(&self) -> &str {
        &self.callback_id
    }

    /// The callback's result parsed from JSON.
    ///
    /// Suspends the execution while the callback is not completed (the
    /// host re-invokes the handler when it is); returns
    /// [`DurableError::CallbackFailed`] or [`DurableError::CallbackTimedOut`]
    /// if it failed or timed out.
    pub fn result<T: DeserializeOwned>(&self) -> Result<T, DurableError> {
        let json = self.result_raw()?;
        serde_json::from_str(&json).map_err(|err| {
            DurableError::Serialization(format!("callback result could not be parsed: {err}"))
        })
    }

    /// The callback's result read with `serdes` from the text it was
    /// completed with, instead of as JSON (see [`Callback::result`]).
    pub fn result_with_serdes<T>(&self, serdes: &dyn Serdes<T>) -> Result<T, DurableError> {
        let text = self.result_raw()?;
        serdes.deserialize(&text).map_err(|err| {
            DurableError::Serialization(format!("callback result could not be parsed: {err}"))
        })
    }

    /// The callback's result as the JSON text it was completed with (see
    /// [`Callback::result`]).
    pub fn result_raw(&self) -> Result<String, DurableError> {
        self.exec.check()?;
        match &self.state {
            CallbackState::Waiting => Err(self.exec.suspend()),
            CallbackState::Succeeded(json) => Ok(json.clone()),
            CallbackState::Failed(err) => Err(DurableError::CallbackFailed(err.clone())),
            CallbackState::TimedOut(err) => Err(DurableError::CallbackTimedOut(err.clone())),
        }
    }
}

impl DurableContext {
    /// Creates a callback (or, on replay, finds the one created before).
    ///
    /// Creating it does not suspend: the code can pass the id on (in a
    /// step) and do other work before waiting for [`Callback::result`].
    pub fn create_callback(
        &self,
        name: Option<&str>,
        config: CallbackConfig,
    ) -> Result<Callback, DurableError> {
        let exec = self.exec();
        exec.check()?;
        let timeout = optional_seconds(config.timeout, "callback timeout")?;
        let heartbeat = optional_seconds(config.heartbeat_timeout, "callback heartbeat timeout")?;
        let op = self.next_op(name, SUB_TYPE_CALLBACK);
        let Some(recorded) = exec.lookup(&op, OperationType::Callback)? else {
            let callback_id = exec
                .journal()
                .callback_started(&op, timeout, heartbeat)
                .map_err(|err| exec.journal_failed(err))?;
            return Ok(Callback {
                exec: Rc::clone(exec),
                callback_id,
                state: CallbackState::Waiting,
            });
        };
        let Some(callback_id) = recorded.callback_id.clone() else {
            let message = format!("callback operation {} has no callback id", op.id);
            return Err(exec.journal_failed(JournalError::Invalid(message)));
        };
        let state = match recorded.status {
            OperationStatus::Started | OperationStatus::Pending | OperationStatus::Ready => {
                CallbackState::Waiting
            }
            OperationStatus::Succeeded => {
                CallbackState::Succeeded(recorded.result.unwrap_or_else(|| "null".to_owned()))
            }
            OperationStatus::TimedOut => CallbackState::TimedOut(timeout_error(recorded.error)),
            OperationStatus::Failed | OperationStatus::Cancelled | OperationStatus::Stopped => {
                CallbackState::Failed(recorded_error(recorded))
            }
        };
        Ok(Callback {
            exec: Rc::clone(exec),
            callback_id,
            state,
        })
    }
}

/// The error of a timed-out callback: the journal's if it names a type.
fn timeout_error(error: Option<WitErrorObject>) -> ErrorObject {
    match error.map(ErrorObject::from) {
        Some(err) if err.error_type().is_some() => err,
        _ => ErrorObject::new(CALLBACK_TIMEOUT, "the callback timed out"),
    }
}

/// A timeout in whole seconds for the journal (`0`: none).
fn optional_seconds(duration: Option<Duration>, what: &str) -> Result<u64, DurableError> {
    duration.map_or(Ok(0), |d| whole_seconds(d, what))
}
