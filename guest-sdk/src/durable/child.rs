//! Child contexts (a group of operations journaled as one result) and
//! `wait_for_callback`, which is built on one.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::durable::context::operation_id;
use crate::durable::state::Execution;
use crate::durable::step::{decode, recorded_error};
use crate::durable::{
    CallbackConfig, DurableContext, DurableError, ErrorObject, RetryStrategy, Serdes, StepConfig,
    StepContext,
};
use crate::durable_bindings::lamina::durable::types::{OpRef, OperationStatus, OperationType};

/// Sub-type of child contexts run by [`DurableContext::run_in_child_context`].
pub(crate) const SUB_TYPE_CHILD: &str = "RunInChildContext";

/// Sub-type of the context of [`DurableContext::wait_for_callback`].
pub(crate) const SUB_TYPE_WAIT_FOR_CALLBACK: &str = "WaitForCallback";

/// The largest child-context result journaled as is (the host's payload
/// limit). A larger one is journaled empty and rebuilt on replay by running
/// the context's body again over its journaled children (AWS
/// "ReplayChildren").
pub const MAX_RESULT_BYTES: usize = 256 * 1024;

/// Settings of [`DurableContext::wait_for_callback`].
#[derive(Debug, Clone, Default)]
pub struct WaitForCallbackConfig {
    /// The callback times out if not completed within this (`None`: never).
    pub timeout: Option<Duration>,
    /// The callback times out if no heartbeat or completion arrives within
    /// this (`None`: no heartbeat needed).
    pub heartbeat_timeout: Option<Duration>,
    /// Retry strategy of the step that runs the submitter.
    pub retry_strategy: RetryStrategy,
}

impl WaitForCallbackConfig {
    /// No timeouts, the default retry strategy.
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

    /// Sets the retry strategy of the submitter's step.
    pub fn with_retry_strategy(mut self, retry_strategy: RetryStrategy) -> Self {
        self.retry_strategy = retry_strategy;
        self
    }
}

impl DurableContext {
    /// Runs `body` as a child context: its operations get ids below this
    /// operation's (`"{id}-1"`, …) and its result is journaled as one, so
    /// once it succeeded or failed, replays return that without running
    /// `body` again.
    ///
    /// An error `body` returns fails the context (journaled) and comes back
    /// as [`DurableError::ChildContextFailed`]; suspension passes through.
    /// A result over [`MAX_RESULT_BYTES`] of JSON is not journaled: replays
    /// run `body` again, its operations returning their journaled results.
    pub fn run_in_child_context<T, F>(&self, name: Option<&str>, body: F) -> Result<T, DurableError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(&DurableContext) -> Result<T, DurableError>,
    {
        let json = self.run_child(
            name,
            SUB_TYPE_CHILD,
            |child| {
                let value = body(child)?;
                serde_json::to_string(&value).map_err(DurableError::from)
            },
            DurableError::ChildContextFailed,
        )?;
        decode(Some(&json))
    }

    /// Like [`DurableContext::run_in_child_context`], but `body`'s result
    /// is journaled verbatim rather than as JSON (a custom serialization),
    /// and returned as journaled on replay (an empty result too). A result
    /// over [`MAX_RESULT_BYTES`] is journaled as empty with the
    /// `replay-children` flag: replays rebuild it by running `body` again.
    pub fn run_in_child_context_raw<F>(
        &self,
        name: Option<&str>,
        body: F,
    ) -> Result<String, DurableError>
    where
        F: FnOnce(&DurableContext) -> Result<String, DurableError>,
    {
        self.run_child(name, SUB_TYPE_CHILD, body, DurableError::ChildContextFailed)
    }

    /// Creates a callback, runs `submitter` with its id in a step (to hand
    /// the id to the system that will complete it), then waits for the
    /// callback's result and parses it from JSON.
    ///
    /// All three run in a child context of sub-type `WaitForCallback`
    /// named `name`. A failed or timed-out callback, or a submitter that
    /// failed for good, fails the context; the call then returns
    /// [`DurableError::CallbackTimedOut`] for a timeout and
    /// [`DurableError::CallbackFailed`] otherwise, on every replay alike.
    pub fn wait_for_callback<T, E, F>(
        &self,
        name: Option<&str>,
        submitter: F,
        config: WaitForCallbackConfig,
    ) -> Result<T, DurableError>
    where
        T: DeserializeOwned,
        E: Into<ErrorObject>,
        F: FnOnce(&str, &StepContext) -> Result<(), E>,
    {
        let json = self.wait_for_callback_text(name, submitter, config)?;
        serde_json::from_str(&json).map_err(|err| {
            DurableError::Serialization(format!("callback result could not be parsed: {err}"))
        })
    }

    /// Like [`DurableContext::wait_for_callback`], but the callback's
    /// result is read with `serdes` instead of as JSON.
    pub fn wait_for_callback_with_serdes<T, E, F>(
        &self,
        name: Option<&str>,
        submitter: F,
        config: WaitForCallbackConfig,
        serdes: &dyn Serdes<T>,
    ) -> Result<T, DurableError>
    where
        E: Into<ErrorObject>,
        F: FnOnce(&str, &StepContext) -> Result<(), E>,
    {
        let text = self.wait_for_callback_text(name, submitter, config)?;
        serdes.deserialize(&text).map_err(|err| {
            DurableError::Serialization(format!("callback result could not be parsed: {err}"))
        })
    }

