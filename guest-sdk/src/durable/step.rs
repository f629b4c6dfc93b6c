//! Steps: a body whose result is journaled, so it runs once per attempt and
//! never again once it succeeded or failed for good.

use std::fmt;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::durable::logger::Logger;
use crate::durable::retry::{RetryDecision, RetryStrategy, delay_to_seconds};
use crate::durable::serdes::SharedSerdes;
use crate::durable::state::Execution;
use crate::durable::{DurableContext, DurableError, ErrorObject, Serdes};
use crate::durable_bindings::lamina::durable::types::{
    OpRef, Operation, OperationStatus, OperationType,
};

/// Sub-type of steps.
pub(crate) const SUB_TYPE_STEP: &str = "Step";

/// Error type given to the retry strategy for an at-most-once step whose
/// attempt was interrupted (found started on replay).
pub const STEP_INTERRUPTED: &str = "StepInterruptedError";

/// When a step body may run again after the process running it died.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StepSemantics {
    /// An attempt found started on replay is run again: the body runs at
    /// least once per attempt (possibly more often).
    #[default]
    AtLeastOncePerRetry,
    /// An attempt found started on replay is not run again: it counts as
    /// failed with a `StepInterruptedError`, which the retry strategy may
    /// retry. The body runs at most once per attempt.
    AtMostOncePerRetry,
}

/// How a step runs: its retry strategy and semantics.
#[derive(Debug, Clone, Default)]
pub struct StepConfig {
    /// Decides about failed attempts (default: [`RetryStrategy::default`]).
    pub retry_strategy: RetryStrategy,
    /// At-least-once (default) or at-most-once per attempt.
    pub semantics: StepSemantics,
}

impl StepConfig {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the retry strategy.
    pub fn with_retry_strategy(mut self, retry_strategy: RetryStrategy) -> Self {
        self.retry_strategy = retry_strategy;
        self
    }

    /// Sets the semantics.
    pub fn with_semantics(mut self, semantics: StepSemantics) -> Self {
        self.semantics = semantics;
        self
    }

    /// Journals the step's result with `serdes` instead of JSON. The step
    /// returns the value `serdes` reads back from the text it wrote, on the
    /// first run as on replay.
    pub fn with_serdes<T>(self, serdes: impl Serdes<T> + 'static) -> TypedStepConfig<T> {
        TypedStepConfig {
            config: self,
            serdes: Some(Rc::new(serdes)),
        }
    }
}

/// A [`StepConfig`] for steps whose result is of type `T`, with an optional
/// custom [`Serdes`] (made by [`StepConfig::with_serdes`]). Every
/// `step_with` takes either.
pub struct TypedStepConfig<T> {
    config: StepConfig,
    serdes: SharedSerdes<T>,
}

impl<T> TypedStepConfig<T> {
    /// Sets the retry strategy.
    pub fn with_retry_strategy(mut self, retry_strategy: RetryStrategy) -> Self {
        self.config.retry_strategy = retry_strategy;
        self
    }

    /// Sets the semantics.
    pub fn with_semantics(mut self, semantics: StepSemantics) -> Self {
        self.config.semantics = semantics;
        self
    }

    /// Journals the step's result with `serdes` instead of JSON.
    pub fn with_serdes(mut self, serdes: impl Serdes<T> + 'static) -> Self {
        self.serdes = Some(Rc::new(serdes));
        self
    }
}

impl<T> From<StepConfig> for TypedStepConfig<T> {
    fn from(config: StepConfig) -> Self {
        Self {
            config,
            serdes: None,
        }
    }
}

impl<T> Clone for TypedStepConfig<T> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            serdes: self.serdes.clone(),
        }
    }
}

impl<T> fmt::Debug for TypedStepConfig<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedStepConfig")
            .field("config", &self.config)
            .field("serdes", &self.serdes.is_some())
            .finish()
    }
}

/// What a step body gets: its attempt number and a logger.
pub struct StepContext {
    operation_id: String,
    attempt: u32,
    rerun: bool,
    logger: Logger,
}

impl StepContext {
    /// The context of attempt `attempt` of operation `operation_id`
    /// (`rerun`: the journal had this attempt started already).
    pub(crate) fn new(operation_id: String, attempt: u32, rerun: bool, logger: Logger) -> Self {
        Self {
            operation_id,
            attempt,
            rerun,
            logger,
        }
    }

