//! `wait_for_condition`: poll a check on some state until a wait strategy
//! says the condition is met, sleeping durably between checks.

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::durable::logger::Logger;
use crate::durable::retry::{delay_to_seconds, random_unit};
use crate::durable::serdes::{from_text, to_text};
use crate::durable::step::recorded_error;
use crate::durable::{DurableContext, DurableError, ErrorObject, Jitter, Serdes, StepContext};
use crate::durable_bindings::lamina::durable::types::{OperationStatus, OperationType};

/// Sub-type of `wait_for_condition` operations.
pub(crate) const SUB_TYPE_WAIT_FOR_CONDITION: &str = "WaitForCondition";

/// Error type of a `wait_for_condition` that ran out of attempts.
pub const WAIT_FOR_CONDITION_EXHAUSTED: &str = "WaitForConditionExhausted";

/// What a wait strategy decided after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitDecision {
    /// The condition is met: `wait_for_condition` returns the state.
    Done,
    /// Not yet: check again after this delay (whole seconds, rounded up,
    /// at least one).
    ContinueAfter(Duration),
}

/// The exponential-backoff polling policy of
/// [`WaitStrategy::from_config`] (the AWS `createWaitStrategy` options).
///
/// After check `n` (1-based) whose state still needs polling, the next
/// check runs after `initial_delay * backoff_rate^(n-1)`, capped at
/// `max_delay`, jittered and rounded up to whole seconds (at least one).
/// A state still needing polling after check `max_attempts` fails the
/// operation with a `WaitForConditionExhausted` error.
pub struct WaitStrategyConfig<S> {
    /// Whether the state still needs polling (the condition is not met).
    pub should_continue_polling: Rc<dyn Fn(&S) -> bool>,
    /// Checks in all (default 60).
    pub max_attempts: u32,
    /// Delay after the first check (default 5 s).
    pub initial_delay: Duration,
    /// Upper bound of the delay before jitter (default 300 s).
    pub max_delay: Duration,
    /// Factor the delay grows by per check (default 1.5).
    pub backoff_rate: f64,
    /// How the delay is randomised (default full).
    pub jitter: Jitter,
}

impl<S> WaitStrategyConfig<S> {
    /// The AWS defaults, polling while `should_continue_polling` says so.
    pub fn new(should_continue_polling: impl Fn(&S) -> bool + 'static) -> Self {
        Self {
            should_continue_polling: Rc::new(should_continue_polling),
            max_attempts: 60,
            initial_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(300),
            backoff_rate: 1.5,
            jitter: Jitter::Full,
        }
    }

    /// Sets the number of checks in all.
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Sets the delay after the first check.
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the upper bound of the delay before jitter.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the factor the delay grows by per check.
    pub fn with_backoff_rate(mut self, rate: f64) -> Self {
        self.backoff_rate = rate;
        self
    }

    /// Sets how the delay is randomised.
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// The delay in whole seconds (rounded up, at least one, as step retry
    /// delays) after check `attempt`,
    /// given `unit`, a number in `[0, 1)` that picks the jitter.
    pub fn delay_seconds(&self, attempt: u32, unit: f64) -> u64 {
        let delay = crate::durable::retry::backoff(
            self.initial_delay,
            self.max_delay,
            self.backoff_rate,
            self.jitter,
            attempt,
            unit,
        );
        crate::durable::retry::whole_seconds(delay)
    }
}

impl<S> fmt::Debug for WaitStrategyConfig<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitStrategyConfig")
            .field("max_attempts", &self.max_attempts)
            .field("initial_delay", &self.initial_delay)
            .field("max_delay", &self.max_delay)
            .field("backoff_rate", &self.backoff_rate)
            .field("jitter", &self.jitter)
            .finish_non_exhaustive()
    }
}

/// A decision function: `(state, attempt)` to a decision or an error.
type DecideFn<S> = dyn Fn(&S, u32) -> Result<WaitDecision, ErrorObject>;

/// Decides after each check of [`DurableContext::wait_for_condition`]
/// whether to check again, and when.
///
/// * [`WaitStrategy::from_config`]: exponential backoff while a predicate
///   holds, up to a number of attempts;
/// * [`WaitStrategy::fixed`]: a fixed delay while a predicate holds;
/// * [`WaitStrategy::custom`]: any closure of the state and the attempt
///   (1-based); an `Err` fails the operation.
pub struct WaitStrategy<S>(Rc<DecideFn<S>>);