    /// Runs a `wait_for_callback` context; returns the callback's result
    /// as the text it was completed with.
    fn wait_for_callback_text<E, F>(
        &self,
        name: Option<&str>,
        submitter: F,
        config: WaitForCallbackConfig,
    ) -> Result<String, DurableError>
    where
        E: Into<ErrorObject>,
        F: FnOnce(&str, &StepContext) -> Result<(), E>,
    {
        let WaitForCallbackConfig {
            timeout,
            heartbeat_timeout,
            retry_strategy,
        } = config;
        self.exec().check()?;
        let op = self.next_op(name, SUB_TYPE_WAIT_FOR_CALLBACK);
        // The callback is the context's first operation: its recorded
        // status tells a timeout from a failure.
        let callback_op = operation_id(Some(&op.id), 1);
        let exec = self.exec();
        self.run_context_op(
            op,
            |child| {
                let callback = child.create_callback(
                    None,
                    CallbackConfig {
                        timeout,
                        heartbeat_timeout,
                    },
                )?;
                let step_config = StepConfig::new().with_retry_strategy(retry_strategy);
                child.step_with(None, step_config, |step_ctx| {
                    submitter(callback.callback_id(), step_ctx)
                })?;
                callback.result_raw()
            },
            |error| callback_error(exec, &callback_op, error),
        )
    }

    /// Runs a child context whose result is JSON text; `failed` turns the
    /// journaled error of a failed context into the error returned.
    fn run_child<F>(
        &self,
        name: Option<&str>,
        sub_type: &str,
        body: F,
        failed: impl FnOnce(ErrorObject) -> DurableError,
    ) -> Result<String, DurableError>
    where
        F: FnOnce(&DurableContext) -> Result<String, DurableError>,
    {
        self.exec().check()?;
        let op = self.next_op(name, sub_type);
        self.run_context_op(op, body, failed)
    }

    /// Runs the child context operation `op` (of this context): returns its
    /// journaled result, or runs `body` in it and journals how it ended.
    pub(crate) fn run_context_op<F>(
        &self,
        op: OpRef,
        body: F,
        failed: impl FnOnce(ErrorObject) -> DurableError,
    ) -> Result<String, DurableError>
    where
        F: FnOnce(&DurableContext) -> Result<String, DurableError>,
    {
        let exec = self.exec();
        let mut replay_children = false;
        match exec.lookup(&op, OperationType::Context)? {
            None => exec
                .journal()
                .context_started(&op)
                .map_err(|err| exec.journal_failed(err))?,
            Some(recorded) => match recorded.status {
                OperationStatus::Succeeded if recorded.replay_children => replay_children = true,
                OperationStatus::Succeeded => {
                    return Ok(recorded.result.unwrap_or_else(|| "null".to_owned()));
                }
                OperationStatus::Failed
                | OperationStatus::Cancelled
                | OperationStatus::TimedOut
                | OperationStatus::Stopped => return Err(failed(recorded_error(recorded))),
                OperationStatus::Started | OperationStatus::Pending | OperationStatus::Ready => {}
            },
        }
        let child = self.child(op.id.clone());
        let result = body(&child);
        if let Some(halt) = exec.halted() {
            // Suspended, non-deterministic or the journal failed: the
            // context has not ended, whatever `body` made of it.
            return Err(halt);
        }
        match result {
            // Rebuilt from the replayed children: nothing to journal.
            Ok(text) if replay_children => Ok(text),
            Ok(text) => {
                // Too large to journal: record an empty result flagged
                // `replay_children`, and replays rebuild it by running `body`
                // over the journaled children.
                let too_large = text.len() > MAX_RESULT_BYTES;
                let stored = if too_large { "" } else { text.as_str() };
                exec.journal()
                    .context_succeeded(&op, stored, too_large)
                    .map_err(|err| exec.journal_failed(err))?;
                Ok(text)
            }
            Err(err) if err.is_control() => Err(err),
            Err(err) if replay_children => Err(failed(err.error_object())),
            Err(err) => {
                let error = err.error_object();
                exec.journal()
                    .context_failed(&op, &error.clone().into())
                    .map_err(|err| exec.journal_failed(err))?;
                Err(failed(error))
            }
        }
    }
}

/// The error of a failed `wait_for_callback` context: a timeout when its
/// callback operation `callback_op` is recorded as timed out (the host
/// records heartbeat timeouts so too), a failure otherwise.
fn callback_error(exec: &Execution, callback_op: &str, error: ErrorObject) -> DurableError {
    if exec.recorded_status(callback_op) == Some(OperationStatus::TimedOut) {
        DurableError::CallbackTimedOut(error)
    } else {
        DurableError::CallbackFailed(error)
    }
}