    /// The attempt running now, 1-based.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Whether this attempt already started once and is running again
    /// because the invocation running it ended before it finished (a
    /// crash, a timeout): the journal had it as started. The body can
    /// check whether its side effect already happened.
    pub fn is_rerun(&self) -> bool {
        self.rerun
    }

    /// The step's operation id.
    pub fn operation_id(&self) -> &str {
        &self.operation_id
    }

    /// A logger that always logs (the body only runs when not replayed).
    pub fn logger(&self) -> &Logger {
        &self.logger
    }
}

impl DurableContext {
    /// Runs an unnamed step with the default configuration (see
    /// [`DurableContext::step_with`]).
    pub fn step<T, E, F>(&self, body: F) -> Result<T, DurableError>
    where
        T: Serialize + DeserializeOwned,
        E: Into<ErrorObject>,
        F: FnOnce(&StepContext) -> Result<T, E>,
    {
        self.step_with(None, StepConfig::default(), body)
    }

    /// Runs a named step with the default configuration (see
    /// [`DurableContext::step_with`]).
    pub fn step_named<T, E, F>(&self, name: &str, body: F) -> Result<T, DurableError>
    where
        T: Serialize + DeserializeOwned,
        E: Into<ErrorObject>,
        F: FnOnce(&StepContext) -> Result<T, E>,
    {
        self.step_with(Some(name), StepConfig::default(), body)
    }

    /// Runs a step: `body`'s result is journaled, so on replay the step
    /// returns it without running `body` again.
    ///
    /// The value returned is the one read back from the journaled text
    /// (JSON, or the configured [`Serdes`]), on the first run as on
    /// replay, so the code sees the same value either way.
    ///
    /// A failed attempt goes to the configured retry strategy: a retry
    /// journals the failure with its delay and suspends (the host
    /// re-invokes when the delay has passed); no retry journals the failure
    /// and returns [`DurableError::StepFailed`] with the error, then and on
    /// every replay. The body must not run durable operations itself.
    /// `config` is a [`StepConfig`] or a [`TypedStepConfig`].
    pub fn step_with<T, E, F, C>(
        &self,
        name: Option<&str>,
        config: C,
        body: F,
    ) -> Result<T, DurableError>
    where
        T: Serialize + DeserializeOwned,
        E: Into<ErrorObject>,
        F: FnOnce(&StepContext) -> Result<T, E>,
        C: Into<TypedStepConfig<T>>,
    {
        let config = config.into();
        let exec = self.exec();
        exec.check()?;
        let op = self.next_op(name, SUB_TYPE_STEP);
        let (attempt, rerun) = match exec.lookup(&op, OperationType::Step)? {
            None => (1, false),
            Some(recorded) => match replay(exec, &op, &config, recorded)? {
                Replayed::Done(value) => return Ok(value),
                Replayed::Run { attempt, rerun } => (attempt, rerun),
            },
        };
        run_attempt(exec, &op, &config, attempt, rerun, body)
    }
}

/// What replaying a recorded step leads to.
enum Replayed<T> {
    /// The step has its result.
    Done(T),
    /// Run this attempt (`rerun`: it had started before).
    Run {
        /// The attempt to run, 1-based.
        attempt: u32,
        /// Whether the journal had this attempt started already.
        rerun: bool,
    },
}

/// Replays a recorded step.
fn replay<T: DeserializeOwned>(
    exec: &Rc<Execution>,
    op: &OpRef,
    config: &TypedStepConfig<T>,
    recorded: Operation,
) -> Result<Replayed<T>, DurableError> {
    match recorded.status {
        OperationStatus::Succeeded => {
            decode_with(config.serdes.as_ref(), recorded.result.as_deref()).map(Replayed::Done)
        }
        OperationStatus::Failed
        | OperationStatus::Cancelled
        | OperationStatus::TimedOut
        | OperationStatus::Stopped => Err(DurableError::StepFailed(recorded_error(recorded))),
        OperationStatus::Pending => Err(exec.suspend()),
        OperationStatus::Ready => Ok(Replayed::Run {
            attempt: recorded.attempt.saturating_add(1),
            rerun: false,
        }),
        OperationStatus::Started => {
            let attempt = recorded.attempt.max(1);
            match config.config.semantics {
                StepSemantics::AtLeastOncePerRetry => Ok(Replayed::Run {
                    attempt,
                    rerun: true,
                }),
                StepSemantics::AtMostOncePerRetry => {
                    let error = ErrorObject::new(
                        STEP_INTERRUPTED,
                        format!(
                            "attempt {attempt} of step {} was interrupted before it finished",
                            op.id
                        ),
                    );
                    Err(fail_attempt(exec, op, &config.config, attempt, error))
                }
            }
        }
    }
}