impl<S: 'static> WaitStrategy<S> {
    /// A strategy that asks `decide(state, attempt)`.
    pub fn custom(decide: impl Fn(&S, u32) -> WaitDecision + 'static) -> Self {
        Self(Rc::new(move |state, attempt| Ok(decide(state, attempt))))
    }

    /// A strategy that may fail the operation: `decide(state, attempt)`.
    pub fn try_custom(
        decide: impl Fn(&S, u32) -> Result<WaitDecision, ErrorObject> + 'static,
    ) -> Self {
        Self(Rc::new(decide))
    }

    /// Checks again after `delay` while `should_continue_polling(state)`,
    /// without limit.
    pub fn fixed(delay: Duration, should_continue_polling: impl Fn(&S) -> bool + 'static) -> Self {
        Self::custom(move |state, _| {
            if should_continue_polling(state) {
                WaitDecision::ContinueAfter(delay)
            } else {
                WaitDecision::Done
            }
        })
    }

    /// Limits this strategy to `max_attempts` checks in all: a state that
    /// still needs polling after check `max_attempts` fails the operation
    /// with a `WaitForConditionExhausted` error, as
    /// [`WaitStrategyConfig::max_attempts`] does.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use lamina_sdk::durable::{WaitDecision, WaitStrategy};
    ///
    /// let strategy = WaitStrategy::fixed(Duration::from_secs(2), |done: &bool| !done)
    ///     .with_max_attempts(3);
    /// assert_eq!(strategy.decide(&false, 2).ok(), Some(WaitDecision::ContinueAfter(Duration::from_secs(2))));
    /// assert!(strategy.decide(&false, 3).is_err());
    /// assert_eq!(strategy.decide(&true, 3).ok(), Some(WaitDecision::Done));
    /// ```
    pub fn with_max_attempts(self, max_attempts: u32) -> Self {
        let inner = self.0;
        Self(Rc::new(move |state, attempt| {
            match inner(state, attempt)? {
                WaitDecision::ContinueAfter(_) if attempt >= max_attempts => {
                    Err(exhausted(max_attempts))
                }
                decision => Ok(decision),
            }
        }))
    }

    /// The exponential-backoff policy `config`.
    pub fn from_config(config: WaitStrategyConfig<S>) -> Self {
        Self(Rc::new(move |state, attempt| {
            // A met condition wins over exhaustion.
            if !(config.should_continue_polling)(state) {
                return Ok(WaitDecision::Done);
            }
            if attempt >= config.max_attempts {
                return Err(exhausted(config.max_attempts));
            }
            let seconds = config.delay_seconds(attempt, random_unit());
            Ok(WaitDecision::ContinueAfter(Duration::from_secs(seconds)))
        }))
    }
}

/// The error of a condition still not met after `max_attempts` checks.
fn exhausted(max_attempts: u32) -> ErrorObject {
    ErrorObject::new(
        WAIT_FOR_CONDITION_EXHAUSTED,
        format!("the condition was not met within {max_attempts} attempts"),
    )
}

impl<S> WaitStrategy<S> {
    /// Decides after check `attempt` (1-based) produced `state`.
    pub fn decide(&self, state: &S, attempt: u32) -> Result<WaitDecision, ErrorObject> {
        (self.0)(state, attempt)
    }
}

impl<S> Clone for WaitStrategy<S> {
    fn clone(&self) -> Self {
        Self(Rc::clone(&self.0))
    }
}

impl<S> fmt::Debug for WaitStrategy<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WaitStrategy")
    }
}

/// Settings of [`DurableContext::wait_for_condition`].
pub struct WaitForConditionConfig<S> {
    /// Decides after each check.
    pub wait_strategy: WaitStrategy<S>,
    /// Journals the state with this instead of JSON.
    pub serdes: Option<Rc<dyn Serdes<S>>>,
}

impl<S> WaitForConditionConfig<S> {
    /// The settings with this strategy and JSON.
    pub fn new(wait_strategy: WaitStrategy<S>) -> Self {
        Self {
            wait_strategy,
            serdes: None,
        }
    }

    /// Journals the state with `serdes`.
    pub fn with_serdes(mut self, serdes: impl Serdes<S> + 'static) -> Self {
        self.serdes = Some(Rc::new(serdes));
        self
    }
}

impl<S> fmt::Debug for WaitForConditionConfig<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForConditionConfig")
            .field("serdes", &self.serdes.is_some())
            .finish_non_exhaustive()
    }
}