/// Runs attempt `attempt` of a step and journals how it ended.
fn run_attempt<T, E, F>(
    exec: &Rc<Execution>,
    op: &OpRef,
    config: &TypedStepConfig<T>,
    attempt: u32,
    rerun: bool,
    body: F,
) -> Result<T, DurableError>
where
    T: Serialize + DeserializeOwned,
    E: Into<ErrorObject>,
    F: FnOnce(&StepContext) -> Result<T, E>,
{
    let serdes = config.serdes.as_ref();
    let config = &config.config;
    // An at-most-once attempt must be on record before its body runs; an
    // at-least-once one may run again after a crash anyway.
    let wait_for_commit = config.semantics == StepSemantics::AtMostOncePerRetry;
    exec.journal()
        .step_started(op, attempt, wait_for_commit)
        .map_err(|err| exec.journal_failed(err))?;
    let step_ctx = StepContext::new(
        op.id.clone(),
        attempt,
        rerun,
        Logger::always(Rc::clone(exec)),
    );
    let value = match exec.in_step(|| body(&step_ctx)) {
        Ok(value) => value,
        Err(err) => return Err(fail_attempt(exec, op, config, attempt, err.into())),
    };
    // Not worth retrying either way: the same value would fail again.
    let text = match serdes {
        Some(serdes) => serdes.serialize(&value),
        None => serde_json::to_string(&value)
            .map_err(|err| ErrorObject::new("SerializationError", err.to_string())),
    };
    let text = match text {
        Ok(text) => text,
        Err(error) => return Err(fail_step(exec, op, attempt, error)),
    };
    // The code gets the value read back from the text, as replays will.
    let value = match decode_with(serdes, Some(&text)) {
        Ok(value) => value,
        Err(err) => return Err(fail_step(exec, op, attempt, err.error_object())),
    };
    exec.journal()
        .step_succeeded(op, attempt, &text)
        .map_err(|err| exec.journal_failed(err))?;
    Ok(value)
}

/// Handles a failed attempt: retries (journal, then suspend) or fails the
/// step. Returns the error the step call returns.
fn fail_attempt(
    exec: &Execution,
    op: &OpRef,
    config: &StepConfig,
    attempt: u32,
    error: ErrorObject,
) -> DurableError {
    match config.retry_strategy.decide(&error, attempt) {
        RetryDecision::Retry(delay) => {
            let delay = delay_to_seconds(delay);
            match exec.journal().step_retry(op, attempt, &error.into(), delay) {
                Ok(()) => exec.suspend(),
                Err(err) => exec.journal_failed(err),
            }
        }
        RetryDecision::NoRetry => fail_step(exec, op, attempt, error),
    }
}

/// Fails a step for good.
fn fail_step(exec: &Execution, op: &OpRef, attempt: u32, error: ErrorObject) -> DurableError {
    match exec
        .journal()
        .step_failed(op, attempt, &error.clone().into())
    {
        Ok(()) => DurableError::StepFailed(error),
        Err(err) => exec.journal_failed(err),
    }
}

/// The error recorded for an operation that ended without success.
pub(crate) fn recorded_error(recorded: Operation) -> ErrorObject {
    match recorded.error {
        Some(error) => error.into(),
        None => ErrorObject::new(
            "OperationFailed",
            format!("operation {} ended without success", recorded.id),
        ),
    }
}

/// Decodes a journaled result with `serdes`, or from JSON (`None`: `null`).
fn decode_with<T: DeserializeOwned>(
    serdes: Option<&Rc<dyn Serdes<T>>>,
    text: Option<&str>,
) -> Result<T, DurableError> {
    match serdes {
        Some(serdes) => serdes.deserialize(text.unwrap_or("null")).map_err(|err| {
            DurableError::Serialization(format!("journaled result could not be parsed: {err}"))
        }),
        None => decode(text),
    }
}

/// Decodes a journaled JSON result (`None`: `null`).
pub(crate) fn decode<T: DeserializeOwned>(json: Option<&str>) -> Result<T, DurableError> {
    serde_json::from_str(json.unwrap_or("null")).map_err(|err| {
        DurableError::Serialization(format!("journaled result could not be parsed: {err}"))
    })
}