impl DurableContext {
    /// Polls `check` until the wait strategy says the condition is met, and
    /// returns the last state.
    ///
    /// The first check gets `initial_state`, each later one the state the
    /// previous check returned. A check runs like a step attempt (sub-type
    /// `WaitForCondition`; no durable operations inside): its state is
    /// journaled, so a replay never runs a check again. When the strategy
    /// wants another check, the state is journaled with the delay and the
    /// execution suspends until then (no instance held). A check that
    /// fails, or a strategy that gives up, fails the operation for good
    /// with [`DurableError::WaitForConditionFailed`]; checks are not
    /// retried.
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// use lamina_sdk::durable::{
    ///     DurableContext, DurableError, WaitForConditionConfig, WaitStrategy,
    /// };
    ///
    /// fn handle(job: String, ctx: &DurableContext) -> Result<String, DurableError> {
    ///     let strategy = WaitStrategy::fixed(Duration::from_secs(30), |s: &String| s != "done");
    ///     ctx.wait_for_condition(
    ///         Some("job-done"),
    ///         "queued".to_owned(),
    ///         |_state, _check| Ok::<_, String>(format!("status of {job}")),
    ///         WaitForConditionConfig::new(strategy),
    ///     )
    /// }
    /// # lamina_sdk::durable_handler!(handle);
    /// ```
    pub fn wait_for_condition<S, E, F>(
        &self,
        name: Option<&str>,
        initial_state: S,
        check: F,
        config: WaitForConditionConfig<S>,
    ) -> Result<S, DurableError>
    where
        S: Serialize + DeserializeOwned,
        E: Into<ErrorObject>,
        F: FnOnce(S, &StepContext) -> Result<S, E>,
    {
        let exec = self.exec();
        exec.check()?;
        let op = self.next_op(name, SUB_TYPE_WAIT_FOR_CONDITION);
        let serdes = config.serdes.as_ref();
        let (state, attempt, rerun) = match exec.lookup(&op, OperationType::Step)? {
            None => (initial_state, 1, false),
            Some(recorded) => match recorded.status {
                OperationStatus::Succeeded => {
                    return from_text(
                        serdes,
                        recorded.result.as_deref().unwrap_or("null"),
                        "the condition state",
                    );
                }
                OperationStatus::Failed
                | OperationStatus::Cancelled
                | OperationStatus::TimedOut
                | OperationStatus::Stopped => {
                    return Err(DurableError::WaitForConditionFailed(recorded_error(
                        recorded,
                    )));
                }
                OperationStatus::Pending => return Err(exec.suspend()),
                OperationStatus::Ready | OperationStatus::Started => {
                    let state = match recorded.result.as_deref() {
                        Some(text) => from_text(serdes, text, "the condition state")?,
                        None => initial_state,
                    };
                    let attempt = if recorded.status == OperationStatus::Ready {
                        recorded.attempt.saturating_add(1)
                    } else {
                        // Interrupted during a check: that check again.
                        recorded.attempt.max(1)
                    };
                    (state, attempt, recorded.status == OperationStatus::Started)
                }
            },
        };

        // A check may run again after a crash: no need to wait for the commit.
        exec.journal()
            .step_started(&op, attempt, false)
            .map_err(|err| exec.journal_failed(err))?;
        let step_ctx = StepContext::new(
            op.id.clone(),
            attempt,
            rerun,
            Logger::always(Rc::clone(exec)),
        );
        let decided = exec
            .in_step(|| check(state, &step_ctx))
            .map_err(Into::into)
            .and_then(|state| {
                let decision = config.wait_strategy.decide(&state, attempt)?;
                let text = to_text(serdes, &state, "the condition state")
                    .map_err(|err| err.error_object())?;
                // The state read back from the journaled text, as a replay
                // (or the next check) gets it.
                let state = from_text(serdes, &text, "the condition state")
                    .map_err(|err| err.error_object())?;
                Ok((state, text, decision))
            });
        let fail = |error: ErrorObject| match exec.journal().step_failed(
            &op,
            attempt,
            &error.clone().into(),
        ) {
            Ok(()) => DurableError::WaitForConditionFailed(error),
            Err(err) => exec.journal_failed(err),
        };
        match decided {
            Err(error) => Err(fail(error)),
            Ok((state, text, WaitDecision::Done)) => {
                exec.journal()
                    .step_succeeded(&op, attempt, &text)
                    .map_err(|err| exec.journal_failed(err))?;
                Ok(state)
            }
            Ok((_, text, WaitDecision::ContinueAfter(delay))) => {
                exec.journal()
                    .step_poll(&op, attempt, &text, delay_to_seconds(delay))
                    .map_err(|err| exec.journal_failed(err))?;
                Err(exec.suspend())
            }
        }
    }
}
